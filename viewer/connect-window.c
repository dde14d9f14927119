// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <SDL2/SDL_syswm.h>
#include <SDL2/SDL_ttf.h>
#include <glib.h>
#ifdef CONNECT_HAVE_X11
#include <X11/Xlib.h>
#endif

#include "connect-window.h"
#include "screenshot.h"

#define WINDOW_MARGIN 16                        /* points around the message */
#define WINDOW_DIM_ALPHA 170                    /* over a picture that has a message on it */

struct window_label {
	SDL_Texture *tex;
	const char *text;                       /* what tex shows (a static label) */
	bool enabled;
	int w, h;
};

struct connect_window {
	SDL_Window *win;
	SDL_Renderer *ren;
	TTF_Font *font, *mfont;
	char *font_path;
	double font_ratio;                      /* HiDPI factor the fonts were opened for */
	bool verbose;

	SDL_Texture *tex;                       /* the picture, surface-sized */
	uint32_t tw, th;
	const struct connect_surface *surf;
	struct connect_damage dmg;

	enum connect_zoom_mode zoom_mode;
	int zoom;
	bool fullscreen;
	double rx, ry;                          /* drawable pixels per point */
	int dw, dh;                             /* drawable size */
	struct connect_view view;
	bool have_view;
	bool dirty;

	struct connect_toolbar bar;
	struct window_label labels[CONNECT_ACTION_COUNT];
	char *message, *status;
	struct window_label message_tex, status_tex;

	SDL_Cursor *guest_cursor;
	bool guest_cursor_visible;
	bool over_picture;
};

#ifdef CONNECT_HAVE_X11
/*
 * Xlib's default handler ends the process on any protocol error. SDL 2.26
 * provokes one on some servers when the keyboard grab ends (an XInput2
 * passive ungrab of touches answered with BadWindow, seen under Xvfb):
 * nothing the viewer needs failed, so it is noted and the window goes on.
 */
static int window_x_error(Display *dpy, XErrorEvent *e)
{
	static unsigned reported;
	if (reported++ < 3)
		fprintf(stderr, "vireo-connect: X error %u (request %u.%u) ignored\n", e->error_code, e->request_code,
			e->minor_code);
	return 0;
}
#endif

static void window_guard_x(SDL_Window *win)
{
#ifdef CONNECT_HAVE_X11
	SDL_SysWMinfo info;
	SDL_VERSION(&info.version);
	if (SDL_GetWindowWMInfo(win, &info) && info.subsystem == SDL_SYSWM_X11)
		XSetErrorHandler(window_x_error);
#endif
}

static void label_clear(struct window_label *l)
{
	if (l->tex)
		SDL_DestroyTexture(l->tex);
	*l = (struct window_label){ 0 };
}

static int window_bar_points(const struct connect_window *w)
{
	return w->fullscreen ? 0 : CONNECT_TOOLBAR_HEIGHT;
}

static int window_status_points(const struct connect_window *w)
{
	return w->fullscreen ? 0 : CONNECT_STATUSBAR_HEIGHT;
}

/* Both bars: what the picture does not get of the window's height. */
static int window_chrome_points(const struct connect_window *w)
{
	return window_bar_points(w) + window_status_points(w);
}

static int window_open_fonts(struct connect_window *w, double ratio, char **why)
{
	TTF_Font *f = TTF_OpenFont(w->font_path, (int)lround(CONNECT_FONT_SIZE * ratio));
	TTF_Font *mf = f ? TTF_OpenFont(w->font_path, (int)lround(CONNECT_MESSAGE_FONT_SIZE * ratio)) : NULL;
	if (!f || !mf) {
		if (f)
			TTF_CloseFont(f);
		if (why)
			*why = g_strdup_printf("cannot open the font %s (Debian package %s, or --font FILE): %s",
					       w->font_path, CONNECT_FONT_PACKAGE, TTF_GetError());
		return -ENOENT;
	}
	if (w->font)
		TTF_CloseFont(w->font);
	if (w->mfont)
		TTF_CloseFont(w->mfont);
	TTF_SetFontWrappedAlign(mf, TTF_WRAPPED_ALIGN_CENTER);
	w->font = f;
	w->mfont = mf;
	w->font_ratio = ratio;
	for (size_t i = 0; i < CONNECT_ACTION_COUNT; i++)
		label_clear(&w->labels[i]);
	label_clear(&w->message_tex);
	label_clear(&w->status_tex);
	return 0;
}

