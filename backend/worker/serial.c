// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "guest_text.h"
#include "serial.h"
#include "unixsock.h"

#define SERIAL_BACKLOG_BYTES (64 * 1024)   /* replayed to a socket client that connects late */
#define SERIAL_ESCAPE 0x01                  /* Ctrl-A */

enum serial_kind { SERIAL_NONE, SERIAL_STDIO, SERIAL_FILE, SERIAL_UNIX };

struct serial {
	enum serial_kind kind;
	struct chardev_sink sink;
	GMutex lock;
	int out_fd;              /* stdio/file: where output goes; unix: the client, or -1 */
	int in_fd;               /* stdio: 0; unix: the client */
	int listen_fd;
	char *socket_path;
	bool tty_raw;
	struct termios saved_tty;
	bool escape_pending;
	GByteArray *backlog;     /* unix only */
	GByteArray *pending_in;
	guint in_source, listen_source, retry_source;
	serial_input_fn input;
	serial_escape_fn escape;
	void *opaque;
};

static void serial_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;   /* the reader is gone or full: console output is best effort */
		}
		buf += w;
		len -= (size_t)w;
	}
}

static void serial_sink_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;
	g_mutex_lock(&s->lock);
	if (s->kind == SERIAL_UNIX) {
		g_byte_array_append(s->backlog, buf, (guint)len);
		if (s->backlog->len > SERIAL_BACKLOG_BYTES)
			g_byte_array_remove_range(s->backlog, 0, s->backlog->len - SERIAL_BACKLOG_BYTES);
		if (s->out_fd >= 0)
			(void)send(s->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (s->out_fd >= 0) {
		if (s->tty_raw) {
			/* Raw mode turns off output processing; keep lines readable. */
			size_t start = 0;
			for (size_t i = 0; i < len; i++) {
				if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
					serial_write_all(s->out_fd, buf + start, i - start);
					serial_write_all(s->out_fd, (const uint8_t *)"\r\n", 2);
					start = i + 1;
				}
			}
			serial_write_all(s->out_fd, buf + start, len - start);
		} else {
			serial_write_all(s->out_fd, buf, len);
		}
	}
	g_mutex_unlock(&s->lock);
}

struct serial *serial_open(const char *spec, GError **error)
{
	g_autofree struct serial *s = g_new0(struct serial, 1);
	s->out_fd = s->in_fd = s->listen_fd = -1;
	g_mutex_init(&s->lock);
	s->pending_in = g_byte_array_new();

	if (g_str_equal(spec, "none")) {
		s->kind = SERIAL_NONE;
	} else if (g_str_equal(spec, "stdio")) {
		s->kind = SERIAL_STDIO;
		s->out_fd = STDOUT_FILENO;
		s->in_fd = STDIN_FILENO;
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved_tty) == 0) {
			struct termios raw = s->saved_tty;
			cfmakeraw(&raw);
			if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
				s->tty_raw = true;
		}
	} else if (g_str_has_prefix(spec, "unix:")) {
		s->kind = SERIAL_UNIX;
		s->socket_path = g_strdup(spec + 5);
		s->backlog = g_byte_array_new();
		s->listen_fd = unixsock_listen(s->socket_path, "serial socket", 1, error);
		if (s->listen_fd < 0) {
			g_byte_array_unref(s->pending_in);
			g_byte_array_unref(s->backlog);
			g_free(s->socket_path);
			return NULL;
		}
	} else {
		const char *path = g_str_has_prefix(spec, "file:") ? spec + 5 : spec;
		s->kind = SERIAL_FILE;
		s->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (s->out_fd < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "serial log %s: %s", path,
				    g_strerror(errno));
			g_byte_array_unref(s->pending_in);
			return NULL;
		}
	}
	s->sink = (struct chardev_sink){ .write = serial_sink_write, .opaque = s };
	return g_steal_pointer(&s);
}

const struct chardev_sink *serial_sink(struct serial *s)
{
	return &s->sink;
}

static void serial_drop_client(struct serial *s)
{
	if (s->in_source) {
		g_source_remove(s->in_source);
		s->in_source = 0;
	}
	g_mutex_lock(&s->lock);
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->out_fd = s->in_fd = -1;
	g_mutex_unlock(&s->lock);
}

static gboolean serial_retry_input(gpointer data);

