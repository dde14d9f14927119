// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv/saved_state.h"
#include "hv/vmbus_ring.h"
#include "vsp/synthvid.h"

const struct synthvid_mode synthvid_modes[] = {
	{ 1024, 768 }, { 1152, 864 }, { 1280, 720 }, { 1280, 800 }, { 1280, 1024 },
	{ 1366, 768 }, { 1440, 900 }, { 1600, 900 }, { 1600, 1200 }, { 1680, 1050 },
	{ 1920, 1080 }, { 1920, 1200 }, { 2560, 1440 }, { 2560, 1600 }, { 3840, 2160 },
};
const size_t synthvid_n_modes = G_N_ELEMENTS(synthvid_modes);
_Static_assert(G_N_ELEMENTS(synthvid_modes) <= SYNTHVID_RESOLUTIONS_MAX, "the mode table fits one response");

struct synthvid_tx {
	uint64_t trans_id;
	size_t len;
	uint8_t data[];
};

struct synthvid {
	struct vsp_device_class cls;     /* ours: mmio_megabytes is per device */
	struct vsp_device *dev;
	struct synthvid_config cfg;
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	size_t nmodes;
	size_t default_mode;
	int memfd;
	uint8_t *vram;                   /* the memfd, mapped read-write */
	uint64_t vram_size;

	/* Bus thread. */
	enum synthvid_phase phase;
	uint32_t version;
	enum synthvid_vram_kind vram_kind;
	uint64_t vram_gpa;
	const uint8_t *ram_vram;         /* SYNTHVID_VRAM_RAM: the guest's pages */
	struct synthvid_output mode;     /* RUNNING */
	bool pointer_visible;
	int32_t pointer_x, pointer_y;
	struct display_cursor shape;     /* the last ARGB shape (argb owned), for a saved state */
	GQueue tx;                       /* struct synthvid_tx, waiting for room */

	pthread_mutex_t lock;            /* what other threads read */
	struct synthvid_state st;
};

size_t synthvid_modes_offered(uint32_t vram_mb, struct synthvid_mode *out)
{
	size_t n = 0;
	for (size_t i = 0; i < synthvid_n_modes; i++) {
		const struct synthvid_mode *m = &synthvid_modes[i];
		if ((uint64_t)m->width * m->height * 4u <= (uint64_t)vram_mb << 20)
			out[n++] = *m;
	}
	return n;
}

int synthvid_mode_index(const struct synthvid_mode *list, size_t n, uint32_t w, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].width == w && list[i].height == h)
			return (int)i;
	return -ENOENT;
}

const char *synthvid_vram_kind_name(enum synthvid_vram_kind k)
{
	switch (k) {
	case SYNTHVID_VRAM_NONE: return "none";
	case SYNTHVID_VRAM_MMIO: return "mmio";
	case SYNTHVID_VRAM_RAM: return "ram";
	}
	return "?";
}

const char *synthvid_phase_name(enum synthvid_phase p)
{
	switch (p) {
	case SYNTHVID_CLOSED: return "closed";
	case SYNTHVID_NEGOTIATING: return "negotiating";
	case SYNTHVID_NEGOTIATED: return "negotiated";
	case SYNTHVID_VRAM: return "vram";
	case SYNTHVID_RUNNING: return "running";
	}
	return "?";
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int synthvid_vram_classify(const struct guest_ram *ram, uint64_t win_start, uint64_t win_end, uint64_t gpa,
			   uint64_t size)
{
	if (size == 0 || (gpa | size) % SYNTHVID_PAGE_SIZE || gpa + size < gpa)
		return -EINVAL;
	if (guest_ram_ptr(ram, gpa, size))
		return SYNTHVID_VRAM_RAM;
	for (unsigned i = 0; i < ram->nregions; i++)
		if (ranges_overlap(gpa, size, ram->regions[i].gpa, ram->regions[i].size))
			return -EINVAL;
	if (gpa >= win_start && gpa + size <= win_end)
		return SYNTHVID_VRAM_MMIO;
	return -EINVAL;
}

static void sv_publish(struct synthvid *sv)
{
	pthread_mutex_lock(&sv->lock);
	sv->st.phase = sv->phase;
	sv->st.version = sv->version;
	sv->st.vram_kind = sv->vram_kind;
	sv->st.vram_gpa = sv->vram_kind ? sv->vram_gpa : 0;
	bool running = sv->phase == SYNTHVID_RUNNING;
	sv->st.surface_width = running ? sv->mode.width : 0;
	sv->st.surface_height = running ? sv->mode.height : 0;
	sv->st.surface_stride = running ? sv->mode.pitch : 0;
	pthread_mutex_unlock(&sv->lock);
}

/* Counters: bus thread writes, others read under the lock. */
#define SV_COUNT(sv, field, n) do { \
	pthread_mutex_lock(&(sv)->lock); \
	(sv)->st.field += (n); \
	pthread_mutex_unlock(&(sv)->lock); \
} while (0)

