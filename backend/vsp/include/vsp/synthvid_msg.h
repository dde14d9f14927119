/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Synthetic video (synthvid) messages, as Linux's hyperv_fb sends and reads
 * them: every message is a pipe header {u32 type = 1, u32 size}, then a
 * synthvid header {u32 type, u32 size = 8 + body}, then the packed body.
 * Versions are encoded (minor << 16) | major.
 *
 * Parsing only checks what a message says about itself (framing, lengths,
 * counts that fit the packet); whether it makes sense for the device's
 * state (a mode that fits VRAM, a rectangle inside the screen) is checked
 * by the helpers below, which the device calls with its own numbers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsp/display.h"

#define SYNTHVID_VERSION(major, minor) ((uint32_t)(minor) << 16 | (uint32_t)(major))
#define SYNTHVID_VERSION_MAJOR(v)      ((v) & 0xffffu)
#define SYNTHVID_VERSION_MINOR(v)      ((v) >> 16)
#define SYNTHVID_VERSION_WIN8          SYNTHVID_VERSION(3, 2)
#define SYNTHVID_VERSION_WIN10         SYNTHVID_VERSION(3, 5)

#define SYNTHVID_PIPE_DATA             1u

enum synthvid_type {
	SYNTHVID_ERROR = 0,
	SYNTHVID_VERSION_REQUEST = 1,
	SYNTHVID_VERSION_RESPONSE = 2,
	SYNTHVID_VRAM_LOCATION = 3,
	SYNTHVID_VRAM_LOCATION_ACK = 4,
	SYNTHVID_SITUATION_UPDATE = 5,
	SYNTHVID_SITUATION_UPDATE_ACK = 6,
	SYNTHVID_POINTER_POSITION = 7,
	SYNTHVID_POINTER_SHAPE = 8,
	SYNTHVID_FEATURE_CHANGE = 9,
	SYNTHVID_DIRT = 10,
	SYNTHVID_BIOS_INFO_REQUEST = 11,
	SYNTHVID_BIOS_INFO_RESPONSE = 12,
	SYNTHVID_RESOLUTION_REQUEST = 13,
	SYNTHVID_RESOLUTION_RESPONSE = 14,
};

/* Video outputs the host has (and says so in VERSION_RESPONSE). */
#define SYNTHVID_OUTPUTS               1u
/* The only depth hyperv_fb uses since protocol 3.2. */
#define SYNTHVID_DEPTH                 32u
/* Resolutions a RESOLUTION_RESPONSE can list (the guest asks for 64). */
#define SYNTHVID_RESOLUTIONS_MAX       64u
#define SYNTHVID_EDID_SIZE             128u
/* The largest cursor image taken (hyperv_fb's CURSOR_MAX_X/Y). */
#define SYNTHVID_CURSOR_MAX_SIDE       96u
#define SYNTHVID_CURSOR_COMPLETE       0xffu   /* part_idx of a one-part shape */
/* Rectangles of one DIRT message: its u8 count allows no more. */
#define SYNTHVID_DIRT_RECTS_MAX        255u
/* Largest message the guest may send: a full-size ARGB cursor and headers.
 * The guest's own limit is 16 KiB; more is refused by the VSP bus. */
#define SYNTHVID_GUEST_MSG_MAX \
	(16u + 18u + SYNTHVID_CURSOR_MAX_SIDE * SYNTHVID_CURSOR_MAX_SIDE * 4u)
/* hyperv_fb reads host packets with the default max_pkt_size of 4 KiB,
 * descriptor (16 bytes) included, and truncates longer ones. */
#define SYNTHVID_HOST_MSG_MAX          (4096u - 16u)

/* ---- wire layout (packed, little-endian) ---- */

struct synthvid_pipe_hdr {
	uint32_t type;               /* SYNTHVID_PIPE_DATA */
	uint32_t size;               /* bytes after this header */
} __attribute__((packed));

struct synthvid_hdr {
	uint32_t type;               /* enum synthvid_type */
	uint32_t size;               /* this header and the body */
} __attribute__((packed));

struct synthvid_version_req_wire {
	uint32_t version;
} __attribute__((packed));

