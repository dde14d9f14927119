// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The integration services (heartbeat, shutdown, time sync) against a guest
 * that answers as Linux 6.1's hv_utils does (drivers/hv/hv_util.c and
 * vmbus_prep_negotiate_resp in channel_mgmt.c), played through the VSP bus
 * with vsp-guest.h. That guest's answers are first checked byte for byte
 * against what a real Linux 6.1 sent (tests/unit/fixtures/linux61-ic.trace),
 * so the devices are tested against Linux's behaviour, not against ours.
 * IC fields are read and written at Linux's offsets, not through ic.h.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/vmbus_ring.h"
#include "hvutil-model.h"
#include "vsp-guest.h"
#include "vsp/ic.h"
#include "vsp/ic_heartbeat.h"
#include "vsp/ic_shutdown.h"
#include "vsp/ic_timesync.h"

/* ---- the recorded Linux 6.1 session ---- */

struct rec {
	bool from_guest;
	char *device;
	GBytes *pkt;                 /* descriptor first */
};

static void rec_free(gpointer p)
{
	struct rec *r = p;
	g_free(r->device);
	g_bytes_unref(r->pkt);
	g_free(r);
}

static GPtrArray *trace_load(void)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "unit", "fixtures", "linux61-ic.trace", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	if (!g_file_get_contents(path, &text, NULL, &err))
		g_error("%s", err->message);
	GPtrArray *recs = g_ptr_array_new_with_free_func(rec_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) w = g_strsplit(*l, " ", -1);
		if (g_strv_length(w) != 4 || (strcmp(w[0], "send") != 0 && strcmp(w[0], "packet") != 0))
			continue;
		size_t n = strlen(w[3]) / 2;
		uint8_t *b = g_malloc(n);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(g_ascii_xdigit_value(w[3][2 * i]) << 4 | g_ascii_xdigit_value(w[3][2 * i + 1]));
		struct rec *r = g_new0(struct rec, 1);
		r->from_guest = w[0][0] == 'p';
		r->device = g_strdup(w[1]);
		r->pkt = g_bytes_new_take(b, n);
		g_ptr_array_add(recs, r);
	}
	g_assert_cmpuint(recs->len, >=, 6);
	return recs;
}

/* The first host packet the recording has for device. */
static GBytes *trace_first_send(GPtrArray *recs, const char *device)
{
	for (guint i = 0; i < recs->len; i++) {
		struct rec *r = recs->pdata[i];
		if (!r->from_guest && g_str_equal(r->device, device))
			return r->pkt;
	}
	g_error("no recorded send for %s", device);
	return NULL;
}

static const char *const util_names[] = { "heartbeat", "shutdown", "timesync" };

/* The model answers every recorded host packet exactly as the real guest did. */
static void test_model_matches_linux(void)
{
	g_autoptr(GPtrArray) recs = trace_load();
	for (unsigned k = 0; k < 3; k++) {
		struct util u;
		util_init(&u, (enum util_kind)k);
		unsigned pairs = 0, negotiations = 0, messages = 0;
		for (guint i = 0; i < recs->len; i++) {
			struct rec *s = recs->pdata[i];
			if (s->from_guest || !g_str_equal(s->device, util_names[k]))
				continue;
			struct rec *a = NULL;
			for (guint j = i + 1; j < recs->len && !a; j++) {
				struct rec *x = recs->pdata[j];
				if (x->from_guest && g_str_equal(x->device, util_names[k]))
					a = x;
			}
			if (!a)
				break;                   /* the recording ended first */
			gsize sn, an;
			const uint8_t *sp = g_bytes_get_data(s->pkt, &sn);
			const uint8_t *ap = g_bytes_get_data(a->pkt, &an);
			/* The recording has the host's bytes unpadded; the guest
			 * gets len8 * 8 of them, the rest zeros. */
			struct vmbus_packet_desc d;
			memcpy(&d, sp, sizeof(d));
			size_t recvlen = (size_t)d.len8 * 8 - 16;
			g_assert_cmpuint(recvlen, >=, sn - 16);
			uint8_t buf[4200] = { 0 };
			memcpy(buf, sp + 16, sn - 16);
			g_assert_true(util_process(&u, buf, recvlen));
			/* Same descriptor (type, trans id, length), same bytes. */
			g_assert_cmpmem(ap, 16, sp, 16);
			g_assert_cmpmem(buf, recvlen, ap + 16, an - 16);
			pairs++;
			if (rd16(sp + 16 + O_TYPE) == IC_MSGTYPE_NEGOTIATE)
				negotiations++;
			else
				messages++;
		}
		g_test_message("%s: %u recorded exchanges", util_names[k], pairs);
		g_assert_cmpuint(negotiations, >=, 1);
		/* Heartbeats and time samples come on their own; the recording
		 * has at least one of each. */
		if (k != UTIL_SHUTDOWN)
			g_assert_cmpuint(messages, >=, 1);
	}
}

/* ---- ic_parse, ic_build, ic_receive on their own ---- */

