// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <gio/gio.h>

#include "connect-vireod.h"
#include "vireo-dbus.h"

#define VIREOD_ERROR_NOT_FOUND "org.vireo.Vireo1.Error.NotFound"

struct connect_vireod {
	struct connect_io *io;
	char *vm;
	/* io thread only */
	GCancellable *cancel;
	GDBusConnection *bus;
	guint watch_id;
	VireoMachine *machine;
	gulong props_id;
	GSource *retry;
	/* teardown handshake with the window thread */
	GMutex lock;
	GCond cond;
	bool torn_down;
};

struct vireod_call {
	struct connect_vireod *v;
	enum connect_action action;
};

void connect_vireod_info_free(struct connect_vireod_info *info)
{
	if (!info)
		return;
	g_free(info->id);
	g_free(info->name);
	g_free(info->state);
	g_free(info->reason);
	g_free(info->console_socket);
	g_free(info);
}

static void vireod_post_info(struct connect_vireod *v)
{
	struct connect_vireod_info *info = g_new0(struct connect_vireod_info, 1);
	if (v->machine) {
		info->up = true;
		info->id = g_strdup(vireo_machine_get_id(v->machine));
		info->name = g_strdup(vireo_machine_get_name(v->machine));
		info->state = g_strdup(vireo_machine_get_state(v->machine));
		info->reason = g_strdup(vireo_machine_get_state_reason(v->machine));
		info->console_socket = g_strdup(vireo_machine_get_console_socket(v->machine));
		info->emulated = vireo_machine_get_emulated_host(v->machine);
	}
	if (!connect_io_post(v->io, CONNECT_EVENT_VIREOD, info))
		connect_vireod_info_free(info);
}

static void vireod_notice(struct connect_vireod *v, enum connect_event kind, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void vireod_notice(struct connect_vireod *v, enum connect_event kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (!connect_io_post(v->io, kind, msg))
		g_free(msg);
}

static void vireod_drop_machine(struct connect_vireod *v)
{
	if (v->machine && v->props_id)
		g_signal_handler_disconnect(v->machine, v->props_id);
	v->props_id = 0;
	g_clear_object(&v->machine);
}

static void vireod_find(struct connect_vireod *v);

static gboolean vireod_on_retry(gpointer data)
{
	struct connect_vireod *v = data;
	g_clear_pointer(&v->retry, g_source_unref);
	vireod_find(v);
	return G_SOURCE_REMOVE;
}

static void vireod_schedule_retry(struct connect_vireod *v)
{
	if (v->retry)
		return;
	v->retry = g_timeout_source_new(CONNECT_VIREOD_RETRY_MS);
	g_source_set_callback(v->retry, vireod_on_retry, v, NULL);
	g_source_attach(v->retry, g_main_context_get_thread_default());
}

static void vireod_on_props(GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
	vireod_post_info(data);
}

static void vireod_on_machine(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) e = NULL;
	VireoMachine *m = vireo_machine_proxy_new_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;   /* data is gone */
	struct connect_vireod *v = data;
	if (!m) {
		vireod_notice(v, CONNECT_EVENT_NOTICE, "vireod: %s", e->message);
		vireod_schedule_retry(v);
		return;
	}
	vireod_drop_machine(v);
	v->machine = m;
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(m), CONNECT_VIREOD_CALL_TIMEOUT_MS);
	v->props_id = g_signal_connect(m, "g-properties-changed", G_CALLBACK(vireod_on_props), v);
	vireod_post_info(v);
}

static void vireod_on_found(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *path = NULL;
	gboolean ok = vireo_manager_call_find_machine_finish(VIREO_MANAGER(src), &path, res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	struct connect_vireod *v = data;
	if (!ok) {
		g_autofree char *remote = g_dbus_error_get_remote_error(e);
		if (remote && strcmp(remote, VIREOD_ERROR_NOT_FOUND) == 0) {
			vireod_notice(v, CONNECT_EVENT_FATAL, "vireod has no virtual machine \"%s\"", v->vm);
			return;
		}
		g_dbus_error_strip_remote_error(e);
		vireod_notice(v, CONNECT_EVENT_NOTICE, "vireod: %s", e->message);
		vireod_schedule_retry(v);
		return;
	}
	vireo_machine_proxy_new(v->bus, G_DBUS_PROXY_FLAGS_NONE, CONNECT_VIREOD_BUS_NAME, path, v->cancel,
				vireod_on_machine, v);
}

static void vireod_on_manager(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoManager) mgr = vireo_manager_proxy_new_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	struct connect_vireod *v = data;
	if (!mgr) {
		vireod_notice(v, CONNECT_EVENT_NOTICE, "vireod: %s", e->message);
		vireod_schedule_retry(v);
		return;
	}
	vireo_manager_call_find_machine(mgr, v->vm, v->cancel, vireod_on_found, v);
}

static void vireod_find(struct connect_vireod *v)
{
	if (!v->bus)
		return;
	vireo_manager_proxy_new(v->bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, CONNECT_VIREOD_BUS_NAME,
				CONNECT_VIREOD_PATH, v->cancel, vireod_on_manager, v);
}

static void vireod_on_appeared(GDBusConnection *c, const char *name, const char *owner, gpointer data)
{
	vireod_find(data);
}

static void vireod_on_vanished(GDBusConnection *c, const char *name, gpointer data)
{
	struct connect_vireod *v = data;
	vireod_drop_machine(v);
	vireod_post_info(v);
}

