/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic mouse (Linux: hid_hyperv, a HID device on BUS_VIRTUAL): an
 * absolute pointer with five buttons and two wheels (synth_mouse_msg.h).
 * Host reports go in from any thread, wait in a queue in order, and leave
 * it on the bus thread as INPUT_REPORTs. A burst of moves that the guest
 * has not read yet collapses into the latest position; clicks and wheel
 * steps are never merged away.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/vmbus_proto.h"
#include "vsp/vsp.h"

#define SYNTH_MOUSE_CLASS \
	VMBUS_GUID_INIT(0xcfa8b69e, 0x5b4a, 0x4cc0, 0xb9, 0x8b, 0x8b, 0xa1, 0xa1, 0xf3, 0xf9, 0x5a)

/* Reports waiting for the guest. */
#define SYNTH_MOUSE_QUEUE_MAX   256u
/* Wheel steps one call takes, per wheel (sent as several reports). */
#define SYNTH_MOUSE_WHEEL_MAX   1024

enum synth_mouse_phase {
	SYNTH_MOUSE_CLOSED,          /* channel not open */
	SYNTH_MOUSE_NEGOTIATING,     /* open, no PROTOCOL_REQUEST yet */
	SYNTH_MOUSE_WAIT_ACK,        /* device info sent, no DEVICE_INFO_ACK yet */
	SYNTH_MOUSE_READY,           /* reports flow */
	SYNTH_MOUSE_REFUSED,         /* the guest asked for another version */
};

struct synth_mouse_state {
	enum synth_mouse_phase phase;
	uint32_t version;            /* the guest's last request */
	uint16_t x, y;               /* the last position queued */
	uint32_t buttons;            /* and the buttons held with it */
	unsigned queued;             /* reports waiting */
	uint64_t calls;              /* host reports taken */
	uint64_t sent;               /* INPUT_REPORT packets written */
	uint64_t coalesced;          /* moves folded into a waiting one */
	uint64_t dropped;            /* reports lost to a channel close */
	uint64_t bad;                /* guest packets dropped: malformed, unexpected */
	uint64_t negotiations;       /* PROTOCOL_REQUESTs answered */
};

struct synth_mouse;

/* Offer the mouse on bus. NULL with errno on failure. */
struct synth_mouse *synth_mouse_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
/* After the bus is freed. */
void synth_mouse_free(struct synth_mouse *m);

/*
 * Any thread: the pointer at (x, y) in 0..INPUT_ABS_MAX with these
 * INPUT_BUTTON_* held, and wheel steps (positive up / right). 0; -EINVAL
 * for a position past INPUT_ABS_MAX, unknown buttons or more than
 * SYNTH_MOUSE_WHEEL_MAX steps; -ENOTCONN when the guest's driver is not
 * READY; -ENOBUFS when the queue is full.
 */
int synth_mouse_report(struct synth_mouse *m, uint16_t x, uint16_t y, uint32_t buttons, int32_t wheel,
		       int32_t hwheel);

/* Any thread. */
void synth_mouse_get_state(struct synth_mouse *m, struct synth_mouse_state *out);
const char *synth_mouse_phase_name(enum synth_mouse_phase p);
