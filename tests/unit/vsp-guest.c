// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest half of the VSP tests (vsp-guest.h). Messages are built byte by
 * byte at the offsets of Linux's structs rather than through vmbus_proto.h,
 * and the rings are walked page by page through guest RAM rather than
 * through vmbus_ring.c, so that a mistake in either shows up as a failure
 * instead of being shared by both sides.
 */
#include <errno.h>
#include <string.h>

#include "hv/hyperv_tlfs.h"
#include "hv/layout.h"
#include "vsp-guest.h"

#define SIM_RAM_BYTES      LAYOUT_MIN_MEMORY
#define SIM_PAGE           4096u
/* Ring pages come from here up, every other page, so that no two pages of a
 * ring are neighbours in guest RAM (as with a fragmented guest). */
#define SIM_FIRST_PFN      ((32u * 1024u * 1024u) / SIM_PAGE)
#define SIM_LAST_PFN       (SIM_RAM_BYTES / SIM_PAGE)
/* Linux's first GPADL handle (next_gpadl_handle in connection.c). */
#define SIM_FIRST_GPADL    0xE1E10u
#define SIM_DESC_SIZE      16u
#define SIM_TRAILER_SIZE   8u
#define SIM_MSG_MAX        240u

/* Message types and offsets of Linux's channel-management structs. */
enum {
	M_OFFER = 1, M_REQUESTOFFERS = 3, M_ALLOFFERS = 4, M_OPEN = 5, M_OPEN_RESULT = 6,
	M_CLOSE = 7, M_GPADL_HEADER = 8, M_GPADL_BODY = 9, M_GPADL_CREATED = 10,
	M_GPADL_TEARDOWN = 11, M_GPADL_TORNDOWN = 12, M_INITIATE = 14, M_VERSION_RESPONSE = 15,
	M_UNLOAD = 16, M_UNLOAD_RESPONSE = 17,
};
#define GPADL_HEADER_PFNS  26u
#define GPADL_BODY_PFNS    28u

struct vsp_guest {
	struct guest_ram ram;
	bool ram_ok;
	struct vmbus_server *server;
	struct vsp_bus *bus;
	bool connected;
	uint32_t msg_conn_id;

	GMutex lock;                 /* everything below; a leaf lock */
	GCond cond;                  /* host signals, bus syncs */
	GQueue inbox;                /* GBytes: host messages in order */
	uint64_t host_signals[VMBUS_RELID_MAX + 1];
	uint64_t ref_now, ref_step, ref_last;
	unsigned ref_reads;
	bool held, release;          /* vsp_guest_bus_hold */

	struct vsp_guest_offer offers[VSP_GUEST_MAX_OFFERS];
	unsigned noffers;
	GArray *free_pfns;           /* uint64_t: pages given back, reused first */
	uint64_t next_pfn;
	uint32_t next_gpadl;
	GPtrArray *chans;
};

/* ---- little-endian fields ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- the host's side of the rig ---- */

static int sim_post_to_guest(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct vsp_guest *g = opaque;
	(void)vp;
	g_mutex_lock(&g->lock);
	g_queue_push_tail(&g->inbox, g_bytes_new(msg, len));
	g_cond_broadcast(&g->cond);
	g_mutex_unlock(&g->lock);
	return 0;
}

/* The server gets one ops table: VMBus messages come here, channel events go
 * to the bus as in the worker. */
static int sim_channel_open(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_guest *g = opaque;
	return vsp_bus_server_ops.channel_open(g->bus, ch);
}

static void sim_channel_close(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_guest *g = opaque;
	vsp_bus_server_ops.channel_close(g->bus, ch);
}

static void sim_channel_removed(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_guest *g = opaque;
	vsp_bus_server_ops.channel_removed(g->bus, ch);
}

static void sim_channel_signal(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_guest *g = opaque;
	vsp_bus_server_ops.channel_signal(g->bus, ch);
}

