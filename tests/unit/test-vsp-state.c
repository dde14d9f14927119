// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Saved state of the VSP bus and every device on it, with a guest that
 * speaks as Linux 6.1 does (vsp-guest.h, hvutil-model.h): the guest opens
 * all seven channels and gets each device into a state with something in
 * flight (a heartbeat not answered yet, a KVP enumeration, a key down in
 * the ring, the video running). The host is then saved, thrown away and
 * a new one restored in its place on the same guest (vsp_guest_new_host),
 * and the guest carries on without a word of renegotiation: its answers
 * to what the old host asked are taken by the new one, time sync steps
 * its clock again, the shutdown request goes out in the version agreed
 * before, the held key is let go, the mouse reports, the video's VRAM is
 * where the guest put it and its damage is taken.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#include "hv/saved_state.h"
#include "hvutil-model.h"
#include "state-util.h"
#include "vsp-guest.h"
#include "vsp/display.h"
#include "vsp/ic.h"
#include "vsp/ic_heartbeat.h"
#include "vsp/ic_kvp.h"
#include "vsp/ic_kvp_msg.h"
#include "vsp/ic_shutdown.h"
#include "vsp/ic_timesync.h"
#include "vsp/input.h"
#include "vsp/synth_kbd.h"
#include "vsp/synth_kbd_msg.h"
#include "vsp/synth_mouse.h"
#include "vsp/synth_mouse_msg.h"
#include "vsp/synthvid.h"

#define WIN_START 0xf8000000ull
#define WIN_END   0xfc000000ull
#define VRAM_MB   16u
#define VIDEO_RING_PAGES 64u
#define INPUT_RING_PAGES 10u

/* ---- one host's devices ---- */

struct vram_host {
	unsigned maps, unmaps;
	uint64_t gpa;
};

static int vram_map(void *opaque, uint64_t gpa, int memfd, uint64_t size)
{
	struct vram_host *v = opaque;
	v->maps++;
	v->gpa = gpa;
	return 0;
}

static void vram_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	((struct vram_host *)opaque)->unmaps++;
}

struct surface_sink {
	unsigned surfaces;
	uint32_t w, h;
	unsigned damages;
};

static void sink_surface(void *opaque, const struct display_surface *s)
{
	struct surface_sink *k = opaque;
	k->surfaces++;
	k->w = s ? s->width : 0;
	k->h = s ? s->height : 0;
}

static void sink_damage(void *opaque, const struct display_rect *r, size_t n)
{
	((struct surface_sink *)opaque)->damages++;
}

static const struct display_sink_ops sink_ops = { .surface = sink_surface, .damage = sink_damage };

struct host {
	struct ic_heartbeat *hb;
	struct ic_shutdown *sd;
	struct ic_timesync *ts;
	struct ic_kvp *kvp;
	struct synthvid *sv;
	struct synth_kbd *kbd;
	struct synth_mouse *mouse;
	GMainContext *ctx;
	struct display *d;
	struct surface_sink sink;
	struct vram_host vram;
};

#define INST(n) VMBUS_GUID_INIT(0x5afe0000u + (n), 0, 0, 0, 0, 0, 0, 0, 0, 0, (n))

static void host_add(struct vsp_guest *g, struct host *h)
{
	memset(h, 0, sizeof(*h));
	struct vsp_bus *bus = vsp_guest_bus(g);
	h->ctx = g_main_context_new();
	h->d = display_new(h->ctx);
	display_add_sink(h->d, &sink_ops, &h->sink);
	struct vmbus_guid i[8] = { INST(0), INST(1), INST(2), INST(3), INST(4), INST(5), INST(6), INST(7) };
	struct synthvid_config cfg = {
		.vram_mb = VRAM_MB, .window_start = WIN_START, .window_end = WIN_END,
		.ram = vsp_guest_ram(g), .display = h->d, .host = { vram_map, vram_unmap, &h->vram },
	};
	g_assert_nonnull(h->hb = ic_heartbeat_add(bus, &i[1]));
	g_assert_nonnull(h->sd = ic_shutdown_add(bus, &i[2]));
	g_assert_nonnull(h->ts = ic_timesync_add(bus, &i[3]));
	g_assert_nonnull(h->kvp = ic_kvp_add(bus, &i[4]));
	g_assert_nonnull(h->sv = synthvid_add(bus, &i[5], &cfg));
	g_assert_nonnull(h->kbd = synth_kbd_add(bus, &i[6]));
	g_assert_nonnull(h->mouse = synth_mouse_add(bus, &i[7]));
}

