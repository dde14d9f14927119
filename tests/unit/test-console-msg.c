// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The console protocol codec (protocols/console_msg.c): every message type
 * from bytes written here by hand at the offsets of console-protocol.md,
 * the encoder giving the same bytes back, and the malformed variants:
 * short, oversized, unknown types, wrong senders, bad counts, out-of-range
 * fields, invalid UTF-8, reserved flags.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "console.h"

/* A little-endian byte builder. */
struct bytes {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct bytes *s, uint8_t v)
{
	g_assert_cmpuint(s->n, <, sizeof(s->b));
	s->b[s->n++] = v;
}

static void put16(struct bytes *s, uint16_t v)
{
	put8(s, v & 0xff);
	put8(s, v >> 8);
}

static void put32(struct bytes *s, uint32_t v)
{
	put16(s, v & 0xffff);
	put16(s, v >> 16);
}

static void put64(struct bytes *s, uint64_t v)
{
	put32(s, (uint32_t)v);
	put32(s, (uint32_t)(v >> 32));
}

static void putmem(struct bytes *s, const void *p, size_t n)
{
	g_assert_cmpuint(s->n + n, <=, sizeof(s->b));
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* A frame: header then the body in body. */
static struct bytes frame(uint16_t type, uint16_t flags, const struct bytes *body)
{
	struct bytes s = { .n = 0 };
	put16(&s, type);
	put16(&s, flags);
	put32(&s, (uint32_t)body->n);
	putmem(&s, body->b, body->n);
	return s;
}

/* Frames and decodes s as sent by from: the decode result. */
static int decode(const struct bytes *s, enum console_sender from, struct console_msg *m)
{
	struct console_frame f;
	int r = console_frame_parse(s->b, s->n, from, &f);
	if (r < 0)
		return r;
	g_assert_cmpuint(f.length, ==, s->n - CONSOLE_HEADER_SIZE);
	return console_msg_decode(&f, s->b + CONSOLE_HEADER_SIZE, f.length, from, m);
}

/* m encodes to exactly the bytes of s. */
static void assert_encodes_to(const struct console_msg *m, const struct bytes *s)
{
	uint8_t out[4096];
	g_assert_cmpuint(console_msg_size(m), ==, s->n);
	g_assert_cmpint(console_msg_encode(m, out, sizeof(out)), ==, (long)s->n);
	g_assert_cmpmem(out, s->n, s->b, s->n);
	g_assert_cmpint(console_msg_encode(m, out, s->n - 1), ==, -ENOSPC);
}

static void test_header(void)
{
	struct console_frame f;
	uint8_t h[8] = { 0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00 };
	for (size_t n = 0; n < sizeof(h); n++)
		g_assert_cmpint(console_frame_parse(h, n, CONSOLE_FROM_VIEWER, &f), ==, -EAGAIN);
	g_assert_cmpint(console_frame_parse(h, 8, CONSOLE_FROM_VIEWER, &f), ==, 0);
	g_assert_cmpuint(f.type, ==, CONSOLE_MSG_KEY);
	g_assert_cmpuint(f.flags, ==, 0);
	g_assert_cmpuint(f.length, ==, 4);

	/* KEY is 4 bytes: a longer one is refused from the header alone. */
	h[4] = 5;
	g_assert_cmpint(console_frame_parse(h, 8, CONSOLE_FROM_VIEWER, &f), ==, -EMSGSIZE);
	/* Reserved flags, and an fd from a viewer. */
	h[4] = 4;
	h[2] = 0x02;
	g_assert_cmpint(console_frame_parse(h, 8, CONSOLE_FROM_VIEWER, &f), ==, -EPROTO);
	h[2] = 0x01;
	g_assert_cmpint(console_frame_parse(h, 8, CONSOLE_FROM_VIEWER, &f), ==, -EPROTO);
	/* The fd flag belongs to SURFACE from the worker only. */
	uint8_t s[8] = { 0x10, 0x00, 0x01, 0x00, 32, 0, 0, 0 };
	g_assert_cmpint(console_frame_parse(s, 8, CONSOLE_FROM_WORKER, &f), ==, 0);
	g_assert_cmpuint(f.flags, ==, CONSOLE_FLAG_FD);
	g_assert_cmpint(console_frame_parse(s, 8, CONSOLE_FROM_VIEWER, &f), ==, -EPROTO);

	/* Unknown types may be as long as any body, and no longer. */
	struct bytes u = { .n = 0 };
	put16(&u, 0x7777);
	put16(&u, 0);
	put32(&u, CONSOLE_BODY_MAX);
	g_assert_cmpint(console_frame_parse(u.b, u.n, CONSOLE_FROM_VIEWER, &f), ==, 0);
	u.n = 4;
	put32(&u, CONSOLE_BODY_MAX + 1);
	g_assert_cmpint(console_frame_parse(u.b, u.n, CONSOLE_FROM_VIEWER, &f), ==, -EMSGSIZE);
	u.n = 4;
	put32(&u, UINT32_MAX);
	g_assert_cmpint(console_frame_parse(u.b, u.n, CONSOLE_FROM_WORKER, &f), ==, -EMSGSIZE);
	/* A clipboard may be 1 MiB of text, not more. */
	u.n = 0;
	put16(&u, CONSOLE_MSG_CLIPBOARD);
	put16(&u, 0);
	put32(&u, 4 + CONSOLE_CLIPBOARD_MAX);
	g_assert_cmpint(console_frame_parse(u.b, u.n, CONSOLE_FROM_VIEWER, &f), ==, 0);
	u.n = 4;
	put32(&u, 5 + CONSOLE_CLIPBOARD_MAX);
	g_assert_cmpint(console_frame_parse(u.b, u.n, CONSOLE_FROM_VIEWER, &f), ==, -EMSGSIZE);
}

static void test_unknown_and_wrong_sender(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put32(&body, 1);
	struct bytes s = frame(0x0999, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -ENOMSG);
	/* A viewer does not send damage, a worker does not send keys. */
	body.n = 0;
	put32(&body, 0);
	put32(&body, 0);
	s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -ENOMSG);
	body.n = 0;
	put16(&body, 30);
	put8(&body, 1);
	put8(&body, 0);
	s = frame(CONSOLE_MSG_KEY, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -ENOMSG);
	/* The body given must be the frame's. */
	struct console_frame f = { CONSOLE_MSG_KEY, 0, 4 };
	g_assert_cmpint(console_msg_decode(&f, s.b + 8, 3, CONSOLE_FROM_VIEWER, &m), ==, -EBADMSG);
}

