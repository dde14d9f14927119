/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's control socket: a Unix stream socket (mode 0600, same-uid
 * peers only) speaking one command per line, one reply line per command:
 * "ok[ key=value...]" or "error <reason>". Commands are listed in
 * control_commands (README: "Controlling a running worker").
 */
#pragma once

#include <glib.h>

struct control;

/* Handles one command line; returns the reply without a newline. */
typedef char *(*control_handler_fn)(void *opaque, const char *command);

struct control *control_open(const char *path, control_handler_fn handler, void *opaque, GError **error);
void control_close(struct control *c);
