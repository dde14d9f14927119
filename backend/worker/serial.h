/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The serial console's host end: stdio, a file, or a Unix socket that a
 * client connects to. Output comes from vCPU threads through the UART;
 * input is read on the main loop and fed to the UART.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "emul/chardev.h"

struct serial;

typedef size_t (*serial_input_fn)(void *opaque, const uint8_t *buf, size_t len);
typedef void (*serial_escape_fn)(void *opaque, char command);

/* spec: "stdio", "none", "unix:PATH", or a file path ("file:PATH" too). */
struct serial *serial_open(const char *spec, GError **error);
void serial_close(struct serial *s);
/* What the UART writes to. Valid as long as the serial is. */
const struct chardev_sink *serial_sink(struct serial *s);
/* Starts reading input on the default main context. input returns how many
 * bytes it took; the rest is retried later. escape gets Ctrl-A sequences on a tty. */
void serial_attach(struct serial *s, serial_input_fn input, serial_escape_fn escape, void *opaque);
/* Stops feeding the (about to be destroyed) UART; output is kept. */
void serial_detach(struct serial *s);
/* The last max_lines lines the guest wrote (at most about 4 KiB), for an
 * error report: NULL where the output went to stdio or a file already, or
 * there was none. Control bytes are dropped and the text made UTF-8. */
char *serial_last_lines(struct serial *s, unsigned max_lines);
