// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/cpuid_policy.h"
#include "hv/hyperv_tlfs.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_HV_BASE          0x40000000u
#define CPUID_KVM_TIMING_LEAF  0x40000010u

void cpuid_policy_init(struct cpuid_policy *pol, unsigned ncpus, enum cpuid_hv_interface hv)
{
	*pol = (struct cpuid_policy){ .ncpus = ncpus, .hv = hv };
	/* No virtual PMU: the guest would program counters we do not save across reboots. */
	cpuid_policy_add_mask(pol, &(struct cpuid_mask){ 0xA, ~0u, CPUID_EAX, ~0u });
	cpuid_policy_add_mask(pol, &(struct cpuid_mask){ 0xA, ~0u, CPUID_EBX, ~0u });
	cpuid_policy_add_mask(pol, &(struct cpuid_mask){ 0xA, ~0u, CPUID_ECX, ~0u });
	cpuid_policy_add_mask(pol, &(struct cpuid_mask){ 0xA, ~0u, CPUID_EDX, ~0u });
}

int cpuid_policy_add_mask(struct cpuid_policy *pol, const struct cpuid_mask *mask)
{
	if (pol->nmasks >= CPUID_MAX_MASKS)
		return -E2BIG;
	pol->masks[pol->nmasks++] = *mask;
	return 0;
}

struct kvm_cpuid_entry2 *cpuid_table_find(struct cpuid_table *t, uint32_t function, uint32_t index)
{
	for (unsigned i = 0; i < t->count; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];
		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

static uint32_t *cpuid_reg_ptr(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	case CPUID_EDX: return &e->edx;
	}
	return &e->eax;
}

static unsigned cpuid_bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Topology: one package, `ncpus` cores, one thread each; APIC id = cpu index. */
static void cpuid_apply_topology(struct kvm_cpuid_entry2 *e, unsigned ncpus, unsigned cpu)
{
	unsigned core_bits = cpuid_bits_for(ncpus);
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)cpu << 24) |
			 ((uint32_t)(ncpus > 255 ? 255 : ncpus) << 16);
		e->edx |= 1u << 28;   /* HTT: the logical count field is valid */
		break;
	case 4:
		if ((e->eax & 0x1f) != 0)
			e->eax = (e->eax & 0x03ffffffu) | ((uint32_t)((1u << core_bits) - 1) << 26);
		break;
	case 0xB:
	case 0x1F:
		/* Level 0: SMT (1 thread), level 1: core, others: invalid. */
		if (e->index == 0) {
			e->eax = 0; e->ebx = 1; e->ecx = (1u << 8) | 0;
		} else if (e->index == 1) {
			e->eax = core_bits; e->ebx = ncpus; e->ecx = (2u << 8) | 1;
		} else {
			e->eax = 0; e->ebx = 0; e->ecx = e->index;
		}
		e->edx = cpu;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffu) | (core_bits << 12) | ((ncpus - 1) & 0xff);
		break;
	case 0x8000001E:
		e->eax = cpu;
		e->ebx = (e->ebx & ~0xffu) | (cpu & 0xff);
		break;
	default:
		break;
	}
}

static int cpuid_push(struct cpuid_table *out, const struct kvm_cpuid_entry2 *e)
{
	if (out->count >= CPUID_MAX_ENTRIES)
		return -E2BIG;
	out->entries[out->count++] = *e;
	return 0;
}

/* The Hyper-V leaves: what hyperv-host.md section 1 recommends, no more. */
static int cpuid_add_hyperv(const struct cpuid_policy *pol, struct cpuid_table *out)
{
	const struct kvm_cpuid_entry2 leaves[] = {
		{ .function = HV_CPUID_VENDOR, .eax = HV_CPUID_MAX_LEAF, .ebx = HV_SIGNATURE_EBX,
		  .ecx = HV_SIGNATURE_ECX, .edx = HV_SIGNATURE_EDX },
		{ .function = HV_CPUID_INTERFACE, .eax = HV_INTERFACE_HV1 },
		{ .function = HV_CPUID_VERSION, .eax = 20348, .ebx = 0x000A0000 },   /* 10.0.20348 */
		{ .function = HV_CPUID_FEATURES,
		  .eax = HV_PRIV_SYNIC | HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX | HV_PRIV_FREQUENCY_MSRS |
			 HV_PRIV_TSC_INVARIANT,
		  .ebx = HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS,
		  .edx = HV_FEATURE_FREQUENCY_MSRS | HV_FEATURE_GUEST_CRASH_MSR },
		{ .function = HV_CPUID_ENLIGHTENMENT, .eax = HV_HINT_DEPRECATING_AEOI, .ebx = 0xFFFFFFFFu },
		{ .function = HV_CPUID_LIMITS, .eax = pol->ncpus, .ebx = pol->ncpus },
		{ .function = HV_CPUID_MAX_LEAF },
		/* Explicit zeros, so the guest's reads are answered the same on every host. */
		{ .function = HV_CPUID_VS1_SIGNATURE },
		{ .function = HV_CPUID_VS1_SIGNATURE2 },
	};
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		int r = cpuid_push(out, &leaves[i]);
		if (r < 0)
			return r;
	}
	/* Invariant TSC: with TSC_INVARIANT above, the TSC stays the clocksource. */
	struct kvm_cpuid_entry2 *pm = cpuid_table_find(out, 0x80000007, 0);
	if (pm)
		pm->edx |= 1u << 8;
	return 0;
}

int cpuid_policy_apply(const struct cpuid_policy *pol, const struct cpuid_table *supported,
		       unsigned cpu, struct cpuid_table *out)
{
	if (pol->ncpus == 0 || cpu >= pol->ncpus || supported->count > CPUID_MAX_ENTRIES)
		return -EINVAL;
	out->count = 0;
	uint32_t hv_max = 0;

	for (unsigned i = 0; i < supported->count; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];
		bool hv_leaf = e.function >= CPUID_HV_BASE && e.function < 0x80000000u;
		if (hv_leaf && pol->hv != CPUID_HV_KVM)
			continue;
		if (hv_leaf && e.function == CPUID_HV_BASE)
			hv_max = e.eax;
		if (e.function == 1)
			e.ecx |= CPUID_1_ECX_HYPERVISOR;
		cpuid_apply_topology(&e, pol->ncpus, cpu);
		for (unsigned m = 0; m < pol->nmasks; m++) {
			const struct cpuid_mask *mk = &pol->masks[m];
			if (mk->function == e.function && (mk->index == ~0u || mk->index == e.index))
				*cpuid_reg_ptr(&e, mk->reg) &= ~mk->bits;
		}
		int r = cpuid_push(out, &e);
		if (r < 0)
			return r;
	}

	if (pol->hv == CPUID_HV_HYPERV) {
		int r = cpuid_add_hyperv(pol, out);
		if (r < 0)
			return r;
	}

	if (pol->hv == CPUID_HV_KVM && hv_max && pol->tsc_khz) {
		/* The timing leaf tells TSC and LAPIC bus frequencies (KVM's APIC bus is 1 GHz). */
		struct kvm_cpuid_entry2 *base = cpuid_table_find(out, CPUID_HV_BASE, 0);
		if (base && base->eax < CPUID_KVM_TIMING_LEAF)
			base->eax = CPUID_KVM_TIMING_LEAF;
		struct kvm_cpuid_entry2 t = { .function = CPUID_KVM_TIMING_LEAF,
			.eax = pol->tsc_khz, .ebx = 1000000 };
		int r = cpuid_push(out, &t);
		if (r < 0)
			return r;
	}
	return 0;
}
