// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "hv/iobus.h"
#include "hv/pci.h"

struct bar_probe {
	int calls;
	uint64_t gpa[PCI_NUM_BARS];
	bool enabled;
};

static void probe_bar_update(struct pci_device *dev, unsigned bar, uint64_t gpa, bool enabled)
{
	struct bar_probe *p = dev->opaque;
	p->calls++;
	p->gpa[bar] = gpa;
	p->enabled = enabled;
}

static const struct pci_device_ops probe_ops = { .bar_update = probe_bar_update };

struct rig {
	struct iobus *pio;
	struct pci_bus bus;
	struct pci_device host, dev;
	struct bar_probe probe;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->pio = iobus_new("pio");
	pci_bus_init(&r->bus);
	pci_host_bridge_init(&r->host);
	g_assert_cmpint(pci_bus_add(&r->bus, 0, &r->host), ==, 0);
	pci_device_init(&r->dev, "video", 0x1414, 0x5353, 0x030000, 0);
	r->dev.ops = &probe_ops;
	r->dev.opaque = &r->probe;
	g_assert_cmpint(pci_device_set_bar(&r->dev, 0, 8 << 20, 0xf0000000, false), ==, 0);
	g_assert_cmpint(pci_device_set_bar(&r->dev, 2, 1 << 20, 0x800000000ull, true), ==, 0);
	g_assert_cmpint(pci_bus_add(&r->bus, 8, &r->dev), ==, 0);
	g_assert_cmpint(iobus_register(r->pio, 0xcf8, 8, &pci_config_ops, &r->bus), ==, 0);
}

static void rig_destroy(struct rig *r)
{
	iobus_free(r->pio);
	pci_bus_destroy(&r->bus);
}

static void out32(struct rig *r, uint16_t port, uint32_t v)
{
	uint8_t d[4];
	iobus_put_le(d, 4, v);
	iobus_access(r->pio, port, d, 4, true);
}

static uint32_t in(struct rig *r, uint16_t port, unsigned len)
{
	uint8_t d[4] = { 0 };
	iobus_access(r->pio, port, d, len, false);
	return (uint32_t)iobus_get_le(d, len);
}

static uint32_t cfg_read(struct rig *r, unsigned slot, unsigned reg, unsigned len)
{
	out32(r, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc));
	return in(r, 0xcfc + (reg & 3), len);
}

static void cfg_write32(struct rig *r, unsigned slot, unsigned reg, uint32_t v)
{
	out32(r, 0xcf8, 0x80000000u | slot << 11 | reg);
	out32(r, 0xcfc, v);
}

static void test_type1_probe(void)
{
	struct rig r;
	rig_init(&r);
	/* Linux's pci_check_type1: a byte write to 0xCFB must not disturb the
	 * address latch, and the latch reads back what a dword write put there. */
	uint8_t one = 1;
	iobus_access(r.pio, 0xcfb, &one, 1, true);
	out32(&r, 0xcf8, 0x80000000u);
	g_assert_cmphex(in(&r, 0xcf8, 4), ==, 0x80000000u);
	g_assert_cmphex(cfg_read(&r, 0, 0x00, 4), ==, 0x71928086u);
	g_assert_cmphex(cfg_read(&r, 0, 0x0a, 2), ==, 0x0600);
	g_assert_cmphex(cfg_read(&r, 8, 0x00, 4), ==, 0x53531414u);
	g_assert_cmphex(cfg_read(&r, 8, 0x02, 2), ==, 0x5353);
	g_assert_cmphex(cfg_read(&r, 8, 0x0b, 1), ==, 0x03);
	/* Empty slots, other buses and functions, and disabled config cycles read as all ones. */
	g_assert_cmphex(cfg_read(&r, 3, 0, 4), ==, 0xffffffffu);
	out32(&r, 0xcf8, 0x80010000u);
	g_assert_cmphex(in(&r, 0xcfc, 4), ==, 0xffffffffu);
	out32(&r, 0xcf8, 0x80000100u);
	g_assert_cmphex(in(&r, 0xcfc, 4), ==, 0xffffffffu);
	out32(&r, 0xcf8, 0x00000000u);
	g_assert_cmphex(in(&r, 0xcfc, 4), ==, 0xffffffffu);
	rig_destroy(&r);
}

