// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The KVP device against a guest that answers as Linux 6.1's hv_kvp.c with
 * hv_kvp_daemon behind it: in place, in the host's own buffer, one request
 * at a time; the auto pool made up by the daemon, HV_S_CONT past the end.
 * Played through the VSP bus with vsp-guest.h; fields at Linux's offsets.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hvutil-model.h"
#include "vsp-guest.h"
#include "vsp/ic.h"
#include "vsp/ic_kvp.h"

#define HV_S_CONT 0x80070103u
/* struct hv_kvp_msg after the IC header. */
#define K_OP       (O_BODY + 0)
#define K_POOL     (O_BODY + 1)
#define K_INDEX    (O_BODY + 4)      /* enumerate */
#define K_ENUM_REC (O_BODY + 8)
#define K_SET_REC  (O_BODY + 4)
#define R_TYPE     0
#define R_KSIZE    4
#define R_VSIZE    8
#define R_KEY      12
#define R_VALUE    524

struct kv {
	const char *key, *value;
};

/* What the daemon reports in the auto pool (hv_kvp_daemon's key_index order). */
static const struct kv auto_pool[] = {
	{ "FullyQualifiedDomainName", "guest.example" },
	{ "NetworkAddressIPv4", "192.0.2.7;198.51.100.1" },
	{ "OSName", "Débian" },
};

struct rig {
	struct vsp_guest *g;
	struct ic_kvp *kvp;
	struct util u;
};

static struct ic_kvp_state kstate(struct rig *r)
{
	struct ic_kvp_state s;
	ic_kvp_get_state(r->kvp, &s);
	return s;
}

static uint32_t put_ascii16(uint8_t *p, const char *s)
{
	/* Enough for the test's Latin-1 text: one unit per character. */
	g_autofree gunichar2 *u = g_utf8_to_utf16(s, -1, NULL, NULL, NULL);
	size_t n = 0;
	for (; u[n]; n++)
		wr16(p + 2 * n, u[n]);
	wr16(p + 2 * n, 0);
	return (uint32_t)(2 * (n + 1));
}

/* kvp_respond_to_host: key and value written into the host's buffer. */
static void answer_entry(struct rig *r, struct hostmsg *m, const struct kv *e)
{
	uint8_t *rec = m->buf + K_ENUM_REC;
	wr32(rec + R_TYPE, 1);
	wr32(rec + R_KSIZE, put_ascii16(rec + R_KEY, e->key));
	wr32(rec + R_VSIZE, put_ascii16(rec + R_VALUE, e->value));
	wr32(m->buf + O_STATUS, HV_S_OK);
	m->buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	guest_send(&r->u, m->buf, m->len, m->d.trans_id);
}

static void answer_status(struct rig *r, struct hostmsg *m, uint32_t status)
{
	wr32(m->buf + O_STATUS, status);
	m->buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	guest_send(&r->u, m->buf, m->len, m->d.trans_id);
}

/* The next host request, which must be a KVP operation op on pool. */
static void expect_request(struct rig *r, struct hostmsg *m, uint8_t op, uint8_t pool)
{
	host_recv(&r->u, m);
	g_assert_cmpuint(rd16(m->buf + O_TYPE), ==, IC_MSGTYPE_KVP);
	g_assert_cmpuint(rd16(m->buf + O_MSG_MAJOR), ==, 4);
	g_assert_cmpuint(m->buf[K_OP], ==, op);
	g_assert_cmpuint(m->buf[K_POOL], ==, pool);
	/* The guest answers in place: the request holds room for the answer. */
	size_t body = op == 3 ? 8 + 12 + 512 + 2048 : op == 1 ? 4 + 12 + 512 + 2048 : 4 + 4 + 512;
	g_assert_cmpuint(m->len, >=, O_BODY + body);
}

/* One whole sweep: the auto pool from `entries`, then an empty guest pool. */
static void answer_sweep(struct rig *r, const struct kv *entries, size_t n)
{
	struct hostmsg m;
	for (size_t i = 0; i <= n; i++) {
		expect_request(r, &m, 3, 2);
		g_assert_cmpuint(rd32(m.buf + K_INDEX), ==, i);
		if (i < n)
			answer_entry(r, &m, &entries[i]);
		else
			answer_status(r, &m, HV_S_CONT);
	}
	expect_request(r, &m, 3, 1);
	g_assert_cmpuint(rd32(m.buf + K_INDEX), ==, 0);
	answer_status(r, &m, HV_S_CONT);
}

