/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration services (hv_utils' heartbeat, shutdown, time sync, KVP):
 * the framing they share and the host-initiated version negotiation
 * (../shared/docs/hyperv-host.md section 9). Every service is a message-mode
 * pipe: each packet is a pipe header, an IC message header, and a body.
 *
 * The host speaks first: at open it sends NEGOTIATE with the versions it
 * supports; the guest answers with the framework and message versions it
 * picked, and only then does the service carry messages. Requests carry a
 * VMBus transaction id the guest echoes in its response; the IC header's
 * own one-byte id is echoed too, and is not relied upon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vmbus_proto.h"
#include "vsp/vsp.h"

#define IC_PIPE_HDR_SIZE      8u
#define IC_MSG_HDR_SIZE       20u
#define IC_HDR_SIZE           (IC_PIPE_HDR_SIZE + IC_MSG_HDR_SIZE)   /* 28 */

#define IC_MSGTYPE_NEGOTIATE  0u
#define IC_MSGTYPE_HEARTBEAT  1u
#define IC_MSGTYPE_KVP        2u
#define IC_MSGTYPE_SHUTDOWN   3u
#define IC_MSGTYPE_TIMESYNC   4u

#define IC_FLAG_TRANSACTION   0x01u
#define IC_FLAG_REQUEST       0x02u
#define IC_FLAG_RESPONSE      0x04u

#define IC_S_OK               0x00000000u
#define IC_E_FAIL             0x80004005u
#define IC_S_CONT             0x80070103u   /* KVP enumerate: no more entries */

/* The pipe header Linux ignores and openvmm writes: type 1, payload length. */
#define IC_PIPE_FLAGS         1u

/* Versions in every service's negotiation. */
#define IC_MAX_VERSIONS       8u

struct ic_version {
	uint16_t major, minor;
};

/* One IC message, parsed from a packet's payload (every field checked
 * against len, body points into the packet). */
struct ic_message {
	struct ic_version framework;
	uint16_t type;                       /* IC_MSGTYPE_* */
	struct ic_version msgver;
	uint16_t msgsize;                    /* the header's icmsgsize, as sent */
	uint32_t status;
	uint8_t ic_trans_id;
	uint8_t flags;                       /* IC_FLAG_* */
	const uint8_t *body;                 /* after the 28-byte header */
	size_t body_len;
};

/* 0, or -EBADMSG when len is below the header. */
int ic_parse(const uint8_t *data, size_t len, struct ic_message *out);

/* Header plus body into buf: the packet length, or -ENOSPC. */
long ic_build(uint8_t *buf, size_t size, const struct ic_message *m, const void *body,
	      size_t body_len);

enum ic_state {
	IC_CLOSED,                           /* channel not open */
	IC_NEGOTIATING,                      /* NEGOTIATE sent, no answer yet */
	IC_READY,                            /* versions agreed: messages flow */
	IC_REFUSED,                          /* the guest matched none of our versions */
};

/* A service's negotiation state; embed it in the device's priv. */
struct ic_service {
	/* Offered, best first. Filled in by the device before it is offered. */
	struct ic_version fw_versions[IC_MAX_VERSIONS];
	unsigned n_fw;
	struct ic_version msg_versions[IC_MAX_VERSIONS];
	unsigned n_msg;

	enum ic_state state;
	struct ic_version fw, msg;           /* agreed, valid in IC_READY */
	uint64_t next_trans_id;              /* VMBus transaction ids of our requests */
	uint64_t negotiate_trans_id;
	uint64_t answered_trans_id;          /* ids up to here need no answer any more */
	uint64_t bad_messages;               /* malformed or unexpected, dropped */
};

/* From the device's open: send NEGOTIATE. 0 or vsp_device_send's error. */
int ic_open(struct vsp_device *dev, struct ic_service *svc);
/* From the device's close. */
void ic_close(struct ic_service *svc);

/*
 * From the device's packet callback. Returns 1 when the packet was a
 * message for the service (*msg filled in; a response when msg->flags has
 * IC_FLAG_RESPONSE), 0 when the framework consumed it (the NEGOTIATE
 * answer), -EBADMSG when it was malformed or unexpected (counted in
 * bad_messages, nothing else changes).
 */
int ic_receive(struct ic_service *svc, const struct vsp_packet *pkt, struct ic_message *msg);

/*
 * Send a request of the agreed message version with this body. *trans_id
 * (may be NULL) gets the VMBus transaction id the response will carry.
 * -ENOTCONN before the service is READY, else vsp_device_send's errors.
 */
int ic_send_request(struct vsp_device *dev, struct ic_service *svc, uint16_t type,
		    const void *body, size_t body_len, uint64_t *trans_id);

/* A response with this VMBus transaction id answers a request of ours that
 * was not answered yet (sent since the open): true once per request. Ids
 * only grow, so an answer also settles every older request. */
bool ic_take_response(struct ic_service *svc, uint64_t trans_id);

/* The state's name, for logs and the control socket. */
const char *ic_state_name(enum ic_state s);

/* A service's periodic work on the bus thread (heartbeats, time samples),
 * from its open; ic_timer_stop (from its close) also clears *timer. */
GSource *ic_timer_start(struct vsp_bus *bus, unsigned period_ms, GSourceFunc fn, void *data);
void ic_timer_stop(GSource **timer);

/*
 * Saved state of a service's negotiation (saved_state.h): its state, the
 * versions agreed, the transaction ids and the bad-message count. A
 * restore checks them against the service's own version lists and
 * against open (whether its channel is open: CLOSED exactly when not).
 * 0, or -EINVAL with error set ("name: ...") and nothing changed.
 */
#define IC_SERVICE_STATE_TYPE "(u(qq)(qq)tttt)"
GVariant *ic_service_save(const struct ic_service *svc);
int ic_service_restore(struct ic_service *svc, GVariant *v, bool open, const char *name, GError **error);
