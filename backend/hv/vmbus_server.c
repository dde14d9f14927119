// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/gpadl.h"
#include "hv/hyperv_tlfs.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_server.h"
#include "vmbus_server_priv.h"

_Static_assert(VMBUS_MSG_PAYLOAD_MAX == HV_MESSAGE_PAYLOAD_MAX, "one payload limit");
_Static_assert((VMBUS_CHANNEL_CONNECTION_BASE | VMBUS_RELID_MAX) <= VMBUS_CONNECTION_ID_MASK &&
	       (VMBUS_CHANNEL_CONNECTION_BASE & VMBUS_RELID_MAX) == 0,
	       "channel connection ids are 24-bit and distinct per relid");

static const uint32_t vmbus_versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2, VMBUS_VERSION_WIN10_V5_1,
	VMBUS_VERSION_WIN10_V5, VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10,
	VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8,
};

bool vmbus_server_version_known(uint32_t v)
{
	for (size_t i = 0; i < G_N_ELEMENTS(vmbus_versions); i++)
		if (vmbus_versions[i] == v)
			return true;
	return false;
}

/* ---- outbox ---- */

static void outbox_flush(struct vmbus_server *s)
{
	if (s->flushing)
		return;
	s->flushing = true;
	struct vmbus_outmsg *m;
	while ((m = g_queue_peek_head(&s->outbox))) {
		int r = s->ops->post_to_guest(s->opaque, m->vp, m->data, m->len);
		if (r == -ENOBUFS || r == -EAGAIN)
			break;
		if (r < 0)
			g_debug("vmbus: reply type %u to VP %u dropped: %s",
				(unsigned)m->data[0], m->vp, g_strerror(-r));
		g_queue_pop_head(&s->outbox);
		g_free(m);
	}
	s->flushing = false;
}

static void outbox_clear(struct vmbus_server *s)
{
	struct vmbus_outmsg *m;
	while ((m = g_queue_pop_head(&s->outbox)))
		g_free(m);
}

/* Queue a reply to the connection's VP; delivered at the end of the call. */
static void reply(struct vmbus_server *s, const void *msg, size_t len)
{
	g_assert(len >= sizeof(struct vmbus_msg_header) && len <= VMBUS_MSG_PAYLOAD_MAX);
	struct vmbus_outmsg *m = g_malloc(sizeof(*m) + len);
	m->vp = s->target_vp;
	m->len = len;
	memcpy(m->data, msg, len);
	g_queue_push_tail(&s->outbox, m);
}

#define REPLY_INIT(type) { .header = { .msgtype = (type) } }

static void reply_gpadl_created(struct vmbus_server *s, uint32_t relid, uint32_t id, uint32_t status)
{
	struct vmbus_msg_gpadl_created m = REPLY_INIT(VMBUS_MSG_GPADL_CREATED);
	m.child_relid = relid;
	m.gpadl = id;
	m.creation_status = status;
	reply(s, &m, sizeof(m));
}

static void reply_gpadl_torndown(struct vmbus_server *s, uint32_t id)
{
	struct vmbus_msg_gpadl_torndown m = REPLY_INIT(VMBUS_MSG_GPADL_TORNDOWN);
	m.gpadl = id;
	reply(s, &m, sizeof(m));
}

static void reply_open_result(struct vmbus_server *s, uint32_t relid, uint32_t openid, uint32_t status)
{
	struct vmbus_msg_open_result m = REPLY_INIT(VMBUS_MSG_OPENCHANNEL_RESULT);
	m.child_relid = relid;
	m.openid = openid;
	m.status = status;
	reply(s, &m, sizeof(m));
}

static void send_offer(struct vmbus_server *s, struct vmbus_channel *ch)
{
	struct vmbus_msg_offer_channel m = REPLY_INIT(VMBUS_MSG_OFFERCHANNEL);
	m.if_type = ch->desc.type;
	m.if_instance = ch->desc.instance;
	m.chn_flags = ch->desc.flags;
	m.mmio_megabytes = ch->desc.mmio_megabytes;
	memcpy(m.user_def, ch->desc.user_def, sizeof(m.user_def));
	if (ch->desc.flags & VMBUS_CHANNEL_NAMED_PIPE_MODE)
		memcpy(m.user_def, &ch->desc.pipe_mode, sizeof(ch->desc.pipe_mode));
	m.sub_channel_index = ch->desc.sub_channel_index;
	m.child_relid = ch->relid;
	m.monitorid = 0;
	m.monitor_flags = 0;                 /* no MNF: every guest kick is an HvSignalEvent */
	m.interrupt_flags = VMBUS_OFFER_DEDICATED_INTERRUPT;
	m.connection_id = ch->connection_id;
	reply(s, &m, sizeof(m));
	ch->state = VMBUS_CHANNEL_OFFERED;
}

