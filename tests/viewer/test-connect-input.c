// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the viewer does with host input and what it tells a person:
 * key events to evdev codes with vmconnect's shortcuts kept
 * (viewer/connect-input.c), the state word, title and message
 * (connect-status.c), and the toolbar's buttons, their layout and which
 * of them work in which state (connect-toolbar.c).
 */
#include <linux/input-event-codes.h>
#include <string.h>

#include <SDL2/SDL_mouse.h>
#include <glib.h>

#include "console.h"
#include "connect-input.h"
#include "connect-status.h"
#include "connect-toolbar.h"

static enum connect_input_action key(struct connect_input *in, SDL_Scancode sc, uint16_t mod, bool down, bool rep,
				     uint16_t *code)
{
	*code = 0;
	return connect_input_key(in, sc, mod, down, rep, code);
}

static void test_keys(void)
{
	struct connect_input in;
	connect_input_init(&in);
	uint16_t code;
	g_assert_cmpint(key(&in, SDL_SCANCODE_A, 0, true, false, &code), ==, CONNECT_INPUT_SEND);
	g_assert_cmpuint(code, ==, KEY_A);
	/* a repeat is the guest's business */
	g_assert_cmpint(key(&in, SDL_SCANCODE_A, 0, true, true, &code), ==, CONNECT_INPUT_NONE);
	g_assert_cmpint(key(&in, SDL_SCANCODE_A, 0, false, false, &code), ==, CONNECT_INPUT_SEND);
	g_assert_cmpuint(code, ==, KEY_A);
	/* a release the guest never saw pressed is not sent */
	g_assert_cmpint(key(&in, SDL_SCANCODE_B, 0, false, false, &code), ==, CONNECT_INPUT_NONE);
	/* keys evdev does not have, and nonsense scancodes */
	g_assert_cmpint(key(&in, SDL_SCANCODE_KP_HEXADECIMAL, 0, true, false, &code), ==, CONNECT_INPUT_NONE);
	g_assert_cmpint(key(&in, SDL_NUM_SCANCODES, 0, true, false, &code), ==, CONNECT_INPUT_NONE);
	g_assert_cmpint(key(&in, (SDL_Scancode)-5, 0, true, false, &code), ==, CONNECT_INPUT_NONE);
	/* Ctrl alone, Alt alone: plain keys */
	g_assert_cmpint(key(&in, SDL_SCANCODE_LEFT, KMOD_LCTRL, true, false, &code), ==, CONNECT_INPUT_SEND);
	g_assert_cmpuint(code, ==, KEY_LEFT);
	g_assert_cmpint(key(&in, SDL_SCANCODE_LEFT, KMOD_LCTRL, false, false, &code), ==, CONNECT_INPUT_SEND);
}

static void test_shortcuts(void)
{
	struct connect_input in;
	connect_input_init(&in);
	uint16_t code;
	/* Ctrl and Alt go to the guest; Left with both held stays with the viewer, down and up */
	g_assert_cmpint(key(&in, SDL_SCANCODE_LCTRL, 0, true, false, &code), ==, CONNECT_INPUT_SEND);
	g_assert_cmpint(key(&in, SDL_SCANCODE_LALT, KMOD_LCTRL, true, false, &code), ==, CONNECT_INPUT_SEND);
	g_assert_cmpint(key(&in, SDL_SCANCODE_LEFT, KMOD_LCTRL | KMOD_LALT, true, false, &code), ==,
			CONNECT_INPUT_RELEASE_GRAB);
	g_assert_cmpint(key(&in, SDL_SCANCODE_LEFT, KMOD_LCTRL | KMOD_LALT, true, true, &code), ==, CONNECT_INPUT_NONE);
	g_assert_cmpint(key(&in, SDL_SCANCODE_LEFT, KMOD_LCTRL | KMOD_LALT, false, false, &code), ==, CONNECT_INPUT_NONE);
	/* the right-hand modifiers count too */
	g_assert_cmpint(key(&in, SDL_SCANCODE_END, KMOD_RCTRL | KMOD_RALT, true, false, &code), ==,
			CONNECT_INPUT_CTRL_ALT_DEL);
	g_assert_cmpint(key(&in, SDL_SCANCODE_PAUSE, KMOD_CTRL | KMOD_ALT, true, false, &code), ==,
			CONNECT_INPUT_FULLSCREEN);
	/* a shortcut key's release is swallowed even when the modifiers went first */
	g_assert_cmpint(key(&in, SDL_SCANCODE_END, 0, false, false, &code), ==, CONNECT_INPUT_NONE);
	/* what the guest holds, for when the window loses the keyboard */
	uint16_t held[8];
	size_t n = connect_input_release_all(&in, held, G_N_ELEMENTS(held));
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(held[0], ==, KEY_LEFTCTRL);
	g_assert_cmpuint(held[1], ==, KEY_LEFTALT);
	g_assert_cmpuint(connect_input_release_all(&in, held, G_N_ELEMENTS(held)), ==, 0);
	/* keys the viewer sends itself are tracked too */
	connect_input_note(&in, KEY_DELETE, true);
	connect_input_note(&in, 0, true);
	connect_input_note(&in, 0xffff, true);
	n = connect_input_release_all(&in, held, 1);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(held[0], ==, KEY_DELETE);
}

