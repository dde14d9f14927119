// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "hv/hyperv_tlfs.h"
#include "hv/layout.h"
#include "hv/partition.h"
#include "hv/vcpu.h"

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x700
#define APIC_MODE_NMI    0x400

static int vcpu_set_cpuid(struct vcpu *v)
{
	struct partition *p = v->p;
	struct cpuid_table *t = g_new0(struct cpuid_table, 1);
	int r = cpuid_policy_apply(&p->policy, &p->supported, v->index, t);
	if (r < 0)
		goto out;
	struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + t->count * sizeof(c->entries[0]));
	c->nent = t->count;
	memcpy(c->entries, t->entries, t->count * sizeof(c->entries[0]));
	r = ioctl(v->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	g_free(c);
out:
	g_free(t);
	return r;
}

/* The BIOS would wire LINT0 to the 8259 (ExtINT) and LINT1 to NMI; Linux
 * relies on that for its timer check before the IOAPIC takes over. */
static int vcpu_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	uint32_t lint0, lint1;
	memcpy(&lint0, &lapic.regs[APIC_LVT_LINT0], 4);
	memcpy(&lint1, &lapic.regs[APIC_LVT_LINT1], 4);
	lint0 = (lint0 & ~0x700u) | APIC_MODE_EXTINT;
	lint1 = (lint1 & ~0x700u) | APIC_MODE_NMI;
	memcpy(&lapic.regs[APIC_LVT_LINT0], &lint0, 4);
	memcpy(&lapic.regs[APIC_LVT_LINT1], &lint1, 4);
	return ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int vcpu_setup_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int vcpu_create(struct partition *p, unsigned index, struct vcpu *v, const char **step)
{
	v->p = p;
	v->index = index;
	v->fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		*step = "KVM_CREATE_VCPU";
		return -errno;
	}
	v->run = mmap(NULL, (size_t)p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		*step = "mmap kvm_run";
		return -errno;
	}
	return 0;
}

int vcpu_configure(struct vcpu *v, const char **step)
{
	int r = vcpu_set_cpuid(v);
	if (r < 0) {
		*step = "KVM_SET_CPUID2";
		return r;
	}
	r = vcpu_setup_lapic(v);
	if (r < 0) {
		*step = "KVM_SET_LAPIC";
		return r;
	}
	r = vcpu_setup_fpu(v);
	if (r < 0) {
		*step = "KVM_SET_FPU";
		return r;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->p->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64, bool db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = code64, .g = 1,
	};
}

