// SPDX-License-Identifier: GPL-2.0-or-later
/* vireod's control-socket calls: a worker that never answers is a timeout,
 * which the caller can tell from its own cancel (Start keeps polling on the
 * first and stops on the second). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "worker_link.h"

struct server {
	char *dir, *path;
	int fd;
	const char *reply;   /* NULL: accept and say nothing */
	GThread *thread;
};

static gpointer server_run(gpointer data)
{
	struct server *s = data;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char buf[256];
	ssize_t n = read(c, buf, sizeof(buf));
	if (n > 0 && s->reply && write(c, s->reply, strlen(s->reply)) < 0)
		g_warning("server: write: %s", g_strerror(errno));
	/* Held open until the client gives up: it hangs up first. */
	while (read(c, buf, sizeof(buf)) > 0)
		;
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *reply)
{
	s->dir = g_dir_make_tmp("worker-link-XXXXXX", NULL);
	g_assert_nonnull(s->dir);
	s->path = g_build_filename(s->dir, "control", NULL);
	s->reply = reply;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	g_strlcpy(a.sun_path, s->path, sizeof(a.sun_path));
	g_assert_cmpint(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(s->fd, 4), ==, 0);
	s->thread = g_thread_new("server", server_run, s);
}

static void server_stop(struct server *s)
{
	g_thread_join(s->thread);
	close(s->fd);
	g_unlink(s->path);
	g_rmdir(s->dir);
	g_free(s->path);
	g_free(s->dir);
}

struct call {
	GMainLoop *loop;
	char *reply;
	GError *error;
};

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	c->reply = worker_link_call_finish(res, &c->error);
	g_main_loop_quit(c->loop);
}

static gboolean on_cancel(gpointer data)
{
	g_cancellable_cancel(data);
	return G_SOURCE_REMOVE;
}

static void call(const char *path, unsigned timeout_ms, GCancellable *cancel, struct call *c)
{
	c->loop = g_main_loop_new(NULL, FALSE);
	worker_link_call_timeout(path, "status", timeout_ms, cancel, on_done, c);
	g_main_loop_run(c->loop);
	g_main_loop_unref(c->loop);
}

static void test_reply(void)
{
	struct server s;
	struct call c = { 0 };
	server_start(&s, "ok state=running\n");
	call(s.path, 5000, NULL, &c);
	g_assert_no_error(c.error);
	g_assert_cmpstr(c.reply, ==, "ok state=running");
	g_free(c.reply);
	server_stop(&s);
}

static void test_timeout(void)
{
	struct server s;
	struct call c = { 0 };
	server_start(&s, NULL);
	call(s.path, 200, NULL, &c);
	g_assert_null(c.reply);
	g_assert_error(c.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
	g_assert_nonnull(strstr(c.error->message, "did not answer within 200 ms"));
	g_error_free(c.error);
	server_stop(&s);
}

static void test_caller_cancel(void)
{
	struct server s;
	struct call c = { 0 };
	server_start(&s, NULL);
	g_autoptr(GCancellable) cancel = g_cancellable_new();
	g_timeout_add(100, on_cancel, cancel);
	call(s.path, 5000, cancel, &c);
	g_assert_null(c.reply);
	g_assert_error(c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_error_free(c.error);
	server_stop(&s);
}

static void test_no_worker(void)
{
	struct call c = { 0 };
	call("/nonexistent/vireo/control", 5000, NULL, &c);
	g_assert_null(c.reply);
	g_assert_nonnull(c.error);
	g_assert_false(g_error_matches(c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
	g_error_free(c.error);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker-link/reply", test_reply);
	g_test_add_func("/worker-link/timeout", test_timeout);
	g_test_add_func("/worker-link/caller-cancel", test_caller_cancel);
	g_test_add_func("/worker-link/no-worker", test_no_worker);
	return g_test_run();
}
