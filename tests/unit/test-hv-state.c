// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Saved state of the pure backend/hv parts: the state file's container,
 * the RAM image files, KVM's state as a GVariant, the Hyper-V interface,
 * the SynIC and the PCI bus. Each round trip saves a component that the
 * guest put in a state, restores it into a new one, checks the new one
 * behaves as the old one would have (and saves to the same value), and
 * then feeds its restore malformed states: each is refused with a message
 * saying what is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hv/hyperv.h"
#include "hv/hyperv_tlfs.h"
#include "hv/kvm_state.h"
#include "hv/pci.h"
#include "hv/ram_image.h"
#include "hv/saved_state.h"
#include "hv/synic.h"
#include "state-util.h"

/* ---- the file ---- */

static GBytes *file_bytes(GVariant *components)
{
	g_autoptr(GVariant) f = g_variant_ref_sink(saved_state_file_new(components));
	return g_variant_get_data_as_bytes(f);
}

static void test_file_round_trip(void)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "answer", g_variant_new_uint32(42));
	g_variant_builder_add(&b, "{sv}", "blob", saved_state_blob("abc", 3));
	g_autoptr(GBytes) bytes = file_bytes(g_variant_builder_end(&b));
	g_autoptr(GVariant) comps = NULL;
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(saved_state_file_parse(bytes, &comps, &e), ==, 0);
	g_assert_no_error(e);
	g_autoptr(GVariant) a = saved_state_lookup(comps, "answer", "u", &e);
	g_assert_no_error(e);
	g_assert_cmpuint(g_variant_get_uint32(a), ==, 42);
	g_autoptr(GVariant) bl = saved_state_lookup(comps, "blob", "ay", &e);
	uint8_t got[3];
	g_assert_cmpint(saved_state_blob_get(bl, got, 3, "blob", &e), ==, 0);
	g_assert_cmpmem(got, 3, "abc", 3);
	/* A blob of another size, a missing component, one of another type. */
	int r = saved_state_blob_get(bl, got, 2, "blob", &e);
	assert_refused(r, e, "3 bytes, not 2");
	g_assert_null(saved_state_lookup(comps, "nope", "u", &e));
	r = -EINVAL;
	assert_refused(r, e, "nope: missing");
	g_assert_null(saved_state_lookup(comps, "answer", "s", &e));
	assert_refused(r, e, "answer: of type u, not s");
}

static void test_file_malformed(void)
{
	g_autoptr(GError) e = NULL;
	GVariant *comps = NULL;
	g_autoptr(GBytes) empty = g_bytes_new(NULL, 0);
	int r = saved_state_file_parse(empty, &comps, &e);
	assert_refused(r, e, "empty");

	g_autoptr(GVariant) wrong_magic = g_variant_ref_sink(g_variant_new("(su@a{sv})", "vireo-saved-stat", 1u,
									    g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)));
	g_autoptr(GBytes) b1 = g_variant_get_data_as_bytes(wrong_magic);
	r = saved_state_file_parse(b1, &comps, &e);
	assert_refused(r, e, "magic");

	g_autoptr(GVariant) wrong_version = g_variant_ref_sink(g_variant_new("(su@a{sv})", SAVED_STATE_MAGIC, 99u,
									      g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)));
	g_autoptr(GBytes) b2 = g_variant_get_data_as_bytes(wrong_version);
	r = saved_state_file_parse(b2, &comps, &e);
	assert_refused(r, e, "version 99");

	/* Twice the same component. */
	GVariant *twice[2] = { g_variant_new_dict_entry(g_variant_new_string("x"), g_variant_new_variant(g_variant_new_byte(1))),
			       g_variant_new_dict_entry(g_variant_new_string("x"), g_variant_new_variant(g_variant_new_byte(2))) };
	g_autoptr(GBytes) b3 = file_bytes(g_variant_new_array(NULL, twice, 2));
	r = saved_state_file_parse(b3, &comps, &e);
	assert_refused(r, e, "twice");

	/* Cut short, and of another type altogether: not in normal form. */
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "kvm", saved_state_blob("0123456789abcdef", 16));
	g_autoptr(GBytes) good = file_bytes(g_variant_builder_end(&b));
	gsize n;
	const uint8_t *d = g_bytes_get_data(good, &n);
	for (gsize cut = 1; cut < n; cut += 3) {
		g_autoptr(GBytes) part = g_bytes_new(d, cut);
		r = saved_state_file_parse(part, &comps, &e);
		g_assert_cmpint(r, <, 0);
		g_assert_nonnull(e);
		g_clear_error(&e);
	}
	g_autoptr(GVariant) other = g_variant_ref_sink(g_variant_new("(ss)", "vireo-saved-state", "hello"));
	g_autoptr(GBytes) b4 = g_variant_get_data_as_bytes(other);
	r = saved_state_file_parse(b4, &comps, &e);
	g_assert_cmpint(r, <, 0);
	g_clear_error(&e);
	/* Bytes of nothing at all, many sizes. */
	uint8_t junk[512];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	for (gsize len = 1; len <= sizeof(junk); len += 17) {
		g_autoptr(GBytes) jb = g_bytes_new(junk, len);
		r = saved_state_file_parse(jb, &comps, &e);
		g_assert_cmpint(r, <, 0);
		g_clear_error(&e);
	}
	g_assert_null(comps);
}

