/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VNC export (libvncserver): the display's surface as the VNC
 * framebuffer, updated from the display's damage only, and VNC keys and
 * pointer back into the VM through an input sink.
 *
 * libvncserver runs in a thread of its own, which alone calls into it:
 * its writes wait for a slow client (up to VNC_CLIENT_WAIT_MS, then it
 * drops that client), and that wait must never be the worker's main loop.
 * The display sink (main context) hands the thread new surfaces and
 * damage under a lock; the thread hands key and pointer events back to
 * the main context, where the input sink is called. The thread maps each
 * surface itself, read-only: libvncserver cannot write into the guest's
 * framebuffer (cursor drawing is off; the viewer draws its own pointer).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>

#include "vsp/display.h"
#include "vsp/input.h"

#define VNC_CLIENTS_MAX        8
#define VNC_CLIENT_WAIT_MS     3000     /* a client that stalls a read or a write this long is dropped */
#define VNC_INPUT_QUEUE_MAX    1024     /* events waiting for the main context; more are dropped */
#define VNC_PASSWORD_FILE_MAX  4096
#define VNC_PASSWORD_BYTES     8        /* VNC authentication uses this much of the password */
#define VNC_BLANK_WIDTH        640      /* the picture before the guest has one */
#define VNC_BLANK_HEIGHT       480

enum vnc_listen_kind { VNC_LISTEN_TCP, VNC_LISTEN_UNIX };

struct vnc_listen {
	enum vnc_listen_kind kind;
	struct sockaddr_storage addr;     /* TCP */
	socklen_t addr_len;
	bool loopback;                    /* TCP on 127.0.0.0/8 or ::1; always true for unix */
	char path[108];                   /* unix */
};

/*
 * "HOST:PORT" (HOST: a numeric IPv4 address, [IPv6] or localhost; empty
 * means localhost), or "unix:PATH". Port 0 picks a free one. 0, or
 * -EINVAL with *why saying what is wrong.
 */
int vnc_parse_listen(const char *spec, struct vnc_listen *out, const char **why);

struct vnc_config {
	const char *listen;               /* as vnc_parse_listen takes */
	const char *password_file;        /* NULL: no authentication (loopback or unix only) */
	const char *keymap_layout;        /* XKB layout for keysyms (NULL: us) */
	const char *keymap_variant;
	struct display *display;          /* borrowed */
	const struct input_sink *input;   /* borrowed; NULL or NULL ops: input is dropped */
	const char *name;                 /* desktop name */
	GMainContext *ctx;                /* the display's consumer context (NULL: thread default) */
};

struct vnc_stats {
	uint64_t accepted;
	uint64_t refused;                 /* another user (unix), or VNC_CLIENTS_MAX reached */
	uint64_t keys_unmapped;           /* keysyms the keymap has no key for */
	uint64_t input_dropped;           /* queue full, or no sink took it */
	uint64_t updates;                 /* damage rectangles handed to libvncserver */
	unsigned clients;
};

struct vnc *vnc_new(const struct vnc_config *cfg, GError **error);
void vnc_free(struct vnc *v);
/* The TCP port listened on (useful with port 0), or -1 on a unix socket. */
int vnc_port(struct vnc *v);
void vnc_get_stats(struct vnc *v, struct vnc_stats *st);
char *vnc_describe(struct vnc *v);
