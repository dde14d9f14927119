// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <gio/gunixsocketaddress.h>

#include "vireo-thumb.h"
#include "vireo-thumbnail.h"

/* One read from the socket. */
#define VIREO_THUMBNAIL_READ_CHUNK   (64u * 1024u)
/* Reconnecting after the session ended: first wait, doubling up to the last. */
#define VIREO_THUMBNAIL_RETRY_MIN_MS 250u
#define VIREO_THUMBNAIL_RETRY_MAX_MS 5000u
/* The largest message we send (HELLO). */
#define VIREO_THUMBNAIL_MSG_MAX      (CONSOLE_HEADER_SIZE + 8u + CONSOLE_NAME_MAX)

struct _VireoThumbnail {
	GObject parent_instance;

	/* owned references */
	char *socket;
	GCancellable *cancel;          /* the current session's I/O */
	GSocketConnection *conn;
	GBytes *writing;               /* the write in flight */
	GByteArray *pending;           /* what waits for it */
	GdkTexture *texture;

	struct vireo_thumb thumb;
	gboolean thumb_live;
	guint8 *rbuf;
	guint render_id, retry_id;
	guint retry_ms;
	gint64 last_render;
	guint frames;
};

enum {
	PROP_0,
	PROP_SOCKET,
	PROP_HAS_PICTURE,
	PROP_FRAMES,
	N_PROPS,
};

static GParamSpec *vireo_thumbnail_props[N_PROPS];

static void vireo_thumbnail_paintable_init(GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(VireoThumbnail, vireo_thumbnail, G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(GDK_TYPE_PAINTABLE, vireo_thumbnail_paintable_init))

static void vireo_thumbnail_connect(VireoThumbnail *self);

/* ---- the picture ---- */

static void vireo_thumbnail_set_texture(VireoThumbnail *self, GdkTexture *texture)
{
	gboolean had = self->texture != NULL;
	gboolean resized = !texture || !self->texture ||
			   gdk_texture_get_width(texture) != gdk_texture_get_width(self->texture) ||
			   gdk_texture_get_height(texture) != gdk_texture_get_height(self->texture);
	g_set_object(&self->texture, texture);
	if (resized)
		gdk_paintable_invalidate_size(GDK_PAINTABLE(self));
	gdk_paintable_invalidate_contents(GDK_PAINTABLE(self));
	if (had != (texture != NULL))
		g_object_notify_by_pspec(G_OBJECT(self), vireo_thumbnail_props[PROP_HAS_PICTURE]);
}

static void vireo_thumbnail_snapshot(GdkPaintable *paintable, GdkSnapshot *snapshot, double width, double height)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(paintable);
	if (self->texture)
		gdk_paintable_snapshot(GDK_PAINTABLE(self->texture), snapshot, width, height);
}

static int vireo_thumbnail_get_intrinsic_width(GdkPaintable *paintable)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(paintable);
	return self->texture ? gdk_texture_get_width(self->texture) : 0;
}

static int vireo_thumbnail_get_intrinsic_height(GdkPaintable *paintable)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(paintable);
	return self->texture ? gdk_texture_get_height(self->texture) : 0;
}

static void vireo_thumbnail_paintable_init(GdkPaintableInterface *iface)
{
	iface->snapshot = vireo_thumbnail_snapshot;
	iface->get_intrinsic_width = vireo_thumbnail_get_intrinsic_width;
	iface->get_intrinsic_height = vireo_thumbnail_get_intrinsic_height;
}

/* ---- writing ---- */

static void vireo_thumbnail_write_next(VireoThumbnail *self);

static void vireo_thumbnail_on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoThumbnail) self = data;
	g_autoptr(GError) e = NULL;
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &e)) {
		/* The read side sees the end too and reconnects. */
		g_debug("thumbnail %s: write: %s", self->socket, e->message);
		return;
	}
	g_clear_pointer(&self->writing, g_bytes_unref);
	vireo_thumbnail_write_next(self);
}

static void vireo_thumbnail_write_next(VireoThumbnail *self)
{
	if (self->writing || !self->conn || self->pending->len == 0)
		return;
	self->writing = g_byte_array_free_to_bytes(g_steal_pointer(&self->pending));
	self->pending = g_byte_array_new();
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(self->conn));
	gsize size;
	const void *p = g_bytes_get_data(self->writing, &size);
	g_output_stream_write_all_async(out, p, size, G_PRIORITY_DEFAULT, self->cancel, vireo_thumbnail_on_written,
					g_object_ref(self));
}

static void vireo_thumbnail_send(VireoThumbnail *self, const guint8 *msg, gsize len)
{
	g_byte_array_append(self->pending, msg, (guint)len);
	vireo_thumbnail_write_next(self);
}

/* ---- the session ---- */