static const struct vmbus_server_ops sim_server_ops = {
	.post_to_guest = sim_post_to_guest,
	.channel_open = sim_channel_open,
	.channel_close = sim_channel_close,
	.channel_removed = sim_channel_removed,
	.channel_signal = sim_channel_signal,
};

/* Bus thread, under the device's lock. */
static int sim_signal_guest(void *opaque, unsigned vp, uint32_t relid)
{
	struct vsp_guest *g = opaque;
	(void)vp;
	g_mutex_lock(&g->lock);
	if (relid <= VMBUS_RELID_MAX)
		g->host_signals[relid]++;
	g_cond_broadcast(&g->cond);
	g_mutex_unlock(&g->lock);
	return 0;
}

static uint64_t sim_reference_time(void *opaque)
{
	struct vsp_guest *g = opaque;
	g_mutex_lock(&g->lock);
	g->ref_now += g->ref_step;
	g->ref_last = g->ref_now;
	g->ref_reads++;
	uint64_t v = g->ref_last;
	g_mutex_unlock(&g->lock);
	return v;
}

struct vsp_guest *vsp_guest_new(void)
{
	return vsp_guest_new_ram(SIM_RAM_BYTES);
}

struct vsp_guest *vsp_guest_new_ram(uint64_t ram_bytes)
{
	struct vsp_guest *g = g_new0(struct vsp_guest, 1);
	g_mutex_init(&g->lock);
	g_cond_init(&g->cond);
	g_queue_init(&g->inbox);
	g->free_pfns = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g->chans = g_ptr_array_new();
	g->next_pfn = SIM_FIRST_PFN;
	g->next_gpadl = SIM_FIRST_GPADL;
	g->ref_now = 1000000;
	g->ref_step = 1;
	if (guest_ram_init(&g->ram, ram_bytes, "vsp-guest") < 0)
		goto fail;
	g->ram_ok = true;
	struct vmbus_server_config cfg = { .nvps = VSP_GUEST_NVPS };
	g->server = vmbus_server_new(&cfg, &sim_server_ops, g);
	if (!g->server)
		goto fail;
	struct vsp_bus_host host = {
		.server = g->server,
		.ram = &g->ram,
		.signal_guest = sim_signal_guest,
		.reference_time = sim_reference_time,
		.opaque = g,
	};
	g->bus = vsp_bus_new(&host);
	if (!g->bus)
		goto fail;
	return g;
fail:
	vsp_guest_free(g);
	return NULL;
}

void vsp_guest_free(struct vsp_guest *g)
{
	if (!g)
		return;
	/* The bus's teardown order (vsp.h). */
	vsp_bus_stop(g->bus);
	vmbus_server_free(g->server);
	vsp_bus_free(g->bus);
	for (guint i = 0; i < g->chans->len; i++) {
		struct vsp_guest_chan *c = g->chans->pdata[i];
		g_free(c->pfns);
		g_free(c);
	}
	g_ptr_array_unref(g->chans);
	g_queue_clear_full(&g->inbox, (GDestroyNotify)g_bytes_unref);
	g_array_unref(g->free_pfns);
	if (g->ram_ok)
		guest_ram_destroy(&g->ram);
	g_cond_clear(&g->cond);
	g_mutex_clear(&g->lock);
	g_free(g);
}

int vsp_guest_new_host(struct vsp_guest *g)
{
	/* The old host goes as a worker's does at its exit (vsp.h's order). */
	vsp_bus_stop(g->bus);
	vmbus_server_free(g->server);
	vsp_bus_free(g->bus);
	g->bus = NULL;
	struct vmbus_server_config cfg = { .nvps = VSP_GUEST_NVPS };
	g->server = vmbus_server_new(&cfg, &sim_server_ops, g);
	if (!g->server)
		return -ENOMEM;
	struct vsp_bus_host host = {
		.server = g->server,
		.ram = &g->ram,
		.signal_guest = sim_signal_guest,
		.reference_time = sim_reference_time,
		.opaque = g,
	};
	g->bus = vsp_bus_new(&host);
	return g->bus ? 0 : -ENOMEM;
}

