// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VSP bus against a Linux-shaped guest (vsp-guest.h): a small echo
 * device defined here, offered through the real VMBus server, its rings in
 * real guest RAM mapped by the bus, its callbacks on the bus thread. Each
 * test checks what the device saw and what the guest found in its ring.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/vmbus_ring.h"
#include "vsp-guest.h"
#include "vsp/vsp.h"

#define ECHO_CLASS    VMBUS_GUID_INIT(0x3c1a0e10, 0x8a2b, 0x4c55, 0x9e, 0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66)
#define LIMITED_CLASS VMBUS_GUID_INIT(0x3c1a0e11, 0x8a2b, 0x4c55, 0x9e, 0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66)
#define SMALL_CLASS   VMBUS_GUID_INIT(0x3c1a0e12, 0x8a2b, 0x4c55, 0x9e, 0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66)

/* The first payload byte tells the echo device what to do. */
#define OP_RECORD  'R'           /* keep it */
#define OP_ECHO    'E'           /* send the payload back, same type, flags and id */
#define OP_FILL    'F'           /* send FILL_LEN-byte packets until the ring is full */
#define OP_BIG     'B'           /* send a packet no ring can hold */
#define FILL_LEN   512u

#define LIMIT_MIN_PAGES 3u
#define LIMIT_MAX_PAGES 8u
#define SMALL_MAX_PACKET 1024u

#define WAIT_MS VSP_GUEST_TIMEOUT_MS

struct echo_pkt {
	uint16_t type, flags;
	uint64_t trans_id;
	GBytes *payload;
	size_t raw_len;
	struct vmbus_packet_desc raw_desc;
};

struct echo {
	struct vsp_device *dev;
	GMutex lock;
	unsigned opens, closes;
	unsigned wrong_thread;       /* a callback outside the bus thread */
	unsigned packets, packets_closed;
	GPtrArray *got;              /* struct echo_pkt */
	GQueue backlog;              /* echoes that found the ring full, in order */
	bool open;
	int close_send;              /* vsp_device_send from inside close */
	/* OP_FILL */
	unsigned filled;
	int fill_result;
	bool filling;
	unsigned writables, writable_sent, spurious_writables;
	int big_result;
};

static void echo_pkt_free(gpointer p)
{
	struct echo_pkt *e = p;
	g_bytes_unref(e->payload);
	g_free(e);
}

static void echo_check_thread(struct echo *e, struct vsp_device *dev)
{
	if (!g_main_context_is_owner(vsp_bus_context(vsp_device_bus(dev))))
		e->wrong_thread++;
}

static int echo_open(struct vsp_device *dev)
{
	struct echo *e = vsp_device_priv(dev);
	g_mutex_lock(&e->lock);
	echo_check_thread(e, dev);
	if (!vsp_device_is_open(dev))
		e->wrong_thread++;
	e->opens++;
	e->open = true;
	g_mutex_unlock(&e->lock);
	return 0;
}

static void echo_close(struct vsp_device *dev)
{
	struct echo *e = vsp_device_priv(dev);
	g_mutex_lock(&e->lock);
	echo_check_thread(e, dev);
	e->closes++;
	e->open = false;
	e->filling = false;
	e->close_send = vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, 1, "x", 1);
	g_queue_clear_full(&e->backlog, echo_pkt_free);
	g_mutex_unlock(&e->lock);
}

/* Send what waits, oldest first; false when the ring filled up again. */
static bool echo_flush(struct echo *e, struct vsp_device *dev)
{
	struct echo_pkt *p;
	while ((p = g_queue_peek_head(&e->backlog))) {
		gsize n;
		const void *d = g_bytes_get_data(p->payload, &n);
		int r = vsp_device_send(dev, p->type, p->flags, p->trans_id, d, n);
		if (r == -EAGAIN)
			return false;
		g_assert_cmpint(r, ==, 0);
		echo_pkt_free(g_queue_pop_head(&e->backlog));
	}
	return true;
}

static void echo_fill(struct echo *e, struct vsp_device *dev)
{
	uint8_t buf[FILL_LEN];
	memset(buf, 'f', sizeof(buf));
	int r;
	while ((r = vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, 0xF000 + e->filled, buf, sizeof(buf))) == 0)
		e->filled++;
	e->fill_result = r;
	e->filling = r == -EAGAIN;
}