/* Send what waits, in order, until the ring is full. */
static void sv_flush(struct synthvid *sv)
{
	struct synthvid_tx *t;
	while ((t = g_queue_peek_head(&sv->tx))) {
		int r = vsp_device_send(sv->dev, VMBUS_PKT_DATA_INBAND, 0, t->trans_id, t->data, t->len);
		if (r == -EAGAIN)
			return;          /* the writable callback comes back here */
		g_queue_pop_head(&sv->tx);
		g_free(t);
		if (r < 0)
			SV_COUNT(sv, tx_dropped, 1);
	}
}

static void sv_send(struct synthvid *sv, uint64_t trans_id, const uint8_t *data, long len)
{
	if (len <= 0)
		return;          /* our builders cannot fail on our buffers */
	if (g_queue_get_length(&sv->tx) >= SYNTHVID_TX_QUEUE_MAX) {
		SV_COUNT(sv, tx_dropped, 1);
		return;
	}
	struct synthvid_tx *t = g_malloc(sizeof(*t) + (size_t)len);
	t->trans_id = trans_id;
	t->len = (size_t)len;
	memcpy(t->data, data, (size_t)len);
	g_queue_push_tail(&sv->tx, t);
	sv_flush(sv);
}

static void sv_drop_surface(struct synthvid *sv)
{
	if (sv->phase == SYNTHVID_RUNNING) {
		(void)display_set_surface(sv->cfg.display, NULL);
		sv->phase = SYNTHVID_VRAM;
	}
}

static void sv_drop_vram(struct synthvid *sv)
{
	sv_drop_surface(sv);
	if (sv->vram_kind == SYNTHVID_VRAM_MMIO)
		sv->cfg.host.unmap_vram(sv->cfg.host.opaque, sv->vram_gpa, sv->vram_size);
	sv->vram_kind = SYNTHVID_VRAM_NONE;
	sv->ram_vram = NULL;
	if (sv->phase == SYNTHVID_VRAM)
		sv->phase = SYNTHVID_NEGOTIATED;
}

/* Rows of r from the guest's RAM into our memfd (RAM-backed VRAM only). */
static void sv_copy_rect(struct synthvid *sv, const struct display_rect *r)
{
	if (sv->vram_kind != SYNTHVID_VRAM_RAM)
		return;
	/* Checked against the mode, and the mode against the VRAM size. */
	uint64_t off = sv->mode.vram_offset + (uint64_t)r->y * sv->mode.pitch + (uint64_t)r->x * 4u;
	for (uint32_t row = 0; row < r->h; row++, off += sv->mode.pitch)
		memcpy(sv->vram + off, sv->ram_vram + off, (size_t)r->w * 4u);
}

static void sv_on_version(struct synthvid *sv, const struct vsp_packet *pkt, uint32_t version)
{
	bool ok = version == SYNTHVID_VERSION_WIN10 || version == SYNTHVID_VERSION_WIN8;
	uint8_t buf[64];
	sv_send(sv, pkt->trans_id, buf, synthvid_msg_build_version_response(buf, sizeof(buf), version, ok));
	if (!ok) {
		SV_COUNT(sv, unsupported, 1);
		return;
	}
	/* A new negotiation starts the guest's probe over. */
	sv_drop_vram(sv);
	sv->version = version;
	sv->phase = SYNTHVID_NEGOTIATED;
}

