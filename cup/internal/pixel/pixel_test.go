package pixel

import (
	"strings"
	"testing"
	"time"
)

func TestParseHex(t *testing.T) {
	tests := []struct {
		in      string
		want    RGB
		wantErr bool
	}{
		{"#ff8800", RGB{255, 136, 0}, false},
		{"FF8800", RGB{255, 136, 0}, false},
		{"#f80", RGB{255, 136, 0}, false},
		{" #000000 ", RGB{}, false},
		{"#ABCDEF", RGB{0xab, 0xcd, 0xef}, false},
		{"", RGB{}, true},
		{"#ff88", RGB{}, true},
		{"#gg0000", RGB{}, true},
		{"#ff88001", RGB{}, true},
		{"red", RGB{}, true},
	}
	for _, tc := range tests {
		got, err := ParseHex(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseHex(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseHex(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if err == nil {
			back, err := ParseHex(got.Hex())
			if err != nil || back != got {
				t.Errorf("round trip of %v via %q gave %v, %v", got, got.Hex(), back, err)
			}
		}
	}
}

// Colour errors say the accepted format instead of which digit pair failed
// (issue 10: `--color red` used to say "rr" is not hexadecimal).
func TestParseColor(t *testing.T) {
	tests := []struct {
		in     string
		want   RGB
		errHas []string
		errNot []string
	}{
		{"red", RGB{255, 0, 0}, nil, nil},
		{" Orange ", RGB{255, 165, 0}, nil, nil},
		{"LIME", RGB{0, 255, 0}, nil, nil},
		{"#00c0ff", RGB{0, 192, 255}, nil, nil},
		{"0c0", RGB{0, 204, 0}, nil, nil},
		{"reddish", RGB{}, []string{`"reddish"`, "#rrggbb", "red, "}, []string{"hexadecimal"}},
		{"#12", RGB{}, []string{`"#12"`, "#rrggbb"}, nil},
		{"", RGB{}, []string{"#rrggbb"}, nil},
		{"#gg0000", RGB{}, []string{"#rrggbb"}, []string{"hexadecimal", `"gg"`}},
	}
	for _, tc := range tests {
		got, err := ParseColor(tc.in)
		if tc.errHas == nil {
			if err != nil || got != tc.want {
				t.Errorf("ParseColor(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseColor(%q) = %v, want an error", tc.in, got)
			continue
		}
		for _, s := range tc.errHas {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("ParseColor(%q) error %q does not contain %q", tc.in, err, s)
			}
		}
		for _, s := range tc.errNot {
			if strings.Contains(err.Error(), s) {
				t.Errorf("ParseColor(%q) error %q contains %q", tc.in, err, s)
			}
		}
	}
	for _, n := range ColorNames() {
		if _, err := ParseColor(n); err != nil {
			t.Errorf("listed name %q does not parse: %v", n, err)
		}
	}
}

// The UI disables the controls a pattern ignores; the table is the contract.
func TestPatternUses(t *testing.T) {
	tests := []struct {
		p                                  Pattern
		color, speed, brightness, settable bool
	}{
		{Off, false, false, false, true},
		{Solid, true, false, true, true},
		{Breathe, true, true, true, true},
		{Spin, true, true, true, true},
		{Rainbow, false, true, true, true},
		{Comet, true, true, true, true},
		{Custom, false, false, false, false},
	}
	if len(tests) != len(Patterns()) {
		t.Fatalf("table has %d patterns, pixel has %d", len(tests), len(Patterns()))
	}
	for _, tc := range tests {
		got := [4]bool{tc.p.UsesColor(), tc.p.UsesSpeed(), tc.p.UsesBrightness(), tc.p.Settable()}
		want := [4]bool{tc.color, tc.speed, tc.brightness, tc.settable}
		if got != want {
			t.Errorf("%v: color/speed/brightness/settable = %v, want %v", tc.p, got, want)
		}
	}
}

func TestParsePattern(t *testing.T) {
	for _, p := range Patterns() {
		got, err := ParsePattern(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePattern(%q) = %v, %v; want %v", p.String(), got, err, p)
		}
	}
	if _, err := ParsePattern("disco"); err == nil {
		t.Error("ParsePattern(disco) gave no error")
	}
	if got, err := ParsePattern(" Rainbow "); err != nil || got != Rainbow {
		t.Errorf("ParsePattern is not case-insensitive: %v, %v", got, err)
	}
	if Pattern(200).Valid() || Pattern(200).String() != "pattern(200)" {
		t.Error("pattern 200 should be invalid and print as pattern(200)")
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		c    RGB
		b    uint8
		want RGB
	}{
		{RGB{255, 255, 255}, 255, RGB{255, 255, 255}},
		{RGB{255, 255, 255}, 0, RGB{0, 0, 0}},
		{RGB{255, 100, 2}, 128, RGB{128, 50, 1}},
	}
	for _, tc := range tests {
		if got := tc.c.Scale(tc.b); got != tc.want {
			t.Errorf("%v.Scale(%d) = %v, want %v", tc.c, tc.b, got, tc.want)
		}
	}
}

func TestFrame(t *testing.T) {
	red := RGB{255, 0, 0}
	ring := make([]RGB, DefaultLEDs)
	count := func(f func(RGB) bool) int {
		n := 0
		for _, c := range ring {
			if f(c) {
				n++
			}
		}
		return n
	}
	lit := func(c RGB) bool { return c != RGB{} }

	Frame(ring, Solid, red, 100, time.Second)
	if n := count(func(c RGB) bool { return c == red }); n != DefaultLEDs {
		t.Errorf("solid: %d of %d LEDs red", n, DefaultLEDs)
	}
	Frame(ring, Off, red, 100, time.Second)
	if n := count(lit); n != 0 {
		t.Errorf("off: %d LEDs lit", n)
	}
	Frame(ring, Spin, red, 100, 0)
	if ring[0] != red || count(lit) >= DefaultLEDs/2 {
		t.Errorf("spin at t=0: head %v, %d lit", ring[0], count(lit))
	}
	Frame(ring, Rainbow, red, 100, 0)
	if ring[0] == ring[DefaultLEDs/2] {
		t.Errorf("rainbow: opposite LEDs have the same colour %v", ring[0])
	}
	// animations move: the same pattern at another time differs
	a := make([]RGB, DefaultLEDs)
	Frame(a, Comet, red, 100, 0)
	Frame(ring, Comet, red, 100, 300*time.Millisecond)
	same := true
	for i := range a {
		if a[i] != ring[i] {
			same = false
		}
	}
	if same {
		t.Error("comet did not move in 300ms")
	}
	// custom leaves the ring alone
	ring[3] = RGB{1, 2, 3}
	Frame(ring, Custom, red, 100, time.Second)
	if ring[3] != (RGB{1, 2, 3}) {
		t.Error("custom overwrote a pixel")
	}
	Frame(nil, Rainbow, red, 0, time.Second) // must not panic
}

func TestHSV(t *testing.T) {
	tests := []struct {
		h    float64
		want RGB
	}{
		{0, RGB{255, 0, 0}},
		{1.0 / 3, RGB{0, 255, 0}},
		{2.0 / 3, RGB{0, 0, 255}},
		{1, RGB{255, 0, 0}},
		{-1.0 / 3, RGB{0, 0, 255}},
	}
	for _, tc := range tests {
		if got := HSV(tc.h); got != tc.want {
			t.Errorf("HSV(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
