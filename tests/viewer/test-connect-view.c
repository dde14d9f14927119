// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where the picture goes (viewer/connect-view.c): fit keeps the aspect and
 * letterboxes, fixed zoom centres or shows the top-left part, HiDPI
 * factors turn window points into drawable pixels, points map back onto
 * the guest's pixels at every edge, and damage stays inside the surface.
 */
#include <errno.h>
#include <math.h>

#include <glib.h>

#include "connect-view.h"

static struct connect_view layout(uint32_t sw, uint32_t sh, struct connect_rect area, enum connect_zoom_mode m,
				  int zoom)
{
	struct connect_view v;
	g_assert_cmpint(connect_view_layout(sw, sh, &area, m, zoom, &v), ==, 0);
	return v;
}

static void assert_rect(struct connect_rect r, int x, int y, int w, int h)
{
	g_assert_cmpint(r.x, ==, x);
	g_assert_cmpint(r.y, ==, y);
	g_assert_cmpint(r.w, ==, w);
	g_assert_cmpint(r.h, ==, h);
}

static void test_fit(void)
{
	/* exact */
	struct connect_view v = layout(1024, 768, (struct connect_rect){ 0, 30, 1024, 768 }, CONNECT_ZOOM_FIT, 0);
	assert_rect(v.pic, 0, 30, 1024, 768);
	g_assert_cmpfloat(v.scale, ==, 1.0);
	/* wider area: bars left and right, aspect kept */
	v = layout(1024, 768, (struct connect_rect){ 0, 30, 1600, 768 }, CONNECT_ZOOM_FIT, 0);
	assert_rect(v.pic, 288, 30, 1024, 768);
	/* taller area: bars above and below */
	v = layout(1024, 768, (struct connect_rect){ 0, 0, 512, 1000 }, CONNECT_ZOOM_FIT, 0);
	assert_rect(v.pic, 0, 308, 512, 384);
	g_assert_cmpfloat(v.scale, ==, 0.5);
	/* scaled up: 1920x1080 into 3840x2400 (HiDPI drawable) */
	v = layout(1920, 1080, (struct connect_rect){ 0, 60, 3840, 2400 }, CONNECT_ZOOM_FIT, 0);
	assert_rect(v.pic, 0, 60 + (2400 - 2160) / 2, 3840, 2160);
	g_assert_cmpfloat(v.scale, ==, 2.0);
	/* an odd shape never leaves the area */
	for (int aw = 101; aw < 140; aw++) {
		v = layout(1366, 768, (struct connect_rect){ 7, 9, aw, 77 }, CONNECT_ZOOM_FIT, 0);
		g_assert_cmpint(v.pic.x, >=, 7);
		g_assert_cmpint(v.pic.y, >=, 9);
		g_assert_cmpint(v.pic.x + v.pic.w, <=, 7 + aw);
		g_assert_cmpint(v.pic.y + v.pic.h, <=, 9 + 77);
		double aspect = (double)v.pic.w / v.pic.h;
		g_assert_cmpfloat(fabs(aspect - 1366.0 / 768.0), <, 0.03);
	}
}

static void test_fixed(void)
{
	/* smaller than the area: centred */
	struct connect_view v = layout(800, 600, (struct connect_rect){ 0, 30, 1000, 700 }, CONNECT_ZOOM_FIXED, 100);
	assert_rect(v.pic, 100, 80, 800, 600);
	/* larger: from the area's corner */
	v = layout(800, 600, (struct connect_rect){ 0, 30, 1000, 700 }, CONNECT_ZOOM_FIXED, 200);
	assert_rect(v.pic, 0, 30, 1600, 1200);
	v = layout(1024, 768, (struct connect_rect){ 0, 0, 2000, 2000 }, CONNECT_ZOOM_FIXED, 25);
	assert_rect(v.pic, 872, 904, 256, 192);
}