static void sv_on_resolution(struct synthvid *sv, const struct vsp_packet *pkt, uint8_t max)
{
	if (sv->version != SYNTHVID_VERSION_WIN10) {
		SV_COUNT(sv, bad, 1);    /* 3.5 brought the request */
		return;
	}
	uint8_t buf[SYNTHVID_HOST_MSG_MAX];
	sv_send(sv, pkt->trans_id, buf,
		synthvid_msg_build_resolution_response(buf, sizeof(buf), sv->modes, sv->nmodes, sv->default_mode,
						       max));
}

static bool sv_place_vram(struct synthvid *sv, bool specified, uint64_t gpa)
{
	int kind = specified ? synthvid_vram_classify(sv->cfg.ram, sv->cfg.window_start, sv->cfg.window_end, gpa,
						      sv->vram_size)
			     : -EINVAL;      /* we have no default place to offer */
	if (kind < 0)
		return false;
	if (kind == SYNTHVID_VRAM_MMIO &&
	    sv->cfg.host.map_vram(sv->cfg.host.opaque, gpa, sv->memfd, sv->vram_size) < 0)
		return false;
	sv->vram_kind = (enum synthvid_vram_kind)kind;
	sv->vram_gpa = gpa;
	sv->ram_vram = kind == SYNTHVID_VRAM_RAM ? guest_ram_ptr(sv->cfg.ram, gpa, sv->vram_size) : NULL;
	sv->phase = SYNTHVID_VRAM;
	return true;
}

static void sv_on_vram(struct synthvid *sv, const struct synthvid_msg *m, const struct vsp_packet *pkt)
{
	sv_drop_vram(sv);
	bool ok = sv_place_vram(sv, m->vram.gpa_specified, m->vram.gpa);
	if (!ok)
		SV_COUNT(sv, vram_refused, 1);
	uint8_t buf[64];
	/* hyperv_fb takes an ack that does not echo its user_ctx as a refusal. */
	uint64_t ctx = ok ? m->vram.user_ctx : ~m->vram.user_ctx;
	sv_send(sv, pkt->trans_id, buf, synthvid_msg_build_ack(buf, sizeof(buf), SYNTHVID_VRAM_LOCATION_ACK, ctx));
	if (!ok)
		return;
	/* Without it the guest never sends DIRT; with it a running guest also
	 * sends its pointer and mode again. */
	sv_send(sv, 0, buf, synthvid_msg_build_feature_change(buf, sizeof(buf), true, true, true, true));
}

static void sv_on_situation(struct synthvid *sv, const struct synthvid_msg *m, const struct vsp_packet *pkt)
{
	const struct synthvid_output *o = &m->situation.out;
	if (sv->phase < SYNTHVID_VRAM || (o->active && synthvid_output_check(o, sv->vram_size) < 0)) {
		SV_COUNT(sv, bad, 1);
		return;
	}
	uint8_t buf[64];
	sv_send(sv, pkt->trans_id, buf,
		synthvid_msg_build_ack(buf, sizeof(buf), SYNTHVID_SITUATION_UPDATE_ACK, m->situation.user_ctx));
	SV_COUNT(sv, situations, 1);
	if (!o->active) {
		sv_drop_surface(sv);
		return;
	}
	bool same = sv->phase == SYNTHVID_RUNNING && sv->mode.width == o->width && sv->mode.height == o->height &&
		    sv->mode.pitch == o->pitch && sv->mode.vram_offset == o->vram_offset;
	sv->mode = *o;
	struct display_rect all = { 0, 0, o->width, o->height };
	sv_copy_rect(sv, &all);
	if (same) {
		/* The guest repeats its mode after a FEATURE_CHANGE: no new surface. */
		display_damage(sv->cfg.display, &all, 1);
		return;
	}
	struct display_surface s = {
		.memfd = sv->memfd,
		.offset = o->vram_offset,
		.width = o->width,
		.height = o->height,
		.stride = o->pitch,
		.format = DISPLAY_FORMAT_XRGB8888,
	};
	if (display_set_surface(sv->cfg.display, &s) < 0) {
		SV_COUNT(sv, bad, 1);    /* checked above: only a failing mmap gets here */
		sv_drop_surface(sv);
		return;
	}
	sv->phase = SYNTHVID_RUNNING;
}

