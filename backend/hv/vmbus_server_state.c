// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMBus server's saved state: the connection, every channel (its state,
 * target VP, open info and ring GPADL), every GPADL and the replies still
 * owed. Restoring puts a freshly made server, whose devices offered the
 * same channels in the same order, back where the saved one was, without
 * a message to the guest and without the devices' open callbacks: the VSP
 * bus maps the open channels' rings itself (vsp_bus_restore).
 */
#include <errno.h>
#include <string.h>

#include "hv/saved_state.h"
#include "hv/vmbus_proto.h"
#include "vmbus_server_priv.h"

GVariant *vmbus_server_save(struct vmbus_server *s)
{
	g_rec_mutex_lock(&s->lock);
	GVariantBuilder ch;
	g_variant_builder_init(&ch, G_VARIANT_TYPE("a(uayayqubuuuuay)"));
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++) {
		const struct vmbus_channel *c = s->channels[relid];
		if (!c)
			continue;
		bool open = c->state == VMBUS_CHANNEL_OPEN;
		g_variant_builder_add(&ch, "(u@ay@ayqubuuuu@ay)", c->relid,
				      saved_state_blob(c->desc.type.b, sizeof(c->desc.type.b)),
				      saved_state_blob(c->desc.instance.b, sizeof(c->desc.instance.b)),
				      c->desc.sub_channel_index, (guint32)c->state, c->rescinded,
				      (guint32)__atomic_load_n(&c->target_vp, __ATOMIC_ACQUIRE), open ? c->openid : 0,
				      open && c->ring ? gpadl_id(c->ring) : 0, open ? c->ring_offset : 0,
				      saved_state_blob(c->userdata, open ? sizeof(c->userdata) : 0));
	}
	GVariantBuilder out;
	g_variant_builder_init(&out, G_VARIANT_TYPE("a(uay)"));
	for (GList *l = s->outbox.head; l; l = l->next) {
		const struct vmbus_outmsg *m = l->data;
		g_variant_builder_add(&out, "(u@ay)", m->vp, saved_state_blob(m->data, m->len));
	}
	GVariant *v = g_variant_new("(bubuttt@a(uayayqubuuuuay)@" GPADL_TABLE_STATE_TYPE "@a(uay))", s->connected,
				    s->version, s->offers_sent, s->target_vp, s->interrupt_page, s->monitor_page1,
				    s->monitor_page2, g_variant_builder_end(&ch), gpadl_table_save(s->gpadls),
				    g_variant_builder_end(&out));
	g_rec_mutex_unlock(&s->lock);
	return v;
}

/* What the saved state says of one channel. */
struct vs_chan {
	uint32_t relid, state, target_vp, openid, ring_id, ring_offset;
	bool rescinded;
	uint8_t userdata[VMBUS_USER_DEFINED_BYTES];
};

static int vs_parse_channel(struct vmbus_server *s, GVariant *c, bool offered, struct vs_chan *out,
			    GError **error)
{
	g_autoptr(GVariant) type = NULL, instance = NULL, userdata = NULL;
	guint16 sub;
	gboolean rescinded;
	struct vs_chan k = { 0 };
	g_variant_get(c, "(u@ay@ayqubuuuu@ay)", &k.relid, &type, &instance, &sub, &k.state, &rescinded,
		      &k.target_vp, &k.openid, &k.ring_id, &k.ring_offset, &userdata);
	k.rescinded = rescinded;
	const struct vmbus_channel *ch = k.relid >= VMBUS_RELID_MIN && k.relid <= VMBUS_RELID_MAX
					 ? s->channels[k.relid] : NULL;
	if (!ch)
		return saved_state_fail(error, "vmbus: the saved VM had a channel with relid %u, this machine does not",
					k.relid);
	struct vmbus_guid t, i;
	if (saved_state_blob_get(type, t.b, sizeof(t.b), "vmbus: a channel's class", error) < 0 ||
	    saved_state_blob_get(instance, i.b, sizeof(i.b), "vmbus: a channel's instance", error) < 0)
		return -EINVAL;
	if (!vmbus_guid_equal(&t, &ch->desc.type) || !vmbus_guid_equal(&i, &ch->desc.instance) ||
	    sub != ch->desc.sub_channel_index)
		return saved_state_fail(error, "vmbus: relid %u is another device here than in the saved VM", k.relid);
	if (k.state != VMBUS_CHANNEL_IDLE && k.state != VMBUS_CHANNEL_OFFERED && k.state != VMBUS_CHANNEL_OPEN)
		return saved_state_fail(error, "vmbus: relid %u: unknown state %u", k.relid, k.state);
	if (k.state != VMBUS_CHANNEL_IDLE && !offered)
		return saved_state_fail(error, "vmbus: relid %u is offered, but no offers went out", k.relid);
	if (k.rescinded && k.state == VMBUS_CHANNEL_IDLE)
		return saved_state_fail(error, "vmbus: relid %u is rescinded while idle", k.relid);
	if (k.target_vp >= s->nvps)
		return saved_state_fail(error, "vmbus: relid %u targets VP %u of %u", k.relid, k.target_vp, s->nvps);
	size_t ulen = k.state == VMBUS_CHANNEL_OPEN ? sizeof(k.userdata) : 0;
	if (saved_state_blob_get(userdata, k.userdata, ulen, "vmbus: a channel's open data", error) < 0)
		return -EINVAL;
	*out = k;
	return 0;
}

