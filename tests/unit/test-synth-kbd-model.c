// SPDX-License-Identifier: GPL-2.0-or-later
#include <linux/input-event-codes.h>
#include <string.h>

#include "test-synth-kbd-model.h"

/* Scan code set 1 as a Linux guest decodes it by default, by code. */
static const uint16_t set1_plain[0x80] = {
	[0x01] = KEY_ESC, [0x02] = KEY_1, [0x03] = KEY_2, [0x04] = KEY_3, [0x05] = KEY_4,
	[0x06] = KEY_5, [0x07] = KEY_6, [0x08] = KEY_7, [0x09] = KEY_8, [0x0a] = KEY_9,
	[0x0b] = KEY_0, [0x0c] = KEY_MINUS, [0x0d] = KEY_EQUAL, [0x0e] = KEY_BACKSPACE,
	[0x0f] = KEY_TAB,
	[0x10] = KEY_Q, [0x11] = KEY_W, [0x12] = KEY_E, [0x13] = KEY_R, [0x14] = KEY_T,
	[0x15] = KEY_Y, [0x16] = KEY_U, [0x17] = KEY_I, [0x18] = KEY_O, [0x19] = KEY_P,
	[0x1a] = KEY_LEFTBRACE, [0x1b] = KEY_RIGHTBRACE, [0x1c] = KEY_ENTER, [0x1d] = KEY_LEFTCTRL,
	[0x1e] = KEY_A, [0x1f] = KEY_S,
	[0x20] = KEY_D, [0x21] = KEY_F, [0x22] = KEY_G, [0x23] = KEY_H, [0x24] = KEY_J,
	[0x25] = KEY_K, [0x26] = KEY_L, [0x27] = KEY_SEMICOLON, [0x28] = KEY_APOSTROPHE,
	[0x29] = KEY_GRAVE, [0x2a] = KEY_LEFTSHIFT, [0x2b] = KEY_BACKSLASH, [0x2c] = KEY_Z,
	[0x2d] = KEY_X, [0x2e] = KEY_C, [0x2f] = KEY_V,
	[0x30] = KEY_B, [0x31] = KEY_N, [0x32] = KEY_M, [0x33] = KEY_COMMA, [0x34] = KEY_DOT,
	[0x35] = KEY_SLASH, [0x36] = KEY_RIGHTSHIFT, [0x37] = KEY_KPASTERISK, [0x38] = KEY_LEFTALT,
	[0x39] = KEY_SPACE, [0x3a] = KEY_CAPSLOCK, [0x3b] = KEY_F1, [0x3c] = KEY_F2,
	[0x3d] = KEY_F3, [0x3e] = KEY_F4, [0x3f] = KEY_F5,
	[0x40] = KEY_F6, [0x41] = KEY_F7, [0x42] = KEY_F8, [0x43] = KEY_F9, [0x44] = KEY_F10,
	[0x45] = KEY_NUMLOCK, [0x46] = KEY_SCROLLLOCK, [0x47] = KEY_KP7, [0x48] = KEY_KP8,
	[0x49] = KEY_KP9, [0x4a] = KEY_KPMINUS, [0x4b] = KEY_KP4, [0x4c] = KEY_KP5,
	[0x4d] = KEY_KP6, [0x4e] = KEY_KPPLUS, [0x4f] = KEY_KP1,
	[0x50] = KEY_KP2, [0x51] = KEY_KP3, [0x52] = KEY_KP0, [0x53] = KEY_KPDOT,
	[0x54] = KEY_SYSRQ,          /* what Alt+Print Screen sends */
	[0x56] = KEY_102ND, [0x57] = KEY_F11, [0x58] = KEY_F12, [0x59] = KEY_KPEQUAL,
	[0x5c] = KEY_KPJPCOMMA, [0x5d] = KEY_F13, [0x5e] = KEY_F14, [0x5f] = KEY_F15,
	[0x6e] = KEY_F23,
	[0x70] = KEY_KATAKANAHIRAGANA, [0x73] = KEY_RO, [0x76] = KEY_ZENKAKUHANKAKU,
	[0x77] = KEY_HIRAGANA, [0x78] = KEY_KATAKANA, [0x79] = KEY_HENKAN, [0x7b] = KEY_MUHENKAN,
	[0x7d] = KEY_YEN, [0x7e] = KEY_KPCOMMA,
};

/* After 0xE0. */
static const uint16_t set1_e0[0x80] = {
	[0x10] = KEY_PREVIOUSSONG, [0x19] = KEY_NEXTSONG, [0x1c] = KEY_KPENTER, [0x1d] = KEY_RIGHTCTRL,
	[0x20] = KEY_MUTE, [0x21] = KEY_CALC, [0x22] = KEY_PLAYPAUSE, [0x24] = KEY_STOPCD,
	[0x2e] = KEY_VOLUMEDOWN,
	[0x30] = KEY_VOLUMEUP, [0x32] = KEY_HOMEPAGE, [0x35] = KEY_KPSLASH, [0x37] = KEY_SYSRQ,
	[0x38] = KEY_RIGHTALT,
	[0x45] = KEY_PAUSE,          /* also the code after 0xE1 1D */
	[0x46] = KEY_PAUSE,          /* Ctrl+Pause, "Break" */
	[0x47] = KEY_HOME, [0x48] = KEY_UP, [0x49] = KEY_PAGEUP, [0x4b] = KEY_LEFT,
	[0x4c] = KEY_MACRO, [0x4d] = KEY_RIGHT, [0x4e] = KEY_KPPLUSMINUS, [0x4f] = KEY_END,
	[0x50] = KEY_DOWN, [0x51] = KEY_PAGEDOWN, [0x52] = KEY_INSERT, [0x53] = KEY_DELETE,
	[0x5b] = KEY_LEFTMETA, [0x5c] = KEY_RIGHTMETA, [0x5d] = KEY_COMPOSE, [0x5e] = KEY_POWER,
	[0x5f] = KEY_SLEEP,
	[0x63] = KEY_WAKEUP, [0x65] = KEY_SEARCH, [0x66] = KEY_BOOKMARKS, [0x67] = KEY_REFRESH,
	[0x68] = KEY_STOP, [0x69] = KEY_FORWARD, [0x6a] = KEY_BACK, [0x6b] = KEY_COMPUTER,
	[0x6c] = KEY_MAIL, [0x6d] = KEY_MEDIA, [0x6f] = KEY_MACRO,
};

