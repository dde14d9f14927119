// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-fbtool: the guest side of the video tests, on /dev/fb0.
 *   vireo-fbtool info              "xres=W yres=H bpp=B stride=S id=NAME smem=0xADDR smem_len=N"
 *   vireo-fbtool pattern SEED      fill the screen with pattern SEED
 *   vireo-fbtool rect X Y W H SEED draw pattern SEED in that rectangle only
 *   vireo-fbtool serve             the same two commands, one a line on stdin,
 *                                  through one mapping kept until "quit" or EOF;
 *                                  each answered "done ..." (or "error ...") on stdout
 * The pattern is a pure function of (x, y, seed) that the host side
 * computes too (tests/guest/fbpattern.py): pixel = XRGB8888 with
 * R = (x * 7 + seed) & 255, G = (y * 5 + seed * 3) & 255, B = (x ^ y) & 255.
 * A rectangle uses the same function at the screen's coordinates.
 *
 * Drawing goes through a mapping of /dev/fb0, as an X server or any fbdev
 * program draws: hyperv_fb tracks written pages with deferred I/O and only
 * then copies them to VRAM and tells the host (DIRT). A plain write()
 * would skip that tracking. fsync() at the end runs the deferred work now,
 * so the host has been told before the tool exits.
 *
 * serve exists for hyperv_fb's VRAM in guest RAM (a non-compound order-10
 * allocation in 6.1): unmapping pages its fault handler handed out drops
 * the tail pages' only reference and frees them under the driver. Drawing
 * through one mapping that is never unmapped avoids that.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t r = (x * 7 + seed) & 255, g = (y * 5 + seed * 3) & 255, b = (x ^ y) & 255;
	return r << 16 | g << 8 | b;
}

static int fb_open(struct fb_var_screeninfo *var, struct fb_fix_screeninfo *fix)
{
	int fd = open("/dev/fb0", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vireo-fbtool: /dev/fb0: %s\n", strerror(errno));
		exit(1);
	}
	if (ioctl(fd, FBIOGET_VSCREENINFO, var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, fix) < 0) {
		fprintf(stderr, "vireo-fbtool: /dev/fb0: screen info: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static unsigned long number(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "vireo-fbtool: \"%s\" is not a number\n", s);
		exit(2);
	}
	return v;
}

struct fb {
	int fd;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	uint8_t *map;
	size_t len;
};

static int fb_map(struct fb *f)
{
	f->fd = fb_open(&f->var, &f->fix);
	if (f->var.bits_per_pixel != 32) {
		fprintf(stderr, "vireo-fbtool: %u bits per pixel, want 32\n", f->var.bits_per_pixel);
		return -1;
	}
	f->len = (size_t)f->fix.line_length * f->var.yres;
	f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (f->map == MAP_FAILED) {
		fprintf(stderr, "vireo-fbtool: mapping /dev/fb0: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Pattern seed over [x0, x0 + w) x [y0, y0 + h), through the mapping. */
static int draw(struct fb *f, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t seed)
{
	if (x0 >= f->var.xres || y0 >= f->var.yres || w > f->var.xres - x0 || h > f->var.yres - y0 || !w || !h) {
		fprintf(stderr, "vireo-fbtool: %ux%u at %u,%u is not inside the %ux%u screen\n", w, h, x0, y0,
			f->var.xres, f->var.yres);
		return 1;
	}
	for (uint32_t y = y0; y < y0 + h; y++) {
		uint32_t *row = (uint32_t *)(f->map + (size_t)y * f->fix.line_length);
		for (uint32_t x = x0; x < x0 + w; x++)
			row[x] = pattern_pixel(x, y, seed);
	}
	if (msync(f->map, f->len, MS_SYNC) < 0 || fsync(f->fd) < 0) {
		fprintf(stderr, "vireo-fbtool: flushing /dev/fb0: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static void fb_unmap(struct fb *f)
{
	munmap(f->map, f->len);
	close(f->fd);
}

/* One command of serve: "pattern SEED" or "rect X Y W H SEED". */
static int serve_line(struct fb *f, const char *line)
{
	unsigned x, y, w, h, seed;
	char extra;
	if (sscanf(line, "pattern %u %c", &seed, &extra) == 1)
		return draw(f, 0, 0, f->var.xres, f->var.yres, seed);
	if (sscanf(line, "rect %u %u %u %u %u %c", &x, &y, &w, &h, &seed, &extra) == 5)
		return draw(f, x, y, w, h, seed);
	fprintf(stderr, "vireo-fbtool: serve: unknown command \"%s\"\n", line);
	return 2;
}

static int serve(void)
{
	struct fb f;
	if (fb_map(&f) < 0)
		return 1;
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		int r = serve_line(&f, line);
		printf("%s %s xres=%u yres=%u\n", r ? "error" : "done", line, f.var.xres, f.var.yres);
		fflush(stdout);
	}
	fb_unmap(&f);
	return 0;
}

int main(int argc, char **argv)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	if (argc == 2 && strcmp(argv[1], "info") == 0) {
		int fd = fb_open(&var, &fix);
		printf("xres=%u yres=%u bpp=%u stride=%u id=%.16s smem=0x%lx smem_len=%u\n", var.xres, var.yres,
		       var.bits_per_pixel, fix.line_length, fix.id, fix.smem_start, fix.smem_len);
		close(fd);
		return 0;
	}
	struct fb f;
	if (argc == 3 && strcmp(argv[1], "pattern") == 0) {
		uint32_t seed = (uint32_t)number(argv[2]);
		if (fb_map(&f) < 0 || draw(&f, 0, 0, f.var.xres, f.var.yres, seed))
			return 1;
		fb_unmap(&f);
		printf("pattern=%u xres=%u yres=%u\n", seed, f.var.xres, f.var.yres);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "rect") == 0) {
		uint32_t x = (uint32_t)number(argv[2]), y = (uint32_t)number(argv[3]);
		uint32_t w = (uint32_t)number(argv[4]), h = (uint32_t)number(argv[5]);
		uint32_t seed = (uint32_t)number(argv[6]);
		if (fb_map(&f) < 0 || draw(&f, x, y, w, h, seed))
			return 1;
		fb_unmap(&f);
		printf("rect=%u,%u,%u,%u seed=%u\n", x, y, w, h, seed);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	fprintf(stderr, "usage: vireo-fbtool info | pattern SEED | rect X Y W H SEED | serve\n");
	return 2;
}
