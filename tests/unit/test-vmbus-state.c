// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMBus server's saved state (vmbus_server_state.c, with its GPADL
 * table): a guest connects, opens a channel on a ring GPADL, asks to tear
 * that ring down while it is open, leaves another GPADL half built and a
 * reply waiting for the SynIC. A new server restored from the saved state
 * carries on from there as the old one would have: the waiting reply goes
 * out, the half-built GPADL completes with its last body, closing the
 * channel answers the pending teardown. Then malformed states, each
 * refused with its reason and leaving the server untouched.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/gpadl.h"
#include "hv/hyperv_tlfs.h"
#include "hv/saved_state.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_server.h"
#include "state-util.h"

#define NVPS 2u

struct rig {
	struct vmbus_server *s;
	struct vmbus_channel *ch[2];
	GQueue posted;               /* GBytes */
	bool full;                   /* post_to_guest says the SynIC is full */
	unsigned opens, closes;
};

static int rig_post(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct rig *r = opaque;
	if (r->full)
		return -ENOBUFS;
	g_queue_push_tail(&r->posted, g_bytes_new(msg, len));
	return 0;
}

static int rig_open(void *opaque, struct vmbus_channel *ch)
{
	((struct rig *)opaque)->opens++;
	return 0;
}

static void rig_close(void *opaque, struct vmbus_channel *ch)
{
	((struct rig *)opaque)->closes++;
}

static const struct vmbus_server_ops rig_ops = {
	.post_to_guest = rig_post,
	.channel_open = rig_open,
	.channel_close = rig_close,
};