static void sv_on_dirt(struct synthvid *sv, const struct synthvid_msg *m)
{
	if (sv->phase != SYNTHVID_RUNNING || m->dirt.output >= SYNTHVID_OUTPUTS || m->dirt.count == 0) {
		SV_COUNT(sv, bad, 1);
		return;
	}
	struct display_rect rects[SYNTHVID_DIRT_RECTS_MAX];
	for (unsigned i = 0; i < m->dirt.count; i++) {
		struct synthvid_rect r;
		synthvid_msg_dirt_rect(m, i, &r);
		if (synthvid_rect_check(&r, sv->mode.width, sv->mode.height, &rects[i]) < 0) {
			SV_COUNT(sv, bad, 1);
			return;
		}
	}
	struct display_rect box = rects[0];
	for (unsigned i = 0; i < m->dirt.count; i++) {
		sv_copy_rect(sv, &rects[i]);
		uint32_t x2 = MAX(box.x + box.w, rects[i].x + rects[i].w), y2 = MAX(box.y + box.h, rects[i].y + rects[i].h);
		box.x = MIN(box.x, rects[i].x);
		box.y = MIN(box.y, rects[i].y);
		box.w = x2 - box.x;
		box.h = y2 - box.y;
	}
	display_damage(sv->cfg.display, rects, m->dirt.count);
	pthread_mutex_lock(&sv->lock);
	sv->st.dirt++;
	sv->st.dirt_rects += m->dirt.count;
	sv->st.last_dirt = box;
	pthread_mutex_unlock(&sv->lock);
}

static void sv_on_pointer(struct synthvid *sv, const struct synthvid_msg *m)
{
	if (m->pointer.output >= SYNTHVID_OUTPUTS) {
		SV_COUNT(sv, bad, 1);
		return;
	}
	sv->pointer_visible = m->pointer.visible;
	sv->pointer_x = m->pointer.x;
	sv->pointer_y = m->pointer.y;
	display_set_cursor(sv->cfg.display, sv->pointer_visible, sv->pointer_x, sv->pointer_y, NULL);
	SV_COUNT(sv, pointer, 1);
}

static void sv_on_shape(struct synthvid *sv, const struct synthvid_msg *m)
{
	if (!m->shape.argb) {
		SV_COUNT(sv, unsupported, 1);    /* monochrome: no guest of ours draws one */
		return;
	}
	struct display_cursor c = { m->shape.width, m->shape.height, m->shape.hot_x, m->shape.hot_y, m->shape.image };
	display_set_cursor(sv->cfg.display, sv->pointer_visible, sv->pointer_x, sv->pointer_y, &c);
	g_free((void *)sv->shape.argb);
	sv->shape = c;
	sv->shape.argb = g_memdup2(c.argb, (size_t)c.w * c.h * 4u);
	SV_COUNT(sv, shapes, 1);
}