struct synthvid_version_resp_wire {
	uint32_t version;
	uint8_t is_accepted;
	uint8_t max_video_outputs;
} __attribute__((packed));

struct synthvid_vram_location_wire {
	uint64_t user_ctx;
	uint8_t is_vram_gpa_specified;
	uint64_t vram_gpa;
} __attribute__((packed));

struct synthvid_ctx_wire {           /* VRAM_LOCATION_ACK, SITUATION_UPDATE_ACK */
	uint64_t user_ctx;
} __attribute__((packed));

struct synthvid_output_wire {
	uint8_t active;
	uint32_t vram_offset;
	uint8_t depth_bits;
	uint32_t width;
	uint32_t height;
	uint32_t pitch;
} __attribute__((packed));

struct synthvid_situation_wire {     /* then count outputs */
	uint64_t user_ctx;
	uint8_t count;
} __attribute__((packed));

struct synthvid_pointer_position_wire {
	uint8_t is_visible;
	uint8_t video_output;
	int32_t x;
	int32_t y;
} __attribute__((packed));

struct synthvid_pointer_shape_wire { /* then the image */
	uint8_t part_idx;
	uint8_t is_argb;
	uint32_t width;
	uint32_t height;
	uint32_t hot_x;
	uint32_t hot_y;
} __attribute__((packed));

struct synthvid_feature_change_wire {
	uint8_t is_dirt_needed;
	uint8_t is_ptr_pos_needed;
	uint8_t is_ptr_shape_needed;
	uint8_t is_situ_needed;
} __attribute__((packed));

struct synthvid_rect_wire {
	int32_t x1, y1;              /* top left */
	int32_t x2, y2;              /* bottom right, exclusive */
} __attribute__((packed));

struct synthvid_dirt_wire {          /* then count rectangles */
	uint8_t video_output;
	uint8_t count;
} __attribute__((packed));

struct synthvid_resolution_req_wire {
	uint8_t maximum_resolution_count;
} __attribute__((packed));

struct synthvid_resolution_wire {
	uint16_t width;
	uint16_t height;
} __attribute__((packed));

struct synthvid_resolution_resp_wire {   /* then count resolutions */
	uint8_t edid[SYNTHVID_EDID_SIZE];
	uint8_t count;
	uint8_t default_index;
	uint8_t is_standard;
} __attribute__((packed));

_Static_assert(sizeof(struct synthvid_pipe_hdr) == 8, "pipe_msg_hdr");
_Static_assert(sizeof(struct synthvid_hdr) == 8, "synthvid_msg_hdr");
_Static_assert(sizeof(struct synthvid_version_req_wire) == 4, "synthvid_version_req");
_Static_assert(sizeof(struct synthvid_version_resp_wire) == 6, "synthvid_version_resp");
_Static_assert(sizeof(struct synthvid_vram_location_wire) == 17, "synthvid_vram_location");
_Static_assert(sizeof(struct synthvid_ctx_wire) == 8, "synthvid_vram_location_ack");
_Static_assert(sizeof(struct synthvid_output_wire) == 18, "video_output_situation");
_Static_assert(sizeof(struct synthvid_situation_wire) == 9, "synthvid_situation_update head");
_Static_assert(sizeof(struct synthvid_pointer_position_wire) == 10, "synthvid_pointer_position");
_Static_assert(sizeof(struct synthvid_pointer_shape_wire) == 18, "synthvid_pointer_shape head");
_Static_assert(sizeof(struct synthvid_feature_change_wire) == 4, "synthvid_feature_change");
_Static_assert(sizeof(struct synthvid_rect_wire) == 16, "rect");
_Static_assert(sizeof(struct synthvid_dirt_wire) == 2, "synthvid_dirt head");
_Static_assert(sizeof(struct synthvid_resolution_req_wire) == 1, "synthvid_supported_resolution_req");
_Static_assert(sizeof(struct synthvid_resolution_resp_wire) == 131, "synthvid_supported_resolution_resp head");
/* The largest host message, a full resolution list, fits a guest read. */
_Static_assert(16u + sizeof(struct synthvid_resolution_resp_wire) +
	       SYNTHVID_RESOLUTIONS_MAX * sizeof(struct synthvid_resolution_wire) <= SYNTHVID_HOST_MSG_MAX,
	       "a RESOLUTION_RESPONSE fits the guest's 4 KiB packets");

