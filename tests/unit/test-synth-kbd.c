// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synthetic keyboard (synth_kbd.c) end to end through the VSP bus,
 * against a guest that behaves as Linux 6.1's hyperv_keyboard (the VMBus
 * side played by vsp-guest.h, the serio/atkbd side by
 * test-synth-kbd-model.h): the handshake, keys in order from the host API
 * to key events in the guest, Ctrl+Alt+Del, held keys and their release,
 * LED state, a full ring, a full queue, a close, and hostile packets that
 * are counted and dropped without stopping the keyboard.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include <glib.h>

#include "hv/vmbus_ring.h"
#include "test-synth-kbd-model.h"
#include "vsp-guest.h"
#include "vsp/keymap_xt.h"
#include "vsp/synth_kbd.h"
#include "vsp/synth_kbd_msg.h"

#define WAIT_MS VSP_GUEST_TIMEOUT_MS
/* hyperv_keyboard's rings: VMBUS_RING_SIZE(36 KiB), a header page and nine. */
#define KBD_RING_PAGES 10u

struct rig {
	struct vsp_guest *g;
	struct synth_kbd *k;
	const struct vsp_guest_offer *o;
	struct vsp_guest_chan *c;
	struct xt_guest *atkbd;
	uint64_t trans;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x6b62640a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	r->k = synth_kbd_add(vsp_guest_bus(r->g), &inst);
	g_assert_nonnull(r->k);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 1);
	struct vmbus_guid cls = SYNTH_KBD_CLASS;
	r->o = vsp_guest_find(r->g, &cls);
	g_assert_nonnull(r->o);
	r->atkbd = g_new(struct xt_guest, 1);
	xt_guest_init(r->atkbd);
	r->trans = 0x10;
}

static void rig_fini(struct rig *r)
{
	if (r->c)
		g_assert_cmpint(vsp_guest_release(r->c), ==, 0);
	vsp_guest_free(r->g);
	synth_kbd_free(r->k);
	g_free(r->atkbd);
}

static struct synth_kbd_state state(struct rig *r)
{
	struct synth_kbd_state s;
	synth_kbd_get_state(r->k, &s);
	return s;
}

static void rig_open(struct rig *r)
{
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r->g, r->o, KBD_RING_PAGES, KBD_RING_PAGES, &status, &r->c), ==, 0);
	g_assert_cmphex(status, ==, 0);
	g_assert_true(vsp_guest_wait_until(r->g, state(r).phase == SYNTH_KBD_NEGOTIATING, WAIT_MS));
}

/* A guest packet, written as hv_ringbuffer_write does. */
static void guest_send(struct rig *r, uint16_t type, uint16_t flags, const void *data, size_t len)
{
	g_assert_cmpint(vsp_guest_write(r->c, type, flags, r->trans++, data, len), ==, 0);
}

/* hv_kbd_connect_to_vsp: the request, INBAND with a completion requested. */
static void guest_request(struct rig *r, uint32_t version)
{
	uint8_t b[8] = { 1, 0, 0, 0 };
	b[4] = (uint8_t)version;
	b[5] = (uint8_t)(version >> 8);
	b[6] = (uint8_t)(version >> 16);
	b[7] = (uint8_t)(version >> 24);
	guest_send(r, VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, b, sizeof(b));
}

struct hostpkt {
	struct vmbus_packet_desc d;
	uint8_t raw[512];
	const uint8_t *payload;
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
	g_assert_cmpuint(p->d.len8 * 8u, ==, (unsigned long)n);
	p->payload = p->raw + p->d.offset8 * 8u;
	p->len = (size_t)n - p->d.offset8 * 8u;
	return true;
}

