// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manager's thumbnail (app/vireo-thumb.c) fed what a worker sends on
 * its console socket: a session as the worker speaks it, pictures checked
 * pixel by pixel against the sampling rule (the centre of each sample's
 * share of the screen, SUPERSAMPLE² samples averaged), and every kind of
 * bad input: messages out of order, pixels off the surface, shared memory
 * we did not ask for, another major version, an ERROR, broken framing,
 * viewer-only and unknown types, wrong body sizes, bytes split anywhere.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "console.h"
#include "vireo-thumb.h"

#define BOX_W 320u
#define BOX_H 240u

/* ---- what a worker sends ---- */

static void put_msg(GByteArray *out, const struct console_msg *m)
{
	size_t size = console_msg_size(m);
	g_assert_cmpuint(size, >, 0);
	guint old = out->len;
	g_byte_array_set_size(out, old + (guint)size);
	g_assert_cmpint(console_msg_encode(m, out->data + old, size), ==, (long)size);
}

static void put_hello(GByteArray *out, uint16_t major, uint32_t caps)
{
	struct console_msg m = { .type = CONSOLE_MSG_HELLO };
	m.hello.major = major;
	m.hello.minor = 0;
	m.hello.caps = caps;
	m.hello.name = "test worker";
	m.hello.name_len = strlen("test worker");
	/* The encoder takes any version: a worker may speak another. */
	put_msg(out, &m);
}

static void put_surface(GByteArray *out, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE };
	m.surface.width = w;
	m.surface.height = h;
	m.surface.stride = w * 4;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	m.surface.offset = 0;
	m.surface.size = (uint64_t)w * 4 * h;
	put_msg(out, &m);
}

static void put_damage(GByteArray *out, uint32_t frame, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_DAMAGE };
	m.damage.frame = frame;
	m.damage.count = 1;
	m.damage.rects[0] = (struct console_rect){ x, y, w, h };
	put_msg(out, &m);
}

/* The test picture: every pixel different enough to catch a wrong sample. */
static void pattern(uint32_t x, uint32_t y, uint32_t seed, uint8_t px[4])
{
	px[0] = (uint8_t)(x * 7 + seed);
	px[1] = (uint8_t)(y * 5 + seed * 3);
	px[2] = (uint8_t)((x ^ y) + seed);
	px[3] = 0;
}

/* PIXELS for a rectangle of the pattern, in bands as a worker sends them. */
static void put_pixels(GByteArray *out, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t seed)
{
	uint32_t rows = CONSOLE_PIXELS_MAX / (w * 4);
	for (uint32_t y = y0; y < y0 + h; y += rows) {
		uint32_t bh = MIN(rows, y0 + h - y);
		g_autofree uint8_t *data = g_malloc((size_t)w * bh * 4);
		for (uint32_t r = 0; r < bh; r++)
			for (uint32_t c = 0; c < w; c++)
				pattern(x0 + c, y + r, seed, data + ((size_t)r * w + c) * 4);
		struct console_msg m = { .type = CONSOLE_MSG_PIXELS };
		m.pixels.r = (struct console_rect){ x0, y, w, bh };
		m.pixels.data = data;
		m.pixels.stride = w * 4;
		put_msg(out, &m);
	}
}

/* A raw frame, for what the encoder would refuse to make. */
static void put_raw(GByteArray *out, uint16_t type, uint16_t flags, const void *body, uint32_t len)
{
	uint8_t h[CONSOLE_HEADER_SIZE] = { type & 0xff, type >> 8, flags & 0xff, flags >> 8,
					   len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };
	g_byte_array_append(out, h, sizeof(h));
	if (body)   /* NULL: the header alone, to see what becomes of it */
		g_byte_array_append(out, body, len);
}

static void thumb_start(struct vireo_thumb *t, uint32_t caps)
{
	g_assert_cmpint(vireo_thumb_init(t, BOX_W, BOX_H), ==, 0);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_hello(b, CONSOLE_VERSION_MAJOR, caps);
	g_assert_cmpint(vireo_thumb_feed(t, b->data, b->len), ==, 0);
	g_assert_true(t->hello);
}