static void test_hello(void)
{
	struct bytes body = { .n = 0 };
	put16(&body, 1);
	put16(&body, 3);
	put32(&body, CONSOLE_CAP_INLINE_PIXELS | 0x100);
	putmem(&body, "vm é", 5);
	struct bytes s = frame(CONSOLE_MSG_HELLO, 0, &body);
	struct console_msg m;
	for (int from = CONSOLE_FROM_WORKER; from <= CONSOLE_FROM_VIEWER; from++) {
		g_assert_cmpint(decode(&s, from, &m), ==, 0);
		g_assert_cmpuint(m.type, ==, CONSOLE_MSG_HELLO);
		g_assert_cmpuint(m.hello.major, ==, 1);
		g_assert_cmpuint(m.hello.minor, ==, 3);
		/* Unknown capability bits are the receiver's to ignore. */
		g_assert_cmpuint(m.hello.caps, ==, 0x101);
		g_assert_cmpmem(m.hello.name, m.hello.name_len, "vm é", 5);
	}
	assert_encodes_to(&m, &s);

	/* Short; a name that is not UTF-8; a name too long. */
	body.n = 7;
	s = frame(CONSOLE_MSG_HELLO, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EBADMSG);
	body.n = 8;
	putmem(&body, "a\xc3", 2);
	s = frame(CONSOLE_MSG_HELLO, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EILSEQ);
	body.n = 8;
	for (unsigned i = 0; i <= CONSOLE_NAME_MAX; i++)
		put8(&body, 'x');
	s = frame(CONSOLE_MSG_HELLO, 0, &body);
	g_assert_cmpint(console_frame_parse(s.b, s.n, CONSOLE_FROM_VIEWER, &(struct console_frame){ 0 }), ==,
			-EMSGSIZE);
}

