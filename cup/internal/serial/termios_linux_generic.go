//go:build linux && !ppc64 && !ppc64le

package serial

// termios is the kernel's struct termios of asm-generic/termbits.h (x86,
// arm, arm64, riscv64, s390x, loong64): 36 bytes, no speed fields. TCGETS
// copies exactly this much.
type termios struct {
	Iflag uint32
	Oflag uint32
	Cflag uint32
	Lflag uint32
	Line  uint8
	Cc    [19]uint8
}

// termiosSize is the size the kernel reads and writes.
const termiosSize = 36

// cbaud is the speed mask of c_cflag (the syscall package has the B* speed
// codes of every architecture, but not this mask).
const cbaud = 0x100f

func setSpeed(t *termios, baud int, code uint32) {
	t.Cflag &^= cbaud
	t.Cflag |= code
}