static void feed_ok(struct vireo_thumb *t, GByteArray *b)
{
	g_assert_cmpint(vireo_thumb_feed(t, b->data, b->len), ==, 0);
}

/* The expected thumbnail pixel (x, y) of a src_w × src_h pattern. */
static void expected_pixel(uint32_t src_w, uint32_t src_h, uint32_t tw, uint32_t th, uint32_t x, uint32_t y,
			   uint32_t seed, uint8_t out[4])
{
	const uint32_t s = VIREO_THUMB_SUPERSAMPLE;
	unsigned sum[3] = { 0 };
	for (uint32_t dy = 0; dy < s; dy++)
		for (uint32_t dx = 0; dx < s; dx++) {
			uint64_t j = (uint64_t)x * s + dx, i = (uint64_t)y * s + dy;
			uint32_t sx = (uint32_t)(((2 * j + 1) * src_w) / (2ull * tw * s));
			uint32_t sy = (uint32_t)(((2 * i + 1) * src_h) / (2ull * th * s));
			uint8_t p[4];
			pattern(sx, sy, seed, p);
			for (int c = 0; c < 3; c++)
				sum[c] += p[c];
		}
	for (int c = 0; c < 3; c++)
		out[c] = (uint8_t)((sum[c] + s * s / 2) / (s * s));
	out[3] = 0xff;
}

static void assert_picture(struct vireo_thumb *t, uint32_t src_w, uint32_t src_h, uint32_t seed)
{
	uint32_t w = 0, h = 0;
	const uint8_t *px = vireo_thumb_render(t, &w, &h);
	g_assert_nonnull(px);
	uint32_t ew, eh;
	vireo_thumb_fit(src_w, src_h, BOX_W, BOX_H, &ew, &eh);
	g_assert_cmpuint(w, ==, ew);
	g_assert_cmpuint(h, ==, eh);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t want[4];
			expected_pixel(src_w, src_h, w, h, x, y, seed, want);
			if (memcmp(px + ((size_t)y * w + x) * 4, want, 4) != 0)
				g_error("pixel %u,%u of %ux%u: %02x%02x%02x%02x, want %02x%02x%02x%02x", x, y, w, h,
					px[(y * w + x) * 4], px[(y * w + x) * 4 + 1], px[(y * w + x) * 4 + 2],
					px[(y * w + x) * 4 + 3], want[0], want[1], want[2], want[3]);
		}
}

/* ---- tests ---- */

static void test_fit(void)
{
	static const struct {
		uint32_t sw, sh, w, h;
	} cases[] = {
		{ 1024, 768, 320, 240 }, { 1920, 1080, 320, 180 }, { 1280, 1024, 300, 240 },
		{ 640, 480, 320, 240 },  { 200, 100, 200, 100 },   { 320, 240, 320, 240 },
		{ 8192, 1, 320, 1 },     { 1, 8192, 1, 240 },      { 8192, 8192, 240, 240 },
		{ 3840, 2160, 320, 180 }, { 1, 1, 1, 1 },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint32_t w, h;
		vireo_thumb_fit(cases[i].sw, cases[i].sh, BOX_W, BOX_H, &w, &h);
		g_assert_cmpuint(w, ==, cases[i].w);
		g_assert_cmpuint(h, ==, cases[i].h);
	}
}

static void test_init_limits(void)
{
	struct vireo_thumb t;
	g_assert_cmpint(vireo_thumb_init(&t, 0, 10), ==, -EINVAL);
	g_assert_cmpint(vireo_thumb_init(&t, 10, 0), ==, -EINVAL);
	g_assert_cmpint(vireo_thumb_init(&t, VIREO_THUMB_BOX_MAX_SIDE + 1, 10), ==, -EINVAL);
	g_assert_cmpint(vireo_thumb_init(&t, VIREO_THUMB_BOX_MAX_SIDE, VIREO_THUMB_BOX_MAX_SIDE), ==, 0);
	vireo_thumb_clear(&t);
}

