// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "hv/synic.h"

/* Fake guest RAM: RAM_PAGES pages at RAM_BASE; everything else is not RAM. */
#define RAM_BASE  0x100000ull
#define RAM_PAGES 16u
#define RAM_SIZE  (RAM_PAGES * 4096ull)
#define PAGE(n)   (RAM_BASE + (n) * 4096ull)
#define NOT_RAM   0x80000000ull

#define VMBUS_SINT   2u
#define VMBUS_VECTOR 0xF3u
#define SINT_MSR(n)  (SYNIC_MSR_SINT0 + (n))

#define INJECT_LOG 64u

struct fake {
	uint8_t *ram;
	struct synic *s;
	/* inject recorder */
	unsigned injects;                 /* atomic */
	unsigned log_vp[INJECT_LOG];
	uint8_t log_vector[INJECT_LOG];
	/* test_slot_busy hook: free the slot (as the guest would) once */
	bool free_on_busy;
	unsigned hook_calls;
};

static void *fake_gpa_ptr(void *opaque, uint64_t gpa, size_t len)
{
	struct fake *f = opaque;
	if (gpa < RAM_BASE || len > RAM_SIZE || gpa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return f->ram + (gpa - RAM_BASE);
}

static void fake_inject(void *opaque, unsigned vp, uint8_t vector)
{
	struct fake *f = opaque;
	unsigned n = __atomic_fetch_add(&f->injects, 1, __ATOMIC_RELAXED);
	if (n < INJECT_LOG) {
		f->log_vp[n] = vp;
		f->log_vector[n] = vector;
	}
}

static struct synic_message *fake_slot(struct fake *f, uint64_t simp_page, unsigned sint)
{
	return (struct synic_message *)(f->ram + (simp_page - RAM_BASE) + sint * SYNIC_MESSAGE_SIZE);
}

static void fake_slot_busy(void *opaque, unsigned vp, unsigned sint)
{
	struct fake *f = opaque;
	(void)vp;
	f->hook_calls++;
	if (f->free_on_busy) {
		/* The guest frees the slot between the host's check and its CAS. */
		f->free_on_busy = false;
		__atomic_store_n(&fake_slot(f, PAGE(0), sint)->message_type, 0, __ATOMIC_SEQ_CST);
	}
}

static const struct synic_ops fake_ops = {
	.gpa_ptr = fake_gpa_ptr,
	.inject = fake_inject,
	.test_slot_busy = fake_slot_busy,
};

static void fake_init(struct fake *f, unsigned nvps)
{
	memset(f, 0, sizeof(*f));
	f->ram = g_aligned_alloc0(RAM_PAGES, 4096, 4096);
	f->s = synic_new(nvps, &fake_ops, f);
	g_assert_nonnull(f->s);
}

static void fake_fini(struct fake *f)
{
	synic_free(f->s);
	g_aligned_free(f->ram);
}

static unsigned fake_injects(struct fake *f)
{
	return __atomic_load_n(&f->injects, __ATOMIC_RELAXED);
}

static uint64_t rd(struct fake *f, unsigned vp, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;
	g_assert_cmpint(synic_msr_read(f->s, vp, msr, &v), ==, 0);
	return v;
}

static void wr(struct fake *f, unsigned vp, uint32_t msr, uint64_t val)
{
	g_assert_cmpint(synic_msr_write(f->s, vp, msr, val), ==, 0);
}

/* What Linux does at vmbus load: SIMP, SIEFP, SINT2 unmasked with 0xF3, SCONTROL. */
static void enable_vp(struct fake *f, unsigned vp, uint64_t simp, uint64_t siefp)
{
	wr(f, vp, SYNIC_MSR_SIMP, simp | SYNIC_PAGE_ENABLE);
	wr(f, vp, SYNIC_MSR_SIEFP, siefp | SYNIC_PAGE_ENABLE);
	wr(f, vp, SINT_MSR(VMBUS_SINT), VMBUS_VECTOR);
	wr(f, vp, SYNIC_MSR_SCONTROL, SYNIC_SCONTROL_ENABLE);
}

/* Linux's vmbus_signal_eom(): free the slot with a cmpxchg on the type, then
 * write EOM if msg_pending was set. Returns whether EOM was written. */
static bool guest_free_slot(struct synic *s, unsigned vp, struct synic_message *m)
{
	uint32_t old = __atomic_load_n(&m->message_type, __ATOMIC_ACQUIRE);
	if (!__atomic_compare_exchange_n(&m->message_type, &old, 0, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	if (__atomic_load_n(&m->message_flags, __ATOMIC_SEQ_CST) & SYNIC_MSG_FLAG_PENDING) {
		g_assert_cmpint(synic_msr_write(s, vp, SYNIC_MSR_EOM, 0), ==, 0);
		return true;
	}
	return false;
}

static int post_u32(struct fake *f, unsigned vp, unsigned sint, uint32_t v)
{
	return synic_post_message(f->s, vp, sint, 1, &v, sizeof(v));
}

static uint32_t slot_u32(struct synic_message *m)
{
	uint32_t v;
	memcpy(&v, m->payload, sizeof(v));
	return v;
}

static void test_new_invalid(void)
{
	struct synic_ops no_inject = { .gpa_ptr = fake_gpa_ptr };
	g_assert_null(synic_new(0, &fake_ops, NULL));
	g_assert_null(synic_new(1, &no_inject, NULL));
	g_assert_null(synic_new(1, NULL, NULL));
	synic_free(NULL);
}

static void test_msr_reset_values(void)
{
	struct fake f;
	fake_init(&f, 2);
	for (unsigned vp = 0; vp < 2; vp++) {
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SCONTROL), ==, 0);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SVERSION), ==, 1);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SIEFP), ==, 0);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SIMP), ==, 0);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_EOM), ==, 0);
		for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++)
			g_assert_cmphex(rd(&f, vp, SINT_MSR(i)), ==, SYNIC_SINT_MASKED);
	}
	fake_fini(&f);
}

