// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The evdev -> scan code set 1 table (keymap_xt.c) and the keyboard's
 * strokes (synth_kbd_msg.c) against a Linux guest's decoding
 * (test-synth-kbd-model.c, written by scan code): every key of the table
 * comes out of the guest as itself, pressed then released; no two keys
 * send the same bytes; E0, E1 and the keys that release themselves; the
 * keys Linux lacks by default decode after setkeycodes and not before.
 * The real-guest scenario presses the same keys (scenarios/input.sh and
 * .host): their lists must be the table's.
 */
#include <linux/input-event-codes.h>
#include <string.h>

#include <glib.h>

#include "test-synth-kbd-model.h"
#include "vsp/keymap_xt.h"
#include "vsp/synth_kbd_msg.h"

/* The bytes a key's strokes become in the guest (hyperv_keyboard). */
static size_t key_bytes(const struct keymap_xt_key *k, bool down, uint8_t *out)
{
	struct synth_kbd_stroke s[SYNTH_KBD_STROKES_MAX];
	size_t n = synth_kbd_strokes(k, down, s), nb = 0;
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpuint(s[i].make_code, <, 0x80);
		g_assert_cmpuint(s[i].info & SYNTH_KBD_INFO_UNICODE, ==, 0);
		if (s[i].info & SYNTH_KBD_INFO_E0)
			out[nb++] = 0xe0;
		if (s[i].info & SYNTH_KBD_INFO_E1)
			out[nb++] = 0xe1;
		out[nb++] = (uint8_t)(s[i].make_code | ((s[i].info & SYNTH_KBD_INFO_BREAK) ? 0x80 : 0));
	}
	return nb;
}

/* Feed a key's strokes through real EVENT messages into the guest. */
static void guest_key(struct xt_guest *g, const struct keymap_xt_key *k, bool down)
{
	struct synth_kbd_stroke s[SYNTH_KBD_STROKES_MAX];
	size_t n = synth_kbd_strokes(k, down, s);
	for (size_t i = 0; i < n; i++) {
		uint8_t msg[16] = { 0 };   /* the ring pads the 12 bytes to 16 */
		g_assert_cmpint(synth_kbd_msg_build_event(msg, sizeof(msg), &s[i]), ==, 12);
		xt_guest_message(g, msg, sizeof(msg));
	}
}

/* atkbd's number for a code: E0 codes at 0x80 + code. */
static unsigned atkbd_scancode(const struct keymap_xt_key *k)
{
	return k->code | ((k->flags & KEYMAP_XT_E0) ? 0x80u : 0);
}

