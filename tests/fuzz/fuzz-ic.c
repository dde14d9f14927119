// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: hostile guest packets against the integration services.
 *
 * Two paths, fed the same packets:
 *  - direct, deterministic: ic_parse, ic_build and ic_receive on a struct
 *    ic_service with the heartbeat, shutdown or time sync version lists (or
 *    lists from the input), starting in any state. Checked: ic_parse reads
 *    exactly the header bytes it claims; build(parse(x)) gives x's fields
 *    back; ic_receive returns one of its three answers, counts every refusal
 *    exactly once and changes nothing else then, and only ever agrees on
 *    versions that were offered, for the outstanding NEGOTIATE.
 *  - through the VSP bus (input bit 0x10) into the real heartbeat,
 *    shutdown or time sync device, with the guest simulator of the unit
 *    tests: the packet callbacks of ic_heartbeat.c, ic_shutdown.c and
 *    ic_timesync.c on the bus thread. The harness waits until the bus has
 *    taken every packet, so the outcome does not depend on thread timing
 *    (only a 1 s heartbeat or 5 s time sync tick could add a message).
 *    Checked: every packet is either delivered or dropped as oversize;
 *    every host packet is a well-formed IC request; counters never go back.
 *
 * Input: byte 0 is the mode: bits 0-1 the version lists (heartbeat,
 * shutdown, time sync, from the input), bits 2-3 the direct path's first
 * state, bit 4 the bus path, bits 5-6 its device. Then packets, each
 * {ctl, len, [type u16], [trans_id u64 | delta u8], payload}; ctl:
 *   bits 0-1  transaction id: literal, the host's last, the host's last +
 *             delta - 128, the outstanding NEGOTIATE's
 *   bit 2     a VMBus packet type from the input (else DATA_INBAND)
 *   bit 3     len * 20 bytes (zero-filled past the input)
 *   bit 4     header made a response to the host's last message
 *   bit 5     payload made the right negotiate answer (counts 1/1, the
 *             first versions offered)
 *   bit 6     heartbeat seq made the host's last + 1
 *   bit 7     an action instead of a packet: a shutdown request (bus), a
 *             new NEGOTIATE outstanding (direct)
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/le.h"
#include "hv/vmbus_ring.h"
#include "vsp-guest.h"
#include "vsp/ic.h"
#include "vsp/ic_heartbeat.h"
#include "vsp/ic_shutdown.h"
#include "vsp/ic_timesync.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

#define FUZZ_MAX_PKTS   64u
#define FUZZ_PKT_MAX    5120u
#define FUZZ_WAIT_MS    5000u

enum { C_TID_LITERAL, C_TID_LAST, C_TID_DELTA, C_TID_NEGOTIATE };
#define C_TID_MASK      0x03u
#define C_TYPE          0x04u
#define C_LONG          0x08u
#define C_RESPONSE      0x10u
#define C_NEGOTIATE     0x20u
#define C_SEQ           0x40u
#define C_ACTION        0x80u

struct fpkt {
	uint8_t ctl;
	uint16_t type;
	uint64_t trans_id;
	int delta;
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
			len *= 20;
		p->type = (p->ctl & C_TYPE) ? in_u16(in) : VMBUS_PKT_DATA_INBAND;
		p->trans_id = 0;
		p->delta = 0;
		if ((p->ctl & C_TID_MASK) == C_TID_LITERAL)
			p->trans_id = in_u64(in);
		else if ((p->ctl & C_TID_MASK) == C_TID_DELTA)
			p->delta = (int)in_u8(in) - 128;
		size_t take = len < in->n ? len : in->n;
		memcpy(p->data, in->p, take);
		memset(p->data + take, 0, len - take);
		in->p += take;
		in->n -= take;
		p->len = len;
	}
	return n;
}

/* What the host last sent, as the guest saw it. */
struct host_view {
	uint64_t last_trans, nego_trans;
	uint16_t last_type;
	uint64_t last_seq;
	struct ic_version fw, msg;   /* first offered in the last NEGOTIATE */
};

