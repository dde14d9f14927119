// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hv/saved_state.h"
#include "hv/vmbus_ring.h"
#include "vsp/input.h"
#include "vsp/synth_mouse.h"
#include "vsp/synth_mouse_msg.h"

/* The device info message: headers, attributes, HID descriptor and a
 * report descriptor of at most this many bytes. */
#define MOUSE_DEVICE_INFO_MAX 256u
/* Reports one call may become: enough for SYNTH_MOUSE_WHEEL_MAX steps. */
#define MOUSE_SPLIT_MAX ((SYNTH_MOUSE_WHEEL_MAX + SYNTH_MOUSE_WHEEL_REPORT_MAX - 1) / SYNTH_MOUSE_WHEEL_REPORT_MAX)
_Static_assert(MOUSE_SPLIT_MAX <= SYNTH_MOUSE_QUEUE_MAX, "one call fits the queue");

struct synth_mouse {
	struct vsp_device *dev;
	struct vsp_bus *bus;

	pthread_mutex_t lock;        /* everything below */
	struct synth_mouse_state st;
	struct synth_mouse_report queue[SYNTH_MOUSE_QUEUE_MAX];
	size_t head;
	bool kick_pending;
};

static void mouse_drain(struct synth_mouse *m)
{
	for (;;) {
		pthread_mutex_lock(&m->lock);
		if (m->st.phase != SYNTH_MOUSE_READY || m->st.queued == 0) {
			pthread_mutex_unlock(&m->lock);
			return;
		}
		/* The host only folds moves into a tail that is not the head:
		 * this copy stays what the queue holds. */
		struct synth_mouse_report r = m->queue[m->head];
		pthread_mutex_unlock(&m->lock);

		uint8_t msg[sizeof(struct synth_mouse_wire_pipe_hdr) + sizeof(struct synth_mouse_wire_hdr) +
			    SYNTH_MOUSE_REPORT_SIZE];
		long n = synth_mouse_msg_build_input(msg, sizeof(msg), &r);
		int e = vsp_device_send(m->dev, VMBUS_PKT_DATA_INBAND, 0, 0, msg, (size_t)n);
		if (e == -EAGAIN)
			return;

		pthread_mutex_lock(&m->lock);
		m->head = (m->head + 1) % SYNTH_MOUSE_QUEUE_MAX;
		m->st.queued--;
		if (e == 0)
			m->st.sent++;
		else
			m->st.dropped++;
		pthread_mutex_unlock(&m->lock);
	}
}

static gboolean mouse_on_kick(gpointer data)
{
	struct synth_mouse *m = data;
	pthread_mutex_lock(&m->lock);
	m->kick_pending = false;
	pthread_mutex_unlock(&m->lock);
	if (vsp_device_is_open(m->dev))
		mouse_drain(m);
	return G_SOURCE_REMOVE;
}

/* Part of a wheel's steps for the next report, taken off *left. */
static int8_t mouse_take_steps(int32_t *left)
{
	int32_t v = *left;
	if (v > SYNTH_MOUSE_WHEEL_REPORT_MAX)
		v = SYNTH_MOUSE_WHEEL_REPORT_MAX;
	else if (v < -SYNTH_MOUSE_WHEEL_REPORT_MAX)
		v = -SYNTH_MOUSE_WHEEL_REPORT_MAX;
	*left -= v;
	return (int8_t)v;
}

