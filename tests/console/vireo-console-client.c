// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-console-client: a small viewer of the console protocol for tests
 * and for people. It connects to a worker's console socket, takes the
 * framebuffer (a memfd it maps, or pixels inline with --inline), waits for
 * frames, writes the picture as PNG or raw XRGB8888, sends keys, pointer
 * and clipboard, and prints what it saw. With --watch it prints every
 * message until the worker goes away or Ctrl-C.
 *
 *   vireo-console-client SOCKET [--inline] [--ack] [--frames N] [--keys CODE,CODE...]
 *       [--pointer X,Y[,BUTTONS]]... [--clipboard TEXT] [--frames-after-input N]
 *       [--png FILE] [--raw FILE] [--timeout S] [--watch] [--verbose]
 *   vireo-console-client SOCKET [--inline] [--ack] --bench WHAT [--bench-samples N]
 *       [--bench-seconds S] [--bench-rect X,Y,W,H]
 *
 * --bench is the viewer's half of tests/bench/display-bench.py (see
 * tests/bench/frame-bench.h): with the guest running vireo-fbtool bench,
 * it times keys sent from here until the picture they ask for has arrived,
 * and prints a "bench ..." line; shared, it copies each damaged rectangle
 * out of the mapping, as a viewer uploading it would.
 *
 * In that order: frames, then the input (keys, then each --pointer in
 * turn), then more frames, then the picture (so a test can ask the guest,
 * by a key, to draw, and see the result).
 *
 * Exit status: 0 done (the last line says "ok ..."), 1 the worker said or
 * did something wrong, 2 bad usage, 3 timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "console.h"
#include "frame-bench.h"
#include "screenshot.h"

#define CLIENT_FDS_MAX 8          /* fds received and not yet claimed by a SURFACE */
#define CLIENT_KEYS_MAX 256
#define CLIENT_POINTERS_MAX 64

struct client {
	int sock;
	struct console_reader reader;
	int fds[CLIENT_FDS_MAX];
	unsigned nfds;
	bool inline_px, ack, watch, verbose;
	uint32_t caps;                /* the session's */
	bool hello;
	/* the surface */
	bool have;
	uint32_t width, height, stride;
	uint8_t *map;                 /* shared: the mapping; inline: our copy */
	size_t map_len;
	const uint8_t *pixels;
	unsigned surfaces;
	unsigned frames;              /* DAMAGE messages since the last SURFACE */
	unsigned frames_total;
	uint64_t damaged_pixels;
	int fail;                     /* set: exit 1 */
	struct frame_bench *bench;    /* --bench, once the surface is known */
};

static void client_drop_surface(struct client *c)
{
	if (c->map) {
		if (c->inline_px)
			g_free(c->map);
		else
			munmap(c->map, c->map_len);
	}
	c->map = NULL;
	c->pixels = NULL;
	c->have = false;
}