static void vireo_thumbnail_end_session(VireoThumbnail *self)
{
	if (self->cancel) {
		g_cancellable_cancel(self->cancel);
		g_clear_object(&self->cancel);
	}
	g_clear_object(&self->conn);
	g_clear_pointer(&self->writing, g_bytes_unref);
	g_byte_array_set_size(self->pending, 0);
	g_clear_handle_id(&self->render_id, g_source_remove);
	if (self->thumb_live) {
		vireo_thumb_clear(&self->thumb);
		self->thumb_live = FALSE;
	}
}

static gboolean vireo_thumbnail_on_retry(gpointer data)
{
	VireoThumbnail *self = data;
	self->retry_id = 0;
	vireo_thumbnail_connect(self);
	return G_SOURCE_REMOVE;
}

/* The session ended: try again while the VM still has a console socket
 * (vireod clears it when the VM stops); the last picture stays up. */
static void vireo_thumbnail_lost(VireoThumbnail *self, const char *why)
{
	g_debug("thumbnail %s: %s; again in %u ms", self->socket, why, self->retry_ms);
	vireo_thumbnail_end_session(self);
	if (!self->socket || self->retry_id)
		return;
	self->retry_id = g_timeout_add(self->retry_ms, vireo_thumbnail_on_retry, self);
	self->retry_ms = MIN(self->retry_ms * 2, VIREO_THUMBNAIL_RETRY_MAX_MS);
}

static gboolean vireo_thumbnail_on_render(gpointer data)
{
	VireoThumbnail *self = data;
	self->render_id = 0;
	self->last_render = g_get_monotonic_time();
	guint32 w, h;
	const guint8 *px = vireo_thumb_render(&self->thumb, &w, &h);
	if (px) {
		g_autoptr(GBytes) bytes = g_bytes_new(px, (gsize)w * h * 4);
		g_autoptr(GdkTexture) t = gdk_memory_texture_new((int)w, (int)h, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes,
								 (gsize)w * 4);
		vireo_thumbnail_set_texture(self, t);
		self->frames++;
		g_object_notify_by_pspec(G_OBJECT(self), vireo_thumbnail_props[PROP_FRAMES]);
	} else {
		vireo_thumbnail_set_texture(self, NULL);
	}
	/* Shown: now the worker may send the next frame. */
	guint8 ack[CONSOLE_HEADER_SIZE + 4];
	long n = vireo_thumb_take_ack(&self->thumb, ack, sizeof(ack));
	if (n > 0)
		vireo_thumbnail_send(self, ack, (gsize)n);
	return G_SOURCE_REMOVE;
}

static void vireo_thumbnail_schedule_render(VireoThumbnail *self)
{
	if (self->render_id || !self->thumb.dirty)
		return;
	gint64 due = self->last_render + (gint64)VIREO_THUMBNAIL_INTERVAL_MS * 1000;
	gint64 now = g_get_monotonic_time();
	guint delay = due > now ? (guint)((due - now) / 1000) : 0;
	self->render_id = g_timeout_add_full(G_PRIORITY_LOW, delay, vireo_thumbnail_on_render, self, NULL);
}

static void vireo_thumbnail_read_next(VireoThumbnail *self);

static void vireo_thumbnail_on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoThumbnail) self = data;
	g_autoptr(GError) e = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (n <= 0) {
		vireo_thumbnail_lost(self, n < 0 ? e->message : "the worker closed the console");
		return;
	}
	int end = vireo_thumb_feed(&self->thumb, self->rbuf, (size_t)n);
	if (end) {
		static const char *const why[] = {
			[VIREO_THUMB_END_FRAMING] = "the worker broke the framing",
			[VIREO_THUMB_END_VERSION] = "the worker speaks another protocol version",
			[VIREO_THUMB_END_ERROR] = "the worker sent an error",
			[VIREO_THUMB_END_NOMEM] = "out of memory",
		};
		/* A worker that cannot be understood will not be sooner: slowly. */
		self->retry_ms = VIREO_THUMBNAIL_RETRY_MAX_MS;
		vireo_thumbnail_lost(self, end < (int)G_N_ELEMENTS(why) && why[end] ? why[end] : "ended");
		return;
	}
	self->retry_ms = VIREO_THUMBNAIL_RETRY_MIN_MS;
	vireo_thumbnail_schedule_render(self);
	vireo_thumbnail_read_next(self);
}

static void vireo_thumbnail_read_next(VireoThumbnail *self)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(self->conn));
	/* Below the UI's own work: a busy screen never makes the list lag. */
	g_input_stream_read_async(in, self->rbuf, VIREO_THUMBNAIL_READ_CHUNK, G_PRIORITY_LOW, self->cancel,
				  vireo_thumbnail_on_read, g_object_ref(self));
}

