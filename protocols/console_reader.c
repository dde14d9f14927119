// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Frames out of a byte stream. The body buffer grows to the frame being
 * read and no further: its header was checked against the type's limit
 * before a byte of the body is kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

void console_reader_init(struct console_reader *r, enum console_sender from)
{
	*r = (struct console_reader){ .from = from };
}

void console_reader_clear(struct console_reader *r)
{
	free(r->buf);
	console_reader_init(r, r->from);
}

static int console_reader_reserve(struct console_reader *r, size_t want)
{
	if (r->cap >= want)
		return 0;
	size_t cap = r->cap ? r->cap : 256;
	while (cap < want)
		cap *= 2;
	uint8_t *b = realloc(r->buf, cap);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->cap = cap;
	return 0;
}

int console_reader_feed(struct console_reader *r, const uint8_t *data, size_t len, console_msg_fn fn, void *opaque)
{
	while (len > 0) {
		size_t want = r->len < CONSOLE_HEADER_SIZE ? CONSOLE_HEADER_SIZE
							   : CONSOLE_HEADER_SIZE + (size_t)r->frame.length;
		int e = console_reader_reserve(r, want);
		if (e < 0)
			return e;
		size_t take = want - r->len < len ? want - r->len : len;
		memcpy(r->buf + r->len, data, take);
		r->len += take;
		data += take;
		len -= take;
		if (r->len == CONSOLE_HEADER_SIZE && want == CONSOLE_HEADER_SIZE) {
			e = console_frame_parse(r->buf, r->len, r->from, &r->frame);
			if (e < 0)
				return e;
		}
		if (r->len < CONSOLE_HEADER_SIZE || r->len < CONSOLE_HEADER_SIZE + (size_t)r->frame.length)
			continue;
		struct console_msg m;
		struct console_frame f = r->frame;
		int status = console_msg_decode(&f, r->buf + CONSOLE_HEADER_SIZE, f.length, r->from, &m);
		r->len = 0;
		e = fn(opaque, status, &f, status == 0 ? &m : NULL);
		if (e)
			return e;
	}
	return 0;
}