static void sv_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct synthvid *sv = vsp_device_priv(dev);
	struct synthvid_msg m;
	int r = pkt->type == VMBUS_PKT_DATA_INBAND ? synthvid_msg_parse(pkt->data, pkt->len, &m) : -EBADMSG;
	if (r < 0) {
		SV_COUNT(sv, bad, 1);
		return;
	}
	/* Nothing but a version before a version. */
	if (m.type != SYNTHVID_VERSION_REQUEST && sv->version == 0) {
		SV_COUNT(sv, bad, 1);
		return;
	}
	switch (m.type) {
	case SYNTHVID_VERSION_REQUEST: sv_on_version(sv, pkt, m.version); break;
	case SYNTHVID_RESOLUTION_REQUEST: sv_on_resolution(sv, pkt, m.max_resolutions); break;
	case SYNTHVID_VRAM_LOCATION: sv_on_vram(sv, &m, pkt); break;
	case SYNTHVID_SITUATION_UPDATE: sv_on_situation(sv, &m, pkt); break;
	case SYNTHVID_DIRT: sv_on_dirt(sv, &m); break;
	case SYNTHVID_POINTER_POSITION: sv_on_pointer(sv, &m); break;
	case SYNTHVID_POINTER_SHAPE: sv_on_shape(sv, &m); break;
	default: SV_COUNT(sv, bad, 1); break;    /* the parser returned no others */
	}
	sv_publish(sv);
}

static int sv_open(struct vsp_device *dev)
{
	struct synthvid *sv = vsp_device_priv(dev);
	sv->phase = SYNTHVID_NEGOTIATING;
	sv->version = 0;
	SV_COUNT(sv, opens, 1);
	sv_publish(sv);
	return 0;
}

static void sv_writable(struct vsp_device *dev)
{
	sv_flush(vsp_device_priv(dev));
}

static void sv_close(struct vsp_device *dev)
{
	struct synthvid *sv = vsp_device_priv(dev);
	sv_drop_vram(sv);
	g_queue_clear_full(&sv->tx, g_free);
	/* The next driver starts on a black screen, not on the last one's
	 * pixels; sinks may still map the memfd, which stays its size. */
	(void)fallocate(sv->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)sv->vram_size);
	sv->phase = SYNTHVID_CLOSED;
	sv->version = 0;
	sv_publish(sv);
}


/* ---- saved state ---- */

#define SV_COUNTERS 10u
/* phase, version, VRAM kind and place, mode, pointer, shape, messages
 * waiting for room, counters, the last dirt's bounding box */
#define SV_STATE_TYPE   "(uuut(buyuuu)(bii)m(uuuuay)a(tay)at(uuuu))"
#define SV_STATE_FORMAT "(uuut(buyuuu)(bii)@m(uuuuay)@a(tay)@at(uuuu))"

static GVariant *sv_save(struct vsp_device *dev)
{
	struct synthvid *sv = vsp_device_priv(dev);
	GVariantBuilder tx;
	g_variant_builder_init(&tx, G_VARIANT_TYPE("a(tay)"));
	for (GList *l = sv->tx.head; l; l = l->next) {
		const struct synthvid_tx *t = l->data;
		g_variant_builder_add(&tx, "(t@ay)", t->trans_id, saved_state_blob(t->data, t->len));
	}
	GVariant *shape = sv->shape.argb
		? g_variant_new("(uuuu@ay)", sv->shape.w, sv->shape.h, sv->shape.hot_x, sv->shape.hot_y,
				saved_state_blob(sv->shape.argb, (size_t)sv->shape.w * sv->shape.h * 4u))
		: NULL;
	pthread_mutex_lock(&sv->lock);
	const struct synthvid_state *st = &sv->st;
	const uint64_t counters[SV_COUNTERS] = { st->opens, st->situations, st->dirt, st->dirt_rects, st->pointer,
						 st->shapes, st->vram_refused, st->unsupported, st->bad, st->tx_dropped };
	struct display_rect d = st->last_dirt;
	pthread_mutex_unlock(&sv->lock);
	const struct synthvid_output *o = &sv->mode;
	return g_variant_new(SV_STATE_FORMAT, (guint32)sv->phase, sv->version, (guint32)sv->vram_kind, sv->vram_gpa,
			     o->active, o->vram_offset, o->depth, o->width, o->height, o->pitch, sv->pointer_visible,
			     sv->pointer_x, sv->pointer_y, g_variant_new_maybe(G_VARIANT_TYPE("(uuuuay)"), shape),
			     g_variant_builder_end(&tx),
			     g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, counters, SV_COUNTERS, sizeof(uint64_t)),
			     d.x, d.y, d.w, d.h);
}