/* The packet as the guest sends it, its fix-ups applied. */
static void resolve(const struct fpkt *p, const struct host_view *h, uint8_t *buf, size_t *len,
		    uint64_t *trans_id)
{
	memcpy(buf, p->data, p->len);
	*len = p->len;
	switch (p->ctl & C_TID_MASK) {
	case C_TID_LITERAL: *trans_id = p->trans_id; break;
	case C_TID_LAST: *trans_id = h->last_trans; break;
	case C_TID_DELTA: *trans_id = h->last_trans + (uint64_t)(int64_t)p->delta; break;
	default: *trans_id = h->nego_trans; break;
	}
	if (p->ctl & C_NEGOTIATE) {
		if (*len < IC_HDR_SIZE + 16) {
			memset(buf + *len, 0, IC_HDR_SIZE + 16 - *len);
			*len = IC_HDR_SIZE + 16;
		}
		struct ic_message m = {
			.framework = h->fw, .type = IC_MSGTYPE_NEGOTIATE, .msgver = h->msg,
			.flags = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE,
		};
		uint8_t body[16] = { 0 };
		le16_put(body, 1);
		le16_put(body + 2, 1);
		le16_put(body + 8, h->fw.major);
		le16_put(body + 10, h->fw.minor);
		le16_put(body + 12, h->msg.major);
		le16_put(body + 14, h->msg.minor);
		CHECK(ic_build(buf, *len, &m, body, sizeof(body)) == IC_HDR_SIZE + 16);
	}
	if ((p->ctl & C_RESPONSE) && *len >= IC_HDR_SIZE) {
		le16_put(buf + 12, h->last_type);
		le32_put(buf + 20, IC_S_OK);
		buf[25] = IC_FLAG_TRANSACTION | IC_FLAG_RESPONSE;
	}
	if ((p->ctl & C_SEQ) && *len >= IC_HDR_SIZE + 8)
		le64_put(buf + IC_HDR_SIZE, h->last_seq + 1);
}

/* ---- the direct path ---- */

static void check_parse(const uint8_t *data, size_t len)
{
	struct ic_message m;
	memset(&m, 0xa5, sizeof(m));
	struct ic_message before = m;
	int r = ic_parse(data, len, &m);
	if (len < IC_HDR_SIZE) {
		CHECK(r == -EBADMSG);
		CHECK(memcmp(&m, &before, sizeof(m)) == 0);
		return;
	}
	CHECK(r == 0);
	CHECK(m.framework.major == le16_get(data + 8) && m.framework.minor == le16_get(data + 10));
	CHECK(m.type == le16_get(data + 12));
	CHECK(m.msgver.major == le16_get(data + 14) && m.msgver.minor == le16_get(data + 16));
	CHECK(m.msgsize == le16_get(data + 18));
	CHECK(m.status == le32_get(data + 20));
	CHECK(m.ic_trans_id == data[24] && m.flags == data[25]);
	CHECK(m.body == data + IC_HDR_SIZE && m.body_len == len - IC_HDR_SIZE);

	/* Built again: the same fields, icmsgsize now the body's length. */
	static uint8_t out[IC_HDR_SIZE + FUZZ_PKT_MAX];
	long n = ic_build(out, sizeof(out), &m, m.body, m.body_len);
	CHECK(n == (long)len);
	CHECK(le32_get(out) == IC_PIPE_FLAGS && le32_get(out + 4) == IC_MSG_HDR_SIZE + m.body_len);
	struct ic_message again;
	CHECK(ic_parse(out, (size_t)n, &again) == 0);
	CHECK(again.framework.major == m.framework.major && again.framework.minor == m.framework.minor);
	CHECK(again.type == m.type && again.status == m.status);
	CHECK(again.msgver.major == m.msgver.major && again.msgver.minor == m.msgver.minor);
	CHECK(again.ic_trans_id == m.ic_trans_id && again.flags == m.flags);
	CHECK(again.msgsize == (uint16_t)m.body_len && again.body_len == m.body_len);
	CHECK(memcmp(again.body, m.body, m.body_len) == 0);
	CHECK(ic_build(out, IC_HDR_SIZE + m.body_len - 1, &m, m.body, m.body_len) == -ENOSPC);
}

static bool offered(const struct ic_version *list, unsigned n, struct ic_version v)
{
	for (unsigned i = 0; i < n && i < IC_MAX_VERSIONS; i++)
		if (list[i].major == v.major && list[i].minor == v.minor)
			return true;
	return false;
}

