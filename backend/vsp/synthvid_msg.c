// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hv/le.h"
#include "vsp/synthvid_msg.h"

#define HDRS (sizeof(struct synthvid_pipe_hdr) + sizeof(struct synthvid_hdr))

/* Fields at the offsets of the packed wire structs. */
#define GET8(p, st, f)  ((p)[offsetof(struct st, f)])
#define GET32(p, st, f) le32_get((p) + offsetof(struct st, f))
#define GET64(p, st, f) le64_get((p) + offsetof(struct st, f))
#define PUT8(p, st, f, v)  ((p)[offsetof(struct st, f)] = (uint8_t)(v))
#define PUT16(p, st, f, v) le16_put((p) + offsetof(struct st, f), (uint16_t)(v))
#define PUT32(p, st, f, v) le32_put((p) + offsetof(struct st, f), (uint32_t)(v))
#define PUT64(p, st, f, v) le64_put((p) + offsetof(struct st, f), (uint64_t)(v))

static size_t shape_image_size(bool argb, uint32_t w, uint32_t h)
{
	/* Monochrome: an AND mask and an XOR mask, one bit a pixel, rows in bytes. */
	return argb ? (size_t)w * h * 4u : 2u * (((size_t)w + 7u) / 8u) * h;
}

static int parse_shape(struct synthvid_msg *m)
{
	const uint8_t *b = m->body;
	if (m->body_len < sizeof(struct synthvid_pointer_shape_wire))
		return -EBADMSG;
	m->shape.part = GET8(b, synthvid_pointer_shape_wire, part_idx);
	m->shape.argb = GET8(b, synthvid_pointer_shape_wire, is_argb) != 0;
	m->shape.width = GET32(b, synthvid_pointer_shape_wire, width);
	m->shape.height = GET32(b, synthvid_pointer_shape_wire, height);
	m->shape.hot_x = GET32(b, synthvid_pointer_shape_wire, hot_x);
	m->shape.hot_y = GET32(b, synthvid_pointer_shape_wire, hot_y);
	m->shape.image = b + sizeof(struct synthvid_pointer_shape_wire);
	/* A shape in parts only comes from guests with cursors larger than
	 * one message; none of ours. */
	if (m->shape.part != SYNTHVID_CURSOR_COMPLETE)
		return -ENOMSG;
	if (m->shape.width == 0 || m->shape.height == 0 || m->shape.width > SYNTHVID_CURSOR_MAX_SIDE ||
	    m->shape.height > SYNTHVID_CURSOR_MAX_SIDE || m->shape.hot_x >= m->shape.width ||
	    m->shape.hot_y >= m->shape.height)
		return -EBADMSG;
	size_t need = shape_image_size(m->shape.argb, m->shape.width, m->shape.height);
	if (m->body_len - sizeof(struct synthvid_pointer_shape_wire) < need)
		return -EBADMSG;
	return 0;
}

