// Package serial opens the coaster's serial port: raw termios through the
// syscall package on Linux and macOS, the COM port API of kernel32 on Windows.
// It needs nothing outside the standard library.
package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// DefaultBaud is the coaster firmware's line speed.
const DefaultBaud = 115200

// Config is how to open a port.
type Config struct {
	Baud int // bits per second; 0 means DefaultBaud
}

// Port is an open serial port. Reads wait until data arrives or the read
// deadline passes; a zero deadline means wait for ever.
type Port interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
}

// ErrUnsupported is returned by Open on systems without a serial backend.
var ErrUnsupported = errors.New("serial ports are not supported on this system; use --sim")

// Bauds lists the supported line speeds.
func Bauds() []int {
	var b []int
	for k := range bauds {
		b = append(b, k)
	}
	sort.Ints(b)
	return b
}

func checkBaud(path string, cfg *Config) error {
	if cfg.Baud == 0 {
		cfg.Baud = DefaultBaud
	}
	if _, ok := bauds[cfg.Baud]; !ok {
		s := make([]string, 0, len(bauds))
		for _, b := range Bauds() {
			s = append(s, fmt.Sprint(b))
		}
		return &OpenError{Path: path, Err: fmt.Errorf("baud rate %d is not supported; use one of %s (--baud)", cfg.Baud, strings.Join(s, ", "))}
	}
	return nil
}

// OpenError is why a port did not open. Its message names the path and
// ends with a hint line ("hint: …") saying how to fix the usual causes.
type OpenError struct {
	Path string
	Err  error
	Hint string
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("serial: cannot open %s: %s", e.Path, e.Reason())
}

// Reason is the message without the "serial: cannot open PATH: " prefix,
// for callers that name the device themselves.
func (e *OpenError) Reason() string {
	if e.Hint == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + "\nhint: " + e.Hint
}

func (e *OpenError) Unwrap() error { return e.Err }

// openError names the device and gives the usual fix.
func openError(path string, err error) error {
	hint := "check the path (ls /dev/ttyUSB* /dev/ttyACM*) and that you may open it (group dialout)"
	switch {
	case strings.HasPrefix(strings.ToUpper(path), "COM") || strings.HasPrefix(path, `\\.\`):
		hint = "check the COM port number in Device Manager and that no other program has it open"
	case strings.HasPrefix(path, "/dev/tty."):
		hint = "on macOS use the /dev/cu.* device, not /dev/tty.*"
	}
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err // the path is already in the message
	}
	return &OpenError{Path: path, Err: err, Hint: hint}
}
