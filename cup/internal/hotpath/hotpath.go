// Package hotpath is cup's hot path: CRC-32 for the wire protocol and the LED
// pixel pipeline (gamma, brightness, dithering over the ring).
//
// With cgo the work is done by hotpath.c, compiled for the target; without cgo
// by the pure-Go code in render_go.go. The pure-Go functions are always
// compiled (CRC32Go, RenderGo) so tests and `cup selftest` can check that both
// produce identical bytes.
package hotpath

import (
	"fmt"
	"hash/crc32"
)

// LEDBytes is the number of bytes per LED, both for input (R, G, B) and for
// the wire output (G, R, B).
const LEDBytes = 3

// Dither is the error-diffusion state of Render: the fraction (in 1/256 of an
// 8-bit step) that each colour channel still owes. It is carried from one LED
// to the next around the ring and from one frame to the next, so dim colours
// flicker between neighbouring levels instead of collapsing to black.
// The zero value is ready to use.
type Dither struct {
	Carry [3]uint16
}

// CRC32 returns the IEEE CRC-32 of b (the same value as hash/crc32.ChecksumIEEE).
func CRC32(b []byte) uint32 { return crc32Impl(b) }

// CRC32Go is the pure-Go CRC32 (the standard library's).
func CRC32Go(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// Render turns len(rgb)/3 LEDs of 8-bit R,G,B into wire bytes (G,R,B order) in
// dst: gamma correction, brightness scaling (0 = off, 255 = full), and
// dithering from 16 to 8 bits with d carrying the error.
func Render(dst, rgb []byte, brightness uint8, d *Dither) error {
	if err := checkRender(dst, rgb, d); err != nil {
		return err
	}
	renderImpl(dst, rgb, brightness, d)
	return nil
}

// RenderGo is Render done by the pure-Go implementation, whatever the build.
func RenderGo(dst, rgb []byte, brightness uint8, d *Dither) error {
	if err := checkRender(dst, rgb, d); err != nil {
		return err
	}
	renderGo(dst, rgb, brightness, d)
	return nil
}

func checkRender(dst, rgb []byte, d *Dither) error {
	if d == nil {
		return fmt.Errorf("hotpath: render: nil dither state")
	}
	if len(rgb)%LEDBytes != 0 {
		return fmt.Errorf("hotpath: render: input is %d bytes, not a multiple of %d (R,G,B per LED)", len(rgb), LEDBytes)
	}
	if len(dst) < len(rgb) {
		return fmt.Errorf("hotpath: render: output buffer is %d bytes, need %d", len(dst), len(rgb))
	}
	return nil
}
