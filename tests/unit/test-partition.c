// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The partition on the real /dev/kvm with tiny real-mode programs: vCPU
 * threads, port dispatch, stop reasons and kicks. Real-mode code runs even on
 * PVM hosts, so this runs wherever /dev/kvm opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <glib.h>

#include "hv/hostcheck.h"
#include "hv/layout.h"
#include "hv/partition.h"

#define CODE_GPA 0x8000
#define PORT_TEST_OUT 0x3f8
#define PORT_TEST_STOP 0x604

struct rig {
	struct partition *p;
	GString *out;
	GMutex lock;
};

static void out_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rig *r = opaque;
	g_mutex_lock(&r->lock);
	g_string_append_c(r->out, (char)data[0]);
	g_mutex_unlock(&r->lock);
}

static void stop_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rig *r = opaque;
	if (len == 2 && iobus_get_le(data, 2) == 0x3400)
		partition_request_stop(r->p, PARTITION_STOP_POWEROFF, "test program done");
}

static const struct iobus_ops out_ops = { .write = out_write };
static const struct iobus_ops stop_ops = { .write = stop_write };

static bool kvm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		g_test_message("/dev/kvm cannot be opened (%s)", g_strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static bool rig_create(struct rig *r, unsigned ncpus, enum cpuid_hv_interface hv)
{
	if (!kvm_available()) {
		g_test_skip("NO /dev/kvm HERE: the partition is covered by the real-guest tests instead");
		return false;
	}
	struct partition_config cfg = { .memory = 128 * MiB, .ncpus = ncpus, .hv = hv, .name = "t" };
	struct partition_error err = { 0 };
	int ret = partition_create(&cfg, &r->p, &err);
	if (ret < 0)
		g_error("partition_create failed at %s: %s", err.step, g_strerror(-ret));
	return true;
}

static bool rig_start_mode(struct rig *r, const uint8_t *code, size_t len, enum boot_mode mode)
{
	r->out = g_string_new(NULL);
	g_mutex_init(&r->lock);
	g_assert_cmpint(iobus_register(r->p->pio, PORT_TEST_OUT, 1, &out_ops, r), ==, 0);
	g_assert_cmpint(iobus_register(r->p->pio, PORT_TEST_STOP, 2, &stop_ops, r), ==, 0);
	g_assert_cmpint(guest_ram_write(&r->p->ram, CODE_GPA, code, len), ==, 0);
	if (mode == BOOT_MODE_PVH32)
		g_assert_cmpint(boot_write_gdt(&r->p->ram, mode), ==, 0);
	struct boot_entry e = { .mode = mode, .rip = CODE_GPA };
	g_assert_cmpint(partition_start(r->p, &e), ==, 0);
	return true;
}

static bool rig_start(struct rig *r, unsigned ncpus, const uint8_t *code, size_t len)
{
	return rig_create(r, ncpus, CPUID_HV_KVM) && rig_start_mode(r, code, len, BOOT_MODE_REAL16);
}

static enum partition_stop rig_wait(struct rig *r, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10 && partition_stopped(r->p) == PARTITION_RUNNING; i++)
		g_usleep(10000);
	if (partition_stopped(r->p) == PARTITION_RUNNING)
		partition_request_stop(r->p, PARTITION_STOP_TURNED_OFF, "test timeout");
	partition_join(r->p);
	return partition_stopped(r->p);
}

static void rig_destroy(struct rig *r)
{
	partition_destroy(r->p);
	g_string_free(r->out, TRUE);
	g_mutex_clear(&r->lock);
}

static void test_poweroff(void)
{
	static const uint8_t code[] = {
		0xba, 0xf8, 0x03,       /* mov dx, 0x3f8 */
		0xb0, 'V', 0xee,        /* mov al, 'V'; out dx, al */
		0xb0, 'M', 0xee,        /* mov al, 'M'; out dx, al */
		0xba, 0x04, 0x06,       /* mov dx, 0x604 */
		0xb8, 0x00, 0x34,       /* mov ax, 0x3400: SLP_TYP 5 | SLP_EN */
		0xef,                   /* out dx, ax */
		0xf4, 0xeb, 0xfd,       /* hlt; jmp hlt */
	};
	struct rig r;
	if (!rig_start(&r, 2, code, sizeof(code)))
		return;
	g_assert_cmpint(rig_wait(&r, 20000), ==, PARTITION_STOP_POWEROFF);
	g_assert_cmpstr(r.out->str, ==, "VM");
	g_assert_cmpstr(r.p->stop_detail, ==, "test program done");
	g_assert_cmpuint(atomic_load(&r.p->first_run_ns), >, 0);
	rig_destroy(&r);
}

static void test_triple_fault(void)
{
	static const uint8_t code[] = {
		0xfa,                          /* cli */
		0x0f, 0x01, 0x1e, 0x00, 0x70,  /* lidt [0x7000]: limit 0, base 0 (RAM is zero) */
		0xcc,                          /* int3 -> #GP -> #DF -> shutdown */
		0xf4,
	};
	struct host_kvm_info info;
	hostcheck_classify("/sys", "/dev/kvm", &info);
	if (info.cls == HOST_KVM_PVM) {
		/* PVM stops with an emulation failure instead of a shutdown exit. */
		g_test_skip("THIS /dev/kvm IS PVM: it cannot deliver a real-mode triple fault; "
			    "the real-guest triple-fault scenario (reboot=t) covers it");
		return;
	}
	struct rig r;
	if (!rig_start(&r, 1, code, sizeof(code)))
		return;
	enum partition_stop s = rig_wait(&r, 20000);
	g_test_message("stop: %s (%s)", partition_stop_name(s), r.p->stop_detail);
	g_assert_cmpint(s, ==, PARTITION_STOP_TRIPLE_FAULT);
	rig_destroy(&r);
}

