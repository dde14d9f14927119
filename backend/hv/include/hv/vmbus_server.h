/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of the VMBus channel-management protocol
 * (../shared/docs/hyperv-host.md section 6): version negotiation, offers,
 * GPADLs, open/close/modify, rescind, unload. Pure logic: the partition feeds
 * the guest's HvPostMessage calls in and delivers the replies through ops to
 * SINT2 of the guest's chosen VP; devices (VSPs) offer channels and hear
 * about opens and closes through ops.
 *
 * Every message the guest sends gets the answer the Linux 6.1 guest waits
 * for, including a failure answer for a request that cannot be granted:
 * those waits have no timeout. A malformed message (short, unknown type,
 * not valid in this state, no answer possible) is refused with a hypercall
 * status and changes nothing. Choices the protocol leaves open:
 *  - INITIATE_CONTACT resets everything (open channels closed, GPADLs
 *    dropped), then accepts any version in 2.4, 3.0, 4.0, 4.1, 5.0-5.3 up to
 *    the configured maximum, on connection id 1, or 4 when the maximum is
 *    >= 5.0 (with a lower maximum id 4 answers HV_STATUS_INVALID_CONNECTION_ID,
 *    which makes the guest fall back at once). A target VP >= nvps is
 *    refused with HV_STATUS_INVALID_PARAMETER (nowhere to answer: the guest
 *    tries its next version and finally gives up). >= 5.0 with msg_sint != 2
 *    is answered "not supported".
 *  - GPADL_HEADER/BODY: answered once, with GPADL_CREATED, when the last byte
 *    of the announced ranges arrived or as soon as the request is known to
 *    fail (unknown or rescinded relid, duplicate id, limits, malformed
 *    ranges). Bodies for a GPADL no longer being built (because it failed
 *    early) are refused with HV_STATUS_INVALID_HYPERCALL_INPUT: Linux then
 *    gives up on that GPADL instead of waiting.
 *  - GPADL_TEARDOWN of an unknown id, or one of another channel, is answered
 *    with GPADL_TORNDOWN and changes nothing; of a GPADL in use (the ring of
 *    an open channel, one a device holds) it is answered when the last user
 *    let it go (at CLOSECHANNEL for a ring).
 *  - After a rescind the guest sends no GPADL_TEARDOWN: the channel's GPADLs
 *    are dropped at RELID_RELEASED. RELID_RELEASED of a channel that was not
 *    rescinded (the guest refused the offer) takes it back to idle until the
 *    next connection.
 *  - MODIFYCHANNEL (>= 4.1) of an open channel to a VP < nvps retargets it;
 *    only 5.3 answers MODIFYCHANNEL_RESPONSE (with a failure status when
 *    refused); before 5.3 a refused one returns HV_STATUS_INVALID_HYPERCALL_INPUT.
 *  - TL_CONNECT_REQUEST (>= 4.0) goes to ops->tl_connect; without it, or
 *    when it refuses, the server sends TL_CONNECT_RESULT with
 *    VMBUS_STATUS_CONNECTION_REFUSED (which Linux 6.1 ignores: its connect()
 *    times out).
 *
 * Replies wait in an outbox when ops->post_to_guest reports the SynIC queue
 * full; call vmbus_server_flush when it drains. While the outbox holds
 * VMBUS_SERVER_OUTBOX_MAX messages, new posts are refused with
 * HV_STATUS_INSUFFICIENT_BUFFERS (the guest retries).
 *
 * Threads: every entry point takes the server's (recursive) lock. ops are
 * called with it held, so they may call back into the server from the same
 * thread but must not wait for another thread that does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/gpadl.h"
#include "hv/vmbus_proto.h"

/* Channels of one server: every relid. */
#define VMBUS_SERVER_MAX_CHANNELS   VMBUS_RELID_MAX
/* A channel's HvSignalEvent connection id: relid | this (openvmm's choice;
 * stays clear of the message and monitor ids 1-4). */
#define VMBUS_CHANNEL_CONNECTION_BASE 0x2000u
/* Replies waiting for the SynIC before guest posts are refused. */
#define VMBUS_SERVER_OUTBOX_MAX     256u
/* The smallest ring GPADL split: a header page and a data page per direction. */
#define VMBUS_SERVER_RING_MIN_PAGES 2u

