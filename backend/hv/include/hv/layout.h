/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest-physical and port layout of a Vireo partition. One header so that
 * the boot code, the ACPI tables and the device models cannot disagree.
 */
#pragma once

#include <stdint.h>

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* Low RAM ends where the MMIO hole starts; the rest of RAM goes above 4 GiB. */
#define LAYOUT_MMIO_HOLE_START   UINT64_C(0xC0000000)
#define LAYOUT_MMIO_HOLE_END     UINT64_C(0x100000000)
#define LAYOUT_HIGH_RAM_START    LAYOUT_MMIO_HOLE_END

/* PCI memory BARs are placed from here; the VMBus windows follow later. */
#define LAYOUT_PCI_MMIO_START    UINT64_C(0xC0000000)
#define LAYOUT_PCI_MMIO_END      UINT64_C(0xF8000000)
/* VMBus MMIO window (hyperv_fb's VRAM and later vPCI), described in the DSDT. */
#define LAYOUT_VMBUS_MMIO_START  UINT64_C(0xF8000000)
#define LAYOUT_VMBUS_MMIO_END    UINT64_C(0xFC000000)
#define LAYOUT_IOAPIC_ADDR       UINT64_C(0xFEC00000)
#define LAYOUT_LAPIC_ADDR        UINT64_C(0xFEE00000)
/* KVM needs three pages of guest-physical space for its VMX TSS on Intel. */
#define LAYOUT_KVM_TSS_ADDR      UINT64_C(0xFFFBD000)
#define LAYOUT_KVM_IDENTITY_MAP  UINT64_C(0xFFFBC000)

/* Below 1 MiB: what the boot code and firmware-like tables use. */
#define LAYOUT_BOOT_GDT          UINT64_C(0x500)
#define LAYOUT_BOOT_IDT          UINT64_C(0x520)
#define LAYOUT_PVH_START_INFO    UINT64_C(0x6000)
#define LAYOUT_PVH_MEMMAP        UINT64_C(0x6100)
#define LAYOUT_PVH_MODLIST       UINT64_C(0x6800)
#define LAYOUT_BOOT_PARAMS       UINT64_C(0x7000)
#define LAYOUT_PML4              UINT64_C(0x9000)
#define LAYOUT_PDPT              UINT64_C(0xA000)
#define LAYOUT_PD                UINT64_C(0xB000)   /* 4 pages: identity map of 4 GiB */
#define LAYOUT_CMDLINE           UINT64_C(0x20000)
#define LAYOUT_CMDLINE_MAX       UINT64_C(0x10000)
#define LAYOUT_EBDA_START        UINT64_C(0x9FC00)
/* ACPI tables, RSDP first: Linux also scans 0xE0000-0xFFFFF for the RSDP. */
#define LAYOUT_ACPI_START        UINT64_C(0xE0000)
#define LAYOUT_ACPI_SIZE         UINT64_C(0x20000)
#define LAYOUT_KERNEL_START      UINT64_C(0x1000000)  /* 16 MiB: bzImage pref_address */

/* I/O ports. */
#define PORT_COM1                0x3F8
#define PORT_COM1_LEN            8
#define IRQ_COM1                 4
#define PORT_RTC                 0x70
#define PORT_RTC_LEN             2
#define IRQ_RTC                  8
#define PORT_I8042_DATA          0x60
#define PORT_I8042_CMD           0x64
#define PORT_POST                0x80
/* The hypercall trampoline's OUT port: an imm8 port nothing else decodes (not 0x7E, see KVM's quirk). */
#define PORT_HV_HYPERCALL        0xE4
/* HvSignalEvent's OUT (4 bytes: the connection id), matched by ioeventfds. */
#define PORT_HV_SIGNAL           0xE8
#define PORT_PCI_CONFIG_ADDR     0xCF8
#define PORT_PCI_CONFIG_DATA     0xCFC

/* The ACPI fixed-hardware block (FADT points here). */
#define PORT_ACPI_PM_BASE        0x600
#define PORT_ACPI_PM1A_EVT       (PORT_ACPI_PM_BASE + 0x00)  /* 4 bytes: status, enable */
#define PORT_ACPI_PM1A_CNT       (PORT_ACPI_PM_BASE + 0x04)  /* 2 bytes */
#define PORT_ACPI_PM_TMR         (PORT_ACPI_PM_BASE + 0x08)  /* 4 bytes */
#define PORT_ACPI_RESET          (PORT_ACPI_PM_BASE + 0x0C)  /* 1 byte */
#define PORT_ACPI_GPE0           (PORT_ACPI_PM_BASE + 0x10)  /* 4 bytes: status, enable */
#define PORT_ACPI_PM_LEN         0x20
#define ACPI_RESET_VALUE         0x0E
#define IRQ_ACPI_SCI             9
/* Sleep type written to PM1a_CNT.SLP_TYP for S5; \_S5 in the DSDT says the same. */
#define ACPI_S5_SLP_TYP          5

/* Guest-visible limits the user controls. */
#define LAYOUT_MIN_MEMORY        (128 * MiB)
#define LAYOUT_MAX_VCPUS         255     /* xAPIC ids; x2APIC comes with the Hyper-V work */
