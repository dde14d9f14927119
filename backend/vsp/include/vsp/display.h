/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's screen: one producer (the synthetic video device, on the VSP bus
 * thread) and any number of sinks (the console socket, the VNC export,
 * screenshots), which all run on one consumer GMainContext, the worker's.
 * The display outlives the machine: a reboot builds a new video device that
 * feeds the same display, and viewers stay connected.
 *
 * The producer never waits for a sink. Damage is collected under a lock and
 * handed to the sinks once per main-loop turn, merged: a slow consumer sees
 * fewer, larger rectangles, never a stalled guest. The pixels themselves are
 * shared, not copied: a surface is a memfd that sinks map (or pass on to
 * other processes) and read when told a rectangle changed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* 32 bits a pixel, little-endian B, G, R, X in memory (DRM_FORMAT_XRGB8888,
 * the layout hyperv_fb draws at depth 32). */
#define DISPLAY_FORMAT_XRGB8888 0x34325258u   /* fourcc "XR24" */
/* Damage rectangles handed over per turn before they merge into their
 * bounding box. */
#define DISPLAY_DAMAGE_RECTS 16u
/* Largest surface side a producer may set. */
#define DISPLAY_MAX_SIDE 8192u

struct display_rect {
	uint32_t x, y, w, h;
};

struct display_surface {
	int memfd;                   /* the pixels: offset + stride * height bytes at least */
	uint64_t offset;
	uint32_t width, height;
	uint32_t stride;             /* bytes from one row to the next */
	uint32_t format;             /* DISPLAY_FORMAT_* */
	const uint8_t *pixels;       /* for sinks: the first pixel, mapped read-only */
	uint64_t serial;             /* for sinks: a new surface gets a new number */
};

/* A cursor image: ARGB8888 (premultiplied not assumed), w * h * 4 bytes. */
struct display_cursor {
	uint32_t w, h, hot_x, hot_y;
	const uint8_t *argb;
};

struct display_sink_ops {
	/* A new surface (also the first, when the sink is added while there is
	 * one), or NULL: the guest shows nothing (no video driver yet, or the
	 * machine is gone). Every later damage refers to this surface. The
	 * surface, its fd and pixels stay valid until the next surface call. */
	void (*surface)(void *opaque, const struct display_surface *s);
	/* Rectangles of the current surface that changed, clipped to it. */
	void (*damage)(void *opaque, const struct display_rect *rects, size_t n);
	/* The guest's pointer: position in surface pixels, and its image when
	 * it changed (NULL: unchanged). May be NULL. */
	void (*cursor)(void *opaque, bool visible, int32_t x, int32_t y, const struct display_cursor *shape);
};

struct display;

/* ctx: where the sinks run (NULL: the thread-default context of the caller). */
struct display *display_new(GMainContext *ctx);
void display_free(struct display *d);

/* Consumer context. The sink hears about the current surface at once. */
void display_add_sink(struct display *d, const struct display_sink_ops *ops, void *opaque);
void display_remove_sink(struct display *d, const struct display_sink_ops *ops, void *opaque);

/*
 * Producer, any thread. The display dups s->memfd and maps the pixels, so
 * the caller may close its fd whenever it likes. s == NULL: no picture.
 * -EINVAL for a size of 0 or above DISPLAY_MAX_SIDE, a stride below
 * width * 4, or an unknown format; -errno when the memfd cannot be mapped.
 * A new surface counts as damaged all over.
 */
int display_set_surface(struct display *d, const struct display_surface *s);
/* Producer, any thread: rectangles of the current surface changed (clipped
 * to it; empty ones ignored). */
void display_damage(struct display *d, const struct display_rect *rects, size_t n);
void display_set_cursor(struct display *d, bool visible, int32_t x, int32_t y,
			const struct display_cursor *shape);

/* Any thread: the current size, false when there is no surface. */
bool display_get_size(struct display *d, uint32_t *width, uint32_t *height);

/* Merge r into the list (n of at most max): overlapping or touching
 * rectangles join, and when the list is full everything becomes its
 * bounding box. Exposed for the sinks that coalesce per client. */
void display_rect_add(struct display_rect *list, size_t *n, size_t max, const struct display_rect *r);
/* Clip r to w x h: false when nothing is left. */
bool display_rect_clip(struct display_rect *r, uint32_t w, uint32_t h);