static void echo_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct echo *e = vsp_device_priv(dev);
	g_mutex_lock(&e->lock);
	echo_check_thread(e, dev);
	if (!e->open)
		e->packets_closed++;
	e->packets++;
	struct echo_pkt *p = g_new0(struct echo_pkt, 1);
	p->type = pkt->type;
	p->flags = pkt->flags;
	p->trans_id = pkt->trans_id;
	p->payload = g_bytes_new(pkt->data, pkt->len);
	p->raw_len = pkt->raw_len;
	g_assert_cmpuint(pkt->raw_len, >=, sizeof(p->raw_desc));
	memcpy(&p->raw_desc, pkt->raw, sizeof(p->raw_desc));
	g_ptr_array_add(e->got, p);
	uint8_t op = pkt->len ? pkt->data[0] : 0;
	if (op == OP_ECHO) {
		struct echo_pkt *q = g_new0(struct echo_pkt, 1);
		*q = *p;
		q->payload = g_bytes_ref(p->payload);
		g_queue_push_tail(&e->backlog, q);
		(void)echo_flush(e, dev);
	} else if (op == OP_FILL) {
		echo_fill(e, dev);
	} else if (op == OP_BIG) {
		static uint8_t big[2u << 20];
		e->big_result = vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, 1, big, sizeof(big));
	}
	g_mutex_unlock(&e->lock);
}

static void echo_writable(struct vsp_device *dev)
{
	struct echo *e = vsp_device_priv(dev);
	g_mutex_lock(&e->lock);
	echo_check_thread(e, dev);
	e->writables++;
	bool sent_any = false, blocked = false;
	if (e->filling) {
		uint8_t buf[FILL_LEN];
		memset(buf, 'w', sizeof(buf));
		int r = vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, 0xA000 + e->writable_sent, buf, sizeof(buf));
		if (r == 0) {
			e->writable_sent++;
			e->filling = false;
			sent_any = true;
		} else {
			blocked = true;
		}
	}
	if (!blocked && !g_queue_is_empty(&e->backlog)) {
		unsigned before = g_queue_get_length(&e->backlog);
		echo_flush(e, dev);
		if (g_queue_get_length(&e->backlog) == before)
			blocked = true;
		else
			sent_any = true;
	}
	/* "Room again" that holds not even the packet that was refused. */
	if (blocked && !sent_any)
		e->spurious_writables++;
	g_mutex_unlock(&e->lock);
}

static const struct vsp_device_class echo_class = {
	.name = "echo",
	.type = ECHO_CLASS,
	.open = echo_open,
	.packet = echo_packet,
	.writable = echo_writable,
	.close = echo_close,
};

static const struct vsp_device_class limited_class = {
	.name = "limited",
	.type = LIMITED_CLASS,
	.min_ring_bytes = LIMIT_MIN_PAGES * 4096u,
	.max_ring_bytes = LIMIT_MAX_PAGES * 4096u,
	.open = echo_open,
	.packet = echo_packet,
	.close = echo_close,
};

static const struct vsp_device_class small_class = {
	.name = "small",
	.type = SMALL_CLASS,
	.max_packet = SMALL_MAX_PACKET,
	.open = echo_open,
	.packet = echo_packet,
	.close = echo_close,
};

/* ---- the rig ---- */

struct rig {
	struct vsp_guest *g;
	struct echo echo, limited, small;
	const struct vsp_guest_offer *o_echo, *o_limited, *o_small;
};

static void echo_init(struct echo *e)
{
	memset(e, 0, sizeof(*e));
	g_mutex_init(&e->lock);
	e->got = g_ptr_array_new_with_free_func(echo_pkt_free);
	g_queue_init(&e->backlog);
	e->close_send = 1;
}