static gboolean sv_on_restored(gpointer data)
{
	struct synthvid *sv = data;
	if (vsp_device_is_open(sv->dev))
		sv_flush(sv);
	return G_SOURCE_REMOVE;
}

/* Everything of a saved state that can be refused, before any of it is used. */
static int sv_check(struct synthvid *sv, bool open, uint32_t phase, uint32_t version, uint32_t kind, uint64_t gpa,
		    const struct synthvid_output *mode, GVariant *shape, GVariant *tx, GVariant *counters,
		    GError **error)
{
	if (phase > SYNTHVID_RUNNING || open != (phase != SYNTHVID_CLOSED))
		return saved_state_fail(error, "video: phase %u on %s channel", phase, open ? "an open" : "a closed");
	bool negotiated = phase >= SYNTHVID_NEGOTIATED;
	if (negotiated ? version != SYNTHVID_VERSION_WIN10 && version != SYNTHVID_VERSION_WIN8 : version != 0)
		return saved_state_fail(error, "video: version %#x in phase %s", version, synthvid_phase_name(phase));
	if (phase >= SYNTHVID_VRAM) {
		int k = synthvid_vram_classify(sv->cfg.ram, sv->cfg.window_start, sv->cfg.window_end, gpa, sv->vram_size);
		if ((kind != SYNTHVID_VRAM_MMIO && kind != SYNTHVID_VRAM_RAM) || k != (int)kind)
			return saved_state_fail(error, "video: VRAM (%s) at %#" G_GINT64_MODIFIER "x cannot be there",
						synthvid_vram_kind_name(kind), gpa);
	} else if (kind != SYNTHVID_VRAM_NONE) {
		return saved_state_fail(error, "video: VRAM placed in phase %s", synthvid_phase_name(phase));
	}
	if (phase == SYNTHVID_RUNNING && (!mode->active || synthvid_output_check(mode, sv->vram_size) < 0))
		return saved_state_fail(error, "video: the mode %ux%u (pitch %u at %u) does not fit the VRAM", mode->width,
					mode->height, mode->pitch, mode->vram_offset);
	if (shape) {
		guint32 w, h, hx, hy;
		g_autoptr(GVariant) img = NULL;
		g_variant_get(shape, "(uuuu@ay)", &w, &h, &hx, &hy, &img);
		if (w == 0 || h == 0 || w > SYNTHVID_CURSOR_MAX_SIDE || h > SYNTHVID_CURSOR_MAX_SIDE || hx >= w ||
		    hy >= h || g_variant_n_children(img) != (gsize)w * h * 4u)
			return saved_state_fail(error, "video: a %ux%u pointer shape", w, h);
	}
	gsize ntx = g_variant_n_children(tx);
	if (ntx > SYNTHVID_TX_QUEUE_MAX || (ntx && !open))
		return saved_state_fail(error, "video: %zu messages waiting", (size_t)ntx);
	for (gsize i = 0; i < ntx; i++) {
		g_autoptr(GVariant) m = NULL;
		g_variant_get_child(tx, i, "(t@ay)", NULL, &m);
		gsize len = g_variant_n_children(m);
		if (len == 0 || len > SYNTHVID_HOST_MSG_MAX)
			return saved_state_fail(error, "video: a waiting message of %zu bytes", (size_t)len);
	}
	if (g_variant_n_children(counters) != SV_COUNTERS)
		return saved_state_fail(error, "video: %zu counters, not %u", (size_t)g_variant_n_children(counters),
					SV_COUNTERS);
	return 0;
}