/* ---- channels ---- */

static void set_target_vp(struct vmbus_channel *ch, unsigned vp)
{
	__atomic_store_n(&ch->target_vp, vp, __ATOMIC_RELEASE);
}

static void put_gpadl(struct vmbus_server *s, struct gpadl *g)
{
	uint32_t id = gpadl_id(g);
	if (gpadl_table_release(s->gpadls, g) > 0)
		reply_gpadl_torndown(s, id);
}

static void close_channel(struct vmbus_server *s, struct vmbus_channel *ch)
{
	if (ch->state != VMBUS_CHANNEL_OPEN)
		return;
	if (s->ops->channel_close)
		s->ops->channel_close(s->opaque, ch);
	ch->state = VMBUS_CHANNEL_OFFERED;
	struct gpadl *ring = g_steal_pointer(&ch->ring);
	if (ring)
		put_gpadl(s, ring);
}

static void remove_channel(struct vmbus_server *s, struct vmbus_channel *ch)
{
	close_channel(s, ch);
	gpadl_table_drop_relid(s->gpadls, ch->relid);
	if (s->ops->channel_removed)
		s->ops->channel_removed(s->opaque, ch);
	s->channels[ch->relid] = NULL;
	s->nchannels--;
	g_free(ch);
}

static struct vmbus_channel *channel_by_relid(struct vmbus_server *s, uint32_t relid)
{
	if (relid < VMBUS_RELID_MIN || relid > VMBUS_RELID_MAX)
		return NULL;
	return s->channels[relid];
}

/* The guest knows this channel and may use it. */
static bool channel_usable(const struct vmbus_channel *ch)
{
	return ch && !ch->rescinded && ch->state != VMBUS_CHANNEL_IDLE;
}

static bool channel_ours(struct vmbus_server *s, const struct vmbus_channel *ch)
{
	return ch && ch->relid >= VMBUS_RELID_MIN && ch->relid <= VMBUS_RELID_MAX &&
	       s->channels[ch->relid] == ch;
}

/* Everything back to before INITIATE_CONTACT. */
static void reset_state(struct vmbus_server *s)
{
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++) {
		struct vmbus_channel *ch = s->channels[relid];
		if (!ch)
			continue;
		if (ch->rescinded) {
			remove_channel(s, ch);
			continue;
		}
		close_channel(s, ch);
		ch->state = VMBUS_CHANNEL_IDLE;
		set_target_vp(ch, 0);
	}
	gpadl_table_clear(s->gpadls);
	outbox_clear(s);
	s->connected = false;
	s->version = 0;
	s->offers_sent = false;
	s->interrupt_page = s->monitor_page1 = s->monitor_page2 = 0;
}

/* ---- messages ---- */

#define ST_OK       HV_STATUS_SUCCESS
#define ST_REFUSED  HV_STATUS_INVALID_HYPERCALL_INPUT

static unsigned on_initiate_contact(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_initiate_contact *m = buf;
	(void)len;
	if (m->target_vcpu >= s->nvps) {
		g_debug("vmbus: INITIATE_CONTACT to VP %u of %u refused", m->target_vcpu, s->nvps);
		return HV_STATUS_INVALID_PARAMETER;
	}
	reset_state(s);
	s->target_vp = m->target_vcpu;

	uint32_t v = m->vmbus_version_requested;
	bool ok = vmbus_server_version_known(v) && v <= s->max_version;
	if (ok && v >= VMBUS_VERSION_WIN10_V5 && m->msg_sint != VMBUS_MESSAGE_SINT)
		ok = false;               /* we only deliver to SINT2 */

	struct vmbus_msg_version_response r = REPLY_INIT(VMBUS_MSG_VERSION_RESPONSE);
	r.version_supported = ok;
	r.connection_state = 0;
	if (ok) {
		s->connected = true;
		s->version = v;
		if (v >= VMBUS_VERSION_WIN10_V5) {
			r.msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
		} else {
			s->interrupt_page = m->interrupt_page;
		}
		s->monitor_page1 = m->monitor_page1;
		s->monitor_page2 = m->monitor_page2;
	}
	reply(s, &r, sizeof(r));
	return ST_OK;
}

