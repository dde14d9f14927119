// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synthetic video device (synthvid.c) end to end: the VMBus guest of
 * vsp-guest.h opens the channel with hyperv_fb's 256 KiB rings and plays
 * hyperv_fb's probe (drivers/video/fbdev/hyperv_fb.c: synthvid_connect_vsp,
 * synthvid_send_config, synthvid_update) with messages built byte by byte
 * at Linux's offsets; a display sink on the test's own main context sees
 * what viewers would. The host's memslot is played by a fake map_vram that
 * maps the memfd it is given, so the "guest" can draw into VRAM as the real
 * one does through KVM.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "hv/layout.h"
#include "hv/vmbus_ring.h"
#include "vsp-guest.h"
#include "vsp/synthvid.h"

#define WAIT_MS   VSP_GUEST_TIMEOUT_MS
#define WIN_START LAYOUT_VMBUS_MMIO_START
#define WIN_END   LAYOUT_VMBUS_MMIO_END
#define VRAM_MB   SYNTHVID_VRAM_MB_DEFAULT
#define VRAM_SIZE ((uint64_t)VRAM_MB << 20)
/* hyperv_fb's rings: 256 KiB each way. */
#define RING_PAGES 64u
/* Guest RAM the simulator leaves alone (its rings start at 32 MiB). */
#define RAM_VRAM_GPA (8u << 20)
#define BODY 16

/* ---- bytes at Linux's offsets ---- */

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
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

struct msg {
	uint8_t b[128];
	size_t len;
};

static struct msg frame(uint32_t type, size_t body)
{
	struct msg m = { .len = BODY + body };
	wr32(m.b, 1);
	wr32(m.b + 4, (uint32_t)(8 + body));
	wr32(m.b + 8, type);
	wr32(m.b + 12, (uint32_t)(8 + body));
	return m;
}

static struct msg m_version(uint32_t v)
{
	struct msg m = frame(1, 4);
	wr32(m.b + BODY, v);
	return m;
}

static struct msg m_resolution(uint8_t max)
{
	struct msg m = frame(13, 1);
	m.b[BODY] = max;
	return m;
}

static struct msg m_vram(uint64_t ctx, uint8_t specified, uint64_t gpa)
{
	struct msg m = frame(3, 17);
	wr64(m.b + BODY, ctx);
	m.b[BODY + 8] = specified;
	wr64(m.b + BODY + 9, gpa);
	return m;
}

static struct msg m_situ(uint8_t active, uint32_t offset, uint8_t depth, uint32_t w, uint32_t h, uint32_t pitch)
{
	struct msg m = frame(5, 27);
	m.b[BODY + 8] = 1;
	uint8_t *o = m.b + BODY + 9;
	o[0] = active;
	wr32(o + 1, offset);
	o[5] = depth;
	wr32(o + 6, w);
	wr32(o + 10, h);
	wr32(o + 14, pitch);
	return m;
}

static struct msg m_dirt(uint8_t output, int32_t x1, int32_t y1, int32_t x2, int32_t y2)
{
	struct msg m = frame(10, 18);
	m.b[BODY] = output;
	m.b[BODY + 1] = 1;
	wr32(m.b + BODY + 2, (uint32_t)x1);
	wr32(m.b + BODY + 6, (uint32_t)y1);
	wr32(m.b + BODY + 10, (uint32_t)x2);
	wr32(m.b + BODY + 14, (uint32_t)y2);
	return m;
}

static struct msg m_ptr_pos(uint8_t visible, uint8_t output, int32_t x, int32_t y)
{
	struct msg m = frame(7, 10);
	m.b[BODY] = visible;
	m.b[BODY + 1] = output;
	wr32(m.b + BODY + 2, (uint32_t)x);
	wr32(m.b + BODY + 6, (uint32_t)y);
	return m;
}

/* synthvid_send_ptr's 1x1 ARGB shape, data {0, 1, 1, 1}. */
static struct msg m_ptr_shape(void)
{
	struct msg m = frame(8, 22);
	m.b[BODY] = 0xff;
	m.b[BODY + 1] = 1;
	wr32(m.b + BODY + 2, 1);
	wr32(m.b + BODY + 6, 1);
	m.b[BODY + 19] = m.b[BODY + 20] = m.b[BODY + 21] = 1;
	return m;
}

/* ---- the host's side: display sink and memslots ---- */

struct sink {
	GMainContext *ctx;
	unsigned surfaces;
	bool have;
	struct display_surface s;
	GArray *damage;              /* struct display_rect */
	unsigned cursors;
	bool cursor_visible;
	int32_t cx, cy;
	bool shape_seen;
	uint32_t shape_w, shape_h;
};

static void sink_surface(void *opaque, const struct display_surface *s)
{
	struct sink *k = opaque;
	k->surfaces++;
	k->have = s != NULL;
	if (s)
		k->s = *s;
	g_array_set_size(k->damage, 0);
}

static void sink_damage(void *opaque, const struct display_rect *r, size_t n)
{
	struct sink *k = opaque;
	g_array_append_vals(k->damage, r, (guint)n);
}

static void sink_cursor(void *opaque, bool visible, int32_t x, int32_t y, const struct display_cursor *shape)
{
	struct sink *k = opaque;
	k->cursors++;
	k->cursor_visible = visible;
	k->cx = x;
	k->cy = y;
	if (shape) {
		k->shape_seen = true;
		k->shape_w = shape->w;
		k->shape_h = shape->h;
	}
}

