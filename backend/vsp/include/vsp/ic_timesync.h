/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Time synchronisation integration service: the host's UTC with the
 * partition reference time it was sampled at. The first message after the
 * service is ready steps the guest clock (SYNC); later ones are samples the
 * guest's hv_utils feeds to its PTP clock (/dev/ptp_hyperv).
 */
#pragma once

#include <stdint.h>

#include "vsp/ic.h"

#define IC_TIMESYNC_PERIOD_MS 5000u

#define IC_TIMESYNC_CLASS \
	VMBUS_GUID_INIT(0x9527e630, 0xd0ae, 0x497b, 0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf)

/* 100 ns units between 1601-01-01 and 1970-01-01 (Windows' epoch). */
#define IC_TIMESYNC_EPOCH_DELTA 116444736000000000ull

struct ic_timesync;

struct ic_timesync_state {
	enum ic_state state;
	uint64_t syncs, samples;     /* sent */
	uint64_t answers;
	uint64_t bad;
};

struct ic_timesync *ic_timesync_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
void ic_timesync_get(struct ic_timesync *ts, struct ic_timesync_state *out);
void ic_timesync_free(struct ic_timesync *ts);

/* Host UTC now, in 100 ns units since 1601 (exposed for tests). */
uint64_t ic_timesync_host_time(void);
