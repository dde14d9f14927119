/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI bus 0 with configuration mechanism #1 (ports 0xCF8/0xCFC). Devices plug
 * in with a 256-byte configuration header and up to six memory BARs; the bus
 * handles BAR sizing and tells the device where the guest moved a BAR.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "hv/iobus.h"

#define PCI_SLOTS           32
#define PCI_CONFIG_SIZE     256
#define PCI_NUM_BARS        6

#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CLASS_DEVICE    0x0a
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_COMMAND_MEMORY  0x2

struct pci_device;

struct pci_device_ops {
	/* The guest enabled memory decoding with BAR `bar` at gpa (or disabled it: enabled false). */
	void (*bar_update)(struct pci_device *dev, unsigned bar, uint64_t gpa, bool enabled);
};

struct pci_device {
	const char *name;
	uint8_t config[PCI_CONFIG_SIZE];
	uint64_t bar_size[PCI_NUM_BARS];   /* 0: BAR not implemented; power of two */
	bool bar_64[PCI_NUM_BARS];
	const struct pci_device_ops *ops;
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t config_address;
	struct pci_device *slots[PCI_SLOTS];
};

extern const struct iobus_ops pci_config_ops;  /* register at 0xCF8, length 8 */

void pci_bus_init(struct pci_bus *bus);
void pci_bus_destroy(struct pci_bus *bus);
/* -EBUSY slot taken, -EINVAL bad slot or device. */
int pci_bus_add(struct pci_bus *bus, unsigned slot, struct pci_device *dev);

/* Fills the identity fields of a type-0 header. */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);
/* Declares a memory BAR of `size` (power of two, >= 16) and assigns its initial address. */
int pci_device_set_bar(struct pci_device *dev, unsigned bar, uint64_t size, uint64_t gpa, bool is_64);

/* The host bridge every machine has in slot 0. */
void pci_host_bridge_init(struct pci_device *dev);

/* Raw configuration access, as the port handler performs it. */
uint32_t pci_config_read(struct pci_bus *bus, uint32_t address, unsigned offset_in_dword, unsigned len);
void pci_config_write(struct pci_bus *bus, uint32_t address, unsigned offset_in_dword, unsigned len, uint32_t value);

/*
 * Saved state (saved_state.h): the address latch and every device's
 * configuration space. A restore needs the same devices in the same slots
 * (their identity bytes are compared) and applies only what a guest can
 * write, through the guest's own write path (BAR masks, command bits),
 * telling the devices where their BARs are. -EINVAL with error set: the
 * devices differ (nothing applied).
 */
#define PCI_BUS_STATE_TYPE "(ua(yay))"
GVariant *pci_bus_save(struct pci_bus *bus);
int pci_bus_restore(struct pci_bus *bus, GVariant *v, GError **error);
