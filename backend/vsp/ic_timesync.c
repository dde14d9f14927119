// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "hv/le.h"
#include "hv/saved_state.h"
#include "vsp/ic_timesync.h"

/* v4 body: {u64 parent_time, u64 vm_reference_time, u8 flags, i8 leap, i8 stratum, u8 rsvd[3]}. */
#define TS4_BODY_SIZE 22u
/* v1-v3 body: {u64 parent_time, u64 child_time, u64 round_trip, u8 flags}. */
#define TS3_BODY_SIZE 25u
#define TS_FLAG_SYNC   1u
#define TS_FLAG_SAMPLE 2u
#define TS_STRATUM     2

struct ic_timesync {
	struct vsp_device *dev;
	struct vsp_bus *bus;
	struct ic_service svc;       /* bus thread */
	GSource *timer;
	bool synced;                 /* this open stepped the clock already */

	pthread_mutex_t lock;
	struct ic_timesync_state st;
};

uint64_t ic_timesync_host_time(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * 10000000ull + (uint64_t)now.tv_nsec / 100 + IC_TIMESYNC_EPOCH_DELTA;
}

static void ts_publish(struct ic_timesync *ts)
{
	pthread_mutex_lock(&ts->lock);
	ts->st.state = ts->svc.state;
	ts->st.bad = ts->svc.bad_messages;
	pthread_mutex_unlock(&ts->lock);
}

static void ts_send(struct ic_timesync *ts)
{
	if (ts->svc.state != IC_READY)
		return;
	uint8_t body[TS3_BODY_SIZE] = { 0 };
	size_t len;
	uint8_t flags = ts->synced ? TS_FLAG_SAMPLE : TS_FLAG_SYNC;
	if (ts->svc.msg.major >= 4) {
		le64_put(body, ic_timesync_host_time());
		le64_put(body + 8, vsp_bus_reference_time(ts->bus));
		body[16] = flags;
		body[18] = TS_STRATUM;
		len = TS4_BODY_SIZE;
	} else {
		/* Older guests read their own clock when the message arrives. */
		le64_put(body, ic_timesync_host_time());
		body[24] = flags;
		len = TS3_BODY_SIZE;
	}
	if (ic_send_request(ts->dev, &ts->svc, IC_MSGTYPE_TIMESYNC, body, len, NULL) == 0) {
		pthread_mutex_lock(&ts->lock);
		if (ts->synced)
			ts->st.samples++;
		else
			ts->st.syncs++;
		pthread_mutex_unlock(&ts->lock);
		ts->synced = true;
	}
}

static gboolean ts_tick(gpointer data)
{
	ts_send(data);
	return G_SOURCE_CONTINUE;
}

static int ts_open(struct vsp_device *dev)
{
	struct ic_timesync *ts = vsp_device_priv(dev);
	ts->synced = false;
	int r = ic_open(dev, &ts->svc);
	ts->timer = ic_timer_start(ts->bus, IC_TIMESYNC_PERIOD_MS, ts_tick, ts);
	ts_publish(ts);
	return r;
}

static void ts_close(struct vsp_device *dev)
{
	struct ic_timesync *ts = vsp_device_priv(dev);
	ic_timer_stop(&ts->timer);
	ic_close(&ts->svc);
	ts_publish(ts);
}

static void ts_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct ic_timesync *ts = vsp_device_priv(dev);
	struct ic_message m;
	int r = ic_receive(&ts->svc, pkt, &m);
	if (r == 0 && ts->svc.state == IC_READY) {
		/* Negotiated: step the guest clock now rather than in a period. */
		ts_send(ts);
	} else if (r == 1) {
		if (m.type == IC_MSGTYPE_TIMESYNC && (m.flags & IC_FLAG_RESPONSE) &&
		    ic_take_response(&ts->svc, pkt->trans_id)) {
			pthread_mutex_lock(&ts->lock);
			ts->st.answers++;
			pthread_mutex_unlock(&ts->lock);
		} else {
			ts->svc.bad_messages++;
		}
	}
	ts_publish(ts);
}


/* ---- saved state ---- */

#define TS_STATE_TYPE "(" IC_SERVICE_STATE_TYPE "ttt)"

static GVariant *ts_save(struct vsp_device *dev)
{
	struct ic_timesync *ts = vsp_device_priv(dev);
	pthread_mutex_lock(&ts->lock);
	GVariant *v = g_variant_new("(@" IC_SERVICE_STATE_TYPE "ttt)", ic_service_save(&ts->svc), ts->st.syncs,
				    ts->st.samples, ts->st.answers);
	pthread_mutex_unlock(&ts->lock);
	return v;
}

static gboolean ts_on_restored(gpointer data)
{
	ts_send(data);
	ts_publish(data);
	return G_SOURCE_REMOVE;
}

static int ts_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct ic_timesync *ts = vsp_device_priv(dev);
	if (saved_state_check_type(v, TS_STATE_TYPE, "timesync", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) svc = NULL;
	guint64 syncs, samples, answers;
	g_variant_get(v, "(@" IC_SERVICE_STATE_TYPE "ttt)", &svc, &syncs, &samples, &answers);
	bool open = vsp_device_is_open(dev);
	if (ic_service_restore(&ts->svc, svc, open, "timesync", error) < 0)
		return -EINVAL;
	pthread_mutex_lock(&ts->lock);
	ts->st.syncs = syncs;
	ts->st.samples = samples;
	ts->st.answers = answers;
	pthread_mutex_unlock(&ts->lock);
	/* The guest's clock stood still while the VM was saved: the first
	 * message after the restore steps it (SYNC), as Hyper-V does. */
	ts->synced = false;
	if (open) {
		ts->timer = ic_timer_start(ts->bus, IC_TIMESYNC_PERIOD_MS, ts_tick, ts);
		GSource *now = g_idle_source_new();
		g_source_set_callback(now, ts_on_restored, ts, NULL);
		g_source_attach(now, vsp_bus_context(ts->bus));
		g_source_unref(now);
	}
	ts_publish(ts);
	return 0;
}

static const struct vsp_device_class ic_timesync_class = {
	.name = "timesync",
	.type = IC_TIMESYNC_CLASS,
	.max_packet = 4096,
	.open = ts_open,
	.packet = ts_packet,
	.close = ts_close,
	.save = ts_save,
	.restore = ts_restore,
};

struct ic_timesync *ic_timesync_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct ic_timesync *ts = g_new0(struct ic_timesync, 1);
	ts->bus = bus;
	ts->svc = (struct ic_service){
		.fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2,
		.msg_versions = { { 4, 0 }, { 3, 0 }, { 1, 0 } }, .n_msg = 3,
	};
	pthread_mutex_init(&ts->lock, NULL);
	int r = vsp_bus_add(bus, &ic_timesync_class, instance, ts, &ts->dev);
	if (r < 0) {
		pthread_mutex_destroy(&ts->lock);
		g_free(ts);
		errno = -r;
		return NULL;
	}
	return ts;
}

void ic_timesync_get(struct ic_timesync *ts, struct ic_timesync_state *out)
{
	pthread_mutex_lock(&ts->lock);
	*out = ts->st;
	pthread_mutex_unlock(&ts->lock);
}

void ic_timesync_free(struct ic_timesync *ts)
{
	if (!ts)
		return;
	pthread_mutex_destroy(&ts->lock);
	g_free(ts);
}
