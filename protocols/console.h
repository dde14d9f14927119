/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console protocol between a worker (vireo-worker --console PATH) and
 * its viewers, specified in console-protocol.md beside this file: framed
 * little-endian messages on a Unix stream socket, the framebuffer shared as
 * a memfd (SCM_RIGHTS) or sent inline.
 *
 * The codec (console_msg.c) copies the packed wire structs below in and out
 * of the byte stream and converts their fields from little-endian, so it
 * works at any alignment and byte order. Both peers decode with the same
 * code: every message from the other side is hostile.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_VERSION_MAJOR 1u
#define CONSOLE_VERSION_MINOR 0u

/* {le16 type, le16 flags, le32 length}, then length bytes of body. */
#define CONSOLE_HEADER_SIZE 8u

/* Limits. A frame longer than its type allows ends the connection. */
#define CONSOLE_BODY_MAX          (1024u * 1024u + 64u)  /* any body, either way */
#define CONSOLE_NAME_MAX          64u                   /* HELLO name, UTF-8 bytes */
#define CONSOLE_TEXT_MAX          256u                  /* VM_STATE reason, ERROR text */
#define CONSOLE_CLIPBOARD_MAX     (1024u * 1024u)       /* CLIPBOARD text, UTF-8 bytes */
#define CONSOLE_DAMAGE_RECTS_MAX  64u                   /* rectangles in one DAMAGE */
#define CONSOLE_PIXELS_MAX        (256u * 1024u)        /* pixel bytes in one PIXELS */
#define CONSOLE_CURSOR_SIDE_MAX   256u
#define CONSOLE_SIDE_MAX          8192u                 /* surface width and height */
#define CONSOLE_KEY_CODE_MAX      0x2ffu                /* evdev KEY_MAX */
#define CONSOLE_WHEEL_MAX         64                    /* |wheel steps| in one POINTER */

/* Message types. */
enum console_type {
	/* either way */
	CONSOLE_MSG_HELLO       = 0x0001,
	CONSOLE_MSG_CLIPBOARD   = 0x0002,
	CONSOLE_MSG_ERROR       = 0x0003,
	/* worker -> viewer */
	CONSOLE_MSG_SURFACE     = 0x0010,
	CONSOLE_MSG_NO_SURFACE  = 0x0011,
	CONSOLE_MSG_DAMAGE      = 0x0012,
	CONSOLE_MSG_PIXELS      = 0x0013,
	CONSOLE_MSG_CURSOR      = 0x0014,
	CONSOLE_MSG_VM_STATE    = 0x0015,
	/* viewer -> worker */
	CONSOLE_MSG_KEY         = 0x0020,
	CONSOLE_MSG_POINTER     = 0x0021,
	CONSOLE_MSG_FRAME_DONE  = 0x0022,
};

/* Header flags. Every other bit is reserved and must be 0. */
#define CONSOLE_FLAG_FD 0x0001u   /* one fd rides on this message's first byte (SURFACE only) */

/* HELLO capabilities: the worker lists what it offers, the viewer what it
 * takes of that; the session uses the intersection. */
#define CONSOLE_CAP_INLINE_PIXELS 0x00000001u   /* pixels in PIXELS messages, no memfd */
#define CONSOLE_CAP_FRAME_ACK     0x00000002u   /* viewer acks each DAMAGE with FRAME_DONE */
#define CONSOLE_CAPS_KNOWN        0x00000003u

/* How many DAMAGE messages may await their FRAME_DONE (CAP_FRAME_ACK). */
#define CONSOLE_FRAMES_IN_FLIGHT  2u

/* Pixel formats (DRM fourcc). */
#define CONSOLE_FORMAT_XRGB8888   0x34325258u   /* "XR24": bytes B, G, R, X */

/* CURSOR flags. */
#define CONSOLE_CURSOR_VISIBLE    0x1u
#define CONSOLE_CURSOR_SHAPE      0x2u   /* an ARGB image follows the fixed part */
#define CONSOLE_CURSOR_FLAGS      0x3u

/* CLIPBOARD formats. */
#define CONSOLE_CLIPBOARD_TEXT    1u     /* UTF-8 text, no NUL */

/* VM_STATE states. */
enum console_vm_state {
	CONSOLE_VM_RUNNING = 1,
	CONSOLE_VM_PAUSED  = 2,
	CONSOLE_VM_OFF     = 3,
};

/* ERROR codes: the sender closes the connection after it. */
enum console_error {
	CONSOLE_ERROR_VERSION  = 1,   /* major version not spoken */
	CONSOLE_ERROR_PROTOCOL = 2,   /* a framing violation or a message out of order */
	CONSOLE_ERROR_BUSY     = 3,   /* too many viewers */
	CONSOLE_ERROR_FD       = 4,   /* the viewer passed a file descriptor */
	CONSOLE_ERROR_TIMEOUT  = 5,   /* no HELLO in time */
};

