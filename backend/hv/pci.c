// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/le.h"
#include "hv/pci.h"
#include "hv/saved_state.h"

#define PCI_CONFIG_ENABLE   0x80000000u

static uint32_t cfg_get(const uint8_t *c, unsigned off, unsigned len)
{
	return (uint32_t)le_get(c + off, len);
}

static void cfg_put(uint8_t *c, unsigned off, unsigned len, uint32_t v)
{
	le_put(c + off, len, v);
}

void pci_bus_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

int pci_bus_add(struct pci_bus *bus, unsigned slot, struct pci_device *dev)
{
	if (slot >= PCI_SLOTS || !dev)
		return -EINVAL;
	if (bus->slots[slot])
		return -EBUSY;
	bus->slots[slot] = dev;
	return 0;
}

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	cfg_put(dev->config, PCI_VENDOR_ID, 2, vendor);
	cfg_put(dev->config, PCI_DEVICE_ID, 2, device);
	cfg_put(dev->config, PCI_REVISION_ID, 1, revision);
	cfg_put(dev->config, PCI_CLASS_PROG, 3, class_code);
	cfg_put(dev->config, PCI_SUBSYSTEM_VENDOR_ID, 2, vendor);
	cfg_put(dev->config, PCI_SUBSYSTEM_ID, 2, device);
}

int pci_device_set_bar(struct pci_device *dev, unsigned bar, uint64_t size, uint64_t gpa, bool is_64)
{
	if (bar >= PCI_NUM_BARS || (is_64 && bar + 1 >= PCI_NUM_BARS) || size < 16 ||
	    (size & (size - 1)) || (gpa & (size - 1)) || (!is_64 && gpa + size > (1ull << 32)))
		return -EINVAL;
	dev->bar_size[bar] = size;
	dev->bar_64[bar] = is_64;
	uint32_t flags = is_64 ? 0x4 : 0x0;   /* memory, 32/64-bit, not prefetchable */
	cfg_put(dev->config, PCI_BAR0 + 4 * bar, 4, (uint32_t)gpa | flags);
	if (is_64)
		cfg_put(dev->config, PCI_BAR0 + 4 * (bar + 1), 4, (uint32_t)(gpa >> 32));
	return 0;
}

void pci_host_bridge_init(struct pci_device *dev)
{
	/* Intel 440BX host bridge, as Hyper-V's generation 1 machine shows. */
	pci_device_init(dev, "host-bridge", 0x8086, 0x7192, 0x060000, 0x03);
}

static uint64_t pci_bar_address(const struct pci_device *dev, unsigned bar)
{
	uint64_t lo = cfg_get(dev->config, PCI_BAR0 + 4 * bar, 4) & ~0xfu;
	if (dev->bar_64[bar])
		lo |= (uint64_t)cfg_get(dev->config, PCI_BAR0 + 4 * (bar + 1), 4) << 32;
	return lo;
}

