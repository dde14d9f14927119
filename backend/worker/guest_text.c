// SPDX-License-Identifier: GPL-2.0-or-later
#include "guest_text.h"

char *guest_text_tail(const uint8_t *buf, size_t len, unsigned max_lines, size_t max_bytes)
{
	if (max_lines == 0)
		return g_strdup("");
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	size_t start = len;
	unsigned lines = 0;
	while (start > 0 && len - start < max_bytes) {
		if (buf[start - 1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	GString *out = g_string_sized_new(len - start + 1);
	for (size_t i = start; i < len; i++) {
		uint8_t c = buf[i];
		if (c == '\n' || c >= 0x80 || (c >= 0x20 && c != 0x7f))
			g_string_append_c(out, (char)c);
		else if (c == '\t')
			g_string_append_c(out, ' ');
		/* other control bytes (escape sequences, \r) would act on whoever reads the log */
	}
	char *valid = g_utf8_make_valid(out->str, (gssize)out->len);
	g_string_free(out, TRUE);
	return valid;
}