enum vmbus_channel_state {
	VMBUS_CHANNEL_IDLE,          /* not offered to the current connection */
	VMBUS_CHANNEL_OFFERED,
	VMBUS_CHANNEL_OPEN,
};

/* What a device offers. */
struct vmbus_channel_desc {
	struct vmbus_guid type;              /* class: which driver binds */
	struct vmbus_guid instance;
	uint16_t flags;                      /* VMBUS_CHANNEL_* chn_flags */
	uint16_t mmio_megabytes;
	uint16_t sub_channel_index;          /* 0 for a primary channel */
	uint32_t pipe_mode;                  /* with VMBUS_CHANNEL_NAMED_PIPE_MODE: user_def[0..3] */
	uint8_t user_def[VMBUS_USER_DEFINED_BYTES];
	void *priv;                          /* the device's, for the ops */
};

struct vmbus_channel;
struct vmbus_server;

struct vmbus_server_ops {
	/* Deliver a host->guest message (msg starts with the 8-byte
	 * {msgtype, padding} header, len <= 240) to SINT2 of VP `vp` with SynIC
	 * message type VMBUS_HV_MESSAGE_TYPE. 0; -ENOBUFS or -EAGAIN: not now,
	 * the server keeps it and retries at the next flush; anything else: dropped. */
	int (*post_to_guest)(void *opaque, unsigned vp, const void *msg, size_t len);
	/* The guest opens ch (its ring GPADL is in vmbus_server_channel_info).
	 * 0 accepts; a positive value is the failure status sent to the guest; a
	 * negative errno sends VMBUS_STATUS_UNSUCCESSFUL. NULL: accept. */
	int (*channel_open)(void *opaque, struct vmbus_channel *ch);
	/* ch is closed (by the guest, or by a reset or unload): stop using its
	 * ring and put back every GPADL of it you hold. May be NULL. */
	void (*channel_close)(void *opaque, struct vmbus_channel *ch);
	/* ch is about to be freed: after a rescind, once the guest released it
	 * (or went away), and at vmbus_server_free. May be NULL. */
	void (*channel_removed)(void *opaque, struct vmbus_channel *ch);
	/* The guest signalled an open channel (HvSignalEvent). May be NULL. */
	void (*channel_signal)(void *opaque, struct vmbus_channel *ch);
	/* hv_sock guest->host connect: 0 when the caller will offer the channel;
	 * anything else refuses. May be NULL (refuse). */
	int (*tl_connect)(void *opaque, const struct vmbus_guid *guest_endpoint,
			  const struct vmbus_guid *host_service);
};

struct vmbus_server_config {
	unsigned nvps;                       /* VP indexes 0..nvps-1; required */
	uint32_t max_version;                /* 0: VMBUS_VERSION_MAX; else one of the versions above */
	struct gpadl_limits gpadl;           /* zeros: the gpadl.h defaults */
};

/* NULL when cfg or ops is unusable (nvps 0, unknown max_version, no post_to_guest). */
struct vmbus_server *vmbus_server_new(const struct vmbus_server_config *cfg,
				      const struct vmbus_server_ops *ops, void *opaque);
/* Closes and removes every channel (channel_close, channel_removed). */
void vmbus_server_free(struct vmbus_server *s);

/*
 * Offer a device. relid is the lowest free one; if the guest already asked
 * for offers, the offer goes out now. *out (written on success) stays valid
 * until channel_removed. -EINVAL: bad desc; -EEXIST: the same (type,
 * instance, sub_channel_index) is present (wait for channel_removed of a
 * rescinded one); -ENOSPC: every relid is taken.
 */
int vmbus_server_add_channel(struct vmbus_server *s, const struct vmbus_channel_desc *desc,
			     struct vmbus_channel **out);

/* Withdraw a channel: RESCIND_CHANNELOFFER when the guest has it (removed
 * after its RELID_RELEASED; it stays open until the guest closes it), else
 * removed now. -EINVAL: not this server's; -EALREADY: rescinded already. */
int vmbus_server_rescind(struct vmbus_server *s, struct vmbus_channel *ch);

