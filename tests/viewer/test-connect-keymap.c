// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SDL scancode -> evdev table (viewer/connect-keymap.c): one code per
 * key, every key of a PC keyboard (105 keys, keypad, F13-F24, media and
 * international keys) there and back again, and the names of both sides
 * agreeing where they name the same key.
 */
#include <linux/input-event-codes.h>
#include <string.h>

#include <glib.h>
#include <SDL2/SDL_keyboard.h>
#include <SDL2/SDL_scancode.h>

#include "connect-keymap.h"

/* Keys of a PC-105 keyboard and its neighbours, with the code evdev gives
 * each on a Linux host (from linux/input-event-codes.h, by hand). */
static const struct {
	SDL_Scancode sc;
	uint16_t code;
} pc_keys[] = {
	{ SDL_SCANCODE_ESCAPE, KEY_ESC }, { SDL_SCANCODE_F1, KEY_F1 }, { SDL_SCANCODE_F12, KEY_F12 },
	{ SDL_SCANCODE_PRINTSCREEN, KEY_SYSRQ }, { SDL_SCANCODE_SCROLLLOCK, KEY_SCROLLLOCK },
	{ SDL_SCANCODE_PAUSE, KEY_PAUSE }, { SDL_SCANCODE_GRAVE, KEY_GRAVE }, { SDL_SCANCODE_1, KEY_1 },
	{ SDL_SCANCODE_0, KEY_0 }, { SDL_SCANCODE_MINUS, KEY_MINUS }, { SDL_SCANCODE_EQUALS, KEY_EQUAL },
	{ SDL_SCANCODE_BACKSPACE, KEY_BACKSPACE }, { SDL_SCANCODE_TAB, KEY_TAB }, { SDL_SCANCODE_Q, KEY_Q },
	{ SDL_SCANCODE_LEFTBRACKET, KEY_LEFTBRACE }, { SDL_SCANCODE_RIGHTBRACKET, KEY_RIGHTBRACE },
	{ SDL_SCANCODE_BACKSLASH, KEY_BACKSLASH }, { SDL_SCANCODE_CAPSLOCK, KEY_CAPSLOCK }, { SDL_SCANCODE_A, KEY_A },
	{ SDL_SCANCODE_SEMICOLON, KEY_SEMICOLON }, { SDL_SCANCODE_APOSTROPHE, KEY_APOSTROPHE },
	{ SDL_SCANCODE_RETURN, KEY_ENTER }, { SDL_SCANCODE_LSHIFT, KEY_LEFTSHIFT },
	{ SDL_SCANCODE_NONUSBACKSLASH, KEY_102ND }, { SDL_SCANCODE_Z, KEY_Z }, { SDL_SCANCODE_M, KEY_M },
	{ SDL_SCANCODE_COMMA, KEY_COMMA }, { SDL_SCANCODE_PERIOD, KEY_DOT }, { SDL_SCANCODE_SLASH, KEY_SLASH },
	{ SDL_SCANCODE_RSHIFT, KEY_RIGHTSHIFT }, { SDL_SCANCODE_LCTRL, KEY_LEFTCTRL }, { SDL_SCANCODE_LGUI, KEY_LEFTMETA },
	{ SDL_SCANCODE_LALT, KEY_LEFTALT }, { SDL_SCANCODE_SPACE, KEY_SPACE }, { SDL_SCANCODE_RALT, KEY_RIGHTALT },
	{ SDL_SCANCODE_RGUI, KEY_RIGHTMETA }, { SDL_SCANCODE_APPLICATION, KEY_COMPOSE },
	{ SDL_SCANCODE_RCTRL, KEY_RIGHTCTRL }, { SDL_SCANCODE_INSERT, KEY_INSERT }, { SDL_SCANCODE_HOME, KEY_HOME },
	{ SDL_SCANCODE_PAGEUP, KEY_PAGEUP }, { SDL_SCANCODE_DELETE, KEY_DELETE }, { SDL_SCANCODE_END, KEY_END },
	{ SDL_SCANCODE_PAGEDOWN, KEY_PAGEDOWN }, { SDL_SCANCODE_UP, KEY_UP }, { SDL_SCANCODE_LEFT, KEY_LEFT },
	{ SDL_SCANCODE_DOWN, KEY_DOWN }, { SDL_SCANCODE_RIGHT, KEY_RIGHT }, { SDL_SCANCODE_NUMLOCKCLEAR, KEY_NUMLOCK },
	{ SDL_SCANCODE_KP_DIVIDE, KEY_KPSLASH }, { SDL_SCANCODE_KP_MULTIPLY, KEY_KPASTERISK },
	{ SDL_SCANCODE_KP_MINUS, KEY_KPMINUS }, { SDL_SCANCODE_KP_PLUS, KEY_KPPLUS },
	{ SDL_SCANCODE_KP_ENTER, KEY_KPENTER }, { SDL_SCANCODE_KP_7, KEY_KP7 }, { SDL_SCANCODE_KP_0, KEY_KP0 },
	{ SDL_SCANCODE_KP_PERIOD, KEY_KPDOT },
	/* beyond PC-105 */
	{ SDL_SCANCODE_F13, KEY_F13 }, { SDL_SCANCODE_F24, KEY_F24 }, { SDL_SCANCODE_KP_EQUALS, KEY_KPEQUAL },
	{ SDL_SCANCODE_KP_COMMA, KEY_KPCOMMA }, { SDL_SCANCODE_INTERNATIONAL1, KEY_RO },
	{ SDL_SCANCODE_INTERNATIONAL3, KEY_YEN }, { SDL_SCANCODE_INTERNATIONAL4, KEY_HENKAN },
	{ SDL_SCANCODE_INTERNATIONAL5, KEY_MUHENKAN }, { SDL_SCANCODE_LANG1, KEY_HANGEUL },
	{ SDL_SCANCODE_LANG2, KEY_HANJA }, { SDL_SCANCODE_MUTE, KEY_MUTE }, { SDL_SCANCODE_VOLUMEUP, KEY_VOLUMEUP },
	{ SDL_SCANCODE_VOLUMEDOWN, KEY_VOLUMEDOWN }, { SDL_SCANCODE_AUDIOPLAY, KEY_PLAYPAUSE },
	{ SDL_SCANCODE_AUDIONEXT, KEY_NEXTSONG }, { SDL_SCANCODE_AUDIOPREV, KEY_PREVIOUSSONG },
	{ SDL_SCANCODE_AC_SEARCH, KEY_SEARCH }, { SDL_SCANCODE_CALCULATOR, KEY_CALC }, { SDL_SCANCODE_POWER, KEY_POWER },
	{ SDL_SCANCODE_SLEEP, KEY_SLEEP }, { SDL_SCANCODE_MENU, KEY_MENU },
};

