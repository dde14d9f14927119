// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a worker sends the manager's thumbnail (app/vireo-thumb.c): whatever
 * the bytes and however they are split, the thumbnail never reads outside
 * them, stays within its box, maps every sample onto its surface, renders
 * opaque pixels of the size it says, and owes at most one ack, which the
 * worker can decode.
 *
 * Input: byte 0 picks the box and whether a valid HELLO comes first (to
 * get past the handshake), byte 1 the chunk size; the rest is the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "vireo-thumb.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const uint8_t hello[] = {
	0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,      /* HELLO, 8 bytes */
	0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,      /* 1.0, INLINE | FRAME_ACK */
};

static void check_state(struct vireo_thumb *t)
{
	if (t->samples) {
		CHECK(t->w >= 1 && t->h >= 1 && t->w <= t->box_w && t->h <= t->box_h);
		CHECK(t->w <= t->src_w && t->h <= t->src_h);
		CHECK(t->sw == t->w * VIREO_THUMB_SUPERSAMPLE && t->sh == t->h * VIREO_THUMB_SUPERSAMPLE);
		for (uint32_t j = 0; j < t->sw; j++)
			CHECK(t->col_src[j] < t->src_w && (j == 0 || t->col_src[j] >= t->col_src[j - 1]));
		for (uint32_t i = 0; i < t->sh; i++)
			CHECK(t->row_src[i] < t->src_h && (i == 0 || t->row_src[i] >= t->row_src[i - 1]));
	}
	CHECK(t->reader.len <= CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX);
	uint8_t ack[CONSOLE_HEADER_SIZE + 4];
	bool due = t->ack_due;
	long n = vireo_thumb_take_ack(t, ack, sizeof(ack));
	CHECK(due ? n == (long)sizeof(ack) : n == 0);
	if (n > 0) {
		struct console_frame f;
		struct console_msg m;
		CHECK(console_frame_parse(ack, (size_t)n, CONSOLE_FROM_VIEWER, &f) == 0);
		CHECK(console_msg_decode(&f, ack + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m) == 0);
		CHECK(m.type == CONSOLE_MSG_FRAME_DONE && m.frame_done.frame == t->ack_frame);
		CHECK(!t->ack_due);
	}
}

static void check_render(struct vireo_thumb *t)
{
	uint32_t w = 0, h = 0;
	bool had = t->samples != NULL;
	const uint8_t *px = vireo_thumb_render(t, &w, &h);
	CHECK((px != NULL) == had && !t->dirty);
	if (!px)
		return;
	CHECK(w == t->w && h == t->h);
	for (size_t i = 0; i < (size_t)w * h; i++)
		CHECK(px[i * 4 + 3] == 0xff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t box = 1 + (data[0] & 0x3f) * 8;
	bool greet = data[0] & 0x80;
	size_t chunk = 1 + data[1];
	data += 2;
	size -= 2;
	struct vireo_thumb t;
	CHECK(vireo_thumb_init(&t, box, box / 2 + 1) == 0);
	if (greet) {
		CHECK(vireo_thumb_feed(&t, hello, sizeof(hello)) == 0);
		CHECK(t.hello);
	}
	int end = 0;
	for (size_t off = 0; off < size && !end; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		/* A copy of exactly the chunk: reads past it are caught. */
		uint8_t *copy = malloc(n);
		CHECK(copy);
		memcpy(copy, data + off, n);
		end = vireo_thumb_feed(&t, copy, n);
		free(copy);
		CHECK(end >= 0 && end <= VIREO_THUMB_END_NOMEM);
		check_state(&t);
		if (t.dirty)
			check_render(&t);
	}
	if (end == VIREO_THUMB_END_ERROR)
		CHECK(strlen(t.error_text) <= CONSOLE_TEXT_MAX);
	vireo_thumb_clear(&t);
	return 0;
}
