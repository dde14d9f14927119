// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The display between the video device and its sinks: damage merging,
 * surfaces handed over on the consumer context, producers on other threads
 * never waiting for a sink.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "vsp/display.h"

static int make_fb(uint32_t w, uint32_t h, uint32_t stride, uint64_t offset)
{
	int fd = memfd_create("test-fb", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)(offset + (uint64_t)stride * h)), ==, 0);
	uint8_t *p = mmap(NULL, offset + (size_t)stride * h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	g_assert_true(p != MAP_FAILED);
	/* Pixel (x, y) holds x + 65536 * y, so any wrong offset shows. */
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = x + 65536u * y;
			memcpy(p + offset + (size_t)y * stride + 4 * x, &v, 4);
		}
	munmap(p, offset + (size_t)stride * h);
	return fd;
}

struct rec {
	unsigned surfaces, nulls, damages, cursors;
	uint32_t w, h;
	uint32_t px_5_3;             /* pixel (5, 3) of the last surface */
	struct display_rect last[DISPLAY_DAMAGE_RECTS];
	size_t nlast;
	uint64_t serial;
	bool cursor_visible;
	int32_t cx, cy;
	uint32_t shape_w;
};

static void rec_surface(void *opaque, const struct display_surface *s)
{
	struct rec *r = opaque;
	if (!s) {
		r->nulls++;
		return;
	}
	r->surfaces++;
	r->w = s->width;
	r->h = s->height;
	r->serial = s->serial;
	memcpy(&r->px_5_3, s->pixels + 3 * (size_t)s->stride + 5 * 4, 4);
}

static void rec_damage(void *opaque, const struct display_rect *rects, size_t n)
{
	struct rec *r = opaque;
	r->damages++;
	g_assert_cmpuint(n, <=, DISPLAY_DAMAGE_RECTS);
	memcpy(r->last, rects, n * sizeof(*rects));
	r->nlast = n;
}

static void rec_cursor(void *opaque, bool visible, int32_t x, int32_t y, const struct display_cursor *shape)
{
	struct rec *r = opaque;
	r->cursors++;
	r->cursor_visible = visible;
	r->cx = x;
	r->cy = y;
	if (shape)
		r->shape_w = shape->w;
}

static const struct display_sink_ops rec_ops = {
	.surface = rec_surface, .damage = rec_damage, .cursor = rec_cursor,
};

static void drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void test_rect_merge(void)
{
	struct display_rect l[4];
	size_t n = 0;
	display_rect_add(l, &n, 4, &(struct display_rect){ 0, 0, 10, 10 });
	display_rect_add(l, &n, 4, &(struct display_rect){ 100, 100, 10, 10 });
	g_assert_cmpuint(n, ==, 2);
	/* Touching the first: they join. */
	display_rect_add(l, &n, 4, &(struct display_rect){ 10, 0, 5, 5 });
	g_assert_cmpuint(n, ==, 2);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found = found || (l[i].x == 0 && l[i].y == 0 && l[i].w == 15 && l[i].h == 10);
	g_assert_true(found);
	/* One that bridges both takes them all in. */
	display_rect_add(l, &n, 4, &(struct display_rect){ 5, 5, 100, 100 });
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(l[0].x, ==, 0);
	g_assert_cmpuint(l[0].w, ==, 110);
	g_assert_cmpuint(l[0].h, ==, 110);
	/* Empty ones do nothing. */
	display_rect_add(l, &n, 4, &(struct display_rect){ 500, 500, 0, 7 });
	g_assert_cmpuint(n, ==, 1);
	/* A full list becomes its bounding box. */
	n = 0;
	for (uint32_t i = 0; i < 5; i++)
		display_rect_add(l, &n, 4, &(struct display_rect){ i * 100, 0, 1, 1 });
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(l[0].x, ==, 0);
	g_assert_cmpuint(l[0].w, ==, 401);
}

static void test_rect_clip(void)
{
	struct display_rect r = { 90, 10, 50, 500 };
	g_assert_true(display_rect_clip(&r, 100, 100));
	g_assert_cmpuint(r.w, ==, 10);
	g_assert_cmpuint(r.h, ==, 90);
	r = (struct display_rect){ 100, 0, 1, 1 };
	g_assert_false(display_rect_clip(&r, 100, 100));
	/* Coordinates near UINT32_MAX must not wrap into the surface. */
	r = (struct display_rect){ UINT32_MAX - 1, 0, 10, 10 };
	g_assert_false(display_rect_clip(&r, 100, 100));
	r = (struct display_rect){ 5, 5, UINT32_MAX, UINT32_MAX };
	g_assert_true(display_rect_clip(&r, 100, 100));
	g_assert_cmpuint(r.w, ==, 95);
}