/* ---- parsed messages (host byte order) ---- */

struct synthvid_output {
	bool active;
	uint32_t vram_offset;
	uint8_t depth;
	uint32_t width, height, pitch;
};

struct synthvid_rect {
	int32_t x1, y1, x2, y2;
};

struct synthvid_mode {
	uint16_t width, height;
};

struct synthvid_msg {
	uint32_t type;               /* enum synthvid_type */
	const uint8_t *body;         /* inside the parsed buffer */
	size_t body_len;
	union {
		uint32_t version;                    /* VERSION_REQUEST */
		struct {
			uint64_t user_ctx;
			bool gpa_specified;
			uint64_t gpa;
		} vram;                              /* VRAM_LOCATION */
		struct {
			uint64_t user_ctx;
			uint8_t count;
			struct synthvid_output out;  /* output 0; the others are not ours */
		} situation;                         /* SITUATION_UPDATE */
		struct {
			bool visible;
			uint8_t output;
			int32_t x, y;
		} pointer;                           /* POINTER_POSITION */
		struct {
			uint8_t part;
			bool argb;
			uint32_t width, height, hot_x, hot_y;
			const uint8_t *image;        /* width * height * 4 bytes when argb */
		} shape;                             /* POINTER_SHAPE */
		struct {
			uint8_t output;
			uint8_t count;
			const uint8_t *rects;        /* count wire rectangles: synthvid_msg_dirt_rect */
		} dirt;                              /* DIRT */
		uint8_t max_resolutions;             /* RESOLUTION_REQUEST */
	};
};

/*
 * One guest packet's payload (the pipe header first). 0 and *out;
 * -EBADMSG when the pipe header is not DATA, a size runs past the packet
 * (or the synthvid size past the pipe's), or the body is shorter than its
 * type needs, a count says more than the body holds, a count is 0, or a
 * shape's image is missing or too large; -ENOMSG for a type the guest
 * does not send (host messages, BIOS_INFO, unknown numbers). Body bytes
 * after what the type needs are ignored.
 */
int synthvid_msg_parse(const uint8_t *data, size_t len, struct synthvid_msg *out);
/* Rectangle i (< count) of a parsed DIRT message. */
void synthvid_msg_dirt_rect(const struct synthvid_msg *m, unsigned i, struct synthvid_rect *out);

/*
 * A guest's rectangle on a w x h screen: 0 and *out (x2/y2 exclusive, so
 * the size is x2 - x1); -EINVAL when it is empty or inverted, -ERANGE when
 * it reaches outside the screen.
 */
int synthvid_rect_check(const struct synthvid_rect *r, uint32_t w, uint32_t h, struct display_rect *out);
/*
 * A guest's mode for VRAM of vram_size bytes: 0; -EINVAL for a depth other
 * than 32, a size of 0 or above DISPLAY_MAX_SIDE, a pitch below width * 4
 * or not a multiple of 4; -ERANGE when offset + pitch * height passes the
 * end of VRAM.
 */
int synthvid_output_check(const struct synthvid_output *o, uint64_t vram_size);

/*
 * Host messages into buf, pipe header first: the length, or -ENOSPC for a
 * buf too small. The resolution list answers a guest that takes at most
 * max_count entries (0 gives an empty list, which the guest refuses): when
 * the list is longer, its first max_count - 1 entries and the default go;
 * the default index always points at the default mode. -EINVAL for an
 * empty list, a default outside it, or more than SYNTHVID_RESOLUTIONS_MAX.
 */
long synthvid_msg_build_version_response(uint8_t *buf, size_t size, uint32_t version, bool accepted);
long synthvid_msg_build_ack(uint8_t *buf, size_t size, uint32_t type, uint64_t user_ctx);
long synthvid_msg_build_feature_change(uint8_t *buf, size_t size, bool dirt, bool ptr_pos, bool ptr_shape,
				       bool situ);
long synthvid_msg_build_resolution_response(uint8_t *buf, size_t size, const struct synthvid_mode *modes,
					    size_t n, size_t default_index, uint8_t max_count);
