// SPDX-License-Identifier: GPL-2.0-or-later
#include "hv/e820.h"
#include "hv/layout.h"

static void e820_add(struct e820_map *map, uint64_t addr, uint64_t size, enum e820_type type)
{
	if (size == 0 || map->count >= E820_MAX_ENTRIES)
		return;
	map->entries[map->count++] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
}

void e820_build(const struct guest_ram_region *regions, unsigned nregions, struct e820_map *map)
{
	map->count = 0;
	uint64_t low_end = nregions > 0 ? regions[0].size : 0;

	e820_add(map, 0, LAYOUT_EBDA_START, E820_RAM);
	e820_add(map, LAYOUT_EBDA_START, 0xA0000 - LAYOUT_EBDA_START, E820_RESERVED);
	/* The BIOS area holds the ACPI tables; Linux reserves it anyway. */
	e820_add(map, LAYOUT_ACPI_START, 1 * MiB - LAYOUT_ACPI_START, E820_RESERVED);
	if (low_end > 1 * MiB)
		e820_add(map, 1 * MiB, low_end - 1 * MiB, E820_RAM);
	for (unsigned i = 1; i < nregions; i++)
		e820_add(map, regions[i].gpa, regions[i].size, E820_RAM);
}