static void test_table_shape(void)
{
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	g_assert_cmpuint(n, >=, 150);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpuint(t[i].evdev, >, 0);
		g_assert_cmpuint(t[i].evdev, <, KEYMAP_XT_EVDEV_LIMIT);
		if (i)
			g_assert_cmpuint(t[i - 1].evdev, <, t[i].evdev);
		g_assert_cmpuint(t[i].code, >, 0);
		g_assert_cmpuint(t[i].code, <, 0x80);
		/* At most one of the prefixes; self-releasing keys have none. */
		g_assert_false((t[i].flags & KEYMAP_XT_E0) && (t[i].flags & KEYMAP_XT_E1));
		if (t[i].flags & KEYMAP_XT_PRESS_ONLY)
			g_assert_cmpuint(t[i].flags & (KEYMAP_XT_E0 | KEYMAP_XT_E1), ==, 0);
		g_assert_true(g_str_has_prefix(t[i].name, "KEY_"));
		g_assert_true(keymap_xt_find(t[i].evdev) == &t[i]);
		g_assert_true(keymap_xt_find_name(t[i].name) == &t[i]);
		g_autofree char *lower = g_ascii_strdown(t[i].name, -1);
		g_assert_true(keymap_xt_find_name(lower) == &t[i]);
	}
	/* What a PC keyboard has, by name. */
	static const uint16_t must[] = {
		KEY_A, KEY_Z, KEY_0, KEY_9, KEY_F1, KEY_F12, KEY_F13, KEY_F24, KEY_KP0, KEY_KPENTER,
		KEY_KPSLASH, KEY_KPASTERISK, KEY_KPDOT, KEY_NUMLOCK, KEY_UP, KEY_DOWN, KEY_LEFT, KEY_RIGHT,
		KEY_HOME, KEY_END, KEY_PAGEUP, KEY_PAGEDOWN, KEY_INSERT, KEY_DELETE, KEY_SYSRQ, KEY_PAUSE,
		KEY_SCROLLLOCK, KEY_COMPOSE, KEY_LEFTMETA, KEY_RIGHTMETA, KEY_RIGHTCTRL, KEY_RIGHTALT,
		KEY_MUTE, KEY_VOLUMEUP, KEY_VOLUMEDOWN, KEY_PLAYPAUSE, KEY_NEXTSONG, KEY_PREVIOUSSONG,
		KEY_STOPCD, KEY_HOMEPAGE, KEY_SEARCH, KEY_BACK, KEY_FORWARD, KEY_REFRESH, KEY_STOP,
		KEY_BOOKMARKS, KEY_MAIL, KEY_CALC, KEY_COMPUTER, KEY_MEDIA, KEY_POWER, KEY_SLEEP, KEY_WAKEUP,
		KEY_RO, KEY_YEN, KEY_HENKAN, KEY_MUHENKAN, KEY_KATAKANAHIRAGANA, KEY_HANGEUL, KEY_HANJA,
		KEY_102ND, KEY_ZENKAKUHANKAKU, KEY_KPEQUAL, KEY_KPCOMMA, KEY_KPJPCOMMA,
	};
	for (size_t i = 0; i < G_N_ELEMENTS(must); i++)
		g_assert_nonnull(keymap_xt_find(must[i]));
	for (uint16_t c = KEY_F1; c <= KEY_F10; c++)
		g_assert_nonnull(keymap_xt_find(c));
	for (uint16_t c = KEY_F13; c <= KEY_F24; c++)
		g_assert_nonnull(keymap_xt_find(c));
	/* And what it has not. */
	g_assert_null(keymap_xt_find(KEY_RESERVED));
	g_assert_null(keymap_xt_find(KEY_MACRO));
	g_assert_null(keymap_xt_find(BTN_LEFT));
	g_assert_null(keymap_xt_find(KEY_MAX));
	g_assert_null(keymap_xt_find(UINT16_MAX));
	g_assert_null(keymap_xt_find_name("KEY_NOPE"));
	g_assert_null(keymap_xt_find_name("A"));
	g_assert_null(keymap_xt_find_name(""));
	g_assert_null(keymap_xt_find_name(NULL));
}

static void test_no_duplicates(void)
{
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
							   (GDestroyNotify)g_bytes_unref, NULL);
	for (size_t i = 0; i < n; i++) {
		uint8_t b[8];
		for (int down = 1; down >= 0; down--) {
			size_t nb = key_bytes(&t[i], down, b);
			if (!down && (t[i].flags & KEYMAP_XT_PRESS_ONLY)) {
				g_assert_cmpuint(nb, ==, 0);
				continue;
			}
			GBytes *key = g_bytes_new(b, nb);
			if (g_hash_table_contains(seen, key))
				g_error("%s %s sends the bytes of %s", t[i].name, down ? "press" : "release",
					(const char *)g_hash_table_lookup(seen, key));
			g_hash_table_insert(seen, key, (gpointer)t[i].name);
		}
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, 2 * n - 2);   /* Hangeul and Hanja release silently */
}

