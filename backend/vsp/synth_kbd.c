// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <string.h>

#include "hv/saved_state.h"
#include "hv/vmbus_ring.h"
#include "vsp/synth_kbd.h"
#include "vsp/synth_kbd_msg.h"

#define KBD_HELD_WORDS (KEYMAP_XT_EVDEV_LIMIT / 64u)
_Static_assert(KEYMAP_XT_EVDEV_LIMIT % 64u == 0, "held keys are whole words");
_Static_assert(KEYMAP_XT_EVDEV_LIMIT <= SYNTH_KBD_BATCH_MAX, "release_all fits one batch");

struct synth_kbd {
	struct vsp_device *dev;
	struct vsp_bus *bus;

	pthread_mutex_t lock;        /* from here to the pace */
	struct synth_kbd_state st;
	struct synth_kbd_stroke queue[SYNTH_KBD_QUEUE_MAX];
	size_t head;                 /* st.queued strokes from here, wrapping */
	uint64_t held[KBD_HELD_WORDS];
	bool kick_pending;           /* a drain is on its way to the bus thread */
	unsigned burst, stroke_ms;   /* the pace (synth_kbd.h) */

	/* Bus thread: the pace as a bucket of strokes, topped up over time. */
	unsigned credit;
	gint64 credit_at_us;         /* when credit last went up (or was full) */
	GSource *pace_timer;         /* a drain when the next stroke is due */
};

static bool held_test(const uint64_t *held, uint16_t code)
{
	return held[code / 64u] & (1ull << (code % 64u));
}

static void held_set(uint64_t *held, uint16_t code, bool on)
{
	if (on)
		held[code / 64u] |= 1ull << (code % 64u);
	else
		held[code / 64u] &= ~(1ull << (code % 64u));
}

static unsigned held_count(const uint64_t *held)
{
	unsigned n = 0;
	for (unsigned i = 0; i < KBD_HELD_WORDS; i++)
		n += (unsigned)__builtin_popcountll(held[i]);
	return n;
}

static void kbd_drain(struct synth_kbd *k);

static gboolean kbd_on_pace(gpointer data)
{
	struct synth_kbd *k = data;
	g_clear_pointer(&k->pace_timer, g_source_unref);
	kbd_drain(k);
	return G_SOURCE_REMOVE;
}

static void kbd_pace_stop(struct synth_kbd *k)
{
	if (k->pace_timer) {
		g_source_destroy(k->pace_timer);
		g_clear_pointer(&k->pace_timer, g_source_unref);
	}
}

/* Bus thread: may one more stroke go now? If not, a timer drains when it may. */
static bool kbd_take_credit(struct synth_kbd *k, unsigned burst, unsigned stroke_ms)
{
	if (burst == 0)
		return true;
	gint64 now = g_get_monotonic_time(), step = (gint64)stroke_ms * 1000;
	if (k->credit > burst)
		k->credit = burst;
	if (k->credit == burst) {
		k->credit_at_us = now;   /* a full bucket does not save up more */
	} else {
		gint64 gained = step > 0 ? (now - k->credit_at_us) / step : burst;
		if (gained >= (gint64)(burst - k->credit)) {
			k->credit = burst;
			k->credit_at_us = now;
		} else if (gained > 0) {
			k->credit += (unsigned)gained;
			k->credit_at_us += gained * step;
		}
	}
	if (k->credit > 0) {
		k->credit--;
		return true;
	}
	if (!k->pace_timer) {
		gint64 wait_us = step - (now - k->credit_at_us);
		guint ms = wait_us > 0 ? (guint)((wait_us + 999) / 1000) : 1;
		k->pace_timer = g_timeout_source_new(ms);
		g_source_set_callback(k->pace_timer, kbd_on_pace, k, NULL);
		g_source_attach(k->pace_timer, vsp_bus_context(k->bus));
	}
	return false;
}

/* Bus thread: write queued strokes until the queue, the pace or the ring
 * runs out. */