static void echo_fini(struct echo *e)
{
	g_ptr_array_unref(e->got);
	g_queue_clear_full(&e->backlog, echo_pkt_free);
	g_mutex_clear(&e->lock);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	struct vsp_bus *bus = vsp_guest_bus(r->g);
	struct vmbus_guid inst = VMBUS_GUID_INIT(0xabcdef01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	echo_init(&r->echo);
	echo_init(&r->limited);
	echo_init(&r->small);
	g_assert_cmpint(vsp_bus_add(bus, &echo_class, &inst, &r->echo, &r->echo.dev), ==, 0);
	g_assert_cmpint(vsp_bus_add(bus, &limited_class, &inst, &r->limited, &r->limited.dev), ==, 0);
	g_assert_cmpint(vsp_bus_add(bus, &small_class, &inst, &r->small, &r->small.dev), ==, 0);
	g_assert_cmpint(vsp_guest_connect(r->g), ==, 3);
	r->o_echo = vsp_guest_find(r->g, &echo_class.type);
	r->o_limited = vsp_guest_find(r->g, &limited_class.type);
	r->o_small = vsp_guest_find(r->g, &small_class.type);
	g_assert_nonnull(r->o_echo);
	g_assert_nonnull(r->o_limited);
	g_assert_nonnull(r->o_small);
	g_assert_cmpmem(r->o_echo->instance.b, 16, inst.b, 16);
	g_assert_true(vsp_bus_find(bus, "echo") == r->echo.dev);
	g_assert_true(vsp_bus_find(bus, "small") == r->small.dev);
	g_assert_null(vsp_bus_find(bus, "nope"));
}

static void rig_fini(struct rig *r)
{
	vsp_guest_free(r->g);
	for (struct echo *e = &r->echo; e <= &r->small; e++) {
		g_assert_cmpuint(e->wrong_thread, ==, 0);
		/* Every open got its close, at the latest when the bus stopped. */
		g_assert_cmpuint(e->opens, ==, e->closes);
		g_assert_cmpuint(e->packets_closed, ==, 0);
	}
	echo_fini(&r->echo);
	echo_fini(&r->limited);
	echo_fini(&r->small);
}

static unsigned echo_get(struct echo *e, const unsigned *field)
{
	g_mutex_lock(&e->lock);
	unsigned v = *field;
	g_mutex_unlock(&e->lock);
	return v;
}

#define ECHO(e, f) echo_get((e), &(e)->f)

static struct vsp_device_stats stats(struct echo *e)
{
	struct vsp_device_stats st;
	vsp_device_get_stats(e->dev, &st);
	return st;
}

static struct vsp_guest_chan *open_ok(struct rig *r, const struct vsp_guest_offer *o, unsigned out_pages,
				      unsigned in_pages)
{
	struct vsp_guest_chan *c = NULL;
	uint32_t status = 0xdead;
	g_assert_cmpint(vsp_guest_open(r->g, o, out_pages, in_pages, &status, &c), ==, 0);
	g_assert_cmphex(status, ==, 0);
	g_assert_nonnull(c);
	return c;
}

static void send_ok(struct vsp_guest_chan *c, uint16_t type, uint16_t flags, uint64_t id, const void *d,
		    size_t n)
{
	g_assert_cmpint(vsp_guest_write(c, type, flags, id, d, n), ==, 0);
}

static void send_op(struct vsp_guest_chan *c, uint8_t op, uint64_t id)
{
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, id, &op, 1);
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- tests ---- */

static void test_open_close(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmpuint(ECHO(&r.echo, opens), ==, 0);
	g_assert_false(stats(&r.echo).open);
	for (unsigned round = 1; round <= 3; round++) {
		struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 4, 4);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == round, WAIT_MS));
		struct vsp_device_stats st = stats(&r.echo);
		g_assert_true(st.open);
		g_assert_cmpuint(st.opens, ==, round);
		g_assert_cmpuint(st.relid, ==, r.o_echo->relid);
		g_assert_cmpuint(st.ring_bytes_in, ==, 4 * 4096);
		g_assert_cmpuint(st.ring_bytes_out, ==, 4 * 4096);
		g_assert_false(st.signal_in_kernel);
		g_assert_cmpint(vsp_guest_release(c), ==, 0);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, closes) == round, WAIT_MS));
		st = stats(&r.echo);
		g_assert_false(st.open);
		g_assert_cmpuint(st.ring_bytes_in, ==, 0);
		/* The rings were gone when close ran: nothing could be sent. */
		g_assert_cmpint(r.echo.close_send, ==, -EPIPE);
	}
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(ECHO(&r.echo, opens), ==, 3);
	g_assert_cmpuint(ECHO(&r.echo, closes), ==, 3);
	/* The other devices' channels were never opened. */
	g_assert_cmpuint(ECHO(&r.small, opens), ==, 0);

	/* UNLOAD closes what is open: one close per open there too. */
	struct vsp_guest_chan *a = open_ok(&r, r.o_echo, 2, 2);
	struct vsp_guest_chan *b = open_ok(&r, r.o_small, 2, 2);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == 4 && ECHO(&r.small, opens) == 1, WAIT_MS));
	g_assert_cmpint(vsp_guest_unload(r.g), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, closes) == 4 && ECHO(&r.small, closes) == 1, WAIT_MS));
	g_assert_false(stats(&r.echo).open);
	g_assert_cmpint(vsp_guest_release(a), ==, 0);
	g_assert_cmpint(vsp_guest_release(b), ==, 0);
	/* A new connection offers the same devices again and they work. */
	g_assert_cmpint(vsp_guest_connect(r.g), ==, 3);
	struct vsp_guest_chan *c = open_ok(&r, vsp_guest_find(r.g, &echo_class.type), 2, 2);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == 5, WAIT_MS));
	send_op(c, OP_RECORD, 9);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == 1, WAIT_MS));
	rig_fini(&r);
}

