// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manager's live thumbnail (app/vireo-thumbnail.c) against the worker's
 * real console server and display (tests/viewer/connect-test-worker, no
 * guest): the picture, pixel by pixel; a damaged rectangle changing what it
 * covers; a new mode; the worker gone (the last picture stays) and a new
 * one on the same socket (found again by itself); the socket taken away
 * (the picture goes). All through the main loop, as in the manager.
 *
 * Environment: TEST_WORKER (connect-test-worker).
 */
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "vireo-thumb.h"
#include "vireo-thumbnail.h"

#define STEP_TIMEOUT_S 60

static char *socket_path;

#define WAIT_FOR(cond, what) \
	G_STMT_START { \
		gint64 end_ = g_get_monotonic_time() + (gint64)STEP_TIMEOUT_S * G_USEC_PER_SEC; \
		while (!(cond)) { \
			if (g_get_monotonic_time() > end_) \
				g_error("waited %d s for %s", STEP_TIMEOUT_S, what); \
			g_main_context_iteration(NULL, TRUE); \
		} \
	} G_STMT_END

static gboolean on_tick(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

struct worker {
	GSubprocess *proc;
	GOutputStream *in;
};

static void worker_start(struct worker *w, guint width, guint height, guint seed)
{
	const char *exe = g_getenv("TEST_WORKER");
	g_assert_nonnull(exe);
	g_autofree char *ws = g_strdup_printf("%u", width), *hs = g_strdup_printf("%u", height),
			*ss = g_strdup_printf("%u", seed);
	g_autoptr(GError) e = NULL;
	w->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &e, exe, socket_path,
				   ws, hs, ss, NULL);
	g_assert_no_error(e);
	w->in = g_subprocess_get_stdin_pipe(w->proc);
	g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(w->proc));
	g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, &e);
	g_assert_no_error(e);
	g_assert_cmpstr(line, ==, "ready");
}

static void worker_say(struct worker *w, const char *line)
{
	g_autoptr(GError) e = NULL;
	g_assert_true(g_output_stream_write_all(w->in, line, strlen(line), NULL, NULL, &e));
	g_assert_no_error(e);
}

static void worker_stop(struct worker *w)
{
	/* Its stdin closed: it ends (and its socket goes with it). */
	g_assert_true(g_output_stream_close(w->in, NULL, NULL));
	g_autoptr(GError) e = NULL;
	g_assert_true(g_subprocess_wait(w->proc, NULL, &e));
	g_clear_object(&w->proc);
	g_unlink(socket_path);
}

/* connect-test-worker's picture (tests/guest/fbpattern.py's formula), as
 * the bytes of an XRGB8888 pixel: B, G, R, X. */
static void pattern(guint x, guint y, guint seed, guint8 px[4])
{
	px[0] = (guint8)((x ^ y) & 255);
	px[1] = (guint8)((y * 5 + seed * 3) & 255);
	px[2] = (guint8)((x * 7 + seed) & 255);
	px[3] = 0;
}

/* The thumbnail's pixel (x, y) by the sampling rule: the centres of the
 * samples' shares of the screen, averaged. seed_at says which pattern
 * each screen pixel shows. */
static void expected(guint sw, guint sh, guint tw, guint th, guint x, guint y, guint (*seed_at)(guint, guint),
		     guint8 out[4])
{
	const guint s = VIREO_THUMB_SUPERSAMPLE;
	guint sum[3] = { 0 };
	for (guint dy = 0; dy < s; dy++)
		for (guint dx = 0; dx < s; dx++) {
			guint64 j = (guint64)x * s + dx, i = (guint64)y * s + dy;
			guint px = (guint)(((2 * j + 1) * sw) / (2ull * tw * s));
			guint py = (guint)(((2 * i + 1) * sh) / (2ull * th * s));
			guint8 p[4];
			pattern(px, py, seed_at(px, py), p);
			for (int c = 0; c < 3; c++)
				sum[c] += p[c];
		}
	for (int c = 0; c < 3; c++)
		out[c] = (guint8)((sum[c] + s * s / 2) / (s * s));
	out[3] = 0xff;
}

static guint picture_seed;
static guint quarter_seed;   /* the top-left quarter, once redrawn; 0: not */
static guint quarter_w, quarter_h;

static guint seed_at(guint x, guint y)
{
	return quarter_seed && x < quarter_w && y < quarter_h ? quarter_seed : picture_seed;
}