static const struct display_sink_ops sink_ops = {
	.surface = sink_surface, .damage = sink_damage, .cursor = sink_cursor,
};

struct fakehost {
	GMutex lock;
	unsigned maps, unmaps;
	int fail_with;               /* map_vram's answer when non-zero */
	uint64_t gpa, size;
	ino_t ino;
	uint8_t *view;               /* the memfd as the guest sees it through the "memslot" */
};

static int fake_map(void *opaque, uint64_t gpa, int memfd, uint64_t size)
{
	struct fakehost *h = opaque;
	g_mutex_lock(&h->lock);
	int r = h->fail_with;
	if (r == 0) {
		g_assert_null(h->view);
		struct stat st;
		g_assert_cmpint(fstat(memfd, &st), ==, 0);
		g_assert_cmpuint((uint64_t)st.st_size, >=, size);
		h->view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		g_assert_true(h->view != MAP_FAILED);
		h->ino = st.st_ino;
		h->gpa = gpa;
		h->size = size;
		h->maps++;
	}
	g_mutex_unlock(&h->lock);
	return r;
}

static void fake_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct fakehost *h = opaque;
	g_mutex_lock(&h->lock);
	g_assert_nonnull(h->view);
	g_assert_cmphex(gpa, ==, h->gpa);
	g_assert_cmpuint(size, ==, h->size);
	munmap(h->view, size);
	h->view = NULL;
	h->unmaps++;
	g_mutex_unlock(&h->lock);
}

struct rig {
	struct vsp_guest *g;
	struct synthvid *sv;
	struct display *d;
	struct sink sink;
	struct fakehost host;
	const struct vsp_guest_offer *o;
	struct vsp_guest_chan *c;
	uint64_t next_trans;
};

static void rig_init_with(struct rig *r, uint32_t w, uint32_t h)
{
	memset(r, 0, sizeof(*r));
	g_mutex_init(&r->host.lock);
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	r->sink.ctx = g_main_context_new();
	r->sink.damage = g_array_new(FALSE, FALSE, sizeof(struct display_rect));
	r->d = display_new(r->sink.ctx);
	display_add_sink(r->d, &sink_ops, &r->sink);
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x5e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5);
	struct synthvid_config cfg = {
		.width = w, .height = h, .vram_mb = VRAM_MB,
		.window_start = WIN_START, .window_end = WIN_END,
		.ram = vsp_guest_ram(r->g), .display = r->d,
		.host = { fake_map, fake_unmap, &r->host },
	};
	r->sv = synthvid_add(vsp_guest_bus(r->g), &inst, &cfg);
	g_assert_nonnull(r->sv);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 1);
	struct vmbus_guid cls = SYNTHVID_CLASS;
	r->o = vsp_guest_find(r->g, &cls);
	g_assert_nonnull(r->o);
	r->next_trans = 1;
}

static void rig_init(struct rig *r)
{
	rig_init_with(r, 0, 0);
}

static void rig_fini(struct rig *r)
{
	vsp_guest_free(r->g);
	synthvid_free(r->sv);
	display_remove_sink(r->d, &sink_ops, &r->sink);
	display_free(r->d);
	g_main_context_unref(r->sink.ctx);
	g_array_unref(r->sink.damage);
	if (r->host.view)
		munmap(r->host.view, r->host.size);
	g_mutex_clear(&r->host.lock);
}

static struct synthvid_state st(struct rig *r);

static void rig_open(struct rig *r)
{
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r->g, r->o, RING_PAGES, RING_PAGES, &status, &r->c), ==, 0);
	g_assert_cmphex(status, ==, 0);
	/* The device hears of the open on the bus thread. */
	g_assert_true(vsp_guest_wait_until(r->g, st(r).phase == SYNTHVID_NEGOTIATING, WAIT_MS));
}

static struct synthvid_state st(struct rig *r)
{
	struct synthvid_state s;
	synthvid_get_state(r->sv, &s);
	return s;
}

/* Send one message and wait until the bus took it. */
static uint64_t send_msg(struct rig *r, const struct msg *m)
{
	uint64_t t = r->next_trans++;
	g_assert_cmpint(vsp_guest_write(r->c, VMBUS_PKT_DATA_INBAND, 0, t, m->b, m->len), ==, 0);
	vsp_guest_bus_sync(r->g);
	return t;
}

/* The next host message: its synthvid type; payload into out. */
static uint32_t recv_msg(struct rig *r, uint8_t *out, size_t size, uint64_t *trans_id)
{
	uint8_t buf[4096];
	long n = vsp_guest_recv(r->c, buf, sizeof(buf), WAIT_MS);
	g_assert_cmpint(n, >, 16);
	g_assert_cmpuint(rd16(buf), ==, VMBUS_PKT_DATA_INBAND);
	g_assert_cmpuint(rd16(buf + 2), ==, 2);          /* offset8: the payload follows the descriptor */
	size_t len = (size_t)n - 16;
	g_assert_cmpuint(len, >=, 16);
	g_assert_cmpuint(len, <=, size);
	memcpy(out, buf + 16, MIN(len, sizeof(buf) - 16));
	if (trans_id)
		*trans_id = rd64(buf + 8);
	/* hyperv_fb: only pipe type DATA is read, and the two sizes agree. */
	g_assert_cmpuint(rd32(out), ==, 1);
	g_assert_cmpuint(rd32(out + 4), ==, rd32(out + 12));
	g_assert_cmpuint(16 + rd32(out + 12) - 8, <=, len);
	return rd32(out + 8);
}