static int sv_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct synthvid *sv = vsp_device_priv(dev);
	if (saved_state_check_type(v, SV_STATE_TYPE, "video", error) < 0)
		return -EINVAL;
	guint32 phase, version, kind;
	guint64 gpa;
	gboolean active, visible;
	guint8 depth;
	struct synthvid_output mode;
	gint32 px, py;
	struct display_rect d;
	g_autoptr(GVariant) shape_m = NULL, tx = NULL, counters = NULL;
	g_variant_get(v, SV_STATE_FORMAT, &phase, &version, &kind, &gpa, &active, &mode.vram_offset, &depth, &mode.width,
		      &mode.height, &mode.pitch, &visible, &px, &py, &shape_m, &tx, &counters, &d.x, &d.y, &d.w, &d.h);
	mode.active = active;
	mode.depth = depth;
	g_autoptr(GVariant) shape = g_variant_get_maybe(shape_m);
	bool open = vsp_device_is_open(dev);
	if (sv_check(sv, open, phase, version, kind, gpa, &mode, shape, tx, counters, error) < 0)
		return -EINVAL;
	if (kind == SYNTHVID_VRAM_MMIO && sv->cfg.host.map_vram(sv->cfg.host.opaque, gpa, sv->memfd, sv->vram_size) < 0)
		return saved_state_fail(error, "video: VRAM cannot be mapped at %#" G_GINT64_MODIFIER "x again", gpa);
	sv->phase = phase;
	sv->version = version;
	sv->vram_kind = kind;
	sv->vram_gpa = gpa;
	sv->ram_vram = kind == SYNTHVID_VRAM_RAM ? guest_ram_ptr(sv->cfg.ram, gpa, sv->vram_size) : NULL;
	sv->mode = mode;
	sv->pointer_visible = visible;
	sv->pointer_x = px;
	sv->pointer_y = py;
	g_free((void *)sv->shape.argb);
	sv->shape = (struct display_cursor){ 0 };
	if (shape) {
		g_autoptr(GVariant) img = NULL;
		g_variant_get(shape, "(uuuu@ay)", &sv->shape.w, &sv->shape.h, &sv->shape.hot_x, &sv->shape.hot_y, &img);
		size_t n;
		sv->shape.argb = g_memdup2(saved_state_blob_peek(img, &n), (size_t)sv->shape.w * sv->shape.h * 4u);
	}
	for (gsize i = 0; i < g_variant_n_children(tx); i++) {
		guint64 id;
		g_autoptr(GVariant) m = NULL;
		g_variant_get_child(tx, i, "(t@ay)", &id, &m);
		size_t len;
		const uint8_t *p = saved_state_blob_peek(m, &len);
		struct synthvid_tx *t = g_malloc(sizeof(*t) + len);
		t->trans_id = id;
		t->len = len;
		memcpy(t->data, p, len);
		g_queue_push_tail(&sv->tx, t);
	}
	const uint64_t *c = g_variant_get_fixed_array(counters, &(gsize){ 0 }, sizeof(uint64_t));
	pthread_mutex_lock(&sv->lock);
	struct synthvid_state *st = &sv->st;
	st->opens = c[0];
	st->situations = c[1];
	st->dirt = c[2];
	st->dirt_rects = c[3];
	st->pointer = c[4];
	st->shapes = c[5];
	st->vram_refused = c[6];
	st->unsupported = c[7];
	st->bad = c[8];
	st->tx_dropped = c[9];
	st->last_dirt = d;
	pthread_mutex_unlock(&sv->lock);
	if (phase == SYNTHVID_RUNNING) {
		struct display_surface s = {
			.memfd = sv->memfd, .offset = mode.vram_offset, .width = mode.width, .height = mode.height,
			.stride = mode.pitch, .format = DISPLAY_FORMAT_XRGB8888,
		};
		if (display_set_surface(sv->cfg.display, &s) < 0) {
			SV_COUNT(sv, bad, 1);    /* checked above: only a failing mmap gets here */
			sv->phase = SYNTHVID_VRAM;
		}
	}
	display_set_cursor(sv->cfg.display, sv->pointer_visible, sv->pointer_x, sv->pointer_y,
			   sv->shape.argb ? &sv->shape : NULL);
	if (open) {
		GSource *now = g_idle_source_new();
		g_source_set_callback(now, sv_on_restored, sv, NULL);
		g_source_attach(now, vsp_bus_context(vsp_device_bus(dev)));
		g_source_unref(now);
	}
	sv_publish(sv);
	return 0;
}