static int parse_body(struct synthvid_msg *m)
{
	const uint8_t *b = m->body;
	size_t n = m->body_len;
	switch (m->type) {
	case SYNTHVID_VERSION_REQUEST:
		if (n < sizeof(struct synthvid_version_req_wire))
			return -EBADMSG;
		m->version = GET32(b, synthvid_version_req_wire, version);
		return 0;
	case SYNTHVID_VRAM_LOCATION:
		if (n < sizeof(struct synthvid_vram_location_wire))
			return -EBADMSG;
		m->vram.user_ctx = GET64(b, synthvid_vram_location_wire, user_ctx);
		m->vram.gpa_specified = GET8(b, synthvid_vram_location_wire, is_vram_gpa_specified) != 0;
		m->vram.gpa = GET64(b, synthvid_vram_location_wire, vram_gpa);
		return 0;
	case SYNTHVID_SITUATION_UPDATE: {
		if (n < sizeof(struct synthvid_situation_wire))
			return -EBADMSG;
		m->situation.user_ctx = GET64(b, synthvid_situation_wire, user_ctx);
		m->situation.count = GET8(b, synthvid_situation_wire, count);
		size_t outs = (n - sizeof(struct synthvid_situation_wire)) / sizeof(struct synthvid_output_wire);
		if (m->situation.count == 0 || m->situation.count > outs)
			return -EBADMSG;
		const uint8_t *o = b + sizeof(struct synthvid_situation_wire);
		m->situation.out = (struct synthvid_output){
			.active = GET8(o, synthvid_output_wire, active) != 0,
			.vram_offset = GET32(o, synthvid_output_wire, vram_offset),
			.depth = GET8(o, synthvid_output_wire, depth_bits),
			.width = GET32(o, synthvid_output_wire, width),
			.height = GET32(o, synthvid_output_wire, height),
			.pitch = GET32(o, synthvid_output_wire, pitch),
		};
		return 0;
	}
	case SYNTHVID_POINTER_POSITION:
		if (n < sizeof(struct synthvid_pointer_position_wire))
			return -EBADMSG;
		m->pointer.visible = GET8(b, synthvid_pointer_position_wire, is_visible) != 0;
		m->pointer.output = GET8(b, synthvid_pointer_position_wire, video_output);
		m->pointer.x = (int32_t)GET32(b, synthvid_pointer_position_wire, x);
		m->pointer.y = (int32_t)GET32(b, synthvid_pointer_position_wire, y);
		return 0;
	case SYNTHVID_POINTER_SHAPE:
		return parse_shape(m);
	case SYNTHVID_DIRT: {
		if (n < sizeof(struct synthvid_dirt_wire))
			return -EBADMSG;
		m->dirt.output = GET8(b, synthvid_dirt_wire, video_output);
		m->dirt.count = GET8(b, synthvid_dirt_wire, count);
		m->dirt.rects = b + sizeof(struct synthvid_dirt_wire);
		size_t fits = (n - sizeof(struct synthvid_dirt_wire)) / sizeof(struct synthvid_rect_wire);
		if (m->dirt.count == 0 || m->dirt.count > fits)
			return -EBADMSG;
		return 0;
	}
	case SYNTHVID_RESOLUTION_REQUEST:
		if (n < sizeof(struct synthvid_resolution_req_wire))
			return -EBADMSG;
		m->max_resolutions = GET8(b, synthvid_resolution_req_wire, maximum_resolution_count);
		return 0;
	default:
		/* Host messages, BIOS_INFO (Windows guests only) and unknown numbers. */
		return -ENOMSG;
	}
}

int synthvid_msg_parse(const uint8_t *data, size_t len, struct synthvid_msg *out)
{
	if (!data || len < HDRS)
		return -EBADMSG;
	if (le32_get(data + offsetof(struct synthvid_pipe_hdr, type)) != SYNTHVID_PIPE_DATA)
		return -EBADMSG;
	/* The VMBus payload is padded to 8 bytes: the sizes may be shorter. */
	uint64_t pipe_size = le32_get(data + offsetof(struct synthvid_pipe_hdr, size));
	if (pipe_size > len - sizeof(struct synthvid_pipe_hdr))
		return -EBADMSG;
	const uint8_t *vh = data + sizeof(struct synthvid_pipe_hdr);
	uint64_t vid_size = le32_get(vh + offsetof(struct synthvid_hdr, size));
	if (vid_size < sizeof(struct synthvid_hdr) || vid_size > pipe_size)
		return -EBADMSG;
	struct synthvid_msg m = {
		.type = le32_get(vh + offsetof(struct synthvid_hdr, type)),
		.body = vh + sizeof(struct synthvid_hdr),
		.body_len = (size_t)vid_size - sizeof(struct synthvid_hdr),
	};
	int r = parse_body(&m);
	if (r < 0)
		return r;
	*out = m;
	return 0;
}

void synthvid_msg_dirt_rect(const struct synthvid_msg *m, unsigned i, struct synthvid_rect *out)
{
	const uint8_t *p = m->dirt.rects + (size_t)i * sizeof(struct synthvid_rect_wire);
	*out = (struct synthvid_rect){
		.x1 = (int32_t)GET32(p, synthvid_rect_wire, x1),
		.y1 = (int32_t)GET32(p, synthvid_rect_wire, y1),
		.x2 = (int32_t)GET32(p, synthvid_rect_wire, x2),
		.y2 = (int32_t)GET32(p, synthvid_rect_wire, y2),
	};
}

int synthvid_rect_check(const struct synthvid_rect *r, uint32_t w, uint32_t h, struct display_rect *out)
{
	if (r->x2 <= r->x1 || r->y2 <= r->y1)
		return -EINVAL;
	if (r->x1 < 0 || r->y1 < 0 || (uint32_t)r->x2 > w || (uint32_t)r->y2 > h)
		return -ERANGE;
	*out = (struct display_rect){ (uint32_t)r->x1, (uint32_t)r->y1, (uint32_t)(r->x2 - r->x1),
				      (uint32_t)(r->y2 - r->y1) };
	return 0;
}

