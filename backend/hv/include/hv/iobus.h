/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Port I/O and MMIO dispatch. A partition has one bus of each kind; device
 * models register address ranges with an operation table. vCPU threads
 * dispatch concurrently, so a device protects its own state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/le.h"

struct iobus_ops {
	/* offset is relative to the registered base; len is 1, 2, 4 or 8 and
	 * data holds little-endian bytes. A read fills all len bytes. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct iobus;

struct iobus *iobus_new(const char *name);
void iobus_free(struct iobus *bus);

/* -EEXIST when the range overlaps one already registered, -EINVAL for an empty range. */
int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct iobus_ops *ops, void *opaque);
int iobus_unregister(struct iobus *bus, uint64_t base);

/* Returns false when no device claims addr; unclaimed reads read as all ones. */
bool iobus_access(struct iobus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* Accesses nobody claimed, for diagnostics. */
uint64_t iobus_unclaimed_count(const struct iobus *bus);

static inline uint64_t iobus_get_le(const uint8_t *data, uint32_t len)
{
	return le_get(data, len);
}

static inline void iobus_put_le(uint8_t *data, uint32_t len, uint64_t v)
{
	le_put(data, len, v);
}
