// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>
#include <glib.h>
#include <linux/input-event-codes.h>

#include "connect-app.h"
#include "connect-input.h"
#include "connect-io.h"
#include "connect-session.h"
#include "connect-status.h"
#include "connect-text.h"
#include "connect-vireod.h"
#include "connect-window.h"

struct connect_app {
	const struct connect_options *opts;
	struct connect_window *win;
	struct connect_session *sess;
	struct connect_io *io;
	struct connect_vireod *vd;
	struct connect_input input;
	struct connect_text_map *text_map;

	/* what the status is made of (connect-status.h borrows these) */
	struct connect_status st;
	char *name_vireod, *name_hello, *vm_reason, *vd_state, *vd_reason, *link_error;
	char *vd_socket;                  /* vireod's ConsoleSocket */
	char title[CONNECT_STATUS_TEXT_MAX], word[64], message[CONNECT_STATUS_TEXT_MAX];

	uint32_t buttons;
	uint32_t px, py;                  /* the guest pointer's last position */
	bool retry_armed;
	struct connect_text_key *typing;
	size_t typing_n, typing_pos;
	SDL_TimerID type_timer;
	char *notice;
	uint64_t notice_serial;
	uint64_t frames_shown;
	bool quit;
	int exit_status;
};

static void app_log(struct connect_app *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* --verbose: what a test (or a person) can follow on stdout. */
static void app_log(struct connect_app *a, const char *fmt, ...)
{
	if (!a->opts->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	printf("vireo-connect: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void set_str(char **slot, const char *v)
{
	char *n = g_strdup(v ? v : "");
	g_free(*slot);
	*slot = n;
}

static void app_update(struct connect_app *a)
{
	struct connect_status *st = &a->st;
	st->name = *a->name_vireod ? a->name_vireod : *a->name_hello ? a->name_hello : a->opts->socket;
	st->vm_reason = a->vm_reason;
	st->vireod_state = a->vd_state;
	st->vireod_reason = a->vd_reason;
	st->link_error = a->link_error;
	st->have_picture = connect_session_surface(a->sess) != NULL;
	char buf[CONNECT_STATUS_TEXT_MAX];
	connect_status_title(st, buf, sizeof(buf));
	if (strcmp(buf, a->title)) {
		g_strlcpy(a->title, buf, sizeof(a->title));
		connect_window_set_title(a->win, buf);
	}
	const char *word = connect_status_word(st);
	if (strcmp(word, a->word)) {
		g_strlcpy(a->word, word, sizeof(a->word));
		app_log(a, "state %s", word);
	}
	connect_status_message(st, buf, sizeof(buf));
	if (strcmp(buf, a->message)) {
		g_strlcpy(a->message, buf, sizeof(a->message));
		g_autofree char *line = g_strdelimit(g_strdup(buf), "\n", ' ');
		app_log(a, "message %s", *line ? line : "(none)");
		connect_window_set_message(a->win, buf);
	}
	const char *hint = a->notice ? a->notice
			   : st->grabbed ? "Press " CONNECT_RELEASE_HINT " to release the keyboard"
			   : st->link == CONNECT_LINK_UP ? "Click the picture to give the VM the keyboard" : "";
	g_autofree char *status_line = g_strdup_printf("%s%s%s", word, *hint ? "   |   " : "", hint);
	connect_window_set_status(a->win, status_line);
	bool up = st->link == CONNECT_LINK_UP;
	connect_toolbar_update(connect_window_toolbar(a->win), up, st->have_picture,
			       a->vd && st->vireod_up ? a->vd_state : NULL);
	connect_window_invalidate(a->win);
}

static Uint32 app_notice_expired(Uint32 interval, void *data)
{
	struct connect_app *a = data;
	connect_io_post(a->io, CONNECT_EVENT_NOTICE, NULL);
	return 0;
}

static void app_notice(struct connect_app *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void app_notice(struct connect_app *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(a->notice);
	a->notice = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	a->notice_serial++;
	app_log(a, "notice %s", a->notice);
	SDL_AddTimer(CONNECT_NOTICE_MS, app_notice_expired, a);
	app_update(a);
}

static void app_grab(struct connect_app *a, bool on)
{
	if (a->st.grabbed == on)
		return;
	SDL_SetWindowKeyboardGrab(connect_window_sdl(a->win), on ? SDL_TRUE : SDL_FALSE);
	a->st.grabbed = on;
	app_log(a, "grab %s", on ? "on" : "off");
	app_update(a);
}

static void app_release_keys(struct connect_app *a)
{
	uint16_t codes[64];
	size_t n;
	while ((n = connect_input_release_all(&a->input, codes, G_N_ELEMENTS(codes))) > 0)
		for (size_t i = 0; i < n; i++)
			connect_session_send_key(a->sess, codes[i], false);
}

static void app_stop_typing(struct connect_app *a)
{
	if (a->type_timer)
		SDL_RemoveTimer(a->type_timer);
	a->type_timer = 0;
	g_clear_pointer(&a->typing, g_free);
	a->typing_n = a->typing_pos = 0;
}

/* ---- the session's callbacks ---- */

static void app_on_hello(void *opaque, const char *name)
{
	struct connect_app *a = opaque;
	set_str(&a->name_hello, name);
	app_update(a);
}

static void app_on_surface(void *opaque, const struct connect_surface *s)
{
	struct connect_app *a = opaque;
	connect_window_set_surface(a->win, s);
	if (s)
		app_log(a, "surface %ux%u %s", s->width, s->height, s->shared ? "shared" : "inline");
	else
		app_log(a, "no-surface");
	app_update(a);
}

static void app_on_damage(void *opaque, const struct console_rect *rects, size_t n)
{
	struct connect_app *a = opaque;
	connect_window_damage(a->win, rects, n);
}

static void app_on_vm_state(void *opaque, enum console_vm_state state, const char *reason)
{
	struct connect_app *a = opaque;
	a->st.vm = state;
	set_str(&a->vm_reason, reason);
	app_log(a, "vm-state %s %s", state == CONSOLE_VM_RUNNING ? "running" : state == CONSOLE_VM_PAUSED ? "paused" : "off",
		reason);
	app_update(a);
}

static void app_on_cursor(void *opaque, const struct connect_cursor *c)
{
	struct connect_app *a = opaque;
	connect_window_set_cursor(a->win, c);
}

static Uint32 app_retry_due(Uint32 interval, void *data)
{
	struct connect_app *a = data;
	connect_io_post(a->io, CONNECT_EVENT_RETRY, NULL);
	return 0;
}

static void app_schedule_retry(struct connect_app *a)
{
	if (a->retry_armed)
		return;
	a->retry_armed = SDL_AddTimer(CONNECT_RETRY_MS, app_retry_due, a) != 0;
}

static void app_on_closed(void *opaque, int err, const char *why)
{
	struct connect_app *a = opaque;
	connect_window_set_surface(a->win, NULL);
	app_stop_typing(a);
	/* The worker lets go of what a leaving viewer held. */
	connect_input_init(&a->input);
	a->buttons = 0;
	a->st.link = CONNECT_LINK_GONE;
	a->st.vm = 0;
	set_str(&a->link_error, why);
	app_log(a, "disconnected: %s", why);
	app_grab(a, false);
	app_update(a);
	app_schedule_retry(a);
}

static const struct connect_session_ops app_session_ops = {
	.hello = app_on_hello,
	.surface = app_on_surface,
	.damage = app_on_damage,
	.vm_state = app_on_vm_state,
	.cursor = app_on_cursor,
	.closed = app_on_closed,
};

/* ---- connecting ---- */

static const char *app_target(const struct connect_app *a)
{
	if (a->opts->socket)
		return a->opts->socket;
	return a->vd_socket && *a->vd_socket ? a->vd_socket : NULL;
}

static void app_disconnect(struct connect_app *a)
{
	if (!connect_session_is_open(a->sess))
		return;
	/* Not watched any more before the fd goes. */
	connect_io_watch(a->io, -1);
	connect_session_close(a->sess);
	connect_window_set_surface(a->win, NULL);
	connect_input_init(&a->input);
	a->st.link = CONNECT_LINK_GONE;
}

static void app_connect(struct connect_app *a)
{
	const char *path = app_target(a);
	if (!path || connect_session_is_open(a->sess))
		return;
	int e = connect_session_open(a->sess, path);
	if (e < 0) {
		g_autofree char *why = g_strdup_printf("%s: %s", path, g_strerror(-e));
		if (g_strcmp0(why, a->link_error) || a->st.link != CONNECT_LINK_GONE)
			app_log(a, "cannot connect: %s", why);
		set_str(&a->link_error, why);
		a->st.link = CONNECT_LINK_GONE;
		app_update(a);
		app_schedule_retry(a);
		return;
	}
	a->st.link = CONNECT_LINK_UP;
	a->st.vm = 0;
	set_str(&a->link_error, "");
	app_log(a, "connected %s", path);
	connect_io_watch(a->io, connect_session_fd(a->sess));
	app_update(a);
}

static void app_on_vireod(struct connect_app *a, struct connect_vireod_info *info)
{
	a->st.vireod_up = info->up;
	if (info->up) {
		set_str(&a->name_vireod, info->name);
		set_str(&a->vd_state, info->state);
		set_str(&a->vd_reason, info->reason);
		a->st.vireod_emulated = info->emulated;
		if (g_strcmp0(info->console_socket, a->vd_socket)) {
			app_log(a, "vireod console-socket %s", *info->console_socket ? info->console_socket : "(none)");
			/* A new worker: the old session belongs to one that is gone. */
			if (*info->console_socket)
				app_disconnect(a);
			set_str(&a->vd_socket, info->console_socket);
		}
		app_log(a, "vireod state %s", info->state);
	}
	connect_vireod_info_free(info);
	app_update(a);
	app_connect(a);
}

/* ---- actions ---- */

static void app_send_key(struct connect_app *a, uint16_t code, bool down)
{
	connect_input_note(&a->input, code, down);
	connect_session_send_key(a->sess, code, down);
}

static void app_ctrl_alt_del(struct connect_app *a)
{
	static const uint16_t seq[] = { KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE };
	for (size_t i = 0; i < G_N_ELEMENTS(seq); i++)
		app_send_key(a, seq[i], true);
	for (size_t i = G_N_ELEMENTS(seq); i-- > 0;)
		app_send_key(a, seq[i], false);
	app_log(a, "sent ctrl-alt-del");
}

static Uint32 app_type_due(Uint32 interval, void *data)
{
	struct connect_app *a = data;
	connect_io_post(a->io, CONNECT_EVENT_TYPE, NULL);
	return interval;
}

static void app_type_clipboard(struct connect_app *a)
{
	if (a->typing) {
		app_notice(a, "Still typing the previous text");
		return;
	}
	if (!a->text_map) {
		app_notice(a, "Cannot type: the %s keyboard layout does not compile (is xkb-data installed?)",
			   a->opts->type_layout ? a->opts->type_layout : CONNECT_TEXT_DEFAULT_LAYOUT);
		return;
	}
	char *clip = SDL_HasClipboardText() ? SDL_GetClipboardText() : NULL;
	size_t len = clip ? strlen(clip) : 0;
	if (!len) {
		SDL_free(clip);
		app_notice(a, "The clipboard holds no text to type");
		return;
	}
	bool cut = len > CONNECT_TEXT_BYTES_MAX;
	if (cut) {
		/* At a character boundary. */
		len = CONNECT_TEXT_BYTES_MAX;
		while (len > 0 && ((unsigned char)clip[len] & 0xc0) == 0x80)
			len--;
	}
	size_t max = len * CONNECT_TEXT_EVENTS_PER_CHAR, n = 0, skipped = 0;
	struct connect_text_key *keys = g_new(struct connect_text_key, max ? max : 1);
	int e = connect_text_to_keys(a->text_map, clip, len, keys, max, &n, &skipped);
	size_t chars = e == 0 ? (size_t)g_utf8_strlen(clip, (gssize)len) : 0;
	SDL_free(clip);
	if (e < 0 || n == 0) {
		g_free(keys);
		app_notice(a, e == -EILSEQ ? "The clipboard text is not UTF-8" : "Nothing in the clipboard can be typed");
		return;
	}
	/* Whatever the user holds would change what the guest types. */
	app_release_keys(a);
	a->typing = keys;
	a->typing_n = n;
	a->typing_pos = 0;
	a->type_timer = SDL_AddTimer(CONNECT_TYPE_INTERVAL_MS, app_type_due, a);
	app_notice(a, "Typing %zu characters%s%s", chars - skipped, cut ? " (the text was cut at 64 KiB)" : "",
		   skipped ? " (some have no key on the guest's layout)" : "");
}

static void app_type_more(struct connect_app *a)
{
	if (!a->typing)
		return;
	for (size_t k = 0; k < CONNECT_TYPE_BATCH && a->typing_pos < a->typing_n; k++, a->typing_pos++)
		app_send_key(a, a->typing[a->typing_pos].code, a->typing[a->typing_pos].down);
	if (a->typing_pos == a->typing_n) {
		app_log(a, "typed %zu key events", a->typing_n);
		app_stop_typing(a);
	}
}

static void app_screenshot(struct connect_app *a)
{
	const char *dir = a->opts->screenshot_dir ? a->opts->screenshot_dir
						  : g_get_user_special_dir(G_USER_DIRECTORY_PICTURES);
	if (!dir || !g_file_test(dir, G_FILE_TEST_IS_DIR))
		dir = g_get_home_dir();
	g_autofree char *name = g_strdup(a->st.name && *a->st.name ? a->st.name : "vm");
	g_strdelimit(name, "/\\:", '_');
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_autofree char *file = g_strdup_printf("%s-%s.png", name, stamp);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	int e = connect_window_screenshot(a->win, path);
	if (e < 0)
		app_notice(a, "Screenshot failed: %s", g_strerror(-e));
	else
		app_notice(a, "Screenshot saved: %s", path);
}

static void app_action(struct connect_app *a, enum connect_action act)
{
	app_log(a, "action %s", connect_action_name(act));
	switch (act) {
	case CONNECT_ACTION_CAD:
		app_ctrl_alt_del(a);
		break;
	case CONNECT_ACTION_TYPE:
		app_type_clipboard(a);
		break;
	case CONNECT_ACTION_SCREENSHOT:
		app_screenshot(a);
		break;
	case CONNECT_ACTION_FULLSCREEN:
		connect_window_toggle_fullscreen(a->win);
		break;
	case CONNECT_ACTION_ZOOM_OUT:
		connect_window_zoom_step(a->win, -1);
		break;
	case CONNECT_ACTION_ZOOM_IN:
		connect_window_zoom_step(a->win, 1);
		break;
	case CONNECT_ACTION_ZOOM_FIT:
		connect_window_set_zoom(a->win, CONNECT_ZOOM_FIT, 0);
		break;
	case CONNECT_ACTION_ZOOM_100:
		connect_window_set_zoom(a->win, CONNECT_ZOOM_FIXED, 100);
		break;
	case CONNECT_ACTION_START:
	case CONNECT_ACTION_SHUTDOWN:
	case CONNECT_ACTION_TURN_OFF:
	case CONNECT_ACTION_PAUSE:
	case CONNECT_ACTION_RESET:
	case CONNECT_ACTION_SAVE:
		if (a->vd)
			connect_vireod_request(a->vd, act);
		break;
	default:
		break;
	}
}

/* ---- SDL events ---- */

static void app_pointer(struct connect_app *a, int32_t wheel, int32_t hwheel)
{
	connect_session_send_pointer(a->sess, a->px, a->py, a->buttons, wheel, hwheel);
}

static void app_on_key(struct connect_app *a, const SDL_KeyboardEvent *k)
{
	if (!connect_session_is_open(a->sess))
		return;
	uint16_t code = 0;
	bool down = k->type == SDL_KEYDOWN;
	switch (connect_input_key(&a->input, k->keysym.scancode, k->keysym.mod, down, k->repeat, &code)) {
	case CONNECT_INPUT_SEND:
		connect_session_send_key(a->sess, code, down);
		break;
	case CONNECT_INPUT_RELEASE_GRAB:
		app_grab(a, false);
		break;
	case CONNECT_INPUT_CTRL_ALT_DEL:
		app_ctrl_alt_del(a);
		break;
	case CONNECT_INPUT_FULLSCREEN:
		connect_window_toggle_fullscreen(a->win);
		break;
	case CONNECT_INPUT_NONE:
	default:
		break;
	}
}

static void app_on_motion(struct connect_app *a, int x, int y)
{
	uint32_t sx, sy;
	bool on = connect_window_to_surface(a->win, x, y, &sx, &sy);
	connect_window_pointer_over(a->win, on);
	/* A drag that leaves the picture stays at its edge. */
	if ((on || a->buttons) && connect_session_surface(a->sess)) {
		if (sx == a->px && sy == a->py && on)
			return;
		a->px = sx;
		a->py = sy;
		app_pointer(a, 0, 0);
	}
}

static void app_on_button(struct connect_app *a, const SDL_MouseButtonEvent *b)
{
	uint32_t bit = connect_input_button(b->button);
	if (b->type == SDL_MOUSEBUTTONUP) {
		if (a->buttons & bit) {
			a->buttons &= ~bit;
			app_pointer(a, 0, 0);
		}
		return;
	}
	enum connect_action act = connect_window_toolbar_hit(a->win, b->x, b->y);
	if (act != CONNECT_ACTION_NONE) {
		app_action(a, act);
		return;
	}
	uint32_t sx, sy;
	if (!connect_window_to_surface(a->win, b->x, b->y, &sx, &sy) || !connect_session_is_open(a->sess))
		return;
	/* As in vmconnect, a click into the picture gives the VM the keyboard. */
	app_grab(a, true);
	a->px = sx;
	a->py = sy;
	a->buttons |= bit;
	app_pointer(a, 0, 0);
}

static void app_on_wheel(struct connect_app *a, const SDL_MouseWheelEvent *w)
{
	int x, y;
	uint32_t sx, sy;
	SDL_GetMouseState(&x, &y);
	if (!connect_window_to_surface(a->win, x, y, &sx, &sy))
		return;
	int dir = w->direction == SDL_MOUSEWHEEL_FLIPPED ? -1 : 1;
	a->px = sx;
	a->py = sy;
	app_pointer(a, w->y * dir, w->x * dir);
}

static void app_on_window(struct connect_app *a, const SDL_WindowEvent *w)
{
	switch (w->event) {
	case SDL_WINDOWEVENT_SIZE_CHANGED:
	case SDL_WINDOWEVENT_RESIZED:
	case SDL_WINDOWEVENT_DISPLAY_CHANGED:
		connect_window_relayout(a->win);
		break;
	case SDL_WINDOWEVENT_EXPOSED:
		connect_window_invalidate(a->win);
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		/* Keys held when the keyboard went elsewhere would stay down in the guest. */
		app_release_keys(a);
		if (a->buttons) {
			a->buttons = 0;
			app_pointer(a, 0, 0);
		}
		app_grab(a, false);
		break;
	case SDL_WINDOWEVENT_LEAVE:
		connect_window_pointer_over(a->win, false);
		break;
	default:
		break;
	}
}

static void app_on_user(struct connect_app *a, const SDL_UserEvent *u)
{
	switch ((enum connect_event)u->code) {
	case CONNECT_EVENT_SOCKET:
		if (connect_session_is_open(a->sess) && connect_session_read(a->sess) == 0)
			connect_io_watch(a->io, connect_session_fd(a->sess));
		break;
	case CONNECT_EVENT_VIREOD:
		app_on_vireod(a, u->data1);
		break;
	case CONNECT_EVENT_NOTICE:
		if (u->data1) {
			app_notice(a, "%s", (char *)u->data1);
			g_free(u->data1);
		} else if (a->notice && --a->notice_serial == 0) {
			/* The last notice's timer: nothing newer is showing. */
			g_clear_pointer(&a->notice, g_free);
			app_update(a);
		}
		break;
	case CONNECT_EVENT_FATAL:
		fprintf(stderr, "vireo-connect: %s\n", (char *)u->data1);
		g_free(u->data1);
		a->exit_status = 1;
		a->quit = true;
		break;
	case CONNECT_EVENT_RETRY:
		a->retry_armed = false;
		app_connect(a);
		break;
	case CONNECT_EVENT_TYPE:
		app_type_more(a);
		break;
	default:
		break;
	}
}

static void app_event(struct connect_app *a, const SDL_Event *ev)
{
	if (ev->type == connect_io_event_type(a->io)) {
		app_on_user(a, &ev->user);
		return;
	}
	switch (ev->type) {
	case SDL_QUIT:
		a->quit = true;
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		app_on_key(a, &ev->key);
		break;
	case SDL_MOUSEMOTION:
		app_on_motion(a, ev->motion.x, ev->motion.y);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		app_on_button(a, &ev->button);
		break;
	case SDL_MOUSEWHEEL:
		app_on_wheel(a, &ev->wheel);
		break;
	case SDL_WINDOWEVENT:
		app_on_window(a, &ev->window);
		break;
	case SDL_RENDER_TARGETS_RESET:
	case SDL_RENDER_DEVICE_RESET:
		connect_window_invalidate(a->win);
		break;
	default:
		break;
	}
}

static void app_presented(struct connect_app *a)
{
	struct connect_session_stats st;
	connect_session_get_stats(a->sess, &st);
	connect_session_frame_done(a->sess);
	if (st.frames != a->frames_shown) {
		a->frames_shown = st.frames;
		app_log(a, "presented frames=%" G_GUINT64_FORMAT " bad=%" G_GUINT64_FORMAT, st.frames, st.bad_messages);
	}
}

static void app_free(struct connect_app *a)
{
	app_stop_typing(a);
	/* The timers post through a->io: none may fire from here on. */
	SDL_QuitSubSystem(SDL_INIT_TIMER);
	connect_vireod_free(a->vd);
	if (a->io && a->sess)
		connect_io_watch(a->io, -1);
	connect_io_free(a->io);
	connect_session_free(a->sess);
	connect_window_free(a->win);
	connect_text_map_free(a->text_map);
	g_free(a->name_vireod);
	g_free(a->name_hello);
	g_free(a->vm_reason);
	g_free(a->vd_state);
	g_free(a->vd_reason);
	g_free(a->link_error);
	g_free(a->vd_socket);
	g_free(a->notice);
}

int connect_app_run(const struct connect_options *opts)
{
	struct connect_app a = { .opts = opts };
	set_str(&a.name_vireod, "");
	set_str(&a.name_hello, "");
	set_str(&a.vm_reason, "");
	set_str(&a.vd_state, "");
	set_str(&a.vd_reason, "");
	set_str(&a.link_error, "");
	a.st.via_vireod = opts->vm != NULL;
	connect_input_init(&a.input);

	/* A click that focuses the window also reaches the guest. */
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER | SDL_INIT_EVENTS) < 0) {
		fprintf(stderr, "vireo-connect: cannot start SDL (is there a display? $DISPLAY or $WAYLAND_DISPLAY): %s\n",
			SDL_GetError());
		return 1;
	}
	if (TTF_Init() < 0) {
		fprintf(stderr, "vireo-connect: cannot start SDL_ttf: %s\n", TTF_GetError());
		SDL_Quit();
		return 1;
	}
	struct connect_window_config wcfg = { .font = opts->font ? opts->font : CONNECT_FONT_DEFAULT,
					      .fullscreen = opts->fullscreen, .zoom_mode = opts->zoom_mode,
					      .zoom = opts->zoom, .verbose = opts->verbose };
	char *why = NULL;
	int e = connect_window_new(&wcfg, &a.win, &why);
	if (e == 0)
		e = connect_io_new(&a.io);
	if (e < 0) {
		fprintf(stderr, "vireo-connect: %s\n", why ? why : g_strerror(-e));
		g_free(why);
		app_free(&a);
		TTF_Quit();
		SDL_Quit();
		return 1;
	}
	a.sess = connect_session_new(&app_session_ops, &a, opts->inline_pixels);
	a.text_map = connect_text_map_new(opts->type_layout);
	app_update(&a);
	if (opts->vm)
		a.vd = connect_vireod_new(a.io, opts->vm);
	else
		app_connect(&a);

	while (!a.quit) {
		SDL_Event ev;
		if (!SDL_WaitEvent(&ev)) {
			fprintf(stderr, "vireo-connect: %s\n", SDL_GetError());
			a.exit_status = 1;
			break;
		}
		do
			app_event(&a, &ev);
		while (!a.quit && SDL_PollEvent(&ev));
		if (connect_window_render(a.win))
			app_presented(&a);
	}
	app_free(&a);
	TTF_Quit();
	SDL_Quit();
	return a.exit_status;
}
