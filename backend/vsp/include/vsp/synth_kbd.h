/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic keyboard (Linux: hyperv_keyboard, which hands the codes to
 * the AT keyboard driver). Host keys go in as evdev codes from any thread;
 * they wait in one queue, in order, and leave it on the bus thread as
 * EVENT packets (keymap_xt.h, synth_kbd_msg.h). The keyboard knows which
 * keys it holds down: it can let go of them all, it forgets them when the
 * guest closes the channel, and it never sends the release of a key it
 * does not hold (for Left Shift, 0xAA alone reads as a keyboard reset).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/vmbus_proto.h"
#include "vsp/vsp.h"

#define SYNTH_KBD_CLASS \
	VMBUS_GUID_INIT(0xf912ad6d, 0x2b17, 0x48ea, 0xbd, 0x65, 0xf9, 0x27, 0xa6, 0x1c, 0x76, 0x84)

/* EVENTs waiting for the guest; a host batch that does not fit is refused whole. */
#define SYNTH_KBD_QUEUE_MAX     1024u
/* Key changes one synth_kbd_send takes. */
#define SYNTH_KBD_BATCH_MAX     256u

/*
 * The pace of EVENTs: Linux delivers each to its readers as three input
 * events (scan code, key, sync), and an evdev reader's buffer holds 64;
 * what the guest takes from the ring in one go reaches the reader at once,
 * and the frames past its buffer are dropped. So a burst of up to
 * SYNTH_KBD_BURST strokes goes at once (typing is never held back), and
 * longer runs (a pasted text, the control socket's `keys`) go one stroke
 * every SYNTH_KBD_STROKE_MS, 200 a second: a fast USB keyboard's pace.
 */
#define SYNTH_KBD_BURST         8u
#define SYNTH_KBD_STROKE_MS     5u

enum synth_kbd_phase {
	SYNTH_KBD_CLOSED,            /* channel not open */
	SYNTH_KBD_NEGOTIATING,       /* open, no PROTOCOL_REQUEST yet */
	SYNTH_KBD_READY,             /* version 1.0 agreed: keys flow */
	SYNTH_KBD_REFUSED,           /* the guest asked for another version */
};

struct synth_kbd_state {
	enum synth_kbd_phase phase;
	uint32_t version;            /* the guest's last request */
	bool leds_known;             /* the guest sent LED_INDICATORS */
	uint16_t leds;               /* SYNTH_KBD_LED_* of the last one */
	unsigned held;               /* keys down now */
	unsigned queued;             /* EVENTs waiting */
	uint64_t keys;               /* key changes taken from the host */
	uint64_t events;             /* EVENT packets written to the guest */
	uint64_t dropped;            /* EVENTs lost to a channel close */
	uint64_t bad;                /* guest packets dropped: malformed, unexpected */
	uint64_t negotiations;       /* PROTOCOL_REQUESTs answered */
};

struct synth_kbd_key_change {
	uint16_t evdev;
	bool down;
};

struct synth_kbd;

/* Offer the keyboard on bus. NULL with errno on failure. */
struct synth_kbd *synth_kbd_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
/* After the bus is freed. */
void synth_kbd_free(struct synth_kbd *k);

/*
 * Any thread: queue these key changes, in order, as one. 0; -EINVAL for a
 * code the keyboard cannot send (nothing queued), or n of 0 or above
 * SYNTH_KBD_BATCH_MAX; -ENOTCONN when the guest's driver is not READY;
 * -ENOBUFS when the queue has no room for all of them. A press of a held
 * key is sent again (a repeat); the release of a key not held is skipped.
 */
int synth_kbd_send(struct synth_kbd *k, const struct synth_kbd_key_change *changes, size_t n);
/* One key: synth_kbd_send of one change. */
int synth_kbd_key(struct synth_kbd *k, uint16_t evdev, bool down);
/* Left Ctrl, Left Alt and Delete down, then up in reverse order. */
int synth_kbd_ctrl_alt_del(struct synth_kbd *k);
/* Release every held key (a viewer went away). The number released, or
 * -ENOTCONN / -ENOBUFS as synth_kbd_send. */
int synth_kbd_release_all(struct synth_kbd *k);

/* Any thread: another pace (tests; a burst of 0 sends without pacing). */
void synth_kbd_set_pace(struct synth_kbd *k, unsigned burst, unsigned stroke_ms);

/* Any thread. */
void synth_kbd_get_state(struct synth_kbd *k, struct synth_kbd_state *out);
const char *synth_kbd_phase_name(enum synth_kbd_phase p);
