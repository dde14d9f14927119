// SPDX-License-Identifier: GPL-2.0-or-later
#include <signal.h>
#include <string.h>

#include "vireod-testlib.h"

static GSubprocess *testlib_vireod;

const char *testlib_env(const char *name)
{
	const char *v = g_getenv(name);
	if (!v || !*v)
		g_error("%s is not set (tests/service/meson.build sets it)", name);
	return v;
}

void testlib_vireod_start(void)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	testlib_vireod = g_subprocess_launcher_spawn(l, &e, testlib_env("VIREOD"), NULL);
	g_assert_no_error(e);
	/* Ready when it owns its name. */
	g_autoptr(GDBusConnection) c = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &e);
	g_assert_no_error(e);
	for (int i = 0; i < 200; i++) {
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
								    "org.freedesktop.DBus", "NameHasOwner",
								    g_variant_new("(s)", TESTLIB_BUS_NAME),
								    G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
								    NULL, NULL);
		gboolean has;
		g_variant_get(r, "(b)", &has);
		if (has)
			return;
		g_usleep(50000);
	}
	g_error("vireod did not take its bus name");
}

void testlib_vireod_stop(void)
{
	g_subprocess_send_signal(testlib_vireod, SIGTERM);
	g_autoptr(GError) e = NULL;
	g_assert_true(g_subprocess_wait(testlib_vireod, NULL, &e));
	g_assert_true(g_subprocess_get_if_exited(testlib_vireod));
	g_assert_cmpint(g_subprocess_get_exit_status(testlib_vireod), ==, 0);
	g_clear_object(&testlib_vireod);
}

VireoManager *testlib_manager(void)
{
	g_autoptr(GError) e = NULL;
	VireoManager *m = vireo_manager_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
							       TESTLIB_BUS_NAME, TESTLIB_PATH, NULL, &e);
	g_assert_no_error(e);
	return m;
}

VireoMachine *testlib_machine(const char *path, int timeout_ms)
{
	g_autoptr(GError) e = NULL;
	VireoMachine *vm = vireo_machine_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
							       TESTLIB_BUS_NAME, path, NULL, &e);
	g_assert_no_error(e);
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(vm), timeout_ms);
	return vm;
}

static gboolean testlib_on_timeout(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

struct testlib_want {
	const char *property, *value;
	GMainLoop *loop;
};

static void testlib_on_notify(GObject *o, GParamSpec *ps, gpointer data)
{
	struct testlib_want *w = data;
	g_autofree char *v = NULL;
	g_object_get(o, w->property, &v, NULL);
	if (g_strcmp0(v, w->value) == 0)
		g_main_loop_quit(w->loop);
}

char *testlib_worker_log_path(VireoMachine *vm)
{
	return g_build_filename(g_getenv("XDG_RUNTIME_DIR"), "vireo", vireo_machine_get_id(vm), "worker.log", NULL);
}

void testlib_show_worker_log(VireoMachine *vm)
{
	g_autofree char *path = testlib_worker_log_path(vm);
	g_autofree char *text = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &text, &len, NULL)) {
		g_test_message("%s: cannot be read", path);
		return;
	}
	const size_t tail = 16384;
	g_test_message("the last of %s:\n%s", path, len > tail ? text + len - tail : text);
}

void testlib_wait_property(VireoMachine *vm, const char *property, const char *value, unsigned timeout_s)
{
	struct testlib_want w = { property, value, g_main_loop_new(NULL, FALSE) };
	g_autofree char *sig = g_strconcat("notify::", property, NULL);
	gulong id = g_signal_connect(vm, sig, G_CALLBACK(testlib_on_notify), &w);
	guint t = g_timeout_add_seconds(timeout_s, testlib_on_timeout, w.loop);
	g_autofree char *now = NULL;
	g_object_get(vm, property, &now, NULL);
	if (g_strcmp0(now, value) != 0)
		g_main_loop_run(w.loop);
	g_signal_handler_disconnect(vm, id);
	g_autofree char *got = NULL;
	g_object_get(vm, property, &got, NULL);
	if (g_strcmp0(got, value) != 0) {
		testlib_show_worker_log(vm);
		g_error("%s of %s is \"%s\" (%s), not \"%s\", after %u s", property, vireo_machine_get_name(vm), got,
			vireo_machine_get_state_reason(vm), value, timeout_s);
	}
	g_source_remove(t);
	g_main_loop_unref(w.loop);
}

guint64 testlib_reply_number(const char *reply, const char *key)
{
	g_autofree char *k = g_strdup_printf(" %s=", key);
	const char *p = strstr(reply, k);
	if (!p)
		g_error("no %s in \"%s\"", key, reply);
	return g_ascii_strtoull(p + strlen(k), NULL, 10);
}
