/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Little-endian fields of any width up to 8 bytes, at any alignment. */
#pragma once

#include <stdint.h>

static inline uint64_t le_get(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void le_put(uint8_t *p, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le16_get(const uint8_t *p) { return (uint16_t)le_get(p, 2); }
static inline uint32_t le32_get(const uint8_t *p) { return (uint32_t)le_get(p, 4); }
static inline uint64_t le64_get(const uint8_t *p) { return le_get(p, 8); }
static inline void le16_put(uint8_t *p, uint16_t v) { le_put(p, 2, v); }
static inline void le32_put(uint8_t *p, uint32_t v) { le_put(p, 4, v); }
static inline void le64_put(uint8_t *p, uint64_t v) { le_put(p, 8, v); }
