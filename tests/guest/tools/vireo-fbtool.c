// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-fbtool: the guest side of the video tests, on /dev/fb0.
 *   vireo-fbtool info              "xres=W yres=H bpp=B stride=S id=NAME smem=0xADDR smem_len=N"
 *   vireo-fbtool pattern SEED      fill the screen with pattern SEED
 *   vireo-fbtool rect X Y W H SEED draw pattern SEED in that rectangle only
 *   vireo-fbtool serve             the same two commands, one a line on stdin,
 *                                  through one mapping kept until "quit" or EOF;
 *                                  each answered "done ..." (or "error ...") on stdout
 *   vireo-fbtool bench INPUT X Y W H
 *                                  draw when a key of the input device INPUT
 *                                  (/dev/input/eventN) is pressed: the benchmark's
 *                                  guest side (see bench() below)
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
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
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

/*
 * bench: tests/bench/display-bench.py times, on the host, a key sent to the
 * guest until the picture it asks for has reached a viewer. So the guest
 * draws as soon as the key comes, from frames computed beforehand (a
 * compositor's blit, not the pattern's arithmetic), and flushes at once:
 *   KEY_F   the whole screen, the two frames in turn
 *   KEY_S   only the rectangle X Y W H
 *   KEY_C   whole screens one after the other until the next KEY_C
 *   KEY_Q   print "bench ..." (counts, and the guest's own median drawing
 *           times in ms, on its clock) and exit
 * Repeats (value 2) and releases are ignored; so are other keys.
 */
#define BENCH_SAMPLES_MAX 4096

struct bench_times {
	double ms[BENCH_SAMPLES_MAX];
	unsigned n;
};

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double bench_median(struct bench_times *t)
{
	if (!t->n)
		return -1;
	qsort(t->ms, t->n, sizeof(t->ms[0]), cmp_double);
	return t->n % 2 ? t->ms[t->n / 2] : (t->ms[t->n / 2 - 1] + t->ms[t->n / 2]) / 2;
}

static void bench_note(struct bench_times *t, double ms)
{
	if (t->n < BENCH_SAMPLES_MAX)
		t->ms[t->n++] = ms;
}

/* Rows [y0, y0 + h) of columns [x0, x0 + w) from a computed frame, then the flush. */
static int bench_blit(struct fb *f, const uint8_t *frame, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h)
{
	size_t stride = f->fix.line_length;
	for (uint32_t y = y0; y < y0 + h; y++)
		memcpy(f->map + y * stride + (size_t)x0 * 4, frame + y * stride + (size_t)x0 * 4, (size_t)w * 4);
	if (msync(f->map, f->len, MS_SYNC) < 0 || fsync(f->fd) < 0) {
		fprintf(stderr, "vireo-fbtool: flushing /dev/fb0: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* The next key press: its code, 0 when none came within timeout_ms, -1 on error. */
static int bench_next_key(int fd, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		struct input_event ev;
		ssize_t n = read(fd, &ev, sizeof(ev));
		if (n != (ssize_t)sizeof(ev))
			return -1;
		if (ev.type == EV_KEY && ev.value == 1)
			return ev.code;
		timeout_ms = 0;   /* the rest of this frame, if any, without waiting */
	}
}

static int bench(const char *input, uint32_t rx, uint32_t ry, uint32_t rw, uint32_t rh)
{
	struct fb f;
	if (fb_map(&f) < 0)
		return 1;
	if (rx >= f.var.xres || ry >= f.var.yres || !rw || !rh || rw > f.var.xres - rx || rh > f.var.yres - ry) {
		fprintf(stderr, "vireo-fbtool: bench: %ux%u at %u,%u is not inside the screen\n", rw, rh, rx, ry);
		return 2;
	}
	int fd = open(input, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "vireo-fbtool: %s: %s\n", input, strerror(errno));
		return 1;
	}
	uint8_t *frames[2];
	for (int i = 0; i < 2; i++) {
		frames[i] = malloc(f.len);
		if (!frames[i]) {
			fprintf(stderr, "vireo-fbtool: no memory for a frame\n");
			return 1;
		}
		for (uint32_t y = 0; y < f.var.yres; y++) {
			uint32_t *row = (uint32_t *)(frames[i] + (size_t)y * f.fix.line_length);
			for (uint32_t x = 0; x < f.var.xres; x++)
				row[x] = pattern_pixel(x, y, (uint32_t)i + 1);
		}
	}
	static struct bench_times full, small, stream;
	unsigned next = 0, stream_frames = 0;
	double stream_ms = 0;
	printf("bench-ready %s xres=%u yres=%u\n", input, f.var.xres, f.var.yres);
	fflush(stdout);
	for (;;) {
		int key = bench_next_key(fd, -1);
		if (key < 0) {
			fprintf(stderr, "vireo-fbtool: reading %s: %s\n", input, strerror(errno));
			return 1;
		}
		double t0 = mono_ms();
		if (key == KEY_F || key == KEY_S) {
			bool whole = key == KEY_F;
			if (bench_blit(&f, frames[next++ % 2], whole ? 0 : rx, whole ? 0 : ry,
				       whole ? f.var.xres : rw, whole ? f.var.yres : rh))
				return 1;
			bench_note(whole ? &full : &small, mono_ms() - t0);
		} else if (key == KEY_C) {
			int k = 0;
			while (k == 0) {
				double t1 = mono_ms();
				if (bench_blit(&f, frames[next++ % 2], 0, 0, f.var.xres, f.var.yres))
					return 1;
				bench_note(&stream, mono_ms() - t1);
				stream_frames++;
				k = bench_next_key(fd, 0);
			}
			stream_ms += mono_ms() - t0;
			if (k == KEY_Q)
				break;
		} else if (key == KEY_Q) {
			break;
		}
	}
	unsigned nfull = full.n, nsmall = small.n;
	printf("bench full=%u small=%u stream_frames=%u stream_s=%.3f full_draw_ms=%.3f small_draw_ms=%.3f "
	       "stream_draw_ms=%.3f\n", nfull, nsmall, stream_frames, stream_ms / 1e3, bench_median(&full),
	       bench_median(&small), bench_median(&stream));
	close(fd);
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
	if (argc == 7 && strcmp(argv[1], "bench") == 0)
		return bench(argv[2], (uint32_t)number(argv[3]), (uint32_t)number(argv[4]), (uint32_t)number(argv[5]),
			     (uint32_t)number(argv[6]));
	fprintf(stderr, "usage: vireo-fbtool info | pattern SEED | rect X Y W H SEED | serve | bench INPUT X Y W H\n");
	return 2;
}