/* Our HELLO as the worker decodes it. */
static void test_hello(void)
{
	uint8_t buf[128];
	long n = vireo_thumb_hello(buf, sizeof(buf));
	g_assert_cmpint(n, >, (long)CONSOLE_HEADER_SIZE);
	struct console_frame f;
	g_assert_cmpint(console_frame_parse(buf, (size_t)n, CONSOLE_FROM_VIEWER, &f), ==, 0);
	struct console_msg m;
	g_assert_cmpint(console_msg_decode(&f, buf + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, CONSOLE_MSG_HELLO);
	g_assert_cmpuint(m.hello.major, ==, CONSOLE_VERSION_MAJOR);
	g_assert_cmpuint(m.hello.caps, ==, CONSOLE_CAP_INLINE_PIXELS | CONSOLE_CAP_FRAME_ACK);
	g_assert_cmpmem(m.hello.name, m.hello.name_len, VIREO_THUMB_PEER_NAME, strlen(VIREO_THUMB_PEER_NAME));
	g_assert_cmpint(vireo_thumb_hello(buf, 4), ==, -ENOSPC);
}

/* A session: surface, pixels in bands, damage; the ack after the render. */
static void test_session_downscaled(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_surface(b, 1280, 960);
	put_pixels(b, 0, 0, 1280, 960, 1);
	put_damage(b, 1, 0, 0, 1280, 960);
	feed_ok(&t, b);
	g_assert_true(t.dirty);
	g_assert_true(t.ack_due);
	g_assert_cmpuint(t.bad, ==, 0);
	assert_picture(&t, 1280, 960, 1);
	g_assert_false(t.dirty);

	uint8_t ack[32];
	long n = vireo_thumb_take_ack(&t, ack, sizeof(ack));
	g_assert_cmpint(n, ==, CONSOLE_HEADER_SIZE + 4);
	struct console_frame f;
	struct console_msg m;
	g_assert_cmpint(console_frame_parse(ack, (size_t)n, CONSOLE_FROM_VIEWER, &f), ==, 0);
	g_assert_cmpint(console_msg_decode(&f, ack + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, CONSOLE_MSG_FRAME_DONE);
	g_assert_cmpuint(m.frame_done.frame, ==, 1);
	g_assert_cmpint(vireo_thumb_take_ack(&t, ack, sizeof(ack)), ==, 0);

	/* A damaged rectangle changes only what it covers. */
	g_byte_array_set_size(b, 0);
	put_pixels(b, 0, 0, 1280, 960, 1);   /* the same picture... */
	put_pixels(b, 640, 480, 640, 480, 9);   /* ...but a quarter anew */
	put_damage(b, 2, 640, 480, 640, 480);
	feed_ok(&t, b);
	uint32_t w, h;
	const uint8_t *px = vireo_thumb_render(&t, &w, &h);
	uint8_t want[4];
	expected_pixel(1280, 960, w, h, 10, 10, 1, want);
	g_assert_cmpmem(px + (10 * w + 10) * 4, 4, want, 4);
	expected_pixel(1280, 960, w, h, w - 1, h - 1, 9, want);
	g_assert_cmpmem(px + ((h - 1) * w + w - 1) * 4, 4, want, 4);
	g_assert_cmpint(vireo_thumb_take_ack(&t, ack, sizeof(ack)), >, 0);
	g_assert_cmpint(console_frame_parse(ack, sizeof(ack), CONSOLE_FROM_VIEWER, &f), ==, 0);
	g_assert_cmpint(console_msg_decode(&f, ack + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.frame_done.frame, ==, 2);
	vireo_thumb_clear(&t);
}

/* A screen that fits the box is shown as it is, pixel for pixel. */
static void test_session_exact(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_surface(b, 200, 100);
	put_pixels(b, 0, 0, 200, 100, 4);
	put_damage(b, 1, 0, 0, 200, 100);
	feed_ok(&t, b);
	uint32_t w, h;
	const uint8_t *px = vireo_thumb_render(&t, &w, &h);
	g_assert_cmpuint(w, ==, 200);
	g_assert_cmpuint(h, ==, 100);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t p[4];
			pattern(x, y, 4, p);
			p[3] = 0xff;
			g_assert_cmpmem(px + (y * w + x) * 4, 4, p, 4);
		}
	vireo_thumb_clear(&t);
}

/* However the bytes are split, the picture is the same. */
static void test_split_anywhere(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_hello(b, CONSOLE_VERSION_MAJOR, CONSOLE_CAPS_KNOWN);
	put_surface(b, 64, 48);
	put_pixels(b, 0, 0, 64, 48, 7);
	put_damage(b, 1, 0, 0, 64, 48);
	struct vireo_thumb t;
	g_assert_cmpint(vireo_thumb_init(&t, BOX_W, BOX_H), ==, 0);
	for (guint i = 0; i < b->len; i++)
		g_assert_cmpint(vireo_thumb_feed(&t, b->data + i, 1), ==, 0);
	g_assert_cmpuint(t.bad, ==, 0);
	assert_picture(&t, 64, 48, 7);
	g_assert_true(t.ack_due);
	vireo_thumb_clear(&t);
}

/* A new surface (the guest changed mode): a new size, black until drawn. */
static void test_resize_and_no_surface(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_surface(b, 640, 480);
	put_pixels(b, 0, 0, 640, 480, 2);
	feed_ok(&t, b);
	assert_picture(&t, 640, 480, 2);
	g_byte_array_set_size(b, 0);
	put_surface(b, 1920, 1080);
	feed_ok(&t, b);
	uint32_t w, h;
	const uint8_t *px = vireo_thumb_render(&t, &w, &h);
	g_assert_cmpuint(w, ==, 320);
	g_assert_cmpuint(h, ==, 180);
	for (uint32_t i = 0; i < w * h; i++) {
		static const uint8_t black[4] = { 0, 0, 0, 0xff };
		g_assert_cmpmem(px + i * 4, 4, black, 4);
	}
	/* A band one pixel past the new right edge is off the surface. */
	g_byte_array_set_size(b, 0);
	put_pixels(b, 1900, 0, 21, 1, 3);
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 1);
	g_byte_array_set_size(b, 0);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, 0, NULL, 0);
	feed_ok(&t, b);
	g_assert_true(t.dirty);
	g_assert_null(vireo_thumb_render(&t, &w, &h));
	g_assert_cmpuint(t.surfaces, ==, 2);
	vireo_thumb_clear(&t);
}