struct vsp_bus *vsp_guest_bus(struct vsp_guest *g)
{
	return g->bus;
}

struct vmbus_server *vsp_guest_server(struct vsp_guest *g)
{
	return g->server;
}

const struct guest_ram *vsp_guest_ram(struct vsp_guest *g)
{
	return &g->ram;
}

uint64_t vsp_guest_host_signals(struct vsp_guest *g, uint32_t relid)
{
	g_mutex_lock(&g->lock);
	uint64_t n = relid <= VMBUS_RELID_MAX ? g->host_signals[relid] : 0;
	g_mutex_unlock(&g->lock);
	return n;
}

void vsp_guest_nap(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	g_cond_wait_until(&g->cond, &g->lock, g_get_monotonic_time() + 1000);
	g_mutex_unlock(&g->lock);
}

struct sim_sync {
	struct vsp_guest *g;
	bool done;
};

static gboolean sim_sync_cb(gpointer data)
{
	struct sim_sync *s = data;
	g_mutex_lock(&s->g->lock);
	s->done = true;
	g_cond_broadcast(&s->g->cond);
	g_mutex_unlock(&s->g->lock);
	return G_SOURCE_REMOVE;
}

void vsp_guest_bus_sync(struct vsp_guest *g)
{
	/* Twice: a wakeup that became ready while the loop was past its check
	 * phase is dispatched at the latest in the iteration that runs the
	 * first of these. */
	for (int round = 0; round < 2; round++) {
		struct sim_sync s = { .g = g };
		vsp_bus_invoke(g->bus, sim_sync_cb, &s);
		g_mutex_lock(&g->lock);
		while (!s.done)
			g_cond_wait(&g->cond, &g->lock);
		g_mutex_unlock(&g->lock);
	}
}

static gboolean sim_hold_cb(gpointer data)
{
	struct vsp_guest *g = data;
	g_mutex_lock(&g->lock);
	g->held = true;
	g_cond_broadcast(&g->cond);
	while (!g->release)
		g_cond_wait(&g->cond, &g->lock);
	g->held = false;
	g_cond_broadcast(&g->cond);
	g_mutex_unlock(&g->lock);
	return G_SOURCE_REMOVE;
}

void vsp_guest_bus_hold(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	g->release = false;
	g_mutex_unlock(&g->lock);
	vsp_bus_invoke(g->bus, sim_hold_cb, g);
	g_mutex_lock(&g->lock);
	while (!g->held)
		g_cond_wait(&g->cond, &g->lock);
	g_mutex_unlock(&g->lock);
}

void vsp_guest_bus_unhold(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	g->release = true;
	g_cond_broadcast(&g->cond);
	while (g->held)
		g_cond_wait(&g->cond, &g->lock);
	g_mutex_unlock(&g->lock);
}

void vsp_guest_set_reference_time(struct vsp_guest *g, uint64_t start, uint64_t step)
{
	g_mutex_lock(&g->lock);
	g->ref_now = start;
	g->ref_step = step;
	g_mutex_unlock(&g->lock);
}

uint64_t vsp_guest_last_reference_time(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	uint64_t v = g->ref_last;
	g_mutex_unlock(&g->lock);
	return v;
}

unsigned vsp_guest_reference_time_reads(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	unsigned v = g->ref_reads;
	g_mutex_unlock(&g->lock);
	return v;
}

/* ---- channel management ---- */

unsigned vsp_guest_post(struct vsp_guest *g, const void *msg, size_t len)
{
	return vmbus_server_handle_post(g->server, g->msg_conn_id, VMBUS_HV_MESSAGE_TYPE, msg, len);
}