static void test_msr_readback(void)
{
	struct fake f;
	fake_init(&f, 2);
	/* Reserved bits 1-11 of the page MSRs are kept as written. */
	wr(&f, 1, SYNIC_MSR_SIMP, PAGE(3) | 0xffe | 1);
	wr(&f, 1, SYNIC_MSR_SIEFP, PAGE(4) | 0x5a0);
	wr(&f, 1, SYNIC_MSR_SCONTROL, 1);
	wr(&f, 1, SINT_MSR(2), 0xF3 | SYNIC_SINT_AUTO_EOI | SYNIC_SINT_POLLING);
	wr(&f, 1, SINT_MSR(15), 0x10 | SYNIC_SINT_MASKED);
	wr(&f, 1, SYNIC_MSR_EOM, 0x1234);
	g_assert_cmphex(rd(&f, 1, SYNIC_MSR_SIMP), ==, PAGE(3) | 0xfff);
	g_assert_cmphex(rd(&f, 1, SYNIC_MSR_SIEFP), ==, PAGE(4) | 0x5a0);
	g_assert_cmphex(rd(&f, 1, SYNIC_MSR_SCONTROL), ==, 1);
	g_assert_cmphex(rd(&f, 1, SINT_MSR(2)), ==, 0xF3 | SYNIC_SINT_AUTO_EOI | SYNIC_SINT_POLLING);
	g_assert_cmphex(rd(&f, 1, SINT_MSR(15)), ==, 0x10 | SYNIC_SINT_MASKED);
	g_assert_cmphex(rd(&f, 1, SYNIC_MSR_EOM), ==, 0);
	/* Per VP: VP 0 is untouched. */
	g_assert_cmphex(rd(&f, 0, SYNIC_MSR_SIMP), ==, 0);
	g_assert_cmphex(rd(&f, 0, SYNIC_MSR_SCONTROL), ==, 0);
	g_assert_cmphex(rd(&f, 0, SINT_MSR(2)), ==, SYNIC_SINT_MASKED);
	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.eoms, ==, 1);
	fake_fini(&f);
}

static void test_msr_gp(void)
{
	struct fake f;
	fake_init(&f, 2);
	uint64_t v = 77;
	g_assert_cmpint(synic_msr_write(f.s, 0, SYNIC_MSR_SVERSION, 1), ==, -EINVAL);
	/* An unmasked SINT with a vector below 16 faults and changes nothing. */
	wr(&f, 0, SINT_MSR(2), 0x30);
	g_assert_cmpint(synic_msr_write(f.s, 0, SINT_MSR(2), 15), ==, -EINVAL);
	g_assert_cmpint(synic_msr_write(f.s, 0, SINT_MSR(2), 0), ==, -EINVAL);
	g_assert_cmphex(rd(&f, 0, SINT_MSR(2)), ==, 0x30);
	wr(&f, 0, SINT_MSR(2), 5 | SYNIC_SINT_MASKED);
	wr(&f, 0, SINT_MSR(3), 16);
	/* Bad VP index. */
	g_assert_cmpint(synic_msr_read(f.s, 2, SYNIC_MSR_SCONTROL, &v), ==, -EINVAL);
	g_assert_cmpint(synic_msr_read(f.s, UINT32_MAX, SINT_MSR(0), &v), ==, -EINVAL);
	g_assert_cmpint(synic_msr_write(f.s, 2, SYNIC_MSR_SCONTROL, 1), ==, -EINVAL);
	g_assert_cmpint(synic_msr_write(f.s, UINT32_MAX, SYNIC_MSR_EOM, 0), ==, -EINVAL);
	g_assert_cmpuint(v, ==, 77);
	/* Not SynIC MSRs: for the caller to try elsewhere, whatever the VP. */
	const uint32_t others[] = { 0x40000000, 0x4000007F, 0x40000085, 0x4000008F, 0x400000A0, 0x10 };
	for (unsigned i = 0; i < G_N_ELEMENTS(others); i++) {
		g_assert_cmpint(synic_msr_read(f.s, 0, others[i], &v), ==, -ENOENT);
		g_assert_cmpint(synic_msr_write(f.s, 0, others[i], 0), ==, -ENOENT);
		g_assert_cmpint(synic_msr_read(f.s, 9, others[i], &v), ==, -ENOENT);
	}
	g_assert_cmpuint(v, ==, 77);
	fake_fini(&f);
}