static void test_pixels_off_surface(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	/* Before any surface. */
	put_pixels(b, 0, 0, 8, 8, 1);
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 1);
	g_byte_array_set_size(b, 0);
	put_surface(b, 100, 100);
	put_pixels(b, 0, 0, 100, 100, 1);
	put_pixels(b, 95, 0, 6, 1, 5);     /* one column past the right edge */
	put_pixels(b, 0, 99, 1, 2, 5);     /* one row past the bottom */
	put_pixels(b, 99, 99, 1, 1, 1);    /* the last pixel: fine */
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 3);
	assert_picture(&t, 100, 100, 1);
	vireo_thumb_clear(&t);
}

static void test_order_and_duplicates(void)
{
	struct vireo_thumb t;
	g_assert_cmpint(vireo_thumb_init(&t, BOX_W, BOX_H), ==, 0);
	g_autoptr(GByteArray) b = g_byte_array_new();
	/* Anything before HELLO is dropped. */
	put_surface(b, 64, 64);
	put_damage(b, 1, 0, 0, 1, 1);
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 2);
	g_assert_null(t.samples);
	g_assert_false(t.ack_due);
	g_byte_array_set_size(b, 0);
	put_hello(b, CONSOLE_VERSION_MAJOR, CONSOLE_CAPS_KNOWN);
	put_hello(b, CONSOLE_VERSION_MAJOR, CONSOLE_CAPS_KNOWN);
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 3);
	vireo_thumb_clear(&t);
}

