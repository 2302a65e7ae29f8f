//go:build linux || darwin

package serial

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestTermiosSize(t *testing.T) {
	if got := int(unsafe.Sizeof(termios{})); got != int(termiosSize) {
		t.Fatalf("termios is %d bytes, the kernel's is %d", got, termiosSize)
	}
	// where the ioctl number encodes the argument size (_IOR on powerpc), it must agree
	if runtime.GOOS == "linux" && ioctlGetTermios > 0xffff {
		if enc := int(ioctlGetTermios>>16) & 0x1fff; enc != int(termiosSize) {
			t.Fatalf("TCGETS encodes %d bytes, termios is %d", enc, termiosSize)
		}
	}
}
