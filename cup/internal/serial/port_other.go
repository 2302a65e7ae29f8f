//go:build !linux && !darwin && !windows

package serial

var bauds = map[int]uint32{115200: 115200}

// Open is not implemented on this system.
func Open(path string, cfg Config) (Port, error) {
	return nil, openError(path, ErrUnsupported)
}
