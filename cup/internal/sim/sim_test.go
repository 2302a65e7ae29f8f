package sim

import (
	"bytes"
	"testing"
	"time"

	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
)

func TestHandle(t *testing.T) {
	d, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		req      protocol.Frame
		wantType protocol.Type
		wantCode uint8
	}{
		{"hello", protocol.Frame{Type: protocol.TypeHello, Seq: 1}, protocol.TypeHelloReply, 0},
		{"set-pattern", protocol.Frame{Type: protocol.TypeSetPattern, Seq: 2, Payload: []byte{1, 1, 2, 3, 255, 9}}, protocol.TypeAck, 0},
		{"set-pattern short", protocol.Frame{Type: protocol.TypeSetPattern, Seq: 3, Payload: []byte{1}}, protocol.TypeError, protocol.ErrCodeBadPayload},
		{"set-pattern unknown", protocol.Frame{Type: protocol.TypeSetPattern, Seq: 4, Payload: []byte{77, 0, 0, 0, 0, 0}}, protocol.TypeError, protocol.ErrCodeBadPayload},
		{"set-pixels in range", protocol.Frame{Type: protocol.TypeSetPixels, Seq: 5, Payload: []byte{7, 9, 9, 9}}, protocol.TypeAck, 0},
		{"set-pixels past end", protocol.Frame{Type: protocol.TypeSetPixels, Seq: 6, Payload: []byte{8, 9, 9, 9}}, protocol.TypeError, protocol.ErrCodeRange},
		{"set-pixels ragged", protocol.Frame{Type: protocol.TypeSetPixels, Seq: 7, Payload: []byte{0, 9}}, protocol.TypeError, protocol.ErrCodeBadPayload},
		{"read-temp", protocol.Frame{Type: protocol.TypeReadTemp, Seq: 8}, protocol.TypeTemp, 0},
		{"get-pixels", protocol.Frame{Type: protocol.TypeGetPixels, Seq: 9}, protocol.TypePixels, 0},
		{"unknown", protocol.Frame{Type: 0x42, Seq: 10}, protocol.TypeError, protocol.ErrCodeUnknownType},
	}
	for _, tc := range tests {
		got := d.Handle(tc.req)
		if got.Type != tc.wantType || got.Seq != tc.req.Seq {
			t.Errorf("%s: reply %v seq %d, want %v seq %d", tc.name, got.Type, got.Seq, tc.wantType, tc.req.Seq)
			continue
		}
		if tc.wantType == protocol.TypeError {
			er, err := protocol.ParseErrorReply(got.Payload)
			if err != nil || er.Code != tc.wantCode || er.Message == "" {
				t.Errorf("%s: error reply %+v %v, want code %d", tc.name, er, err, tc.wantCode)
			}
		}
	}
}

func TestTemperatureCools(t *testing.T) {
	d, _ := New(4)
	now := time.Unix(1000, 0)
	d.SetClock(func() time.Time { return now })
	hot := d.Temperature()
	now = now.Add(time.Hour)
	cold := d.Temperature()
	if hot < 6500 || hot > 7000 || cold >= hot || cold < 2200 {
		t.Fatalf("temperature %d then %d (centi-°C): want hot ~68 °C cooling towards 22 °C", hot, cold)
	}
}

func TestWireFollowsPattern(t *testing.T) {
	d, _ := New(2)
	d.Handle(protocol.Frame{Type: protocol.TypeSetPattern, Payload: protocol.SetPattern{Pattern: pixel.Solid, Color: pixel.RGB{R: 255}, Brightness: 255, Speed: 1}.Marshal()})
	d.Pixels()
	if w := d.Wire(); !bytes.Equal(w, []byte{0, 255, 0, 0, 255, 0}) {
		t.Fatalf("wire bytes for solid red = % x, want G,R,B = 00 ff 00 per LED", w)
	}
}

func TestServeSkipsGarbageAndReplies(t *testing.T) {
	d, _ := New(4)
	host := d.Pipe()
	defer host.Close()
	req, _ := protocol.Encode(protocol.Frame{Type: protocol.TypeHello, Seq: 5})
	go host.Write(append([]byte{0x99, 0x13, 0x00, 0x42}, req...))
	host.SetReadDeadline(time.Now().Add(2 * time.Second))
	var dec protocol.Decoder
	buf := make([]byte, 256)
	for {
		n, err := host.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if fs := dec.Push(buf[:n]); len(fs) > 0 {
			if fs[0].Type != protocol.TypeHelloReply || fs[0].Seq != 5 {
				t.Fatalf("reply %+v", fs[0])
			}
			return
		}
	}
}

func TestNewRejectsBadSizes(t *testing.T) {
	for _, n := range []int{0, -1, 256} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d) gave no error", n)
		}
	}
}
