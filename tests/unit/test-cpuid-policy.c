// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <glib.h>

#include "hv/cpuid_policy.h"
#include "hv/hyperv_tlfs.h"

static void add(struct cpuid_table *t, uint32_t fn, uint32_t idx, bool sig, uint32_t a, uint32_t b,
		uint32_t c, uint32_t d)
{
	t->entries[t->count++] = (struct kvm_cpuid_entry2){ .function = fn, .index = idx,
		.flags = sig ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

/* Shaped like what KVM_GET_SUPPORTED_CPUID returns on an AMD host. */
static void supported(struct cpuid_table *t)
{
	t->count = 0;
	add(t, 0, 0, false, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
	add(t, 1, 0, false, 0x00830f10, 0x00000800, 0x76d8320b, 0x178bfbff);
	add(t, 4, 0, true, 0x121, 0x1c0003f, 0x3f, 0);
	add(t, 0xA, 0, false, 0x07300402, 0, 0, 0x603);
	add(t, 0xB, 0, true, 1, 1, 0x100, 0);
	add(t, 0xB, 1, true, 4, 4, 0x201, 0);
	add(t, 0x40000000, 0, false, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(t, 0x40000001, 0, false, 0x01007afb, 0, 0, 0);
	add(t, 0x80000007, 0, false, 0, 0, 0, 0);
	add(t, 0x80000008, 0, false, 0x3030, 0, 0x7003, 0);
}

static void test_topology(void)
{
	struct cpuid_table sup, out;
	struct cpuid_policy pol;
	supported(&sup);
	cpuid_policy_init(&pol, 4, CPUID_HV_KVM);
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		g_assert_cmpint(cpuid_policy_apply(&pol, &sup, cpu, &out), ==, 0);
		struct kvm_cpuid_entry2 *l1 = cpuid_table_find(&out, 1, 0);
		g_assert_nonnull(l1);
		g_assert_cmpuint(l1->ebx >> 24, ==, cpu);
		g_assert_cmpuint((l1->ebx >> 16) & 0xff, ==, 4);
		g_assert_cmphex(l1->ecx & (1u << 31), !=, 0);
		g_assert_cmphex(l1->ebx & 0xffff, ==, 0x0800);
		struct kvm_cpuid_entry2 *b1 = cpuid_table_find(&out, 0xB, 1);
		g_assert_nonnull(b1);
		g_assert_cmpuint(b1->edx, ==, cpu);
		g_assert_cmpuint(b1->ebx, ==, 4);
		g_assert_cmpuint(b1->eax, ==, 2);
		struct kvm_cpuid_entry2 *x8 = cpuid_table_find(&out, 0x80000008, 0);
		g_assert_cmpuint(x8->ecx & 0xff, ==, 3);
		g_assert_cmpuint(x8->eax, ==, 0x3030);
	}
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 4, &out), ==, -EINVAL);
}

static void test_hv_leaves(void)
{
	struct cpuid_table sup, out;
	struct cpuid_policy pol;
	supported(&sup);
	cpuid_policy_init(&pol, 1, CPUID_HV_NONE);
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 0, &out), ==, 0);
	g_assert_null(cpuid_table_find(&out, 0x40000000, 0));
	g_assert_null(cpuid_table_find(&out, 0x40000001, 0));

	cpuid_policy_init(&pol, 1, CPUID_HV_KVM);
	pol.tsc_khz = 2500000;
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 0, &out), ==, 0);
	struct kvm_cpuid_entry2 *base = cpuid_table_find(&out, 0x40000000, 0);
	g_assert_nonnull(base);
	g_assert_cmphex(base->eax, ==, 0x40000010);
	struct kvm_cpuid_entry2 *timing = cpuid_table_find(&out, 0x40000010, 0);
	g_assert_nonnull(timing);
	g_assert_cmpuint(timing->eax, ==, 2500000);
	g_assert_cmpuint(timing->ebx, ==, 1000000);
}