/* ---- RAM images ---- */

#define IMG_PAGES 64u

static void test_ram_image(void)
{
	uint64_t size = IMG_PAGES * RAM_IMAGE_PAGE;
	int src = memfd_create("img-src", MFD_CLOEXEC);
	g_assert_cmpint(src, >=, 0);
	g_assert_cmpint(ftruncate(src, (off_t)size), ==, 0);
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, src, 0);
	g_assert_true(mem != MAP_FAILED);
	/* Data in pages 1, 2, 10 and 63; page 5 touched but all zero; the rest never touched. */
	static const unsigned data_pages[] = { 1, 2, 10, 63 };
	for (size_t i = 0; i < G_N_ELEMENTS(data_pages); i++)
		memset(mem + data_pages[i] * RAM_IMAGE_PAGE + 100, 0x40 + (int)i, 200);
	mem[5 * RAM_IMAGE_PAGE] = 1;
	mem[5 * RAM_IMAGE_PAGE] = 0;

	g_autofree char *dir = g_dir_make_tmp("ram-image-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "ram", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	struct ram_image_stats st;
	g_assert_cmpint(ram_image_write(fd, mem, size, src, &st), ==, 0);
	g_assert_cmpuint(st.data_bytes, ==, 4 * RAM_IMAGE_PAGE);
	struct stat sb;
	g_assert_cmpint(fstat(fd, &sb), ==, 0);
	g_assert_cmpint(sb.st_size, ==, (off_t)size);
	/* Holes where the zero pages were (on file systems that have them). */
	g_assert_cmpint((uint64_t)sb.st_blocks * 512, <=, 8 * RAM_IMAGE_PAGE);

	int dst = memfd_create("img-dst", MFD_CLOEXEC);
	g_assert_cmpint(ftruncate(dst, (off_t)size), ==, 0);
	uint8_t *back = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dst, 0);
	g_assert_true(back != MAP_FAILED);
	struct ram_image_stats rst;
	g_assert_cmpint(ram_image_read(fd, back, size, &rst), ==, 0);
	g_assert_cmpuint(rst.data_bytes, <, size);
	/* What was a hole stays unallocated in the new memory (looked at before
	 * the comparison reads, and so allocates, every page of the mapping). */
	g_assert_cmpint(lseek(dst, 20 * RAM_IMAGE_PAGE, SEEK_DATA), ==, 63 * RAM_IMAGE_PAGE);
	g_assert_cmpmem(back, size, mem, size);

	/* Without the memfd's holes: every page read, the same file. */
	g_autofree char *path2 = g_build_filename(dir, "ram2", NULL);
	int fd2 = open(path2, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(ram_image_write(fd2, mem, size, -1, &st), ==, 0);
	g_assert_cmpuint(st.data_bytes, ==, 4 * RAM_IMAGE_PAGE);
	g_assert_cmpuint(st.zero_pages, ==, IMG_PAGES - 4);

	/* Refused: a file of another size, a folder, a size not in pages. */
	g_assert_cmpint(ram_image_read(fd, back, size - RAM_IMAGE_PAGE, NULL), ==, -EFBIG);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(ram_image_read(dfd, back, size, NULL), ==, -EINVAL);
	g_assert_cmpint(ram_image_write(fd2, mem, size - 1, -1, NULL), ==, -EINVAL);
	close(dfd);
	close(fd);
	close(fd2);
	munmap(mem, size);
	munmap(back, size);
	close(src);
	close(dst);
	g_unlink(path);
	g_unlink(path2);
	g_rmdir(dir);
}