static const struct vmbus_guid class_a = VMBUS_GUID_INIT(0x11111111, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
static const struct vmbus_guid class_b = VMBUS_GUID_INIT(0x22222222, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
static const struct vmbus_guid inst_a = VMBUS_GUID_INIT(0xaaaaaaaa, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3);
static const struct vmbus_guid inst_b = VMBUS_GUID_INIT(0xbbbbbbbb, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4);

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	g_queue_init(&r->posted);
	struct vmbus_server_config cfg = { .nvps = NVPS };
	r->s = vmbus_server_new(&cfg, &rig_ops, r);
	g_assert_nonnull(r->s);
	struct vmbus_channel_desc da = { .type = class_a, .instance = inst_a };
	struct vmbus_channel_desc db = { .type = class_b, .instance = inst_b };
	g_assert_cmpint(vmbus_server_add_channel(r->s, &da, &r->ch[0]), ==, 0);
	g_assert_cmpint(vmbus_server_add_channel(r->s, &db, &r->ch[1]), ==, 0);
}

static void rig_clear(struct rig *r)
{
	vmbus_server_free(r->s);
	g_queue_clear_full(&r->posted, (GDestroyNotify)g_bytes_unref);
}

static unsigned rig_post_msg(struct rig *r, const void *m, size_t len)
{
	return vmbus_server_handle_post(r->s, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_HV_MESSAGE_TYPE, m, len);
}

/* The oldest reply, of this type (removed), or fail. */
static GBytes *rig_take(struct rig *r, uint32_t type)
{
	GBytes *b = g_queue_pop_head(&r->posted);
	g_assert_nonnull(b);
	uint32_t t;
	memcpy(&t, g_bytes_get_data(b, NULL), 4);
	g_assert_cmpuint(t, ==, type);
	return b;
}

/* A GPADL of npfns pages (PFNs from first), whole pages, as one range;
 * only the first `carried` PFNs in the header (the rest need bodies). */
static unsigned rig_gpadl(struct rig *r, uint32_t relid, uint32_t id, unsigned npfns, uint64_t first, unsigned carried)
{
	uint8_t m[VMBUS_MSG_PAYLOAD_MAX] = { 0 };
	struct vmbus_msg_gpadl_header h = { .header.msgtype = VMBUS_MSG_GPADL_HEADER, .child_relid = relid, .gpadl = id,
					    .range_buflen = (uint16_t)(8 + 8 * npfns), .rangecount = 1 };
	memcpy(m, &h, sizeof(h));
	struct vmbus_gpa_range rg = { .byte_count = npfns * 4096u, .byte_offset = 0 };
	memcpy(m + sizeof(h), &rg, sizeof(rg));
	for (unsigned i = 0; i < carried; i++) {
		uint64_t pfn = first + i;
		memcpy(m + sizeof(h) + sizeof(rg) + 8 * i, &pfn, 8);
	}
	return rig_post_msg(r, m, sizeof(h) + sizeof(rg) + 8 * carried);
}

static GVariant *rig_setup_and_save(struct rig *r)
{
	struct vmbus_msg_initiate_contact ic = { .header.msgtype = VMBUS_MSG_INITIATE_CONTACT,
						 .vmbus_version_requested = VMBUS_VERSION_WIN10, .target_vcpu = 1,
						 .monitor_page1 = 0x5000, .monitor_page2 = 0x6000 };
	g_assert_cmpuint(rig_post_msg(r, &ic, sizeof(ic)), ==, HV_STATUS_SUCCESS);
	struct vmbus_msg_header ro = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	g_assert_cmpuint(rig_post_msg(r, &ro, sizeof(ro)), ==, HV_STATUS_SUCCESS);
	/* The ring of channel 1, another buffer of it, and a GPADL of channel 2
	 * that waits for its body. */
	g_assert_cmpuint(rig_gpadl(r, 1, 0x100, 4, 10, 4), ==, HV_STATUS_SUCCESS);
	g_assert_cmpuint(rig_gpadl(r, 1, 0x101, 2, 20, 2), ==, HV_STATUS_SUCCESS);
	g_assert_cmpuint(rig_gpadl(r, 2, 0x200, 30, 100, 26), ==, HV_STATUS_SUCCESS);
	struct vmbus_msg_open_channel op = { .header.msgtype = VMBUS_MSG_OPENCHANNEL, .child_relid = 1, .openid = 7,
					     .ringbuffer_gpadlhandle = 0x100, .target_vp = 1,
					     .downstream_ringbuffer_pageoffset = 2 };
	memcpy(op.userdata, "hello", 5);
	g_assert_cmpuint(rig_post_msg(r, &op, sizeof(op)), ==, HV_STATUS_SUCCESS);
	g_assert_cmpuint(r->opens, ==, 1);
	/* Tearing down the ring of an open channel: answered at its close. */
	struct vmbus_msg_gpadl_teardown td = { .header.msgtype = VMBUS_MSG_GPADL_TEARDOWN, .child_relid = 1,
					       .gpadl = 0x100 };
	g_assert_cmpuint(rig_post_msg(r, &td, sizeof(td)), ==, HV_STATUS_SUCCESS);
	/* A teardown answered at once, but the SynIC is full: the reply waits. */
	r->full = true;
	td.gpadl = 0x101;
	g_assert_cmpuint(rig_post_msg(r, &td, sizeof(td)), ==, HV_STATUS_SUCCESS);
	struct vmbus_server_state st;
	vmbus_server_get_state(r->s, &st);
	g_assert_cmpuint(st.queued, ==, 1);
	g_assert_cmpuint(st.gpadls, ==, 2);
	g_assert_cmpuint(st.open_channels, ==, 1);
	return g_variant_ref_sink(vmbus_server_save(r->s));
}

static void test_round_trip(void)
{
	struct rig a, b;
	rig_init(&a);
	g_autoptr(GVariant) v = rig_setup_and_save(&a);
	g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE(VMBUS_SERVER_STATE_TYPE)));

	rig_init(&b);
	b.full = true;
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(vmbus_server_restore(b.s, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpuint(b.opens, ==, 0);         /* the device's open is not called again */
	g_autoptr(GVariant) again = g_variant_ref_sink(vmbus_server_save(b.s));
	if (!g_variant_equal(v, again)) {
		g_autofree char *x = g_variant_print(v, FALSE), *y = g_variant_print(again, FALSE);
		g_error("saved %s\nrestored %s", x, y);
	}
	struct vmbus_channel_info info;
	g_assert_cmpint(vmbus_server_channel_info(b.s, b.ch[0], &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OPEN);
	g_assert_cmpuint(info.openid, ==, 7);
	g_assert_cmpuint(info.ring_gpadl_id, ==, 0x100);
	g_assert_cmpuint(info.downstream_offset, ==, 2);
	g_assert_cmpuint(info.target_vp, ==, 1);
	g_assert_cmpuint(vmbus_server_channel_target_vp(b.ch[0]), ==, 1);
	g_assert_cmpmem(info.userdata, 5, "hello", 5);
	g_assert_nonnull(info.ring);
	g_assert_cmpuint(gpadl_pfn_count(info.ring), ==, 4);
	uint64_t pfns[4];
	g_assert_cmpint(gpadl_pages(info.ring, 0, 4, pfns), ==, 0);
	g_assert_cmpuint(pfns[0], ==, 10);
	g_assert_cmpuint(pfns[3], ==, 13);
	g_assert_cmpint(vmbus_server_channel_info(b.s, b.ch[1], &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OFFERED);

	/* The reply that waited goes out once the SynIC has room. */
	b.full = false;
	vmbus_server_flush(b.s);
	g_autoptr(GBytes) torn1 = rig_take(&b, VMBUS_MSG_GPADL_TORNDOWN);
	const struct vmbus_msg_gpadl_torndown *t1 = g_bytes_get_data(torn1, NULL);
	g_assert_cmpuint(t1->gpadl, ==, 0x101);
	/* The half-built GPADL takes its last four PFNs. */
	uint8_t body[16 + 4 * 8] = { 0 };
	struct vmbus_msg_gpadl_body bh = { .header.msgtype = VMBUS_MSG_GPADL_BODY, .gpadl = 0x200 };
	memcpy(body, &bh, sizeof(bh));
	for (unsigned i = 0; i < 4; i++) {
		uint64_t pfn = 126 + i;
		memcpy(body + 16 + 8 * i, &pfn, 8);
	}
	g_assert_cmpuint(rig_post_msg(&b, body, sizeof(body)), ==, HV_STATUS_SUCCESS);
	g_autoptr(GBytes) created = rig_take(&b, VMBUS_MSG_GPADL_CREATED);
	const struct vmbus_msg_gpadl_created *c = g_bytes_get_data(created, NULL);
	g_assert_cmpuint(c->child_relid, ==, 2);
	g_assert_cmpuint(c->gpadl, ==, 0x200);
	g_assert_cmpuint(c->creation_status, ==, VMBUS_STATUS_SUCCESS);
	/* Closing the channel ends its use of the ring: the teardown is answered. */
	struct vmbus_msg_close_channel cl = { .header.msgtype = VMBUS_MSG_CLOSECHANNEL, .child_relid = 1 };
	g_assert_cmpuint(rig_post_msg(&b, &cl, sizeof(cl)), ==, HV_STATUS_SUCCESS);
	g_assert_cmpuint(b.closes, ==, 1);
	g_autoptr(GBytes) torn0 = rig_take(&b, VMBUS_MSG_GPADL_TORNDOWN);
	const struct vmbus_msg_gpadl_torndown *t0 = g_bytes_get_data(torn0, NULL);
	g_assert_cmpuint(t0->gpadl, ==, 0x100);
	struct vmbus_server_state st;
	vmbus_server_get_state(b.s, &st);
	g_assert_true(st.connected);
	g_assert_cmpuint(st.version, ==, VMBUS_VERSION_WIN10);
	g_assert_cmpuint(st.target_vp, ==, 1);
	g_assert_cmpuint(st.gpadls, ==, 1);
	g_assert_cmpuint(st.open_channels, ==, 0);
	g_assert_cmpuint(st.queued, ==, 0);
	rig_clear(&b);

	/* A server that was never connected saves and restores too. */
	struct rig f, g;
	rig_init(&f);
	rig_init(&g);
	g_autoptr(GVariant) fresh = g_variant_ref_sink(vmbus_server_save(f.s));
	g_assert_cmpint(vmbus_server_restore(g.s, fresh, &e), ==, 0);
	vmbus_server_get_state(g.s, &st);
	g_assert_false(st.connected);
	rig_clear(&f);
	rig_clear(&g);
	rig_clear(&a);
}

/* Indexes into VMBUS_SERVER_STATE_TYPE. */
enum { S_CONNECTED, S_VERSION, S_OFFERS, S_TARGET, S_IPAGE, S_MON1, S_MON2, S_CHANNELS, S_GPADLS, S_OUTBOX };
enum { C_RELID, C_TYPE, C_INSTANCE, C_SUB, C_STATE, C_RESCINDED, C_VP, C_OPENID, C_RING, C_OFFSET, C_USER };
enum { G_ID, G_RELID, G_STATE, G_ANSWER, G_RANGES, G_BUFLEN, G_RAW };

static void test_malformed(void)
{
	struct rig a, c;
	rig_init(&a);
	g_autoptr(GVariant) v = rig_setup_and_save(&a);
	rig_init(&c);
	g_autoptr(GError) e = NULL;
	g_autoptr(GVariant) chans = g_variant_ref_sink(state_at(v, PATH(S_CHANNELS)));
	uint8_t junk[512] = { 0 };
	struct {
		const int *path;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ PATH(S_CHANNELS, 0, C_RELID), g_variant_new_uint32(5), "relid 5, this machine does not" },
		{ PATH(S_CHANNELS, 0, C_TYPE), saved_state_blob(class_b.b, 16), "relid 1 is another device" },
		{ PATH(S_CHANNELS, 0, C_INSTANCE), saved_state_blob(class_b.b, 15), "instance: 15 bytes" },
		{ PATH(S_CHANNELS, 1, C_STATE), g_variant_new_uint32(9), "unknown state 9" },
		{ PATH(S_CHANNELS, 0, C_VP), g_variant_new_uint32(9), "targets VP 9 of 2" },
		{ PATH(S_CHANNELS, 0, C_RING), g_variant_new_uint32(0x999), "not one of its GPADLs" },
		{ PATH(S_CHANNELS, 0, C_RING), g_variant_new_uint32(0x200), "not one of its GPADLs" },
		{ PATH(S_CHANNELS, 0, C_OFFSET), g_variant_new_uint32(1), "unusable" },
		{ PATH(S_CHANNELS, 0, C_OFFSET), g_variant_new_uint32(3), "unusable" },
		{ PATH(S_CHANNELS, 0, C_USER), saved_state_blob(junk, 3), "open data: 3 bytes" },
		{ PATH(S_CHANNELS, 1, C_RESCINDED), g_variant_new_boolean(TRUE), "" },
		{ PATH(S_VERSION), g_variant_new_uint32(0x12345), "does not speak" },
		{ PATH(S_TARGET), g_variant_new_uint32(2), "targets VP 2 of 2" },
		{ PATH(S_CONNECTED), g_variant_new_boolean(FALSE), "not connected, yet" },
		{ PATH(S_OFFERS), g_variant_new_boolean(FALSE), "no offers went out" },
		{ PATH(S_GPADLS, 0, G_STATE), g_variant_new_uint32(7), "unknown state 7" },
		{ PATH(S_GPADLS, 1, G_RELID), g_variant_new_uint32(9), "belongs to relid 9" },
		{ PATH(S_GPADLS, 1, G_ID), g_variant_new_uint32(0x100), "GPADL 0x100 of relid 2 refused" },
		{ PATH(S_GPADLS, 1, G_ANSWER), g_variant_new_boolean(TRUE), "owes a teardown answer" },
		{ PATH(S_GPADLS, 0, G_RAW), saved_state_blob(junk, 24), "when complete" },
		{ PATH(S_GPADLS, 1, G_RAW), saved_state_blob(junk, 248), "while being built" },
		{ PATH(S_GPADLS, 0, G_RANGES), g_variant_new_uint16(0), "refused" },
		{ PATH(S_OUTBOX, 0, 1), saved_state_blob(junk, VMBUS_MSG_PAYLOAD_MAX + 1), "241 bytes" },
		{ PATH(S_OUTBOX, 0, 1), saved_state_blob(junk, 4), "4 bytes" },
		{ PATH(S_OUTBOX, 0, 0), g_variant_new_uint32(2), "to VP 2" },
		{ PATH(S_CHANNELS), state_without(chans, 1), "had 1 channels, this machine offers 2" },
		{ PATH(S_CHANNELS), state_append(chans, g_variant_get_child_value(chans, 1)), "had 3 channels" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_set(v, bad[i].path, bad[i].value));
		int r = vmbus_server_restore(c.s, m, &e);
		if (!*bad[i].needle) {
			/* A rescinded channel that was offered: as good as any. */
			g_assert_cmpint(r, ==, 0);
			rig_clear(&c);
			rig_init(&c);
			continue;
		}
		assert_refused(r, e, bad[i].needle);
		struct vmbus_server_state st;
		vmbus_server_get_state(c.s, &st);
		g_assert_false(st.connected);
		g_assert_cmpuint(st.gpadls, ==, 0);
		g_assert_cmpuint(st.queued, ==, 0);
		g_assert_cmpuint(st.open_channels, ==, 0);
	}
	/* The ring's teardown is pending, but its channel is not open: nothing
	 * would ever answer it. */
	g_autoptr(GVariant) closed1 = g_variant_ref_sink(state_set(v, PATH(S_CHANNELS, 0, C_STATE),
								   g_variant_new_uint32(VMBUS_CHANNEL_OFFERED)));
	g_autoptr(GVariant) closed = g_variant_ref_sink(state_set(closed1, PATH(S_CHANNELS, 0, C_USER),
								  saved_state_blob(NULL, 0)));
	int r = vmbus_server_restore(c.s, closed, &e);
	assert_refused(r, e, "no channel uses it");
	/* Channels out of order. */
	GVariant *swapped[2] = { g_variant_get_child_value(chans, 1), g_variant_get_child_value(chans, 0) };
	g_autoptr(GVariant) m1 = g_variant_ref_sink(state_with(v, S_CHANNELS,
							       g_variant_new_array(NULL, swapped, 2)));
	g_variant_unref(swapped[0]);
	g_variant_unref(swapped[1]);
	r = vmbus_server_restore(c.s, m1, &e);
	assert_refused(r, e, "out of order");
	/* More waiting replies than the server keeps. */
	g_autoptr(GVariant) out = g_variant_ref_sink(state_at(v, PATH(S_OUTBOX)));
	GVariant *many = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("(uay)"), NULL, 0));
	for (unsigned i = 0; i <= VMBUS_SERVER_OUTBOX_MAX; i++) {
		GVariant *next = g_variant_ref_sink(state_append(many, g_variant_get_child_value(out, 0)));
		g_variant_unref(many);
		many = next;
	}
	g_autoptr(GVariant) m2 = g_variant_ref_sink(state_with(v, S_OUTBOX, many));
	r = vmbus_server_restore(c.s, m2, &e);
	assert_refused(r, e, "replies waiting, more than");
	/* Another type; a server in use already. */
	g_autoptr(GVariant) wrong = g_variant_ref_sink(g_variant_new("(b)", TRUE));
	r = vmbus_server_restore(c.s, wrong, &e);
	assert_refused(r, e, "vmbus: of type (b)");
	g_assert_cmpint(vmbus_server_restore(c.s, v, &e), ==, 0);
	r = vmbus_server_restore(c.s, v, &e);
	assert_refused(r, e, "in use already");
	rig_clear(&c);
	rig_clear(&a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmbus-state/round-trip", test_round_trip);
	g_test_add_func("/vmbus-state/malformed", test_malformed);
	return g_test_run();
}
