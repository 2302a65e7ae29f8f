//go:build cgo

/* The C half of cup's hot path; see hotpath.go for the contract. */
#ifndef CUP_HOTPATH_H
#define CUP_HOTPATH_H

#include <stddef.h>
#include <stdint.h>

uint32_t cup_crc32(const uint8_t *p, size_t n);
void cup_render(uint8_t *dst, const uint8_t *rgb, size_t n, uint8_t brightness, uint16_t carry[3]);

#endif