/* ---- KVM's state ---- */

static void kvm_fill(struct kvm_state_vm *s, unsigned n)
{
	*s = (struct kvm_state_vm){ .tsc_khz = 2500000, .nvcpus = n };
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	memset(&s->pit, 0x5a, sizeof(s->pit));
	s->clock.clock = 123456789;
	s->vcpus = g_new0(struct kvm_state_vcpu, n);
	for (unsigned i = 0; i < n; i++) {
		struct kvm_state_vcpu *c = &s->vcpus[i];
		c->regs.rip = 0x1000 + i;
		c->regs.rax = 0xdead0000 + i;
		c->sregs.cr0 = 0x80000033;
		c->sregs.efer = 0x500;
		if (i == 0) {
			c->xsave_len = 4096;
			c->xsave = g_malloc0(4096);
			memset(c->xsave, 0xa5, 512);
		} else {
			c->fpu.fcw = 0x37f;
		}
		c->has_xcrs = i == 0;
		c->xcrs.nr_xcrs = 1;
		c->xcrs.xcrs[0].value = 7;
		c->lapic.regs[0x20] = (uint8_t)i;
		c->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
		c->events.nmi.pending = 1;
		c->debugregs.dr7 = 0x400;
		c->msrs[c->nmsrs++] = (struct kvm_state_msr){ 0x10, 999999 };
		c->msrs[c->nmsrs++] = (struct kvm_state_msr){ 0xc0000082, 0xffffffff81000000ull };
		c->msrs[c->nmsrs++] = (struct kvm_state_msr){ KVM_STATE_MSR_TSC_DEADLINE, 1000000 };
		c->ncpuid = 3;
		for (unsigned k = 0; k < 3; k++)
			c->cpuid[k] = (struct kvm_cpuid_entry2){ .function = k, .eax = k * 3 + i };
	}
}