static void test_packets(void)
{
	struct rig r;
	rig_init(&r);
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 4, 4);
	static const struct { uint16_t type, flags; size_t len; } cases[] = {
		{ VMBUS_PKT_DATA_INBAND, 0, 1 },
		{ VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 8 },
		{ VMBUS_PKT_COMP, 0, 9 },
		{ VMBUS_PKT_DATA_GPA_DIRECT, 1, 100 },
		{ VMBUS_PKT_DATA_XFER_PAGES, 0, 4000 },
		{ 0x1234, 0xfffe, 15 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[4096];
		for (size_t k = 0; k < cases[i].len; k++)
			buf[k] = (uint8_t)(k * 13 + i);
		buf[0] = OP_RECORD;
		send_ok(c, cases[i].type, cases[i].flags, 0x1122334455660000ull + i, buf, cases[i].len);
	}
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == G_N_ELEMENTS(cases), WAIT_MS));
	g_mutex_lock(&r.echo.lock);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct echo_pkt *p = r.echo.got->pdata[i];
		g_assert_cmpuint(p->type, ==, cases[i].type);
		g_assert_cmpuint(p->flags, ==, cases[i].flags);
		g_assert_cmphex(p->trans_id, ==, 0x1122334455660000ull + i);
		/* VMBus keeps no byte length: the payload is padded to 8. */
		gsize n;
		const uint8_t *d = g_bytes_get_data(p->payload, &n);
		g_assert_cmpuint(n, ==, pad8(16 + cases[i].len) - 16);
		g_assert_cmpuint(d[0], ==, OP_RECORD);
		for (size_t k = 1; k < cases[i].len; k++)
			g_assert_cmpuint(d[k], ==, (uint8_t)(k * 13 + i));
		for (size_t k = cases[i].len; k < n; k++)
			g_assert_cmpuint(d[k], ==, 0);
		/* raw is the whole packet, descriptor first. */
		g_assert_cmpuint(p->raw_len, ==, n + 16);
		g_assert_cmpuint(p->raw_desc.type, ==, cases[i].type);
		g_assert_cmpuint(p->raw_desc.offset8, ==, 2);
		g_assert_cmpuint(p->raw_desc.len8, ==, (n + 16) / 8);
	}
	g_mutex_unlock(&r.echo.lock);

	/* vsp_device_send lands in the guest's ring, and the guest hears of it. */
	uint64_t sig0 = vsp_guest_host_signals(r.g, r.o_echo->relid);
	uint8_t msg[37];
	for (size_t k = 0; k < sizeof(msg); k++)
		msg[k] = (uint8_t)(0x40 + k);
	msg[0] = OP_ECHO;
	send_ok(c, VMBUS_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, 0xfeedface, msg, sizeof(msg));
	uint8_t in[4096];
	long n = vsp_guest_recv(c, in, sizeof(in), WAIT_MS);
	g_assert_cmpint(n, ==, (long)pad8(16 + sizeof(msg)));
	struct vmbus_packet_desc d;
	memcpy(&d, in, sizeof(d));
	g_assert_cmpuint(d.type, ==, VMBUS_PKT_DATA_INBAND);
	g_assert_cmpuint(d.flags, ==, VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
	g_assert_cmphex(d.trans_id, ==, 0xfeedface);
	g_assert_cmpuint(d.offset8, ==, 2);
	g_assert_cmpmem(in + 16, sizeof(msg), msg, sizeof(msg));
	g_assert_cmpuint(vsp_guest_host_signals(r.g, r.o_echo->relid), >, sig0);
	g_assert_cmpuint(vsp_guest_read(c, in, sizeof(in)), ==, 0);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

static void test_oversize(void)
{
	struct rig r;
	rig_init(&r);
	struct vsp_guest_chan *c = open_ok(&r, r.o_small, 4, 4);
	uint8_t buf[3000];
	memset(buf, OP_RECORD, sizeof(buf));
	/* The largest packet taken is the class's max_packet, descriptor included. */
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 1, buf, SMALL_MAX_PACKET - 16);
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 2, buf, SMALL_MAX_PACKET - 16 + 1);
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 3, buf, sizeof(buf));
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 4, buf, 5);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.small, packets) == 2, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(ECHO(&r.small, packets), ==, 2);
	g_mutex_lock(&r.small.lock);
	g_assert_cmpuint(((struct echo_pkt *)r.small.got->pdata[0])->trans_id, ==, 1);
	g_assert_cmpuint(((struct echo_pkt *)r.small.got->pdata[1])->trans_id, ==, 4);
	g_mutex_unlock(&r.small.lock);
	struct vsp_device_stats st = stats(&r.small);
	g_assert_cmpuint(st.bad_packets, ==, 2);
	g_assert_cmpuint(st.packets_in, ==, 2);
	/* The dropped ones were consumed: the ring is empty again. */
	g_assert_cmpuint(vsp_guest_out_used(c), ==, 0);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

enum breakage {
	BREAK_WRITE_BEYOND,
	BREAK_WRITE_UNALIGNED,
	BREAK_READ_BEYOND,
	BREAK_LEN8_SHORT,
	BREAK_OFFSET_PAST_END,
	BREAK_LEN8_BEYOND_DATA,
};

