/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic HID mouse protocol (../shared/docs/hyperv-host.md section
 * 8, Linux's drivers/hid/hid-hyperv.c), version 2.0. Every message is an
 * INBAND packet holding a pipe header {u32 type = 1 (data), u32 size of
 * what follows}, a message header {u32 type, u32 size of the body} and the
 * body, little-endian:
 *
 *   guest -> host  PROTOCOL_REQUEST     {u32 version}
 *                  DEVICE_INFO_ACK      {u8 reserved}
 *   host -> guest  PROTOCOL_RESPONSE    {u32 version, u8 approved}
 *                  INITIAL_DEVICE_INFO  {device attributes (32), HID
 *                                        descriptor (9), report descriptor}
 *                  INPUT_REPORT         {the HID input report}
 *
 * The device is ours to describe: an absolute pointer of five buttons,
 * X and Y in 0..32767 (INPUT_ABS_MAX), a wheel and a horizontal wheel
 * (Consumer AC Pan), one 7-byte report without a report id.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNTH_MOUSE_VERSION_2_0         0x00020000u   /* major << 16 | minor */
#define SYNTH_MOUSE_PIPE_DATA           1u

#define SYNTH_MOUSE_MSG_PROTOCOL_REQUEST    0u
#define SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE   1u
#define SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO 2u
#define SYNTH_MOUSE_MSG_DEVICE_INFO_ACK     3u
#define SYNTH_MOUSE_MSG_INPUT_REPORT        4u

/* What hid-hyperv binds to. */
#define SYNTH_MOUSE_VENDOR              0x045eu
#define SYNTH_MOUSE_PRODUCT             0x0621u
#define SYNTH_MOUSE_DEVICE_VERSION      0x0001u

/* The largest guest message taken. */
#define SYNTH_MOUSE_MSG_MAX             256u
/* Linux drops a PROTOCOL_RESPONSE whose pipe size exceeds this (its copy
 * buffer), and waits for another until it gives up. */
#define SYNTH_MOUSE_RESPONSE_PIPE_MAX   13u

#define SYNTH_MOUSE_REPORT_SIZE         7u
/* Steps of one wheel in one report (an 8-bit field). */
#define SYNTH_MOUSE_WHEEL_REPORT_MAX    127

struct synth_mouse_wire_pipe_hdr {
	uint32_t type;
	uint32_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_pipe_hdr) == 8, "pipe header");

struct synth_mouse_wire_hdr {
	uint32_t type;
	uint32_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_hdr) == 8, "message header");

struct synth_mouse_wire_protocol_request {
	struct synth_mouse_wire_pipe_hdr pipe;
	struct synth_mouse_wire_hdr hdr;
	uint32_t version;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_protocol_request) == 20, "protocol request");

struct synth_mouse_wire_protocol_response {
	struct synth_mouse_wire_pipe_hdr pipe;
	struct synth_mouse_wire_hdr hdr;
	uint32_t version;
	uint8_t approved;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_protocol_response) == 21, "protocol response");
_Static_assert(sizeof(struct synth_mouse_wire_protocol_response) - sizeof(struct synth_mouse_wire_pipe_hdr)
	       <= SYNTH_MOUSE_RESPONSE_PIPE_MAX, "Linux takes the response");

struct synth_mouse_wire_dev_attrs {
	uint32_t size;               /* of this struct */
	uint16_t vendor, product, version;
	uint16_t reserved[11];
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_dev_attrs) == 32, "device attributes");

/* The HID class descriptor (HID 1.11, 6.2.1) with its one report descriptor. */
struct synth_mouse_wire_hid_desc {
	uint8_t length;              /* 9 */
	uint8_t type;                /* 0x21 HID */
	uint16_t bcd_hid;
	uint8_t country;
	uint8_t num_descriptors;     /* 1 */
	uint8_t report_type;         /* 0x22 report */
	uint16_t report_length;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_hid_desc) == 9, "HID descriptor");

struct synth_mouse_wire_device_info_ack {
	struct synth_mouse_wire_pipe_hdr pipe;
	struct synth_mouse_wire_hdr hdr;
	uint8_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct synth_mouse_wire_device_info_ack) == 17, "device info ack");

/* One input report: absolute position, buttons held, wheel steps. */
struct synth_mouse_report {
	uint16_t x, y;               /* 0..INPUT_ABS_MAX */
	uint8_t buttons;             /* INPUT_BUTTON_* */
	int8_t wheel, hwheel;        /* -127..127: up / right positive */
};

struct synth_mouse_guest_msg {
	uint32_t type;               /* PROTOCOL_REQUEST or DEVICE_INFO_ACK */
	uint32_t version;            /* PROTOCOL_REQUEST */
};

/*
 * A guest packet's payload: 0 and *out; -EMSGSIZE above SYNTH_MOUSE_MSG_MAX;
 * -EBADMSG for a pipe type other than data, a pipe or message size past
 * the bytes there are, a body short of its type's, or a type the guest
 * does not send.
 */
int synth_mouse_msg_parse(const uint8_t *data, size_t len, struct synth_mouse_guest_msg *out);

/* Host messages into buf: their length, or -ENOSPC. */
long synth_mouse_msg_build_response(uint8_t *buf, size_t size, uint32_t version, bool approved);
long synth_mouse_msg_build_device_info(uint8_t *buf, size_t size);
long synth_mouse_msg_build_input(uint8_t *buf, size_t size, const struct synth_mouse_report *r);

/* The report's bytes as the descriptor lays them out. */
void synth_mouse_report_encode(const struct synth_mouse_report *r, uint8_t out[SYNTH_MOUSE_REPORT_SIZE]);
/* Our HID report descriptor. */
const uint8_t *synth_mouse_report_descriptor(size_t *len);