static void rig_ready(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->g = vsp_guest_new();
	struct vmbus_guid inst = VMBUS_GUID_INIT(0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4);
	r->kvp = ic_kvp_add(vsp_guest_bus(r->g), &inst);
	g_assert_nonnull(r->kvp);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 1);
	const struct vmbus_guid cls = IC_KVP_CLASS;
	const struct vsp_guest_offer *o = vsp_guest_find(r->g, &cls);
	g_assert_nonnull(o);
	util_init(&r->u, UTIL_KVP);
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r->g, o, VSP_GUEST_UTIL_RING_PAGES, VSP_GUEST_UTIL_RING_PAGES, &status,
				       &r->u.c), ==, 0);
	/* Not negotiated yet: nothing to read, nothing to write. */
	char buf[64];
	g_assert_cmpint(ic_kvp_get(r->kvp, "OSName", buf, sizeof(buf)), ==, -EAGAIN);
	g_assert_cmpint(ic_kvp_set(r->kvp, "k", "v"), ==, -ENOTCONN);
	struct hostmsg nego;
	host_recv(&r->u, &nego);
	g_assert_cmpuint(rd16(nego.buf + O_TYPE), ==, IC_MSGTYPE_NEGOTIATE);
	util_answer(&r->u, &nego);
	g_assert_cmpuint(r->u.chosen.major, ==, 4);
	g_assert_true(vsp_guest_wait_until(r->g, kstate(r).state == IC_READY, WAIT_MS));
}

static void rig_fini(struct rig *r)
{
	vsp_guest_free(r->g);
	ic_kvp_free(r->kvp);
}

static void test_sweep_and_get(void)
{
	struct rig r;
	rig_ready(&r);
	/* Asked but not answered yet: still "not yet". */
	char buf[2048];
	g_assert_cmpint(ic_kvp_get(r.kvp, "OSName", buf, sizeof(buf)), ==, -EAGAIN);
	answer_sweep(&r, auto_pool, G_N_ELEMENTS(auto_pool));
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).sweeps == 1, WAIT_MS));
	g_assert_cmpint(ic_kvp_get(r.kvp, "FullyQualifiedDomainName", buf, sizeof(buf)), ==, 0);
	g_assert_cmpstr(buf, ==, "guest.example");
	g_assert_cmpint(ic_kvp_get(r.kvp, "NetworkAddressIPv4", buf, sizeof(buf)), ==, 0);
	g_assert_cmpstr(buf, ==, "192.0.2.7;198.51.100.1");
	g_assert_cmpint(ic_kvp_get(r.kvp, "OSName", buf, sizeof(buf)), ==, 0);
	g_assert_cmpstr(buf, ==, "Débian");
	g_assert_cmpint(ic_kvp_get(r.kvp, "OSName", buf, 3), ==, -ENOSPC);
	g_assert_cmpint(ic_kvp_get(r.kvp, "NoSuchKey", buf, sizeof(buf)), ==, -ENOENT);

	g_auto(GStrv) all = ic_kvp_list(r.kvp);
	g_assert_cmpuint(g_strv_length(all), ==, 6);
	g_assert_cmpstr(all[0], ==, "FullyQualifiedDomainName");
	g_assert_cmpstr(all[4], ==, "OSName");
	g_assert_cmpstr(all[5], ==, "Débian");

	struct ic_kvp_state s = kstate(&r);
	g_assert_cmpuint(s.entries, ==, 3);
	g_assert_cmpuint(s.requests, ==, 5);
	g_assert_cmpuint(s.answers, ==, 5);
	g_assert_cmpuint(s.bad, ==, 0);
	/* Closed: what the guest said goes with it. */
	g_assert_cmpint(vsp_guest_release(r.u.c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).state == IC_CLOSED, WAIT_MS));
	g_assert_cmpint(ic_kvp_get(r.kvp, "OSName", buf, sizeof(buf)), ==, -EAGAIN);
	g_assert_cmpuint(kstate(&r).entries, ==, 0);
	rig_fini(&r);
}