static void test_message_basic(void)
{
	struct fake f;
	fake_init(&f, 2);
	enable_vp(&f, 1, PAGE(2), PAGE(3));
	uint8_t payload[SYNIC_MESSAGE_PAYLOAD_MAX];
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	/* Garbage in the slot's unused header bytes is overwritten. */
	struct synic_message *m = fake_slot(&f, PAGE(2), VMBUS_SINT);
	memset(&m->sender, 0xee, sizeof(m->sender));
	m->message_flags = SYNIC_MSG_FLAG_PENDING;
	g_assert_cmpint(synic_post_message(f.s, 1, VMBUS_SINT, 0x12345678, payload, sizeof(payload)), ==, 0);
	g_assert_cmphex(m->message_type, ==, 0x12345678);
	g_assert_cmpuint(m->payload_size, ==, SYNIC_MESSAGE_PAYLOAD_MAX);
	g_assert_cmpuint(m->message_flags, ==, 0);
	g_assert_cmphex(m->sender, ==, 0);
	g_assert_cmpmem(m->payload, sizeof(payload), payload, sizeof(payload));
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	g_assert_cmpuint(f.log_vp[0], ==, 1);
	g_assert_cmphex(f.log_vector[0], ==, VMBUS_VECTOR);
	/* Nothing else in the page or in VP 0's world changed. */
	g_assert_cmphex(fake_slot(&f, PAGE(2), VMBUS_SINT + 1)->message_type, ==, 0);
	g_assert_cmphex(fake_slot(&f, PAGE(2), VMBUS_SINT - 1)->message_type, ==, 0);
	g_assert_cmpint(synic_queued(f.s, 1, VMBUS_SINT), ==, 0);
	/* An empty payload is fine. */
	guest_free_slot(f.s, 1, m);
	g_assert_cmpint(synic_post_message(f.s, 1, VMBUS_SINT, 1, NULL, 0), ==, 0);
	g_assert_cmpuint(m->payload_size, ==, 0);
	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.delivered, ==, 2);
	g_assert_cmpuint(st.injected, ==, 2);
	fake_fini(&f);
}

static void test_message_enable_order(void)
{
	/* Each permutation of the four enabling writes: the message posted first
	 * is delivered by the last of them, and not before. */
	static const unsigned orders[][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 2, 0, 3, 1 }, { 1, 3, 0, 2 }, { 0, 3, 2, 1 },
	};
	for (unsigned o = 0; o < G_N_ELEMENTS(orders); o++) {
		struct fake f;
		fake_init(&f, 1);
		g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 0xabc), ==, 0);
		g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 1);
		for (unsigned step = 0; step < 4; step++) {
			switch (orders[o][step]) {
			case 0: wr(&f, 0, SYNIC_MSR_SIMP, PAGE(1) | SYNIC_PAGE_ENABLE); break;
			case 1: wr(&f, 0, SYNIC_MSR_SIEFP, PAGE(2) | SYNIC_PAGE_ENABLE); break;
			case 2: wr(&f, 0, SINT_MSR(VMBUS_SINT), VMBUS_VECTOR); break;
			case 3: wr(&f, 0, SYNIC_MSR_SCONTROL, SYNIC_SCONTROL_ENABLE); break;
			}
			synic_flush(f.s, 0);
			/* Ready once SIMP, SINT and SCONTROL are on; SIEFP does not matter for messages. */
			unsigned done = 0;
			for (unsigned k = 0; k <= step; k++)
				if (orders[o][k] != 1)
					done++;
			bool ready = done == 3;
			g_assert_cmpuint(fake_injects(&f), ==, ready ? 1 : 0);
			g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, ready ? 0 : 1);
		}
		struct synic_message *m = fake_slot(&f, PAGE(1), VMBUS_SINT);
		g_assert_cmpuint(m->message_type, ==, 1);
		g_assert_cmphex(slot_u32(m), ==, 0xabc);
		fake_fini(&f);
	}
}