static unsigned on_request_offers(struct vmbus_server *s, const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	if (s->offers_sent)
		return ST_REFUSED;
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++) {
		struct vmbus_channel *ch = s->channels[relid];
		if (ch && !ch->rescinded && ch->state == VMBUS_CHANNEL_IDLE)
			send_offer(s, ch);
	}
	struct vmbus_msg_header done = { .msgtype = VMBUS_MSG_ALLOFFERS_DELIVERED };
	reply(s, &done, sizeof(done));
	s->offers_sent = true;
	return ST_OK;
}

static unsigned on_gpadl_header(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_gpadl_header *m = buf;
	const uint8_t *ranges = (const uint8_t *)buf + sizeof(*m);
	int r;
	if (!channel_usable(channel_by_relid(s, m->child_relid)))
		r = -ENOENT;
	else
		r = gpadl_table_header(s->gpadls, m->child_relid, m->gpadl, m->rangecount,
				       m->range_buflen, ranges, len - sizeof(*m));
	if (r < 0) {
		g_debug("vmbus: GPADL %#x of relid %u refused: %s", m->gpadl, m->child_relid,
			g_strerror(-r));
		reply_gpadl_created(s, m->child_relid, m->gpadl, VMBUS_STATUS_UNSUCCESSFUL);
	} else if (r > 0) {
		reply_gpadl_created(s, m->child_relid, m->gpadl, VMBUS_STATUS_SUCCESS);
	}
	return ST_OK;
}

static unsigned on_gpadl_body(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_gpadl_body *m = buf;
	uint32_t relid;
	if (gpadl_table_state(s->gpadls, m->gpadl, &relid) != GPADL_STATE_BUILDING) {
		g_debug("vmbus: GPADL_BODY for GPADL %#x not being built", m->gpadl);
		return ST_REFUSED;
	}
	int r = gpadl_table_body(s->gpadls, m->gpadl, (const uint8_t *)buf + sizeof(*m),
				 len - sizeof(*m));
	if (r < 0) {
		g_debug("vmbus: GPADL %#x of relid %u refused: %s", m->gpadl, relid, g_strerror(-r));
		reply_gpadl_created(s, relid, m->gpadl, VMBUS_STATUS_UNSUCCESSFUL);
	} else if (r > 0) {
		reply_gpadl_created(s, relid, m->gpadl, VMBUS_STATUS_SUCCESS);
	}
	return ST_OK;
}

static unsigned on_gpadl_teardown(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_gpadl_teardown *m = buf;
	uint32_t owner;
	(void)len;
	int st = gpadl_table_state(s->gpadls, m->gpadl, &owner);
	if (st < 0 || owner != m->child_relid) {
		/* Nothing to tear down; answer anyway, the guest waits. */
		g_debug("vmbus: teardown of unknown GPADL %#x (relid %u)", m->gpadl, m->child_relid);
		reply_gpadl_torndown(s, m->gpadl);
		return ST_OK;
	}
	int r = gpadl_table_teardown(s->gpadls, m->gpadl, true);
	if (r == 0)
		reply_gpadl_torndown(s, m->gpadl);
	/* -EBUSY: answered at the last release; -EALREADY: that answer is still owed. */
	return ST_OK;
}

