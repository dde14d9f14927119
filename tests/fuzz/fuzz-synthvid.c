// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: hostile guest messages against the synthetic video device.
 *
 * Byte 0 picks the path:
 *  - bit 0 clear: the input is one guest payload for synthvid_msg_parse, and
 *    what it accepts is checked against the bytes (sizes inside the input,
 *    counts that fit, rectangles and modes the checks pass really inside the
 *    screen and the VRAM); the rest of the input also drives the host-side
 *    builders (resolution lists of any length, default and guest limit),
 *    whose output must be what hyperv_fb can read.
 *  - bit 0 set: a sequence of packets into the real device through the VSP
 *    bus, with the guest simulator of the unit tests, a display whose sink
 *    reads every damaged pixel, and a fake memslot host. The harness waits
 *    for the bus after each packet, so the run is deterministic. Checked:
 *    every host packet is a well-formed synthvid message of a host type that
 *    fits the guest's 4 KiB reads; counters never go back; the memslot is
 *    mapped exactly while the device says VRAM is in the window, and
 *    unmapped after the close; damage stays inside the surface.
 *
 * Bus packets: {ctl, len, bytes[len]}. ctl bit 7: bytes are the whole
 * payload. Else ctl & 7 picks a message (version, resolution request, VRAM
 * location, mode, DIRT, pointer, shape, a raw type) whose fields come from
 * the bytes; ctl bit 6 keeps the fields plausible (a version we speak, a
 * VRAM place in the window or in RAM, a mode that fits, rectangles on the
 * screen) so that the device gets past its first checks; ctl bit 5 sends it
 * as another VMBus packet type; ctl bit 4 draws into VRAM first.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hv/layout.h"
#include "hv/le.h"
#include "hv/vmbus_ring.h"
#include "vsp-guest.h"
#include "vsp/synthvid.h"
#include "vsp/synthvid_msg.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

#define FUZZ_MAX_PKTS   48u
#define FUZZ_WAIT_MS    5000u
#define FUZZ_VRAM_MB    SYNTHVID_VRAM_MB_MIN
#define FUZZ_VRAM_SIZE  ((uint64_t)FUZZ_VRAM_MB << 20)
#define FUZZ_RAM_GPA    (8u << 20)       /* below the simulator's rings */
#define FUZZ_RING_PAGES 64u

/* ---- the parser and the builders ---- */

static void check_parsed(const uint8_t *data, size_t len)
{
	struct synthvid_msg m;
	int r = synthvid_msg_parse(data, len, &m);
	CHECK(r == 0 || r == -EBADMSG || r == -ENOMSG);
	if (r < 0)
		return;
	CHECK(m.body >= data + 16 && m.body + m.body_len <= data + len);
	const uint8_t *end = m.body + m.body_len;
	switch (m.type) {
	case SYNTHVID_SITUATION_UPDATE: {
		CHECK(m.situation.count >= 1 && 9u + 18u * m.situation.count <= m.body_len);
		int c = synthvid_output_check(&m.situation.out, FUZZ_VRAM_SIZE);
		if (c == 0)
			CHECK((uint64_t)m.situation.out.vram_offset +
				      (uint64_t)m.situation.out.pitch * m.situation.out.height <= FUZZ_VRAM_SIZE &&
			      m.situation.out.pitch >= m.situation.out.width * 4u);
		break;
	}
	case SYNTHVID_DIRT:
		CHECK(m.dirt.count >= 1 && m.dirt.rects + 16u * m.dirt.count <= end);
		for (unsigned i = 0; i < m.dirt.count; i++) {
			struct synthvid_rect sr;
			struct display_rect dr;
			synthvid_msg_dirt_rect(&m, i, &sr);
			if (synthvid_rect_check(&sr, 1024, 768, &dr) == 0)
				CHECK(dr.w && dr.h && dr.x + dr.w <= 1024 && dr.y + dr.h <= 768);
		}
		break;
	case SYNTHVID_POINTER_SHAPE: {
		CHECK(m.shape.part == SYNTHVID_CURSOR_COMPLETE);
		CHECK(m.shape.width >= 1 && m.shape.width <= SYNTHVID_CURSOR_MAX_SIDE);
		CHECK(m.shape.height >= 1 && m.shape.height <= SYNTHVID_CURSOR_MAX_SIDE);
		CHECK(m.shape.hot_x < m.shape.width && m.shape.hot_y < m.shape.height);
		size_t need = m.shape.argb ? (size_t)m.shape.width * m.shape.height * 4u
					   : 2u * ((m.shape.width + 7u) / 8u) * m.shape.height;
		CHECK(m.shape.image + need <= end);
		break;
	}
	case SYNTHVID_VERSION_REQUEST:
	case SYNTHVID_VRAM_LOCATION:
	case SYNTHVID_POINTER_POSITION:
	case SYNTHVID_RESOLUTION_REQUEST:
		break;
	default:
		abort();     /* the parser returns no other type */
	}
}

