package protocol

import (
	"bytes"
	"testing"
)

func seedFrames(f *testing.F) {
	for _, fr := range []Frame{
		{Type: TypeHello, Seq: 1},
		{Type: TypeSetPattern, Seq: 2, Payload: []byte{4, 255, 0, 0, 200, 50}},
		{Type: TypeTemp, Seq: 3, Payload: []byte{0x10, 0x27}},
	} {
		enc, _ := Encode(fr)
		f.Add(enc)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, 300))
}

// FuzzDecodePacket: any packet decodes or fails cleanly, and whatever decodes
// re-encodes to a frame that decodes the same.
func FuzzDecodePacket(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		fr, err := DecodePacket(pkt)
		if err != nil {
			return
		}
		enc, err := Encode(fr)
		if err != nil {
			t.Fatalf("decoded frame does not re-encode: %v", err)
		}
		again, err := DecodePacket(enc[1 : len(enc)-1])
		if err != nil || again.Type != fr.Type || again.Seq != fr.Seq || !bytes.Equal(again.Payload, fr.Payload) {
			t.Fatalf("re-decode differs: %+v vs %+v (%v)", again, fr, err)
		}
	})
}

// FuzzDecodeStream: the streaming decoder never panics, and a valid frame
// sent after any garbage and a delimiter is always recovered.
func FuzzDecodeStream(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, garbage []byte) {
		var d Decoder
		d.Push(garbage)
		want := Frame{Type: TypeAck, Seq: 42, Payload: []byte{byte(TypeHello)}}
		enc, _ := Encode(want)
		got := d.Push(enc)
		if len(got) == 0 {
			t.Fatalf("frame after garbage % x not recovered (dropped %d, %v)", garbage, d.Dropped, d.LastErr)
		}
		last := got[len(got)-1]
		if last.Type != want.Type || last.Seq != want.Seq || !bytes.Equal(last.Payload, want.Payload) {
			t.Fatalf("recovered %+v, want %+v", last, want)
		}
	})
}

// FuzzDecodeMessages: the payload parsers never panic on any payload.
func FuzzDecodeMessages(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6})
	f.Add([]byte{2, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseSetPattern(p)
		_, _ = ParseSetPixels(p)
		_, _ = ParsePixels(p)
		_, _ = ParseHelloReply(p)
		_, _ = ParseTemp(p)
		_, _ = ParseErrorReply(p)
	})
}
