// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_shot.h"

#define SHOT_NAME "vireo-emuhost screenshot"

int emuhost_shot_init(struct emuhost_shot *s)
{
	*s = (struct emuhost_shot){ .state = EMUHOST_SHOT_WAITING };
	console_reader_init(&s->reader, CONSOLE_FROM_WORKER);
	struct console_msg m;
	/* No FRAME_ACK: the one frame it waits for needs no answer. */
	console_msg_hello(&m, CONSOLE_CAP_INLINE_PIXELS, SHOT_NAME);
	uint8_t out[CONSOLE_HEADER_SIZE + sizeof(struct console_wire_hello) + sizeof(SHOT_NAME)];
	long n = console_msg_encode(&m, out, sizeof(out));
	if (n < 0)
		return (int)n;
	return emuhost_buf_append(&s->to_worker, out, (size_t)n) < 0 ? -ENOMEM : 0;
}

void emuhost_shot_clear(struct emuhost_shot *s)
{
	console_reader_clear(&s->reader);
	emuhost_buf_free(&s->to_worker);
	free(s->pixels);
	s->pixels = NULL;
}

static int shot_fail(struct emuhost_shot *s, int e)
{
	s->state = EMUHOST_SHOT_FAILED;
	s->error = e;
	return e;
}

static int shot_surface(struct emuhost_shot *s, const struct console_msg *m)
{
	uint64_t size = (uint64_t)m->surface.width * m->surface.height * 4u;
	/* Inline, the worker passes no fd: a SURFACE that claims one is broken. */
	if (m->flags & CONSOLE_FLAG_FD)
		return shot_fail(s, -EPROTO);
	if (size > EMUHOST_SHOT_SURFACE_MAX)
		return shot_fail(s, -EFBIG);
	uint8_t *p = calloc(1, (size_t)size);
	if (!p)
		return shot_fail(s, -ENOMEM);
	free(s->pixels);
	s->pixels = p;
	s->width = m->surface.width;
	s->height = m->surface.height;
	return 0;
}

static void shot_pixels(struct emuhost_shot *s, const struct console_msg *m)
{
	const struct console_rect *r = &m->pixels.r;
	if (!s->pixels || (uint64_t)r->x + r->w > s->width || (uint64_t)r->y + r->h > s->height) {
		s->bad++;
		return;
	}
	size_t stride = (size_t)s->width * 4u;
	for (uint32_t y = 0; y < r->h; y++)
		memcpy(s->pixels + (size_t)(r->y + y) * stride + (size_t)r->x * 4u,
		       m->pixels.data + (size_t)y * m->pixels.stride, (size_t)r->w * 4u);
}

/* A DAMAGE that lists the whole surface: its PIXELS came before it. */
static bool shot_damage_whole(const struct emuhost_shot *s, const struct console_msg *m)
{
	for (uint32_t i = 0; i < m->damage.count; i++) {
		const struct console_rect *r = &m->damage.rects[i];
		if (r->x == 0 && r->y == 0 && r->w == s->width && r->h == s->height)
			return true;
	}
	return false;
}

static int shot_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct emuhost_shot *s = opaque;
	if (status < 0 || (!s->hello_seen && m->type != CONSOLE_MSG_HELLO && m->type != CONSOLE_MSG_ERROR)) {
		s->bad++;
		return 0;
	}
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		if (m->hello.major != CONSOLE_VERSION_MAJOR)
			return shot_fail(s, -EPROTONOSUPPORT);
		s->hello_seen = true;
		return 0;
	case CONSOLE_MSG_ERROR:
		/* The worker refused us (busy, ...) and closes. */
		return shot_fail(s, -ECONNREFUSED);
	case CONSOLE_MSG_NO_SURFACE:
		s->state = EMUHOST_SHOT_NO_PICTURE;
		return 1;
	case CONSOLE_MSG_SURFACE:
		return shot_surface(s, m);
	case CONSOLE_MSG_PIXELS:
		shot_pixels(s, m);
		return 0;
	case CONSOLE_MSG_DAMAGE:
		if (!s->pixels) {
			s->bad++;
			return 0;
		}
		if (!shot_damage_whole(s, m))
			return 0;
		s->state = EMUHOST_SHOT_DONE;
		return 1;
	default:
		return 0;   /* VM_STATE, CURSOR, CLIPBOARD: not part of the picture */
	}
}

enum emuhost_shot_state emuhost_shot_from_worker(struct emuhost_shot *s, const uint8_t *data, size_t len)
{
	if (s->state != EMUHOST_SHOT_WAITING || !len)
		return s->state;
	int e = console_reader_feed(&s->reader, data, len, shot_on_msg, s);
	if (e < 0 && s->state == EMUHOST_SHOT_WAITING)
		(void)shot_fail(s, e == -ENOMEM ? -ENOMEM : -EPROTO);
	return s->state;
}