static void test_parse_build(void)
{
	g_autoptr(GPtrArray) recs = trace_load();
	gsize n;
	const uint8_t *p = g_bytes_get_data(trace_first_send(recs, "shutdown"), &n);
	const uint8_t *data = p + 16;
	size_t len = n - 16;
	struct ic_message m;
	g_assert_cmpint(ic_parse(data, len, &m), ==, 0);
	g_assert_cmpuint(m.framework.major, ==, 3);
	g_assert_cmpuint(m.framework.minor, ==, 0);
	g_assert_cmpuint(m.type, ==, IC_MSGTYPE_NEGOTIATE);
	g_assert_cmpuint(m.msgver.major, ==, 3);
	g_assert_cmpuint(m.msgver.minor, ==, 2);
	g_assert_cmpuint(m.msgsize, ==, 8 + 6 * 4);
	g_assert_cmphex(m.status, ==, 0);
	g_assert_cmpuint(m.ic_trans_id, ==, 0);
	g_assert_cmpuint(m.flags, ==, F_TRANSACTION | F_REQUEST);
	g_assert_true(m.body == data + 28);
	g_assert_cmpuint(m.body_len, ==, len - 28);

	/* Building it again gives the recorded bytes. */
	uint8_t out[256];
	long b = ic_build(out, sizeof(out), &m, m.body, m.msgsize);
	g_assert_cmpint(b, ==, 28 + m.msgsize);
	g_assert_cmpmem(out, (size_t)b, data, (size_t)b);

	/* Every field lands at Linux's offset. */
	struct ic_message x = {
		.framework = { 0x1234, 0x5678 }, .type = 0x9abc, .msgver = { 0xdef0, 0x1357 },
		.status = 0x89abcdef, .ic_trans_id = 0x42, .flags = 0x81,
	};
	const uint8_t body[5] = { 1, 2, 3, 4, 5 };
	g_assert_cmpint(ic_build(out, sizeof(out), &x, body, sizeof(body)), ==, 33);
	const uint8_t want[33] = {
		1, 0, 0, 0, 25, 0, 0, 0, 0x34, 0x12, 0x78, 0x56, 0xbc, 0x9a, 0xf0, 0xde, 0x57, 0x13,
		5, 0, 0xef, 0xcd, 0xab, 0x89, 0x42, 0x81, 0, 0, 1, 2, 3, 4, 5,
	};
	g_assert_cmpmem(out, 33, want, 33);
	struct ic_message y;
	g_assert_cmpint(ic_parse(out, 33, &y), ==, 0);
	g_assert_cmpuint(y.framework.major, ==, 0x1234);
	g_assert_cmpuint(y.msgver.minor, ==, 0x1357);
	g_assert_cmpuint(y.type, ==, 0x9abc);
	g_assert_cmpuint(y.msgsize, ==, 5);
	g_assert_cmphex(y.status, ==, 0x89abcdef);
	g_assert_cmpuint(y.ic_trans_id, ==, 0x42);
	g_assert_cmpuint(y.flags, ==, 0x81);
	g_assert_cmpmem(y.body, y.body_len, body, sizeof(body));

	/* Below the 28-byte header, or no data: refused, *out untouched. */
	memset(&y, 0x5a, sizeof(y));
	struct ic_message before = y;
	g_assert_cmpint(ic_parse(out, 27, &y), ==, -EBADMSG);
	g_assert_cmpint(ic_parse(out, 0, &y), ==, -EBADMSG);
	g_assert_cmpint(ic_parse(NULL, 64, &y), ==, -EBADMSG);
	g_assert_cmpmem(&y, sizeof(y), &before, sizeof(before));
	g_assert_cmpint(ic_parse(out, 28, &y), ==, 0);
	g_assert_cmpuint(y.body_len, ==, 0);

	/* Building: the buffer must hold header and body; bodies fit a u16. */
	g_assert_cmpint(ic_build(out, 27, &x, NULL, 0), ==, -ENOSPC);
	g_assert_cmpint(ic_build(out, 28, &x, NULL, 0), ==, 28);
	g_assert_cmpint(ic_build(out, 32, &x, body, 5), ==, -ENOSPC);
	g_autofree uint8_t *huge = g_malloc0(70000);
	g_assert_cmpint(ic_build(huge, 70000, &x, huge, 65536), ==, -ENOSPC);
	g_assert_cmpint(ic_build(huge, 70000, &x, huge + 28, 65535), ==, 28 + 65535);

	g_assert_cmpstr(ic_state_name(IC_CLOSED), ==, "closed");
	g_assert_cmpstr(ic_state_name(IC_NEGOTIATING), ==, "negotiating");
	g_assert_cmpstr(ic_state_name(IC_READY), ==, "ready");
	g_assert_cmpstr(ic_state_name(IC_REFUSED), ==, "refused");
	g_assert_cmpstr(ic_state_name((enum ic_state)42), ==, "?");
}

/* A guest packet with an IC message: header fields, then a body. */
struct gpkt {
	uint16_t type;
	uint64_t trans_id;
	uint8_t b[256];
	size_t len;
};

static struct gpkt gpkt_ic(uint16_t ictype, uint8_t flags, uint64_t trans_id)
{
	struct gpkt g = { .type = VMBUS_PKT_DATA_INBAND, .trans_id = trans_id, .len = O_BODY };
	wr32(g.b + O_PIPE_FLAGS, 1);
	wr16(g.b + O_FW_MAJOR, 3);
	wr16(g.b + O_TYPE, ictype);
	wr16(g.b + O_MSG_MAJOR, 3);
	g.b[O_FLAGS] = flags;
	return g;
}

/* A negotiate answer with these counts and versions. */
static struct gpkt gpkt_nego(uint64_t trans_id, unsigned nfw, unsigned nmsg, struct ver fw, struct ver msg)
{
	struct gpkt g = gpkt_ic(IC_MSGTYPE_NEGOTIATE, F_TRANSACTION | F_RESPONSE, trans_id);
	wr16(g.b + O_MSGSIZE, 0x10);
	wr16(g.b + O_BODY, (uint16_t)nfw);
	wr16(g.b + O_BODY + 2, (uint16_t)nmsg);
	wr16(g.b + O_BODY + 8, fw.major);
	wr16(g.b + O_BODY + 10, fw.minor);
	wr16(g.b + O_BODY + 12, msg.major);
	wr16(g.b + O_BODY + 14, msg.minor);
	g.len = O_BODY + 16;
	return g;
}

static struct vsp_packet gpkt_view(const struct gpkt *g)
{
	return (struct vsp_packet){ .type = g->type, .trans_id = g->trans_id, .data = g->b, .len = g->len };
}

static struct ic_service svc_hb(enum ic_state st)
{
	struct ic_service s = {
		.fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2,
		.msg_versions = { { 3, 0 }, { 1, 0 } }, .n_msg = 2,
		.state = st, .next_trans_id = 7, .negotiate_trans_id = 7,
	};
	if (st == IC_READY) {
		s.fw = (struct ic_version){ 3, 0 };
		s.msg = (struct ic_version){ 3, 0 };
	}
	return s;
}

