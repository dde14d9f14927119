// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/boot.h"
#include "hv/bootparams.h"
#include "hv/layout.h"
#include "hv/le.h"

static uint64_t rd(const uint8_t *p, unsigned off, unsigned len)
{
	return le_get(p + off, len);
}

static void wr(uint8_t *p, unsigned off, unsigned len, uint64_t v)
{
	le_put(p + off, len, v);
}

int boot_bzimage_load(const struct guest_ram *ram, const struct boot_config *cfg,
		      struct boot_entry *entry)
{
	const uint8_t *img = cfg->kernel.data;
	size_t size = cfg->kernel.size;

	if (boot_detect_format(img, size) != BOOT_FORMAT_BZIMAGE || size < BP_HDR + 0x80)
		return -ENOEXEC;
	if (rd(img, BP_BOOT_FLAG, 2) != 0xAA55)
		return -ENOEXEC;
	unsigned version = (unsigned)rd(img, BP_VERSION, 2);
	if (version < BP_MIN_VERSION_64BIT || !(rd(img, BP_XLOADFLAGS, 2) & BP_XLF_KERNEL_64))
		return -ENOEXEC;
	if (!(rd(img, BP_LOADFLAGS, 1) & BP_LOADFLAG_LOADED_HIGH))
		return -ENOEXEC;

	unsigned setup_sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	size_t setup_size = ((size_t)setup_sects + 1) * 512;
	/* The header's own length byte bounds what we copy, so a bogus value
	 * cannot make us read past the setup sectors. */
	size_t hdr_end = 0x202 + img[BP_HEADER_END_BYTE];
	if (setup_size >= size || hdr_end > setup_size || hdr_end > BP_E820_TABLE)
		return -ENOEXEC;

	const uint8_t *kernel = img + setup_size;
	size_t kernel_size = size - setup_size;
	if (kernel_size <= 0x200)
		return -ENOEXEC;   /* the 64-bit entry must lie inside the image */
	uint64_t init_size = rd(img, BP_INIT_SIZE, 4);
	uint64_t align = rd(img, BP_KERNEL_ALIGNMENT, 4);
	uint64_t load = rd(img, BP_PREF_ADDRESS, 8);
	uint64_t low_end = guest_ram_low_end(ram);
	if (load < 1 * MiB)
		load = LAYOUT_KERNEL_START;
	if (load >= low_end)
		return -E2BIG;
	/* A bogus alignment is not ours to honour: only powers of two up to 1 GiB. */
	if (rd(img, BP_RELOCATABLE_KERNEL, 1) && align && align <= 1 * GiB && !(align & (align - 1)))
		load = (load + align - 1) & ~(align - 1);
	if (init_size < kernel_size)
		init_size = kernel_size;
	if (load >= low_end || init_size > low_end - load)
		return -E2BIG;
	uint64_t kernel_end = load + init_size;
	int r = guest_ram_write(ram, load, kernel, kernel_size);
	if (r < 0)
		return r;

	uint8_t *bp = guest_ram_ptr(ram, LAYOUT_BOOT_PARAMS, BP_SIZE);
	if (!bp)
		return -EFAULT;
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);

	wr(bp, BP_TYPE_OF_LOADER, 1, 0xff);   /* "undefined" boot loader */
	wr(bp, BP_LOADFLAGS, 1, rd(bp, BP_LOADFLAGS, 1) | BP_LOADFLAG_CAN_USE_HEAP);
	wr(bp, BP_HEAP_END_PTR, 2, 0xfe00);
	wr(bp, BP_VID_MODE, 2, 0xffff);       /* "normal" */
	wr(bp, BP_CODE32_START, 4, load);

	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	uint64_t cmdline_max = rd(img, BP_CMDLINE_SIZE, 4);
	if (cmdline_max == 0 || cmdline_max > LAYOUT_CMDLINE_MAX - 1)
		cmdline_max = LAYOUT_CMDLINE_MAX - 1;
	if (cmdline_len > cmdline_max)
		return -E2BIG;
	r = guest_ram_write(ram, LAYOUT_CMDLINE, cmdline, cmdline_len + 1);
	if (r < 0)
		return r;
	wr(bp, BP_CMD_LINE_PTR, 4, LAYOUT_CMDLINE);

	if (cfg->initrd.size) {
		uint64_t max = rd(img, BP_INITRD_ADDR_MAX, 4);
		uint64_t gpa;
		if (max == 0)
			max = 0x37ffffff;  /* the protocol's default for old headers */
		r = boot_place_initrd(ram, cfg->initrd.size, kernel_end, max + 1, &gpa);
		if (r < 0)
			return r;
		r = guest_ram_write(ram, gpa, cfg->initrd.data, cfg->initrd.size);
		if (r < 0)
			return r;
		wr(bp, BP_RAMDISK_IMAGE, 4, gpa);
		wr(bp, BP_RAMDISK_SIZE, 4, cfg->initrd.size);
		wr(bp, BP_EXT_RAMDISK_IMAGE, 4, gpa >> 32);
		wr(bp, BP_EXT_RAMDISK_SIZE, 4, (uint64_t)cfg->initrd.size >> 32);
	}

	if (version >= 0x020e)
		wr(bp, BP_ACPI_RSDP_ADDR, 8, cfg->rsdp_gpa);

	const struct e820_map *map = cfg->e820;
	unsigned n = map->count < BP_E820_MAX ? map->count : BP_E820_MAX;
	memcpy(bp + BP_E820_TABLE, map->entries, n * sizeof(struct e820_entry));
	wr(bp, BP_E820_ENTRIES, 1, n);

	uint64_t cr3;
	r = boot_write_identity_map(ram, &cr3);
	if (r < 0)
		return r;
	r = boot_write_gdt(ram, BOOT_MODE_LINUX64);
	if (r < 0)
		return r;

	/* The 64-bit entry sits 0x200 bytes into the protected-mode code. */
	*entry = (struct boot_entry){
		.mode = BOOT_MODE_LINUX64, .rip = load + 0x200, .arg = LAYOUT_BOOT_PARAMS, .cr3 = cr3,
	};
	return 0;
}
