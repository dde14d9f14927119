// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "frame-bench.h"

/* Quiet time after which no straggler of the last picture is coming. */
#define FRAME_BENCH_SETTLE_MS 150.0
/* A screen that never goes quiet for that long fails the run. */
#define FRAME_BENCH_SETTLE_MAX_MS 20000.0
/* memcpy timings of a whole screen taken after a stream. */
#define FRAME_BENCH_STREAM_MEMCPYS 21u
/* Room for the numbers of one /proc/PID/task/TID/stat line. */
#define FRAME_BENCH_STAT_MAX 1024

struct frame_bench_series {
	double v[FRAME_BENCH_SAMPLES_MAX];
	unsigned n;
};

struct frame_bench {
	uint32_t width, height;
	size_t frame_bytes;
	uint8_t *shadow;              /* the viewer's own copy of shared pixels */
	uint8_t *copy_src, *copy_dst; /* the peer: memcpy between these */

	/* Coverage of the picture asked for: per row of the target, the
	 * interval [lo, hi) of columns damaged since the key went out. */
	struct frame_bench_rect target;
	bool tracking;
	uint32_t *row_lo, *row_hi;
	uint32_t rows_left;
	double t_covered;
	uint64_t bytes;               /* damaged bytes while tracking, until covered */

	double t_activity;            /* the last damage or update */
	double timeout_ms;

	/* Stream counters: updates after the first one and their bytes. */
	bool have_first;
	double t_first, t_last;
	uint64_t frames_after, bytes_after, bytes_frame;
};

static double frame_bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double frame_bench_cpu_ms(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/*
 * CPU time of the server's threads in ms: all of them, and those named
 * vcpuN (the guest running; the rest is the VMM: devices, display, sinks).
 * false when /proc does not tell.
 */
static bool frame_bench_server_cpu(pid_t pid, double *all_ms, double *vcpu_ms)
{
	if (pid <= 0)
		return false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	long tick = sysconf(_SC_CLK_TCK);
	double all = 0, vcpu = 0;
	bool any = false;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char stat_path[sizeof(path) + sizeof(e->d_name) + 8], line[FRAME_BENCH_STAT_MAX];
		snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
		FILE *f = fopen(stat_path, "re");
		if (!f)
			continue;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = '\0';
		/* "TID (comm) S ppid ...": utime and stime are fields 14 and 15,
		 * the 12th and 13th after the comm (which may hold spaces). */
		char *open = strchr(line, '('), *close = strrchr(line, ')');
		if (!open || !close || close < open)
			continue;
		unsigned long long ut, st;
		if (sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
			continue;
		double ms = (double)(ut + st) * 1e3 / (double)tick;
		all += ms;
		if (strncmp(open + 1, "vcpu", 4) == 0)
			vcpu += ms;
		any = true;
	}
	closedir(d);
	if (!any)
		return false;
	*all_ms = all;
	*vcpu_ms = vcpu;
	return true;
}

static void frame_bench_note(struct frame_bench_series *s, double v)
{
	if (s->n < FRAME_BENCH_SAMPLES_MAX)
		s->v[s->n++] = v;
}

static void frame_bench_print_series(FILE *out, const char *key, const struct frame_bench_series *s)
{
	fprintf(out, " %s=", key);
	for (unsigned i = 0; i < s->n; i++)
		fprintf(out, "%s%.3f", i ? "," : "", s->v[i]);
	if (!s->n)
		fprintf(out, "none");
}

int frame_bench_parse_what(struct frame_bench_config *cfg, const char *what)
{
	bool full = false, small = false, stream = false;
	const char *p = what;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 12 && strncmp(p, "latency-full", n) == 0)
			full = true;
		else if (n == 13 && strncmp(p, "latency-small", n) == 0)
			small = true;
		else if (n == 6 && strncmp(p, "stream", n) == 0)
			stream = true;
		else
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!full && !small && !stream)
		return -EINVAL;
	cfg->latency_full = full;
	cfg->latency_small = small;
	cfg->stream = stream;
	return 0;
}

int frame_bench_parse_rect(struct frame_bench_rect *r, const char *s)
{
	unsigned long v[4];
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno || end == p || v[i] > FRAME_BENCH_SIDE_MAX || *end != (i < 3 ? ',' : '\0'))
			return -EINVAL;
		p = end + 1;
	}
	if (!v[2] || !v[3])
		return -EINVAL;
	*r = (struct frame_bench_rect){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], (uint32_t)v[3] };
	return 0;
}

