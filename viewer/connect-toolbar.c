// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "connect-toolbar.h"

static const struct {
	enum connect_action action;
	const char *label, *name;
	bool group_start;
} connect_toolbar_items[] = {
	{ CONNECT_ACTION_CAD, "Ctrl+Alt+Del", "ctrl-alt-del", false },
	{ CONNECT_ACTION_TYPE, "Type clipboard", "type-clipboard", false },
	{ CONNECT_ACTION_SCREENSHOT, "Screenshot", "screenshot", false },
	{ CONNECT_ACTION_FULLSCREEN, "Full screen", "full-screen", true },
	{ CONNECT_ACTION_ZOOM_OUT, "-", "zoom-out", false },
	{ CONNECT_ACTION_ZOOM_FIT, "Fit", "zoom-fit", false },
	{ CONNECT_ACTION_ZOOM_100, "100%", "zoom-100", false },
	{ CONNECT_ACTION_ZOOM_IN, "+", "zoom-in", false },
	{ CONNECT_ACTION_START, "Start", "start", true },
	{ CONNECT_ACTION_SHUTDOWN, "Shut down", "shut-down", false },
	{ CONNECT_ACTION_TURN_OFF, "Turn off", "turn-off", false },
	{ CONNECT_ACTION_PAUSE, "Pause", "pause", false },
	{ CONNECT_ACTION_RESET, "Reset", "reset", false },
	{ CONNECT_ACTION_SAVE, "Save", "save", false },
};

_Static_assert(sizeof(connect_toolbar_items) / sizeof(connect_toolbar_items[0]) == CONNECT_ACTION_COUNT - 1,
	       "one button per action");

void connect_toolbar_init(struct connect_toolbar *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(connect_toolbar_items) / sizeof(connect_toolbar_items[0]); i++) {
		struct connect_button *b = &t->b[t->n++];
		b->action = connect_toolbar_items[i].action;
		b->label = connect_toolbar_items[i].label;
		b->group_start = connect_toolbar_items[i].group_start;
	}
}

const char *connect_action_name(enum connect_action a)
{
	for (size_t i = 0; i < sizeof(connect_toolbar_items) / sizeof(connect_toolbar_items[0]); i++)
		if (connect_toolbar_items[i].action == a)
			return connect_toolbar_items[i].name;
	return "none";
}

static bool state_in(const char *state, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(state, *list) == 0)
			return true;
	return false;
}

bool connect_toolbar_power_allowed(enum connect_action action, const char *s)
{
	if (!s)
		return false;
	static const char *const start[] = { "Off", "Saved", "Failed", NULL };
	static const char *const running[] = { "Running", NULL };
	static const char *const turn_off[] = { "Starting", "Running", "Paused", "Stopping", NULL };
	static const char *const pause[] = { "Running", "Paused", NULL };
	static const char *const save[] = { "Running", "Paused", NULL };
	switch (action) {
	case CONNECT_ACTION_START:
		return state_in(s, start);
	case CONNECT_ACTION_SHUTDOWN:
	case CONNECT_ACTION_RESET:
		return state_in(s, running);
	case CONNECT_ACTION_TURN_OFF:
		return state_in(s, turn_off);
	case CONNECT_ACTION_PAUSE:
		return state_in(s, pause);
	case CONNECT_ACTION_SAVE:
		return state_in(s, save);
	default:
		return false;
	}
}

void connect_toolbar_update(struct connect_toolbar *t, bool connected, bool have_picture, const char *vireod_state)
{
	for (size_t i = 0; i < t->n; i++) {
		struct connect_button *b = &t->b[i];
		switch (b->action) {
		case CONNECT_ACTION_CAD:
		case CONNECT_ACTION_TYPE:
			b->enabled = connected;
			break;
		case CONNECT_ACTION_SCREENSHOT:
			b->enabled = connected && have_picture;
			break;
		case CONNECT_ACTION_FULLSCREEN:
		case CONNECT_ACTION_ZOOM_OUT:
		case CONNECT_ACTION_ZOOM_FIT:
		case CONNECT_ACTION_ZOOM_100:
		case CONNECT_ACTION_ZOOM_IN:
			b->enabled = true;
			break;
		case CONNECT_ACTION_PAUSE:
			b->label = vireod_state && strcmp(vireod_state, "Paused") == 0 ? "Resume" : "Pause";
			b->enabled = connect_toolbar_power_allowed(b->action, vireod_state);
			break;
		default:
			b->enabled = connect_toolbar_power_allowed(b->action, vireod_state);
			break;
		}
	}
}

void connect_toolbar_layout(struct connect_toolbar *t, int height, int (*measure)(void *opaque, const char *text),
			    void *opaque)
{
	/* The widest of a button's labels, so that Pause/Resume does not move the others. */
	int x = CONNECT_TOOLBAR_GAP;
	t->height = height;
	for (size_t i = 0; i < t->n; i++) {
		struct connect_button *b = &t->b[i];
		int w = measure(opaque, b->label);
		if (b->action == CONNECT_ACTION_PAUSE) {
			int w2 = measure(opaque, "Resume");
			w = w2 > w ? w2 : w;
		}
		if (b->group_start && i)
			x += 2 * CONNECT_TOOLBAR_GAP;
		b->r = (struct connect_rect){ x, CONNECT_TOOLBAR_GAP / 2, w + 2 * CONNECT_TOOLBAR_PAD,
					      height - CONNECT_TOOLBAR_GAP };
		x += b->r.w + CONNECT_TOOLBAR_GAP;
	}
}

enum connect_action connect_toolbar_hit(const struct connect_toolbar *t, int x, int y)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct connect_button *b = &t->b[i];
		if (b->enabled && x >= b->r.x && x < b->r.x + b->r.w && y >= b->r.y && y < b->r.y + b->r.h)
			return b->action;
	}
	return CONNECT_ACTION_NONE;
}