/* Whether the thumbnail shows the screen sw × sh now, every pixel. */
static gboolean shows(VireoThumbnail *t, guint sw, guint sh)
{
	GdkTexture *tex = vireo_thumbnail_get_texture(t);
	if (!tex)
		return FALSE;
	guint tw, th;
	vireo_thumb_fit(sw, sh, VIREO_THUMBNAIL_BOX_W, VIREO_THUMBNAIL_BOX_H, &tw, &th);
	if ((guint)gdk_texture_get_width(tex) != tw || (guint)gdk_texture_get_height(tex) != th)
		return FALSE;
	g_autofree guint8 *px = g_malloc((gsize)tw * th * 4);
	gdk_texture_download(tex, px, (gsize)tw * 4);
	for (guint y = 0; y < th; y++)
		for (guint x = 0; x < tw; x++) {
			guint8 want[4], *got = px + ((gsize)y * tw + x) * 4;
			expected(sw, sh, tw, th, x, y, seed_at, want);
			/* gdk_texture_download gives B, G, R, A (premultiplied, opaque) */
			if (memcmp(got, want, 4) != 0)
				return FALSE;
		}
	return TRUE;
}

static void test_live(void)
{
	struct worker w;
	worker_start(&w, 1024, 768, 7);
	picture_seed = 7;
	g_autoptr(VireoThumbnail) t = vireo_thumbnail_new();
	g_assert_false(vireo_thumbnail_get_has_picture(t));
	vireo_thumbnail_set_socket(t, socket_path);
	WAIT_FOR(shows(t, 1024, 768), "the worker's picture, downscaled");
	g_assert_cmpint(gdk_paintable_get_intrinsic_width(GDK_PAINTABLE(t)), ==, 320);
	g_assert_cmpint(gdk_paintable_get_intrinsic_height(GDK_PAINTABLE(t)), ==, 240);
	g_assert_true(vireo_thumbnail_get_has_picture(t));
	guint frames = vireo_thumbnail_get_frames(t);

	/* A rectangle drawn anew (damage): only it changes. */
	quarter_seed = 99;
	quarter_w = 512;
	quarter_h = 384;
	worker_say(&w, "rect 0 0 512 384 99\n");
	WAIT_FOR(shows(t, 1024, 768), "the redrawn quarter");
	g_assert_cmpuint(vireo_thumbnail_get_frames(t), >, frames);

	/* A new mode. */
	quarter_seed = 0;
	picture_seed = 5;
	worker_say(&w, "size 1920 1080 5\n");
	WAIT_FOR(shows(t, 1920, 1080), "the new mode");
	g_assert_cmpint(gdk_paintable_get_intrinsic_height(GDK_PAINTABLE(t)), ==, 180);

	/* The worker goes: the last picture stays; a new worker on the same
	 * socket (a restarted VM) is found again without being asked. */
	worker_stop(&w);
	for (int i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_true(vireo_thumbnail_get_has_picture(t));
	g_assert_true(shows(t, 1920, 1080));
	worker_start(&w, 800, 600, 3);
	picture_seed = 3;
	WAIT_FOR(shows(t, 800, 600), "the new worker's picture");
	g_assert_cmpuint(vireo_thumbnail_get_bad_messages(t), ==, 0);

	/* No console socket (the VM stopped): no picture. */
	vireo_thumbnail_set_socket(t, NULL);
	g_assert_false(vireo_thumbnail_get_has_picture(t));
	g_assert_null(vireo_thumbnail_get_texture(t));
	g_assert_cmpint(gdk_paintable_get_intrinsic_width(GDK_PAINTABLE(t)), ==, 0);
	worker_stop(&w);
}

/* A socket with nobody behind it: no picture, no trouble, and the worker
 * is found once it comes. */
static void test_worker_late(void)
{
	g_unlink(socket_path);
	g_autoptr(VireoThumbnail) t = vireo_thumbnail_new();
	vireo_thumbnail_set_socket(t, socket_path);
	gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
	while (g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(vireo_thumbnail_get_has_picture(t));
	struct worker w;
	worker_start(&w, 640, 480, 11);
	picture_seed = 11;
	WAIT_FOR(shows(t, 640, 480), "the late worker's picture");
	vireo_thumbnail_set_socket(t, "");
	g_assert_false(vireo_thumbnail_get_has_picture(t));
	worker_stop(&w);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_autofree char *dir = g_dir_make_tmp("vireo-thumbnail-XXXXXX", NULL);
	socket_path = g_build_filename(dir, "console", NULL);
	g_timeout_add(50, on_tick, NULL);
	g_test_add_func("/app-thumbnail/live", test_live);
	g_test_add_func("/app-thumbnail/worker-late", test_worker_late);
	int rc = g_test_run();
	g_rmdir(dir);
	return rc;
}
