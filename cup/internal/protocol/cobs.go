package protocol

import "errors"

// COBS (Consistent Overhead Byte Stuffing) removes every 0x00 from a packet so
// that 0x00 can mark the end of each frame on the line. After line noise the
// receiver simply waits for the next 0x00 and is back in sync.

var (
	errCOBSZero      = errors.New("cobs: zero byte inside an encoded packet")
	errCOBSTruncated = errors.New("cobs: code byte points past the end of the packet")
)

// cobsEncode appends the COBS encoding of src to dst (without the 0x00 delimiter).
func cobsEncode(dst, src []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for _, b := range src {
		if b == 0 {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
			continue
		}
		dst = append(dst, b)
		code++
		if code == 0xFF {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
		}
	}
	dst[codeAt] = code
	return dst
}

// cobsDecode appends the decoding of one COBS packet src (without delimiter) to dst.
func cobsDecode(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); {
		code := src[i]
		if code == 0 {
			return dst, errCOBSZero
		}
		i++
		end := i + int(code) - 1
		if end > len(src) {
			return dst, errCOBSTruncated
		}
		for _, b := range src[i:end] {
			if b == 0 {
				return dst, errCOBSZero
			}
		}
		dst = append(dst, src[i:end]...)
		i = end
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}
