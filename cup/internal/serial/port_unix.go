//go:build linux || darwin

package serial

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// unixPort is a tty in raw mode. Read deadlines use Go's poller when the
// tty supports it; otherwise reads poll with VTIME (0.1 s) until the deadline.
type unixPort struct {
	f        *os.File
	polled   bool // the runtime poller handles deadlines
	deadline time.Time
}

func ioctl(fd, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// Open opens the serial device at path in raw 8N1 mode at cfg.Baud.
func Open(path string, cfg Config) (Port, error) {
	if err := checkBaud(path, &cfg); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	p := &unixPort{f: f}
	// Is the runtime poller managing this fd? Then deadlines work.
	p.polled = f.SetReadDeadline(time.Time{}) == nil
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, openError(path, err)
	}
	var terr error
	if err := raw.Control(func(fd uintptr) {
		var t termios
		if terr = ioctl(fd, ioctlGetTermios, unsafe.Pointer(&t)); terr != nil {
			return
		}
		makeRaw(&t, !p.polled)
		setSpeed(&t, cfg.Baud, bauds[cfg.Baud])
		terr = ioctl(fd, ioctlSetTermios, unsafe.Pointer(&t))
		if terr == nil && !p.polled {
			terr = syscall.SetNonblock(int(fd), false)
		}
	}); err != nil {
		terr = err
	}
	if terr != nil {
		f.Close()
		if errors.Is(terr, syscall.ENOTTY) {
			return nil, openError(path, errors.New("not a terminal device (a serial port or pty was expected)"))
		}
		return nil, openError(path, terr)
	}
	return p, nil
}

// makeRaw is cfmakeraw(3) plus 8N1, receiver on and modem lines ignored.
// With vtime the read returns after 0.1 s without data (used when the poller
// cannot give deadlines); otherwise a read waits for at least one byte.
func makeRaw(t *termios, vtime bool) {
	t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON | syscall.IXOFF
	t.Oflag &^= syscall.OPOST
	t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	t.Cflag &^= syscall.CSIZE | syscall.PARENB | syscall.CSTOPB
	t.Cflag |= syscall.CS8 | syscall.CREAD | syscall.CLOCAL
	if vtime {
		t.Cc[syscall.VMIN], t.Cc[syscall.VTIME] = 0, 1
	} else {
		t.Cc[syscall.VMIN], t.Cc[syscall.VTIME] = 1, 0
	}
}

func (p *unixPort) Read(b []byte) (int, error) {
	if p.polled {
		return p.f.Read(b)
	}
	for {
		n, err := p.f.Read(b)
		if n > 0 || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)) {
			return n, err
		}
		if !p.deadline.IsZero() && time.Now().After(p.deadline) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (p *unixPort) Write(b []byte) (int, error) { return p.f.Write(b) }

func (p *unixPort) Close() error { return p.f.Close() }

func (p *unixPort) SetReadDeadline(t time.Time) error {
	if p.polled {
		return p.f.SetReadDeadline(t)
	}
	p.deadline = t
	return nil
}