GBytes *vsp_guest_take_msg(struct vsp_guest *g, uint32_t type)
{
	GBytes *found = NULL;
	g_mutex_lock(&g->lock);
	for (GList *l = g->inbox.head; l; l = l->next) {
		gsize len;
		const uint8_t *p = g_bytes_get_data(l->data, &len);
		if (len >= 8 && get32(p) == type) {
			found = l->data;
			g_queue_delete_link(&g->inbox, l);
			break;
		}
	}
	g_mutex_unlock(&g->lock);
	return found;
}

unsigned vsp_guest_inbox_len(struct vsp_guest *g)
{
	g_mutex_lock(&g->lock);
	unsigned n = g_queue_get_length(&g->inbox);
	g_mutex_unlock(&g->lock);
	return n;
}

static void sim_msg_init(uint8_t *m, uint32_t type)
{
	memset(m, 0, SIM_MSG_MAX);
	put32(m, type);
}

/* Take the reply of `type`: its bytes (at least min_len) or NULL. */
static GBytes *sim_reply(struct vsp_guest *g, uint32_t type, size_t min_len)
{
	GBytes *b = vsp_guest_take_msg(g, type);
	if (b && g_bytes_get_size(b) < min_len) {
		g_bytes_unref(b);
		return NULL;
	}
	return b;
}

static void sim_take_offers(struct vsp_guest *g)
{
	GBytes *b;
	while ((b = sim_reply(g, M_OFFER, 196))) {
		const uint8_t *p = g_bytes_get_data(b, NULL);
		if (g->noffers < VSP_GUEST_MAX_OFFERS) {
			struct vsp_guest_offer *o = &g->offers[g->noffers++];
			memcpy(o->type.b, p + 8, 16);
			memcpy(o->instance.b, p + 24, 16);
			o->chn_flags = get16(p + 56);
			o->pipe_mode = get32(p + 60);
			o->relid = get32(p + 184);
			o->conn_id = get32(p + 192);
		}
		g_bytes_unref(b);
	}
}

int vsp_guest_connect(struct vsp_guest *g)
{
	uint8_t m[SIM_MSG_MAX];
	sim_msg_init(m, M_INITIATE);
	put32(m + 8, VMBUS_VERSION_WIN10_V5_3);
	put32(m + 12, 0);                    /* target_vcpu */
	m[16] = VMBUS_MESSAGE_SINT;          /* msg_sint, >= 5.0 */
	put64(m + 24, 0);
	put64(m + 32, 0);
	if (vmbus_server_handle_post(g->server, VMBUS_MESSAGE_CONNECTION_ID_4, VMBUS_HV_MESSAGE_TYPE,
				     m, 40) != HV_STATUS_SUCCESS)
		return -EPROTO;
	g_autoptr(GBytes) vr = sim_reply(g, M_VERSION_RESPONSE, 16);
	if (!vr)
		return -EPROTO;
	const uint8_t *p = g_bytes_get_data(vr, NULL);
	if (!p[8])
		return -EPROTO;
	g->msg_conn_id = get32(p + 12);
	g->connected = true;

	sim_msg_init(m, M_REQUESTOFFERS);
	if (vsp_guest_post(g, m, 8) != HV_STATUS_SUCCESS)
		return -EPROTO;
	g_autoptr(GBytes) all = sim_reply(g, M_ALLOFFERS, 8);
	if (!all)
		return -EPROTO;
	g->noffers = 0;
	sim_take_offers(g);
	return (int)g->noffers;
}

int vsp_guest_unload(struct vsp_guest *g)
{
	uint8_t m[SIM_MSG_MAX];
	sim_msg_init(m, M_UNLOAD);
	if (vsp_guest_post(g, m, 8) != HV_STATUS_SUCCESS)
		return -EPROTO;
	g_autoptr(GBytes) r = sim_reply(g, M_UNLOAD_RESPONSE, 8);
	if (!r)
		return -EPROTO;
	g->connected = false;
	for (guint i = 0; i < g->chans->len; i++)
		((struct vsp_guest_chan *)g->chans->pdata[i])->open = false;
	return 0;
}

