/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux evdev key codes (KEY_* of linux/input-event-codes.h) as PC scan
 * code set 1 ("XT" codes), what the Hyper-V synthetic keyboard carries.
 *
 * Set 1 gives each key a make code of 7 bits, sent on press, and the same
 * code with bit 7 set on release. Keys added after the XT (the cursor
 * block, right-hand modifiers, Windows keys, media keys) are prefixed by
 * 0xE0; Pause sends 0xE1 1D 45 on press and 0xE1 9D C5 on release; the
 * Korean Hangeul and Hanja keys send one byte, 0xF2 and 0xF1, on press and
 * nothing on release.
 *
 * The guest decodes the codes with its own keymap (Linux: atkbd on a
 * translated port). Where the set 1 tables and Linux's default decoding
 * disagree, the table follows Linux, whose stock guests this VMM serves:
 * F13-F15 are 0x5D-0x5F there. F16-F22 and F24 have no code Linux decodes
 * by default; they get the codes of Microsoft's scan code table (F16-F22
 * 0x67-0x6D) and, for F24 whose table code 0x76 is Linux's Zenkaku/Hankaku,
 * 0x6F, and carry KEYMAP_XT_SETKEYCODES: a Linux guest decodes them after
 * `setkeycodes` (EVIOCSKEYCODE) for those codes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEYMAP_XT_E0            0x01u   /* 0xE0 before the code */
#define KEYMAP_XT_E1            0x02u   /* 0xE1 1D before the code (Pause) */
/* One byte on press, the code with bit 7 set, and nothing on release. */
#define KEYMAP_XT_PRESS_ONLY    0x04u
/* Not in Linux's default keymap: the guest needs setkeycodes. */
#define KEYMAP_XT_SETKEYCODES   0x08u

/* The make code of the 0xE1 prefix's first code (Pause's "Ctrl" part). */
#define KEYMAP_XT_E1_LEAD       0x1du

/* Every evdev code in the table is below this. */
#define KEYMAP_XT_EVDEV_LIMIT   256u

struct keymap_xt_key {
	uint16_t evdev;              /* KEY_* */
	uint8_t code;                /* set 1 make code, 0x01-0x7f */
	uint8_t flags;               /* KEYMAP_XT_* */
	const char *name;            /* "KEY_A" */
};

/* The key for an evdev code, or NULL when the keyboard cannot send it. */
const struct keymap_xt_key *keymap_xt_find(uint16_t evdev);
/* By name, "KEY_ESC" (case does not matter), or NULL. */
const struct keymap_xt_key *keymap_xt_find_name(const char *name);
/* The whole table, in evdev order. */
const struct keymap_xt_key *keymap_xt_table(size_t *n);