/* ic_receive refuses it: counted, and nothing else in the service changes. */
static void expect_bad(enum ic_state st, const struct gpkt *g, const char *what)
{
	struct ic_service s = svc_hb(st), before = s;
	struct vsp_packet p = gpkt_view(g);
	struct ic_message m;
	if (ic_receive(&s, &p, &m) != -EBADMSG)
		g_error("%s in state %s: not refused", what, ic_state_name(st));
	g_assert_cmpuint(s.bad_messages, ==, 1);
	before.bad_messages = 1;
	g_assert_cmpmem(&s, sizeof(s), &before, sizeof(before));
}

static void test_receive(void)
{
	const struct ver v30 = { 3, 0 }, v10 = { 1, 0 };
	/* The right answer: ready, with the versions it named. */
	struct ic_service s = svc_hb(IC_NEGOTIATING);
	struct gpkt ok = gpkt_nego(7, 1, 1, v30, v10);
	struct vsp_packet p = gpkt_view(&ok);
	struct ic_message m;
	g_assert_cmpint(ic_receive(&s, &p, &m), ==, 0);
	g_assert_cmpint(s.state, ==, IC_READY);
	g_assert_cmpuint(s.fw.major, ==, 3);
	g_assert_cmpuint(s.msg.major, ==, 1);
	g_assert_cmpuint(s.bad_messages, ==, 0);
	/* 0/0: no common version. */
	s = svc_hb(IC_NEGOTIATING);
	struct gpkt none = gpkt_nego(7, 0, 0, (struct ver){ 2, 0 }, (struct ver){ 2, 0 });
	p = gpkt_view(&none);
	g_assert_cmpint(ic_receive(&s, &p, &m), ==, 0);
	g_assert_cmpint(s.state, ==, IC_REFUSED);
	g_assert_cmpuint(s.bad_messages, ==, 0);

	/* Negotiate answers that must not count. */
	struct gpkt g;
	g = gpkt_nego(8, 1, 1, v30, v30);
	expect_bad(IC_NEGOTIATING, &g, "another transaction id");
	g = gpkt_nego(0, 1, 1, v30, v30);
	expect_bad(IC_NEGOTIATING, &g, "transaction id 0");
	g = gpkt_nego(7, 1, 1, v30, v30);
	g.b[O_FLAGS] = F_TRANSACTION | F_REQUEST;
	expect_bad(IC_NEGOTIATING, &g, "a request, not a response");
	const unsigned counts[][2] = { { 1, 0 }, { 0, 1 }, { 2, 1 }, { 1, 2 }, { 2, 2 }, { 0xffff, 0xffff } };
	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		g = gpkt_nego(7, counts[i][0], counts[i][1], v30, v30);
		expect_bad(IC_NEGOTIATING, &g, "counts not 1/1");
	}
	const struct ver unoffered[][2] = { { { 2, 0 }, { 3, 0 } }, { { 3, 0 }, { 3, 1 } }, { { 3, 1 }, { 3, 0 } },
					    { { 0, 0 }, { 0, 0 } }, { { 1, 0 }, { 4, 0 } } };
	for (size_t i = 0; i < G_N_ELEMENTS(unoffered); i++) {
		g = gpkt_nego(7, 1, 1, unoffered[i][0], unoffered[i][1]);
		expect_bad(IC_NEGOTIATING, &g, "a version we did not offer");
	}
	/* Truncated bodies: every length short of counts + reserved + 2 versions. */
	for (size_t cut = O_BODY; cut < O_BODY + 16; cut++) {
		g = gpkt_nego(7, 1, 1, v30, v30);
		g.len = cut;
		expect_bad(IC_NEGOTIATING, &g, "truncated negotiate body");
	}
	for (size_t cut = 0; cut < O_BODY; cut++) {
		g = gpkt_nego(7, 1, 1, v30, v30);
		g.len = cut;
		expect_bad(IC_NEGOTIATING, &g, "below the header");
		expect_bad(IC_READY, &g, "below the header");
	}
	const uint16_t types[] = { VMBUS_PKT_DATA_XFER_PAGES, VMBUS_PKT_DATA_GPA_DIRECT, VMBUS_PKT_COMP, 0, 0xffff };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		g = gpkt_nego(7, 1, 1, v30, v30);
		g.type = types[i];
		expect_bad(IC_NEGOTIATING, &g, "not DATA_INBAND");
		g = gpkt_ic(IC_MSGTYPE_HEARTBEAT, F_TRANSACTION | F_RESPONSE, 7);
		g.type = types[i];
		expect_bad(IC_READY, &g, "not DATA_INBAND");
	}
	/* A negotiate answer when none is outstanding. */
	g = gpkt_nego(7, 1, 1, v30, v30);
	expect_bad(IC_READY, &g, "negotiate when ready");
	expect_bad(IC_CLOSED, &g, "negotiate when closed");
	expect_bad(IC_REFUSED, &g, "negotiate when refused");
	/* Service messages before (or without) an agreement. */
	const uint16_t ictypes[] = { IC_MSGTYPE_HEARTBEAT, IC_MSGTYPE_SHUTDOWN, IC_MSGTYPE_TIMESYNC, 0x77 };
	for (size_t i = 0; i < G_N_ELEMENTS(ictypes); i++) {
		g = gpkt_ic(ictypes[i], F_TRANSACTION | F_RESPONSE, 8);
		expect_bad(IC_NEGOTIATING, &g, "message before agreement");
		expect_bad(IC_CLOSED, &g, "message when closed");
		expect_bad(IC_REFUSED, &g, "message when refused");
		/* Ready: the framework hands any other type to the service. */
		s = svc_hb(IC_READY);
		p = gpkt_view(&g);
		g_assert_cmpint(ic_receive(&s, &p, &m), ==, 1);
		g_assert_cmpuint(m.type, ==, ictypes[i]);
		g_assert_cmpuint(m.flags, ==, F_TRANSACTION | F_RESPONSE);
		g_assert_cmpuint(s.bad_messages, ==, 0);
	}
}

/* ---- the devices through the bus ---- */