/* Take the host messages waiting: how many of type there were. */
static unsigned drain(struct rig *r, uint32_t type)
{
	unsigned n = 0;
	uint8_t b[4096];
	while (!(vsp_guest_bus_sync(r->g), vsp_guest_in_used(r->c) == 0))
		n += recv_msg(r, b, sizeof(b), NULL) == type;
	return n;
}

static bool ring_empty(struct rig *r)
{
	vsp_guest_bus_sync(r->g);
	return vsp_guest_in_used(r->c) == 0;
}

/* Run the sinks' context until cond or the timeout. */
#define pump_until(r, cond) ({ \
	gint64 end_ = g_get_monotonic_time() + WAIT_MS * 1000; \
	while (!(cond) && g_get_monotonic_time() < end_) { \
		if (!g_main_context_iteration((r)->sink.ctx, FALSE)) \
			g_usleep(1000); \
	} \
	(cond); \
})

static void expect_version_response(struct rig *r, uint64_t tid, uint32_t version, uint8_t accepted)
{
	uint8_t b[4096];
	uint64_t got_tid;
	g_assert_cmpuint(recv_msg(r, b, sizeof(b), &got_tid), ==, 2);
	g_assert_cmpuint(got_tid, ==, tid);
	g_assert_cmpuint(rd32(b + 12), ==, 8 + 6);
	g_assert_cmphex(rd32(b + 16), ==, version);
	g_assert_cmpuint(b[20], ==, accepted);
	g_assert_cmpuint(b[21], ==, 1);
}

/* RESOLUTION_REQUEST as hyperv_fb asks it: the mode it would take. */
static struct synthvid_mode ask_resolution(struct rig *r, uint8_t max, unsigned *count)
{
	struct msg m = m_resolution(max);
	uint64_t tid = send_msg(r, &m), got;
	uint8_t b[4096];
	g_assert_cmpuint(recv_msg(r, b, sizeof(b), &got), ==, 14);
	g_assert_cmpuint(got, ==, tid);
	unsigned n = b[144], def = b[145];
	g_assert_cmpuint(rd32(b + 12), ==, 8 + 131 + 4 * n);
	g_assert_cmpuint(def, <, n);
	*count = n;
	return (struct synthvid_mode){ rd16(b + 147 + 4 * def), rd16(b + 149 + 4 * def) };
}

/* VRAM_LOCATION as synthvid_send_config sends it (user_ctx = gpa): the
 * user_ctx of the ack. A taken location is followed by FEATURE_CHANGE. */
static uint64_t place_vram(struct rig *r, uint64_t gpa, uint8_t specified)
{
	struct msg m = m_vram(gpa, specified, gpa);
	uint64_t tid = send_msg(r, &m), got;
	uint8_t b[4096];
	g_assert_cmpuint(recv_msg(r, b, sizeof(b), &got), ==, 4);
	g_assert_cmpuint(got, ==, tid);
	g_assert_cmpuint(rd32(b + 12), ==, 16);
	uint64_t ctx = rd64(b + 16);
	if (ctx == gpa) {
		g_assert_cmpuint(recv_msg(r, b, sizeof(b), &got), ==, 9);
		g_assert_cmpuint(got, ==, 0);            /* unsolicited */
		g_assert_cmpuint(b[16], ==, 1);          /* is_dirt_needed */
	}
	g_assert_true(ring_empty(r));
	return ctx;
}

/* Pointer, shape and mode, as hyperv_fb sends them after the ack. */
static void set_mode(struct rig *r, uint32_t w, uint32_t h)
{
	struct msg pos = m_ptr_pos(1, 0, 0, 0), shape = m_ptr_shape(), situ = m_situ(1, 0, 32, w, h, w * 4);
	send_msg(r, &pos);
	send_msg(r, &shape);
	uint64_t tid = send_msg(r, &situ), got;
	uint8_t b[4096];
	g_assert_cmpuint(recv_msg(r, b, sizeof(b), &got), ==, 6);
	g_assert_cmpuint(got, ==, tid);
	g_assert_cmpuint(rd64(b + 16), ==, 0x0);     /* our m_situ's user_ctx */
}

static void probe(struct rig *r, uint64_t gpa, struct synthvid_mode *mode)
{
	rig_open(r);
	struct msg v = m_version(SYNTHVID_VERSION_WIN10);
	expect_version_response(r, send_msg(r, &v), SYNTHVID_VERSION_WIN10, 1);
	unsigned n;
	*mode = ask_resolution(r, 64, &n);
	g_assert_cmphex(place_vram(r, gpa, 1), ==, gpa);
	set_mode(r, mode->width, mode->height);
}

static uint32_t px(uint32_t x, uint32_t y)
{
	return (x * 7 + 1) << 16 | (y * 5) << 8 | ((x ^ y) & 255);
}

