package hotpath

import (
	"bytes"
	"hash/crc32"
	"testing"
)

func TestCRC32KnownVectors(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0x00000000},
		{"a", 0xe8b7be43},
		{"123456789", 0xcbf43926},
		{"The quick brown fox jumps over the lazy dog", 0x414fa339},
	}
	for _, tc := range tests {
		if got := CRC32([]byte(tc.in)); got != tc.want {
			t.Errorf("CRC32(%q) = %08x, want %08x", tc.in, got, tc.want)
		}
		if got := CRC32Go([]byte(tc.in)); got != tc.want {
			t.Errorf("CRC32Go(%q) = %08x, want %08x", tc.in, got, tc.want)
		}
	}
}

func TestCRC32MatchesStdlibOnAllByteValues(t *testing.T) {
	buf := make([]byte, 0, 256)
	for i := 0; i < 256; i++ {
		buf = append(buf, byte(i))
		if got, want := CRC32(buf), crc32.ChecksumIEEE(buf); got != want {
			t.Fatalf("CRC32 of bytes 0..%d = %08x, want %08x", i, got, want)
		}
	}
}

func TestGamma16Endpoints(t *testing.T) {
	if g := Gamma16(0); g != 0 {
		t.Errorf("Gamma16(0) = %d, want 0", g)
	}
	if g := Gamma16(255); g != 65535 {
		t.Errorf("Gamma16(255) = %d, want 65535", g)
	}
	prev := uint32(0)
	for x := 1; x < 256; x++ {
		g := Gamma16(uint8(x))
		if g < prev {
			t.Fatalf("Gamma16 not monotonic at %d: %d < %d", x, g, prev)
		}
		// gamma > 1 darkens the mid-tones: below the linear ramp
		if lin := uint32(x) * 257; g > lin {
			t.Fatalf("Gamma16(%d) = %d is above the linear value %d", x, g, lin)
		}
		prev = g
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name       string
		rgb        []byte
		brightness uint8
		want       []byte // G,R,B
	}{
		{"black", []byte{0, 0, 0}, 255, []byte{0, 0, 0}},
		{"white full", []byte{255, 255, 255}, 255, []byte{255, 255, 255}},
		{"red full goes to the middle byte", []byte{255, 0, 0}, 255, []byte{0, 255, 0}},
		{"green full goes first", []byte{0, 255, 0}, 255, []byte{255, 0, 0}},
		{"brightness zero is off", []byte{255, 255, 255}, 0, []byte{0, 0, 0}},
		{"half brightness white", []byte{255, 255, 255}, 128, []byte{128, 128, 128}},
		{"empty ring", []byte{}, 255, []byte{}},
	}
	for _, tc := range tests {
		for _, f := range []struct {
			name string
			fn   func(dst, rgb []byte, b uint8, d *Dither) error
		}{{"Render", Render}, {"RenderGo", RenderGo}} {
			var d Dither
			dst := make([]byte, len(tc.rgb))
			if err := f.fn(dst, tc.rgb, tc.brightness, &d); err != nil {
				t.Fatalf("%s %s: %v", f.name, tc.name, err)
			}
			if !bytes.Equal(dst, tc.want) {
				t.Errorf("%s %s: got % x, want % x", f.name, tc.name, dst, tc.want)
			}
		}
	}
}

func TestRenderDitherKeepsAverage(t *testing.T) {
	// A dim grey that lies between two 8-bit levels: over many LEDs the
	// dithered output must average to the exact 16-bit value.
	const leds = 256
	rgb := bytes.Repeat([]byte{40, 40, 40}, leds)
	dst := make([]byte, len(rgb))
	var d Dither
	if err := Render(dst, rgb, 255, &d); err != nil {
		t.Fatal(err)
	}
	sum, levels := 0, map[byte]bool{}
	for i := 0; i < leds; i++ {
		sum += int(dst[i*3+1]) // red channel
		levels[dst[i*3+1]] = true
	}
	want := float64(Gamma16(40)) / 256
	got := float64(sum) / leds
	if got < want-0.05 || got > want+0.05 {
		t.Errorf("average dithered level %.3f, want %.3f", got, want)
	}
	if len(levels) != 2 {
		t.Errorf("dithering used %d distinct levels (%v), want 2", len(levels), levels)
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		dst  []byte
		rgb  []byte
		d    *Dither
	}{
		{"not a multiple of 3", make([]byte, 4), make([]byte, 4), &Dither{}},
		{"short output", make([]byte, 3), make([]byte, 6), &Dither{}},
		{"nil dither", make([]byte, 3), make([]byte, 3), nil},
	}
	for _, tc := range tests {
		if err := Render(tc.dst, tc.rgb, 255, tc.d); err == nil {
			t.Errorf("%s: Render gave no error", tc.name)
		}
		if err := RenderGo(tc.dst, tc.rgb, 255, tc.d); err == nil {
			t.Errorf("%s: RenderGo gave no error", tc.name)
		}
	}
}

func TestCompareDetectsADifference(t *testing.T) {
	// The agreement check must be able to fail: a broken CRC is caught.
	good := &impl{crc: CRC32Go, render: RenderGo}
	broken := &impl{crc: func(b []byte) uint32 { return CRC32Go(b) ^ uint32(len(b)&1) }, render: RenderGo}
	if _, err := compare(good, broken, 1, 50); err == nil {
		t.Fatal("compare did not notice a CRC that differs on odd lengths")
	}
	brokenRender := &impl{crc: CRC32Go, render: func(dst, rgb []byte, b uint8, d *Dither) error {
		err := RenderGo(dst, rgb, b, d)
		if len(dst) > 0 {
			dst[0] ^= 1
		}
		return err
	}}
	if _, err := compare(good, brokenRender, 1, 50); err == nil {
		t.Fatal("compare did not notice a render that flips a bit")
	}
}
