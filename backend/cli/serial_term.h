/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* The byte that ends an interactive session: Ctrl-], as telnet and virsh console. */
#define SERIAL_TERM_ESCAPE 0x1d

enum serial_term_end {
	SERIAL_TERM_USER,        /* Ctrl-] on the terminal, or the end of a piped stdin */
	SERIAL_TERM_CLOSED,      /* the worker closed the console: the VM stopped, or another console took it */
};

/* A VM's serial console (the unix socket at path) on this process's stdin
 * and stdout: a terminal is put in raw mode for the session and restored;
 * from a pipe, stdin goes in and, once it ends, what the guest says in the
 * next linger_ms still comes out. -1 and error when the socket cannot
 * be reached or a read fails. */
int serial_term_run(const char *path, unsigned linger_ms, enum serial_term_end *end, GError **error);