static void check_receive(struct ic_service *svc, uint16_t type, uint64_t trans_id, const uint8_t *buf,
			  size_t len)
{
	struct vsp_packet pkt = { .type = type, .trans_id = trans_id, .data = buf, .len = len };
	struct ic_service before = *svc;
	struct ic_message m;
	int r = ic_receive(svc, &pkt, &m);
	CHECK(r == -EBADMSG || r == 0 || r == 1);
	if (r == -EBADMSG) {
		CHECK(svc->bad_messages == before.bad_messages + 1);
		before.bad_messages++;
		CHECK(memcmp(svc, &before, sizeof(before)) == 0);
		return;
	}
	/* Accepted: a well-formed inband IC message. */
	CHECK(type == VMBUS_PKT_DATA_INBAND && len >= IC_HDR_SIZE);
	CHECK(m.body == buf + IC_HDR_SIZE && m.body_len == len - IC_HDR_SIZE);
	CHECK(svc->bad_messages == before.bad_messages);
	if (r == 1) {
		CHECK(before.state == IC_READY && m.type != IC_MSGTYPE_NEGOTIATE);
		CHECK(memcmp(svc, &before, sizeof(before)) == 0);
		return;
	}
	CHECK(before.state == IC_NEGOTIATING && m.type == IC_MSGTYPE_NEGOTIATE);
	CHECK((m.flags & IC_FLAG_RESPONSE) && trans_id == before.negotiate_trans_id);
	CHECK(m.body_len >= 8);
	if (svc->state == IC_REFUSED) {
		CHECK(le16_get(m.body) == 0 && le16_get(m.body + 2) == 0);
		return;
	}
	CHECK(svc->state == IC_READY);
	CHECK(le16_get(m.body) == 1 && le16_get(m.body + 2) == 1 && m.body_len >= 16);
	CHECK(offered(svc->fw_versions, svc->n_fw, svc->fw));
	CHECK(offered(svc->msg_versions, svc->n_msg, svc->msg));
	CHECK(svc->fw.major == le16_get(m.body + 8) && svc->fw.minor == le16_get(m.body + 10));
	CHECK(svc->msg.major == le16_get(m.body + 12) && svc->msg.minor == le16_get(m.body + 14));
}

static const struct ic_version fw_list[] = { { 3, 0 }, { 1, 0 } };
static const struct ic_version hb_list[] = { { 3, 0 }, { 1, 0 } };
static const struct ic_version sd_list[] = { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } };
static const struct ic_version ts_list[] = { { 4, 0 }, { 3, 0 }, { 1, 0 } };

static void service_lists(struct ic_service *svc, unsigned profile, struct fuzz_input *in)
{
	const struct ic_version *msg = profile == 0 ? hb_list : profile == 1 ? sd_list : ts_list;
	unsigned nmsg = profile == 0 ? 2 : profile == 1 ? 4 : 3;
	if (profile < 3) {
		memcpy(svc->fw_versions, fw_list, sizeof(fw_list));
		svc->n_fw = 2;
		memcpy(svc->msg_versions, msg, nmsg * sizeof(*msg));
		svc->n_msg = nmsg;
		return;
	}
	/* Small numbers, so that the guest's picks collide with ours; counts
	 * beyond the array too, which the service must not read past. */
	svc->n_fw = in_u8(in) % (IC_MAX_VERSIONS + 3);
	svc->n_msg = in_u8(in) % (IC_MAX_VERSIONS + 3);
	for (unsigned i = 0; i < IC_MAX_VERSIONS; i++) {
		svc->fw_versions[i] = (struct ic_version){ in_u8(in) % 5, in_u8(in) % 3 };
		svc->msg_versions[i] = (struct ic_version){ in_u8(in) % 5, in_u8(in) % 3 };
	}
}

