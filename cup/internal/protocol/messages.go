package protocol

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"cupcross.dev/cup/internal/pixel"
)

// MaxLEDs is the most LEDs a device may report (one byte of count).
const MaxLEDs = 255

// SetPattern asks the device to run an animation.
type SetPattern struct {
	Pattern    pixel.Pattern
	Color      pixel.RGB
	Brightness uint8
	Speed      uint8
}

// Marshal encodes the payload.
func (m SetPattern) Marshal() []byte {
	return []byte{byte(m.Pattern), m.Color.R, m.Color.G, m.Color.B, m.Brightness, m.Speed}
}

// ParseSetPattern decodes a set-pattern payload.
func ParseSetPattern(p []byte) (SetPattern, error) {
	if len(p) != 6 {
		return SetPattern{}, fmt.Errorf("protocol: set-pattern payload is %d bytes, want 6", len(p))
	}
	m := SetPattern{Pattern: pixel.Pattern(p[0]), Color: pixel.RGB{R: p[1], G: p[2], B: p[3]}, Brightness: p[4], Speed: p[5]}
	if !m.Pattern.Valid() {
		return SetPattern{}, fmt.Errorf("protocol: set-pattern: unknown pattern %d", p[0])
	}
	return m, nil
}

// SetPixels sets LEDs Start, Start+1, … to Pixels and switches to the custom pattern.
type SetPixels struct {
	Start  uint8
	Pixels []pixel.RGB
}

// Marshal encodes the payload.
func (m SetPixels) Marshal() []byte {
	b := make([]byte, 0, 1+3*len(m.Pixels))
	b = append(b, m.Start)
	for _, c := range m.Pixels {
		b = append(b, c.R, c.G, c.B)
	}
	return b
}

// ParseSetPixels decodes a set-pixels payload.
func ParseSetPixels(p []byte) (SetPixels, error) {
	if len(p) < 1 || (len(p)-1)%3 != 0 {
		return SetPixels{}, fmt.Errorf("protocol: set-pixels payload is %d bytes, want 1 + 3 per pixel", len(p))
	}
	return SetPixels{Start: p[0], Pixels: parseRGBs(p[1:])}, nil
}

func parseRGBs(p []byte) []pixel.RGB {
	px := make([]pixel.RGB, len(p)/3)
	for i := range px {
		px[i] = pixel.RGB{R: p[3*i], G: p[3*i+1], B: p[3*i+2]}
	}
	return px
}

// Pixels is the reply to get-pixels: what the ring shows now.
type Pixels struct {
	Pixels []pixel.RGB
}

// Marshal encodes the payload.
func (m Pixels) Marshal() []byte {
	b := make([]byte, 0, 1+3*len(m.Pixels))
	b = append(b, byte(len(m.Pixels)))
	for _, c := range m.Pixels {
		b = append(b, c.R, c.G, c.B)
	}
	return b
}

// ParsePixels decodes a pixels payload.
func ParsePixels(p []byte) (Pixels, error) {
	if len(p) < 1 || len(p) != 1+3*int(p[0]) {
		return Pixels{}, fmt.Errorf("protocol: pixels payload is %d bytes, inconsistent with its count", len(p))
	}
	return Pixels{Pixels: parseRGBs(p[1:])}, nil
}

// HelloReply tells the host what the device is.
type HelloReply struct {
	Protocol uint8
	LEDs     uint8
	Firmware string
}

// Marshal encodes the payload.
func (m HelloReply) Marshal() []byte {
	fw := m.Firmware
	if len(fw) > 64 {
		fw = fw[:64]
	}
	return append([]byte{m.Protocol, m.LEDs}, fw...)
}

// ParseHelloReply decodes a hello-reply payload.
func ParseHelloReply(p []byte) (HelloReply, error) {
	if len(p) < 2 {
		return HelloReply{}, fmt.Errorf("protocol: hello-reply payload is %d bytes, want at least 2", len(p))
	}
	if !utf8.Valid(p[2:]) {
		return HelloReply{}, fmt.Errorf("protocol: hello-reply firmware name is not UTF-8")
	}
	return HelloReply{Protocol: p[0], LEDs: p[1], Firmware: string(p[2:])}, nil
}

// Temp is the reply to read-temp: the mug's temperature in hundredths of a °C.
type Temp struct {
	CentiCelsius int16
}

// Celsius returns the temperature in °C.
func (m Temp) Celsius() float64 { return float64(m.CentiCelsius) / 100 }

// Marshal encodes the payload.
func (m Temp) Marshal() []byte { return binary.LittleEndian.AppendUint16(nil, uint16(m.CentiCelsius)) }

// ParseTemp decodes a temp payload.
func ParseTemp(p []byte) (Temp, error) {
	if len(p) != 2 {
		return Temp{}, fmt.Errorf("protocol: temp payload is %d bytes, want 2", len(p))
	}
	return Temp{CentiCelsius: int16(binary.LittleEndian.Uint16(p))}, nil
}

// Error codes of ErrorReply.
const (
	ErrCodeUnknownType = 1
	ErrCodeBadPayload  = 2
	ErrCodeRange       = 3
)

// ErrorReply is the device refusing a request.
type ErrorReply struct {
	Code    uint8
	Message string
}

func (e *ErrorReply) Error() string {
	return fmt.Sprintf("device error %d: %s", e.Code, e.Message)
}

// Marshal encodes the payload.
func (e ErrorReply) Marshal() []byte {
	msg := e.Message
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return append([]byte{e.Code}, msg...)
}

// ParseErrorReply decodes an error payload.
func ParseErrorReply(p []byte) (*ErrorReply, error) {
	if len(p) < 1 {
		return nil, fmt.Errorf("protocol: error payload is empty")
	}
	return &ErrorReply{Code: p[0], Message: string(p[1:])}, nil
}
