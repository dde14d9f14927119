// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: hostile guest messages against the synthetic keyboard and
 * mouse.
 *
 * Two paths:
 *  - direct, deterministic: synth_kbd_msg_parse and synth_mouse_msg_parse
 *    on the input's messages, each in a buffer of exactly its size.
 *    Checked: an accepted message is a type the guest sends, long enough
 *    for its type, and its fields are the bytes at their offsets; a
 *    refused one leaves *out alone. The keyboard's strokes for any key the
 *    input names, and mouse reports of any values, encode within range.
 *  - through the VSP bus (mode bit 0) into the real devices of
 *    synth_kbd.c and synth_mouse.c, with the unit tests' guest simulator:
 *    the guest opens both channels and sends the input's packets (some
 *    fixed up into good requests and acks, so that the devices get past
 *    their handshakes), mixed with host key changes and pointer reports.
 *    Checked: the host only ever sends well-formed responses, device info,
 *    EVENTs and INPUT_REPORTs with values in range; the keyboard's EVENTs,
 *    fed to a model of Linux's atkbd, never read as a keyboard reset or a
 *    reply; counters never go back.
 *
 * Input: byte 0 the mode; then packets {ctl, len, [type u16], payload}:
 *   bit 0    the mouse (else the keyboard)
 *   bit 1    a VMBus packet type from the input (else DATA_INBAND)
 *   bit 2    payload made a good PROTOCOL_REQUEST (bit 5: an ack, mouse)
 *   bit 3    an action instead of a packet: a host key change (evdev code
 *            from the payload's first byte pair, down from ctl bit 4) or a
 *            pointer report (position, buttons, wheels from the payload)
 *   bit 6    the guest reads what the host sent after this packet
 *   bit 7    len * 8 bytes (zero-filled past the input)
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/le.h"
#include "hv/vmbus_ring.h"
#include "test-synth-kbd-model.h"
#include "vsp-guest.h"
#include "vsp/input.h"
#include "vsp/keymap_xt.h"
#include "vsp/synth_kbd.h"
#include "vsp/synth_kbd_msg.h"
#include "vsp/synth_mouse.h"
#include "vsp/synth_mouse_msg.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

#define FUZZ_MAX_PKTS   64u
#define FUZZ_PKT_MAX    2048u
#define FUZZ_WAIT_MS    5000u
#define RING_PAGES      10u

#define C_MOUSE   0x01u
#define C_TYPE    0x02u
#define C_GOOD    0x04u
#define C_ACTION  0x08u
#define C_DOWN    0x10u
#define C_ACK     0x20u
#define C_READ    0x40u
#define C_LONG    0x80u

struct fpkt {
	uint8_t ctl;
	uint16_t type;
	uint8_t data[FUZZ_PKT_MAX];
	size_t len;
};

static struct fpkt pkts[FUZZ_MAX_PKTS];

static unsigned parse_packets(struct fuzz_input *in)
{
	unsigned n = 0;
	while (in->n && n < FUZZ_MAX_PKTS) {
		struct fpkt *p = &pkts[n++];
		p->ctl = in_u8(in);
		size_t len = in_u8(in);
		if (p->ctl & C_LONG)
			len *= 8;
		p->type = VMBUS_PKT_DATA_INBAND;
		if (p->ctl & C_TYPE)
			p->type = (uint16_t)(in_u8(in) | in_u8(in) << 8);
		size_t take = len < in->n ? len : in->n;
		memcpy(p->data, in->p, take);
		memset(p->data + take, 0, len - take);
		in->p += take;
		in->n -= take;
		p->len = len;
	}
	return n;
}

/* ---- the direct path ---- */

static void check_kbd_parse(const uint8_t *d, size_t len)
{
	struct synth_kbd_guest_msg m, before;
	memset(&m, 0xa5, sizeof(m));
	before = m;
	int r = synth_kbd_msg_parse(d, len, &m);
	if (r < 0) {
		CHECK(r == -EBADMSG || (r == -EMSGSIZE && len > SYNTH_KBD_MSG_MAX));
		CHECK(memcmp(&m, &before, sizeof(m)) == 0);
		return;
	}
	CHECK(r == 0 && len <= SYNTH_KBD_MSG_MAX && len >= 4 && m.type == le32_get(d));
	if (m.type == SYNTH_KBD_MSG_PROTOCOL_REQUEST)
		CHECK(len >= 8 && m.version == le32_get(d + 4));
	else
		CHECK(m.type == SYNTH_KBD_MSG_LED_INDICATORS && len >= 6 && m.led_flags == le16_get(d + 4));
}

static void check_mouse_parse(const uint8_t *d, size_t len)
{
	struct synth_mouse_guest_msg m, before;
	memset(&m, 0xa5, sizeof(m));
	before = m;
	int r = synth_mouse_msg_parse(d, len, &m);
	if (r < 0) {
		CHECK(r == -EBADMSG || (r == -EMSGSIZE && len > SYNTH_MOUSE_MSG_MAX));
		CHECK(memcmp(&m, &before, sizeof(m)) == 0);
		return;
	}
	CHECK(r == 0 && len >= 16 && len <= SYNTH_MOUSE_MSG_MAX);
	uint32_t pipe = le32_get(d + 4), size = le32_get(d + 12);
	CHECK(le32_get(d) == SYNTH_MOUSE_PIPE_DATA && pipe >= 8 && pipe <= len - 8 && size <= pipe - 8);
	CHECK(m.type == le32_get(d + 8));
	if (m.type == SYNTH_MOUSE_MSG_PROTOCOL_REQUEST)
		CHECK(size >= 4 && m.version == le32_get(d + 16));
	else
		CHECK(m.type == SYNTH_MOUSE_MSG_DEVICE_INFO_ACK && size >= 1);
}

static void check_strokes(const uint8_t *d, size_t len)
{
	if (len < 2)
		return;
	const struct keymap_xt_key *k = keymap_xt_find(le16_get(d));
	if (!k)
		return;
	CHECK(k->evdev == le16_get(d));
	struct synth_kbd_stroke s[SYNTH_KBD_STROKES_MAX];
	for (int down = 0; down < 2; down++) {
		size_t n = synth_kbd_strokes(k, down, s);
		CHECK(n <= SYNTH_KBD_STROKES_MAX && (n > 0 || (!down && (k->flags & KEYMAP_XT_PRESS_ONLY))));
		for (size_t i = 0; i < n; i++) {
			uint8_t msg[12];
			CHECK(s[i].make_code < 0x80);
			CHECK(synth_kbd_msg_build_event(msg, sizeof(msg), &s[i]) == 12);
			CHECK(le16_get(msg + 4) == s[i].make_code && le32_get(msg + 8) == s[i].info);
		}
	}
}

static void check_report(const uint8_t *d, size_t len)
{
	if (len < 7)
		return;
	struct synth_mouse_report r = { le16_get(d), le16_get(d + 2), d[4], (int8_t)d[5], (int8_t)d[6] };
	uint8_t out[64];
	CHECK(synth_mouse_msg_build_input(out, sizeof(out), &r) == 16 + SYNTH_MOUSE_REPORT_SIZE);
	CHECK(le16_get(out + 17) == r.x && le16_get(out + 19) == r.y && out[16] == (r.buttons & 0x1f));
	CHECK((int8_t)out[21] == r.wheel && (int8_t)out[22] == r.hwheel);
}

static void run_direct(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *copy = malloc(pkts[i].len ? pkts[i].len : 1);
		CHECK(copy);
		memcpy(copy, pkts[i].data, pkts[i].len);
		check_kbd_parse(copy, pkts[i].len);
		check_mouse_parse(copy, pkts[i].len);
		check_strokes(copy, pkts[i].len);
		check_report(copy, pkts[i].len);
		free(copy);
	}
}

