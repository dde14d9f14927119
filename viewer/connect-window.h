/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SDL window: the guest's picture in a texture of the surface's size,
 * updated only where the worker reported damage; the toolbar; a message
 * over the picture; the guest's cursor shape as the host cursor over the
 * picture (so there is one cursor, never two). HiDPI aware: layout in
 * drawable pixels, input in window points (connect-view.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <SDL2/SDL.h>

#include "connect-session.h"
#include "connect-toolbar.h"
#include "connect-view.h"

#define CONNECT_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define CONNECT_FONT_PACKAGE "fonts-dejavu-core"
#define CONNECT_TOOLBAR_HEIGHT 30   /* points */
#define CONNECT_STATUSBAR_HEIGHT 22 /* points, below the picture */
#define CONNECT_FONT_SIZE 13        /* points, toolbar */
#define CONNECT_MESSAGE_FONT_SIZE 18
#define CONNECT_WINDOW_DEFAULT_W 800
#define CONNECT_WINDOW_DEFAULT_H 600

struct connect_window;

struct connect_window_config {
	const char *font;            /* a TrueType file */
	bool fullscreen;
	enum connect_zoom_mode zoom_mode;
	int zoom;                    /* percent, for CONNECT_ZOOM_FIXED */
	bool verbose;                /* layout changes on stdout */
};

/* 0 and *out, or -errno with a message for a person in *why. */
int connect_window_new(const struct connect_window_config *cfg, struct connect_window **out, char **why);
void connect_window_free(struct connect_window *w);

SDL_Window *connect_window_sdl(struct connect_window *w);
struct connect_toolbar *connect_window_toolbar(struct connect_window *w);

void connect_window_set_title(struct connect_window *w, const char *title);
/* Over the picture (centred, '\n' between lines); "" for none. */
void connect_window_set_message(struct connect_window *w, const char *text);
/* The status bar's line (grab hint, the last notice). */
void connect_window_set_status(struct connect_window *w, const char *text);

/* The session's surface (valid until the next call), or NULL. A new size
 * resizes the window to show it, unless full screen. */
void connect_window_set_surface(struct connect_window *w, const struct connect_surface *s);
void connect_window_damage(struct connect_window *w, const struct console_rect *rects, size_t n);
void connect_window_set_cursor(struct connect_window *w, const struct connect_cursor *c);

/* The toolbar or the layout changed: draw again. */
void connect_window_invalidate(struct connect_window *w);
/* Draws when something changed: true when a new frame was presented. */
bool connect_window_render(struct connect_window *w);
/* Window size, HiDPI factor or toolbar changed. */
void connect_window_relayout(struct connect_window *w);

void connect_window_set_zoom(struct connect_window *w, enum connect_zoom_mode mode, int zoom);
void connect_window_zoom_step(struct connect_window *w, int dir);
void connect_window_toggle_fullscreen(struct connect_window *w);

/* A window point: CONNECT_ACTION_* of the toolbar button there. */
enum connect_action connect_window_toolbar_hit(struct connect_window *w, int x, int y);
/* A window point as a guest pixel (see connect_view_to_surface): false
 * off the picture, *sx, *sy then the nearest pixel if there is a picture. */
bool connect_window_to_surface(struct connect_window *w, int x, int y, uint32_t *sx, uint32_t *sy);
/* The pointer is over the picture (true) or elsewhere: the cursor to show. */
void connect_window_pointer_over(struct connect_window *w, bool over_picture);

/* The guest's picture as a PNG file: 0 or -errno. */
int connect_window_screenshot(struct connect_window *w, const char *path);
