/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One boot of a VM: the partition with its devices, ACPI tables and the
 * loaded kernel. A reboot destroys the machine and builds a new one; what
 * must outlive a reset (CMOS RAM, the console) lives in struct machine_keep.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "emul/emul.h"
#include "emul/hyperv_video_pci.h"
#include "hv/partition.h"
#include "hv/pci.h"
#include "vsp/display.h"
#include "vmbus_devices.h"

struct machine_config {
	const char *name;
	uint64_t memory;
	unsigned ncpus;
	GBytes *kernel;
	const char *kernel_path;
	GBytes *initrd;           /* NULL: none */
	const char *cmdline;
	enum cpuid_hv_interface hv;   /* the interface the guest sees: KVM's or Hyper-V's */
	FILE *vmbus_trace;            /* NULL, or where VMBus traffic is recorded */
	uint32_t video_width, video_height;   /* the synthetic video's mode (0: its default) */
	uint32_t video_vram_mb;               /* its VRAM (0: SYNTHVID_VRAM_MB_DEFAULT) */
	/* Instead of loading the kernel, go on from a saved state
	 * (machine_state.h): its folder and its checked components. */
	const char *restore_dir;
	GVariant *restore;
};

/* Devices whose state survives a guest reset. */
struct machine_keep {
	struct cmos_rtc *rtc;
	const struct chardev_sink *console;
	struct display *display;      /* the screen viewers stay connected to */
};

struct machine {
	struct partition *p;
	struct pci_bus pci;
	struct pci_device host_bridge;
	struct irq_line irq_com1, irq_rtc, irq_sci;
	struct uart8250 *uart;
	struct i8042 *kbc;
	struct acpi_pm *pm;
	struct vmbus_devices *vmbus;  /* Hyper-V interface only */
	struct hyperv_video_pci video_pci;    /* Hyper-V interface only: hyperv_fb needs it */
	struct machine_keep *keep;
};

/* On failure sets error naming the step and cause; returns NULL. */
struct machine *machine_create(const struct machine_config *cfg, struct machine_keep *keep, GError **error);
void machine_destroy(struct machine *m);

/* The host presses the power button. */
void machine_power_button(struct machine *m);
