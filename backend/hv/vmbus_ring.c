// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "hv/vmbus_ring.h"

#define TRAILER_SIZE 8u

int vmbus_ring_init(struct vmbus_ring *r, void *base, size_t total)
{
	if (!base || total < VMBUS_RING_HEADER_SIZE + VMBUS_RING_MIN_DATA ||
	    total - VMBUS_RING_HEADER_SIZE > VMBUS_RING_MAX_DATA || (total % 4096) != 0)
		return -EINVAL;
	r->hdr = base;
	r->data = (uint8_t *)base + VMBUS_RING_HEADER_SIZE;
	r->size = (uint32_t)(total - VMBUS_RING_HEADER_SIZE);
	return 0;
}

/* The guest writes these words whenever it likes: one load each, then checks. */
static uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static bool index_ok(const struct vmbus_ring *r, uint32_t i)
{
	return i < r->size && (i & 7) == 0;
}

static uint32_t used_bytes(const struct vmbus_ring *r, uint32_t rd, uint32_t wr)
{
	return wr >= rd ? wr - rd : r->size - (rd - wr);
}

uint32_t vmbus_ring_used(const struct vmbus_ring *r)
{
	uint32_t rd = load_acquire(&r->hdr->read_index), wr = load_acquire(&r->hdr->write_index);
	if (!index_ok(r, rd) || !index_ok(r, wr))
		return 0;
	return used_bytes(r, rd, wr);
}

uint32_t vmbus_ring_free(const struct vmbus_ring *r)
{
	uint32_t rd = load_acquire(&r->hdr->read_index), wr = load_acquire(&r->hdr->write_index);
	if (!index_ok(r, rd) || !index_ok(r, wr))
		return 0;
	return r->size - used_bytes(r, rd, wr);
}

static void ring_copy_out(const struct vmbus_ring *r, uint32_t off, void *dst, uint32_t len)
{
	uint32_t first = r->size - off < len ? r->size - off : len;
	memcpy(dst, r->data + off, first);
	memcpy((uint8_t *)dst + first, r->data, len - first);
}

static uint32_t ring_copy_in(struct vmbus_ring *r, uint32_t off, const void *src, uint32_t len)
{
	uint32_t first = r->size - off < len ? r->size - off : len;
	memcpy(r->data + off, src, first);
	memcpy(r->data, (const uint8_t *)src + first, len - first);
	return (off + len) % r->size;
}

/* buf NULL: consume the packet without copying it (vmbus_ring_skip). */
static long ring_take(struct vmbus_ring *r, void *buf, size_t bufsize, bool *signal)
{
	*signal = false;
	uint32_t rd = load_acquire(&r->hdr->read_index);
	uint32_t wr = load_acquire(&r->hdr->write_index);
	if (!index_ok(r, rd) || !index_ok(r, wr))
		return -EPROTO;
	uint32_t avail = used_bytes(r, rd, wr);
	if (avail == 0)
		return 0;
	struct vmbus_packet_desc desc;
	if (avail < sizeof(desc) + TRAILER_SIZE)
		return -EPROTO;
	ring_copy_out(r, rd, &desc, sizeof(desc));
	uint32_t len = (uint32_t)desc.len8 * 8;
	if (len < sizeof(desc) || (uint32_t)desc.offset8 * 8 < sizeof(desc) ||
	    (uint32_t)desc.offset8 * 8 > len || len + TRAILER_SIZE > avail)
		return -EPROTO;
	if (buf) {
		if (len > bufsize)
			return -EMSGSIZE;
		ring_copy_out(r, rd, buf, len);
	}

	uint32_t before_free = r->size - avail;
	uint32_t next = (rd + len + TRAILER_SIZE) % r->size;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	store_release(&r->hdr->read_index, next);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* The guest asked to be told once this much room exists. */
	uint32_t want = load_acquire(&r->hdr->pending_send_sz);
	uint32_t after_free = before_free + len + TRAILER_SIZE;
	if (want && before_free < want && after_free >= want)
		*signal = true;
	return len;
}

long vmbus_ring_read(struct vmbus_ring *r, void *buf, size_t bufsize, bool *signal)
{
	return ring_take(r, buf, bufsize, signal);
}

long vmbus_ring_skip(struct vmbus_ring *r, bool *signal)
{
	return ring_take(r, NULL, 0, signal);
}

int vmbus_ring_write(struct vmbus_ring *r, uint16_t type, uint16_t flags, uint64_t trans_id,
		     const void *payload, size_t len, bool *signal)
{
	*signal = false;
	struct vmbus_packet_desc desc = { .type = type, .flags = flags, .trans_id = trans_id };
	size_t pkt = (sizeof(desc) + len + 7) & ~(size_t)7;
	if (len > r->size || pkt + TRAILER_SIZE >= r->size || pkt / 8 > UINT16_MAX)
		return -EINVAL;
	desc.offset8 = sizeof(desc) / 8;
	desc.len8 = (uint16_t)(pkt / 8);

	uint32_t wr = load_acquire(&r->hdr->write_index);
	uint32_t rd = load_acquire(&r->hdr->read_index);
	if (!index_ok(r, rd) || !index_ok(r, wr))
		return -EPROTO;
	uint32_t total = (uint32_t)pkt + TRAILER_SIZE;
	/* Never fill the ring completely: full and empty would look alike. */
	if (r->size - used_bytes(r, rd, wr) <= total) {
		store_release(&r->hdr->pending_send_sz, total + 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* The guest may have read meanwhile and missed our request. */
		rd = load_acquire(&r->hdr->read_index);
		if (!index_ok(r, rd) || r->size - used_bytes(r, rd, wr) <= total)
			return -EAGAIN;
	}
	store_release(&r->hdr->pending_send_sz, 0);

	static const uint8_t zeros[8];
	uint32_t off = ring_copy_in(r, wr, &desc, sizeof(desc));
	off = ring_copy_in(r, off, payload, (uint32_t)len);
	off = ring_copy_in(r, off, zeros, (uint32_t)(pkt - sizeof(desc) - len));
	uint64_t trailer = (uint64_t)wr << 32;
	off = ring_copy_in(r, off, &trailer, TRAILER_SIZE);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	store_release(&r->hdr->write_index, off);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Signal only a reader that may be asleep: the ring was empty and it did not mask us. */
	rd = load_acquire(&r->hdr->read_index);
	if (load_acquire(&r->hdr->interrupt_mask) == 0 && rd == wr)
		*signal = true;
	return 0;
}

void vmbus_ring_mask(struct vmbus_ring *r)
{
	store_release(&r->hdr->interrupt_mask, 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vmbus_ring_unmask(struct vmbus_ring *r)
{
	store_release(&r->hdr->interrupt_mask, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vmbus_ring_used(r) != 0;
}
