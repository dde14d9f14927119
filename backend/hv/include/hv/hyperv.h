/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Hyper-V interface of one partition, emulated in userspace: the
 * Hyper-V MSRs (exits through KVM's user-space MSR filter), the hypercall
 * page and the hypercalls it leads to. Pure logic: the partition supplies
 * guest memory and the clock; the SynIC and VMBus plug in through ops.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

struct hyperv_ops {
	void *(*gpa_ptr)(void *opaque, uint64_t gpa, size_t len);
	uint64_t (*now_ns)(void *opaque);                 /* monotonic */
	/* The guest reported a crash through the crash MSRs; msg may be NULL. */
	void (*crash)(void *opaque, unsigned vp, const uint64_t params[5], const char *msg);
	/* SynIC MSRs (0x40000080-0x4000009F): 0, -ENOENT (not ours), -EINVAL (#GP). NULL: none. */
	int (*synic_msr_read)(void *opaque, unsigned vp, uint32_t msr, uint64_t *val);
	int (*synic_msr_write)(void *opaque, unsigned vp, uint32_t msr, uint64_t val);
	/* Hypercalls: return a HV_STATUS_*. NULL: HV_STATUS_INVALID_CONNECTION_ID. */
	unsigned (*post_message)(void *opaque, unsigned vp, uint32_t conn_id, uint32_t type,
				 const void *payload, size_t len);
	unsigned (*signal_event)(void *opaque, unsigned vp, uint32_t conn_id, uint16_t flag);
};

#define HYPERV_CRASH_MSG_MAX 4096   /* what we read of the guest's panic text */

struct hyperv {
	const struct hyperv_ops *ops;
	void *opaque;
	unsigned nvps;
	uint64_t tsc_hz;
	uint16_t hypercall_port;      /* the trampoline's OUT port */
	uint16_t signal_port;         /* HvSignalEvent's fast way out; 0: none */
	uint64_t start_ns;

	pthread_mutex_t lock;
	uint64_t guest_os_id;
	uint64_t hypercall_msr;
	uint64_t crash[5];
	uint64_t tsc_invariant_ctl;
	uint64_t *vp_assist;          /* per VP */
	uint64_t hypercalls, crashes; /* counters */
};

struct hyperv *hyperv_new(unsigned nvps, uint64_t tsc_hz, uint16_t hypercall_port,
			  const struct hyperv_ops *ops, void *opaque);
void hyperv_free(struct hyperv *hv);

/* 0, or -EINVAL when the guest must get #GP. Every MSR in 0x40000000-0x400001FF lands here. */
int hyperv_msr_read(struct hyperv *hv, unsigned vp, uint32_t msr, uint64_t *val);
int hyperv_msr_write(struct hyperv *hv, unsigned vp, uint32_t msr, uint64_t val);

/* A hypercall from the trampoline: RCX control, RDX input (GPA or fast value), R8 output.
 * Returns what the guest gets in RAX. */
uint64_t hyperv_hypercall(struct hyperv *hv, unsigned vp, uint64_t control, uint64_t rdx, uint64_t r8);

/* The trampoline written into the guest's hypercall page (exposed for tests):
 * its length, or 0 when it does not fit or port is above 0xff. */
size_t hyperv_trampoline(uint16_t port, uint16_t signal_port, uint8_t *buf, size_t size);

/* Route HvSignalEvent through `port` (32-bit OUT of the connection id) in
 * hypercall pages enabled from now on; 0 turns it off. */
void hyperv_set_signal_port(struct hyperv *hv, uint16_t port);

/* TIME_REF_COUNT: 100 ns units since the partition started. Any thread. */
uint64_t hyperv_reference_time(struct hyperv *hv);

/*
 * Saved state (saved_state.h): the guest OS id, the hypercall page MSR,
 * the crash MSRs, TSC_INVARIANT_CONTROL, every VP's assist page MSR, the
 * reference time and the ports the hypercall page uses. The page itself
 * is guest RAM. Restoring makes TIME_REF_COUNT go on from the saved value.
 * 0, or -EINVAL with error set (VP count, ports that differ from ours, a
 * hypercall page that is not RAM): nothing changes then.
 */
#define HYPERV_STATE_TYPE "(ttattattqq)"
GVariant *hyperv_save(struct hyperv *hv);
int hyperv_restore(struct hyperv *hv, GVariant *v, GError **error);