/* Bytes that are also keyboard replies, and the bit of each in xl_bit. */
static const uint8_t xt_replies[] = { 0xaa, 0xff, 0xfa, 0xfe, 0xf1, 0xf2 };
#define XT_HANJA_INDEX   (0x100u | 0x71u)
#define XT_HANGEUL_INDEX (0x100u | 0x72u)

uint16_t xt_guest_default_key(bool e0, uint8_t code)
{
	return code < 0x80 ? (e0 ? set1_e0 : set1_plain)[code] : 0;
}

void xt_guest_init(struct xt_guest *g)
{
	memset(g, 0, sizeof(*g));
	for (unsigned c = 0; c < 0x80; c++) {
		g->keymap[c] = set1_plain[c];
		g->keymap[0x80 | c] = set1_e0[c];
	}
	g->keymap[XT_HANJA_INDEX] = KEY_HANJA;
	g->keymap[XT_HANGEUL_INDEX] = KEY_HANGEUL;
}

void xt_guest_setkeycode(struct xt_guest *g, unsigned scancode, uint16_t keycode)
{
	if (scancode < XT_GUEST_SCANCODES)
		g->keymap[scancode] = keycode;
}

static void xt_emit(struct xt_guest *g, uint16_t code, int value)
{
	if (g->n < XT_GUEST_MAX_EVENTS)
		g->ev[g->n++] = (struct xt_guest_event){ code, value };
}

/* A byte that may be a reply is a key code only when its make came last. */
static bool xt_is_key_byte(const struct xt_guest *g, uint8_t b)
{
	if (b == 0xe0 || b == 0xe1)
		return false;
	for (unsigned i = 0; i < sizeof(xt_replies); i++)
		if (b == xt_replies[i])
			return g->xl_bit & (1u << i);
	return true;
}

static void xt_note_reply_make(struct xt_guest *g, uint8_t b)
{
	for (unsigned i = 0; i < sizeof(xt_replies); i++) {
		if (((b ^ xt_replies[i]) & 0x7f) == 0) {
			if (b & 0x80)
				g->xl_bit &= ~(1u << i);
			else
				g->xl_bit |= 1u << i;
			return;
		}
	}
}

void xt_guest_byte(struct xt_guest *g, uint8_t byte)
{
	unsigned code = byte;
	if (g->emul || xt_is_key_byte(g, byte)) {
		g->release = code & 0x80;
		code &= 0x7f;
	}
	if (!g->emul)
		xt_note_reply_make(g, byte);
	switch (code) {
	case 0xaa:
		g->resets++;
		return;
	case 0xe0:
		g->emul = 1;
		return;
	case 0xe1:
		g->emul = 2;
		return;
	case 0xf0:
		g->release = true;
		return;
	case 0xfa:
	case 0xfe:
	case 0xff:
		g->replies++;
		return;
	}
	unsigned idx = (code & 0x7f) | ((code & 0x80) << 1);
	if (g->emul == 1)
		idx |= 0x80;
	if (g->emul && --g->emul)
		return;      /* 0xE1's first code: the second decides */
	uint16_t key = g->keymap[idx];
	bool self_release = idx == XT_HANJA_INDEX || idx == XT_HANGEUL_INDEX;
	if (!key) {
		g->unknown++;
	} else if (g->release) {
		xt_emit(g, key, 0);
		g->down[key / 64] &= ~(1ull << (key % 64));
	} else {
		bool was_down = g->down[key / 64] & (1ull << (key % 64));
		xt_emit(g, key, was_down ? 2 : 1);
		if (self_release)
			xt_emit(g, key, 0);
		else
			g->down[key / 64] |= 1ull << (key % 64);
	}
	g->release = false;
}

void xt_guest_message(struct xt_guest *g, const uint8_t *payload, size_t len)
{
	/* hv_kbd: a payload of 4 bytes or less is "illegal", an EVENT needs its 12. */
	if (len <= 4) {
		g->dropped_msgs++;
		return;
	}
	uint32_t type = (uint32_t)payload[0] | (uint32_t)payload[1] << 8 | (uint32_t)payload[2] << 16 |
			(uint32_t)payload[3] << 24;
	if (type != 3)
		return;
	if (len < 12) {
		g->dropped_msgs++;
		return;
	}
	uint16_t make = (uint16_t)(payload[4] | payload[5] << 8);
	uint32_t info = (uint32_t)payload[8] | (uint32_t)payload[9] << 8 | (uint32_t)payload[10] << 16 |
			(uint32_t)payload[11] << 24;
	if (info & 0x4u)
		xt_guest_byte(g, 0xe0);
	if (info & 0x8u)
		xt_guest_byte(g, 0xe1);
	if (info & 0x2u)
		make |= 0x80;
	xt_guest_byte(g, (uint8_t)make);
}