/* An open channel's ring: a ready GPADL of it, split as on_open_channel requires. */
static struct gpadl *vs_ring(struct vmbus_server *s, const struct vs_chan *k, GError **error)
{
	struct gpadl *g = gpadl_table_find(s->gpadls, k->ring_id);
	if (!g || gpadl_relid(g) != k->relid) {
		saved_state_fail(error, "vmbus: relid %u is open on GPADL %#x, which is not one of its GPADLs", k->relid,
				 k->ring_id);
		return NULL;
	}
	uint32_t pages = gpadl_pfn_count(g);
	if (!gpadl_whole_pages(g) || pages < 2 * VMBUS_SERVER_RING_MIN_PAGES ||
	    k->ring_offset < VMBUS_SERVER_RING_MIN_PAGES || k->ring_offset > pages - VMBUS_SERVER_RING_MIN_PAGES) {
		saved_state_fail(error, "vmbus: relid %u: its ring (GPADL %#x, %u pages, split at %u) is unusable",
				 k->relid, k->ring_id, pages, k->ring_offset);
		return NULL;
	}
	return g;
}

static bool vs_fresh(const struct vmbus_server *s)
{
	if (s->connected || gpadl_table_count(s->gpadls) || s->outbox.length)
		return false;
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++)
		if (s->channels[relid] && (s->channels[relid]->state != VMBUS_CHANNEL_IDLE ||
					   s->channels[relid]->rescinded))
			return false;
	return true;
}