static void test_message_busy_eom(void)
{
	struct fake f;
	fake_init(&f, 1);
	enable_vp(&f, 0, PAGE(0), PAGE(1));
	struct synic_message *m = fake_slot(&f, PAGE(0), VMBUS_SINT);
	for (uint32_t i = 1; i <= 4; i++)
		g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, i), ==, 0);
	/* The first is in the slot, with msg_pending because more wait. */
	g_assert_cmphex(slot_u32(m), ==, 1);
	g_assert_cmpuint(m->message_flags, ==, SYNIC_MSG_FLAG_PENDING);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 3);
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	/* An EOM while the slot is still busy delivers nothing. */
	wr(&f, 0, SYNIC_MSR_EOM, 0);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 3);
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	for (uint32_t i = 2; i <= 4; i++) {
		g_assert_true(guest_free_slot(f.s, 0, m));
		g_assert_cmphex(slot_u32(m), ==, i);
		g_assert_cmpuint(m->message_type, ==, 1);
		g_assert_cmpuint(fake_injects(&f), ==, i);
		g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 4 - i);
		/* Pending again exactly while something still waits. */
		g_assert_cmpuint(m->message_flags, ==, i < 4 ? SYNIC_MSG_FLAG_PENDING : 0);
	}
	g_assert_false(guest_free_slot(f.s, 0, m));
	g_assert_cmpuint(m->message_type, ==, 0);

	/* A guest that frees the slot without EOM: a flush delivers. */
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 5), ==, 0);
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 6), ==, 0);
	__atomic_store_n(&m->message_type, 0, __ATOMIC_SEQ_CST);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 1);
	synic_flush(f.s, 0);
	g_assert_cmphex(slot_u32(m), ==, 6);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 0);

	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.delivered, ==, 6);
	g_assert_cmpuint(st.injected, ==, 6);
	g_assert_cmpuint(st.eoms, ==, 4);
	g_assert_cmpuint(st.pending_races, ==, 0);
	fake_fini(&f);
}

static void test_message_cas_race(void)
{
	struct fake f;
	fake_init(&f, 1);
	enable_vp(&f, 0, PAGE(0), PAGE(1));
	struct synic_message *m = fake_slot(&f, PAGE(0), VMBUS_SINT);
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 1), ==, 0);
	g_assert_cmpuint(f.hook_calls, ==, 0);
	/* The guest frees the first message between the check and the CAS: the
	 * second must be delivered at once, without msg_pending. */
	f.free_on_busy = true;
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 2), ==, 0);
	g_assert_cmpuint(f.hook_calls, ==, 1);
	g_assert_cmphex(slot_u32(m), ==, 2);
	g_assert_cmpuint(m->message_type, ==, 1);
	g_assert_cmpuint(m->message_flags, ==, 0);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 2);
	/* Without the race, a busy slot gets msg_pending. */
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 3), ==, 0);
	g_assert_cmpuint(m->message_flags, ==, SYNIC_MSG_FLAG_PENDING);
	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.pending_races, ==, 1);
	g_assert_cmpuint(st.pending_set, ==, 1);
	fake_fini(&f);
}

/* Concurrency: host threads post while a guest thread consumes slots the way
 * Linux does; no message may be lost, duplicated or reordered. */
#define RACE_POSTERS  2u
#define RACE_MESSAGES 20000u   /* per poster */
#define RACE_VP       1u
#define RACE_STALL_US (10 * G_USEC_PER_SEC)

struct race {
	struct fake *f;
	unsigned id;
	gint stop;
	unsigned enobufs;
};

static gpointer race_poster(gpointer data)
{
	struct race *r = data;
	for (uint32_t seq = 0; seq < RACE_MESSAGES && !g_atomic_int_get(&r->stop);) {
		uint32_t msg[2] = { r->id, seq };
		int e = synic_post_message(r->f->s, RACE_VP, VMBUS_SINT, 1, msg, sizeof(msg));
		if (e == -ENOBUFS) {
			r->enobufs++;
			g_thread_yield();
			continue;
		}
		g_assert_cmpint(e, ==, 0);
		seq++;
	}
	return NULL;
}

