// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "hv/hyperv_tlfs.h"
#include "hv/saved_state.h"
#include "hv/synic.h"

_Static_assert(SYNIC_MSR_SCONTROL == HV_MSR_SCONTROL && SYNIC_MSR_SINT15 == HV_MSR_SINT15,
	       "the SynIC MSR range is the one hyperv.c routes here");
_Static_assert(SYNIC_MESSAGE_PAYLOAD_MAX == HV_MESSAGE_PAYLOAD_MAX, "one payload limit");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the slot header word is little-endian");

/* The first 8 bytes of a slot (type, size, flags, reserved) as one word, so
 * that msg_pending can be set atomically with respect to message_type. */
#define SYNIC_HDR_TYPE_MASK   0xffffffffull
#define SYNIC_HDR_SIZE_SHIFT  32
#define SYNIC_HDR_PENDING     ((uint64_t)SYNIC_MSG_FLAG_PENDING << 40)
/* A guest that keeps rewriting a busy slot's header makes the CAS fail; give
 * up after this many tries and leave the message queued (the next EOM, post
 * or flush tries again). Linux changes the header once per message. */
#define SYNIC_CAS_TRIES       16u

struct synic_queued {
	uint32_t type;
	uint8_t size;
	uint8_t payload[];
};

struct synic_vp {
	pthread_mutex_t lock;          /* pthread rather than GMutex: ThreadSanitizer sees it */
	uint64_t scontrol, siefp, simp;
	uint64_t sint[SYNIC_SINT_COUNT];
	GQueue queue[SYNIC_SINT_COUNT];   /* of struct synic_queued, oldest first */
};

struct synic {
	const struct synic_ops *ops;
	void *opaque;
	unsigned nvps;
	struct synic_vp *vps;
	struct synic_stats stats;         /* updated with relaxed atomics */
};

/* Interrupts decided under a VP's lock, injected after it is released. */
struct synic_kicks {
	uint8_t vector[SYNIC_SINT_COUNT];
	unsigned count[SYNIC_SINT_COUNT];
};

enum synic_slot_result {
	SYNIC_SLOT_DELIVERED,
	SYNIC_SLOT_BUSY,        /* msg_pending is set (or the guest is hostile): wait for EOM */
	SYNIC_SLOT_NO_PAGE,     /* the SIMP page is not RAM */
};

#define synic_count(s, field) __atomic_fetch_add(&(s)->stats.field, 1, __ATOMIC_RELAXED)

static void synic_vp_power_on(struct synic_vp *v)
{
	v->scontrol = 0;
	v->siefp = 0;
	v->simp = 0;
	for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++) {
		v->sint[i] = SYNIC_SINT_MASKED;
		g_queue_clear_full(&v->queue[i], g_free);
	}
}

struct synic *synic_new(unsigned nvps, const struct synic_ops *ops, void *opaque)
{
	if (nvps == 0 || !ops || !ops->gpa_ptr || !ops->inject)
		return NULL;
	struct synic *s = g_new0(struct synic, 1);
	s->ops = ops;
	s->opaque = opaque;
	s->nvps = nvps;
	s->vps = g_new0(struct synic_vp, nvps);
	for (unsigned i = 0; i < nvps; i++) {
		pthread_mutex_init(&s->vps[i].lock, NULL);
		for (unsigned j = 0; j < SYNIC_SINT_COUNT; j++)
			g_queue_init(&s->vps[i].queue[j]);
		synic_vp_power_on(&s->vps[i]);
	}
	return s;
}

void synic_free(struct synic *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nvps; i++) {
		synic_vp_power_on(&s->vps[i]);
		pthread_mutex_destroy(&s->vps[i].lock);
	}
	g_free(s->vps);
	g_free(s);
}

void synic_reset(struct synic *s)
{
	for (unsigned i = 0; i < s->nvps; i++) {
		pthread_mutex_lock(&s->vps[i].lock);
		synic_vp_power_on(&s->vps[i]);
		pthread_mutex_unlock(&s->vps[i].lock);
	}
}