static void kbd_drain(struct synth_kbd *k)
{
	for (;;) {
		pthread_mutex_lock(&k->lock);
		if (k->st.phase != SYNTH_KBD_READY || k->st.queued == 0) {
			pthread_mutex_unlock(&k->lock);
			return;
		}
		/* Only this thread takes from the queue: the head stays put. */
		struct synth_kbd_stroke s = k->queue[k->head];
		unsigned burst = k->burst, stroke_ms = k->stroke_ms;
		pthread_mutex_unlock(&k->lock);
		if (!kbd_take_credit(k, burst, stroke_ms))
			return;

		uint8_t msg[sizeof(struct synth_kbd_wire_keystroke)];
		long n = synth_kbd_msg_build_event(msg, sizeof(msg), &s);
		int r = vsp_device_send(k->dev, VMBUS_PKT_DATA_INBAND, 0, 0, msg, (size_t)n);
		if (r == -EAGAIN) {
			k->credit++;     /* not spent: the writable callback comes back here */
			return;
		}

		pthread_mutex_lock(&k->lock);
		k->head = (k->head + 1) % SYNTH_KBD_QUEUE_MAX;
		k->st.queued--;
		if (r == 0)
			k->st.events++;
		else
			k->st.dropped++;
		pthread_mutex_unlock(&k->lock);
	}
}

static gboolean kbd_on_kick(gpointer data)
{
	struct synth_kbd *k = data;
	pthread_mutex_lock(&k->lock);
	k->kick_pending = false;
	pthread_mutex_unlock(&k->lock);
	if (vsp_device_is_open(k->dev))
		kbd_drain(k);
	return G_SOURCE_REMOVE;
}

/* Under lock: the strokes for changes, all or none; *kick when the bus
 * thread must be told. */
static int kbd_queue_locked(struct synth_kbd *k, const struct synth_kbd_key_change *changes, size_t n,
			    bool *kick)
{
	struct synth_kbd_stroke strokes[SYNTH_KBD_BATCH_MAX * SYNTH_KBD_STROKES_MAX];
	uint64_t held[KBD_HELD_WORDS];
	size_t ns = 0;

	if (k->st.phase != SYNTH_KBD_READY)
		return -ENOTCONN;
	memcpy(held, k->held, sizeof(held));
	for (size_t i = 0; i < n; i++) {
		const struct keymap_xt_key *key = keymap_xt_find(changes[i].evdev);
		bool press_only = key->flags & KEYMAP_XT_PRESS_ONLY;
		if (!changes[i].down && !held_test(held, key->evdev))
			continue;
		ns += synth_kbd_strokes(key, changes[i].down, strokes + ns);
		if (!press_only)
			held_set(held, key->evdev, changes[i].down);
	}
	if (ns > SYNTH_KBD_QUEUE_MAX - k->st.queued)
		return -ENOBUFS;
	for (size_t i = 0; i < ns; i++)
		k->queue[(k->head + k->st.queued + i) % SYNTH_KBD_QUEUE_MAX] = strokes[i];
	k->st.queued += (unsigned)ns;
	memcpy(k->held, held, sizeof(held));
	k->st.held = held_count(held);
	k->st.keys += n;
	*kick = ns > 0 && !k->kick_pending;
	if (*kick)
		k->kick_pending = true;
	return 0;
}

int synth_kbd_send(struct synth_kbd *k, const struct synth_kbd_key_change *changes, size_t n)
{
	if (n == 0 || n > SYNTH_KBD_BATCH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!keymap_xt_find(changes[i].evdev))
			return -EINVAL;
	bool kick = false;
	pthread_mutex_lock(&k->lock);
	int r = kbd_queue_locked(k, changes, n, &kick);
	pthread_mutex_unlock(&k->lock);
	if (kick)
		vsp_bus_invoke(k->bus, kbd_on_kick, k);
	return r;
}

int synth_kbd_key(struct synth_kbd *k, uint16_t evdev, bool down)
{
	struct synth_kbd_key_change c = { evdev, down };
	return synth_kbd_send(k, &c, 1);
}

