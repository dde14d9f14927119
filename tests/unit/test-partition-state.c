// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What KVM holds of a partition, saved and restored on the real /dev/kvm
 * (partition_state.c), with a real-mode program that counts: it adds one
 * to a word in RAM and sends its low byte to a port, over and over, until
 * the host sets a flag. The partition is paused and saved mid-run and
 * thrown away; a new partition gets the RAM and the state, and its output
 * must go on from the next number, neither repeating the last one (the
 * OUT of the paused vCPU was completed before its registers were read)
 * nor starting again. Real mode runs even on PVM hosts, so this runs
 * wherever /dev/kvm opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "hv/kvm_state.h"
#include "hv/layout.h"
#include "hv/partition.h"
#include "hv/saved_state.h"
#include "state-util.h"

#define CODE_GPA    0x8000
#define COUNTER_GPA 0x9000
#define STOP_GPA    0x9100
#define PORT_OUT    0x3f8
#define PORT_STOP   0x604

static const uint8_t counting[] = {
	0xba, 0xf8, 0x03,             /* mov dx, 0x3f8 */
	0xff, 0x06, 0x00, 0x90,       /* l: inc word [0x9000] */
	0xa0, 0x00, 0x90,             /* mov al, [0x9000] */
	0xee,                         /* out dx, al */
	/* No delay, so much of the time goes to the OUT's exit and the pause
	 * often finds a vCPU whose OUT KVM has not completed yet.  Whether it
	 * does depends on the host: under some (e.g. PVM) it rarely does, and
	 * the test then checks the plain round trip only. */
	0x90, 0x90, 0x90, 0x90, 0x90, /* nop */
	0x80, 0x3e, 0x00, 0x91, 0x01, /* cmp byte [0x9100], 1 */
	0x75, 0xec,                   /* jne l */
	0xba, 0x04, 0x06,             /* mov dx, 0x604 */
	0xb8, 0x00, 0x34,             /* mov ax, 0x3400 */
	0xef,                         /* out dx, ax */
	0xf4, 0xeb, 0xfd,             /* hlt; jmp $-1 */
};

struct rig {
	struct partition *p;
	GMutex lock;
	GByteArray *out;
};

static void out_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rig *r = opaque;
	g_mutex_lock(&r->lock);
	g_byte_array_append(r->out, data, 1);
	g_mutex_unlock(&r->lock);
}

static void stop_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rig *r = opaque;
	if (len == 2 && iobus_get_le(data, 2) == 0x3400)
		partition_request_stop(r->p, PARTITION_STOP_POWEROFF, "counted");
}

static const struct iobus_ops out_ops = { .write = out_write };
static const struct iobus_ops stop_ops = { .write = stop_write };

static bool rig_create(struct rig *r, unsigned ncpus)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		g_test_skip("NO /dev/kvm HERE: the partition's state is covered by the real-guest save scenario instead");
		return false;
	}
	close(fd);
	memset(r, 0, sizeof(*r));
	g_mutex_init(&r->lock);
	r->out = g_byte_array_new();
	struct partition_config cfg = { .memory = 128 * MiB, .ncpus = ncpus, .hv = CPUID_HV_KVM, .name = "t" };
	struct partition_error err = { 0 };
	int ret = partition_create(&cfg, &r->p, &err);
	if (ret < 0)
		g_error("partition_create failed at %s: %s", err.step, g_strerror(-ret));
	g_assert_cmpint(iobus_register(r->p->pio, PORT_OUT, 1, &out_ops, r), ==, 0);
	g_assert_cmpint(iobus_register(r->p->pio, PORT_STOP, 2, &stop_ops, r), ==, 0);
	return true;
}

static guint rig_count(struct rig *r)
{
	g_mutex_lock(&r->lock);
	guint n = r->out->len;
	g_mutex_unlock(&r->lock);
	return n;
}

static void rig_wait_count(struct rig *r, guint n)
{
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (rig_count(r) < n && g_get_monotonic_time() < end && partition_stopped(r->p) == PARTITION_RUNNING)
		g_usleep(1000);
	if (rig_count(r) < n)
		g_error("the program sent %u bytes, not %u (stop: %s, %s)", rig_count(r), n,
			partition_stop_name(partition_stopped(r->p)), r->p->stop_detail);
}

static void rig_destroy(struct rig *r)
{
	if (partition_stopped(r->p) == PARTITION_RUNNING)
		partition_request_stop(r->p, PARTITION_STOP_TURNED_OFF, "test over");
	partition_join(r->p);
	partition_destroy(r->p);
	g_byte_array_unref(r->out);
	g_mutex_clear(&r->lock);
}

static uint16_t counter(struct rig *r)
{
	uint16_t v;
	memcpy(&v, guest_ram_ptr(&r->p->ram, COUNTER_GPA, 2), 2);
	return v;
}

