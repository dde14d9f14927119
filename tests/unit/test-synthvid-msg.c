// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Synthvid messages (synthvid_msg.c). Guest messages are built byte by
 * byte at the offsets of hyperv_fb's packed structs (struct synthvid_msg in
 * drivers/video/fbdev/hyperv_fb.c: pipe header at 0, synthvid header at 8,
 * body at 16), and host messages are read the same way, so that a mistake
 * in synthvid_msg.h is not shared by the test.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <glib.h>

#include "vsp/synthvid.h"
#include "vsp/synthvid_msg.h"

#define BODY 16

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A message as synthvid_send frames it: pipe size = synthvid size = 8 + body. */
static size_t frame(uint8_t *m, uint32_t type, size_t body)
{
	wr32(m, 1);
	wr32(m + 4, (uint32_t)(8 + body));
	wr32(m + 8, type);
	wr32(m + 12, (uint32_t)(8 + body));
	return BODY + body;
}

static size_t msg_version(uint8_t *m, uint32_t version)
{
	memset(m, 0, 64);
	wr32(m + BODY, version);
	return frame(m, 1, 4);
}

static size_t msg_vram(uint8_t *m, uint64_t ctx, uint8_t specified, uint64_t gpa)
{
	memset(m, 0, 64);
	wr64(m + BODY, ctx);
	m[BODY + 8] = specified;
	wr64(m + BODY + 9, gpa);
	return frame(m, 3, 17);
}

static size_t msg_situ(uint8_t *m, uint8_t count, uint8_t active, uint32_t offset, uint8_t depth, uint32_t w,
		       uint32_t h, uint32_t pitch)
{
	memset(m, 0, 128);
	wr64(m + BODY, 0x1122334455667788ull);
	m[BODY + 8] = count;
	uint8_t *o = m + BODY + 9;
	o[0] = active;
	wr32(o + 1, offset);
	o[5] = depth;
	wr32(o + 6, w);
	wr32(o + 10, h);
	wr32(o + 14, pitch);
	return frame(m, 5, 9 + 18);
}

static size_t msg_dirt(uint8_t *m, uint8_t output, uint8_t count, unsigned nrects, const int32_t (*r)[4])
{
	memset(m, 0, BODY + 2 + 16 * nrects);
	m[BODY] = output;
	m[BODY + 1] = count;
	for (unsigned i = 0; i < nrects; i++)
		for (unsigned j = 0; j < 4; j++)
			wr32(m + BODY + 2 + 16 * i + 4 * j, (uint32_t)r[i][j]);
	return frame(m, 10, 2 + 16 * nrects);
}

/* hyperv_fb's synthvid_send_ptr: a visible pointer at 0,0 and a 1x1 ARGB "no cursor". */
static size_t msg_ptr_pos(uint8_t *m, uint8_t visible, uint8_t output, int32_t x, int32_t y)
{
	memset(m, 0, 64);
	m[BODY] = visible;
	m[BODY + 1] = output;
	wr32(m + BODY + 2, (uint32_t)x);
	wr32(m + BODY + 6, (uint32_t)y);
	return frame(m, 7, 10);
}

static size_t msg_shape(uint8_t *m, uint8_t part, uint8_t argb, uint32_t w, uint32_t h, uint32_t hx, uint32_t hy,
			size_t image)
{
	memset(m, 0, BODY + 18 + image);
	m[BODY] = part;
	m[BODY + 1] = argb;
	wr32(m + BODY + 2, w);
	wr32(m + BODY + 6, h);
	wr32(m + BODY + 10, hx);
	wr32(m + BODY + 14, hy);
	for (size_t i = 0; i < image; i++)
		m[BODY + 18 + i] = (uint8_t)(i + 1);
	return frame(m, 8, 18 + image);
}

static size_t msg_resolution_req(uint8_t *m, uint8_t max)
{
	memset(m, 0, 64);
	m[BODY] = max;
	return frame(m, 13, 1);
}

