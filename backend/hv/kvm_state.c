// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/kvm_state.h"
#include "hv/saved_state.h"

const uint32_t kvm_state_msrs[] = {
	0x00000010, /* TSC */
	0x0000003a, /* FEATURE_CONTROL */
	0x0000003b, /* TSC_ADJUST */
	0x00000048, /* SPEC_CTRL */
	0x0000010a, /* ARCH_CAPABILITIES */
	0x00000174, 0x00000175, 0x00000176, /* SYSENTER_CS, ESP, EIP */
	0x0000017a, 0x0000017b, /* MCG_STATUS, MCG_CTL */
	0x000001a0, /* MISC_ENABLE */
	0x000001c4, 0x000001c5, /* XFD, XFD_ERR */
	0x00000200, 0x00000201, 0x00000202, 0x00000203, 0x00000204, 0x00000205, 0x00000206, 0x00000207,
	0x00000208, 0x00000209, 0x0000020a, 0x0000020b, 0x0000020c, 0x0000020d, 0x0000020e, 0x0000020f,
	0x00000250, 0x00000258, 0x00000259, /* fixed MTRRs */
	0x00000268, 0x00000269, 0x0000026a, 0x0000026b, 0x0000026c, 0x0000026d, 0x0000026e, 0x0000026f,
	0x00000277, /* PAT */
	0x000002ff, /* MTRRdefType */
	KVM_STATE_MSR_TSC_DEADLINE,
	0x00000da0, /* XSS */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SYSCALL_MASK */
	0xc0000102, 0xc0000103, /* KERNEL_GS_BASE, TSC_AUX */
	0xc001011f, /* AMD64_VIRT_SPEC_CTRL */
	0x00000011, 0x00000012, /* kvmclock (old numbers) */
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04, 0x4b564d05, 0x4b564d06, /* kvmclock, PV */
};
const size_t kvm_state_n_msrs = G_N_ELEMENTS(kvm_state_msrs);
_Static_assert(G_N_ELEMENTS(kvm_state_msrs) <= KVM_STATE_MSRS_MAX, "every listed MSR fits a vCPU's state");

bool kvm_state_msr_known(uint32_t index)
{
	for (size_t i = 0; i < kvm_state_n_msrs; i++)
		if (kvm_state_msrs[i] == index)
			return true;
	return false;
}

void kvm_state_vm_clear(struct kvm_state_vm *s)
{
	if (s->vcpus)
		for (unsigned i = 0; i < s->nvcpus; i++)
			g_free(s->vcpus[i].xsave);
	g_free(s->vcpus);
	s->vcpus = NULL;
	s->nvcpus = 0;
}

#define BLOB(x) saved_state_blob(&(x), sizeof(x))

static GVariant *kvm_state_vcpu_to_variant(const struct kvm_state_vcpu *c)
{
	GVariantBuilder m;
	g_variant_builder_init(&m, G_VARIANT_TYPE("a(ut)"));
	for (unsigned i = 0; i < c->nmsrs && i < KVM_STATE_MSRS_MAX; i++)
		g_variant_builder_add(&m, "(ut)", c->msrs[i].index, (guint64)c->msrs[i].data);
	unsigned ncpuid = c->ncpuid < CPUID_MAX_ENTRIES ? c->ncpuid : CPUID_MAX_ENTRIES;
	return g_variant_new("(@ay@ay@ay@ay@ay@ay@ay@ay@ay@a(ut)@ay)", BLOB(c->regs), BLOB(c->sregs),
			     c->xsave ? saved_state_blob(NULL, 0) : BLOB(c->fpu),
			     saved_state_blob(c->xsave, c->xsave ? c->xsave_len : 0),
			     c->has_xcrs ? BLOB(c->xcrs) : saved_state_blob(NULL, 0), BLOB(c->lapic), BLOB(c->mp_state),
			     BLOB(c->events), BLOB(c->debugregs), g_variant_builder_end(&m),
			     saved_state_blob(c->cpuid, ncpuid * sizeof(c->cpuid[0])));
}

