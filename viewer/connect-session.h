/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The viewer's side of the console protocol (protocols/console-protocol.md):
 * one connection to a worker's console socket. Everything the worker sends
 * goes through the shared codec, then through the checks here against the
 * session's own state (a rectangle inside the surface, an fd where one was
 * announced); what fails them is counted and dropped, or ends the session
 * when the stream cannot be trusted. A dead socket is a state, reported
 * through the closed callback, never a crash.
 *
 * No SDL and no threads: the owner calls connect_session_read when the
 * socket is readable and gets its callbacks from inside that call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"

#define CONNECT_SESSION_FDS_MAX   4            /* received fds not yet claimed by a SURFACE */
#define CONNECT_SESSION_READ_MAX  (4u << 20)   /* bytes read per connect_session_read */
#define CONNECT_SESSION_OUT_MAX   (64u * 1024) /* input waiting for a worker that does not read */
#define CONNECT_SESSION_NAME      "vireo-connect"

/* The picture: pixels XRGB8888 (bytes B, G, R, X), rows stride bytes apart.
 * Shared: the worker's live memfd mapping; inline: the session's copy. */
struct connect_surface {
	uint32_t width, height, stride;
	const uint8_t *pixels;
	bool shared;
};

struct connect_cursor {
	bool visible;
	int32_t x, y;
	uint32_t w, h, hot_x, hot_y;   /* 0 x 0: no shape yet */
	const uint8_t *argb;           /* w * h * 4, B G R A */
	bool shape_changed;            /* since the previous callback */
};

struct connect_session_ops {
	void (*hello)(void *opaque, const char *name);                /* the worker's name for the VM */
	void (*surface)(void *opaque, const struct connect_surface *s); /* NULL: no picture */
	void (*damage)(void *opaque, const struct console_rect *rects, size_t n);  /* clipped, present now */
	void (*vm_state)(void *opaque, enum console_vm_state state, const char *reason);
	void (*cursor)(void *opaque, const struct connect_cursor *c);
	/* The connection is over: err is -ECONNRESET when the worker went away,
	 * -EPROTO when it broke the protocol, ...; why says it for a person.
	 * The session is closed already when this runs. */
	void (*closed)(void *opaque, int err, const char *why);
};

struct connect_session_stats {
	uint64_t bad_messages;    /* well framed, refused by the codec or the session: dropped */
	uint64_t unknown;         /* types of a newer minor version: dropped */
	uint64_t frames;          /* DAMAGE messages */
	uint64_t surfaces;
	uint64_t input_dropped;   /* key or pointer that did not fit the output buffer */
};

struct connect_session;

/* inline_pixels: ask for CONSOLE_CAP_INLINE_PIXELS (no memfd: for a socket
 * forwarded from another machine). */
struct connect_session *connect_session_new(const struct connect_session_ops *ops, void *opaque,
					    bool inline_pixels);
void connect_session_free(struct connect_session *s);

/* Connects to path and sends HELLO: 0, or -errno (-ENOENT / -ECONNREFUSED:
 * no worker there). */
int connect_session_open(struct connect_session *s, const char *path);
/* The same on a connected stream socket (the session owns fd). */
int connect_session_open_fd(struct connect_session *s, int fd);
void connect_session_close(struct connect_session *s);

bool connect_session_is_open(const struct connect_session *s);
/* The socket to watch for reading, -1 when closed. */
int connect_session_fd(const struct connect_session *s);

/* Reads what the socket has (at most CONNECT_SESSION_READ_MAX bytes) and
 * runs the callbacks. 0 while the session lives; once it ends, closed()
 * has run and this returns its err. */
int connect_session_read(struct connect_session *s);

/* The bytes of a stream as if read from the socket, with the fds that
 * came with them (the session owns them); for tests and the fuzz target. */
int connect_session_feed(struct connect_session *s, const uint8_t *data, size_t len, const int *fds, size_t nfds);

/* Input for the guest. -ENOTCONN when closed; -EINVAL for what the
 * protocol cannot carry; -ENOBUFS when the worker has not read the
 * previous CONNECT_SESSION_OUT_MAX bytes (dropped, counted). */
int connect_session_send_key(struct connect_session *s, uint16_t evdev_code, bool down);
int connect_session_send_pointer(struct connect_session *s, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel,
				 int32_t hwheel);
/* After the picture of every DAMAGE so far has been shown (FRAME_ACK). */
int connect_session_frame_done(struct connect_session *s);

const struct connect_surface *connect_session_surface(const struct connect_session *s);
/* The latest VM_STATE (0 before the first). */
enum console_vm_state connect_session_vm_state(const struct connect_session *s);
void connect_session_get_stats(const struct connect_session *s, struct connect_session_stats *st);
