package hotpath

// wirePos is where channel c (0=R, 1=G, 2=B) goes in the G,R,B wire order.
var wirePos = [3]int{1, 0, 2}

// Gamma16 maps an 8-bit channel to 16 bits with a gamma of about 2.5 (the mean
// of x² and x³), in integer arithmetic so that C and Go agree exactly.
func Gamma16(x uint8) uint32 {
	a := uint64(x) * 257
	sq := a * a / 65535
	cu := sq * a / 65535
	return uint32((sq + cu) / 2)
}

func renderGo(dst, rgb []byte, brightness uint8, d *Dither) {
	n := len(rgb) / LEDBytes
	for led := 0; led < n; led++ {
		for c := 0; c < 3; c++ {
			v := Gamma16(rgb[led*3+c]) * uint32(brightness) / 255
			acc := v + uint32(d.Carry[c])
			out := acc >> 8
			if out > 255 {
				out = 255
			}
			d.Carry[c] = uint16(acc & 0xFF)
			dst[led*3+wirePos[c]] = byte(out)
		}
	}
}