static void test_buttons(void)
{
	g_assert_cmpuint(connect_input_button(SDL_BUTTON_LEFT), ==, CONSOLE_BUTTON_LEFT);
	g_assert_cmpuint(connect_input_button(SDL_BUTTON_RIGHT), ==, CONSOLE_BUTTON_RIGHT);
	g_assert_cmpuint(connect_input_button(SDL_BUTTON_MIDDLE), ==, CONSOLE_BUTTON_MIDDLE);
	g_assert_cmpuint(connect_input_button(SDL_BUTTON_X1), ==, CONSOLE_BUTTON_SIDE);
	g_assert_cmpuint(connect_input_button(SDL_BUTTON_X2), ==, CONSOLE_BUTTON_EXTRA);
	g_assert_cmpuint(connect_input_button(9), ==, 0);
}

static void test_status(void)
{
	char buf[CONNECT_STATUS_TEXT_MAX];
	struct connect_status st = { .name = "web", .link = CONNECT_LINK_UP, .vm = CONSOLE_VM_RUNNING,
				     .vm_reason = "", .have_picture = true, .link_error = "" };
	connect_status_title(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "web - Running - Vireo");
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "");
	st.grabbed = true;
	connect_status_title(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "web - Running - Vireo (press Ctrl+Alt+Left to release the keyboard)");
	st.grabbed = false;
	st.have_picture = false;
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_nonnull(strstr(buf, "no picture"));
	st.vm = CONSOLE_VM_PAUSED;
	g_assert_cmpstr(connect_status_word(&st), ==, "Paused");
	st.vm = CONSOLE_VM_OFF;
	st.vm_reason = "rebooting";
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "The virtual machine is off.\n(rebooting)");
	/* the worker gone: Off, and why */
	st.link = CONNECT_LINK_GONE;
	st.link_error = "the worker closed the connection";
	g_assert_cmpstr(connect_status_word(&st), ==, "Off");
	connect_status_title(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "web - Off - Vireo");
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_true(g_str_has_prefix(buf, "The virtual machine is off: its worker is gone."));
	g_assert_nonnull(strstr(buf, "(the worker closed the connection)"));
	st.link = CONNECT_LINK_CONNECTING;
	g_assert_cmpstr(connect_status_word(&st), ==, "Connecting");
	/* through vireod its State wins */
	st = (struct connect_status){ .name = "db", .via_vireod = true, .vireod_up = true, .vireod_state = "Saved",
				      .vireod_reason = "", .link = CONNECT_LINK_GONE, .link_error = "" };
	g_assert_cmpstr(connect_status_word(&st), ==, "Saved");
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_nonnull(strstr(buf, "saved"));
	st.vireod_state = "Failed";
	st.vireod_reason = "the worker crashed";
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "The virtual machine could not run.\n(the worker crashed)");
	st.vireod_state = "Running";
	st.link = CONNECT_LINK_UP;
	st.vm = CONSOLE_VM_RUNNING;
	st.have_picture = true;
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "");
	st.vireod_up = false;
	g_assert_cmpstr(connect_status_word(&st), ==, "Unknown");
	connect_status_message(&st, buf, sizeof(buf));
	g_assert_nonnull(strstr(buf, "vireod"));
	/* no name at all, and a tiny buffer */
	st = (struct connect_status){ .link = CONNECT_LINK_CONNECTING };
	connect_status_title(&st, buf, 8);
	g_assert_cmpstr(buf, ==, "Virtual");
}

