/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulated-host multiplexer (emuhost-mux.md beside this file): one
 * byte stream on a QEMU virtio-serial port between vireo-emuhost on the
 * host and vireo-emuhost-agent inside the emulated host (L1). It carries
 * the connections to the inner worker's sockets as channels, each with a
 * credit window per direction, plus the worker's log and its exit.
 *
 * Everything the host reads here comes from L1, which runs the worker a
 * guest talks to: the host treats it as hostile input. The codec
 * (emuhost_mux.c) copies the packed little-endian structs below in and out
 * of the stream at any alignment.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMUX_VERSION_MAJOR 1u
#define EMUX_VERSION_MINOR 1u   /* 1.1: a saved state's files (FILE ... FILES_END) */

/* {le16 type, le16 channel, le32 length}, then length bytes of body. */
#define EMUX_HEADER_SIZE 8u

/* Limits. */
#define EMUX_DATA_MAX      (64u * 1024u)   /* payload of one DATA */
#define EMUX_LOG_MAX       4096u           /* payload of one LOG */
#define EMUX_TEXT_MAX      256u            /* EXIT text */
#define EMUX_BODY_MAX      EMUX_DATA_MAX   /* any body, known type or not */
#define EMUX_CHANNELS_MAX  64u             /* channels 1..64; 0 is the link itself */
#define EMUX_WINDOW        (256u * 1024u)  /* bytes in flight per channel and direction */
#define EMUX_SIGNAL_MAX    64u             /* SIGNAL numbers 1..64 */
#define EMUX_FILE_NAME_MAX 64u             /* FILE: a name of [A-Za-z0-9._-], not starting with '.' */
#define EMUX_FILE_SIZE_MAX (1ull << 41)    /* FILE: a file's size (guest RAM is at most 1 TiB) */
#define EMUX_FILE_DATA_MAX (EMUX_BODY_MAX - 8u)   /* FILE_DATA: bytes after the offset */
#define EMUX_FILES_MAX     16u             /* FILES_END: files in one set */
#define EMUX_ERRNO_MAX     4095u           /* CLOSE, FILES_END: a positive errno */

enum emux_type {
	/* channel 0: the link */
	EMUX_MSG_HELLO  = 0x0001,   /* either way */
	EMUX_MSG_READY  = 0x0002,   /* agent -> host */
	EMUX_MSG_EXIT   = 0x0003,   /* agent -> host */
	EMUX_MSG_LOG    = 0x0004,   /* agent -> host */
	EMUX_MSG_SIGNAL = 0x0005,   /* host -> agent */
	/* agent -> host: a saved state's files, after the worker saved (save DIR) */
	EMUX_MSG_FILE      = 0x0006,
	EMUX_MSG_FILE_DATA = 0x0007,
	EMUX_MSG_FILE_END  = 0x0008,
	EMUX_MSG_FILES_END = 0x0009,
	/* channels 1..EMUX_CHANNELS_MAX */
	EMUX_MSG_OPEN   = 0x0010,   /* host -> agent */
	EMUX_MSG_DATA   = 0x0011,   /* either way */
	EMUX_MSG_CREDIT = 0x0012,   /* either way */
	EMUX_MSG_EOF    = 0x0013,   /* either way */
	EMUX_MSG_CLOSE  = 0x0014,   /* either way */
};

/* The inner worker's endpoints (OPEN, READY's bit mask: 1 << endpoint). */
enum emux_endpoint {
	EMUX_EP_CONTROL = 0,
	EMUX_EP_CONSOLE = 1,
	EMUX_EP_SERIAL  = 2,
	EMUX_EP_VNC     = 3,
	EMUX_EP_COUNT,
};
#define EMUX_EP_ALL ((1u << EMUX_EP_COUNT) - 1u)

/* EXIT: how the worker ended, or why it never ran. */
enum emux_exit_how {
	EMUX_EXIT_STATUS     = 1,   /* code: its exit status 0..255 */
	EMUX_EXIT_SIGNAL     = 2,   /* code: the signal that killed it 1..64 */
	EMUX_EXIT_L1_FAILURE = 3,   /* code 0: the emulated host cannot run it (text says why) */
	EMUX_EXIT_NO_WORKER  = 4,   /* code: errno of starting it */
};

struct emux_wire_header {
	uint16_t type;
	uint16_t channel;
	uint32_t length;
} __attribute__((packed));

struct emux_wire_hello {
	uint16_t major, minor;
	uint32_t flags;             /* 0; others ignore unknown bits */
} __attribute__((packed));

struct emux_wire_ready {
	uint32_t endpoints;         /* bit mask of enum emux_endpoint */
} __attribute__((packed));

struct emux_wire_exit {
	uint32_t how;
	uint32_t code;
	/* then a text: UTF-8 without NUL, at most EMUX_TEXT_MAX bytes */
} __attribute__((packed));

struct emux_wire_signal {
	uint32_t signo;
} __attribute__((packed));

struct emux_wire_file {
	uint64_t size;              /* then the name: 1..EMUX_FILE_NAME_MAX bytes */
} __attribute__((packed));