static void break_ring(struct vsp_guest_chan *c, enum breakage how)
{
	struct vmbus_ring_header *h = vsp_guest_out_hdr(c);
	uint32_t size = c->out.size;
	uint8_t op = OP_RECORD;
	struct vmbus_packet_desc d = { .type = VMBUS_PKT_DATA_INBAND, .offset8 = 2, .len8 = 3, .trans_id = 66 };
	switch (how) {
	case BREAK_WRITE_BEYOND:
		__atomic_store_n(&h->write_index, size + 8, __ATOMIC_RELEASE);
		break;
	case BREAK_WRITE_UNALIGNED:
		__atomic_store_n(&h->write_index, 4, __ATOMIC_RELEASE);
		break;
	case BREAK_READ_BEYOND:
		__atomic_store_n(&h->read_index, size * 2, __ATOMIC_RELEASE);
		break;
	case BREAK_LEN8_SHORT:
		d.len8 = 1;
		g_assert_cmpint(vsp_guest_write_desc(c, &d, &op, 1), ==, 0);
		break;
	case BREAK_OFFSET_PAST_END:
		d.offset8 = 4;
		g_assert_cmpint(vsp_guest_write_desc(c, &d, &op, 1), ==, 0);
		break;
	case BREAK_LEN8_BEYOND_DATA:
		d.len8 = 200;
		g_assert_cmpint(vsp_guest_write_desc(c, &d, &op, 1), ==, 0);
		break;
	}
	(void)vsp_guest_signal(c);
}

static void test_broken_indices(void)
{
	struct rig r;
	rig_init(&r);
	const enum breakage all[] = {
		BREAK_WRITE_BEYOND, BREAK_WRITE_UNALIGNED, BREAK_READ_BEYOND,
		BREAK_LEN8_SHORT, BREAK_OFFSET_PAST_END, BREAK_LEN8_BEYOND_DATA,
	};
	unsigned packets = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 3, 3);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == i + 1, WAIT_MS));
		/* A good packet first: the channel works before it is broken. */
		send_op(c, OP_RECORD, 1);
		packets++;
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == packets, WAIT_MS));
		uint64_t bad0 = stats(&r.echo).bad_packets;
		break_ring(c, all[i]);
		g_assert_true(vsp_guest_wait_until(r.g, stats(&r.echo).bad_packets == bad0 + 1, WAIT_MS));
		/* Put the indices right and send again: the host does not trust
		 * this ring any more until the guest reopens it. */
		struct vmbus_ring_header *h = vsp_guest_out_hdr(c);
		__atomic_store_n(&h->read_index, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&h->write_index, 0, __ATOMIC_RELEASE);
		send_op(c, OP_RECORD, 2);
		(void)vsp_guest_signal(c);
		vsp_guest_bus_sync(r.g);
		g_assert_cmpuint(ECHO(&r.echo, packets), ==, packets);
		g_assert_cmpuint(stats(&r.echo).bad_packets, ==, bad0 + 1);
		g_assert_true(stats(&r.echo).open);
		g_assert_cmpint(vsp_guest_release(c), ==, 0);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, closes) == i + 1, WAIT_MS));
	}
	/* Reopened, the channel works again. */
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 3, 3);
	send_op(c, OP_RECORD, 3);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == packets + 1, WAIT_MS));
	g_assert_cmpuint(stats(&r.echo).bad_packets, ==, G_N_ELEMENTS(all));
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

static void expect_open_fails(struct rig *r, const struct vsp_guest_offer *o, unsigned out_pages,
			      unsigned in_pages)
{
	struct vsp_guest_chan *c = NULL;
	uint32_t status = 0;
	g_assert_cmpint(vsp_guest_open(r->g, o, out_pages, in_pages, &status, &c), ==, -EIO);
	g_assert_null(c);
	g_assert_cmphex(status, ==, VMBUS_STATUS_UNSUCCESSFUL);
}