static void test_bad(void)
{
	struct connect_view v = { .scale = 7 };
	struct connect_rect area = { 0, 0, 100, 100 }, empty = { 0, 0, 0, 100 };
	g_assert_cmpint(connect_view_layout(0, 10, &area, CONNECT_ZOOM_FIT, 0, &v), ==, -EINVAL);
	g_assert_cmpint(connect_view_layout(10, 0, &area, CONNECT_ZOOM_FIT, 0, &v), ==, -EINVAL);
	g_assert_cmpint(connect_view_layout(10, 10, &empty, CONNECT_ZOOM_FIT, 0, &v), ==, -EINVAL);
	g_assert_cmpint(connect_view_layout(10, 10, &area, CONNECT_ZOOM_FIXED, CONNECT_ZOOM_MIN - 1, &v), ==, -EINVAL);
	g_assert_cmpint(connect_view_layout(10, 10, &area, CONNECT_ZOOM_FIXED, CONNECT_ZOOM_MAX + 1, &v), ==, -EINVAL);
	g_assert_cmpfloat(v.scale, ==, 7);   /* untouched */
}

static void test_hidpi(void)
{
	double rx, ry;
	connect_view_pixel_ratio(1024, 798, 2048, 1596, &rx, &ry);
	g_assert_cmpfloat(rx, ==, 2.0);
	g_assert_cmpfloat(ry, ==, 2.0);
	connect_view_pixel_ratio(0, 0, 0, 0, &rx, &ry);
	g_assert_cmpfloat(rx, ==, 1.0);
	g_assert_cmpfloat(ry, ==, 1.0);
	/* 100 % on a 2x screen: a guest pixel per drawable pixel, half as many points */
	int ww, wh;
	connect_view_window_size(1024, 768, 100, 2.0, 2.0, 52, &ww, &wh);
	g_assert_cmpint(ww, ==, 512);
	g_assert_cmpint(wh, ==, 384 + 52);
	connect_view_window_size(1024, 768, 100, 1.0, 1.0, 52, &ww, &wh);
	g_assert_cmpint(ww, ==, 1024);
	g_assert_cmpint(wh, ==, 820);
	connect_view_window_size(1366, 768, 150, 1.25, 1.25, 0, &ww, &wh);
	g_assert_cmpint(ww, ==, 1640);   /* ceil(2049 / 1.25) */
	g_assert_cmpint(wh, ==, 922);    /* ceil(1152 / 1.25) */
	/* a window point on a 2x screen lands on the guest pixel drawn there */
	struct connect_view v = layout(1024, 768, (struct connect_rect){ 0, 60, 2048, 1536 }, CONNECT_ZOOM_FIT, 0);
	uint32_t sx, sy;
	g_assert_true(connect_view_to_surface(&v, 1024, 768, 2.0, 2.0, 100.5, 30.5, &sx, &sy));
	g_assert_cmpuint(sx, ==, 100);
	g_assert_cmpuint(sy, ==, 0);
}

static void test_to_surface(void)
{
	struct connect_view v = layout(1024, 768, (struct connect_rect){ 0, 30, 1600, 768 }, CONNECT_ZOOM_FIT, 0);
	uint32_t sx = 99, sy = 99;
	/* 1:1 with a left bar of 288 */
	g_assert_true(connect_view_to_surface(&v, 1024, 768, 1, 1, 288.5, 30.5, &sx, &sy));
	g_assert_cmpuint(sx, ==, 0);
	g_assert_cmpuint(sy, ==, 0);
	g_assert_true(connect_view_to_surface(&v, 1024, 768, 1, 1, 288 + 1023.5, 30 + 767.5, &sx, &sy));
	g_assert_cmpuint(sx, ==, 1023);
	g_assert_cmpuint(sy, ==, 767);
	/* in the bars: not on the picture, clamped to its edge */
	g_assert_false(connect_view_to_surface(&v, 1024, 768, 1, 1, 10, 400, &sx, &sy));
	g_assert_cmpuint(sx, ==, 0);
	g_assert_cmpuint(sy, ==, 370);
	g_assert_false(connect_view_to_surface(&v, 1024, 768, 1, 1, 1599, 2000, &sx, &sy));
	g_assert_cmpuint(sx, ==, 1023);
	g_assert_cmpuint(sy, ==, 767);
	/* scaled down to a half: every second guest pixel */
	v = layout(1024, 768, (struct connect_rect){ 0, 0, 512, 384 }, CONNECT_ZOOM_FIT, 0);
	g_assert_true(connect_view_to_surface(&v, 1024, 768, 1, 1, 511.5, 383.5, &sx, &sy));
	g_assert_cmpuint(sx, ==, 1023);
	g_assert_cmpuint(sy, ==, 767);
	g_assert_true(connect_view_to_surface(&v, 1024, 768, 1, 1, 100.5, 50.5, &sx, &sy));
	g_assert_cmpuint(sx, ==, 201);
	g_assert_cmpuint(sy, ==, 101);
	/* and back, for the cursor */
	struct connect_rect r = connect_view_from_surface(&v, 200, 100, 32, 32);
	assert_rect(r, 100, 50, 16, 16);
}