static unsigned on_open_channel(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_open_channel *m = buf;
	struct vmbus_channel *ch = channel_by_relid(s, m->child_relid);
	struct gpadl *g = gpadl_table_find(s->gpadls, m->ringbuffer_gpadlhandle);
	const char *why = NULL;
	(void)len;

	if (!channel_usable(ch))
		why = "no such channel";
	else if (ch->state != VMBUS_CHANNEL_OFFERED)
		why = "already open";
	else if (m->target_vp >= s->nvps)
		why = "target VP out of range";
	else if (!g || gpadl_relid(g) != m->child_relid)
		why = "no such ring GPADL";
	else if (!gpadl_whole_pages(g))
		why = "ring GPADL not whole pages";
	else if (m->downstream_ringbuffer_pageoffset < VMBUS_SERVER_RING_MIN_PAGES ||
		 gpadl_pfn_count(g) < VMBUS_SERVER_RING_MIN_PAGES ||
		 m->downstream_ringbuffer_pageoffset > gpadl_pfn_count(g) - VMBUS_SERVER_RING_MIN_PAGES)
		why = "ring split out of range";
	if (why) {
		g_debug("vmbus: OPENCHANNEL relid %u refused: %s", m->child_relid, why);
		reply_open_result(s, m->child_relid, m->openid, VMBUS_STATUS_UNSUCCESSFUL);
		return ST_OK;
	}

	gpadl_hold(g);
	ch->ring = g;
	ch->ring_offset = m->downstream_ringbuffer_pageoffset;
	ch->openid = m->openid;
	memcpy(ch->userdata, m->userdata, sizeof(ch->userdata));
	unsigned old_vp = ch->target_vp;
	set_target_vp(ch, m->target_vp);
	ch->state = VMBUS_CHANNEL_OPEN;

	int r = s->ops->channel_open ? s->ops->channel_open(s->opaque, ch) : 0;
	uint32_t status = r == 0 ? VMBUS_STATUS_SUCCESS : r > 0 ? (uint32_t)r : VMBUS_STATUS_UNSUCCESSFUL;
	if (status != VMBUS_STATUS_SUCCESS && ch->state == VMBUS_CHANNEL_OPEN) {
		g_debug("vmbus: OPENCHANNEL relid %u refused by the device: %#x", ch->relid, status);
		ch->state = VMBUS_CHANNEL_OFFERED;
		set_target_vp(ch, old_vp);
		struct gpadl *ring = g_steal_pointer(&ch->ring);
		put_gpadl(s, ring);
	}
	reply_open_result(s, m->child_relid, m->openid, status);
	return ST_OK;
}

static unsigned on_close_channel(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_close_channel *m = buf;
	struct vmbus_channel *ch = channel_by_relid(s, m->child_relid);
	(void)len;
	if (!ch || ch->state != VMBUS_CHANNEL_OPEN)
		return ST_REFUSED;
	close_channel(s, ch);
	return ST_OK;
}

static unsigned on_relid_released(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_relid_released *m = buf;
	struct vmbus_channel *ch = channel_by_relid(s, m->child_relid);
	(void)len;
	if (ch && ch->rescinded) {
		remove_channel(s, ch);
		return ST_OK;
	}
	if (ch && ch->state == VMBUS_CHANNEL_OFFERED) {
		/* The guest refused the offer: idle until the next connection. */
		gpadl_table_drop_relid(s->gpadls, ch->relid);
		ch->state = VMBUS_CHANNEL_IDLE;
		return ST_OK;
	}
	return ST_REFUSED;
}

static unsigned on_unload(struct vmbus_server *s, const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	unsigned vp = s->target_vp;
	reset_state(s);
	s->target_vp = vp;
	struct vmbus_msg_header r = { .msgtype = VMBUS_MSG_UNLOAD_RESPONSE };
	reply(s, &r, sizeof(r));
	return ST_OK;
}

static unsigned on_tl_connect_request(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_tl_connect_request *m = buf;
	(void)len;
	struct vmbus_guid endpoint = m->guest_endpoint_id, service = m->host_service_id;
	if (s->ops->tl_connect && s->ops->tl_connect(s->opaque, &endpoint, &service) == 0)
		return ST_OK;
	struct vmbus_msg_tl_connect_result r = REPLY_INIT(VMBUS_MSG_TL_CONNECT_RESULT);
	r.endpoint_id = endpoint;
	r.service_id = service;
	r.status = VMBUS_STATUS_CONNECTION_REFUSED;
	reply(s, &r, sizeof(r));
	return ST_OK;
}

static unsigned on_modify_channel(struct vmbus_server *s, const void *buf, size_t len)
{
	const struct vmbus_msg_modify_channel *m = buf;
	struct vmbus_channel *ch = channel_by_relid(s, m->child_relid);
	(void)len;
	bool ok = channel_usable(ch) && ch->state == VMBUS_CHANNEL_OPEN && m->target_vp < s->nvps;
	if (ok)
		set_target_vp(ch, m->target_vp);
	if (s->version >= VMBUS_VERSION_WIN10_V5_3) {
		struct vmbus_msg_modify_channel_response r = REPLY_INIT(VMBUS_MSG_MODIFYCHANNEL_RESPONSE);
		r.child_relid = m->child_relid;
		r.status = ok ? VMBUS_STATUS_SUCCESS : VMBUS_STATUS_UNSUCCESSFUL;
		reply(s, &r, sizeof(r));
		return ST_OK;
	}
	return ok ? ST_OK : ST_REFUSED;
}

