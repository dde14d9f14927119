/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A byte queue: appended at the end, consumed from the front. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct emuhost_buf {
	uint8_t *data;
	size_t len, cap;
};

/* 0, or -ENOMEM (the queue is unchanged). */
int emuhost_buf_append(struct emuhost_buf *b, const void *data, size_t len);
void emuhost_buf_consume(struct emuhost_buf *b, size_t n);
void emuhost_buf_free(struct emuhost_buf *b);
