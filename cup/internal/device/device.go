// Package device is the host side of the wire protocol: a client that sends
// requests to a coaster (over a serial port, a pty or the in-process
// simulator), matches replies by sequence number, retries after line noise
// and reconnects when the device goes away.
package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/serial"
	"cupcross.dev/cup/internal/sim"
)

// Conn is a line to the device.
type Conn interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
}

// Dialer opens a new line to the device.
type Dialer func() (Conn, error)

// Client talks to one device. It is safe for concurrent use; requests are
// sent one at a time.
type Client struct {
	name string
	dial Dialer

	// Timeout is how long to wait for one reply; Retries how often to resend.
	Timeout time.Duration
	Retries int

	mu        sync.Mutex
	conn      Conn
	dec       protocol.Decoder
	seq       uint8
	nextDial  time.Time
	backoff   time.Duration
	lastError error
}

// Reconnect back-off: first retry after minBackoff, doubling up to maxBackoff,
// so a poller running at 10 Hz does not hammer a missing USB device.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// New returns a client for the device called name (for messages), opened with dial.
func New(name string, dial Dialer) *Client {
	return &Client{name: name, dial: dial, Timeout: 500 * time.Millisecond, Retries: 2}
}

// OpenSerial returns a client for the serial device at path.
func OpenSerial(path string, baud int) *Client {
	return New(path, func() (Conn, error) { return serial.Open(path, serial.Config{Baud: baud}) })
}

// OpenSim returns a client for an in-process simulator.
func OpenSim(d *sim.Device) *Client {
	return New("simulator", func() (Conn, error) { return d.Pipe(), nil })
}

// Name is the device's name (its path, or "simulator").
func (c *Client) Name() string { return c.name }

// Connected reports whether the line is open now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil
}

// Close closes the line; the next request opens it again.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropLocked(nil)
}

func (c *Client) dropLocked(cause error) error {
	var err error
	if c.conn != nil {
		err = c.conn.Close()
		c.conn = nil
	}
	c.dec = protocol.Decoder{}
	if cause != nil {
		c.lastError = cause
	}
	return err
}

func (c *Client) connectLocked() error {
	if c.conn != nil {
		return nil
	}
	if now := time.Now(); now.Before(c.nextDial) {
		return fmt.Errorf("device %s: not connected (next try in %v): %w", c.name, c.nextDial.Sub(now).Round(100*time.Millisecond), c.bare(c.lastError))
	}
	conn, err := c.dial()
	if err != nil {
		c.backoff = min(max(c.backoff*2, minBackoff), maxBackoff)
		c.nextDial = time.Now().Add(c.backoff)
		c.lastError = err
		return fmt.Errorf("device %s: %w", c.name, c.bare(err))
	}
	c.conn, c.backoff, c.nextDial = conn, 0, time.Time{}
	return nil
}

// bare drops a serial open error's own mention of the path when that path
// is this device's name, so that every message names the device once:
// "device /dev/ttyACM0: cannot open: …", not "device /dev/ttyACM0: serial:
// cannot open /dev/ttyACM0: …".
func (c *Client) bare(err error) error {
	var oe *serial.OpenError
	if errors.As(err, &oe) && oe.Path == c.name {
		return bareOpenError{oe}
	}
	return err
}

type bareOpenError struct{ *serial.OpenError }

func (e bareOpenError) Error() string { return "cannot open: " + e.Reason() }
func (e bareOpenError) Unwrap() error { return e.OpenError }

// ErrTimeout means the device did not answer in time.
var ErrTimeout = errors.New("no reply")

// Request sends one request and returns the reply frame. Device errors come
// back as *protocol.ErrorReply.
func (c *Client) Request(ctx context.Context, t protocol.Type, payload []byte) (protocol.Frame, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lastErr error
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if err := ctx.Err(); err != nil {
			return protocol.Frame{}, err
		}
		if err := c.connectLocked(); err != nil {
			return protocol.Frame{}, err
		}
		c.seq++
		f, err := c.roundTripLocked(ctx, protocol.Frame{Type: t, Seq: c.seq, Payload: payload})
		if err == nil {
			if f.Type == protocol.TypeError {
				er, perr := protocol.ParseErrorReply(f.Payload)
				if perr != nil {
					return f, fmt.Errorf("device %s: %w", c.name, perr)
				}
				return f, fmt.Errorf("device %s: %v: %w", c.name, t, er)
			}
			return f, nil
		}
		lastErr = err
		if ctx.Err() != nil { // cancelled, not broken: keep the line
			break
		}
		if !errors.Is(err, ErrTimeout) {
			// the line broke (unplugged?): reopen it on the next attempt
			c.dropLocked(err)
			c.nextDial = time.Time{}
		}
	}
	return protocol.Frame{}, fmt.Errorf("device %s: %v: %w", c.name, t, lastErr)
}

