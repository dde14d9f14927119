// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/le.h"
#include "hv/saved_state.h"
#include "hv/vmbus_ring.h"
#include "vsp/ic.h"

/* Offsets inside the 28-byte header (pipe header first). */
#define OFF_PIPE_FLAGS   0
#define OFF_PIPE_SIZE    4
#define OFF_FW_MAJOR     8
#define OFF_FW_MINOR     10
#define OFF_TYPE         12
#define OFF_MSG_MAJOR    14
#define OFF_MSG_MINOR    16
#define OFF_MSGSIZE      18
#define OFF_STATUS       20
#define OFF_TRANS        24
#define OFF_FLAGS        25

/* NEGOTIATE body: {u16 fw_count, u16 msg_count, u32 reserved, versions[]}. */
#define NEG_FIXED        8u
#define NEG_BODY_MAX     (NEG_FIXED + 4u * 2u * IC_MAX_VERSIONS)

int ic_parse(const uint8_t *data, size_t len, struct ic_message *out)
{
	if (!data || len < IC_HDR_SIZE)
		return -EBADMSG;
	*out = (struct ic_message){
		.framework = { le16_get(data + OFF_FW_MAJOR), le16_get(data + OFF_FW_MINOR) },
		.type = le16_get(data + OFF_TYPE),
		.msgver = { le16_get(data + OFF_MSG_MAJOR), le16_get(data + OFF_MSG_MINOR) },
		.msgsize = le16_get(data + OFF_MSGSIZE),
		.status = le32_get(data + OFF_STATUS),
		.ic_trans_id = data[OFF_TRANS],
		.flags = data[OFF_FLAGS],
		.body = data + IC_HDR_SIZE,
		.body_len = len - IC_HDR_SIZE,
	};
	return 0;
}

long ic_build(uint8_t *buf, size_t size, const struct ic_message *m, const void *body,
	      size_t body_len)
{
	if (body_len > UINT16_MAX || size < IC_HDR_SIZE || body_len > size - IC_HDR_SIZE)
		return -ENOSPC;
	memset(buf, 0, IC_HDR_SIZE);
	le32_put(buf + OFF_PIPE_FLAGS, IC_PIPE_FLAGS);
	le32_put(buf + OFF_PIPE_SIZE, (uint32_t)(IC_MSG_HDR_SIZE + body_len));
	le16_put(buf + OFF_FW_MAJOR, m->framework.major);
	le16_put(buf + OFF_FW_MINOR, m->framework.minor);
	le16_put(buf + OFF_TYPE, m->type);
	le16_put(buf + OFF_MSG_MAJOR, m->msgver.major);
	le16_put(buf + OFF_MSG_MINOR, m->msgver.minor);
	le16_put(buf + OFF_MSGSIZE, (uint16_t)body_len);
	le32_put(buf + OFF_STATUS, m->status);
	buf[OFF_TRANS] = m->ic_trans_id;
	buf[OFF_FLAGS] = m->flags;
	if (body_len)
		memcpy(buf + IC_HDR_SIZE, body, body_len);
	return (long)(IC_HDR_SIZE + body_len);
}

const char *ic_state_name(enum ic_state s)
{
	switch (s) {
	case IC_CLOSED: return "closed";
	case IC_NEGOTIATING: return "negotiating";
	case IC_READY: return "ready";
	case IC_REFUSED: return "refused";
	}
	return "?";
}

static int ic_send(struct vsp_device *dev, struct ic_service *svc, const struct ic_message *m,
		   const void *body, size_t body_len, uint64_t trans_id)
{
	/* Shutdown's body (2 KiB of message) is the largest a service sends. */
	uint8_t buf[IC_HDR_SIZE + 4096];
	long n = ic_build(buf, sizeof(buf), m, body, body_len);
	if (n < 0)
		return (int)n;
	(void)svc;
	return vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, trans_id, buf, (size_t)n);
}

