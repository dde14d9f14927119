// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "hv/guest_ram.h"
#include "hv/layout.h"

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
