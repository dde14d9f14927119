// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hv/le.h"
#include "hv/saved_state.h"
#include "vsp/ic_heartbeat.h"

/* Body: {u64 seq_num, u32 reserved[8]}. */
#define HB_BODY_SIZE 40u

struct ic_heartbeat {
	struct vsp_device *dev;
	struct vsp_bus *bus;
	struct ic_service svc;       /* bus thread */
	GSource *timer;              /* bus thread */
	uint64_t sent_seq;           /* bus thread */
	uint64_t sent_trans;
	gint64 sent_us;              /* when the beat in flight went out; 0: none */

	pthread_mutex_t lock;        /* the state others read */
	struct ic_heartbeat_state st;
	gint64 last_answer_us;
};

static void hb_publish(struct ic_heartbeat *hb)
{
	pthread_mutex_lock(&hb->lock);
	hb->st.state = hb->svc.state;
	hb->st.bad = hb->svc.bad_messages;
	pthread_mutex_unlock(&hb->lock);
}

static gboolean hb_tick(gpointer data)
{
	struct ic_heartbeat *hb = data;
	if (hb->svc.state != IC_READY)
		return G_SOURCE_CONTINUE;
	/* One beat at a time: a guest that cannot answer (paused, busy) finds
	 * one waiting, not a pile whose late answers look forged. A beat lost
	 * for good is sent again after a while. */
	gint64 now = g_get_monotonic_time();
	if (hb->sent_us && now - hb->sent_us < (gint64)IC_HEARTBEAT_LOST_MS * 1000)
		return G_SOURCE_CONTINUE;
	uint8_t body[HB_BODY_SIZE] = { 0 };
	le64_put(body, hb->sent_seq + 1);
	/* A full ring means the guest is not reading: the state shows it. */
	if (ic_send_request(hb->dev, &hb->svc, IC_MSGTYPE_HEARTBEAT, body, sizeof(body),
			    &hb->sent_trans) == 0) {
		hb->sent_seq += 1;
		hb->sent_us = now;
	}
	return G_SOURCE_CONTINUE;
}

static int hb_open(struct vsp_device *dev)
{
	struct ic_heartbeat *hb = vsp_device_priv(dev);
	hb->sent_us = 0;
	int r = ic_open(dev, &hb->svc);
	hb->timer = ic_timer_start(hb->bus, IC_HEARTBEAT_PERIOD_MS, hb_tick, hb);
	hb_publish(hb);
	return r;
}

static void hb_close(struct vsp_device *dev)
{
	struct ic_heartbeat *hb = vsp_device_priv(dev);
	ic_timer_stop(&hb->timer);
	ic_close(&hb->svc);
	hb_publish(hb);
}

static void hb_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct ic_heartbeat *hb = vsp_device_priv(dev);
	struct ic_message m;
	int r = ic_receive(&hb->svc, pkt, &m);
	if (r == 1) {
		/* Only the answer to the beat in flight counts: an old or
		 * forged one would hide a hung guest. */
		if (m.type == IC_MSGTYPE_HEARTBEAT && (m.flags & IC_FLAG_RESPONSE) &&
		    m.status == IC_S_OK && pkt->trans_id == hb->sent_trans &&
		    m.body_len >= HB_BODY_SIZE && le64_get(m.body) == hb->sent_seq + 1) {
			pthread_mutex_lock(&hb->lock);
			hb->st.beats++;
			hb->st.seq = le64_get(m.body);
			hb->last_answer_us = g_get_monotonic_time();
			pthread_mutex_unlock(&hb->lock);
			/* The guest's number is where the next beat starts. */
			hb->sent_seq = le64_get(m.body);
			hb->sent_us = 0;
		} else {
			hb->svc.bad_messages++;
		}
	}
	hb_publish(hb);
}


/* ---- saved state ---- */

#define HB_STATE_TYPE "(" IC_SERVICE_STATE_TYPE "ttbttt)"

