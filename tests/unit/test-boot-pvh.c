// SPDX-License-Identifier: GPL-2.0-or-later
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "hv/boot.h"
#include "hv/layout.h"
#include "hv/pvh.h"

#define SEG_PADDR 0x1000000
#define SEG_FILESZ 8192
#define SEG_MEMSZ (64 * 1024)
#define ENTRY 0x1000400

/* ELF: header, two program headers (LOAD, NOTE), a note area, then the segment. */
static GByteArray *make_elf(void)
{
	size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	size_t note_len = 2 * (sizeof(Elf64_Nhdr) + 4 + 4) + sizeof(Elf64_Nhdr) + 4 + 8;
	size_t seg_off = 4096;
	GByteArray *a = g_byte_array_new();
	g_byte_array_set_size(a, seg_off + SEG_FILESZ);
	memset(a->data, 0, a->len);

	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(a->data, &eh, sizeof(eh));

	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_offset = seg_off, .p_paddr = SEG_PADDR, .p_vaddr = 0xffffffff81000000ull,
		  .p_filesz = SEG_FILESZ, .p_memsz = SEG_MEMSZ },
		{ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len },
	};
	memcpy(a->data + eh.e_phoff, ph, sizeof(ph));

	/* Two unrelated notes first, as a real vmlinux has (Linux, GNU build id). */
	uint8_t *n = a->data + note_off;
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 1 };
	for (int i = 0; i < 2; i++) {
		memcpy(n, &nh, sizeof(nh));
		memcpy(n + sizeof(nh), i ? "GNU" : "Lnx", 4);
		n += sizeof(nh) + 8;
	}
	Elf64_Nhdr xen = { .n_namesz = 4, .n_descsz = 8, .n_type = PVH_ELFNOTE_PHYS32_ENTRY };
	memcpy(n, &xen, sizeof(xen));
	memcpy(n + sizeof(xen), "Xen", 4);
	uint64_t entry = ENTRY;
	memcpy(n + sizeof(xen) + 4, &entry, 8);

	for (size_t i = 0; i < SEG_FILESZ; i++)
		a->data[seg_off + i] = (uint8_t)(i * 13 + 1);
	return a;
}

static int load(struct guest_ram *ram, GByteArray *img, const uint8_t *initrd, size_t isz,
		struct boot_entry *e)
{
	struct e820_map map;
	e820_build(ram->regions, ram->nregions, &map);
	struct boot_config bc = { .kernel = { img->data, img->len }, .initrd = { initrd, isz },
				  .cmdline = "root=/dev/sda", .rsdp_gpa = 0xE0000, .e820 = &map };
	return boot_pvh_load(ram, &bc, e);
}

static void test_load(void)
{
	struct guest_ram ram;
	g_assert_cmpint(guest_ram_init(&ram, 256 * MiB, "t"), ==, 0);
	memset(guest_ram_ptr(&ram, SEG_PADDR, SEG_MEMSZ), 0xcc, SEG_MEMSZ);   /* bss must be zeroed */
	g_autoptr(GByteArray) img = make_elf();
	uint8_t initrd[5000];
	memset(initrd, 0x42, sizeof(initrd));
	struct boot_entry e;
	g_assert_cmpint(load(&ram, img, initrd, sizeof(initrd), &e), ==, 0);
	g_assert_cmpint(e.mode, ==, BOOT_MODE_PVH32);
	g_assert_cmphex(e.rip, ==, ENTRY);
	g_assert_cmphex(e.arg, ==, LAYOUT_PVH_START_INFO);

	const uint8_t *seg = guest_ram_ptr(&ram, SEG_PADDR, SEG_MEMSZ);
	g_assert_cmpmem(seg, SEG_FILESZ, img->data + 4096, SEG_FILESZ);
	for (size_t i = SEG_FILESZ; i < SEG_MEMSZ; i++)
		g_assert_cmpuint(seg[i], ==, 0);

	struct pvh_start_info si;
	memcpy(&si, guest_ram_ptr(&ram, LAYOUT_PVH_START_INFO, sizeof(si)), sizeof(si));
	g_assert_cmphex(si.magic, ==, PVH_START_MAGIC);
	g_assert_cmpuint(si.version, ==, 1);
	g_assert_cmphex(si.rsdp_paddr, ==, 0xE0000);
	g_assert_cmpstr(guest_ram_ptr(&ram, si.cmdline_paddr, 1), ==, "root=/dev/sda");
	g_assert_cmpuint(si.nr_modules, ==, 1);
	struct pvh_modlist_entry mod;
	memcpy(&mod, guest_ram_ptr(&ram, si.modlist_paddr, sizeof(mod)), sizeof(mod));
	g_assert_cmpuint(mod.size, ==, sizeof(initrd));
	g_assert_cmpuint(mod.paddr, >=, SEG_PADDR + SEG_MEMSZ);
	g_assert_cmpmem(guest_ram_ptr(&ram, mod.paddr, mod.size), mod.size, initrd, sizeof(initrd));
	g_assert_cmpuint(si.memmap_entries, >=, 3);
	struct pvh_memmap_entry mm;
	memcpy(&mm, guest_ram_ptr(&ram, si.memmap_paddr, sizeof(mm)), sizeof(mm));
	g_assert_cmpuint(mm.addr, ==, 0);
	g_assert_cmpuint(mm.type, ==, E820_RAM);
	guest_ram_destroy(&ram);
}

