// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hv/le.h"
#include "vsp/synth_mouse_msg.h"

/*
 * Byte 14 is Usage Maximum (0x29): hid-hyperv rewrites a 0x25 there (the
 * "SA-167" fix for Hyper-V's own descriptor, which had Logical Maximum in
 * that place), and ours must come through unchanged.
 */
static const uint8_t mouse_report_desc[] = {
	0x05, 0x01,             /* Usage Page (Generic Desktop) */
	0x09, 0x02,             /* Usage (Mouse) */
	0xa1, 0x01,             /* Collection (Application) */
	0x09, 0x01,             /*   Usage (Pointer) */
	0xa1, 0x00,             /*   Collection (Physical) */
	0x05, 0x09,             /*     Usage Page (Button) */
	0x19, 0x01,             /*     Usage Minimum (1) */
	0x29, 0x05,             /*     Usage Maximum (5) */
	0x15, 0x00,             /*     Logical Minimum (0) */
	0x25, 0x01,             /*     Logical Maximum (1) */
	0x95, 0x05,             /*     Report Count (5) */
	0x75, 0x01,             /*     Report Size (1) */
	0x81, 0x02,             /*     Input (Data, Variable, Absolute): buttons 1-5 */
	0x95, 0x01,             /*     Report Count (1) */
	0x75, 0x03,             /*     Report Size (3) */
	0x81, 0x01,             /*     Input (Constant): padding to the byte */
	0x05, 0x01,             /*     Usage Page (Generic Desktop) */
	0x09, 0x30,             /*     Usage (X) */
	0x09, 0x31,             /*     Usage (Y) */
	0x15, 0x00,             /*     Logical Minimum (0) */
	0x26, 0xff, 0x7f,       /*     Logical Maximum (32767) */
	0x75, 0x10,             /*     Report Size (16) */
	0x95, 0x02,             /*     Report Count (2) */
	0x81, 0x02,             /*     Input (Data, Variable, Absolute): X, Y */
	0x09, 0x38,             /*     Usage (Wheel) */
	0x15, 0x81,             /*     Logical Minimum (-127) */
	0x25, 0x7f,             /*     Logical Maximum (127) */
	0x75, 0x08,             /*     Report Size (8) */
	0x95, 0x01,             /*     Report Count (1) */
	0x81, 0x06,             /*     Input (Data, Variable, Relative): wheel */
	0x05, 0x0c,             /*     Usage Page (Consumer) */
	0x0a, 0x38, 0x02,       /*     Usage (AC Pan) */
	0x81, 0x06,             /*     Input (Data, Variable, Relative): horizontal wheel */
	0xc0,                   /*   End Collection */
	0xc0,                   /* End Collection */
};
_Static_assert(sizeof(mouse_report_desc) > 14, "the SA-167 byte exists");

#define PIPE_SIZE   sizeof(struct synth_mouse_wire_pipe_hdr)
#define HDR_SIZE    sizeof(struct synth_mouse_wire_hdr)
#define FRAME_SIZE  (PIPE_SIZE + HDR_SIZE)

const uint8_t *synth_mouse_report_descriptor(size_t *len)
{
	*len = sizeof(mouse_report_desc);
	return mouse_report_desc;
}

