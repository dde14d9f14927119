// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vmbus_input.h"
#include "vsp/input.h"
#include "vsp/keymap_xt.h"

/* A whole word of digits (decimal, or hex after 0x) up to max. */
static bool vi_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	if (!s || !g_ascii_isdigit(s[0]))
		return false;
	/* Decimal, or hex after 0x: a leading 0 is not octal. */
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	char *end;
	errno = 0;
	unsigned long long v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (errno || *end || end == (hex ? s + 2 : s) || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool vi_parse_i32(const char *s, int32_t lim, int32_t *out)
{
	bool neg = s && s[0] == '-';
	uint32_t v;
	if (!vi_parse_u32(neg ? s + 1 : s, (uint32_t)lim, &v))
		return false;
	*out = neg ? -(int32_t)v : (int32_t)v;
	return true;
}

/* CODE: decimal evdev code or KEY_ name, of a key the keyboard has. */
static bool vi_parse_key(const char *s, uint16_t *out)
{
	const struct keymap_xt_key *k = NULL;
	uint32_t v;
	if (s && g_ascii_isdigit(s[0]))
		k = vi_parse_u32(s, UINT16_MAX, &v) ? keymap_xt_find((uint16_t)v) : NULL;
	else
		k = keymap_xt_find_name(s);
	if (!k)
		return false;
	*out = k->evdev;
	return true;
}

static char *vi_kbd_error(int r)
{
	switch (r) {
	case -ENOTCONN:
		return g_strdup("error the guest's keyboard driver is not connected (no hyperv_keyboard, or still booting)");
	case -ENOBUFS:
		return g_strdup("error too many key events wait for the guest already");
	}
	return g_strdup_printf("error keyboard: %s", g_strerror(-r));
}

static char *vi_mouse_error(int r)
{
	switch (r) {
	case -ENOTCONN:
		return g_strdup("error the guest's mouse driver is not connected (no hid_hyperv, or still booting)");
	case -ENOBUFS:
		return g_strdup("error too many mouse reports wait for the guest already");
	case -EINVAL:
		return g_strdup_printf("error wheel steps go from -%d to %d", SYNTH_MOUSE_WHEEL_MAX, SYNTH_MOUSE_WHEEL_MAX);
	}
	return g_strdup_printf("error mouse: %s", g_strerror(-r));
}

static char *vi_key(struct synth_kbd *kbd, char **w, guint n)
{
	uint16_t code;
	if (n != 3)
		return g_strdup("error usage: key CODE down|up|press");
	if (!vi_parse_key(w[1], &code))
		return g_strdup_printf("error unknown key \"%.32s\" (a decimal evdev code or a KEY_ name the keyboard has)",
				       w[1]);
	struct synth_kbd_key_change c[2] = { { code, true }, { code, false } };
	size_t nc;
	if (g_str_equal(w[2], "down")) {
		nc = 1;
	} else if (g_str_equal(w[2], "up")) {
		c[0].down = false;
		nc = 1;
	} else if (g_str_equal(w[2], "press")) {
		nc = 2;
	} else {
		return g_strdup("error usage: key CODE down|up|press");
	}
	int r = synth_kbd_send(kbd, c, nc);
	return r < 0 ? vi_kbd_error(r) : g_strdup("ok");
}

/* keys CODE...: each pressed and released in turn, all queued or none. */
static char *vi_keys(struct synth_kbd *kbd, char **w, guint n)
{
	if (n < 2 || n - 1 > VMBUS_INPUT_KEYS_MAX)
		return g_strdup_printf("error usage: keys CODE... (1 to %u keys)", VMBUS_INPUT_KEYS_MAX);
	struct synth_kbd_key_change c[2 * VMBUS_INPUT_KEYS_MAX];
	for (guint i = 1; i < n; i++) {
		uint16_t code;
		if (!vi_parse_key(w[i], &code))
			return g_strdup_printf("error unknown key \"%.32s\" (nothing sent)", w[i]);
		c[2 * (i - 1)] = (struct synth_kbd_key_change){ code, true };
		c[2 * (i - 1) + 1] = (struct synth_kbd_key_change){ code, false };
	}
	int r = synth_kbd_send(kbd, c, 2 * (n - 1));
	return r < 0 ? vi_kbd_error(r) : g_strdup_printf("ok keys=%u", n - 1);
}

static char *vi_pointer_abs(struct synth_mouse *mouse, char **w, guint n)
{
	uint32_t x, y, buttons = 0;
	if (n < 3 || n > 4 || !vi_parse_u32(w[1], INPUT_ABS_MAX, &x) || !vi_parse_u32(w[2], INPUT_ABS_MAX, &y) ||
	    (n == 4 && !vi_parse_u32(w[3], INPUT_BUTTONS_ALL, &buttons)))
		return g_strdup_printf("error usage: pointer-abs X Y [BUTTONS] (X, Y 0..%u; BUTTONS a mask of 5 bits, "
				       "1 left, 2 right, 4 middle, 8 side, 16 extra)", INPUT_ABS_MAX);
	int r = synth_mouse_report(mouse, (uint16_t)x, (uint16_t)y, buttons, 0, 0);
	return r < 0 ? vi_mouse_error(r) : g_strdup("ok");
}

/* wheel N [H]: steps at the pointer's current place, buttons unchanged. */
static char *vi_wheel(struct synth_mouse *mouse, char **w, guint n)
{
	int32_t v = 0, h = 0;
	if (n < 2 || n > 3 || !vi_parse_i32(w[1], SYNTH_MOUSE_WHEEL_MAX, &v) ||
	    (n == 3 && !vi_parse_i32(w[2], SYNTH_MOUSE_WHEEL_MAX, &h)))
		return g_strdup_printf("error usage: wheel N [H] (steps, up / right positive, at most %d)",
				       SYNTH_MOUSE_WHEEL_MAX);
	struct synth_mouse_state st;
	synth_mouse_get_state(mouse, &st);
	int r = synth_mouse_report(mouse, st.x, st.y, st.buttons, v, h);
	return r < 0 ? vi_mouse_error(r) : g_strdup("ok");
}

static char *vi_state(struct synth_kbd *kbd, struct synth_mouse *mouse)
{
	struct synth_kbd_state k;
	struct synth_mouse_state m;
	synth_kbd_get_state(kbd, &k);
	synth_mouse_get_state(mouse, &m);
	g_autofree char *leds = k.leds_known ? g_strdup_printf("0x%x", k.leds) : g_strdup("unknown");
	return g_strdup_printf("ok keyboard=%s mouse=%s keys=%" PRIu64 " events=%" PRIu64 " kbd_queued=%u held=%u"
			       " kbd_dropped=%" PRIu64 " leds=%s kbd_bad=%" PRIu64 " mouse_calls=%" PRIu64
			       " reports=%" PRIu64 " coalesced=%" PRIu64 " mouse_queued=%u mouse_dropped=%" PRIu64
			       " mouse_bad=%" PRIu64 " x=%u y=%u buttons=%u",
			       synth_kbd_phase_name(k.phase), synth_mouse_phase_name(m.phase), k.keys, k.events,
			       k.queued, k.held, k.dropped, leds, k.bad, m.calls, m.sent, m.coalesced, m.queued,
			       m.dropped, m.bad, m.x, m.y, m.buttons);
}

char *vmbus_input_control(struct synth_kbd *kbd, struct synth_mouse *mouse, const char *command)
{
	g_auto(GStrv) w = g_strsplit(command, " ", -1);
	guint n = g_strv_length(w);
	if (n == 0)
		return NULL;
	if (g_str_equal(w[0], "key"))
		return vi_key(kbd, w, n);
	if (g_str_equal(w[0], "keys"))
		return vi_keys(kbd, w, n);
	if (g_str_equal(w[0], "ctrl-alt-del") && n == 1) {
		int r = synth_kbd_ctrl_alt_del(kbd);
		return r < 0 ? vi_kbd_error(r) : g_strdup("ok");
	}
	if (g_str_equal(w[0], "release-keys") && n == 1) {
		int r = synth_kbd_release_all(kbd);
		return r < 0 ? vi_kbd_error(r) : g_strdup_printf("ok released=%d", r);
	}
	if (g_str_equal(w[0], "pointer-abs"))
		return vi_pointer_abs(mouse, w, n);
	if (g_str_equal(w[0], "wheel"))
		return vi_wheel(mouse, w, n);
	if (g_str_equal(w[0], "input") && n == 1)
		return vi_state(kbd, mouse);
	return NULL;
}
