// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: a hostile guest and a busy host against the SynIC. The input
 * is a series of operations (MSR writes and reads, posts, signals, the guest
 * consuming or scribbling over its pages, flushes, resets) with arbitrary
 * values. The SynIC must never touch memory outside guest RAM, never inject
 * to a VP that does not exist or a vector below 16, keep its queues bounded
 * and answer each call with one of its documented results.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/synic.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RAM_BASE  0x10000ull
#define FUZZ_RAM_PAGES 8u
#define FUZZ_RAM_SIZE  (FUZZ_RAM_PAGES * 4096ull)
#define FUZZ_MAX_VPS   4u
#define FUZZ_MAX_OPS   4096u

static _Alignas(4096) uint8_t fuzz_ram[FUZZ_RAM_SIZE];
static unsigned fuzz_nvps;

static uint64_t in_bytes(struct fuzz_input *in, unsigned count)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < count; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

/* Usually a VP that exists, sometimes any value. */
static unsigned in_vp(struct fuzz_input *in)
{
	uint8_t b = in_u8(in);
	return b & 0x80 ? (unsigned)in_bytes(in, 4) : b % (fuzz_nvps + 1);
}

static unsigned in_sint(struct fuzz_input *in)
{
	uint8_t b = in_u8(in);
	return b & 0x80 ? (unsigned)in_bytes(in, 4) : b % (SYNIC_SINT_COUNT + 1);
}

/* A GPA near guest RAM (inside, just outside, at the top of the address space) or raw. */
static uint64_t in_msr_value(struct fuzz_input *in)
{
	uint8_t mode = in_u8(in);
	switch (mode & 3) {
	case 0:
		return in_bytes(in, 8);
	case 1: {
		uint64_t page = FUZZ_RAM_BASE + (in_u8(in) % (FUZZ_RAM_PAGES + 2)) * 4096ull - 4096;
		return page | (in_bytes(in, 2) & 0xfff);
	}
	case 2:
		return 0xfffffffffffff000ull | (in_bytes(in, 2) & 0xfff);
	default:  /* a SINT value: vector, masked, auto-EOI, polling */
		return in_u8(in) | (uint64_t)(in_u8(in) & 7) << 16;
	}
}

static uint32_t in_msr(struct fuzz_input *in)
{
	uint8_t b = in_u8(in);
	if (b == 0xff)
		return (uint32_t)in_bytes(in, 4);
	return 0x40000078u + b % 0x30;   /* the SynIC range and its neighbours */
}

static void *fuzz_gpa_ptr(void *opaque, uint64_t gpa, size_t len)
{
	(void)opaque;
	if (gpa < FUZZ_RAM_BASE || len > FUZZ_RAM_SIZE || gpa - FUZZ_RAM_BASE > FUZZ_RAM_SIZE - len)
		return NULL;
	return fuzz_ram + (gpa - FUZZ_RAM_BASE);
}

static void fuzz_inject(void *opaque, unsigned vp, uint8_t vector)
{
	(void)opaque;
	if (vp >= fuzz_nvps || vector < SYNIC_SINT_VECTOR_MIN)
		abort();
}

static const struct synic_ops fuzz_ops = {
	.gpa_ptr = fuzz_gpa_ptr,
	.inject = fuzz_inject,
};

static bool fuzz_msr_is_synic(uint32_t msr)
{
	return (msr >= SYNIC_MSR_SCONTROL && msr <= SYNIC_MSR_EOM) ||
	       (msr >= SYNIC_MSR_SINT0 && msr <= SYNIC_MSR_SINT15);
}

static void fuzz_msr_write(struct synic *s, struct fuzz_input *in)
{
	unsigned vp = in_vp(in);
	uint32_t msr = in_msr(in);
	uint64_t val = in_msr_value(in), back = 0;
	int r = synic_msr_write(s, vp, msr, val);
	if (!fuzz_msr_is_synic(msr)) {
		if (r != -ENOENT)
			abort();
		return;
	}
	if (vp >= fuzz_nvps || msr == SYNIC_MSR_SVERSION) {
		if (r != -EINVAL)
			abort();
		return;
	}
	bool gp = msr >= SYNIC_MSR_SINT0 && !(val & SYNIC_SINT_MASKED) &&
		  (val & SYNIC_SINT_VECTOR_MASK) < SYNIC_SINT_VECTOR_MIN;
	if (r != (gp ? -EINVAL : 0))
		abort();
	if (r == 0 && msr != SYNIC_MSR_EOM) {
		/* What was written reads back. */
		if (synic_msr_read(s, vp, msr, &back) != 0 || back != val)
			abort();
	}
}

static void fuzz_msr_read(struct synic *s, struct fuzz_input *in)
{
	unsigned vp = in_vp(in);
	uint32_t msr = in_msr(in);
	uint64_t v = 0x5a5a;
	int r = synic_msr_read(s, vp, msr, &v);
	int want = !fuzz_msr_is_synic(msr) ? -ENOENT : vp >= fuzz_nvps ? -EINVAL : 0;
	if (r != want || (r != 0 && v != 0x5a5a))
		abort();
	if (r == 0 && msr == SYNIC_MSR_SVERSION && v != SYNIC_SVERSION)
		abort();
}

