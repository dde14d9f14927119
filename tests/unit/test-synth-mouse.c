// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synthetic mouse (synth_mouse.c) end to end through the VSP bus,
 * against a guest that behaves as Linux 6.1's hid_hyperv (vsp-guest.h for
 * the VMBus side; its message checks written here from hid-hyperv.c): the
 * handshake and device info, reports from the host API in the descriptor's
 * layout, wheel steps split over reports, moves folded while the guest is
 * not reading, and hostile packets counted and dropped.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/vmbus_ring.h"
#include "vsp-guest.h"
#include "vsp/input.h"
#include "vsp/synth_mouse.h"
#include "vsp/synth_mouse_msg.h"

#define WAIT_MS VSP_GUEST_TIMEOUT_MS
/* hid_hyperv's rings: VMBUS_RING_SIZE(36 KiB). */
#define MOUSE_RING_PAGES 10u

struct rig {
	struct vsp_guest *g;
	struct synth_mouse *m;
	const struct vsp_guest_offer *o;
	struct vsp_guest_chan *c;
	uint64_t trans;
};

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

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x6d6f7573, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	r->m = synth_mouse_add(vsp_guest_bus(r->g), &inst);
	g_assert_nonnull(r->m);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 1);
	struct vmbus_guid cls = SYNTH_MOUSE_CLASS;
	r->o = vsp_guest_find(r->g, &cls);
	g_assert_nonnull(r->o);
	r->trans = 0x40;
}

static void rig_fini(struct rig *r)
{
	if (r->c)
		g_assert_cmpint(vsp_guest_release(r->c), ==, 0);
	vsp_guest_free(r->g);
	synth_mouse_free(r->m);
}

static struct synth_mouse_state state(struct rig *r)
{
	struct synth_mouse_state s;
	synth_mouse_get_state(r->m, &s);
	return s;
}

static void guest_send(struct rig *r, uint16_t type, const void *data, size_t len)
{
	g_assert_cmpint(vsp_guest_write(r->c, type, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, r->trans++, data, len), ==, 0);
}

/* mousevsc_connect_to_vsp's request: 23 bytes of a struct mousevsc_prt_msg. */
static void guest_request(struct rig *r, uint32_t version)
{
	uint8_t b[24] = { 0 };
	wr32(b, 1);
	wr32(b + 4, 12);
	wr32(b + 12, 4);
	wr32(b + 16, version);
	guest_send(r, VMBUS_PKT_DATA_INBAND, b, 23);
}

static void guest_ack(struct rig *r)
{
	uint8_t b[24] = { 0 };
	wr32(b, 1);
	wr32(b + 4, 9);
	wr32(b + 8, 3);
	wr32(b + 12, 1);
	guest_send(r, VMBUS_PKT_DATA_INBAND, b, 20);
}

struct hostpkt {
	struct vmbus_packet_desc d;
	uint8_t raw[1024];
	const uint8_t *payload;      /* a struct pipe_prt_msg */
	size_t len;
};

static bool host_try_read(struct rig *r, struct hostpkt *p, unsigned timeout_ms)
{
	long n = vsp_guest_recv(r->c, p->raw, sizeof(p->raw), timeout_ms);
	if (n == -ETIMEDOUT)
		return false;
	g_assert_cmpint(n, >=, 16);
	memcpy(&p->d, p->raw, sizeof(p->d));
	g_assert_cmpuint(p->d.type, ==, VMBUS_PKT_DATA_INBAND);
	p->payload = p->raw + p->d.offset8 * 8u;
	p->len = (size_t)n - p->d.offset8 * 8u;
	/* mousevsc_on_receive: pipe messages of type data only. */
	g_assert_cmpuint(p->len, >=, 16);
	g_assert_cmpuint(rd32(p->payload), ==, 1);
	g_assert_cmpuint(8 + rd32(p->payload + 4), <=, p->len);
	return true;
}

static void host_read(struct rig *r, struct hostpkt *p, uint32_t type)
{
	g_assert_true(host_try_read(r, p, WAIT_MS));
	g_assert_cmpuint(rd32(p->payload + 8), ==, type);
}