/* After the bus that ran them is gone. */
static void host_free(struct host *h)
{
	ic_heartbeat_free(h->hb);
	ic_shutdown_free(h->sd);
	ic_timesync_free(h->ts);
	ic_kvp_free(h->kvp);
	synthvid_free(h->sv);
	synth_kbd_free(h->kbd);
	synth_mouse_free(h->mouse);
	display_remove_sink(h->d, &sink_ops, &h->sink);
	display_free(h->d);
	g_main_context_unref(h->ctx);
}

static void host_pump(struct host *h)
{
	while (g_main_context_iteration(h->ctx, FALSE))
		;
}

static struct ic_heartbeat_state hb_st(struct host *h)
{
	struct ic_heartbeat_state s;
	ic_heartbeat_get(h->hb, &s);
	return s;
}

static struct ic_timesync_state ts_st(struct host *h)
{
	struct ic_timesync_state s;
	ic_timesync_get(h->ts, &s);
	return s;
}

static struct ic_shutdown_state sd_st(struct host *h)
{
	struct ic_shutdown_state s;
	ic_shutdown_get(h->sd, &s);
	return s;
}

static struct ic_kvp_state kvp_st(struct host *h)
{
	struct ic_kvp_state s;
	ic_kvp_get_state(h->kvp, &s);
	return s;
}

static struct synthvid_state sv_st(struct host *h)
{
	struct synthvid_state s;
	synthvid_get_state(h->sv, &s);
	return s;
}

static struct synth_kbd_state kbd_st(struct host *h)
{
	struct synth_kbd_state s;
	synth_kbd_get_state(h->kbd, &s);
	return s;
}

static struct synth_mouse_state mouse_st(struct host *h)
{
	struct synth_mouse_state s;
	synth_mouse_get_state(h->mouse, &s);
	return s;
}

/* ---- the guest's drivers ---- */

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

struct guest {
	struct vsp_guest *g;
	struct util u[4];            /* heartbeat, shutdown, timesync, KVP */
	struct vsp_guest_chan *video, *kbd, *mouse;
	uint64_t trans;
};

static struct vsp_guest_chan *guest_open(struct guest *gs, const struct vmbus_guid *cls, unsigned pages)
{
	const struct vsp_guest_offer *o = vsp_guest_find(gs->g, cls);
	g_assert_nonnull(o);
	uint32_t status = 1;
	struct vsp_guest_chan *c = NULL;
	g_assert_cmpint(vsp_guest_open(gs->g, o, pages, pages, &status, &c), ==, 0);
	g_assert_cmphex(status, ==, 0);
	return c;
}

/* A synthvid message: pipe header, then type and size. */
static size_t video_msg(uint8_t *b, uint32_t type, size_t body)
{
	memset(b, 0, 16 + body);
	le32(b, 1);
	le32(b + 4, (uint32_t)(8 + body));
	le32(b + 8, type);
	le32(b + 12, (uint32_t)(8 + body));
	return 16 + body;
}

static void video_send(struct guest *gs, const uint8_t *b, size_t len)
{
	g_assert_cmpint(vsp_guest_write(gs->video, VMBUS_PKT_DATA_INBAND, 0, gs->trans++, b, len), ==, 0);
}

/* The next host video message's type. */
static uint32_t video_recv(struct guest *gs)
{
	uint8_t buf[4096];
	long n = vsp_guest_recv(gs->video, buf, sizeof(buf), WAIT_MS);
	g_assert_cmpint(n, >, 16 + 16);
	return rd32(buf + 16 + 8);
}

static void kbd_send(struct guest *gs, const uint8_t *b, size_t len)
{
	g_assert_cmpint(vsp_guest_write(gs->kbd, VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, gs->trans++,
					b, len), ==, 0);
}