static void test_bar_sizing(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmphex(cfg_read(&r, 8, 0x10, 4), ==, 0xf0000000u);
	cfg_write32(&r, 8, 0x10, 0xffffffffu);
	g_assert_cmphex(cfg_read(&r, 8, 0x10, 4), ==, 0xff800000u);   /* 8 MiB */
	cfg_write32(&r, 8, 0x10, 0xe0000000u);
	g_assert_cmphex(cfg_read(&r, 8, 0x10, 4), ==, 0xe0000000u);
	g_assert_cmpint(r.probe.calls, >, 0);
	g_assert_cmphex(r.probe.gpa[0], ==, 0xe0000000u);
	g_assert_cmphex(r.probe.gpa[2], ==, 0x800000000ull);
	g_assert_false(r.probe.enabled);

	/* Enabling memory decoding reports the BARs as live. */
	r.probe.calls = 0;
	cfg_write32(&r, 8, 0x04, 0x2);
	g_assert_cmpint(r.probe.calls, ==, 2);
	g_assert_true(r.probe.enabled);

	/* 64-bit BAR: low dword has type bits 0x4, high dword sizes too. */
	g_assert_cmphex(cfg_read(&r, 8, 0x18, 4), ==, 0x4);
	g_assert_cmphex(cfg_read(&r, 8, 0x1c, 4), ==, 0x8);
	cfg_write32(&r, 8, 0x18, 0xffffffffu);
	cfg_write32(&r, 8, 0x1c, 0xffffffffu);
	g_assert_cmphex(cfg_read(&r, 8, 0x18, 4), ==, 0xfff00004u);
	g_assert_cmphex(cfg_read(&r, 8, 0x1c, 4), ==, 0xffffffffu);
	/* Unimplemented BARs stay zero. */
	cfg_write32(&r, 8, 0x14, 0xffffffffu);
	g_assert_cmphex(cfg_read(&r, 8, 0x14, 4), ==, 0);
	/* Read-only identity. */
	cfg_write32(&r, 8, 0x00, 0);
	g_assert_cmphex(cfg_read(&r, 8, 0x00, 4), ==, 0x53531414u);
	rig_destroy(&r);
}

static void test_bad_args(void)
{
	struct pci_device d;
	struct pci_bus bus;
	pci_bus_init(&bus);
	pci_device_init(&d, "x", 1, 2, 0, 0);
	g_assert_cmpint(pci_device_set_bar(&d, 6, 4096, 0, false), ==, -EINVAL);
	g_assert_cmpint(pci_device_set_bar(&d, 5, 4096, 0, true), ==, -EINVAL);
	g_assert_cmpint(pci_device_set_bar(&d, 0, 3000, 0, false), ==, -EINVAL);
	g_assert_cmpint(pci_device_set_bar(&d, 0, 4096, 0x800, false), ==, -EINVAL);
	g_assert_cmpint(pci_device_set_bar(&d, 0, 4096, 0x100000000ull, false), ==, -EINVAL);
	g_assert_cmpint(pci_bus_add(&bus, 32, &d), ==, -EINVAL);
	g_assert_cmpint(pci_bus_add(&bus, 1, &d), ==, 0);
	g_assert_cmpint(pci_bus_add(&bus, 1, &d), ==, -EBUSY);
	/* Accesses that run past the data port are dropped. */
	g_assert_cmphex(pci_config_read(&bus, 0x80000800u, 2, 4), ==, 0xffffffffu);
	g_assert_cmphex(pci_config_read(&bus, 0x80000800u, 0, 0), ==, 0xffffffffu);
	pci_bus_destroy(&bus);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pci/type1-probe", test_type1_probe);
	g_test_add_func("/pci/bar-sizing", test_bar_sizing);
	g_test_add_func("/pci/bad-args", test_bad_args);
	return g_test_run();
}
