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