/* hid-hyperv's view of the device info: the report descriptor it keeps. */
static void check_device_info(const struct hostpkt *p)
{
	uint32_t size = rd32(p->payload + 4);
	g_assert_cmpuint(size, >=, 49);     /* sizeof(struct synthhid_device_info) */
	const uint8_t *info = p->payload + 8;
	g_assert_cmphex(rd16(info + 12), ==, 0x045e);
	g_assert_cmphex(rd16(info + 14), ==, 0x0621);
	const uint8_t *desc = info + 40;
	size_t desc_size = size - 40;
	g_assert_cmpuint(desc[0], >=, 9);
	g_assert_cmpuint(desc[0], <=, desc_size);
	uint16_t rlen = rd16(desc + 7);
	g_assert_cmpuint(rlen, >, 0);
	g_assert_cmpuint(rlen, <=, desc_size - desc[0]);
	size_t dlen;
	const uint8_t *ours = synth_mouse_report_descriptor(&dlen);
	g_assert_cmpmem(desc + desc[0], rlen, ours, dlen);
}

static void rig_open(struct rig *r)
{
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r->g, r->o, MOUSE_RING_PAGES, MOUSE_RING_PAGES, &status, &r->c), ==, 0);
	g_assert_cmphex(status, ==, 0);
	g_assert_true(vsp_guest_wait_until(r->g, state(r).phase == SYNTH_MOUSE_NEGOTIATING, WAIT_MS));
}

static void rig_ready(struct rig *r)
{
	rig_open(r);
	guest_request(r, 0x00020000);
	struct hostpkt p;
	host_read(r, &p, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE);
	/* Linux copies pipe size + 11 bytes into its 24-byte struct. */
	g_assert_cmpuint(rd32(p.payload + 4) + 11, <=, 24);
	g_assert_cmphex(rd32(p.payload + 16), ==, 0x00020000);
	g_assert_cmpuint(p.payload[20], !=, 0);
	g_assert_cmpuint(p.d.trans_id, ==, r->trans - 1);
	host_read(r, &p, SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO);
	check_device_info(&p);
	g_assert_cmpint(state(r).phase, ==, SYNTH_MOUSE_WAIT_ACK);
	g_assert_cmpint(synth_mouse_report(r->m, 1, 1, 0, 0, 0), ==, -ENOTCONN);
	guest_ack(r);
	g_assert_true(vsp_guest_wait_until(r->g, state(r).phase == SYNTH_MOUSE_READY, WAIT_MS));
}

/* The next INPUT_REPORT, decoded at the descriptor's offsets. */
static struct synth_mouse_report host_report(struct rig *r)
{
	struct hostpkt p;
	host_read(r, &p, SYNTH_MOUSE_MSG_INPUT_REPORT);
	g_assert_cmpuint(rd32(p.payload + 12), ==, SYNTH_MOUSE_REPORT_SIZE);
	const uint8_t *b = p.payload + 16;
	g_assert_cmpuint(b[0] & 0xe0, ==, 0);
	return (struct synth_mouse_report){ rd16(b + 1), rd16(b + 3), b[0], (int8_t)b[5], (int8_t)b[6] };
}

static void assert_report(struct synth_mouse_report got, uint16_t x, uint16_t y, uint8_t buttons, int8_t wheel,
			  int8_t hwheel)
{
	g_assert_cmpuint(got.x, ==, x);
	g_assert_cmpuint(got.y, ==, y);
	g_assert_cmphex(got.buttons, ==, buttons);
	g_assert_cmpint(got.wheel, ==, wheel);
	g_assert_cmpint(got.hwheel, ==, hwheel);
}