static void host_read(struct rig *r, struct hostpkt *p)
{
	g_assert_true(host_try_read(r, p, WAIT_MS));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void rig_ready(struct rig *r)
{
	rig_open(r);
	guest_request(r, 0x00010000);
	struct hostpkt p;
	host_read(r, &p);
	/* hv_kbd_on_receive: at least a struct synth_kbd_protocol_response. */
	g_assert_cmpuint(p.len, >=, 8);
	g_assert_cmpuint(rd32(p.payload), ==, 2);
	g_assert_cmphex(rd32(p.payload + 4) & 1, ==, 1);
	g_assert_cmpuint(p.d.trans_id, ==, r->trans - 1);
	g_assert_cmpint(state(r).phase, ==, SYNTH_KBD_READY);
	g_assert_cmphex(state(r).version, ==, 0x00010000);
}

/* Everything the host wrote so far, into the guest's atkbd. */
static void guest_drain(struct rig *r)
{
	vsp_guest_bus_sync(r->g);
	struct hostpkt p;
	while (host_try_read(r, &p, 0))
		xt_guest_message(r->atkbd, p.payload, p.len);
}

/* The same, waiting (the keyboard paces long runs) until the guest has
 * seen n key events in all. */
static void guest_collect(struct rig *r, size_t n)
{
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
	struct hostpkt p;
	while (r->atkbd->n < n && g_get_monotonic_time() < end)
		if (host_try_read(r, &p, 100))
			xt_guest_message(r->atkbd, p.payload, p.len);
	guest_drain(r);
}

/* The guest's key events from index from on: (code, value) pairs. */
static void assert_events(struct rig *r, size_t from, const uint16_t *want, size_t n)
{
	g_assert_cmpuint(r->atkbd->n, ==, from + n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		g_assert_cmpuint(r->atkbd->ev[from + i].code, ==, want[2 * i]);
		g_assert_cmpint(r->atkbd->ev[from + i].value, ==, (int)want[2 * i + 1]);
	}
}

static void test_offer(void)
{
	struct rig r;
	rig_init(&r);
	struct vmbus_guid cls = SYNTH_KBD_CLASS;
	/* f912ad6d-2b17-48ea-bd65-f927a61c7684 in the Microsoft layout. */
	static const uint8_t want[16] = { 0x6d, 0xad, 0x12, 0xf9, 0x17, 0x2b, 0xea, 0x48,
					  0xbd, 0x65, 0xf9, 0x27, 0xa6, 0x1c, 0x76, 0x84 };
	g_assert_cmpmem(cls.b, 16, want, 16);
	g_assert_cmpuint(r.o->chn_flags & VMBUS_CHANNEL_NAMED_PIPE_MODE, ==, 0);
	/* Nobody listens yet. */
	g_assert_cmpint(state(&r).phase, ==, SYNTH_KBD_CLOSED);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, -ENOTCONN);
	rig_open(&r);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, -ENOTCONN);
	g_assert_cmpint(synth_kbd_ctrl_alt_del(r.k), ==, -ENOTCONN);
	/* Nothing held: releasing all is nothing to do. */
	g_assert_cmpint(synth_kbd_release_all(r.k), ==, 0);
	rig_fini(&r);
}

static void test_keys(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, false), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_RIGHTCTRL, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_RIGHTCTRL, false), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_PAUSE, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_PAUSE, false), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_HANJA, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_HANJA, false), ==, 0);
	guest_collect(&r, 8);
	static const uint16_t want[] = {
		KEY_A, 1, KEY_A, 0, KEY_RIGHTCTRL, 1, KEY_RIGHTCTRL, 0, KEY_PAUSE, 1, KEY_PAUSE, 0,
		KEY_HANJA, 1, KEY_HANJA, 0,
	};
	assert_events(&r, 0, want, G_N_ELEMENTS(want));
	struct synth_kbd_state s = state(&r);
	g_assert_cmpuint(s.keys, ==, 8);
	g_assert_cmpuint(s.events, ==, 1 + 1 + 1 + 1 + 2 + 2 + 1);
	g_assert_cmpuint(s.held, ==, 0);
	g_assert_cmpuint(s.queued, ==, 0);
	g_assert_cmpuint(s.bad, ==, 0);

	/* Codes it lacks: refused, nothing sent. */
	g_assert_cmpint(synth_kbd_key(r.k, KEY_RESERVED, true), ==, -EINVAL);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_MACRO, true), ==, -EINVAL);
	g_assert_cmpint(synth_kbd_key(r.k, BTN_LEFT, true), ==, -EINVAL);
	g_assert_cmpint(synth_kbd_key(r.k, 0xffff, false), ==, -EINVAL);
	struct synth_kbd_key_change bad[2] = { { KEY_B, true }, { 999, true } };
	g_assert_cmpint(synth_kbd_send(r.k, bad, 2), ==, -EINVAL);
	g_assert_cmpint(synth_kbd_send(r.k, bad, 0), ==, -EINVAL);
	g_assert_cmpint(synth_kbd_send(r.k, bad, SYNTH_KBD_BATCH_MAX + 1), ==, -EINVAL);
	guest_drain(&r);
	g_assert_cmpuint(r.atkbd->n, ==, G_N_ELEMENTS(want) / 2);
	g_assert_cmpuint(state(&r).held, ==, 0);
	rig_fini(&r);
}