static void test_message_concurrent(void)
{
	struct fake f;
	fake_init(&f, 2);
	enable_vp(&f, RACE_VP, PAGE(5), PAGE(6));
	struct synic_message *m = fake_slot(&f, PAGE(5), VMBUS_SINT);
	struct race posters[RACE_POSTERS];
	GThread *threads[RACE_POSTERS];
	for (unsigned i = 0; i < RACE_POSTERS; i++) {
		posters[i] = (struct race){ .f = &f, .id = i };
		threads[i] = g_thread_new("poster", race_poster, &posters[i]);
	}

	/* This thread is the guest. */
	uint32_t next[RACE_POSTERS] = { 0 };
	unsigned received = 0, eoms = 0, spin = 0;
	gint64 last = g_get_monotonic_time();
	bool stalled = false;
	while (received < RACE_POSTERS * RACE_MESSAGES) {
		uint32_t type = __atomic_load_n(&m->message_type, __ATOMIC_ACQUIRE);
		if (type == 0) {
			if (g_get_monotonic_time() - last > RACE_STALL_US) {
				stalled = true;
				break;
			}
			continue;
		}
		g_assert_cmpuint(type, ==, 1);
		/* Atomic only because the host may be setting msg_pending in the same word. */
		g_assert_cmpuint(__atomic_load_n(&m->payload_size, __ATOMIC_RELAXED), ==, 8);
		uint32_t msg[2];
		memcpy(msg, m->payload, sizeof(msg));
		g_assert_cmpuint(msg[0], <, RACE_POSTERS);
		g_assert_cmpuint(msg[1], ==, next[msg[0]]);
		next[msg[0]]++;
		received++;
		last = g_get_monotonic_time();
		/* Vary the timing so both sides of the race get exercised. */
		for (unsigned i = 0, n = (spin++ * 2654435761u) >> 26; i < n; i++)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		eoms += guest_free_slot(f.s, RACE_VP, m);
	}
	for (unsigned i = 0; i < RACE_POSTERS; i++) {
		g_atomic_int_set(&posters[i].stop, stalled);
		g_thread_join(threads[i]);
	}
	g_assert_false(stalled);
	g_assert_cmpuint(received, ==, RACE_POSTERS * RACE_MESSAGES);
	/* Nothing more arrives: no duplicate was left behind. */
	g_assert_cmpuint(__atomic_load_n(&m->message_type, __ATOMIC_ACQUIRE), ==, 0);
	for (unsigned i = 0; i < RACE_POSTERS; i++)
		g_assert_cmpuint(next[i], ==, RACE_MESSAGES);

	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.delivered, ==, RACE_POSTERS * RACE_MESSAGES);
	g_assert_cmpuint(st.injected, ==, st.delivered);
	g_assert_cmpuint(fake_injects(&f), ==, st.delivered);
	g_assert_cmpuint(st.eoms, ==, eoms);
	for (unsigned i = 0; i < INJECT_LOG; i++) {
		g_assert_cmpuint(f.log_vp[i], ==, RACE_VP);
		g_assert_cmphex(f.log_vector[i], ==, VMBUS_VECTOR);
	}
	g_test_message("%u EOMs, msg_pending set %" G_GUINT64_FORMAT " times, %" G_GUINT64_FORMAT
		       " CAS races, ENOBUFS %u/%u", eoms, st.pending_set, st.pending_races,
		       posters[0].enobufs, posters[1].enobufs);
	fake_fini(&f);
}

/* Pairs: the host posts two messages and then nothing until the guest has
 * both, so a lost EOM is never rescued by a later post and shows as a stall.
 * The second post meets the guest freeing the first slot. */
#define PAIRS 20000u

struct pair_guest {
	struct fake *f;
	struct synic_message *m;
	unsigned received;     /* atomic */
	gint stop;
};

