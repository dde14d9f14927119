// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>

#include "unixsock.h"

int unixsock_listen(const char *path, const char *what, int backlog, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s %s: path too long (at most %zu bytes)",
			    what, path, sizeof(addr.sun_path) - 1);
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	/* The umask covers the window between bind and a chmod that would come too late. */
	mode_t old = umask(0177);   /* sockets are created 0777 & ~umask: this gives 0600 */
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s %s: %s", what, path, g_strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int unixsock_accept_same_user(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
		close(fd);
		return -1;
	}
	return fd;
}