/* The next host keyboard message's payload into out (12 bytes). */
static void kbd_recv(struct guest *gs, uint8_t *out, size_t len)
{
	uint8_t buf[512];
	long n = vsp_guest_recv(gs->kbd, buf, sizeof(buf), WAIT_MS);
	g_assert_cmpint(n, >=, 16 + (long)len);
	memcpy(out, buf + 16, len);
}

static uint32_t mouse_recv(struct guest *gs, uint8_t *payload, size_t size)
{
	uint8_t buf[1024];
	long n = vsp_guest_recv(gs->mouse, buf, sizeof(buf), WAIT_MS);
	g_assert_cmpint(n, >=, 16 + 16);
	memcpy(payload, buf + 16, MIN((size_t)n - 16, size));
	return rd32(buf + 16 + 8);
}

static void mouse_send(struct guest *gs, const uint8_t *b, size_t len)
{
	g_assert_cmpint(vsp_guest_write(gs->mouse, VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED,
					gs->trans++, b, len), ==, 0);
}

static const struct vmbus_guid ic_classes[4] = { IC_HEARTBEAT_CLASS, IC_SHUTDOWN_CLASS, IC_TIMESYNC_CLASS,
						 IC_KVP_CLASS };

/* Everything into its state before the save. */
static void guest_bring_up(struct guest *gs, struct host *h)
{
	g_assert_cmpint(vsp_guest_connect(gs->g), ==, 7);
	for (int k = 0; k < 4; k++) {
		util_init(&gs->u[k], (enum util_kind)k);
		gs->u[k].c = guest_open(gs, &ic_classes[k], VSP_GUEST_UTIL_RING_PAGES);
		struct hostmsg nego;
		host_recv(&gs->u[k], &nego);
		g_assert_cmpuint(rd16(nego.buf + O_TYPE), ==, IC_MSGTYPE_NEGOTIATE);
		util_answer(&gs->u[k], &nego);
	}
	g_assert_true(vsp_guest_wait_until(gs->g, hb_st(h).state == IC_READY && sd_st(h).state == IC_READY &&
					   ts_st(h).state == IC_READY && kvp_st(h).state == IC_READY, WAIT_MS));
	struct hostmsg m;
	/* Time sync stepped the clock at once; answered. */
	host_recv(&gs->u[UTIL_TIMESYNC], &m);
	g_assert_cmpuint(m.buf[O_BODY + 16], ==, 1);
	util_answer(&gs->u[UTIL_TIMESYNC], &m);
	/* One heartbeat answered, the next one left in the ring. */
	host_recv(&gs->u[UTIL_HEARTBEAT], &m);
	util_answer(&gs->u[UTIL_HEARTBEAT], &m);
	g_assert_true(vsp_guest_wait_until(gs->g, hb_st(h).beats == 1, WAIT_MS));
	g_assert_true(vsp_guest_wait_until(gs->g, vsp_guest_in_used(gs->u[UTIL_HEARTBEAT].c) > 0,
					   IC_HEARTBEAT_PERIOD_MS + WAIT_MS));
	/* KVP's first enumeration (pool AUTO) waits for the daemon. */
	g_assert_true(vsp_guest_wait_until(gs->g, kvp_st(h).requests == 1, WAIT_MS));

	/* The video: version 3.5, VRAM in the window, a 1024x768 mode. */
	struct vmbus_guid vc = SYNTHVID_CLASS, kc = SYNTH_KBD_CLASS, mc = SYNTH_MOUSE_CLASS;
	gs->video = guest_open(gs, &vc, VIDEO_RING_PAGES);
	uint8_t b[64];
	size_t n = video_msg(b, 1, 4);
	le32(b + 16, SYNTHVID_VERSION_WIN10);
	video_send(gs, b, n);
	g_assert_cmpuint(video_recv(gs), ==, 2);
	n = video_msg(b, 3, 17);
	le64(b + 16, WIN_START);
	b[24] = 1;
	le64(b + 25, WIN_START);
	video_send(gs, b, n);
	g_assert_cmpuint(video_recv(gs), ==, 4);
	g_assert_cmpuint(video_recv(gs), ==, 9);
	n = video_msg(b, 5, 27);
	b[16 + 8] = 1;
	uint8_t *o = b + 16 + 9;
	o[0] = 1;
	o[5] = 32;
	le32(o + 6, 1024);
	le32(o + 10, 768);
	le32(o + 14, 4096);
	video_send(gs, b, n);
	g_assert_cmpuint(video_recv(gs), ==, 6);
	g_assert_true(vsp_guest_wait_until(gs->g, sv_st(h).phase == SYNTHVID_RUNNING, WAIT_MS));

	/* The keyboard, and a key pressed that the guest has not read yet. */
	gs->kbd = guest_open(gs, &kc, INPUT_RING_PAGES);
	uint8_t req[8] = { 1, 0, 0, 0, 0, 0, 1, 0 };
	kbd_send(gs, req, sizeof(req));
	uint8_t resp[8];
	kbd_recv(gs, resp, sizeof(resp));
	g_assert_cmpuint(rd32(resp), ==, 2);
	g_assert_true(vsp_guest_wait_until(gs->g, kbd_st(h).phase == SYNTH_KBD_READY, WAIT_MS));
	g_assert_cmpint(synth_kbd_key(h->kbd, KEY_A, true), ==, 0);
	g_assert_true(vsp_guest_wait_until(gs->g, kbd_st(h).events == 1, WAIT_MS));

	/* The mouse, handshake done. */
	gs->mouse = guest_open(gs, &mc, INPUT_RING_PAGES);
	uint8_t mreq[24] = { 0 };
	le32(mreq, 1);
	le32(mreq + 4, 12);
	le32(mreq + 12, 4);
	le32(mreq + 16, SYNTH_MOUSE_VERSION_2_0);
	mouse_send(gs, mreq, 23);
	uint8_t mp[512];
	g_assert_cmpuint(mouse_recv(gs, mp, sizeof(mp)), ==, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE);
	g_assert_cmpuint(mouse_recv(gs, mp, sizeof(mp)), ==, SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO);
	uint8_t ack[20] = { 0 };
	le32(ack, 1);
	le32(ack + 4, 9);
	le32(ack + 8, SYNTH_MOUSE_MSG_DEVICE_INFO_ACK);
	le32(ack + 12, 1);
	mouse_send(gs, ack, sizeof(ack));
	g_assert_true(vsp_guest_wait_until(gs->g, mouse_st(h).phase == SYNTH_MOUSE_READY, WAIT_MS));
}