int synth_kbd_ctrl_alt_del(struct synth_kbd *k)
{
	static const struct synth_kbd_key_change cad[] = {
		{ KEY_LEFTCTRL, true }, { KEY_LEFTALT, true }, { KEY_DELETE, true },
		{ KEY_DELETE, false }, { KEY_LEFTALT, false }, { KEY_LEFTCTRL, false },
	};
	return synth_kbd_send(k, cad, sizeof(cad) / sizeof(cad[0]));
}

int synth_kbd_release_all(struct synth_kbd *k)
{
	struct synth_kbd_key_change up[KEYMAP_XT_EVDEV_LIMIT];
	size_t n = 0;
	bool kick = false;
	int r = 0;
	pthread_mutex_lock(&k->lock);
	for (uint16_t code = 0; code < KEYMAP_XT_EVDEV_LIMIT; code++)
		if (held_test(k->held, code))
			up[n++] = (struct synth_kbd_key_change){ code, false };
	if (n > 0)
		r = kbd_queue_locked(k, up, n, &kick);
	pthread_mutex_unlock(&k->lock);
	if (kick)
		vsp_bus_invoke(k->bus, kbd_on_kick, k);
	return r < 0 ? r : (int)n;
}

static void kbd_count_bad(struct synth_kbd *k)
{
	pthread_mutex_lock(&k->lock);
	k->st.bad++;
	pthread_mutex_unlock(&k->lock);
}

static void kbd_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct synth_kbd *k = vsp_device_priv(dev);
	struct synth_kbd_guest_msg m;
	if (pkt->type != VMBUS_PKT_DATA_INBAND || synth_kbd_msg_parse(pkt->data, pkt->len, &m) < 0) {
		kbd_count_bad(k);
		return;
	}
	if (m.type == SYNTH_KBD_MSG_LED_INDICATORS) {
		pthread_mutex_lock(&k->lock);
		k->st.leds_known = true;
		k->st.leds = m.led_flags;
		pthread_mutex_unlock(&k->lock);
		return;
	}
	bool ok = m.version == SYNTH_KBD_VERSION_1_0;
	uint8_t msg[sizeof(struct synth_kbd_wire_protocol_response)];
	long n = synth_kbd_msg_build_response(msg, sizeof(msg), ok);
	/* Ready before the answer is out: the host may queue keys as soon as
	 * the guest can see it. */
	pthread_mutex_lock(&k->lock);
	enum synth_kbd_phase was = k->st.phase;
	k->st.version = m.version;
	k->st.phase = ok ? SYNTH_KBD_READY : SYNTH_KBD_REFUSED;
	pthread_mutex_unlock(&k->lock);
	/* Linux waits for an INBAND answer; the transaction id is echoed
	 * although it reads none. */
	int r = vsp_device_send(dev, VMBUS_PKT_DATA_INBAND, 0, pkt->trans_id, msg, (size_t)n);
	pthread_mutex_lock(&k->lock);
	if (r == 0) {
		k->st.negotiations++;
	} else {
		/* A ring the guest filled before asking: its problem, counted;
		 * it may ask again. */
		k->st.bad++;
		k->st.phase = was;
	}
	pthread_mutex_unlock(&k->lock);
	if (r == 0 && ok)
		kbd_drain(k);
}

static int kbd_open(struct vsp_device *dev)
{
	struct synth_kbd *k = vsp_device_priv(dev);
	pthread_mutex_lock(&k->lock);
	k->st.phase = SYNTH_KBD_NEGOTIATING;
	k->credit = k->burst;
	pthread_mutex_unlock(&k->lock);
	k->credit_at_us = g_get_monotonic_time();
	return 0;
}

static void kbd_writable(struct vsp_device *dev)
{
	kbd_drain(vsp_device_priv(dev));
}