struct rig {
	struct vsp_guest *g;
	struct ic_heartbeat *hb;
	struct ic_shutdown *sd;
	struct ic_timesync *ts;
	const struct vsp_guest_offer *o[3];
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	struct vsp_bus *bus = vsp_guest_bus(r->g);
	struct vmbus_guid i1 = VMBUS_GUID_INIT(0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
	struct vmbus_guid i2 = VMBUS_GUID_INIT(0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
	struct vmbus_guid i3 = VMBUS_GUID_INIT(0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3);
	r->hb = ic_heartbeat_add(bus, &i1);
	r->sd = ic_shutdown_add(bus, &i2);
	r->ts = ic_timesync_add(bus, &i3);
	g_assert_nonnull(r->hb);
	g_assert_nonnull(r->sd);
	g_assert_nonnull(r->ts);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 3);
	const struct vmbus_guid classes[3] = { IC_HEARTBEAT_CLASS, IC_SHUTDOWN_CLASS, IC_TIMESYNC_CLASS };
	for (int k = 0; k < 3; k++) {
		r->o[k] = vsp_guest_find(r->g, &classes[k]);
		g_assert_nonnull(r->o[k]);
	}
}

static void rig_fini(struct rig *r)
{
	vsp_guest_free(r->g);
	ic_heartbeat_free(r->hb);
	ic_shutdown_free(r->sd);
	ic_timesync_free(r->ts);
}

static void util_open(struct rig *r, struct util *u, enum util_kind kind)
{
	util_init(u, kind);
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r->g, r->o[kind], VSP_GUEST_UTIL_RING_PAGES, VSP_GUEST_UTIL_RING_PAGES,
				       &status, &u->c), ==, 0);
	g_assert_cmphex(status, ==, 0);
}

static enum ic_state state_of(struct rig *r, enum util_kind k, uint64_t *bad)
{
	switch (k) {
	case UTIL_HEARTBEAT: {
		struct ic_heartbeat_state s;
		ic_heartbeat_get(r->hb, &s);
		*bad = s.bad;
		return s.state;
	}
	case UTIL_SHUTDOWN: {
		struct ic_shutdown_state s;
		ic_shutdown_get(r->sd, &s);
		*bad = s.bad;
		return s.state;
	}
	case UTIL_TIMESYNC: {
		struct ic_timesync_state s;
		ic_timesync_get(r->ts, &s);
		*bad = s.bad;
		return s.state;
	}
	case UTIL_KVP:   /* test-ic-kvp.c */
		break;
	}
	g_assert_not_reached();
}

static enum ic_state state(struct rig *r, enum util_kind k)
{
	uint64_t bad;
	return state_of(r, k, &bad);
}

static uint64_t bad_count(struct rig *r, enum util_kind k)
{
	uint64_t bad;
	(void)state_of(r, k, &bad);
	return bad;
}

/* Open, take the host's NEGOTIATE, answer it as Linux: the versions chosen. */
static void util_ready(struct rig *r, struct util *u, enum util_kind kind, struct hostmsg *nego)
{
	util_open(r, u, kind);
	host_recv(u, nego);
	g_assert_cmpuint(rd16(nego->buf + O_TYPE), ==, IC_MSGTYPE_NEGOTIATE);
	struct hostmsg ans = *nego;
	util_answer(u, &ans);
	g_assert_true(vsp_guest_wait_until(r->g, state(r, kind) == IC_READY, WAIT_MS));
}

static void test_negotiate_like_linux(void)
{
	g_autoptr(GPtrArray) recs = trace_load();
	struct rig r;
	rig_init(&r);
	const struct ver want[3] = { { 3, 0 }, { 3, 2 }, { 4, 0 } };
	for (unsigned k = 0; k < 3; k++) {
		g_assert_cmpint(state(&r, k), ==, IC_CLOSED);
		struct util u;
		util_open(&r, &u, k);
		struct hostmsg nego;
		host_recv(&u, &nego);
		/* Our NEGOTIATE is byte for byte what the real session carried
		 * (the first packet of a fresh device: transaction id 1). */
		gsize n;
		const uint8_t *rec = g_bytes_get_data(trace_first_send(recs, util_names[k]), &n);
		g_assert_cmpuint(nego.raw_len, ==, (n + 7) & ~(gsize)7);
		g_assert_cmpmem(nego.raw, n, rec, n);
		for (long i = (long)n; i < nego.raw_len; i++)
			g_assert_cmpuint(nego.raw[i], ==, 0);
		/* The state is published once the open callback returned. */
		vsp_guest_bus_sync(r.g);
		g_assert_cmpint(state(&r, k), ==, IC_NEGOTIATING);
		util_answer(&u, &nego);
		g_assert_cmpuint(u.chosen.major, ==, want[k].major);
		g_assert_cmpuint(u.chosen.minor, ==, want[k].minor);
		g_assert_true(vsp_guest_wait_until(r.g, state(&r, k) == IC_READY, WAIT_MS));
		g_assert_cmpuint(bad_count(&r, k), ==, 0);
	}
	rig_fini(&r);
}

/* Malformed guest packets, each a copy of a good one broken one way. */
struct bad_pkt {
	const char *what;
	uint16_t type;
	uint64_t trans_id;
	uint8_t buf[4200];
	size_t len;
};

static void bad_from(struct bad_pkt *b, const char *what, const struct hostmsg *good, size_t len)
{
	b->what = what;
	b->type = VMBUS_PKT_DATA_INBAND;
	b->trans_id = good->d.trans_id;
	memcpy(b->buf, good->buf, sizeof(b->buf));
	b->len = len;
}