static void test_kvm_state(void)
{
	struct kvm_state_vm s, back;
	kvm_fill(&s, 2);
	g_autoptr(GVariant) v = g_variant_ref_sink(kvm_state_vm_to_variant(&s));
	g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE(KVM_STATE_VM_TYPE)));
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(kvm_state_vm_from_variant(v, 2, &back, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpuint(back.tsc_khz, ==, s.tsc_khz);
	g_assert_cmpmem(&back.pit, sizeof(back.pit), &s.pit, sizeof(s.pit));
	g_assert_cmpuint(back.clock.clock, ==, 123456789);
	for (unsigned i = 0; i < 2; i++) {
		const struct kvm_state_vcpu *a = &s.vcpus[i], *b = &back.vcpus[i];
		g_assert_cmpmem(&a->regs, sizeof(a->regs), &b->regs, sizeof(b->regs));
		g_assert_cmpmem(&a->sregs, sizeof(a->sregs), &b->sregs, sizeof(b->sregs));
		g_assert_cmpmem(&a->lapic, sizeof(a->lapic), &b->lapic, sizeof(b->lapic));
		g_assert_cmpmem(&a->events, sizeof(a->events), &b->events, sizeof(b->events));
		g_assert_cmpuint(a->nmsrs, ==, b->nmsrs);
		g_assert_cmpmem(a->msrs, a->nmsrs * sizeof(a->msrs[0]), b->msrs, b->nmsrs * sizeof(b->msrs[0]));
		g_assert_cmpuint(b->ncpuid, ==, 3);
		g_assert_cmpmem(a->cpuid, 3 * sizeof(a->cpuid[0]), b->cpuid, 3 * sizeof(b->cpuid[0]));
		g_assert_cmpint(a->has_xcrs, ==, b->has_xcrs);
	}
	g_assert_cmpmem(back.vcpus[0].xsave, 4096, s.vcpus[0].xsave, 4096);
	g_assert_null(back.vcpus[1].xsave);
	g_assert_cmpuint(back.vcpus[1].fpu.fcw, ==, 0x37f);
	g_autoptr(GVariant) again = g_variant_ref_sink(kvm_state_vm_to_variant(&back));
	g_assert_true(g_variant_equal(v, again));
	kvm_state_vm_clear(&back);

	/* Malformed: each refused with its reason. */
	struct {
		const int *path;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ PATH(1), saved_state_blob("xx", 2), "PIC master" },
		{ PATH(3), g_variant_get_child_value(v, 2), "chip id 1, not 2" },
		{ PATH(6, 0, 0), saved_state_blob("short", 5), "vCPU 0 registers: 5 bytes" },
		{ PATH(6, 1, 2), saved_state_blob(NULL, 0), "vCPU 1 FPU" },
		{ PATH(6, 0, 3), saved_state_blob(s.vcpus[0].xsave, 100), "XSAVE area: 100 bytes" },
		{ PATH(6, 0, 2), saved_state_blob(&s.vcpus[1].fpu, sizeof(s.vcpus[1].fpu)), "both an FPU and an XSAVE" },
		{ PATH(6, 0, 9, 1, 0), g_variant_new_uint32(0x40000000), "MSR 0x40000000 is not one" },
		{ PATH(6, 0, 9, 1, 0), g_variant_new_uint32(0x10), "MSR 0x10 twice" },
		{ PATH(6, 1, 10), saved_state_blob(s.vcpus[0].cpuid, sizeof(s.vcpus[0].cpuid[0]) + 3), "CPUID" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_set(v, bad[i].path, bad[i].value));
		int r = kvm_state_vm_from_variant(m, 2, &back, &e);
		assert_refused(r, e, bad[i].needle);
	}
	int r = kvm_state_vm_from_variant(v, 3, &back, &e);
	assert_refused(r, e, "2 vCPUs saved, this machine has 3");
	/* More MSRs than a state holds. */
	g_autoptr(GVariant) msrs = g_variant_ref_sink(state_at(v, PATH(6, 0, 9)));
	GVariant *many = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("(ut)"), NULL, 0));
	for (unsigned i = 0; i <= KVM_STATE_MSRS_MAX; i++) {
		GVariant *next = g_variant_ref_sink(state_append(many, g_variant_new("(ut)", 0x10u, (guint64)i)));
		g_variant_unref(many);
		many = next;
	}
	g_autoptr(GVariant) m = g_variant_ref_sink(state_set(v, PATH(6, 0, 9), many));
	r = kvm_state_vm_from_variant(m, 2, &back, &e);
	assert_refused(r, e, "MSRs, more than");
	g_autoptr(GVariant) wrong = g_variant_ref_sink(g_variant_new("(u)", 1u));
	r = kvm_state_vm_from_variant(wrong, 2, &back, &e);
	assert_refused(r, e, "kvm: of type (u)");
	kvm_state_vm_clear(&s);
}

/* ---- the Hyper-V interface ---- */

#define HV_RAM_BASE  0x100000ull
#define HV_RAM_PAGES 8u

struct hvrig {
	uint8_t *ram;
	uint64_t now;
	struct hyperv *hv;
};

static void *hv_gpa(void *opaque, uint64_t gpa, size_t len)
{
	struct hvrig *r = opaque;
	uint64_t size = HV_RAM_PAGES * 4096ull;
	if (gpa < HV_RAM_BASE || len > size || gpa - HV_RAM_BASE > size - len)
		return NULL;
	return r->ram + (gpa - HV_RAM_BASE);
}

static uint64_t hv_now(void *opaque)
{
	return ((struct hvrig *)opaque)->now;
}

static const struct hyperv_ops hv_ops = { .gpa_ptr = hv_gpa, .now_ns = hv_now };

static void hvrig_init(struct hvrig *r, unsigned nvps, uint16_t port, uint64_t now)
{
	r->ram = g_malloc0(HV_RAM_PAGES * 4096);
	r->now = now;
	r->hv = hyperv_new(nvps, 2000000000ull, port, &hv_ops, r);
	hyperv_set_signal_port(r->hv, 0xe8);
}

static void hvrig_clear(struct hvrig *r)
{
	hyperv_free(r->hv);
	g_free(r->ram);
}

static uint64_t hv_rd(struct hyperv *hv, unsigned vp, uint32_t msr)
{
	uint64_t v = 0;
	g_assert_cmpint(hyperv_msr_read(hv, vp, msr, &v), ==, 0);
	return v;
}

