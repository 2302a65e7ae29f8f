package serial

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	kernel32            = syscall.NewLazyDLL("kernel32.dll")
	procGetCommState    = kernel32.NewProc("GetCommState")
	procSetCommState    = kernel32.NewProc("SetCommState")
	procSetCommTimeouts = kernel32.NewProc("SetCommTimeouts")
	procPurgeComm       = kernel32.NewProc("PurgeComm")
)

var bauds = map[int]uint32{
	1200: 1200, 2400: 2400, 4800: 4800, 9600: 9600, 19200: 19200, 38400: 38400,
	57600: 57600, 115200: 115200, 230400: 230400, 460800: 460800, 921600: 921600,
}

// dcb is the Win32 DCB structure (28 bytes).
type dcb struct {
	DCBlength  uint32
	BaudRate   uint32
	Flags      uint32 // fBinary:1, fParity:1, fOutxCtsFlow:1, … bit fields
	wReserved  uint16
	XonLim     uint16
	XoffLim    uint16
	ByteSize   uint8
	Parity     uint8
	StopBits   uint8
	XonChar    byte
	XoffChar   byte
	ErrorChar  byte
	EofChar    byte
	EvtChar    byte
	wReserved1 uint16
}

// commTimeouts is the Win32 COMMTIMEOUTS structure.
type commTimeouts struct {
	ReadIntervalTimeout         uint32
	ReadTotalTimeoutMultiplier  uint32
	ReadTotalTimeoutConstant    uint32
	WriteTotalTimeoutMultiplier uint32
	WriteTotalTimeoutConstant   uint32
}

const (
	dcbBinary      = 1 << 0
	dcbDTRControl1 = 1 << 4 // DTR_CONTROL_ENABLE
	dcbRTSControl1 = 1 << 12
	maxDWORD       = 0xFFFFFFFF
	purgeRxClear   = 0x0008
	purgeTxClear   = 0x0004
)

type winPort struct {
	mu       sync.Mutex
	h        syscall.Handle
	path     string
	deadline time.Time
	lastTO   uint32
}

// Open opens a COM port ("COM3" or `\\.\COM12`) at cfg.Baud, 8N1.
func Open(path string, cfg Config) (Port, error) {
	if err := checkBaud(path, &cfg); err != nil {
		return nil, err
	}
	name := path
	if !strings.HasPrefix(name, `\\.\`) {
		name = `\\.\` + name // required for COM10 and up, harmless below
	}
	p16, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return nil, openError(path, err)
	}
	h, err := syscall.CreateFile(p16, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	var d dcb
	d.DCBlength = uint32(unsafe.Sizeof(d))
	if r, _, e := procGetCommState.Call(uintptr(h), uintptr(unsafe.Pointer(&d))); r == 0 {
		syscall.CloseHandle(h)
		return nil, openError(path, fmt.Errorf("GetCommState: %w", e))
	}
	d.BaudRate = bauds[cfg.Baud]
	d.Flags = dcbBinary | dcbDTRControl1 | dcbRTSControl1
	d.ByteSize, d.Parity, d.StopBits = 8, 0, 0 // 8 data bits, no parity, one stop bit
	if r, _, e := procSetCommState.Call(uintptr(h), uintptr(unsafe.Pointer(&d))); r == 0 {
		syscall.CloseHandle(h)
		return nil, openError(path, fmt.Errorf("SetCommState (baud %d): %w", cfg.Baud, e))
	}
	procPurgeComm.Call(uintptr(h), purgeRxClear|purgeTxClear)
	p := &winPort{h: h, path: path, lastTO: 1}
	if err := p.setTimeout(0); err != nil {
		syscall.CloseHandle(h)
		return nil, openError(path, err)
	}
	return p, nil
}

// setTimeout makes ReadFile return as soon as a byte is there, or after ms
// milliseconds (0 = wait for ever).
func (p *winPort) setTimeout(ms uint32) error {
	if ms == p.lastTO {
		return nil
	}
	ct := commTimeouts{ReadIntervalTimeout: maxDWORD, ReadTotalTimeoutMultiplier: maxDWORD, ReadTotalTimeoutConstant: ms}
	if ms == 0 {
		ct = commTimeouts{} // block until data
	}
	if r, _, e := procSetCommTimeouts.Call(uintptr(p.h), uintptr(unsafe.Pointer(&ct))); r == 0 {
		return fmt.Errorf("SetCommTimeouts: %w", e)
	}
	p.lastTO = ms
	return nil
}

func (p *winPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	dl := p.deadline
	p.mu.Unlock()
	var ms uint32
	if !dl.IsZero() {
		left := time.Until(dl)
		if left <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		ms = uint32(left.Milliseconds()) + 1
	}
	if err := p.setTimeout(ms); err != nil {
		return 0, err
	}
	var n uint32
	if err := syscall.ReadFile(p.h, b, &n, nil); err != nil {
		return int(n), fmt.Errorf("serial %s: read: %w", p.path, err)
	}
	if n == 0 && len(b) > 0 {
		return 0, os.ErrDeadlineExceeded
	}
	return int(n), nil
}

func (p *winPort) Write(b []byte) (int, error) {
	var n uint32
	if err := syscall.WriteFile(p.h, b, &n, nil); err != nil {
		return int(n), fmt.Errorf("serial %s: write: %w", p.path, err)
	}
	return int(n), nil
}

func (p *winPort) Close() error { return syscall.CloseHandle(p.h) }

func (p *winPort) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
	return nil
}
