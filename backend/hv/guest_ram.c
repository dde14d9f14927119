// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "hv/guest_ram.h"
#include "hv/layout.h"

#define GUEST_PAGE_SIZE 4096u

void guest_ram_layout(uint64_t size, struct guest_ram_region regions[2], unsigned *nregions)
{
	uint64_t low = size < LAYOUT_MMIO_HOLE_START ? size : LAYOUT_MMIO_HOLE_START;
	regions[0] = (struct guest_ram_region){ .gpa = 0, .size = low, .fd_offset = 0 };
	*nregions = 1;
	if (size > low) {
		regions[1] = (struct guest_ram_region){
			.gpa = LAYOUT_HIGH_RAM_START, .size = size - low, .fd_offset = low };
		*nregions = 2;
	}
}

int guest_ram_init(struct guest_ram *ram, uint64_t size, const char *name)
{
	if (size < LAYOUT_MIN_MEMORY || size % (2 * MiB) != 0)
		return -EINVAL;
	int fd = memfd_create(name ? name : "vireo-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* Size is fixed for the VM's life: sealing it keeps a peer that maps the
	 * memfd from being surprised by a shrink (SIGBUS). */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		int r = -errno;
		close(fd);
		return r;
	}
	(void)madvise(p, size, MADV_DONTDUMP);
	*ram = (struct guest_ram){ .memfd = fd, .host = p, .size = size };
	guest_ram_layout(size, ram->regions, &ram->nregions);
	return 0;
}

void guest_ram_destroy(struct guest_ram *ram)
{
	if (ram->host)
		munmap(ram->host, ram->size);
	if (ram->memfd >= 0)
		close(ram->memfd);
	*ram = (struct guest_ram){ .memfd = -1 };
}

void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < ram->nregions; i++) {
		const struct guest_ram_region *r = &ram->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return ram->host + r->fd_offset + off;
	}
	return NULL;
}

int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = guest_ram_ptr(ram, gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

uint64_t guest_ram_low_end(const struct guest_ram *ram)
{
	return ram->regions[0].size;
}

/* The memfd offset of guest page pfn, or -1 when it is not RAM. */
static int64_t guest_ram_pfn_offset(const struct guest_ram *ram, uint64_t pfn)
{
	if (pfn > UINT64_MAX / GUEST_PAGE_SIZE)
		return -1;
	uint64_t gpa = pfn * GUEST_PAGE_SIZE;
	for (unsigned i = 0; i < ram->nregions; i++) {
		const struct guest_ram_region *r = &ram->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (int64_t)(r->fd_offset + (gpa - r->gpa));
	}
	return -1;
}

int guest_ram_map_pages(const struct guest_ram *ram, const uint64_t *pfns, size_t count, void **out)
{
	if (count == 0 || count > GUEST_RAM_MAP_MAX_PAGES)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		if (guest_ram_pfn_offset(ram, pfns[i]) < 0)
			return -EFAULT;
	size_t len = count * GUEST_PAGE_SIZE;
	/* Reserve the whole span first so the pieces land next to each other. */
	uint8_t *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (size_t i = 0; i < count;) {
		/* One mmap per run of pages that are also adjacent in the memfd. */
		int64_t off = guest_ram_pfn_offset(ram, pfns[i]);
		size_t run = 1;
		while (i + run < count &&
		       guest_ram_pfn_offset(ram, pfns[i + run]) == off + (int64_t)(run * GUEST_PAGE_SIZE))
			run++;
		void *p = mmap(base + i * GUEST_PAGE_SIZE, run * GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, ram->memfd, (off_t)off);
		if (p == MAP_FAILED) {
			int r = -errno;
			munmap(base, len);
			return r;
		}
		i += run;
	}
	(void)madvise(base, len, MADV_DONTDUMP);
	*out = base;
	return 0;
}

void guest_ram_unmap_pages(void *base, size_t count)
{
	if (base && count)
		munmap(base, count * GUEST_PAGE_SIZE);
}
