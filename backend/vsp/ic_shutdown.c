// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hv/le.h"
#include "hv/saved_state.h"
#include "vsp/ic_shutdown.h"

/* Body: {u32 reason_code, u32 timeout_seconds, u32 flags, u8 display_message[2048]}. */
#define SD_MSG_SIZE   2048u
#define SD_BODY_SIZE  (12u + SD_MSG_SIZE)
/* Flags the guest reads: 0 power off, 2 reboot (bit 0 would force, which Linux ignores). */
#define SD_FLAG_POWEROFF 0u
#define SD_FLAG_REBOOT   2u
/* The reason Hyper-V gives for a host-initiated shutdown (planned, other). */
#define SD_REASON_HOST 0x80000000u

struct ic_shutdown {
	struct vsp_device *dev;
	struct vsp_bus *bus;
	struct ic_service svc;       /* bus thread */

	pthread_mutex_t lock;
	pthread_cond_t done;
	struct ic_shutdown_state st;
};

struct sd_call {
	struct ic_shutdown *sd;
	enum ic_shutdown_kind kind;
	const char *why;
	int result;
	bool finished;
};

static void sd_publish(struct ic_shutdown *sd)
{
	pthread_mutex_lock(&sd->lock);
	sd->st.state = sd->svc.state;
	sd->st.bad = sd->svc.bad_messages;
	pthread_mutex_unlock(&sd->lock);
}

static int sd_open(struct vsp_device *dev)
{
	struct ic_shutdown *sd = vsp_device_priv(dev);
	int r = ic_open(dev, &sd->svc);
	sd_publish(sd);
	return r;
}

static void sd_close(struct vsp_device *dev)
{
	struct ic_shutdown *sd = vsp_device_priv(dev);
	ic_close(&sd->svc);
	sd_publish(sd);
}

static void sd_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct ic_shutdown *sd = vsp_device_priv(dev);
	struct ic_message m;
	if (ic_receive(&sd->svc, pkt, &m) == 1) {
		if (m.type == IC_MSGTYPE_SHUTDOWN && (m.flags & IC_FLAG_RESPONSE) &&
		    ic_take_response(&sd->svc, pkt->trans_id)) {
			pthread_mutex_lock(&sd->lock);
			sd->st.answers++;
			sd->st.last_status = m.status;
			pthread_mutex_unlock(&sd->lock);
		} else {
			sd->svc.bad_messages++;
		}
	}
	sd_publish(sd);
}

static gboolean sd_send(gpointer data)
{
	struct sd_call *c = data;
	struct ic_shutdown *sd = c->sd;
	uint8_t body[SD_BODY_SIZE] = { 0 };
	le32_put(body, SD_REASON_HOST);
	le32_put(body + 4, 0);
	le32_put(body + 8, c->kind == IC_SHUTDOWN_REBOOT ? SD_FLAG_REBOOT : SD_FLAG_POWEROFF);
	if (c->why)
		strncpy((char *)body + 12, c->why, SD_MSG_SIZE - 1);
	int r = ic_send_request(sd->dev, &sd->svc, IC_MSGTYPE_SHUTDOWN, body, sizeof(body), NULL);
	pthread_mutex_lock(&sd->lock);
	if (r == 0)
		sd->st.requests++;
	c->result = r;
	c->finished = true;
	pthread_cond_broadcast(&sd->done);
	pthread_mutex_unlock(&sd->lock);
	return G_SOURCE_REMOVE;
}

int ic_shutdown_request(struct ic_shutdown *sd, enum ic_shutdown_kind kind, const char *why)
{
	struct sd_call c = { .sd = sd, .kind = kind, .why = why };
	vsp_bus_invoke(sd->bus, sd_send, &c);
	pthread_mutex_lock(&sd->lock);
	while (!c.finished)
		pthread_cond_wait(&sd->done, &sd->lock);
	pthread_mutex_unlock(&sd->lock);
	return c.result;
}


/* ---- saved state ---- */

#define SD_STATE_TYPE "(" IC_SERVICE_STATE_TYPE "ttu)"

static GVariant *sd_save(struct vsp_device *dev)
{
	struct ic_shutdown *sd = vsp_device_priv(dev);
	pthread_mutex_lock(&sd->lock);
	GVariant *v = g_variant_new("(@" IC_SERVICE_STATE_TYPE "ttu)", ic_service_save(&sd->svc), sd->st.requests,
				    sd->st.answers, sd->st.last_status);
	pthread_mutex_unlock(&sd->lock);
	return v;
}

static int sd_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct ic_shutdown *sd = vsp_device_priv(dev);
	if (saved_state_check_type(v, SD_STATE_TYPE, "shutdown", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) svc = NULL;
	guint64 requests, answers;
	guint32 status;
	g_variant_get(v, "(@" IC_SERVICE_STATE_TYPE "ttu)", &svc, &requests, &answers, &status);
	if (ic_service_restore(&sd->svc, svc, vsp_device_is_open(dev), "shutdown", error) < 0)
		return -EINVAL;
	pthread_mutex_lock(&sd->lock);
	sd->st.requests = requests;
	sd->st.answers = answers;
	sd->st.last_status = status;
	pthread_mutex_unlock(&sd->lock);
	sd_publish(sd);
	return 0;
}

static const struct vsp_device_class ic_shutdown_class = {
	.name = "shutdown",
	.type = IC_SHUTDOWN_CLASS,
	.max_packet = 4096,
	.open = sd_open,
	.packet = sd_packet,
	.close = sd_close,
	.save = sd_save,
	.restore = sd_restore,
};

struct ic_shutdown *ic_shutdown_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct ic_shutdown *sd = g_new0(struct ic_shutdown, 1);
	sd->bus = bus;
	sd->svc = (struct ic_service){
		.fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2,
		.msg_versions = { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } }, .n_msg = 4,
	};
	pthread_mutex_init(&sd->lock, NULL);
	pthread_cond_init(&sd->done, NULL);
	int r = vsp_bus_add(bus, &ic_shutdown_class, instance, sd, &sd->dev);
	if (r < 0) {
		ic_shutdown_free(sd);
		errno = -r;
		return NULL;
	}
	return sd;
}

void ic_shutdown_get(struct ic_shutdown *sd, struct ic_shutdown_state *out)
{
	pthread_mutex_lock(&sd->lock);
	*out = sd->st;
	pthread_mutex_unlock(&sd->lock);
}

void ic_shutdown_free(struct ic_shutdown *sd)
{
	if (!sd)
		return;
	pthread_cond_destroy(&sd->done);
	pthread_mutex_destroy(&sd->lock);
	g_free(sd);
}
