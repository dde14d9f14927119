/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text a guest wrote, made fit for a log a person reads: the guest chooses
 * every byte, and escape sequences in a log act on the terminal showing it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The last max_lines lines of buf (at most max_bytes of it), newly
 * allocated: control bytes dropped (tabs become spaces, newlines stay),
 * invalid UTF-8 replaced, trailing newlines trimmed. */
char *guest_text_tail(const uint8_t *buf, size_t len, unsigned max_lines, size_t max_bytes);