static gpointer pair_guest_thread(gpointer data)
{
	struct pair_guest *g = data;
	unsigned spin = 0;
	while (!g_atomic_int_get(&g->stop)) {
		if (__atomic_load_n(&g->m->message_type, __ATOMIC_ACQUIRE) == 0)
			continue;
		uint32_t v = slot_u32(g->m);
		g_assert_cmpuint(v, ==, __atomic_load_n(&g->received, __ATOMIC_RELAXED));
		/* A delay of varying length and scale before freeing the slot, so that
		 * some frees land inside the host's second post whatever the build. */
		unsigned hash = spin * 2654435761u, scale = 19 + spin % 6;
		spin++;
		for (unsigned i = 0, n = hash >> scale; i < n; i++)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
		guest_free_slot(g->f->s, RACE_VP, g->m);
		__atomic_store_n(&g->received, v + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_message_concurrent_pairs(void)
{
	struct fake f;
	fake_init(&f, 2);
	enable_vp(&f, RACE_VP, PAGE(5), PAGE(6));
	struct pair_guest g = { .f = &f, .m = fake_slot(&f, PAGE(5), VMBUS_SINT) };
	GThread *guest = g_thread_new("guest", pair_guest_thread, &g);
	bool stalled = false;
	for (uint32_t i = 0; i < PAIRS && !stalled; i++) {
		g_assert_cmpint(post_u32(&f, RACE_VP, VMBUS_SINT, 2 * i), ==, 0);
		g_assert_cmpint(post_u32(&f, RACE_VP, VMBUS_SINT, 2 * i + 1), ==, 0);
		gint64 deadline = g_get_monotonic_time() + RACE_STALL_US;
		while (__atomic_load_n(&g.received, __ATOMIC_ACQUIRE) != 2 * i + 2) {
			if (g_get_monotonic_time() > deadline) {
				stalled = true;
				break;
			}
			g_thread_yield();
		}
	}
	g_atomic_int_set(&g.stop, 1);
	g_thread_join(guest);
	g_assert_false(stalled);
	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.delivered, ==, 2 * PAIRS);
	g_assert_cmpuint(fake_injects(&f), ==, 2 * PAIRS);
	g_test_message("%" G_GUINT64_FORMAT " EOMs, msg_pending set %" G_GUINT64_FORMAT " times, %"
		       G_GUINT64_FORMAT " CAS races", st.eoms, st.pending_set, st.pending_races);
	fake_fini(&f);
}

static void test_message_masked_and_vector(void)
{
	struct fake f;
	fake_init(&f, 1);
	enable_vp(&f, 0, PAGE(0), PAGE(1));
	/* SINT 5 is still masked: its messages wait. */
	g_assert_cmpint(post_u32(&f, 0, 5, 50), ==, 0);
	g_assert_cmpint(post_u32(&f, 0, 5, 51), ==, 0);
	g_assert_cmpint(synic_queued(f.s, 0, 5), ==, 2);
	g_assert_cmpuint(fake_injects(&f), ==, 0);
	synic_flush(f.s, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 0);
	/* Unmasking delivers to slot 5 with SINT 5's vector. */
	wr(&f, 0, SINT_MSR(5), 0x40);
	struct synic_message *m = fake_slot(&f, PAGE(0), 5);
	g_assert_cmphex(slot_u32(m), ==, 50);
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	g_assert_cmphex(f.log_vector[0], ==, 0x40);
	/* The vector is re-read at each delivery. */
	wr(&f, 0, SINT_MSR(5), 0x41);
	g_assert_true(guest_free_slot(f.s, 0, m));
	g_assert_cmphex(slot_u32(m), ==, 51);
	g_assert_cmphex(f.log_vector[1], ==, 0x41);
	/* Masked again: the next one waits even though the slot is free. */
	wr(&f, 0, SINT_MSR(5), 0x41 | SYNIC_SINT_MASKED);
	guest_free_slot(f.s, 0, m);
	g_assert_cmpint(post_u32(&f, 0, 5, 52), ==, 0);
	g_assert_cmpuint(m->message_type, ==, 0);
	g_assert_cmpint(synic_queued(f.s, 0, 5), ==, 1);
	/* Disabling SIMP or SCONTROL also holds messages back. */
	wr(&f, 0, SYNIC_MSR_SIMP, PAGE(0));
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 20), ==, 0);
	wr(&f, 0, SYNIC_MSR_SIMP, PAGE(0) | SYNIC_PAGE_ENABLE);
	g_assert_cmphex(slot_u32(fake_slot(&f, PAGE(0), VMBUS_SINT)), ==, 20);
	wr(&f, 0, SYNIC_MSR_SCONTROL, 0);
	g_assert_cmpint(post_u32(&f, 0, 7, 70), ==, 0);
	wr(&f, 0, SINT_MSR(7), 0x70);
	g_assert_cmpint(synic_queued(f.s, 0, 7), ==, 1);
	wr(&f, 0, SYNIC_MSR_SCONTROL, 1);
	g_assert_cmpint(synic_queued(f.s, 0, 7), ==, 0);
	g_assert_cmphex(slot_u32(fake_slot(&f, PAGE(0), 7)), ==, 70);
	g_assert_cmphex(f.log_vector[3], ==, 0x70);
	g_assert_cmpint(synic_queued(f.s, 0, 5), ==, 1);
	fake_fini(&f);
}

static void test_message_queue_full(void)
{
	struct fake f;
	fake_init(&f, 2);
	for (uint32_t i = 0; i < SYNIC_QUEUE_MAX; i++)
		g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, i), ==, 0);
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 999), ==, -ENOBUFS);
	g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, SYNIC_QUEUE_MAX);
	/* The limit is per VP and SINT. */
	g_assert_cmpint(post_u32(&f, 0, 3, 0), ==, 0);
	g_assert_cmpint(post_u32(&f, 1, VMBUS_SINT, 0), ==, 0);
	/* All of them arrive, in order, once the guest is ready. */
	enable_vp(&f, 0, PAGE(0), PAGE(1));
	struct synic_message *m = fake_slot(&f, PAGE(0), VMBUS_SINT);
	for (uint32_t i = 0; i < SYNIC_QUEUE_MAX; i++) {
		g_assert_cmphex(slot_u32(m), ==, i);
		g_assert_true(guest_free_slot(f.s, 0, m) == (i + 1 < SYNIC_QUEUE_MAX));
	}
	g_assert_cmpuint(m->message_type, ==, 0);
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 1000), ==, 0);
	g_assert_cmpint(synic_queued(f.s, 0, 3), ==, 1);
	fake_fini(&f);
}

