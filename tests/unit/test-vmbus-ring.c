// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "hv/vmbus_ring.h"

#define DATA_SIZE 8192u

struct rig {
	uint8_t *mem;
	struct vmbus_ring r;
};

static void rig_init(struct rig *t)
{
	t->mem = g_malloc0(VMBUS_RING_HEADER_SIZE + DATA_SIZE);
	g_assert_cmpint(vmbus_ring_init(&t->r, t->mem, VMBUS_RING_HEADER_SIZE + DATA_SIZE), ==, 0);
}

/* The guest's writer, written from the protocol (not from our writer):
 * descriptor, payload, zero padding to 8, then the previous write index << 32. */
static int guest_write(struct rig *t, uint16_t type, uint64_t tid, const void *payload, uint32_t len)
{
	struct vmbus_ring_header *h = t->r.hdr;
	uint32_t pkt = (16 + len + 7) & ~7u, total = pkt + 8;
	uint32_t wr = h->write_index, rd = h->read_index;
	uint32_t used = wr >= rd ? wr - rd : DATA_SIZE - (rd - wr);
	if (DATA_SIZE - used <= total)
		return -EAGAIN;
	uint8_t *tmp = g_malloc0(total);
	struct vmbus_packet_desc d = { .type = type, .offset8 = 2, .len8 = (uint16_t)(pkt / 8), .trans_id = tid };
	memcpy(tmp, &d, 16);
	memcpy(tmp + 16, payload, len);
	uint64_t trailer = (uint64_t)wr << 32;
	memcpy(tmp + pkt, &trailer, 8);
	for (uint32_t i = 0; i < total; i++)
		t->r.data[(wr + i) % DATA_SIZE] = tmp[i];
	g_free(tmp);
	h->write_index = (wr + total) % DATA_SIZE;
	return 0;
}

/* The guest's reader: returns the packet's payload, checks the trailer. */
static GByteArray *guest_read(struct rig *t, struct vmbus_packet_desc *out)
{
	struct vmbus_ring_header *h = t->r.hdr;
	uint32_t rd = h->read_index;
	if (rd == h->write_index)
		return NULL;
	uint8_t d8[16];
	for (int i = 0; i < 16; i++)
		d8[i] = t->r.data[(rd + i) % DATA_SIZE];
	memcpy(out, d8, 16);
	uint32_t len = out->len8 * 8u;
	GByteArray *a = g_byte_array_new();
	for (uint32_t i = out->offset8 * 8u; i < len; i++)
		g_byte_array_append(a, &t->r.data[(rd + i) % DATA_SIZE], 1);
	uint64_t trailer = 0;
	for (int i = 0; i < 8; i++)
		trailer |= (uint64_t)t->r.data[(rd + len + i) % DATA_SIZE] << (8 * i);
	g_assert_cmphex(trailer, ==, (uint64_t)rd << 32);
	h->read_index = (rd + len + 8) % DATA_SIZE;
	return a;
}

static void test_init(void)
{
	struct vmbus_ring r;
	uint8_t *mem = g_malloc0(3 * 4096);
	g_assert_cmpint(vmbus_ring_init(&r, mem, 4096), ==, -EINVAL);
	g_assert_cmpint(vmbus_ring_init(&r, mem, 2 * 4096 + 8), ==, -EINVAL);
	g_assert_cmpint(vmbus_ring_init(&r, NULL, 2 * 4096), ==, -EINVAL);
	g_assert_cmpint(vmbus_ring_init(&r, mem, 3 * 4096), ==, 0);
	g_assert_cmpuint(r.size, ==, 2 * 4096);
	g_free(mem);
}

