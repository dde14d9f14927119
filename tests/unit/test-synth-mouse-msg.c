// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synthetic mouse's messages (synth_mouse_msg.c) at the offsets of
 * Linux's hid-hyperv.c, the checks it applies to them, and our HID report
 * descriptor read by an item parser written here from the HID 1.11
 * specification (6.2.2): the fields land where the report encoder puts
 * the values, with the ranges the guest's hid-input needs.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vsp/input.h"
#include "vsp/synth_mouse_msg.h"

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* What Linux sends: a struct mousevsc_prt_msg, 23 bytes of it for the
 * request (pipe {1, 12}, {0, 4}, version) and 20 for the ack
 * (pipe {1, 9}, {3, 1}, 0); the rest of the struct is zeroes. */
static size_t linux_request(uint8_t *b, uint32_t version)
{
	memset(b, 0, 24);
	wr32(b, 1);
	wr32(b + 4, 12);
	wr32(b + 8, 0);
	wr32(b + 12, 4);
	wr32(b + 16, version);
	return 23;
}

static size_t linux_ack(uint8_t *b)
{
	memset(b, 0, 24);
	wr32(b, 1);
	wr32(b + 4, 9);
	wr32(b + 8, 3);
	wr32(b + 12, 1);
	return 20;
}

static void test_parse(void)
{
	uint8_t b[32];
	struct synth_mouse_guest_msg m;
	size_t n = linux_request(b, 0x00020000);
	g_assert_cmpint(synth_mouse_msg_parse(b, n, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, SYNTH_MOUSE_MSG_PROTOCOL_REQUEST);
	g_assert_cmphex(m.version, ==, SYNTH_MOUSE_VERSION_2_0);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, 0);   /* ring padding */
	n = linux_ack(b);
	g_assert_cmpint(synth_mouse_msg_parse(b, n, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, SYNTH_MOUSE_MSG_DEVICE_INFO_ACK);
	/* The exact sizes, without Linux's tail. */
	g_assert_cmpint(synth_mouse_msg_parse(b, 17, &m), ==, 0);
	linux_request(b, 0x00010000);
	g_assert_cmpint(synth_mouse_msg_parse(b, 20, &m), ==, 0);
	g_assert_cmphex(m.version, ==, 0x00010000);
}

static void test_parse_malformed(void)
{
	uint8_t b[SYNTH_MOUSE_MSG_MAX + 16];
	struct synth_mouse_guest_msg m, before;
	memset(&m, 0x5a, sizeof(m));
	before = m;
	memset(b, 0, sizeof(b));
	/* Short of the two headers. */
	linux_request(b, 0x00020000);
	for (size_t n = 0; n < 16; n++)
		g_assert_cmpint(synth_mouse_msg_parse(b, n, &m), ==, -EBADMSG);
	/* The pipe size claims more than there is, or less than a header. */
	g_assert_cmpint(synth_mouse_msg_parse(b, 19, &m), ==, -EBADMSG);
	wr32(b + 4, 0xffffffffu);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	wr32(b + 4, 7);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	/* The message size claims more than the pipe holds, or too little. */
	linux_request(b, 0x00020000);
	wr32(b + 12, 5);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	wr32(b + 12, 3);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	linux_ack(b);
	wr32(b + 12, 0);
	g_assert_cmpint(synth_mouse_msg_parse(b, 20, &m), ==, -EBADMSG);
	/* Not a data pipe message. */
	linux_request(b, 0x00020000);
	wr32(b, 0);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	wr32(b, 2);
	g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	/* Types the guest does not send (the host's, unknown). */
	static const uint32_t types[] = { 1, 2, 4, 5, 0x7fffffffu, 0xffffffffu };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		linux_request(b, 0x00020000);
		wr32(b + 8, types[i]);
		g_assert_cmpint(synth_mouse_msg_parse(b, 24, &m), ==, -EBADMSG);
	}
	/* Oversized. */
	linux_request(b, 0x00020000);
	g_assert_cmpint(synth_mouse_msg_parse(b, SYNTH_MOUSE_MSG_MAX + 1, &m), ==, -EMSGSIZE);
	g_assert_cmpmem(&m, sizeof(m), &before, sizeof(before));
}

