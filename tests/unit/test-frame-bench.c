// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The display benchmark's measuring half (tests/bench/frame-bench.c), with a
 * scripted server: a picture counts as arrived only once damage has covered
 * all of it, whatever pieces the damage comes in (so no latency is ever
 * taken short), the bytes reported are those damaged until then, a stream
 * counts its updates and bytes, and failures (no picture, a server that
 * goes away, a bad configuration) are reported, not measured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "frame-bench.h"

#define FAKE_PIECES_MAX 16

struct fake_piece {
	uint32_t x, y, w, h;
	bool frame_end;
};

/* A server: on each key, the pieces of one picture, one per pump call. */
struct fake {
	struct frame_bench *b;
	struct fake_piece picture[FAKE_PIECES_MAX];
	unsigned npieces;
	unsigned pending, next;
	unsigned keys[3];
	bool streaming;
	bool gone_after_key;          /* the server hangs up once a key came */
	bool ignore_stream;           /* the guest does not stream */
	bool gone;
	uint32_t width, height;
};

static int fake_key(void *opaque, enum frame_bench_key key)
{
	struct fake *f = opaque;
	f->keys[key]++;
	if (f->gone_after_key)
		f->gone = true;
	if (key == FRAME_BENCH_KEY_STREAM) {
		f->streaming = !f->streaming && !f->ignore_stream;
	} else {
		f->pending = f->npieces;
		f->next = 0;
	}
	return 0;
}

static int fake_pump(void *opaque, int timeout_ms)
{
	struct fake *f = opaque;
	if (f->gone)
		return -EPIPE;
	if (f->streaming) {
		/* a whole screen every 5 ms */
		g_usleep(5000);
		frame_bench_damage(f->b, 0, 0, f->width, f->height, NULL, 0);
		frame_bench_frame(f->b);
		return 0;
	}
	if (f->pending) {
		const struct fake_piece *p = &f->picture[f->next++];
		f->pending--;
		if (p->frame_end)
			frame_bench_frame(f->b);
		else
			frame_bench_damage(f->b, p->x, p->y, p->w, p->h, NULL, 0);
		return 0;
	}
	/* nothing to read: poll's wait */
	g_usleep((gulong)MIN(timeout_ms, 20) * 1000);
	return 0;
}

static const struct frame_bench_ops fake_ops = { .send_key = fake_key, .pump = fake_pump };

static void fake_init(struct fake *f, uint32_t w, uint32_t h, const struct fake_piece *pieces, unsigned n)
{
	memset(f, 0, sizeof(*f));
	f->width = w;
	f->height = h;
	f->b = frame_bench_new(w, h);
	g_assert_nonnull(f->b);
	g_assert_cmpuint(n, <=, FAKE_PIECES_MAX);
	memcpy(f->picture, pieces, n * sizeof(*pieces));
	f->npieces = n;
}

static struct frame_bench_config config(const char *what, unsigned samples)
{
	struct frame_bench_config cfg = { .samples = samples, .stream_s = 0.2, .small = { 10, 10, 4, 4 },
					  .label = "fake", .timeout_ms = 400 };
	g_assert_cmpint(frame_bench_parse_what(&cfg, what), ==, 0);
	return cfg;
}

/* Runs and returns the printed line (g_free it), NULL when the run failed with *err. */
static char *run(struct fake *f, const struct frame_bench_config *cfg, int *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	g_assert_nonnull(out);
	*err = frame_bench_run(f->b, cfg, &fake_ops, f, out);
	fclose(out);
	if (*err < 0) {
		g_assert_cmpuint(len, ==, 0);
		free(text);
		return NULL;
	}
	char *copy = g_strdup(text);
	free(text);
	return copy;
}

/* The value of KEY= in the line. */
static char *field(const char *line, const char *key)
{
	g_autofree char *pat = g_strdup_printf(" %s=", key);
	const char *p = strstr(line, pat);
	g_assert_nonnull(p);
	p += strlen(pat);
	return g_strndup(p, strcspn(p, " \n"));
}

static void check_series(const char *line, const char *key, const char *want)
{
	g_autofree char *got = field(line, key);
	g_assert_cmpstr(got, ==, want);
}

