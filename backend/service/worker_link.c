// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "worker_link.h"

struct link_call {
	char *line;                  /* command + "\n" */
	GSocketConnection *conn;
	GDataInputStream *in;
	GSource *timeout;
	GCancellable *cancel;        /* ours: the timeout cancels through it */
	gulong cancel_id;
	GCancellable *caller_cancel;
	unsigned timeout_ms;
	bool timed_out;              /* our cancel came from the timeout, not the caller */
};

static void link_call_free(gpointer p)
{
	struct link_call *c = p;
	if (c->timeout) {
		g_source_destroy(c->timeout);
		g_source_unref(c->timeout);
	}
	if (c->caller_cancel)
		g_cancellable_disconnect(c->caller_cancel, c->cancel_id);
	g_clear_object(&c->caller_cancel);
	g_clear_object(&c->in);
	g_clear_object(&c->conn);
	g_clear_object(&c->cancel);
	g_free(c->line);
	g_free(c);
}

/* Callers stop on CANCELLED (they asked for it); our own timeout is an
 * unanswered worker, which they must see as such and may ask again. */
static void link_fail(GTask *t, GError *e)
{
	struct link_call *c = g_task_get_task_data(t);
	if (c->timed_out && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_error_free(e);
		e = g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the worker did not answer within %u ms",
				c->timeout_ms);
	}
	g_task_return_error(t, e);
	g_object_unref(t);
}

static void link_on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	GTask *t = data;
	GError *e = NULL;
	gsize len;
	char *line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(src), res, &len, &e);
	if (!line && !e)
		e = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED, "the worker closed its control socket");
	if (e) {
		link_fail(t, e);
		return;
	}
	g_task_return_pointer(t, line, g_free);
	g_object_unref(t);
}

static void link_on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	GTask *t = data;
	struct link_call *c = g_task_get_task_data(t);
	GError *e = NULL;
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &e)) {
		link_fail(t, e);
		return;
	}
	c->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)));
	g_data_input_stream_set_newline_type(c->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
	g_buffered_input_stream_set_buffer_size(G_BUFFERED_INPUT_STREAM(c->in), WORKER_LINK_REPLY_MAX);
	g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, c->cancel, link_on_read, t);
}

static void link_on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	GTask *t = data;
	struct link_call *c = g_task_get_task_data(t);
	GError *e = NULL;
	c->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &e);
	if (!c->conn) {
		link_fail(t, e);
		return;
	}
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
	g_output_stream_write_all_async(out, c->line, strlen(c->line), G_PRIORITY_DEFAULT, c->cancel,
					link_on_written, t);
}

static gboolean link_on_timeout(gpointer data)
{
	struct link_call *c = data;
	c->timed_out = true;
	g_cancellable_cancel(c->cancel);
	return G_SOURCE_REMOVE;
}

static void link_on_caller_cancel(GCancellable *cancel, gpointer data)
{
	g_cancellable_cancel(data);
}

void worker_link_call(const char *path, const char *command, GCancellable *cancel,
		      GAsyncReadyCallback callback, gpointer user_data)
{
	worker_link_call_timeout(path, command, WORKER_LINK_TIMEOUT_MS, cancel, callback, user_data);
}

void worker_link_call_timeout(const char *path, const char *command, unsigned timeout_ms, GCancellable *cancel,
			      GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *t = g_task_new(NULL, NULL, callback, user_data);
	struct link_call *c = g_new0(struct link_call, 1);
	c->line = g_strconcat(command, "\n", NULL);
	c->cancel = g_cancellable_new();
	c->timeout_ms = timeout_ms;
	if (cancel) {
		c->caller_cancel = g_object_ref(cancel);
		c->cancel_id = g_cancellable_connect(cancel, G_CALLBACK(link_on_caller_cancel), c->cancel, NULL);
	}
	g_task_set_task_data(t, c, link_call_free);
	c->timeout = g_timeout_source_new(timeout_ms);
	g_source_set_callback(c->timeout, link_on_timeout, c, NULL);
	g_source_attach(c->timeout, g_main_context_get_thread_default());
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), c->cancel, link_on_connected, t);
}

char *worker_link_call_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

struct sync_wait {
	GMainLoop *loop;
	char *reply;
	GError *error;
};

static void link_sync_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct sync_wait *w = data;
	w->reply = worker_link_call_finish(res, &w->error);
	g_main_loop_quit(w->loop);
}

static gboolean link_sync_timeout(gpointer data)
{
	g_cancellable_cancel(data);
	return G_SOURCE_REMOVE;
}

char *worker_link_call_sync(const char *path, const char *command, unsigned timeout_ms, GError **error)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	struct sync_wait w = { .loop = g_main_loop_new(ctx, FALSE) };
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	GSource *to = g_timeout_source_new(timeout_ms);
	g_source_set_callback(to, link_sync_timeout, cancel, NULL);
	g_source_attach(to, ctx);
	worker_link_call(path, command, cancel, link_sync_done, &w);
	g_main_loop_run(w.loop);
	g_source_destroy(to);
	g_source_unref(to);
	g_main_loop_unref(w.loop);
	g_main_context_pop_thread_default(ctx);
	if (w.error)
		g_propagate_error(error, w.error);
	return w.reply;
}