static void test_response(void)
{
	uint8_t b[64];
	memset(b, 0xcc, sizeof(b));
	long n = synth_mouse_msg_build_response(b, sizeof(b), 0x00020000, true);
	g_assert_cmpint(n, ==, 21);
	g_assert_cmpuint(rd32(b), ==, 1);
	/* Linux copies pipe size + 11 bytes into a 24-byte struct, or drops it. */
	g_assert_cmpuint(rd32(b + 4), ==, 13);
	g_assert_cmpuint(rd32(b + 4) + 11, <=, 24);
	g_assert_cmpuint(rd32(b + 8), ==, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE);
	g_assert_cmpuint(rd32(b + 12), ==, 5);
	g_assert_cmphex(rd32(b + 16), ==, 0x00020000);
	g_assert_cmpuint(b[20], ==, 1);                 /* response.approved */
	g_assert_cmphex(b[21], ==, 0xcc);
	n = synth_mouse_msg_build_response(b, 21, 0x00030000, false);
	g_assert_cmpint(n, ==, 21);
	g_assert_cmpuint(b[20], ==, 0);
	g_assert_cmpint(synth_mouse_msg_build_response(b, 20, 0, true), ==, -ENOSPC);
}

/* mousevsc_on_receive_device_info's checks; the report descriptor it keeps. */
static void test_device_info(void)
{
	uint8_t b[512];
	long n = synth_mouse_msg_build_device_info(b, sizeof(b));
	size_t dlen;
	const uint8_t *desc = synth_mouse_report_descriptor(&dlen);
	g_assert_cmpint(n, ==, 16 + 32 + 9 + (long)dlen);
	g_assert_cmpuint(rd32(b), ==, 1);
	uint32_t pipe_size = rd32(b + 4);
	g_assert_cmpuint(pipe_size, ==, (uint32_t)n - 8);
	g_assert_cmpuint(rd32(b + 8), ==, SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO);
	g_assert_cmpuint(rd32(b + 12), ==, pipe_size - 8);
	/* The guest's checks: at least struct synthhid_device_info (49). */
	g_assert_cmpuint(pipe_size, >=, 49);
	const uint8_t *info = b + 8;    /* struct synthhid_device_info, header first */
	g_assert_cmpuint(rd32(info + 8), ==, 32);
	g_assert_cmphex(rd16(info + 12), ==, 0x045e);
	g_assert_cmphex(rd16(info + 14), ==, 0x0621);
	for (int i = 18; i < 40; i++)
		g_assert_cmpuint(info[i], ==, 0);
	const uint8_t *hid = info + 40;
	size_t desc_size = pipe_size - 40;
	g_assert_cmpuint(hid[0], ==, 9);
	g_assert_cmpuint(hid[0], <=, desc_size);
	g_assert_cmphex(hid[1], ==, 0x21);
	g_assert_cmphex(rd16(hid + 2), ==, 0x0101);
	g_assert_cmpuint(hid[5], ==, 1);
	g_assert_cmphex(hid[6], ==, 0x22);
	uint16_t rlen = rd16(hid + 7);
	g_assert_cmpuint(rlen, ==, dlen);
	g_assert_cmpuint(rlen, >, 0);
	g_assert_cmpuint(rlen, <=, desc_size - hid[0]);
	g_assert_cmpmem(hid + hid[0], rlen, desc, dlen);
	/* The SA-167 rewrite must not touch ours. */
	g_assert_cmphex(desc[14], !=, 0x25);
	/* It fits the guest's 4 KiB packets with room to spare. */
	g_assert_cmpint(n, <, 512);
	g_assert_cmpint(synth_mouse_msg_build_device_info(b, (size_t)n - 1), ==, -ENOSPC);
}

/* ---- the report descriptor ---- */

struct hid_field {
	uint32_t usage;              /* page << 16 | id; 0 for padding */
	unsigned bit, size;
	int32_t lmin, lmax;
	bool constant, relative;
	uint32_t application;
};

struct hid_layout {
	struct hid_field f[32];
	unsigned n, bits;
	unsigned report_ids, collections_open, max_depth;
	uint32_t first_application;
};

static int32_t item_signed(const uint8_t *d, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d[i] << (8 * i);
	if (size && size < 4 && (v & (1u << (8 * size - 1))))
		v |= ~0u << (8 * size);
	return (int32_t)v;
}

static uint32_t item_unsigned(const uint8_t *d, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}

