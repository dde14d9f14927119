// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <png.h>
#include <zlib.h>

#include "screenshot.h"

struct screenshot {
	struct display *d;
	struct display_surface cur;  /* valid while have is set (display.h) */
	bool have;
};

static void shot_surface(void *opaque, const struct display_surface *s)
{
	struct screenshot *shot = opaque;
	shot->have = s != NULL;
	if (s)
		shot->cur = *s;
}

static const struct display_sink_ops shot_ops = {
	.surface = shot_surface,
};

struct screenshot *screenshot_new(struct display *d)
{
	struct screenshot *s = g_new0(struct screenshot, 1);
	s->d = d;
	display_add_sink(d, &shot_ops, s);
	return s;
}

void screenshot_free(struct screenshot *s)
{
	if (!s)
		return;
	display_remove_sink(s->d, &shot_ops, s);
	g_free(s);
}

/* libpng reports errors by longjmp; the jump lands in png_encode. */
static void shot_png_error(png_structp png, png_const_charp msg)
{
	png_longjmp(png, 1);
}

static void shot_png_warning(png_structp png, png_const_charp msg)
{
}

static int png_encode(FILE *f, const struct display_surface *surf)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, shot_png_error, shot_png_warning);
	if (!png)
		return -ENOMEM;
	png_infop info = png_create_info_struct(png);
	uint8_t *volatile row = NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		g_free(row);
		return -EIO;
	}
	row = g_malloc((size_t)surf->width * 3u);
	png_init_io(png, f);
	/* The worker's main loop waits for this: cheap settings, zlib does the rest. */
	png_set_compression_level(png, Z_BEST_SPEED);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_set_IHDR(png, info, surf->width, surf->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < surf->height; y++) {
		/* XRGB8888 is B, G, R, X in memory. */
		const uint8_t *px = surf->pixels + (size_t)y * surf->stride;
		for (uint32_t x = 0; x < surf->width; x++, px += 4) {
			row[3 * x] = px[2];
			row[3 * x + 1] = px[1];
			row[3 * x + 2] = px[0];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	g_free(row);
	return 0;
}

int screenshot_write_png(const struct display_surface *surf, const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	if (!surf || !surf->pixels || surf->format != DISPLAY_FORMAT_XRGB8888 || surf->width == 0 ||
	    surf->height == 0 || surf->stride < surf->width * 4u)
		return -EINVAL;
	g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return -e;
	}
	int r = png_encode(f, surf);
	if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int screenshot_save(struct screenshot *s, const char *path, uint32_t *width, uint32_t *height)
{
	if (!s->have)
		return -ENODATA;
	int r = screenshot_write_png(&s->cur, path);
	if (r < 0)
		return r;
	*width = s->cur.width;
	*height = s->cur.height;
	return 0;
}