static void test_hyperv_leaves(void)
{
	struct cpuid_table sup, out;
	struct cpuid_policy pol;
	supported(&sup);
	cpuid_policy_init(&pol, 3, CPUID_HV_HYPERV);
	pol.tsc_khz = 2500000;
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 1, &out), ==, 0);

	/* Exactly one vendor leaf at 0x40000000, and it is Microsoft's: Linux
	 * picks the hypervisor with the highest base, so no KVM leaf may remain. */
	unsigned vendor_leaves = 0;
	for (unsigned i = 0; i < out.count; i++) {
		struct kvm_cpuid_entry2 *e = &out.entries[i];
		g_assert_false(e->ebx == 0x4b4d564b);   /* "KVMK" */
		if (e->function == 0x40000000)
			vendor_leaves++;
	}
	g_assert_cmpuint(vendor_leaves, ==, 1);
	struct kvm_cpuid_entry2 *v = cpuid_table_find(&out, HV_CPUID_VENDOR, 0);
	g_assert_cmphex(v->eax, >=, 0x40000005);
	g_assert_cmphex(v->eax, <, 0x4000000A);
	g_assert_cmpmem(&v->ebx, 4, "Micr", 4);
	g_assert_cmpmem(&v->ecx, 4, "osof", 4);
	g_assert_cmpmem(&v->edx, 4, "t Hv", 4);
	g_assert_cmphex(cpuid_table_find(&out, HV_CPUID_INTERFACE, 0)->eax, ==, 0x31237648);

	struct kvm_cpuid_entry2 *f = cpuid_table_find(&out, HV_CPUID_FEATURES, 0);
	/* Linux refuses Hyper-V without the hypercall and VP index MSRs. */
	g_assert_cmphex(f->eax & (HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX), ==, HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX);
	/* Never the time reference counter without the TSC page (a rating-500 MSR clocksource). */
	g_assert_cmphex(f->eax & (1u << 1), ==, 0);
	g_assert_cmphex(f->eax & (1u << 9), ==, 0);
	/* Never partition id (its failure is a BUG() in Linux) nor root-partition rights. */
	g_assert_cmphex(f->ebx & ((1u << 1) | (1u << 12) | (1u << 20) | (1u << 22)), ==, 0);
	struct kvm_cpuid_entry2 *h = cpuid_table_find(&out, HV_CPUID_ENLIGHTENMENT, 0);
	g_assert_cmphex(h->eax & HV_HINT_DEPRECATING_AEOI, !=, 0);
	g_assert_cmphex(h->eax & ((1u << 2) | (1u << 3) | (1u << 10) | (1u << 11) | (1u << 14)), ==, 0);
	g_assert_cmpuint(cpuid_table_find(&out, HV_CPUID_LIMITS, 0)->eax, ==, 3);
	g_assert_nonnull(cpuid_table_find(&out, HV_CPUID_VS1_SIGNATURE, 0));
	g_assert_cmphex(cpuid_table_find(&out, 0x80000007, 0)->edx & (1u << 8), !=, 0);
	g_assert_cmphex(cpuid_table_find(&out, 1, 0)->ecx & (1u << 31), !=, 0);
	g_assert_null(cpuid_table_find(&out, 0x40000010, 0));
}

static void test_masks(void)
{
	struct cpuid_table sup, out;
	struct cpuid_policy pol;
	supported(&sup);
	cpuid_policy_init(&pol, 1, CPUID_HV_KVM);
	struct kvm_cpuid_entry2 *pmu;
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 0, &out), ==, 0);
	pmu = cpuid_table_find(&out, 0xA, 0);
	g_assert_nonnull(pmu);
	g_assert_cmphex(pmu->eax | pmu->ebx | pmu->ecx | pmu->edx, ==, 0);

	/* A per-VM mask: hide AVX (leaf 1 ECX bit 28) from this VM. */
	g_assert_cmpint(cpuid_policy_add_mask(&pol, &(struct cpuid_mask){ 1, ~0u, CPUID_ECX, 1u << 28 }), ==, 0);
	g_assert_cmpint(cpuid_policy_apply(&pol, &sup, 0, &out), ==, 0);
	g_assert_cmphex(cpuid_table_find(&out, 1, 0)->ecx & (1u << 28), ==, 0);
	g_assert_cmphex(cpuid_table_find(&out, 1, 0)->ecx & (1u << 0), !=, 0);

	while (pol.nmasks < CPUID_MAX_MASKS)
		cpuid_policy_add_mask(&pol, &(struct cpuid_mask){ 7, 0, CPUID_EBX, 1 });
	g_assert_cmpint(cpuid_policy_add_mask(&pol, &(struct cpuid_mask){ 7, 0, CPUID_EBX, 1 }), ==, -E2BIG);
}

static void test_overflow(void)
{
	struct cpuid_table *sup = g_new0(struct cpuid_table, 1), *out = g_new0(struct cpuid_table, 1);
	struct cpuid_policy pol;
	for (unsigned i = 0; i < CPUID_MAX_ENTRIES - 1; i++)
		add(sup, 0x0d, i, true, 0, 0, 0, 0);
	add(sup, 0x40000000, 0, false, 0x40000001, 0, 0, 0);
	cpuid_policy_init(&pol, 1, CPUID_HV_KVM);
	pol.tsc_khz = 1000;
	/* The timing leaf would be entry 257: refused, not written past the table. */
	g_assert_cmpint(cpuid_policy_apply(&pol, sup, 0, out), ==, -E2BIG);
	g_free(sup);
	g_free(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cpuid/topology", test_topology);
	g_test_add_func("/cpuid/hv-leaves", test_hv_leaves);
	g_test_add_func("/cpuid/masks", test_masks);
	g_test_add_func("/cpuid/hyperv-leaves", test_hyperv_leaves);
	g_test_add_func("/cpuid/overflow", test_overflow);
	return g_test_run();
}