static void test_parse_linux_messages(void)
{
	uint8_t m[256];
	struct synthvid_msg p;

	/* Each as Linux sends it, then padded to 8 bytes as the VMBus ring carries it. */
	for (int pad = 0; pad < 2; pad++) {
		size_t n = msg_version(m, 0x00050003);
		n = pad ? (n + 7) / 8 * 8 : n;
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
		g_assert_cmpuint(p.type, ==, SYNTHVID_VERSION_REQUEST);
		g_assert_cmpuint(p.version, ==, SYNTHVID_VERSION_WIN10);
		g_assert_cmpuint(p.body_len, ==, 4);

		n = msg_vram(m, 0xf8000000, 1, 0xf8000000);
		n = pad ? (n + 7) / 8 * 8 : n;
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
		g_assert_cmpuint(p.type, ==, SYNTHVID_VRAM_LOCATION);
		g_assert_cmpuint(p.vram.user_ctx, ==, 0xf8000000);
		g_assert_true(p.vram.gpa_specified);
		g_assert_cmpuint(p.vram.gpa, ==, 0xf8000000);
	}

	size_t n = msg_situ(m, 1, 1, 0, 32, 1024, 768, 4096);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.type, ==, SYNTHVID_SITUATION_UPDATE);
	g_assert_cmpuint(p.situation.user_ctx, ==, 0x1122334455667788ull);
	g_assert_cmpuint(p.situation.count, ==, 1);
	g_assert_true(p.situation.out.active);
	g_assert_cmpuint(p.situation.out.vram_offset, ==, 0);
	g_assert_cmpuint(p.situation.out.depth, ==, 32);
	g_assert_cmpuint(p.situation.out.width, ==, 1024);
	g_assert_cmpuint(p.situation.out.height, ==, 768);
	g_assert_cmpuint(p.situation.out.pitch, ==, 4096);

	n = msg_ptr_pos(m, 1, 0, -5, 70000);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.type, ==, SYNTHVID_POINTER_POSITION);
	g_assert_true(p.pointer.visible);
	g_assert_cmpuint(p.pointer.output, ==, 0);
	g_assert_cmpint(p.pointer.x, ==, -5);
	g_assert_cmpint(p.pointer.y, ==, 70000);

	/* Linux: sizeof(struct synthvid_pointer_shape) = 22 with data[4]. */
	n = msg_shape(m, 0xff, 1, 1, 1, 0, 0, 4);
	g_assert_cmpuint(n, ==, 16 + 22);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.type, ==, SYNTHVID_POINTER_SHAPE);
	g_assert_cmpuint(p.shape.part, ==, 0xff);
	g_assert_true(p.shape.argb);
	g_assert_cmpuint(p.shape.width, ==, 1);
	g_assert_cmpuint(p.shape.height, ==, 1);
	g_assert_true(p.shape.image == m + BODY + 18);
	g_assert_cmpuint(p.shape.image[0], ==, 1);

	const int32_t r1[][4] = { { 0, 10, 1024, 20 } };
	n = msg_dirt(m, 0, 1, 1, r1);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.type, ==, SYNTHVID_DIRT);
	g_assert_cmpuint(p.dirt.output, ==, 0);
	g_assert_cmpuint(p.dirt.count, ==, 1);
	struct synthvid_rect r;
	synthvid_msg_dirt_rect(&p, 0, &r);
	g_assert_cmpint(r.x1, ==, 0);
	g_assert_cmpint(r.y1, ==, 10);
	g_assert_cmpint(r.x2, ==, 1024);
	g_assert_cmpint(r.y2, ==, 20);

	n = msg_resolution_req(m, 64);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.type, ==, SYNTHVID_RESOLUTION_REQUEST);
	g_assert_cmpuint(p.max_resolutions, ==, 64);

	/* A longer body than the type needs: the rest is ignored. */
	memset(m, 0, sizeof(m));
	wr32(m + BODY, SYNTHVID_VERSION_WIN8);
	n = frame(m, 1, 40);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.version, ==, SYNTHVID_VERSION_WIN8);
	g_assert_cmpuint(p.body_len, ==, 40);
}