static void test_hyperv_state(void)
{
	struct hvrig a, b;
	hvrig_init(&a, 2, 0xe4, 1000);
	g_assert_cmpint(hyperv_msr_write(a.hv, 0, HV_MSR_GUEST_OS_ID, 0x8100000000000000ull), ==, 0);
	g_assert_cmpint(hyperv_msr_write(a.hv, 0, HV_MSR_HYPERCALL, (HV_RAM_BASE + 4096) | 1), ==, 0);
	g_assert_cmpint(hyperv_msr_write(a.hv, 1, HV_MSR_VP_ASSIST_PAGE, (HV_RAM_BASE + 8192) | 1), ==, 0);
	g_assert_cmpint(hyperv_msr_write(a.hv, 0, HV_MSR_CRASH_P0 + 2, 0xfeed), ==, 0);
	g_assert_cmpint(hyperv_msr_write(a.hv, 0, HV_MSR_TSC_INVARIANT_CTL, 1), ==, 0);
	a.now += 5 * 1000000000ull;           /* 5 s: reference time 50,000,000 */
	uint64_t ref = hv_rd(a.hv, 0, HV_MSR_TIME_REF_COUNT);
	g_assert_cmpuint(ref, ==, 50000000);
	g_autoptr(GVariant) v = g_variant_ref_sink(hyperv_save(a.hv));

	/* Much later, in another process: the reference time goes on from 5 s. */
	hvrig_init(&b, 2, 0xe4, 777777777777ull);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(hyperv_restore(b.hv, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpuint(hv_rd(b.hv, 1, HV_MSR_TIME_REF_COUNT), ==, ref);
	b.now += 1000000;                     /* 1 ms */
	g_assert_cmpuint(hv_rd(b.hv, 1, HV_MSR_TIME_REF_COUNT), ==, ref + 10000);
	g_assert_cmpuint(hv_rd(b.hv, 0, HV_MSR_GUEST_OS_ID), ==, 0x8100000000000000ull);
	g_assert_cmpuint(hv_rd(b.hv, 0, HV_MSR_HYPERCALL), ==, (HV_RAM_BASE + 4096) | 1);
	g_assert_cmpuint(hv_rd(b.hv, 1, HV_MSR_VP_ASSIST_PAGE), ==, (HV_RAM_BASE + 8192) | 1);
	g_assert_cmpuint(hv_rd(b.hv, 0, HV_MSR_VP_ASSIST_PAGE), ==, 0);
	g_assert_cmpuint(hv_rd(b.hv, 1, HV_MSR_CRASH_P0 + 2), ==, 0xfeed);
	g_assert_cmpuint(hv_rd(b.hv, 0, HV_MSR_TSC_INVARIANT_CTL), ==, 1);
	b.now -= 1000000;
	g_autoptr(GVariant) again = g_variant_ref_sink(hyperv_save(b.hv));
	g_assert_true(g_variant_equal(v, again));
	hvrig_clear(&b);

	/* Refused, nothing changed. */
	struct hvrig c;
	hvrig_init(&c, 2, 0xe4, 1);
	guint64 big[3] = { 0 };
	struct {
		gsize child;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ 4, g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, big, 3, sizeof(guint64)), "3 VP assist pages" },
		{ 2, g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, big, 3, sizeof(guint64)), "3 crash parameters" },
		{ 1, g_variant_new_uint64(0x80000000ull | 1), "hypercall page" },
		{ 3, g_variant_new_uint64(6), "TSC_INVARIANT_CONTROL" },
		{ 5, g_variant_new_uint64(UINT64_MAX), "reference time" },
		{ 6, g_variant_new_uint16(0xe5), "ports" },
		{ 7, g_variant_new_uint16(0), "ports" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_with(v, bad[i].child, bad[i].value));
		int r = hyperv_restore(c.hv, m, &e);
		assert_refused(r, e, bad[i].needle);
		g_assert_cmpuint(hv_rd(c.hv, 0, HV_MSR_GUEST_OS_ID), ==, 0);
	}
	/* Hypercall page enabled without a guest OS id. */
	g_autoptr(GVariant) no_id = g_variant_ref_sink(state_with(v, 0, g_variant_new_uint64(0)));
	int r = hyperv_restore(c.hv, no_id, &e);
	assert_refused(r, e, "hypercall page");
	hvrig_clear(&c);
	struct hvrig d;
	hvrig_init(&d, 3, 0xe4, 1);
	r = hyperv_restore(d.hv, v, &e);
	assert_refused(r, e, "this machine has 3 VPs");
	hvrig_clear(&d);
	hvrig_clear(&a);
}

