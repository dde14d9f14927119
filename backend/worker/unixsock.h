/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listening Unix sockets for the worker's endpoints: private to the user. */
#pragma once

#include <glib.h>

/* A non-blocking listening socket at path, mode 0600 (an old socket file there is replaced).
 * what names the endpoint in the error ("control socket"). Returns the fd or -1. */
int unixsock_listen(const char *path, const char *what, int backlog, GError **error);

/* Accepts one connection from a process of this same user; -1 when there is
 * none or the peer is someone else (that connection is closed). */
int unixsock_accept_same_user(int listen_fd);
