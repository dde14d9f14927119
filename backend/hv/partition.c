// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "hv/hyperv_tlfs.h"
#include "hv/layout.h"
#include "hv/partition.h"
#include "hv/vcpu.h"

uint64_t partition_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *partition_stop_name(enum partition_stop s)
{
	switch (s) {
	case PARTITION_RUNNING: return "running";
	case PARTITION_STOP_POWEROFF: return "power off";
	case PARTITION_STOP_REBOOT: return "reboot";
	case PARTITION_STOP_TRIPLE_FAULT: return "triple fault";
	case PARTITION_STOP_TURNED_OFF: return "turned off";
	case PARTITION_STOP_INTERNAL_ERROR: return "KVM internal error";
	case PARTITION_STOP_HOST_ERROR: return "host error";
	case PARTITION_STOP_SAVED: return "saved";
	}
	return "unknown";
}

static int kvm_check(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

#define FAIL(stepname) do { if (err) err->step = (stepname); goto fail; } while (0)

static int partition_setup_memory(struct partition *p)
{
	for (unsigned i = 0; i < p->ram.nregions; i++) {
		const struct guest_ram_region *r = &p->ram.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)(p->ram.host + r->fd_offset),
		};
		if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return -errno;
	}
	return 0;
}

/* Extra memslots are numbered after the RAM regions'. */
static unsigned partition_extra_slot_id(unsigned i)
{
	return (unsigned)G_N_ELEMENTS(((struct guest_ram *)0)->regions) + i;
}

static bool partition_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int partition_map_memfd(struct partition *p, uint64_t gpa, int memfd, uint64_t offset, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	if (size == 0 || (gpa | offset | size) & (uint64_t)(page - 1) || gpa + size < gpa ||
	    gpa + size > PARTITION_GPA_LIMIT || offset + size < offset)
		return -EINVAL;
	for (unsigned i = 0; i < p->ram.nregions; i++)
		if (partition_overlaps(gpa, size, p->ram.regions[i].gpa, p->ram.regions[i].size))
			return -EEXIST;
	pthread_mutex_lock(&p->memslot_lock);
	int r = 0, free_i = -1;
	for (unsigned i = 0; i < PARTITION_EXTRA_SLOTS; i++) {
		const struct partition_memslot *m = &p->extra_slots[i];
		if (!m->used && free_i < 0)
			free_i = (int)i;
		if (m->used && partition_overlaps(gpa, size, m->gpa, m->size))
			r = -EEXIST;
	}
	if (r == 0 && free_i < 0)
		r = -ENOSPC;
	if (r < 0)
		goto out;
	void *host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, (off_t)offset);
	if (host == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	struct kvm_userspace_memory_region slot = {
		.slot = partition_extra_slot_id((unsigned)free_i),
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		r = -errno;
		munmap(host, size);
		goto out;
	}
	p->extra_slots[free_i] = (struct partition_memslot){ .used = true, .gpa = gpa, .size = size, .host = host };
out:
	pthread_mutex_unlock(&p->memslot_lock);
	return r;
}

int partition_unmap_memfd(struct partition *p, uint64_t gpa)
{
	int r = -ENOENT;
	pthread_mutex_lock(&p->memslot_lock);
	for (unsigned i = 0; i < PARTITION_EXTRA_SLOTS; i++) {
		struct partition_memslot *m = &p->extra_slots[i];
		if (!m->used || m->gpa != gpa)
			continue;
		/* Size 0 deletes the slot; KVM waits until no vCPU uses it. */
		struct kvm_userspace_memory_region slot = { .slot = partition_extra_slot_id(i), .guest_phys_addr = gpa };
		r = ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0 ? -errno : 0;
		if (r == 0) {
			munmap(m->host, m->size);
			*m = (struct partition_memslot){ 0 };
		}
		break;
	}
	pthread_mutex_unlock(&p->memslot_lock);
	return r;
}

/* PC wiring: ISA IRQs go to both 8259s and the IOAPIC, except that the PIT's
 * IRQ0 arrives on IOAPIC pin 2 (the MADT says so with an override). */