/* Feeds what the UART can take now; the rest waits for room in its FIFO. */
static void serial_flush_pending(struct serial *s)
{
	if (!s->input || s->pending_in->len == 0)
		return;
	size_t took = s->input(s->opaque, s->pending_in->data, s->pending_in->len);
	g_byte_array_remove_range(s->pending_in, 0, (guint)took);
	if (s->pending_in->len > 0 && !s->retry_source)
		s->retry_source = g_timeout_add(5, serial_retry_input, s);
}

static gboolean serial_retry_input(gpointer data)
{
	struct serial *s = data;
	s->retry_source = 0;
	serial_flush_pending(s);
	return G_SOURCE_REMOVE;
}

static void serial_take_input(struct serial *s, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (s->tty_raw && s->escape_pending) {
			s->escape_pending = false;
			if (c != SERIAL_ESCAPE) {
				if (s->escape)
					s->escape(s->opaque, (char)c);
				continue;
			}
		} else if (s->tty_raw && c == SERIAL_ESCAPE) {
			s->escape_pending = true;
			continue;
		}
		g_byte_array_append(s->pending_in, &c, 1);
	}
	serial_flush_pending(s);
}

static gboolean serial_on_input(gint fd, GIOCondition cond, gpointer data)
{
	struct serial *s = data;
	uint8_t buf[512];
	/* Backpressure: do not read more while the guest has not taken the last batch. */
	if (s->pending_in->len > 4096)
		return G_SOURCE_CONTINUE;
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		serial_take_input(s, buf, (size_t)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	/* End of input: stdin closed, or the socket client left. */
	if (s->kind == SERIAL_UNIX) {
		s->in_source = 0;
		serial_drop_client(s);
	} else {
		s->in_source = 0;
	}
	return G_SOURCE_REMOVE;
}

static gboolean serial_on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct serial *s = data;
	int c = unixsock_accept_same_user(fd);
	if (c < 0)
		return G_SOURCE_CONTINUE;
	serial_drop_client(s);   /* one console client at a time: the newest wins */
	g_mutex_lock(&s->lock);
	s->out_fd = s->in_fd = c;
	(void)send(c, s->backlog->data, s->backlog->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	g_mutex_unlock(&s->lock);
	s->in_source = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, serial_on_input, s);
	return G_SOURCE_CONTINUE;
}

void serial_attach(struct serial *s, serial_input_fn input, serial_escape_fn escape, void *opaque)
{
	s->input = input;
	s->escape = escape;
	s->opaque = opaque;
	if (s->kind == SERIAL_STDIO && !s->in_source) {
		g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, NULL);
		s->in_source = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, serial_on_input, s);
	} else if (s->kind == SERIAL_UNIX && !s->listen_source) {
		s->listen_source = g_unix_fd_add(s->listen_fd, G_IO_IN, serial_on_accept, s);
	}
}

void serial_detach(struct serial *s)
{
	s->input = NULL;
	s->escape = NULL;
	g_byte_array_set_size(s->pending_in, 0);
}

char *serial_last_lines(struct serial *s, unsigned max_lines)
{
	if (s->kind != SERIAL_UNIX)
		return NULL;
	g_mutex_lock(&s->lock);
	char *t = guest_text_tail(s->backlog->data, s->backlog->len, max_lines, 4096);
	g_mutex_unlock(&s->lock);
	if (!*t)
		g_clear_pointer(&t, g_free);
	return t;
}

void serial_close(struct serial *s)
{
	if (!s)
		return;
	if (s->retry_source)
		g_source_remove(s->retry_source);
	if (s->listen_source)
		g_source_remove(s->listen_source);
	if (s->kind == SERIAL_UNIX) {
		serial_drop_client(s);
		close(s->listen_fd);
		unlink(s->socket_path);
		g_byte_array_unref(s->backlog);
	} else if (s->in_source) {
		g_source_remove(s->in_source);
	}
	if (s->kind == SERIAL_STDIO) {
		if (s->tty_raw)
			tcsetattr(STDIN_FILENO, TCSANOW, &s->saved_tty);
		g_unix_set_fd_nonblocking(STDIN_FILENO, FALSE, NULL);
	}
	if (s->kind == SERIAL_FILE && s->out_fd >= 0)
		close(s->out_fd);
	g_byte_array_unref(s->pending_in);
	g_free(s->socket_path);
	g_mutex_clear(&s->lock);
	g_free(s);
}