struct frame_bench *frame_bench_new(uint32_t width, uint32_t height)
{
	if (!width || !height || width > FRAME_BENCH_SIDE_MAX || height > FRAME_BENCH_SIDE_MAX)
		return NULL;
	struct frame_bench *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->width = width;
	b->height = height;
	b->frame_bytes = (size_t)width * height * 4;
	b->shadow = malloc(b->frame_bytes);
	b->copy_src = malloc(b->frame_bytes);
	b->copy_dst = malloc(b->frame_bytes);
	b->row_lo = calloc(height, sizeof(uint32_t));
	b->row_hi = calloc(height, sizeof(uint32_t));
	if (!b->shadow || !b->copy_src || !b->copy_dst || !b->row_lo || !b->row_hi) {
		frame_bench_free(b);
		return NULL;
	}
	/* Touched once, so that no timing pays for the first faults. */
	memset(b->shadow, 0, b->frame_bytes);
	memset(b->copy_src, 0x5a, b->frame_bytes);
	memset(b->copy_dst, 0, b->frame_bytes);
	return b;
}

void frame_bench_free(struct frame_bench *b)
{
	if (!b)
		return;
	free(b->shadow);
	free(b->copy_src);
	free(b->copy_dst);
	free(b->row_lo);
	free(b->row_hi);
	free(b);
}

/* Row r of the target gained columns [lo, hi). */
static void frame_bench_cover_row(struct frame_bench *b, uint32_t r, uint32_t lo, uint32_t hi)
{
	const struct frame_bench_rect *t = &b->target;
	uint32_t *rl = &b->row_lo[r], *rh = &b->row_hi[r];
	bool was = *rl == t->x && *rh == t->x + t->w;
	if (*rl == *rh || (lo <= *rh && hi >= *rl)) {
		/* empty, or touching: the union is one interval */
		uint32_t nl = *rl == *rh ? lo : (lo < *rl ? lo : *rl);
		uint32_t nh = *rl == *rh ? hi : (hi > *rh ? hi : *rh);
		*rl = nl;
		*rh = nh;
	} else if (hi - lo > *rh - *rl) {
		/* Apart: keep the longer one. Never claims too much, so a
		 * picture is never taken as complete before it is. */
		*rl = lo;
		*rh = hi;
	}
	if (!was && *rl == t->x && *rh == t->x + t->w)
		b->rows_left--;
}

void frame_bench_damage(struct frame_bench *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			const uint8_t *src, size_t stride)
{
	/* Viewers check damage against their surface; clip again all the same. */
	if (x >= b->width || y >= b->height || !w || !h)
		return;
	if (w > b->width - x)
		w = b->width - x;
	if (h > b->height - y)
		h = b->height - y;
	if (src) {
		for (uint32_t r = y; r < y + h; r++)
			memcpy(b->shadow + ((size_t)r * b->width + x) * 4, src + (size_t)r * stride + (size_t)x * 4,
			       (size_t)w * 4);
	}
	uint64_t bytes = (uint64_t)w * h * 4;
	b->bytes_frame += bytes;
	b->t_activity = frame_bench_now_ms();
	if (!b->tracking || !b->rows_left)
		return;
	b->bytes += bytes;
	const struct frame_bench_rect *t = &b->target;
	uint32_t lo = x > t->x ? x : t->x, hi = x + w < t->x + t->w ? x + w : t->x + t->w;
	uint32_t y0 = y > t->y ? y : t->y, y1 = y + h < t->y + t->h ? y + h : t->y + t->h;
	if (lo >= hi || y0 >= y1)
		return;
	for (uint32_t r = y0; r < y1; r++)
		frame_bench_cover_row(b, r - t->y, lo, hi);
	if (!b->rows_left)
		b->t_covered = b->t_activity;
}

void frame_bench_frame(struct frame_bench *b)
{
	double now = frame_bench_now_ms();
	b->t_activity = now;
	if (!b->have_first) {
		b->have_first = true;
		b->t_first = now;
	} else {
		b->frames_after++;
		b->bytes_after += b->bytes_frame;
	}
	b->t_last = now;
	b->bytes_frame = 0;
}