static void corrupt_and_expect(size_t off, const void *bytes, size_t len, int expect)
{
	struct guest_ram ram;
	g_assert_cmpint(guest_ram_init(&ram, 128 * MiB, "t"), ==, 0);
	g_autoptr(GByteArray) img = make_elf();
	memcpy(img->data + off, bytes, len);
	struct boot_entry e;
	g_assert_cmpint(load(&ram, img, NULL, 0, &e), ==, expect);
	guest_ram_destroy(&ram);
}

static void test_rejects(void)
{
	size_t ph0 = sizeof(Elf64_Ehdr), ph1 = ph0 + sizeof(Elf64_Phdr);
	size_t notes = ph1 + sizeof(Elf64_Phdr);
	uint8_t cls32 = ELFCLASS32;
	uint16_t machine = EM_386, phnum = 5000, phentsize = 10;
	uint64_t huge = 0xfffffffffffff000ull;
	uint32_t badnamesz = 0xfffffff0u;
	uint32_t notype = 0;
	uint64_t high_entry = 0x100000000ull;

	corrupt_and_expect(EI_CLASS, &cls32, 1, -ENOEXEC);
	corrupt_and_expect(offsetof(Elf64_Ehdr, e_machine), &machine, 2, -ENOEXEC);
	corrupt_and_expect(offsetof(Elf64_Ehdr, e_phnum), &phnum, 2, -ENOEXEC);
	corrupt_and_expect(offsetof(Elf64_Ehdr, e_phentsize), &phentsize, 2, -ENOEXEC);
	corrupt_and_expect(ph0 + offsetof(Elf64_Phdr, p_offset), &huge, 8, -ENOEXEC);
	corrupt_and_expect(ph0 + offsetof(Elf64_Phdr, p_paddr), &huge, 8, -E2BIG);
	corrupt_and_expect(ph0 + offsetof(Elf64_Phdr, p_memsz), &huge, 8, -E2BIG);
	corrupt_and_expect(ph1 + offsetof(Elf64_Phdr, p_filesz), &huge, 8, -ENOEXEC);
	corrupt_and_expect(notes, &badnamesz, 4, -ENOEXEC);
	/* The PVH note's type changed: no entry point at all. */
	corrupt_and_expect(notes + 2 * 20 + 8, &notype, 4, -ENOEXEC);
	corrupt_and_expect(notes + 2 * 20 + 16, &high_entry, 8, -ENOEXEC);
	/* An entry below 4 GiB but outside the loaded segment (found by the fuzzer). */
	uint64_t stray_entry = SEG_PADDR + SEG_FILESZ + 16;
	corrupt_and_expect(notes + 2 * 20 + 16, &stray_entry, 8, -ENOEXEC);

	/* Every truncation of a valid image fails cleanly. */
	g_autoptr(GByteArray) img = make_elf();
	struct guest_ram ram;
	g_assert_cmpint(guest_ram_init(&ram, 128 * MiB, "t"), ==, 0);
	struct e820_map map;
	e820_build(ram.regions, ram.nregions, &map);
	for (guint len = 0; len < img->len; len += 61) {
		struct boot_config bc = { .kernel = { img->data, len }, .e820 = &map };
		struct boot_entry e;
		g_assert_cmpint(boot_pvh_load(&ram, &bc, &e), <, 0);
	}
	guest_ram_destroy(&ram);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot/pvh/load", test_load);
	g_test_add_func("/boot/pvh/rejects", test_rejects);
	return g_test_run();
}