/* The whole host's state, as the worker saves it. */
struct saved {
	GVariant *server, *bus;
};

static struct saved host_save(struct vsp_guest *g)
{
	vsp_bus_freeze(vsp_guest_bus(g));
	struct saved s = {
		g_variant_ref_sink(vmbus_server_save(vsp_guest_server(g))),
		g_variant_ref_sink(vsp_bus_save(vsp_guest_bus(g))),
	};
	return s;
}

static int host_restore(struct vsp_guest *g, const struct saved *s, GError **error)
{
	int r = vmbus_server_restore(vsp_guest_server(g), s->server, error);
	if (r < 0)
		return r;
	vsp_bus_freeze(vsp_guest_bus(g));
	r = vsp_bus_restore(vsp_guest_bus(g), s->bus, error);
	vsp_bus_thaw(vsp_guest_bus(g));
	return r;
}

static void saved_clear(struct saved *s)
{
	g_variant_unref(s->server);
	g_variant_unref(s->bus);
}

static void test_round_trip(void)
{
	struct guest gs = { .g = vsp_guest_new(), .trans = 100 };
	g_assert_nonnull(gs.g);
	struct host a, b;
	host_add(gs.g, &a);
	guest_bring_up(&gs, &a);
	struct synthvid_state va = sv_st(&a);
	unsigned inbox = vsp_guest_inbox_len(gs.g);
	uint64_t kvp_requests = kvp_st(&a).requests;
	struct saved s = host_save(gs.g);
	g_assert_true(g_variant_is_of_type(s.bus, G_VARIANT_TYPE(VSP_BUS_STATE_TYPE)));
	g_assert_cmpuint(g_variant_n_children(s.bus), ==, 7);

	/* The old host goes; a new one with the same devices comes. */
	g_assert_cmpint(vsp_guest_new_host(gs.g), ==, 0);
	host_free(&a);
	host_add(gs.g, &b);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(host_restore(gs.g, &s, &e), ==, 0);
	g_assert_no_error(e);

	/* Heartbeat: the beat asked before the save is answered now, and counts. */
	g_assert_cmpuint(hb_st(&b).beats, ==, 1);
	g_assert_cmpint(hb_st(&b).state, ==, IC_READY);
	struct hostmsg m;
	host_recv(&gs.u[UTIL_HEARTBEAT], &m);
	g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_HEARTBEAT);
	util_answer(&gs.u[UTIL_HEARTBEAT], &m);
	g_assert_true(vsp_guest_wait_until(gs.g, hb_st(&b).beats == 2, WAIT_MS));
	g_assert_cmpuint(hb_st(&b).bad, ==, 0);
	g_assert_true(hb_st(&b).alive);

	/* Time sync: the guest's clock stood still, so a SYNC comes (after a
	 * sample the old host may have left in the ring). */
	uint64_t ts_answers = ts_st(&b).answers;
	for (int i = 0;; i++) {
		g_assert_cmpint(i, <, 3);
		host_recv(&gs.u[UTIL_TIMESYNC], &m);
		g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_TIMESYNC);
		g_assert_cmpuint(rd16(m.buf + O_MSG_MAJOR), ==, 4);
		util_answer(&gs.u[UTIL_TIMESYNC], &m);
		ts_answers++;
		if (m.buf[O_BODY + 16] == 1)
			break;
	}
	g_assert_true(vsp_guest_wait_until(gs.g, ts_st(&b).answers == ts_answers, WAIT_MS));
	g_assert_cmpuint(ts_st(&b).syncs, ==, 2);

	/* KVP: the enumeration in flight is answered ("no more": S_CONT); the
	 * sweep goes on to the next pool. */
	host_recv(&gs.u[UTIL_KVP], &m);
	g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_KVP);
	g_assert_cmpuint(m.buf[O_BODY], ==, KVP_OP_ENUMERATE);
	g_assert_cmpuint(m.buf[O_BODY + 1], ==, KVP_POOL_AUTO);
	wr32(m.buf + O_STATUS, IC_S_CONT);
	m.buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	guest_send(&gs.u[UTIL_KVP], m.buf, m.len, m.d.trans_id);
	g_assert_true(vsp_guest_wait_until(gs.g, kvp_st(&b).answers == 1, WAIT_MS));
	host_recv(&gs.u[UTIL_KVP], &m);
	g_assert_cmpuint(m.buf[O_BODY + 1], ==, KVP_POOL_GUEST);
	/* Counted after it went out: the guest may have it first. */
	g_assert_true(vsp_guest_wait_until(gs.g, kvp_st(&b).requests == kvp_requests + 1, WAIT_MS));
	g_assert_cmpuint(kvp_st(&b).bad, ==, 0);

	/* Shutdown: in the message version agreed before the save. */
	g_assert_cmpint(ic_shutdown_request(b.sd, IC_SHUTDOWN_POWEROFF, "saved and restored"), ==, 0);
	host_recv(&gs.u[UTIL_SHUTDOWN], &m);
	g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_SHUTDOWN);
	g_assert_cmpuint(rd16(m.buf + O_MSG_MAJOR), ==, gs.u[UTIL_SHUTDOWN].chosen.major);
	g_assert_cmpuint(rd16(m.buf + O_MSG_MINOR), ==, gs.u[UTIL_SHUTDOWN].chosen.minor);
	util_answer(&gs.u[UTIL_SHUTDOWN], &m);
	g_assert_true(vsp_guest_wait_until(gs.g, sd_st(&b).answers == 1, WAIT_MS));

	/* Video: the VRAM mapped again where the guest put it, the surface back,
	 * damage taken, no new negotiation. */
	g_assert_cmpuint(b.vram.maps, ==, 1);
	g_assert_cmphex(b.vram.gpa, ==, WIN_START);
	struct synthvid_state vb = sv_st(&b);
	g_assert_cmpint(vb.phase, ==, SYNTHVID_RUNNING);
	g_assert_cmphex(vb.version, ==, SYNTHVID_VERSION_WIN10);
	g_assert_cmpuint(vb.surface_width, ==, 1024);
	g_assert_cmpuint(vb.situations, ==, va.situations);
	g_assert_cmpuint(vb.opens, ==, va.opens);
	host_pump(&b);
	g_assert_cmpuint(b.sink.surfaces, ==, 1);
	g_assert_cmpuint(b.sink.w, ==, 1024);
	g_assert_cmpuint(b.sink.h, ==, 768);
	uint8_t d[64];
	size_t n = video_msg(d, 10, 18);
	d[16] = 0;
	d[17] = 1;
	le32(d + 18, 10);
	le32(d + 22, 20);
	le32(d + 26, 30);
	le32(d + 30, 40);
	video_send(&gs, d, n);
	g_assert_true(vsp_guest_wait_until(gs.g, sv_st(&b).dirt == va.dirt + 1, WAIT_MS));
	g_assert_cmpuint(sv_st(&b).bad, ==, 0);

	/* Keyboard: the press written before the save is in the ring; the key
	 * is held still, and letting go of it sends the release. */
	g_assert_cmpuint(kbd_st(&b).held, ==, 1);
	g_assert_cmpint(kbd_st(&b).phase, ==, SYNTH_KBD_READY);
	uint8_t ev[12];
	kbd_recv(&gs, ev, sizeof(ev));
	g_assert_cmpuint(rd32(ev), ==, 3);
	g_assert_cmphex(rd16(ev + 4), ==, 0x1e);
	g_assert_cmphex(rd32(ev + 8) & SYNTH_KBD_INFO_BREAK, ==, 0);
	g_assert_cmpint(synth_kbd_release_all(b.kbd), ==, 1);
	kbd_recv(&gs, ev, sizeof(ev));
	g_assert_cmphex(rd16(ev + 4), ==, 0x1e);
	g_assert_cmphex(rd32(ev + 8) & SYNTH_KBD_INFO_BREAK, ==, SYNTH_KBD_INFO_BREAK);
	g_assert_cmpuint(kbd_st(&b).held, ==, 0);
	g_assert_cmpuint(kbd_st(&b).negotiations, ==, 1);

	/* Mouse: reports flow without a new handshake. */
	g_assert_cmpint(synth_mouse_report(b.mouse, 1000, 2000, INPUT_BUTTON_LEFT, 0, 0), ==, 0);
	uint8_t mp[64];
	g_assert_cmpuint(mouse_recv(&gs, mp, sizeof(mp)), ==, SYNTH_MOUSE_MSG_INPUT_REPORT);
	g_assert_cmpuint(rd16(mp + 16 + 1), ==, 1000);
	g_assert_cmpuint(rd16(mp + 16 + 3), ==, 2000);
	g_assert_cmpuint(mp[16], ==, INPUT_BUTTON_LEFT);
	g_assert_cmpuint(mouse_st(&b).negotiations, ==, 1);

	/* The guest never heard a NEGOTIATE or a new VMBus message. */
	g_assert_cmpuint(vsp_guest_inbox_len(gs.g), ==, inbox);
	saved_clear(&s);
	vsp_guest_free(gs.g);
	host_free(&b);
}

