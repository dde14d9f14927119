/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the wire formats of this folder share (the console protocol and the
 * emulated host's mux): their rule for text. Header-only, so that both
 * codecs stay free-standing libraries (the mux's is linked into the agent,
 * which carries nothing but the C library).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UTF-8 without NUL bytes, overlong forms, UTF-16 surrogates or code
 * points beyond Unicode. */
static inline bool wire_utf8_valid(const char *text, size_t len)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			n = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}
