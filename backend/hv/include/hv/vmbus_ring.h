/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMBus ring buffers, the Hyper-V way: a 4 KiB header page (indices,
 * interrupt mask, pending send size) followed by a data area of packets
 * {descriptor, payload padded to 8, trailer}. The guest owns one side of
 * each index; every value read from the header is checked before use.
 * The caller gives a contiguous host view of the ring (the GPADL mapping).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMBUS_RING_HEADER_SIZE   4096u
#define VMBUS_RING_MIN_DATA      4096u
#define VMBUS_RING_MAX_DATA      (64u << 20)   /* far above any Linux driver's ring */

/* Packet types. */
#define VMBUS_PKT_DATA_INBAND        6
#define VMBUS_PKT_DATA_XFER_PAGES    7
#define VMBUS_PKT_DATA_GPA_DIRECT    9
#define VMBUS_PKT_COMP               11
#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 1

struct vmbus_ring_header {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t reserved[12];
	uint32_t feature_bits;
};   /* naturally aligned: the indices are accessed atomically, so no packing */
_Static_assert(sizeof(struct vmbus_ring_header) == 68, "ring header fields end at 68");
_Static_assert(offsetof(struct vmbus_ring_header, feature_bits) == 64, "feature_bits at 64");

struct vmbus_packet_desc {
	uint16_t type;
	uint16_t offset8;      /* payload starts offset8 * 8 bytes into the packet */
	uint16_t len8;         /* whole packet (descriptor included), in 8-byte units */
	uint16_t flags;
	uint64_t trans_id;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_packet_desc) == 16, "packet descriptor is 16 bytes");

struct vmbus_ring {
	struct vmbus_ring_header *hdr;
	uint8_t *data;
	uint32_t size;         /* data area bytes */
};

/* base/total: header page plus data area; -EINVAL if the size is not usable. */
int vmbus_ring_init(struct vmbus_ring *r, void *base, size_t total);

/*
 * Reading the guest's ring. Copies the next packet (descriptor included) into
 * buf and advances the read index. Returns the packet length, 0 when the ring
 * is empty, -EMSGSIZE when the packet is larger than buf (left in place),
 * -EPROTO when the guest's indices or descriptor are inconsistent.
 * *signal is set when the guest waits for room (pending_send_sz) and now has it.
 */
long vmbus_ring_read(struct vmbus_ring *r, void *buf, size_t bufsize, bool *signal);

/* Drop the next packet unread (one larger than the reader takes): its
 * length, 0 when empty, -EPROTO as above. */
long vmbus_ring_skip(struct vmbus_ring *r, bool *signal);

/*
 * Writing a packet to the guest: desc (its len8/offset8 are filled in here)
 * followed by payload. Returns 0, -EAGAIN when there is no room yet (then
 * pending_send_sz asks the guest to signal us when there is), -EINVAL for a
 * packet that could never fit, -EPROTO for corrupt indices.
 * *signal is set when the guest must be interrupted (ring was empty, mask clear).
 */
int vmbus_ring_write(struct vmbus_ring *r, uint16_t type, uint16_t flags, uint64_t trans_id,
		     const void *payload, size_t len, bool *signal);

/* Host reader side: mask guest signals while draining; unmasking returns
 * true when packets arrived meanwhile (drain again). */
void vmbus_ring_mask(struct vmbus_ring *r);
bool vmbus_ring_unmask(struct vmbus_ring *r);

/* Bytes a writer could put in now, and bytes waiting for the reader. */
uint32_t vmbus_ring_free(const struct vmbus_ring *r);
uint32_t vmbus_ring_used(const struct vmbus_ring *r);
