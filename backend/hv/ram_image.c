// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/ram_image.h"

/* Bytes one pwrite/pread moves at most: long runs go in pieces. */
#define RAM_IMAGE_IO_MAX (8u << 20)

static bool ram_image_page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (unsigned i = 0; i < RAM_IMAGE_PAGE / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static int ram_image_pwrite_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		size_t n = len > RAM_IMAGE_IO_MAX ? RAM_IMAGE_IO_MAX : (size_t)len;
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* The non-zero pages of [start, end) into fd at their offsets. */
static int ram_image_write_extent(int fd, const uint8_t *mem, uint64_t start, uint64_t end,
				  struct ram_image_stats *st)
{
	uint64_t run = start;
	bool in_run = false;
	for (uint64_t off = start; off < end; off += RAM_IMAGE_PAGE) {
		bool zero = ram_image_page_zero(mem + off);
		if (zero)
			st->zero_pages++;
		if (!zero && !in_run) {
			run = off;
			in_run = true;
		} else if (zero && in_run) {
			int r = ram_image_pwrite_all(fd, mem + run, off - run, run);
			if (r < 0)
				return r;
			st->data_bytes += off - run;
			in_run = false;
		}
	}
	if (in_run) {
		int r = ram_image_pwrite_all(fd, mem + run, end - run, run);
		if (r < 0)
			return r;
		st->data_bytes += end - run;
	}
	return 0;
}

int ram_image_write(int fd, const uint8_t *mem, uint64_t size, int src_fd, struct ram_image_stats *stats)
{
	struct ram_image_stats st = { 0 };
	if (size % RAM_IMAGE_PAGE || size > (uint64_t)INT64_MAX)
		return -EINVAL;
	uint64_t off = 0;
	while (off < size) {
		uint64_t data = off, hole = size;
		if (src_fd >= 0) {
			off_t d = lseek(src_fd, (off_t)off, SEEK_DATA);
			if (d < 0 && errno == ENXIO)
				break;                   /* nothing but holes from here */
			if (d >= 0) {
				off_t h = lseek(src_fd, d, SEEK_HOLE);
				data = (uint64_t)d;
				hole = h >= 0 ? (uint64_t)h : size;
			}
			/* Any other failure: scan the rest page by page. */
		}
		if (data >= size)
			break;
		/* Extents may start or end inside a page (huge pages, another fs): whole pages. */
		data &= ~(uint64_t)(RAM_IMAGE_PAGE - 1);
		hole = (hole + RAM_IMAGE_PAGE - 1) & ~(uint64_t)(RAM_IMAGE_PAGE - 1);
		if (hole > size || hole <= data)
			hole = size;
		int r = ram_image_write_extent(fd, mem, data, hole, &st);
		if (r < 0)
			return r;
		off = hole;
	}
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	if (stats)
		*stats = st;
	return 0;
}

static int ram_image_pread_all(int fd, uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		size_t n = len > RAM_IMAGE_IO_MAX ? RAM_IMAGE_IO_MAX : (size_t)len;
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;                 /* shorter than fstat said: it changed under us */
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

int ram_image_read(int fd, uint8_t *mem, uint64_t size, struct ram_image_stats *stats)
{
	struct ram_image_stats st = { 0 };
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	if (sb.st_size < 0 || (uint64_t)sb.st_size != size)
		return -EFBIG;
	uint64_t off = 0;
	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break;
		uint64_t data = off, hole = size;
		if (d >= 0) {
			off_t h = lseek(fd, d, SEEK_HOLE);
			data = (uint64_t)d;
			hole = h >= 0 ? (uint64_t)h : size;
		}
		if (data >= size)
			break;
		if (hole > size || hole <= data)
			hole = size;
		int r = ram_image_pread_all(fd, mem + data, hole - data, data);
		if (r < 0)
			return r;
		st.data_bytes += hole - data;
		off = hole;
	}
	if (stats)
		*stats = st;
	return 0;
}
