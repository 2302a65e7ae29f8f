//go:build cgo

/*
 * cup's hot path in C: CRC-32 (IEEE, reflected 0xEDB88320) and the LED pixel
 * pipeline. render_go.go is the reference; TestCgoMatchesGo checks both agree
 * byte for byte. Only integer arithmetic is used so that every target and both
 * languages give the same bytes (no libm, no floating point rounding).
 */
#include "hotpath.h"

/* CRC-32 nibble table: crc_nibble[i] = CRC of the 4-bit value i. */
static const uint32_t crc_nibble[16] = {
	0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
	0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
	0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
	0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t cup_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 0x0F];
		crc = (crc >> 4) ^ crc_nibble[crc & 0x0F];
	}
	return crc ^ 0xFFFFFFFFu;
}

/* gamma16 maps an 8-bit channel to 16 bits with gamma ~2.5: the mean of x^2 and x^3. */
static uint32_t gamma16(uint8_t x)
{
	uint64_t a = (uint64_t)x * 257u;
	uint64_t sq = a * a / 65535u;
	uint64_t cu = sq * a / 65535u;
	return (uint32_t)((sq + cu) / 2u);
}

void cup_render(uint8_t *dst, const uint8_t *rgb, size_t n, uint8_t brightness, uint16_t carry[3])
{
	/* wire order of WS2812-style LEDs is G, R, B */
	static const int wire_pos[3] = {1, 0, 2};
	for (size_t led = 0; led < n; led++) {
		for (int c = 0; c < 3; c++) {
			uint32_t v = gamma16(rgb[led * 3 + c]) * (uint32_t)brightness / 255u;
			uint32_t acc = v + carry[c];
			uint32_t out = acc >> 8;
			if (out > 255u) {
				out = 255u;
			}
			carry[c] = (uint16_t)(acc & 0xFFu);
			dst[led * 3 + wire_pos[c]] = (uint8_t)out;
		}
	}
}
