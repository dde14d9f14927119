// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_buf.h"

int emuhost_buf_append(struct emuhost_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (len > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void emuhost_buf_consume(struct emuhost_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void emuhost_buf_free(struct emuhost_buf *b)
{
	free(b->data);
	*b = (struct emuhost_buf){ 0 };
}
