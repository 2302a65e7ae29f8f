package serial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// CheckPTY opens a pseudo-terminal, opens its slave side with Open (raw
// mode through this architecture's termios ioctls) and sends every byte
// value through it both ways. It fails when raw mode did not take (a
// carriage return turned into a newline, a ^C swallowed, …), which is what
// a wrong termios layout looks like. On systems without ptys it returns an
// error wrapping ErrUnsupported.
func CheckPTY() error {
	m, slave, err := OpenPTY()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	defer m.Close()
	p, err := Open(slave, Config{Baud: 115200})
	if err != nil {
		return err
	}
	defer p.Close()

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// host -> device (slave writes, master reads)
	if _, err := p.Write(all); err != nil {
		return fmt.Errorf("pty %s: write: %w", slave, err)
	}
	if err := readFull(m, all, slave+" master"); err != nil {
		return err
	}
	// device -> host (master writes, slave reads)
	if _, err := m.Write(all); err != nil {
		return fmt.Errorf("pty %s: master write: %w", slave, err)
	}
	if err := readFull(p, all, slave); err != nil {
		return err
	}
	// an idle line times out instead of hanging
	if err := p.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		return err
	}
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("pty %s: read on an idle line gave %v, want a deadline error", slave, err)
	}
	return nil
}

type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

func readFull(r deadlineReader, want []byte, name string) error {
	if err := r.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return fmt.Errorf("%s: set deadline: %w", name, err)
	}
	got := make([]byte, 0, len(want))
	buf := make([]byte, 512)
	for len(got) < len(want) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return fmt.Errorf("%s: read after %d of %d bytes: %w", name, len(got), len(want), err)
		}
	}
	if !bytes.Equal(got[:len(want)], want) {
		for i := range want {
			if got[i] != want[i] {
				return fmt.Errorf("%s: byte %d is 0x%02x, sent 0x%02x (raw mode not in effect?)", name, i, got[i], want[i])
			}
		}
	}
	if len(got) > len(want) {
		return fmt.Errorf("%s: %d extra bytes (echo on?)", name, len(got)-len(want))
	}
	return nil
}