/* ---- the SynIC ---- */

#define SY_RAM_BASE 0x100000ull
#define SY_PAGES    8u

struct syrig {
	uint8_t *ram;
	struct synic *s;
	unsigned injects;
	uint8_t last_vector;
	unsigned last_vp;
};

static void *sy_gpa(void *opaque, uint64_t gpa, size_t len)
{
	struct syrig *r = opaque;
	uint64_t size = SY_PAGES * 4096ull;
	if (gpa < SY_RAM_BASE || len > size || gpa - SY_RAM_BASE > size - len)
		return NULL;
	return r->ram + (gpa - SY_RAM_BASE);
}

static void sy_inject(void *opaque, unsigned vp, uint8_t vector)
{
	struct syrig *r = opaque;
	r->injects++;
	r->last_vector = vector;
	r->last_vp = vp;
}

static const struct synic_ops sy_ops = { .gpa_ptr = sy_gpa, .inject = sy_inject };

static void syrig_init(struct syrig *r, unsigned nvps)
{
	memset(r, 0, sizeof(*r));
	r->ram = g_aligned_alloc0(SY_PAGES, 4096, 4096);
	r->s = synic_new(nvps, &sy_ops, r);
}

static void syrig_clear(struct syrig *r)
{
	synic_free(r->s);
	g_aligned_free(r->ram);
}

static struct synic_message *sy_slot(struct syrig *r, unsigned page, unsigned sint)
{
	return (struct synic_message *)(r->ram + page * 4096u + sint * SYNIC_MESSAGE_SIZE);
}

