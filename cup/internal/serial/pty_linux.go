package serial

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// OpenPTY creates a pseudo-terminal pair with /dev/ptmx (TIOCSPTLCK to unlock
// it, TIOCGPTN for its number). The caller serves the device on master;
// slavePath (/dev/pts/N) can be opened with Open like a real serial port.
func OpenPTY() (master *os.File, slavePath string, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, "", fmt.Errorf("pty: open /dev/ptmx: %w (is devpts mounted?)", err)
	}
	raw, err := m.SyscallConn()
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("pty: %w", err)
	}
	var n uint32
	var ierr error
	if err := raw.Control(func(fd uintptr) {
		var unlock int32
		if ierr = ioctl(fd, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); ierr != nil {
			ierr = fmt.Errorf("TIOCSPTLCK: %w", ierr)
			return
		}
		if ierr = ioctl(fd, syscall.TIOCGPTN, unsafe.Pointer(&n)); ierr != nil {
			ierr = fmt.Errorf("TIOCGPTN: %w", ierr)
		}
	}); err != nil {
		ierr = err
	}
	if ierr != nil {
		m.Close()
		return nil, "", fmt.Errorf("pty: /dev/ptmx: %w", ierr)
	}
	// Raw mode on the master's side too, so the line discipline passes
	// bytes through unchanged in both directions.
	if err := raw.Control(func(fd uintptr) {
		var t termios
		if ierr = ioctl(fd, ioctlGetTermios, unsafe.Pointer(&t)); ierr == nil {
			makeRaw(&t, false)
			ierr = ioctl(fd, ioctlSetTermios, unsafe.Pointer(&t))
		}
	}); err != nil || ierr != nil {
		m.Close()
		return nil, "", fmt.Errorf("pty: raw mode: %v %v", err, ierr)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n), nil
}