/* "(emulated host: slow)" after the title's usual form, only where vireod
 * answers and says so: not for a worker's socket alone, not from a vireod
 * that went away; with the grab hint in the same parentheses. */
static void test_title_emulated_host(void)
{
	static const struct {
		bool via_vireod, up, emulated, grabbed;
		const char *state, *want;
	} cases[] = {
		{ true, true, true, false, "Running", "demo - Running - Vireo (emulated host: slow)" },
		{ true, true, true, true, "Running",
		  "demo - Running - Vireo (emulated host: slow; press Ctrl+Alt+Left to release the keyboard)" },
		{ true, true, true, false, "Off", "demo - Off - Vireo (emulated host: slow)" },
		/* not emulated: the title as it always was */
		{ true, true, false, false, "Off", "demo - Off - Vireo" },
		{ true, true, false, true, "Running", "demo - Running - Vireo (press Ctrl+Alt+Left to release the keyboard)" },
		/* vireod gone: it cannot vouch for where the next worker runs */
		{ true, false, true, false, "Running", "demo - Unknown - Vireo" },
		/* a socket of one's own: only vireod's word counts */
		{ false, true, true, false, NULL, "demo - Running - Vireo" },
	};
	char buf[CONNECT_STATUS_TEXT_MAX];
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct connect_status st = { .name = "demo", .link = CONNECT_LINK_UP, .vm = CONSOLE_VM_RUNNING,
					     .via_vireod = cases[i].via_vireod, .vireod_up = cases[i].up,
					     .vireod_emulated = cases[i].emulated, .grabbed = cases[i].grabbed,
					     .vireod_state = cases[i].state };
		connect_status_title(&st, buf, sizeof(buf));
		g_assert_cmpstr(buf, ==, cases[i].want);
	}
	/* cut short, never overrun */
	struct connect_status st = { .name = "demo", .via_vireod = true, .vireod_up = true, .vireod_state = "Running",
				     .vireod_emulated = true };
	connect_status_title(&st, buf, 30);
	g_assert_cmpstr(buf, ==, "demo - Running - Vireo (emula");
	/* a name as long as the buffer: the tag is what gives way */
	char name[CONNECT_STATUS_TEXT_MAX];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	st.name = name;
	connect_status_title(&st, buf, sizeof(buf));
	g_assert_cmpuint(strlen(buf), ==, sizeof(buf) - 1);
	g_assert_true(g_str_has_prefix(buf, "nnnn"));
}

static int measure(void *opaque, const char *text)
{
	return (int)strlen(text) * 7;
}

static const struct connect_button *button(const struct connect_toolbar *t, enum connect_action a)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->b[i].action == a)
			return &t->b[i];
	g_assert_not_reached();
}