static void test_probe_mmio(void)
{
	struct rig r;
	rig_init(&r);
	/* Offered as Hyper-V offers it. */
	g_assert_cmpuint(r.o->chn_flags & VMBUS_CHANNEL_NAMED_PIPE_MODE, !=, 0);
	g_assert_cmpuint(r.o->pipe_mode, ==, VMBUS_PIPE_TYPE_MESSAGE);
	g_assert_cmpint(st(&r).phase, ==, SYNTHVID_CLOSED);

	struct synthvid_mode mode;
	probe(&r, WIN_START, &mode);
	g_assert_cmpuint(mode.width, ==, 1024);
	g_assert_cmpuint(mode.height, ==, 768);
	/* The VRAM went into the window as a memslot of the whole VRAM. */
	g_assert_cmpuint(r.host.maps, ==, 1);
	g_assert_cmphex(r.host.gpa, ==, WIN_START);
	g_assert_cmpuint(r.host.size, ==, VRAM_SIZE);

	g_assert_true(pump_until(&r, r.sink.have));
	g_assert_cmpuint(r.sink.surfaces, ==, 1);
	g_assert_cmpuint(r.sink.s.width, ==, 1024);
	g_assert_cmpuint(r.sink.s.height, ==, 768);
	g_assert_cmpuint(r.sink.s.stride, ==, 4096);
	g_assert_cmpuint(r.sink.s.format, ==, DISPLAY_FORMAT_XRGB8888);
	/* The display's pixels are the memslot's memfd, not guest RAM's. */
	struct stat ss, rs;
	g_assert_cmpint(fstat(r.sink.s.memfd, &ss), ==, 0);
	g_assert_cmpint(fstat(vsp_guest_ram(r.g)->memfd, &rs), ==, 0);
	g_assert_cmpuint(ss.st_ino, ==, r.host.ino);
	g_assert_cmpuint(ss.st_ino, !=, rs.st_ino);
	g_assert_true(r.sink.shape_seen);
	g_assert_cmpuint(r.sink.shape_w, ==, 1);
	g_assert_true(r.sink.cursor_visible);

	struct synthvid_state s = st(&r);
	g_assert_cmpint(s.phase, ==, SYNTHVID_RUNNING);
	g_assert_cmphex(s.version, ==, SYNTHVID_VERSION_WIN10);
	g_assert_cmpint(s.vram_kind, ==, SYNTHVID_VRAM_MMIO);
	g_assert_cmphex(s.vram_gpa, ==, WIN_START);
	g_assert_cmpuint(s.surface_width, ==, 1024);
	g_assert_cmpuint(s.surface_stride, ==, 4096);
	g_assert_cmpuint(s.situations, ==, 1);
	g_assert_cmpuint(s.pointer, ==, 1);
	g_assert_cmpuint(s.shapes, ==, 1);
	g_assert_cmpuint(s.bad, ==, 0);
	g_assert_cmpuint(s.opens, ==, 1);

	/* The guest draws rows 100-119 and says so, as its deferred I/O does. */
	g_array_set_size(r.sink.damage, 0);
	uint32_t *fb = (uint32_t *)r.host.view;
	for (uint32_t y = 100; y < 120; y++)
		for (uint32_t x = 0; x < 1024; x++)
			fb[y * 1024 + x] = px(x, y);
	struct msg d = m_dirt(0, 0, 100, 1024, 120);
	send_msg(&r, &d);
	g_assert_true(pump_until(&r, r.sink.damage->len > 0));
	struct display_rect dr = g_array_index(r.sink.damage, struct display_rect, 0);
	g_assert_cmpuint(dr.x, ==, 0);
	g_assert_cmpuint(dr.y, ==, 100);
	g_assert_cmpuint(dr.w, ==, 1024);
	g_assert_cmpuint(dr.h, ==, 20);
	const uint32_t *seen = (const uint32_t *)r.sink.s.pixels;
	g_assert_cmphex(seen[110 * 1024 + 333], ==, px(333, 110));
	g_assert_cmphex(seen[119 * 1024 + 1023], ==, px(1023, 119));
	s = st(&r);
	g_assert_cmpuint(s.dirt, ==, 1);
	g_assert_cmpuint(s.dirt_rects, ==, 1);
	g_assert_cmpuint(s.last_dirt.y, ==, 100);
	g_assert_cmpuint(s.last_dirt.h, ==, 20);

	/* The pointer moves (hyperv_fb only ever sends 0,0, a host may get more). */
	struct msg p = m_ptr_pos(0, 0, 17, -3);
	send_msg(&r, &p);
	g_assert_true(pump_until(&r, r.sink.cx == 17));
	g_assert_false(r.sink.cursor_visible);
	g_assert_cmpint(r.sink.cy, ==, -3);
	rig_fini(&r);
}