int connect_window_new(const struct connect_window_config *cfg, struct connect_window **out, char **why)
{
	if (access(cfg->font, R_OK) < 0) {
		*why = g_strdup_printf("the font %s is missing: install the Debian package %s, or give --font FILE",
				       cfg->font, CONNECT_FONT_PACKAGE);
		return -ENOENT;
	}
	struct connect_window *w = g_new0(struct connect_window, 1);
	w->font_path = g_strdup(cfg->font);
	w->zoom_mode = cfg->zoom_mode;
	w->zoom = cfg->zoom;
	w->fullscreen = cfg->fullscreen;
	w->verbose = cfg->verbose;
	w->rx = w->ry = 1;
	connect_toolbar_init(&w->bar);
	Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI |
		       (cfg->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
	w->win = SDL_CreateWindow("Vireo", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, CONNECT_WINDOW_DEFAULT_W,
				  CONNECT_WINDOW_DEFAULT_H, flags);
	if (w->win)
		w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_PRESENTVSYNC);
	if (!w->ren && w->win)
		w->ren = SDL_CreateRenderer(w->win, -1, 0);
	if (!w->win || !w->ren) {
		*why = g_strdup_printf("cannot open a window: %s", SDL_GetError());
		connect_window_free(w);
		return -EIO;
	}
	SDL_SetWindowMinimumSize(w->win, 320, 200);
	window_guard_x(w->win);
	connect_window_relayout(w);
	if (window_open_fonts(w, w->ry, why) < 0) {
		connect_window_free(w);
		return -ENOENT;
	}
	connect_window_relayout(w);
	*out = w;
	return 0;
}

void connect_window_free(struct connect_window *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < CONNECT_ACTION_COUNT; i++)
		label_clear(&w->labels[i]);
	label_clear(&w->message_tex);
	label_clear(&w->status_tex);
	if (w->tex)
		SDL_DestroyTexture(w->tex);
	if (w->guest_cursor)
		SDL_FreeCursor(w->guest_cursor);
	if (w->font)
		TTF_CloseFont(w->font);
	if (w->mfont)
		TTF_CloseFont(w->mfont);
	if (w->ren)
		SDL_DestroyRenderer(w->ren);
	if (w->win)
		SDL_DestroyWindow(w->win);
	g_free(w->message);
	g_free(w->status);
	g_free(w->font_path);
	g_free(w);
}

SDL_Window *connect_window_sdl(struct connect_window *w)
{
	return w->win;
}

struct connect_toolbar *connect_window_toolbar(struct connect_window *w)
{
	return &w->bar;
}

void connect_window_invalidate(struct connect_window *w)
{
	w->dirty = true;
}

void connect_window_set_title(struct connect_window *w, const char *title)
{
	SDL_SetWindowTitle(w->win, title);
}

static void window_set_text(struct connect_window *w, char **slot, struct window_label *l, const char *text)
{
	if (g_strcmp0(*slot, text) == 0)
		return;
	g_free(*slot);
	*slot = g_strdup(text);
	label_clear(l);
	w->dirty = true;
}

void connect_window_set_message(struct connect_window *w, const char *text)
{
	window_set_text(w, &w->message, &w->message_tex, text);
}

void connect_window_set_status(struct connect_window *w, const char *text)
{
	window_set_text(w, &w->status, &w->status_tex, text);
}