struct vmbus_handler {
	size_t min_len;                      /* the guest's struct, without trailing arrays */
	uint32_t min_version;
	unsigned (*fn)(struct vmbus_server *s, const void *buf, size_t len);
};

static const struct vmbus_handler vmbus_handlers[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_REQUESTOFFERS] = { sizeof(struct vmbus_msg_header), 0, on_request_offers },
	[VMBUS_MSG_OPENCHANNEL] = { sizeof(struct vmbus_msg_open_channel), 0, on_open_channel },
	[VMBUS_MSG_CLOSECHANNEL] = { sizeof(struct vmbus_msg_close_channel), 0, on_close_channel },
	/* A header carries at least the first range's {byte_count, byte_offset}. */
	[VMBUS_MSG_GPADL_HEADER] = { sizeof(struct vmbus_msg_gpadl_header) + sizeof(struct vmbus_gpa_range),
				     0, on_gpadl_header },
	[VMBUS_MSG_GPADL_BODY] = { sizeof(struct vmbus_msg_gpadl_body), 0, on_gpadl_body },
	[VMBUS_MSG_GPADL_TEARDOWN] = { sizeof(struct vmbus_msg_gpadl_teardown), 0, on_gpadl_teardown },
	[VMBUS_MSG_RELID_RELEASED] = { sizeof(struct vmbus_msg_relid_released), 0, on_relid_released },
	[VMBUS_MSG_INITIATE_CONTACT] = { sizeof(struct vmbus_msg_initiate_contact), 0, on_initiate_contact },
	[VMBUS_MSG_UNLOAD] = { sizeof(struct vmbus_msg_header), 0, on_unload },
	[VMBUS_MSG_TL_CONNECT_REQUEST] = { sizeof(struct vmbus_msg_tl_connect_request),
					   VMBUS_VERSION_WIN10, on_tl_connect_request },
	[VMBUS_MSG_MODIFYCHANNEL] = { sizeof(struct vmbus_msg_modify_channel),
				      VMBUS_VERSION_WIN10_V4_1, on_modify_channel },
};

static unsigned dispatch(struct vmbus_server *s, const uint8_t *buf, size_t len)
{
	uint32_t type;
	if (len < sizeof(struct vmbus_msg_header))
		return ST_REFUSED;
	memcpy(&type, buf, sizeof(type));
	const struct vmbus_handler *h = type < VMBUS_MSG_COUNT ? &vmbus_handlers[type] : NULL;
	if (!h || !h->fn) {
		g_debug("vmbus: message type %u refused", type);
		return ST_REFUSED;
	}
	if (len < h->min_len) {
		g_debug("vmbus: message type %u too short (%zu)", type, len);
		return ST_REFUSED;
	}
	if (type != VMBUS_MSG_INITIATE_CONTACT && (!s->connected || s->version < h->min_version)) {
		g_debug("vmbus: message type %u not valid now", type);
		return ST_REFUSED;
	}
	return h->fn(s, buf, len);
}

/* ---- entry points ---- */

struct vmbus_server *vmbus_server_new(const struct vmbus_server_config *cfg,
				      const struct vmbus_server_ops *ops, void *opaque)
{
	if (!cfg || !ops || !ops->post_to_guest || cfg->nvps == 0)
		return NULL;
	uint32_t max = cfg->max_version ? cfg->max_version : VMBUS_VERSION_MAX;
	if (!vmbus_server_version_known(max))
		return NULL;
	struct vmbus_server *s = g_new0(struct vmbus_server, 1);
	g_rec_mutex_init(&s->lock);
	s->ops = ops;
	s->opaque = opaque;
	s->nvps = cfg->nvps;
	s->max_version = max;
	s->gpadls = gpadl_table_new(&cfg->gpadl);
	g_queue_init(&s->outbox);
	return s;
}

void vmbus_server_free(struct vmbus_server *s)
{
	if (!s)
		return;
	g_rec_mutex_lock(&s->lock);
	reset_state(s);
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++)
		if (s->channels[relid])
			remove_channel(s, s->channels[relid]);
	outbox_clear(s);
	gpadl_table_free(s->gpadls);
	g_rec_mutex_unlock(&s->lock);
	g_rec_mutex_clear(&s->lock);
	g_free(s);
}

