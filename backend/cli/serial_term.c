// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>

#include "serial_term.h"

static bool term_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A non-blocking descriptor we were given: wait until it takes more. */
			struct pollfd pf = { fd, POLLOUT, 0 };
			(void)poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static int term_connect(const char *path, GError **error)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "%s: the path is too long for a socket", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", path, g_strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int serial_term_run(const char *path, unsigned linger_ms, enum serial_term_end *end, GError **error)
{
	int fd = term_connect(path, error);
	if (fd < 0)
		return -1;
	struct termios saved;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		/* Every key goes to the guest as typed: its shell echoes and edits. */
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	bool in_eof = false, done = false;
	int rc = 0;
	gint64 linger_end = 0;
	*end = SERIAL_TERM_USER;
	char buf[4096];
	while (!done) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { in_eof ? -1 : STDIN_FILENO, POLLIN, 0 } };
		/* Once stdin ended, linger_ms in all: a chatty guest does not keep us. */
		int wait_ms = -1;
		if (in_eof) {
			gint64 left = linger_end - g_get_monotonic_time();
			wait_ms = left > 0 ? (int)((left + 999) / 1000) : 0;
		}
		int n = poll(p, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "poll: %s", g_strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;   /* stdin ended a while ago */
		if (p[0].revents) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*end = SERIAL_TERM_CLOSED;
				break;
			}
			if (!term_write_all(STDOUT_FILENO, buf, (size_t)r))
				break;   /* nobody reads our output any more */
		}
		if (p[1].revents) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (r <= 0) {
				in_eof = true;
				linger_end = g_get_monotonic_time() + (gint64)linger_ms * 1000;
				continue;
			}
			size_t len = (size_t)r;
			const char *esc = tty ? memchr(buf, SERIAL_TERM_ESCAPE, len) : NULL;
			if (esc) {
				len = (size_t)(esc - buf);
				done = true;
			}
			if (len && !term_write_all(fd, buf, len)) {
				*end = SERIAL_TERM_CLOSED;
				break;
			}
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(fd);
	return rc;
}
