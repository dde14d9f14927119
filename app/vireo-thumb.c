// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vireo-thumb.h"

/* Our capabilities: pixels inline (the manager maps no guest memory) and
 * acks, so that the worker merges damage while we are not looking. */
#define VIREO_THUMB_CAPS (CONSOLE_CAP_INLINE_PIXELS | CONSOLE_CAP_FRAME_ACK)

static void vireo_thumb_drop_surface(struct vireo_thumb *t)
{
	free(t->col_src);
	free(t->row_src);
	free(t->samples);
	free(t->pixels);
	t->col_src = t->row_src = NULL;
	t->samples = t->pixels = NULL;
	t->src_w = t->src_h = t->w = t->h = t->sw = t->sh = 0;
}

int vireo_thumb_init(struct vireo_thumb *t, uint32_t box_w, uint32_t box_h)
{
	if (box_w == 0 || box_h == 0 || box_w > VIREO_THUMB_BOX_MAX_SIDE || box_h > VIREO_THUMB_BOX_MAX_SIDE)
		return -EINVAL;
	*t = (struct vireo_thumb){ .box_w = box_w, .box_h = box_h };
	console_reader_init(&t->reader, CONSOLE_FROM_WORKER);
	return 0;
}

void vireo_thumb_clear(struct vireo_thumb *t)
{
	vireo_thumb_drop_surface(t);
	console_reader_clear(&t->reader);
}

void vireo_thumb_fit(uint32_t src_w, uint32_t src_h, uint32_t box_w, uint32_t box_h, uint32_t *w, uint32_t *h)
{
	if (src_w <= box_w && src_h <= box_h) {
		*w = src_w;
		*h = src_h;
		return;
	}
	/* The side that hits the box first sets the scale; the other rounds. */
	if ((uint64_t)src_w * box_h >= (uint64_t)src_h * box_w) {
		*w = box_w;
		*h = (uint32_t)(((uint64_t)src_h * box_w + src_w / 2) / src_w);
	} else {
		*h = box_h;
		*w = (uint32_t)(((uint64_t)src_w * box_h + src_h / 2) / src_h);
	}
	if (*w == 0)
		*w = 1;
	if (*h == 0)
		*h = 1;
}

/* Surface coordinate of each of n samples across a side of src pixels:
 * the centre of the sample's share of the side. */
static uint32_t *vireo_thumb_sample_map(uint32_t n, uint32_t src)
{
	uint32_t *map = malloc((size_t)n * sizeof(*map));
	if (!map)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		map[i] = (uint32_t)(((2ull * i + 1) * src) / (2ull * n));
	return map;
}

static int vireo_thumb_new_surface(struct vireo_thumb *t, uint32_t src_w, uint32_t src_h)
{
	vireo_thumb_drop_surface(t);
	uint32_t w, h;
	vireo_thumb_fit(src_w, src_h, t->box_w, t->box_h, &w, &h);
	uint32_t sw = w * VIREO_THUMB_SUPERSAMPLE, sh = h * VIREO_THUMB_SUPERSAMPLE;
	t->col_src = vireo_thumb_sample_map(sw, src_w);
	t->row_src = vireo_thumb_sample_map(sh, src_h);
	/* Black until the worker sends pixels, as a screen that is on. */
	t->samples = calloc((size_t)sw * sh, 4);
	t->pixels = malloc((size_t)w * h * 4);
	if (!t->col_src || !t->row_src || !t->samples || !t->pixels) {
		vireo_thumb_drop_surface(t);
		return -ENOMEM;
	}
	t->src_w = src_w;
	t->src_h = src_h;
	t->w = w;
	t->h = h;
	t->sw = sw;
	t->sh = sh;
	return 0;
}