static void test_pc_keys(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(pc_keys); i++) {
		g_test_message("%s", SDL_GetScancodeName(pc_keys[i].sc));
		g_assert_cmpuint(connect_keymap_to_evdev(pc_keys[i].sc), ==, pc_keys[i].code);
		/* and back: the scancode SDL gives this key on Linux */
		g_assert_cmpint(connect_keymap_from_evdev(pc_keys[i].code), ==, pc_keys[i].sc);
	}
}

/* Letters and digits run in HID order; evdev's follow the PC's rows. */
static void test_letters_digits(void)
{
	static const uint16_t letters[26] = { KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
					      KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
					      KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z };
	for (int i = 0; i < 26; i++)
		g_assert_cmpuint(connect_keymap_to_evdev(SDL_SCANCODE_A + i), ==, letters[i]);
	for (int i = 0; i < 9; i++)
		g_assert_cmpuint(connect_keymap_to_evdev(SDL_SCANCODE_1 + i), ==, KEY_1 + i);
	for (int i = 0; i < 12; i++)
		g_assert_cmpuint(connect_keymap_to_evdev(SDL_SCANCODE_F13 + i), ==, KEY_F13 + i);
	/* keypad 1-9 are three rows, bottom first in HID, top first in evdev */
	static const uint16_t kp[9] = { KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9 };
	for (int i = 0; i < 9; i++)
		g_assert_cmpuint(connect_keymap_to_evdev(SDL_SCANCODE_KP_1 + i), ==, kp[i]);
}

/* No code for two keys, except the declared aliases, and an alias's code
 * belongs to a key of its own. */
static void test_no_duplicates(void)
{
	int owner[KEY_MAX + 1];
	for (int i = 0; i <= KEY_MAX; i++)
		owner[i] = -1;
	unsigned mapped = 0, aliases = 0;
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		uint16_t c = connect_keymap_to_evdev(sc);
		if (!c)
			continue;
		g_assert_cmpuint(c, <=, KEY_MAX);
		mapped++;
		if (connect_keymap_is_alias(sc)) {
			aliases++;
			continue;
		}
		if (owner[c] >= 0)
			g_error("evdev code %u is both %s and %s", c, SDL_GetScancodeName(owner[c]),
				SDL_GetScancodeName(sc));
		owner[c] = sc;
	}
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++)
		if (connect_keymap_is_alias(sc)) {
			uint16_t c = connect_keymap_to_evdev(sc);
			g_assert_cmpuint(c, !=, 0);
			g_assert_cmpint(owner[c], >=, 0);
			g_assert_cmpint(connect_keymap_from_evdev(c), ==, owner[c]);
		}
	g_assert_cmpuint(aliases, ==, 4);
	/* every key of the HID keyboard page that evdev has, and the media keys */
	g_assert_cmpuint(mapped, ==, 184);
	g_assert_cmpuint(connect_keymap_to_evdev(SDL_SCANCODE_UNKNOWN), ==, 0);
	g_assert_cmpuint(connect_keymap_to_evdev(SDL_NUM_SCANCODES), ==, 0);
	g_assert_cmpuint(connect_keymap_to_evdev((SDL_Scancode)-1), ==, 0);
	g_assert_cmpint(connect_keymap_from_evdev(0), ==, SDL_SCANCODE_UNKNOWN);
	g_assert_cmpint(connect_keymap_from_evdev(KEY_MACRO), ==, SDL_SCANCODE_UNKNOWN);
}