static void test_guest_to_host(void)
{
	struct rig t;
	rig_init(&t);
	uint8_t buf[512], payload[100];
	bool sig;
	/* Many packets of varied sizes through a small ring: they wrap many times. */
	for (unsigned n = 0; n < 500; n++) {
		uint32_t len = 1 + (n * 37) % 100;
		for (uint32_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(n + i);
		g_assert_cmpint(guest_write(&t, VMBUS_PKT_DATA_INBAND, 1000 + n, payload, len), ==, 0);
		long got = vmbus_ring_read(&t.r, buf, sizeof(buf), &sig);
		g_assert_cmpint(got, ==, (long)((16 + len + 7) & ~7u));
		struct vmbus_packet_desc d;
		memcpy(&d, buf, 16);
		g_assert_cmpuint(d.type, ==, VMBUS_PKT_DATA_INBAND);
		g_assert_cmpuint(d.trans_id, ==, 1000 + n);
		g_assert_cmpmem(buf + 16, len, payload, len);
		g_assert_false(sig);
		g_assert_cmpint(vmbus_ring_read(&t.r, buf, sizeof(buf), &sig), ==, 0);
	}
	g_free(t.mem);
}

static void test_host_to_guest(void)
{
	struct rig t;
	rig_init(&t);
	uint8_t payload[300];
	bool sig;
	for (unsigned n = 0; n < 300; n++) {
		uint32_t len = (n * 53) % 300;
		for (uint32_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(n ^ i);
		g_assert_cmpint(vmbus_ring_write(&t.r, VMBUS_PKT_COMP, 0, n, payload, len, &sig), ==, 0);
		g_assert_true(sig);   /* the ring was empty and the guest did not mask */
		struct vmbus_packet_desc d;
		g_autoptr(GByteArray) a = guest_read(&t, &d);
		g_assert_nonnull(a);
		g_assert_cmpuint(d.type, ==, VMBUS_PKT_COMP);
		g_assert_cmpuint(d.trans_id, ==, n);
		g_assert_cmpuint(a->len, >=, len);
		g_assert_cmpmem(a->data, len, payload, len);
		for (guint i = len; i < a->len; i++)
			g_assert_cmpuint(a->data[i], ==, 0);   /* padding is zeroed */
	}
	g_free(t.mem);
}

static void test_signalling(void)
{
	struct rig t;
	rig_init(&t);
	bool sig;
	uint8_t p[64] = { 0 };
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 1, p, 8, &sig), ==, 0);
	g_assert_true(sig);
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 2, p, 8, &sig), ==, 0);
	g_assert_false(sig);   /* not empty before: the guest is already told */
	struct vmbus_packet_desc d;
	g_byte_array_unref(guest_read(&t, &d));
	g_byte_array_unref(guest_read(&t, &d));
	t.r.hdr->interrupt_mask = 1;
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 3, p, 8, &sig), ==, 0);
	g_assert_false(sig);   /* the guest is draining with the mask set */
	g_byte_array_unref(guest_read(&t, &d));
	t.r.hdr->interrupt_mask = 0;

	/* Fill until the writer must wait; it asks the guest for room. */
	unsigned written = 0;
	int r;
	while ((r = vmbus_ring_write(&t.r, 6, 0, written, p, 64, &sig)) == 0)
		written++;
	g_assert_cmpint(r, ==, -EAGAIN);
	g_assert_cmpuint(t.r.hdr->pending_send_sz, >, 0);
	g_assert_cmpuint(written, ==, (DATA_SIZE - 1) / (16 + 64 + 8));
	g_byte_array_unref(guest_read(&t, &d));
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 99, p, 64, &sig), ==, 0);
	g_assert_cmpuint(t.r.hdr->pending_send_sz, ==, 0);
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 1, p, DATA_SIZE, &sig), ==, -EINVAL);

	/* Reader side: the guest waits for room (pending_send_sz); we tell it once it has some. */
	struct rig g;
	rig_init(&g);
	while (guest_write(&g, 6, 1, p, 64) == 0)
		;
	g.r.hdr->pending_send_sz = 3 * (16 + 64 + 8);
	uint8_t buf[256];
	g_assert_cmpint(vmbus_ring_read(&g.r, buf, sizeof(buf), &sig), >, 0);
	g_assert_false(sig);
	g_assert_cmpint(vmbus_ring_read(&g.r, buf, sizeof(buf), &sig), >, 0);
	g_assert_false(sig);
	g_assert_cmpint(vmbus_ring_read(&g.r, buf, sizeof(buf), &sig), >, 0);
	g_assert_true(sig);
	g_assert_cmpint(vmbus_ring_read(&g.r, buf, sizeof(buf), &sig), >, 0);
	g_assert_false(sig);   /* only when the threshold is crossed */

	vmbus_ring_mask(&g.r);
	g_assert_cmpuint(g.r.hdr->interrupt_mask, ==, 1);
	g_assert_true(vmbus_ring_unmask(&g.r));   /* packets still waiting: drain again */
	g_free(t.mem);
	g_free(g.mem);
}

static void test_hostile(void)
{
	struct rig t;
	rig_init(&t);
	uint8_t buf[256], p[32] = { 0 };
	bool sig;
	struct vmbus_ring_header *h = t.r.hdr;
	h->write_index = 12;                    /* not a multiple of 8 */
	g_assert_cmpint(vmbus_ring_read(&t.r, buf, sizeof(buf), &sig), ==, -EPROTO);
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 1, p, 8, &sig), ==, -EPROTO);
	h->write_index = DATA_SIZE;             /* past the ring */
	g_assert_cmpint(vmbus_ring_read(&t.r, buf, sizeof(buf), &sig), ==, -EPROTO);
	h->write_index = 0;
	h->read_index = DATA_SIZE + 8;
	g_assert_cmpint(vmbus_ring_write(&t.r, 6, 0, 1, p, 8, &sig), ==, -EPROTO);
	h->read_index = 0;

	struct { uint16_t off8, len8; long want; } cases[] = {
		{ 2, 1, -EPROTO },      /* shorter than a descriptor */
		{ 1, 4, -EPROTO },      /* payload inside the descriptor */
		{ 5, 4, -EPROTO },      /* payload past the packet */
		{ 2, 200, -EPROTO },    /* longer than what was written */
		{ 2, 40, -EMSGSIZE },   /* valid, but larger than the caller's buffer */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		memset(t.mem, 0, VMBUS_RING_HEADER_SIZE + DATA_SIZE);
		struct vmbus_packet_desc d = { .type = 6, .offset8 = cases[i].off8, .len8 = cases[i].len8 };
		memcpy(t.r.data, &d, sizeof(d));
		h->write_index = 40 * 8 + 8;
		g_assert_cmpint(vmbus_ring_read(&t.r, buf, sizeof(buf), &sig), ==, cases[i].want);
		/* A refused packet is left where it is: the read index did not move. */
		g_assert_cmpuint(h->read_index, ==, 0);
	}
	g_free(t.mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmbus-ring/init", test_init);
	g_test_add_func("/vmbus-ring/guest-to-host", test_guest_to_host);
	g_test_add_func("/vmbus-ring/host-to-guest", test_host_to_guest);
	g_test_add_func("/vmbus-ring/signalling", test_signalling);
	g_test_add_func("/vmbus-ring/hostile", test_hostile);
	return g_test_run();
}
