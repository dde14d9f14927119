/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables built by code: RSDP, XSDT, FADT (with FACS), MADT, DSDT.
 * The tables describe the machine in layout.h; what varies per VM is here.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct acpi_config {
	unsigned ncpus;            /* one LAPIC entry each, APIC id = index */
	uint64_t pci_mmio_start;   /* PCI root bridge memory window (below 4 GiB) */
	uint64_t pci_mmio_end;     /* exclusive */
	/* The VMBus module (ACPI0004 with a VMBUS child) and its MMIO window;
	 * vmbus_mmio_end == 0: no VMBus (a KVM-interface guest). */
	uint64_t vmbus_mmio_start;
	uint64_t vmbus_mmio_end;   /* exclusive */
};

/*
 * Builds every table into buf, which the guest will see at guest-physical
 * address base (16-byte aligned, inside 0xE0000-0xFFFFF so that Linux's RSDP
 * scan finds it). The RSDP is placed first. On success returns the number of
 * bytes used and stores the RSDP's guest-physical address in *rsdp_gpa.
 * Returns -ENOSPC if size is too small, -EINVAL for a bad config.
 */
long acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
		uint64_t base, uint64_t *rsdp_gpa);

/* The ACPI checksum rule: all bytes of a table sum to zero. Returns the sum
 * modulo 256, so 0 for a valid table; a builder stores minus the sum taken
 * with the checksum byte zeroed. */
uint8_t acpi_checksum(const uint8_t *data, size_t len);
