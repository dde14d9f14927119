// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "emul/hyperv_video_pci.h"

static void hvpci_bar_update(struct pci_device *dev, unsigned bar, uint64_t gpa, bool enabled)
{
	struct hyperv_video_pci *v = dev->opaque;
	if (bar != 0)
		return;
	atomic_store(&v->bar0_gpa, gpa);
	atomic_store(&v->bar0_enabled, enabled);
}

static const struct pci_device_ops hvpci_ops = {
	.bar_update = hvpci_bar_update,
};

int hyperv_video_pci_init(struct hyperv_video_pci *v, uint64_t gpa, uint64_t vram_size)
{
	if (vram_size == 0 || vram_size > (UINT64_C(1) << 31))
		return -EINVAL;
	uint64_t size = 16;
	while (size < vram_size)
		size <<= 1;
	pci_device_init(&v->pci, "hyperv-video", HYPERV_VIDEO_PCI_VENDOR, HYPERV_VIDEO_PCI_DEVICE,
			HYPERV_VIDEO_PCI_CLASS, 0);
	/* A 32-bit BAR: vmbus_reserve_fb wants the framebuffer below 4 GiB. */
	int r = pci_device_set_bar(&v->pci, 0, size, gpa, false);
	if (r < 0)
		return r;
	v->pci.ops = &hvpci_ops;
	v->pci.opaque = v;
	v->bar0_size = size;
	atomic_store(&v->bar0_gpa, gpa);
	atomic_store(&v->bar0_enabled, false);
	return 0;
}

uint64_t hyperv_video_pci_bar0(struct hyperv_video_pci *v, bool *enabled)
{
	if (enabled)
		*enabled = atomic_load(&v->bar0_enabled);
	return atomic_load(&v->bar0_gpa);
}
