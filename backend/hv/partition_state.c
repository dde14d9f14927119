// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What KVM holds of a partition, saved and restored (kvm_state.h for the
 * format). Both run with the vCPUs parked (partition_pause: each one has
 * finished the instruction of its last exit) or not started yet. Restore
 * follows the order QEMU found KVM needs: registers, XSAVE, XCRs, sregs
 * (the APIC base), the LAPIC, MSRs, events, MP state, then the TSC
 * deadline (it only sticks once the LAPIC is in deadline mode), debug
 * registers; the irqchip comes after the vCPUs, as injecting from the
 * IOAPIC wants the LAPICs in place.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hv/kvm_state.h"
#include "hv/partition.h"
#include "hv/saved_state.h"
#include "hv/vcpu.h"

static int ps_fail(GError **error, int e, const char *what, unsigned vcpu)
{
	if (vcpu == ~0u)
		g_set_error(error, SAVED_STATE_ERROR, 0, "kvm: %s: %s", what, g_strerror(e));
	else
		g_set_error(error, SAVED_STATE_ERROR, 0, "kvm: vCPU %u: %s: %s", vcpu, what, g_strerror(e));
	return -e;
}

#define PS_IOCTL(fd, req, arg, what, vcpu) do { \
	if (ioctl((fd), (req), (arg)) < 0) \
		return ps_fail(error, errno, (what), (vcpu)); \
} while (0)