static void kbd_close(struct vsp_device *dev)
{
	struct synth_kbd *k = vsp_device_priv(dev);
	kbd_pace_stop(k);
	/* The guest's keyboard is gone, and with it every key it had down. */
	pthread_mutex_lock(&k->lock);
	k->st.dropped += k->st.queued;
	k->st.queued = 0;
	k->head = 0;
	memset(k->held, 0, sizeof(k->held));
	k->st.held = 0;
	k->st.phase = SYNTH_KBD_CLOSED;
	pthread_mutex_unlock(&k->lock);
}


/* ---- saved state ---- */

#define KBD_COUNTERS 5u
/* phase, version, LEDs, strokes waiting (oldest first), keys held, counters */
#define KBD_STATE_TYPE   "(uubqa(yu)atat)"
#define KBD_STATE_FORMAT "(uubq@a(yu)@at@at)"
#define KBD_INFO_ALL (SYNTH_KBD_INFO_UNICODE | SYNTH_KBD_INFO_BREAK | SYNTH_KBD_INFO_E0 | SYNTH_KBD_INFO_E1)

static GVariant *kbd_save(struct vsp_device *dev)
{
	struct synth_kbd *k = vsp_device_priv(dev);
	pthread_mutex_lock(&k->lock);
	GVariantBuilder q;
	g_variant_builder_init(&q, G_VARIANT_TYPE("a(yu)"));
	for (unsigned i = 0; i < k->st.queued; i++) {
		const struct synth_kbd_stroke *s = &k->queue[(k->head + i) % SYNTH_KBD_QUEUE_MAX];
		g_variant_builder_add(&q, "(yu)", s->make_code, s->info);
	}
	const uint64_t counters[KBD_COUNTERS] = { k->st.keys, k->st.events, k->st.dropped, k->st.bad,
						  k->st.negotiations };
	GVariant *v = g_variant_new(KBD_STATE_FORMAT, (guint32)k->st.phase, k->st.version, k->st.leds_known,
				    k->st.leds, g_variant_builder_end(&q),
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, k->held, KBD_HELD_WORDS,
							      sizeof(uint64_t)),
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, counters, KBD_COUNTERS,
							      sizeof(uint64_t)));
	pthread_mutex_unlock(&k->lock);
	return v;
}

static int kbd_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct synth_kbd *k = vsp_device_priv(dev);
	if (saved_state_check_type(v, KBD_STATE_TYPE, "keyboard", error) < 0)
		return -EINVAL;
	guint32 phase, version;
	gboolean leds_known;
	guint16 leds;
	g_autoptr(GVariant) q = NULL, held = NULL, counters = NULL;
	g_variant_get(v, KBD_STATE_FORMAT, &phase, &version, &leds_known, &leds, &q, &held, &counters);
	bool open = vsp_device_is_open(dev);
	gsize nq = g_variant_n_children(q), nh, nc;
	const uint64_t *h = g_variant_get_fixed_array(held, &nh, sizeof(uint64_t));
	const uint64_t *c = g_variant_get_fixed_array(counters, &nc, sizeof(uint64_t));
	if (phase > SYNTH_KBD_REFUSED || open != (phase != SYNTH_KBD_CLOSED))
		return saved_state_fail(error, "keyboard: phase %u on %s channel", phase, open ? "an open" : "a closed");
	if (nq > SYNTH_KBD_QUEUE_MAX || (nq && phase != SYNTH_KBD_READY))
		return saved_state_fail(error, "keyboard: %zu strokes waiting in phase %s", (size_t)nq,
					synth_kbd_phase_name(phase));
	if (nh != KBD_HELD_WORDS || nc != KBD_COUNTERS)
		return saved_state_fail(error, "keyboard: %zu words of held keys, %zu counters", (size_t)nh, (size_t)nc);
	/* Only keys of the table can be held, and only by a keyboard the guest has. */
	for (unsigned code = 0; code < KEYMAP_XT_EVDEV_LIMIT; code++)
		if (held_test(h, (uint16_t)code) && (phase != SYNTH_KBD_READY || !keymap_xt_find((uint16_t)code) ||
						     (keymap_xt_find((uint16_t)code)->flags & KEYMAP_XT_PRESS_ONLY)))
			return saved_state_fail(error, "keyboard: key %u held", code);
	struct synth_kbd_stroke strokes[SYNTH_KBD_QUEUE_MAX];
	for (gsize i = 0; i < nq; i++) {
		guint8 make;
		guint32 info;
		g_variant_get_child(q, i, "(yu)", &make, &info);
		if (make > 0x7f || (info & ~KBD_INFO_ALL))
			return saved_state_fail(error, "keyboard: a waiting stroke %#x (%#x)", make, info);
		strokes[i] = (struct synth_kbd_stroke){ make, info };
	}
	pthread_mutex_lock(&k->lock);
	k->st.phase = (enum synth_kbd_phase)phase;
	k->st.version = version;
	k->st.leds_known = leds_known;
	k->st.leds = leds;
	memcpy(k->queue, strokes, nq * sizeof(strokes[0]));
	k->head = 0;
	k->st.queued = (unsigned)nq;
	memcpy(k->held, h, sizeof(k->held));
	k->st.held = held_count(k->held);
	k->st.keys = c[0];
	k->st.events = c[1];
	k->st.dropped = c[2];
	k->st.bad = c[3];
	k->st.negotiations = c[4];
	k->credit = k->burst;
	bool kick = nq > 0 && !k->kick_pending;
	if (kick)
		k->kick_pending = true;
	pthread_mutex_unlock(&k->lock);
	k->credit_at_us = g_get_monotonic_time();
	/* What waits goes out once the bus runs again. */
	if (kick)
		vsp_bus_invoke(k->bus, kbd_on_kick, k);
	return 0;
}

