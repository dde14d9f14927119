// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <math.h>

#include "connect-view.h"

int connect_view_layout(uint32_t sw, uint32_t sh, const struct connect_rect *area, enum connect_zoom_mode mode,
			int zoom, struct connect_view *v)
{
	if (sw == 0 || sh == 0 || area->w <= 0 || area->h <= 0)
		return -EINVAL;
	double scale;
	if (mode == CONNECT_ZOOM_FIT) {
		double sx = (double)area->w / sw, sy = (double)area->h / sh;
		scale = sx < sy ? sx : sy;
	} else {
		if (zoom < CONNECT_ZOOM_MIN || zoom > CONNECT_ZOOM_MAX)
			return -EINVAL;
		scale = zoom / 100.0;
	}
	/* The side that decided the scale fills the area exactly; the other is
	 * rounded, never beyond the area in fit mode. */
	int w = (int)lround(sw * scale), h = (int)lround(sh * scale);
	if (mode == CONNECT_ZOOM_FIT) {
		w = w > area->w ? area->w : w;
		h = h > area->h ? area->h : h;
	}
	w = w < 1 ? 1 : w;
	h = h < 1 ? 1 : h;
	struct connect_view out = { .scale = scale };
	out.pic.w = w;
	out.pic.h = h;
	out.pic.x = area->x + (w < area->w ? (area->w - w) / 2 : 0);
	out.pic.y = area->y + (h < area->h ? (area->h - h) / 2 : 0);
	*v = out;
	return 0;
}

void connect_view_pixel_ratio(int window_w, int window_h, int drawable_w, int drawable_h, double *rx, double *ry)
{
	*rx = window_w > 0 && drawable_w > 0 ? (double)drawable_w / window_w : 1.0;
	*ry = window_h > 0 && drawable_h > 0 ? (double)drawable_h / window_h : 1.0;
}

static uint32_t connect_view_axis(double d, int origin, int extent, uint32_t size, bool *inside)
{
	double rel = d - origin;
	if (rel < 0 || rel >= extent)
		*inside = false;
	/* Map the picture's extent onto the guest's pixels, so that the last
	 * drawable pixel is the last guest pixel whatever the rounding. */
	double p = floor(rel * size / extent);
	if (p < 0)
		return 0;
	if (p > size - 1)
		return size - 1;
	return (uint32_t)p;
}

bool connect_view_to_surface(const struct connect_view *v, uint32_t sw, uint32_t sh, double rx, double ry,
			     double wx, double wy, uint32_t *sx, uint32_t *sy)
{
	bool inside = true;
	*sx = connect_view_axis(wx * rx, v->pic.x, v->pic.w, sw, &inside);
	*sy = connect_view_axis(wy * ry, v->pic.y, v->pic.h, sh, &inside);
	return inside;
}

struct connect_rect connect_view_from_surface(const struct connect_view *v, int32_t x, int32_t y, uint32_t w,
					      uint32_t h)
{
	struct connect_rect r;
	r.x = v->pic.x + (int)lround(x * v->scale);
	r.y = v->pic.y + (int)lround(y * v->scale);
	r.w = (int)lround(w * v->scale);
	r.h = (int)lround(h * v->scale);
	r.w = r.w < 1 ? 1 : r.w;
	r.h = r.h < 1 ? 1 : r.h;
	return r;
}

void connect_view_window_size(uint32_t sw, uint32_t sh, int zoom, double rx, double ry, int bar_h, int *ww, int *wh)
{
	*ww = (int)ceil(sw * (zoom / 100.0) / rx);
	*wh = (int)ceil(sh * (zoom / 100.0) / ry) + bar_h;
}

int connect_view_zoom_step(int zoom, int dir)
{
	int z;
	if (dir > 0)
		z = (zoom / CONNECT_ZOOM_STEP + 1) * CONNECT_ZOOM_STEP;
	else
		z = ((zoom + CONNECT_ZOOM_STEP - 1) / CONNECT_ZOOM_STEP - 1) * CONNECT_ZOOM_STEP;
	if (z < CONNECT_ZOOM_MIN)
		return CONNECT_ZOOM_MIN;
	if (z > CONNECT_ZOOM_MAX)
		return CONNECT_ZOOM_MAX;
	return z;
}

void connect_damage_reset(struct connect_damage *d, uint32_t w, uint32_t h)
{
	d->n = 0;
	d->w = w;
	d->h = h;
}

static struct connect_rect connect_rect_union(const struct connect_rect *a, const struct connect_rect *b)
{
	int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
	return (struct connect_rect){ x0, y0, x1 - x0, y1 - y0 };
}

bool connect_damage_add(struct connect_damage *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	if (x >= d->w || y >= d->h || w == 0 || h == 0)
		return false;
	struct connect_rect r = { (int)x, (int)y, (int)(w < d->w - x ? w : d->w - x), (int)(h < d->h - y ? h : d->h - y) };
	if (d->n < CONNECT_DAMAGE_MAX) {
		d->r[d->n++] = r;
		return true;
	}
	/* Full: one upload of the bounding box costs less than many small ones. */
	for (size_t i = 1; i < d->n; i++)
		d->r[0] = connect_rect_union(&d->r[0], &d->r[i]);
	d->r[0] = connect_rect_union(&d->r[0], &r);
	d->n = 1;
	return true;
}

void connect_damage_all(struct connect_damage *d)
{
	d->n = 0;
	if (d->w && d->h)
		connect_damage_add(d, 0, 0, d->w, d->h);
}
