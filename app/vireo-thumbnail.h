/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoThumbnail: a live picture of a VM's screen, as a GdkPaintable. It
 * connects to the VM's console socket (vireod's ConsoleSocket) as a viewer
 * with inline pixels (vireo-thumb.c decodes and downscales), renders at
 * most every VIREO_THUMBNAIL_INTERVAL_MS and acknowledges frames only then,
 * so the worker merges damage while the thumbnail is not looking. All I/O
 * is asynchronous on the main context.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The box a thumbnail fits in (room for a 2× display at the list's size). */
#define VIREO_THUMBNAIL_BOX_W        320u
#define VIREO_THUMBNAIL_BOX_H        240u
#define VIREO_THUMBNAIL_INTERVAL_MS  500u

#define VIREO_TYPE_THUMBNAIL (vireo_thumbnail_get_type())
G_DECLARE_FINAL_TYPE(VireoThumbnail, vireo_thumbnail, VIREO, THUMBNAIL, GObject)

VireoThumbnail *vireo_thumbnail_new(void);

/* The console socket to show; NULL or "" disconnects and drops the picture. */
void vireo_thumbnail_set_socket(VireoThumbnail *self, const char *path);
const char *vireo_thumbnail_get_socket(VireoThumbnail *self);

/* The current picture (NULL when there is none) and how many were made. */
GdkTexture *vireo_thumbnail_get_texture(VireoThumbnail *self);
guint vireo_thumbnail_get_frames(VireoThumbnail *self);
gboolean vireo_thumbnail_get_has_picture(VireoThumbnail *self);
/* Messages of the worker's that were dropped as bad, for tests and debugging. */
guint64 vireo_thumbnail_get_bad_messages(VireoThumbnail *self);

G_END_DECLS