int vmbus_server_add_channel(struct vmbus_server *s, const struct vmbus_channel_desc *desc,
			     struct vmbus_channel **out)
{
	if (!s || !desc || !out)
		return -EINVAL;
	g_rec_mutex_lock(&s->lock);
	int r = -ENOSPC;
	uint32_t free_relid = 0;
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++) {
		struct vmbus_channel *ch = s->channels[relid];
		if (!ch) {
			if (!free_relid)
				free_relid = relid;
			continue;
		}
		if (vmbus_guid_equal(&ch->desc.type, &desc->type) &&
		    vmbus_guid_equal(&ch->desc.instance, &desc->instance) &&
		    ch->desc.sub_channel_index == desc->sub_channel_index) {
			r = -EEXIST;
			goto out;
		}
	}
	if (!free_relid)
		goto out;
	struct vmbus_channel *ch = g_new0(struct vmbus_channel, 1);
	ch->server = s;
	ch->desc = *desc;
	ch->relid = free_relid;
	ch->connection_id = VMBUS_CHANNEL_CONNECTION_BASE | free_relid;
	ch->state = VMBUS_CHANNEL_IDLE;
	s->channels[free_relid] = ch;
	s->nchannels++;
	if (s->connected && s->offers_sent) {
		send_offer(s, ch);
		outbox_flush(s);
	}
	*out = ch;
	r = 0;
out:
	g_rec_mutex_unlock(&s->lock);
	return r;
}

int vmbus_server_rescind(struct vmbus_server *s, struct vmbus_channel *ch)
{
	if (!s)
		return -EINVAL;
	g_rec_mutex_lock(&s->lock);
	int r = 0;
	if (!channel_ours(s, ch)) {
		r = -EINVAL;
	} else if (ch->rescinded) {
		r = -EALREADY;
	} else if (ch->state == VMBUS_CHANNEL_IDLE) {
		remove_channel(s, ch);
	} else {
		struct vmbus_msg_rescind_offer m = REPLY_INIT(VMBUS_MSG_RESCIND_CHANNELOFFER);
		m.child_relid = ch->relid;
		ch->rescinded = true;
		reply(s, &m, sizeof(m));
		outbox_flush(s);
	}
	g_rec_mutex_unlock(&s->lock);
	return r;
}

unsigned vmbus_server_handle_post(struct vmbus_server *s, uint32_t conn_id, uint32_t message_type,
				  const void *payload, size_t len)
{
	if (!s)
		return HV_STATUS_INVALID_CONNECTION_ID;
	conn_id &= VMBUS_CONNECTION_ID_MASK;
	if (conn_id != VMBUS_MESSAGE_CONNECTION_ID &&
	    !(conn_id == VMBUS_MESSAGE_CONNECTION_ID_4 && s->max_version >= VMBUS_VERSION_WIN10_V5))
		return HV_STATUS_INVALID_CONNECTION_ID;
	if (message_type != VMBUS_HV_MESSAGE_TYPE || len > VMBUS_MSG_PAYLOAD_MAX)
		return HV_STATUS_INVALID_PARAMETER;
	if (len && !payload)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;

	/* One read of the guest's bytes, zero-padded so every struct fits. */
	_Alignas(8) uint8_t buf[VMBUS_MSG_PAYLOAD_MAX] = { 0 };
	if (len)
		memcpy(buf, payload, len);

	g_rec_mutex_lock(&s->lock);
	outbox_flush(s);
	unsigned status;
	if (g_queue_get_length(&s->outbox) >= VMBUS_SERVER_OUTBOX_MAX) {
		status = HV_STATUS_INSUFFICIENT_BUFFERS;
	} else {
		status = dispatch(s, buf, len);
		outbox_flush(s);
	}
	g_rec_mutex_unlock(&s->lock);
	return status;
}