static void fuzz_post(struct synic *s, struct fuzz_input *in)
{
	unsigned vp = in_vp(in), sint = in_sint(in);
	uint32_t type = in_u8(in) & 1 ? (uint32_t)in_bytes(in, 4) : 1;
	uint8_t lb = in_u8(in);
	size_t len = lb == 0xff ? (size_t)in_bytes(in, 8) : lb;
	uint8_t payload[256];
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ lb);
	/* Sometimes a burst long enough to fill the queue. */
	unsigned count = in_u8(in) & 0x80 ? SYNIC_QUEUE_MAX + 2 : 1;
	bool bad = vp >= fuzz_nvps || sint >= SYNIC_SINT_COUNT || type == 0 || len > SYNIC_MESSAGE_PAYLOAD_MAX;
	for (unsigned i = 0; i < count; i++) {
		int r = synic_post_message(s, vp, sint, type, payload, len);
		if (bad ? r != -EINVAL : (r != 0 && r != -ENOBUFS))
			abort();
		if (r == -ENOBUFS && synic_queued(s, vp, sint) != (int)SYNIC_QUEUE_MAX)
			abort();
	}
}

static void fuzz_signal(struct synic *s, struct fuzz_input *in)
{
	unsigned vp = in_vp(in), sint = in_sint(in);
	unsigned flag = in_u8(in) & 0x80 ? (unsigned)in_bytes(in, 4) : (unsigned)in_bytes(in, 2) % 2100;
	int r = synic_signal_event(s, vp, sint, flag);
	bool bad = vp >= fuzz_nvps || sint >= SYNIC_SINT_COUNT || flag >= SYNIC_EVENT_FLAGS;
	if (bad ? r != -EINVAL : (r != 0 && r != -EAGAIN && r != -EFAULT))
		abort();
}

/* The guest frees a slot as Linux does (cmpxchg the type to 0, EOM if msg_pending). */
static void fuzz_guest_consume(struct synic *s, struct fuzz_input *in)
{
	unsigned vp = in_u8(in) % fuzz_nvps, sint = in_u8(in) % SYNIC_SINT_COUNT;
	uint64_t simp;
	if (synic_msr_read(s, vp, SYNIC_MSR_SIMP, &simp) != 0)
		abort();
	struct synic_message *m = fuzz_gpa_ptr(NULL, (simp & SYNIC_PAGE_GPA_MASK) + sint * 256ull, 256);
	if (!m)
		return;
	uint32_t type = __atomic_load_n(&m->message_type, __ATOMIC_ACQUIRE);
	if (type == 0 || !__atomic_compare_exchange_n(&m->message_type, &type, 0, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_load_n(&m->message_flags, __ATOMIC_SEQ_CST) & SYNIC_MSG_FLAG_PENDING) {
		if (synic_msr_write(s, vp, SYNIC_MSR_EOM, 0) != 0)
			abort();
	}
}

/* The guest writes whatever it likes into its RAM (slot headers included). */
static void fuzz_scribble(struct fuzz_input *in)
{
	size_t off = (size_t)in_bytes(in, 2) % FUZZ_RAM_SIZE;
	uint8_t n = in_u8(in) % 16;
	for (uint8_t i = 0; i < n && off + i < FUZZ_RAM_SIZE; i++)
		fuzz_ram[off + i] = in_u8(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	memset(fuzz_ram, 0, sizeof(fuzz_ram));
	fuzz_nvps = 1 + in_u8(&in) % FUZZ_MAX_VPS;
	struct synic *s = synic_new(fuzz_nvps, &fuzz_ops, NULL);
	if (!s)
		abort();
	for (unsigned op = 0; op < FUZZ_MAX_OPS && in.n; op++) {
		switch (in_u8(&in) % 10) {
		case 0: case 1: fuzz_msr_write(s, &in); break;
		case 2: fuzz_msr_read(s, &in); break;
		case 3: fuzz_post(s, &in); break;
		case 4: fuzz_signal(s, &in); break;
		case 5: case 6: fuzz_guest_consume(s, &in); break;
		case 7: fuzz_scribble(&in); break;
		case 8: synic_flush(s, in_vp(&in)); break;
		default:
			if (in_u8(&in) == 0x5e)
				synic_reset(s);
			break;
		}
	}
	for (unsigned vp = 0; vp < fuzz_nvps; vp++)
		for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++)
			if (synic_queued(s, vp, i) < 0 || synic_queued(s, vp, i) > (int)SYNIC_QUEUE_MAX)
				abort();
	struct synic_stats st;
	synic_get_stats(s, &st);
	if (st.injected != st.delivered + st.events)
		abort();
	synic_free(s);
	return 0;
}