const struct vsp_guest_offer *vsp_guest_find(struct vsp_guest *g, const struct vmbus_guid *type)
{
	sim_take_offers(g);
	for (unsigned i = 0; i < g->noffers; i++)
		if (vmbus_guid_equal(&g->offers[i].type, type))
			return &g->offers[i];
	return NULL;
}

/* ---- guest pages ---- */

static int sim_alloc_pages(struct vsp_guest *g, unsigned n, uint64_t *pfns)
{
	for (unsigned i = 0; i < n; i++) {
		if (g->free_pfns->len) {
			pfns[i] = g_array_index(g->free_pfns, uint64_t, g->free_pfns->len - 1);
			g_array_set_size(g->free_pfns, g->free_pfns->len - 1);
		} else if (g->next_pfn < SIM_LAST_PFN) {
			pfns[i] = g->next_pfn;
			g->next_pfn += 2;
		} else {
			g_array_append_vals(g->free_pfns, pfns, i);
			return -ENOMEM;
		}
		memset(guest_ram_ptr(&g->ram, pfns[i] * SIM_PAGE, SIM_PAGE), 0, SIM_PAGE);
	}
	return 0;
}

static void sim_free_pages(struct vsp_guest *g, const uint64_t *pfns, unsigned n)
{
	g_array_append_vals(g->free_pfns, pfns, n);
}

/* __vmbus_establish_gpadl: one range of whole pages, 26 PFNs in the header,
 * 28 in each body; then the wait for GPADL_CREATED. */
static int sim_gpadl_create(struct vsp_guest *g, uint32_t relid, uint32_t id, const uint64_t *pfns,
			    unsigned n, uint32_t *status)
{
	uint8_t m[SIM_MSG_MAX];
	unsigned first = MIN(n, GPADL_HEADER_PFNS);
	sim_msg_init(m, M_GPADL_HEADER);
	put32(m + 8, relid);
	put32(m + 12, id);
	put16(m + 16, (uint16_t)(8 + 8 * n));          /* range_buflen */
	put16(m + 18, 1);                              /* rangecount */
	put32(m + 20, n * SIM_PAGE);                   /* byte_count */
	put32(m + 24, 0);                              /* byte_offset */
	for (unsigned i = 0; i < first; i++)
		put64(m + 28 + 8 * i, pfns[i]);
	if (vsp_guest_post(g, m, 28 + 8 * first) != HV_STATUS_SUCCESS)
		return -EPROTO;
	for (unsigned done = first; done < n;) {
		unsigned k = MIN(n - done, GPADL_BODY_PFNS);
		sim_msg_init(m, M_GPADL_BODY);
		put32(m + 8, 0);                       /* msgnumber: Linux leaves it 0 */
		put32(m + 12, id);
		for (unsigned i = 0; i < k; i++)
			put64(m + 16 + 8 * i, pfns[done + i]);
		if (vsp_guest_post(g, m, 16 + 8 * k) != HV_STATUS_SUCCESS)
			return -EPROTO;
		done += k;
	}
	g_autoptr(GBytes) c = sim_reply(g, M_GPADL_CREATED, 20);
	if (!c)
		return -EPROTO;
	const uint8_t *p = g_bytes_get_data(c, NULL);
	if (get32(p + 8) != relid || get32(p + 12) != id)
		return -EPROTO;
	*status = get32(p + 16);
	return 0;
}

static int sim_gpadl_teardown(struct vsp_guest *g, uint32_t relid, uint32_t id)
{
	uint8_t m[SIM_MSG_MAX];
	sim_msg_init(m, M_GPADL_TEARDOWN);
	put32(m + 8, relid);
	put32(m + 12, id);
	if (vsp_guest_post(g, m, 16) != HV_STATUS_SUCCESS)
		return -EPROTO;
	g_autoptr(GBytes) t = sim_reply(g, M_GPADL_TORNDOWN, 12);
	if (!t || get32((const uint8_t *)g_bytes_get_data(t, NULL) + 8) != id)
		return -EPROTO;
	return 0;
}