static void test_host_stop(void)
{
	/* The guest spins; the host's stop must kick every vCPU out of KVM_RUN,
	 * including the APs waiting for a SIPI that never comes. */
	static const uint8_t code[] = { 0xeb, 0xfe };   /* jmp $ */
	struct rig r;
	if (!rig_start(&r, 4, code, sizeof(code)))
		return;
	g_usleep(100000);
	g_assert_cmpint(partition_stopped(r.p), ==, PARTITION_RUNNING);
	partition_request_stop(r.p, PARTITION_STOP_TURNED_OFF, "host");
	partition_request_stop(r.p, PARTITION_STOP_POWEROFF, "too late");   /* first reason wins */
	g_assert_cmpint(rig_wait(&r, 5000), ==, PARTITION_STOP_TURNED_OFF);
	g_assert_cmpstr(r.p->stop_detail, ==, "host");
	rig_destroy(&r);
}

/*
 * HvSignalEvent through the real hypercall page on the real KVM: a channel's
 * connection id with an ioeventfd stays in the kernel (the eventfd counts it,
 * no exit), an id nobody watches exits to the VMBus server. 32-bit protected
 * mode runs the trampoline's instructions as in long mode.
 */
#define HC_PAGE 0x9000
#define SIGNAL(id) \
	0xb9, 0x5d, 0x00, 0x01, 0x00,                 /* mov ecx, 0x1005d */ \
	0xba, (id) & 0xff, (id) >> 8, 0x00, 0x00,     /* mov edx, id */ \
	0xb8, 0x00, 0x90, 0x00, 0x00, 0xff, 0xd0      /* mov eax, HC_PAGE; call eax */

static void test_signal_fastpath(void)
{
	static const uint8_t code[] = {
		0xbc, 0x00, 0x70, 0x00, 0x00,             /* mov esp, 0x7000 */
		0xb9, 0x00, 0x00, 0x00, 0x40,             /* mov ecx, GUEST_OS_ID */
		0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, /* mov eax, 1; xor edx, edx */
		0x0f, 0x30,                               /* wrmsr */
		0xb9, 0x01, 0x00, 0x00, 0x40,             /* mov ecx, HYPERCALL */
		0xb8, 0x01, 0x90, 0x00, 0x00, 0x31, 0xd2, /* mov eax, HC_PAGE | 1; xor edx, edx */
		0x0f, 0x30,                               /* wrmsr */
		SIGNAL(0x2001), SIGNAL(0x2001), SIGNAL(0x2001),
		SIGNAL(0x2999),
		0x66, 0xba, 0x04, 0x06,                   /* mov dx, 0x604 */
		0x66, 0xb8, 0x00, 0x34, 0x66, 0xef,       /* mov ax, 0x3400; out dx, ax */
		0xf4, 0xeb, 0xfd,
	};
	struct rig r;
	if (!rig_create(&r, 1, CPUID_HV_HYPERV))
		return;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g_assert_cmpint(efd, >=, 0);
	g_assert_cmpint(partition_watch_signal(r.p, 0x2001, efd), ==, 0);
	if (!rig_start_mode(&r, code, sizeof(code), BOOT_MODE_PVH32))
		return;
	enum partition_stop st = rig_wait(&r, 20000);
	if (st == PARTITION_STOP_INTERNAL_ERROR) {
		/* PVM runs only 64-bit guest kernels: say so, the real guest covers it. */
		g_test_skip_printf("THIS KVM CANNOT RUN 32-BIT PROTECTED MODE (%s): the signal fast path "
				   "is covered by guest-hyperv-ic's sig_kernel counters instead", r.p->stop_detail);
		close(efd);
		rig_destroy(&r);
		return;
	}
	g_assert_cmpint(st, ==, PARTITION_STOP_POWEROFF);
	uint64_t n = 0;
	g_assert_cmpint(read(efd, &n, sizeof(n)), ==, sizeof(n));
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(atomic_load(&r.p->exits_signal), ==, 1);
	/* The slow path (HvPostMessage etc.) was not taken by a signal. */
	g_assert_cmpuint(atomic_load(&r.p->exits_hypercall), ==, 0);
	partition_unwatch_signal(r.p, 0x2001, efd);
	close(efd);
	rig_destroy(&r);
}

static void test_bad_config(void)
{
	if (!kvm_available()) {
		g_test_skip("NO /dev/kvm HERE: covered by the real-guest tests instead");
		return;
	}
	struct partition *p = NULL;
	struct partition_error err = { 0 };
	struct partition_config cfg = { .memory = 128 * MiB, .ncpus = 0, .name = "t" };
	g_assert_cmpint(partition_create(&cfg, &p, &err), ==, -EINVAL);
	g_assert_cmpstr(err.step, ==, "vCPU count");
	g_assert_null(p);
	cfg.ncpus = 1;
	cfg.memory = 64 * MiB;
	g_assert_cmpint(partition_create(&cfg, &p, &err), ==, -EINVAL);
	g_assert_cmpstr(err.step, ==, "guest RAM (memfd)");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/partition/poweroff", test_poweroff);
	g_test_add_func("/partition/triple-fault", test_triple_fault);
	g_test_add_func("/partition/host-stop", test_host_stop);
	g_test_add_func("/partition/bad-config", test_bad_config);
	g_test_add_func("/partition/signal-fastpath", test_signal_fastpath);
	return g_test_run();
}
