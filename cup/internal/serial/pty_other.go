//go:build !linux

package serial

import (
	"errors"
	"os"
)

// OpenPTY is only implemented on Linux.
func OpenPTY() (master *os.File, slavePath string, err error) {
	return nil, "", errors.New("pty: the pseudo-terminal simulator is only available on Linux; use --sim (in-process)")
}
