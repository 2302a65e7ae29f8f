// Package pixel has the colours and animation patterns of the LED ring. It
// describes what the ring should look like; internal/hotpath turns that into
// the bytes the LEDs are sent.
package pixel

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// DefaultLEDs is the number of LEDs on the coaster's ring.
const DefaultLEDs = 24

// RGB is one 8-bit-per-channel colour.
type RGB struct{ R, G, B uint8 }

// Hex formats c as "#rrggbb".
func (c RGB) Hex() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Scale returns c at brightness b (0 = black, 255 = unchanged), rounding to nearest.
func (c RGB) Scale(b uint8) RGB {
	s := func(v uint8) uint8 { return uint8((uint32(v)*uint32(b) + 127) / 255) }
	return RGB{s(c.R), s(c.G), s(c.B)}
}

// colorFormat is how every colour error says what is accepted.
const colorFormat = "want #rrggbb (e.g. #ff8800), #rgb, or a colour name"

// ParseHex parses "#rrggbb", "rrggbb" or "#rgb".
func ParseHex(s string) (RGB, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var v [3]uint8
	ok := len(h) == 6
	for i := 0; ok && i < 3; i++ {
		hi, ok1 := hexDigit(h[2*i])
		lo, ok2 := hexDigit(h[2*i+1])
		ok = ok1 && ok2
		v[i] = hi<<4 | lo
	}
	if !ok {
		return RGB{}, fmt.Errorf("colour %q: want #rrggbb (e.g. #ff8800) or #rgb", s)
	}
	return RGB{v[0], v[1], v[2]}, nil
}

// colorNames are the CSS colour keywords people reach for first, with their
// CSS values (so "green" is #008000, as in a browser; "lime" is #00ff00).
var colorNames = map[string]RGB{
	"black": {0, 0, 0}, "white": {255, 255, 255}, "red": {255, 0, 0},
	"orange": {255, 165, 0}, "yellow": {255, 255, 0}, "lime": {0, 255, 0},
	"green": {0, 128, 0}, "cyan": {0, 255, 255}, "aqua": {0, 255, 255},
	"blue": {0, 0, 255}, "purple": {128, 0, 128}, "magenta": {255, 0, 255},
	"fuchsia": {255, 0, 255}, "pink": {255, 192, 203}, "gold": {255, 215, 0},
	"teal": {0, 128, 128}, "navy": {0, 0, 128}, "violet": {238, 130, 238},
}

// ColorNames lists the accepted colour names, sorted.
func ColorNames() []string {
	names := make([]string, 0, len(colorNames))
	for n := range colorNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseColor parses a colour as ParseHex does, or by name ("red", "orange",
// …; see ColorNames), case-insensitively.
func ParseColor(s string) (RGB, error) {
	if c, ok := colorNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return c, nil
	}
	c, err := ParseHex(s)
	if err != nil {
		return RGB{}, fmt.Errorf("colour %q: %s (%s)", s, colorFormat, strings.Join(ColorNames(), ", "))
	}
	return c, nil
}

func hexDigit(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Pattern is an animation the device runs by itself.
type Pattern uint8

// The patterns; the numbers are the wire values of the protocol.
const (
	Off Pattern = iota
	Solid
	Breathe
	Spin
	Rainbow
	Comet
	Custom // pixels set one by one with "set pixels"
	numPatterns
)

var patternNames = [numPatterns]string{"off", "solid", "breathe", "spin", "rainbow", "comet", "custom"}

// String returns the pattern's name ("pattern(N)" if unknown).
func (p Pattern) String() string {
	if p < numPatterns {
		return patternNames[p]
	}
	return fmt.Sprintf("pattern(%d)", uint8(p))
}

// Valid reports whether p is a known pattern.
func (p Pattern) Valid() bool { return p < numPatterns }

// UsesColor reports whether the pattern's look depends on the colour setting.
func (p Pattern) UsesColor() bool {
	return p == Solid || p == Breathe || p == Spin || p == Comet
}

// UsesSpeed reports whether the pattern is animated (depends on the speed).
func (p Pattern) UsesSpeed() bool {
	return p == Breathe || p == Spin || p == Rainbow || p == Comet
}

// UsesBrightness reports whether the brightness setting changes the pattern.
// Custom pixels are scaled by the device too, but a brightness change goes
// through "set pattern", which leaves custom mode: so not for Custom.
func (p Pattern) UsesBrightness() bool { return p != Off && p != Custom && p.Valid() }

// Settable reports whether "set pattern" can select p (Custom is entered by
// setting pixels).
func (p Pattern) Settable() bool { return p != Custom && p.Valid() }

// Patterns lists every pattern in wire order.
func Patterns() []Pattern {
	ps := make([]Pattern, numPatterns)
	for i := range ps {
		ps[i] = Pattern(i)
	}
	return ps
}

// ParsePattern finds a pattern by name (case-insensitive).
func ParsePattern(name string) (Pattern, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, s := range patternNames {
		if s == n {
			return Pattern(i), nil
		}
	}
	return 0, fmt.Errorf("unknown pattern %q; known patterns: %s", name, strings.Join(patternNames[:], ", "))
}

// period is how long one animation cycle takes at the given speed (1..255;
// 0 is treated as 1): from 8 s at speed 1 down to about 0.25 s at 255.
func period(speed uint8) float64 {
	if speed == 0 {
		speed = 1
	}
	return 8.0 / (1 + float64(speed-1)*31/254)
}

// HSV returns the fully saturated, full value colour of hue h (0..1).
func HSV(h float64) RGB {
	h = h - math.Floor(h)
	x := h * 6
	i := int(x)
	f := x - float64(i)
	q := uint8(math.Round(255 * (1 - f)))
	t := uint8(math.Round(255 * f))
	switch i % 6 {
	case 0:
		return RGB{255, t, 0}
	case 1:
		return RGB{q, 255, 0}
	case 2:
		return RGB{0, 255, t}
	case 3:
		return RGB{0, q, 255}
	case 4:
		return RGB{t, 0, 255}
	default:
		return RGB{255, 0, q}
	}
}

// Frame fills ring with pattern p in colour c at animation time t. Custom
// leaves ring unchanged (its pixels are set by the host).
func Frame(ring []RGB, p Pattern, c RGB, speed uint8, t time.Duration) {
	n := len(ring)
	if n == 0 {
		return
	}
	phase := t.Seconds() / period(speed)
	phase -= math.Floor(phase)
	switch p {
	case Off:
		for i := range ring {
			ring[i] = RGB{}
		}
	case Solid:
		for i := range ring {
			ring[i] = c
		}
	case Breathe:
		// raised cosine between 10% and 100%
		level := 0.1 + 0.9*(0.5-0.5*math.Cos(2*math.Pi*phase))
		v := c.Scale(uint8(math.Round(255 * level)))
		for i := range ring {
			ring[i] = v
		}
	case Spin:
		head := int(phase * float64(n))
		for i := range ring {
			d := (head - i + n) % n
			switch {
			case d == 0:
				ring[i] = c
			case d < n/4:
				ring[i] = c.Scale(uint8(64 - 64*d/(n/4)))
			default:
				ring[i] = RGB{}
			}
		}
	case Rainbow:
		for i := range ring {
			ring[i] = HSV(phase + float64(i)/float64(n))
		}
	case Comet:
		head := int(phase * float64(n))
		tail := n / 2
		for i := range ring {
			d := (head - i + n) % n
			if d < tail {
				ring[i] = c.Scale(uint8(255 * (tail - d) / tail))
			} else {
				ring[i] = RGB{}
			}
		}
	}
}
