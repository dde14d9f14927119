/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fuzz targets' reader of their input: bytes taken in order, zeros
 * once it runs out (so every input, however short, is a whole test case).
 * Multi-byte values are little-endian, read one byte after the other in a
 * defined order (not inside one expression, where C leaves it open).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t in_u8(struct fuzz_input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint64_t in_le(struct fuzz_input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && i < 8; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

static inline uint16_t in_u16(struct fuzz_input *in)
{
	return (uint16_t)in_le(in, 2);
}

static inline uint32_t in_u32(struct fuzz_input *in)
{
	return (uint32_t)in_le(in, 4);
}

static inline uint64_t in_u64(struct fuzz_input *in)
{
	return in_le(in, 8);
}