/* Every key of the table through the device, as the real-guest test does. */
static void test_all_keys(void)
{
	struct rig r;
	rig_init(&r);
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	for (size_t i = 0; i < n; i++)
		if (t[i].flags & KEYMAP_XT_SETKEYCODES)
			xt_guest_setkeycode(r.atkbd, t[i].code | ((t[i].flags & KEYMAP_XT_E0) ? 0x80u : 0), t[i].evdev);
	rig_ready(&r);
	struct synth_kbd_key_change c[SYNTH_KBD_BATCH_MAX];
	size_t nc = 0;
	for (size_t i = 0; i < n; i++) {
		c[nc++] = (struct synth_kbd_key_change){ t[i].evdev, true };
		c[nc++] = (struct synth_kbd_key_change){ t[i].evdev, false };
		if (nc == SYNTH_KBD_BATCH_MAX || i + 1 == n) {
			g_assert_cmpint(synth_kbd_send(r.k, c, nc), ==, 0);
			nc = 0;
		}
	}
	/* About 300 strokes at the keyboard's pace: 1.5 s. */
	guest_collect(&r, 2 * n);
	g_assert_cmpuint(r.atkbd->n, ==, 2 * n);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpuint(r.atkbd->ev[2 * i].code, ==, t[i].evdev);
		g_assert_cmpint(r.atkbd->ev[2 * i].value, ==, 1);
		g_assert_cmpuint(r.atkbd->ev[2 * i + 1].code, ==, t[i].evdev);
		g_assert_cmpint(r.atkbd->ev[2 * i + 1].value, ==, 0);
	}
	g_assert_cmpuint(r.atkbd->resets + r.atkbd->replies + r.atkbd->unknown + r.atkbd->dropped_msgs, ==, 0);
	rig_fini(&r);
}

static void test_ctrl_alt_del_and_held(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	g_assert_cmpint(synth_kbd_ctrl_alt_del(r.k), ==, 0);
	guest_collect(&r, 6);
	static const uint16_t cad[] = {
		KEY_LEFTCTRL, 1, KEY_LEFTALT, 1, KEY_DELETE, 1, KEY_DELETE, 0, KEY_LEFTALT, 0, KEY_LEFTCTRL, 0,
	};
	assert_events(&r, 0, cad, G_N_ELEMENTS(cad));
	size_t base = r.atkbd->n;

	/* Held keys: a press twice is a repeat; releasing all lets go of each
	 * once, in code order; a release of a key not held sends nothing. */
	g_assert_cmpint(synth_kbd_key(r.k, KEY_B, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_UP, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_UP, true), ==, 0);
	g_assert_cmpuint(state(&r).held, ==, 3);
	g_assert_cmpint(synth_kbd_release_all(r.k), ==, 3);
	g_assert_cmpuint(state(&r).held, ==, 0);
	g_assert_cmpint(synth_kbd_release_all(r.k), ==, 0);
	guest_collect(&r, base + 7);
	static const uint16_t held[] = {
		KEY_B, 1, KEY_A, 1, KEY_UP, 1, KEY_UP, 2, KEY_A, 0, KEY_B, 0, KEY_UP, 0,
	};
	assert_events(&r, base, held, G_N_ELEMENTS(held));
	base = r.atkbd->n;
	uint64_t events = state(&r).events;
	/* Left Shift up alone would be 0xAA, the keyboard's self-test reply. */
	g_assert_cmpint(synth_kbd_key(r.k, KEY_LEFTSHIFT, false), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_Z, false), ==, 0);
	guest_drain(&r);
	g_assert_cmpuint(r.atkbd->n, ==, base);
	g_assert_cmpuint(r.atkbd->resets, ==, 0);
	g_assert_cmpuint(state(&r).events, ==, events);
	g_assert_cmpuint(state(&r).keys, ==, 6 + 4 + 3 + 2);
	rig_fini(&r);
}