/* Every message cut short anywhere, through its sizes or its length. */
static void test_parse_short(void)
{
	uint8_t m[256], cut[256];
	struct synthvid_msg p;
	const int32_t r1[][4] = { { 0, 0, 8, 8 } };
	size_t lens[7];
	uint8_t msgs[7][256];
	lens[0] = msg_version(msgs[0], SYNTHVID_VERSION_WIN10);
	lens[1] = msg_vram(msgs[1], 1, 1, 0xf8000000);
	lens[2] = msg_situ(msgs[2], 1, 1, 0, 32, 640, 480, 2560);
	lens[3] = msg_ptr_pos(msgs[3], 1, 0, 1, 1);
	lens[4] = msg_shape(msgs[4], 0xff, 1, 1, 1, 0, 0, 4);
	lens[5] = msg_dirt(msgs[5], 0, 1, 1, r1);
	lens[6] = msg_resolution_req(msgs[6], 64);
	for (unsigned k = 0; k < G_N_ELEMENTS(lens); k++) {
		g_assert_cmpint(synthvid_msg_parse(msgs[k], lens[k], &p), ==, 0);
		for (size_t n = 0; n < lens[k]; n++) {
			/* The buffer ends early: its bytes past n are not there. */
			memcpy(cut, msgs[k], n);
			g_assert_cmpint(synthvid_msg_parse(cut, n, &p), ==, -EBADMSG);
			/* The sizes say less than the type needs, in a buffer of full length. */
			memcpy(m, msgs[k], lens[k]);
			if (n >= 16) {
				wr32(m + 4, (uint32_t)(n - 8));
				wr32(m + 12, (uint32_t)(n - 8));
				g_assert_cmpint(synthvid_msg_parse(m, lens[k], &p), ==, -EBADMSG);
			}
		}
	}
	g_assert_cmpint(synthvid_msg_parse(NULL, 0, &p), ==, -EBADMSG);
}

static void test_parse_bad_framing(void)
{
	uint8_t m[64];
	struct synthvid_msg p;
	size_t n = msg_version(m, SYNTHVID_VERSION_WIN10);
	static const uint32_t pipe_types[] = { 0, 2, 3, 4, 0xffffffffu };
	for (unsigned i = 0; i < G_N_ELEMENTS(pipe_types); i++) {
		msg_version(m, SYNTHVID_VERSION_WIN10);
		wr32(m, pipe_types[i]);
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	}
	/* Sizes past the packet: the pipe's, the synthvid header's. */
	msg_version(m, SYNTHVID_VERSION_WIN10);
	wr32(m + 4, (uint32_t)(n - 8 + 1));
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	wr32(m + 4, 0xffffffffu);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	msg_version(m, SYNTHVID_VERSION_WIN10);
	wr32(m + 12, (uint32_t)(n - 8 + 1));
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	wr32(m + 12, 0xffffffffu);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	/* The synthvid size past the pipe's, with room in the packet. */
	msg_version(m, SYNTHVID_VERSION_WIN10);
	wr32(m + 4, 8);
	g_assert_cmpint(synthvid_msg_parse(m, n + 8, &p), ==, -EBADMSG);
	/* A synthvid header size below its own 8 bytes. */
	for (uint32_t s = 0; s < 8; s++) {
		msg_version(m, SYNTHVID_VERSION_WIN10);
		wr32(m + 12, s);
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	}
}

static void test_parse_unknown_types(void)
{
	uint8_t m[64];
	struct synthvid_msg p;
	/* Host messages, BIOS_INFO, numbers past the protocol's. */
	static const uint32_t types[] = { 0, 2, 4, 6, 9, 11, 12, 14, 15, 16, 0x80, 0xffffffffu };
	for (unsigned i = 0; i < G_N_ELEMENTS(types); i++) {
		memset(m, 0, sizeof(m));
		size_t n = frame(m, types[i], 32);
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -ENOMSG);
	}
}

static void test_parse_counts(void)
{
	uint8_t m[BODY + 2 + 16 * 256];
	struct synthvid_msg p;
	/* Situation: no outputs; two claimed, one there; two there. */
	size_t n = msg_situ(m, 0, 1, 0, 32, 640, 480, 2560);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	n = msg_situ(m, 2, 1, 0, 32, 640, 480, 2560);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	n = msg_situ(m, 255, 1, 0, 32, 640, 480, 2560);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	msg_situ(m, 2, 1, 0, 32, 640, 480, 2560);
	n = frame(m, 5, 9 + 2 * 18);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.situation.count, ==, 2);
	g_assert_cmpuint(p.situation.out.width, ==, 640);

	/* Dirt: none; more than the body holds; exactly as many as it holds. */
	static int32_t rects[255][4];
	for (unsigned i = 0; i < 255; i++) {
		rects[i][0] = (int32_t)i;
		rects[i][1] = 0;
		rects[i][2] = (int32_t)i + 1;
		rects[i][3] = 1;
	}
	n = msg_dirt(m, 0, 0, 1, rects);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	n = msg_dirt(m, 0, 3, 2, rects);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	/* 15 bytes short of the last rectangle. */
	n = msg_dirt(m, 0, 2, 2, rects);
	wr32(m + 4, (uint32_t)(n - 8 - 15));
	wr32(m + 12, (uint32_t)(n - 8 - 15));
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	n = msg_dirt(m, 0, 255, 255, rects);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.dirt.count, ==, 255);
	struct synthvid_rect r;
	synthvid_msg_dirt_rect(&p, 254, &r);
	g_assert_cmpint(r.x1, ==, 254);
	g_assert_cmpint(r.x2, ==, 255);
}

