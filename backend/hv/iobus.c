// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hv/iobus.h"

struct iobus_range {
	uint64_t base, len;
	const struct iobus_ops *ops;
	void *opaque;
};

/*
 * Ranges are kept sorted and looked up by binary search. Registration happens
 * while the machine is assembled, before vCPUs run, so lookups take no lock.
 */
struct iobus {
	char *name;
	GArray *ranges;
	atomic_uint_fast64_t unclaimed;
};

struct iobus *iobus_new(const char *name)
{
	struct iobus *bus = g_new0(struct iobus, 1);
	bus->name = g_strdup(name);
	bus->ranges = g_array_new(FALSE, TRUE, sizeof(struct iobus_range));
	return bus;
}

void iobus_free(struct iobus *bus)
{
	if (!bus)
		return;
	g_array_unref(bus->ranges);
	g_free(bus->name);
	g_free(bus);
}

static bool iobus_range_overlaps(const struct iobus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct iobus_ops *ops, void *opaque)
{
	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	guint pos = 0;
	for (; pos < bus->ranges->len; pos++) {
		const struct iobus_range *r = &g_array_index(bus->ranges, struct iobus_range, pos);
		if (iobus_range_overlaps(r, base, len))
			return -EEXIST;
		if (r->base > base)
			break;
	}
	struct iobus_range nr = { .base = base, .len = len, .ops = ops, .opaque = opaque };
	g_array_insert_val(bus->ranges, pos, nr);
	return 0;
}

int iobus_unregister(struct iobus *bus, uint64_t base)
{
	for (guint i = 0; i < bus->ranges->len; i++) {
		if (g_array_index(bus->ranges, struct iobus_range, i).base == base) {
			g_array_remove_index(bus->ranges, i);
			return 0;
		}
	}
	return -ENOENT;
}

static const struct iobus_range *iobus_find(const struct iobus *bus, uint64_t addr)
{
	guint lo = 0, hi = bus->ranges->len;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const struct iobus_range *r = &g_array_index(bus->ranges, struct iobus_range, mid);
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool iobus_access(struct iobus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	const struct iobus_range *r = iobus_find(bus, addr);
	if (!r || len == 0 || len > 8 || addr - r->base + len > r->len) {
		atomic_fetch_add_explicit(&bus->unclaimed, 1, memory_order_relaxed);
		if (!is_write)
			memset(data, 0xff, len > 8 ? 8 : len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
	}
	return true;
}

uint64_t iobus_unclaimed_count(const struct iobus *bus)
{
	return atomic_load_explicit(&((struct iobus *)bus)->unclaimed, memory_order_relaxed);
}
