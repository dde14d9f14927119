// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replays what a real guest (Debian's Linux 6.1 under vireo-worker) sent, as
 * recorded by `vireo-worker --trace-vmbus` (tests/unit/fixtures/README.md):
 *  - its VMBus messages go to a fresh server offering the same channels,
 *    which must answer every one with the recorded status and send, in
 *    order, exactly the replies the real run sent;
 *  - its integration-service packets go through the IC framing and
 *    negotiation, which must agree on the versions the guest's kernel logged
 *    and take every later packet as the answer to what the host had sent.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/le.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_ring.h"
#include "hv/vmbus_server.h"
#include "vsp/ic.h"
#include "vsp/ic_kvp_msg.h"

struct record {
	char *kind;                  /* post, reply, packet, send */
	char *device;                /* packet/send: the device */
	uint32_t conn, type, status; /* post */
	GBytes *data;
};

static void record_free(gpointer p)
{
	struct record *r = p;
	g_free(r->kind);
	g_free(r->device);
	g_bytes_unref(r->data);
	g_free(r);
}

static GBytes *hex_bytes(const char *hex)
{
	size_t n = strlen(hex);
	g_assert_cmpuint(n % 2, ==, 0);
	uint8_t *buf = g_malloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
		g_assert_true(hi >= 0 && lo >= 0);
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return g_bytes_new_take(buf, n / 2);
}

static uint32_t attr(char **words, const char *key)
{
	size_t kl = strlen(key);
	for (char **w = words; *w; w++)
		if (strncmp(*w, key, kl) == 0 && (*w)[kl] == '=')
			return (uint32_t)g_ascii_strtoull(*w + kl + 1, NULL, 10);
	g_error("record without %s", key);
	return 0;
}

static GPtrArray *load(const char *name)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "unit", "fixtures", name, NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	if (!g_file_get_contents(path, &text, NULL, &err))
		g_error("%s", err->message);
	GPtrArray *recs = g_ptr_array_new_with_free_func(record_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (!**l || **l == '#')
			continue;
		g_auto(GStrv) w = g_strsplit(*l, " ", -1);
		guint n = g_strv_length(w);
		g_assert_cmpuint(n, >=, 2);
		struct record *r = g_new0(struct record, 1);
		r->kind = g_strdup(w[0]);
		r->data = hex_bytes(w[n - 1]);
		if (g_str_equal(r->kind, "post")) {
			r->conn = attr(w, "conn");
			r->type = attr(w, "type");
			r->status = attr(w, "status");
		} else if (g_str_equal(r->kind, "packet") || g_str_equal(r->kind, "send")) {
			r->device = g_strdup(w[1]);
		} else {
			g_assert_cmpstr(r->kind, ==, "reply");
		}
		g_ptr_array_add(recs, r);
	}
	return recs;
}

/* ---- the VMBus messages ---- */

struct rig {
	GPtrArray *replies;
};

static int rig_post(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct rig *r = opaque;
	g_ptr_array_add(r->replies, g_bytes_new(msg, len));
	return 0;
}

static const struct vmbus_server_ops rig_ops = { .post_to_guest = rig_post };

static void test_messages(gconstpointer name)
{
	g_autoptr(GPtrArray) recs = load(name);
	struct rig r = { .replies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref) };
	struct vmbus_server_config cfg = { .nvps = 2 };
	struct vmbus_server *s = vmbus_server_new(&cfg, &rig_ops, &r);
	g_assert_nonnull(s);

	/* The same channels, in relid order, as the recorded offers. */
	GPtrArray *expect = g_ptr_array_new();
	for (guint i = 0; i < recs->len; i++) {
		struct record *rec = recs->pdata[i];
		if (!g_str_equal(rec->kind, "reply"))
			continue;
		g_ptr_array_add(expect, rec->data);
		gsize len;
		const uint8_t *m = g_bytes_get_data(rec->data, &len);
		if (len < 8 + 32 || le32_get(m) != VMBUS_MSG_OFFERCHANNEL)
			continue;
		struct vmbus_channel_desc d = { 0 };
		memcpy(&d.type, m + 8, 16);
		memcpy(&d.instance, m + 24, 16);
		struct vmbus_channel *ch;
		g_assert_cmpint(vmbus_server_add_channel(s, &d, &ch), ==, 0);
	}
	g_assert_cmpuint(expect->len, >, 0);

	unsigned posts = 0;
	for (guint i = 0; i < recs->len; i++) {
		struct record *rec = recs->pdata[i];
		if (!g_str_equal(rec->kind, "post"))
			continue;
		gsize len;
		const void *p = g_bytes_get_data(rec->data, &len);
		g_assert_cmpuint(vmbus_server_handle_post(s, rec->conn, rec->type, p, len), ==, rec->status);
		posts++;
	}
	g_test_message("%u guest messages, %u replies", posts, expect->len);
	g_assert_cmpuint(r.replies->len, ==, expect->len);
	for (guint i = 0; i < expect->len; i++) {
		gsize a, b;
		const void *got = g_bytes_get_data(r.replies->pdata[i], &a);
		const void *want = g_bytes_get_data(expect->pdata[i], &b);
		if (a != b || memcmp(got, want, a) != 0) {
			g_autofree char *gh = g_strnfill(0, 0);
			for (gsize k = 0; k < a; k++) {
				g_autofree char *o = gh;
				gh = g_strdup_printf("%s%02x", o, ((const uint8_t *)got)[k]);
			}
			g_test_message("reply %u differs; we sent %s", i, gh);
		}
		g_assert_cmpmem(got, a, want, b);
	}
	struct vmbus_server_state st;
	vmbus_server_get_state(s, &st);
	g_assert_true(st.connected);
	g_assert_cmphex(st.version, ==, 0x50003);
	g_ptr_array_unref(expect);
	vmbus_server_free(s);
	g_ptr_array_unref(r.replies);
}