/* Host view of the 256-byte SINT block of a SIMP/SIEFP page, or NULL. The
 * block is accessed in aligned 64-bit words, so a misaligned mapping is
 * treated as no RAM (guest pages are page-aligned in any real mapping). */
static uint64_t *synic_block(struct synic *s, uint64_t page_msr, unsigned sint)
{
	uint64_t gpa = (page_msr & SYNIC_PAGE_GPA_MASK) + (uint64_t)sint * SYNIC_MESSAGE_SIZE;
	void *p = s->ops->gpa_ptr(s->opaque, gpa, SYNIC_MESSAGE_SIZE);
	if (!p || ((uintptr_t)p & (sizeof(uint64_t) - 1)))
		return NULL;
	return p;
}

static bool synic_sint_ready(const struct synic_vp *v, unsigned sint)
{
	return (v->scontrol & SYNIC_SCONTROL_ENABLE) && !(v->sint[sint] & SYNIC_SINT_MASKED);
}

/*
 * One attempt at putting m into the slot. The guest frees a slot by
 * compare-and-swapping message_type to 0 and only then reads msg_pending to
 * decide whether to write EOM; so msg_pending is set with a CAS that requires
 * the type to be still non-zero, and a CAS that fails because the slot became
 * free means "deliver now".
 */
