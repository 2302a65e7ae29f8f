// Package selftest is `cup selftest`: checks that need no device, network or
// writable HOME, so they can run under QEMU and in Nix build sandboxes. The
// result is one JSON line.
package selftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"time"

	"cupcross.dev/cup/internal/device"
	"cupcross.dev/cup/internal/hotpath"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/serial"
	"cupcross.dev/cup/internal/sim"
	"cupcross.dev/cup/internal/version"
)

// Check is the outcome of one check.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Result is the JSON line `cup selftest` prints.
type Result struct {
	Version string  `json:"version"`
	GOOS    string  `json:"goos"`
	GOARCH  string  `json:"goarch"`
	GOARM   string  `json:"goarm"`
	Cgo     bool    `json:"cgo"`
	Go      string  `json:"go"`
	OK      bool    `json:"ok"`
	Passed  int     `json:"passed"`
	Failed  int     `json:"failed"`
	Skipped int     `json:"skipped"`
	Checks  []Check `json:"checks"`
}

// errSkip marks a check that does not apply here.
type errSkip struct{ why string }

func (e errSkip) Error() string { return e.why }

var checks = []struct {
	name string
	fn   func() error
}{
	{"crc32", checkCRC},
	{"protocol-roundtrip", checkRoundTrip},
	{"protocol-noise", checkNoise},
	{"pixel-pipeline", checkPipeline},
	{"cgo-matches-go", checkCgo},
	{"simulator", checkSim},
	{"serial-pty", checkPTY},
}

// Run runs every check. A check that panics fails; it does not crash cup.
func Run() Result {
	r := Result{
		Version: version.Version, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GOARM: version.GOARM(),
		Cgo: hotpath.CgoEnabled, Go: runtime.Version(), OK: true,
	}
	for _, c := range checks {
		res := Check{Name: c.name}
		err := safely(c.fn)
		var skip errSkip
		switch {
		case errors.As(err, &skip):
			res.OK, res.Skipped, res.Detail = true, true, skip.why
			r.Skipped++
		case err != nil:
			res.Detail = err.Error()
			r.OK = false
			r.Failed++
		default:
			res.OK = true
			r.Passed++
		}
		r.Checks = append(r.Checks, res)
	}
	return r
}

func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}

func checkCRC() error {
	for _, s := range []string{"", "123456789", "cup", string(make([]byte, 1000))} {
		if got, want := hotpath.CRC32([]byte(s)), crc32.ChecksumIEEE([]byte(s)); got != want {
			return fmt.Errorf("CRC32 of %d bytes = %08x, want %08x", len(s), got, want)
		}
	}
	if got := hotpath.CRC32([]byte("123456789")); got != 0xcbf43926 {
		return fmt.Errorf("CRC32(123456789) = %08x, want cbf43926", got)
	}
	return nil
}

func checkRoundTrip() error {
	frames := []protocol.Frame{
		{Type: protocol.TypeHello, Seq: 1},
		{Type: protocol.TypeSetPattern, Seq: 2, Payload: protocol.SetPattern{Pattern: pixel.Comet, Color: pixel.RGB{R: 0, G: 0x0d, B: 0xff}, Brightness: 200, Speed: 9}.Marshal()},
		{Type: protocol.TypeTemp, Seq: 3, Payload: protocol.Temp{CentiCelsius: -4242}.Marshal()},
		{Type: protocol.TypePixels, Seq: 4, Payload: bytes.Repeat([]byte{0, 1, 0xff}, 200)},
	}
	for _, f := range frames {
		enc, err := protocol.Encode(f)
		if err != nil {
			return err
		}
		var d protocol.Decoder
		got := d.Push(enc)
		if len(got) != 1 || got[0].Type != f.Type || got[0].Seq != f.Seq || !bytes.Equal(got[0].Payload, f.Payload) {
			return fmt.Errorf("%v frame did not survive encode/decode: %+v", f.Type, got)
		}
	}
	// integers are little endian on the wire whatever the CPU's byte order
	if b := (protocol.Temp{CentiCelsius: 0x1234}).Marshal(); b[0] != 0x34 || b[1] != 0x12 {
		return fmt.Errorf("temp 0x1234 encodes as % x, want 34 12", b)
	}
	return nil
}

func checkNoise() error {
	// deterministic garbage, then a frame: the decoder must not panic and
	// must recover the frame
	x := uint32(2463534242)
	garbage := make([]byte, 4096)
	for i := range garbage {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		garbage[i] = byte(x)
	}
	var d protocol.Decoder
	d.Push(garbage)
	want := protocol.Frame{Type: protocol.TypeAck, Seq: 77, Payload: []byte{2}}
	enc, _ := protocol.Encode(want)
	got := d.Push(enc)
	if len(got) == 0 || got[len(got)-1].Seq != 77 {
		return fmt.Errorf("frame after 4 KiB of noise not recovered (dropped %d)", d.Dropped)
	}
	return nil
}

func checkPipeline() error {
	rgb := []byte{255, 255, 255, 0, 0, 0, 255, 0, 0}
	out := make([]byte, len(rgb))
	var d hotpath.Dither
	if err := hotpath.Render(out, rgb, 255, &d); err != nil {
		return err
	}
	if want := []byte{255, 255, 255, 0, 0, 0, 0, 255, 0}; !bytes.Equal(out, want) {
		return fmt.Errorf("render = % x, want % x", out, want)
	}
	if err := hotpath.Render(out, rgb, 0, &hotpath.Dither{}); err != nil || !bytes.Equal(out, make([]byte, len(rgb))) {
		return fmt.Errorf("brightness 0 renders % x (%v), want all zero", out, err)
	}
	return nil
}

func checkCgo() error {
	n, err := hotpath.CompareCgoWithGo(0, 300)
	if errors.Is(err, hotpath.ErrNoCgo) {
		return errSkip{"built without cgo"}
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no cases compared")
	}
	return nil
}

func checkSim() error {
	d, err := sim.New(pixel.DefaultLEDs)
	if err != nil {
		return err
	}
	c := device.OpenSim(d)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Timeout = 2 * time.Second // slow under QEMU
	if _, err := c.Hello(ctx); err != nil {
		return err
	}
	want := pixel.RGB{R: 10, G: 200, B: 30}
	if err := c.SetPattern(ctx, protocol.SetPattern{Pattern: pixel.Solid, Color: want, Brightness: 255, Speed: 1}); err != nil {
		return err
	}
	px, err := c.GetPixels(ctx)
	if err != nil {
		return err
	}
	if len(px) != pixel.DefaultLEDs || px[5] != want {
		return fmt.Errorf("after set-pattern solid %v the ring shows %d LEDs, LED 5 = %v", want, len(px), px[5])
	}
	return nil
}

func checkPTY() error {
	err := serial.CheckPTY()
	if errors.Is(err, serial.ErrUnsupported) {
		return errSkip{err.Error()}
	}
	return err
}
