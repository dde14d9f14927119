// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-vnc-send: types into a VNC server as a VNC client does, with
 * libvncclient: X keysyms by name (xkbcommon's names), a combination
 * "Shift_L+A" pressed in order and released in reverse; then pointer
 * events (SendPointerEvent: a position and the RFB button mask, 1 left,
 * 2 middle, 4 right, 8/16 wheel up/down, 32/64 wheel left/right). The
 * real-guest console test uses it to check that VNC keys and pointer reach
 * the guest as the right evdev codes and positions; gvnccapture is the
 * stock client for the pixels.
 *
 *   vireo-vnc-send HOST:PORT|SOCKET-PATH [--password-file FILE] [--keys K[+K...],...]
 *       [--pointer X,Y[,MASK]]...
 *   vireo-vnc-send HOST:PORT|SOCKET-PATH [--password-file FILE] --bench WHAT
 *       [--bench-samples N] [--bench-seconds S] [--bench-rect X,Y,W,H]
 *
 * --bench is the VNC viewer's half of tests/bench/display-bench.py (see
 * tests/bench/frame-bench.h): keys typed here ask the guest's vireo-fbtool
 * bench to draw, and the time runs until the framebuffer updates covering
 * the picture have arrived (raw encoding: the pixels are in the stream).
 *
 * Exit status: 0 sent, 1 no connection or a send failed, 2 bad usage,
 * 3 (--bench) a picture the guest was asked for did not come.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <rfb/rfbclient.h>
#include <xkbcommon/xkbcommon.h>

#include "frame-bench.h"

#define SEND_KEYS_MAX 256
#define SEND_COMBO_MAX 8
#define SEND_POINTERS_MAX 64
#define SEND_MASK_MAX 0xff        /* RFB's button mask is a byte */
#define SEND_COORD_MAX 0xffff     /* and its coordinates 16 bits */
#define SEND_DRAIN_TIMEOUT_S 10

static char *password;

static void quiet(const char *format, ...)
{
}

static char *send_password(rfbClient *c)
{
	return password ? strdup(password) : NULL;
}

/* The tag of our frame-bench in libvncclient's client data. */
static char send_bench_tag;

