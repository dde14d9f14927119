// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: a ring whose header and data the guest controls entirely.
 * Reads must stop at a clean error, never read or write outside the ring.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vmbus_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RING_DATA 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[VMBUS_RING_HEADER_SIZE + FUZZ_RING_DATA];
	struct vmbus_ring r;
	if (vmbus_ring_init(&r, mem, sizeof(mem)) < 0)
		abort();
	memset(mem, 0, sizeof(mem));
	size_t hdr = size < 16 ? size : 16;
	memcpy(mem, data, hdr);
	size_t body = size - hdr < FUZZ_RING_DATA ? size - hdr : FUZZ_RING_DATA;
	memcpy(r.data, data + hdr, body);

	uint8_t buf[1024];
	bool sig;
	for (int i = 0; i < 64; i++) {
		long n = vmbus_ring_read(&r, buf, sizeof(buf), &sig);
		if (n <= 0)
			break;
		if (n < 16 || (size_t)n > sizeof(buf))
			abort();
	}
	size_t len = size ? data[0] * 4u : 0;
	vmbus_ring_write(&r, VMBUS_PKT_DATA_INBAND, 0, 1, data, len < size ? len : size, &sig);
	return 0;
}