/* ---- the integration-service packets ---- */

struct ic_expect {
	const char *device;
	struct ic_version fw, msg;   /* what the guest's hv_utils logged */
	struct ic_version offer[4];
	unsigned n_offer;
};

static const struct ic_expect ic_expects[] = {
	{ "heartbeat", { 3, 0 }, { 3, 0 }, { { 3, 0 }, { 1, 0 } }, 2 },
	{ "shutdown", { 3, 0 }, { 3, 2 }, { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } }, 4 },
	{ "timesync", { 3, 0 }, { 4, 0 }, { { 4, 0 }, { 3, 0 }, { 1, 0 } }, 3 },
	{ "kvp", { 3, 0 }, { 4, 0 }, { { 4, 0 }, { 3, 0 }, { 1, 0 } }, 3 },
};

static void packet_parts(struct record *rec, struct vsp_packet *pkt)
{
	gsize len;
	const uint8_t *p = g_bytes_get_data(rec->data, &len);
	g_assert_cmpuint(len, >=, sizeof(struct vmbus_packet_desc));
	struct vmbus_packet_desc d;
	memcpy(&d, p, sizeof(d));
	g_assert_cmpuint((size_t)d.offset8 * 8, <=, len);
	*pkt = (struct vsp_packet){
		.type = d.type, .flags = d.flags, .trans_id = d.trans_id,
		.data = p + d.offset8 * 8, .len = len - d.offset8 * 8, .raw = p, .raw_len = len,
	};
}

static void test_ic_packets(gconstpointer name)
{
	g_autoptr(GPtrArray) recs = load(name);
	for (size_t e = 0; e < G_N_ELEMENTS(ic_expects); e++) {
		const struct ic_expect *x = &ic_expects[e];
		struct ic_service svc = { .fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2, .n_msg = x->n_offer };
		memcpy(svc.msg_versions, x->offer, sizeof(x->offer));
		uint64_t last_sent_trans = 0;
		uint16_t last_sent_type = 0;
		uint64_t last_hb_seq = 0;
		unsigned answers = 0;
		for (guint i = 0; i < recs->len; i++) {
			struct record *rec = recs->pdata[i];
			if (!rec->device || !g_str_equal(rec->device, x->device))
				continue;
			struct vsp_packet pkt;
			packet_parts(rec, &pkt);
			struct ic_message m;
			if (g_str_equal(rec->kind, "send")) {
				g_assert_cmpint(ic_parse(pkt.data, pkt.len, &m), ==, 0);
				last_sent_trans = pkt.trans_id;
				last_sent_type = m.type;
				if (m.type == IC_MSGTYPE_NEGOTIATE) {
					svc.state = IC_NEGOTIATING;
					svc.negotiate_trans_id = pkt.trans_id;
				}
				if (m.type == IC_MSGTYPE_HEARTBEAT)
					last_hb_seq = le64_get(m.body);
				continue;
			}
			/* Every guest packet answers the host's last one, echoing its id. */
			g_assert_cmpuint(pkt.trans_id, ==, last_sent_trans);
			int r = ic_receive(&svc, &pkt, &m);
			if (last_sent_type == IC_MSGTYPE_NEGOTIATE) {
				g_assert_cmpint(r, ==, 0);
				g_assert_cmpint(svc.state, ==, IC_READY);
				g_assert_cmpuint(svc.fw.major, ==, x->fw.major);
				g_assert_cmpuint(svc.fw.minor, ==, x->fw.minor);
				g_assert_cmpuint(svc.msg.major, ==, x->msg.major);
				g_assert_cmpuint(svc.msg.minor, ==, x->msg.minor);
			} else {
				g_assert_cmpint(r, ==, 1);
				g_assert_cmpuint(m.type, ==, last_sent_type);
				g_assert_true(m.flags & IC_FLAG_RESPONSE);
				/* KVP ends each pool's enumeration with "no more". */
				if (m.type != IC_MSGTYPE_KVP || m.status != IC_S_CONT)
					g_assert_cmphex(m.status, ==, IC_S_OK);
				if (m.type == IC_MSGTYPE_HEARTBEAT)
					g_assert_cmpuint(le64_get(m.body), ==, last_hb_seq + 1);
			}
			answers++;
		}
		g_test_message("%s: %u guest packets", x->device, answers);
		g_assert_cmpuint(answers, >=, 1);
		g_assert_cmpint(svc.state, ==, IC_READY);
		g_assert_cmpuint(svc.bad_messages, ==, 0);
	}
}