static void check_builders(struct fuzz_input *in)
{
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX + 1];
	size_t n = in_u8(in) % (SYNTHVID_RESOLUTIONS_MAX + 2);
	for (size_t i = 0; i < n; i++)
		modes[i] = (struct synthvid_mode){ (uint16_t)in_u32(in), (uint16_t)in_u32(in) };
	size_t def = in_u8(in);
	uint8_t max = in_u8(in);
	size_t size = in_u8(in) * 4u;
	static uint8_t buf[SYNTHVID_HOST_MSG_MAX];
	long r = synthvid_msg_build_resolution_response(buf, size < sizeof(buf) ? size : sizeof(buf), modes, n,
							def, max);
	if (n == 0 || n > SYNTHVID_RESOLUTIONS_MAX || def >= n) {
		CHECK(r == -EINVAL);
		return;
	}
	size_t count = n < max ? n : max;
	if (r == -ENOSPC) {
		CHECK((size < sizeof(buf) ? size : sizeof(buf)) < 16u + 131u + 4u * count);
		return;
	}
	CHECK(r == (long)(16 + 131 + 4 * count) && r <= (long)SYNTHVID_HOST_MSG_MAX);
	CHECK(le32_get(buf) == SYNTHVID_PIPE_DATA && le32_get(buf + 8) == SYNTHVID_RESOLUTION_RESPONSE);
	CHECK(le32_get(buf + 4) == le32_get(buf + 12) && le32_get(buf + 12) == (uint32_t)r - 8u);
	CHECK(buf[144] == count);
	if (count) {
		/* hyperv_fb takes supported_resolution[default_index]. */
		unsigned d = buf[145];
		CHECK(d < count);
		CHECK(le16_get(buf + 147 + 4 * d) == modes[def].width && le16_get(buf + 149 + 4 * d) == modes[def].height);
	}
}

/* ---- the device on the bus ---- */

struct fuzz_sink {
	GMainContext *ctx;
	bool have;
	struct display_surface s;
	uint64_t sum;                /* of every damaged pixel: reading them is the check */
};

static void fsink_surface(void *opaque, const struct display_surface *s)
{
	struct fuzz_sink *k = opaque;
	k->have = s != NULL;
	if (s) {
		k->s = *s;
		CHECK(s->width && s->height && s->width <= DISPLAY_MAX_SIDE && s->height <= DISPLAY_MAX_SIDE);
		CHECK(s->offset + (uint64_t)s->stride * s->height <= FUZZ_VRAM_SIZE);
	}
}

static void fsink_damage(void *opaque, const struct display_rect *r, size_t n)
{
	struct fuzz_sink *k = opaque;
	CHECK(k->have);
	for (size_t i = 0; i < n; i++) {
		CHECK(r[i].w && r[i].h && r[i].x + r[i].w <= k->s.width && r[i].y + r[i].h <= k->s.height);
		/* Corners are enough for the mapping; the sum keeps the reads. */
		const uint8_t *row0 = k->s.pixels + (size_t)r[i].y * k->s.stride + (size_t)r[i].x * 4u;
		const uint8_t *rowl = k->s.pixels + (size_t)(r[i].y + r[i].h - 1) * k->s.stride +
				      (size_t)(r[i].x + r[i].w - 1) * 4u;
		k->sum += row0[0] + rowl[3];
	}
}

static const struct display_sink_ops fsink_ops = { .surface = fsink_surface, .damage = fsink_damage };

struct fuzz_host {
	unsigned maps, unmaps;
	bool mapped;
	uint64_t gpa;
	uint8_t *view;
};