/*
 * The wire: packed little-endian structs, in this order on the socket.
 * A body is its fixed part, then what the comment says follows it.
 */
struct console_wire_header {
	uint16_t type;
	uint16_t flags;
	uint32_t length;
} __attribute__((packed));

struct console_wire_hello {
	uint16_t major, minor;
	uint32_t caps;
	/* then the peer's name: UTF-8, at most CONSOLE_NAME_MAX bytes */
} __attribute__((packed));

struct console_wire_surface {
	uint32_t width, height, stride, format;
	uint64_t offset;
	uint64_t size;
} __attribute__((packed));

struct console_wire_rect {
	uint32_t x, y, w, h;
} __attribute__((packed));

struct console_wire_damage {
	uint32_t frame;
	uint32_t count;
	/* then count struct console_wire_rect */
} __attribute__((packed));

struct console_wire_pixels {
	struct console_wire_rect r;
	/* then r.h rows of r.w * 4 bytes, no padding */
} __attribute__((packed));

struct console_wire_cursor {
	uint32_t flags;
	int32_t x, y;
	uint32_t w, h, hot_x, hot_y;
	/* then, with CONSOLE_CURSOR_SHAPE, w * h * 4 bytes of ARGB (B, G, R, A in memory) */
} __attribute__((packed));

struct console_wire_vm_state {
	uint32_t state;
	/* then the reason: UTF-8, at most CONSOLE_TEXT_MAX bytes */
} __attribute__((packed));

struct console_wire_error {
	uint32_t code;
	/* then a text: UTF-8, at most CONSOLE_TEXT_MAX bytes */
} __attribute__((packed));

struct console_wire_clipboard {
	uint32_t format;
	/* then the text: UTF-8, at most CONSOLE_CLIPBOARD_MAX bytes */
} __attribute__((packed));

struct console_wire_key {
	uint16_t code;
	uint8_t down;
	uint8_t reserved;
} __attribute__((packed));

struct console_wire_pointer {
	uint32_t x, y;
	uint32_t buttons;
	int32_t wheel, hwheel;
} __attribute__((packed));

struct console_wire_frame_done {
	uint32_t frame;
} __attribute__((packed));

_Static_assert(sizeof(struct console_wire_header) == CONSOLE_HEADER_SIZE, "header");
_Static_assert(sizeof(struct console_wire_hello) == 8, "hello");
_Static_assert(sizeof(struct console_wire_surface) == 32, "surface");
_Static_assert(sizeof(struct console_wire_rect) == 16, "rect");
_Static_assert(sizeof(struct console_wire_damage) == 8, "damage");
_Static_assert(sizeof(struct console_wire_pixels) == 16, "pixels");
_Static_assert(sizeof(struct console_wire_cursor) == 28, "cursor");
_Static_assert(sizeof(struct console_wire_vm_state) == 4, "vm_state");
_Static_assert(sizeof(struct console_wire_error) == 4, "error");
_Static_assert(sizeof(struct console_wire_clipboard) == 4, "clipboard");
_Static_assert(sizeof(struct console_wire_key) == 4, "key");
_Static_assert(sizeof(struct console_wire_pointer) == 20, "pointer");
_Static_assert(sizeof(struct console_wire_frame_done) == 4, "frame_done");

/* Pointer buttons (the same bits as vsp/input.h's INPUT_BUTTON_*). */
#define CONSOLE_BUTTON_LEFT       0x01u
#define CONSOLE_BUTTON_RIGHT      0x02u
#define CONSOLE_BUTTON_MIDDLE     0x04u
#define CONSOLE_BUTTON_SIDE       0x08u
#define CONSOLE_BUTTON_EXTRA      0x10u
#define CONSOLE_BUTTONS_ALL       0x1fu

enum console_sender {
	CONSOLE_FROM_WORKER,
	CONSOLE_FROM_VIEWER,
};

struct console_frame {
	uint16_t type;
	uint16_t flags;
	uint32_t length;          /* of the body */
};

struct console_rect {
	uint32_t x, y, w, h;
};

/*
 * One message, decoded or to encode. Text and pixel pointers point into
 * the body that was decoded (valid while it is) or at the caller's data;
 * text is not NUL-terminated.
 */
