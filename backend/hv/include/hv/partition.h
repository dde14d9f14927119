/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A partition on /dev/kvm: guest RAM, the in-kernel irqchip and PIT, the
 * port and MMIO buses, and one thread per vCPU. The partition knows nothing
 * of devices; the worker assembles the machine on top of it.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/boot.h"
#include "hv/cpuid_policy.h"
#include "hv/guest_ram.h"
#include "hv/hyperv.h"
#include "hv/synic.h"
#include "hv/vmbus_server.h"
#include "hv/iobus.h"

#include <glib.h>

enum partition_stop {
	PARTITION_RUNNING = 0,
	PARTITION_STOP_POWEROFF,      /* the guest powered off (ACPI S5) */
	PARTITION_STOP_REBOOT,        /* the guest asked for a reset */
	PARTITION_STOP_TRIPLE_FAULT,  /* KVM_EXIT_SHUTDOWN */
	PARTITION_STOP_TURNED_OFF,    /* the host cut the power */
	PARTITION_STOP_INTERNAL_ERROR,/* KVM could not run the guest (emulation failure, bad entry) */
	PARTITION_STOP_HOST_ERROR,    /* an ioctl failed */
	PARTITION_STOP_SAVED,         /* its state went to disk (the worker's save) */
};

const char *partition_stop_name(enum partition_stop s);

struct partition_config {
	uint64_t memory;
	unsigned ncpus;
	enum cpuid_hv_interface hv;
	const char *name;             /* for the memfd, diagnostics */
	/* Hyper-V: let every HvSignalEvent exit to userspace instead of ending
	 * in an ioeventfd (for measuring the difference). */
	bool no_signal_fastpath;
};

struct vcpu;

/* Guest memory besides RAM (a device's VRAM), as KVM memslots after RAM's. */
#define PARTITION_EXTRA_SLOTS 8
/* Above what any x86 guest addresses with 4-level paging (48 bits). */
#define PARTITION_GPA_LIMIT   (UINT64_C(1) << 48)
struct partition_memslot {
	bool used;
	uint64_t gpa, size;
	void *host;                   /* our mapping of the memfd */
};

struct partition {
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct guest_ram ram;
	struct iobus *pio;
	struct iobus *mmio;
	unsigned ncpus;
	struct vcpu *vcpus;
	struct cpuid_table supported;
	struct cpuid_policy policy;
	uint32_t tsc_khz;

	pthread_mutex_t stop_lock;
	_Atomic int stop;             /* enum partition_stop */
	char stop_detail[256];
	int stop_eventfd;             /* readable once the partition stops */
	/* Pause: vCPU threads park outside KVM_RUN while pause_requested. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned vcpus_parked;
	_Atomic uint64_t first_run_ns; /* CLOCK_MONOTONIC of the first KVM_RUN */
	_Atomic uint64_t exits_io, exits_mmio;
	GArray *sink_fds;             /* ioeventfds that swallow port writes */
	struct hyperv *hv;            /* the Hyper-V interface, or NULL */
	struct synic *synic;          /* its SynIC */
	struct vmbus_server *vmbus;   /* and the VMBus host */
	_Atomic uint64_t exits_msr, exits_hypercall;
	_Atomic uint64_t exits_signal;  /* HvSignalEvents that left the kernel */
	bool signal_fastpath;          /* HvSignalEvent goes out on PORT_HV_SIGNAL */
	const struct vmbus_server_ops *vmbus_dev_ops;   /* the devices' channel callbacks */
	void *vmbus_dev_opaque;
	FILE *vmbus_trace;             /* NULL, or where VMBus traffic is recorded */
	char *crash_text;             /* the guest's last crash report, under stop_lock */
	pthread_mutex_t memslot_lock; /* extra_slots */
	struct partition_memslot extra_slots[PARTITION_EXTRA_SLOTS];
};

/* Which step failed, for the caller's message; set only on failure. */
struct partition_error {
	const char *step;
};

int partition_create(const struct partition_config *cfg, struct partition **out,
		     struct partition_error *err);
void partition_destroy(struct partition *p);

/* Set the level of an interrupt line (KVM_IRQ_LINE); usable as irq_line.set_level. */
void partition_irq_set_level(void *partition, unsigned gsi, bool level);