static int window_measure(void *opaque, const char *text)
{
	struct connect_window *w = opaque;
	int tw = 0, th = 0;
	if (TTF_SizeUTF8(w->font, text, &tw, &th) < 0)
		return 0;
	return (int)ceil(tw / w->font_ratio);
}

static void window_print_view(struct connect_window *w)
{
	if (!w->verbose || !w->have_view)
		return;
	int ww, wh;
	SDL_GetWindowSize(w->win, &ww, &wh);
	printf("vireo-connect: view x=%d y=%d w=%d h=%d scale=%.3f window=%dx%d drawable=%dx%d\n", w->view.pic.x,
	       w->view.pic.y, w->view.pic.w, w->view.pic.h, w->view.scale, ww, wh, w->dw, w->dh);
	fflush(stdout);
}

void connect_window_relayout(struct connect_window *w)
{
	int ww, wh;
	SDL_GetWindowSize(w->win, &ww, &wh);
	if (SDL_GetRendererOutputSize(w->ren, &w->dw, &w->dh) < 0)
		SDL_GetWindowSize(w->win, &w->dw, &w->dh);
	connect_view_pixel_ratio(ww, wh, w->dw, w->dh, &w->rx, &w->ry);
	if (w->font && fabs(w->font_ratio - w->ry) > 0.01)
		window_open_fonts(w, w->ry, NULL);
	if (w->font) {
		int first_x = w->bar.n ? w->bar.b[w->bar.n - 1].r.x : -1;
		connect_toolbar_layout(&w->bar, CONNECT_TOOLBAR_HEIGHT, window_measure, w);
		if (w->verbose && w->bar.n && w->bar.b[w->bar.n - 1].r.x != first_x)
			for (size_t i = 0; i < w->bar.n; i++)
				printf("vireo-connect: button %s x=%d y=%d w=%d h=%d\n", connect_action_name(w->bar.b[i].action),
				       w->bar.b[i].r.x, w->bar.b[i].r.y, w->bar.b[i].r.w, w->bar.b[i].r.h);
	}
	int bar_px = (int)lround(window_bar_points(w) * w->ry);
	int status_px = (int)lround(window_status_points(w) * w->ry);
	struct connect_rect area = { 0, bar_px, w->dw, w->dh - bar_px - status_px };
	struct connect_view v;
	bool had = w->have_view;
	struct connect_view old = w->view;
	w->have_view = w->tw && connect_view_layout(w->tw, w->th, &area, w->zoom_mode, w->zoom, &v) == 0;
	if (w->have_view)
		w->view = v;
	if (w->have_view && (!had || memcmp(&old, &v, sizeof(v)) != 0))
		window_print_view(w);
	w->dirty = true;
}

/* The window fits the picture at the current zoom (fit: 100 % unless the
 * screen is too small, then as much as fits). */
static void window_fit_to_surface(struct connect_window *w)
{
	if (w->fullscreen || (SDL_GetWindowFlags(w->win) & SDL_WINDOW_MAXIMIZED) || !w->tw)
		return;
	int zoom = w->zoom_mode == CONNECT_ZOOM_FIXED ? w->zoom : 100;
	SDL_Rect usable;
	if (w->zoom_mode == CONNECT_ZOOM_FIT && SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(w->win), &usable) == 0) {
		int zw = (int)floor(usable.w * w->rx * 100.0 / w->tw);
		int zh = (int)floor((usable.h - window_chrome_points(w)) * w->ry * 100.0 / w->th);
		zoom = zoom < zw ? zoom : zw;
		zoom = zoom < zh ? zoom : zh;
		zoom = zoom < CONNECT_ZOOM_MIN ? CONNECT_ZOOM_MIN : zoom;
	}
	int ww, wh;
	connect_view_window_size(w->tw, w->th, zoom, w->rx, w->ry, window_chrome_points(w), &ww, &wh);
	SDL_SetWindowSize(w->win, ww, wh);
	connect_window_relayout(w);
}