static int partition_setup_gsi_routing(struct partition *p)
{
	enum { NR_ROUTES = 16 + 23 };
	struct kvm_irq_routing *rt = g_malloc0(sizeof(*rt) + NR_ROUTES * sizeof(rt->entries[0]));
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		rt->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = gsi % 8 } };
	}
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		rt->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi } };
	}
	rt->nr = n;
	int r = ioctl(p->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0 ? -errno : 0;
	g_free(rt);
	return r;
}

static int partition_get_supported_cpuid(struct partition *p)
{
	g_autofree struct kvm_cpuid2 *buf =
		g_malloc0(sizeof(*buf) + CPUID_MAX_ENTRIES * sizeof(buf->entries[0]));
	buf->nent = CPUID_MAX_ENTRIES;
	if (ioctl(p->kvm_fd, KVM_GET_SUPPORTED_CPUID, buf) < 0)
		return -errno;
	p->supported.count = buf->nent;
	memcpy(p->supported.entries, buf->entries, buf->nent * sizeof(buf->entries[0]));
	return 0;
}

static void *partition_hv_gpa(void *opaque, uint64_t gpa, size_t len)
{
	struct partition *p = opaque;
	return guest_ram_ptr(&p->ram, gpa, len);
}

static uint64_t partition_hv_now(void *opaque)
{
	return partition_monotonic_ns();
}

static void partition_hv_crash(void *opaque, unsigned vp, const uint64_t params[5], const char *msg)
{
	struct partition *p = opaque;
	pthread_mutex_lock(&p->stop_lock);
	g_free(p->crash_text);
	p->crash_text = msg ? g_strdup(msg)
			    : g_strdup_printf("vCPU %u: error 0x%" G_GINT64_MODIFIER "x at rip 0x%" G_GINT64_MODIFIER "x",
					      vp, params[0], params[2]);
	pthread_mutex_unlock(&p->stop_lock);
}

static int partition_synic_msr_read(void *opaque, unsigned vp, uint32_t msr, uint64_t *val)
{
	struct partition *p = opaque;
	return synic_msr_read(p->synic, vp, msr, val);
}

static int partition_synic_msr_write(void *opaque, unsigned vp, uint32_t msr, uint64_t val)
{
	struct partition *p = opaque;
	int r = synic_msr_write(p->synic, vp, msr, val);
	/* An EOM drains the SynIC's queue: replies the VMBus host held back may go now. */
	if (r == 0 && msr == SYNIC_MSR_EOM && p->vmbus)
		vmbus_server_flush(p->vmbus);
	return r;
}

static void partition_synic_inject(void *opaque, unsigned vp, uint8_t vector)
{
	(void)partition_inject_vector(opaque, vp, vector);
}

void partition_trace(struct partition *p, const char *what, const void *data, size_t len)
{
	if (!p->vmbus_trace)
		return;
	GString *line = g_string_new(what);
	g_string_append_c(line, ' ');
	for (size_t i = 0; i < len; i++)
		g_string_append_printf(line, "%02x", ((const uint8_t *)data)[i]);
	g_string_append_c(line, '\n');
	/* One write per record: the vCPU threads and the device thread share the file. */
	fputs(line->str, p->vmbus_trace);
	fflush(p->vmbus_trace);
	g_string_free(line, TRUE);
}

static unsigned partition_hv_post(void *opaque, unsigned vp, uint32_t conn_id, uint32_t type,
				  const void *payload, size_t len)
{
	struct partition *p = opaque;
	unsigned st;
	if (p->vmbus_trace) {
		/* Handled and recorded as one step, so that the record's order of
		 * messages and replies is the order the server saw them in. */
		static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
		pthread_mutex_lock(&trace_lock);
		st = vmbus_server_handle_post(p->vmbus, conn_id, type, payload, len);
		g_autofree char *what = g_strdup_printf("post conn=%u type=%u status=%u", conn_id, type, st);
		partition_trace(p, what, payload, len);
		pthread_mutex_unlock(&trace_lock);
	} else {
		st = vmbus_server_handle_post(p->vmbus, conn_id, type, payload, len);
	}
	/* Replies the SynIC could not take while the guest's slot was busy. */
	vmbus_server_flush(p->vmbus);
	return st;
}