struct console_msg {
	uint16_t type;
	uint16_t flags;           /* header flags: CONSOLE_FLAG_FD */
	union {
		struct {
			uint16_t major, minor;
			uint32_t caps;
			const char *name;
			size_t name_len;
		} hello;
		struct {
			uint32_t width, height, stride, format;
			uint64_t offset;          /* of the first pixel in the fd */
			uint64_t size;            /* bytes of the fd to map: offset + stride * height at least */
		} surface;
		struct {
			uint32_t frame;
			uint32_t count;
			struct console_rect rects[CONSOLE_DAMAGE_RECTS_MAX];
		} damage;
		struct {
			struct console_rect r;
			const uint8_t *data;      /* r.h rows of r.w * 4 bytes */
			uint32_t stride;          /* between rows of data: decoded, r.w * 4 */
		} pixels;
		struct {
			uint32_t flags;           /* CONSOLE_CURSOR_* */
			int32_t x, y;
			uint32_t w, h, hot_x, hot_y;
			const uint8_t *argb;      /* w * h * 4 bytes, with CONSOLE_CURSOR_SHAPE */
		} cursor;
		struct {
			uint32_t state;           /* enum console_vm_state */
			const char *reason;
			size_t reason_len;
		} vm_state;
		struct {
			uint32_t code;            /* enum console_error */
			const char *text;
			size_t text_len;
		} error;
		struct {
			uint32_t format;          /* CONSOLE_CLIPBOARD_TEXT */
			const char *text;
			size_t len;
		} clipboard;
		struct {
			uint16_t code;            /* evdev KEY_* */
			bool down;
		} key;
		struct {
			uint32_t x, y;            /* surface pixels */
			uint32_t buttons;         /* CONSOLE_BUTTON_* held */
			int32_t wheel, hwheel;    /* steps, positive up / right */
		} pointer;
		struct {
			uint32_t frame;
		} frame_done;
	};
};

/*
 * The header at buf: 0 and *f when it is complete and acceptable from
 * this sender; -EAGAIN when fewer than CONSOLE_HEADER_SIZE bytes are
 * there; -EMSGSIZE when the length is above what the type allows
 * (CONSOLE_BODY_MAX for a type not known here); -EPROTO for a reserved
 * flag, or CONSOLE_FLAG_FD on anything but a SURFACE from the worker.
 * Either error means the stream cannot be trusted any more.
 */
int console_frame_parse(const uint8_t *buf, size_t len, enum console_sender from, struct console_frame *f);

/*
 * The body of a frame that console_frame_parse accepted (len ==
 * f->length). 0 and *m; -ENOMSG for a type not known here or not sent
 * by this sender; -EBADMSG for a body of the wrong size or with counts
 * that disagree with it; -EINVAL for a field out of range (unknown
 * format, state or flag bits, coordinates, sizes, key codes); -EILSEQ
 * for text that is not UTF-8 or holds a NUL. The stream stays in step:
 * the caller drops the message and goes on.
 */
int console_msg_decode(const struct console_frame *f, const uint8_t *body, size_t len, enum console_sender from,
		       struct console_msg *m);

/* Header plus body size that m encodes to, or 0 when m is not valid. */
size_t console_msg_size(const struct console_msg *m);

/* m into buf: its size, or -EINVAL when m is not what console_msg_decode
 * would accept from either sender, -ENOSPC when size is too small. */
long console_msg_encode(const struct console_msg *m, uint8_t *buf, size_t size);

/* *m becomes our HELLO: this protocol version, caps, and name (a
 * NUL-terminated string that must outlive m) naming the sender. */
void console_msg_hello(struct console_msg *m, uint32_t caps, const char *name);

/* Text rules of the protocol: UTF-8 without NUL. */
bool console_text_valid(const char *text, size_t len);

/*
 * A byte stream into messages (console_reader.c). The reader holds at most
 * one frame, CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX bytes.
 */
struct console_reader {
	enum console_sender from;     /* who writes the stream */
	uint8_t *buf;
	size_t len, cap;
	struct console_frame frame;   /* when len >= CONSOLE_HEADER_SIZE */
};

/*
 * Called for every complete frame: status is console_msg_decode's result
 * (m is valid only when it is 0). Nonzero stops the reader, which returns it.
 */
typedef int (*console_msg_fn)(void *opaque, int status, const struct console_frame *f, const struct console_msg *m);

void console_reader_init(struct console_reader *r, enum console_sender from);
void console_reader_clear(struct console_reader *r);
/*
 * Takes len bytes of the stream. 0 when all were taken; what fn returned
 * when it stopped the reader; -EMSGSIZE or -EPROTO (console_frame_parse)
 * when the stream broke the framing: the connection is to be closed.
 */
int console_reader_feed(struct console_reader *r, const uint8_t *data, size_t len, console_msg_fn fn, void *opaque);