static void test_ring_limits(void)
{
	struct rig r;
	rig_init(&r);
	const unsigned lo = LIMIT_MIN_PAGES, hi = LIMIT_MAX_PAGES;
	const unsigned bad[][2] = { { lo - 1, lo }, { lo, lo - 1 }, { hi + 1, lo }, { lo, hi + 1 }, { hi + 1, hi + 1 } };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		expect_open_fails(&r, r.o_limited, bad[i][0], bad[i][1]);
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(ECHO(&r.limited, opens), ==, 0);
	g_assert_cmpuint(stats(&r.limited).opens, ==, 0);
	/* The refused opens' GPADLs were torn down: nothing is left. */
	struct vmbus_server_state ss;
	vmbus_server_get_state(vsp_guest_server(r.g), &ss);
	g_assert_cmpuint(ss.gpadls, ==, 0);
	g_assert_cmpuint(ss.open_channels, ==, 0);

	const unsigned good[][2] = { { lo, lo }, { lo, hi }, { hi, lo }, { hi, hi } };
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		struct vsp_guest_chan *c = open_ok(&r, r.o_limited, good[i][0], good[i][1]);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.limited, opens) == i + 1, WAIT_MS));
		struct vsp_device_stats st = stats(&r.limited);
		g_assert_cmpuint(st.ring_bytes_in, ==, good[i][0] * 4096u);
		g_assert_cmpuint(st.ring_bytes_out, ==, good[i][1] * 4096u);
		g_assert_cmpint(vsp_guest_release(c), ==, 0);
	}

	/* The defaults: 2 pages to 1 MiB per direction. The largest needs
	 * GPADL_BODY messages after the header's 26 PFNs. */
	const unsigned max_pages = VSP_RING_MAX_DEFAULT / 4096u;
	expect_open_fails(&r, r.o_echo, max_pages + 1, 2);
	expect_open_fails(&r, r.o_echo, 2, max_pages + 1);
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, max_pages, 2);
	g_assert_cmpuint(c->npfns, >, 26 + 28);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == 1, WAIT_MS));
	uint8_t buf[64] = { OP_ECHO, 1, 2, 3 };
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 77, buf, sizeof(buf));
	uint8_t in[256];
	g_assert_cmpint(vsp_guest_recv(c, in, sizeof(in), WAIT_MS), ==, 16 + 64);
	g_assert_cmpmem(in + 16, 64, buf, 64);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

static void test_full_ring(void)
{
	struct rig r;
	rig_init(&r);
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 2, 3);
	send_op(c, OP_FILL, 1);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == 1, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_mutex_lock(&r.echo.lock);
	unsigned filled = r.echo.filled;
	g_assert_cmpint(r.echo.fill_result, ==, -EAGAIN);
	g_mutex_unlock(&r.echo.lock);
	/* 8 KiB of data area, 536 bytes a packet, one byte always kept free. */
	g_assert_cmpuint(filled, ==, (2 * 4096 - 1) / (16 + FILL_LEN + 8));
	g_assert_cmpuint(vsp_guest_in_used(c), ==, filled * (16 + FILL_LEN + 8));
	/* The host asked to hear of room for exactly its packet. */
	g_assert_cmpuint(vsp_guest_in_hdr(c)->pending_send_sz, ==, 16 + FILL_LEN + 8 + 1);
	/* Nothing was read, so there is no room yet: writable must not have
	 * found any (a writable that cannot send is a spurious one). */
	g_assert_cmpuint(ECHO(&r.echo, writable_sent), ==, 0);
	g_assert_cmpuint(ECHO(&r.echo, spurious_writables), ==, 0);

	/* The guest reads one packet: that makes room and, as Linux does, it
	 * tells the host, whose writable then gets its packet out. */
	uint8_t in[1024];
	uint64_t signals0 = c->signals;
	g_assert_cmpint(vsp_guest_read(c, in, sizeof(in)), ==, 16 + FILL_LEN);
	g_assert_cmpuint(c->signals, ==, signals0 + 1);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, writable_sent) == 1, WAIT_MS));
	g_assert_cmpuint(ECHO(&r.echo, writables), ==, 1);
	g_assert_cmpuint(ECHO(&r.echo, spurious_writables), ==, 0);
	unsigned got = 1;
	long n;
	struct vmbus_packet_desc d = { 0 };
	while ((n = vsp_guest_read(c, in, sizeof(in))) > 0) {
		memcpy(&d, in, sizeof(d));
		got++;
	}
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpuint(got, ==, filled + 1);
	g_assert_cmphex(d.trans_id, ==, 0xA000);        /* the last one came from writable */
	g_assert_cmpuint(stats(&r.echo).packets_out, ==, filled + 1);

	/* A packet no ring can hold is refused outright. */
	send_op(c, OP_BIG, 2);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == 2, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_assert_cmpint(r.echo.big_result, ==, -EINVAL);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

static void test_reopen_while_busy(void)
{
	struct rig r;
	rig_init(&r);
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 2, 2);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, opens) == 1, WAIT_MS));
	/* While the bus thread is busy elsewhere the guest sends a packet,
	 * closes, takes its pages back and opens again: the device must still
	 * see a close and a new open, and never the old ring's packet. */
	vsp_guest_bus_hold(r.g);
	send_op(c, OP_RECORD, 1);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	c = open_ok(&r, r.o_echo, 3, 3);
	send_op(c, OP_RECORD, 2);
	vsp_guest_bus_unhold(r.g);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) == 1, WAIT_MS));
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(ECHO(&r.echo, opens), ==, 2);
	g_assert_cmpuint(ECHO(&r.echo, closes), ==, 1);
	g_assert_cmpuint(ECHO(&r.echo, packets), ==, 1);
	g_mutex_lock(&r.echo.lock);
	g_assert_cmpuint(((struct echo_pkt *)r.echo.got->pdata[0])->trans_id, ==, 2);
	g_mutex_unlock(&r.echo.lock);
	struct vsp_device_stats st = stats(&r.echo);
	g_assert_cmpuint(st.opens, ==, 2);
	g_assert_cmpuint(st.ring_bytes_in, ==, 3 * 4096);
	/* Done reading, the host lets the guest signal again. */
	g_assert_cmpuint(vsp_guest_out_hdr(c)->interrupt_mask, ==, 0);

	/* Open and close while busy: one open and one close, no packet. */
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, closes) == 2, WAIT_MS));
	vsp_guest_bus_hold(r.g);
	c = open_ok(&r, r.o_echo, 2, 2);
	send_op(c, OP_RECORD, 3);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	vsp_guest_bus_unhold(r.g);
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(ECHO(&r.echo, opens), ==, ECHO(&r.echo, closes));
	g_assert_cmpuint(ECHO(&r.echo, packets), ==, 1);
	rig_fini(&r);
}