static void test_offer_and_handshake(void)
{
	struct rig r;
	rig_init(&r);
	static const uint8_t want[16] = { 0x9e, 0xb6, 0xa8, 0xcf, 0x4a, 0x5b, 0xc0, 0x4c,
					  0xb9, 0x8b, 0x8b, 0xa1, 0xa1, 0xf3, 0xf9, 0x5a };
	g_assert_cmpmem(r.o->type.b, 16, want, 16);
	g_assert_cmphex(r.o->chn_flags & VMBUS_CHANNEL_NAMED_PIPE_MODE, ==, VMBUS_CHANNEL_NAMED_PIPE_MODE);
	g_assert_cmphex(r.o->pipe_mode, ==, VMBUS_PIPE_TYPE_MESSAGE);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_MOUSE_CLOSED);
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0, 0, 0, 0), ==, -ENOTCONN);
	rig_ready(&r);
	struct synth_mouse_state s = state(&r);
	g_assert_cmpuint(s.negotiations, ==, 1);
	g_assert_cmphex(s.version, ==, 0x00020000);
	g_assert_cmpuint(s.bad, ==, 0);
	rig_fini(&r);
}

static void test_reports(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	g_assert_cmpint(synth_mouse_report(r.m, 100, 200, INPUT_BUTTON_LEFT, 0, 0), ==, 0);
	assert_report(host_report(&r), 100, 200, INPUT_BUTTON_LEFT, 0, 0);
	g_assert_cmpint(synth_mouse_report(r.m, INPUT_ABS_MAX, 0, INPUT_BUTTONS_ALL, 3, -2), ==, 0);
	assert_report(host_report(&r), INPUT_ABS_MAX, 0, 0x1f, 3, -2);
	/* 300 steps up and 5 left: three reports, the position on each. */
	g_assert_cmpint(synth_mouse_report(r.m, 7, 8, INPUT_BUTTON_SIDE, 300, -5), ==, 0);
	assert_report(host_report(&r), 7, 8, INPUT_BUTTON_SIDE, 127, -5);
	assert_report(host_report(&r), 7, 8, INPUT_BUTTON_SIDE, 127, 0);
	assert_report(host_report(&r), 7, 8, INPUT_BUTTON_SIDE, 46, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 7, 8, 0, -SYNTH_MOUSE_WHEEL_MAX, SYNTH_MOUSE_WHEEL_MAX), ==, 0);
	int32_t down = 0, right = 0;
	for (int i = 0; i < 9; i++) {
		struct synth_mouse_report rep = host_report(&r);
		g_assert_cmpint(rep.wheel, >=, -SYNTH_MOUSE_WHEEL_REPORT_MAX);
		g_assert_cmpint(rep.hwheel, <=, SYNTH_MOUSE_WHEEL_REPORT_MAX);
		down += rep.wheel;
		right += rep.hwheel;
	}
	g_assert_cmpint(down, ==, -SYNTH_MOUSE_WHEEL_MAX);
	g_assert_cmpint(right, ==, SYNTH_MOUSE_WHEEL_MAX);
	/* Refused, nothing sent. */
	g_assert_cmpint(synth_mouse_report(r.m, INPUT_ABS_MAX + 1, 0, 0, 0, 0), ==, -EINVAL);
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0xffff, 0, 0, 0), ==, -EINVAL);
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0, 0x20, 0, 0), ==, -EINVAL);
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0, 0, SYNTH_MOUSE_WHEEL_MAX + 1, 0), ==, -EINVAL);
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0, 0, 0, INT32_MIN), ==, -EINVAL);
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	struct synth_mouse_state s = state(&r);
	g_assert_cmpuint(s.calls, ==, 4);
	g_assert_cmpuint(s.sent, ==, 1 + 1 + 3 + 9);
	g_assert_cmpuint(s.x, ==, 7);
	g_assert_cmpuint(s.y, ==, 8);
	g_assert_cmpuint(s.buttons, ==, 0);
	rig_fini(&r);
}

/* While the guest reads nothing, moves collapse into the latest one; a
 * click, a release and wheel steps are kept, in order. */
