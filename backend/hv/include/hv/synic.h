/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic interrupt controller (SynIC) of every VP: its MSRs, the
 * message slots in the guest's SIMP page and the event flags in its SIEFP
 * page (../shared/docs/hyperv-host.md sections 2 and 4). Pure logic: the
 * partition supplies guest memory and interrupt injection through ops, feeds
 * the MSR exits in, and the VMBus host posts messages and signals events.
 *
 * Threads: MSR accesses come from the VP's own vCPU thread, posts and signals
 * from any thread. Each VP has its own lock. ops->inject is always called
 * with no SynIC lock held, so it may call back into the SynIC.
 * The guest runs concurrently and owns its pages: every word shared with it
 * is accessed atomically and every value read from it or written by it is
 * checked before use.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define SYNIC_SINT_COUNT          16u
#define SYNIC_MESSAGE_SIZE        256u
#define SYNIC_MESSAGE_PAYLOAD_MAX 240u
#define SYNIC_EVENT_FLAGS         2048u   /* bits per SINT block of the SIEFP page */
/* Undelivered messages kept per VP and SINT before synic_post_message says
 * -ENOBUFS. The guest drains its slot at once, so only a guest that has not
 * enabled its SynIC yet (or stopped reading it) lets a queue grow. */
#define SYNIC_QUEUE_MAX           128u

/* MSRs (all per VP) */
#define SYNIC_MSR_SCONTROL        0x40000080u
#define SYNIC_MSR_SVERSION        0x40000081u
#define SYNIC_MSR_SIEFP           0x40000082u
#define SYNIC_MSR_SIMP            0x40000083u
#define SYNIC_MSR_EOM             0x40000084u
#define SYNIC_MSR_SINT0           0x40000090u
#define SYNIC_MSR_SINT15          0x4000009Fu

#define SYNIC_SCONTROL_ENABLE     (1ull << 0)
#define SYNIC_SVERSION            1ull
#define SYNIC_PAGE_ENABLE         (1ull << 0)    /* SIEFP and SIMP */
#define SYNIC_PAGE_GPA_MASK       (~0xfffull)
#define SYNIC_SINT_VECTOR_MASK    0xffull
#define SYNIC_SINT_MASKED         (1ull << 16)
#define SYNIC_SINT_AUTO_EOI       (1ull << 17)   /* stored, not emulated: see hyperv_tlfs.h AEOI hint */
#define SYNIC_SINT_POLLING        (1ull << 18)
#define SYNIC_SINT_VECTOR_MIN     16u            /* an unmasked SINT below this is a #GP */

/* One message slot of the SIMP page, as the guest sees it. */
#define SYNIC_MSG_FLAG_PENDING    (1u << 0)
struct synic_message {
	uint32_t message_type;       /* 0: slot free; written last by the host */
	uint8_t payload_size;
	uint8_t message_flags;       /* SYNIC_MSG_FLAG_PENDING: the host waits for EOM */
	uint8_t reserved[2];
	uint64_t sender;             /* port / connection; written 0 */
	uint8_t payload[SYNIC_MESSAGE_PAYLOAD_MAX];
};   /* naturally aligned: the header is accessed atomically, so no packing */
_Static_assert(sizeof(struct synic_message) == SYNIC_MESSAGE_SIZE, "a message slot is 256 bytes");
_Static_assert(offsetof(struct synic_message, payload_size) == 4, "payload_size at 4");
_Static_assert(offsetof(struct synic_message, message_flags) == 5, "message_flags at 5");
_Static_assert(offsetof(struct synic_message, sender) == 8, "sender at 8");
_Static_assert(offsetof(struct synic_message, payload) == 16, "payload at 16");