static uint8_t *sim_page(struct vsp_guest *g, uint64_t pfn)
{
	return guest_ram_ptr(&g->ram, pfn * SIM_PAGE, SIM_PAGE);
}

static struct vmbus_ring_header *sim_hdr(struct vsp_guest *g, const struct vsp_guest_ring *r)
{
	return (struct vmbus_ring_header *)sim_page(g, r->pfns[0]);
}

struct vmbus_ring_header *vsp_guest_out_hdr(struct vsp_guest_chan *c)
{
	return sim_hdr(c->g, &c->out);
}

struct vmbus_ring_header *vsp_guest_in_hdr(struct vsp_guest_chan *c)
{
	return sim_hdr(c->g, &c->in);
}

int vsp_guest_open(struct vsp_guest *g, const struct vsp_guest_offer *o, unsigned out_pages,
		   unsigned in_pages, uint32_t *status, struct vsp_guest_chan **out)
{
	if (!o || out_pages == 0 || in_pages == 0)
		return -EINVAL;
	struct vsp_guest_chan *c = g_new0(struct vsp_guest_chan, 1);
	c->g = g;
	c->offer = *o;
	c->npfns = out_pages + in_pages;
	c->pfns = g_new(uint64_t, c->npfns);
	if (sim_alloc_pages(g, c->npfns, c->pfns) < 0) {
		g_free(c->pfns);
		g_free(c);
		return -ENOMEM;
	}
	c->out = (struct vsp_guest_ring){ c->pfns, out_pages, (out_pages - 1) * SIM_PAGE };
	c->in = (struct vsp_guest_ring){ c->pfns + out_pages, in_pages, (in_pages - 1) * SIM_PAGE };
	/* hv_ringbuffer_init: feat_pending_send_sz on both rings. */
	sim_hdr(g, &c->out)->feature_bits = 1;
	sim_hdr(g, &c->in)->feature_bits = 1;
	c->gpadl = g->next_gpadl++;

	uint32_t st = 0;
	int r = sim_gpadl_create(g, o->relid, c->gpadl, c->pfns, c->npfns, &st);
	if (r == 0 && st != 0)
		r = -EIO;
	if (r == 0) {
		/* vmbus_open: openid is the relid, the host->guest ring starts
		 * after our sendring. */
		uint8_t m[SIM_MSG_MAX];
		sim_msg_init(m, M_OPEN);
		put32(m + 8, o->relid);
		put32(m + 12, o->relid);
		put32(m + 16, c->gpadl);
		put32(m + 20, 0);
		put32(m + 24, out_pages);
		if (vsp_guest_post(g, m, 148) != HV_STATUS_SUCCESS) {
			r = -EPROTO;
		} else {
			g_autoptr(GBytes) res = sim_reply(g, M_OPEN_RESULT, 20);
			const uint8_t *p = res ? g_bytes_get_data(res, NULL) : NULL;
			if (!p || get32(p + 8) != o->relid || get32(p + 12) != o->relid)
				r = -EPROTO;
			else if ((st = get32(p + 16)) != 0)
				r = -EIO;
		}
		if (r < 0)
			(void)sim_gpadl_teardown(g, o->relid, c->gpadl);
	}
	if (status)
		*status = st;
	if (r < 0) {
		sim_free_pages(g, c->pfns, c->npfns);
		g_free(c->pfns);
		g_free(c);
		return r;
	}
	c->open = true;
	g_ptr_array_add(g->chans, c);
	*out = c;
	return 0;
}

int vsp_guest_close(struct vsp_guest_chan *c)
{
	uint8_t m[SIM_MSG_MAX];
	sim_msg_init(m, M_CLOSE);
	put32(m + 8, c->offer.relid);
	unsigned st = vsp_guest_post(c->g, m, 12);
	c->open = false;
	return st == HV_STATUS_SUCCESS ? 0 : -EIO;
}