unsigned vmbus_server_handle_signal(struct vmbus_server *s, uint32_t conn_id)
{
	if (!s)
		return HV_STATUS_INVALID_CONNECTION_ID;
	conn_id &= VMBUS_CONNECTION_ID_MASK;
	if ((conn_id & ~(uint32_t)VMBUS_RELID_MAX) != VMBUS_CHANNEL_CONNECTION_BASE)
		return HV_STATUS_INVALID_CONNECTION_ID;
	g_rec_mutex_lock(&s->lock);
	struct vmbus_channel *ch = channel_by_relid(s, conn_id & VMBUS_RELID_MAX);
	unsigned status = HV_STATUS_INVALID_CONNECTION_ID;
	if (ch && ch->state != VMBUS_CHANNEL_IDLE) {
		status = HV_STATUS_SUCCESS;
		if (ch->state == VMBUS_CHANNEL_OPEN && s->ops->channel_signal)
			s->ops->channel_signal(s->opaque, ch);
	}
	g_rec_mutex_unlock(&s->lock);
	return status;
}

void vmbus_server_flush(struct vmbus_server *s)
{
	if (!s)
		return;
	g_rec_mutex_lock(&s->lock);
	outbox_flush(s);
	g_rec_mutex_unlock(&s->lock);
}

void vmbus_server_reset(struct vmbus_server *s)
{
	if (!s)
		return;
	g_rec_mutex_lock(&s->lock);
	reset_state(s);
	s->target_vp = 0;
	g_rec_mutex_unlock(&s->lock);
}

uint32_t vmbus_server_channel_relid(const struct vmbus_channel *ch)
{
	return ch->relid;
}

uint32_t vmbus_server_channel_connection_id(const struct vmbus_channel *ch)
{
	return ch->connection_id;
}

unsigned vmbus_server_channel_target_vp(const struct vmbus_channel *ch)
{
	return __atomic_load_n(&ch->target_vp, __ATOMIC_ACQUIRE);
}

void *vmbus_server_channel_priv(const struct vmbus_channel *ch)
{
	return ch->desc.priv;
}

int vmbus_server_channel_info(struct vmbus_server *s, const struct vmbus_channel *ch,
			      struct vmbus_channel_info *out)
{
	if (!s || !out)
		return -EINVAL;
	g_rec_mutex_lock(&s->lock);
	int r = -EINVAL;
	if (channel_ours(s, ch)) {
		struct vmbus_channel_info info = {
			.relid = ch->relid,
			.connection_id = ch->connection_id,
			.state = ch->state,
			.rescinded = ch->rescinded,
			.target_vp = ch->target_vp,
		};
		if (ch->state == VMBUS_CHANNEL_OPEN) {
			info.openid = ch->openid;
			info.ring = ch->ring;
			info.ring_gpadl_id = ch->ring ? gpadl_id(ch->ring) : 0;
			info.downstream_offset = ch->ring_offset;
			memcpy(info.userdata, ch->userdata, sizeof(info.userdata));
		}
		*out = info;
		r = 0;
	}
	g_rec_mutex_unlock(&s->lock);
	return r;
}

int vmbus_server_gpadl_get(struct vmbus_server *s, const struct vmbus_channel *ch, uint32_t id,
			   struct gpadl **out)
{
	if (!s || !out)
		return -EINVAL;
	g_rec_mutex_lock(&s->lock);
	int r = -ENOENT;
	struct gpadl *g = channel_ours(s, ch) ? gpadl_table_find(s->gpadls, id) : NULL;
	if (g && gpadl_relid(g) == ch->relid) {
		gpadl_hold(g);
		*out = g;
		r = 0;
	}
	g_rec_mutex_unlock(&s->lock);
	return r;
}

void vmbus_server_gpadl_put(struct vmbus_server *s, struct gpadl *g)
{
	if (!s || !g)
		return;
	g_rec_mutex_lock(&s->lock);
	put_gpadl(s, g);
	outbox_flush(s);
	g_rec_mutex_unlock(&s->lock);
}

void vmbus_server_get_state(struct vmbus_server *s, struct vmbus_server_state *out)
{
	g_rec_mutex_lock(&s->lock);
	struct vmbus_server_state st = {
		.connected = s->connected,
		.version = s->version,
		.target_vp = s->target_vp,
		.offers_sent = s->offers_sent,
		.channels = s->nchannels,
		.gpadls = gpadl_table_count(s->gpadls),
		.gpadl_pfns = gpadl_table_pfns(s->gpadls),
		.queued = g_queue_get_length(&s->outbox),
	};
	for (uint32_t relid = VMBUS_RELID_MIN; relid <= VMBUS_RELID_MAX; relid++)
		if (s->channels[relid] && s->channels[relid]->state == VMBUS_CHANNEL_OPEN)
			st.open_channels++;
	*out = st;
	g_rec_mutex_unlock(&s->lock);
}