static void test_version(void)
{
	struct vireo_thumb t;
	g_assert_cmpint(vireo_thumb_init(&t, BOX_W, BOX_H), ==, 0);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_hello(b, CONSOLE_VERSION_MAJOR + 1, CONSOLE_CAPS_KNOWN);
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_VERSION);
	vireo_thumb_clear(&t);
}

static void test_error(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct console_msg m = { .type = CONSOLE_MSG_ERROR };
	m.error.code = CONSOLE_ERROR_BUSY;
	m.error.text = "too many viewers";
	m.error.text_len = strlen(m.error.text);
	put_msg(b, &m);
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_ERROR);
	g_assert_cmpuint(t.error_code, ==, CONSOLE_ERROR_BUSY);
	g_assert_cmpstr(t.error_text, ==, "too many viewers");
	vireo_thumb_clear(&t);
}

static void test_framing(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	/* A DAMAGE longer than its type allows: the header alone condemns it. */
	put_raw(b, CONSOLE_MSG_DAMAGE, 0, NULL, 0);
	b->data[4] = 0xff;
	b->data[5] = 0xff;
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_FRAMING);
	vireo_thumb_clear(&t);

	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_byte_array_set_size(b, 0);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, 0x8000, NULL, 0);   /* a reserved flag */
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_FRAMING);
	vireo_thumb_clear(&t);

	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_byte_array_set_size(b, 0);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, 0, (uint8_t[]){ 0 }, 1);   /* a body where none goes */
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_FRAMING);
	vireo_thumb_clear(&t);

	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_byte_array_set_size(b, 0);
	put_raw(b, CONSOLE_MSG_HELLO, CONSOLE_FLAG_FD, NULL, 0);    /* an fd on anything but SURFACE */
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, b->len), ==, VIREO_THUMB_END_FRAMING);
	vireo_thumb_clear(&t);

	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_byte_array_set_size(b, 0);
	put_raw(b, 0x7777, 0, NULL, CONSOLE_BODY_MAX + 1);       /* unknown and too long */
	g_assert_cmpint(vireo_thumb_feed(&t, b->data, CONSOLE_HEADER_SIZE), ==, VIREO_THUMB_END_FRAMING);
	vireo_thumb_clear(&t);
}

/* Well framed but wrong: counted, dropped, the session goes on. */
static void test_bad_bodies(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	uint8_t body[64] = { 0 };
	put_raw(b, CONSOLE_MSG_SURFACE, 0, body, 31);               /* short */
	put_raw(b, CONSOLE_MSG_DAMAGE, 0, body, 8 + 16);            /* count 0 with a rect */
	body[4] = 2;
	put_raw(b, CONSOLE_MSG_DAMAGE, 0, body, 8 + 16);            /* count 2, one rect */
	put_raw(b, CONSOLE_MSG_KEY, 0, body, 4);                    /* the viewer's to send */
	put_raw(b, CONSOLE_MSG_POINTER, 0, body, 20);
	put_raw(b, 0x7e, 0, body, 3);                               /* a type from a newer minor */
	put_raw(b, CONSOLE_MSG_VM_STATE, 0, (uint8_t[]){ 9, 0, 0, 0 }, 4);   /* no such state */
	/* A surface in another pixel format. */
	uint8_t s[32] = { 0 };
	s[0] = 64; s[4] = 64; s[8] = 0; s[9] = 1; s[12] = 'A'; s[13] = 'B'; s[14] = '2'; s[15] = '4';
	s[24] = 0; s[25] = 0; s[26] = 1;
	put_raw(b, CONSOLE_MSG_SURFACE, 0, s, sizeof(s));
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 8);
	g_assert_null(t.samples);
	/* And it still works. */
	g_byte_array_set_size(b, 0);
	put_surface(b, 32, 32);
	put_pixels(b, 0, 0, 32, 32, 3);
	put_damage(b, 1, 0, 0, 32, 32);
	feed_ok(&t, b);
	assert_picture(&t, 32, 32, 3);
	vireo_thumb_clear(&t);
}

