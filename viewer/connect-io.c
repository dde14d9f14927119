// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include <SDL2/SDL.h>
#include <glib-unix.h>

#include "connect-io.h"

struct connect_io {
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	uint32_t event_type;
	GSource *watch;          /* io thread only */
	GMutex lock;
	GCond cond;
	unsigned switches_done;  /* under lock: watch requests carried out */
	unsigned switches;       /* window thread: watch requests made */
};

struct io_watch_req {
	struct connect_io *io;
	int fd;
	unsigned seq;
};

static gpointer io_thread(gpointer data)
{
	struct connect_io *io = data;
	g_main_context_push_thread_default(io->ctx);
	g_main_loop_run(io->loop);
	g_main_context_pop_thread_default(io->ctx);
	return NULL;
}

int connect_io_new(struct connect_io **out)
{
	uint32_t type = SDL_RegisterEvents(1);
	if (type == (uint32_t)-1)
		return -ENOSPC;
	struct connect_io *io = g_new0(struct connect_io, 1);
	io->event_type = type;
	io->ctx = g_main_context_new();
	io->loop = g_main_loop_new(io->ctx, FALSE);
	g_mutex_init(&io->lock);
	g_cond_init(&io->cond);
	io->thread = g_thread_new("vireo-connect-io", io_thread, io);
	*out = io;
	return 0;
}

static gboolean io_quit(gpointer data)
{
	struct connect_io *io = data;
	if (io->watch) {
		g_source_destroy(io->watch);
		g_clear_pointer(&io->watch, g_source_unref);
	}
	g_main_loop_quit(io->loop);
	return G_SOURCE_REMOVE;
}

void connect_io_free(struct connect_io *io)
{
	if (!io)
		return;
	g_main_context_invoke(io->ctx, io_quit, io);
	g_thread_join(io->thread);
	g_main_loop_unref(io->loop);
	g_main_context_unref(io->ctx);
	g_mutex_clear(&io->lock);
	g_cond_clear(&io->cond);
	g_free(io);
}

GMainContext *connect_io_context(struct connect_io *io)
{
	return io->ctx;
}

uint32_t connect_io_event_type(const struct connect_io *io)
{
	return io->event_type;
}

bool connect_io_post(struct connect_io *io, enum connect_event kind, void *data)
{
	SDL_Event ev = { .type = io->event_type };
	ev.user.code = (Sint32)kind;
	ev.user.data1 = data;
	return SDL_PushEvent(&ev) == 1;
}

static gboolean io_on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct connect_io *io = data;
	/* One-shot: the window thread reads until the socket is empty, then
	 * asks again; a level-triggered watch would spin meanwhile. An event
	 * the full queue refused is asked for again a moment later. */
	if (!connect_io_post(io, CONNECT_EVENT_SOCKET, NULL))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&io->watch, g_source_unref);
	return G_SOURCE_REMOVE;
}

static gboolean io_switch_watch(gpointer data)
{
	struct io_watch_req *req = data;
	struct connect_io *io = req->io;
	if (io->watch) {
		g_source_destroy(io->watch);
		g_clear_pointer(&io->watch, g_source_unref);
	}
	if (req->fd >= 0) {
		io->watch = g_unix_fd_source_new(req->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
		g_source_set_callback(io->watch, G_SOURCE_FUNC(io_on_readable), io, NULL);
		g_source_attach(io->watch, io->ctx);
	}
	g_mutex_lock(&io->lock);
	io->switches_done = req->seq;
	g_cond_broadcast(&io->cond);
	g_mutex_unlock(&io->lock);
	return G_SOURCE_REMOVE;
}

void connect_io_watch(struct connect_io *io, int fd)
{
	struct io_watch_req req = { io, fd, ++io->switches };
	g_main_context_invoke(io->ctx, io_switch_watch, &req);
	g_mutex_lock(&io->lock);
	while (io->switches_done != req.seq)
		g_cond_wait(&io->cond, &io->lock);
	g_mutex_unlock(&io->lock);
}