static int vs_restore_locked(struct vmbus_server *s, GVariant *v, GError **error)
{
	gboolean connected, offers_sent;
	guint32 version, target_vp;
	guint64 ipage, mon1, mon2;
	g_autoptr(GVariant) chans = NULL, gpadls = NULL, outbox = NULL;
	g_variant_get(v, "(bubuttt@a(uayayqubuuuuay)@" GPADL_TABLE_STATE_TYPE "@a(uay))", &connected, &version,
		      &offers_sent, &target_vp, &ipage, &mon1, &mon2, &chans, &gpadls, &outbox);
	if (!vs_fresh(s))
		return saved_state_fail(error, "vmbus: the server is in use already");
	if (connected && (!vmbus_server_version_known(version) || version > s->max_version))
		return saved_state_fail(error, "vmbus: connected at version %u.%u, which this server does not speak",
					version >> 16, version & 0xffff);
	if (!connected && (version || offers_sent || g_variant_n_children(gpadls) || g_variant_n_children(outbox)))
		return saved_state_fail(error, "vmbus: not connected, yet with a version, offers, GPADLs or replies");
	if (target_vp >= s->nvps)
		return saved_state_fail(error, "vmbus: the connection targets VP %u of %u", target_vp, s->nvps);

	/* Every channel of this machine exactly once, in relid order. */
	gsize n = g_variant_n_children(chans);
	if (n != s->nchannels)
		return saved_state_fail(error, "vmbus: the saved VM had %zu channels, this machine offers %u", (size_t)n,
					s->nchannels);
	g_autofree struct vs_chan *k = g_new0(struct vs_chan, n ? n : 1);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) c = g_variant_get_child_value(chans, i);
		if (vs_parse_channel(s, c, connected && offers_sent, &k[i], error) < 0)
			return -EINVAL;
		if (i && k[i].relid <= k[i - 1].relid)
			return saved_state_fail(error, "vmbus: channel relids out of order (%u after %u)", k[i].relid,
						k[i - 1].relid);
	}
	gsize nout = g_variant_n_children(outbox);
	if (nout > VMBUS_SERVER_OUTBOX_MAX)
		return saved_state_fail(error, "vmbus: %zu replies waiting, more than %u", (size_t)nout,
					VMBUS_SERVER_OUTBOX_MAX);
	for (gsize i = 0; i < nout; i++) {
		guint32 vp;
		g_autoptr(GVariant) msg = NULL;
		g_variant_get_child(outbox, i, "(u@ay)", &vp, &msg);
		size_t len;
		(void)saved_state_blob_peek(msg, &len);
		if (vp >= s->nvps || len < sizeof(struct vmbus_msg_header) || len > VMBUS_MSG_PAYLOAD_MAX)
			return saved_state_fail(error, "vmbus: a waiting reply of %zu bytes to VP %u", len, vp);
	}

	gsize ng = g_variant_n_children(gpadls);
	for (gsize i = 0; i < ng; i++) {
		guint32 id, relid;
		g_variant_get_child(gpadls, i, "(uuubqq@ay)", &id, &relid, NULL, NULL, NULL, NULL, NULL);
		if (relid < VMBUS_RELID_MIN || relid > VMBUS_RELID_MAX || !s->channels[relid])
			return saved_state_fail(error, "vmbus: GPADL %#x belongs to relid %u, which is no channel", id,
						relid);
	}
	g_autoptr(GArray) teardowns = NULL;
	if (gpadl_table_restore(s->gpadls, gpadls, &teardowns, error) < 0)
		return -EINVAL;
	int r = 0;
	g_autofree struct gpadl **rings = g_new0(struct gpadl *, n ? n : 1);
	for (gsize i = 0; i < n && r == 0; i++)
		if (k[i].state == VMBUS_CHANNEL_OPEN && !(rings[i] = vs_ring(s, &k[i], error)))
			r = -EINVAL;
	/* A GPADL belongs to a channel of this machine; one whose teardown is
	 * pending is still in use, and only an open channel's ring is. */
	for (guint t = 0; t < teardowns->len && r == 0; t++) {
		const struct gpadl_pending_teardown *p = &g_array_index(teardowns, struct gpadl_pending_teardown, t);
		bool held = false;
		for (gsize i = 0; i < n; i++)
			held = held || (rings[i] && gpadl_id(rings[i]) == p->id);
		if (!held)
			r = saved_state_fail(error, "vmbus: GPADL %#x is being torn down, but no channel uses it", p->id);
	}
	for (gsize i = 0; i < n && r == 0; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (rings[i] && rings[j] && rings[i] == rings[j])
				r = saved_state_fail(error, "vmbus: relids %u and %u share GPADL %#x", k[i].relid,
						     k[j].relid, k[i].ring_id);
	if (r < 0) {
		gpadl_table_clear(s->gpadls);
		return r;
	}

	/* All checked: nothing below fails. */
	s->connected = connected;
	s->version = version;
	s->offers_sent = offers_sent;
	s->target_vp = target_vp;
	s->interrupt_page = ipage;
	s->monitor_page1 = mon1;
	s->monitor_page2 = mon2;
	for (gsize i = 0; i < n; i++) {
		struct vmbus_channel *ch = s->channels[k[i].relid];
		ch->state = k[i].state;
		ch->rescinded = k[i].rescinded;
		__atomic_store_n(&ch->target_vp, k[i].target_vp, __ATOMIC_RELEASE);
		if (ch->state == VMBUS_CHANNEL_OPEN) {
			gpadl_hold(rings[i]);
			ch->ring = rings[i];
			ch->ring_offset = k[i].ring_offset;
			ch->openid = k[i].openid;
			memcpy(ch->userdata, k[i].userdata, sizeof(ch->userdata));
		}
	}
	for (guint t = 0; t < teardowns->len; t++) {
		const struct gpadl_pending_teardown *p = &g_array_index(teardowns, struct gpadl_pending_teardown, t);
		(void)gpadl_table_teardown(s->gpadls, p->id, p->answer);   /* held: -EBUSY, the answer waits */
	}
	for (gsize i = 0; i < nout; i++) {
		guint32 vp;
		g_autoptr(GVariant) msg = NULL;
		g_variant_get_child(outbox, i, "(u@ay)", &vp, &msg);
		size_t len;
		const uint8_t *p = saved_state_blob_peek(msg, &len);
		struct vmbus_outmsg *m = g_malloc(sizeof(*m) + len);
		m->vp = vp;
		m->len = len;
		memcpy(m->data, p, len);
		g_queue_push_tail(&s->outbox, m);
	}
	return 0;
}

int vmbus_server_restore(struct vmbus_server *s, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, VMBUS_SERVER_STATE_TYPE, "vmbus", error) < 0)
		return -EINVAL;
	g_rec_mutex_lock(&s->lock);
	int r = vs_restore_locked(s, v, error);
	g_rec_mutex_unlock(&s->lock);
	return r;
}
