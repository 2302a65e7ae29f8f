// Package sim is a simulated coaster that speaks the wire protocol: in
// process (over a net.Pipe) or, on Linux, behind a pseudo-terminal that any
// program can open like the real serial port.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"time"

	"cupcross.dev/cup/internal/hotpath"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/serial"
	"cupcross.dev/cup/internal/version"
)

// Device is the simulated coaster.
type Device struct {
	mu         sync.Mutex
	now        func() time.Time
	start      time.Time
	pattern    pixel.Pattern
	color      pixel.RGB
	brightness uint8
	speed      uint8
	ring       []pixel.RGB
	dither     hotpath.Dither
	wire       []byte

	// Firmware is reported in the hello reply.
	Firmware string
}

// New returns a simulated coaster with n LEDs (1..255), showing a slow
// rainbow, with a freshly poured hot drink on it.
func New(n int) (*Device, error) {
	if n < 1 || n > protocol.MaxLEDs {
		return nil, fmt.Errorf("sim: %d LEDs: want 1..%d", n, protocol.MaxLEDs)
	}
	d := &Device{
		now:        time.Now,
		pattern:    pixel.Rainbow,
		color:      pixel.RGB{R: 255, G: 136, B: 0},
		brightness: 160,
		speed:      40,
		ring:       make([]pixel.RGB, n),
		wire:       make([]byte, n*hotpath.LEDBytes),
		Firmware:   "cup-sim " + version.Version,
	}
	d.start = d.now()
	return d, nil
}

// SetClock replaces the clock (for tests).
func (d *Device) SetClock(now func() time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = now
	d.start = now()
}

// frame advances the animation to now and renders the LED output; d.mu held.
func (d *Device) frame() []pixel.RGB {
	pixel.Frame(d.ring, d.pattern, d.color, d.speed, d.now().Sub(d.start))
	out := make([]pixel.RGB, len(d.ring))
	rgb := make([]byte, 0, len(d.ring)*3)
	for i, c := range d.ring {
		out[i] = c.Scale(d.brightness)
		rgb = append(rgb, c.R, c.G, c.B)
	}
	// what a real coaster clocks out to its LED strip
	_ = hotpath.Render(d.wire, rgb, d.brightness, &d.dither)
	return out
}

// Pixels returns what the ring shows now (brightness applied).
func (d *Device) Pixels() []pixel.RGB {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frame()
}

// Wire returns the bytes last sent to the LED strip (G,R,B per LED).
func (d *Device) Wire() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.wire...)
}

// Temperature is the drink cooling from 68 °C towards a 22 °C room over
// about half an hour, in hundredths of a °C.
func (d *Device) Temperature() int16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.now().Sub(d.start).Seconds()
	c := 22 + 46*math.Exp(-t/1200) + 0.05*math.Sin(t/3)
	return int16(math.Round(c * 100))
}

func reply(req protocol.Frame, t protocol.Type, payload []byte) protocol.Frame {
	return protocol.Frame{Type: t, Seq: req.Seq, Payload: payload}
}

func errReply(req protocol.Frame, code uint8, format string, args ...any) protocol.Frame {
	return reply(req, protocol.TypeError, protocol.ErrorReply{Code: code, Message: fmt.Sprintf(format, args...)}.Marshal())
}

// Handle answers one request frame.
func (d *Device) Handle(req protocol.Frame) protocol.Frame {
	ack := reply(req, protocol.TypeAck, []byte{byte(req.Type)})
	switch req.Type {
	case protocol.TypeHello:
		d.mu.Lock()
		defer d.mu.Unlock()
		return reply(req, protocol.TypeHelloReply, protocol.HelloReply{Protocol: protocol.Version, LEDs: uint8(len(d.ring)), Firmware: d.Firmware}.Marshal())
	case protocol.TypeSetPattern:
		m, err := protocol.ParseSetPattern(req.Payload)
		if err != nil {
			return errReply(req, protocol.ErrCodeBadPayload, "%v", err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.pattern, d.color, d.brightness, d.speed = m.Pattern, m.Color, m.Brightness, m.Speed
		d.start = d.now()
		return ack
	case protocol.TypeSetPixels:
		m, err := protocol.ParseSetPixels(req.Payload)
		if err != nil {
			return errReply(req, protocol.ErrCodeBadPayload, "%v", err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if int(m.Start)+len(m.Pixels) > len(d.ring) {
			return errReply(req, protocol.ErrCodeRange, "pixels %d..%d: the ring has %d LEDs", m.Start, int(m.Start)+len(m.Pixels)-1, len(d.ring))
		}
		if d.pattern != pixel.Custom {
			d.frame() // keep what is shown now as the background
			d.pattern = pixel.Custom
		}
		copy(d.ring[m.Start:], m.Pixels)
		return ack
	case protocol.TypeReadTemp:
		return reply(req, protocol.TypeTemp, protocol.Temp{CentiCelsius: d.Temperature()}.Marshal())
	case protocol.TypeGetPixels:
		return reply(req, protocol.TypePixels, protocol.Pixels{Pixels: d.Pixels()}.Marshal())
	}
	return errReply(req, protocol.ErrCodeUnknownType, "unknown request %v", req.Type)
}

// State is the simulator's settings (for tests and the UI's "sim" badge).
func (d *Device) State() (p pixel.Pattern, c pixel.RGB, brightness, speed uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pattern, d.color, d.brightness, d.speed
}

// Serve answers requests read from rw until it fails or ctx ends. Garbage on
// the line is skipped. It returns nil on EOF or a closed pipe.
func (d *Device) Serve(ctx context.Context, rw io.ReadWriter) error {
	var dec protocol.Decoder
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		n, err := rw.Read(buf)
		for _, req := range dec.Push(buf[:n]) {
			if req.Type&0x80 != 0 { // a reply: not for us
				continue
			}
			out, encErr := protocol.Encode(d.Handle(req))
			if encErr != nil {
				return encErr
			}
			if _, werr := rw.Write(out); werr != nil {
				return quiet(werr)
			}
		}
		if err != nil {
			return quiet(err)
		}
	}
	return nil
}

func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Pipe connects a new in-process line to the simulator and returns the
// host's end. Closing it stops that line's server.
func (d *Device) Pipe() net.Conn {
	host, dev := net.Pipe()
	go func() {
		_ = d.Serve(context.Background(), dev)
		dev.Close()
	}()
	return host
}

// ServePTY serves the simulator on a new pseudo-terminal and returns its
// slave path (e.g. /dev/pts/3), which cup --device can open. Linux only.
func (d *Device) ServePTY(ctx context.Context) (path string, done <-chan error, err error) {
	m, path, err := serial.OpenPTY()
	if err != nil {
		return "", nil, err
	}
	ch := make(chan error, 1)
	go func() {
		<-ctx.Done()
		m.Close()
	}()
	go func() {
		for {
			err := d.Serve(ctx, m)
			// EIO: no process has the slave open right now; wait and go on.
			if err != nil && ctx.Err() == nil && isEIO(err) {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if ctx.Err() != nil {
				err = nil
			}
			ch <- err
			return
		}
	}()
	return path, ch, nil
}