static int fhost_map(void *opaque, uint64_t gpa, int memfd, uint64_t size)
{
	struct fuzz_host *h = opaque;
	CHECK(!h->mapped && size == FUZZ_VRAM_SIZE);
	CHECK(gpa >= LAYOUT_VMBUS_MMIO_START && gpa + size <= LAYOUT_VMBUS_MMIO_END && gpa % 4096 == 0);
	h->view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(h->view != MAP_FAILED);
	h->mapped = true;
	h->gpa = gpa;
	h->maps++;
	return 0;
}

static void fhost_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct fuzz_host *h = opaque;
	CHECK(h->mapped && gpa == h->gpa && size == FUZZ_VRAM_SIZE);
	munmap(h->view, size);
	h->view = NULL;
	h->mapped = false;
	h->unmaps++;
}

struct rig {
	struct vsp_guest *g;
	struct synthvid *sv;
	struct display *d;
	struct fuzz_sink sink;
	struct fuzz_host host;       /* touched on the bus thread while we wait for it */
	const struct vsp_guest_offer *o;
};

static struct rig *rig;

static void rig_free(void)
{
	if (!rig)
		return;
	vsp_guest_free(rig->g);
	synthvid_free(rig->sv);
	display_remove_sink(rig->d, &fsink_ops, &rig->sink);
	display_free(rig->d);
	g_main_context_unref(rig->sink.ctx);
	free(rig);
	rig = NULL;
}

static struct rig *rig_get(void)
{
	if (rig)
		return rig;
	rig = calloc(1, sizeof(*rig));
	CHECK(rig);
	rig->g = vsp_guest_new();
	CHECK(rig->g);
	rig->sink.ctx = g_main_context_new();
	rig->d = display_new(rig->sink.ctx);
	display_add_sink(rig->d, &fsink_ops, &rig->sink);
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x5e5e5e5e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	struct synthvid_config cfg = {
		.vram_mb = FUZZ_VRAM_MB,
		.window_start = LAYOUT_VMBUS_MMIO_START, .window_end = LAYOUT_VMBUS_MMIO_END,
		.ram = vsp_guest_ram(rig->g), .display = rig->d,
		.host = { fhost_map, fhost_unmap, &rig->host },
	};
	rig->sv = synthvid_add(vsp_guest_bus(rig->g), &inst, &cfg);
	CHECK(rig->sv);
	CHECK(vsp_guest_connect(rig->g) == 1);
	struct vmbus_guid cls = SYNTHVID_CLASS;
	rig->o = vsp_guest_find(rig->g, &cls);
	CHECK(rig->o);
	atexit(rig_free);
	return rig;
}

static size_t frame(uint8_t *m, uint32_t type, size_t body)
{
	le32_put(m, SYNTHVID_PIPE_DATA);
	le32_put(m + 4, (uint32_t)(8 + body));
	le32_put(m + 8, type);
	le32_put(m + 12, (uint32_t)(8 + body));
	return 16 + body;
}