/* Short items only (a long item fails the test): the Input fields. */
static void hid_parse(const uint8_t *d, size_t len, struct hid_layout *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t page = 0, usages[16], umin = 0, umax = 0, application = 0;
	unsigned nusages = 0, rsize = 0, rcount = 0, depth = 0;
	int32_t lmin = 0, lmax = 0;
	bool have_range = false;
	size_t i = 0;
	while (i < len) {
		uint8_t prefix = d[i++];
		g_assert_cmphex(prefix, !=, 0xfe);
		unsigned size = (prefix & 3) == 3 ? 4 : prefix & 3;
		unsigned type = (prefix >> 2) & 3, tag = prefix >> 4;
		g_assert_cmpuint(i + size, <=, len);
		const uint8_t *data = d + i;
		i += size;
		uint32_t u = item_unsigned(data, size);
		if (type == 1) {             /* global */
			switch (tag) {
			case 0: page = u; break;
			case 1: lmin = item_signed(data, size); break;
			case 2: lmax = item_signed(data, size); break;
			case 7: rsize = u; break;
			case 8: out->report_ids++; break;
			case 9: rcount = u; break;
			}
		} else if (type == 2) {      /* local: a 1-2 byte usage takes the page */
			uint32_t full = size <= 2 ? page << 16 | u : u;
			switch (tag) {
			case 0: g_assert_cmpuint(nusages, <, 16); usages[nusages++] = full; break;
			case 1: umin = full; have_range = true; break;
			case 2: umax = full; have_range = true; break;
			}
		} else if (type == 0) {      /* main */
			if (tag == 10) {         /* collection */
				if (u == 1 && depth == 0) {
					g_assert_cmpuint(nusages, ==, 1);
					application = usages[0];
					if (!out->first_application)
						out->first_application = application;
				}
				depth++;
				if (depth > out->max_depth)
					out->max_depth = depth;
			} else if (tag == 12) {  /* end collection */
				g_assert_cmpuint(depth, >, 0);
				depth--;
			} else if (tag == 8) {   /* input */
				for (unsigned k = 0; k < rcount; k++) {
					g_assert_cmpuint(out->n, <, G_N_ELEMENTS(out->f));
					struct hid_field *f = &out->f[out->n++];
					uint32_t usage = 0;
					if (!(u & 1)) {
						if (have_range)
							usage = umin + k <= umax ? umin + k : umax;
						else if (nusages)
							usage = usages[k < nusages ? k : nusages - 1];
					}
					*f = (struct hid_field){ usage, out->bits, rsize, lmin, lmax, u & 1, u & 4, application };
					out->bits += rsize;
				}
			}
			nusages = 0;
			have_range = false;
		}
	}
	out->collections_open = depth;
}

static const struct hid_field *hid_find(const struct hid_layout *l, uint32_t usage)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->f[i].usage == usage)
			return &l->f[i];
	return NULL;
}

static const struct hid_field *hid_get(const struct hid_layout *l, uint32_t usage)
{
	const struct hid_field *f = hid_find(l, usage);
	if (!f)
		g_error("no field for usage 0x%08x", usage);
	return f;
}

static int32_t field_value(const struct hid_field *f, const uint8_t *report)
{
	uint32_t v = 0;
	for (unsigned b = 0; b < f->size; b++)
		if (report[(f->bit + b) / 8] & (1u << ((f->bit + b) % 8)))
			v |= 1u << b;
	if (f->lmin < 0 && f->size < 32 && (v & (1u << (f->size - 1))))
		v |= ~0u << f->size;
	return (int32_t)v;
}

#define GD(id)     (0x00010000u | (id))
#define BUTTON(n)  (0x00090000u | (n))
#define AC_PAN     0x000c0238u