int ic_open(struct vsp_device *dev, struct ic_service *svc)
{
	uint8_t body[NEG_BODY_MAX] = { 0 };
	unsigned nfw = svc->n_fw < IC_MAX_VERSIONS ? svc->n_fw : IC_MAX_VERSIONS;
	unsigned nmsg = svc->n_msg < IC_MAX_VERSIONS ? svc->n_msg : IC_MAX_VERSIONS;
	le16_put(body, (uint16_t)nfw);
	le16_put(body + 2, (uint16_t)nmsg);
	size_t off = NEG_FIXED;
	for (unsigned i = 0; i < nfw; i++, off += 4) {
		le16_put(body + off, svc->fw_versions[i].major);
		le16_put(body + off + 2, svc->fw_versions[i].minor);
	}
	for (unsigned i = 0; i < nmsg; i++, off += 4) {
		le16_put(body + off, svc->msg_versions[i].major);
		le16_put(body + off + 2, svc->msg_versions[i].minor);
	}
	svc->state = IC_NEGOTIATING;
	svc->negotiate_trans_id = ++svc->next_trans_id;
	/* What was asked before this open gets no answer now. */
	svc->answered_trans_id = svc->negotiate_trans_id;
	/* The framework version in the header of a NEGOTIATE is the newest we speak. */
	struct ic_message m = {
		.framework = nfw ? svc->fw_versions[0] : (struct ic_version){ 0, 0 },
		.type = IC_MSGTYPE_NEGOTIATE,
		.msgver = nmsg ? svc->msg_versions[0] : (struct ic_version){ 0, 0 },
		.flags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST,
	};
	return ic_send(dev, svc, &m, body, off, svc->negotiate_trans_id);
}

void ic_close(struct ic_service *svc)
{
	svc->state = IC_CLOSED;
}

static bool ic_offered(const struct ic_version *list, unsigned n, struct ic_version v)
{
	for (unsigned i = 0; i < n && i < IC_MAX_VERSIONS; i++)
		if (list[i].major == v.major && list[i].minor == v.minor)
			return true;
	return false;
}

/* The guest's NEGOTIATE answer: counts 1/1 and the two versions it chose
 * (which must be among ours), or 0/0 for no common version. */
static int ic_negotiated(struct ic_service *svc, const struct ic_message *m)
{
	if (m->body_len < NEG_FIXED)
		return -EBADMSG;
	uint16_t nfw = le16_get(m->body), nmsg = le16_get(m->body + 2);
	if (nfw == 0 && nmsg == 0) {
		svc->state = IC_REFUSED;
		return 0;
	}
	if (nfw != 1 || nmsg != 1 || m->body_len < NEG_FIXED + 8)
		return -EBADMSG;
	struct ic_version fw = { le16_get(m->body + 8), le16_get(m->body + 10) };
	struct ic_version msg = { le16_get(m->body + 12), le16_get(m->body + 14) };
	if (!ic_offered(svc->fw_versions, svc->n_fw, fw) ||
	    !ic_offered(svc->msg_versions, svc->n_msg, msg))
		return -EBADMSG;
	svc->fw = fw;
	svc->msg = msg;
	svc->state = IC_READY;
	return 0;
}

int ic_receive(struct ic_service *svc, const struct vsp_packet *pkt, struct ic_message *msg)
{
	int r = -EBADMSG;
	if (pkt->type != VMBUS_PKT_DATA_INBAND || ic_parse(pkt->data, pkt->len, msg) < 0)
		goto bad;
	if (msg->type == IC_MSGTYPE_NEGOTIATE) {
		/* Only the answer to our own, outstanding NEGOTIATE counts. */
		if (!(msg->flags & IC_FLAG_RESPONSE) || svc->state != IC_NEGOTIATING ||
		    pkt->trans_id != svc->negotiate_trans_id)
			goto bad;
		r = ic_negotiated(svc, msg);
		if (r < 0)
			goto bad;
		return 0;
	}
	if (svc->state != IC_READY)
		goto bad;
	return 1;
bad:
	svc->bad_messages++;
	return -EBADMSG;
}