static void test_default_resolution(void)
{
	struct rig r;
	rig_init_with(&r, 1920, 1080);
	rig_open(&r);
	struct msg v = m_version(SYNTHVID_VERSION_WIN10);
	expect_version_response(&r, send_msg(&r, &v), SYNTHVID_VERSION_WIN10, 1);
	unsigned n;
	struct synthvid_mode m = ask_resolution(&r, 64, &n);
	g_assert_cmpuint(m.width, ==, 1920);
	g_assert_cmpuint(m.height, ==, 1080);
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	g_assert_cmpuint(n, ==, synthvid_modes_offered(VRAM_MB, modes));
	/* A guest that takes fewer still finds the default. */
	m = ask_resolution(&r, 2, &n);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(m.width, ==, 1920);
	g_assert_cmpuint(st(&r).width, ==, 1920);
	rig_fini(&r);

	/* Modes that are not offered, VRAM sizes out of range, missing parts. */
	struct vsp_guest *g = vsp_guest_new();
	struct display *d = display_new(NULL);
	struct fakehost fh = { 0 };
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6);
	struct synthvid_config good = {
		.window_start = WIN_START, .window_end = WIN_END, .ram = vsp_guest_ram(g), .display = d,
		.host = { fake_map, fake_unmap, &fh },
	};
	struct synthvid_config bad[9];
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		bad[i] = good;
	bad[0].width = 800, bad[0].height = 600;
	bad[1].width = 3840, bad[1].height = 2160;          /* needs 32 MiB */
	bad[2].vram_mb = SYNTHVID_VRAM_MB_MIN - 1;
	bad[3].vram_mb = SYNTHVID_VRAM_MB_MAX + 1;
	bad[4].display = NULL;
	bad[5].ram = NULL;
	bad[6].host.map_vram = NULL;
	bad[7].window_end = bad[7].window_start;
	bad[8].window_end = bad[8].window_start + (8u << 20);   /* VRAM larger than the window */
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		errno = 0;
		g_assert_null(synthvid_add(vsp_guest_bus(g), &inst, &bad[i]));
		g_assert_cmpint(errno, ==, EINVAL);
	}
	good.width = 3840, good.height = 2160, good.vram_mb = 32;
	struct synthvid *sv = synthvid_add(vsp_guest_bus(g), &inst, &good);
	g_assert_nonnull(sv);
	vsp_guest_free(g);
	synthvid_free(sv);
	display_free(d);
}

static void test_ram_vram(void)
{
	struct rig r;
	rig_init(&r);
	struct synthvid_mode mode;
	probe(&r, RAM_VRAM_GPA, &mode);
	/* Guest RAM: nothing to map, the device copies. */
	g_assert_cmpuint(r.host.maps, ==, 0);
	g_assert_cmpint(st(&r).vram_kind, ==, SYNTHVID_VRAM_RAM);
	g_assert_true(pump_until(&r, r.sink.have));
	struct stat ss, rs;
	g_assert_cmpint(fstat(r.sink.s.memfd, &ss), ==, 0);
	g_assert_cmpint(fstat(vsp_guest_ram(r.g)->memfd, &rs), ==, 0);
	g_assert_cmpuint(ss.st_ino, !=, rs.st_ino);

	/* The guest fills its whole screen but reports one rectangle: only
	 * that one reaches the display. */
	uint32_t *fb = guest_ram_ptr(vsp_guest_ram(r.g), RAM_VRAM_GPA, VRAM_SIZE);
	g_assert_nonnull(fb);
	for (uint32_t y = 0; y < 768; y++)
		for (uint32_t x = 0; x < 1024; x++)
			fb[y * 1024 + x] = px(x, y);
	const uint32_t *seen = (const uint32_t *)r.sink.s.pixels;
	g_assert_cmphex(seen[60 * 1024 + 150], ==, 0);
	g_array_set_size(r.sink.damage, 0);
	struct msg d = m_dirt(0, 100, 50, 300, 170);
	send_msg(&r, &d);
	g_assert_true(pump_until(&r, r.sink.damage->len > 0));
	struct display_rect dr = g_array_index(r.sink.damage, struct display_rect, 0);
	g_assert_cmpuint(dr.x, ==, 100);
	g_assert_cmpuint(dr.w, ==, 200);
	for (uint32_t y = 50; y < 170; y++) {
		g_assert_cmphex(seen[y * 1024 + 100], ==, px(100, y));
		g_assert_cmphex(seen[y * 1024 + 299], ==, px(299, y));
		g_assert_cmphex(seen[y * 1024 + 99], ==, 0);
		g_assert_cmphex(seen[y * 1024 + 300], ==, 0);
	}
	g_assert_cmphex(seen[49 * 1024 + 150], ==, 0);
	g_assert_cmphex(seen[170 * 1024 + 150], ==, 0);
	/* A new mode copies the whole screen. */
	struct msg m2 = m_situ(1, 0, 32, 800, 600, 3200);
	send_msg(&r, &m2);
	g_assert_true(pump_until(&r, r.sink.s.width == 800));
	seen = (const uint32_t *)r.sink.s.pixels;
	g_assert_cmphex(seen[599 * 800 + 799], ==, fb[599 * 800 + 799]);
	g_assert_cmphex(seen[0], ==, fb[0]);
	rig_fini(&r);
}