/* One message from the input; its length. */
static size_t make_msg(uint8_t ctl, struct fuzz_input *in, uint8_t *m, size_t room)
{
	bool sane = ctl & 0x40;
	uint8_t *b = m + 16;
	memset(m, 0, room);
	switch (ctl & 7) {
	case 0: {
		uint32_t v = in_u32(in);
		le32_put(b, sane ? ((v & 1) ? SYNTHVID_VERSION_WIN10 : SYNTHVID_VERSION_WIN8) : v);
		return frame(m, SYNTHVID_VERSION_REQUEST, 4);
	}
	case 1:
		b[0] = in_u8(in);
		return frame(m, SYNTHVID_RESOLUTION_REQUEST, 1);
	case 2: {
		uint64_t gpa = in_u64(in);
		if (sane)
			gpa = (gpa & 1) ? FUZZ_RAM_GPA
					: LAYOUT_VMBUS_MMIO_START + ((gpa >> 1) % 16u) * FUZZ_VRAM_SIZE;
		le64_put(b, gpa);
		b[8] = sane ? 1 : in_u8(in);
		le64_put(b + 9, gpa);
		return frame(m, SYNTHVID_VRAM_LOCATION, 17);
	}
	case 3: {
		uint32_t w = in_u32(in), h = in_u32(in), pitch = in_u32(in), off = in_u32(in);
		uint8_t depth = in_u8(in);
		if (sane) {
			w = 640 + w % 385;
			h = 480 + h % 289;
			pitch = w * 4 + (pitch % 4) * 64;
			off = (off % 16) * 4096;
			depth = 32;
		}
		b[8] = sane ? 1 : in_u8(in);
		b[9] = sane ? 1 : in_u8(in);
		le32_put(b + 10, off);
		b[14] = depth;
		le32_put(b + 15, w);
		le32_put(b + 19, h);
		le32_put(b + 23, pitch);
		return frame(m, SYNTHVID_SITUATION_UPDATE, 27);
	}
	case 4: {
		unsigned n = 1 + in_u8(in) % 8;
		b[0] = sane ? 0 : in_u8(in);
		b[1] = sane ? (uint8_t)n : in_u8(in);
		for (unsigned i = 0; i < n; i++) {
			int32_t x1 = (int32_t)in_u32(in), y1 = (int32_t)in_u32(in);
			int32_t x2 = (int32_t)in_u32(in), y2 = (int32_t)in_u32(in);
			if (sane) {
				x1 = (int32_t)((uint32_t)x1 % 600);
				y1 = (int32_t)((uint32_t)y1 % 400);
				x2 = x1 + 1 + (int32_t)((uint32_t)x2 % 40);
				y2 = y1 + 1 + (int32_t)((uint32_t)y2 % 40);
			}
			le32_put(b + 2 + 16 * i, (uint32_t)x1);
			le32_put(b + 6 + 16 * i, (uint32_t)y1);
			le32_put(b + 10 + 16 * i, (uint32_t)x2);
			le32_put(b + 14 + 16 * i, (uint32_t)y2);
		}
		return frame(m, SYNTHVID_DIRT, 2 + 16 * n);
	}
	case 5:
		b[0] = in_u8(in);
		b[1] = sane ? 0 : in_u8(in);
		le32_put(b + 2, in_u32(in));
		le32_put(b + 6, in_u32(in));
		return frame(m, SYNTHVID_POINTER_POSITION, 10);
	case 6: {
		uint32_t w = sane ? 1u + in_u8(in) % 8u : in_u32(in), h = sane ? 1u + in_u8(in) % 8u : in_u32(in);
		b[0] = sane ? SYNTHVID_CURSOR_COMPLETE : in_u8(in);
		b[1] = sane ? 1 : in_u8(in);
		le32_put(b + 2, w);
		le32_put(b + 6, h);
		le32_put(b + 10, sane ? 0 : in_u32(in));
		le32_put(b + 14, sane ? 0 : in_u32(in));
		size_t image = sane ? (size_t)w * h * 4u : in_u8(in);
		for (size_t i = 0; i < image && 18 + i < room - 16; i++)
			b[18 + i] = in_u8(in);
		return frame(m, SYNTHVID_POINTER_SHAPE, 18 + image);
	}
	default: {
		uint32_t type = in_u32(in);
		size_t n = in_u8(in);
		for (size_t i = 0; i < n; i++)
			b[i] = in_u8(in);
		return frame(m, type, n);
	}
	}
}

static uint64_t counters(const struct synthvid_state *s)
{
	return s->opens + s->situations + s->dirt + s->dirt_rects + s->pointer + s->shapes + s->vram_refused +
	       s->unsupported + s->bad + s->tx_dropped;
}

/* Everything the host wrote: well-formed messages of host types. */
static void drain_host(struct vsp_guest_chan *c)
{
	static uint8_t buf[8192];
	long n;
	while ((n = vsp_guest_read(c, buf, sizeof(buf))) > 0) {
		CHECK(n <= 4096);
		struct vmbus_packet_desc d;
		memcpy(&d, buf, sizeof(d));
		CHECK(d.type == VMBUS_PKT_DATA_INBAND && d.offset8 == 2);
		const uint8_t *p = buf + 16;
		size_t len = (size_t)n - 16;
		CHECK(len >= 16 && le32_get(p) == SYNTHVID_PIPE_DATA && le32_get(p + 4) == le32_get(p + 12));
		CHECK(le32_get(p + 12) >= 8 && 8u + le32_get(p + 12) <= len);
		uint32_t type = le32_get(p + 8);
		CHECK(type == SYNTHVID_VERSION_RESPONSE || type == SYNTHVID_VRAM_LOCATION_ACK ||
		      type == SYNTHVID_SITUATION_UPDATE_ACK || type == SYNTHVID_FEATURE_CHANGE ||
		      type == SYNTHVID_RESOLUTION_RESPONSE);
		if (type == SYNTHVID_RESOLUTION_RESPONSE)
			CHECK(len >= 16 + 131 && p[144] <= SYNTHVID_RESOLUTIONS_MAX && 16u + 131u + 4u * p[144] <= len &&
			      (p[144] == 0 || p[145] < p[144]));
	}
	CHECK(n == 0);
}