static struct bytes surface_body(uint32_t w, uint32_t h, uint32_t stride, uint32_t format, uint64_t offset,
				 uint64_t size)
{
	struct bytes b = { .n = 0 };
	put32(&b, w);
	put32(&b, h);
	put32(&b, stride);
	put32(&b, format);
	put64(&b, offset);
	put64(&b, size);
	return b;
}

static void test_surface(void)
{
	struct console_msg m;
	struct bytes body = surface_body(1024, 768, 4096 + 64, CONSOLE_FORMAT_XRGB8888, 8192, 8192 + 4160ull * 768);
	struct bytes s = frame(CONSOLE_MSG_SURFACE, CONSOLE_FLAG_FD, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.flags, ==, CONSOLE_FLAG_FD);
	g_assert_cmpuint(m.surface.width, ==, 1024);
	g_assert_cmpuint(m.surface.height, ==, 768);
	g_assert_cmpuint(m.surface.stride, ==, 4160);
	g_assert_cmpuint(m.surface.format, ==, CONSOLE_FORMAT_XRGB8888);
	g_assert_cmpuint(m.surface.offset, ==, 8192);
	g_assert_cmpuint(m.surface.size, ==, 8192 + 4160ull * 768);
	assert_encodes_to(&m, &s);

	/* Inline: tightly packed, at offset 0, nothing more. */
	body = surface_body(640, 480, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480);
	s = frame(CONSOLE_MSG_SURFACE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.flags, ==, 0);
	assert_encodes_to(&m, &s);

	struct {
		uint32_t w, h, stride, format;
		uint64_t offset, size;
		uint16_t flags;
	} bad[] = {
		{ 0, 480, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480, CONSOLE_FLAG_FD },
		{ 640, 0, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480, CONSOLE_FLAG_FD },
		{ 8193, 4, 8193 * 4, CONSOLE_FORMAT_XRGB8888, 0, 8193 * 16, CONSOLE_FLAG_FD },
		{ 640, 8193, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560ull * 8193, CONSOLE_FLAG_FD },
		{ 640, 480, 2556, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480, CONSOLE_FLAG_FD },       /* stride < w * 4 */
		{ 640, 480, 2560, 0x34325241, 0, 2560 * 480, CONSOLE_FLAG_FD },                    /* AR24 */
		{ 640, 480, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480 - 1, CONSOLE_FLAG_FD },   /* size too small */
		{ 640, 480, 2560, CONSOLE_FORMAT_XRGB8888, UINT64_MAX - 100, UINT64_MAX, CONSOLE_FLAG_FD },
		{ 640, 480, 2560, CONSOLE_FORMAT_XRGB8888, 4096, 4096 + 2560 * 480, 0 },          /* inline with offset */
		{ 640, 480, 2564, CONSOLE_FORMAT_XRGB8888, 0, 2564 * 480, 0 },                    /* inline padded */
		{ 640, 480, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480 + 1, 0 },                /* inline, size off */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		body = surface_body(bad[i].w, bad[i].h, bad[i].stride, bad[i].format, bad[i].offset, bad[i].size);
		s = frame(CONSOLE_MSG_SURFACE, bad[i].flags, &body);
		g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	}
	body = surface_body(640, 480, 2560, CONSOLE_FORMAT_XRGB8888, 0, 2560 * 480);
	body.n--;
	s = frame(CONSOLE_MSG_SURFACE, CONSOLE_FLAG_FD, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);

	struct bytes empty = { .n = 0 };
	s = frame(CONSOLE_MSG_NO_SURFACE, 0, &empty);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, CONSOLE_MSG_NO_SURFACE);
	assert_encodes_to(&m, &s);
	put8(&empty, 0);
	s = frame(CONSOLE_MSG_NO_SURFACE, 0, &empty);
	g_assert_cmpint(console_frame_parse(s.b, s.n, CONSOLE_FROM_WORKER, &(struct console_frame){ 0 }), ==,
			-EMSGSIZE);
}