static void test_vram_refused(void)
{
	struct rig r;
	rig_init(&r);
	rig_open(&r);
	struct msg v = m_version(SYNTHVID_VERSION_WIN10);
	expect_version_response(&r, send_msg(&r, &v), SYNTHVID_VERSION_WIN10, 1);
	const uint64_t ram_end = LAYOUT_MIN_MEMORY;
	static const uint64_t bad[] = {
		WIN_END,                              /* just past the window */
		WIN_END - VRAM_SIZE + 4096,           /* its end past the window */
		WIN_START - 4096,                     /* its start before */
		WIN_START + 1,                        /* not page-aligned */
		0xf8000800,
		ram_end - (4u << 20),                 /* partly RAM, partly not */
		LAYOUT_PCI_MMIO_START,                /* MMIO outside the VMBus window */
		0xfec00000,                           /* the IOAPIC */
		0xfffffffffffff000ull,                /* wraps */
		UINT64_C(1) << 52,
	};
	unsigned refused = 0;
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint64_t ctx = place_vram(&r, bad[i], 1);
		g_assert_cmphex(ctx, !=, bad[i]);    /* what hyperv_fb takes as refusal */
		g_assert_cmpuint(st(&r).vram_refused, ==, ++refused);
		g_assert_cmpint(st(&r).phase, ==, SYNTHVID_NEGOTIATED);
		g_assert_cmpint(st(&r).vram_kind, ==, SYNTHVID_VRAM_NONE);
	}
	/* No place given; the host's memslot fails. */
	g_assert_cmphex(place_vram(&r, WIN_START, 0), !=, WIN_START);
	g_assert_cmpuint(st(&r).vram_refused, ==, ++refused);
	r.host.fail_with = -ENOSPC;
	g_assert_cmphex(place_vram(&r, WIN_START, 1), !=, WIN_START);
	g_assert_cmpuint(st(&r).vram_refused, ==, ++refused);
	g_assert_cmpuint(r.host.maps, ==, 0);
	/* A mode without VRAM is out of place. */
	struct msg situ = m_situ(1, 0, 32, 1024, 768, 4096);
	send_msg(&r, &situ);
	g_assert_true(ring_empty(&r));
	g_assert_cmpuint(st(&r).bad, ==, 1);
	/* Then a good place works. */
	r.host.fail_with = 0;
	g_assert_cmphex(place_vram(&r, WIN_START + (16u << 20), 1), ==, WIN_START + (16u << 20));
	g_assert_cmpuint(r.host.maps, ==, 1);
	g_assert_cmpuint(st(&r).vram_refused, ==, refused);
	rig_fini(&r);
}

/* Every bad message: counted once, answered with nothing, changing nothing. */
static void expect_dropped(struct rig *r, const void *data, size_t len, uint16_t type)
{
	struct synthvid_state before = st(r);
	g_assert_cmpint(vsp_guest_write(r->c, type, 0, r->next_trans++, data, len), ==, 0);
	g_assert_true(vsp_guest_wait_until(r->g, st(r).bad == before.bad + 1, WAIT_MS));
	g_assert_true(ring_empty(r));
	struct synthvid_state after = st(r);
	g_assert_cmpint(after.phase, ==, before.phase);
	g_assert_cmpuint(after.version, ==, before.version);
	g_assert_cmpuint(after.situations, ==, before.situations);
	g_assert_cmpuint(after.dirt, ==, before.dirt);
	g_assert_cmpuint(after.surface_width, ==, before.surface_width);
	g_assert_cmpuint(after.vram_gpa, ==, before.vram_gpa);
}