static void test_synic_state(void)
{
	struct syrig a, b;
	syrig_init(&a, 2);
	/* VP 1: SynIC on, SIMP at page 2, SIEFP at page 3, SINT2 vector 0x30. */
	g_assert_cmpint(synic_msr_write(a.s, 1, SYNIC_MSR_SCONTROL, 1), ==, 0);
	g_assert_cmpint(synic_msr_write(a.s, 1, SYNIC_MSR_SIMP, (SY_RAM_BASE + 2 * 4096) | 1), ==, 0);
	g_assert_cmpint(synic_msr_write(a.s, 1, SYNIC_MSR_SIEFP, (SY_RAM_BASE + 3 * 4096) | 1), ==, 0);
	g_assert_cmpint(synic_msr_write(a.s, 1, SYNIC_MSR_SINT0 + 2, 0x30), ==, 0);
	/* Two messages: the first takes the slot, the second waits for the EOM. */
	g_assert_cmpint(synic_post_message(a.s, 1, 2, 1, "first", 5), ==, 0);
	g_assert_cmpint(synic_post_message(a.s, 1, 2, 1, "second!", 7), ==, 0);
	g_assert_cmpint(synic_queued(a.s, 1, 2), ==, 1);
	g_assert_cmpuint(a.injects, ==, 1);
	g_autoptr(GVariant) v = g_variant_ref_sink(synic_save(a.s));

	/* The new SynIC reads the same RAM (restored beside it). */
	syrig_init(&b, 2);
	memcpy(b.ram, a.ram, SY_PAGES * 4096);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(synic_restore(b.s, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpuint(b.injects, ==, 0);       /* nothing delivered by the restore itself */
	g_assert_cmpint(synic_queued(b.s, 1, 2), ==, 1);
	uint64_t val;
	g_assert_cmpint(synic_msr_read(b.s, 1, SYNIC_MSR_SINT0 + 2, &val), ==, 0);
	g_assert_cmpuint(val, ==, 0x30);
	g_assert_cmpint(synic_msr_read(b.s, 0, SYNIC_MSR_SINT0 + 2, &val), ==, 0);
	g_assert_cmpuint(val, ==, SYNIC_SINT_MASKED);
	g_autoptr(GVariant) again = g_variant_ref_sink(synic_save(b.s));
	g_assert_true(g_variant_equal(v, again));
	/* The guest takes the first message and writes EOM: the second arrives. */
	struct synic_message *slot = sy_slot(&b, 2, 2);
	g_assert_cmpmem(slot->payload, 5, "first", 5);
	__atomic_store_n(&slot->message_type, 0, __ATOMIC_SEQ_CST);
	g_assert_cmpint(synic_msr_write(b.s, 1, SYNIC_MSR_EOM, 0), ==, 0);
	g_assert_cmpuint(slot->message_type, ==, 1);
	g_assert_cmpuint(slot->payload_size, ==, 7);
	g_assert_cmpmem(slot->payload, 7, "second!", 7);
	g_assert_cmpuint(b.injects, ==, 1);
	g_assert_cmpuint(b.last_vector, ==, 0x30);
	g_assert_cmpuint(b.last_vp, ==, 1);
	/* And events reach the restored SIEFP page. */
	g_assert_cmpint(synic_signal_event(b.s, 1, 2, 5), ==, 0);
	uint64_t *flags = (uint64_t *)(b.ram + 3 * 4096 + 2 * SYNIC_MESSAGE_SIZE);
	g_assert_cmpuint(flags[0], ==, 1u << 5);
	syrig_clear(&b);

	/* Refused. */
	struct syrig c;
	syrig_init(&c, 2);
	guint64 sints15[15] = { 0 };
	guint64 sints_bad[16];
	for (unsigned i = 0; i < 16; i++)
		sints_bad[i] = SYNIC_SINT_MASKED;
	sints_bad[4] = 0x0f;                      /* unmasked, vector below 16 */
	struct {
		const int *path;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ PATH(1, 3), g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, sints15, 15, sizeof(guint64)), "15 SINTs" },
		{ PATH(0, 3), g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, sints_bad, 16, sizeof(guint64)),
		  "SINT4: vector 15" },
		{ PATH(1, 4, 0, 0), g_variant_new_byte(16), "SINT 16" },
		{ PATH(1, 4, 0, 1), g_variant_new_uint32(0), "type 0" },
		{ PATH(1, 4, 0, 2), saved_state_blob(c.ram, 241), "241 bytes" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_set(v, bad[i].path, bad[i].value));
		int r = synic_restore(c.s, m, &e);
		assert_refused(r, e, bad[i].needle);
		g_assert_cmpint(synic_queued(c.s, 1, 2), ==, 0);
	}
	/* More queued than the SynIC keeps. */
	g_autoptr(GVariant) q = g_variant_ref_sink(state_at(v, PATH(1, 4)));
	GVariant *many = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("(yuay)"), NULL, 0));
	for (unsigned i = 0; i <= SYNIC_QUEUE_MAX; i++) {
		GVariant *next = g_variant_ref_sink(state_append(many, g_variant_get_child_value(q, 0)));
		g_variant_unref(many);
		many = next;
	}
	g_autoptr(GVariant) m = g_variant_ref_sink(state_set(v, PATH(1, 4), many));
	int r = synic_restore(c.s, m, &e);
	assert_refused(r, e, "more than 128 queued");
	g_autoptr(GVariant) one = g_variant_ref_sink(state_without(v, 1));
	r = synic_restore(c.s, one, &e);
	assert_refused(r, e, "1 VPs saved, this machine has 2");
	syrig_clear(&c);
	syrig_clear(&a);
}

/* ---- the PCI bus ---- */

struct pcirig {
	struct pci_bus bus;
	struct pci_device host, dev;
	uint64_t bar_gpa;
	bool bar_on;
	unsigned updates;
};

static void pcirig_bar(struct pci_device *dev, unsigned bar, uint64_t gpa, bool enabled)
{
	struct pcirig *r = dev->opaque;
	r->bar_gpa = gpa;
	r->bar_on = enabled;
	r->updates++;
}

static const struct pci_device_ops pcirig_ops = { .bar_update = pcirig_bar };

static void pcirig_init(struct pcirig *r, uint16_t device_id)
{
	memset(r, 0, sizeof(*r));
	pci_bus_init(&r->bus);
	pci_host_bridge_init(&r->host);
	pci_bus_add(&r->bus, 0, &r->host);
	pci_device_init(&r->dev, "test", 0x1414, device_id, 0x030000, 0);
	g_assert_cmpint(pci_device_set_bar(&r->dev, 0, 1u << 24, 0xf8000000, false), ==, 0);
	r->dev.ops = &pcirig_ops;
	r->dev.opaque = r;
	pci_bus_add(&r->bus, 8, &r->dev);
}