static void test_parse_shapes(void)
{
	uint8_t m[BODY + 18 + 96 * 96 * 4 + 8];
	struct synthvid_msg p;
	size_t n = msg_shape(m, 0xff, 1, 96, 96, 95, 95, 96 * 96 * 4);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_cmpuint(p.shape.width, ==, 96);
	/* One byte of the image missing. */
	n = msg_shape(m, 0xff, 1, 96, 96, 0, 0, 96 * 96 * 4 - 1);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	/* Monochrome 9x2: AND and XOR masks of 2 bytes a row. */
	n = msg_shape(m, 0xff, 0, 9, 2, 0, 0, 8);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, 0);
	g_assert_false(p.shape.argb);
	n = msg_shape(m, 0xff, 0, 9, 2, 0, 0, 7);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	/* Sizes and hot spots out of range. */
	static const uint32_t bad[][4] = {
		{ 0, 1, 0, 0 }, { 1, 0, 0, 0 }, { 97, 1, 0, 0 }, { 1, 97, 0, 0 }, { 1, 1, 1, 0 },
		{ 1, 1, 0, 1 }, { 0xffffffffu, 0xffffffffu, 0, 0 }, { 4, 4, 0xffffffffu, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		n = msg_shape(m, 0xff, 1, bad[i][0], bad[i][1], bad[i][2], bad[i][3], 64);
		g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -EBADMSG);
	}
	/* A shape in parts is a form we do not take. */
	n = msg_shape(m, 0, 1, 1, 1, 0, 0, 4);
	g_assert_cmpint(synthvid_msg_parse(m, n, &p), ==, -ENOMSG);
}

static void test_rect_check(void)
{
	struct display_rect out = { 9, 9, 9, 9 };
	struct synthvid_rect r = { 0, 0, 1024, 768 };
	g_assert_cmpint(synthvid_rect_check(&r, 1024, 768, &out), ==, 0);
	g_assert_cmpuint(out.x, ==, 0);
	g_assert_cmpuint(out.w, ==, 1024);
	g_assert_cmpuint(out.h, ==, 768);
	r = (struct synthvid_rect){ 100, 50, 300, 170 };
	g_assert_cmpint(synthvid_rect_check(&r, 1024, 768, &out), ==, 0);
	g_assert_cmpuint(out.x, ==, 100);
	g_assert_cmpuint(out.y, ==, 50);
	g_assert_cmpuint(out.w, ==, 200);
	g_assert_cmpuint(out.h, ==, 120);
	r = (struct synthvid_rect){ 1023, 767, 1024, 768 };
	g_assert_cmpint(synthvid_rect_check(&r, 1024, 768, &out), ==, 0);
	g_assert_cmpuint(out.w, ==, 1);

	struct display_rect keep = out;
	static const struct { struct synthvid_rect r; int want; } bad[] = {
		{ { 10, 0, 10, 10 }, -EINVAL },          /* empty */
		{ { 0, 10, 10, 10 }, -EINVAL },
		{ { 20, 0, 10, 10 }, -EINVAL },          /* inverted */
		{ { 0, 20, 10, 10 }, -EINVAL },
		{ { -1, 0, 10, 10 }, -ERANGE },          /* off the screen */
		{ { 0, -1, 10, 10 }, -ERANGE },
		{ { 0, 0, 1025, 10 }, -ERANGE },
		{ { 0, 0, 10, 769 }, -ERANGE },
		{ { INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX }, -ERANGE },
		{ { INT32_MAX, 0, INT32_MIN, 10 }, -EINVAL },
		{ { 1024, 0, 1025, 1 }, -ERANGE },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(synthvid_rect_check(&bad[i].r, 1024, 768, &out), ==, bad[i].want);
		g_assert_cmpmem(&out, sizeof(out), &keep, sizeof(keep));
	}
}