static void vireod_on_bus(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) e = NULL;
	GDBusConnection *bus = g_bus_get_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	struct connect_vireod *v = data;
	if (!bus) {
		vireod_notice(v, CONNECT_EVENT_FATAL, "cannot reach the session bus for vireod: %s", e->message);
		return;
	}
	v->bus = bus;
	/* Auto-start: D-Bus activation brings vireod up when it is installed. */
	v->watch_id = g_bus_watch_name_on_connection(bus, CONNECT_VIREOD_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_AUTO_START,
						     vireod_on_appeared, vireod_on_vanished, v, NULL);
}

static gboolean vireod_start(gpointer data)
{
	struct connect_vireod *v = data;
	g_bus_get(G_BUS_TYPE_SESSION, v->cancel, vireod_on_bus, v);
	return G_SOURCE_REMOVE;
}

struct connect_vireod *connect_vireod_new(struct connect_io *io, const char *vm)
{
	if (!vm || !*vm || strlen(vm) > CONNECT_VIREOD_VM_MAX)
		return NULL;
	struct connect_vireod *v = g_new0(struct connect_vireod, 1);
	v->io = io;
	v->vm = g_strdup(vm);
	v->cancel = g_cancellable_new();
	g_mutex_init(&v->lock);
	g_cond_init(&v->cond);
	g_main_context_invoke(connect_io_context(io), vireod_start, v);
	return v;
}

static gboolean vireod_teardown(gpointer data)
{
	struct connect_vireod *v = data;
	g_cancellable_cancel(v->cancel);
	if (v->watch_id)
		g_bus_unwatch_name(v->watch_id);
	if (v->retry) {
		g_source_destroy(v->retry);
		g_clear_pointer(&v->retry, g_source_unref);
	}
	vireod_drop_machine(v);
	g_clear_object(&v->bus);
	g_mutex_lock(&v->lock);
	v->torn_down = true;
	g_cond_broadcast(&v->cond);
	g_mutex_unlock(&v->lock);
	return G_SOURCE_REMOVE;
}

void connect_vireod_free(struct connect_vireod *v)
{
	if (!v)
		return;
	g_main_context_invoke(connect_io_context(v->io), vireod_teardown, v);
	g_mutex_lock(&v->lock);
	while (!v->torn_down)
		g_cond_wait(&v->cond, &v->lock);
	g_mutex_unlock(&v->lock);
	g_mutex_clear(&v->lock);
	g_cond_clear(&v->cond);
	g_object_unref(v->cancel);
	g_free(v->vm);
	g_free(v);
}

typedef gboolean (*vireod_finish_fn)(VireoMachine *m, GAsyncResult *res, GError **error);

static vireod_finish_fn vireod_finisher(enum connect_action a, bool resume)
{
	switch (a) {
	case CONNECT_ACTION_START:
		return vireo_machine_call_start_finish;
	case CONNECT_ACTION_SHUTDOWN:
		return vireo_machine_call_shut_down_finish;
	case CONNECT_ACTION_TURN_OFF:
		return vireo_machine_call_turn_off_finish;
	case CONNECT_ACTION_PAUSE:
		return resume ? vireo_machine_call_resume_finish : vireo_machine_call_pause_finish;
	case CONNECT_ACTION_RESET:
		return vireo_machine_call_reset_finish;
	case CONNECT_ACTION_SAVE:
		return vireo_machine_call_save_finish;
	default:
		return NULL;
	}
}

struct vireod_pending {
	struct connect_vireod *v;
	enum connect_action action;
	bool resume;
};

static void vireod_on_called(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vireod_pending *p = data;
	g_autoptr(GError) e = NULL;
	gboolean ok = vireod_finisher(p->action, p->resume)(VIREO_MACHINE(src), res, &e);
	if (!ok && !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_dbus_error_strip_remote_error(e);
		vireod_notice(p->v, CONNECT_EVENT_NOTICE, "%s failed: %s",
			      p->resume ? "resume" : connect_action_name(p->action), e->message);
	}
	g_free(p);
}

static gboolean vireod_do_request(gpointer data)
{
	struct vireod_call *c = data;
	struct connect_vireod *v = c->v;
	if (!v->machine) {
		vireod_notice(v, CONNECT_EVENT_NOTICE, "%s: vireod does not answer", connect_action_name(c->action));
		return G_SOURCE_REMOVE;
	}
	struct vireod_pending *p = g_new0(struct vireod_pending, 1);
	p->v = v;
	p->action = c->action;
	p->resume = g_strcmp0(vireo_machine_get_state(v->machine), "Paused") == 0;
	VireoMachine *m = v->machine;
	switch (c->action) {
	case CONNECT_ACTION_START:
		vireo_machine_call_start(m, v->cancel, vireod_on_called, p);
		break;
	case CONNECT_ACTION_SHUTDOWN:
		vireo_machine_call_shut_down(m, 0, v->cancel, vireod_on_called, p);
		break;
	case CONNECT_ACTION_TURN_OFF:
		vireo_machine_call_turn_off(m, v->cancel, vireod_on_called, p);
		break;
	case CONNECT_ACTION_PAUSE:
		if (p->resume)
			vireo_machine_call_resume(m, v->cancel, vireod_on_called, p);
		else
			vireo_machine_call_pause(m, v->cancel, vireod_on_called, p);
		break;
	case CONNECT_ACTION_RESET:
		vireo_machine_call_reset(m, v->cancel, vireod_on_called, p);
		break;
	case CONNECT_ACTION_SAVE:
		vireo_machine_call_save(m, v->cancel, vireod_on_called, p);
		break;
	default:
		g_free(p);
		break;
	}
	return G_SOURCE_REMOVE;
}

void connect_vireod_request(struct connect_vireod *v, enum connect_action action)
{
	struct vireod_call *c = g_new0(struct vireod_call, 1);
	c->v = v;
	c->action = action;
	g_main_context_invoke_full(connect_io_context(v->io), G_PRIORITY_DEFAULT, vireod_do_request, c, g_free);
}