/* ---- through the bus ---- */

struct rig {
	struct vsp_guest *g;
	struct synth_kbd *kbd;
	struct synth_mouse *mouse;
	const struct vsp_guest_offer *offer[2];
	struct xt_guest atkbd;
};

static struct rig *rig;

static void rig_free(void)
{
	if (!rig)
		return;
	vsp_guest_free(rig->g);
	synth_kbd_free(rig->kbd);
	synth_mouse_free(rig->mouse);
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
	struct vsp_bus *bus = vsp_guest_bus(rig->g);
	struct vmbus_guid i1 = VMBUS_GUID_INIT(0xf0221, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1);
	struct vmbus_guid i2 = VMBUS_GUID_INIT(0xf0222, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2);
	rig->kbd = synth_kbd_add(bus, &i1);
	rig->mouse = synth_mouse_add(bus, &i2);
	CHECK(rig->kbd && rig->mouse);
	/* Unpaced: what reaches the guest then depends on the input only. */
	synth_kbd_set_pace(rig->kbd, 0, 0);
	CHECK(vsp_guest_connect(rig->g) == 2);
	const struct vmbus_guid kc = SYNTH_KBD_CLASS, mc = SYNTH_MOUSE_CLASS;
	rig->offer[0] = vsp_guest_find(rig->g, &kc);
	rig->offer[1] = vsp_guest_find(rig->g, &mc);
	CHECK(rig->offer[0] && rig->offer[1]);
	atexit(rig_free);
	return rig;
}