void connect_window_set_surface(struct connect_window *w, const struct connect_surface *s)
{
	w->surf = s;
	if (!s) {
		if (w->tex)
			SDL_DestroyTexture(w->tex);
		w->tex = NULL;
		w->tw = w->th = 0;
		w->have_view = false;
		connect_damage_reset(&w->dmg, 0, 0);
		w->dirty = true;
		return;
	}
	bool resized = s->width != w->tw || s->height != w->th;
	if (resized || !w->tex) {
		if (w->tex)
			SDL_DestroyTexture(w->tex);
		/* RGB888 is XRGB8888: the worker's pixels as they are, X ignored. */
		w->tex = SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, (int)s->width,
					   (int)s->height);
		w->tw = w->tex ? s->width : 0;
		w->th = w->tex ? s->height : 0;
		if (w->tex)
			SDL_SetTextureBlendMode(w->tex, SDL_BLENDMODE_NONE);
	}
	connect_damage_reset(&w->dmg, w->tw, w->th);
	connect_damage_all(&w->dmg);
	if (resized)
		window_fit_to_surface(w);
	connect_window_relayout(w);
}

void connect_window_damage(struct connect_window *w, const struct console_rect *rects, size_t n)
{
	for (size_t i = 0; i < n; i++)
		connect_damage_add(&w->dmg, rects[i].x, rects[i].y, rects[i].w, rects[i].h);
	w->dirty = true;
}

static void window_apply_cursor(struct connect_window *w)
{
	if (w->over_picture && w->tex) {
		if (w->guest_cursor && w->guest_cursor_visible) {
			SDL_SetCursor(w->guest_cursor);
			SDL_ShowCursor(SDL_ENABLE);
		} else {
			/* The guest draws its pointer itself (or has none): ours would be a second one. */
			SDL_ShowCursor(SDL_DISABLE);
		}
	} else {
		SDL_SetCursor(SDL_GetDefaultCursor());
		SDL_ShowCursor(SDL_ENABLE);
	}
}

void connect_window_set_cursor(struct connect_window *w, const struct connect_cursor *c)
{
	if (c->shape_changed && c->w && c->h) {
		SDL_Surface *img = SDL_CreateRGBSurfaceWithFormatFrom((void *)c->argb, (int)c->w, (int)c->h, 32,
								      (int)c->w * 4, SDL_PIXELFORMAT_ARGB8888);
		SDL_Cursor *cur = img ? SDL_CreateColorCursor(img, (int)c->hot_x, (int)c->hot_y) : NULL;
		if (img)
			SDL_FreeSurface(img);
		if (cur) {
			if (w->guest_cursor)
				SDL_FreeCursor(w->guest_cursor);
			w->guest_cursor = cur;
		}
	}
	w->guest_cursor_visible = c->visible;
	window_apply_cursor(w);
}

void connect_window_pointer_over(struct connect_window *w, bool over_picture)
{
	if (over_picture == w->over_picture)
		return;
	w->over_picture = over_picture;
	window_apply_cursor(w);
}

static SDL_Texture *window_text(struct connect_window *w, TTF_Font *font, const char *text, SDL_Color c, int wrap,
				int *tw, int *th)
{
	SDL_Surface *s = wrap ? TTF_RenderUTF8_Blended_Wrapped(font, text, c, (Uint32)wrap)
			      : TTF_RenderUTF8_Blended(font, text, c);
	if (!s)
		return NULL;
	SDL_Texture *t = SDL_CreateTextureFromSurface(w->ren, s);
	*tw = s->w;
	*th = s->h;
	SDL_FreeSurface(s);
	return t;
}

static SDL_Rect window_px(const struct connect_window *w, const struct connect_rect *r)
{
	return (SDL_Rect){ (int)lround(r->x * w->rx), (int)lround(r->y * w->ry), (int)lround(r->w * w->rx),
			   (int)lround(r->h * w->ry) };
}

