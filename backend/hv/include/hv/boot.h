/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux direct boot: a bzImage through the 64-bit boot protocol, or an ELF
 * vmlinux through its PVH entry. Loading only writes guest RAM; the vCPU
 * register state it asks for is returned in struct boot_entry.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hv/e820.h"
#include "hv/guest_ram.h"

enum boot_mode {
	BOOT_MODE_LINUX64,   /* long mode, paging on, RSI = boot_params */
	BOOT_MODE_PVH32,     /* 32-bit protected mode, paging off, EBX = hvm_start_info */
	BOOT_MODE_REAL16,    /* real mode at rip (below 1 MiB): self-tests and firmware */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t arg;        /* RSI or EBX */
	uint64_t cr3;        /* LINUX64 only */
};

struct boot_image {
	const uint8_t *data;
	size_t size;
};

struct boot_config {
	struct boot_image kernel;
	struct boot_image initrd;     /* size 0: none */
	const char *cmdline;          /* may be NULL */
	uint64_t rsdp_gpa;
	const struct e820_map *e820;
};

enum boot_kernel_format {
	BOOT_FORMAT_UNKNOWN,
	BOOT_FORMAT_BZIMAGE,
	BOOT_FORMAT_ELF,
};

enum boot_kernel_format boot_detect_format(const uint8_t *data, size_t size);

/* Errors: -ENOEXEC not a bzImage / no 64-bit entry, -E2BIG the kernel, initrd or
 * command line does not fit in guest RAM, -EFAULT a range outside RAM. */
int boot_bzimage_load(const struct guest_ram *ram, const struct boot_config *cfg,
		      struct boot_entry *entry);

/* Errors: -ENOEXEC not an x86-64 ELF or no PVH entry note, -E2BIG, -EFAULT. */
int boot_pvh_load(const struct guest_ram *ram, const struct boot_config *cfg,
		  struct boot_entry *entry);

/* Flat GDT at LAYOUT_BOOT_GDT: 0x10 code (64-bit or 32-bit per mode), 0x18 data, 0x20 TSS. */
#define BOOT_GDT_CODE_SEL 0x10
#define BOOT_GDT_DATA_SEL 0x18
#define BOOT_GDT_TSS_SEL  0x20
int boot_write_gdt(const struct guest_ram *ram, enum boot_mode mode);
/* Identity map of the first 4 GiB with 2 MiB pages, for the 64-bit entry. */
int boot_write_identity_map(const struct guest_ram *ram, uint64_t *cr3);

/* Places the initrd as high as allowed below max_end, above min_start, 4 KiB aligned. */
int boot_place_initrd(const struct guest_ram *ram, size_t initrd_size, uint64_t min_start,
		      uint64_t max_end, uint64_t *gpa);