static void test_set_and_delete(void)
{
	struct rig r;
	rig_ready(&r);
	/* Writes go ahead of the sweep that is waiting for its answer. */
	struct hostmsg first;
	expect_request(&r, &first, 3, 2);
	g_assert_cmpint(ic_kvp_set(r.kvp, "Key", "välue"), ==, 0);
	g_assert_cmpint(ic_kvp_delete(r.kvp, "Old"), ==, 0);
	g_assert_cmpint(ic_kvp_set(r.kvp, "", "v"), ==, -EINVAL);
	g_assert_cmpint(ic_kvp_set(r.kvp, "k\xff", "v"), ==, -EINVAL);
	answer_status(&r, &first, HV_S_CONT);

	struct hostmsg m;
	expect_request(&r, &m, 1, 0);
	const uint8_t *rec = m.buf + K_SET_REC;
	g_assert_cmpuint(rd32(rec + R_TYPE), ==, 1);
	g_assert_cmpuint(rd32(rec + R_KSIZE), ==, 8);
	g_assert_cmpuint(rd16(rec + R_KEY), ==, 'K');
	g_assert_cmpuint(rd32(rec + R_VSIZE), ==, 12);
	g_assert_cmpuint(rd16(rec + R_VALUE + 2), ==, 0xe4);
	answer_status(&r, &m, HV_S_OK);
	expect_request(&r, &m, 2, 0);
	g_assert_cmpuint(rd32(m.buf + O_BODY + 4), ==, 8);
	g_assert_cmpuint(rd16(m.buf + O_BODY + 8), ==, 'O');
	/* The daemon had no such key. */
	answer_status(&r, &m, HV_S_CONT);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).failed == 1, WAIT_MS));
	g_assert_cmpuint(kstate(&r).sets_done, ==, 1);
	/* Then the sweep goes on (the guest pool). */
	expect_request(&r, &m, 3, 1);
	answer_status(&r, &m, HV_S_CONT);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).sweeps == 1, WAIT_MS));

	/* A guest that stops answering: writes queue up to the limit. */
	g_assert_cmpint(ic_kvp_set(r.kvp, "busy", "1"), ==, 0);
	expect_request(&r, &m, 1, 0);
	for (unsigned i = 0; i < IC_KVP_QUEUE_MAX; i++)
		g_assert_cmpint(ic_kvp_set(r.kvp, "q", "v"), ==, 0);
	g_assert_cmpint(ic_kvp_set(r.kvp, "q", "v"), ==, -ENOBUFS);
	g_assert_cmpuint(kstate(&r).queued, ==, IC_KVP_QUEUE_MAX);
	rig_fini(&r);
}

static void test_malformed_answers(void)
{
	struct rig r;
	rig_ready(&r);
	answer_sweep(&r, auto_pool, 1);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).sweeps == 1, WAIT_MS));
	g_assert_cmpint(ic_kvp_set(r.kvp, "k", "v"), ==, 0);
	struct hostmsg m;
	expect_request(&r, &m, 1, 0);

	/* An answer with another transaction id, a request instead of a
	 * response, a short one: each counted, none taken as the answer. */
	struct hostmsg bad = m;
	bad.buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	guest_send(&r.u, bad.buf, bad.len, bad.d.trans_id + 7);
	bad.buf[O_FLAGS] = F_TRANSACTION | F_REQUEST;
	guest_send(&r.u, bad.buf, bad.len, bad.d.trans_id);
	guest_send(&r.u, bad.buf, 20, bad.d.trans_id);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).bad == 3, WAIT_MS));
	g_assert_cmpuint(kstate(&r).sets_done, ==, 0);
	/* An answer that does not echo our operation is a failed write. */
	bad = m;
	bad.buf[K_OP] = 0;
	answer_status(&r, &bad, HV_S_OK);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).failed == 1, WAIT_MS));
	g_assert_cmpuint(kstate(&r).sets_done, ==, 0);

	/* The next sweep (the refresh timer's; started here by a reopen) meets
	 * a broken entry: the pool's old values stay, the device goes on. */
	char buf[64];
	g_assert_cmpint(vsp_guest_release(r.u.c), ==, 0);
	const struct vmbus_guid cls = IC_KVP_CLASS;
	uint32_t status = 1;
	g_assert_cmpint(vsp_guest_open(r.g, vsp_guest_find(r.g, &cls), VSP_GUEST_UTIL_RING_PAGES,
				       VSP_GUEST_UTIL_RING_PAGES, &status, &r.u.c), ==, 0);
	struct hostmsg nego;
	host_recv(&r.u, &nego);
	util_answer(&r.u, &nego);
	expect_request(&r, &m, 3, 2);
	answer_entry(&r, &m, &auto_pool[0]);
	expect_request(&r, &m, 3, 2);
	uint64_t bad_before = kstate(&r).bad;
	wr32(m.buf + K_ENUM_REC + R_KSIZE, 9999);
	m.buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	guest_send(&r.u, m.buf, m.len, m.d.trans_id);
	/* That pool's read ended there; the guest pool is next. */
	expect_request(&r, &m, 3, 1);
	/* The count is published after the next request went out. */
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).bad == bad_before + 1, WAIT_MS));
	answer_status(&r, &m, HV_S_CONT);
	g_assert_true(vsp_guest_wait_until(r.g, kstate(&r).sweeps == 2, WAIT_MS));
	/* The reopen emptied the cache, and the broken read did not refill it. */
	g_assert_cmpint(ic_kvp_get(r.kvp, "FullyQualifiedDomainName", buf, sizeof(buf)), ==, -ENOENT);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ic-kvp/sweep-and-get", test_sweep_and_get);
	g_test_add_func("/ic-kvp/set-and-delete", test_set_and_delete);
	g_test_add_func("/ic-kvp/malformed-answers", test_malformed_answers);
	return g_test_run();
}