static enum synic_slot_result synic_try_slot(struct synic *s, unsigned vp, const struct synic_vp *v,
					     unsigned sint, const struct synic_queued *m)
{
	uint64_t *hdr = synic_block(s, v->simp, sint);
	if (!hdr)
		return SYNIC_SLOT_NO_PAGE;
	uint64_t old = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
	for (unsigned tries = 0; old & SYNIC_HDR_TYPE_MASK; tries++) {
		if ((old & SYNIC_HDR_PENDING) || tries == SYNIC_CAS_TRIES)
			return SYNIC_SLOT_BUSY;
		if (tries == 0 && s->ops->test_slot_busy)
			s->ops->test_slot_busy(s->opaque, vp, sint);
		if (__atomic_compare_exchange_n(hdr, &old, old | SYNIC_HDR_PENDING, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			synic_count(s, pending_set);
			return SYNIC_SLOT_BUSY;
		}
		/* old now holds what the guest left there. */
		if (!(old & SYNIC_HDR_TYPE_MASK))
			synic_count(s, pending_races);
	}
	/* Free: payload and sender first, then size, flags 0 and type in one release store. */
	uint8_t *slot = (uint8_t *)hdr;
	memcpy(slot + offsetof(struct synic_message, payload), m->payload, m->size);
	__atomic_store_n(&hdr[1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(hdr, m->type | (uint64_t)m->size << SYNIC_HDR_SIZE_SHIFT, __ATOMIC_RELEASE);
	return SYNIC_SLOT_DELIVERED;
}

/* Called with v->lock held. Delivers as long as the guest frees the slot; each
 * pass pops one message, so this ends after at most SYNIC_QUEUE_MAX passes. */
static void synic_deliver_sint(struct synic *s, unsigned vp, struct synic_vp *v, unsigned sint,
			       struct synic_kicks *k)
{
	if (!synic_sint_ready(v, sint) || !(v->simp & SYNIC_PAGE_ENABLE))
		return;
	while (!g_queue_is_empty(&v->queue[sint])) {
		struct synic_queued *m = g_queue_peek_head(&v->queue[sint]);
		if (synic_try_slot(s, vp, v, sint, m) != SYNIC_SLOT_DELIVERED)
			break;
		g_free(g_queue_pop_head(&v->queue[sint]));
		synic_count(s, delivered);
		k->vector[sint] = (uint8_t)(v->sint[sint] & SYNIC_SINT_VECTOR_MASK);
		k->count[sint]++;
	}
}

static void synic_deliver_all(struct synic *s, unsigned vp, struct synic_vp *v, struct synic_kicks *k)
{
	for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++)
		synic_deliver_sint(s, vp, v, i, k);
}

/* Without any lock: one interrupt per delivered message. */
static void synic_kick(struct synic *s, unsigned vp, const struct synic_kicks *k)
{
	for (unsigned i = 0; i < SYNIC_SINT_COUNT; i++) {
		for (unsigned n = 0; n < k->count[i]; n++) {
			synic_count(s, injected);
			s->ops->inject(s->opaque, vp, k->vector[i]);
		}
	}
}

static bool synic_msr_is_ours(uint32_t msr)
{
	return (msr >= SYNIC_MSR_SCONTROL && msr <= SYNIC_MSR_EOM) ||
	       (msr >= SYNIC_MSR_SINT0 && msr <= SYNIC_MSR_SINT15);
}

int synic_msr_read(struct synic *s, unsigned vp, uint32_t msr, uint64_t *val)
{
	if (!synic_msr_is_ours(msr))
		return -ENOENT;
	if (vp >= s->nvps)
		return -EINVAL;
	struct synic_vp *v = &s->vps[vp];
	uint64_t r;
	pthread_mutex_lock(&v->lock);
	switch (msr) {
	case SYNIC_MSR_SCONTROL: r = v->scontrol; break;
	case SYNIC_MSR_SVERSION: r = SYNIC_SVERSION; break;
	case SYNIC_MSR_SIEFP: r = v->siefp; break;
	case SYNIC_MSR_SIMP: r = v->simp; break;
	case SYNIC_MSR_EOM: r = 0; break;
	default: r = v->sint[msr - SYNIC_MSR_SINT0]; break;
	}
	pthread_mutex_unlock(&v->lock);
	*val = r;
	return 0;
}

int synic_msr_write(struct synic *s, unsigned vp, uint32_t msr, uint64_t val)
{
	if (!synic_msr_is_ours(msr))
		return -ENOENT;
	if (vp >= s->nvps)
		return -EINVAL;
	if (msr == SYNIC_MSR_SVERSION)
		return -EINVAL;
	if (msr >= SYNIC_MSR_SINT0 && !(val & SYNIC_SINT_MASKED) &&
	    (val & SYNIC_SINT_VECTOR_MASK) < SYNIC_SINT_VECTOR_MIN)
		return -EINVAL;

	struct synic_vp *v = &s->vps[vp];
	struct synic_kicks k = { 0 };
	pthread_mutex_lock(&v->lock);
	switch (msr) {
	case SYNIC_MSR_SCONTROL: v->scontrol = val; break;
	case SYNIC_MSR_SIEFP: v->siefp = val; break;
	case SYNIC_MSR_SIMP: v->simp = val; break;
	case SYNIC_MSR_EOM: synic_count(s, eoms); break;
	default: v->sint[msr - SYNIC_MSR_SINT0] = val; break;
	}
	if (msr != SYNIC_MSR_SIEFP)
		synic_deliver_all(s, vp, v, &k);
	pthread_mutex_unlock(&v->lock);
	synic_kick(s, vp, &k);
	return 0;
}

int synic_post_message(struct synic *s, unsigned vp, unsigned sint, uint32_t message_type,
		       const void *payload, size_t len)
{
	if (vp >= s->nvps || sint >= SYNIC_SINT_COUNT || message_type == 0 ||
	    len > SYNIC_MESSAGE_PAYLOAD_MAX || (len && !payload))
		return -EINVAL;
	struct synic_queued *m = g_malloc(sizeof(*m) + len);
	m->type = message_type;
	m->size = (uint8_t)len;
	if (len)
		memcpy(m->payload, payload, len);

	struct synic_vp *v = &s->vps[vp];
	struct synic_kicks k = { 0 };
	pthread_mutex_lock(&v->lock);
	if (v->queue[sint].length >= SYNIC_QUEUE_MAX) {
		pthread_mutex_unlock(&v->lock);
		g_free(m);
		return -ENOBUFS;
	}
	g_queue_push_tail(&v->queue[sint], m);
	synic_deliver_sint(s, vp, v, sint, &k);
	pthread_mutex_unlock(&v->lock);
	synic_kick(s, vp, &k);
	return 0;
}

int synic_signal_event(struct synic *s, unsigned vp, unsigned sint, unsigned flag)
{
	if (vp >= s->nvps || sint >= SYNIC_SINT_COUNT || flag >= SYNIC_EVENT_FLAGS)
		return -EINVAL;
	struct synic_vp *v = &s->vps[vp];
	struct synic_kicks k = { 0 };
	int r = 0;
	pthread_mutex_lock(&v->lock);
	if (!synic_sint_ready(v, sint) || !(v->siefp & SYNIC_PAGE_ENABLE)) {
		r = -EAGAIN;
	} else {
		uint64_t *block = synic_block(s, v->siefp, sint);
		uint64_t bit = 1ull << (flag % 64);
		if (!block)
			r = -EFAULT;
		else if (!(__atomic_fetch_or(&block[flag / 64], bit, __ATOMIC_SEQ_CST) & bit)) {
			synic_count(s, events);
			k.vector[sint] = (uint8_t)(v->sint[sint] & SYNIC_SINT_VECTOR_MASK);
			k.count[sint] = 1;
		}
	}
	pthread_mutex_unlock(&v->lock);
	synic_kick(s, vp, &k);
	return r;
}

void synic_flush(struct synic *s, unsigned vp)
{
	if (vp >= s->nvps)
		return;
	struct synic_vp *v = &s->vps[vp];
	struct synic_kicks k = { 0 };
	pthread_mutex_lock(&v->lock);
	synic_deliver_all(s, vp, v, &k);
	pthread_mutex_unlock(&v->lock);
	synic_kick(s, vp, &k);
}

int synic_queued(struct synic *s, unsigned vp, unsigned sint)
{
	if (vp >= s->nvps || sint >= SYNIC_SINT_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&s->vps[vp].lock);
	int n = (int)s->vps[vp].queue[sint].length;
	pthread_mutex_unlock(&s->vps[vp].lock);
	return n;
}

void synic_get_stats(struct synic *s, struct synic_stats *out)
{
	out->delivered = __atomic_load_n(&s->stats.delivered, __ATOMIC_RELAXED);
	out->injected = __atomic_load_n(&s->stats.injected, __ATOMIC_RELAXED);
	out->eoms = __atomic_load_n(&s->stats.eoms, __ATOMIC_RELAXED);
	out->pending_set = __atomic_load_n(&s->stats.pending_set, __ATOMIC_RELAXED);
	out->pending_races = __atomic_load_n(&s->stats.pending_races, __ATOMIC_RELAXED);
	out->events = __atomic_load_n(&s->stats.events, __ATOMIC_RELAXED);
}

/* ---- saved state ---- */

GVariant *synic_save(struct synic *s)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE(SYNIC_STATE_TYPE));
	for (unsigned i = 0; i < s->nvps; i++) {
		struct synic_vp *v = &s->vps[i];
		pthread_mutex_lock(&v->lock);
		GVariantBuilder q;
		g_variant_builder_init(&q, G_VARIANT_TYPE("a(yuay)"));
		for (unsigned sint = 0; sint < SYNIC_SINT_COUNT; sint++)
			for (GList *l = v->queue[sint].head; l; l = l->next) {
				const struct synic_queued *m = l->data;
				g_variant_builder_add(&q, "(yu@ay)", (guint8)sint, m->type,
						      saved_state_blob(m->payload, m->size));
			}
		GVariant *sints = g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, v->sint, SYNIC_SINT_COUNT,
							    sizeof(uint64_t));
		g_variant_builder_add(&b, "(ttt@at@a(yuay))", v->scontrol, v->siefp, v->simp, sints,
				      g_variant_builder_end(&q));
		pthread_mutex_unlock(&v->lock);
	}
	return g_variant_builder_end(&b);
}

