//go:build !cgo

package hotpath

// CgoEnabled reports whether the C implementation is in use.
const CgoEnabled = false

func crc32Impl(b []byte) uint32 { return CRC32Go(b) }

func renderImpl(dst, rgb []byte, brightness uint8, d *Dither) { renderGo(dst, rgb, brightness, d) }

// cImpl is nil: there is no C implementation without cgo.
var cImpl *impl