int vcpu_set_boot_state(struct vcpu *v, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;

	if (entry->mode == BOOT_MODE_REAL16) {
		if (entry->rip >= 1 * MiB)
			return -EINVAL;
		sregs.cs.selector = (uint16_t)((entry->rip >> 4) & 0xf000);
		sregs.cs.base = (uint64_t)sregs.cs.selector << 4;
		regs.rip = entry->rip & 0xffff;
		regs.rsp = 0x7000;
	} else {
		bool lm = entry->mode == BOOT_MODE_LINUX64;
		seg_flat(&sregs.cs, 0x10, 0xb, lm, !lm);
		seg_flat(&sregs.ds, 0x18, 0x3, false, true);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = 0x20,
						 .type = 0xb, .present = 1 };
		sregs.gdt.base = LAYOUT_BOOT_GDT;
		sregs.gdt.limit = 5 * 8 - 1;
		sregs.idt.base = LAYOUT_BOOT_IDT;
		sregs.idt.limit = 0;
		if (lm) {
			sregs.cr0 = 0x80000033;      /* PG | NE | ET | MP | PE */
			sregs.cr3 = entry->cr3;
			sregs.cr4 = 0x20;            /* PAE */
			sregs.efer = 0x500;          /* LMA | LME */
			regs.rsi = entry->arg;
		} else {
			sregs.cr0 = 0x11;            /* ET | PE */
			sregs.cr3 = 0;
			sregs.cr4 = 0;
			sregs.efer = 0;
			regs.rbx = entry->arg;
		}
		regs.rip = entry->rip;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* The hypercall trampoline's OUT: the registers carry the call (hyperv.c).
 * RIP is left on the OUT; KVM steps over it on the next entry. */
static void vcpu_handle_hypercall(struct vcpu *v)
{
	struct kvm_regs regs;
	atomic_fetch_add_explicit(&v->p->exits_hypercall, 1, memory_order_relaxed);
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return;
	regs.rax = hyperv_hypercall(v->p->hv, v->index, regs.rcx, regs.rdx, regs.r8);
	(void)ioctl(v->fd, KVM_SET_REGS, &regs);
}

static void vcpu_handle_msr(struct vcpu *v, bool write)
{
	struct kvm_run *run = v->run;
	atomic_fetch_add_explicit(&v->p->exits_msr, 1, memory_order_relaxed);
	int r = -EINVAL;
	if (v->p->hv && run->msr.index >= HV_MSR_FIRST && run->msr.index <= HV_MSR_LAST) {
		if (write)
			r = hyperv_msr_write(v->p->hv, v->index, run->msr.index, run->msr.data);
		else {
			uint64_t val = 0;
			r = hyperv_msr_read(v->p->hv, v->index, run->msr.index, &val);
			run->msr.data = val;
		}
	}
	run->msr.error = r < 0;   /* #GP, as KVM itself answers MSRs it does not know */
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	if (v->p->hv && run->io.port == PORT_HV_HYPERCALL && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.size == 4 && run->io.count == 1) {
		vcpu_handle_hypercall(v);
		return;
	}
	if (v->p->hv && run->io.port == PORT_HV_SIGNAL && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.size == 4 && run->io.count == 1) {
		/* An id no channel's ioeventfd matched, or the fast path is off. */
		uint32_t conn_id;
		memcpy(&conn_id, (uint8_t *)run + run->io.data_offset, sizeof(conn_id));
		partition_hv_signal_exit(v->p, conn_id);
		return;
	}
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	atomic_fetch_add_explicit(&v->p->exits_io, 1, memory_order_relaxed);
	for (uint32_t i = 0; i < run->io.count; i++)
		iobus_access(v->p->pio, run->io.port, data + (size_t)i * run->io.size, run->io.size, out);
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	atomic_fetch_add_explicit(&v->p->exits_mmio, 1, memory_order_relaxed);
	iobus_access(v->p->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len, run->mmio.is_write);
}

static void vcpu_report_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char detail[256];
	struct kvm_regs regs;
	unsigned long long rip = ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
	snprintf(detail, sizeof(detail), "vCPU %u: KVM internal error, suberror %u%s at rip 0x%llx",
		 v->index, run->internal.suberror,
		 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)" : "", rip);
	partition_request_stop(v->p, PARTITION_STOP_INTERNAL_ERROR, detail);
}

static const char *vcpu_exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "port I/O";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_X86_RDMSR: return "MSR read";
	case KVM_EXIT_X86_WRMSR: return "MSR write";
	case KVM_EXIT_INTR: return "signal";
	default: return "other";
	}
}

/* Where the guest was when it triple-faulted: the registers that tell a
 * broken stack, page table or descriptor table apart, in the log. AMD's KVM
 * resets the vCPU before it reports the fault, so there they are only the
 * reset state; the exit before it still says how far the guest got. */
static void vcpu_report_triple_fault(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (v->exits == 0)
		fprintf(stderr, "vireo-worker: vCPU %u triple-faulted after 0 exits\n", v->index);
	else
		fprintf(stderr, "vireo-worker: vCPU %u triple-faulted after %" PRIu64 " exits; the last before it: %s %s 0x%" PRIx64 "\n",
			v->index, v->exits, vcpu_exit_name(v->last_exit), v->last_write ? "write" : "read", v->last_where);
	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0)
		fprintf(stderr, "vireo-worker: vCPU %u registers%s: rip 0x%llx rsp 0x%llx rflags 0x%llx cs 0x%x "
			"ss 0x%x cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx idt 0x%llx/%u gdt 0x%llx/%u "
			"tr 0x%x\n", v->index,
			r.rip == 0xfff0 && s.cs.selector == 0xf000 ? " (the reset state: KVM reset the vCPU)" : "",
			(unsigned long long)r.rip, (unsigned long long)r.rsp,
			(unsigned long long)r.rflags, s.cs.selector, s.ss.selector, (unsigned long long)s.cr0,
			(unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
			(unsigned long long)s.efer, (unsigned long long)s.idt.base, s.idt.limit,
			(unsigned long long)s.gdt.base, s.gdt.limit, s.tr.selector);
	partition_request_stop(v->p, PARTITION_STOP_TRIPLE_FAULT, "the guest triple-faulted");
}