/* Answers to the beat in flight (good holds the right one) that are no beat. */
static unsigned bad_beats(const struct hostmsg *good, struct bad_pkt *out)
{
	unsigned n = 0;
	uint64_t seq = rd64(good->buf + O_BODY) - 1;
	bad_from(&out[n], "seq + 2", good, good->len);
	wr64(out[n++].buf + O_BODY, seq + 2);
	bad_from(&out[n], "seq unchanged", good, good->len);
	wr64(out[n++].buf + O_BODY, seq);
	bad_from(&out[n], "the next transaction", good, good->len);
	out[n++].trans_id = good->d.trans_id + 1;
	bad_from(&out[n], "the previous transaction", good, good->len);
	out[n++].trans_id = good->d.trans_id - 1;
	bad_from(&out[n], "a request, not a response", good, good->len);
	out[n++].buf[O_FLAGS] = F_TRANSACTION | F_REQUEST;
	bad_from(&out[n], "a forged failure", good, good->len);
	wr32(out[n++].buf + O_STATUS, HV_E_FAIL);
	bad_from(&out[n], "another service's answer", good, good->len);
	wr16(out[n++].buf + O_TYPE, IC_MSGTYPE_SHUTDOWN);
	bad_from(&out[n++], "seq cut off", good, O_BODY + 8);
	bad_from(&out[n], "not DATA_INBAND", good, good->len);
	out[n++].type = VMBUS_PKT_COMP;
	return n;
}

/* The heartbeat in flight: its seq and transaction id. */
static void hb_recv(struct util *u, struct hostmsg *m)
{
	host_recv(u, m);
	g_assert_cmpuint(rd16(m->buf + O_TYPE), ==, IC_MSGTYPE_HEARTBEAT);
	g_assert_cmpuint(rd16(m->buf + O_FW_MAJOR), ==, 3);
	g_assert_cmpuint(rd16(m->buf + O_MSG_MAJOR), ==, 3);
	g_assert_cmpuint(rd16(m->buf + O_MSG_MINOR), ==, 0);
	g_assert_cmpuint(rd16(m->buf + O_MSGSIZE), ==, 40);
	g_assert_cmpuint(m->buf[O_TRANS], ==, (uint8_t)m->d.trans_id);
}

static struct ic_heartbeat_state hb_state(struct rig *r)
{
	struct ic_heartbeat_state s;
	ic_heartbeat_get(r->hb, &s);
	return s;
}

static void test_heartbeat(void)
{
	struct rig r;
	rig_init(&r);
	struct util u;
	struct hostmsg nego, m;
	util_ready(&r, &u, UTIL_HEARTBEAT, &nego);
	struct ic_heartbeat_state s = hb_state(&r);
	g_assert_cmpuint(s.beats, ==, 0);
	g_assert_false(s.alive);
	g_assert_cmpuint(s.age_ms, ==, UINT64_MAX);

	/* The first beat, answered as Linux does. */
	hb_recv(&u, &m);
	uint64_t seq = rd64(m.buf + O_BODY);
	g_assert_cmpuint(seq, ==, 1);
	g_assert_cmpuint(m.d.trans_id, ==, nego.d.trans_id + 1);
	util_answer(&u, &m);
	g_assert_true(vsp_guest_wait_until(r.g, hb_state(&r).beats == 1, WAIT_MS));
	s = hb_state(&r);
	g_assert_cmpuint(s.seq, ==, 2);
	g_assert_true(s.alive);
	g_assert_cmpuint(s.age_ms, <, IC_HEARTBEAT_LOST_MS);
	g_assert_cmpuint(s.bad, ==, 0);

	/* The next beat goes on from the guest's number. Wrong answers to it
	 * are counted bad and are no beats; then the right one is. A beat sent
	 * meanwhile would void the round (the right answer then answers an old
	 * beat): start it again with the newer one. */
	for (int attempt = 0;; attempt++) {
		g_assert_cmpint(attempt, <, 3);
		hb_recv(&u, &m);
		seq = rd64(m.buf + O_BODY);
		g_assert_cmpuint(seq, >=, 3);
		uint64_t beats0 = hb_state(&r).beats, bad0 = hb_state(&r).bad;
		struct hostmsg good = m;
		g_assert_true(util_process(&u, good.buf, good.len));
		struct bad_pkt *b = g_new0(struct bad_pkt, 16);
		unsigned nbad = bad_beats(&good, b);
		/* One at a time: a wrong answer taken as the beat would make
		 * the right one after it look wrong, and the totals agree. */
		for (unsigned i = 0; i < nbad; i++) {
			g_assert_cmpint(vsp_guest_write(u.c, b[i].type, 0, b[i].trans_id, b[i].buf, b[i].len), ==, 0);
			if (!vsp_guest_wait_until(r.g, hb_state(&r).bad + hb_state(&r).beats > bad0 + beats0 + i, WAIT_MS))
				g_error("heartbeat: \"%s\" not handled", b[i].what);
			s = hb_state(&r);
			if (s.beats != beats0 || s.bad != bad0 + i + 1)
				g_error("heartbeat: \"%s\" counted as a beat", b[i].what);
		}
		g_free(b);
		guest_send(&u, good.buf, good.len, good.d.trans_id);
		g_assert_true(vsp_guest_wait_until(r.g, hb_state(&r).bad + hb_state(&r).beats >= bad0 + beats0 + nbad + 1,
						   WAIT_MS));
		vsp_guest_bus_sync(r.g);
		s = hb_state(&r);
		if (s.beats == beats0 && vsp_guest_in_used(u.c) > 0)
			continue;                            /* a newer beat overtook us */
		g_assert_cmpuint(s.bad, ==, bad0 + nbad);
		g_assert_cmpuint(s.beats, ==, beats0 + 1);
		g_assert_cmpuint(s.seq, ==, seq + 1);
		g_assert_cmpint(s.state, ==, IC_READY);
		break;
	}
	g_assert_cmpint(vsp_guest_release(u.c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, hb_state(&r).state == IC_CLOSED, WAIT_MS));
	g_assert_false(hb_state(&r).alive);
	rig_fini(&r);
}

static struct ic_shutdown_state sd_state(struct rig *r)
{
	struct ic_shutdown_state s;
	ic_shutdown_get(r->sd, &s);
	return s;
}