/* Reads until nothing came for FRAME_BENCH_SETTLE_MS. */
static int frame_bench_settle(struct frame_bench *b, const struct frame_bench_ops *ops, void *opaque)
{
	double start = frame_bench_now_ms();
	b->t_activity = start;
	for (;;) {
		double now = frame_bench_now_ms();
		double quiet_left = b->t_activity + FRAME_BENCH_SETTLE_MS - now;
		if (quiet_left <= 0)
			return 0;
		if (now - start > FRAME_BENCH_SETTLE_MAX_MS)
			return -ETIMEDOUT;
		int r = ops->pump(opaque, (int)quiet_left + 1);
		if (r < 0)
			return r;
	}
}

/* The peer: ms for memcpy of that many bytes (at most a screen). */
static double frame_bench_memcpy_ms(struct frame_bench *b, size_t bytes)
{
	if (bytes > b->frame_bytes)
		bytes = b->frame_bytes;
	double t0 = frame_bench_now_ms();
	memcpy(b->copy_dst, b->copy_src, bytes);
	/* The copy's result counts as read: it cannot be left out. */
	__asm__ volatile("" : : "r"(b->copy_dst) : "memory");
	return frame_bench_now_ms() - t0;
}

/* One picture: the key, then updates until the target is covered. */
static int frame_bench_picture(struct frame_bench *b, const struct frame_bench_ops *ops, void *opaque,
			       enum frame_bench_key key, const struct frame_bench_rect *target, double *ms,
			       uint64_t *bytes)
{
	int r = frame_bench_settle(b, ops, opaque);
	if (r < 0)
		return r;
	b->target = *target;
	for (uint32_t i = 0; i < target->h; i++)
		b->row_lo[i] = b->row_hi[i] = 0;
	b->rows_left = target->h;
	b->bytes = 0;
	b->tracking = true;
	double t0 = frame_bench_now_ms();
	if ((r = ops->send_key(opaque, key)) < 0)
		return r;
	while (b->rows_left) {
		double left = t0 + b->timeout_ms - frame_bench_now_ms();
		if (left <= 0) {
			b->tracking = false;
			return -ETIMEDOUT;
		}
		if ((r = ops->pump(opaque, (int)left + 1)) < 0)
			return r;
	}
	b->tracking = false;
	*ms = b->t_covered - t0;
	*bytes = b->bytes;
	return 0;
}

struct frame_bench_latency {
	struct frame_bench_series ms, bytes, memcpy_ms;
};

/* One unrecorded picture first: the first of a kind pays for faults. */
static int frame_bench_latency_run(struct frame_bench *b, const struct frame_bench_config *cfg,
				   const struct frame_bench_ops *ops, void *opaque, enum frame_bench_key key,
				   const struct frame_bench_rect *target, struct frame_bench_latency *out)
{
	for (unsigned i = 0; i <= cfg->samples; i++) {
		double ms;
		uint64_t bytes;
		int r = frame_bench_picture(b, ops, opaque, key, target, &ms, &bytes);
		if (r < 0)
			return r;
		if (i == 0)
			continue;
		frame_bench_note(&out->ms, ms);
		frame_bench_note(&out->bytes, (double)bytes);
		frame_bench_note(&out->memcpy_ms, frame_bench_memcpy_ms(b, (size_t)bytes));
	}
	return 0;
}

struct frame_bench_stream {
	uint64_t frames, bytes;
	double ms, client_cpu_ms, server_cpu_ms, server_vcpu_ms;
	bool server_known;
	struct frame_bench_series memcpy_ms;
};

