package serial

import (
	"syscall"
	"unsafe"
)

// macOS: TIOCGETA/TIOCSETA read and write syscall.Termios as it is; the
// speed fields hold the rate in bits per second.
const (
	ioctlGetTermios = syscall.TIOCGETA
	ioctlSetTermios = syscall.TIOCSETA
)

type termios = syscall.Termios

var termiosSize = int(unsafe.Sizeof(termios{}))

var bauds = map[int]uint32{
	1200: 1200, 2400: 2400, 4800: 4800, 9600: 9600, 19200: 19200, 38400: 38400,
	57600: 57600, 115200: 115200, 230400: 230400,
}

func setSpeed(t *termios, baud int, code uint32) {
	t.Ispeed = uint64(baud)
	t.Ospeed = uint64(baud)
}
