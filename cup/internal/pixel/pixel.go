// Package pixel has the colours and animation patterns of the LED ring. It
// describes what the ring should look like; internal/hotpath turns that into
// the bytes the LEDs are sent.
package pixel

import (
	"fmt"
	"math"
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

// ParseHex parses "#rrggbb", "rrggbb" or "#rgb".
func ParseHex(s string) (RGB, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return RGB{}, fmt.Errorf("colour %q: want #RRGGBB (e.g. #ff8800)", s)
	}
	var v [3]uint8
	for i := 0; i < 3; i++ {
		hi, ok1 := hexDigit(h[2*i])
		lo, ok2 := hexDigit(h[2*i+1])
		if !ok1 || !ok2 {
			return RGB{}, fmt.Errorf("colour %q: %q is not hexadecimal; want #RRGGBB (e.g. #ff8800)", s, h[2*i:2*i+2])
		}
		v[i] = hi<<4 | lo
	}
	return RGB{v[0], v[1], v[2]}, nil
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