/* The MSRs of kvm_state_msrs that this KVM lists for saving. */
static int ps_msr_list(struct partition *p, uint32_t *out, unsigned *n, GError **error)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(p->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return ps_fail(error, errno, "KVM_GET_MSR_INDEX_LIST", ~0u);
	g_autofree struct kvm_msr_list *l = g_malloc0(sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
	l->nmsrs = probe.nmsrs;
	PS_IOCTL(p->kvm_fd, KVM_GET_MSR_INDEX_LIST, l, "KVM_GET_MSR_INDEX_LIST", ~0u);
	*n = 0;
	for (size_t i = 0; i < kvm_state_n_msrs; i++)
		for (uint32_t j = 0; j < l->nmsrs; j++)
			if (l->indices[j] == kvm_state_msrs[i]) {
				out[(*n)++] = kvm_state_msrs[i];
				break;
			}
	return 0;
}

static size_t ps_xsave_size(struct partition *p)
{
	int x2 = ioctl(p->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (x2 > 0)
		return (size_t)x2 > sizeof(struct kvm_xsave) ? (size_t)x2 : sizeof(struct kvm_xsave);
	return ioctl(p->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 ? sizeof(struct kvm_xsave) : 0;
}

/* KVM_GET_MSRS stops at the first MSR it cannot read (one the CPUID does
 * not give the guest): those are left out. */
static int ps_get_msrs(struct vcpu *v, const uint32_t *list, unsigned n, struct kvm_state_vcpu *c,
		       GError **error)
{
	g_autofree struct kvm_msrs *m = g_malloc0(sizeof(*m) + n * sizeof(struct kvm_msr_entry));
	unsigned done = 0;
	c->nmsrs = 0;
	while (done < n) {
		m->nmsrs = n - done;
		for (unsigned i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){ .index = list[done + i] };
		int got = ioctl(v->fd, KVM_GET_MSRS, m);
		if (got < 0)
			return ps_fail(error, errno, "KVM_GET_MSRS", v->index);
		for (int i = 0; i < got; i++)
			c->msrs[c->nmsrs++] = (struct kvm_state_msr){ m->entries[i].index, m->entries[i].data };
		done += (unsigned)got + 1;        /* skip the one it refused */
	}
	return 0;
}

static int ps_save_vcpu(struct partition *p, struct vcpu *v, const uint32_t *msrs, unsigned nmsrs,
			size_t xsave_size, struct kvm_state_vcpu *c, GError **error)
{
	PS_IOCTL(v->fd, KVM_GET_REGS, &c->regs, "KVM_GET_REGS", v->index);
	PS_IOCTL(v->fd, KVM_GET_SREGS, &c->sregs, "KVM_GET_SREGS", v->index);
	if (xsave_size) {
		c->xsave = g_malloc0(xsave_size);
		c->xsave_len = xsave_size;
		if (xsave_size > sizeof(struct kvm_xsave))
			PS_IOCTL(v->fd, KVM_GET_XSAVE2, c->xsave, "KVM_GET_XSAVE2", v->index);
		else
			PS_IOCTL(v->fd, KVM_GET_XSAVE, c->xsave, "KVM_GET_XSAVE", v->index);
	} else {
		PS_IOCTL(v->fd, KVM_GET_FPU, &c->fpu, "KVM_GET_FPU", v->index);
	}
	c->has_xcrs = ioctl(p->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	if (c->has_xcrs)
		PS_IOCTL(v->fd, KVM_GET_XCRS, &c->xcrs, "KVM_GET_XCRS", v->index);
	PS_IOCTL(v->fd, KVM_GET_LAPIC, &c->lapic, "KVM_GET_LAPIC", v->index);
	PS_IOCTL(v->fd, KVM_GET_MP_STATE, &c->mp_state, "KVM_GET_MP_STATE", v->index);
	PS_IOCTL(v->fd, KVM_GET_VCPU_EVENTS, &c->events, "KVM_GET_VCPU_EVENTS", v->index);
	PS_IOCTL(v->fd, KVM_GET_DEBUGREGS, &c->debugregs, "KVM_GET_DEBUGREGS", v->index);
	int r = ps_get_msrs(v, msrs, nmsrs, c, error);
	if (r < 0)
		return r;
	/* The table we gave it, not KVM's (KVM_GET_CPUID2 has bits that follow
	 * CR4 and XCR0): restore compares it with what this host would give. */
	struct cpuid_table *t = g_new0(struct cpuid_table, 1);
	r = cpuid_policy_apply(&p->policy, &p->supported, v->index, t);
	if (r == 0) {
		memcpy(c->cpuid, t->entries, t->count * sizeof(t->entries[0]));
		c->ncpuid = t->count;
	}
	g_free(t);
	return r < 0 ? ps_fail(error, -r, "its CPUID", v->index) : 0;
}

int partition_save(struct partition *p, GVariant **out, GError **error)
{
	struct kvm_state_vm s = { .tsc_khz = p->tsc_khz, .nvcpus = p->ncpus };
	s.vcpus = g_new0(struct kvm_state_vcpu, p->ncpus);
	s.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	uint32_t msrs[KVM_STATE_MSRS_MAX];
	unsigned nmsrs = 0;
	int r = ps_msr_list(p, msrs, &nmsrs, error);
	size_t xsave_size = ps_xsave_size(p);
	for (unsigned i = 0; i < p->ncpus && r == 0; i++)
		r = ps_save_vcpu(p, &p->vcpus[i], msrs, nmsrs, xsave_size, &s.vcpus[i], error);
	if (r == 0 && ioctl(p->vm_fd, KVM_GET_IRQCHIP, &s.pic_master) < 0)
		r = ps_fail(error, errno, "KVM_GET_IRQCHIP (PIC master)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_GET_IRQCHIP, &s.pic_slave) < 0)
		r = ps_fail(error, errno, "KVM_GET_IRQCHIP (PIC slave)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_GET_IRQCHIP, &s.ioapic) < 0)
		r = ps_fail(error, errno, "KVM_GET_IRQCHIP (IOAPIC)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_GET_PIT2, &s.pit) < 0)
		r = ps_fail(error, errno, "KVM_GET_PIT2", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_GET_CLOCK, &s.clock) < 0)
		r = ps_fail(error, errno, "KVM_GET_CLOCK", ~0u);
	if (r == 0)
		*out = g_variant_ref_sink(kvm_state_vm_to_variant(&s));
	kvm_state_vm_clear(&s);
	return r;
}

static int ps_set_msrs(struct vcpu *v, const struct kvm_state_vcpu *c, bool deadline, GError **error)
{
	g_autofree struct kvm_msrs *m = g_malloc0(sizeof(*m) + c->nmsrs * sizeof(struct kvm_msr_entry));
	for (unsigned i = 0; i < c->nmsrs; i++)
		if ((c->msrs[i].index == KVM_STATE_MSR_TSC_DEADLINE) == deadline)
			m->entries[m->nmsrs++] = (struct kvm_msr_entry){ .index = c->msrs[i].index,
									  .data = c->msrs[i].data };
	if (m->nmsrs == 0)
		return 0;
	int got = ioctl(v->fd, KVM_SET_MSRS, m);
	if (got < 0)
		return ps_fail(error, errno, "KVM_SET_MSRS", v->index);
	if ((uint32_t)got < m->nmsrs) {
		g_set_error(error, SAVED_STATE_ERROR, 0, "kvm: vCPU %u: KVM refused MSR %#x = %#llx", v->index,
			    m->entries[got].index, (unsigned long long)m->entries[got].data);
		return -EINVAL;
	}
	return 0;
}

static int ps_restore_vcpu(struct partition *p, struct vcpu *v, const struct kvm_state_vcpu *c,
			   size_t xsave_size, GError **error)
{
	PS_IOCTL(v->fd, KVM_SET_REGS, &c->regs, "KVM_SET_REGS", v->index);
	if (c->xsave) {
		if (c->xsave_len > xsave_size) {
			g_set_error(error, SAVED_STATE_ERROR, 0,
				    "kvm: vCPU %u: its XSAVE area (%zu bytes) is larger than this host's (%zu)", v->index,
				    c->xsave_len, xsave_size);
			return -EINVAL;
		}
		g_autofree uint8_t *buf = g_malloc0(xsave_size);
		memcpy(buf, c->xsave, c->xsave_len);
		PS_IOCTL(v->fd, KVM_SET_XSAVE, buf, "KVM_SET_XSAVE", v->index);
	} else {
		PS_IOCTL(v->fd, KVM_SET_FPU, &c->fpu, "KVM_SET_FPU", v->index);
	}
	if (c->has_xcrs) {
		if (ioctl(p->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
			return ps_fail(error, ENOTSUP, "this host has no KVM_SET_XCRS", v->index);
		PS_IOCTL(v->fd, KVM_SET_XCRS, &c->xcrs, "KVM_SET_XCRS", v->index);
	}
	PS_IOCTL(v->fd, KVM_SET_SREGS, &c->sregs, "KVM_SET_SREGS", v->index);
	PS_IOCTL(v->fd, KVM_SET_LAPIC, &c->lapic, "KVM_SET_LAPIC", v->index);
	int r = ps_set_msrs(v, c, false, error);
	if (r < 0)
		return r;
	/* What the get reported as valid, plus the two fields a set only takes
	 * when told to; payloads and triple faults need caps we do not enable. */
	struct kvm_vcpu_events ev = c->events;
	ev.flags = (ev.flags & (KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)) |
		   KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	PS_IOCTL(v->fd, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", v->index);
	PS_IOCTL(v->fd, KVM_SET_MP_STATE, &c->mp_state, "KVM_SET_MP_STATE", v->index);
	r = ps_set_msrs(v, c, true, error);
	if (r < 0)
		return r;
	PS_IOCTL(v->fd, KVM_SET_DEBUGREGS, &c->debugregs, "KVM_SET_DEBUGREGS", v->index);
	return 0;
}

/* The saved CPUID is what this host gives the same configuration: else the
 * guest would find its CPU changed under it. */
static int ps_check_cpuid(struct partition *p, unsigned i, const struct kvm_state_vcpu *c, GError **error)
{
	g_autofree struct cpuid_table *t = g_new0(struct cpuid_table, 1);
	int r = cpuid_policy_apply(&p->policy, &p->supported, i, t);
	if (r < 0)
		return ps_fail(error, -r, "its CPUID", i);
	if (t->count != c->ncpuid || memcmp(t->entries, c->cpuid, t->count * sizeof(t->entries[0])) != 0) {
		g_set_error(error, SAVED_STATE_ERROR, 0,
			    "kvm: vCPU %u: the saved VM ran on a CPU with other features than this host's", i);
		return -EINVAL;
	}
	return 0;
}

int partition_restore(struct partition *p, GVariant *v, GError **error)
{
	struct kvm_state_vm s;
	if (kvm_state_vm_from_variant(v, p->ncpus, &s, error) < 0)
		return -EINVAL;
	int r = 0;
	for (unsigned i = 0; i < p->ncpus && r == 0; i++)
		r = ps_check_cpuid(p, i, &s.vcpus[i], error);
	if (r == 0 && s.tsc_khz && s.tsc_khz != p->tsc_khz) {
		/* Another TSC rate: the guest's clocks would run wrong unless KVM scales it. */
		for (unsigned i = 0; i < p->ncpus && r == 0; i++)
			if (ioctl(p->vcpus[i].fd, KVM_SET_TSC_KHZ, (unsigned long)s.tsc_khz) < 0) {
				g_set_error(error, SAVED_STATE_ERROR, 0,
					    "kvm: the saved VM's TSC ran at %u kHz, this host's at %u kHz, and KVM cannot scale it (%s)",
					    s.tsc_khz, p->tsc_khz, g_strerror(errno));
				r = -EINVAL;
			}
	}
	size_t xsave_size = ps_xsave_size(p);
	for (unsigned i = 0; i < p->ncpus && r == 0; i++)
		r = ps_restore_vcpu(p, &p->vcpus[i], &s.vcpus[i], xsave_size, error);
	if (r == 0 && ioctl(p->vm_fd, KVM_SET_IRQCHIP, &s.pic_master) < 0)
		r = ps_fail(error, errno, "KVM_SET_IRQCHIP (PIC master)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_SET_IRQCHIP, &s.pic_slave) < 0)
		r = ps_fail(error, errno, "KVM_SET_IRQCHIP (PIC slave)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_SET_IRQCHIP, &s.ioapic) < 0)
		r = ps_fail(error, errno, "KVM_SET_IRQCHIP (IOAPIC)", ~0u);
	if (r == 0 && ioctl(p->vm_fd, KVM_SET_PIT2, &s.pit) < 0)
		r = ps_fail(error, errno, "KVM_SET_PIT2", ~0u);
	/* kvmclock goes on from the saved value, like the TSC: not adjusted by
	 * the time the VM spent saved. */
	s.clock.flags = 0;
	if (r == 0 && ioctl(p->vm_fd, KVM_SET_CLOCK, &s.clock) < 0)
		r = ps_fail(error, errno, "KVM_SET_CLOCK", ~0u);
	kvm_state_vm_clear(&s);
	return r;
}