void synthvid_get_vram(struct synthvid *sv, int *memfd, uint8_t **pixels, uint64_t *size)
{
	*memfd = sv->memfd;
	*pixels = sv->vram;
	*size = sv->vram_size;
}

struct synthvid *synthvid_add(struct vsp_bus *bus, const struct vmbus_guid *instance,
			      const struct synthvid_config *cfg)
{
	uint32_t vram_mb = cfg->vram_mb ? cfg->vram_mb : SYNTHVID_VRAM_MB_DEFAULT;
	uint32_t w = cfg->width ? cfg->width : SYNTHVID_DEFAULT_WIDTH;
	uint32_t h = cfg->height ? cfg->height : SYNTHVID_DEFAULT_HEIGHT;
	if (vram_mb < SYNTHVID_VRAM_MB_MIN || vram_mb > SYNTHVID_VRAM_MB_MAX || !cfg->display || !cfg->ram ||
	    !cfg->host.map_vram || !cfg->host.unmap_vram || cfg->window_start >= cfg->window_end ||
	    ((uint64_t)vram_mb << 20) > cfg->window_end - cfg->window_start) {
		errno = EINVAL;
		return NULL;
	}
	struct synthvid *sv = g_new0(struct synthvid, 1);
	sv->memfd = -1;
	sv->cfg = *cfg;
	sv->cfg.width = w;
	sv->cfg.height = h;
	sv->nmodes = synthvid_modes_offered(vram_mb, sv->modes);
	int def = synthvid_mode_index(sv->modes, sv->nmodes, w, h);
	if (def < 0) {
		g_free(sv);
		errno = EINVAL;
		return NULL;
	}
	sv->default_mode = (size_t)def;
	sv->vram_size = (uint64_t)vram_mb << 20;
	pthread_mutex_init(&sv->lock, NULL);
	g_queue_init(&sv->tx);
	sv->st = (struct synthvid_state){ .width = w, .height = h, .vram_mb = vram_mb };

	int e = 0;
	sv->memfd = memfd_create("vireo-vram", MFD_CLOEXEC);
	if (sv->memfd < 0 || ftruncate(sv->memfd, (off_t)sv->vram_size) < 0) {
		e = errno;
		goto fail;
	}
	void *map = mmap(NULL, sv->vram_size, PROT_READ | PROT_WRITE, MAP_SHARED, sv->memfd, 0);
	if (map == MAP_FAILED) {
		e = errno;
		goto fail;
	}
	sv->vram = map;
	sv->cls = (struct vsp_device_class){
		.name = "video",
		.type = SYNTHVID_CLASS,
		/* As Hyper-V offers it; Linux reads the pipe header either way. */
		.channel_flags = VMBUS_CHANNEL_NAMED_PIPE_MODE,
		.pipe_mode = VMBUS_PIPE_TYPE_MESSAGE,
		.mmio_megabytes = (uint16_t)vram_mb,
		/* Descriptor and padding around the largest message. */
		.max_packet = 16u + SYNTHVID_GUEST_MSG_MAX + 8u,
		.open = sv_open,
		.packet = sv_packet,
		.writable = sv_writable,
		.close = sv_close,
		.save = sv_save,
		.restore = sv_restore,
	};
	int r = vsp_bus_add(bus, &sv->cls, instance, sv, &sv->dev);
	if (r < 0) {
		e = -r;
		goto fail;
	}
	return sv;
fail:
	synthvid_free(sv);
	errno = e;
	return NULL;
}

void synthvid_free(struct synthvid *sv)
{
	if (!sv)
		return;
	g_queue_clear_full(&sv->tx, g_free);
	g_free((void *)sv->shape.argb);
	if (sv->vram)
		munmap(sv->vram, sv->vram_size);
	if (sv->memfd >= 0)
		close(sv->memfd);
	pthread_mutex_destroy(&sv->lock);
	g_free(sv);
}

void synthvid_get_state(struct synthvid *sv, struct synthvid_state *out)
{
	pthread_mutex_lock(&sv->lock);
	*out = sv->st;
	pthread_mutex_unlock(&sv->lock);
}