int synic_restore(struct synic *s, GVariant *state, GError **error)
{
	if (saved_state_check_type(state, SYNIC_STATE_TYPE, "synic", error) < 0)
		return -EINVAL;
	if (g_variant_n_children(state) != s->nvps)
		return saved_state_fail(error, "synic: %zu VPs saved, this machine has %u",
					(size_t)g_variant_n_children(state), s->nvps);
	/* Everything checked first: a refused state changes nothing. */
	for (unsigned i = 0; i < s->nvps; i++) {
		g_autoptr(GVariant) sints = NULL, q = NULL;
		g_variant_get_child(state, i, "(ttt@at@a(yuay))", NULL, NULL, NULL, &sints, &q);
		gsize n;
		const uint64_t *sv = g_variant_get_fixed_array(sints, &n, sizeof(uint64_t));
		if (n != SYNIC_SINT_COUNT)
			return saved_state_fail(error, "synic: VP %u has %zu SINTs, not %u", i, (size_t)n, SYNIC_SINT_COUNT);
		for (unsigned k = 0; k < SYNIC_SINT_COUNT; k++)
			if (!(sv[k] & SYNIC_SINT_MASKED) && (sv[k] & SYNIC_SINT_VECTOR_MASK) < SYNIC_SINT_VECTOR_MIN)
				return saved_state_fail(error, "synic: VP %u SINT%u: vector %u", i, k,
							(unsigned)(sv[k] & SYNIC_SINT_VECTOR_MASK));
		unsigned per_sint[SYNIC_SINT_COUNT] = { 0 };
		gsize nq = g_variant_n_children(q);
		for (gsize j = 0; j < nq; j++) {
			guint8 sint;
			guint32 type;
			g_autoptr(GVariant) payload = NULL;
			g_variant_get_child(q, j, "(yu@ay)", &sint, &type, &payload);
			size_t len;
			(void)saved_state_blob_peek(payload, &len);
			if (sint >= SYNIC_SINT_COUNT || type == 0 || len > SYNIC_MESSAGE_PAYLOAD_MAX)
				return saved_state_fail(error, "synic: VP %u: a queued message (SINT %u, type %u, %zu bytes)",
							i, sint, type, len);
			if (++per_sint[sint] > SYNIC_QUEUE_MAX)
				return saved_state_fail(error, "synic: VP %u SINT%u: more than %u queued messages", i, sint,
							SYNIC_QUEUE_MAX);
		}
	}
	for (unsigned i = 0; i < s->nvps; i++) {
		struct synic_vp *v = &s->vps[i];
		g_autoptr(GVariant) sints = NULL, q = NULL;
		guint64 scontrol, siefp, simp;
		g_variant_get_child(state, i, "(ttt@at@a(yuay))", &scontrol, &siefp, &simp, &sints, &q);
		gsize n;
		const uint64_t *sv = g_variant_get_fixed_array(sints, &n, sizeof(uint64_t));
		pthread_mutex_lock(&v->lock);
		synic_vp_power_on(v);
		v->scontrol = scontrol;
		v->siefp = siefp;
		v->simp = simp;
		memcpy(v->sint, sv, sizeof(v->sint));
		gsize nq = g_variant_n_children(q);
		for (gsize j = 0; j < nq; j++) {
			guint8 sint;
			guint32 type;
			g_autoptr(GVariant) payload = NULL;
			g_variant_get_child(q, j, "(yu@ay)", &sint, &type, &payload);
			size_t len;
			const uint8_t *p = saved_state_blob_peek(payload, &len);
			struct synic_queued *m = g_malloc(sizeof(*m) + len);
			m->type = type;
			m->size = (uint8_t)len;
			memcpy(m->payload, p, len);
			g_queue_push_tail(&v->queue[sint], m);
		}
		pthread_mutex_unlock(&v->lock);
	}
	return 0;
}