static const struct vsp_device_class synth_kbd_class = {
	.name = "keyboard",
	.type = SYNTH_KBD_CLASS,
	.max_packet = sizeof(struct vmbus_packet_desc) + SYNTH_KBD_MSG_MAX,
	.open = kbd_open,
	.packet = kbd_packet,
	.writable = kbd_writable,
	.close = kbd_close,
	.save = kbd_save,
	.restore = kbd_restore,
};

struct synth_kbd *synth_kbd_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct synth_kbd *k = g_new0(struct synth_kbd, 1);
	k->bus = bus;
	k->burst = SYNTH_KBD_BURST;
	k->stroke_ms = SYNTH_KBD_STROKE_MS;
	pthread_mutex_init(&k->lock, NULL);
	int r = vsp_bus_add(bus, &synth_kbd_class, instance, k, &k->dev);
	if (r < 0) {
		synth_kbd_free(k);
		errno = -r;
		return NULL;
	}
	return k;
}

void synth_kbd_free(struct synth_kbd *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	g_free(k);
}

static gboolean kbd_on_pace_change(gpointer data)
{
	struct synth_kbd *k = data;
	kbd_pace_stop(k);
	pthread_mutex_lock(&k->lock);
	k->credit = k->burst;
	pthread_mutex_unlock(&k->lock);
	k->credit_at_us = g_get_monotonic_time();
	if (vsp_device_is_open(k->dev))
		kbd_drain(k);
	return G_SOURCE_REMOVE;
}

void synth_kbd_set_pace(struct synth_kbd *k, unsigned burst, unsigned stroke_ms)
{
	pthread_mutex_lock(&k->lock);
	k->burst = burst;
	k->stroke_ms = stroke_ms;
	pthread_mutex_unlock(&k->lock);
	vsp_bus_invoke(k->bus, kbd_on_pace_change, k);
}

void synth_kbd_get_state(struct synth_kbd *k, struct synth_kbd_state *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->st;
	pthread_mutex_unlock(&k->lock);
}

const char *synth_kbd_phase_name(enum synth_kbd_phase p)
{
	switch (p) {
	case SYNTH_KBD_CLOSED: return "closed";
	case SYNTH_KBD_NEGOTIATING: return "negotiating";
	case SYNTH_KBD_READY: return "ready";
	case SYNTH_KBD_REFUSED: return "refused";
	}
	return "unknown";
}