static void test_coalesce(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	vsp_guest_bus_hold(r.g);
	g_assert_cmpint(synth_mouse_report(r.m, 1, 1, 0, 0, 0), ==, 0);
	for (uint16_t i = 2; i <= 10; i++)
		g_assert_cmpint(synth_mouse_report(r.m, i, i, 0, 0, 0), ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 11, 11, INPUT_BUTTON_RIGHT, 0, 0), ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 12, 12, INPUT_BUTTON_RIGHT, 0, 0), ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 13, 13, INPUT_BUTTON_RIGHT, 1, 0), ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 14, 14, INPUT_BUTTON_RIGHT, 0, 0), ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 15, 15, 0, 0, 0), ==, 0);
	struct synth_mouse_state s = state(&r);
	vsp_guest_bus_unhold(r.g);
	/* The first stays (the bus may be sending it), 3..10 fold into 2, 12
	 * into 11: six reports wait. */
	g_assert_cmpuint(s.queued, ==, 6);
	g_assert_cmpuint(s.coalesced, ==, 8 + 1);
	assert_report(host_report(&r), 1, 1, 0, 0, 0);
	assert_report(host_report(&r), 10, 10, 0, 0, 0);
	assert_report(host_report(&r), 12, 12, INPUT_BUTTON_RIGHT, 0, 0);
	assert_report(host_report(&r), 13, 13, INPUT_BUTTON_RIGHT, 1, 0);
	assert_report(host_report(&r), 14, 14, INPUT_BUTTON_RIGHT, 0, 0);
	assert_report(host_report(&r), 15, 15, 0, 0, 0);
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	s = state(&r);
	g_assert_cmpuint(s.calls, ==, 15);
	g_assert_cmpuint(s.sent, ==, 6);
	rig_fini(&r);
}

/* The queue has a bound: a guest that never reads does not grow it. */
static void test_full(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	int e = 0;
	unsigned calls = 0;
	/* Alternate buttons so that nothing folds. */
	while (calls < 100000 && (e = synth_mouse_report(r.m, 0, 0, calls & 1, 0, 0)) == 0) {
		calls++;
		if (calls % 64 == 0)
			vsp_guest_bus_sync(r.g);
	}
	g_assert_cmpint(e, ==, -ENOBUFS);
	vsp_guest_bus_sync(r.g);
	struct synth_mouse_state s = state(&r);
	g_assert_cmpuint(s.queued, ==, SYNTH_MOUSE_QUEUE_MAX);
	g_assert_cmpuint(s.sent + s.queued, ==, calls);
	g_assert_cmpuint(s.sent, >, 500);  /* 48 bytes a report in a 36 KiB ring */
	unsigned got = 0;
	struct hostpkt p;
	while (got < calls && host_try_read(&r, &p, WAIT_MS)) {
		g_assert_cmphex(p.payload[16], ==, got & 1);
		got++;
	}
	g_assert_cmpuint(got, ==, calls);
	g_assert_cmpuint(state(&r).queued, ==, 0);
	rig_fini(&r);
}

