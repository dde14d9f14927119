/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PVH boot ABI's start-of-day structures (Xen's hvm/start_info.h), version 1. */
#pragma once

#include <stdint.h>

#define PVH_START_MAGIC 0x336ec578u
#define PVH_ELFNOTE_PHYS32_ENTRY 18   /* XEN_ELFNOTE_PHYS32_ENTRY */

struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info v1 is 56 bytes");

struct pvh_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct pvh_modlist_entry) == 32, "hvm_modlist_entry is 32 bytes");

struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "hvm_memmap_table_entry is 24 bytes");

#include <stddef.h>
/* Finds the PVH 32-bit entry point in an ELF image: 0 and *entry, or -ENOEXEC. */
int pvh_find_entry(const uint8_t *elf, size_t size, uint64_t *entry);