static void test_output_check(void)
{
	const uint64_t vram = 16u << 20;
	struct synthvid_output o = { true, 0, 32, 1024, 768, 4096 };
	g_assert_cmpint(synthvid_output_check(&o, vram), ==, 0);
	/* Exactly the end of VRAM, and one byte past it. */
	o = (struct synthvid_output){ true, (uint32_t)(vram - 4096u * 768u), 32, 1024, 768, 4096 };
	g_assert_cmpint(synthvid_output_check(&o, vram), ==, 0);
	o.vram_offset += 4;
	g_assert_cmpint(synthvid_output_check(&o, vram), ==, -ERANGE);
	static const struct { struct synthvid_output o; int want; } bad[] = {
		{ { true, 0, 16, 1024, 768, 4096 }, -EINVAL },          /* depth */
		{ { true, 0, 24, 1024, 768, 4096 }, -EINVAL },
		{ { true, 0, 32, 0, 768, 4096 }, -EINVAL },             /* sizes */
		{ { true, 0, 32, 1024, 0, 4096 }, -EINVAL },
		{ { true, 0, 32, 8193, 1, 8193 * 4 }, -EINVAL },
		{ { true, 0, 32, 1, 8193, 4 }, -EINVAL },
		{ { true, 0, 32, 1024, 768, 4092 }, -EINVAL },          /* pitch */
		{ { true, 0, 32, 1024, 768, 4098 }, -EINVAL },
		{ { true, 0, 32, 1024, 768, 0 }, -EINVAL },
		{ { true, 0, 32, 3840, 2160, 3840 * 4 }, -ERANGE },     /* 32 MiB in 16 */
		{ { true, 0, 32, 8192, 8192, 0xfffffffcu }, -ERANGE },  /* absurd stride */
		{ { true, 0xffffffffu, 32, 1, 1, 4 }, -ERANGE },        /* offset */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(synthvid_output_check(&bad[i].o, vram), ==, bad[i].want);
}

static void test_build_host_messages(void)
{
	uint8_t m[SYNTHVID_HOST_MSG_MAX];
	long n = synthvid_msg_build_version_response(m, sizeof(m), SYNTHVID_VERSION_WIN10, true);
	g_assert_cmpint(n, ==, 16 + 6);
	g_assert_cmpuint(rd32(m), ==, 1);              /* PIPE_MSG_DATA */
	g_assert_cmpuint(rd32(m + 4), ==, 14);
	g_assert_cmpuint(rd32(m + 8), ==, 2);          /* VERSION_RESPONSE */
	g_assert_cmpuint(rd32(m + 12), ==, 14);
	g_assert_cmpuint(rd32(m + 16), ==, 0x00050003);
	g_assert_cmpuint(m[20], ==, 1);                /* is_accepted */
	g_assert_cmpuint(m[21], ==, 1);                /* max_video_outputs */
	n = synthvid_msg_build_version_response(m, sizeof(m), SYNTHVID_VERSION(3, 0), false);
	g_assert_cmpint(n, ==, 22);
	g_assert_cmpuint(m[20], ==, 0);

	n = synthvid_msg_build_ack(m, sizeof(m), SYNTHVID_VRAM_LOCATION_ACK, 0xf8000000);
	g_assert_cmpint(n, ==, 24);
	g_assert_cmpuint(rd32(m + 8), ==, 4);
	g_assert_cmpuint(rd32(m + 12), ==, 16);
	g_assert_cmpuint(rd64(m + 16), ==, 0xf8000000);
	n = synthvid_msg_build_ack(m, sizeof(m), SYNTHVID_SITUATION_UPDATE_ACK, 7);
	g_assert_cmpint(n, ==, 24);
	g_assert_cmpuint(rd32(m + 8), ==, 6);
	g_assert_cmpint(synthvid_msg_build_ack(m, sizeof(m), SYNTHVID_DIRT, 7), ==, -EINVAL);

	n = synthvid_msg_build_feature_change(m, sizeof(m), true, false, true, false);
	g_assert_cmpint(n, ==, 20);
	g_assert_cmpuint(rd32(m + 8), ==, 9);
	g_assert_cmpuint(m[16], ==, 1);                /* is_dirt_needed */
	g_assert_cmpuint(m[17], ==, 0);
	g_assert_cmpuint(m[18], ==, 1);
	g_assert_cmpuint(m[19], ==, 0);

	/* Too small a buffer, by one byte, for each. */
	g_assert_cmpint(synthvid_msg_build_version_response(m, 21, 1, true), ==, -ENOSPC);
	g_assert_cmpint(synthvid_msg_build_ack(m, 23, SYNTHVID_VRAM_LOCATION_ACK, 1), ==, -ENOSPC);
	g_assert_cmpint(synthvid_msg_build_feature_change(m, 19, true, true, true, true), ==, -ENOSPC);

	/* Our own messages are not the guest's to send: the parser refuses them. */
	struct synthvid_msg p;
	n = synthvid_msg_build_version_response(m, sizeof(m), SYNTHVID_VERSION_WIN10, true);
	g_assert_cmpint(synthvid_msg_parse(m, (size_t)n, &p), ==, -ENOMSG);
}

static void test_build_resolutions(void)
{
	uint8_t m[SYNTHVID_HOST_MSG_MAX];
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	size_t nm = synthvid_modes_offered(SYNTHVID_VRAM_MB_DEFAULT, modes);
	int def = synthvid_mode_index(modes, nm, 1920, 1080);
	g_assert_cmpint(def, >=, 0);
	long n = synthvid_msg_build_resolution_response(m, sizeof(m), modes, nm, (size_t)def, 64);
	g_assert_cmpint(n, ==, (long)(16 + 131 + 4 * nm));
	g_assert_cmpint(n, <=, SYNTHVID_HOST_MSG_MAX);
	g_assert_cmpuint(rd32(m + 8), ==, 14);
	g_assert_cmpuint(rd32(m + 12), ==, (uint32_t)(n - 8));
	for (unsigned i = 0; i < 128; i++)
		g_assert_cmpuint(m[16 + i], ==, 0);    /* EDID: unused */
	g_assert_cmpuint(m[144], ==, nm);            /* resolution_count */
	g_assert_cmpuint(m[145], ==, (unsigned)def); /* default_resolution_index */
	for (size_t i = 0; i < nm; i++) {
		g_assert_cmpuint(rd16(m + 147 + 4 * i), ==, modes[i].width);
		g_assert_cmpuint(rd16(m + 149 + 4 * i), ==, modes[i].height);
	}
	/* What hyperv_fb does with it: supported_resolution[default_index]. */
	g_assert_cmpuint(rd16(m + 147 + 4 * m[145]), ==, 1920);
	g_assert_cmpuint(rd16(m + 149 + 4 * m[145]), ==, 1080);

	/* A guest that takes 3: two entries, then the default. */
	n = synthvid_msg_build_resolution_response(m, sizeof(m), modes, nm, (size_t)def, 3);
	g_assert_cmpint(n, ==, 16 + 131 + 12);
	g_assert_cmpuint(m[144], ==, 3);
	g_assert_cmpuint(m[145], ==, 2);
	g_assert_cmpuint(rd16(m + 147), ==, modes[0].width);
	g_assert_cmpuint(rd16(m + 147 + 8), ==, 1920);
	g_assert_cmpuint(rd16(m + 149 + 8), ==, 1080);
	/* ... and when the default is among the first entries, it stays there. */
	n = synthvid_msg_build_resolution_response(m, sizeof(m), modes, nm, 1, 3);
	g_assert_cmpuint(m[145], ==, 1);
	g_assert_cmpuint(rd16(m + 147 + 4), ==, modes[1].width);
	g_assert_cmpuint(rd16(m + 147 + 8), ==, modes[2].width);
	/* A guest that takes none gets none (and keeps its own default). */
	n = synthvid_msg_build_resolution_response(m, sizeof(m), modes, nm, 0, 0);
	g_assert_cmpint(n, ==, 16 + 131);
	g_assert_cmpuint(m[144], ==, 0);
	g_assert_cmpuint(m[145], ==, 0);

	g_assert_cmpint(synthvid_msg_build_resolution_response(m, sizeof(m), modes, 0, 0, 64), ==, -EINVAL);
	g_assert_cmpint(synthvid_msg_build_resolution_response(m, sizeof(m), modes, nm, nm, 64), ==, -EINVAL);
	g_assert_cmpint(synthvid_msg_build_resolution_response(m, sizeof(m), modes, SYNTHVID_RESOLUTIONS_MAX + 1, 0,
							       64), ==, -EINVAL);
	g_assert_cmpint(synthvid_msg_build_resolution_response(m, 16 + 131 + 4 * nm - 1, modes, nm, 0, 64), ==,
			-ENOSPC);
	/* The longest list there can be still fits the guest's 4 KiB packets. */
	struct synthvid_mode many[SYNTHVID_RESOLUTIONS_MAX];
	for (unsigned i = 0; i < SYNTHVID_RESOLUTIONS_MAX; i++)
		many[i] = (struct synthvid_mode){ (uint16_t)(640 + i), 480 };
	n = synthvid_msg_build_resolution_response(m, sizeof(m), many, SYNTHVID_RESOLUTIONS_MAX, 63, 255);
	g_assert_cmpint(n, ==, 16 + 131 + 4 * 64);
	g_assert_cmpuint(m[144], ==, 64);
	g_assert_cmpuint(m[145], ==, 63);
}

static void test_modes(void)
{
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	size_t n = synthvid_modes_offered(SYNTHVID_VRAM_MB_DEFAULT, modes);
	/* The common steps from 1024x768 to 1920x1080 are all there. */
	static const uint16_t want[][2] = {
		{ 1024, 768 }, { 1152, 864 }, { 1280, 720 }, { 1280, 800 }, { 1280, 1024 }, { 1366, 768 },
		{ 1440, 900 }, { 1600, 900 }, { 1680, 1050 }, { 1920, 1080 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpint(synthvid_mode_index(modes, n, want[i][0], want[i][1]), >=, 0);
	/* Every mode offered fits the VRAM the offer announces, and the
	 * largest that do not fit are left out. */
	for (size_t i = 0; i < n; i++)
		g_assert_cmpuint((uint64_t)modes[i].width * modes[i].height * 4, <=,
				 (uint64_t)SYNTHVID_VRAM_MB_DEFAULT << 20);
	g_assert_cmpint(synthvid_mode_index(modes, n, 3840, 2160), ==, -ENOENT);
	g_assert_cmpint(synthvid_mode_index(modes, n, 2560, 1600), >=, 0);
	g_assert_cmpuint(n, ==, synthvid_n_modes - 1);
	g_assert_cmpint(synthvid_mode_index(modes, n, 800, 600), ==, -ENOENT);
	g_assert_cmpint(synthvid_mode_index(modes, n, 768, 1024), ==, -ENOENT);

	n = synthvid_modes_offered(32, modes);
	g_assert_cmpint(synthvid_mode_index(modes, n, 3840, 2160), >=, 0);
	g_assert_cmpuint(n, ==, synthvid_n_modes);
	/* 4 MiB: 1280x800 (3.9 MiB) still, 1280x1024 (5 MiB) no more. */
	n = synthvid_modes_offered(SYNTHVID_VRAM_MB_MIN, modes);
	g_assert_cmpint(synthvid_mode_index(modes, n, 1280, 800), >=, 0);
	g_assert_cmpint(synthvid_mode_index(modes, n, 1280, 1024), ==, -ENOENT);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpuint(synthvid_modes_offered(1, modes), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synthvid-msg/parse-linux-messages", test_parse_linux_messages);
	g_test_add_func("/synthvid-msg/parse-short", test_parse_short);
	g_test_add_func("/synthvid-msg/parse-bad-framing", test_parse_bad_framing);
	g_test_add_func("/synthvid-msg/parse-unknown-types", test_parse_unknown_types);
	g_test_add_func("/synthvid-msg/parse-counts", test_parse_counts);
	g_test_add_func("/synthvid-msg/parse-shapes", test_parse_shapes);
	g_test_add_func("/synthvid-msg/rect-check", test_rect_check);
	g_test_add_func("/synthvid-msg/output-check", test_output_check);
	g_test_add_func("/synthvid-msg/build-host-messages", test_build_host_messages);
	g_test_add_func("/synthvid-msg/build-resolutions", test_build_resolutions);
	g_test_add_func("/synthvid-msg/modes", test_modes);
	return g_test_run();
}
