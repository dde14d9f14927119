/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Linux 6.1 guest side of the synthetic keyboard, as a model for the
 * tests: how hyperv_keyboard hands an EVENT to its serio port (0xE0 and/or
 * 0xE1 first, then the code, bit 7 set for a break) and how atkbd decodes
 * those bytes on a translated (SERIO_8042_XL) port into key events: the
 * prefixes, the release bit, the bytes that double as keyboard replies
 * (0xAA is also "self-test passed" and makes atkbd reconnect unless a 0x2A
 * make came first), Hangeul and Hanja that release themselves, and the
 * default set 1 keymap, written here by scan code from the set 1 tables
 * and atkbd's translated defaults, independently of keymap_xt.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XT_GUEST_MAX_EVENTS 8192u
#define XT_GUEST_SCANCODES  512u     /* atkbd's keymap: code | 0x80 for E0, 0x100+ for the rest */

struct xt_guest_event {
	uint16_t code;                   /* KEY_* */
	int value;                       /* 1 press, 0 release, 2 repeat */
};

struct xt_guest {
	unsigned emul;                   /* prefix bytes still to come before the code */
	bool release;
	unsigned xl_bit;                 /* replies whose make code came last (see above) */
	uint16_t keymap[XT_GUEST_SCANCODES];
	uint64_t down[12];               /* keys pressed, for repeats */
	struct xt_guest_event ev[XT_GUEST_MAX_EVENTS];
	size_t n;
	unsigned resets;                 /* 0xAA read as the keyboard's self-test: atkbd reconnects */
	unsigned replies;                /* ACK / NAK / overrun read as replies, dropped */
	unsigned unknown;                /* codes without a key */
	unsigned dropped_msgs;           /* messages hyperv_keyboard refuses */
};

/* A guest with atkbd's default translated keymap. */
void xt_guest_init(struct xt_guest *g);
/* setkeycodes SCANCODE KEYCODE (EVIOCSKEYCODE): SCANCODE as atkbd numbers it. */
void xt_guest_setkeycode(struct xt_guest *g, unsigned scancode, uint16_t keycode);
/* One byte into atkbd. */
void xt_guest_byte(struct xt_guest *g, uint8_t byte);
/* A host packet's payload as hv_kbd_on_receive takes it (padding included):
 * EVENTs become bytes; the rest is ignored. */
void xt_guest_message(struct xt_guest *g, const uint8_t *payload, size_t len);
/* The default keymap's key for (e0, code), 0 when there is none. */
uint16_t xt_guest_default_key(bool e0, uint8_t code);