static void test_shutdown(void)
{
	struct rig r;
	rig_init(&r);
	/* No channel yet, then a channel that is still negotiating. */
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_POWEROFF, "x"), ==, -ENOTCONN);
	struct util u;
	util_open(&r, &u, UTIL_SHUTDOWN);
	struct hostmsg nego, m;
	host_recv(&u, &nego);
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_POWEROFF, "x"), ==, -ENOTCONN);
	g_assert_cmpuint(sd_state(&r).requests, ==, 0);
	util_answer(&u, &nego);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).state == IC_READY, WAIT_MS));

	static const struct { enum ic_shutdown_kind kind; uint32_t flags; const char *why; } cases[] = {
		{ IC_SHUTDOWN_POWEROFF, 0, "host asked for a power off" },
		{ IC_SHUTDOWN_REBOOT, 2, "and now a reboot" },
		{ IC_SHUTDOWN_POWEROFF, 0, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_assert_cmpint(ic_shutdown_request(r.sd, cases[i].kind, cases[i].why), ==, 0);
		g_assert_cmpuint(sd_state(&r).requests, ==, i + 1);
		host_recv(&u, &m);
		g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_SHUTDOWN);
		/* The version Linux picked, 3.2, in the header of every request. */
		g_assert_cmpuint(rd16(m.buf + O_MSG_MAJOR), ==, 3);
		g_assert_cmpuint(rd16(m.buf + O_MSG_MINOR), ==, 2);
		g_assert_cmpuint(rd16(m.buf + O_FW_MAJOR), ==, 3);
		/* hv_utils drops a request shorter than struct shutdown_msg_data. */
		g_assert_cmpuint(m.len, >=, 28 + 12 + 2048);
		g_assert_cmpuint(rd16(m.buf + O_MSGSIZE), ==, 12 + 2048);
		g_assert_cmphex(rd32(m.buf + O_BODY), ==, 0x80000000u);       /* reason: planned */
		g_assert_cmpuint(rd32(m.buf + O_BODY + 4), ==, 0);          /* timeout */
		g_assert_cmpuint(rd32(m.buf + O_BODY + 8), ==, cases[i].flags);
		const char *text = (const char *)m.buf + O_BODY + 12;
		g_assert_cmpstr(text, ==, cases[i].why ? cases[i].why : "");
		util_answer(&u, &m);
		g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).answers == i + 1, WAIT_MS));
		g_assert_cmphex(sd_state(&r).last_status, ==, HV_S_OK);
	}
	/* A refusal is reported as such. */
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_REBOOT, NULL), ==, 0);
	host_recv(&u, &m);
	g_assert_true(util_process(&u, m.buf, m.len));
	wr32(m.buf + O_STATUS, HV_E_FAIL);
	guest_send(&u, m.buf, m.len, m.d.trans_id);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).answers == 4, WAIT_MS));
	g_assert_cmphex(sd_state(&r).last_status, ==, HV_E_FAIL);

	/* An answer to nothing (a forged id, or the same answer twice) is no
	 * answer: it is counted as bad and the last status stays. */
	g_assert_true(util_process(&u, m.buf, m.len));
	wr32(m.buf + O_STATUS, HV_S_OK);
	guest_send(&u, m.buf, m.len, m.d.trans_id);
	guest_send(&u, m.buf, m.len, m.d.trans_id + 100);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).bad == 2, WAIT_MS));
	g_assert_cmpuint(sd_state(&r).answers, ==, 4);
	g_assert_cmphex(sd_state(&r).last_status, ==, HV_E_FAIL);

	/* A message longer than the field is cut, and still ends in a NUL. */
	char *lng = g_strnfill(3000, 'q');
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_POWEROFF, lng), ==, 0);
	g_free(lng);
	host_recv(&u, &m);
	const uint8_t *text = m.buf + O_BODY + 12;
	g_assert_cmpuint(strnlen((const char *)text, 2048), ==, 2047);
	g_assert_cmpuint(sd_state(&r).bad, ==, 2);

	/* Closed again: requests are refused. */
	g_assert_cmpint(vsp_guest_release(u.c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).state == IC_CLOSED, WAIT_MS));
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_REBOOT, "x"), ==, -ENOTCONN);
	rig_fini(&r);
}

static struct ic_timesync_state ts_state(struct rig *r)
{
	struct ic_timesync_state s;
	ic_timesync_get(r->ts, &s);
	return s;
}