static void test_leds(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	g_assert_false(state(&r).leds_known);
	uint8_t led[8] = { 4, 0, 0, 0, SYNTH_KBD_LED_CAPS_LOCK | SYNTH_KBD_LED_SCROLL_LOCK, 0 };
	guest_send(&r, VMBUS_PKT_DATA_INBAND, 0, led, 6);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).leds_known, WAIT_MS));
	g_assert_cmphex(state(&r).leds, ==, SYNTH_KBD_LED_CAPS_LOCK | SYNTH_KBD_LED_SCROLL_LOCK);
	led[4] = SYNTH_KBD_LED_NUM_LOCK;
	guest_send(&r, VMBUS_PKT_DATA_INBAND, 0, led, 8);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).leds == SYNTH_KBD_LED_NUM_LOCK, WAIT_MS));
	g_assert_cmpuint(state(&r).bad, ==, 0);
	/* LEDs are not an answer: nothing comes back. */
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	rig_fini(&r);
}

/* Each refused one is counted once, answered never, and the keyboard works on. */
static void test_malformed(void)
{
	struct rig r;
	rig_init(&r);
	rig_open(&r);
	struct vsp_device *dev = vsp_bus_find(vsp_guest_bus(r.g), "keyboard");
	g_assert_nonnull(dev);
	uint8_t big[600];
	memset(big, 0, sizeof(big));
	big[0] = 1;
	/* The ring pads every payload to 8 bytes, and the device sees the
	 * padding (as Linux does): a message can only be short of its 8 bytes
	 * when it is empty. test-synth-kbd-msg.c has the short ones. */
	static const struct {
		uint16_t type;
		uint8_t b[12];
		size_t len;
	} cases[] = {
		{ VMBUS_PKT_DATA_INBAND, { 0 }, 0 },                                   /* empty */
		{ VMBUS_PKT_DATA_INBAND, { 2, 0, 0, 0, 1, 0, 0, 0 }, 8 },              /* the host's response */
		{ VMBUS_PKT_DATA_INBAND, { 3, 0, 0, 0, 0x1e, 0, 0, 0, 0, 0, 0, 0 }, 12 }, /* the host's event */
		{ VMBUS_PKT_DATA_INBAND, { 0, 0, 0, 0, 0, 0, 1, 0 }, 8 },              /* type 0 */
		{ VMBUS_PKT_DATA_INBAND, { 0x63, 0, 0, 0, 0, 0, 1, 0 }, 8 },           /* unknown type */
		{ VMBUS_PKT_DATA_INBAND, { 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0 }, 8 },
		{ VMBUS_PKT_COMP, { 1, 0, 0, 0, 0, 0, 1, 0 }, 8 },                     /* a request, not INBAND */
		{ VMBUS_PKT_DATA_GPA_DIRECT, { 1, 0, 0, 0, 0, 0, 1, 0 }, 8 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		guest_send(&r, cases[i].type, 0, cases[i].b, cases[i].len);
		if (!vsp_guest_wait_until(r.g, state(&r).bad == i + 1, WAIT_MS))
			g_error("case %zu not counted (bad=%" G_GUINT64_FORMAT ")", i, state(&r).bad);
	}
	/* The longest message taken: LEDs with padding up to SYNTH_KBD_MSG_MAX. */
	uint8_t led[SYNTH_KBD_MSG_MAX] = { 4, 0, 0, 0, SYNTH_KBD_LED_KANA_LOCK };
	guest_send(&r, VMBUS_PKT_DATA_INBAND, 0, led, sizeof(led));
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).leds_known, WAIT_MS));
	g_assert_cmphex(state(&r).leds, ==, SYNTH_KBD_LED_KANA_LOCK);
	/* Past it (the class's packet limit): the bus drops them before the
	 * device sees them. */
	struct vsp_device_stats st0, st1;
	vsp_device_get_stats(dev, &st0);
	guest_send(&r, VMBUS_PKT_DATA_INBAND, 0, big, SYNTH_KBD_MSG_MAX + 8);
	guest_send(&r, VMBUS_PKT_DATA_INBAND, 0, big, sizeof(big));
	g_assert_true(vsp_guest_wait_until(r.g, (vsp_device_get_stats(dev, &st1), st1.bad_packets) ==
					   st0.bad_packets + 2, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(r.c), ==, 0);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_KBD_NEGOTIATING);

	/* A version we do not speak: refused, and keys stay refused too. */
	guest_request(&r, 0x00020000);
	struct hostpkt p;
	host_read(&r, &p);
	g_assert_cmpuint(rd32(p.payload), ==, 2);
	g_assert_cmphex(rd32(p.payload + 4) & 1, ==, 0);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_KBD_REFUSED);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, -ENOTCONN);
	/* And then the right one. */
	guest_request(&r, 0x00010000);
	host_read(&r, &p);
	g_assert_cmphex(rd32(p.payload + 4) & 1, ==, 1);
	g_assert_cmpint(state(&r).phase, ==, SYNTH_KBD_READY);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).negotiations == 2, WAIT_MS));
	g_assert_cmpint(synth_kbd_key(r.k, KEY_A, true), ==, 0);
	guest_drain(&r);
	g_assert_cmpuint(r.atkbd->n, ==, 1);
	g_assert_cmpuint(state(&r).bad, ==, G_N_ELEMENTS(cases));
	rig_fini(&r);
}

