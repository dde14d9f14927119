// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsp/display.h"

struct display_map {
	struct display_surface s;
	void *base;                  /* mmap of the fd from the page below s.offset */
	size_t len;
};

struct display_sink {
	const struct display_sink_ops *ops;
	void *opaque;
};

struct display {
	GMainContext *ctx;
	GArray *sinks;               /* consumer context */
	struct display_map cur;      /* consumer context: what the sinks see */
	uint64_t serial;

	pthread_mutex_t lock;        /* what the producer hands over */
	GSource *flush;              /* scheduled, not run yet */
	bool surface_changed;
	struct display_map next;     /* the surface to switch to (fd -1: none) */
	struct display_rect damage[DISPLAY_DAMAGE_RECTS];
	size_t ndamage;
	bool cursor_changed;
	bool cursor_visible;
	int32_t cursor_x, cursor_y;
	GBytes *cursor_shape;        /* new image (w, h, hot_x, hot_y as a header), or NULL */
	uint32_t width, height;      /* of the latest surface, for display_get_size */
};

static void display_map_clear(struct display_map *m)
{
	if (m->base)
		munmap(m->base, m->len);
	if (m->s.memfd >= 0)
		close(m->s.memfd);
	*m = (struct display_map){ .s.memfd = -1 };
}

static bool display_rect_touch(const struct display_rect *a, const struct display_rect *b)
{
	return a->x <= b->x + b->w && b->x <= a->x + a->w && a->y <= b->y + b->h && b->y <= a->y + a->h;
}

static void display_rect_union(struct display_rect *a, const struct display_rect *b)
{
	uint32_t x2 = MAX(a->x + a->w, b->x + b->w), y2 = MAX(a->y + a->h, b->y + b->h);
	a->x = MIN(a->x, b->x);
	a->y = MIN(a->y, b->y);
	a->w = x2 - a->x;
	a->h = y2 - a->y;
}

void display_rect_add(struct display_rect *list, size_t *n, size_t max, const struct display_rect *r)
{
	if (r->w == 0 || r->h == 0 || max == 0)
		return;
	struct display_rect acc = *r;
	/* Take in every rectangle the growing one touches, until none does. */
	for (bool merged = true; merged;) {
		merged = false;
		for (size_t i = 0; i < *n; i++) {
			if (!display_rect_touch(&acc, &list[i]))
				continue;
			display_rect_union(&acc, &list[i]);
			list[i] = list[--*n];
			merged = true;
			break;
		}
	}
	if (*n < max) {
		list[(*n)++] = acc;
		return;
	}
	for (size_t i = 0; i < *n; i++)
		display_rect_union(&acc, &list[i]);
	list[0] = acc;
	*n = 1;
}

bool display_rect_clip(struct display_rect *r, uint32_t w, uint32_t h)
{
	if (r->x >= w || r->y >= h || r->w == 0 || r->h == 0)
		return false;
	r->w = MIN(r->w, w - r->x);
	r->h = MIN(r->h, h - r->y);
	return true;
}