static unsigned partition_hv_signal(void *opaque, unsigned vp, uint32_t conn_id, uint16_t flag)
{
	struct partition *p = opaque;
	return vmbus_server_handle_signal(p->vmbus, conn_id);
}

static int partition_vmbus_post(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct partition *p = opaque;
	int r = synic_post_message(p->synic, vp, VMBUS_MESSAGE_SINT, VMBUS_HV_MESSAGE_TYPE, msg, len);
	/* Recorded once, when taken: a refused one is offered again later. */
	if (r == 0 && p->vmbus_trace) {
		g_autofree char *what = g_strdup_printf("reply vp=%u", vp);
		partition_trace(p, what, msg, len);
	}
	return r;
}

/* Channel events go to whoever hosts the devices (the VSP bus). */
static int partition_vmbus_open(void *opaque, struct vmbus_channel *ch)
{
	struct partition *p = opaque;
	const struct vmbus_server_ops *o = p->vmbus_dev_ops;
	return o && o->channel_open ? o->channel_open(p->vmbus_dev_opaque, ch) : 0;
}

static void partition_vmbus_close(void *opaque, struct vmbus_channel *ch)
{
	struct partition *p = opaque;
	const struct vmbus_server_ops *o = p->vmbus_dev_ops;
	if (o && o->channel_close)
		o->channel_close(p->vmbus_dev_opaque, ch);
}

static void partition_vmbus_removed(void *opaque, struct vmbus_channel *ch)
{
	struct partition *p = opaque;
	const struct vmbus_server_ops *o = p->vmbus_dev_ops;
	if (o && o->channel_removed)
		o->channel_removed(p->vmbus_dev_opaque, ch);
}

static void partition_vmbus_signal(void *opaque, struct vmbus_channel *ch)
{
	struct partition *p = opaque;
	const struct vmbus_server_ops *o = p->vmbus_dev_ops;
	if (o && o->channel_signal)
		o->channel_signal(p->vmbus_dev_opaque, ch);
}

static int partition_vmbus_tl_connect(void *opaque, const struct vmbus_guid *guest_endpoint,
				      const struct vmbus_guid *host_service)
{
	struct partition *p = opaque;
	const struct vmbus_server_ops *o = p->vmbus_dev_ops;
	return o && o->tl_connect ? o->tl_connect(p->vmbus_dev_opaque, guest_endpoint, host_service)
				  : -ECONNREFUSED;
}

static const struct vmbus_server_ops partition_vmbus_ops = {
	.post_to_guest = partition_vmbus_post,
	.channel_open = partition_vmbus_open,
	.channel_close = partition_vmbus_close,
	.channel_removed = partition_vmbus_removed,
	.channel_signal = partition_vmbus_signal,
	.tl_connect = partition_vmbus_tl_connect,
};

void partition_set_vmbus_devices(struct partition *p, const struct vmbus_server_ops *ops, void *opaque)
{
	p->vmbus_dev_ops = ops;
	p->vmbus_dev_opaque = opaque;
}

static int partition_signal_ioeventfd(struct partition *p, uint32_t conn_id, int fd, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.datamatch = conn_id,
		.addr = PORT_HV_SIGNAL,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return ioctl(p->vm_fd, KVM_IOEVENTFD, &ioev) < 0 ? -errno : 0;
}

int partition_watch_signal(struct partition *p, uint32_t conn_id, int fd)
{
	if (!p->hv || !p->signal_fastpath)
		return -ENOTSUP;
	return partition_signal_ioeventfd(p, conn_id, fd, true);
}

void partition_unwatch_signal(struct partition *p, uint32_t conn_id, int fd)
{
	if (p->hv && p->signal_fastpath)
		(void)partition_signal_ioeventfd(p, conn_id, fd, false);
}

