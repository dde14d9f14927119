// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/boot.h"
#include "hv/layout.h"

#define GDT_ENTRY(flags, base, limit)                                           \
	((((uint64_t)(base) & 0xff000000u) << 32) | (((uint64_t)(flags) & 0xf0ffu) << 40) | \
	 (((uint64_t)(limit) & 0x000f0000u) << 32) | (((uint64_t)(base) & 0x00ffffffu) << 16) | \
	 ((uint64_t)(limit) & 0x0000ffffu))

int boot_write_gdt(const struct guest_ram *ram, enum boot_mode mode)
{
	/* 0xa09b: long-mode code; 0xc09b: 32-bit code; 0xc093: data; 0x008b: busy TSS.
	 * The TSS exists only because VMX refuses to enter with a null TR. */
	uint64_t gdt[5] = {
		0,
		0,
		mode == BOOT_MODE_LINUX64 ? GDT_ENTRY(0xa09b, 0, 0xfffff) : GDT_ENTRY(0xc09b, 0, 0xfffff),
		GDT_ENTRY(0xc093, 0, 0xfffff),
		GDT_ENTRY(0x008b, 0, 0x67),
	};
	return guest_ram_write(ram, LAYOUT_BOOT_GDT, gdt, sizeof(gdt));
}

int boot_write_identity_map(const struct guest_ram *ram, uint64_t *cr3)
{
	uint64_t *pml4 = guest_ram_ptr(ram, LAYOUT_PML4, 4096);
	uint64_t *pdpt = guest_ram_ptr(ram, LAYOUT_PDPT, 4096);
	uint64_t *pd = guest_ram_ptr(ram, LAYOUT_PD, 4 * 4096);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | 0x3;          /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;      /* present, writable, 2 MiB page */
	*cr3 = LAYOUT_PML4;
	return 0;
}

int boot_place_initrd(const struct guest_ram *ram, size_t initrd_size, uint64_t min_start,
		      uint64_t max_end, uint64_t *gpa)
{
	uint64_t low_end = guest_ram_low_end(ram);
	uint64_t end = max_end < low_end ? max_end : low_end;
	if (initrd_size == 0) {
		*gpa = 0;
		return 0;
	}
	if (initrd_size > end)
		return -E2BIG;
	uint64_t start = (end - initrd_size) & ~(uint64_t)0xfff;
	if (start < min_start)
		return -E2BIG;
	*gpa = start;
	return 0;
}

enum boot_kernel_format boot_detect_format(const uint8_t *data, size_t size)
{
	if (size >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0)
		return BOOT_FORMAT_ELF;
	if (size >= 0x206 && memcmp(data + 0x202, "HdrS", 4) == 0)
		return BOOT_FORMAT_BZIMAGE;
	return BOOT_FORMAT_UNKNOWN;
}
