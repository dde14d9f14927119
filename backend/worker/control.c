// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "control.h"
#include "unixsock.h"

#define CONTROL_LINE_MAX 1024
#define CONTROL_CLIENTS_MAX 16

struct control_client {
	struct control *c;
	int fd;
	guint source;
	GString *line;
};

struct control {
	int fd;
	char *path;
	guint source;
	GPtrArray *clients;
	control_handler_fn handler;
	void *opaque;
};

static void control_client_free(gpointer data)
{
	struct control_client *cl = data;
	if (cl->source)
		g_source_remove(cl->source);
	close(cl->fd);
	g_string_free(cl->line, TRUE);
	g_free(cl);
}

static void control_reply(struct control_client *cl, const char *reply)
{
	g_autofree char *msg = g_strconcat(reply, "\n", NULL);
	/* Replies are short; a client that does not read them loses them. */
	(void)send(cl->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static gboolean control_on_client(gint fd, GIOCondition cond, gpointer data)
{
	struct control_client *cl = data;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		cl->source = 0;
		g_ptr_array_remove(cl->c->clients, cl);
		return G_SOURCE_REMOVE;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			g_strstrip(cl->line->str);
			g_autofree char *reply = cl->c->handler(cl->c->opaque, cl->line->str);
			control_reply(cl, reply);
			g_string_truncate(cl->line, 0);
		} else if (cl->line->len >= CONTROL_LINE_MAX) {
			control_reply(cl, "error line too long");
			cl->source = 0;
			g_ptr_array_remove(cl->c->clients, cl);
			return G_SOURCE_REMOVE;
		} else if (buf[i] != '\r') {
			g_string_append_c(cl->line, buf[i]);
		}
	}
	return G_SOURCE_CONTINUE;
}

static gboolean control_on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct control *c = data;
	int cfd = unixsock_accept_same_user(fd);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (c->clients->len >= CONTROL_CLIENTS_MAX) {
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	struct control_client *cl = g_new0(struct control_client, 1);
	cl->c = c;
	cl->fd = cfd;
	cl->line = g_string_new(NULL);
	cl->source = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, control_on_client, cl);
	g_ptr_array_add(c->clients, cl);
	return G_SOURCE_CONTINUE;
}

struct control *control_open(const char *path, control_handler_fn handler, void *opaque, GError **error)
{
	int fd = unixsock_listen(path, "control socket", 4, error);
	if (fd < 0)
		return NULL;
	struct control *c = g_new0(struct control, 1);
	c->fd = fd;
	c->path = g_strdup(path);
	c->handler = handler;
	c->opaque = opaque;
	c->clients = g_ptr_array_new_with_free_func(control_client_free);
	c->source = g_unix_fd_add(fd, G_IO_IN, control_on_accept, c);
	return c;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	g_source_remove(c->source);
	g_ptr_array_unref(c->clients);
	close(c->fd);
	unlink(c->path);
	g_free(c->path);
	g_free(c);
}