static GVariant *hb_save(struct vsp_device *dev)
{
	struct ic_heartbeat *hb = vsp_device_priv(dev);
	pthread_mutex_lock(&hb->lock);
	uint64_t age = hb->last_answer_us ? (uint64_t)(g_get_monotonic_time() - hb->last_answer_us) / 1000 : UINT64_MAX;
	GVariant *v = g_variant_new("(@" IC_SERVICE_STATE_TYPE "ttbttt)", ic_service_save(&hb->svc), hb->sent_seq,
				    hb->sent_trans, hb->sent_us != 0, hb->st.beats, hb->st.seq, age);
	pthread_mutex_unlock(&hb->lock);
	return v;
}

static int hb_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct ic_heartbeat *hb = vsp_device_priv(dev);
	if (saved_state_check_type(v, HB_STATE_TYPE, "heartbeat", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) svc = NULL;
	guint64 sent_seq, sent_trans, beats, seq, age;
	gboolean in_flight;
	g_variant_get(v, "(@" IC_SERVICE_STATE_TYPE "ttbttt)", &svc, &sent_seq, &sent_trans, &in_flight, &beats, &seq,
		      &age);
	bool open = vsp_device_is_open(dev);
	struct ic_service s = hb->svc;
	if (ic_service_restore(&s, svc, open, "heartbeat", error) < 0)
		return -EINVAL;
	if (sent_trans > s.next_trans_id || (in_flight && (s.state != IC_READY || sent_trans == 0)))
		return saved_state_fail(error, "heartbeat: beat %" G_GUINT64_FORMAT " in flight on transaction %" G_GUINT64_FORMAT,
					sent_seq, sent_trans);
	gint64 now = g_get_monotonic_time();
	hb->svc = s;
	hb->sent_seq = sent_seq;
	hb->sent_trans = sent_trans;
	/* A beat the guest has not answered yet may still be answered: its
	 * request is in the restored ring. Its clock starts again now. */
	hb->sent_us = in_flight ? now : 0;
	pthread_mutex_lock(&hb->lock);
	hb->st.beats = beats;
	hb->st.seq = seq;
	hb->last_answer_us = age == UINT64_MAX ? 0 : age >= (uint64_t)now / 1000 ? 1 : now - (gint64)age * 1000;
	pthread_mutex_unlock(&hb->lock);
	if (open)
		hb->timer = ic_timer_start(hb->bus, IC_HEARTBEAT_PERIOD_MS, hb_tick, hb);
	hb_publish(hb);
	return 0;
}

static const struct vsp_device_class ic_heartbeat_class = {
	.name = "heartbeat",
	.type = IC_HEARTBEAT_CLASS,
	.max_packet = 4096,
	.open = hb_open,
	.packet = hb_packet,
	.close = hb_close,
	.save = hb_save,
	.restore = hb_restore,
};

struct ic_heartbeat *ic_heartbeat_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct ic_heartbeat *hb = g_new0(struct ic_heartbeat, 1);
	hb->bus = bus;
	hb->svc = (struct ic_service){
		.fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2,
		.msg_versions = { { 3, 0 }, { 1, 0 } }, .n_msg = 2,
	};
	pthread_mutex_init(&hb->lock, NULL);
	int r = vsp_bus_add(bus, &ic_heartbeat_class, instance, hb, &hb->dev);
	if (r < 0) {
		pthread_mutex_destroy(&hb->lock);
		g_free(hb);
		errno = -r;
		return NULL;
	}
	return hb;
}

void ic_heartbeat_get(struct ic_heartbeat *hb, struct ic_heartbeat_state *out)
{
	pthread_mutex_lock(&hb->lock);
	*out = hb->st;
	out->age_ms = hb->last_answer_us ? (uint64_t)(g_get_monotonic_time() - hb->last_answer_us) / 1000
					 : UINT64_MAX;
	out->alive = out->state == IC_READY && out->age_ms < IC_HEARTBEAT_LOST_MS;
	pthread_mutex_unlock(&hb->lock);
}

void ic_heartbeat_free(struct ic_heartbeat *hb)
{
	if (!hb)
		return;
	pthread_mutex_destroy(&hb->lock);
	g_free(hb);
}