/* The real daemon's answers, through the parser the KVP device uses: every
 * enumerate answer parses, and the auto pool says what the scenario's guest
 * set up (kvp_guest_setup in tests/guest/guest-lib.sh). */
static void test_kvp_answers(gconstpointer name)
{
	g_autoptr(GPtrArray) recs = load(name);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	uint8_t pool = 0;
	uint32_t index = 0;
	bool asked = false;
	unsigned parsed = 0, ends = 0, writes = 0;
	for (guint i = 0; i < recs->len; i++) {
		struct record *rec = recs->pdata[i];
		if (!rec->device || !g_str_equal(rec->device, "kvp"))
			continue;
		struct vsp_packet pkt;
		packet_parts(rec, &pkt);
		struct ic_message m;
		g_assert_cmpint(ic_parse(pkt.data, pkt.len, &m), ==, 0);
		if (m.type != IC_MSGTYPE_KVP)
			continue;
		if (g_str_equal(rec->kind, "send")) {
			g_assert_cmpuint(m.body_len, >=, KVP_HDR_SIZE);
			asked = m.body[0] == KVP_OP_ENUMERATE;
			pool = m.body[1];
			index = le32_get(m.body + 4);
			continue;
		}
		if (!asked) {
			/* The answer to a host write echoes it. */
			g_assert_cmpint(kvp_msg_check_echo(m.body, m.body_len, KVP_OP_SET, KVP_POOL_EXTERNAL), ==, 0);
			g_assert_cmphex(m.status, ==, IC_S_OK);
			writes++;
			continue;
		}
		if (m.status != IC_S_OK) {
			g_assert_cmphex(m.status, ==, IC_S_CONT);
			ends++;
			continue;
		}
		struct kvp_entry e;
		g_assert_cmpint(kvp_msg_parse_enumerate(m.body, m.body_len, pool, index, &e), ==, 0);
		if (pool == KVP_POOL_AUTO)
			g_hash_table_replace(seen, g_strdup(e.key), g_strdup(e.value));
		parsed++;
	}
	g_test_message("%u entries, %u pool ends, %u host writes", parsed, ends, writes);
	g_assert_cmpuint(writes, >=, 1);
	g_assert_cmpuint(ends, >=, 2);
	g_assert_cmpstr(g_hash_table_lookup(seen, "FullyQualifiedDomainName"), ==, "vireo-guest.vireo.test");
	g_assert_cmpstr(g_hash_table_lookup(seen, "NetworkAddressIPv4"), ==, "10.0.2.15");
	g_assert_cmpstr(g_hash_table_lookup(seen, "OSName"), ==, "Vireo test guest");
	g_assert_cmpstr(g_hash_table_lookup(seen, "ProcessorArchitecture"), ==, "x86_64");
	g_assert_cmpuint(g_hash_table_size(seen), ==, 10);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/vmbus-recorded/linux61-ic/messages", "linux61-ic.trace", test_messages);
	g_test_add_data_func("/vmbus-recorded/linux61-ic/ic-packets", "linux61-ic.trace", test_ic_packets);
	g_test_add_data_func("/vmbus-recorded/linux61-ic/kvp-answers", "linux61-ic.trace", test_kvp_answers);
	return g_test_run();
}