static void test_prefixes(void)
{
	uint8_t b[8];
	/* A plain key, an E0 key, Pause's E1 sequence, Hangeul's lone byte. */
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_A), true, b), ==, 1);
	g_assert_cmphex(b[0], ==, 0x1e);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_A), false, b), ==, 1);
	g_assert_cmphex(b[0], ==, 0x9e);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_RIGHTCTRL), true, b), ==, 2);
	g_assert_cmphex(b[0], ==, 0xe0);
	g_assert_cmphex(b[1], ==, 0x1d);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_RIGHTCTRL), false, b), ==, 2);
	g_assert_cmphex(b[1], ==, 0x9d);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_SYSRQ), true, b), ==, 2);
	g_assert_cmphex(b[0], ==, 0xe0);
	g_assert_cmphex(b[1], ==, 0x37);
	static const uint8_t pause_down[] = { 0xe1, 0x1d, 0x45 }, pause_up[] = { 0xe1, 0x9d, 0xc5 };
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_PAUSE), true, b), ==, 3);
	g_assert_cmpmem(b, 3, pause_down, 3);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_PAUSE), false, b), ==, 3);
	g_assert_cmpmem(b, 3, pause_up, 3);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_HANGEUL), true, b), ==, 1);
	g_assert_cmphex(b[0], ==, 0xf2);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_HANJA), true, b), ==, 1);
	g_assert_cmphex(b[0], ==, 0xf1);
	g_assert_cmpuint(key_bytes(keymap_xt_find(KEY_HANJA), false, b), ==, 0);

	/* The model itself: E1 1D alone gives nothing, the Pause code does;
	 * a lone 0xAA is the keyboard's self-test, after 0x2A it is Shift up. */
	struct xt_guest g;
	xt_guest_init(&g);
	xt_guest_byte(&g, 0xe1);
	xt_guest_byte(&g, 0x1d);
	g_assert_cmpuint(g.n, ==, 0);
	xt_guest_byte(&g, 0x45);
	g_assert_cmpuint(g.n, ==, 1);
	g_assert_cmpuint(g.ev[0].code, ==, KEY_PAUSE);
	xt_guest_byte(&g, 0xaa);
	g_assert_cmpuint(g.resets, ==, 1);
	xt_guest_byte(&g, 0x2a);
	xt_guest_byte(&g, 0xaa);
	g_assert_cmpuint(g.resets, ==, 1);
	g_assert_cmpuint(g.n, ==, 3);
	g_assert_cmpuint(g.ev[2].code, ==, KEY_LEFTSHIFT);
	g_assert_cmpint(g.ev[2].value, ==, 0);
}

/* Press and release every key of the table, one after the other, through
 * EVENT messages into the guest. */
static void press_all(struct xt_guest *g, bool setkeycodes)
{
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	xt_guest_init(g);
	if (setkeycodes)
		for (size_t i = 0; i < n; i++)
			if (t[i].flags & KEYMAP_XT_SETKEYCODES)
				xt_guest_setkeycode(g, atkbd_scancode(&t[i]), t[i].evdev);
	for (size_t i = 0; i < n; i++) {
		guest_key(g, &t[i], true);
		guest_key(g, &t[i], false);
	}
}

static void test_round_trip(void)
{
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	struct xt_guest *g = g_new(struct xt_guest, 1);
	press_all(g, true);
	g_assert_cmpuint(g->resets, ==, 0);
	g_assert_cmpuint(g->replies, ==, 0);
	g_assert_cmpuint(g->unknown, ==, 0);
	g_assert_cmpuint(g->dropped_msgs, ==, 0);
	g_assert_cmpuint(g->n, ==, 2 * n);
	for (size_t i = 0; i < n; i++) {
		if (g->ev[2 * i].code != t[i].evdev || g->ev[2 * i].value != 1 || g->ev[2 * i + 1].code != t[i].evdev ||
		    g->ev[2 * i + 1].value != 0)
			g_error("%s (%u) came out as %u=%d, %u=%d", t[i].name, t[i].evdev, g->ev[2 * i].code,
				g->ev[2 * i].value, g->ev[2 * i + 1].code, g->ev[2 * i + 1].value);
	}
	g_free(g);
}

/* The flag tells the truth: without setkeycodes those keys are unknown to
 * Linux, and every other key decodes by default. */
static void test_setkeycodes_flag(void)
{
	size_t n, flagged = 0;
	const struct keymap_xt_key *t = keymap_xt_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (t[i].flags & (KEYMAP_XT_E1 | KEYMAP_XT_PRESS_ONLY))
			continue;
		uint16_t def = xt_guest_default_key(t[i].flags & KEYMAP_XT_E0, t[i].code);
		if (t[i].flags & KEYMAP_XT_SETKEYCODES) {
			flagged++;
			g_assert_cmpuint(def, ==, 0);
		} else if (def != t[i].evdev) {
			g_error("%s: Linux decodes %s%02x as %u by default", t[i].name,
				(t[i].flags & KEYMAP_XT_E0) ? "e0 " : "", t[i].code, def);
		}
	}
	g_assert_cmpuint(flagged, ==, 8);   /* F16-F22, F24 */
	struct xt_guest *g = g_new(struct xt_guest, 1);
	press_all(g, false);
	g_assert_cmpuint(g->unknown, ==, 2 * flagged);
	g_assert_cmpuint(g->n, ==, 2 * (n - flagged));
	g_free(g);
}