GVariant *kvm_state_vm_to_variant(const struct kvm_state_vm *s)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a" KVM_STATE_VCPU_TYPE));
	for (unsigned i = 0; i < s->nvcpus; i++)
		g_variant_builder_add_value(&b, kvm_state_vcpu_to_variant(&s->vcpus[i]));
	return g_variant_new("(u@ay@ay@ay@ay@ay@a" KVM_STATE_VCPU_TYPE ")", s->tsc_khz, BLOB(s->pic_master),
			     BLOB(s->pic_slave), BLOB(s->ioapic), BLOB(s->pit), BLOB(s->clock),
			     g_variant_builder_end(&b));
}

static int kvm_state_vcpu_from_variant(GVariant *v, unsigned n, struct kvm_state_vcpu *c, GError **error)
{
	g_autoptr(GVariant) regs = NULL, sregs = NULL, fpu = NULL, xsave = NULL, xcrs = NULL, lapic = NULL;
	g_autoptr(GVariant) mp = NULL, events = NULL, dbg = NULL, msrs = NULL, cpuid = NULL;
	g_variant_get(v, "(@ay@ay@ay@ay@ay@ay@ay@ay@ay@a(ut)@ay)", &regs, &sregs, &fpu, &xsave, &xcrs, &lapic, &mp,
		      &events, &dbg, &msrs, &cpuid);
	g_autofree char *w = g_strdup_printf("kvm: vCPU %u", n);
	g_autofree char *w_regs = g_strconcat(w, " registers", NULL), *w_sregs = g_strconcat(w, " sregs", NULL);
	g_autofree char *w_fpu = g_strconcat(w, " FPU", NULL), *w_xcrs = g_strconcat(w, " XCRs", NULL);
	g_autofree char *w_lapic = g_strconcat(w, " LAPIC", NULL), *w_mp = g_strconcat(w, " MP state", NULL);
	g_autofree char *w_ev = g_strconcat(w, " events", NULL), *w_dbg = g_strconcat(w, " debug registers", NULL);
	if (saved_state_blob_get(regs, &c->regs, sizeof(c->regs), w_regs, error) < 0 ||
	    saved_state_blob_get(sregs, &c->sregs, sizeof(c->sregs), w_sregs, error) < 0 ||
	    saved_state_blob_get(lapic, &c->lapic, sizeof(c->lapic), w_lapic, error) < 0 ||
	    saved_state_blob_get(mp, &c->mp_state, sizeof(c->mp_state), w_mp, error) < 0 ||
	    saved_state_blob_get(events, &c->events, sizeof(c->events), w_ev, error) < 0 ||
	    saved_state_blob_get(dbg, &c->debugregs, sizeof(c->debugregs), w_dbg, error) < 0)
		return -EINVAL;
	size_t xlen;
	const uint8_t *x = saved_state_blob_peek(xsave, &xlen);
	if (xlen == 0) {
		if (saved_state_blob_get(fpu, &c->fpu, sizeof(c->fpu), w_fpu, error) < 0)
			return -EINVAL;
	} else {
		if (xlen < sizeof(struct kvm_xsave) || xlen > KVM_STATE_XSAVE_MAX || xlen % 4)
			return saved_state_fail(error, "%s XSAVE area: %zu bytes", w, xlen);
		if (g_variant_n_children(fpu) != 0)
			return saved_state_fail(error, "%s: both an FPU and an XSAVE area", w);
		c->xsave = g_memdup2(x, xlen);
		c->xsave_len = xlen;
	}
	c->has_xcrs = g_variant_n_children(xcrs) != 0;
	if (c->has_xcrs && saved_state_blob_get(xcrs, &c->xcrs, sizeof(c->xcrs), w_xcrs, error) < 0)
		return -EINVAL;
	if (c->has_xcrs && c->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return saved_state_fail(error, "%s: %u XCRs", w, c->xcrs.nr_xcrs);
	gsize nm = g_variant_n_children(msrs);
	if (nm > KVM_STATE_MSRS_MAX)
		return saved_state_fail(error, "%s: %zu MSRs, more than %u", w, (size_t)nm, KVM_STATE_MSRS_MAX);
	for (gsize i = 0; i < nm; i++) {
		guint32 index;
		guint64 data;
		g_variant_get_child(msrs, i, "(ut)", &index, &data);
		if (!kvm_state_msr_known(index))
			return saved_state_fail(error, "%s: MSR %#x is not one a state holds", w, index);
		for (gsize j = 0; j < i; j++)
			if (c->msrs[j].index == index)
				return saved_state_fail(error, "%s: MSR %#x twice", w, index);
		c->msrs[i] = (struct kvm_state_msr){ index, data };
	}
	c->nmsrs = (unsigned)nm;
	size_t clen;
	const uint8_t *cp = saved_state_blob_peek(cpuid, &clen);
	if (clen % sizeof(c->cpuid[0]) || clen / sizeof(c->cpuid[0]) > CPUID_MAX_ENTRIES)
		return saved_state_fail(error, "%s CPUID: %zu bytes", w, clen);
	memcpy(c->cpuid, cp, clen);
	c->ncpuid = (unsigned)(clen / sizeof(c->cpuid[0]));
	return 0;
}

static int kvm_state_irqchip(GVariant *v, struct kvm_irqchip *chip, uint32_t id, const char *what, GError **error)
{
	if (saved_state_blob_get(v, chip, sizeof(*chip), what, error) < 0)
		return -EINVAL;
	if (chip->chip_id != id)
		return saved_state_fail(error, "%s: chip id %u, not %u", what, chip->chip_id, id);
	return 0;
}

int kvm_state_vm_from_variant(GVariant *v, unsigned nvcpus, struct kvm_state_vm *out, GError **error)
{
	if (saved_state_check_type(v, KVM_STATE_VM_TYPE, "kvm", error) < 0)
		return -EINVAL;
	struct kvm_state_vm s = { 0 };
	g_autoptr(GVariant) pm = NULL, ps = NULL, io = NULL, pit = NULL, clock = NULL, vcpus = NULL;
	g_variant_get(v, "(u@ay@ay@ay@ay@ay@a" KVM_STATE_VCPU_TYPE ")", &s.tsc_khz, &pm, &ps, &io, &pit, &clock,
		      &vcpus);
	if (kvm_state_irqchip(pm, &s.pic_master, KVM_IRQCHIP_PIC_MASTER, "kvm: PIC master", error) < 0 ||
	    kvm_state_irqchip(ps, &s.pic_slave, KVM_IRQCHIP_PIC_SLAVE, "kvm: PIC slave", error) < 0 ||
	    kvm_state_irqchip(io, &s.ioapic, KVM_IRQCHIP_IOAPIC, "kvm: IOAPIC", error) < 0 ||
	    saved_state_blob_get(pit, &s.pit, sizeof(s.pit), "kvm: PIT", error) < 0 ||
	    saved_state_blob_get(clock, &s.clock, sizeof(s.clock), "kvm: clock", error) < 0)
		return -EINVAL;
	gsize n = g_variant_n_children(vcpus);
	if (n != nvcpus)
		return saved_state_fail(error, "kvm: %zu vCPUs saved, this machine has %u", (size_t)n, nvcpus);
	s.nvcpus = (unsigned)n;
	s.vcpus = g_new0(struct kvm_state_vcpu, n ? n : 1);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) c = g_variant_get_child_value(vcpus, i);
		if (kvm_state_vcpu_from_variant(c, (unsigned)i, &s.vcpus[i], error) < 0) {
			kvm_state_vm_clear(&s);
			return -EINVAL;
		}
	}
	*out = s;
	return 0;
}