/* Enough of a machine to save, and a new one to restore into. */
static void test_malformed(void)
{
	struct guest gs = { .g = vsp_guest_new(), .trans = 100 };
	struct host a;
	host_add(gs.g, &a);
	guest_bring_up(&gs, &a);
	struct saved s = host_save(gs.g);
	struct {
		const int *path;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ PATH(0, 0), g_variant_new_string("heartbeet"), "\"heartbeet\" device where this machine has \"heartbeat\"" },
		{ PATH(1, 1), g_variant_new_uint32(9), "shutdown: relid 9 in the saved VM, 2 here" },
		{ PATH(2, 4), g_variant_new_boolean(FALSE), "timesync: the device's channel is closed" },
		{ PATH(0, 2), g_variant_new_boolean(FALSE), "open for the device and the guest, but not both" },
		{ PATH(0, 7), g_variant_new_variant(g_variant_new_uint32(1)), "heartbeat: of type u" },
		/* The devices' own states. */
		{ PATH(0, 7, 0, 0, 0), g_variant_new_uint32(IC_CLOSED), "heartbeat: the service is closed on an open channel" },
		{ PATH(0, 7, 0, 0, 1), g_variant_new("(qq)", 2, 0), "heartbeat: agreed on versions 2.0" },
		{ PATH(0, 7, 0, 0, 3), g_variant_new_uint64(UINT64_MAX), "heartbeat: transaction ids" },
		{ PATH(0, 7, 0, 2), g_variant_new_uint64(999), "heartbeat: beat" },
		{ PATH(3, 7, 0, 4), g_variant_new_byte(KVP_POOL_EXTERNAL), "kvp: an enumeration of pool 0" },
		{ PATH(3, 7, 0, 12), g_variant_new_parsed("[@a{ss} {}, {}, {}]"), "kvp: 3 pools cached, not 2" },
		{ PATH(3, 7, 0, 11), g_variant_new_parsed("[(byte 7, 'k', 'v')]"), "waiting host write 0 is not one" },
		{ PATH(3, 7, 0, 12, 1), g_variant_new_parsed("{'': 'v'}"), "an entry the guest could not have sent" },
		{ PATH(4, 7, 0, 0), g_variant_new_uint32(9), "video: phase 9" },
		{ PATH(4, 7, 0, 3), g_variant_new_uint64(0x1000), "video: VRAM (mmio) at 0x1000 cannot be there" },
		{ PATH(4, 7, 0, 4, 5), g_variant_new_uint32(100), "does not fit the VRAM" },
		{ PATH(4, 7, 0, 1), g_variant_new_uint32(7), "video: version 0x7" },
		{ PATH(5, 7, 0, 0), g_variant_new_uint32(SYNTH_KBD_CLOSED), "keyboard: phase 0 on an open channel" },
		{ PATH(5, 7, 0, 5, 0), g_variant_new_uint64(1ull << KEY_RESERVED), "keyboard: key 0 held" },
		{ PATH(5, 7, 0, 4), g_variant_new_parsed("[(byte 0x80, uint32 0)]"), "keyboard: a waiting stroke 0x80" },
		{ PATH(6, 7, 0, 2), g_variant_new_uint16(40000), "mouse: pointer at 40000" },
		{ PATH(6, 7, 0, 4), g_variant_new_uint32(0x40), "buttons 0x40" },
	};
	g_assert_cmpint(vsp_guest_new_host(gs.g), ==, 0);
	host_free(&a);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct host h;
		host_add(gs.g, &h);
		g_autoptr(GError) e = NULL;
		g_autoptr(GVariant) m = g_variant_ref_sink(state_set(s.bus, bad[i].path, bad[i].value));
		struct saved ms = { s.server, m };
		int r = host_restore(gs.g, &ms, &e);
		assert_refused(r, e, bad[i].needle);
		/* A new host for the next one: the refused state may have opened channels. */
		g_assert_cmpint(vsp_guest_new_host(gs.g), ==, 0);
		host_free(&h);
	}
	/* A device fewer than the saved VM had. */
	struct host h;
	host_add(gs.g, &h);
	g_autoptr(GError) e = NULL;
	g_autoptr(GVariant) fewer = g_variant_ref_sink(state_without(s.bus, 6));
	g_assert_cmpint(vmbus_server_restore(vsp_guest_server(gs.g), s.server, &e), ==, 0);
	vsp_bus_freeze(vsp_guest_bus(gs.g));
	int r = vsp_bus_restore(vsp_guest_bus(gs.g), fewer, &e);
	vsp_bus_thaw(vsp_guest_bus(gs.g));
	assert_refused(r, e, "the saved VM had 6 devices, this machine 7");
	saved_clear(&s);
	vsp_guest_free(gs.g);
	host_free(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vsp-state/round-trip", test_round_trip);
	g_test_add_func("/vsp-state/malformed", test_malformed);
	return g_test_run();
}