static void vireo_thumbnail_on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoThumbnail) self = data;
	g_autoptr(GError) e = NULL;
	GSocketConnection *conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!conn) {
		vireo_thumbnail_lost(self, e->message);
		return;
	}
	self->conn = conn;
	if (vireo_thumb_init(&self->thumb, VIREO_THUMBNAIL_BOX_W, VIREO_THUMBNAIL_BOX_H) < 0) {
		vireo_thumbnail_lost(self, "bad thumbnail size");
		return;
	}
	self->thumb_live = TRUE;
	guint8 hello[VIREO_THUMBNAIL_MSG_MAX];
	long n = vireo_thumb_hello(hello, sizeof(hello));
	g_assert(n > 0);
	vireo_thumbnail_send(self, hello, (gsize)n);
	vireo_thumbnail_read_next(self);
}

static void vireo_thumbnail_connect(VireoThumbnail *self)
{
	vireo_thumbnail_end_session(self);
	if (!self->socket)
		return;
	self->cancel = g_cancellable_new();
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(self->socket);
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), self->cancel, vireo_thumbnail_on_connected,
				      g_object_ref(self));
}

void vireo_thumbnail_set_socket(VireoThumbnail *self, const char *path)
{
	g_return_if_fail(VIREO_IS_THUMBNAIL(self));
	if (path && !*path)
		path = NULL;
	if (g_strcmp0(path, self->socket) == 0)
		return;
	g_free(self->socket);
	self->socket = g_strdup(path);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	self->retry_ms = VIREO_THUMBNAIL_RETRY_MIN_MS;
	if (!path) {
		vireo_thumbnail_end_session(self);
		vireo_thumbnail_set_texture(self, NULL);
	} else {
		vireo_thumbnail_connect(self);
	}
	g_object_notify_by_pspec(G_OBJECT(self), vireo_thumbnail_props[PROP_SOCKET]);
}

const char *vireo_thumbnail_get_socket(VireoThumbnail *self)
{
	return self->socket;
}

GdkTexture *vireo_thumbnail_get_texture(VireoThumbnail *self)
{
	return self->texture;
}

guint vireo_thumbnail_get_frames(VireoThumbnail *self)
{
	return self->frames;
}

gboolean vireo_thumbnail_get_has_picture(VireoThumbnail *self)
{
	return self->texture != NULL;
}

guint64 vireo_thumbnail_get_bad_messages(VireoThumbnail *self)
{
	return self->thumb_live ? self->thumb.bad : 0;
}

/* ---- GObject ---- */

static void vireo_thumbnail_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(object);
	switch (id) {
	case PROP_SOCKET:
		g_value_set_string(value, self->socket);
		break;
	case PROP_HAS_PICTURE:
		g_value_set_boolean(value, self->texture != NULL);
		break;
	case PROP_FRAMES:
		g_value_set_uint(value, self->frames);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void vireo_thumbnail_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	switch (id) {
	case PROP_SOCKET:
		vireo_thumbnail_set_socket(VIREO_THUMBNAIL(object), g_value_get_string(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void vireo_thumbnail_dispose(GObject *object)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(object);
	g_clear_handle_id(&self->retry_id, g_source_remove);
	vireo_thumbnail_end_session(self);
	g_clear_object(&self->texture);
	G_OBJECT_CLASS(vireo_thumbnail_parent_class)->dispose(object);
}

static void vireo_thumbnail_finalize(GObject *object)
{
	VireoThumbnail *self = VIREO_THUMBNAIL(object);
	g_free(self->socket);
	g_byte_array_unref(self->pending);
	g_free(self->rbuf);
	G_OBJECT_CLASS(vireo_thumbnail_parent_class)->finalize(object);
}

static void vireo_thumbnail_class_init(VireoThumbnailClass *klass)
{
	GObjectClass *oc = G_OBJECT_CLASS(klass);
	oc->get_property = vireo_thumbnail_get_property;
	oc->set_property = vireo_thumbnail_set_property;
	oc->dispose = vireo_thumbnail_dispose;
	oc->finalize = vireo_thumbnail_finalize;
	vireo_thumbnail_props[PROP_SOCKET] =
		g_param_spec_string("socket", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
	vireo_thumbnail_props[PROP_HAS_PICTURE] =
		g_param_spec_boolean("has-picture", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	vireo_thumbnail_props[PROP_FRAMES] =
		g_param_spec_uint("frames", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(oc, N_PROPS, vireo_thumbnail_props);
}

static void vireo_thumbnail_init(VireoThumbnail *self)
{
	self->pending = g_byte_array_new();
	self->rbuf = g_malloc(VIREO_THUMBNAIL_READ_CHUNK);
	self->retry_ms = VIREO_THUMBNAIL_RETRY_MIN_MS;
}

VireoThumbnail *vireo_thumbnail_new(void)
{
	return g_object_new(VIREO_TYPE_THUMBNAIL, NULL);
}