struct writer {
	struct vsp_guest_chan *c;
	gint stop;
	gint iterations;
};

static gpointer writer_main(gpointer data)
{
	struct writer *w = data;
	uint8_t buf[100];
	memset(buf, OP_RECORD, sizeof(buf));
	for (uint64_t id = 1; !g_atomic_int_get(&w->stop); id++) {
		if (vsp_guest_write(w->c, VMBUS_PKT_DATA_INBAND, 0, id, buf, sizeof(buf)) == -EAGAIN)
			(void)vsp_guest_signal(w->c);
		g_atomic_int_inc(&w->iterations);
		g_thread_yield();
	}
	return NULL;
}

static void test_close_while_writing(void)
{
	struct rig r;
	rig_init(&r);
	for (unsigned round = 1; round <= 3; round++) {
		struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 2, 2);
		c->always_signal = true;
		unsigned base = ECHO(&r.echo, packets);
		struct writer w = { .c = c };
		GThread *t = g_thread_new("guest-writer", writer_main, &w);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, packets) >= base + 50, WAIT_MS));
		/* CLOSECHANNEL while the guest keeps writing and signalling: the
		 * host must stop touching the ring pages before it returns. */
		g_assert_cmpint(vsp_guest_close(c), ==, 0);
		g_assert_true(vsp_guest_wait_until(r.g, ECHO(&r.echo, closes) == round, WAIT_MS));
		unsigned after_close = ECHO(&r.echo, packets);
		gint it0 = g_atomic_int_get(&w.iterations);
		g_assert_true(vsp_guest_wait_until(r.g, g_atomic_int_get(&w.iterations) >= it0 + 2000, WAIT_MS));
		g_atomic_int_set(&w.stop, 1);
		g_thread_join(t);
		vsp_guest_bus_sync(r.g);
		g_assert_cmpuint(ECHO(&r.echo, packets), ==, after_close);
		g_assert_cmpuint(ECHO(&r.echo, packets_closed), ==, 0);
		g_assert_false(stats(&r.echo).open);
		/* The guest takes its pages back; the next open reuses them. */
		g_assert_cmpint(vsp_guest_release(c), ==, 0);
	}
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 2, 2);
	uint8_t msg[5] = { OP_ECHO, 'o', 'k' };
	send_ok(c, VMBUS_PKT_DATA_INBAND, 0, 5, msg, sizeof(msg));
	uint8_t in[64];
	g_assert_cmpint(vsp_guest_recv(c, in, sizeof(in), WAIT_MS), ==, 24);
	g_assert_cmpmem(in + 16, sizeof(msg), msg, sizeof(msg));
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

#define WRAP_PACKETS 3000u

static size_t wrap_len(unsigned i)
{
	return 1 + (i * 37u) % 523u;
}

static uint8_t wrap_byte(unsigned i, size_t k)
{
	return k == 0 ? OP_ECHO : (uint8_t)(i * 7u + k * 3u);
}

/* Take every echo waiting; check each against what was sent. */
static unsigned wrap_drain(struct vsp_guest_chan *c, unsigned *next)
{
	uint8_t in[1024];
	unsigned n = 0;
	long len;
	while ((len = vsp_guest_read(c, in, sizeof(in))) > 0) {
		struct vmbus_packet_desc d;
		memcpy(&d, in, sizeof(d));
		unsigned i = *next;
		g_assert_cmphex(d.trans_id, ==, 0x10000 + i);
		g_assert_cmpuint(d.type, ==, VMBUS_PKT_DATA_INBAND);
		g_assert_cmpint(len, ==, (long)pad8(16 + wrap_len(i)));
		for (size_t k = 0; k < wrap_len(i); k++)
			if (in[16 + k] != wrap_byte(i, k))
				g_error("echo %u byte %zu: %#x, sent %#x", i, k, in[16 + k], wrap_byte(i, k));
		(*next)++;
		n++;
	}
	g_assert_cmpint(len, ==, 0);
	return n;
}