static void put_rect(struct bytes *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	put32(b, x);
	put32(b, y);
	put32(b, w);
	put32(b, h);
}

static void test_damage(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put32(&body, 42);
	put32(&body, 2);
	put_rect(&body, 0, 0, 8192, 8192);
	put_rect(&body, 10, 20, 30, 40);
	struct bytes s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.damage.frame, ==, 42);
	g_assert_cmpuint(m.damage.count, ==, 2);
	g_assert_cmpuint(m.damage.rects[1].x, ==, 10);
	g_assert_cmpuint(m.damage.rects[1].y, ==, 20);
	g_assert_cmpuint(m.damage.rects[1].w, ==, 30);
	g_assert_cmpuint(m.damage.rects[1].h, ==, 40);
	assert_encodes_to(&m, &s);

	/* A count that disagrees with the body, either way. */
	body.b[4] = 3;
	s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	body.b[4] = 1;
	s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	/* A count above the limit with a body that matches it. */
	body.n = 0;
	put32(&body, 1);
	put32(&body, CONSOLE_DAMAGE_RECTS_MAX + 1);
	for (unsigned i = 0; i <= CONSOLE_DAMAGE_RECTS_MAX; i++)
		put_rect(&body, i, 0, 1, 1);
	s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(console_frame_parse(s.b, s.n, CONSOLE_FROM_WORKER, &(struct console_frame){ 0 }), ==,
			-EMSGSIZE);
	struct console_frame f = { CONSOLE_MSG_DAMAGE, 0, (uint32_t)body.n };
	g_assert_cmpint(console_msg_decode(&f, body.b, body.n, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	/* Empty, or beyond the largest surface, even by wrapping around. */
	uint32_t rects[][4] = { { 0, 0, 0, 5 }, { 0, 0, 5, 0 }, { 8190, 0, 3, 1 }, { 0, 8192, 1, 1 },
				{ UINT32_MAX, 0, 2, 1 }, { 0, 1, 1, UINT32_MAX } };
	for (size_t i = 0; i < G_N_ELEMENTS(rects); i++) {
		body.n = 0;
		put32(&body, 1);
		put32(&body, 1);
		put_rect(&body, rects[i][0], rects[i][1], rects[i][2], rects[i][3]);
		s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
		g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	}
	body.n = 7;
	s = frame(CONSOLE_MSG_DAMAGE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
}

static void test_pixels(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put_rect(&body, 3, 4, 2, 3);
	for (int i = 0; i < 2 * 3; i++)
		put32(&body, 0x00112200u + (uint32_t)i);
	struct bytes s = frame(CONSOLE_MSG_PIXELS, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.pixels.r.x, ==, 3);
	g_assert_cmpuint(m.pixels.r.h, ==, 3);
	g_assert_cmpuint(m.pixels.stride, ==, 8);
	g_assert_true(m.pixels.data == s.b + 8 + 16);
	assert_encodes_to(&m, &s);

	/* The encoder takes rows from a larger surface. */
	uint32_t surface[4][8];
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 8; x++)
			surface[y][x] = (uint32_t)(y * 100 + x);
	struct console_msg p = { .type = CONSOLE_MSG_PIXELS };
	p.pixels.r = (struct console_rect){ 5, 1, 2, 2 };
	p.pixels.data = (const uint8_t *)&surface[1][5];
	p.pixels.stride = sizeof(surface[0]);
	uint8_t out[64];
	g_assert_cmpint(console_msg_encode(&p, out, sizeof(out)), ==, 8 + 16 + 16);
	uint32_t px[4];
	memcpy(px, out + 24, 16);
	g_assert_cmpuint(px[0], ==, 105);
	g_assert_cmpuint(px[1], ==, 106);
	g_assert_cmpuint(px[2], ==, 205);
	g_assert_cmpuint(px[3], ==, 206);

	/* One byte short or long; a rectangle whose pixels exceed one message. */
	body.n--;
	s = frame(CONSOLE_MSG_PIXELS, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	body.n += 2;
	s = frame(CONSOLE_MSG_PIXELS, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	body.n = 0;
	put_rect(&body, 0, 0, 8192, 9);   /* 288 KiB */
	struct console_frame f = { CONSOLE_MSG_PIXELS, 0, 16 };
	g_assert_cmpint(console_msg_decode(&f, body.b, 16, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	p.pixels.r = (struct console_rect){ 0, 0, 8192, 9 };
	g_assert_cmpint(console_msg_encode(&p, out, sizeof(out)), ==, -EINVAL);
	g_assert_cmpuint(console_msg_size(&p), ==, 0);
}

static void test_cursor(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put32(&body, CONSOLE_CURSOR_VISIBLE | CONSOLE_CURSOR_SHAPE);
	put32(&body, (uint32_t)-5);
	put32(&body, 700);
	put32(&body, 2);
	put32(&body, 2);
	put32(&body, 1);
	put32(&body, 0);
	for (int i = 0; i < 4; i++)
		put32(&body, 0xff000000u | (uint32_t)i);
	struct bytes s = frame(CONSOLE_MSG_CURSOR, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpint(m.cursor.x, ==, -5);
	g_assert_cmpint(m.cursor.y, ==, 700);
	g_assert_cmpuint(m.cursor.w, ==, 2);
	g_assert_cmpuint(m.cursor.hot_x, ==, 1);
	g_assert_nonnull(m.cursor.argb);
	assert_encodes_to(&m, &s);

	/* Position only. */
	struct bytes pos = { .n = 0 };
	put32(&pos, 0);
	put32(&pos, 1);
	put32(&pos, 2);
	for (int i = 0; i < 4; i++)
		put32(&pos, 0);
	s = frame(CONSOLE_MSG_CURSOR, 0, &pos);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_null(m.cursor.argb);
	g_assert_cmpuint(m.cursor.flags, ==, 0);
	assert_encodes_to(&m, &s);

	struct bytes bad = pos;
	bad.b[0] = 4;                                  /* unknown flag */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	bad = pos;
	bad.b[12] = 1;                                 /* a size without a shape */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	bad = pos;
	bad.b[4] = 0xff, bad.b[5] = 0xff, bad.b[6] = 0xff, bad.b[7] = 0x7f;   /* x far away */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	bad = body;
	bad.b[20] = 2;                                 /* hot spot outside the image */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	bad = body;
	bad.n -= 4;                                    /* image short */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	bad = body;
	bad.b[12] = 0, bad.b[13] = 1;                  /* 256 wide: fine in size, but the body is short */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);
	bad.b[12] = 1, bad.b[13] = 1;                  /* 257 wide */
	s = frame(CONSOLE_MSG_CURSOR, 0, &bad);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
}

static void test_text_messages(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put32(&body, CONSOLE_VM_PAUSED);
	putmem(&body, "paused by the host", 18);
	struct bytes s = frame(CONSOLE_MSG_VM_STATE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.vm_state.state, ==, CONSOLE_VM_PAUSED);
	g_assert_cmpmem(m.vm_state.reason, m.vm_state.reason_len, "paused by the host", 18);
	assert_encodes_to(&m, &s);
	body.b[0] = 0;
	s = frame(CONSOLE_MSG_VM_STATE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);
	body.b[0] = 4;
	s = frame(CONSOLE_MSG_VM_STATE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EINVAL);

	body.n = 0;
	put32(&body, CONSOLE_ERROR_VERSION);
	putmem(&body, "major 2", 7);
	s = frame(CONSOLE_MSG_ERROR, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	g_assert_cmpuint(m.error.code, ==, CONSOLE_ERROR_VERSION);
	g_assert_cmpmem(m.error.text, m.error.text_len, "major 2", 7);
	assert_encodes_to(&m, &s);
	body.n = 3;
	s = frame(CONSOLE_MSG_ERROR, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, -EBADMSG);

	body.n = 0;
	put32(&body, CONSOLE_CLIPBOARD_TEXT);
	putmem(&body, "copy \xe2\x82\xac 1\n", 10);
	s = frame(CONSOLE_MSG_CLIPBOARD, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpmem(m.clipboard.text, m.clipboard.len, "copy \xe2\x82\xac 1\n", 10);
	assert_encodes_to(&m, &s);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_WORKER, &m), ==, 0);
	/* An empty clipboard is text too. */
	body.n = 4;
	s = frame(CONSOLE_MSG_CLIPBOARD, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.clipboard.len, ==, 0);
	body.b[0] = 2;
	s = frame(CONSOLE_MSG_CLIPBOARD, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EINVAL);

	/* Not UTF-8: a NUL, a lone continuation, an overlong slash, a
	 * surrogate, beyond U+10FFFF, a truncated sequence, 0xff. */
	const char *bad[] = { "a\0b", "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff" };
	size_t bad_len[] = { 3, 1, 2, 3, 4, 2, 1 };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		body.n = 0;
		put32(&body, CONSOLE_CLIPBOARD_TEXT);
		putmem(&body, bad[i], bad_len[i]);
		s = frame(CONSOLE_MSG_CLIPBOARD, 0, &body);
		g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EILSEQ);
		g_assert_false(console_text_valid(bad[i], bad_len[i]));
		struct console_msg c = { .type = CONSOLE_MSG_CLIPBOARD };
		c.clipboard.format = CONSOLE_CLIPBOARD_TEXT;
		c.clipboard.text = bad[i];
		c.clipboard.len = bad_len[i];
		uint8_t out[64];
		g_assert_cmpint(console_msg_encode(&c, out, sizeof(out)), ==, -EINVAL);
	}
	g_assert_true(console_text_valid("\xf4\x8f\xbf\xbf \xf0\x9f\x98\x80 \xc3\xa9", 12));
}

static void test_key(void)
{
	struct console_msg m;
	struct bytes body = { .n = 0 };
	put16(&body, 0x2ff);
	put8(&body, 1);
	put8(&body, 0);
	struct bytes s = frame(CONSOLE_MSG_KEY, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.key.code, ==, 0x2ff);
	g_assert_true(m.key.down);
	assert_encodes_to(&m, &s);
	body.b[2] = 0;
	s = frame(CONSOLE_MSG_KEY, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_false(m.key.down);

	uint8_t bad[][4] = {
		{ 0x00, 0x03, 1, 0 },   /* beyond KEY_MAX */
		{ 0x00, 0x00, 1, 0 },   /* KEY_RESERVED */
		{ 30, 0, 2, 0 },        /* down is 0 or 1 */
		{ 30, 0, 1, 1 },        /* reserved byte */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		body.n = 0;
		putmem(&body, bad[i], 4);
		s = frame(CONSOLE_MSG_KEY, 0, &body);
		g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EINVAL);
	}
	body.n = 3;
	s = frame(CONSOLE_MSG_KEY, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EBADMSG);
}

static struct bytes pointer_body(uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	struct bytes b = { .n = 0 };
	put32(&b, x);
	put32(&b, y);
	put32(&b, buttons);
	put32(&b, (uint32_t)wheel);
	put32(&b, (uint32_t)hwheel);
	return b;
}

static void test_pointer(void)
{
	struct console_msg m;
	struct bytes body = pointer_body(8191, 17, CONSOLE_BUTTON_LEFT | CONSOLE_BUTTON_EXTRA, -3, 64);
	struct bytes s = frame(CONSOLE_MSG_POINTER, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.pointer.x, ==, 8191);
	g_assert_cmpuint(m.pointer.y, ==, 17);
	g_assert_cmpuint(m.pointer.buttons, ==, 0x11);
	g_assert_cmpint(m.pointer.wheel, ==, -3);
	g_assert_cmpint(m.pointer.hwheel, ==, 64);
	assert_encodes_to(&m, &s);

	struct bytes bad[] = {
		pointer_body(8192, 0, 0, 0, 0), pointer_body(0, UINT32_MAX, 0, 0, 0),
		pointer_body(0, 0, 0x20, 0, 0), pointer_body(0, 0, 0, 65, 0),
		pointer_body(0, 0, 0, 0, -65), pointer_body(0, 0, 0, INT32_MIN, 0),
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		s = frame(CONSOLE_MSG_POINTER, 0, &bad[i]);
		g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EINVAL);
	}

	body.n = 0;
	put32(&body, 77);
	s = frame(CONSOLE_MSG_FRAME_DONE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, 0);
	g_assert_cmpuint(m.frame_done.frame, ==, 77);
	assert_encodes_to(&m, &s);
	body.n = 2;
	s = frame(CONSOLE_MSG_FRAME_DONE, 0, &body);
	g_assert_cmpint(decode(&s, CONSOLE_FROM_VIEWER, &m), ==, -EBADMSG);
}

static void test_encode_refuses(void)
{
	uint8_t out[256];
	struct console_msg m = { .type = 0x4444 };
	g_assert_cmpint(console_msg_encode(&m, out, sizeof(out)), ==, -EINVAL);
	m = (struct console_msg){ .type = CONSOLE_MSG_KEY };
	m.key.code = 0;
	g_assert_cmpint(console_msg_encode(&m, out, sizeof(out)), ==, -EINVAL);
	m = (struct console_msg){ .type = CONSOLE_MSG_DAMAGE };
	m.damage.count = CONSOLE_DAMAGE_RECTS_MAX + 1;
	g_assert_cmpint(console_msg_encode(&m, out, sizeof(out)), ==, -EINVAL);
	m = (struct console_msg){ .type = CONSOLE_MSG_HELLO };
	m.hello.name = "x";
	m.hello.name_len = CONSOLE_NAME_MAX + 1;
	g_assert_cmpint(console_msg_encode(&m, out, sizeof(out)), ==, -EINVAL);
	/* The fd flag on a KEY. */
	m = (struct console_msg){ .type = CONSOLE_MSG_KEY, .flags = CONSOLE_FLAG_FD };
	m.key.code = 30;
	g_assert_cmpint(console_msg_encode(&m, out, sizeof(out)), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/console-msg/header", test_header);
	g_test_add_func("/console-msg/unknown-and-wrong-sender", test_unknown_and_wrong_sender);
	g_test_add_func("/console-msg/hello", test_hello);
	g_test_add_func("/console-msg/surface", test_surface);
	g_test_add_func("/console-msg/damage", test_damage);
	g_test_add_func("/console-msg/pixels", test_pixels);
	g_test_add_func("/console-msg/cursor", test_cursor);
	g_test_add_func("/console-msg/text-messages", test_text_messages);
	g_test_add_func("/console-msg/key", test_key);
	g_test_add_func("/console-msg/pointer", test_pointer);
	g_test_add_func("/console-msg/encode-refuses", test_encode_refuses);
	return g_test_run();
}