/* A fixed, edge-triggered interrupt with `vector` to the vCPU with APIC id
 * `vp` (the SynIC's delivery): KVM_SIGNAL_MSI. */
int partition_inject_vector(struct partition *p, unsigned vp, uint8_t vector);

/* Starts every vCPU thread; the BSP begins at entry, the others wait for SIPI.
 * entry NULL: the vCPUs go on from a restored state (partition_restore). */
int partition_start(struct partition *p, const struct boot_entry *entry);

/* Pause: every vCPU out of KVM_RUN and parked; returns once they are (or
 * the partition stopped). Devices keep running. Resume lets them go on.
 * Any thread but a vCPU's. */
void partition_pause(struct partition *p);
void partition_resume(struct partition *p);
bool partition_is_paused(struct partition *p);
/* vCPU threads: park here while a pause is requested (vcpu.c). */
void partition_vcpu_park(struct partition *p);

/* First caller wins; later reasons are ignored. Safe from any thread. */
void partition_request_stop(struct partition *p, enum partition_stop reason, const char *detail);
enum partition_stop partition_stopped(struct partition *p);

/* Joins the vCPU threads (after a stop). */
void partition_join(struct partition *p);

/* An ioeventfd that swallows guest writes to a port in the kernel, for
 * ports written often whose value does not matter (port 0x80 delays). */
int partition_add_port_sink(struct partition *p, uint16_t port, uint8_t len);

uint64_t partition_monotonic_ns(void);

/* Hyper-V partitions: who hosts the VMBus devices. The channel callbacks of
 * ops (post_to_guest is ignored) are called with opaque. Set before the
 * vCPUs start. */
void partition_set_vmbus_devices(struct partition *p, const struct vmbus_server_ops *ops, void *opaque);
/* Make the guest's HvSignalEvent on conn_id increment eventfd fd in the
 * kernel (KVM_IOEVENTFD with the id as datamatch). -ENOTSUP when the fast
 * path is off, else 0 or -errno. */
int partition_watch_signal(struct partition *p, uint32_t conn_id, int fd);
void partition_unwatch_signal(struct partition *p, uint32_t conn_id, int fd);
/* Set event flag relid in SINT2 of VP vp and interrupt it (synic_signal_event). */
int partition_signal_guest(struct partition *p, unsigned vp, uint32_t relid);
/* Record one line "WHAT HEX" in p->vmbus_trace when it is set (the guest's
 * VMBus messages and packets, for test fixtures). Any thread. */
void partition_trace(struct partition *p, const char *what, const void *data, size_t len);
/* A signal OUT no ioeventfd took (vcpu.c). */
void partition_hv_signal_exit(struct partition *p, uint32_t conn_id);

/*
 * Make [gpa, gpa + size) guest memory backed by `size` bytes of memfd from
 * offset (a device's VRAM): the partition maps the fd itself, so the caller
 * may close it. Any thread, also while the vCPUs run. 0; -EINVAL for a gpa,
 * size or offset that is not page-aligned, a size of 0, a range that wraps
 * or passes PARTITION_GPA_LIMIT; -EEXIST when the range
 * overlaps RAM or another mapping; -ENOSPC when PARTITION_EXTRA_SLOTS are
 * in use; -errno from mmap or KVM.
 */
int partition_map_memfd(struct partition *p, uint64_t gpa, int memfd, uint64_t offset, uint64_t size);
/* Undo the mapping that starts at gpa: 0, or -ENOENT when there is none. */
int partition_unmap_memfd(struct partition *p, uint64_t gpa);

/*
 * What KVM holds of the partition (kvm_state.h): every vCPU and the
 * irqchip, PIT and clock. Save with the vCPUs paused (partition_pause);
 * restore into a new partition of the same configuration before
 * partition_start(p, NULL). -errno with error set (SAVED_STATE_ERROR,
 * "kvm: ...": the ioctl that failed, or what of the state does not fit
 * this host: vCPU count, CPUID, TSC rate, XSAVE size).
 */
int partition_save(struct partition *p, GVariant **out, GError **error);
int partition_restore(struct partition *p, GVariant *v, GError **error);