static int client_fail(struct client *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int client_fail(struct client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vireo-console-client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	c->fail = 1;
	return -EPROTO;
}

static int client_send(struct client *c, const struct console_msg *m)
{
	uint8_t buf[CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX];
	long n = console_msg_encode(m, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (long off = 0; off < n;) {
		ssize_t w = send(c->sock, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += w;
	}
	return 0;
}

static bool rect_inside(const struct client *c, const struct console_rect *r)
{
	return (uint64_t)r->x + r->w <= c->width && (uint64_t)r->y + r->h <= c->height;
}

static int client_on_surface(struct client *c, const struct console_msg *m)
{
	if (c->bench)
		return client_fail(c, "a new surface during the benchmark");
	client_drop_surface(c);
	c->width = m->surface.width;
	c->height = m->surface.height;
	c->stride = m->surface.stride;
	c->frames = 0;
	c->surfaces++;
	bool has_fd = m->flags & CONSOLE_FLAG_FD;
	if (has_fd == c->inline_px)
		return client_fail(c, "a SURFACE %s a file descriptor in %s mode", has_fd ? "with" : "without",
				   c->inline_px ? "inline" : "shared");
	if (c->inline_px) {
		c->map_len = (size_t)c->stride * c->height;
		c->map = g_malloc0(c->map_len);
		c->pixels = c->map;
	} else {
		if (c->nfds == 0)
			return client_fail(c, "a SURFACE announced a file descriptor that did not come");
		int fd = c->fds[0];
		memmove(c->fds, c->fds + 1, --c->nfds * sizeof(int));
		struct stat st;
		/* The pixels must be in the file: mapping past its end would fault. */
		if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < m->surface.size) {
			close(fd);
			return client_fail(c, "the surface's file is smaller than its %" G_GUINT64_FORMAT " bytes",
					   m->surface.size);
		}
		c->map_len = (size_t)m->surface.size;
		void *p = mmap(NULL, c->map_len, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return client_fail(c, "cannot map the surface: %s", g_strerror(errno));
		c->map = p;
		c->pixels = c->map + m->surface.offset;
	}
	c->have = true;
	printf("surface %ux%u stride=%u %s\n", c->width, c->height, c->stride, c->inline_px ? "inline" : "shared");
	return 0;
}

static int client_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct client *c = opaque;
	if (status == -ENOMSG)
		return 0;   /* a newer worker's message: not for us */
	if (status < 0)
		return client_fail(c, "message type 0x%04x from the worker does not decode (%s)", f->type,
				   g_strerror(-status));
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		if (m->hello.major != CONSOLE_VERSION_MAJOR)
			return client_fail(c, "the worker speaks console protocol %u.%u", m->hello.major, m->hello.minor);
		c->hello = true;
		if (c->verbose || c->watch)
			printf("hello %u.%u caps=0x%x name=%.*s\n", m->hello.major, m->hello.minor, m->hello.caps,
			       (int)m->hello.name_len, m->hello.name);
		break;
	case CONSOLE_MSG_SURFACE:
		return client_on_surface(c, m);
	case CONSOLE_MSG_NO_SURFACE:
		client_drop_surface(c);
		printf("no-surface\n");
		break;
	case CONSOLE_MSG_PIXELS:
		if (!c->have || !c->inline_px || !rect_inside(c, &m->pixels.r))
			return client_fail(c, "PIXELS outside the surface, or without one");
		for (uint32_t y = 0; y < m->pixels.r.h; y++)
			memcpy(c->map + (size_t)(m->pixels.r.y + y) * c->stride + (size_t)m->pixels.r.x * 4,
			       m->pixels.data + (size_t)y * m->pixels.stride, (size_t)m->pixels.r.w * 4);
		break;
	case CONSOLE_MSG_DAMAGE:
		if (!c->have)
			return client_fail(c, "DAMAGE without a surface");
		for (uint32_t i = 0; i < m->damage.count; i++) {
			if (!rect_inside(c, &m->damage.rects[i]))
				return client_fail(c, "DAMAGE outside the surface");
			c->damaged_pixels += (uint64_t)m->damage.rects[i].w * m->damage.rects[i].h;
			if (c->bench)
				frame_bench_damage(c->bench, m->damage.rects[i].x, m->damage.rects[i].y,
						   m->damage.rects[i].w, m->damage.rects[i].h,
						   c->inline_px ? NULL : c->pixels, c->stride);
		}
		if (c->bench)
			frame_bench_frame(c->bench);
		c->frames++;
		c->frames_total++;
		if (c->verbose || c->watch)
			printf("damage frame=%u rects=%u first=%u,%u,%ux%u\n", m->damage.frame, m->damage.count,
			       m->damage.rects[0].x, m->damage.rects[0].y, m->damage.rects[0].w, m->damage.rects[0].h);
		if (c->caps & CONSOLE_CAP_FRAME_ACK) {
			struct console_msg ack = { .type = CONSOLE_MSG_FRAME_DONE };
			ack.frame_done.frame = m->damage.frame;
			if (client_send(c, &ack) < 0)
				return client_fail(c, "cannot send FRAME_DONE");
		}
		break;
	case CONSOLE_MSG_CURSOR:
		if (c->verbose || c->watch)
			printf("cursor %s %d,%d%s\n", (m->cursor.flags & CONSOLE_CURSOR_VISIBLE) ? "visible" : "hidden",
			       m->cursor.x, m->cursor.y, (m->cursor.flags & CONSOLE_CURSOR_SHAPE) ? " shape" : "");
		break;
	case CONSOLE_MSG_VM_STATE:
		printf("vm-state %s %.*s\n",
		       m->vm_state.state == CONSOLE_VM_RUNNING ? "running"
		       : m->vm_state.state == CONSOLE_VM_PAUSED ? "paused" : "off",
		       (int)m->vm_state.reason_len, m->vm_state.reason);
		break;
	case CONSOLE_MSG_CLIPBOARD:
		printf("clipboard %zu bytes: %.*s\n", m->clipboard.len, (int)MIN(m->clipboard.len, 80), m->clipboard.text);
		break;
	case CONSOLE_MSG_ERROR:
		return client_fail(c, "the worker says: error %u: %.*s", m->error.code, (int)m->error.text_len,
				   m->error.text);
	default:
		break;
	}
	fflush(stdout);
	return 0;
}

/* Reads what the socket has; false when the worker is gone or broke the protocol. */
static bool client_read(struct client *c)
{
	static uint8_t buf[256 * 1024];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * CLIENT_FDS_MAX)];
	} ctrl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b) };
	ssize_t n = recvmsg(c->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->nfds < CLIENT_FDS_MAX)
				c->fds[c->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0) {
		if (!c->watch)
			client_fail(c, "the worker closed the connection");
		return false;
	}
	if (n < 0) {
		client_fail(c, "read: %s", g_strerror(errno));
		return false;
	}
	int r = console_reader_feed(&c->reader, buf, (size_t)n, client_on_msg, c);
	if (r < 0 && !c->fail)
		client_fail(c, "the worker's stream broke the framing (%s)", g_strerror(-r));
	return r == 0;
}

