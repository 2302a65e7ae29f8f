package device

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/sim"
)

func newSim(t *testing.T) *sim.Device {
	t.Helper()
	d, err := sim.New(pixel.DefaultLEDs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClientAgainstSimulator(t *testing.T) {
	ctx := context.Background()
	c := OpenSim(newSim(t))
	defer c.Close()

	hr, err := c.Hello(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hr.LEDs != pixel.DefaultLEDs || hr.Protocol != protocol.Version || !strings.HasPrefix(hr.Firmware, "cup-sim") {
		t.Errorf("hello: %+v", hr)
	}

	tests := []struct {
		name string
		req  protocol.SetPattern
		want pixel.RGB // every LED
	}{
		{"solid red full", protocol.SetPattern{Pattern: pixel.Solid, Color: pixel.RGB{R: 255}, Brightness: 255, Speed: 1}, pixel.RGB{R: 255}},
		{"solid blue half", protocol.SetPattern{Pattern: pixel.Solid, Color: pixel.RGB{B: 200}, Brightness: 128, Speed: 1}, pixel.RGB{B: 100}},
		{"off", protocol.SetPattern{Pattern: pixel.Off, Color: pixel.RGB{R: 9}, Brightness: 255, Speed: 1}, pixel.RGB{}},
	}
	for _, tc := range tests {
		if err := c.SetPattern(ctx, tc.req); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		px, err := c.GetPixels(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(px) != pixel.DefaultLEDs {
			t.Fatalf("%s: %d pixels", tc.name, len(px))
		}
		for i, p := range px {
			if p != tc.want {
				t.Fatalf("%s: LED %d is %v, want %v", tc.name, i, p, tc.want)
			}
		}
	}

	if err := c.SetPixels(ctx, protocol.SetPixels{Start: 2, Pixels: []pixel.RGB{{G: 255}, {G: 255}}}); err != nil {
		t.Fatal(err)
	}
	px, _ := c.GetPixels(ctx)
	if px[1] != (pixel.RGB{}) || px[2] != (pixel.RGB{G: 255}) || px[3] != (pixel.RGB{G: 255}) {
		t.Errorf("after set-pixels: %v", px[:5])
	}

	tmp, err := c.ReadTemp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tmp.Celsius() < 15 || tmp.Celsius() > 90 {
		t.Errorf("temperature %v °C is implausible", tmp.Celsius())
	}

	// the device refuses pixels past the end of the ring
	err = c.SetPixels(ctx, protocol.SetPixels{Start: 23, Pixels: []pixel.RGB{{}, {}}})
	var er *protocol.ErrorReply
	if !errors.As(err, &er) || er.Code != protocol.ErrCodeRange {
		t.Errorf("set-pixels past the end: %v, want a range error reply", err)
	}
	// and an unknown request type
	_, err = c.Request(ctx, 0x33, nil)
	if !errors.As(err, &er) || er.Code != protocol.ErrCodeUnknownType {
		t.Errorf("unknown request: %v", err)
	}
}

// noisyConn corrupts one byte of the first write: the device drops that
// frame, the client times out and resends.
type noisyConn struct {
	net.Conn
	hit atomic.Bool
}

func (n *noisyConn) Write(b []byte) (int, error) {
	if !n.hit.Swap(true) && len(b) > 3 {
		c := append([]byte(nil), b...)
		c[2] ^= 0x20
		return n.Conn.Write(c)
	}
	return n.Conn.Write(b)
}

func TestClientRetriesAfterNoise(t *testing.T) {
	d := newSim(t)
	c := New("noisy", func() (Conn, error) { return &noisyConn{Conn: d.Pipe()}, nil })
	c.Timeout = 100 * time.Millisecond
	defer c.Close()
	if _, err := c.Hello(context.Background()); err != nil {
		t.Fatalf("hello over a noisy line: %v", err)
	}
}

func TestClientReconnects(t *testing.T) {
	d := newSim(t)
	var dials atomic.Int32
	var current net.Conn
	c := New("flaky", func() (Conn, error) {
		if dials.Add(1) == 2 {
			return nil, errors.New("device unplugged")
		}
		current = d.Pipe()
		return current, nil
	})
	c.Timeout = 100 * time.Millisecond
	ctx := context.Background()
	if _, err := c.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	current.Close() // the device goes away under the client
	if _, err := c.Hello(ctx); err == nil || !strings.Contains(err.Error(), "unplugged") {
		t.Fatalf("hello while unplugged: %v", err)
	}
	if c.Connected() {
		t.Fatal("client still claims to be connected")
	}
	// during the back-off no new dial happens
	if _, err := c.Hello(ctx); err == nil || dials.Load() != 2 {
		t.Fatalf("hello during back-off: %v after %d dials", err, dials.Load())
	}
	time.Sleep(minBackoff + 50*time.Millisecond)
	if _, err := c.Hello(ctx); err != nil {
		t.Fatalf("hello after the device came back: %v", err)
	}
	if !c.Connected() || dials.Load() != 3 {
		t.Fatalf("connected %v after %d dials", c.Connected(), dials.Load())
	}
}

func TestClientTimesOutOnSilentDevice(t *testing.T) {
	c := New("silent", silentDialer)
	c.Timeout, c.Retries = 50*time.Millisecond, 1
	defer c.Close()
	start := time.Now()
	_, err := c.Hello(context.Background())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v", el)
	}
}

func TestSimulatorOverPTY(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pty simulator is Linux only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, _, err := newSim(t).ServePTY(ctx)
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	c := OpenSerial(path, 115200)
	defer c.Close()
	hr, err := c.Hello(ctx)
	if err != nil {
		t.Fatalf("hello over %s: %v", path, err)
	}
	if hr.LEDs != pixel.DefaultLEDs {
		t.Errorf("hello over pty: %+v", hr)
	}
	if err := c.SetPattern(ctx, protocol.SetPattern{Pattern: pixel.Solid, Color: pixel.RGB{R: 0x0d, G: 0x0a, B: 0x03}, Brightness: 255, Speed: 1}); err != nil {
		t.Fatal(err)
	}
	px, err := c.GetPixels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// CR, LF and ^C bytes survive the tty: raw mode is on
	if px[0] != (pixel.RGB{R: 0x0d, G: 0x0a, B: 0x03}) {
		t.Errorf("pixel 0 over pty = %v", px[0])
	}
}

func silentDialer() (Conn, error) {
	host, dev := net.Pipe()
	go func() { // reads everything, never answers
		buf := make([]byte, 256)
		for {
			if _, err := dev.Read(buf); err != nil {
				return
			}
		}
	}()
	return host, nil
}

// Every error names the device exactly once (issue 10: the UI showed
// "device: device /dev/null: not connected", the log "device X: device X: …").
func TestClientErrorsNameTheDeviceOnce(t *testing.T) {
	regular := t.TempDir() + "/not-a-tty"
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		client func() *Client
		calls  int // the error of the last call is checked
		want   []string
	}{
		{"missing serial device", func() *Client { return OpenSerial("/dev/cup-missing-device", 115200) }, 1,
			[]string{"device /dev/cup-missing-device: cannot open:", "hint: "}},
		{"missing device while backing off", func() *Client { return OpenSerial("/dev/cup-missing-device", 115200) }, 2,
			[]string{"device /dev/cup-missing-device: not connected (next try in", "cannot open:"}},
		{"regular file", func() *Client { return OpenSerial(regular, 115200) }, 1,
			[]string{"device " + regular + ": cannot open: not a terminal device"}},
		{"bad baud", func() *Client { return OpenSerial(regular, 12345) }, 1,
			[]string{"device " + regular + ": cannot open: baud rate 12345", "--baud"}},
		{"silent device", func() *Client {
			c := New("/dev/ttyACM7", silentDialer)
			c.Timeout, c.Retries = 20*time.Millisecond, 0
			return c
		}, 1, []string{"device /dev/ttyACM7: hello: no reply"}},
	}
	if runtime.GOOS == "windows" {
		t.Skip("unix paths")
	}
	for _, tc := range tests {
		c := tc.client()
		var err error
		for i := 0; i < tc.calls; i++ {
			_, err = c.Hello(context.Background())
		}
		c.Close()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not contain %q", tc.name, msg, w)
			}
		}
		if n := strings.Count(msg, c.Name()); n != 1 {
			t.Errorf("%s: %q names %s %d times, want once", tc.name, msg, c.Name(), n)
		}
		if strings.Contains(msg, "serial:") {
			t.Errorf("%s: %q keeps the serial package's prefix", tc.name, msg)
		}
	}
}

// A cancelled context ends a wait for a reply at once, even with a long
// reply timeout (cup serve must stop fast on SIGTERM), and keeps the line.
func TestClientRequestStopsOnCancel(t *testing.T) {
	c := New("silent", silentDialer)
	c.Timeout, c.Retries = 10*time.Second, 3
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Hello(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Fatalf("Hello returned %v after the cancel", el-100*time.Millisecond)
	}
	if !c.Connected() {
		t.Error("a cancelled request dropped the line")
	}
}