struct emux_wire_file_data {
	uint64_t offset;            /* then 1..EMUX_FILE_DATA_MAX bytes; the rest of the file is zeros */
} __attribute__((packed));

struct emux_wire_file_end {
	uint64_t bytes;             /* FILE_DATA bytes the file had */
} __attribute__((packed));

struct emux_wire_files_end {
	uint32_t files;             /* how many were sent, 0..EMUX_FILES_MAX */
	uint32_t error;             /* 0: the set is whole; else the sender's errno */
} __attribute__((packed));

struct emux_wire_open {
	uint32_t endpoint;
} __attribute__((packed));

struct emux_wire_credit {
	uint32_t bytes;
} __attribute__((packed));

struct emux_wire_close {
	uint32_t error;             /* 0: done; else a positive errno */
} __attribute__((packed));

_Static_assert(sizeof(struct emux_wire_header) == EMUX_HEADER_SIZE, "header");
_Static_assert(sizeof(struct emux_wire_hello) == 8, "hello");
_Static_assert(sizeof(struct emux_wire_ready) == 4, "ready");
_Static_assert(sizeof(struct emux_wire_exit) == 8, "exit");
_Static_assert(sizeof(struct emux_wire_signal) == 4, "signal");
_Static_assert(sizeof(struct emux_wire_file) == 8, "file");
_Static_assert(sizeof(struct emux_wire_file_data) == 8, "file data");
_Static_assert(sizeof(struct emux_wire_file_end) == 8, "file end");
_Static_assert(sizeof(struct emux_wire_files_end) == 8, "files end");
_Static_assert(sizeof(struct emux_wire_open) == 4, "open");
_Static_assert(sizeof(struct emux_wire_credit) == 4, "credit");
_Static_assert(sizeof(struct emux_wire_close) == 4, "close");

enum emux_sender {
	EMUX_FROM_HOST,
	EMUX_FROM_AGENT,
};

struct emux_frame {
	uint16_t type;
	uint16_t channel;
	uint32_t length;
};

/* One message, decoded or to encode; data and text point into the body. */
struct emux_msg {
	uint16_t type;
	uint16_t channel;
	union {
		struct { uint16_t major, minor; uint32_t flags; } hello;
		struct { uint32_t endpoints; } ready;
		struct { uint32_t how, code; const char *text; size_t text_len; } exit;
		struct { const uint8_t *data; size_t len; } log;
		struct { uint32_t signo; } signal;
		struct { uint64_t size; const char *name; size_t name_len; } file;
		struct { uint64_t offset; const uint8_t *data; size_t len; } file_data;
		struct { uint64_t bytes; } file_end;
		struct { uint32_t files, error; } files_end;
		struct { uint32_t endpoint; } open;
		struct { const uint8_t *data; size_t len; } data;
		struct { uint32_t bytes; } credit;
		struct { uint32_t error; } close;
	};
};

/*
 * The header at buf: 0 and *f; -EAGAIN when fewer than EMUX_HEADER_SIZE
 * bytes are there; -EMSGSIZE for a length above EMUX_BODY_MAX. Only
 * -EMSGSIZE breaks the stream: a frame's length is all the reader needs
 * to stay in step.
 */
int emux_frame_parse(const uint8_t *buf, size_t len, struct emux_frame *f);

/*
 * The body of a parsed frame (len == f->length): 0 and *m; -ENOMSG for a
 * type not known here or not sent by `from`; -EBADMSG for a body of the
 * wrong size or a channel number the type does not take; -EINVAL for a
 * field out of range (endpoint, EXIT how and code, signal, credit, close
 * error, a file's size or name, data beyond EMUX_FILE_SIZE_MAX, FILES_END's
 * count or error); -EILSEQ for EXIT text that is not UTF-8 or holds a NUL.
 */
int emux_msg_decode(const struct emux_frame *f, const uint8_t *body, size_t len, enum emux_sender from,
		    struct emux_msg *m);

/* Header plus body size m encodes to, or 0 when m is not valid. */
size_t emux_msg_size(const struct emux_msg *m);

/* m into buf: its size; -EINVAL when m is not valid from either sender,
 * -ENOSPC when size is too small. */
long emux_msg_encode(const struct emux_msg *m, uint8_t *buf, size_t size);

/* A byte stream into frames: holds at most one frame. */
struct emux_reader {
	enum emux_sender from;       /* who writes the stream */
	uint8_t *buf;
	size_t len;
	bool broken;                 /* a frame broke the framing: nothing more is taken */
};

/* status: emux_msg_decode's result (m valid only when 0). Nonzero stops
 * the reader, which returns it. */
typedef int (*emux_msg_fn)(void *opaque, int status, const struct emux_frame *f, const struct emux_msg *m);

void emux_reader_init(struct emux_reader *r, enum emux_sender from);
void emux_reader_clear(struct emux_reader *r);
/* 0 when all len bytes were taken; what fn returned when it stopped the
 * reader; -EMSGSIZE when the stream broke the framing (the link is lost);
 * -ENOMEM. */
int emux_reader_feed(struct emux_reader *r, const uint8_t *data, size_t len, emux_msg_fn fn, void *opaque);
