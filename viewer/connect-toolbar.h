/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The toolbar above the picture, as vmconnect's: Ctrl+Alt+Del, Type
 * clipboard text, Screenshot, Full screen, zoom, and the power actions
 * through vireod (greyed out without it, or when the VM's state does not
 * allow them). Layout and hit testing are pure (text widths come from the
 * caller), drawing is connect-window.c's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "connect-view.h"

enum connect_action {
	CONNECT_ACTION_NONE,
	CONNECT_ACTION_CAD,
	CONNECT_ACTION_TYPE,
	CONNECT_ACTION_SCREENSHOT,
	CONNECT_ACTION_FULLSCREEN,
	CONNECT_ACTION_ZOOM_OUT,
	CONNECT_ACTION_ZOOM_FIT,
	CONNECT_ACTION_ZOOM_100,
	CONNECT_ACTION_ZOOM_IN,
	CONNECT_ACTION_START,
	CONNECT_ACTION_SHUTDOWN,
	CONNECT_ACTION_TURN_OFF,
	CONNECT_ACTION_PAUSE,          /* Pause, or Resume when paused */
	CONNECT_ACTION_RESET,
	CONNECT_ACTION_SAVE,
	CONNECT_ACTION_COUNT,
};

#define CONNECT_TOOLBAR_PAD 6        /* points around a label */
#define CONNECT_TOOLBAR_GAP 4        /* points between buttons; a group gets 3 times that */

struct connect_button {
	enum connect_action action;
	const char *label;
	bool enabled;
	bool group_start;              /* a wider gap before it */
	struct connect_rect r;         /* points, after layout */
};

struct connect_toolbar {
	struct connect_button b[CONNECT_ACTION_COUNT - 1];
	size_t n;
	int height;
};

void connect_toolbar_init(struct connect_toolbar *t);

/*
 * Which buttons work now: the session ones with a connected guest, the
 * power ones with vireod and a state that allows them (vireod_state NULL:
 * no vireod). Also sets the Pause button's label.
 */
void connect_toolbar_update(struct connect_toolbar *t, bool connected, bool have_picture, const char *vireod_state);

/* Lays the buttons out left to right in a bar of height points; measure
 * gives a label's width in points. */
void connect_toolbar_layout(struct connect_toolbar *t, int height, int (*measure)(void *opaque, const char *text),
			    void *opaque);

/* The enabled button at (x, y) points, CONNECT_ACTION_NONE elsewhere. */
enum connect_action connect_toolbar_hit(const struct connect_toolbar *t, int x, int y);

/* Whether vireod's State allows action (the D-Bus API's table). */
bool connect_toolbar_power_allowed(enum connect_action action, const char *vireod_state);

/* "start", "shut-down", ...: for logs and --verbose. */
const char *connect_action_name(enum connect_action a);