/* The first index whose value is at least v, in a nondecreasing map. */
static uint32_t vireo_thumb_lower_bound(const uint32_t *map, uint32_t n, uint32_t v)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (map[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool vireo_thumb_pixels(struct vireo_thumb *t, const struct console_msg *m)
{
	const struct console_rect *r = &m->pixels.r;
	/* Rectangles are checked against the protocol's limits by the codec;
	 * against this surface, here (a stale band after a resize, or a lie). */
	if (!t->samples || (uint64_t)r->x + r->w > t->src_w || (uint64_t)r->y + r->h > t->src_h)
		return false;
	uint32_t j0 = vireo_thumb_lower_bound(t->col_src, t->sw, r->x);
	uint32_t j1 = vireo_thumb_lower_bound(t->col_src, t->sw, r->x + r->w);
	uint32_t i0 = vireo_thumb_lower_bound(t->row_src, t->sh, r->y);
	uint32_t i1 = vireo_thumb_lower_bound(t->row_src, t->sh, r->y + r->h);
	for (uint32_t i = i0; i < i1; i++) {
		const uint8_t *src = m->pixels.data + (size_t)(t->row_src[i] - r->y) * m->pixels.stride;
		uint8_t *dst = t->samples + (size_t)i * t->sw * 4;
		for (uint32_t j = j0; j < j1; j++)
			memcpy(dst + (size_t)j * 4, src + (size_t)(t->col_src[j] - r->x) * 4, 4);
	}
	if (i0 < i1 && j0 < j1)
		t->dirty = true;
	return true;
}

static int vireo_thumb_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct vireo_thumb *t = opaque;
	t->msgs++;
	if (status < 0) {
		t->bad++;
		return 0;
	}
	if (!t->hello && m->type != CONSOLE_MSG_HELLO && m->type != CONSOLE_MSG_ERROR) {
		t->bad++;   /* the worker speaks first, with HELLO */
		return 0;
	}
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		if (t->hello) {
			t->bad++;
			return 0;
		}
		if (m->hello.major != CONSOLE_VERSION_MAJOR)
			return VIREO_THUMB_END_VERSION;
		t->hello = true;
		t->caps = m->hello.caps & VIREO_THUMB_CAPS;
		return 0;
	case CONSOLE_MSG_ERROR: {
		size_t n = m->error.text_len < CONSOLE_TEXT_MAX ? m->error.text_len : CONSOLE_TEXT_MAX;
		t->error_code = m->error.code;
		memcpy(t->error_text, m->error.text, n);
		t->error_text[n] = '\0';
		return VIREO_THUMB_END_ERROR;
	}
	case CONSOLE_MSG_SURFACE:
		t->surfaces++;
		t->dirty = true;
		if ((m->flags & CONSOLE_FLAG_FD) || !(t->caps & CONSOLE_CAP_INLINE_PIXELS)) {
			/* Shared memory we did not ask for: we show nothing rather
			 * than map what we were not offered inline. */
			t->shared_refused++;
			vireo_thumb_drop_surface(t);
			return 0;
		}
		return vireo_thumb_new_surface(t, m->surface.width, m->surface.height) < 0 ? VIREO_THUMB_END_NOMEM : 0;
	case CONSOLE_MSG_NO_SURFACE:
		vireo_thumb_drop_surface(t);
		t->dirty = true;
		return 0;
	case CONSOLE_MSG_PIXELS:
		t->pixel_msgs++;
		if (!vireo_thumb_pixels(t, m))
			t->bad++;
		return 0;
	case CONSOLE_MSG_DAMAGE:
		t->damages++;
		t->dirty = true;
		if (t->caps & CONSOLE_CAP_FRAME_ACK) {
			t->ack_due = true;
			t->ack_frame = m->damage.frame;
		}
		return 0;
	case CONSOLE_MSG_VM_STATE:
		t->vm_state = m->vm_state.state;
		return 0;
	case CONSOLE_MSG_CURSOR:
	case CONSOLE_MSG_CLIPBOARD:
		return 0;   /* a thumbnail draws neither */
	default:
		t->bad++;
		return 0;
	}
}

int vireo_thumb_feed(struct vireo_thumb *t, const uint8_t *data, size_t len)
{
	int r = console_reader_feed(&t->reader, data, len, vireo_thumb_on_msg, t);
	if (r == -ENOMEM)
		return VIREO_THUMB_END_NOMEM;
	if (r < 0)
		return VIREO_THUMB_END_FRAMING;
	return r;
}

long vireo_thumb_hello(uint8_t *buf, size_t size)
{
	struct console_msg m;
	console_msg_hello(&m, VIREO_THUMB_CAPS, VIREO_THUMB_PEER_NAME);
	return console_msg_encode(&m, buf, size);
}

long vireo_thumb_take_ack(struct vireo_thumb *t, uint8_t *buf, size_t size)
{
	if (!t->ack_due)
		return 0;
	struct console_msg m = { .type = CONSOLE_MSG_FRAME_DONE };
	m.frame_done.frame = t->ack_frame;
	long n = console_msg_encode(&m, buf, size);
	if (n > 0)
		t->ack_due = false;
	return n;
}

const uint8_t *vireo_thumb_render(struct vireo_thumb *t, uint32_t *w, uint32_t *h)
{
	t->dirty = false;
	if (!t->samples)
		return NULL;
	const uint32_t s = VIREO_THUMB_SUPERSAMPLE;
	for (uint32_t y = 0; y < t->h; y++) {
		for (uint32_t x = 0; x < t->w; x++) {
			unsigned sum[3] = { 0, 0, 0 };
			for (uint32_t dy = 0; dy < s; dy++) {
				const uint8_t *p = t->samples + (((size_t)(y * s + dy) * t->sw) + (size_t)x * s) * 4;
				for (uint32_t dx = 0; dx < s; dx++, p += 4) {
					sum[0] += p[0];
					sum[1] += p[1];
					sum[2] += p[2];
				}
			}
			uint8_t *o = t->pixels + ((size_t)y * t->w + x) * 4;
			for (int c = 0; c < 3; c++)
				o[c] = (uint8_t)((sum[c] + s * s / 2) / (s * s));
			o[3] = 0xff;
		}
	}
	*w = t->w;
	*h = t->h;
	return t->pixels;
}
