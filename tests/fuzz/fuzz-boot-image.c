// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: kernel images are files a user (or a VM configuration)
 * names, so both loaders must refuse any bytes cleanly, never read past the
 * image or write outside guest RAM. The first byte picks the loader; the
 * rest is the image.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hv/boot.h"
#include "hv/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_ram ram;
	static struct e820_map map;
	static const uint8_t initrd[4096] = { 0x1f, 0x8b };

	if (!ram.host) {
		if (guest_ram_init(&ram, 128 * MiB, "fuzz") < 0)
			abort();
		e820_build(ram.regions, ram.nregions, &map);
	}
	if (size < 1)
		return 0;
	struct boot_config bc = {
		.kernel = { data + 1, size - 1 },
		.initrd = { initrd, (data[0] & 2) ? sizeof(initrd) : 0 },
		.cmdline = "console=ttyS0",
		.rsdp_gpa = LAYOUT_ACPI_START,
		.e820 = &map,
	};
	struct boot_entry e;
	int r = (data[0] & 1) ? boot_pvh_load(&ram, &bc, &e) : boot_bzimage_load(&ram, &bc, &e);
	/* A load that succeeds must hand the vCPU an entry inside guest RAM. */
	if (r == 0 && !guest_ram_ptr(&ram, e.rip, 1))
		abort();
	return 0;
}