/* Shared memory (an fd) was not asked for: nothing is shown rather than
 * something mapped; so without the INLINE capability in the session. */
static void test_shared_refused(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE, .flags = CONSOLE_FLAG_FD };
	m.surface.width = 64;
	m.surface.height = 64;
	m.surface.stride = 256;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	m.surface.size = 256 * 64;
	put_msg(b, &m);
	feed_ok(&t, b);
	g_assert_cmpuint(t.shared_refused, ==, 1);
	g_assert_null(t.samples);
	vireo_thumb_clear(&t);

	thumb_start(&t, CONSOLE_CAP_FRAME_ACK);   /* the worker offers no inline pixels */
	g_byte_array_set_size(b, 0);
	put_surface(b, 64, 64);
	feed_ok(&t, b);
	g_assert_cmpuint(t.shared_refused, ==, 1);
	uint32_t w, h;
	g_assert_null(vireo_thumb_render(&t, &w, &h));
	vireo_thumb_clear(&t);
}

/* Without FRAME_ACK in the session, no acks go out. */
static void test_no_ack_capability(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAP_INLINE_PIXELS);
	g_autoptr(GByteArray) b = g_byte_array_new();
	put_surface(b, 16, 16);
	put_damage(b, 1, 0, 0, 16, 16);
	feed_ok(&t, b);
	uint8_t ack[16];
	g_assert_false(t.ack_due);
	g_assert_cmpint(vireo_thumb_take_ack(&t, ack, sizeof(ack)), ==, 0);
	vireo_thumb_clear(&t);
}

/* What a thumbnail does not draw is accepted and changes nothing. */
static void test_ignored_messages(void)
{
	struct vireo_thumb t;
	thumb_start(&t, CONSOLE_CAPS_KNOWN);
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct console_msg c = { .type = CONSOLE_MSG_CURSOR };
	c.cursor.flags = CONSOLE_CURSOR_VISIBLE;
	c.cursor.x = 3;
	c.cursor.y = 4;
	put_msg(b, &c);
	struct console_msg cb = { .type = CONSOLE_MSG_CLIPBOARD };
	cb.clipboard.format = CONSOLE_CLIPBOARD_TEXT;
	cb.clipboard.text = "copied";
	cb.clipboard.len = 6;
	put_msg(b, &cb);
	struct console_msg st = { .type = CONSOLE_MSG_VM_STATE };
	st.vm_state.state = CONSOLE_VM_PAUSED;
	st.vm_state.reason = "paused";
	st.vm_state.reason_len = 6;
	put_msg(b, &st);
	feed_ok(&t, b);
	g_assert_cmpuint(t.bad, ==, 0);
	g_assert_cmpuint(t.vm_state, ==, CONSOLE_VM_PAUSED);
	g_assert_false(t.dirty);
	vireo_thumb_clear(&t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/app-thumb/fit", test_fit);
	g_test_add_func("/app-thumb/init-limits", test_init_limits);
	g_test_add_func("/app-thumb/hello", test_hello);
	g_test_add_func("/app-thumb/session-downscaled", test_session_downscaled);
	g_test_add_func("/app-thumb/session-exact", test_session_exact);
	g_test_add_func("/app-thumb/split-anywhere", test_split_anywhere);
	g_test_add_func("/app-thumb/resize-and-no-surface", test_resize_and_no_surface);
	g_test_add_func("/app-thumb/pixels-off-surface", test_pixels_off_surface);
	g_test_add_func("/app-thumb/order-and-duplicates", test_order_and_duplicates);
	g_test_add_func("/app-thumb/version", test_version);
	g_test_add_func("/app-thumb/error", test_error);
	g_test_add_func("/app-thumb/framing", test_framing);
	g_test_add_func("/app-thumb/bad-bodies", test_bad_bodies);
	g_test_add_func("/app-thumb/shared-refused", test_shared_refused);
	g_test_add_func("/app-thumb/no-ack-capability", test_no_ack_capability);
	g_test_add_func("/app-thumb/ignored-messages", test_ignored_messages);
	return g_test_run();
}
