/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frame-bench: the viewer's half of tests/bench/display-bench.py, shared by
 * vireo-console-client --bench and vireo-vnc-send --bench. A viewer feeds it
 * the damage it receives and gives it two callbacks (press a key in the
 * guest, read what the server sent); it runs the measurements on this
 * process' clock and prints one "bench ..." line of raw samples, each beside
 * a memcpy of the same bytes timed in the same run (the peer):
 *
 *   latency-full   a key asks the guest (vireo-fbtool bench) for a whole new
 *                  screen: time until damage covering all of it has arrived
 *                  (and, shared, been copied out of the mapping)
 *   latency-small  the same for the small rectangle
 *   stream         the guest draws whole screens back to back: frames
 *                  (updates) and damaged bytes received per second, with the
 *                  CPU time of this process and of the server process
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Samples of one kind a run keeps (more are refused at parse time). */
#define FRAME_BENCH_SAMPLES_MAX 200u
/* Longest stream a run measures, in seconds. */
#define FRAME_BENCH_STREAM_S_MAX 60.0
/* Largest surface side (the console protocol's and the display's). */
#define FRAME_BENCH_SIDE_MAX 8192u
/* Longest wait for one picture, or for the guest to start streaming. */
#define FRAME_BENCH_TIMEOUT_MS 20000.0

enum frame_bench_key {
	FRAME_BENCH_KEY_FULL,     /* KEY_F: a whole screen */
	FRAME_BENCH_KEY_SMALL,    /* KEY_S: the small rectangle */
	FRAME_BENCH_KEY_STREAM,   /* KEY_C: start / stop drawing back to back */
};

struct frame_bench_ops {
	/* Press and release the key; 0 or -errno. */
	int (*send_key)(void *opaque, enum frame_bench_key key);
	/* Wait up to timeout_ms for the server and handle what came (the
	 * viewer calls frame_bench_damage and frame_bench_frame from it);
	 * 0, or -errno when the server went away or broke its protocol. */
	int (*pump)(void *opaque, int timeout_ms);
};

struct frame_bench_rect {
	uint32_t x, y, w, h;
};

struct frame_bench_config {
	bool latency_full, latency_small, stream;
	unsigned samples;             /* per latency kind, 1..FRAME_BENCH_SAMPLES_MAX */
	double stream_s;              /* (0, FRAME_BENCH_STREAM_S_MAX] */
	struct frame_bench_rect small;
	pid_t server_pid;             /* its CPU time is read from /proc; 0: not known */
	double timeout_ms;            /* for one picture; 0: FRAME_BENCH_TIMEOUT_MS */
	const char *label;            /* "console-shared", "vnc", ... */
};

struct frame_bench;

/* "latency-full,latency-small,stream" (any of them) into cfg; 0 or -EINVAL. */
int frame_bench_parse_what(struct frame_bench_config *cfg, const char *what);
/* "X,Y,W,H"; 0 or -EINVAL. */
int frame_bench_parse_rect(struct frame_bench_rect *r, const char *s);

/* For a width x height surface; NULL when the size is out of range or there
 * is no memory. */
struct frame_bench *frame_bench_new(uint32_t width, uint32_t height);
void frame_bench_free(struct frame_bench *b);

/* A rectangle of the surface changed. src: the surface's first pixel
 * (stride bytes a row) when the pixels are shared memory that a viewer
 * copies out (an upload); NULL when they came in the stream already. */
void frame_bench_damage(struct frame_bench *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			const uint8_t *src, size_t stride);
/* The end of one update (a DAMAGE message, a FramebufferUpdate). */
void frame_bench_frame(struct frame_bench *b);

/* Runs what cfg asks and prints the "bench" line to out; 0, or -errno
 * (-ETIMEDOUT: a picture did not come; -EINVAL: a bad configuration). */
int frame_bench_run(struct frame_bench *b, const struct frame_bench_config *cfg, const struct frame_bench_ops *ops,
		    void *opaque, FILE *out);
