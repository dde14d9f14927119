// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "hv/boot.h"
#include "hv/bootparams.h"
#include "hv/layout.h"

struct fixture {
	struct guest_ram ram;
	struct e820_map map;
};

static void put(uint8_t *p, unsigned off, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned off, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

/* A minimal image with a real setup header: 4 setup sectors, then `payload` bytes. */
static GByteArray *make_bzimage(size_t payload)
{
	GByteArray *a = g_byte_array_sized_new(5 * 512 + payload);
	g_byte_array_set_size(a, 5 * 512 + payload);
	uint8_t *p = a->data;
	memset(p, 0, a->len);
	p[BP_SETUP_SECTS] = 4;
	put(p, BP_BOOT_FLAG, 2, 0xAA55);
	p[0x200] = 0xeb;
	p[BP_HEADER_END_BYTE] = 0x6a;          /* header runs to 0x26c */
	memcpy(p + BP_HEADER_MAGIC, "HdrS", 4);
	put(p, BP_VERSION, 2, 0x020f);
	p[BP_LOADFLAGS] = BP_LOADFLAG_LOADED_HIGH;
	put(p, BP_INITRD_ADDR_MAX, 4, 0x7fffffff);
	put(p, BP_KERNEL_ALIGNMENT, 4, 0x200000);
	p[BP_RELOCATABLE_KERNEL] = 1;
	put(p, BP_XLOADFLAGS, 2, BP_XLF_KERNEL_64 | BP_XLF_CAN_BE_LOADED_ABOVE_4G);
	put(p, BP_CMDLINE_SIZE, 4, 2047);
	put(p, BP_PREF_ADDRESS, 8, 0x1000000);
	put(p, BP_INIT_SIZE, 4, 8 * MiB);
	for (size_t i = 0; i < payload; i++)
		p[5 * 512 + i] = (uint8_t)(i * 7 + 3);
	return a;
}

static void fixture_setup(struct fixture *f, uint64_t ram)
{
	g_assert_cmpint(guest_ram_init(&f->ram, ram, "t"), ==, 0);
	e820_build(f->ram.regions, f->ram.nregions, &f->map);
}

static int load(struct fixture *f, GByteArray *img, const uint8_t *initrd, size_t initrd_size,
		const char *cmdline, struct boot_entry *e)
{
	struct boot_config bc = {
		.kernel = { img->data, img->len }, .initrd = { initrd, initrd_size },
		.cmdline = cmdline, .rsdp_gpa = 0xE0000, .e820 = &f->map,
	};
	return boot_bzimage_load(&f->ram, &bc, e);
}

static void test_load(void)
{
	struct fixture f;
	fixture_setup(&f, 256 * MiB);
	g_autoptr(GByteArray) img = make_bzimage(64 * 1024);
	uint8_t initrd[10000];
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	struct boot_entry e;
	g_assert_cmpint(load(&f, img, initrd, sizeof(initrd), "console=ttyS0 quiet", &e), ==, 0);

	g_assert_cmpint(e.mode, ==, BOOT_MODE_LINUX64);
	g_assert_cmphex(e.rip, ==, 0x1000000 + 0x200);
	g_assert_cmphex(e.arg, ==, LAYOUT_BOOT_PARAMS);
	g_assert_cmpmem(guest_ram_ptr(&f.ram, 0x1000000, 64 * 1024), 64 * 1024, img->data + 5 * 512, 64 * 1024);

	const uint8_t *bp = guest_ram_ptr(&f.ram, LAYOUT_BOOT_PARAMS, BP_SIZE);
	g_assert_cmpmem(bp + BP_HEADER_MAGIC, 4, "HdrS", 4);
	g_assert_cmphex(get(bp, BP_TYPE_OF_LOADER, 1), ==, 0xff);
	g_assert_cmphex(get(bp, BP_LOADFLAGS, 1) & BP_LOADFLAG_CAN_USE_HEAP, !=, 0);
	g_assert_cmphex(get(bp, BP_CODE32_START, 4), ==, 0x1000000);
	g_assert_cmphex(get(bp, BP_ACPI_RSDP_ADDR, 8), ==, 0xE0000);
	g_assert_cmpstr(guest_ram_ptr(&f.ram, get(bp, BP_CMD_LINE_PTR, 4), 1), ==, "console=ttyS0 quiet");

	uint64_t rd = get(bp, BP_RAMDISK_IMAGE, 4) | get(bp, BP_EXT_RAMDISK_IMAGE, 4) << 32;
	g_assert_cmpuint(get(bp, BP_RAMDISK_SIZE, 4), ==, sizeof(initrd));
	g_assert_cmphex(rd & 0xfff, ==, 0);
	g_assert_cmpuint(rd, >=, 0x1000000 + 8 * MiB);           /* above the kernel's init_size */
	g_assert_cmpuint(rd + sizeof(initrd), <=, 256 * MiB);     /* inside RAM, as high as possible */
	g_assert_cmpuint(rd, >, 256 * MiB - 2 * sizeof(initrd) - 4096);
	g_assert_cmpmem(guest_ram_ptr(&f.ram, rd, sizeof(initrd)), sizeof(initrd), initrd, sizeof(initrd));

	g_assert_cmpuint(get(bp, BP_E820_ENTRIES, 1), ==, f.map.count);
	g_assert_cmpmem(bp + BP_E820_TABLE, f.map.count * 20, f.map.entries, f.map.count * 20);

	/* The identity map covers the entry point with a 2 MiB page. */
	const uint64_t *pd = guest_ram_ptr(&f.ram, LAYOUT_PD, 4096);
	g_assert_cmphex(pd[0x1000000 >> 21], ==, 0x1000000 | 0x83);
	guest_ram_destroy(&f.ram);
}

static void test_rejects(void)
{
	struct fixture f;
	fixture_setup(&f, 128 * MiB);
	struct boot_entry e;
	struct {
		unsigned off, len;
		uint64_t val;
		int expect;
	} cases[] = {
		{ BP_BOOT_FLAG, 2, 0x1234, -ENOEXEC },
		{ BP_VERSION, 2, 0x0200, -ENOEXEC },             /* too old for the 64-bit entry */
		{ BP_XLOADFLAGS, 2, 0, -ENOEXEC },               /* no 64-bit entry */
		{ BP_LOADFLAGS, 1, 0, -ENOEXEC },                /* zImage loaded low */
		{ BP_SETUP_SECTS, 1, 200, -ENOEXEC },            /* setup larger than the file */
		{ BP_PREF_ADDRESS, 8, 0xfffffffffffff000ull, -E2BIG },
		{ BP_INIT_SIZE, 4, 0xffffffff, -E2BIG },         /* cannot fit in 128 MiB */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) img = make_bzimage(4096);
		put(img->data, cases[i].off, cases[i].len, cases[i].val);
		g_assert_cmpint(load(&f, img, NULL, 0, "", &e), ==, cases[i].expect);
	}

	g_autoptr(GByteArray) img = make_bzimage(4096);
	g_autofree char *longline = g_strnfill(4000, 'x');
	g_assert_cmpint(load(&f, img, NULL, 0, longline, &e), ==, -E2BIG);
	/* An initrd larger than RAM above the kernel. */
	g_autofree uint8_t *big = g_malloc0(120 * MiB);
	g_assert_cmpint(load(&f, img, big, 120 * MiB, "", &e), ==, -E2BIG);
	/* Truncated files of every short length are refused, never read past. */
	for (guint len = 0; len < 0x300; len += 7) {
		struct boot_config bc = { .kernel = { img->data, len }, .e820 = &f.map };
		g_assert_cmpint(boot_bzimage_load(&f.ram, &bc, &e), ==, -ENOEXEC);
	}
	guest_ram_destroy(&f.ram);
}

static void test_detect(void)
{
	g_autoptr(GByteArray) img = make_bzimage(16);
	g_assert_cmpint(boot_detect_format(img->data, img->len), ==, BOOT_FORMAT_BZIMAGE);
	g_assert_cmpint(boot_detect_format((const uint8_t *)"\x7f" "ELF....", 8), ==, BOOT_FORMAT_ELF);
	g_assert_cmpint(boot_detect_format((const uint8_t *)"MZ", 2), ==, BOOT_FORMAT_UNKNOWN);
	g_assert_cmpint(boot_detect_format(img->data, 0x205), ==, BOOT_FORMAT_UNKNOWN);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot/bzimage/load", test_load);
	g_test_add_func("/boot/bzimage/rejects", test_rejects);
	g_test_add_func("/boot/detect", test_detect);
	return g_test_run();
}
