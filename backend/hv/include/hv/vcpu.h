/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "hv/boot.h"

struct partition;

struct vcpu {
	struct partition *p;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	/* The vCPU thread's own record of its exits, for a crash report. */
	uint64_t exits;
	uint32_t last_exit;          /* KVM_EXIT_* */
	uint64_t last_where;         /* its port, address or MSR */
	bool last_write;
};

int vcpu_create(struct partition *p, unsigned index, struct vcpu *v, const char **step);
/* CPUID, LAPIC wiring and FPU state; after the partition knows its TSC rate. */
int vcpu_configure(struct vcpu *v, const char **step);
void vcpu_destroy(struct vcpu *v);
/* Register state for the entry; BSP only. */
int vcpu_set_boot_state(struct vcpu *v, const struct boot_entry *entry);
int vcpu_start_thread(struct vcpu *v);
/* Makes a vCPU leave KVM_RUN soon (immediate_exit plus a signal). */
void vcpu_kick(struct vcpu *v);
