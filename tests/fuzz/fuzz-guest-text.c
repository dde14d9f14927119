// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what an error report quotes of the guest's serial
 * console: the first two bytes choose the line and byte limits, the rest is
 * the guest's output. The result must be valid UTF-8 with no control byte
 * but newline, no more lines than asked, and no more text than was given
 * (each byte becomes at most a three-byte replacement character).
 */
#include <stdlib.h>
#include <string.h>

#include "guest_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned max_lines = data[0] % 64;
	size_t max_bytes = (size_t)data[1] * 32;
	char *t = guest_text_tail(data + 2, size - 2, max_lines, max_bytes);
	size_t n = strlen(t);
	if (!g_utf8_validate(t, -1, NULL))
		abort();
	unsigned lines = n ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '\n')
			lines++;
		else if (c < 0x20 || c == 0x7f)
			abort();
	}
	if (lines > max_lines || n > 3 * (max_bytes + 1) || n > 3 * (size - 2))
		abort();
	g_free(t);
	return 0;
}