static int frame_bench_stream_run(struct frame_bench *b, const struct frame_bench_config *cfg,
				  const struct frame_bench_ops *ops, void *opaque, struct frame_bench_stream *out)
{
	int r = frame_bench_settle(b, ops, opaque);
	if (r < 0)
		return r;
	b->have_first = false;
	b->frames_after = b->bytes_after = b->bytes_frame = 0;
	double t0 = frame_bench_now_ms();
	if ((r = ops->send_key(opaque, FRAME_BENCH_KEY_STREAM)) < 0)
		return r;
	while (!b->have_first) {
		double left = t0 + b->timeout_ms - frame_bench_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if ((r = ops->pump(opaque, (int)left + 1)) < 0)
			return r;
	}
	double cpu0 = frame_bench_cpu_ms(), s_all0 = 0, s_vcpu0 = 0;
	bool known = frame_bench_server_cpu(cfg->server_pid, &s_all0, &s_vcpu0);
	double end = b->t_first + cfg->stream_s * 1e3;
	for (double now = frame_bench_now_ms(); now < end; now = frame_bench_now_ms())
		if ((r = ops->pump(opaque, (int)(end - now) + 1)) < 0)
			return r;
	double cpu1 = frame_bench_cpu_ms(), s_all1 = 0, s_vcpu1 = 0;
	known = known && frame_bench_server_cpu(cfg->server_pid, &s_all1, &s_vcpu1);
	out->frames = b->frames_after;
	out->bytes = b->bytes_after;
	out->ms = b->t_last - b->t_first;
	out->client_cpu_ms = cpu1 - cpu0;
	out->server_known = known;
	out->server_cpu_ms = s_all1 - s_all0;
	out->server_vcpu_ms = s_vcpu1 - s_vcpu0;
	if ((r = ops->send_key(opaque, FRAME_BENCH_KEY_STREAM)) < 0)
		return r;
	if ((r = frame_bench_settle(b, ops, opaque)) < 0)
		return r;
	for (unsigned i = 0; i < FRAME_BENCH_STREAM_MEMCPYS; i++)
		frame_bench_note(&out->memcpy_ms, frame_bench_memcpy_ms(b, b->frame_bytes));
	return 0;
}

int frame_bench_run(struct frame_bench *b, const struct frame_bench_config *cfg, const struct frame_bench_ops *ops,
		    void *opaque, FILE *out)
{
	const struct frame_bench_rect *s = &cfg->small;
	if (!cfg->samples || cfg->samples > FRAME_BENCH_SAMPLES_MAX || !(cfg->stream_s > 0) ||
	    cfg->stream_s > FRAME_BENCH_STREAM_S_MAX || !s->w || !s->h || s->x >= b->width || s->y >= b->height ||
	    s->w > b->width - s->x || s->h > b->height - s->y)
		return -EINVAL;
	const struct frame_bench_rect whole = { 0, 0, b->width, b->height };
	b->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : FRAME_BENCH_TIMEOUT_MS;
	/* Large: the series hold FRAME_BENCH_SAMPLES_MAX samples each. */
	struct frame_bench_latency *full = calloc(1, sizeof(*full)), *small = calloc(1, sizeof(*small));
	struct frame_bench_stream *stream = calloc(1, sizeof(*stream));
	int r = full && small && stream ? 0 : -ENOMEM;
	if (r == 0 && cfg->latency_full)
		r = frame_bench_latency_run(b, cfg, ops, opaque, FRAME_BENCH_KEY_FULL, &whole, full);
	if (r == 0 && cfg->latency_small)
		r = frame_bench_latency_run(b, cfg, ops, opaque, FRAME_BENCH_KEY_SMALL, s, small);
	if (r == 0 && cfg->stream)
		r = frame_bench_stream_run(b, cfg, ops, opaque, stream);
	if (r == 0) {
		fprintf(out, "bench label=%s width=%u height=%u", cfg->label, b->width, b->height);
		if (cfg->latency_full) {
			frame_bench_print_series(out, "full_ms", &full->ms);
			frame_bench_print_series(out, "full_bytes", &full->bytes);
			frame_bench_print_series(out, "full_memcpy_ms", &full->memcpy_ms);
		}
		if (cfg->latency_small) {
			frame_bench_print_series(out, "small_ms", &small->ms);
			frame_bench_print_series(out, "small_bytes", &small->bytes);
			frame_bench_print_series(out, "small_memcpy_ms", &small->memcpy_ms);
		}
		if (cfg->stream) {
			fprintf(out, " stream_frames=%llu stream_ms=%.3f stream_bytes=%llu stream_client_cpu_ms=%.3f",
				(unsigned long long)stream->frames, stream->ms, (unsigned long long)stream->bytes,
				stream->client_cpu_ms);
			if (stream->server_known)
				fprintf(out, " stream_server_cpu_ms=%.3f stream_server_vcpu_ms=%.3f", stream->server_cpu_ms,
					stream->server_vcpu_ms);
			frame_bench_print_series(out, "stream_memcpy_ms", &stream->memcpy_ms);
		}
		fprintf(out, "\n");
		fflush(out);
	}
	free(full);
	free(small);
	free(stream);
	return r;
}
