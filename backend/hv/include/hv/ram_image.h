/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory (RAM, VRAM) as a file of the same size: byte k of the file
 * is byte k of the memory, and pages that are all zero are left out as
 * holes, so a 4 GiB guest that touched 300 MiB takes about 300 MiB on disk
 * and as long to write. The memory's own holes (memfd pages never touched)
 * are skipped without reading them.
 */
#pragma once

#include <stdint.h>

#define RAM_IMAGE_PAGE 4096u

struct ram_image_stats {
	uint64_t data_bytes;         /* written to, or read from, the file */
	uint64_t zero_pages;         /* pages of memory found to be all zero (written: skipped) */
};

/*
 * mem[0, size) into fd, an empty regular file: at the same offsets, zero
 * pages as holes, then the file is made size bytes long. src_fd is the
 * memfd that mem maps (its holes are skipped without reading), or -1.
 * size must be a multiple of RAM_IMAGE_PAGE. 0 (stats filled in when not
 * NULL), -EINVAL for a bad size, or -errno of the write.
 */
int ram_image_write(int fd, const uint8_t *mem, uint64_t size, int src_fd, struct ram_image_stats *stats);

/*
 * A file made by ram_image_write into mem[0, size), which is all zero
 * already (a new memfd): only the file's data is read, so its holes stay
 * unallocated. 0; -EFBIG when the file is not exactly size bytes (nothing
 * read), -EINVAL when it is not a regular file, -errno of the read.
 */
int ram_image_read(int fd, uint8_t *mem, uint64_t size, struct ram_image_stats *stats);