static void run_direct(unsigned mode, unsigned npkts, struct fuzz_input *lists)
{
	struct ic_service svc = { 0 };
	service_lists(&svc, mode & 3, lists);
	svc.state = (enum ic_state)((mode >> 2) & 3);
	svc.next_trans_id = svc.negotiate_trans_id = 1;
	if (svc.state == IC_READY) {
		svc.fw = svc.fw_versions[0];
		svc.msg = svc.msg_versions[0];
	}
	struct host_view h = { .last_trans = 1, .nego_trans = 1, .last_type = IC_MSGTYPE_NEGOTIATE };
	static uint8_t buf[FUZZ_PKT_MAX + IC_HDR_SIZE + 16];
	for (unsigned i = 0; i < npkts; i++) {
		const struct fpkt *p = &pkts[i];
		h.fw = svc.n_fw ? svc.fw_versions[0] : (struct ic_version){ 0, 0 };
		h.msg = svc.n_msg ? svc.msg_versions[0] : (struct ic_version){ 0, 0 };
		if (p->ctl & C_ACTION) {
			/* The host reopened: a new NEGOTIATE is outstanding. */
			svc.state = IC_NEGOTIATING;
			svc.negotiate_trans_id = ++svc.next_trans_id;
			h.last_trans = h.nego_trans = svc.negotiate_trans_id;
			h.last_type = IC_MSGTYPE_NEGOTIATE;
			continue;
		}
		size_t len;
		uint64_t tid;
		resolve(p, &h, buf, &len, &tid);
		check_parse(buf, len);
		check_receive(&svc, p->type, tid, buf, len);
	}
}

/* ---- through the bus, into the devices ---- */

struct rig {
	struct vsp_guest *g;
	struct ic_heartbeat *hb;
	struct ic_shutdown *sd;
	struct ic_timesync *ts;
	struct vsp_device *dev[3];
	const struct vsp_guest_offer *offer[3];
	uint64_t bad_seen[3];
};

static struct rig *rig;

static void rig_free(void)
{
	if (!rig)
		return;
	vsp_guest_free(rig->g);
	ic_heartbeat_free(rig->hb);
	ic_shutdown_free(rig->sd);
	ic_timesync_free(rig->ts);
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
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x1c0ffee0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	rig->hb = ic_heartbeat_add(bus, &inst);
	rig->sd = ic_shutdown_add(bus, &inst);
	rig->ts = ic_timesync_add(bus, &inst);
	CHECK(rig->hb && rig->sd && rig->ts);
	CHECK(vsp_guest_connect(rig->g) == 3);
	const struct vmbus_guid classes[3] = { IC_HEARTBEAT_CLASS, IC_SHUTDOWN_CLASS, IC_TIMESYNC_CLASS };
	const char *names[3] = { "heartbeat", "shutdown", "timesync" };
	for (int k = 0; k < 3; k++) {
		rig->offer[k] = vsp_guest_find(rig->g, &classes[k]);
		rig->dev[k] = vsp_bus_find(bus, names[k]);
		CHECK(rig->offer[k] && rig->dev[k]);
	}
	atexit(rig_free);
	return rig;
}

static void device_state(struct rig *r, unsigned k, enum ic_state *st, uint64_t *bad)
{
	if (k == 0) {
		struct ic_heartbeat_state s;
		ic_heartbeat_get(r->hb, &s);
		*st = s.state;
		*bad = s.bad;
		CHECK(s.beats <= s.seq);
	} else if (k == 1) {
		struct ic_shutdown_state s;
		ic_shutdown_get(r->sd, &s);
		*st = s.state;
		*bad = s.bad;
	} else {
		struct ic_timesync_state s;
		ic_timesync_get(r->ts, &s);
		*st = s.state;
		*bad = s.bad;
	}
	CHECK(*st == IC_CLOSED || *st == IC_NEGOTIATING || *st == IC_READY || *st == IC_REFUSED);
}

static bool device_closed(struct rig *r, unsigned k)
{
	enum ic_state st;
	uint64_t bad;
	device_state(r, k, &st, &bad);
	return st == IC_CLOSED;
}

