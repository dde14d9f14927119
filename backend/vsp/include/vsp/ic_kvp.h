/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVP (key-value pair exchange) integration service: the host reads what the
 * guest reports about itself (hostname, OS, IP addresses: the "auto" pool
 * the guest's hv_kvp_daemon makes up, and the "guest" pool its programs
 * fill) and writes values into the guest's external pool.
 *
 * The guest takes one KVP request at a time and answers nothing until its
 * hv_kvp_daemon runs (it does not even answer the negotiation), so nothing
 * here waits for the guest: reads come from a cache refreshed by
 * enumerating both pools every IC_KVP_REFRESH_MS, writes are queued, and a
 * request the guest leaves unanswered for IC_KVP_ANSWER_MS is given up.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vsp/ic.h"

#define IC_KVP_CLASS \
	VMBUS_GUID_INIT(0xa9a0f4e7, 0x5a45, 0x4d96, 0xb8, 0x27, 0x8a, 0x84, 0x1e, 0x8c, 0x03, 0xe6)

/* How often the guest's own data is read again. */
#define IC_KVP_REFRESH_MS   10000u
/* Longer than the 30 s the guest kernel gives its daemon before it answers
 * a failure itself. */
#define IC_KVP_ANSWER_MS    40000u
/* Entries kept per pool: a guest cannot make the host hold more. */
#define IC_KVP_POOL_MAX     256u
/* Host writes waiting for the guest. */
#define IC_KVP_QUEUE_MAX    64u

struct ic_kvp;

struct ic_kvp_state {
	enum ic_state state;
	uint64_t requests, answers;  /* KVP operations sent, answered */
	uint64_t sweeps;             /* complete reads of the guest's pools */
	uint64_t entries;            /* values in the cache */
	uint64_t sets_done;          /* host writes the guest confirmed */
	uint64_t failed;             /* host writes or deletes the guest refused */
	uint64_t timeouts;           /* requests the guest never answered */
	uint64_t queued;             /* host writes waiting */
	uint64_t bad;                /* malformed or unexpected packets */
};

struct ic_kvp *ic_kvp_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
/*
 * Any thread. The value (UTF-8) the guest reported for key (auto pool
 * first, then guest pool), into buf. 0; -ENOENT when the guest reported no
 * such key; -EAGAIN when it has not answered anything yet (no
 * hv_kvp_daemon, or still booting); -ENOSPC when buf is too small.
 */
int ic_kvp_get(struct ic_kvp *kvp, const char *key, char *buf, size_t size);
/*
 * Any thread. Write key=value (UTF-8) into the guest's external pool
 * (pool 0, which the daemon keeps in /var/lib/hyperv/.kvp_pool_0), or
 * delete key there. 0 when queued; -EINVAL for an empty key, text that is
 * not UTF-8, or a key or value too long for the protocol; -ENOTCONN when
 * the service is not ready; -ENOBUFS when IC_KVP_QUEUE_MAX writes wait.
 */
int ic_kvp_set(struct ic_kvp *kvp, const char *key, const char *value);
int ic_kvp_delete(struct ic_kvp *kvp, const char *key);
/* Any thread: every cached entry, sorted by key, as key, value, key,
 * value, ..., NULL (g_strfreev it). */
char **ic_kvp_list(struct ic_kvp *kvp);
void ic_kvp_get_state(struct ic_kvp *kvp, struct ic_kvp_state *out);
void ic_kvp_free(struct ic_kvp *kvp);
