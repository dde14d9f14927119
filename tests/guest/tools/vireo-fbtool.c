// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-fbtool: the guest side of the video tests, on /dev/fb0.
 *   vireo-fbtool info            "xres=W yres=H bpp=B stride=S id=NAME"
 *   vireo-fbtool pattern SEED    fill the screen with pattern SEED
 * The pattern is a pure function of (x, y, seed) that the host side
 * computes too (tests/guest/fbpattern.py): pixel = XRGB8888 with
 * R = (x * 7 + seed) & 255, G = (y * 5 + seed * 3) & 255, B = (x ^ y) & 255.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

int main(int argc, char **argv)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	if (argc == 2 && strcmp(argv[1], "info") == 0) {
		int fd = fb_open(&var, &fix);
		printf("xres=%u yres=%u bpp=%u stride=%u id=%.16s\n", var.xres, var.yres, var.bits_per_pixel,
		       fix.line_length, fix.id);
		close(fd);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "pattern") == 0) {
		uint32_t seed = (uint32_t)strtoul(argv[2], NULL, 0);
		int fd = fb_open(&var, &fix);
		if (var.bits_per_pixel != 32) {
			fprintf(stderr, "vireo-fbtool: %u bits per pixel, want 32\n", var.bits_per_pixel);
			return 1;
		}
		uint32_t *row = calloc(fix.line_length / 4 + 1, 4);
		if (!row)
			return 1;
		for (uint32_t y = 0; y < var.yres; y++) {
			for (uint32_t x = 0; x < var.xres; x++)
				row[x] = pattern_pixel(x, y, seed);
			/* write() goes through the driver's damage tracking like any console drawing. */
			if (pwrite(fd, row, fix.line_length, (off_t)y * fix.line_length) != (ssize_t)fix.line_length) {
				fprintf(stderr, "vireo-fbtool: writing row %u: %s\n", y, strerror(errno));
				return 1;
			}
		}
		free(row);
		close(fd);
		printf("pattern=%u xres=%u yres=%u\n", seed, var.xres, var.yres);
		return 0;
	}
	fprintf(stderr, "usage: vireo-fbtool info | pattern SEED\n");
	return 2;
}