static void test_timesync(void)
{
	struct rig r;
	rig_init(&r);
	vsp_guest_set_reference_time(r.g, 5000000000ull, 12345);
	struct util u;
	struct hostmsg nego, m;
	uint64_t t0 = ic_timesync_host_time();
	util_ready(&r, &u, UTIL_TIMESYNC, &nego);

	/* Ready: the clock is stepped at once (SYNC), with the reference time
	 * the host read when it sampled its clock. */
	host_recv(&u, &m);
	uint64_t t1 = ic_timesync_host_time();
	g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_TIMESYNC);
	g_assert_cmpuint(rd16(m.buf + O_MSG_MAJOR), ==, 4);
	g_assert_cmpuint(rd16(m.buf + O_MSG_MINOR), ==, 0);
	g_assert_cmpuint(rd16(m.buf + O_MSGSIZE), ==, 22);       /* struct ictimesync_ref_data */
	uint64_t parent = rd64(m.buf + O_BODY);
	g_assert_cmpuint(parent, >=, t0);
	g_assert_cmpuint(parent, <=, t1);
	g_assert_cmpuint(vsp_guest_reference_time_reads(r.g), ==, 1);
	g_assert_cmpuint(rd64(m.buf + O_BODY + 8), ==, 5000000000ull + 12345);
	g_assert_cmpuint(m.buf[O_BODY + 16], ==, 1);              /* ICTIMESYNCFLAG_SYNC */
	g_assert_cmpuint(m.buf[O_BODY + 18], ==, 2);              /* stratum */
	util_answer(&u, &m);
	g_assert_true(vsp_guest_wait_until(r.g, ts_state(&r).answers == 1, WAIT_MS));
	struct ic_timesync_state s = ts_state(&r);
	g_assert_cmpuint(s.syncs, ==, 1);
	g_assert_cmpuint(s.samples, ==, 0);

	/* Then samples, one a period, each with a fresh reference time. */
	g_assert_cmpint(vsp_guest_recv(u.c, m.raw, sizeof(m.raw), IC_TIMESYNC_PERIOD_MS + WAIT_MS), >, 0);
	memcpy(m.buf, m.raw + 16, sizeof(m.buf) - 16);
	g_assert_cmpuint(rd16(m.buf + O_TYPE), ==, IC_MSGTYPE_TIMESYNC);
	g_assert_cmpuint(m.buf[O_BODY + 16], ==, 2);              /* ICTIMESYNCFLAG_SAMPLE */
	g_assert_cmpuint(rd64(m.buf + O_BODY + 8), ==, vsp_guest_last_reference_time(r.g));
	g_assert_cmpuint(rd64(m.buf + O_BODY + 8), ==, 5000000000ull + 2 * 12345);
	g_assert_cmpuint(rd64(m.buf + O_BODY), >=, parent);
	g_assert_true(vsp_guest_wait_until(r.g, ts_state(&r).samples == 1, WAIT_MS));
	g_assert_cmpint(vsp_guest_release(u.c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, ts_state(&r).state == IC_CLOSED, WAIT_MS));

	/* A guest with only 3.0 and 1.0 (older hv_utils): the v3 body, no
	 * reference time, and again a SYNC first since this is a new open. */
	static const struct ver old_ts[] = { { 3, 0 }, { 1, 0 } };
	util_open(&r, &u, UTIL_TIMESYNC);
	u.srv = old_ts;
	u.nsrv = G_N_ELEMENTS(old_ts);
	host_recv(&u, &nego);
	util_answer(&u, &nego);
	g_assert_cmpuint(u.chosen.major, ==, 3);
	unsigned reads = vsp_guest_reference_time_reads(r.g);
	host_recv(&u, &m);
	g_assert_cmpuint(rd16(m.buf + O_MSG_MAJOR), ==, 3);
	g_assert_cmpuint(rd16(m.buf + O_MSGSIZE), ==, 25);       /* struct ictimesync_data */
	g_assert_cmpuint(m.buf[O_BODY + 24], ==, 1);              /* SYNC */
	g_assert_cmpuint(rd64(m.buf + O_BODY + 8), ==, 0);
	g_assert_cmpuint(vsp_guest_reference_time_reads(r.g), ==, reads);
	util_answer(&u, &m);
	g_assert_true(vsp_guest_wait_until(r.g, ts_state(&r).syncs == 2, WAIT_MS));
	g_assert_cmpuint(ts_state(&r).bad, ==, 0);
	rig_fini(&r);
}

static void test_refused(void)
{
	struct rig r;
	rig_init(&r);
	/* A guest whose framework versions the host does not speak. */
	static const struct ver fw_other[] = { { 2, 0 } };
	struct util u;
	util_open(&r, &u, UTIL_SHUTDOWN);
	u.fw = fw_other;
	u.nfw = 1;
	struct hostmsg nego;
	host_recv(&u, &nego);
	util_answer(&u, &nego);
	g_assert_cmpuint(rd16(nego.buf + O_BODY), ==, 0);
	g_assert_cmpuint(rd16(nego.buf + O_BODY + 2), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).state == IC_REFUSED, WAIT_MS));
	g_assert_cmpint(ic_shutdown_request(r.sd, IC_SHUTDOWN_POWEROFF, "x"), ==, -ENOTCONN);
	/* A second answer changes nothing any more. */
	struct hostmsg again = nego;
	wr16(again.buf + O_BODY, 1);
	wr16(again.buf + O_BODY + 2, 1);
	wr16(again.buf + O_BODY + 8, 3);
	wr16(again.buf + O_BODY + 12, 3);
	guest_send(&u, again.buf, again.len, again.d.trans_id);
	g_assert_true(vsp_guest_wait_until(r.g, sd_state(&r).bad == 1, WAIT_MS));
	g_assert_cmpint(sd_state(&r).state, ==, IC_REFUSED);

	/* A guest that shares the framework but no heartbeat version. */
	static const struct ver hb_other[] = { { 5, 0 }, { 2, 0 } };
	struct util h;
	util_open(&r, &h, UTIL_HEARTBEAT);
	h.srv = hb_other;
	h.nsrv = 2;
	host_recv(&h, &nego);
	util_answer(&h, &nego);
	g_assert_true(vsp_guest_wait_until(r.g, hb_state(&r).state == IC_REFUSED, WAIT_MS));
	g_assert_cmpuint(hb_state(&r).bad, ==, 0);
	rig_fini(&r);
}

/* Negotiate answers that must leave the service negotiating. */
static unsigned bad_negotiations(struct util *u, const struct hostmsg *nego, struct bad_pkt *out)
{
	struct hostmsg ok = *nego;
	g_assert_true(util_process(u, ok.buf, ok.len));
	unsigned n = 0;
	/* VMBus payloads come in 8-byte units: 24 is the longest below the
	 * 28-byte header, 32 and 40 cut the body inside the counts/versions. */
	bad_from(&out[n++], "empty", &ok, 0);
	bad_from(&out[n++], "8 bytes", &ok, 8);
	bad_from(&out[n++], "24 bytes, short of the header", &ok, 24);
	bad_from(&out[n++], "counts only", &ok, 32);
	bad_from(&out[n++], "one version", &ok, 40);
	const unsigned counts[][2] = { { 2, 1 }, { 1, 0 }, { 0, 1 }, { 1, 2 } };
	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		bad_from(&out[n], "counts not 1/1", &ok, ok.len);
		wr16(out[n].buf + O_BODY, (uint16_t)counts[i][0]);
		wr16(out[n].buf + O_BODY + 2, (uint16_t)counts[i][1]);
		n++;
	}
	bad_from(&out[n], "framework version not offered", &ok, ok.len);
	wr16(out[n++].buf + O_BODY + 8, 2);
	bad_from(&out[n], "message version not offered", &ok, ok.len);
	wr16(out[n++].buf + O_BODY + 14, 9);
	bad_from(&out[n], "wrong transaction id", &ok, ok.len);
	out[n++].trans_id = ok.d.trans_id + 1;
	bad_from(&out[n], "transaction id 0", &ok, ok.len);
	out[n++].trans_id = 0;
	bad_from(&out[n], "a request, not a response", &ok, ok.len);
	out[n++].buf[O_FLAGS] = F_TRANSACTION | F_REQUEST;
	bad_from(&out[n], "unknown message type", &ok, ok.len);
	wr16(out[n++].buf + O_TYPE, 0x77);
	const uint16_t types[] = { VMBUS_PKT_COMP, VMBUS_PKT_DATA_XFER_PAGES, VMBUS_PKT_DATA_GPA_DIRECT };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		bad_from(&out[n], "not DATA_INBAND", &ok, ok.len);
		out[n++].type = types[i];
	}
	return n;
}