/* Take what the host sent: every packet an IC request of the device's. */
static void drain_host(struct vsp_guest_chan *c, struct host_view *h)
{
	static uint8_t buf[8192];
	long n;
	while ((n = vsp_guest_read(c, buf, sizeof(buf))) > 0) {
		struct vmbus_packet_desc d;
		memcpy(&d, buf, sizeof(d));
		CHECK(d.type == VMBUS_PKT_DATA_INBAND && d.offset8 == 2);
		struct ic_message m;
		CHECK(ic_parse(buf + 16, (size_t)n - 16, &m) == 0);
		CHECK(m.flags == (IC_FLAG_TRANSACTION | IC_FLAG_REQUEST));
		CHECK(IC_HDR_SIZE + (size_t)m.msgsize <= (size_t)n - 16);
		h->last_trans = d.trans_id;
		h->last_type = m.type;
		if (m.type == IC_MSGTYPE_NEGOTIATE) {
			h->nego_trans = d.trans_id;
			CHECK(m.body_len >= 8);
			unsigned nfw = le16_get(m.body), nmsg = le16_get(m.body + 2);
			CHECK(nfw >= 1 && nmsg >= 1 && 8 + 4 * (nfw + nmsg) <= m.body_len);
			h->fw = (struct ic_version){ le16_get(m.body + 8), le16_get(m.body + 10) };
			h->msg = (struct ic_version){ le16_get(m.body + 8 + 4 * nfw), le16_get(m.body + 10 + 4 * nfw) };
		} else if (m.type == IC_MSGTYPE_HEARTBEAT) {
			CHECK(m.body_len >= 8);
			h->last_seq = le64_get(m.body);
		}
	}
	CHECK(n == 0);
}

static void run_bus(unsigned k, unsigned npkts)
{
	struct rig *r = rig_get();
	struct vsp_guest_chan *c = NULL;
	uint32_t status = 1;
	CHECK(vsp_guest_open(r->g, r->offer[k], VSP_GUEST_UTIL_RING_PAGES, VSP_GUEST_UTIL_RING_PAGES, &status,
			     &c) == 0);
	c->always_signal = true;
	struct host_view h = { 0 };
	/* The device's NEGOTIATE comes from the bus thread once it saw the open. */
	static uint8_t buf[FUZZ_PKT_MAX + IC_HDR_SIZE + 16];
	CHECK(vsp_guest_wait_until(r->g, vsp_guest_in_used(c) > 0, FUZZ_WAIT_MS));
	drain_host(c, &h);
	CHECK(h.last_type == IC_MSGTYPE_NEGOTIATE);
	/* The device publishes its state after it sent the NEGOTIATE. */
	vsp_guest_bus_sync(r->g);

	struct vsp_device_stats st0, st1;
	vsp_device_get_stats(r->dev[k], &st0);
	unsigned written = 0;
	for (unsigned i = 0; i < npkts; i++) {
		const struct fpkt *p = &pkts[i];
		if (p->ctl & C_ACTION) {
			if (k == 1) {
				int e = ic_shutdown_request(r->sd, (p->ctl & 1) ? IC_SHUTDOWN_REBOOT : IC_SHUTDOWN_POWEROFF,
							    "fuzz");
				CHECK(e == 0 || e == -ENOTCONN);
			}
		} else {
			size_t len;
			uint64_t tid;
			resolve(p, &h, buf, &len, &tid);
			CHECK(vsp_guest_write(c, p->type, 0, tid, buf, len) == 0);
			written++;
			/* The signal is in; once the bus went round, every packet is taken. */
			vsp_guest_bus_sync(r->g);
			CHECK(vsp_guest_wait_until(r->g, vsp_guest_out_used(c) == 0, FUZZ_WAIT_MS));
			vsp_guest_bus_sync(r->g);
		}
		drain_host(c, &h);
		enum ic_state s;
		uint64_t bad;
		device_state(r, k, &s, &bad);
		CHECK(s != IC_CLOSED);
		CHECK(bad >= r->bad_seen[k]);
		r->bad_seen[k] = bad;
	}
	vsp_device_get_stats(r->dev[k], &st1);
	CHECK(st1.packets_in + st1.bad_packets == st0.packets_in + st0.bad_packets + written);
	CHECK(vsp_guest_release(c) == 0);
	/* Closed before the next input opens it again. */
	CHECK(vsp_guest_wait_until(r->g, device_closed(r, k), FUZZ_WAIT_MS));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_input in = { data + 1, size - 1 };
	unsigned mode = data[0];
	/* The custom version lists come first; the packets follow them. */
	struct fuzz_input lists = in;
	if ((mode & 3) == 3) {
		size_t skip = 2 + 4 * IC_MAX_VERSIONS;
		skip = skip < in.n ? skip : in.n;
		in.p += skip;
		in.n -= skip;
	}
	unsigned npkts = parse_packets(&in);
	run_direct(mode, npkts, &lists);
	if (mode & 0x10) {
		unsigned k = (mode >> 5) & 3;
		run_bus(k == 3 ? 0 : k, npkts);
	}
	return 0;
}