static void test_message_bad_args(void)
{
	struct fake f;
	fake_init(&f, 2);
	uint8_t big[SYNIC_MESSAGE_PAYLOAD_MAX + 1] = { 0 };
	g_assert_cmpint(synic_post_message(f.s, 2, 0, 1, big, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, UINT32_MAX, 0, 1, big, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, SYNIC_SINT_COUNT, 1, big, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, UINT32_MAX, 1, big, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, 0, 1, big, sizeof(big)), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, 0, 1, big, SIZE_MAX), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, 0, 0, big, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, 0, 1, NULL, 4), ==, -EINVAL);
	g_assert_cmpint(synic_post_message(f.s, 0, 0, 1, big, SYNIC_MESSAGE_PAYLOAD_MAX), ==, 0);
	g_assert_cmpint(synic_queued(f.s, 0, 0), ==, 1);
	g_assert_cmpint(synic_queued(f.s, 2, 0), ==, -EINVAL);
	g_assert_cmpint(synic_queued(f.s, 0, SYNIC_SINT_COUNT), ==, -EINVAL);
	synic_flush(f.s, 2);
	synic_flush(f.s, UINT32_MAX);
	fake_fini(&f);
}

static void test_message_not_ram(void)
{
	struct fake f;
	fake_init(&f, 1);
	/* SIMP pointing at nothing, at a page whose end leaves RAM, at the top of the address space. */
	const uint64_t bad[] = { NOT_RAM, RAM_BASE - 4096, PAGE(RAM_PAGES), 0xfffffffffffff000ull, 0 };
	wr(&f, 0, SINT_MSR(15), 0x50);
	wr(&f, 0, SINT_MSR(VMBUS_SINT), VMBUS_VECTOR);
	wr(&f, 0, SYNIC_MSR_SCONTROL, 1);
	g_assert_cmpint(post_u32(&f, 0, 15, 1), ==, 0);
	g_assert_cmpint(post_u32(&f, 0, VMBUS_SINT, 2), ==, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		wr(&f, 0, SYNIC_MSR_SIMP, bad[i] | SYNIC_PAGE_ENABLE);
		wr(&f, 0, SYNIC_MSR_EOM, 0);
		synic_flush(f.s, 0);
		g_assert_cmpint(synic_queued(f.s, 0, 15), ==, 1);
		g_assert_cmpint(synic_queued(f.s, 0, VMBUS_SINT), ==, 1);
	}
	g_assert_cmpuint(fake_injects(&f), ==, 0);
	/* The last RAM page: slot 15 is its last 256 bytes. */
	wr(&f, 0, SYNIC_MSR_SIMP, PAGE(RAM_PAGES - 1) | SYNIC_PAGE_ENABLE);
	g_assert_cmphex(slot_u32(fake_slot(&f, PAGE(RAM_PAGES - 1), 15)), ==, 1);
	g_assert_cmphex(slot_u32(fake_slot(&f, PAGE(RAM_PAGES - 1), VMBUS_SINT)), ==, 2);
	g_assert_cmpuint(fake_injects(&f), ==, 2);
	fake_fini(&f);
}

static void test_events(void)
{
	struct fake f;
	fake_init(&f, 3);
	uint8_t zero[4096] = { 0 };
	/* Nothing enabled yet: -EAGAIN and nothing written. */
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, -EAGAIN);
	wr(&f, 1, SYNIC_MSR_SIEFP, PAGE(7) | SYNIC_PAGE_ENABLE);
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, -EAGAIN);
	wr(&f, 1, SINT_MSR(VMBUS_SINT), VMBUS_VECTOR);
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, -EAGAIN);
	g_assert_cmpmem(f.ram + PAGE(7) - RAM_BASE, 4096, zero, sizeof(zero));
	wr(&f, 1, SYNIC_MSR_SCONTROL, 1);
	/* SINT 3 is masked. */
	g_assert_cmpint(synic_signal_event(f.s, 1, 3, 5), ==, -EAGAIN);
	g_assert_cmpmem(f.ram + PAGE(7) - RAM_BASE, 4096, zero, sizeof(zero));
	g_assert_cmpuint(fake_injects(&f), ==, 0);

	enable_vp(&f, 0, PAGE(0), PAGE(1));
	enable_vp(&f, 2, PAGE(2), PAGE(3));
	/* Bit 5 of SINT 2's block (bytes 512-767) of VP 1's page, and only that. */
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, 0);
	uint8_t *page = f.ram + PAGE(7) - RAM_BASE;
	g_assert_cmphex(page[512], ==, 1u << 5);
	uint8_t expect[4096] = { 0 };
	expect[512] = 1u << 5;
	g_assert_cmpmem(page, 4096, expect, sizeof(expect));
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	g_assert_cmpuint(f.log_vp[0], ==, 1);
	g_assert_cmphex(f.log_vector[0], ==, VMBUS_VECTOR);
	/* Already set: no interrupt. */
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	/* The guest test-and-clears it: the next signal interrupts again. */
	page[512] = 0;
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 5), ==, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 2);
	/* The last flag, other bits of the same word, other VPs' pages. */
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, SYNIC_EVENT_FLAGS - 1), ==, 0);
	g_assert_cmphex(page[767], ==, 0x80);
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 63), ==, 0);
	g_assert_cmphex(page[519], ==, 0x80);
	g_assert_cmpint(synic_signal_event(f.s, 2, VMBUS_SINT, 0), ==, 0);
	g_assert_cmphex((f.ram + PAGE(3) - RAM_BASE)[512], ==, 1);
	g_assert_cmphex((f.ram + PAGE(1) - RAM_BASE)[512], ==, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 5);
	g_assert_cmpuint(f.log_vp[4], ==, 2);
	/* Another SINT with its own vector and block. */
	wr(&f, 0, SINT_MSR(9), 0x99);
	g_assert_cmpint(synic_signal_event(f.s, 0, 9, 9), ==, 0);
	g_assert_cmphex((f.ram + PAGE(1) - RAM_BASE)[9 * 256 + 1], ==, 2);
	g_assert_cmphex(f.log_vector[5], ==, 0x99);
	/* Bad arguments. */
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, SYNIC_EVENT_FLAGS), ==, -EINVAL);
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, UINT32_MAX), ==, -EINVAL);
	g_assert_cmpint(synic_signal_event(f.s, 1, SYNIC_SINT_COUNT, 1), ==, -EINVAL);
	g_assert_cmpint(synic_signal_event(f.s, 3, VMBUS_SINT, 1), ==, -EINVAL);
	/* A SIEFP that is not RAM. */
	wr(&f, 1, SYNIC_MSR_SIEFP, NOT_RAM | SYNIC_PAGE_ENABLE);
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 1), ==, -EFAULT);
	wr(&f, 1, SYNIC_MSR_SIEFP, 0xfffffffffffff000ull | SYNIC_PAGE_ENABLE);
	g_assert_cmpint(synic_signal_event(f.s, 1, 15, 1), ==, -EAGAIN);   /* masked */
	wr(&f, 1, SINT_MSR(15), 0x20);
	g_assert_cmpint(synic_signal_event(f.s, 1, 15, 2047), ==, -EFAULT);
	g_assert_cmpuint(fake_injects(&f), ==, 6);
	struct synic_stats st;
	synic_get_stats(f.s, &st);
	g_assert_cmpuint(st.events, ==, 6);
	fake_fini(&f);
}