#define CFG_ADDR(slot, reg) (0x80000000u | (slot) << 11 | (reg))

static void test_pci_state(void)
{
	struct pcirig a, b;
	pcirig_init(&a, 0x5353);
	/* The guest moves BAR0, turns memory decoding on, sets the interrupt line. */
	pci_config_write(&a.bus, CFG_ADDR(8, 0x10), 0, 4, 0xf9000000);
	pci_config_write(&a.bus, CFG_ADDR(8, 0x3c), 0, 1, 11);
	pci_config_write(&a.bus, CFG_ADDR(8, 0x04), 0, 2, 0x2);
	a.bus.config_address = CFG_ADDR(8, 0x10);
	g_autoptr(GVariant) v = g_variant_ref_sink(pci_bus_save(&a.bus));
	pcirig_init(&b, 0x5353);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(pci_bus_restore(&b.bus, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpmem(b.dev.config, PCI_CONFIG_SIZE, a.dev.config, PCI_CONFIG_SIZE);
	g_assert_cmpuint(b.bar_gpa, ==, 0xf9000000);
	g_assert_true(b.bar_on);
	g_assert_cmpuint(pci_config_read(&b.bus, CFG_ADDR(8, 0x3c), 0, 1), ==, 11);
	g_assert_cmpuint(b.bus.config_address, ==, CFG_ADDR(8, 0x10));
	g_autoptr(GVariant) again = g_variant_ref_sink(pci_bus_save(&b.bus));
	g_assert_true(g_variant_equal(v, again));

	/* A BAR the guest could not have written goes through its mask. */
	uint8_t cfg[PCI_CONFIG_SIZE];
	memcpy(cfg, a.dev.config, sizeof(cfg));
	cfg[0x10] = 0x34;
	cfg[0x11] = 0x12;
	g_autoptr(GVariant) odd = g_variant_ref_sink(state_set(v, PATH(1, 1, 1), saved_state_blob(cfg, sizeof(cfg))));
	g_assert_cmpint(pci_bus_restore(&b.bus, odd, &e), ==, 0);
	g_assert_cmpuint(b.bar_gpa, ==, 0xf9000000);

	/* Refused: another device, a slot that is empty here, one missing, a short space. */
	struct pcirig c;
	pcirig_init(&c, 0x1234);
	int r = pci_bus_restore(&c.bus, v, &e);
	assert_refused(r, e, "slot 8 holds another device");
	pci_bus_destroy(&c.bus);
	g_autoptr(GVariant) m1 = g_variant_ref_sink(state_set(v, PATH(1, 1, 0), g_variant_new_byte(9)));
	r = pci_bus_restore(&b.bus, m1, &e);
	assert_refused(r, e, "slot 9 is not a device");
	g_autoptr(GVariant) devs = g_variant_ref_sink(state_at(v, PATH(1)));
	g_autoptr(GVariant) m2 = g_variant_ref_sink(state_with(v, 1, state_without(devs, 1)));
	r = pci_bus_restore(&b.bus, m2, &e);
	assert_refused(r, e, "no device in slot 8");
	g_autoptr(GVariant) m3 = g_variant_ref_sink(state_set(v, PATH(1, 0, 1), saved_state_blob(cfg, 255)));
	r = pci_bus_restore(&b.bus, m3, &e);
	assert_refused(r, e, "255 bytes");
	g_autoptr(GVariant) m4 = g_variant_ref_sink(state_with(v, 1, state_append(devs, g_variant_get_child_value(devs, 0))));
	r = pci_bus_restore(&b.bus, m4, &e);
	assert_refused(r, e, "or twice");
	pci_bus_destroy(&a.bus);
	pci_bus_destroy(&b.bus);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hv-state/file/round-trip", test_file_round_trip);
	g_test_add_func("/hv-state/file/malformed", test_file_malformed);
	g_test_add_func("/hv-state/ram-image", test_ram_image);
	g_test_add_func("/hv-state/kvm", test_kvm_state);
	g_test_add_func("/hv-state/hyperv", test_hyperv_state);
	g_test_add_func("/hv-state/synic", test_synic_state);
	g_test_add_func("/hv-state/pci", test_pci_state);
	return g_test_run();
}
