/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The legacy Hyper-V video PCI device (1414:5353, a VGA-class function as on
 * a Hyper-V generation 1 machine). It draws nothing: on a non-EFI boot,
 * hyperv_fb refuses to probe without it ("Unable to find PCI Hyper-V
 * video"), and hv_vmbus reserves its BAR0 for the framebuffer
 * (vmbus_reserve_fb), from which hyperv_fb then takes its VRAM. So BAR0 is
 * VRAM-sized and sits inside the VMBus MMIO window; the synthetic video
 * device backs whatever part the guest picks with memory.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv/pci.h"

#define HYPERV_VIDEO_PCI_VENDOR   0x1414u   /* Microsoft */
#define HYPERV_VIDEO_PCI_DEVICE   0x5353u   /* Hyper-V video */
#define HYPERV_VIDEO_PCI_CLASS    0x030000u /* display, VGA compatible */
/* Where Hyper-V's generation 1 machine has it (00:08.0). */
#define HYPERV_VIDEO_PCI_SLOT     8u

struct hyperv_video_pci {
	struct pci_device pci;       /* plug this into the bus */
	uint64_t bar0_size;
	_Atomic uint64_t bar0_gpa;   /* where the guest has BAR0 now */
	_Atomic bool bar0_enabled;   /* memory decoding on */
};

/* BAR0 of vram_size bytes (rounded up to a power of two) at gpa, which must
 * be aligned to that size and below 4 GiB: 0 or -EINVAL. */
int hyperv_video_pci_init(struct hyperv_video_pci *v, uint64_t gpa, uint64_t vram_size);
/* Any thread: where BAR0 is, and whether the guest decodes it. */
uint64_t hyperv_video_pci_bar0(struct hyperv_video_pci *v, bool *enabled);