/* Packets that must leave a ready service ready and count nothing else. */
static unsigned bad_when_ready(struct util *u, const struct hostmsg *nego, struct bad_pkt *out)
{
	struct hostmsg ok = *nego;
	g_assert_true(util_process(u, ok.buf, ok.len));
	unsigned n = 0;
	bad_from(&out[n++], "negotiate answer again", &ok, ok.len);
	bad_from(&out[n++], "24 bytes", &ok, 24);
	bad_from(&out[n], "unknown type, as a response", &ok, ok.len);
	wr16(out[n++].buf + O_TYPE, 0x77);
	bad_from(&out[n], "another service's response", &ok, ok.len);
	wr16(out[n++].buf + O_TYPE, u->kind == UTIL_HEARTBEAT ? IC_MSGTYPE_TIMESYNC : IC_MSGTYPE_HEARTBEAT);
	const uint16_t own[] = { IC_MSGTYPE_HEARTBEAT, IC_MSGTYPE_SHUTDOWN, IC_MSGTYPE_TIMESYNC };
	bad_from(&out[n], "own type, but a request", &ok, ok.len);
	wr16(out[n].buf + O_TYPE, own[u->kind]);
	out[n++].buf[O_FLAGS] = F_TRANSACTION | F_REQUEST;
	bad_from(&out[n], "own type, not DATA_INBAND", &ok, ok.len);
	wr16(out[n].buf + O_TYPE, own[u->kind]);
	out[n++].type = VMBUS_PKT_COMP;
	return n;
}

static void send_bad(struct rig *r, struct util *u, enum util_kind k, struct bad_pkt *b, unsigned n,
		     enum ic_state expect)
{
	uint64_t bad0 = bad_count(r, k);
	for (unsigned i = 0; i < n; i++) {
		g_assert_cmpint(vsp_guest_write(u->c, b[i].type, 0, b[i].trans_id, b[i].buf, b[i].len), ==, 0);
		/* One at a time, so that a failure names the packet. */
		if (!vsp_guest_wait_until(r->g, bad_count(r, k) == bad0 + i + 1, WAIT_MS))
			g_error("%s: \"%s\" not counted bad (%" G_GUINT64_FORMAT " of %u)", util_names[k], b[i].what,
				bad_count(r, k) - bad0, i + 1);
		if (state(r, k) != expect)
			g_error("%s: \"%s\" changed the state to %s", util_names[k], b[i].what,
				ic_state_name(state(r, k)));
	}
	vsp_guest_bus_sync(r->g);
	g_assert_cmpuint(bad_count(r, k), ==, bad0 + n);
}

static void test_malformed(void)
{
	struct rig r;
	rig_init(&r);
	for (unsigned k = 0; k < 3; k++) {
		struct util u;
		util_open(&r, &u, k);
		struct hostmsg nego;
		host_recv(&u, &nego);
		struct bad_pkt *b = g_new0(struct bad_pkt, 32);
		unsigned n = bad_negotiations(&u, &nego, b);
		send_bad(&r, &u, k, b, n, IC_NEGOTIATING);
		/* Larger than the device takes: the bus drops it, no IC message at all. */
		struct vsp_device *dev = vsp_bus_find(vsp_guest_bus(r.g), util_names[k]);
		g_assert_nonnull(dev);
		struct vsp_device_stats st0, st1;
		vsp_device_get_stats(dev, &st0);
		uint8_t big[5000] = { 0 };
		g_assert_cmpint(vsp_guest_write(u.c, VMBUS_PKT_DATA_INBAND, 0, nego.d.trans_id, big, sizeof(big)), ==, 0);
		g_assert_true(vsp_guest_wait_until(r.g, (vsp_device_get_stats(dev, &st1), st1.bad_packets) ==
							      st0.bad_packets + 1, WAIT_MS));
		vsp_guest_bus_sync(r.g);
		g_assert_cmpuint(bad_count(&r, k), ==, n);
		g_assert_cmpint(state(&r, k), ==, IC_NEGOTIATING);

		/* The real answer still works after all that. */
		util_answer(&u, &nego);
		g_assert_true(vsp_guest_wait_until(r.g, state(&r, k) == IC_READY, WAIT_MS));
		unsigned m = bad_when_ready(&u, &nego, b);
		send_bad(&r, &u, k, b, m, IC_READY);
		g_assert_cmpuint(bad_count(&r, k), ==, n + m);
		g_free(b);
	}
	g_assert_cmpuint(hb_state(&r).beats, ==, 0);
	g_assert_cmpuint(sd_state(&r).answers, ==, 0);
	g_assert_cmpuint(ts_state(&r).answers, ==, 0);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ic/model-matches-linux", test_model_matches_linux);
	g_test_add_func("/ic/parse-build", test_parse_build);
	g_test_add_func("/ic/receive", test_receive);
	g_test_add_func("/ic/negotiate-like-linux", test_negotiate_like_linux);
	g_test_add_func("/ic/heartbeat", test_heartbeat);
	g_test_add_func("/ic/shutdown", test_shutdown);
	g_test_add_func("/ic/timesync", test_timesync);
	g_test_add_func("/ic/refused", test_refused);
	g_test_add_func("/ic/malformed", test_malformed);
	return g_test_run();
}