int vsp_guest_release(struct vsp_guest_chan *c)
{
	struct vsp_guest *g = c->g;
	int r = 0;
	if (c->open)
		r = vsp_guest_close(c);
	if (g->connected) {
		int t = sim_gpadl_teardown(g, c->offer.relid, c->gpadl);
		if (r == 0)
			r = t;
	}
	g_ptr_array_remove(g->chans, c);
	sim_free_pages(g, c->pfns, c->npfns);
	g_free(c->pfns);
	g_free(c);
	return r;
}

unsigned vsp_guest_signal(struct vsp_guest_chan *c)
{
	c->signals++;
	return vmbus_server_handle_signal(c->g->server, c->offer.conn_id);
}

/* ---- rings ---- */

static uint32_t sim_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void sim_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The guest's view of data byte off of a ring and how many bytes follow it
 * in the same page: the data area wraps at its end and its pages are not
 * neighbours in guest RAM. */
static uint8_t *sim_ring_at(struct vsp_guest *g, const struct vsp_guest_ring *r, uint32_t off, uint32_t *room)
{
	off %= r->size;
	*room = SIM_PAGE - off % SIM_PAGE;
	return sim_page(g, r->pfns[1 + off / SIM_PAGE]) + off % SIM_PAGE;
}

/* Copy in at off; the offset after the bytes. */
static uint32_t sim_ring_put(struct vsp_guest *g, const struct vsp_guest_ring *r, uint32_t off,
			     const void *src, uint32_t len)
{
	const uint8_t *b = src;
	while (len) {
		uint32_t room;
		uint8_t *p = sim_ring_at(g, r, off, &room);
		uint32_t n = MIN(len, room);
		memcpy(p, b, n);
		b += n;
		off = (off + n) % r->size;
		len -= n;
	}
	return off;
}

static void sim_ring_get(struct vsp_guest *g, const struct vsp_guest_ring *r, uint32_t off, void *dst,
			 uint32_t len)
{
	uint8_t *b = dst;
	while (len) {
		uint32_t room;
		const uint8_t *p = sim_ring_at(g, r, off, &room);
		uint32_t n = MIN(len, room);
		memcpy(b, p, n);
		b += n;
		off = (off + n) % r->size;
		len -= n;
	}
}

static bool sim_index_ok(const struct vsp_guest_ring *r, uint32_t i)
{
	return i < r->size && (i & 7) == 0;
}

static uint32_t sim_used(const struct vsp_guest_ring *r, uint32_t rd, uint32_t wr)
{
	return wr >= rd ? wr - rd : r->size - rd + wr;
}

uint32_t vsp_guest_in_used(struct vsp_guest_chan *c)
{
	struct vmbus_ring_header *h = sim_hdr(c->g, &c->in);
	uint32_t rd = sim_load(&h->read_index), wr = sim_load(&h->write_index);
	return sim_index_ok(&c->in, rd) && sim_index_ok(&c->in, wr) ? sim_used(&c->in, rd, wr) : 0;
}

uint32_t vsp_guest_out_used(struct vsp_guest_chan *c)
{
	struct vmbus_ring_header *h = sim_hdr(c->g, &c->out);
	uint32_t rd = sim_load(&h->read_index), wr = sim_load(&h->write_index);
	return sim_index_ok(&c->out, rd) && sim_index_ok(&c->out, wr) ? sim_used(&c->out, rd, wr) : 0;
}

