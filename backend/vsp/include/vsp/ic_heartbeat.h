/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Heartbeat integration service: the host sends a sequence number every
 * IC_HEARTBEAT_PERIOD_MS, a live guest answers with it plus one. The state
 * tells a hung guest (answers stop) from one without hv_utils (never ready).
 */
#pragma once

#include <stdint.h>

#include "vsp/ic.h"

#define IC_HEARTBEAT_PERIOD_MS 1000u
/* Without an answer for this long, the guest is "lost". */
#define IC_HEARTBEAT_LOST_MS   5000u

#define IC_HEARTBEAT_CLASS \
	VMBUS_GUID_INIT(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d)

struct ic_heartbeat;

struct ic_heartbeat_state {
	enum ic_state state;
	bool alive;                  /* ready, and the last answer is recent */
	uint64_t beats;              /* correct answers received */
	uint64_t seq;                /* the last sequence number the guest returned */
	uint64_t age_ms;             /* since that answer (UINT64_MAX: none yet) */
	uint64_t bad;                /* malformed or wrong answers */
};

/* Offer the service on bus. NULL with errno on failure. */
struct ic_heartbeat *ic_heartbeat_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
/* Any thread. */
void ic_heartbeat_get(struct ic_heartbeat *hb, struct ic_heartbeat_state *out);
/* Bus free first. */
void ic_heartbeat_free(struct ic_heartbeat *hb);