static void test_malformed(void)
{
	struct rig r;
	rig_init(&r);
	rig_open(&r);
	struct { uint32_t w[5]; size_t len; } cases[] = {
		{ { 1, 8, 0, 0 }, 12 },                          /* a request without its version */
		{ { 1, 12, 0, 4 }, 16 },                         /* pipe size past the packet */
		{ { 0, 12, 0, 4, 0x20000 }, 20 },                /* not a data pipe message */
		{ { 1, 12, 0, 5, 0x20000 }, 20 },                /* message size past the pipe */
		{ { 1, 12, 1, 4, 0x20000 }, 20 },                /* the host's response */
		{ { 1, 12, 4, 4, 0x20000 }, 20 },                /* an input report */
		{ { 1, 12, 77, 4, 0x20000 }, 20 },               /* unknown type */
		{ { 1, 9, 3, 1, 0 }, 20 },                       /* an ack nobody waits for */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t b[24] = { 0 };
		for (int k = 0; k < 5; k++)
			wr32(b + 4 * k, cases[i].w[k]);
		guest_send(&r, VMBUS_PKT_DATA_INBAND, b, cases[i].len);
		if (!vsp_guest_wait_until(r.g, state(&r).bad == i + 1, WAIT_MS))
			g_error("case %zu not counted", i);
	}
	uint8_t req[24] = { 1, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 2, 0 };
	guest_send(&r, VMBUS_PKT_COMP, req, 20);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).bad == G_N_ELEMENTS(cases) + 1, WAIT_MS));
	/* Larger than the class takes: the bus drops it. */
	struct vsp_device *dev = vsp_bus_find(vsp_guest_bus(r.g), "mouse");
	struct vsp_device_stats st0, st1;
	vsp_device_get_stats(dev, &st0);
	uint8_t big[SYNTH_MOUSE_MSG_MAX + 8];
	memset(big, 0, sizeof(big));
	memcpy(big, req, 20);
	guest_send(&r, VMBUS_PKT_DATA_INBAND, big, sizeof(big));
	g_assert_true(vsp_guest_wait_until(r.g, (vsp_device_get_stats(dev, &st1), st1.bad_packets) ==
					   st0.bad_packets + 1, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_MOUSE_NEGOTIATING);

	/* Version 1.0: refused, and no device info follows. */
	guest_request(&r, 0x00010000);
	struct hostpkt p;
	host_read(&r, &p, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE);
	g_assert_cmpuint(p.payload[20], ==, 0);
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_MOUSE_REFUSED);
	guest_ack(&r);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).bad == G_N_ELEMENTS(cases) + 2, WAIT_MS));
	g_assert_cmpint(synth_mouse_report(r.m, 0, 0, 0, 0, 0), ==, -ENOTCONN);

	/* 2.0 afterwards works. */
	guest_request(&r, 0x00020000);
	host_read(&r, &p, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE);
	g_assert_cmpuint(p.payload[20], ==, 1);
	host_read(&r, &p, SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO);
	guest_ack(&r);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).phase == SYNTH_MOUSE_READY, WAIT_MS));
	g_assert_cmpint(synth_mouse_report(r.m, 5, 6, 0, 0, 0), ==, 0);
	assert_report(host_report(&r), 5, 6, 0, 0, 0);
	/* A second ack is out of turn. */
	guest_ack(&r);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).bad == G_N_ELEMENTS(cases) + 3, WAIT_MS));
	g_assert_cmpint(state(&r).phase, ==, SYNTH_MOUSE_READY);
	rig_fini(&r);
}

static void test_close(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	vsp_guest_bus_hold(r.g);
	g_assert_cmpint(synth_mouse_report(r.m, 1, 2, INPUT_BUTTON_LEFT, 0, 0), ==, 0);
	g_assert_cmpint(vsp_guest_close(r.c), ==, 0);
	vsp_guest_bus_unhold(r.g);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).phase == SYNTH_MOUSE_CLOSED, WAIT_MS));
	g_assert_cmpuint(state(&r).queued, ==, 0);
	g_assert_cmpuint(state(&r).dropped, ==, 1);
	g_assert_cmpuint(state(&r).buttons, ==, 0);
	g_assert_cmpint(synth_mouse_report(r.m, 1, 2, 0, 0, 0), ==, -ENOTCONN);
	g_assert_cmpint(vsp_guest_release(r.c), ==, 0);
	r.c = NULL;
	rig_ready(&r);
	g_assert_cmpuint(state(&r).negotiations, ==, 2);
	g_assert_cmpint(synth_mouse_report(r.m, 3, 4, 0, 0, 0), ==, 0);
	assert_report(host_report(&r), 3, 4, 0, 0, 0);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synth-mouse/offer-and-handshake", test_offer_and_handshake);
	g_test_add_func("/synth-mouse/reports", test_reports);
	g_test_add_func("/synth-mouse/coalesce", test_coalesce);
	g_test_add_func("/synth-mouse/full", test_full);
	g_test_add_func("/synth-mouse/malformed", test_malformed);
	g_test_add_func("/synth-mouse/close", test_close);
	return g_test_run();
}