static void window_draw_toolbar(struct connect_window *w)
{
	int bar_px = (int)lround(CONNECT_TOOLBAR_HEIGHT * w->ry);
	SDL_SetRenderDrawColor(w->ren, 0x2b, 0x2f, 0x36, 0xff);
	SDL_RenderFillRect(w->ren, &(SDL_Rect){ 0, 0, w->dw, bar_px });
	for (size_t i = 0; i < w->bar.n; i++) {
		const struct connect_button *b = &w->bar.b[i];
		struct window_label *l = &w->labels[b->action];
		if (!l->tex || l->text != b->label || l->enabled != b->enabled) {
			label_clear(l);
			SDL_Color c = b->enabled ? (SDL_Color){ 0xf0, 0xf0, 0xf0, 0xff } : (SDL_Color){ 0x80, 0x84, 0x8a, 0xff };
			l->tex = window_text(w, w->font, b->label, c, 0, &l->w, &l->h);
			l->text = b->label;
			l->enabled = b->enabled;
		}
		SDL_Rect r = window_px(w, &b->r);
		SDL_SetRenderDrawColor(w->ren, b->enabled ? 0x45 : 0x36, b->enabled ? 0x4b : 0x3a, b->enabled ? 0x55 : 0x40,
				       0xff);
		SDL_RenderFillRect(w->ren, &r);
		if (l->tex)
			SDL_RenderCopy(w->ren, l->tex, NULL,
				       &(SDL_Rect){ r.x + (r.w - l->w) / 2, r.y + (r.h - l->h) / 2, l->w, l->h });
	}
}

static void window_draw_statusbar(struct connect_window *w)
{
	int h = (int)lround(CONNECT_STATUSBAR_HEIGHT * w->ry);
	SDL_SetRenderDrawColor(w->ren, 0x2b, 0x2f, 0x36, 0xff);
	SDL_RenderFillRect(w->ren, &(SDL_Rect){ 0, w->dh - h, w->dw, h });
	if (!w->status || !*w->status)
		return;
	struct window_label *l = &w->status_tex;
	if (!l->tex)
		l->tex = window_text(w, w->font, w->status, (SDL_Color){ 0xc8, 0xd0, 0xda, 0xff }, 0, &l->w, &l->h);
	if (l->tex)
		SDL_RenderCopy(w->ren, l->tex, NULL,
			       &(SDL_Rect){ (int)lround(CONNECT_TOOLBAR_GAP * 2 * w->rx), w->dh - h + (h - l->h) / 2, l->w, l->h });
}

static void window_draw_message(struct connect_window *w)
{
	int bar_px = (int)lround(window_bar_points(w) * w->ry);
	int status_px = (int)lround(window_status_points(w) * w->ry);
	struct window_label *l = &w->message_tex;
	int wrap = w->dw - (int)lround(2 * WINDOW_MARGIN * w->rx);
	if (!l->tex)
		l->tex = window_text(w, w->mfont, w->message, (SDL_Color){ 0xff, 0xff, 0xff, 0xff }, wrap > 50 ? wrap : 50,
				     &l->w, &l->h);
	if (w->tex && w->have_view) {
		SDL_SetRenderDrawBlendMode(w->ren, SDL_BLENDMODE_BLEND);
		SDL_SetRenderDrawColor(w->ren, 0, 0, 0, WINDOW_DIM_ALPHA);
		SDL_RenderFillRect(w->ren, &(SDL_Rect){ w->view.pic.x, w->view.pic.y, w->view.pic.w, w->view.pic.h });
		SDL_SetRenderDrawBlendMode(w->ren, SDL_BLENDMODE_NONE);
	}
	if (l->tex)
		SDL_RenderCopy(w->ren, l->tex, NULL,
			       &(SDL_Rect){ (w->dw - l->w) / 2, bar_px + (w->dh - bar_px - status_px - l->h) / 2, l->w, l->h });
}

