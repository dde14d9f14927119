/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the guest's picture goes in the window, and back: pure arithmetic,
 * no SDL. Two kinds of coordinates meet here: the window's (what mouse
 * events report, in points) and the drawable's (the renderer's pixels; on
 * a HiDPI screen there are more of them than points). A guest pixel at
 * zoom 100 % is one drawable pixel, so the picture stays sharp.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONNECT_ZOOM_MIN 25        /* percent */
#define CONNECT_ZOOM_MAX 400
#define CONNECT_ZOOM_STEP 25
#define CONNECT_DAMAGE_MAX 16      /* pending rectangles before they become their bounding box */

enum connect_zoom_mode {
	CONNECT_ZOOM_FIT,          /* as large as the area allows, aspect kept */
	CONNECT_ZOOM_FIXED,        /* zoom percent of the guest's size */
};

struct connect_rect {
	int x, y, w, h;
};

/* The picture in the drawable: rect (letterboxed, centred when it is
 * smaller than the area; at the area's origin when larger, which then
 * shows its top-left part) and the drawable pixels per guest pixel. */
struct connect_view {
	struct connect_rect pic;
	double scale;
};

/*
 * The picture of a sw x sh surface in the area (drawable pixels). 0 and
 * *v; -EINVAL for an empty surface or area, or a zoom outside
 * CONNECT_ZOOM_MIN..CONNECT_ZOOM_MAX in CONNECT_ZOOM_FIXED.
 */
int connect_view_layout(uint32_t sw, uint32_t sh, const struct connect_rect *area, enum connect_zoom_mode mode,
			int zoom, struct connect_view *v);

/* Drawable pixels per window point on each axis (1 without HiDPI). */
void connect_view_pixel_ratio(int window_w, int window_h, int drawable_w, int drawable_h, double *rx, double *ry);

/*
 * A window point as a guest pixel: true and *sx, *sy when it lies on the
 * picture; false otherwise (*sx, *sy then hold the nearest pixel, for a
 * drag that leaves the picture).
 */
bool connect_view_to_surface(const struct connect_view *v, uint32_t sw, uint32_t sh, double rx, double ry,
			     double wx, double wy, uint32_t *sx, uint32_t *sy);

/* A guest rectangle in the drawable (for the cursor). */
struct connect_rect connect_view_from_surface(const struct connect_view *v, int32_t x, int32_t y, uint32_t w,
					      uint32_t h);

/* The window size (points) that shows a sw x sh surface at zoom percent
 * with bar_h points of toolbar above it. */
void connect_view_window_size(uint32_t sw, uint32_t sh, int zoom, double rx, double ry, int bar_h, int *ww, int *wh);

/* The next zoom step in or out (dir > 0: in) from zoom. */
int connect_view_zoom_step(int zoom, int dir);

/* What still has to be uploaded to the texture: rectangles of a w x h
 * surface, at most CONNECT_DAMAGE_MAX, else their bounding box. */
struct connect_damage {
	struct connect_rect r[CONNECT_DAMAGE_MAX];
	size_t n;
	uint32_t w, h;
};

void connect_damage_reset(struct connect_damage *d, uint32_t w, uint32_t h);
/* Clips r to the surface; false when nothing of it is on the surface. */
bool connect_damage_add(struct connect_damage *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
/* All of the surface. */
void connect_damage_all(struct connect_damage *d);
