// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * connect-test-worker: the worker's real console server (console_server.c)
 * and display, without a guest, for vireo-connect's tests under Xvfb. It
 * shows vireo-fbtool's pattern (tests/guest/fbpattern.py has the formula)
 * and prints the input viewers send, one line each:
 *
 *   connect-test-worker SOCKET WIDTH HEIGHT SEED
 *   stdout:  ready / key CODE 0|1 / pointer X Y BUTTONS WHEEL HWHEEL
 *   stdin:   rect X Y W H SEED   (draw the pattern SEED there, as damage)
 *            size W H SEED       (a new surface: the guest changed mode)
 *            state running|paused|off REASON
 *            cursor X Y          (a 16 x 16 visible shape, hot spot 0,0)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>

#include "console_server.h"

struct tw {
	struct display *display;
	struct console_server *cs;
	int fd;
	uint8_t *px;
	uint32_t w, h;
};

static uint32_t tw_pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t r = (x * 7 + seed) & 255, g = (y * 5 + seed * 3) & 255, b = (x ^ y) & 255;
	return r << 16 | g << 8 | b;
}

static void tw_draw(struct tw *t, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t seed)
{
	for (uint32_t y = y0; y < y0 + h && y < t->h; y++)
		for (uint32_t x = x0; x < x0 + w && x < t->w; x++) {
			uint32_t v = tw_pattern(x, y, seed);
			memcpy(t->px + ((size_t)y * t->w + x) * 4, &v, 4);
		}
}

static int tw_surface(struct tw *t, uint32_t w, uint32_t h, uint32_t seed)
{
	if (t->px)
		munmap(t->px, (size_t)t->w * t->h * 4);
	if (t->fd >= 0)
		close(t->fd);
	t->w = w;
	t->h = h;
	t->fd = memfd_create("connect-test-fb", MFD_CLOEXEC);
	if (t->fd < 0 || ftruncate(t->fd, (off_t)w * h * 4) < 0)
		return -errno;
	t->px = mmap(NULL, (size_t)w * h * 4, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->px == MAP_FAILED)
		return -errno;
	tw_draw(t, 0, 0, w, h, seed);
	struct display_surface s = { .memfd = t->fd, .width = w, .height = h, .stride = w * 4,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	return display_set_surface(t->display, &s);
}

static int tw_key(void *opaque, uint16_t code, bool down)
{
	printf("key %u %d\n", code, down);
	fflush(stdout);
	return 0;
}

static int tw_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	printf("pointer %u %u %u %d %d\n", x, y, buttons, wheel, hwheel);
	fflush(stdout);
	return 0;
}

static const struct input_sink_ops tw_input_ops = { .key = tw_key, .pointer = tw_pointer };

static void tw_command(struct tw *t, const char *line)
{
	unsigned x, y, w, h, seed;
	int cx, cy;
	char state[16], reason[128] = "";
	if (sscanf(line, "rect %u %u %u %u %u", &x, &y, &w, &h, &seed) == 5) {
		tw_draw(t, x, y, w, h, seed);
		struct display_rect r = { x, y, w, h };
		display_damage(t->display, &r, 1);
	} else if (sscanf(line, "size %u %u %u", &w, &h, &seed) == 3) {
		if (tw_surface(t, w, h, seed) < 0)
			fprintf(stderr, "connect-test-worker: cannot make a %ux%u surface\n", w, h);
	} else if (sscanf(line, "state %15s %127[^\n]", state, reason) >= 1) {
		enum console_vm_state s = !strcmp(state, "paused") ? CONSOLE_VM_PAUSED
					  : !strcmp(state, "off")  ? CONSOLE_VM_OFF : CONSOLE_VM_RUNNING;
		console_server_set_vm_state(t->cs, s, reason);
	} else if (sscanf(line, "cursor %d %d", &cx, &cy) == 2) {
		static uint8_t argb[16 * 16 * 4];
		for (size_t i = 0; i < sizeof(argb); i += 4)
			argb[i] = argb[i + 1] = argb[i + 2] = argb[i + 3] = 0xff;
		struct display_cursor c = { 16, 16, 0, 0, argb };
		display_set_cursor(t->display, true, cx, cy, &c);
	} else {
		fprintf(stderr, "connect-test-worker: unknown command: %s\n", line);
	}
}

static gboolean tw_on_stdin(gint fd, GIOCondition cond, gpointer data)
{
	static char buf[4096];
	static size_t len;
	ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
	if (n <= 0) {
		exit(0);   /* the test is gone: so are we */
	}
	len += (size_t)n;
	buf[len] = 0;
	char *nl;
	while ((nl = strchr(buf, '\n'))) {
		*nl = 0;
		tw_command(data, buf);
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len + 1);
	}
	if (len == sizeof(buf) - 1)
		len = 0;
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: connect-test-worker SOCKET WIDTH HEIGHT SEED\n");
		return 2;
	}
	struct tw t = { .fd = -1 };
	t.display = display_new(NULL);
	struct input_sink sink = { &tw_input_ops, &t };
	g_autoptr(GError) e = NULL;
	struct console_server_config cfg = { .path = argv[1], .display = t.display, .input = &sink,
					     .name = "connect-test-vm" };
	unlink(argv[1]);
	t.cs = console_server_new(&cfg, &e);
	if (!t.cs) {
		fprintf(stderr, "connect-test-worker: %s\n", e->message);
		return 1;
	}
	if (tw_surface(&t, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4])) < 0) {
		fprintf(stderr, "connect-test-worker: no surface\n");
		return 1;
	}
	console_server_set_vm_state(t.cs, CONSOLE_VM_RUNNING, "started");
	g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP, tw_on_stdin, &t);
	printf("ready\n");
	fflush(stdout);
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	g_main_loop_run(loop);
	return 0;
}