struct display *display_new(GMainContext *ctx)
{
	struct display *d = g_new0(struct display, 1);
	d->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
	d->sinks = g_array_new(FALSE, FALSE, sizeof(struct display_sink));
	d->cur.s.memfd = -1;
	d->next.s.memfd = -1;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

void display_free(struct display *d)
{
	if (!d)
		return;
	if (d->flush) {
		g_source_destroy(d->flush);
		g_source_unref(d->flush);
	}
	display_map_clear(&d->cur);
	display_map_clear(&d->next);
	g_clear_pointer(&d->cursor_shape, g_bytes_unref);
	g_array_unref(d->sinks);
	pthread_mutex_destroy(&d->lock);
	g_main_context_unref(d->ctx);
	g_free(d);
}

static const struct display_surface *display_current(struct display *d)
{
	return d->cur.s.memfd >= 0 ? &d->cur.s : NULL;
}

static gboolean display_on_flush(gpointer data)
{
	struct display *d = data;
	struct display_rect rects[DISPLAY_DAMAGE_RECTS];
	pthread_mutex_lock(&d->lock);
	g_clear_pointer(&d->flush, g_source_unref);
	bool new_surface = d->surface_changed;
	if (new_surface) {
		display_map_clear(&d->cur);
		d->cur = d->next;
		d->next = (struct display_map){ .s.memfd = -1 };
		d->surface_changed = false;
		if (d->cur.s.memfd >= 0)
			d->cur.s.serial = ++d->serial;
	}
	size_t n = d->ndamage;
	memcpy(rects, d->damage, n * sizeof(rects[0]));
	d->ndamage = 0;
	bool cursor = d->cursor_changed;
	bool visible = d->cursor_visible;
	int32_t cx = d->cursor_x, cy = d->cursor_y;
	GBytes *shape = g_steal_pointer(&d->cursor_shape);
	d->cursor_changed = false;
	pthread_mutex_unlock(&d->lock);

	const struct display_surface *s = display_current(d);
	struct display_cursor cur_shape = { 0 };
	if (shape) {
		gsize len;
		const uint32_t *hdr = g_bytes_get_data(shape, &len);
		cur_shape = (struct display_cursor){ hdr[0], hdr[1], hdr[2], hdr[3], (const uint8_t *)(hdr + 4) };
	}
	/* A sink may remove itself from inside its callback: walk a copy. */
	g_autoptr(GArray) sinks = g_array_copy(d->sinks);
	for (guint i = 0; i < sinks->len; i++) {
		struct display_sink *k = &g_array_index(sinks, struct display_sink, i);
		if (new_surface && k->ops->surface)
			k->ops->surface(k->opaque, s);
		if (s && n && k->ops->damage)
			k->ops->damage(k->opaque, rects, n);
		if (cursor && k->ops->cursor)
			k->ops->cursor(k->opaque, visible, cx, cy, shape ? &cur_shape : NULL);
	}
	if (shape)
		g_bytes_unref(shape);
	return G_SOURCE_REMOVE;
}

/* Under lock. */
static void display_schedule(struct display *d)
{
	if (d->flush)
		return;
	d->flush = g_idle_source_new();
	g_source_set_priority(d->flush, G_PRIORITY_DEFAULT);
	g_source_set_callback(d->flush, display_on_flush, d, NULL);
	g_source_attach(d->flush, d->ctx);
}

void display_add_sink(struct display *d, const struct display_sink_ops *ops, void *opaque)
{
	struct display_sink k = { ops, opaque };
	g_array_append_val(d->sinks, k);
	const struct display_surface *s = display_current(d);
	if (s && ops->surface)
		ops->surface(opaque, s);
}

void display_remove_sink(struct display *d, const struct display_sink_ops *ops, void *opaque)
{
	for (guint i = 0; i < d->sinks->len; i++) {
		struct display_sink *k = &g_array_index(d->sinks, struct display_sink, i);
		if (k->ops == ops && k->opaque == opaque) {
			g_array_remove_index(d->sinks, i);
			return;
		}
	}
}

static int display_map_new(const struct display_surface *s, struct display_map *out)
{
	if (s->width == 0 || s->height == 0 || s->width > DISPLAY_MAX_SIDE || s->height > DISPLAY_MAX_SIDE ||
	    s->stride < s->width * 4u || s->format != DISPLAY_FORMAT_XRGB8888 || s->memfd < 0)
		return -EINVAL;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = s->offset & ~(uint64_t)(page - 1);
	size_t len = (size_t)(s->offset - start) + (size_t)s->stride * s->height;
	int fd = fcntl(s->memfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)start);
	if (base == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	*out = (struct display_map){ .s = *s, .base = base, .len = len };
	out->s.memfd = fd;
	out->s.pixels = (const uint8_t *)base + (s->offset - start);
	return 0;
}

int display_set_surface(struct display *d, const struct display_surface *s)
{
	struct display_map m = { .s.memfd = -1 };
	if (s) {
		int r = display_map_new(s, &m);
		if (r < 0)
			return r;
	}
	pthread_mutex_lock(&d->lock);
	display_map_clear(&d->next);
	d->next = m;
	d->surface_changed = true;
	d->width = s ? s->width : 0;
	d->height = s ? s->height : 0;
	d->ndamage = 0;
	if (s) {
		struct display_rect all = { 0, 0, s->width, s->height };
		display_rect_add(d->damage, &d->ndamage, DISPLAY_DAMAGE_RECTS, &all);
	}
	display_schedule(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void display_damage(struct display *d, const struct display_rect *rects, size_t n)
{
	pthread_mutex_lock(&d->lock);
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		struct display_rect r = rects[i];
		if (!display_rect_clip(&r, d->width, d->height))
			continue;
		display_rect_add(d->damage, &d->ndamage, DISPLAY_DAMAGE_RECTS, &r);
		any = true;
	}
	if (any)
		display_schedule(d);
	pthread_mutex_unlock(&d->lock);
}

void display_set_cursor(struct display *d, bool visible, int32_t x, int32_t y,
			const struct display_cursor *shape)
{
	GBytes *b = NULL;
	if (shape && shape->w && shape->h && shape->w <= 256 && shape->h <= 256 && shape->argb) {
		size_t px = (size_t)shape->w * shape->h * 4;
		uint32_t *buf = g_malloc(16 + px);
		buf[0] = shape->w;
		buf[1] = shape->h;
		buf[2] = MIN(shape->hot_x, shape->w - 1);
		buf[3] = MIN(shape->hot_y, shape->h - 1);
		memcpy(buf + 4, shape->argb, px);
		b = g_bytes_new_take(buf, 16 + px);
	}
	pthread_mutex_lock(&d->lock);
	d->cursor_changed = true;
	d->cursor_visible = visible;
	d->cursor_x = x;
	d->cursor_y = y;
	if (b) {
		g_clear_pointer(&d->cursor_shape, g_bytes_unref);
		d->cursor_shape = b;
	}
	display_schedule(d);
	pthread_mutex_unlock(&d->lock);
}

bool display_get_size(struct display *d, uint32_t *width, uint32_t *height)
{
	pthread_mutex_lock(&d->lock);
	bool have = d->width != 0;
	if (have) {
		*width = d->width;
		*height = d->height;
	}
	pthread_mutex_unlock(&d->lock);
	return have;
}
