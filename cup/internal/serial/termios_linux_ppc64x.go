//go:build linux && (ppc64 || ppc64le)

package serial

// termios is the kernel's struct termios on powerpc (arch/powerpc/include/
// uapi/asm/termbits.h): the control characters come before c_line and there
// are speed fields, 44 bytes in all (the 0x2c inside TCGETS = 0x402c7413).
// syscall.Termios is glibc's user-space layout and does not match it.
type termios struct {
	Iflag  uint32
	Oflag  uint32
	Cflag  uint32
	Lflag  uint32
	Cc     [19]uint8
	Line   uint8
	Ispeed uint32
	Ospeed uint32
}

const termiosSize = 44

// cbaud is the speed mask of c_cflag on powerpc.
const cbaud = 0xff

func setSpeed(t *termios, baud int, code uint32) {
	t.Cflag &^= cbaud
	t.Cflag |= code
	t.Ispeed = uint32(baud)
	t.Ospeed = uint32(baud)
}