int partition_signal_guest(struct partition *p, unsigned vp, uint32_t relid)
{
	if (!p->synic)
		return -ENODEV;
	return synic_signal_event(p->synic, vp, VMBUS_MESSAGE_SINT, relid);
}

void partition_hv_signal_exit(struct partition *p, uint32_t conn_id)
{
	atomic_fetch_add_explicit(&p->exits_signal, 1, memory_order_relaxed);
	(void)vmbus_server_handle_signal(p->vmbus, conn_id);
}

static const struct hyperv_ops partition_hv_ops = {
	.gpa_ptr = partition_hv_gpa,
	.now_ns = partition_hv_now,
	.crash = partition_hv_crash,
	.synic_msr_read = partition_synic_msr_read,
	.synic_msr_write = partition_synic_msr_write,
	.post_message = partition_hv_post,
	.signal_event = partition_hv_signal,
};

static const struct synic_ops partition_synic_ops = {
	.gpa_ptr = partition_hv_gpa,
	.inject = partition_synic_inject,
};

/*
 * Every Hyper-V MSR exits to us, whatever KVM itself knows of Hyper-V: the
 * filter denies the whole range in the kernel, so the same emulation runs
 * on every host. Other MSRs KVM does not know also come back (UNKNOWN,
 * INVAL) and get the #GP KVM would have given.
 */
