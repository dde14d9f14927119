/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What KVM holds of a partition, as a saved state: the in-kernel irqchip
 * (both PICs and the IOAPIC), the PIT, kvmclock, the TSC rate, and every
 * vCPU's registers, FPU/XSAVE, XCRs, LAPIC, MP state, pending events,
 * debug registers, the MSRs of kvm_state_msrs and its CPUID. Pure: the
 * partition fills these in and applies them (partition_state.c); here
 * they become a GVariant and come back from one, each piece checked
 * against the kernel's struct sizes and our limits. What the values mean
 * is KVM's to check when they are set.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include <glib.h>

#include "hv/cpuid_policy.h"

/* MSRs saved per vCPU at most (kvm_state_msrs has fewer). */
#define KVM_STATE_MSRS_MAX   96u
/* The largest XSAVE area taken (KVM_CAP_XSAVE2 reports about 11 KiB with AMX). */
#define KVM_STATE_XSAVE_MAX  (64u * 1024u)

/* The MSRs a vCPU's state holds when KVM lists them (KVM_GET_MSR_INDEX_LIST):
 * those QEMU saves for x86 guests, without the PMU (the guest has none). */
extern const uint32_t kvm_state_msrs[];
extern const size_t kvm_state_n_msrs;
bool kvm_state_msr_known(uint32_t index);
/* MSR_IA32_TSC_DEADLINE: set after the LAPIC, or KVM forgets it. */
#define KVM_STATE_MSR_TSC_DEADLINE 0x6e0u

struct kvm_state_msr {
	uint32_t index;
	uint64_t data;
};

struct kvm_state_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t *xsave;              /* the XSAVE area, or NULL: then fpu */
	size_t xsave_len;
	struct kvm_fpu fpu;
	bool has_xcrs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp_state;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	unsigned nmsrs;
	struct kvm_state_msr msrs[KVM_STATE_MSRS_MAX];
	unsigned ncpuid;
	struct kvm_cpuid_entry2 cpuid[CPUID_MAX_ENTRIES];
};

struct kvm_state_vm {
	uint32_t tsc_khz;
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	unsigned nvcpus;
	struct kvm_state_vcpu *vcpus;
};

#define KVM_STATE_VCPU_TYPE "(ayayayayayayayayaya(ut)ay)"
#define KVM_STATE_VM_TYPE   "(uayayayayaya" KVM_STATE_VCPU_TYPE ")"

/* Frees what the state owns (XSAVE areas, the vCPU array). */
void kvm_state_vm_clear(struct kvm_state_vm *s);
/* A floating reference. */
GVariant *kvm_state_vm_to_variant(const struct kvm_state_vm *s);
/*
 * The state of a machine with nvcpus vCPUs from v: 0 and *out (clear it
 * after), or -EINVAL with error set for another type, another vCPU count,
 * a struct of the wrong size, an XSAVE area out of range, more than
 * KVM_STATE_MSRS_MAX MSRs or one twice or not in kvm_state_msrs, a CPUID
 * table that is not whole entries or too long, an irqchip of another id.
 */
int kvm_state_vm_from_variant(GVariant *v, unsigned nvcpus, struct kvm_state_vm *out, GError **error);