int synth_mouse_msg_parse(const uint8_t *data, size_t len, struct synth_mouse_guest_msg *out)
{
	if (len > SYNTH_MOUSE_MSG_MAX)
		return -EMSGSIZE;
	if (len < FRAME_SIZE)
		return -EBADMSG;
	uint32_t pipe_type = le32_get(data);
	uint32_t pipe_size = le32_get(data + 4);
	if (pipe_type != SYNTH_MOUSE_PIPE_DATA || pipe_size < HDR_SIZE || pipe_size > len - PIPE_SIZE)
		return -EBADMSG;
	struct synth_mouse_guest_msg m = { .type = le32_get(data + PIPE_SIZE) };
	uint32_t size = le32_get(data + PIPE_SIZE + 4);
	const uint8_t *body = data + FRAME_SIZE;
	if (size > pipe_size - HDR_SIZE)
		return -EBADMSG;
	switch (m.type) {
	case SYNTH_MOUSE_MSG_PROTOCOL_REQUEST:
		if (size < 4)
			return -EBADMSG;
		m.version = le32_get(body);
		break;
	case SYNTH_MOUSE_MSG_DEVICE_INFO_ACK:
		if (size < 1)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

/* Pipe and message headers for a body of body_len bytes. */
static void mouse_frame(uint8_t *buf, uint32_t type, size_t body_len)
{
	le32_put(buf, SYNTH_MOUSE_PIPE_DATA);
	le32_put(buf + 4, (uint32_t)(HDR_SIZE + body_len));
	le32_put(buf + PIPE_SIZE, type);
	le32_put(buf + PIPE_SIZE + 4, (uint32_t)body_len);
}

long synth_mouse_msg_build_response(uint8_t *buf, size_t size, uint32_t version, bool approved)
{
	size_t body = sizeof(struct synth_mouse_wire_protocol_response) - FRAME_SIZE;
	if (size < FRAME_SIZE + body)
		return -ENOSPC;
	mouse_frame(buf, SYNTH_MOUSE_MSG_PROTOCOL_RESPONSE, body);
	le32_put(buf + FRAME_SIZE, version);
	buf[FRAME_SIZE + 4] = approved ? 1 : 0;
	return (long)(FRAME_SIZE + body);
}

long synth_mouse_msg_build_device_info(uint8_t *buf, size_t size)
{
	size_t attrs = sizeof(struct synth_mouse_wire_dev_attrs);
	size_t hid = sizeof(struct synth_mouse_wire_hid_desc);
	size_t body = attrs + hid + sizeof(mouse_report_desc);
	if (size < FRAME_SIZE + body)
		return -ENOSPC;
	memset(buf, 0, FRAME_SIZE + body);
	mouse_frame(buf, SYNTH_MOUSE_MSG_INITIAL_DEVICE_INFO, body);
	uint8_t *a = buf + FRAME_SIZE;
	le32_put(a + offsetof(struct synth_mouse_wire_dev_attrs, size), (uint32_t)attrs);
	le16_put(a + offsetof(struct synth_mouse_wire_dev_attrs, vendor), SYNTH_MOUSE_VENDOR);
	le16_put(a + offsetof(struct synth_mouse_wire_dev_attrs, product), SYNTH_MOUSE_PRODUCT);
	le16_put(a + offsetof(struct synth_mouse_wire_dev_attrs, version), SYNTH_MOUSE_DEVICE_VERSION);
	uint8_t *h = a + attrs;
	h[offsetof(struct synth_mouse_wire_hid_desc, length)] = (uint8_t)hid;
	h[offsetof(struct synth_mouse_wire_hid_desc, type)] = 0x21;
	le16_put(h + offsetof(struct synth_mouse_wire_hid_desc, bcd_hid), 0x0101);
	h[offsetof(struct synth_mouse_wire_hid_desc, num_descriptors)] = 1;
	h[offsetof(struct synth_mouse_wire_hid_desc, report_type)] = 0x22;
	le16_put(h + offsetof(struct synth_mouse_wire_hid_desc, report_length), sizeof(mouse_report_desc));
	memcpy(h + hid, mouse_report_desc, sizeof(mouse_report_desc));
	return (long)(FRAME_SIZE + body);
}

void synth_mouse_report_encode(const struct synth_mouse_report *r, uint8_t out[SYNTH_MOUSE_REPORT_SIZE])
{
	out[0] = r->buttons & 0x1fu;
	le16_put(out + 1, r->x);
	le16_put(out + 3, r->y);
	out[5] = (uint8_t)r->wheel;
	out[6] = (uint8_t)r->hwheel;
}

long synth_mouse_msg_build_input(uint8_t *buf, size_t size, const struct synth_mouse_report *r)
{
	if (size < FRAME_SIZE + SYNTH_MOUSE_REPORT_SIZE)
		return -ENOSPC;
	mouse_frame(buf, SYNTH_MOUSE_MSG_INPUT_REPORT, SYNTH_MOUSE_REPORT_SIZE);
	synth_mouse_report_encode(r, buf + FRAME_SIZE);
	return (long)(FRAME_SIZE + SYNTH_MOUSE_REPORT_SIZE);
}