static void vcpu_note_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	v->exits++;
	v->last_exit = run->exit_reason;
	v->last_where = 0;
	v->last_write = false;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		v->last_where = run->io.port;
		v->last_write = run->io.direction == KVM_EXIT_IO_OUT;
		break;
	case KVM_EXIT_MMIO:
		v->last_where = run->mmio.phys_addr;
		v->last_write = run->mmio.is_write;
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		v->last_where = run->msr.index;
		v->last_write = run->exit_reason == KVM_EXIT_X86_WRMSR;
		break;
	}
}

/* One exit of KVM_RUN, handled. */
static void vcpu_dispatch(struct vcpu *v)
{
	if (v->run->exit_reason != KVM_EXIT_SHUTDOWN)
		vcpu_note_exit(v);
	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		break;
	case KVM_EXIT_X86_RDMSR:
		vcpu_handle_msr(v, false);
		break;
	case KVM_EXIT_X86_WRMSR:
		vcpu_handle_msr(v, true);
		break;
	case KVM_EXIT_SHUTDOWN:
		vcpu_report_triple_fault(v);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_report_internal_error(v);
		break;
	case KVM_EXIT_FAIL_ENTRY: {
		char detail[128];
		snprintf(detail, sizeof(detail), "vCPU %u: VM entry failed, reason 0x%llx", v->index,
			 (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
		partition_request_stop(v->p, PARTITION_STOP_INTERNAL_ERROR, detail);
		break;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		partition_request_stop(v->p, v->run->system_event.type == KVM_SYSTEM_EVENT_RESET
				       ? PARTITION_STOP_REBOOT : PARTITION_STOP_POWEROFF, "system event");
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one, so a HLT exit
		 * means the CPU is halted for good. */
		partition_request_stop(v->p, PARTITION_STOP_POWEROFF, "vCPU halted");
		break;
	case KVM_EXIT_INTR:
		break;
	default: {
		char detail[96];
		snprintf(detail, sizeof(detail), "vCPU %u: unexpected KVM exit %u", v->index,
			 v->run->exit_reason);
		partition_request_stop(v->p, PARTITION_STOP_INTERNAL_ERROR, detail);
		break;
	}
	}
}

/*
 * Before parking: KVM finishes the instruction of the last exit (an IN's
 * result into RAX, stepping over an OUT or an MSR access) only on the next
 * KVM_RUN, so until then the registers a save reads are not whole. With
 * immediate_exit set, KVM_RUN does that completion and returns at once
 * (EINTR); a string I/O instruction may exit once more on the way.
 */
#define VCPU_COMPLETE_MAX_EXITS 64u
static void vcpu_complete_exit(struct vcpu *v)
{
	for (unsigned i = 0; i < VCPU_COMPLETE_MAX_EXITS && partition_stopped(v->p) == PARTITION_RUNNING; i++) {
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (ioctl(v->fd, KVM_RUN, 0) < 0)
			break;              /* EINTR: complete; another error shows at the next run */
		vcpu_dispatch(v);
	}
	v->run->immediate_exit = 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct partition *p = v->p;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	uint64_t zero = 0;
	atomic_compare_exchange_strong(&p->first_run_ns, &zero, partition_monotonic_ns());

	while (partition_stopped(p) == PARTITION_RUNNING) {
		if (__atomic_load_n(&p->pause_requested, __ATOMIC_ACQUIRE)) {
			vcpu_complete_exit(v);
			partition_vcpu_park(p);
		}
		int r = ioctl(v->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			char detail[128];
			snprintf(detail, sizeof(detail), "vCPU %u: KVM_RUN failed: %s", v->index, strerror(errno));
			partition_request_stop(p, PARTITION_STOP_HOST_ERROR, detail);
			break;
		}
		vcpu_dispatch(v);
	}
	return NULL;
}

int vcpu_start_thread(struct vcpu *v)
{
	/* The thread starts with SIGUSR1 blocked and unblocks it itself, so a
	 * kick can never land in a thread that has not installed its mask. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->thread_started)
		pthread_kill(v->thread, SIGUSR1);
}
