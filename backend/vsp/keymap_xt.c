// SPDX-License-Identifier: GPL-2.0-or-later
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <strings.h>

#include "vsp/keymap_xt.h"

#define K(key, code, flags) { key, code, flags, #key }
#define E0 KEYMAP_XT_E0

/* In evdev order. The main block's evdev codes are its set 1 codes
 * (1-83), spelled out anyway so that every entry can be read against the
 * scan code tables. */
static const struct keymap_xt_key keymap_xt[] = {
	K(KEY_ESC, 0x01, 0),
	K(KEY_1, 0x02, 0),
	K(KEY_2, 0x03, 0),
	K(KEY_3, 0x04, 0),
	K(KEY_4, 0x05, 0),
	K(KEY_5, 0x06, 0),
	K(KEY_6, 0x07, 0),
	K(KEY_7, 0x08, 0),
	K(KEY_8, 0x09, 0),
	K(KEY_9, 0x0a, 0),
	K(KEY_0, 0x0b, 0),
	K(KEY_MINUS, 0x0c, 0),
	K(KEY_EQUAL, 0x0d, 0),
	K(KEY_BACKSPACE, 0x0e, 0),
	K(KEY_TAB, 0x0f, 0),
	K(KEY_Q, 0x10, 0),
	K(KEY_W, 0x11, 0),
	K(KEY_E, 0x12, 0),
	K(KEY_R, 0x13, 0),
	K(KEY_T, 0x14, 0),
	K(KEY_Y, 0x15, 0),
	K(KEY_U, 0x16, 0),
	K(KEY_I, 0x17, 0),
	K(KEY_O, 0x18, 0),
	K(KEY_P, 0x19, 0),
	K(KEY_LEFTBRACE, 0x1a, 0),
	K(KEY_RIGHTBRACE, 0x1b, 0),
	K(KEY_ENTER, 0x1c, 0),
	K(KEY_LEFTCTRL, 0x1d, 0),
	K(KEY_A, 0x1e, 0),
	K(KEY_S, 0x1f, 0),
	K(KEY_D, 0x20, 0),
	K(KEY_F, 0x21, 0),
	K(KEY_G, 0x22, 0),
	K(KEY_H, 0x23, 0),
	K(KEY_J, 0x24, 0),
	K(KEY_K, 0x25, 0),
	K(KEY_L, 0x26, 0),
	K(KEY_SEMICOLON, 0x27, 0),
	K(KEY_APOSTROPHE, 0x28, 0),
	K(KEY_GRAVE, 0x29, 0),
	K(KEY_LEFTSHIFT, 0x2a, 0),
	K(KEY_BACKSLASH, 0x2b, 0),
	K(KEY_Z, 0x2c, 0),
	K(KEY_X, 0x2d, 0),
	K(KEY_C, 0x2e, 0),
	K(KEY_V, 0x2f, 0),
	K(KEY_B, 0x30, 0),
	K(KEY_N, 0x31, 0),
	K(KEY_M, 0x32, 0),
	K(KEY_COMMA, 0x33, 0),
	K(KEY_DOT, 0x34, 0),
	K(KEY_SLASH, 0x35, 0),
	K(KEY_RIGHTSHIFT, 0x36, 0),
	K(KEY_KPASTERISK, 0x37, 0),
	K(KEY_LEFTALT, 0x38, 0),
	K(KEY_SPACE, 0x39, 0),
	K(KEY_CAPSLOCK, 0x3a, 0),
	K(KEY_F1, 0x3b, 0),
	K(KEY_F2, 0x3c, 0),
	K(KEY_F3, 0x3d, 0),
	K(KEY_F4, 0x3e, 0),
	K(KEY_F5, 0x3f, 0),
	K(KEY_F6, 0x40, 0),
	K(KEY_F7, 0x41, 0),
	K(KEY_F8, 0x42, 0),
	K(KEY_F9, 0x43, 0),
	K(KEY_F10, 0x44, 0),
	K(KEY_NUMLOCK, 0x45, 0),
	K(KEY_SCROLLLOCK, 0x46, 0),
	K(KEY_KP7, 0x47, 0),
	K(KEY_KP8, 0x48, 0),
	K(KEY_KP9, 0x49, 0),
	K(KEY_KPMINUS, 0x4a, 0),
	K(KEY_KP4, 0x4b, 0),
	K(KEY_KP5, 0x4c, 0),
	K(KEY_KP6, 0x4d, 0),
	K(KEY_KPPLUS, 0x4e, 0),
	K(KEY_KP1, 0x4f, 0),
	K(KEY_KP2, 0x50, 0),
	K(KEY_KP3, 0x51, 0),
	K(KEY_KP0, 0x52, 0),
	K(KEY_KPDOT, 0x53, 0),
	K(KEY_ZENKAKUHANKAKU, 0x76, 0),
	K(KEY_102ND, 0x56, 0),            /* the ISO key between left Shift and Z */
	K(KEY_F11, 0x57, 0),
	K(KEY_F12, 0x58, 0),
	K(KEY_RO, 0x73, 0),
	K(KEY_KATAKANA, 0x78, 0),
	K(KEY_HIRAGANA, 0x77, 0),
	K(KEY_HENKAN, 0x79, 0),
	K(KEY_KATAKANAHIRAGANA, 0x70, 0),
	K(KEY_MUHENKAN, 0x7b, 0),
	K(KEY_KPJPCOMMA, 0x5c, 0),
	K(KEY_KPENTER, 0x1c, E0),
	K(KEY_RIGHTCTRL, 0x1d, E0),
	K(KEY_KPSLASH, 0x35, E0),
	/* Print Screen: E0 37 alone (without the E0 2A "fake shift" a real
	 * keyboard adds, which Linux ignores anyway). */
	K(KEY_SYSRQ, 0x37, E0),
	K(KEY_RIGHTALT, 0x38, E0),
	K(KEY_HOME, 0x47, E0),
	K(KEY_UP, 0x48, E0),
	K(KEY_PAGEUP, 0x49, E0),
	K(KEY_LEFT, 0x4b, E0),
	K(KEY_RIGHT, 0x4d, E0),
	K(KEY_END, 0x4f, E0),
	K(KEY_DOWN, 0x50, E0),
	K(KEY_PAGEDOWN, 0x51, E0),
	K(KEY_INSERT, 0x52, E0),
	K(KEY_DELETE, 0x53, E0),
	K(KEY_MUTE, 0x20, E0),
	K(KEY_VOLUMEDOWN, 0x2e, E0),
	K(KEY_VOLUMEUP, 0x30, E0),
	K(KEY_POWER, 0x5e, E0),
	K(KEY_KPEQUAL, 0x59, 0),
	K(KEY_PAUSE, 0x45, KEYMAP_XT_E1),
	K(KEY_KPCOMMA, 0x7e, 0),
	K(KEY_HANGEUL, 0x72, KEYMAP_XT_PRESS_ONLY),
	K(KEY_HANJA, 0x71, KEYMAP_XT_PRESS_ONLY),
	K(KEY_YEN, 0x7d, 0),
	K(KEY_LEFTMETA, 0x5b, E0),
	K(KEY_RIGHTMETA, 0x5c, E0),
	K(KEY_COMPOSE, 0x5d, E0),         /* the Menu (Application) key */
	K(KEY_STOP, 0x68, E0),            /* browser Stop */
	K(KEY_CALC, 0x21, E0),
	K(KEY_SLEEP, 0x5f, E0),
	K(KEY_WAKEUP, 0x63, E0),
	K(KEY_MAIL, 0x6c, E0),
	K(KEY_BOOKMARKS, 0x66, E0),
	K(KEY_COMPUTER, 0x6b, E0),
	K(KEY_BACK, 0x6a, E0),
	K(KEY_FORWARD, 0x69, E0),
	K(KEY_NEXTSONG, 0x19, E0),
	K(KEY_PLAYPAUSE, 0x22, E0),
	K(KEY_PREVIOUSSONG, 0x10, E0),
	K(KEY_STOPCD, 0x24, E0),
	K(KEY_HOMEPAGE, 0x32, E0),
	K(KEY_REFRESH, 0x67, E0),
	K(KEY_F13, 0x5d, 0),
	K(KEY_F14, 0x5e, 0),
	K(KEY_F15, 0x5f, 0),
	K(KEY_F16, 0x67, KEYMAP_XT_SETKEYCODES),
	K(KEY_F17, 0x68, KEYMAP_XT_SETKEYCODES),
	K(KEY_F18, 0x69, KEYMAP_XT_SETKEYCODES),
	K(KEY_F19, 0x6a, KEYMAP_XT_SETKEYCODES),
	K(KEY_F20, 0x6b, KEYMAP_XT_SETKEYCODES),
	K(KEY_F21, 0x6c, KEYMAP_XT_SETKEYCODES),
	K(KEY_F22, 0x6d, KEYMAP_XT_SETKEYCODES),
	K(KEY_F23, 0x6e, 0),
	K(KEY_F24, 0x6f, KEYMAP_XT_SETKEYCODES),
	K(KEY_SEARCH, 0x65, E0),
	K(KEY_MEDIA, 0x6d, E0),
};

_Static_assert(sizeof(keymap_xt) / sizeof(keymap_xt[0]) < KEYMAP_XT_EVDEV_LIMIT, "table size");

const struct keymap_xt_key *keymap_xt_find(uint16_t evdev)
{
	/* Sorted by evdev code: a binary search. */
	size_t lo = 0, hi = sizeof(keymap_xt) / sizeof(keymap_xt[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keymap_xt[mid].evdev == evdev)
			return &keymap_xt[mid];
		if (keymap_xt[mid].evdev < evdev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct keymap_xt_key *keymap_xt_find_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(keymap_xt) / sizeof(keymap_xt[0]); i++)
		if (strcasecmp(keymap_xt[i].name, name) == 0)
			return &keymap_xt[i];
	return NULL;
}

const struct keymap_xt_key *keymap_xt_table(size_t *n)
{
	*n = sizeof(keymap_xt) / sizeof(keymap_xt[0]);
	return keymap_xt;
}