static void test_reset(void)
{
	struct fake f;
	fake_init(&f, 2);
	enable_vp(&f, 1, PAGE(0), PAGE(1));
	wr(&f, 1, SINT_MSR(4), 0x44);
	g_assert_cmpint(post_u32(&f, 1, VMBUS_SINT, 1), ==, 0);
	g_assert_cmpint(post_u32(&f, 1, VMBUS_SINT, 2), ==, 0);
	g_assert_cmpint(post_u32(&f, 0, 4, 3), ==, 0);
	synic_reset(f.s);
	for (unsigned vp = 0; vp < 2; vp++) {
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SCONTROL), ==, 0);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SIMP), ==, 0);
		g_assert_cmphex(rd(&f, vp, SYNIC_MSR_SIEFP), ==, 0);
		for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++) {
			g_assert_cmphex(rd(&f, vp, SINT_MSR(i)), ==, SYNIC_SINT_MASKED);
			g_assert_cmpint(synic_queued(f.s, vp, i), ==, 0);
		}
	}
	g_assert_cmpint(synic_signal_event(f.s, 1, VMBUS_SINT, 1), ==, -EAGAIN);
	/* The dropped messages do not come back once the guest starts over. */
	memset(f.ram, 0, RAM_SIZE);
	enable_vp(&f, 1, PAGE(0), PAGE(1));
	g_assert_cmpuint(fake_slot(&f, PAGE(0), VMBUS_SINT)->message_type, ==, 0);
	g_assert_cmpuint(fake_injects(&f), ==, 1);
	fake_fini(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synic/new-invalid", test_new_invalid);
	g_test_add_func("/synic/msr/reset-values", test_msr_reset_values);
	g_test_add_func("/synic/msr/readback", test_msr_readback);
	g_test_add_func("/synic/msr/gp", test_msr_gp);
	g_test_add_func("/synic/message/basic", test_message_basic);
	g_test_add_func("/synic/message/enable-order", test_message_enable_order);
	g_test_add_func("/synic/message/busy-eom", test_message_busy_eom);
	g_test_add_func("/synic/message/cas-race", test_message_cas_race);
	g_test_add_func("/synic/message/concurrent", test_message_concurrent);
	g_test_add_func("/synic/message/concurrent-pairs", test_message_concurrent_pairs);
	g_test_add_func("/synic/message/masked-and-vector", test_message_masked_and_vector);
	g_test_add_func("/synic/message/queue-full", test_message_queue_full);
	g_test_add_func("/synic/message/bad-args", test_message_bad_args);
	g_test_add_func("/synic/message/not-ram", test_message_not_ram);
	g_test_add_func("/synic/event", test_events);
	g_test_add_func("/synic/reset", test_reset);
	return g_test_run();
}
