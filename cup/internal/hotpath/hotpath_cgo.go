//go:build cgo

package hotpath

/*
#cgo CFLAGS: -O2 -std=c99
#include "hotpath.h"
*/
import "C"

import "unsafe"

// CgoEnabled reports whether the C implementation is in use.
const CgoEnabled = true

func crc32Impl(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(C.cup_crc32((*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))))
}

func renderImpl(dst, rgb []byte, brightness uint8, d *Dither) {
	n := len(rgb) / LEDBytes
	if n == 0 {
		return
	}
	C.cup_render((*C.uint8_t)(unsafe.Pointer(&dst[0])), (*C.uint8_t)(unsafe.Pointer(&rgb[0])),
		C.size_t(n), C.uint8_t(brightness), (*C.uint16_t)(unsafe.Pointer(&d.Carry[0])))
}

// RenderCgo is Render done by the C implementation (only in cgo builds).
func RenderCgo(dst, rgb []byte, brightness uint8, d *Dither) error {
	if err := checkRender(dst, rgb, d); err != nil {
		return err
	}
	renderImpl(dst, rgb, brightness, d)
	return nil
}

// CRC32Cgo is CRC32 done by the C implementation (only in cgo builds).
func CRC32Cgo(b []byte) uint32 { return crc32Impl(b) }

var cImpl = &impl{crc: CRC32Cgo, render: RenderCgo}