int synth_mouse_report(struct synth_mouse *m, uint16_t x, uint16_t y, uint32_t buttons, int32_t wheel,
		       int32_t hwheel)
{
	if (x > INPUT_ABS_MAX || y > INPUT_ABS_MAX || (buttons & ~INPUT_BUTTONS_ALL) ||
	    wheel > SYNTH_MOUSE_WHEEL_MAX || wheel < -SYNTH_MOUSE_WHEEL_MAX ||
	    hwheel > SYNTH_MOUSE_WHEEL_MAX || hwheel < -SYNTH_MOUSE_WHEEL_MAX)
		return -EINVAL;
	int32_t steps = abs(wheel) > abs(hwheel) ? abs(wheel) : abs(hwheel);
	size_t n = steps ? (size_t)((steps + SYNTH_MOUSE_WHEEL_REPORT_MAX - 1) / SYNTH_MOUSE_WHEEL_REPORT_MAX) : 1;
	int r = 0;
	bool kick = false;

	pthread_mutex_lock(&m->lock);
	if (m->st.phase != SYNTH_MOUSE_READY) {
		r = -ENOTCONN;
		goto out;
	}
	size_t tail = (m->head + m->st.queued + SYNTH_MOUSE_QUEUE_MAX - 1) % SYNTH_MOUSE_QUEUE_MAX;
	struct synth_mouse_report *t = &m->queue[tail];
	if (!steps && m->st.queued >= 2 && !t->wheel && !t->hwheel && t->buttons == buttons) {
		/* Only where the pointer ends up matters to the guest. */
		t->x = x;
		t->y = y;
		m->st.coalesced++;
	} else {
		if (n > SYNTH_MOUSE_QUEUE_MAX - m->st.queued) {
			r = -ENOBUFS;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct synth_mouse_report rep = {
				.x = x, .y = y, .buttons = (uint8_t)buttons,
				.wheel = mouse_take_steps(&wheel), .hwheel = mouse_take_steps(&hwheel),
			};
			m->queue[(m->head + m->st.queued) % SYNTH_MOUSE_QUEUE_MAX] = rep;
			m->st.queued++;
		}
		kick = !m->kick_pending;
		if (kick)
			m->kick_pending = true;
	}
	m->st.x = x;
	m->st.y = y;
	m->st.buttons = buttons;
	m->st.calls++;
out:
	pthread_mutex_unlock(&m->lock);
	if (kick)
		vsp_bus_invoke(m->bus, mouse_on_kick, m);
	return r;
}

static void mouse_count_bad(struct synth_mouse *m)
{
	pthread_mutex_lock(&m->lock);
	m->st.bad++;
	pthread_mutex_unlock(&m->lock);
}

static void mouse_set_phase(struct synth_mouse *m, enum synth_mouse_phase p)
{
	pthread_mutex_lock(&m->lock);
	m->st.phase = p;
	pthread_mutex_unlock(&m->lock);
}

static void mouse_negotiate(struct synth_mouse *m, const struct vsp_packet *pkt, uint32_t version)
{
	bool ok = version == SYNTH_MOUSE_VERSION_2_0;
	uint8_t msg[MOUSE_DEVICE_INFO_MAX];
	/* The phase first: the guest may ack as soon as it sees the info. */
	pthread_mutex_lock(&m->lock);
	enum synth_mouse_phase was = m->st.phase;
	m->st.version = version;
	m->st.phase = ok ? SYNTH_MOUSE_WAIT_ACK : SYNTH_MOUSE_REFUSED;
	pthread_mutex_unlock(&m->lock);
	long n = synth_mouse_msg_build_response(msg, sizeof(msg), version, ok);
	int r = vsp_device_send(m->dev, VMBUS_PKT_DATA_INBAND, 0, pkt->trans_id, msg, (size_t)n);
	if (r == 0 && ok) {
		/* Linux waits for the device info as a message of its own,
		 * right after the response. */
		n = synth_mouse_msg_build_device_info(msg, sizeof(msg));
		r = n < 0 ? (int)n : vsp_device_send(m->dev, VMBUS_PKT_DATA_INBAND, 0, 0, msg, (size_t)n);
	}
	pthread_mutex_lock(&m->lock);
	if (r == 0) {
		m->st.negotiations++;
	} else {
		/* A ring the guest filled before asking: counted, and the
		 * guest may ask again. */
		m->st.bad++;
		m->st.phase = was;
	}
	pthread_mutex_unlock(&m->lock);
}