static void pci_notify_bars(struct pci_device *dev)
{
	if (!dev->ops || !dev->ops->bar_update)
		return;
	bool enabled = cfg_get(dev->config, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	for (unsigned b = 0; b < PCI_NUM_BARS; b++)
		if (dev->bar_size[b])
			dev->ops->bar_update(dev, b, pci_bar_address(dev, b), enabled);
}

/* Which BAR register (and which half of a 64-bit BAR) a config dword is. */
static bool pci_bar_reg(const struct pci_device *dev, unsigned reg, unsigned *bar, bool *high)
{
	if (reg < PCI_BAR0 || reg >= PCI_BAR0 + 4 * PCI_NUM_BARS)
		return false;
	unsigned idx = (reg - PCI_BAR0) / 4;
	if (dev->bar_size[idx]) {
		*bar = idx;
		*high = false;
		return true;
	}
	if (idx > 0 && dev->bar_64[idx - 1] && dev->bar_size[idx - 1]) {
		*bar = idx - 1;
		*high = true;
		return true;
	}
	return false;
}

static void pci_dev_config_write(struct pci_device *dev, unsigned reg, unsigned off, unsigned len,
				 uint32_t value)
{
	uint32_t old = cfg_get(dev->config, reg, 4);
	uint32_t merged = old;
	for (unsigned i = 0; i < len; i++) {
		merged &= ~(0xffu << (8 * (off + i)));
		merged |= ((value >> (8 * i)) & 0xffu) << (8 * (off + i));
	}

	unsigned bar;
	bool high;
	if (pci_bar_reg(dev, reg, &bar, &high)) {
		uint64_t mask = ~(dev->bar_size[bar] - 1);
		if (high) {
			merged &= (uint32_t)(mask >> 32);
		} else {
			uint32_t flags = dev->bar_64[bar] ? 0x4 : 0x0;
			merged = (merged & (uint32_t)mask & ~0xfu) | flags;
		}
		cfg_put(dev->config, reg, 4, merged);
		pci_notify_bars(dev);
		return;
	}
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_NUM_BARS)
		return;     /* unimplemented BARs read as zero */

	switch (reg) {
	case PCI_COMMAND: {
		/* Only the command word is writable; status bits are RW1C, none set. */
		uint16_t cmd_old = (uint16_t)old, cmd_new = (uint16_t)merged;
		cfg_put(dev->config, PCI_COMMAND, 2, cmd_new & 0x0547);
		if ((cmd_old ^ cmd_new) & PCI_COMMAND_MEMORY)
			pci_notify_bars(dev);
		break;
	}
	case 0x0c:  /* cache line size and latency timer are plain storage */
		cfg_put(dev->config, 0x0c, 2, merged & 0xffff);
		break;
	case PCI_INTERRUPT_LINE:
		cfg_put(dev->config, PCI_INTERRUPT_LINE, 1, merged & 0xff);
		break;
	default:
		break;      /* read-only */
	}
}

static struct pci_device *pci_bus_target(struct pci_bus *bus, uint32_t address, unsigned *reg)
{
	if (!(address & PCI_CONFIG_ENABLE))
		return NULL;
	unsigned busno = (address >> 16) & 0xff;
	unsigned slot = (address >> 11) & 0x1f;
	unsigned fn = (address >> 8) & 0x7;
	if (busno != 0 || fn != 0)
		return NULL;
	*reg = address & 0xfc;
	return bus->slots[slot];
}

uint32_t pci_config_read(struct pci_bus *bus, uint32_t address, unsigned offset_in_dword, unsigned len)
{
	unsigned reg;
	if (len == 0 || offset_in_dword + len > 4)
		return 0xffffffffu;
	pthread_mutex_lock(&bus->lock);
	struct pci_device *dev = pci_bus_target(bus, address, &reg);
	uint32_t v = dev ? cfg_get(dev->config, reg + offset_in_dword, len) : 0xffffffffu;
	pthread_mutex_unlock(&bus->lock);
	return v;
}

void pci_config_write(struct pci_bus *bus, uint32_t address, unsigned offset_in_dword, unsigned len,
		      uint32_t value)
{
	unsigned reg;
	if (len == 0 || offset_in_dword + len > 4)
		return;
	pthread_mutex_lock(&bus->lock);
	struct pci_device *dev = pci_bus_target(bus, address, &reg);
	if (dev)
		pci_dev_config_write(dev, reg, offset_in_dword, len, value);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_port_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_bus *bus = opaque;
	if (offset < 4) {
		if (offset == 0 && len == 4) {
			pthread_mutex_lock(&bus->lock);
			iobus_put_le(data, 4, bus->config_address);
			pthread_mutex_unlock(&bus->lock);
		}
		return;     /* narrower reads of the address port: all ones */
	}
	unsigned off = (unsigned)offset - 4;
	if (off + len > 4)
		return;
	pthread_mutex_lock(&bus->lock);
	uint32_t address = bus->config_address;
	pthread_mutex_unlock(&bus->lock);
	iobus_put_le(data, len, pci_config_read(bus, address, off, len));
}

static void pci_port_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_bus *bus = opaque;
	if (offset < 4) {
		/* Only a dword write latches the address; Linux's type-1 probe pokes
		 * 0xCFB with a byte and expects nothing to change. */
		if (offset == 0 && len == 4) {
			pthread_mutex_lock(&bus->lock);
			bus->config_address = (uint32_t)iobus_get_le(data, 4) & 0x80fffffcu;
			pthread_mutex_unlock(&bus->lock);
		}
		return;
	}
	unsigned off = (unsigned)offset - 4;
	if (off + len > 4)
		return;
	pthread_mutex_lock(&bus->lock);
	uint32_t address = bus->config_address;
	pthread_mutex_unlock(&bus->lock);
	pci_config_write(bus, address, off, len, (uint32_t)iobus_get_le(data, len));
}

