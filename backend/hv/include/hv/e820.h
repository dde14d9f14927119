/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "hv/guest_ram.h"

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
};

/* The boot_params wire form: 20 bytes, packed. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry is 20 bytes in boot_params");

#define E820_MAX_ENTRIES 8

struct e820_map {
	struct e820_entry entries[E820_MAX_ENTRIES];
	unsigned count;
};

/* The memory map both boot paths hand the guest: RAM, the EBDA and BIOS
 * area below 1 MiB (which holds our ACPI tables), and RAM above 4 GiB. */
void e820_build(const struct guest_ram_region *regions, unsigned nregions, struct e820_map *map);