static void test_parse(void)
{
	struct frame_bench_config cfg = { 0 };
	g_assert_cmpint(frame_bench_parse_what(&cfg, "latency-full"), ==, 0);
	g_assert_true(cfg.latency_full && !cfg.latency_small && !cfg.stream);
	g_assert_cmpint(frame_bench_parse_what(&cfg, "stream,latency-small,latency-full"), ==, 0);
	g_assert_true(cfg.latency_full && cfg.latency_small && cfg.stream);
	const char *bad_what[] = { "", ",", "latency", "latency-fullx", "stream,", "stream,,stream", "Stream", "x" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_what); i++) {
		cfg = (struct frame_bench_config){ 0 };
		if (strcmp(bad_what[i], "stream,") == 0) {
			/* a trailing comma ends the list: allowed */
			g_assert_cmpint(frame_bench_parse_what(&cfg, bad_what[i]), ==, 0);
			continue;
		}
		g_assert_cmpint(frame_bench_parse_what(&cfg, bad_what[i]), ==, -EINVAL);
		g_assert_false(cfg.latency_full || cfg.latency_small || cfg.stream);
	}

	struct frame_bench_rect r = { 1, 2, 3, 4 };
	g_assert_cmpint(frame_bench_parse_rect(&r, "96,96,64,64"), ==, 0);
	g_assert_cmpuint(r.x, ==, 96);
	g_assert_cmpuint(r.h, ==, 64);
	g_assert_cmpint(frame_bench_parse_rect(&r, "0,0,8192,8192"), ==, 0);
	const char *bad_rect[] = { "", "1,2,3", "1,2,3,4,5", "1,2,0,4", "1,2,3,0", "-1,2,3,4", "1,2,3,8193",
				   "8193,0,1,1", "1,2,3,4x", "a,b,c,d", "1,,3,4", "99999999999999999999,0,1,1" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_rect); i++) {
		r = (struct frame_bench_rect){ 7, 7, 7, 7 };
		g_assert_cmpint(frame_bench_parse_rect(&r, bad_rect[i]), ==, -EINVAL);
		g_assert_cmpuint(r.x, ==, 7);   /* untouched on failure */
	}
}

static void test_new_limits(void)
{
	g_assert_null(frame_bench_new(0, 10));
	g_assert_null(frame_bench_new(10, 0));
	g_assert_null(frame_bench_new(FRAME_BENCH_SIDE_MAX + 1, 1));
	g_assert_null(frame_bench_new(1, FRAME_BENCH_SIDE_MAX + 1));
	struct frame_bench *b = frame_bench_new(1, 1);
	g_assert_nonnull(b);
	frame_bench_free(b);
	frame_bench_free(NULL);
}

/* A whole screen in pieces: the picture is complete only with the last one. */
static void check_full_pieces(const struct fake_piece *pieces, unsigned n, const char *bytes)
{
	struct fake f;
	fake_init(&f, 32, 16, pieces, n);
	struct frame_bench_config cfg = config("latency-full", 2);
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, 0);
	/* one unrecorded picture, then two samples */
	g_assert_cmpuint(f.keys[FRAME_BENCH_KEY_FULL], ==, 3);
	g_assert_nonnull(strstr(line, "bench label=fake width=32 height=16 "));
	check_series(line, "full_bytes", bytes);
	g_autofree char *ms = field(line, "full_ms");
	g_auto(GStrv) samples = g_strsplit(ms, ",", -1);
	g_assert_cmpuint(g_strv_length(samples), ==, 2);
	g_assert_null(strstr(line, "small_ms"));
	g_assert_null(strstr(line, "stream_frames"));
	frame_bench_free(f.b);
}

static void test_full_rows(void)
{
	/* top half, then the bottom half: 32 x 16 x 4 bytes in all */
	const struct fake_piece p[] = { { 0, 0, 32, 8, false }, { 0, 0, 0, 0, true }, { 0, 8, 32, 8, false } };
	check_full_pieces(p, G_N_ELEMENTS(p), "2048.000,2048.000");
}

static void test_full_columns(void)
{
	/* the left half of every row, then the right half */
	const struct fake_piece p[] = { { 0, 0, 16, 16, false }, { 16, 0, 16, 16, false } };
	check_full_pieces(p, G_N_ELEMENTS(p), "2048.000,2048.000");
}

static void test_full_apart(void)
{
	/* left and right quarters, apart: a row keeps one interval, so the
	 * right quarter is forgotten (never counted as more than arrived);
	 * the middle joins the left one, and only the right quarter sent
	 * again completes the rows: 4 pieces, 640 pixels */
	const struct fake_piece p[] = { { 0, 0, 8, 16, false }, { 24, 0, 8, 16, false }, { 8, 0, 16, 16, false },
					{ 24, 0, 8, 16, false } };
	check_full_pieces(p, G_N_ELEMENTS(p), "2560.000,2560.000");
}

static void test_full_overlap_and_clip(void)
{
	/* overlapping pieces, one reaching past the surface (clipped), and an
	 * empty one and one wholly outside (ignored) */
	const struct fake_piece p[] = { { 0, 0, 20, 16, false }, { 0, 0, 0, 0, false }, { 40, 40, 5, 5, false },
					{ 10, 0, 100, 100, false } };
	/* 20 x 16 + 22 x 16 (columns 10..31) pixels */
	check_full_pieces(p, G_N_ELEMENTS(p), "2688.000,2688.000");
}

static void test_small(void)
{
	/* rows above the rectangle first (they count as damage received, but do
	 * not complete it), then the rows that hold it, full width */
	const struct fake_piece p[] = { { 0, 0, 32, 2, false }, { 0, 10, 32, 4, false } };
	struct fake f;
	fake_init(&f, 32, 32, p, G_N_ELEMENTS(p));
	struct frame_bench_config cfg = config("latency-small", 3);
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, 0);
	g_assert_cmpuint(f.keys[FRAME_BENCH_KEY_SMALL], ==, 4);
	g_assert_cmpuint(f.keys[FRAME_BENCH_KEY_FULL], ==, 0);
	check_series(line, "small_bytes", "768.000,768.000,768.000");
	frame_bench_free(f.b);
}