static void window_upload(struct connect_window *w)
{
	if (!w->tex || !w->surf)
		return;
	for (size_t i = 0; i < w->dmg.n; i++) {
		const struct connect_rect *r = &w->dmg.r[i];
		const uint8_t *p = w->surf->pixels + (size_t)r->y * w->surf->stride + (size_t)r->x * 4;
		SDL_UpdateTexture(w->tex, &(SDL_Rect){ r->x, r->y, r->w, r->h }, p, (int)w->surf->stride);
	}
	w->dmg.n = 0;
}

bool connect_window_render(struct connect_window *w)
{
	int dw, dh;
	if (SDL_GetRendererOutputSize(w->ren, &dw, &dh) == 0 && (dw != w->dw || dh != w->dh))
		connect_window_relayout(w);
	if (!w->dirty && w->dmg.n == 0)
		return false;
	window_upload(w);
	SDL_SetRenderDrawColor(w->ren, 0x10, 0x12, 0x16, 0xff);
	SDL_RenderClear(w->ren);
	if (w->tex && w->have_view) {
		/* Sharp at whole factors, smooth in between. */
		double f = w->view.scale;
		SDL_SetTextureScaleMode(w->tex, fabs(f - lround(f)) < 1e-6 ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
		SDL_Rect dst = { w->view.pic.x, w->view.pic.y, w->view.pic.w, w->view.pic.h };
		SDL_RenderCopy(w->ren, w->tex, NULL, &dst);
	}
	if (w->message && *w->message)
		window_draw_message(w);
	if (!w->fullscreen) {
		window_draw_toolbar(w);
		window_draw_statusbar(w);
	}
	SDL_RenderPresent(w->ren);
	w->dirty = false;
	return true;
}

void connect_window_set_zoom(struct connect_window *w, enum connect_zoom_mode mode, int zoom)
{
	w->zoom_mode = mode;
	if (zoom >= CONNECT_ZOOM_MIN && zoom <= CONNECT_ZOOM_MAX)
		w->zoom = zoom;
	if (mode == CONNECT_ZOOM_FIXED)
		window_fit_to_surface(w);
	connect_window_relayout(w);
}

void connect_window_zoom_step(struct connect_window *w, int dir)
{
	/* From fit, step from the scale it shows now. */
	int from = w->zoom_mode == CONNECT_ZOOM_FIT && w->have_view ? (int)lround(w->view.scale * 100) : w->zoom;
	connect_window_set_zoom(w, CONNECT_ZOOM_FIXED, connect_view_zoom_step(from, dir));
}

void connect_window_toggle_fullscreen(struct connect_window *w)
{
	w->fullscreen = !w->fullscreen;
	SDL_SetWindowFullscreen(w->win, w->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
	connect_window_relayout(w);
	if (!w->fullscreen)
		window_fit_to_surface(w);
}

enum connect_action connect_window_toolbar_hit(struct connect_window *w, int x, int y)
{
	if (w->fullscreen)
		return CONNECT_ACTION_NONE;
	return connect_toolbar_hit(&w->bar, x, y);
}

bool connect_window_to_surface(struct connect_window *w, int x, int y, uint32_t *sx, uint32_t *sy)
{
	if (!w->tex || !w->have_view)
		return false;
	bool on = connect_view_to_surface(&w->view, w->tw, w->th, w->rx, w->ry, x + 0.5, y + 0.5, sx, sy);
	int ww, wh;
	SDL_GetWindowSize(w->win, &ww, &wh);
	return on && (w->fullscreen || (y >= CONNECT_TOOLBAR_HEIGHT && y < wh - CONNECT_STATUSBAR_HEIGHT));
}

int connect_window_screenshot(struct connect_window *w, const char *path)
{
	if (!w->surf)
		return -ENODATA;
	struct display_surface s = { .memfd = -1, .width = w->surf->width, .height = w->surf->height,
				     .stride = w->surf->stride, .format = DISPLAY_FORMAT_XRGB8888,
				     .pixels = w->surf->pixels };
	return screenshot_write_png(&s, path);
}
