package hotpath

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrNoCgo is returned by CompareCgoWithGo in builds without cgo.
var ErrNoCgo = errors.New("hotpath: built without cgo: there is no C implementation to compare")

type impl struct {
	crc    func([]byte) uint32
	render func(dst, rgb []byte, brightness uint8, d *Dither) error
}

// rng is a tiny deterministic generator (xorshift64*), so every target checks
// the same inputs.
type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return x * 2685821657736338717
}

// CompareCgoWithGo feeds the C and the pure-Go implementations the same
// pseudo-random inputs (from seed) for the given number of rounds and reports
// the first difference. It returns the number of cases compared.
func CompareCgoWithGo(seed uint64, rounds int) (int, error) {
	if cImpl == nil {
		return 0, ErrNoCgo
	}
	return compare(cImpl, &impl{crc: CRC32Go, render: RenderGo}, seed, rounds)
}

func compare(a, b *impl, seed uint64, rounds int) (int, error) {
	if seed == 0 {
		seed = 0x9E3779B97F4A7C15
	}
	r := rng(seed)
	cases := 0
	var da, db Dither
	for i := 0; i < rounds; i++ {
		n := int(r.next() % 97)
		buf := make([]byte, n*LEDBytes)
		for j := range buf {
			buf[j] = byte(r.next())
		}
		if ca, cb := a.crc(buf), b.crc(buf); ca != cb {
			return cases, fmt.Errorf("crc32 of %d bytes (round %d): C %08x, Go %08x", len(buf), i, ca, cb)
		}
		cases++
		bright := uint8(r.next())
		if i%7 == 0 {
			bright = 255
		}
		oa, ob := make([]byte, len(buf)), make([]byte, len(buf))
		if err := a.render(oa, buf, bright, &da); err != nil {
			return cases, err
		}
		if err := b.render(ob, buf, bright, &db); err != nil {
			return cases, err
		}
		if !bytes.Equal(oa, ob) || da != db {
			return cases, fmt.Errorf("render of %d LEDs at brightness %d (round %d) differs: C % x carry %v, Go % x carry %v",
				n, bright, i, oa, da.Carry, ob, db.Carry)
		}
		cases++
	}
	return cases, nil
}