static void test_bad_messages(void)
{
	struct rig r;
	rig_init(&r);
	rig_open(&r);
	/* Before a version: nothing else counts. */
	struct msg early[] = { m_vram(WIN_START, 1, WIN_START), m_situ(1, 0, 32, 1024, 768, 4096),
			       m_dirt(0, 0, 0, 8, 8), m_resolution(64), m_ptr_pos(1, 0, 0, 0) };
	for (unsigned i = 0; i < G_N_ELEMENTS(early); i++)
		expect_dropped(&r, early[i].b, early[i].len, VMBUS_PKT_DATA_INBAND);
	g_assert_cmpuint(r.host.maps, ==, 0);
	/* Versions we do not speak are answered, not accepted. */
	static const uint32_t nope[] = { SYNTHVID_VERSION(3, 0), SYNTHVID_VERSION(3, 4), SYNTHVID_VERSION(3, 6),
					 SYNTHVID_VERSION(2, 5), 0, 0xffffffffu, 0x00030005 };
	for (unsigned i = 0; i < G_N_ELEMENTS(nope); i++) {
		struct msg v = m_version(nope[i]);
		expect_version_response(&r, send_msg(&r, &v), nope[i], 0);
		g_assert_cmpuint(st(&r).version, ==, 0);
	}
	g_assert_cmpuint(st(&r).unsupported, ==, G_N_ELEMENTS(nope));
	/* 3.2, as a guest on VMBus 3.0 asks: accepted, but no resolution list. */
	struct msg v32 = m_version(SYNTHVID_VERSION_WIN8);
	expect_version_response(&r, send_msg(&r, &v32), SYNTHVID_VERSION_WIN8, 1);
	struct msg rq = m_resolution(64);
	expect_dropped(&r, rq.b, rq.len, VMBUS_PKT_DATA_INBAND);
	/* Then 3.5 and a running mode. */
	struct msg v35 = m_version(SYNTHVID_VERSION_WIN10);
	expect_version_response(&r, send_msg(&r, &v35), SYNTHVID_VERSION_WIN10, 1);
	g_assert_cmphex(place_vram(&r, WIN_START, 1), ==, WIN_START);
	set_mode(&r, 1024, 768);
	pump_until(&r, r.sink.have);

	/* Framing, types, packet kinds. */
	uint8_t junk[64];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	expect_dropped(&r, junk, sizeof(junk), VMBUS_PKT_DATA_INBAND);
	struct msg pipe0 = m_dirt(0, 0, 0, 8, 8);
	wr32(pipe0.b, 0);
	expect_dropped(&r, pipe0.b, pipe0.len, VMBUS_PKT_DATA_INBAND);
	struct msg big = m_dirt(0, 0, 0, 8, 8);
	wr32(big.b + 4, 0x7fffffff);
	expect_dropped(&r, big.b, big.len, VMBUS_PKT_DATA_INBAND);
	struct msg unknown = frame(77, 8);
	expect_dropped(&r, unknown.b, unknown.len, VMBUS_PKT_DATA_INBAND);
	struct msg hostmsg = frame(SYNTHVID_FEATURE_CHANGE, 4);
	expect_dropped(&r, hostmsg.b, hostmsg.len, VMBUS_PKT_DATA_INBAND);
	struct msg ok = m_dirt(0, 0, 0, 8, 8);
	expect_dropped(&r, ok.b, ok.len, VMBUS_PKT_COMP);
	expect_dropped(&r, ok.b, 8, VMBUS_PKT_DATA_INBAND);
	/* Rectangles inverted, empty, off the screen; the wrong output; none. */
	static const int32_t rects[][5] = {
		{ 0, 10, 0, 20, 0 }, { 0, 20, 100, 10, 0 }, { 50, 0, 40, 10, 0 }, { 0, 0, 0, 0, 0 },
		{ -1, 0, 10, 10, 0 }, { 0, -8, 10, 10, 0 }, { 0, 0, 1025, 10, 0 }, { 0, 0, 10, 769, 0 },
		{ 0, 0, INT32_MAX, INT32_MAX, 0 }, { INT32_MIN, INT32_MIN, 0, 0, 0 }, { 0, 0, 8, 8, 1 },
		{ 0, 0, 8, 8, 255 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rects); i++) {
		struct msg d = m_dirt((uint8_t)rects[i][4], rects[i][0], rects[i][1], rects[i][2], rects[i][3]);
		expect_dropped(&r, d.b, d.len, VMBUS_PKT_DATA_INBAND);
	}
	struct msg none = m_dirt(0, 0, 0, 8, 8);
	none.b[BODY + 1] = 0;
	expect_dropped(&r, none.b, none.len, VMBUS_PKT_DATA_INBAND);
	struct msg two = m_dirt(0, 0, 0, 8, 8);
	two.b[BODY + 1] = 2;
	expect_dropped(&r, two.b, two.len, VMBUS_PKT_DATA_INBAND);
	/* Modes: absurd sizes and strides, another depth, past the VRAM. */
	static const uint32_t modes[][5] = {
		{ 0, 32, 1024, 768, 0xfffffffcu }, { 0, 32, 1024, 768, 4095 }, { 0, 32, 1024, 768, 1000 },
		{ 0, 16, 1024, 768, 2048 }, { 0, 32, 0, 768, 4096 }, { 0, 32, 100000, 1, 400000 },
		{ 0, 32, 3840, 2160, 15360 }, { 0xfff00000u, 32, 1024, 768, 4096 },
		{ 0, 32, 0xffffffffu, 0xffffffffu, 0xfffffffcu },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(modes); i++) {
		struct msg m = m_situ(1, modes[i][0], (uint8_t)modes[i][1], modes[i][2], modes[i][3], modes[i][4]);
		expect_dropped(&r, m.b, m.len, VMBUS_PKT_DATA_INBAND);
	}
	struct msg p1 = m_ptr_pos(1, 1, 0, 0);
	expect_dropped(&r, p1.b, p1.len, VMBUS_PKT_DATA_INBAND);
	/* After all that, the device still works. */
	g_array_set_size(r.sink.damage, 0);
	struct msg good = m_dirt(0, 1, 2, 3, 4);
	send_msg(&r, &good);
	g_assert_true(pump_until(&r, r.sink.damage->len > 0));
	g_assert_cmpuint(g_array_index(r.sink.damage, struct display_rect, 0).x, ==, 1);
	g_assert_cmpuint(st(&r).dirt, ==, 1);
	g_assert_cmpuint(st(&r).surface_width, ==, 1024);
	rig_fini(&r);
}

static void test_close_reopen(void)
{
	struct rig r;
	rig_init(&r);
	struct synthvid_mode mode;
	probe(&r, WIN_START, &mode);
	g_assert_true(pump_until(&r, r.sink.have));
	memset(r.host.view, 0xab, 4096);
	g_assert_cmpuint(((const uint8_t *)r.sink.s.pixels)[5], ==, 0xab);
	/* The driver goes (rmmod, reboot): the memslot and the picture with it. */
	g_assert_cmpint(vsp_guest_release(r.c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, st(&r).phase == SYNTHVID_CLOSED, WAIT_MS));
	g_assert_cmpuint(r.host.unmaps, ==, 1);
	g_assert_true(pump_until(&r, !r.sink.have));
	g_assert_cmpuint(r.sink.surfaces, ==, 2);
	struct synthvid_state s = st(&r);
	g_assert_cmpuint(s.version, ==, 0);
	g_assert_cmpint(s.vram_kind, ==, SYNTHVID_VRAM_NONE);

	/* A new driver probes again, elsewhere in the window, on a black screen. */
	probe(&r, WIN_START + (32u << 20), &mode);
	g_assert_cmpuint(r.host.maps, ==, 2);
	g_assert_cmphex(r.host.gpa, ==, WIN_START + (32u << 20));
	g_assert_true(pump_until(&r, r.sink.have));
	g_assert_cmpuint(((const uint8_t *)r.sink.s.pixels)[5], ==, 0);
	g_assert_cmpuint(r.host.view[5], ==, 0);
	g_assert_cmpuint(st(&r).opens, ==, 2);

	/* A new negotiation while running starts over: no picture, no VRAM. */
	struct msg v = m_version(SYNTHVID_VERSION_WIN10);
	expect_version_response(&r, send_msg(&r, &v), SYNTHVID_VERSION_WIN10, 1);
	g_assert_true(pump_until(&r, !r.sink.have));
	g_assert_cmpuint(r.host.unmaps, ==, 2);
	g_assert_cmpint(st(&r).phase, ==, SYNTHVID_NEGOTIATED);
	/* The bus stopping with the channel open closes it too. */
	g_assert_cmphex(place_vram(&r, WIN_START, 1), ==, WIN_START);
	set_mode(&r, 1024, 768);
	g_assert_cmpuint(r.host.maps, ==, 3);
	vsp_guest_free(r.g);
	r.g = NULL;
	g_assert_cmpuint(r.host.unmaps, ==, 3);
	synthvid_free(r.sv);
	r.sv = NULL;
	display_remove_sink(r.d, &sink_ops, &r.sink);
	display_free(r.d);
	g_main_context_unref(r.sink.ctx);
	g_array_unref(r.sink.damage);
	g_mutex_clear(&r.host.lock);
}