/*
 * A guest HvPostMessage. Returns the hypercall status: HV_STATUS_SUCCESS (the
 * message was handled, any failure is in the reply),
 * HV_STATUS_INVALID_CONNECTION_ID (not 1, or 4 without >= 5.0),
 * HV_STATUS_INVALID_PARAMETER (message_type != 1, len > 240, INITIATE_CONTACT
 * to a VP >= nvps), HV_STATUS_INVALID_HYPERCALL_INPUT (malformed or refused,
 * nothing changed), HV_STATUS_INSUFFICIENT_BUFFERS (outbox full, retry).
 * payload is read once, so it may be guest memory.
 */
unsigned vmbus_server_handle_post(struct vmbus_server *s, uint32_t conn_id, uint32_t message_type,
				  const void *payload, size_t len);

/* A guest HvSignalEvent: HV_STATUS_SUCCESS (channel_signal when open) or
 * HV_STATUS_INVALID_CONNECTION_ID for no channel's id. */
unsigned vmbus_server_handle_signal(struct vmbus_server *s, uint32_t conn_id);

/* Retry the replies the SynIC could not take yet. */
void vmbus_server_flush(struct vmbus_server *s);

/* Guest reset (reboot): channels closed and back to idle, rescinded ones
 * removed, GPADLs dropped, queued replies dropped, disconnected. */
void vmbus_server_reset(struct vmbus_server *s);

/* Host->guest signalling: set event flag relid in SINT2 of target_vp. */
uint32_t vmbus_server_channel_relid(const struct vmbus_channel *ch);
uint32_t vmbus_server_channel_connection_id(const struct vmbus_channel *ch);
unsigned vmbus_server_channel_target_vp(const struct vmbus_channel *ch);   /* any thread */
void *vmbus_server_channel_priv(const struct vmbus_channel *ch);

struct vmbus_channel_info {
	uint32_t relid;
	uint32_t connection_id;
	enum vmbus_channel_state state;
	bool rescinded;
	unsigned target_vp;
	/* open only: */
	uint32_t openid;
	struct gpadl *ring;                  /* valid until channel_close */
	uint32_t ring_gpadl_id;
	uint32_t downstream_offset;          /* pages: guest->host ring [0, off), host->guest [off, end) */
	uint8_t userdata[VMBUS_USER_DEFINED_BYTES];
};
/* 0, or -EINVAL when ch is not this server's. */
int vmbus_server_channel_info(struct vmbus_server *s, const struct vmbus_channel *ch,
			      struct vmbus_channel_info *out);

/* A device uses a GPADL of its channel (netvsc buffers): a ready GPADL
 * `id` of ch, held until vmbus_server_gpadl_put. -ENOENT otherwise. */
int vmbus_server_gpadl_get(struct vmbus_server *s, const struct vmbus_channel *ch, uint32_t id,
			   struct gpadl **out);
void vmbus_server_gpadl_put(struct vmbus_server *s, struct gpadl *g);

struct vmbus_server_state {
	bool connected;
	uint32_t version;                    /* negotiated, 0 when not connected */
	unsigned target_vp;                  /* where control messages go */
	bool offers_sent;
	unsigned channels;                   /* present, rescinded ones included */
	unsigned open_channels;
	unsigned gpadls;                     /* alive: being built, ready or held */
	uint64_t gpadl_pfns;
	unsigned queued;                     /* replies in the outbox */
};
void vmbus_server_get_state(struct vmbus_server *s, struct vmbus_server_state *out);

/*
 * Saved state (saved_state.h, vmbus_server_state.c): the connection, every
 * channel, every GPADL and the replies still owed. Save with the guest
 * stopped (no vCPU posting).
 */
#define VMBUS_SERVER_STATE_TYPE "(bubuttta(uayayqubuuuuay)" GPADL_TABLE_STATE_TYPE "a(uay))"
GVariant *vmbus_server_save(struct vmbus_server *s);
/*
 * Put a new server (nothing connected yet, its devices' channels offered
 * in the same order as in the saved VM) back where the saved one was:
 * connection, channels with their rings held, GPADLs, waiting replies. No
 * message goes to the guest and no channel_open is called: the host maps
 * the open channels' rings itself (vmbus_server_channel_info). 0, or
 * -EINVAL with error set when the state does not fit this server
 * (channels, versions, VPs, GPADLs, ring splits): nothing is kept then.
 */
int vmbus_server_restore(struct vmbus_server *s, GVariant *v, GError **error);
