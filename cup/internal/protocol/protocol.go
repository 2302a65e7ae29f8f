// Package protocol is the wire protocol between cup and the coaster.
//
// A frame is
//
//	type (1 byte) | seq (1 byte) | payload (0..MaxPayload bytes) | CRC-32 IEEE of the above (4 bytes, little endian)
//
// COBS-encoded, with a 0x00 byte before and after it (the leading one ends
// any line noise that came before, so the frame is not glued to it). Requests carry a sequence
// number that the reply repeats. Integers are little endian.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"cupcross.dev/cup/internal/hotpath"
)

// Version is the protocol version reported in the hello reply.
const Version = 1

// MaxPayload is the largest payload a frame may carry.
const MaxPayload = 1024

// maxEncoded bounds one encoded frame: type, seq, payload, CRC, COBS overhead.
const maxEncoded = 2 + MaxPayload + 4 + (2+MaxPayload+4)/254 + 2

// Type identifies a frame. Requests have the high bit clear, replies set.
type Type uint8

// Frame types.
const (
	TypeHello      Type = 0x01 // request: no payload
	TypeSetPattern Type = 0x02 // request: SetPattern
	TypeSetPixels  Type = 0x03 // request: SetPixels
	TypeReadTemp   Type = 0x04 // request: no payload
	TypeGetPixels  Type = 0x05 // request: no payload

	TypeHelloReply Type = 0x81 // reply: HelloReply
	TypeAck        Type = 0x82 // reply: one byte, the type acknowledged
	TypeTemp       Type = 0x84 // reply: Temp
	TypePixels     Type = 0x85 // reply: Pixels
	TypeError      Type = 0xEE // reply: ErrorReply
)

var typeNames = map[Type]string{
	TypeHello: "hello", TypeSetPattern: "set-pattern", TypeSetPixels: "set-pixels",
	TypeReadTemp: "read-temp", TypeGetPixels: "get-pixels", TypeHelloReply: "hello-reply",
	TypeAck: "ack", TypeTemp: "temp", TypePixels: "pixels", TypeError: "error",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(0x%02x)", uint8(t))
}

// Frame is one decoded frame.
type Frame struct {
	Type    Type
	Seq     uint8
	Payload []byte
}

// Errors returned by the decoder.
var (
	ErrTooShort = errors.New("protocol: frame shorter than type+seq+CRC")
	ErrTooLong  = errors.New("protocol: frame longer than the maximum")
	ErrCRC      = errors.New("protocol: CRC mismatch (line noise?)")
)

// AppendFrame appends the encoded frame, delimiters included, to dst.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	if len(f.Payload) > MaxPayload {
		return dst, fmt.Errorf("protocol: %s payload is %d bytes, the maximum is %d", f.Type, len(f.Payload), MaxPayload)
	}
	raw := make([]byte, 0, 2+len(f.Payload)+4)
	raw = append(raw, byte(f.Type), f.Seq)
	raw = append(raw, f.Payload...)
	raw = binary.LittleEndian.AppendUint32(raw, hotpath.CRC32(raw))
	dst = append(dst, 0)
	dst = cobsEncode(dst, raw)
	return append(dst, 0), nil
}

// Encode returns the encoded frame, delimiters included.
func Encode(f Frame) ([]byte, error) { return AppendFrame(nil, f) }

// DecodePacket decodes one COBS packet (the bytes between two 0x00
// delimiters) into a frame. It never panics, whatever the input.
func DecodePacket(pkt []byte) (Frame, error) {
	if len(pkt) > maxEncoded {
		return Frame{}, ErrTooLong
	}
	raw, err := cobsDecode(make([]byte, 0, len(pkt)), pkt)
	if err != nil {
		return Frame{}, fmt.Errorf("protocol: %w", err)
	}
	if len(raw) < 6 {
		return Frame{}, ErrTooShort
	}
	if len(raw)-6 > MaxPayload {
		return Frame{}, ErrTooLong
	}
	body, sum := raw[:len(raw)-4], binary.LittleEndian.Uint32(raw[len(raw)-4:])
	if hotpath.CRC32(body) != sum {
		return Frame{}, ErrCRC
	}
	return Frame{Type: Type(body[0]), Seq: body[1], Payload: body[2:]}, nil
}

// Decoder splits a byte stream into frames. Garbage between frames, frames
// with a bad CRC and over-long runs without a delimiter are dropped and
// counted; the decoder resynchronises on the next 0x00.
type Decoder struct {
	buf      []byte
	skipping bool // dropping an over-long packet until the next delimiter

	Dropped int   // packets dropped so far
	LastErr error // why the last packet was dropped
}

// Push feeds bytes from the line and returns the frames completed by them.
func (d *Decoder) Push(p []byte) []Frame {
	var out []Frame
	for _, b := range p {
		if b != 0 {
			if d.skipping {
				continue
			}
			if len(d.buf) >= maxEncoded {
				d.buf = d.buf[:0]
				d.skipping = true
				d.drop(ErrTooLong)
				continue
			}
			d.buf = append(d.buf, b)
			continue
		}
		if d.skipping {
			d.skipping = false
			continue
		}
		if len(d.buf) == 0 { // back-to-back delimiters: idle line
			continue
		}
		f, err := DecodePacket(d.buf)
		d.buf = d.buf[:0]
		if err != nil {
			d.drop(err)
			continue
		}
		out = append(out, f)
	}
	return out
}

func (d *Decoder) drop(err error) {
	d.Dropped++
	d.LastErr = err
}