/* Everything the keyboard sent: responses, or EVENTs into the model. */
static void read_kbd(struct rig *r, struct vsp_guest_chan *c)
{
	static uint8_t buf[4096];
	long n;
	while ((n = vsp_guest_read(c, buf, sizeof(buf))) > 0) {
		struct vmbus_packet_desc d;
		memcpy(&d, buf, sizeof(d));
		CHECK(d.type == VMBUS_PKT_DATA_INBAND && d.offset8 == 2 && n >= 16 + 8);
		const uint8_t *p = buf + 16;
		uint32_t type = le32_get(p);
		if (type == SYNTH_KBD_MSG_PROTOCOL_RESPONSE) {
			CHECK((le32_get(p + 4) & ~1u) == 0);
		} else {
			CHECK(type == SYNTH_KBD_MSG_EVENT && n >= 16 + 12);
			CHECK(le16_get(p + 4) < 0x80 && (le32_get(p + 8) & ~0xeu) == 0);
			xt_guest_message(&r->atkbd, p, (size_t)n - 16);
		}
	}
	CHECK(n == 0);
	/* The device never sends what atkbd would read as a reset or a reply. */
	CHECK(r->atkbd.resets == 0 && r->atkbd.replies == 0 && r->atkbd.dropped_msgs == 0);
}

static void read_mouse(struct vsp_guest_chan *c)
{
	static uint8_t buf[4096];
	long n;
	while ((n = vsp_guest_read(c, buf, sizeof(buf))) > 0) {
		struct vmbus_packet_desc d;
		memcpy(&d, buf, sizeof(d));
		CHECK(d.type == VMBUS_PKT_DATA_INBAND && d.offset8 == 2 && n >= 16 + 16);
		const uint8_t *p = buf + 16;
		size_t len = (size_t)n - 16;
		uint32_t pipe = le32_get(p + 4), type = le32_get(p + 8), size = le32_get(p + 12);
		CHECK(le32_get(p) == SYNTH_MOUSE_PIPE_DATA && 8 + pipe <= len && size == pipe - 8);
		if (type == SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE) {
			CHECK(pipe <= SYNTH_MOUSE_RESPONSE_PIPE_MAX && p[20] <= 1);
		} else if (type == SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO) {
			size_t dlen;
			(void)synth_mouse_report_descriptor(&dlen);
			CHECK(pipe == 8 + 32 + 9 + dlen && le16_get(p + 55) == dlen);   /* wDescriptorLength */
		} else {
			CHECK(type == SYNTH_MOUSE_MSG_INPUT_REPORT && size == SYNTH_MOUSE_REPORT_SIZE);
			const uint8_t *rep = p + 16;
			CHECK(rep[0] <= 0x1f && le16_get(rep + 1) <= INPUT_ABS_MAX && le16_get(rep + 3) <= INPUT_ABS_MAX);
			CHECK((int8_t)rep[5] >= -SYNTH_MOUSE_WHEEL_REPORT_MAX && (int8_t)rep[6] >= -SYNTH_MOUSE_WHEEL_REPORT_MAX);
		}
	}
	CHECK(n == 0);
}

/* The payload as the guest sends it, its fix-ups applied. */
static size_t resolve(const struct fpkt *p, uint8_t *buf)
{
	size_t len = p->len;
	memcpy(buf, p->data, len);
	if (!(p->ctl & C_GOOD))
		return len;
	if (!(p->ctl & C_MOUSE)) {
		if (len < 8) {
			memset(buf + len, 0, 8 - len);
			len = 8;
		}
		le32_put(buf, SYNTH_KBD_MSG_PROTOCOL_REQUEST);
		le32_put(buf + 4, SYNTH_KBD_VERSION_1_0);
	} else if (p->ctl & C_ACK) {
		if (len < 17) {
			memset(buf + len, 0, 17 - len);
			len = 17;
		}
		le32_put(buf, SYNTH_MOUSE_PIPE_DATA);
		le32_put(buf + 4, 9);
		le32_put(buf + 8, SYNTH_MOUSE_MSG_DEVICE_INFO_ACK);
		le32_put(buf + 12, 1);
	} else {
		if (len < 20) {
			memset(buf + len, 0, 20 - len);
			len = 20;
		}
		le32_put(buf, SYNTH_MOUSE_PIPE_DATA);
		le32_put(buf + 4, 12);
		le32_put(buf + 8, SYNTH_MOUSE_MSG_PROTOCOL_REQUEST);
		le32_put(buf + 12, 4);
		le32_put(buf + 16, SYNTH_MOUSE_VERSION_2_0);
	}
	return len;
}

