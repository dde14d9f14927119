/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's console socket (protocols/console-protocol.md): a display
 * sink that shares the VM's screen with any number of viewers, and their
 * keyboard, pointer and clipboard back into the VM. Runs on one
 * GMainContext (the display's consumer context); a viewer that reads
 * slowly or not at all costs a bounded amount of memory and never delays
 * the display, the guest or the other viewers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>

#include "console.h"
#include "vsp/display.h"
#include "vsp/input.h"

#define CONSOLE_SERVER_CLIENTS_MAX      16
#define CONSOLE_SERVER_HELLO_TIMEOUT_MS 10000   /* from connect to the viewer's HELLO */
#define CONSOLE_SERVER_READ_BUDGET      (64 * 1024)   /* bytes read from one viewer per main-loop turn */
#define CONSOLE_SERVER_BACKLOG          8

/* The viewer's clipboard text changed (UTF-8, len bytes, no NUL inside). */
typedef void (*console_server_clipboard_fn)(void *opaque, const char *text, size_t len);

struct console_server_config {
	const char *path;                 /* NULL: no socket, viewers come through add_client_fd */
	struct display *display;          /* borrowed; outlives the server */
	const struct input_sink *input;   /* borrowed; NULL or NULL ops: input is counted and dropped */
	const char *name;                 /* the VM's name for HELLO */
	GMainContext *ctx;                /* NULL: the caller's thread-default context */
	console_server_clipboard_fn clipboard;
	void *clipboard_opaque;
	unsigned hello_timeout_ms;        /* 0: CONSOLE_SERVER_HELLO_TIMEOUT_MS */
};

struct console_server_stats {
	uint64_t accepted;
	uint64_t refused_peer;       /* another user's process */
	uint64_t refused_busy;       /* CONSOLE_SERVER_CLIENTS_MAX reached */
	uint64_t bad_messages;       /* well framed, invalid content: dropped */
	uint64_t protocol_errors;    /* broken framing, bad handshake: viewer dropped */
	uint64_t fds_refused;        /* viewers dropped for passing file descriptors */
	uint64_t input_dropped;      /* key or pointer that no sink took */
	uint64_t frames;             /* DAMAGE messages sent */
	unsigned clients;
	size_t buffered_max;         /* largest output plus input buffer a viewer holds now */
};

struct console_server *console_server_new(const struct console_server_config *cfg, GError **error);
void console_server_free(struct console_server *cs);

/* Serves a connected stream socket (the server owns fd from here on),
 * without the credential check of the listening socket. -EBUSY when
 * CONSOLE_SERVER_CLIENTS_MAX viewers are connected (fd is closed). */
int console_server_add_client_fd(struct console_server *cs, int fd);

/* What viewers are told about the VM; reason is UTF-8, cut at CONSOLE_TEXT_MAX. */
void console_server_set_vm_state(struct console_server *cs, enum console_vm_state state, const char *reason);

/* The guest's clipboard text for every viewer (the latest wins): -EINVAL
 * for text that is not UTF-8 or longer than CONSOLE_CLIPBOARD_MAX. */
int console_server_set_guest_clipboard(struct console_server *cs, const char *text, size_t len);
/* The latest clipboard text a viewer sent (kept for the guest), or NULL. */
const char *console_server_host_clipboard(struct console_server *cs, size_t *len);

void console_server_get_stats(struct console_server *cs, struct console_server_stats *st);
/* The stats as "clients=N accepted=N ..." for the control socket. */
char *console_server_describe(struct console_server *cs);

/* Whether a peer with these credentials may use the socket: the same user only. */
bool console_server_peer_allowed(const struct ucred *peer, uid_t self);