static void mouse_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct synth_mouse *m = vsp_device_priv(dev);
	struct synth_mouse_guest_msg msg;
	if (pkt->type != VMBUS_PKT_DATA_INBAND || synth_mouse_msg_parse(pkt->data, pkt->len, &msg) < 0) {
		mouse_count_bad(m);
		return;
	}
	if (msg.type == SYNTH_MOUSE_MSG_PROTOCOL_REQUEST) {
		mouse_negotiate(m, pkt, msg.version);
		return;
	}
	pthread_mutex_lock(&m->lock);
	bool expected = m->st.phase == SYNTH_MOUSE_WAIT_ACK;
	if (expected)
		m->st.phase = SYNTH_MOUSE_READY;
	else
		m->st.bad++;
	pthread_mutex_unlock(&m->lock);
}

static int mouse_open(struct vsp_device *dev)
{
	mouse_set_phase(vsp_device_priv(dev), SYNTH_MOUSE_NEGOTIATING);
	return 0;
}

static void mouse_writable(struct vsp_device *dev)
{
	mouse_drain(vsp_device_priv(dev));
}

static void mouse_close(struct vsp_device *dev)
{
	struct synth_mouse *m = vsp_device_priv(dev);
	pthread_mutex_lock(&m->lock);
	m->st.dropped += m->st.queued;
	m->st.queued = 0;
	m->head = 0;
	m->st.buttons = 0;
	m->st.phase = SYNTH_MOUSE_CLOSED;
	pthread_mutex_unlock(&m->lock);
}


/* ---- saved state ---- */

#define MOUSE_COUNTERS 6u
/* phase, version, position and buttons, reports waiting (oldest first), counters */
#define MOUSE_STATE_TYPE   "(uuqqua(qqyyy)at)"
#define MOUSE_STATE_FORMAT "(uuqqu@a(qqyyy)@at)"

static GVariant *mouse_save(struct vsp_device *dev)
{
	struct synth_mouse *m = vsp_device_priv(dev);
	pthread_mutex_lock(&m->lock);
	GVariantBuilder q;
	g_variant_builder_init(&q, G_VARIANT_TYPE("a(qqyyy)"));
	for (unsigned i = 0; i < m->st.queued; i++) {
		const struct synth_mouse_report *r = &m->queue[(m->head + i) % SYNTH_MOUSE_QUEUE_MAX];
		g_variant_builder_add(&q, "(qqyyy)", r->x, r->y, r->buttons, (guint8)r->wheel, (guint8)r->hwheel);
	}
	const uint64_t counters[MOUSE_COUNTERS] = { m->st.calls, m->st.sent, m->st.coalesced, m->st.dropped, m->st.bad,
						    m->st.negotiations };
	GVariant *v = g_variant_new(MOUSE_STATE_FORMAT, (guint32)m->st.phase, m->st.version, m->st.x, m->st.y,
				    m->st.buttons, g_variant_builder_end(&q),
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, counters, MOUSE_COUNTERS,
							      sizeof(uint64_t)));
	pthread_mutex_unlock(&m->lock);
	return v;
}