/* A guest that does not read: the ring fills, the rest waits in the queue,
 * and all of it arrives in order once the guest reads again. Past the
 * queue, a batch is refused whole. */
static void test_full(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	synth_kbd_set_pace(r.k, 0, 0);
	vsp_guest_bus_sync(r.g);
	/* Each EVENT takes 40 bytes of the 36 KiB ring: about 920 fit. */
	size_t pressed = 0;
	int e = 0;
	struct synth_kbd_key_change c[2];
	const uint16_t keys[] = { KEY_A, KEY_B, KEY_C, KEY_D };
	while (pressed < 4000) {
		uint16_t k = keys[pressed % 4];
		c[0] = (struct synth_kbd_key_change){ k, true };
		c[1] = (struct synth_kbd_key_change){ k, false };
		if ((e = synth_kbd_send(r.k, c, 2)) < 0)
			break;
		pressed++;
		if (pressed % 64 == 0)
			vsp_guest_bus_sync(r.g);     /* let the bus fill the ring meanwhile */
	}
	g_assert_cmpint(e, ==, -ENOBUFS);
	vsp_guest_bus_sync(r.g);
	struct synth_kbd_state s = state(&r);
	g_assert_cmpuint(s.queued, >, SYNTH_KBD_QUEUE_MAX - 2);
	g_assert_cmpuint(s.events, >, 800);
	g_assert_cmpuint(s.events + s.queued, ==, 2 * pressed);
	/* A refused batch left nothing behind, and the queue takes no more. */
	g_assert_cmpuint(s.keys, ==, 2 * pressed);
	g_assert_cmpint(synth_kbd_send(r.k, c, 2), ==, -ENOBUFS);

	/* The guest reads everything: the writable callback empties the queue. */
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
	while (r.atkbd->n < 2 * pressed && g_get_monotonic_time() < end) {
		struct hostpkt p;
		if (host_try_read(&r, &p, 100))
			xt_guest_message(r.atkbd, p.payload, p.len);
	}
	g_assert_cmpuint(r.atkbd->n, ==, 2 * pressed);
	for (size_t i = 0; i < pressed; i++) {
		g_assert_cmpuint(r.atkbd->ev[2 * i].code, ==, keys[i % 4]);
		g_assert_cmpint(r.atkbd->ev[2 * i].value, ==, 1);
		g_assert_cmpint(r.atkbd->ev[2 * i + 1].value, ==, 0);
	}
	s = state(&r);
	g_assert_cmpuint(s.queued, ==, 0);
	g_assert_cmpuint(s.events, ==, 2 * pressed);
	g_assert_cmpuint(s.dropped, ==, 0);
	rig_fini(&r);
}