static void test_wrap(void)
{
	struct rig r;
	rig_init(&r);
	/* The smallest rings, so that packets of these sizes straddle the end
	 * of the data area in both directions many times over. */
	struct vsp_guest_chan *c = open_ok(&r, r.o_echo, 2, 2);
	unsigned echoed = 0;
	uint8_t buf[600];
	for (unsigned i = 0; i < WRAP_PACKETS; i++) {
		for (size_t k = 0; k < wrap_len(i); k++)
			buf[k] = wrap_byte(i, k);
		int rc;
		gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
		while ((rc = vsp_guest_write(c, VMBUS_PKT_DATA_INBAND, 0, 0x10000 + i, buf, wrap_len(i))) == -EAGAIN) {
			if (wrap_drain(c, &echoed) == 0)
				vsp_guest_nap(r.g);
			g_assert_cmpint(g_get_monotonic_time(), <, end);
		}
		g_assert_cmpint(rc, ==, 0);
		(void)wrap_drain(c, &echoed);
	}
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
	while (echoed < WRAP_PACKETS) {
		if (wrap_drain(c, &echoed) == 0)
			vsp_guest_nap(r.g);
		g_assert_cmpint(g_get_monotonic_time(), <, end);
	}
	vsp_guest_bus_sync(r.g);
	g_assert_cmpuint(vsp_guest_in_used(c), ==, 0);
	g_assert_cmpuint(vsp_guest_out_used(c), ==, 0);

	/* The counters agree with what both sides did. */
	struct vsp_device_stats st = stats(&r.echo);
	g_assert_cmpuint(st.opens, ==, 1);
	g_assert_cmpuint(st.packets_in, ==, WRAP_PACKETS);
	g_assert_cmpuint(st.packets_out, ==, WRAP_PACKETS);
	g_assert_cmpuint(st.bad_packets, ==, 0);
	g_assert_cmpuint(st.signals_exit, ==, c->signals);
	g_assert_cmpuint(st.signals_kernel, ==, 0);
	g_assert_cmpuint(st.signals_out, ==, vsp_guest_host_signals(r.g, r.o_echo->relid));
	g_assert_cmpuint(st.signals_out, >, 0);
	g_assert_cmpuint(st.relid, ==, r.o_echo->relid);
	g_assert_cmpuint(st.ring_bytes_in, ==, 2 * 4096);
	g_assert_cmpuint(st.ring_bytes_out, ==, 2 * 4096);
	/* Linux signals an empty ring only: far fewer signals than packets. */
	g_assert_cmpuint(c->signals, <, WRAP_PACKETS);
	g_assert_cmpuint(ECHO(&r.echo, spurious_writables), ==, 0);
	g_assert_cmpint(vsp_guest_release(c), ==, 0);
	rig_fini(&r);
}

static void test_bus_args(void)
{
	struct vsp_bus_host none = { 0 };
	errno = 0;
	g_assert_null(vsp_bus_new(&none));
	g_assert_cmpint(errno, ==, EINVAL);
	g_assert_null(vsp_bus_new(NULL));

	struct rig r;
	rig_init(&r);
	struct vmbus_guid inst = { { 0 } };
	struct vsp_device_class nopacket = echo_class;
	nopacket.packet = NULL;
	struct vsp_device *dev = NULL;
	g_assert_cmpint(vsp_bus_add(vsp_guest_bus(r.g), &nopacket, &inst, NULL, &dev), ==, -EINVAL);
	g_assert_null(dev);
	/* The same class and instance twice: the server refuses the offer. */
	struct vmbus_guid same = VMBUS_GUID_INIT(0xabcdef01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	g_assert_cmpint(vsp_bus_add(vsp_guest_bus(r.g), &echo_class, &same, NULL, &dev), ==, -EEXIST);
	g_assert_null(dev);
	g_assert_true(vsp_device_priv(r.echo.dev) == &r.echo);
	g_assert_true(vsp_device_class(r.echo.dev) == &echo_class);
	g_assert_true(vsp_device_bus(r.echo.dev) == vsp_guest_bus(r.g));
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vsp-bus/open-close", test_open_close);
	g_test_add_func("/vsp-bus/packets", test_packets);
	g_test_add_func("/vsp-bus/oversize", test_oversize);
	g_test_add_func("/vsp-bus/broken-indices", test_broken_indices);
	g_test_add_func("/vsp-bus/ring-limits", test_ring_limits);
	g_test_add_func("/vsp-bus/full-ring", test_full_ring);
	g_test_add_func("/vsp-bus/reopen-while-busy", test_reopen_while_busy);
	g_test_add_func("/vsp-bus/close-while-writing", test_close_while_writing);
	g_test_add_func("/vsp-bus/wrap", test_wrap);
	g_test_add_func("/vsp-bus/args", test_bus_args);
	return g_test_run();
}