/* Every scancode SDL names in the range of the HID keyboard page is in
 * the table, or is one of the few with no evdev key: a key added to the
 * table's side without thought shows up here. */
static void test_complete(void)
{
	static const SDL_Scancode none[] = {
		SDL_SCANCODE_KP_EQUALSAS400, SDL_SCANCODE_INTERNATIONAL7, SDL_SCANCODE_INTERNATIONAL8,
		SDL_SCANCODE_INTERNATIONAL9, SDL_SCANCODE_LANG6, SDL_SCANCODE_LANG7, SDL_SCANCODE_LANG8, SDL_SCANCODE_LANG9,
		SDL_SCANCODE_PRIOR, SDL_SCANCODE_RETURN2, SDL_SCANCODE_SEPARATOR, SDL_SCANCODE_OUT, SDL_SCANCODE_OPER,
		SDL_SCANCODE_CLEARAGAIN, SDL_SCANCODE_CRSEL, SDL_SCANCODE_EXSEL, SDL_SCANCODE_KP_00, SDL_SCANCODE_KP_000,
		SDL_SCANCODE_THOUSANDSSEPARATOR, SDL_SCANCODE_DECIMALSEPARATOR, SDL_SCANCODE_CURRENCYUNIT,
		SDL_SCANCODE_CURRENCYSUBUNIT, SDL_SCANCODE_KP_LEFTBRACE, SDL_SCANCODE_KP_RIGHTBRACE, SDL_SCANCODE_KP_TAB,
		SDL_SCANCODE_KP_BACKSPACE, SDL_SCANCODE_KP_A, SDL_SCANCODE_KP_B, SDL_SCANCODE_KP_C, SDL_SCANCODE_KP_D,
		SDL_SCANCODE_KP_E, SDL_SCANCODE_KP_F, SDL_SCANCODE_KP_XOR, SDL_SCANCODE_KP_POWER, SDL_SCANCODE_KP_PERCENT,
		SDL_SCANCODE_KP_LESS, SDL_SCANCODE_KP_GREATER, SDL_SCANCODE_KP_AMPERSAND, SDL_SCANCODE_KP_DBLAMPERSAND,
		SDL_SCANCODE_KP_VERTICALBAR, SDL_SCANCODE_KP_DBLVERTICALBAR, SDL_SCANCODE_KP_COLON, SDL_SCANCODE_KP_HASH,
		SDL_SCANCODE_KP_SPACE, SDL_SCANCODE_KP_AT, SDL_SCANCODE_KP_EXCLAM, SDL_SCANCODE_KP_MEMSTORE,
		SDL_SCANCODE_KP_MEMRECALL, SDL_SCANCODE_KP_MEMCLEAR, SDL_SCANCODE_KP_MEMADD, SDL_SCANCODE_KP_MEMSUBTRACT,
		SDL_SCANCODE_KP_MEMMULTIPLY, SDL_SCANCODE_KP_MEMDIVIDE, SDL_SCANCODE_KP_CLEAR,
		SDL_SCANCODE_KP_CLEARENTRY, SDL_SCANCODE_KP_BINARY, SDL_SCANCODE_KP_OCTAL, SDL_SCANCODE_KP_DECIMAL,
		SDL_SCANCODE_KP_HEXADECIMAL, SDL_SCANCODE_MODE, SDL_SCANCODE_SOFTLEFT, SDL_SCANCODE_SOFTRIGHT,
	};
	for (int sc = SDL_SCANCODE_A; sc < SDL_NUM_SCANCODES; sc++) {
		const char *name = SDL_GetScancodeName(sc);
		if (!name || !*name)
			continue;
		bool absent = false;
		for (size_t i = 0; i < G_N_ELEMENTS(none); i++)
			absent |= (int)none[i] == sc;
		if (absent)
			g_assert_cmpuint(connect_keymap_to_evdev(sc), ==, 0);
		else if (!connect_keymap_to_evdev(sc))
			g_error("scancode %d (%s) has no evdev code and is not listed as having none", sc, name);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/connect-keymap/pc-keys", test_pc_keys);
	g_test_add_func("/connect-keymap/letters-digits", test_letters_digits);
	g_test_add_func("/connect-keymap/no-duplicates", test_no_duplicates);
	g_test_add_func("/connect-keymap/complete", test_complete);
	return g_test_run();
}