int synthvid_output_check(const struct synthvid_output *o, uint64_t vram_size)
{
	if (o->depth != SYNTHVID_DEPTH || o->width == 0 || o->height == 0 || o->width > DISPLAY_MAX_SIDE ||
	    o->height > DISPLAY_MAX_SIDE || o->pitch < o->width * 4u || o->pitch % 4u)
		return -EINVAL;
	/* 32-bit fields: the sum cannot wrap in 64 bits. */
	if ((uint64_t)o->vram_offset + (uint64_t)o->pitch * o->height > vram_size)
		return -ERANGE;
	return 0;
}

/* Both headers for a body of n bytes. */
static long build_headers(uint8_t *buf, size_t size, uint32_t type, size_t n)
{
	if (size < HDRS + n)
		return -ENOSPC;
	memset(buf, 0, HDRS + n);
	PUT32(buf, synthvid_pipe_hdr, type, SYNTHVID_PIPE_DATA);
	PUT32(buf, synthvid_pipe_hdr, size, sizeof(struct synthvid_hdr) + n);
	uint8_t *vh = buf + sizeof(struct synthvid_pipe_hdr);
	PUT32(vh, synthvid_hdr, type, type);
	PUT32(vh, synthvid_hdr, size, sizeof(struct synthvid_hdr) + n);
	return (long)(HDRS + n);
}

long synthvid_msg_build_version_response(uint8_t *buf, size_t size, uint32_t version, bool accepted)
{
	long n = build_headers(buf, size, SYNTHVID_VERSION_RESPONSE, sizeof(struct synthvid_version_resp_wire));
	if (n < 0)
		return n;
	uint8_t *b = buf + HDRS;
	PUT32(b, synthvid_version_resp_wire, version, version);
	PUT8(b, synthvid_version_resp_wire, is_accepted, accepted ? 1 : 0);
	PUT8(b, synthvid_version_resp_wire, max_video_outputs, SYNTHVID_OUTPUTS);
	return n;
}

long synthvid_msg_build_ack(uint8_t *buf, size_t size, uint32_t type, uint64_t user_ctx)
{
	if (type != SYNTHVID_VRAM_LOCATION_ACK && type != SYNTHVID_SITUATION_UPDATE_ACK)
		return -EINVAL;
	long n = build_headers(buf, size, type, sizeof(struct synthvid_ctx_wire));
	if (n < 0)
		return n;
	PUT64(buf + HDRS, synthvid_ctx_wire, user_ctx, user_ctx);
	return n;
}

long synthvid_msg_build_feature_change(uint8_t *buf, size_t size, bool dirt, bool ptr_pos, bool ptr_shape,
				       bool situ)
{
	long n = build_headers(buf, size, SYNTHVID_FEATURE_CHANGE, sizeof(struct synthvid_feature_change_wire));
	if (n < 0)
		return n;
	uint8_t *b = buf + HDRS;
	PUT8(b, synthvid_feature_change_wire, is_dirt_needed, dirt);
	PUT8(b, synthvid_feature_change_wire, is_ptr_pos_needed, ptr_pos);
	PUT8(b, synthvid_feature_change_wire, is_ptr_shape_needed, ptr_shape);
	PUT8(b, synthvid_feature_change_wire, is_situ_needed, situ);
	return n;
}

long synthvid_msg_build_resolution_response(uint8_t *buf, size_t size, const struct synthvid_mode *modes,
					    size_t n, size_t default_index, uint8_t max_count)
{
	if (n == 0 || n > SYNTHVID_RESOLUTIONS_MAX || default_index >= n)
		return -EINVAL;
	size_t count = n < max_count ? n : max_count;
	size_t body = sizeof(struct synthvid_resolution_resp_wire) + count * sizeof(struct synthvid_resolution_wire);
	long len = build_headers(buf, size, SYNTHVID_RESOLUTION_RESPONSE, body);
	if (len < 0)
		return len;
	uint8_t *b = buf + HDRS;
	/* The EDID block stays zero: Linux ignores it. */
	size_t def = default_index;
	uint8_t *list = b + sizeof(struct synthvid_resolution_resp_wire);
	for (size_t i = 0; i < count; i++) {
		size_t from = i;
		/* A short list keeps the default as its last entry. */
		if (count < n && default_index >= count && i == count - 1) {
			from = default_index;
			def = i;
		}
		uint8_t *e = list + i * sizeof(struct synthvid_resolution_wire);
		PUT16(e, synthvid_resolution_wire, width, modes[from].width);
		PUT16(e, synthvid_resolution_wire, height, modes[from].height);
	}
	PUT8(b, synthvid_resolution_resp_wire, count, count);
	PUT8(b, synthvid_resolution_resp_wire, default_index, count ? def : 0);
	/* is_standard stays 0: Linux ignores it too. */
	return len;
}
