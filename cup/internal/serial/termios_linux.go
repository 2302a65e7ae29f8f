package serial

import "syscall"

// TCGETS/TCSETS come from syscall for every Linux architecture (their values
// differ, e.g. on ppc64le). The struct they read and write is the kernel's
// struct termios, which is not always syscall.Termios (that is glibc's
// layout): see termios_linux_generic.go and termios_linux_ppc64x.go.
const (
	ioctlGetTermios = syscall.TCGETS
	ioctlSetTermios = syscall.TCSETS
)

var bauds = map[int]uint32{
	1200: syscall.B1200, 2400: syscall.B2400, 4800: syscall.B4800, 9600: syscall.B9600,
	19200: syscall.B19200, 38400: syscall.B38400, 57600: syscall.B57600, 115200: syscall.B115200,
	230400: syscall.B230400, 460800: syscall.B460800, 921600: syscall.B921600,
}