static void test_toolbar(void)
{
	struct connect_toolbar t;
	connect_toolbar_init(&t);
	g_assert_cmpuint(t.n, ==, CONNECT_ACTION_COUNT - 1);
	connect_toolbar_layout(&t, 30, measure, NULL);
	/* left to right, no overlaps, inside the bar */
	for (size_t i = 0; i < t.n; i++) {
		g_assert_cmpint(t.b[i].r.y, >=, 0);
		g_assert_cmpint(t.b[i].r.y + t.b[i].r.h, <=, 30);
		g_assert_cmpint(t.b[i].r.w, >=, measure(NULL, t.b[i].label) + 2 * CONNECT_TOOLBAR_PAD);
		if (i)
			g_assert_cmpint(t.b[i].r.x, >=, t.b[i - 1].r.x + t.b[i - 1].r.w);
	}
	/* without vireod: the session buttons only, and only while connected */
	connect_toolbar_update(&t, false, false, NULL);
	const struct connect_button *cad = button(&t, CONNECT_ACTION_CAD);
	g_assert_false(cad->enabled);
	g_assert_cmpint(connect_toolbar_hit(&t, cad->r.x + 1, cad->r.y + 1), ==, CONNECT_ACTION_NONE);
	connect_toolbar_update(&t, true, true, NULL);
	g_assert_cmpint(connect_toolbar_hit(&t, cad->r.x + 1, cad->r.y + 1), ==, CONNECT_ACTION_CAD);
	g_assert_cmpint(connect_toolbar_hit(&t, cad->r.x + cad->r.w, cad->r.y + 1), !=, CONNECT_ACTION_CAD);
	g_assert_cmpint(connect_toolbar_hit(&t, -1, -1), ==, CONNECT_ACTION_NONE);
	for (enum connect_action a = CONNECT_ACTION_START; a <= CONNECT_ACTION_SAVE; a++)
		g_assert_false(button(&t, a)->enabled);
	g_assert_true(button(&t, CONNECT_ACTION_ZOOM_FIT)->enabled);
	/* through vireod: what the state allows (the D-Bus API's table) */
	connect_toolbar_update(&t, false, false, "Off");
	g_assert_true(button(&t, CONNECT_ACTION_START)->enabled);
	g_assert_false(button(&t, CONNECT_ACTION_TURN_OFF)->enabled);
	g_assert_false(button(&t, CONNECT_ACTION_SCREENSHOT)->enabled);
	connect_toolbar_update(&t, true, true, "Running");
	g_assert_false(button(&t, CONNECT_ACTION_START)->enabled);
	for (enum connect_action a = CONNECT_ACTION_SHUTDOWN; a <= CONNECT_ACTION_SAVE; a++)
		g_assert_true(button(&t, a)->enabled);
	g_assert_cmpstr(button(&t, CONNECT_ACTION_PAUSE)->label, ==, "Pause");
	connect_toolbar_update(&t, true, true, "Paused");
	g_assert_cmpstr(button(&t, CONNECT_ACTION_PAUSE)->label, ==, "Resume");
	g_assert_true(button(&t, CONNECT_ACTION_PAUSE)->enabled);
	g_assert_false(button(&t, CONNECT_ACTION_SHUTDOWN)->enabled);
	g_assert_false(button(&t, CONNECT_ACTION_RESET)->enabled);
	g_assert_true(button(&t, CONNECT_ACTION_SAVE)->enabled);
	connect_toolbar_update(&t, false, false, "Saving");
	for (enum connect_action a = CONNECT_ACTION_START; a <= CONNECT_ACTION_SAVE; a++)
		g_assert_false(button(&t, a)->enabled);
	connect_toolbar_update(&t, false, false, "Starting");
	g_assert_true(button(&t, CONNECT_ACTION_TURN_OFF)->enabled);
	g_assert_false(connect_toolbar_power_allowed(CONNECT_ACTION_START, "Bogus"));
	g_assert_false(connect_toolbar_power_allowed(CONNECT_ACTION_CAD, "Running"));
	g_assert_cmpstr(connect_action_name(CONNECT_ACTION_TYPE), ==, "type-clipboard");
	g_assert_cmpstr(connect_action_name(CONNECT_ACTION_COUNT), ==, "none");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/connect-input/keys", test_keys);
	g_test_add_func("/connect-input/shortcuts", test_shortcuts);
	g_test_add_func("/connect-input/buttons", test_buttons);
	g_test_add_func("/connect-status/status", test_status);
	g_test_add_func("/connect-status/title-emulated-host", test_title_emulated_host);
	g_test_add_func("/connect-toolbar/toolbar", test_toolbar);
	return g_test_run();
}