static int client_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int write_raw(const struct client *c, const char *path)
{
	FILE *f = fopen(path, "wbe");
	if (!f)
		return -errno;
	for (uint32_t y = 0; y < c->height; y++)
		fwrite(c->pixels + (size_t)y * c->stride, 4, c->width, f);
	return fclose(f) == 0 ? 0 : -errno;
}

/* Reads until `frames` frames of a surface came: 0; 3 on timeout, 1 when
 * the worker failed or left; with --watch until the worker leaves: -1. */
static int client_wait(struct client *c, unsigned frames, gint64 end, double timeout)
{
	while (!c->fail) {
		if (!c->watch && c->have && c->frames >= frames)
			return 0;
		gint64 left = end - g_get_monotonic_time();
		if (!c->watch && left <= 0) {
			fprintf(stderr, "vireo-console-client: timeout: %s after %.0f s (%u frames)\n",
				c->have ? "not enough frames" : "no surface", timeout, c->frames);
			return 3;
		}
		struct pollfd p = { c->sock, POLLIN, 0 };
		int r = poll(&p, 1, c->watch ? -1 : (int)MAX(1, left / 1000));
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && !client_read(c))
			break;
	}
	return c->watch && !c->fail ? -1 : 1;
}

/* frame-bench's callbacks: the keys vireo-fbtool bench reacts to. */
static int client_bench_key(void *opaque, enum frame_bench_key key)
{
	struct client *c = opaque;
	static const uint16_t codes[] = {
		[FRAME_BENCH_KEY_FULL] = 33,     /* KEY_F */
		[FRAME_BENCH_KEY_SMALL] = 31,    /* KEY_S */
		[FRAME_BENCH_KEY_STREAM] = 46,   /* KEY_C */
	};
	for (int down = 1; down >= 0; down--) {
		struct console_msg k = { .type = CONSOLE_MSG_KEY };
		k.key.code = codes[key];
		k.key.down = down;
		int r = client_send(c, &k);
		if (r < 0)
			return r;
	}
	return 0;
}

static int client_bench_pump(void *opaque, int timeout_ms)
{
	struct client *c = opaque;
	struct pollfd p = { c->sock, POLLIN, 0 };
	int r = poll(&p, 1, timeout_ms);
	if (r < 0 && errno != EINTR)
		return -errno;
	if (r > 0 && !client_read(c))
		return -EPIPE;
	return c->fail ? -EPROTO : 0;
}

static const struct frame_bench_ops client_bench_ops = {
	.send_key = client_bench_key,
	.pump = client_bench_pump,
};