func (c *Client) roundTripLocked(ctx context.Context, req protocol.Frame) (protocol.Frame, error) {
	out, err := protocol.Encode(req)
	if err != nil {
		return protocol.Frame{}, err
	}
	if _, err := c.conn.Write(out); err != nil {
		return protocol.Frame{}, fmt.Errorf("write: %w", err)
	}
	deadline := time.Now().Add(c.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	buf := make([]byte, 512)
	for {
		// Wait in short slices so that a cancelled ctx (cup serve stopping)
		// ends the wait within readSlice, without a second goroutine touching
		// the port's deadline.
		wait := time.Now().Add(readSlice)
		if deadline.Before(wait) {
			wait = deadline
		}
		if err := c.conn.SetReadDeadline(wait); err != nil {
			return protocol.Frame{}, fmt.Errorf("set read deadline: %w", err)
		}
		n, err := c.conn.Read(buf)
		for _, f := range c.dec.Push(buf[:n]) {
			if f.Seq == req.Seq && f.Type&0x80 != 0 {
				return f, nil
			}
			// a late reply to an earlier, timed-out request: skip it
		}
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return protocol.Frame{}, fmt.Errorf("read: %w", err)
			}
			if cerr := ctx.Err(); cerr != nil {
				return protocol.Frame{}, cerr
			}
			if !time.Now().Before(deadline) {
				return protocol.Frame{}, ErrTimeout
			}
		}
	}
}

// readSlice bounds how long one read waits before the context is checked.
const readSlice = 50 * time.Millisecond

func expect(f protocol.Frame, t protocol.Type) error {
	if f.Type != t {
		return fmt.Errorf("unexpected reply %v (wanted %v)", f.Type, t)
	}
	return nil
}

// Hello asks the device what it is.
func (c *Client) Hello(ctx context.Context) (protocol.HelloReply, error) {
	f, err := c.Request(ctx, protocol.TypeHello, nil)
	if err == nil {
		err = expect(f, protocol.TypeHelloReply)
	}
	if err != nil {
		return protocol.HelloReply{}, err
	}
	return protocol.ParseHelloReply(f.Payload)
}

// SetPattern starts an animation.
func (c *Client) SetPattern(ctx context.Context, m protocol.SetPattern) error {
	f, err := c.Request(ctx, protocol.TypeSetPattern, m.Marshal())
	if err == nil {
		err = expect(f, protocol.TypeAck)
	}
	return err
}

// SetPixels sets LEDs from m.Start on.
func (c *Client) SetPixels(ctx context.Context, m protocol.SetPixels) error {
	f, err := c.Request(ctx, protocol.TypeSetPixels, m.Marshal())
	if err == nil {
		err = expect(f, protocol.TypeAck)
	}
	return err
}

// ReadTemp reads the mug's temperature.
func (c *Client) ReadTemp(ctx context.Context) (protocol.Temp, error) {
	f, err := c.Request(ctx, protocol.TypeReadTemp, nil)
	if err == nil {
		err = expect(f, protocol.TypeTemp)
	}
	if err != nil {
		return protocol.Temp{}, err
	}
	return protocol.ParseTemp(f.Payload)
}

// GetPixels reads what the ring shows now.
func (c *Client) GetPixels(ctx context.Context) ([]pixel.RGB, error) {
	f, err := c.Request(ctx, protocol.TypeGetPixels, nil)
	if err == nil {
		err = expect(f, protocol.TypePixels)
	}
	if err != nil {
		return nil, err
	}
	p, err := protocol.ParsePixels(f.Payload)
	return p.Pixels, err
}