static int mouse_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct synth_mouse *m = vsp_device_priv(dev);
	if (saved_state_check_type(v, MOUSE_STATE_TYPE, "mouse", error) < 0)
		return -EINVAL;
	guint32 phase, version, buttons;
	guint16 x, y;
	g_autoptr(GVariant) q = NULL, counters = NULL;
	g_variant_get(v, MOUSE_STATE_FORMAT, &phase, &version, &x, &y, &buttons, &q, &counters);
	bool open = vsp_device_is_open(dev);
	gsize nq = g_variant_n_children(q), nc;
	const uint64_t *c = g_variant_get_fixed_array(counters, &nc, sizeof(uint64_t));
	if (phase > SYNTH_MOUSE_REFUSED || open != (phase != SYNTH_MOUSE_CLOSED))
		return saved_state_fail(error, "mouse: phase %u on %s channel", phase, open ? "an open" : "a closed");
	if (nq > SYNTH_MOUSE_QUEUE_MAX || (nq && phase != SYNTH_MOUSE_READY) || nc != MOUSE_COUNTERS)
		return saved_state_fail(error, "mouse: %zu reports waiting in phase %s, %zu counters", (size_t)nq,
					synth_mouse_phase_name(phase), (size_t)nc);
	if (x > INPUT_ABS_MAX || y > INPUT_ABS_MAX || (buttons & ~INPUT_BUTTONS_ALL))
		return saved_state_fail(error, "mouse: pointer at %u,%u with buttons %#x", x, y, buttons);
	struct synth_mouse_report reports[SYNTH_MOUSE_QUEUE_MAX];
	for (gsize i = 0; i < nq; i++) {
		guint16 rx, ry;
		guint8 b, w, hw;
		g_variant_get_child(q, i, "(qqyyy)", &rx, &ry, &b, &w, &hw);
		/* As synth_mouse_report makes them: steps of at most a report's worth. */
		if (rx > INPUT_ABS_MAX || ry > INPUT_ABS_MAX || (b & ~INPUT_BUTTONS_ALL) ||
		    abs((int8_t)w) > SYNTH_MOUSE_WHEEL_REPORT_MAX || abs((int8_t)hw) > SYNTH_MOUSE_WHEEL_REPORT_MAX)
			return saved_state_fail(error, "mouse: a waiting report (%u,%u, buttons %#x)", rx, ry, b);
		reports[i] = (struct synth_mouse_report){ rx, ry, b, (int8_t)w, (int8_t)hw };
	}
	pthread_mutex_lock(&m->lock);
	m->st.phase = (enum synth_mouse_phase)phase;
	m->st.version = version;
	m->st.x = x;
	m->st.y = y;
	m->st.buttons = buttons;
	memcpy(m->queue, reports, nq * sizeof(reports[0]));
	m->head = 0;
	m->st.queued = (unsigned)nq;
	m->st.calls = c[0];
	m->st.sent = c[1];
	m->st.coalesced = c[2];
	m->st.dropped = c[3];
	m->st.bad = c[4];
	m->st.negotiations = c[5];
	bool kick = nq > 0 && !m->kick_pending;
	if (kick)
		m->kick_pending = true;
	pthread_mutex_unlock(&m->lock);
	if (kick)
		vsp_bus_invoke(m->bus, mouse_on_kick, m);
	return 0;
}

static const struct vsp_device_class synth_mouse_class = {
	.name = "mouse",
	.type = SYNTH_MOUSE_CLASS,
	/* Hyper-V offers the mouse as a message-mode pipe; Linux does not look. */
	.channel_flags = VMBUS_CHANNEL_NAMED_PIPE_MODE,
	.pipe_mode = VMBUS_PIPE_TYPE_MESSAGE,
	.max_packet = sizeof(struct vmbus_packet_desc) + SYNTH_MOUSE_MSG_MAX,
	.open = mouse_open,
	.packet = mouse_packet,
	.writable = mouse_writable,
	.close = mouse_close,
	.save = mouse_save,
	.restore = mouse_restore,
};

struct synth_mouse *synth_mouse_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct synth_mouse *m = g_new0(struct synth_mouse, 1);
	m->bus = bus;
	pthread_mutex_init(&m->lock, NULL);
	int r = vsp_bus_add(bus, &synth_mouse_class, instance, m, &m->dev);
	if (r < 0) {
		synth_mouse_free(m);
		errno = -r;
		return NULL;
	}
	return m;
}

void synth_mouse_free(struct synth_mouse *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	g_free(m);
}

void synth_mouse_get_state(struct synth_mouse *m, struct synth_mouse_state *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->st;
	pthread_mutex_unlock(&m->lock);
}

const char *synth_mouse_phase_name(enum synth_mouse_phase p)
{
	switch (p) {
	case SYNTH_MOUSE_CLOSED: return "closed";
	case SYNTH_MOUSE_NEGOTIATING: return "negotiating";
	case SYNTH_MOUSE_WAIT_ACK: return "wait-ack";
	case SYNTH_MOUSE_READY: return "ready";
	case SYNTH_MOUSE_REFUSED: return "refused";
	}
	return "unknown";
}
