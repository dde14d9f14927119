/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic keyboard protocol (../shared/docs/hyperv-host.md section 8,
 * Linux's drivers/input/serio/hyperv-keyboard.c): INBAND packets without a
 * pipe header, each one message {u32 type, body}, little-endian.
 *
 *   guest -> host  PROTOCOL_REQUEST {u32 version}        version 1.0 = 0x00010000
 *                  LED_INDICATORS   {u16 led_flags}      (Linux never sends it)
 *   host -> guest  PROTOCOL_RESPONSE {u32 status}        bit 0: accepted
 *                  EVENT {u16 make_code, u16 reserved, u32 info}
 *
 * An EVENT is one set 1 code: the guest feeds 0xE0 and/or 0xE1 first when
 * info says so, then make_code, with bit 7 set for a break.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsp/keymap_xt.h"

#define SYNTH_KBD_VERSION_1_0           0x00010000u   /* major << 16 | minor */

#define SYNTH_KBD_MSG_PROTOCOL_REQUEST  1u
#define SYNTH_KBD_MSG_PROTOCOL_RESPONSE 2u
#define SYNTH_KBD_MSG_EVENT             3u
#define SYNTH_KBD_MSG_LED_INDICATORS    4u

#define SYNTH_KBD_PROTOCOL_ACCEPTED     0x1u

#define SYNTH_KBD_INFO_UNICODE          0x1u
#define SYNTH_KBD_INFO_BREAK            0x2u
#define SYNTH_KBD_INFO_E0               0x4u
#define SYNTH_KBD_INFO_E1               0x8u

/* LED_INDICATORS flags (Windows' KEYBOARD_*_LOCK_ON). */
#define SYNTH_KBD_LED_SCROLL_LOCK       0x1u
#define SYNTH_KBD_LED_NUM_LOCK          0x2u
#define SYNTH_KBD_LED_CAPS_LOCK         0x4u
#define SYNTH_KBD_LED_KANA_LOCK         0x8u

/* The largest message either side takes (Linux: HK_MAXIMUM_MESSAGE_SIZE). */
#define SYNTH_KBD_MSG_MAX               256u

struct synth_kbd_wire_hdr {
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_kbd_wire_hdr) == 4, "keyboard message header");

struct synth_kbd_wire_protocol_request {
	struct synth_kbd_wire_hdr hdr;
	uint32_t version;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_kbd_wire_protocol_request) == 8, "protocol request");

struct synth_kbd_wire_protocol_response {
	struct synth_kbd_wire_hdr hdr;
	uint32_t status;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_kbd_wire_protocol_response) == 8, "protocol response");

struct synth_kbd_wire_keystroke {
	struct synth_kbd_wire_hdr hdr;
	uint16_t make_code;
	uint16_t reserved;
	uint32_t info;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_kbd_wire_keystroke) == 12, "keystroke");

struct synth_kbd_wire_led_indicators {
	struct synth_kbd_wire_hdr hdr;
	uint16_t led_flags;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_kbd_wire_led_indicators) == 6, "LED indicators");

/* One EVENT. */
struct synth_kbd_stroke {
	uint8_t make_code;           /* 0x00-0x7f */
	uint32_t info;               /* SYNTH_KBD_INFO_* */
};

/* A guest message. */
struct synth_kbd_guest_msg {
	uint32_t type;               /* SYNTH_KBD_MSG_PROTOCOL_REQUEST or _LED_INDICATORS */
	uint32_t version;            /* PROTOCOL_REQUEST */
	uint16_t led_flags;          /* LED_INDICATORS */
};

/*
 * A guest packet's payload: 0 and *out; -EMSGSIZE above SYNTH_KBD_MSG_MAX;
 * -EBADMSG when shorter than its type's message, or of a type the guest
 * does not send (a host message, or unknown). Bytes past the message are
 * ignored, as Linux ignores them in ours.
 */
int synth_kbd_msg_parse(const uint8_t *data, size_t len, struct synth_kbd_guest_msg *out);

/* Host messages into buf: their length, or -ENOSPC. */
long synth_kbd_msg_build_response(uint8_t *buf, size_t size, bool accepted);
long synth_kbd_msg_build_event(uint8_t *buf, size_t size, const struct synth_kbd_stroke *s);

/* Most EVENTs one key press or release takes (Pause: 0xE1 1D, then 45). */
#define SYNTH_KBD_STROKES_MAX 2u

/* The EVENTs for pressing (down) or releasing key: their number, 0 for the
 * release of a key that sends nothing then. */
size_t synth_kbd_strokes(const struct keymap_xt_key *key, bool down,
			 struct synth_kbd_stroke out[SYNTH_KBD_STROKES_MAX]);