/* Pressing a key twice without a release is a repeat; releasing, a release. */
static void test_repeat(void)
{
	struct xt_guest g;
	xt_guest_init(&g);
	const struct keymap_xt_key *k = keymap_xt_find(KEY_LEFT);
	guest_key(&g, k, true);
	guest_key(&g, k, true);
	guest_key(&g, k, false);
	g_assert_cmpuint(g.n, ==, 3);
	g_assert_cmpint(g.ev[0].value, ==, 1);
	g_assert_cmpint(g.ev[1].value, ==, 2);
	g_assert_cmpint(g.ev[2].value, ==, 0);
	g_assert_cmpuint(g.ev[2].code, ==, KEY_LEFT);
}

/* ---- the real-guest scenario's lists ---- */

static char *read_source(const char *rel)
{
	g_autofree char *path = g_build_filename(VIREO_SOURCE_ROOT, rel, NULL);
	char *text = NULL;
	g_autoptr(GError) error = NULL;
	if (!g_file_get_contents(path, &text, NULL, &error))
		g_error("%s", error->message);
	return text;
}

/* The words of VAR="..." (may span lines) in a shell script. */
static char **shell_list(const char *text, const char *var)
{
	g_autofree char *start = g_strdup_printf("\n%s=\"", var);
	const char *p = strstr(text, start);
	g_assert_nonnull(p);
	p += strlen(start);
	const char *end = strchr(p, '"');
	g_assert_nonnull(end);
	g_autofree char *body = g_strndup(p, (gsize)(end - p));
	g_strdelimit(body, "\n\t", ' ');
	char **w = g_strsplit(g_strstrip(body), " ", -1);
	GPtrArray *out = g_ptr_array_new();
	for (char **x = w; *x; x++)
		if (**x)
			g_ptr_array_add(out, g_strdup(*x));
	g_strfreev(w);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static void test_scenario_lists(void)
{
	size_t n;
	const struct keymap_xt_key *t = keymap_xt_table(&n);

	g_autofree char *sh = read_source("tests/guest/scenarios/input.sh");
	g_auto(GStrv) keys = shell_list(sh, "KEYS");
	g_assert_cmpuint(g_strv_length(keys), ==, n);
	for (size_t i = 0; i < n; i++)
		g_assert_cmpuint(g_ascii_strtoull(keys[i], NULL, 10), ==, t[i].evdev);

	/* SCAN:KEY for each key the guest must be told about. */
	g_auto(GStrv) remap = shell_list(sh, "REMAP");
	size_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(t[i].flags & KEYMAP_XT_SETKEYCODES))
			continue;
		g_assert_nonnull(remap[r]);
		g_autofree char *want = g_strdup_printf("0x%02x:%u", atkbd_scancode(&t[i]), t[i].evdev);
		g_assert_cmpstr(remap[r], ==, want);
		r++;
	}
	g_assert_null(remap[r]);

	/* The host presses them with `keys` lines, in table order. */
	g_autofree char *host = read_source("tests/guest/scenarios/input.host");
	g_auto(GStrv) lines = g_strsplit(host, "\n", -1);
	size_t k = 0;
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) w = g_strsplit(g_strstrip(*l), " ", -1);
		if (g_strv_length(w) < 4 || !g_str_equal(w[0], "run") || !g_str_equal(w[2], "keys"))
			continue;
		for (char **c = w + 3; *c; c++) {
			g_assert_cmpuint(k, <, n);
			g_assert_cmpuint(g_ascii_strtoull(*c, NULL, 10), ==, t[k].evdev);
			k++;
		}
	}
	g_assert_cmpuint(k, ==, n);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/keymap/table-shape", test_table_shape);
	g_test_add_func("/keymap/no-duplicates", test_no_duplicates);
	g_test_add_func("/keymap/prefixes", test_prefixes);
	g_test_add_func("/keymap/round-trip", test_round_trip);
	g_test_add_func("/keymap/setkeycodes-flag", test_setkeycodes_flag);
	g_test_add_func("/keymap/repeat", test_repeat);
	g_test_add_func("/keymap/scenario-lists", test_scenario_lists);
	return g_test_run();
}
