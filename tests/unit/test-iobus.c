// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <glib.h>

#include "hv/iobus.h"

struct probe {
	uint64_t last_off;
	uint64_t last_val;
	uint32_t last_len;
	int reads, writes;
};

static void probe_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct probe *p = opaque;
	p->reads++;
	p->last_off = off;
	p->last_len = len;
	iobus_put_le(data, len, 0x1122334455667788ull);
}

static void probe_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct probe *p = opaque;
	p->writes++;
	p->last_off = off;
	p->last_len = len;
	p->last_val = iobus_get_le(data, len);
}

static const struct iobus_ops probe_ops = { probe_read, probe_write };

static void test_register_overlap(void)
{
	struct iobus *bus = iobus_new("t");
	struct probe a = { 0 }, b = { 0 };
	g_assert_cmpint(iobus_register(bus, 0x100, 0x10, &probe_ops, &a), ==, 0);
	g_assert_cmpint(iobus_register(bus, 0x108, 0x10, &probe_ops, &b), ==, -EEXIST);
	g_assert_cmpint(iobus_register(bus, 0xf8, 0x9, &probe_ops, &b), ==, -EEXIST);
	g_assert_cmpint(iobus_register(bus, 0xf8, 0x8, &probe_ops, &b), ==, 0);
	g_assert_cmpint(iobus_register(bus, 0x200, 0, &probe_ops, &b), ==, -EINVAL);
	g_assert_cmpint(iobus_register(bus, UINT64_MAX, 2, &probe_ops, &b), ==, -EINVAL);
	g_assert_cmpint(iobus_unregister(bus, 0xf8), ==, 0);
	g_assert_cmpint(iobus_unregister(bus, 0xf8), ==, -ENOENT);
	iobus_free(bus);
}

static void test_dispatch(void)
{
	struct iobus *bus = iobus_new("t");
	struct probe devs[5] = { 0 };
	/* Register out of order: lookups must still find each. */
	uint64_t bases[5] = { 0x3f8, 0x60, 0xcf8, 0x70, 0x600 };
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(iobus_register(bus, bases[i], 8, &probe_ops, &devs[i]), ==, 0);
	for (int i = 0; i < 5; i++) {
		uint8_t d[4] = { 0x78, 0x56, 0x34, 0x12 };
		g_assert_true(iobus_access(bus, bases[i] + 4, d, 4, true));
		g_assert_cmpint(devs[i].writes, ==, 1);
		g_assert_cmpuint(devs[i].last_off, ==, 4);
		g_assert_cmphex(devs[i].last_val, ==, 0x12345678);
	}
	uint8_t r[2];
	g_assert_true(iobus_access(bus, 0x71, r, 2, false));
	g_assert_cmphex(r[0], ==, 0x88);
	g_assert_cmphex(r[1], ==, 0x77);
	g_assert_cmpint(devs[3].reads, ==, 1);
	iobus_free(bus);
}

static void test_unclaimed(void)
{
	struct iobus *bus = iobus_new("t");
	struct probe p = { 0 };
	iobus_register(bus, 0x100, 4, &probe_ops, &p);
	uint8_t d[8] = { 0 };
	g_assert_false(iobus_access(bus, 0x200, d, 4, false));
	g_assert_cmphex(d[0], ==, 0xff);
	g_assert_cmphex(d[3], ==, 0xff);
	/* An access straddling the end of a range is not handed to the device. */
	g_assert_false(iobus_access(bus, 0x102, d, 4, true));
	g_assert_false(iobus_access(bus, 0x100, d, 0, true));
	g_assert_false(iobus_access(bus, 0x100, d, 9, true));
	g_assert_cmpint(p.writes, ==, 0);
	g_assert_cmpuint(iobus_unclaimed_count(bus), ==, 4);
	iobus_free(bus);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/iobus/register-overlap", test_register_overlap);
	g_test_add_func("/iobus/dispatch", test_dispatch);
	g_test_add_func("/iobus/unclaimed", test_unclaimed);
	return g_test_run();
}