static int client_bench(struct client *c, struct frame_bench_config *cfg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(c->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		cfg->server_pid = cred.pid;
	c->bench = frame_bench_new(c->width, c->height);
	if (!c->bench) {
		fprintf(stderr, "vireo-console-client: --bench: no memory for a %ux%u surface\n", c->width, c->height);
		return 1;
	}
	int r = frame_bench_run(c->bench, cfg, &client_bench_ops, c, stdout);
	frame_bench_free(c->bench);
	c->bench = NULL;
	if (r < 0) {
		fprintf(stderr, "vireo-console-client: --bench: %s\n",
			r == -ETIMEDOUT ? "the guest's picture did not come (is vireo-fbtool bench running?)"
			: r == -EINVAL ? "the small rectangle is not inside the surface" : g_strerror(-r));
		return r == -ETIMEDOUT ? 3 : 1;
	}
	return 0;
}

static int parse_list(const char *s, long *out, int max, long lo, long hi)
{
	g_auto(GStrv) parts = g_strsplit(s, ",", -1);
	int n = 0;
	for (int i = 0; parts[i]; i++) {
		char *end;
		long v = strtol(parts[i], &end, 0);
		if (!*parts[i] || *end || v < lo || v > hi || n >= max)
			return -1;
		out[n++] = v;
	}
	return n;
}

int main(int argc, char **argv)
{
	gboolean inline_px = FALSE, ack = FALSE, watch = FALSE, verbose = FALSE;
	int frames = 1, frames_after = 0, bench_samples = 10;
	double timeout = 30, bench_seconds = 4;
	g_autofree char *bench = NULL, *bench_rect = NULL;
	g_autofree char *png = NULL, *raw = NULL, *keys = NULL, *clipboard = NULL;
	g_auto(GStrv) pointers = NULL;
	GOptionEntry entries[] = {
		{ "inline", 0, 0, G_OPTION_ARG_NONE, &inline_px, "Pixels inline instead of a shared memfd", NULL },
		{ "ack", 0, 0, G_OPTION_ARG_NONE, &ack, "Acknowledge each frame (FRAME_DONE)", NULL },
		{ "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames to receive before the input (default 1)", "N" },
		{ "frames-after-input", 0, 0, G_OPTION_ARG_INT, &frames_after,
		  "Frames to receive after the input, before the picture (default 0)", "N" },
		{ "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Write the picture as PNG", "FILE" },
		{ "raw", 0, 0, G_OPTION_ARG_FILENAME, &raw, "Write the picture as raw XRGB8888 rows", "FILE" },
		{ "keys", 0, 0, G_OPTION_ARG_STRING, &keys, "Press and release these evdev codes, in order", "CODE,..." },
		{ "pointer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pointers,
		  "Move the pointer (surface pixels), BUTTONS held (1 left, 2 right, 4 middle, 8 side, 16 extra); "
		  "again for more", "X,Y[,BUTTONS]" },
		/* Bytes as given (no locale conversion): the protocol checks they are UTF-8. */
		{ "clipboard", 0, 0, G_OPTION_ARG_FILENAME, &clipboard, "Send this clipboard text (UTF-8)", "TEXT" },
		{ "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout, "Give up after S seconds (default 30)", "S" },
		{ "watch", 0, 0, G_OPTION_ARG_NONE, &watch, "Print every message until the worker goes away", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print damage, cursor and hello messages", NULL },
		{ "bench", 0, 0, G_OPTION_ARG_STRING, &bench,
		  "Benchmark with the guest's vireo-fbtool bench: latency-full, latency-small, stream", "WHAT,..." },
		{ "bench-samples", 0, 0, G_OPTION_ARG_INT, &bench_samples, "Pictures per latency kind (default 10)", "N" },
		{ "bench-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &bench_seconds, "Length of the stream (default 4)", "S" },
		{ "bench-rect", 0, 0, G_OPTION_ARG_STRING, &bench_rect,
		  "The guest's small rectangle (default 96,96,64,64)", "X,Y,W,H" },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) ctx = g_option_context_new("SOCKET - a viewer of the Vireo console protocol");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || frames < 0 || frames_after < 0) {
		fprintf(stderr, "vireo-console-client: %s (see --help)\n", error ? error->message : "one SOCKET");
		return 2;
	}
	long key_codes[CLIENT_KEYS_MAX], pt[CLIENT_POINTERS_MAX][3] = { { 0 } };
	int nkeys = 0, npt = 0;
	if (keys && (nkeys = parse_list(keys, key_codes, CLIENT_KEYS_MAX, 1, CONSOLE_KEY_CODE_MAX)) < 0) {
		fprintf(stderr, "vireo-console-client: --keys takes evdev codes 1..%u, comma-separated\n",
			CONSOLE_KEY_CODE_MAX);
		return 2;
	}
	for (; pointers && pointers[npt]; npt++) {
		int n = npt < CLIENT_POINTERS_MAX ? parse_list(pointers[npt], pt[npt], 3, 0, CONSOLE_SIDE_MAX - 1) : -1;
		if (n < 2 || pt[npt][2] > CONSOLE_BUTTONS_ALL) {
			fprintf(stderr, "vireo-console-client: --pointer takes X,Y[,BUTTONS], at most %d times\n",
				CLIENT_POINTERS_MAX);
			return 2;
		}
	}
	struct frame_bench_config bcfg = { .samples = (unsigned)bench_samples, .stream_s = bench_seconds,
					   .small = { 96, 96, 64, 64 },
					   .label = inline_px ? "console-inline" : "console-shared" };
	if (bench && (frame_bench_parse_what(&bcfg, bench) < 0 || bench_samples < 1 ||
		      bench_samples > (int)FRAME_BENCH_SAMPLES_MAX || !(bench_seconds > 0) ||
		      bench_seconds > FRAME_BENCH_STREAM_S_MAX ||
		      (bench_rect && frame_bench_parse_rect(&bcfg.small, bench_rect) < 0))) {
		fprintf(stderr, "vireo-console-client: --bench takes latency-full,latency-small,stream; --bench-samples "
			"1..%u; --bench-seconds up to %.0f; --bench-rect X,Y,W,H\n", FRAME_BENCH_SAMPLES_MAX,
			FRAME_BENCH_STREAM_S_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	struct client c = { .inline_px = inline_px, .ack = ack, .watch = watch, .verbose = verbose };
	console_reader_init(&c.reader, CONSOLE_FROM_WORKER);
	c.sock = client_connect(argv[1]);
	if (c.sock < 0) {
		fprintf(stderr, "vireo-console-client: %s: %s\n", argv[1], g_strerror(-c.sock));
		return 1;
	}
	c.caps = (inline_px ? CONSOLE_CAP_INLINE_PIXELS : 0) | (ack ? CONSOLE_CAP_FRAME_ACK : 0);
	struct console_msg hello;
	console_msg_hello(&hello, c.caps, "vireo-console-client");
	if (client_send(&c, &hello) < 0) {
		fprintf(stderr, "vireo-console-client: cannot send HELLO\n");
		return 1;
	}

	gint64 end = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
	int r = client_wait(&c, (unsigned)frames, end, timeout);
	if (r != 0)
		return r < 0 ? 0 : r;
	if (bench) {
		r = client_bench(&c, &bcfg);
		client_drop_surface(&c);
		console_reader_clear(&c.reader);
		close(c.sock);
		return r;
	}
	for (int i = 0; i < nkeys; i++) {
		for (int down = 1; down >= 0; down--) {
			struct console_msg k = { .type = CONSOLE_MSG_KEY };
			k.key.code = (uint16_t)key_codes[i];
			k.key.down = down;
			if (client_send(&c, &k) < 0)
				return 1;
		}
	}
	for (int i = 0; i < npt; i++) {
		struct console_msg m = { .type = CONSOLE_MSG_POINTER };
		m.pointer.x = (uint32_t)pt[i][0];
		m.pointer.y = (uint32_t)pt[i][1];
		m.pointer.buttons = (uint32_t)pt[i][2];
		if (client_send(&c, &m) < 0)
			return 1;
	}
	if (clipboard) {
		struct console_msg m = { .type = CONSOLE_MSG_CLIPBOARD };
		m.clipboard.format = CONSOLE_CLIPBOARD_TEXT;
		m.clipboard.text = clipboard;
		m.clipboard.len = strlen(clipboard);
		if (client_send(&c, &m) < 0) {
			fprintf(stderr, "vireo-console-client: the clipboard text is not UTF-8 or too long\n");
			return 1;
		}
	}
	if (frames_after && (r = client_wait(&c, c.frames + (unsigned)frames_after, end, timeout)) != 0)
		return r < 0 ? 0 : r;

	if (png) {
		struct display_surface s = { .width = c.width, .height = c.height, .stride = c.stride,
					     .format = DISPLAY_FORMAT_XRGB8888, .pixels = c.pixels, .memfd = -1 };
		int e = screenshot_write_png(&s, png);
		if (e < 0) {
			fprintf(stderr, "vireo-console-client: %s: %s\n", png, g_strerror(-e));
			return 1;
		}
	}
	if (raw && write_raw(&c, raw) < 0) {
		fprintf(stderr, "vireo-console-client: %s: %s\n", raw, g_strerror(errno));
		return 1;
	}
	/* Everything sent reaches the worker before we hang up: it reads in order. */
	shutdown(c.sock, SHUT_WR);
	printf("ok surface=%ux%u mode=%s frames=%u surfaces=%u keys=%d pointers=%d%s%s\n", c.width, c.height,
	       inline_px ? "inline" : "shared", c.frames_total, c.surfaces, nkeys, npt, png ? " png=" : "",
	       png ? png : "");
	client_drop_surface(&c);
	console_reader_clear(&c.reader);
	close(c.sock);
	return 0;
}
