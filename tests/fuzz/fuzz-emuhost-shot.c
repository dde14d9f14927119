// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the worker inside the emulated host sends the picture vireo-emuhost
 * takes for "screenshot PATH" (backend/worker/emuhost_shot.c): a console
 * stream out of L1. Whatever the bytes and however they are split: no read
 * or write outside them or the picture, a finished picture within its
 * limit, and nothing taken once the state is final.
 *
 * Input: byte 0 picks the chunk size; the rest is the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "emuhost_shot.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] * 97u + 1u;
	data++;
	size--;
	struct emuhost_shot s;
	CHECK(emuhost_shot_init(&s) == 0);
	enum emuhost_shot_state st = EMUHOST_SHOT_WAITING;
	for (size_t i = 0; i < size; i += chunk) {
		enum emuhost_shot_state prev = st;
		st = emuhost_shot_from_worker(&s, data + i, size - i < chunk ? size - i : chunk);
		/* A final state stays. */
		CHECK(prev == EMUHOST_SHOT_WAITING || st == prev);
	}
	if (st == EMUHOST_SHOT_DONE) {
		CHECK(s.pixels && s.width && s.height);
		CHECK((uint64_t)s.width * s.height * 4u <= EMUHOST_SHOT_SURFACE_MAX);
		/* Every byte of the picture is there to read. */
		uint8_t acc = 0;
		for (size_t i = 0; i < (size_t)s.width * s.height * 4u; i += 4093)
			acc ^= s.pixels[i];
		acc ^= s.pixels[(size_t)s.width * s.height * 4u - 1];
		(void)acc;
	}
	CHECK(st != EMUHOST_SHOT_FAILED || s.error < 0);
	emuhost_shot_clear(&s);
	return 0;
}