/* Runs past the burst go at the pace; a new pace applies at once. */
static void test_pace(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	/* A pace so slow that nothing past the burst comes during the test. */
	synth_kbd_set_pace(r.k, 4, 600000);
	vsp_guest_bus_sync(r.g);
	const uint16_t keys[] = { KEY_A, KEY_B, KEY_C };
	for (size_t i = 0; i < 3; i++)
		g_assert_cmpint(synth_kbd_send(r.k, (struct synth_kbd_key_change[]){ { keys[i], true },
										  { keys[i], false } }, 2), ==, 0);
	guest_collect(&r, 4);
	g_assert_cmpuint(r.atkbd->n, ==, 4);
	g_assert_cmpuint(state(&r).events, ==, 4);
	g_assert_cmpuint(state(&r).queued, ==, 2);
	/* Unpaced: the rest goes at once. */
	synth_kbd_set_pace(r.k, 0, 0);
	guest_collect(&r, 6);
	static const uint16_t want[] = { KEY_A, 1, KEY_A, 0, KEY_B, 1, KEY_B, 0, KEY_C, 1, KEY_C, 0 };
	assert_events(&r, 0, want, G_N_ELEMENTS(want));
	/* A burst of 1 every millisecond: the timer carries it through. */
	synth_kbd_set_pace(r.k, 1, 1);
	vsp_guest_bus_sync(r.g);
	struct synth_kbd_key_change c[40];
	for (size_t i = 0; i < 20; i++) {
		c[2 * i] = (struct synth_kbd_key_change){ KEY_X, true };
		c[2 * i + 1] = (struct synth_kbd_key_change){ KEY_X, false };
	}
	g_assert_cmpint(synth_kbd_send(r.k, c, 40), ==, 0);
	guest_collect(&r, 6 + 40);
	g_assert_cmpuint(r.atkbd->n, ==, 6 + 40);
	g_assert_cmpuint(state(&r).queued, ==, 0);
	rig_fini(&r);
}

/* Closing forgets held and queued keys; the next open negotiates afresh. */
static void test_close(void)
{
	struct rig r;
	rig_init(&r);
	rig_ready(&r);
	vsp_guest_bus_hold(r.g);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_LEFTSHIFT, true), ==, 0);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_X, true), ==, 0);
	g_assert_cmpuint(state(&r).held, ==, 2);
	g_assert_cmpuint(state(&r).queued, ==, 2);
	g_assert_cmpint(vsp_guest_close(r.c), ==, 0);
	vsp_guest_bus_unhold(r.g);
	g_assert_true(vsp_guest_wait_until(r.g, state(&r).phase == SYNTH_KBD_CLOSED, WAIT_MS));
	struct synth_kbd_state s = state(&r);
	g_assert_cmpuint(s.held, ==, 0);
	g_assert_cmpuint(s.queued, ==, 0);
	g_assert_cmpuint(s.dropped, ==, 2);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_X, false), ==, -ENOTCONN);
	g_assert_cmpint(vsp_guest_release(r.c), ==, 0);
	r.c = NULL;

	/* A new open (the guest's driver reloaded): a new handshake. */
	rig_ready(&r);
	xt_guest_init(r.atkbd);
	g_assert_cmpint(synth_kbd_key(r.k, KEY_X, false), ==, 0);   /* not held any more */
	g_assert_cmpint(synth_kbd_key(r.k, KEY_Y, true), ==, 0);
	guest_drain(&r);
	static const uint16_t want[] = { KEY_Y, 1 };
	assert_events(&r, 0, want, G_N_ELEMENTS(want));
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synth-kbd/offer", test_offer);
	g_test_add_func("/synth-kbd/keys", test_keys);
	g_test_add_func("/synth-kbd/all-keys", test_all_keys);
	g_test_add_func("/synth-kbd/ctrl-alt-del-and-held", test_ctrl_alt_del_and_held);
	g_test_add_func("/synth-kbd/leds", test_leds);
	g_test_add_func("/synth-kbd/malformed", test_malformed);
	g_test_add_func("/synth-kbd/full", test_full);
	g_test_add_func("/synth-kbd/pace", test_pace);
	g_test_add_func("/synth-kbd/close", test_close);
	return g_test_run();
}