static void test_zoom_step(void)
{
	g_assert_cmpint(connect_view_zoom_step(100, 1), ==, 125);
	g_assert_cmpint(connect_view_zoom_step(100, -1), ==, 75);
	g_assert_cmpint(connect_view_zoom_step(110, 1), ==, 125);
	g_assert_cmpint(connect_view_zoom_step(110, -1), ==, 100);
	g_assert_cmpint(connect_view_zoom_step(CONNECT_ZOOM_MAX, 1), ==, CONNECT_ZOOM_MAX);
	g_assert_cmpint(connect_view_zoom_step(CONNECT_ZOOM_MIN, -1), ==, CONNECT_ZOOM_MIN);
	g_assert_cmpint(connect_view_zoom_step(3, -1), ==, CONNECT_ZOOM_MIN);
}

static void test_damage(void)
{
	struct connect_damage d;
	connect_damage_reset(&d, 1024, 768);
	g_assert_cmpuint(d.n, ==, 0);
	g_assert_true(connect_damage_add(&d, 10, 20, 30, 40));
	assert_rect(d.r[0], 10, 20, 30, 40);
	/* clipped at the surface's edges */
	g_assert_true(connect_damage_add(&d, 1000, 760, 100, 100));
	assert_rect(d.r[1], 1000, 760, 24, 8);
	/* outside, or empty: nothing */
	g_assert_false(connect_damage_add(&d, 1024, 0, 1, 1));
	g_assert_false(connect_damage_add(&d, 0, 768, 1, 1));
	g_assert_false(connect_damage_add(&d, 5, 5, 0, 4));
	g_assert_false(connect_damage_add(&d, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX));
	g_assert_cmpuint(d.n, ==, 2);
	/* huge sizes do not wrap */
	g_assert_true(connect_damage_add(&d, 1, 1, UINT32_MAX, UINT32_MAX));
	assert_rect(d.r[2], 1, 1, 1023, 767);
	/* full: everything becomes its bounding box */
	connect_damage_reset(&d, 1024, 768);
	for (uint32_t i = 0; i < CONNECT_DAMAGE_MAX; i++)
		connect_damage_add(&d, 10 * i, 5, 2, 2);
	g_assert_cmpuint(d.n, ==, CONNECT_DAMAGE_MAX);
	connect_damage_add(&d, 500, 600, 10, 10);
	g_assert_cmpuint(d.n, ==, 1);
	assert_rect(d.r[0], 0, 5, 510, 605);
	connect_damage_all(&d);
	g_assert_cmpuint(d.n, ==, 1);
	assert_rect(d.r[0], 0, 0, 1024, 768);
	/* no surface: nothing to damage */
	connect_damage_reset(&d, 0, 0);
	connect_damage_all(&d);
	g_assert_cmpuint(d.n, ==, 0);
	g_assert_false(connect_damage_add(&d, 0, 0, 1, 1));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/connect-view/fit", test_fit);
	g_test_add_func("/connect-view/fixed", test_fixed);
	g_test_add_func("/connect-view/bad", test_bad);
	g_test_add_func("/connect-view/hidpi", test_hidpi);
	g_test_add_func("/connect-view/to-surface", test_to_surface);
	g_test_add_func("/connect-view/zoom-step", test_zoom_step);
	g_test_add_func("/connect-view/damage", test_damage);
	return g_test_run();
}
