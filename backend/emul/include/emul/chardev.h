/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a character device's output goes. The worker implements it on a
 * file descriptor (stdio, a file, a Unix socket); tests implement it on a buffer.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct chardev_sink {
	/* Must not block the vCPU for long; may drop bytes when the peer is gone. */
	void (*write)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};