static void action(struct rig *r, const struct fpkt *p)
{
	uint8_t d[8] = { 0 };
	memcpy(d, p->data, p->len < sizeof(d) ? p->len : sizeof(d));
	if (!(p->ctl & C_MOUSE)) {
		uint16_t code = le16_get(d);
		int e;
		if (d[2] == 0xcd)
			e = synth_kbd_ctrl_alt_del(r->kbd);
		else if (d[2] == 0xce)
			e = synth_kbd_release_all(r->kbd);
		else
			e = synth_kbd_key(r->kbd, code, p->ctl & C_DOWN);
		CHECK(e >= 0 || e == -EINVAL || e == -ENOTCONN || e == -ENOBUFS);
		CHECK(e != -EINVAL || !keymap_xt_find(code));
	} else {
		int e = synth_mouse_report(r->mouse, le16_get(d), le16_get(d + 2), d[4], (int8_t)d[5] * 8,
					   (int8_t)d[6]);
		bool valid = le16_get(d) <= INPUT_ABS_MAX && le16_get(d + 2) <= INPUT_ABS_MAX && d[4] <= 0x1f;
		CHECK(e == 0 || e == -ENOTCONN || e == -ENOBUFS || (e == -EINVAL && !valid));
	}
}

static void run_bus(unsigned n)
{
	struct rig *r = rig_get();
	struct vsp_guest_chan *c[2] = { NULL, NULL };
	for (int k = 0; k < 2; k++) {
		uint32_t status = 1;
		CHECK(vsp_guest_open(r->g, r->offer[k], RING_PAGES, RING_PAGES, &status, &c[k]) == 0);
		c[k]->always_signal = true;
	}
	xt_guest_init(&r->atkbd);
	vsp_guest_bus_sync(r->g);
	struct synth_kbd_state ks0, ks1;
	struct synth_mouse_state ms0, ms1;
	synth_kbd_get_state(r->kbd, &ks0);
	synth_mouse_get_state(r->mouse, &ms0);
	static uint8_t buf[FUZZ_PKT_MAX + 32];
	for (unsigned i = 0; i < n; i++) {
		const struct fpkt *p = &pkts[i];
		unsigned k = p->ctl & C_MOUSE;
		if (p->ctl & C_ACTION) {
			action(r, p);
		} else {
			size_t len = resolve(p, buf);
			CHECK(vsp_guest_write(c[k], p->type, 0, i, buf, len) == 0);
			vsp_guest_bus_sync(r->g);
			CHECK(vsp_guest_wait_until(r->g, vsp_guest_out_used(c[k]) == 0, FUZZ_WAIT_MS));
		}
		vsp_guest_bus_sync(r->g);
		if (p->ctl & C_READ) {
			read_kbd(r, c[0]);
			read_mouse(c[1]);
		}
		synth_kbd_get_state(r->kbd, &ks1);
		synth_mouse_get_state(r->mouse, &ms1);
		CHECK(ks1.events >= ks0.events && ks1.bad >= ks0.bad && ks1.keys >= ks0.keys);
		CHECK(ks1.queued <= SYNTH_KBD_QUEUE_MAX && ks1.held <= KEYMAP_XT_EVDEV_LIMIT);
		CHECK(ms1.sent >= ms0.sent && ms1.bad >= ms0.bad && ms1.queued <= SYNTH_MOUSE_QUEUE_MAX);
		ks0 = ks1;
		ms0 = ms1;
	}
	read_kbd(r, c[0]);
	read_mouse(c[1]);
	for (int k = 0; k < 2; k++)
		CHECK(vsp_guest_release(c[k]) == 0);
	/* Closed: nothing queued or held survives. */
	CHECK(vsp_guest_wait_until(r->g, (synth_kbd_get_state(r->kbd, &ks1), ks1.phase == SYNTH_KBD_CLOSED) &&
				   (synth_mouse_get_state(r->mouse, &ms1), ms1.phase == SYNTH_MOUSE_CLOSED),
				   FUZZ_WAIT_MS));
	CHECK(ks1.queued == 0 && ks1.held == 0 && ms1.queued == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_input in = { data + 1, size - 1 };
	unsigned n = parse_packets(&in);
	if (data[0] & 1)
		run_bus(n);
	else
		run_direct(n);
	return 0;
}
