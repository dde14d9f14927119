/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the guest sees in CPUID: KVM's supported set, shaped by a per-VM
 * policy (feature masks, topology, the hypervisor leaves). Pure logic so
 * that tests can feed it a recorded KVM_GET_SUPPORTED_CPUID.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#define CPUID_MAX_ENTRIES 256

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* Clear `bits` of `reg` in leaf function/index (index ~0u: every index). */
struct cpuid_mask {
	uint32_t function;
	uint32_t index;
	enum cpuid_reg reg;
	uint32_t bits;
};

enum cpuid_hv_interface {
	CPUID_HV_NONE,   /* no hypervisor leaves at all */
	CPUID_HV_KVM,    /* KVM's own leaves (kvmclock gives the guest the TSC frequency) */
	CPUID_HV_HYPERV, /* Hyper-V's leaves only: a KVM signature beside them would win in Linux */
};

#define CPUID_MAX_MASKS 32

struct cpuid_policy {
	unsigned ncpus;
	uint32_t tsc_khz;                 /* 0: unknown, no timing leaf */
	enum cpuid_hv_interface hv;
	struct cpuid_mask masks[CPUID_MAX_MASKS];
	unsigned nmasks;
};

struct cpuid_table {
	struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
	unsigned count;
};

/* The default policy: no PMU leaf, hypervisor bit set. */
void cpuid_policy_init(struct cpuid_policy *pol, unsigned ncpus, enum cpuid_hv_interface hv);
int cpuid_policy_add_mask(struct cpuid_policy *pol, const struct cpuid_mask *mask);

/* Builds the table for vCPU `cpu` (its APIC id is cpu). -E2BIG if the result overflows. */
int cpuid_policy_apply(const struct cpuid_policy *pol, const struct cpuid_table *supported,
		       unsigned cpu, struct cpuid_table *out);

struct kvm_cpuid_entry2 *cpuid_table_find(struct cpuid_table *t, uint32_t function, uint32_t index);
