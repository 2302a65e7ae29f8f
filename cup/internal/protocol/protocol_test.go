package protocol

import (
	"bytes"
	"errors"
	"testing"

	"cupcross.dev/cup/internal/pixel"
)

func TestCOBSRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one zero", []byte{0}},
		{"two zeros", []byte{0, 0}},
		{"no zeros", []byte{1, 2, 3}},
		{"254 non-zero", bytes.Repeat([]byte{7}, 254)},
		{"255 non-zero", bytes.Repeat([]byte{7}, 255)},
		{"254 then zero", append(bytes.Repeat([]byte{7}, 254), 0)},
		{"1000 mixed", bytes.Repeat([]byte{0, 1, 2, 0xff}, 250)},
	}
	for _, tc := range tests {
		enc := cobsEncode(nil, tc.in)
		if bytes.IndexByte(enc, 0) >= 0 {
			t.Errorf("%s: encoding contains a zero: % x", tc.name, enc)
		}
		dec, err := cobsDecode(nil, enc)
		if err != nil || !bytes.Equal(dec, tc.in) {
			t.Errorf("%s: decode(encode(x)) = % x, %v; want % x", tc.name, dec, err, tc.in)
		}
	}
}

func TestCOBSKnownEncodings(t *testing.T) {
	// examples from the COBS paper / Wikipedia
	tests := []struct{ in, want []byte }{
		{[]byte{0x00}, []byte{0x01, 0x01}},
		{[]byte{0x00, 0x00}, []byte{0x01, 0x01, 0x01}},
		{[]byte{0x11, 0x22, 0x00, 0x33}, []byte{0x03, 0x11, 0x22, 0x02, 0x33}},
		{[]byte{0x11, 0x00, 0x00, 0x00}, []byte{0x02, 0x11, 0x01, 0x01, 0x01}},
	}
	for _, tc := range tests {
		if got := cobsEncode(nil, tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("cobsEncode(% x) = % x, want % x", tc.in, got, tc.want)
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	frames := []Frame{
		{Type: TypeHello, Seq: 0},
		{Type: TypeSetPattern, Seq: 1, Payload: SetPattern{pixel.Rainbow, pixel.RGB{R: 1, G: 0, B: 255}, 200, 50}.Marshal()},
		{Type: TypeSetPixels, Seq: 2, Payload: SetPixels{Start: 3, Pixels: []pixel.RGB{{R: 0, G: 0, B: 0}, {R: 9, G: 0, B: 0}}}.Marshal()},
		{Type: TypeTemp, Seq: 255, Payload: Temp{CentiCelsius: -1234}.Marshal()},
		{Type: TypeError, Seq: 9, Payload: ErrorReply{Code: 2, Message: "bad"}.Marshal()},
		{Type: TypePixels, Seq: 4, Payload: bytes.Repeat([]byte{0}, MaxPayload)},
	}
	for _, f := range frames {
		enc, err := Encode(f)
		if err != nil {
			t.Fatalf("Encode(%v): %v", f.Type, err)
		}
		if enc[len(enc)-1] != 0 || bytes.IndexByte(enc[1:len(enc)-1], 0) >= 0 {
			t.Fatalf("%v: delimiter misplaced in % x", f.Type, enc)
		}
		got, err := DecodePacket(enc[1 : len(enc)-1])
		if err != nil {
			t.Fatalf("DecodePacket(%v): %v", f.Type, err)
		}
		if got.Type != f.Type || got.Seq != f.Seq || !bytes.Equal(got.Payload, f.Payload) {
			t.Errorf("round trip of %v: got %+v", f.Type, got)
		}
	}
	if _, err := Encode(Frame{Type: TypeSetPixels, Payload: make([]byte, MaxPayload+1)}); err == nil {
		t.Error("Encode accepted a payload over MaxPayload")
	}
}

func TestDecodePacketErrors(t *testing.T) {
	good, _ := Encode(Frame{Type: TypeHello, Seq: 7})
	good = good[1 : len(good)-1]
	flipped := append([]byte(nil), good...)
	flipped[2] ^= 0x01
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"crc", flipped, ErrCRC},
		{"short", cobsEncode(nil, []byte{1, 2, 3}), ErrTooShort},
		{"long", bytes.Repeat([]byte{0xff}, maxEncoded+1), ErrTooLong},
		{"zero inside", []byte{0x03, 0x00, 0x01}, errCOBSZero},
		{"truncated", []byte{0x09, 0x01}, errCOBSTruncated},
	}
	for _, tc := range tests {
		if _, err := DecodePacket(tc.pkt); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecoderSurvivesNoise(t *testing.T) {
	var stream []byte
	var want []Frame
	noise := [][]byte{
		{0x13, 0x37, 0xff},               // garbage before the first frame
		{0x00, 0x00},                     // idle delimiters
		bytes.Repeat([]byte{0x55}, 5000), // a long burst without delimiter
		{0x00},
	}
	for i := 0; i < 20; i++ {
		f := Frame{Type: TypeSetPixels, Seq: uint8(i), Payload: SetPixels{Start: uint8(i), Pixels: []pixel.RGB{{R: uint8(i)}}}.Marshal()}
		want = append(want, f)
		enc, _ := Encode(f)
		stream = append(stream, noise[i%len(noise)]...)
		if i%5 == 4 { // a corrupted copy: dropped, not delivered
			bad := append([]byte(nil), enc...)
			bad[1] ^= 0x40
			stream = append(stream, bad...)
		}
		stream = append(stream, enc...)
	}
	// feed in odd-sized chunks so frames straddle Push calls
	var d Decoder
	var got []Frame
	for i := 0; i < len(stream); i += 7 {
		end := min(i+7, len(stream))
		got = append(got, d.Push(stream[i:end])...)
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d frames, want %d (dropped %d, last error %v)", len(got), len(want), d.Dropped, d.LastErr)
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Errorf("frame %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if d.Dropped == 0 {
		t.Error("no packets counted as dropped; the garbage should have been")
	}
}

func TestMessageParsers(t *testing.T) {
	sp := SetPattern{pixel.Comet, pixel.RGB{R: 10, G: 20, B: 30}, 99, 7}
	if got, err := ParseSetPattern(sp.Marshal()); err != nil || got != sp {
		t.Errorf("SetPattern round trip: %+v, %v", got, err)
	}
	hr := HelloReply{Protocol: Version, LEDs: 24, Firmware: "cup-sim 0.1.0"}
	if got, err := ParseHelloReply(hr.Marshal()); err != nil || got != hr {
		t.Errorf("HelloReply round trip: %+v, %v", got, err)
	}
	px := Pixels{Pixels: []pixel.RGB{{R: 1, G: 2, B: 3}, {R: 4, G: 5, B: 6}}}
	if got, err := ParsePixels(px.Marshal()); err != nil || len(got.Pixels) != 2 || got.Pixels[1] != px.Pixels[1] {
		t.Errorf("Pixels round trip: %+v, %v", got, err)
	}
	tm := Temp{CentiCelsius: 5821}
	if got, err := ParseTemp(tm.Marshal()); err != nil || got != tm || got.Celsius() != 58.21 {
		t.Errorf("Temp round trip: %+v, %v", got, err)
	}
	bad := []struct {
		name string
		fn   func() error
	}{
		{"set-pattern short", func() error { _, err := ParseSetPattern([]byte{1, 2}); return err }},
		{"set-pattern unknown", func() error { _, err := ParseSetPattern([]byte{99, 0, 0, 0, 0, 0}); return err }},
		{"set-pixels ragged", func() error { _, err := ParseSetPixels([]byte{0, 1, 2}); return err }},
		{"set-pixels empty", func() error { _, err := ParseSetPixels(nil); return err }},
		{"pixels count", func() error { _, err := ParsePixels([]byte{2, 1, 2, 3}); return err }},
		{"hello short", func() error { _, err := ParseHelloReply([]byte{1}); return err }},
		{"hello not utf8", func() error { _, err := ParseHelloReply([]byte{1, 2, 0xff, 0xfe}); return err }},
		{"temp long", func() error { _, err := ParseTemp([]byte{1, 2, 3}); return err }},
		{"error empty", func() error { _, err := ParseErrorReply(nil); return err }},
	}
	for _, tc := range bad {
		if tc.fn() == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
