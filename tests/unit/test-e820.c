// SPDX-License-Identifier: GPL-2.0-or-later
#include <glib.h>

#include "hv/e820.h"
#include "hv/guest_ram.h"
#include "hv/layout.h"

static uint64_t ram_total(const struct e820_map *m)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < m->count; i++)
		if (m->entries[i].type == E820_RAM)
			t += m->entries[i].size;
	return t;
}

static void check_map(uint64_t size)
{
	struct guest_ram_region regions[2];
	unsigned n;
	struct e820_map map;
	guest_ram_layout(size, regions, &n);
	e820_build(regions, n, &map);

	/* Sorted, non-overlapping, no RAM inside the MMIO hole, ACPI area reserved. */
	for (unsigned i = 1; i < map.count; i++)
		g_assert_cmpuint(map.entries[i - 1].addr + map.entries[i - 1].size, <=, map.entries[i].addr);
	bool acpi_reserved = false;
	for (unsigned i = 0; i < map.count; i++) {
		const struct e820_entry *e = &map.entries[i];
		if (e->type == E820_RAM)
			g_assert_true(e->addr + e->size <= LAYOUT_MMIO_HOLE_START || e->addr >= LAYOUT_MMIO_HOLE_END);
		if (e->type != E820_RAM && e->addr <= LAYOUT_ACPI_START &&
		    e->addr + e->size >= LAYOUT_ACPI_START + LAYOUT_ACPI_SIZE)
			acpi_reserved = true;
	}
	g_assert_true(acpi_reserved);
	/* What the guest sees as RAM is what we allocated, less the EBDA and BIOS area. */
	g_assert_cmpuint(ram_total(&map), ==, size - (1 * MiB - LAYOUT_EBDA_START));
	g_assert_cmpuint(n, ==, size > LAYOUT_MMIO_HOLE_START ? 2 : 1);
}

static void test_sizes(void)
{
	uint64_t sizes[] = { 128 * MiB, 512 * MiB, 3 * GiB, 3 * GiB + 2 * MiB, 4 * GiB, 64 * GiB };
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
		check_map(sizes[i]);
}

static void test_ram_ptr(void)
{
	struct guest_ram ram;
	g_assert_cmpint(guest_ram_init(&ram, 100 * MiB, "t"), <, 0);
	g_assert_cmpint(guest_ram_init(&ram, 129 * MiB, "t"), <, 0);
	/* 4 GiB of address space is cheap: the memfd is sparse. */
	g_assert_cmpint(guest_ram_init(&ram, 4 * GiB, "t"), ==, 0);
	g_assert_nonnull(guest_ram_ptr(&ram, 0, 4096));
	g_assert_nonnull(guest_ram_ptr(&ram, LAYOUT_MMIO_HOLE_START - 4096, 4096));
	g_assert_null(guest_ram_ptr(&ram, LAYOUT_MMIO_HOLE_START - 4096, 4097));
	g_assert_null(guest_ram_ptr(&ram, LAYOUT_MMIO_HOLE_START, 1));
	g_assert_nonnull(guest_ram_ptr(&ram, LAYOUT_HIGH_RAM_START, 1 * GiB));
	g_assert_null(guest_ram_ptr(&ram, LAYOUT_HIGH_RAM_START, 1 * GiB + 1));
	g_assert_null(guest_ram_ptr(&ram, UINT64_MAX - 10, 20));
	/* High RAM maps to the memfd right after low RAM. */
	uint8_t *hi = guest_ram_ptr(&ram, LAYOUT_HIGH_RAM_START, 1);
	g_assert_true(hi == ram.host + LAYOUT_MMIO_HOLE_START);
	guest_ram_destroy(&ram);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/e820/sizes", test_sizes);
	g_test_add_func("/guest-ram/ptr", test_ram_ptr);
	return g_test_run();
}