static void test_surface_and_damage(void)
{
	struct display *d = display_new(NULL);
	struct rec r = { 0 };
	display_add_sink(d, &rec_ops, &r);
	g_assert_cmpuint(r.surfaces, ==, 0);

	int fd = make_fb(64, 32, 64 * 4 + 64, 4096 + 128);
	struct display_surface s = { .memfd = fd, .offset = 4096 + 128, .width = 64, .height = 32,
				     .stride = 64 * 4 + 64, .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(d, &s), ==, 0);
	/* The producer's fd is its own again at once. */
	close(fd);
	uint32_t w, h;
	g_assert_true(display_get_size(d, &w, &h));
	g_assert_cmpuint(w, ==, 64);
	/* Nothing reaches the sink before the consumer runs. */
	g_assert_cmpuint(r.surfaces, ==, 0);
	drain();
	g_assert_cmpuint(r.surfaces, ==, 1);
	g_assert_cmpuint(r.px_5_3, ==, 5 + 65536u * 3);
	/* A new surface is damaged all over. */
	g_assert_cmpuint(r.nlast, ==, 1);
	g_assert_cmpuint(r.last[0].w, ==, 64);
	g_assert_cmpuint(r.last[0].h, ==, 32);

	/* Many small updates before the consumer runs arrive merged, clipped. */
	for (uint32_t i = 0; i < 100; i++)
		display_damage(d, &(struct display_rect){ i % 8 * 8, i / 8 % 4 * 8, 1, 1 }, 1);
	display_damage(d, &(struct display_rect){ 60, 30, 100, 100 }, 1);
	display_damage(d, &(struct display_rect){ 64, 0, 5, 5 }, 1);
	unsigned before = r.damages;
	drain();
	g_assert_cmpuint(r.damages, ==, before + 1);
	g_assert_cmpuint(r.nlast, >=, 1);
	g_assert_cmpuint(r.nlast, <=, DISPLAY_DAMAGE_RECTS);
	bool covers_corner = false;
	for (size_t i = 0; i < r.nlast; i++) {
		g_assert_cmpuint(r.last[i].x + r.last[i].w, <=, 64);
		g_assert_cmpuint(r.last[i].y + r.last[i].h, <=, 32);
		covers_corner = covers_corner || (r.last[i].x <= 63 && r.last[i].x + r.last[i].w == 64 &&
						  r.last[i].y + r.last[i].h == 32);
	}
	g_assert_true(covers_corner);

	/* A sink added later hears about the surface at once. */
	struct rec late = { 0 };
	display_add_sink(d, &rec_ops, &late);
	g_assert_cmpuint(late.surfaces, ==, 1);
	g_assert_cmpuint(late.serial, ==, r.serial);

	/* Surface gone: sinks hear NULL and get no damage for it. */
	g_assert_cmpint(display_set_surface(d, NULL), ==, 0);
	display_damage(d, &(struct display_rect){ 0, 0, 4, 4 }, 1);
	before = r.damages;
	drain();
	g_assert_cmpuint(r.nulls, ==, 1);
	g_assert_cmpuint(r.damages, ==, before);
	g_assert_false(display_get_size(d, &w, &h));

	display_remove_sink(d, &rec_ops, &late);
	display_remove_sink(d, &rec_ops, &r);
	display_free(d);
}

static void test_bad_surfaces(void)
{
	struct display *d = display_new(NULL);
	int fd = make_fb(16, 16, 64, 0);
	struct display_surface ok = { .memfd = fd, .width = 16, .height = 16, .stride = 64,
				      .format = DISPLAY_FORMAT_XRGB8888 };
	struct display_surface s = ok;
	s.width = 0;
	g_assert_cmpint(display_set_surface(d, &s), ==, -EINVAL);
	s = ok;
	s.stride = 60;
	g_assert_cmpint(display_set_surface(d, &s), ==, -EINVAL);
	s = ok;
	s.width = DISPLAY_MAX_SIDE + 1;
	s.stride = s.width * 4;
	g_assert_cmpint(display_set_surface(d, &s), ==, -EINVAL);
	s = ok;
	s.format = 0;
	g_assert_cmpint(display_set_surface(d, &s), ==, -EINVAL);
	s = ok;
	s.memfd = -1;
	g_assert_cmpint(display_set_surface(d, &s), ==, -EINVAL);
	/* None of it changed anything. */
	uint32_t w, h;
	g_assert_false(display_get_size(d, &w, &h));
	g_assert_cmpint(display_set_surface(d, &ok), ==, 0);
	close(fd);
	/* Freed with a flush still scheduled. */
	display_free(d);
	drain();
}

struct producer {
	struct display *d;
	unsigned rounds;
};

static gpointer producer_thread(gpointer data)
{
	struct producer *p = data;
	for (unsigned i = 0; i < p->rounds; i++)
		display_damage(p->d, &(struct display_rect){ i % 64, i % 32, 1, 1 }, 1);
	return NULL;
}

/* A producer on another thread, a consumer that never runs meanwhile: the
 * producer finishes anyway, and the consumer then gets one merged batch. */
static void test_producer_never_waits(void)
{
	struct display *d = display_new(NULL);
	struct rec r = { 0 };
	display_add_sink(d, &rec_ops, &r);
	int fd = make_fb(64, 32, 256, 0);
	struct display_surface s = { .memfd = fd, .width = 64, .height = 32, .stride = 256,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(d, &s), ==, 0);
	close(fd);
	drain();
	struct producer p = { d, 200000 };
	GThread *t = g_thread_new("producer", producer_thread, &p);
	g_thread_join(t);
	unsigned before = r.damages;
	drain();
	g_assert_cmpuint(r.damages, ==, before + 1);
	display_set_cursor(d, true, 7, 9, &(struct display_cursor){ 2, 2, 0, 0, (const uint8_t[16]){ 0 } });
	drain();
	g_assert_cmpuint(r.cursors, ==, 1);
	g_assert_true(r.cursor_visible);
	g_assert_cmpint(r.cx, ==, 7);
	g_assert_cmpuint(r.shape_w, ==, 2);
	display_remove_sink(d, &rec_ops, &r);
	display_free(d);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/display/rect/merge", test_rect_merge);
	g_test_add_func("/display/rect/clip", test_rect_clip);
	g_test_add_func("/display/surface-and-damage", test_surface_and_damage);
	g_test_add_func("/display/bad-surfaces", test_bad_surfaces);
	g_test_add_func("/display/producer-never-waits", test_producer_never_waits);
	return g_test_run();
}