int vsp_guest_write_desc(struct vsp_guest_chan *c, const struct vmbus_packet_desc *d,
			 const void *data, size_t len)
{
	struct vsp_guest *g = c->g;
	const struct vsp_guest_ring *r = &c->out;
	struct vmbus_ring_header *h = sim_hdr(g, r);
	size_t padded = (SIM_DESC_SIZE + len + 7) & ~(size_t)7;
	size_t total = padded + SIM_TRAILER_SIZE;
	if (total >= r->size)
		return -EINVAL;
	uint32_t wr = sim_load(&h->write_index), rd = sim_load(&h->read_index);
	if (!sim_index_ok(r, wr) || !sim_index_ok(r, rd))
		return -EPROTO;
	/* Only room for the packet counts as full: full and empty would look alike. */
	if (r->size - sim_used(r, rd, wr) <= total)
		return -EAGAIN;
	static const uint8_t zeros[8];
	uint64_t trailer = (uint64_t)wr << 32;
	uint32_t off = sim_ring_put(g, r, wr, d, SIM_DESC_SIZE);
	off = sim_ring_put(g, r, off, data, (uint32_t)len);
	off = sim_ring_put(g, r, off, zeros, (uint32_t)(padded - SIM_DESC_SIZE - len));
	off = sim_ring_put(g, r, off, &trailer, SIM_TRAILER_SIZE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sim_store(&h->write_index, off);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* hv_signal_on_write: only an empty ring's reader may be asleep, and
	 * only when it did not mask us. */
	if (c->always_signal || (sim_load(&h->interrupt_mask) == 0 && sim_load(&h->read_index) == wr))
		(void)vsp_guest_signal(c);
	return 0;
}

int vsp_guest_write(struct vsp_guest_chan *c, uint16_t type, uint16_t flags, uint64_t trans_id,
		    const void *data, size_t len)
{
	size_t padded = (SIM_DESC_SIZE + len + 7) & ~(size_t)7;
	if (padded / 8 > UINT16_MAX)
		return -EINVAL;
	struct vmbus_packet_desc d = {
		.type = type,
		.offset8 = SIM_DESC_SIZE / 8,
		.len8 = (uint16_t)(padded / 8),
		.flags = flags,
		.trans_id = trans_id,
	};
	return vsp_guest_write_desc(c, &d, data, len);
}

long vsp_guest_read(struct vsp_guest_chan *c, void *buf, size_t size)
{
	struct vsp_guest *g = c->g;
	const struct vsp_guest_ring *r = &c->in;
	struct vmbus_ring_header *h = sim_hdr(g, r);
	uint32_t rd = sim_load(&h->read_index), wr = sim_load(&h->write_index);
	if (!sim_index_ok(r, rd) || !sim_index_ok(r, wr))
		return -EPROTO;
	uint32_t avail = sim_used(r, rd, wr);
	if (avail == 0)
		return 0;
	if (avail < SIM_DESC_SIZE + SIM_TRAILER_SIZE)
		return -EPROTO;
	struct vmbus_packet_desc d;
	sim_ring_get(g, r, rd, &d, sizeof(d));
	uint32_t len = (uint32_t)d.len8 * 8;
	if (len < SIM_DESC_SIZE || (uint32_t)d.offset8 * 8 > len || len + SIM_TRAILER_SIZE > avail)
		return -EPROTO;
	if (len > size)
		return -EMSGSIZE;
	sim_ring_get(g, r, rd, buf, len);
	uint32_t bytes_read = len + SIM_TRAILER_SIZE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sim_store(&h->read_index, (rd + bytes_read) % r->size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* hv_pkt_iter_close: tell a host that waits for room when this read
	 * took the ring from "not enough" to "enough". */
	uint32_t pending = sim_load(&h->pending_send_sz);
	if (pending && (sim_load(&h->feature_bits) & 1)) {
		uint32_t now_wr = sim_load(&h->write_index);
		uint32_t free_now = sim_index_ok(r, now_wr) ? r->size - sim_used(r, (rd + bytes_read) % r->size, now_wr) : 0;
		if (!(free_now - bytes_read > pending) && free_now > pending)
			(void)vsp_guest_signal(c);
	}
	return len;
}

long vsp_guest_recv(struct vsp_guest_chan *c, void *buf, size_t size, unsigned timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	for (;;) {
		long n = vsp_guest_read(c, buf, size);
		if (n != 0)
			return n;
		if (g_get_monotonic_time() >= end)
			return -ETIMEDOUT;
		vsp_guest_nap(c->g);
	}
}