const struct iobus_ops pci_config_ops = {
	.read = pci_port_read,
	.write = pci_port_write,
};

/* ---- saved state ---- */

GVariant *pci_bus_save(struct pci_bus *bus)
{
	pthread_mutex_lock(&bus->lock);
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(yay)"));
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++)
		if (bus->slots[slot])
			g_variant_builder_add(&b, "(y@ay)", (guint8)slot,
					      saved_state_blob(bus->slots[slot]->config, PCI_CONFIG_SIZE));
	GVariant *v = g_variant_new("(u@a(yay))", bus->config_address, g_variant_builder_end(&b));
	pthread_mutex_unlock(&bus->lock);
	return v;
}

/* The bytes a guest cannot change: which device this is. */
static bool pci_same_device(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 4) == 0 && memcmp(a + PCI_REVISION_ID, b + PCI_REVISION_ID, 4) == 0 &&
	       a[PCI_HEADER_TYPE] == b[PCI_HEADER_TYPE] &&
	       memcmp(a + PCI_SUBSYSTEM_VENDOR_ID, b + PCI_SUBSYSTEM_VENDOR_ID, 4) == 0;
}

int pci_bus_restore(struct pci_bus *bus, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, PCI_BUS_STATE_TYPE, "pci", error) < 0)
		return -EINVAL;
	guint32 address;
	g_autoptr(GVariant) devs = NULL;
	g_variant_get(v, "(u@a(yay))", &address, &devs);
	uint8_t config[PCI_SLOTS][PCI_CONFIG_SIZE];
	bool seen[PCI_SLOTS] = { false };
	gsize n = g_variant_n_children(devs);
	pthread_mutex_lock(&bus->lock);
	int r = 0;
	for (gsize i = 0; i < n && r == 0; i++) {
		guint8 slot;
		g_autoptr(GVariant) cfg = NULL;
		g_variant_get_child(devs, i, "(y@ay)", &slot, &cfg);
		if (slot >= PCI_SLOTS || !bus->slots[slot] || seen[slot])
			r = saved_state_fail(error, "pci: slot %u is not a device of this machine (or twice)", slot);
		else if (saved_state_blob_get(cfg, config[slot], PCI_CONFIG_SIZE, "pci: a configuration space",
					      error) < 0)
			r = -EINVAL;
		else if (!pci_same_device(config[slot], bus->slots[slot]->config))
			r = saved_state_fail(error, "pci: slot %u holds another device here than in the saved VM", slot);
		else
			seen[slot] = true;
	}
	for (unsigned slot = 0; slot < PCI_SLOTS && r == 0; slot++)
		if (bus->slots[slot] && !seen[slot])
			r = saved_state_fail(error, "pci: the saved VM had no device in slot %u", slot);
	/* The writable registers, through the guest's own path: its masks apply. */
	for (unsigned slot = 0; slot < PCI_SLOTS && r == 0; slot++) {
		if (!seen[slot])
			continue;
		struct pci_device *dev = bus->slots[slot];
		const uint8_t *c = config[slot];
		for (unsigned bar = 0; bar < PCI_NUM_BARS; bar++)
			pci_dev_config_write(dev, PCI_BAR0 + 4 * bar, 0, 4, cfg_get(c, PCI_BAR0 + 4 * bar, 4));
		pci_dev_config_write(dev, 0x0c, 0, 2, cfg_get(c, 0x0c, 2));
		pci_dev_config_write(dev, PCI_INTERRUPT_LINE, 0, 1, cfg_get(c, PCI_INTERRUPT_LINE, 1));
		pci_dev_config_write(dev, PCI_COMMAND, 0, 2, cfg_get(c, PCI_COMMAND, 2));
	}
	if (r == 0)
		bus->config_address = address & 0x80fffffcu;
	pthread_mutex_unlock(&bus->lock);
	return r;
}
