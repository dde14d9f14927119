/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest RAM: one memfd, mapped once, split around the MMIO hole below 4 GiB.
 * The memfd lets other processes (viewers, later the framebuffer and rings)
 * map guest pages without copies.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_ram_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t fd_offset;
};

struct guest_ram {
	int memfd;
	uint8_t *host;          /* the whole memfd mapped contiguously */
	uint64_t size;          /* total bytes of RAM */
	struct guest_ram_region regions[2];
	unsigned nregions;
};

/* size must be at least LAYOUT_MIN_MEMORY and a multiple of 2 MiB. */
int guest_ram_init(struct guest_ram *ram, uint64_t size, const char *name);
void guest_ram_destroy(struct guest_ram *ram);

/* Splits size into low RAM below the MMIO hole and the rest above 4 GiB. */
void guest_ram_layout(uint64_t size, struct guest_ram_region regions[2], unsigned *nregions);

/* Host pointer for [gpa, gpa+len) if it lies inside one RAM region, else NULL. */
void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* Copies into guest RAM; -EFAULT when the range is not all RAM. */
int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src, uint64_t len);

uint64_t guest_ram_low_end(const struct guest_ram *ram);

/*
 * A contiguous host view of `count` guest pages given by their PFNs, in that
 * order (a VMBus ring's GPADL is scattered over guest RAM; the ring code
 * wants one buffer). The view maps the memfd, so it is the guest's memory,
 * not a copy. -EFAULT when a PFN is not RAM, -EINVAL for count 0 or above
 * GUEST_RAM_MAP_MAX_PAGES; -errno from mmap. Undo with guest_ram_unmap_pages.
 */
#define GUEST_RAM_MAP_MAX_PAGES 16384u   /* 64 MiB, the largest ring accepted */
int guest_ram_map_pages(const struct guest_ram *ram, const uint64_t *pfns, size_t count, void **out);
void guest_ram_unmap_pages(void *base, size_t count);