static void send_bench_got_rect(rfbClient *c, int x, int y, int w, int h)
{
	struct frame_bench *b = rfbClientGetClientData(c, &send_bench_tag);
	if (b && x >= 0 && y >= 0 && w > 0 && h > 0)
		frame_bench_damage(b, (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h, NULL, 0);
}

static void send_bench_got_update(rfbClient *c)
{
	struct frame_bench *b = rfbClientGetClientData(c, &send_bench_tag);
	if (b)
		frame_bench_frame(b);
}

/* The keys vireo-fbtool bench reacts to: f, s, c (KEY_F, KEY_S, KEY_C). */
static int send_bench_key(void *opaque, enum frame_bench_key key)
{
	rfbClient *c = opaque;
	static const uint32_t syms[] = {
		[FRAME_BENCH_KEY_FULL] = XKB_KEY_f,
		[FRAME_BENCH_KEY_SMALL] = XKB_KEY_s,
		[FRAME_BENCH_KEY_STREAM] = XKB_KEY_c,
	};
	return SendKeyEvent(c, syms[key], TRUE) && SendKeyEvent(c, syms[key], FALSE) ? 0 : -EPIPE;
}

/* libvncclient may have read the next message into its buffer already,
 * where select() does not see it: handle what is buffered before waiting. */
static int send_bench_pump(void *opaque, int timeout_ms)
{
	rfbClient *c = opaque;
	if (c->buffered == 0) {
		int n = WaitForMessage(c, (unsigned)timeout_ms * 1000u);
		if (n <= 0)
			return n < 0 ? -EIO : 0;
	}
	do {
		if (!HandleRFBServerMessage(c))
			return -EPIPE;
	} while (c->buffered > 0);
	return 0;
}

static const struct frame_bench_ops send_bench_ops = {
	.send_key = send_bench_key,
	.pump = send_bench_pump,
};

/* Exit status: 0, 1 failed, 3 a picture did not come. */
static int send_bench(rfbClient *c, struct frame_bench_config *cfg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(c->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		cfg->server_pid = cred.pid;   /* a Unix socket: the worker */
	struct frame_bench *b = frame_bench_new((uint32_t)c->width, (uint32_t)c->height);
	if (!b) {
		fprintf(stderr, "vireo-vnc-send: --bench: no memory for a %dx%d screen\n", c->width, c->height);
		return 1;
	}
	rfbClientSetClientData(c, &send_bench_tag, b);
	int r = frame_bench_run(b, cfg, &send_bench_ops, c, stdout);
	rfbClientSetClientData(c, &send_bench_tag, NULL);
	frame_bench_free(b);
	if (r < 0) {
		fprintf(stderr, "vireo-vnc-send: --bench: %s\n",
			r == -ETIMEDOUT ? "the guest's picture did not come (is vireo-fbtool bench running?)"
			: r == -EINVAL ? "the small rectangle is not inside the screen" : g_strerror(-r));
		return r == -ETIMEDOUT ? 3 : 1;
	}
	return 0;
}

/* "X,Y" or "X,Y,MASK" into p[0..2]: 0, or -EINVAL. */
static int parse_pointer(const char *s, int p[3])
{
	g_auto(GStrv) parts = g_strsplit(s, ",", -1);
	guint n = g_strv_length(parts);
	if (n < 2 || n > 3)
		return -EINVAL;
	p[2] = 0;
	for (guint i = 0; i < n; i++) {
		char *end;
		long v = strtol(parts[i], &end, 0);
		if (!*parts[i] || *end || v < 0 || v > (i == 2 ? SEND_MASK_MAX : SEND_COORD_MAX))
			return -EINVAL;
		p[i] = (int)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	g_autofree char *keys = NULL, *pw_file = NULL, *bench = NULL, *bench_rect = NULL;
	g_auto(GStrv) pointers = NULL;
	int bench_samples = 10;
	double bench_seconds = 4;
	GOptionEntry entries[] = {
		{ "keys", 0, 0, G_OPTION_ARG_STRING, &keys, "Keysyms to type: K or K1+K2, comma-separated", "LIST" },
		{ "pointer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pointers,
		  "A pointer event after the keys: position and RFB button mask; again for more", "X,Y[,MASK]" },
		{ "password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw_file, "VNC password (its first line)", "FILE" },
		{ "bench", 0, 0, G_OPTION_ARG_STRING, &bench,
		  "Benchmark with the guest's vireo-fbtool bench: latency-full, latency-small, stream", "WHAT,..." },
		{ "bench-samples", 0, 0, G_OPTION_ARG_INT, &bench_samples, "Pictures per latency kind (default 10)", "N" },
		{ "bench-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &bench_seconds, "Length of the stream (default 4)", "S" },
		{ "bench-rect", 0, 0, G_OPTION_ARG_STRING, &bench_rect,
		  "The guest's small rectangle (default 96,96,64,64)", "X,Y,W,H" },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) ctx = g_option_context_new("HOST:PORT|SOCKET - type keysyms into a VNC server");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || (!keys && !pointers && !bench) ||
	    (bench && (keys || pointers))) {
		fprintf(stderr, "vireo-vnc-send: %s (see --help)\n",
			error ? error->message : "a server, and --keys or --pointer, or --bench alone");
		return 2;
	}
	struct frame_bench_config bcfg = { .samples = (unsigned)bench_samples, .stream_s = bench_seconds,
					   .small = { 96, 96, 64, 64 }, .label = "vnc" };
	if (bench && (frame_bench_parse_what(&bcfg, bench) < 0 || bench_samples < 1 ||
		      bench_samples > (int)FRAME_BENCH_SAMPLES_MAX || !(bench_seconds > 0) ||
		      bench_seconds > FRAME_BENCH_STREAM_S_MAX ||
		      (bench_rect && frame_bench_parse_rect(&bcfg.small, bench_rect) < 0))) {
		fprintf(stderr, "vireo-vnc-send: --bench takes latency-full,latency-small,stream; --bench-samples "
			"1..%u; --bench-seconds up to %.0f; --bench-rect X,Y,W,H\n", FRAME_BENCH_SAMPLES_MAX,
			FRAME_BENCH_STREAM_S_MAX);
		return 2;
	}
	/* Parse everything before connecting. */
	int pts[SEND_POINTERS_MAX][3], npt = 0;
	for (; pointers && pointers[npt]; npt++) {
		if (npt >= SEND_POINTERS_MAX || parse_pointer(pointers[npt], pts[npt]) < 0) {
			fprintf(stderr, "vireo-vnc-send: --pointer takes X,Y[,MASK] (X, Y 0..%d, MASK 0..%d), "
				"at most %d times\n", SEND_COORD_MAX, SEND_MASK_MAX, SEND_POINTERS_MAX);
			return 2;
		}
	}
	g_auto(GStrv) combos = g_strsplit(keys ? keys : "", ",", -1);
	uint32_t syms[SEND_KEYS_MAX][SEND_COMBO_MAX];
	int lens[SEND_KEYS_MAX], n = 0;
	for (int i = 0; keys && combos[i]; i++) {
		if (n >= SEND_KEYS_MAX) {
			fprintf(stderr, "vireo-vnc-send: at most %d keys\n", SEND_KEYS_MAX);
			return 2;
		}
		g_auto(GStrv) parts = g_strsplit(combos[i], "+", -1);
		lens[n] = 0;
		for (int k = 0; parts[k]; k++) {
			xkb_keysym_t s = xkb_keysym_from_name(parts[k], XKB_KEYSYM_NO_FLAGS);
			if (s == XKB_KEY_NoSymbol || lens[n] >= SEND_COMBO_MAX) {
				fprintf(stderr, "vireo-vnc-send: \"%s\" is not a keysym name\n", parts[k]);
				return 2;
			}
			syms[n][lens[n]++] = s;
		}
		n++;
	}
	if (pw_file) {
		g_autofree char *text = NULL;
		if (!g_file_get_contents(pw_file, &text, NULL, &error)) {
			fprintf(stderr, "vireo-vnc-send: %s\n", error->message);
			return 1;
		}
		text[strcspn(text, "\r\n")] = '\0';
		password = g_strdup(text);
	}

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	rfbClient *c = rfbGetClient(8, 3, 4);
	const char *target = argv[1];
	const char *colon = strrchr(target, ':');
	free(c->serverHost);
	if (target[0] == '/' || !colon) {
		c->serverHost = strdup(target);   /* libvncclient takes a socket path here */
	} else {
		c->serverHost = g_strndup(target, (gsize)(colon - target));
		c->serverPort = atoi(colon + 1);
	}
	c->GetPassword = send_password;
	c->appData.encodingsString = "raw";
	c->GotFrameBufferUpdate = send_bench_got_rect;
	c->FinishedFrameBufferUpdate = send_bench_got_update;
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "vireo-vnc-send: cannot connect to %s\n", target);
		return 1;
	}
	if (bench) {
		int r = send_bench(c, &bcfg);
		free(c->frameBuffer);
		rfbClientCleanup(c);
		g_free(password);
		return r;
	}
	int sent = 0;
	for (int i = 0; i < n; i++) {
		bool ok = true;
		for (int k = 0; k < lens[i]; k++)
			ok = ok && SendKeyEvent(c, syms[i][k], TRUE);
		for (int k = lens[i] - 1; k >= 0; k--)
			ok = ok && SendKeyEvent(c, syms[i][k], FALSE);
		if (!ok) {
			fprintf(stderr, "vireo-vnc-send: the server went away after %d keys\n", sent);
			return 1;
		}
		sent++;
	}
	for (int i = 0; i < npt; i++) {
		if (!SendPointerEvent(c, pts[i][0], pts[i][1], pts[i][2])) {
			fprintf(stderr, "vireo-vnc-send: the server went away after %d pointer events\n", i);
			return 1;
		}
	}
	/* Hang up only once the server has read everything: closing with its
	 * updates unread would reset the connection, and TCP drops what the
	 * server had not read yet. So: our end of the stream, then read until
	 * the server closes its end. */
	shutdown(c->sock, SHUT_WR);
	gint64 end = g_get_monotonic_time() + SEND_DRAIN_TIMEOUT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		struct pollfd p = { c->sock, POLLIN, 0 };
		char buf[65536];
		if (poll(&p, 1, 100) > 0 && read(c->sock, buf, sizeof(buf)) <= 0)
			break;
	}
	if (npt)
		printf("ok keys=%d pointers=%d\n", sent, npt);
	else
		printf("ok keys=%d\n", sent);
	free(c->frameBuffer);   /* libvncclient's, not freed by rfbClientCleanup */
	rfbClientCleanup(c);
	g_free(password);
	return 0;
}
