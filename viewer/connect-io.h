/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The viewer's second thread: a GMainContext for what must not wait on
 * the window (D-Bus with vireod, the console socket's readiness), turned
 * into SDL user events for the window's thread. The window thread blocks
 * in SDL_WaitEvent and is woken by them: no polling loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

enum connect_event {
	CONNECT_EVENT_SOCKET = 1,    /* the watched socket is readable (or hung up): watch it again after reading */
	CONNECT_EVENT_VIREOD,        /* data1: struct connect_vireod_info *, the receiver frees it */
	CONNECT_EVENT_NOTICE,        /* data1: a g_malloc'd message for the status line */
	CONNECT_EVENT_FATAL,         /* data1: a g_malloc'd message; the viewer exits */
	CONNECT_EVENT_RETRY,         /* time to connect again */
	CONNECT_EVENT_TYPE,          /* time to send the next typed keys */
};

struct connect_io;

/* 0 and *out, or -errno. Needs SDL's event system initialised. */
int connect_io_new(struct connect_io **out);
void connect_io_free(struct connect_io *io);

/* The thread's context: sources attached to it run on the io thread. */
GMainContext *connect_io_context(struct connect_io *io);

/* Any thread: an SDL user event of this kind. false when SDL's queue is
 * full: data stays the caller's. */
bool connect_io_post(struct connect_io *io, enum connect_event kind, void *data);

/* Window thread: one CONNECT_EVENT_SOCKET when fd becomes readable; -1
 * stops watching. Returns once the io thread has switched, so that the
 * caller may close the previous fd right after. */
void connect_io_watch(struct connect_io *io, int fd);

/* The SDL event type of these events. */
uint32_t connect_io_event_type(const struct connect_io *io);