static void test_descriptor(void)
{
	size_t dlen;
	const uint8_t *d = synth_mouse_report_descriptor(&dlen);
	struct hid_layout l;
	hid_parse(d, dlen, &l);
	g_assert_cmpuint(l.collections_open, ==, 0);
	g_assert_cmpuint(l.max_depth, ==, 2);
	g_assert_cmpuint(l.report_ids, ==, 0);
	/* A mouse application: hid-input maps its buttons to BTN_LEFT.. */
	g_assert_cmphex(l.first_application, ==, GD(0x02));
	g_assert_cmpuint(l.bits, ==, 8 * SYNTH_MOUSE_REPORT_SIZE);
	for (unsigned b = 1; b <= 5; b++) {
		const struct hid_field *f = hid_get(&l, BUTTON(b));
		g_assert_cmpuint(f->bit, ==, b - 1);
		g_assert_cmpuint(f->size, ==, 1);
		g_assert_cmpint(f->lmin, ==, 0);
		g_assert_cmpint(f->lmax, ==, 1);
		g_assert_false(f->relative);
	}
	g_assert_null(hid_find(&l, BUTTON(6)));
	const struct hid_field *x = hid_get(&l, GD(0x30)), *y = hid_get(&l, GD(0x31));
	const struct hid_field *wheel = hid_get(&l, GD(0x38)), *pan = hid_get(&l, AC_PAN);
	g_assert_cmpuint(x->bit, ==, 8);
	g_assert_cmpuint(y->bit, ==, 24);
	g_assert_cmpuint(wheel->bit, ==, 40);
	g_assert_cmpuint(pan->bit, ==, 48);
	for (int i = 0; i < 2; i++) {
		const struct hid_field *f = i ? y : x;
		g_assert_cmpuint(f->size, ==, 16);
		g_assert_cmpint(f->lmin, ==, 0);
		g_assert_cmpint(f->lmax, ==, INPUT_ABS_MAX);
		g_assert_false(f->relative);
		g_assert_false(f->constant);
		g_assert_cmphex(f->application, ==, GD(0x02));
	}
	for (int i = 0; i < 2; i++) {
		const struct hid_field *f = i ? pan : wheel;
		g_assert_cmpuint(f->size, ==, 8);
		g_assert_cmpint(f->lmin, ==, -SYNTH_MOUSE_WHEEL_REPORT_MAX);
		g_assert_cmpint(f->lmax, ==, SYNTH_MOUSE_WHEEL_REPORT_MAX);
		g_assert_true(f->relative);
		g_assert_cmphex(f->application, ==, GD(0x02));
	}
	/* The three padding bits after the buttons. */
	unsigned pad = 0;
	for (unsigned i = 0; i < l.n; i++)
		if (l.f[i].constant)
			pad += l.f[i].size;
	g_assert_cmpuint(pad, ==, 3);

	/* The encoder writes what the descriptor says, values in range. */
	static const struct synth_mouse_report reps[] = {
		{ 0, 0, 0, 0, 0 },
		{ 32767, 32767, 0x1f, 127, -127 },
		{ 12345, 321, INPUT_BUTTON_LEFT | INPUT_BUTTON_EXTRA, -1, 1 },
		{ 1, 32766, INPUT_BUTTON_MIDDLE, -127, 127 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(reps); i++) {
		uint8_t r[SYNTH_MOUSE_REPORT_SIZE];
		synth_mouse_report_encode(&reps[i], r);
		g_assert_cmpint(field_value(x, r), ==, reps[i].x);
		g_assert_cmpint(field_value(y, r), ==, reps[i].y);
		g_assert_cmpint(field_value(wheel, r), ==, reps[i].wheel);
		g_assert_cmpint(field_value(pan, r), ==, reps[i].hwheel);
		for (unsigned b = 1; b <= 5; b++) {
			const struct hid_field *f = hid_get(&l, BUTTON(b));
			g_assert_cmpint(field_value(f, r), ==, (reps[i].buttons >> (b - 1)) & 1);
		}
		for (unsigned k = 0; k < l.n; k++)
			if (l.f[k].constant)
				g_assert_cmpint(field_value(&l.f[k], r), ==, 0);
	}
	/* Buttons past the five are not sent. */
	uint8_t r[SYNTH_MOUSE_REPORT_SIZE];
	synth_mouse_report_encode(&(struct synth_mouse_report){ .buttons = 0xff }, r);
	g_assert_cmphex(r[0], ==, 0x1f);
}

static void test_input(void)
{
	uint8_t b[64];
	memset(b, 0xcc, sizeof(b));
	struct synth_mouse_report rep = { 0x1234, 0x7fff, INPUT_BUTTON_RIGHT, -3, 2 };
	long n = synth_mouse_msg_build_input(b, sizeof(b), &rep);
	g_assert_cmpint(n, ==, 16 + SYNTH_MOUSE_REPORT_SIZE);
	g_assert_cmpuint(rd32(b), ==, 1);
	g_assert_cmpuint(rd32(b + 4), ==, 8 + SYNTH_MOUSE_REPORT_SIZE);
	g_assert_cmpuint(rd32(b + 8), ==, SYNTH_MOUSE_MSG_INPUT_REPORT);
	/* input_report->header.size is the report's length for hid_input_report. */
	g_assert_cmpuint(rd32(b + 12), ==, SYNTH_MOUSE_REPORT_SIZE);
	static const uint8_t want[] = { 0x02, 0x34, 0x12, 0xff, 0x7f, 0xfd, 0x02 };
	g_assert_cmpmem(b + 16, SYNTH_MOUSE_REPORT_SIZE, want, sizeof(want));
	g_assert_cmphex(b[23], ==, 0xcc);
	g_assert_cmpint(synth_mouse_msg_build_input(b, 22, &rep), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synth-mouse-msg/parse", test_parse);
	g_test_add_func("/synth-mouse-msg/parse-malformed", test_parse_malformed);
	g_test_add_func("/synth-mouse-msg/response", test_response);
	g_test_add_func("/synth-mouse-msg/device-info", test_device_info);
	g_test_add_func("/synth-mouse-msg/descriptor", test_descriptor);
	g_test_add_func("/synth-mouse-msg/input", test_input);
	return g_test_run();
}