static void test_mode_changes(void)
{
	struct rig r;
	rig_init(&r);
	struct synthvid_mode mode;
	probe(&r, WIN_START, &mode);
	g_assert_true(pump_until(&r, r.sink.have));
	/* After FEATURE_CHANGE a running guest repeats its mode: same surface, all damaged. */
	g_array_set_size(r.sink.damage, 0);
	struct msg same = m_situ(1, 0, 32, 1024, 768, 4096);
	send_msg(&r, &same);
	g_assert_true(pump_until(&r, r.sink.damage->len > 0));
	g_assert_cmpuint(r.sink.surfaces, ==, 1);
	g_assert_cmpuint(g_array_index(r.sink.damage, struct display_rect, 0).w, ==, 1024);
	/* fbset to a smaller mode, and a mode at an offset. */
	struct msg small = m_situ(1, 0, 32, 800, 600, 3200);
	send_msg(&r, &small);
	g_assert_true(pump_until(&r, r.sink.s.width == 800));
	g_assert_cmpuint(r.sink.s.stride, ==, 3200);
	struct msg off = m_situ(1, 8192, 32, 640, 480, 4096);
	send_msg(&r, &off);
	g_assert_true(pump_until(&r, r.sink.s.width == 640));
	g_assert_cmpuint(r.sink.s.offset, ==, 8192);
	/* The output switched off: no picture, VRAM kept. */
	struct msg offm = m_situ(0, 0, 0, 0, 0, 0);
	send_msg(&r, &offm);
	g_assert_true(pump_until(&r, !r.sink.have));
	g_assert_cmpint(st(&r).phase, ==, SYNTHVID_VRAM);
	g_assert_cmpuint(r.host.unmaps, ==, 0);
	g_assert_cmpuint(drain(&r, SYNTHVID_SITUATION_UPDATE_ACK), ==, 4);
	/* DIRT without a picture is out of place. */
	struct msg d = m_dirt(0, 0, 0, 8, 8);
	expect_dropped(&r, d.b, d.len, VMBUS_PKT_DATA_INBAND);
	g_assert_cmpuint(st(&r).situations, ==, 5);
	rig_fini(&r);
}

static void test_vram_classify(void)
{
	/* 4 GiB of RAM: 3 GiB low, 1 GiB from 4 GiB. Never dereferenced. */
	struct guest_ram ram = { .host = (uint8_t *)(uintptr_t)0x10000, .size = 4 * GiB };
	guest_ram_layout(ram.size, ram.regions, &ram.nregions);
	g_assert_cmpuint(ram.nregions, ==, 2);
	const uint64_t s = VRAM_SIZE;
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, WIN_START, s), ==, SYNTHVID_VRAM_MMIO);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, WIN_END - s, s), ==, SYNTHVID_VRAM_MMIO);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, 0x1000000, s), ==, SYNTHVID_VRAM_RAM);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, 4 * GiB, s), ==, SYNTHVID_VRAM_RAM);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, 5 * GiB - s, s), ==, SYNTHVID_VRAM_RAM);
	static const uint64_t bad[] = {
		WIN_END - s + 4096, WIN_START - 4096, WIN_START + 512, WIN_END, 3 * GiB - 4096, 5 * GiB - 4096,
		5 * GiB, 0xfffffffffffff000ull,
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, bad[i], s), ==, -EINVAL);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, WIN_START, 0), ==, -EINVAL);
	g_assert_cmpint(synthvid_vram_classify(&ram, WIN_START, WIN_END, WIN_START, 100), ==, -EINVAL);
	/* A window that overlaps RAM (a broken layout) still does not hand out RAM as MMIO. */
	g_assert_cmpint(synthvid_vram_classify(&ram, 3 * GiB - s, 3 * GiB + s, 3 * GiB - 4096, s), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synthvid/probe-mmio", test_probe_mmio);
	g_test_add_func("/synthvid/default-resolution", test_default_resolution);
	g_test_add_func("/synthvid/ram-vram", test_ram_vram);
	g_test_add_func("/synthvid/vram-refused", test_vram_refused);
	g_test_add_func("/synthvid/bad-messages", test_bad_messages);
	g_test_add_func("/synthvid/close-reopen", test_close_reopen);
	g_test_add_func("/synthvid/mode-changes", test_mode_changes);
	g_test_add_func("/synthvid/vram-classify", test_vram_classify);
	return g_test_run();
}