static int partition_setup_hyperv(struct partition *p)
{
	if (!kvm_check(p->kvm_fd, KVM_CAP_X86_USER_SPACE_MSR))
		return -ENOTSUP;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_INVAL,
	};
	if (ioctl(p->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;
	if (kvm_check(p->kvm_fd, KVM_CAP_X86_MSR_FILTER)) {
		static uint8_t deny[(HV_MSR_LAST - HV_MSR_FIRST + 1) / 8];   /* all zero: deny */
		struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
		filter.ranges[0] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = HV_MSR_LAST - HV_MSR_FIRST + 1,
			.base = HV_MSR_FIRST,
			.bitmap = deny,
		};
		if (ioctl(p->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0)
			return -errno;
	}
	p->synic = synic_new(p->ncpus, &partition_synic_ops, p);
	if (!p->synic)
		return -ENOMEM;
	struct vmbus_server_config vcfg = { .nvps = p->ncpus };
	p->vmbus = vmbus_server_new(&vcfg, &partition_vmbus_ops, p);
	if (!p->vmbus)
		return -ENOMEM;
	uint64_t tsc_hz = (uint64_t)p->tsc_khz * 1000;
	p->hv = hyperv_new(p->ncpus, tsc_hz, PORT_HV_HYPERCALL, &partition_hv_ops, p);
	if (!p->hv)
		return -ENOMEM;
	if (p->signal_fastpath)
		hyperv_set_signal_port(p->hv, PORT_HV_SIGNAL);
	return 0;
}

static void partition_sigkick(int sig)
{
	(void)sig;
}

int partition_create(const struct partition_config *cfg, struct partition **out,
		     struct partition_error *err)
{
	int r = 0;
	struct partition *p = g_new0(struct partition, 1);
	p->kvm_fd = p->vm_fd = p->stop_eventfd = -1;
	p->ram.memfd = -1;
	pthread_mutex_init(&p->stop_lock, NULL);
	pthread_mutex_init(&p->pause_lock, NULL);
	pthread_cond_init(&p->pause_cond, NULL);
	pthread_mutex_init(&p->memslot_lock, NULL);
	p->ncpus = cfg->ncpus;
	p->signal_fastpath = !cfg->no_signal_fastpath;

	if (cfg->ncpus == 0 || cfg->ncpus > LAYOUT_MAX_VCPUS) {
		r = -EINVAL;
		FAIL("vCPU count");
	}

	/* vCPU threads are kicked out of KVM_RUN with SIGUSR1; no SA_RESTART so
	 * the ioctl returns EINTR. */
	struct sigaction sa = { .sa_handler = partition_sigkick };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	p->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm_fd < 0) {
		r = -errno;
		FAIL("open /dev/kvm");
	}
	if (ioctl(p->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		r = -ENOTSUP;
		FAIL("KVM API version");
	}
	static const struct { long cap; const char *name; } required[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
		if (!kvm_check(p->kvm_fd, required[i].cap)) {
			r = -ENOTSUP;
			FAIL(required[i].name);
		}
	}
	p->run_size = ioctl(p->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (p->run_size < (int)sizeof(struct kvm_run)) {
		r = -ENOTSUP;
		FAIL("KVM_GET_VCPU_MMAP_SIZE");
	}

	p->vm_fd = ioctl(p->kvm_fd, KVM_CREATE_VM, 0);
	if (p->vm_fd < 0) {
		r = -errno;
		FAIL("KVM_CREATE_VM");
	}
	if (kvm_check(p->kvm_fd, KVM_CAP_SET_TSS_ADDR) &&
	    ioctl(p->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_ADDR) < 0) {
		r = -errno;
		FAIL("KVM_SET_TSS_ADDR");
	}
	if (kvm_check(p->kvm_fd, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
		uint64_t addr = LAYOUT_KVM_IDENTITY_MAP;
		if (ioctl(p->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
			r = -errno;
			FAIL("KVM_SET_IDENTITY_MAP_ADDR");
		}
	}

	r = guest_ram_init(&p->ram, cfg->memory, cfg->name);
	if (r < 0)
		FAIL("guest RAM (memfd)");
	r = partition_setup_memory(p);
	if (r < 0)
		FAIL("KVM_SET_USER_MEMORY_REGION");

	if (ioctl(p->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		FAIL("KVM_CREATE_IRQCHIP");
	}
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(p->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		FAIL("KVM_CREATE_PIT2");
	}
	r = partition_setup_gsi_routing(p);
	if (r < 0)
		FAIL("KVM_SET_GSI_ROUTING");

	r = partition_get_supported_cpuid(p);
	if (r < 0)
		FAIL("KVM_GET_SUPPORTED_CPUID");
	cpuid_policy_init(&p->policy, cfg->ncpus, cfg->hv);

	p->stop_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_eventfd < 0) {
		r = -errno;
		FAIL("eventfd");
	}
	p->sink_fds = g_array_new(FALSE, FALSE, sizeof(int));
	p->pio = iobus_new("pio");
	p->mmio = iobus_new("mmio");

	p->vcpus = g_new0(struct vcpu, cfg->ncpus);
	for (unsigned i = 0; i < cfg->ncpus; i++)
		p->vcpus[i].fd = -1;
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		const char *step = NULL;
		r = vcpu_create(p, i, &p->vcpus[i], &step);
		if (r < 0)
			FAIL(step);
	}
	/* The TSC rate is a vCPU property in KVM; every vCPU's CPUID reports it. */
	int khz = ioctl(p->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	p->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	p->policy.tsc_khz = p->tsc_khz;
	if (cfg->hv == CPUID_HV_HYPERV) {
		r = partition_setup_hyperv(p);
		if (r < 0)
			FAIL("Hyper-V MSR exits (KVM_CAP_X86_USER_SPACE_MSR, KVM_X86_SET_MSR_FILTER)");
	}
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		const char *step = NULL;
		r = vcpu_configure(&p->vcpus[i], &step);
		if (r < 0)
			FAIL(step);
	}
	*out = p;
	return 0;

fail:
	partition_destroy(p);
	return r < 0 ? r : -EIO;
}

void partition_destroy(struct partition *p)
{
	if (!p)
		return;
	if (p->vcpus) {
		for (unsigned i = 0; i < p->ncpus; i++)
			vcpu_destroy(&p->vcpus[i]);
		g_free(p->vcpus);
	}
	/* While the VM fd is open: closing channels drops their ioeventfds. */
	hyperv_free(p->hv);
	vmbus_server_free(p->vmbus);
	synic_free(p->synic);
	iobus_free(p->pio);
	iobus_free(p->mmio);
	if (p->sink_fds) {
		/* Closing the VM fd below drops the ioeventfd registrations. */
		for (guint i = 0; i < p->sink_fds->len; i++)
			close(g_array_index(p->sink_fds, int, i));
		g_array_unref(p->sink_fds);
	}
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	/* The VM's memslots went with its fd; our mappings of them go now. */
	for (unsigned i = 0; i < PARTITION_EXTRA_SLOTS; i++)
		if (p->extra_slots[i].used)
			munmap(p->extra_slots[i].host, p->extra_slots[i].size);
	pthread_mutex_destroy(&p->memslot_lock);
	if (p->kvm_fd >= 0)
		close(p->kvm_fd);
	if (p->stop_eventfd >= 0)
		close(p->stop_eventfd);
	if (p->ram.host)
		guest_ram_destroy(&p->ram);
	g_free(p->crash_text);
	pthread_mutex_destroy(&p->stop_lock);
	pthread_cond_destroy(&p->pause_cond);
	pthread_mutex_destroy(&p->pause_lock);
	g_free(p);
}

void partition_irq_set_level(void *opaque, unsigned gsi, bool level)
{
	struct partition *p = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	(void)ioctl(p->vm_fd, KVM_IRQ_LINE, &irq);
}

int partition_inject_vector(struct partition *p, unsigned vp, uint8_t vector)
{
	if (vp >= p->ncpus || vp > 0xff)
		return -EINVAL;
	/* Physical destination, fixed delivery, edge: the guest EOIs its LAPIC itself. */
	struct kvm_msi msi = { .address_lo = 0xFEE00000u | (vp << 12), .data = vector };
	int r = ioctl(p->vm_fd, KVM_SIGNAL_MSI, &msi);
	return r < 0 ? -errno : 0;
}

int partition_start(struct partition *p, const struct boot_entry *entry)
{
	int r = entry ? vcpu_set_boot_state(&p->vcpus[0], entry) : 0;
	if (r < 0)
		return r;
	for (unsigned i = 0; i < p->ncpus; i++) {
		r = vcpu_start_thread(&p->vcpus[i]);
		if (r < 0) {
			partition_request_stop(p, PARTITION_STOP_HOST_ERROR, "cannot start a vCPU thread");
			return r;
		}
	}
	return 0;
}

void partition_request_stop(struct partition *p, enum partition_stop reason, const char *detail)
{
	pthread_mutex_lock(&p->stop_lock);
	bool first = atomic_load(&p->stop) == PARTITION_RUNNING;
	if (first) {
		if (detail)
			g_strlcpy(p->stop_detail, detail, sizeof(p->stop_detail));
		atomic_store(&p->stop, reason);
	}
	pthread_mutex_unlock(&p->stop_lock);
	if (!first)
		return;
	for (unsigned i = 0; i < p->ncpus; i++)
		vcpu_kick(&p->vcpus[i]);
	/* Parked vCPUs, and a pause waiting for them, see the stop too. */
	pthread_mutex_lock(&p->pause_lock);
	pthread_cond_broadcast(&p->pause_cond);
	pthread_mutex_unlock(&p->pause_lock);
	uint64_t one = 1;
	ssize_t w = write(p->stop_eventfd, &one, sizeof(one));
	(void)w;
}

enum partition_stop partition_stopped(struct partition *p)
{
	return atomic_load(&p->stop);
}

void partition_join(struct partition *p)
{
	for (unsigned i = 0; i < p->ncpus; i++) {
		if (p->vcpus[i].thread_started) {
			pthread_join(p->vcpus[i].thread, NULL);
			p->vcpus[i].thread_started = false;
		}
	}
}

int partition_add_port_sink(struct partition *p, uint16_t port, uint8_t len)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct kvm_ioeventfd ioev = { .addr = port, .len = len, .fd = fd, .flags = KVM_IOEVENTFD_FLAG_PIO };
	if (ioctl(p->vm_fd, KVM_IOEVENTFD, &ioev) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* Nobody reads the fd: the kernel completes the write, which is all we want. */
	g_array_append_val(p->sink_fds, fd);
	return 0;
}