static void pump(struct rig *r)
{
	vsp_guest_bus_sync(r->g);
	while (g_main_context_iteration(r->sink.ctx, FALSE))
		;
}

static void run_bus(struct fuzz_input *in)
{
	struct rig *r = rig_get();
	struct vsp_guest_chan *c = NULL;
	uint32_t status = 1;
	CHECK(vsp_guest_open(r->g, r->o, FUZZ_RING_PAGES, FUZZ_RING_PAGES, &status, &c) == 0 && status == 0);
	struct synthvid_state prev;
	CHECK(vsp_guest_wait_until(r->g, (synthvid_get_state(r->sv, &prev), prev.phase != SYNTHVID_CLOSED),
				   FUZZ_WAIT_MS));
	static uint8_t m[16 + 18 + 4096];
	for (unsigned i = 0; i < FUZZ_MAX_PKTS && in->n >= 2; i++) {
		uint8_t ctl = in_u8(in);
		size_t len;
		if (ctl & 0x80) {
			len = in_u8(in);
			for (size_t k = 0; k < len; k++)
				m[k] = in_u8(in);
		} else {
			len = make_msg(ctl, in, m, sizeof(m));
		}
		if (ctl & 0x10) {
			/* The guest draws: into the memslot or its RAM. */
			if (r->host.view)
				memset(r->host.view + (in_u8(in) << 12), ctl, 4096);
			uint8_t *ram = guest_ram_ptr(vsp_guest_ram(r->g), FUZZ_RAM_GPA, FUZZ_VRAM_SIZE);
			memset(ram + (in_u8(in) << 12), ctl, 4096);
		}
		uint16_t type = (ctl & 0x20) ? (uint16_t)(in_u8(in) | 1) : VMBUS_PKT_DATA_INBAND;
		if (vsp_guest_write(c, type, 0, i + 1, m, len) == -EAGAIN)
			break;     /* a host that stopped reading: only the ring's size */
		pump(r);
		CHECK(vsp_guest_wait_until(r->g, vsp_guest_out_used(c) == 0, FUZZ_WAIT_MS));
		pump(r);
		drain_host(c);
		struct synthvid_state s;
		synthvid_get_state(r->sv, &s);
		CHECK(s.phase != SYNTHVID_CLOSED);
		CHECK(s.opens == prev.opens && s.bad >= prev.bad && s.dirt >= prev.dirt &&
		      s.situations >= prev.situations && s.vram_refused >= prev.vram_refused &&
		      counters(&s) >= counters(&prev));
		/* The memslot is there exactly while VRAM is in the window. */
		CHECK(r->host.mapped == (s.vram_kind == SYNTHVID_VRAM_MMIO));
		CHECK(s.phase != SYNTHVID_RUNNING || (s.vram_kind != SYNTHVID_VRAM_NONE && s.surface_width &&
						     s.surface_height <= DISPLAY_MAX_SIDE));
		prev = s;
	}
	CHECK(vsp_guest_release(c) == 0);
	CHECK(vsp_guest_wait_until(r->g, (synthvid_get_state(r->sv, &prev), prev.phase == SYNTHVID_CLOSED),
				   FUZZ_WAIT_MS));
	pump(r);
	CHECK(!r->host.mapped && r->host.maps == r->host.unmaps);
	CHECK(!r->sink.have);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_input in = { data + 1, size - 1 };
	if (data[0] & 1) {
		run_bus(&in);
		return 0;
	}
	/* The payload as a buffer of exactly its size, so reads past it show. */
	uint8_t *copy = g_memdup2(in.p, in.n);
	check_parsed(copy, in.n);
	g_free(copy);
	check_builders(&in);
	return 0;
}
