//go:build cgo

package hotpath

import (
	"bytes"
	"testing"
)

// TestCgoMatchesGo: the C and the pure-Go implementations give identical
// bytes on the same inputs (table cases plus pseudo-random ones).
func TestCgoMatchesGo(t *testing.T) {
	inputs := [][]byte{
		nil,
		{0},
		{0xff, 0xff, 0xff},
		[]byte("123456789"),
		bytes.Repeat([]byte{1, 128, 254}, 24),
	}
	for _, in := range inputs {
		if c, g := CRC32Cgo(in), CRC32Go(in); c != g {
			t.Errorf("CRC32 of % x: C %08x, Go %08x", in, c, g)
		}
		if len(in)%3 != 0 {
			continue
		}
		for _, b := range []uint8{0, 1, 17, 128, 254, 255} {
			var dc, dg Dither
			oc, og := make([]byte, len(in)), make([]byte, len(in))
			for frame := 0; frame < 3; frame++ { // the carry must agree across frames too
				if err := RenderCgo(oc, in, b, &dc); err != nil {
					t.Fatal(err)
				}
				if err := RenderGo(og, in, b, &dg); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(oc, og) || dc != dg {
					t.Fatalf("render % x at %d frame %d: C % x %v, Go % x %v", in, b, frame, oc, dc, og, dg)
				}
			}
		}
	}
	n, err := CompareCgoWithGo(42, 500)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1000 {
		t.Errorf("compared %d cases, want 1000", n)
	}
}