static void test_save_restore(void)
{
	struct rig a, b;
	if (!rig_create(&a, 2))
		return;
	g_assert_cmpint(guest_ram_write(&a.p->ram, CODE_GPA, counting, sizeof(counting)), ==, 0);
	struct boot_entry e = { .mode = BOOT_MODE_REAL16, .rip = CODE_GPA };
	g_assert_cmpint(partition_start(a.p, &e), ==, 0);
	rig_wait_count(&a, 20);
	partition_pause(a.p);
	g_assert_cmpint(partition_stopped(a.p), ==, PARTITION_RUNNING);
	GVariant *v = NULL;
	g_autoptr(GError) err = NULL;
	if (partition_save(a.p, &v, &err) < 0)
		g_error("partition_save: %s", err->message);
	g_autoptr(GVariant) state = v;
	guint sent = rig_count(&a);
	uint8_t last = a.out->data[sent - 1];
	uint16_t n = counter(&a);
	/* The pause came after an OUT, or between an add and its OUT. */
	g_assert_true((uint8_t)n == last || (uint8_t)n == (uint8_t)(last + 1));
	/* The same vCPU count, and what the file check finds in it. */
	struct kvm_state_vm parsed;
	g_assert_cmpint(kvm_state_vm_from_variant(state, 2, &parsed, &err), ==, 0);
	g_assert_cmpuint(parsed.vcpus[0].regs.rip, >=, CODE_GPA & 0xfff);
	g_assert_cmpuint(parsed.vcpus[0].nmsrs, >, 0);
	g_assert_cmpuint(parsed.vcpus[0].ncpuid, >, 0);
	kvm_state_vm_clear(&parsed);

	/* A new partition: the RAM, then the state, then it runs on. */
	g_assert_true(rig_create(&b, 2));
	memcpy(b.p->ram.host, a.p->ram.host, b.p->ram.size);
	rig_destroy(&a);
	if (partition_restore(b.p, state, &err) < 0)
		g_error("partition_restore: %s", err->message);
	g_assert_cmpint(partition_start(b.p, NULL), ==, 0);
	rig_wait_count(&b, 20);
	uint8_t stop = 1;
	g_assert_cmpint(guest_ram_write(&b.p->ram, STOP_GPA, &stop, 1), ==, 0);
	gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (partition_stopped(b.p) == PARTITION_RUNNING && g_get_monotonic_time() < end)
		g_usleep(1000);
	g_assert_cmpint(partition_stopped(b.p), ==, PARTITION_STOP_POWEROFF);
	partition_join(b.p);
	/* The number after the last one sent first, then one more each
	 * time, up to the stop: none repeated, none lost. */
	guint got = b.out->len;
	for (guint i = 0; i < got; i++)
		if (b.out->data[i] != (uint8_t)(last + 1 + i))
			g_error("after the restore, byte %u is %u, not %u", i, b.out->data[i], (uint8_t)(last + 1 + i));
	g_assert_cmpuint((uint8_t)counter(&b), ==, b.out->data[got - 1]);
	g_assert_cmpuint(counter(&b), >, n);
	g_test_message("counted to %u before the save, %u more after", n, got);
	rig_destroy(&b);
}

static void test_refused(void)
{
	struct rig a, b;
	if (!rig_create(&a, 1))
		return;
	g_assert_cmpint(guest_ram_write(&a.p->ram, CODE_GPA, counting, sizeof(counting)), ==, 0);
	struct boot_entry e = { .mode = BOOT_MODE_REAL16, .rip = CODE_GPA };
	g_assert_cmpint(partition_start(a.p, &e), ==, 0);
	rig_wait_count(&a, 2);
	partition_pause(a.p);
	GVariant *v = NULL;
	g_autoptr(GError) err = NULL;
	g_assert_cmpint(partition_save(a.p, &v, &err), ==, 0);
	g_autoptr(GVariant) state = v;
	rig_destroy(&a);
	g_assert_true(rig_create(&b, 2));
	int r = partition_restore(b.p, state, &err);
	assert_refused(r, err, "1 vCPUs saved, this machine has 2");
	/* A CPUID that is not this host's. */
	g_autoptr(GVariant) cpuid = g_variant_ref_sink(state_at(state, PATH(6, 0, 10)));
	size_t len;
	const uint8_t *bytes = saved_state_blob_peek(cpuid, &len);
	g_autofree uint8_t *other = g_memdup2(bytes, len);
	struct kvm_cpuid_entry2 *first = (struct kvm_cpuid_entry2 *)other;
	first->ebx ^= 0x1;
	g_autoptr(GVariant) v2 = g_variant_ref_sink(state_set(state, PATH(6, 0, 10), saved_state_blob(other, len)));
	struct rig c;
	g_assert_true(rig_create(&c, 1));
	r = partition_restore(c.p, v2, &err);
	assert_refused(r, err, "other features than this host's");
	rig_destroy(&b);
	rig_destroy(&c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/partition-state/save-restore", test_save_restore);
	g_test_add_func("/partition-state/refused", test_refused);
	return g_test_run();
}
