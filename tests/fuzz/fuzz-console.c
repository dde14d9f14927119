// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a viewer sends the worker (protocols/console_reader.c and
 * console_msg.c): whatever the bytes and however they are split, the
 * reader never reads outside them nor keeps more than one frame; a frame
 * it refuses stops it for good; every message it accepts is within the
 * protocol's ranges and encodes back to the very bytes it came from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_msg(const struct console_msg *m)
{
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		CHECK(m->hello.name_len <= CONSOLE_NAME_MAX);
		CHECK(console_text_valid(m->hello.name, m->hello.name_len));
		break;
	case CONSOLE_MSG_CLIPBOARD:
		CHECK(m->clipboard.format == CONSOLE_CLIPBOARD_TEXT && m->clipboard.len <= CONSOLE_CLIPBOARD_MAX);
		CHECK(console_text_valid(m->clipboard.text, m->clipboard.len));
		break;
	case CONSOLE_MSG_ERROR:
		CHECK(m->error.text_len <= CONSOLE_TEXT_MAX && console_text_valid(m->error.text, m->error.text_len));
		break;
	case CONSOLE_MSG_KEY:
		CHECK(m->key.code >= 1 && m->key.code <= CONSOLE_KEY_CODE_MAX);
		break;
	case CONSOLE_MSG_POINTER:
		CHECK(m->pointer.x < CONSOLE_SIDE_MAX && m->pointer.y < CONSOLE_SIDE_MAX);
		CHECK(!(m->pointer.buttons & ~CONSOLE_BUTTONS_ALL));
		CHECK(abs(m->pointer.wheel) <= CONSOLE_WHEEL_MAX && abs(m->pointer.hwheel) <= CONSOLE_WHEEL_MAX);
		break;
	case CONSOLE_MSG_FRAME_DONE:
		break;
	default:
		/* Only what a viewer may send comes out of a viewer's stream. */
		abort();
	}
}

struct feed {
	const struct console_reader *r;   /* its buffer still holds the frame during the callback */
	size_t fed;                       /* bytes given to the reader so far */
	unsigned messages;
};

static int on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct feed *fd = opaque;
	fd->messages++;
	CHECK(f->length <= CONSOLE_BODY_MAX);
	CHECK(status == 0 || status == -ENOMSG || status == -EBADMSG || status == -EINVAL || status == -EILSEQ);
	if (status != 0) {
		CHECK(m == NULL);
		return 0;
	}
	check_msg(m);
	/* The decoded message is the frame, byte for byte. */
	size_t size = console_msg_size(m);
	CHECK(size == CONSOLE_HEADER_SIZE + f->length);
	uint8_t *out = malloc(size);
	CHECK(out);
	CHECK(console_msg_encode(m, out, size) == (long)size);
	CHECK(memcmp(out, fd->r->buf, size) == 0);
	free(out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte picks how the stream is cut into reads. */
	size_t chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	struct console_reader r;
	console_reader_init(&r, CONSOLE_FROM_VIEWER);
	struct feed fd = { .r = &r };
	int status = 0;
	while (fd.fed < size) {
		size_t n = chunk == 17 ? size - fd.fed : (chunk < size - fd.fed ? chunk : size - fd.fed);
		/* Each read in a buffer of exactly its size. */
		uint8_t *piece = malloc(n);
		CHECK(piece);
		memcpy(piece, data + fd.fed, n);
		status = console_reader_feed(&r, piece, n, on_msg, &fd);
		free(piece);
		fd.fed += n;
		CHECK(status == 0 || status == -EMSGSIZE || status == -EPROTO);
		CHECK(r.len <= CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX);
		if (status)
			break;
	}
	console_reader_clear(&r);
	return 0;
}