struct synic_ops {
	/* Host pointer for guest-physical [gpa, gpa+len), or NULL when that is not all RAM. */
	void *(*gpa_ptr)(void *opaque, uint64_t gpa, size_t len);
	/* A fixed, edge-triggered interrupt with `vector` to VP `vp` (KVM_SIGNAL_MSI). */
	void (*inject)(void *opaque, unsigned vp, uint8_t vector);
	/* Tests only, NULL otherwise: called after a message slot was seen busy and
	 * before msg_pending is set in it, so a test can free the slot in between.
	 * Called with the VP's lock held: it must not call into the SynIC. */
	void (*test_slot_busy)(void *opaque, unsigned vp, unsigned sint);
};

struct synic_stats {
	uint64_t delivered;          /* messages written into a slot */
	uint64_t injected;           /* interrupts handed to ops->inject (messages and events) */
	uint64_t eoms;               /* EOM MSR writes */
	uint64_t pending_set;        /* times msg_pending was set in a busy slot */
	uint64_t pending_races;      /* the guest freed the slot while we were setting msg_pending */
	uint64_t events;             /* event flags newly set */
};

struct synic;

/* NULL when nvps is 0 or ops lacks gpa_ptr or inject. */
struct synic *synic_new(unsigned nvps, const struct synic_ops *ops, void *opaque);
void synic_free(struct synic *s);

/* Guest reset: every VP back to its power-on state, queued messages dropped. */
void synic_reset(struct synic *s);

/* An MSR access from the vCPU of VP `vp`. 0: handled; -ENOENT: not a SynIC MSR
 * (let the caller try others); -EINVAL: the guest gets #GP (also for a bad vp).
 * *val is written only on success. A write that enables delivery (SCONTROL,
 * SIMP, SINTx) or EOM retries this VP's queued messages at once. */
int synic_msr_read(struct synic *s, unsigned vp, uint32_t msr, uint64_t *val);
int synic_msr_write(struct synic *s, unsigned vp, uint32_t msr, uint64_t val);

/*
 * Queue a message for SINT `sint` of VP `vp` and deliver it as soon as the
 * slot is free and the SynIC, SIMP and SINT are enabled (messages of one SINT
 * arrive in order). 0 when queued or delivered; -EINVAL for a bad vp, sint,
 * message_type 0 or len above SYNIC_MESSAGE_PAYLOAD_MAX; -ENOBUFS when
 * SYNIC_QUEUE_MAX messages already wait (nothing queued).
 */
int synic_post_message(struct synic *s, unsigned vp, unsigned sint, uint32_t message_type,
		       const void *payload, size_t len);

/*
 * Set event flag `flag` in the SINT `sint` block of VP `vp`'s SIEFP page and
 * interrupt that VP when the bit was newly set. 0; -EINVAL for a bad vp, sint
 * or flag (>= SYNIC_EVENT_FLAGS); -EAGAIN when SCONTROL, SIEFP or the SINT is
 * not enabled yet; -EFAULT when the SIEFP page is not RAM (nothing done).
 */
int synic_signal_event(struct synic *s, unsigned vp, unsigned sint, unsigned flag);

/* Retry delivering VP `vp`'s queued messages (no-op for a bad vp). */
void synic_flush(struct synic *s, unsigned vp);

/* Messages waiting for SINT `sint` of `vp`, or -EINVAL. */
int synic_queued(struct synic *s, unsigned vp, unsigned sint);

void synic_get_stats(struct synic *s, struct synic_stats *out);

/*
 * Saved state (saved_state.h): every VP's SCONTROL, SIEFP, SIMP, SINTs and
 * the messages it has queued, oldest first. Save and restore with the
 * guest stopped. Restoring delivers and injects nothing: what waited for
 * the guest's EOM waits for it again. 0, or -EINVAL with error set (a VP
 * count that is not nvps, a SINT value the guest could not have written, a
 * message the SynIC would not have queued): nothing changes then.
 */
#define SYNIC_STATE_TYPE "a(tttata(yuay))"
GVariant *synic_save(struct synic *s);
int synic_restore(struct synic *s, GVariant *state, GError **error);