int ic_send_request(struct vsp_device *dev, struct ic_service *svc, uint16_t type,
		    const void *body, size_t body_len, uint64_t *trans_id)
{
	if (svc->state != IC_READY)
		return -ENOTCONN;
	uint64_t id = ++svc->next_trans_id;
	struct ic_message m = {
		.framework = svc->fw,
		.type = type,
		.msgver = svc->msg,
		.ic_trans_id = (uint8_t)id,
		.flags = IC_FLAG_TRANSACTION | IC_FLAG_REQUEST,
	};
	int r = ic_send(dev, svc, &m, body, body_len, id);
	if (r == 0 && trans_id)
		*trans_id = id;
	return r;
}

bool ic_take_response(struct ic_service *svc, uint64_t trans_id)
{
	if (trans_id <= svc->answered_trans_id || trans_id > svc->next_trans_id)
		return false;
	svc->answered_trans_id = trans_id;
	return true;
}

GSource *ic_timer_start(struct vsp_bus *bus, unsigned period_ms, GSourceFunc fn, void *data)
{
	GSource *t = g_timeout_source_new(period_ms);
	g_source_set_callback(t, fn, data, NULL);
	g_source_attach(t, vsp_bus_context(bus));
	return t;
}

void ic_timer_stop(GSource **timer)
{
	if (!*timer)
		return;
	g_source_destroy(*timer);
	g_source_unref(*timer);
	*timer = NULL;
}

/* ---- saved state ---- */

GVariant *ic_service_save(const struct ic_service *svc)
{
	return g_variant_new(IC_SERVICE_STATE_TYPE, (guint32)svc->state, svc->fw.major, svc->fw.minor, svc->msg.major,
			     svc->msg.minor, svc->next_trans_id, svc->negotiate_trans_id, svc->answered_trans_id,
			     svc->bad_messages);
}

/* Transaction ids a restored service may hold: far from wrapping. */
#define IC_TRANS_ID_LIMIT (UINT64_C(1) << 62)

int ic_service_restore(struct ic_service *svc, GVariant *v, bool open, const char *name, GError **error)
{
	if (saved_state_check_type(v, IC_SERVICE_STATE_TYPE, name, error) < 0)
		return -EINVAL;
	guint32 state;
	struct ic_version fw, msg;
	guint64 next, negotiate, answered, bad;
	g_variant_get(v, IC_SERVICE_STATE_TYPE, &state, &fw.major, &fw.minor, &msg.major, &msg.minor, &next,
		      &negotiate, &answered, &bad);
	if (state > IC_REFUSED)
		return saved_state_fail(error, "%s: unknown service state %u", name, state);
	if (open != (state != IC_CLOSED))
		return saved_state_fail(error, "%s: the service is %s on %s channel", name, ic_state_name(state),
					open ? "an open" : "a closed");
	if (state == IC_READY && (!ic_offered(svc->fw_versions, svc->n_fw, fw) ||
				  !ic_offered(svc->msg_versions, svc->n_msg, msg)))
		return saved_state_fail(error, "%s: agreed on versions %u.%u/%u.%u, which this service does not offer",
					name, fw.major, fw.minor, msg.major, msg.minor);
	if (next > IC_TRANS_ID_LIMIT || negotiate > next || answered > next)
		return saved_state_fail(error, "%s: transaction ids %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
					"/%" G_GUINT64_FORMAT " out of order", name, next, negotiate, answered);
	svc->state = (enum ic_state)state;
	svc->fw = state == IC_READY ? fw : (struct ic_version){ 0, 0 };
	svc->msg = state == IC_READY ? msg : (struct ic_version){ 0, 0 };
	svc->next_trans_id = next;
	svc->negotiate_trans_id = negotiate;
	svc->answered_trans_id = answered;
	svc->bad_messages = bad;
	return 0;
}
