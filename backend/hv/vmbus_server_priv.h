/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMBus server's own structures, shared by vmbus_server.c (the
 * protocol) and vmbus_server_state.c (its saved state). Not for other users:
 * they go through vmbus_server.h.
 */
#pragma once

#include <glib.h>

#include "hv/gpadl.h"
#include "hv/vmbus_server.h"

struct vmbus_channel {
	struct vmbus_server *server;
	struct vmbus_channel_desc desc;
	uint32_t relid;
	uint32_t connection_id;
	enum vmbus_channel_state state;
	bool rescinded;
	unsigned target_vp;                  /* atomic: read by signalling threads */
	uint32_t openid;
	uint32_t ring_offset;
	struct gpadl *ring;                  /* held while open */
	uint8_t userdata[VMBUS_USER_DEFINED_BYTES];
};

struct vmbus_outmsg {
	unsigned vp;
	size_t len;
	uint8_t data[];
};

struct vmbus_server {
	GRecMutex lock;
	const struct vmbus_server_ops *ops;
	void *opaque;
	unsigned nvps;
	uint32_t max_version;

	bool connected;
	uint32_t version;
	unsigned target_vp;
	bool offers_sent;
	uint64_t interrupt_page, monitor_page1, monitor_page2;   /* recorded, unused */

	struct vmbus_channel *channels[VMBUS_RELID_MAX + 1];   /* by relid; 0 unused */
	unsigned nchannels;
	struct gpadl_table *gpadls;

	GQueue outbox;                       /* struct vmbus_outmsg, oldest first */
	bool flushing;
};

/* One of the protocol versions the server speaks. */
bool vmbus_server_version_known(uint32_t v);