static void test_incomplete_times_out(void)
{
	/* one row of the small rectangle never comes */
	const struct fake_piece p[] = { { 0, 10, 32, 3, false } };
	struct fake f;
	fake_init(&f, 32, 32, p, G_N_ELEMENTS(p));
	struct frame_bench_config cfg = config("latency-small", 1);
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, -ETIMEDOUT);
	g_assert_null(line);
	frame_bench_free(f.b);
}

static void test_stream(void)
{
	struct fake f;
	fake_init(&f, 32, 16, NULL, 0);
	struct frame_bench_config cfg = config("stream", 1);
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, 0);
	/* started and stopped */
	g_assert_cmpuint(f.keys[FRAME_BENCH_KEY_STREAM], ==, 2);
	g_assert_false(f.streaming);
	g_autofree char *frames = field(line, "stream_frames");
	g_autofree char *bytes = field(line, "stream_bytes");
	g_autofree char *ms = field(line, "stream_ms");
	guint64 n = g_ascii_strtoull(frames, NULL, 10);
	/* 0.2 s at one frame every 5 ms or more: some, not more than 40 */
	g_assert_cmpuint(n, >=, 5);
	g_assert_cmpuint(n, <=, 40);
	g_assert_cmpuint(g_ascii_strtoull(bytes, NULL, 10), ==, n * 32 * 16 * 4);
	g_assert_cmpfloat(g_ascii_strtod(ms, NULL), >=, 150);
	g_autofree char *copies = field(line, "stream_memcpy_ms");
	g_auto(GStrv) samples = g_strsplit(copies, ",", -1);
	g_assert_cmpuint(g_strv_length(samples), ==, 21);
	g_assert_nonnull(strstr(line, " stream_client_cpu_ms="));
	/* no server process known: its CPU time is left out, not made up */
	g_assert_null(strstr(line, "stream_server_cpu_ms"));
	frame_bench_free(f.b);
}

static void test_stream_never_starts(void)
{
	struct fake f;
	fake_init(&f, 32, 16, NULL, 0);
	struct frame_bench_config cfg = config("stream", 1);
	f.ignore_stream = true;
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, -ETIMEDOUT);
	g_assert_null(line);
	frame_bench_free(f.b);
}

static void test_server_gone(void)
{
	const struct fake_piece p[] = { { 0, 0, 32, 16, false } };
	struct fake f;
	fake_init(&f, 32, 16, p, G_N_ELEMENTS(p));
	f.gone_after_key = true;
	struct frame_bench_config cfg = config("latency-full", 2);
	int err;
	g_autofree char *line = run(&f, &cfg, &err);
	g_assert_cmpint(err, ==, -EPIPE);
	g_assert_null(line);
	frame_bench_free(f.b);
}

static void test_bad_config(void)
{
	struct fake f;
	fake_init(&f, 32, 16, NULL, 0);
	struct frame_bench_config good = config("latency-full", 1);
	struct frame_bench_config bad[7];
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		bad[i] = good;
	bad[0].samples = 0;
	bad[1].samples = FRAME_BENCH_SAMPLES_MAX + 1;
	bad[2].stream_s = 0;
	bad[3].stream_s = FRAME_BENCH_STREAM_S_MAX + 1;
	bad[4].small = (struct frame_bench_rect){ 30, 0, 4, 4 };     /* past the right edge */
	bad[5].small = (struct frame_bench_rect){ 0, 16, 1, 1 };     /* below the surface */
	bad[6].small = (struct frame_bench_rect){ 0, 0, 0, 1 };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		int err;
		g_autofree char *line = run(&f, &bad[i], &err);
		g_assert_cmpint(err, ==, -EINVAL);
		g_assert_null(line);
	}
	/* nothing was sent to the guest */
	g_assert_cmpuint(f.keys[0] + f.keys[1] + f.keys[2], ==, 0);
	frame_bench_free(f.b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/frame-bench/parse", test_parse);
	g_test_add_func("/frame-bench/new-limits", test_new_limits);
	g_test_add_func("/frame-bench/full-rows", test_full_rows);
	g_test_add_func("/frame-bench/full-columns", test_full_columns);
	g_test_add_func("/frame-bench/full-apart", test_full_apart);
	g_test_add_func("/frame-bench/full-overlap-clip", test_full_overlap_and_clip);
	g_test_add_func("/frame-bench/small", test_small);
	g_test_add_func("/frame-bench/incomplete-times-out", test_incomplete_times_out);
	g_test_add_func("/frame-bench/stream", test_stream);
	g_test_add_func("/frame-bench/stream-never-starts", test_stream_never_starts);
	g_test_add_func("/frame-bench/server-gone", test_server_gone);
	g_test_add_func("/frame-bench/bad-config", test_bad_config);
	return g_test_run();
}
