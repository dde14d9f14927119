// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-service.h"

struct _VireoService {
	GObject parent_instance;

	/* owned references */
	GListStore *machines;          /* of VireoVm, by name */
	GCancellable *cancel;          /* setting up the link to the current vireod */
	GDBusConnection *bus;
	GDBusObjectManager *objects;
	VireoManager *manager;
	char *error;

	guint watch_id;
	guint setups_pending;
	VireoServiceStatus status;
	gulong added_id, removed_id, host_kind_id, host_reason_id;
};

enum {
	PROP_0,
	PROP_STATUS,
	PROP_HOST_KIND,
	PROP_HOST_REASON,
	N_PROPS,
};

static GParamSpec *vireo_service_props[N_PROPS];

G_DEFINE_FINAL_TYPE(VireoService, vireo_service, G_TYPE_OBJECT)

static void vireo_service_set_status(VireoService *self, VireoServiceStatus st, const char *error)
{
	g_free(self->error);
	self->error = g_strdup(error ? error : "");
	if (self->status == st)
		return;
	self->status = st;
	g_object_notify_by_pspec(G_OBJECT(self), vireo_service_props[PROP_STATUS]);
}

/* ---- the list ---- */

static int vireo_service_compare(gconstpointer a, gconstpointer b, gpointer data)
{
	VireoVm *x = (VireoVm *)a, *y = (VireoVm *)b;
	int c = g_utf8_collate(vireo_vm_get_name(x), vireo_vm_get_name(y));
	return c ? c : g_strcmp0(vireo_vm_get_object_path(x), vireo_vm_get_object_path(y));
}

static gboolean vireo_service_index(VireoService *self, const char *path, guint *index)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->machines));
	for (guint i = 0; i < n; i++) {
		g_autoptr(VireoVm) vm = g_list_model_get_item(G_LIST_MODEL(self->machines), i);
		if (g_strcmp0(vireo_vm_get_object_path(vm), path) == 0) {
			*index = i;
			return TRUE;
		}
	}
	return FALSE;
}

static void vireo_service_on_vm_changed(VireoVm *vm, const char *property, gpointer data)
{
	VireoService *self = data;
	guint i;
	if (!g_str_equal(property, "name") || !vireo_service_index(self, vireo_vm_get_object_path(vm), &i))
		return;
	/* A rename moves the VM to its place in the order. */
	g_object_ref(vm);
	g_list_store_remove(self->machines, i);
	g_list_store_insert_sorted(self->machines, vm, vireo_service_compare, NULL);
	g_object_unref(vm);
}

static void vireo_service_add(VireoService *self, GDBusObject *object)
{
	VireoMachine *machine = vireo_object_peek_machine(VIREO_OBJECT(object));
	guint i;
	if (!machine || vireo_service_index(self, g_dbus_object_get_object_path(object), &i))
		return;
	g_autoptr(VireoVm) vm = vireo_vm_new(machine);
	g_signal_connect_object(vm, "changed", G_CALLBACK(vireo_service_on_vm_changed), self, 0);
	g_list_store_insert_sorted(self->machines, vm, vireo_service_compare, NULL);
}

static void vireo_service_on_object_added(GDBusObjectManager *om, GDBusObject *object, gpointer data)
{
	vireo_service_add(data, object);
}

static void vireo_service_on_object_removed(GDBusObjectManager *om, GDBusObject *object, gpointer data)
{
	VireoService *self = data;
	guint i;
	if (vireo_service_index(self, g_dbus_object_get_object_path(object), &i))
		g_list_store_remove(self->machines, i);
}

/* ---- the link ---- */

static void vireo_service_drop(VireoService *self)
{
	if (self->cancel) {
		g_cancellable_cancel(self->cancel);
		g_clear_object(&self->cancel);
	}
	if (self->objects) {
		g_clear_signal_handler(&self->added_id, self->objects);
		g_clear_signal_handler(&self->removed_id, self->objects);
	}
	if (self->manager) {
		g_clear_signal_handler(&self->host_kind_id, self->manager);
		g_clear_signal_handler(&self->host_reason_id, self->manager);
	}
	g_clear_object(&self->objects);
	g_clear_object(&self->manager);
	g_clear_object(&self->bus);
	self->setups_pending = 0;
	g_list_store_remove_all(self->machines);
}

static void vireo_service_setup_done(VireoService *self)
{
	if (--self->setups_pending > 0)
		return;
	GList *objects = g_dbus_object_manager_get_objects(self->objects);
	for (GList *l = objects; l; l = l->next)
		vireo_service_add(self, l->data);
	g_list_free_full(objects, g_object_unref);
	vireo_service_set_status(self, VIREO_SERVICE_READY, NULL);
	g_object_notify_by_pspec(G_OBJECT(self), vireo_service_props[PROP_HOST_KIND]);
	g_object_notify_by_pspec(G_OBJECT(self), vireo_service_props[PROP_HOST_REASON]);
}

static void vireo_service_setup_failed(VireoService *self, GError *e)
{
	g_dbus_error_strip_remote_error(e);
	g_autofree char *msg = g_strdup_printf(_("it answered, but not as expected (%s)"), e->message);
	vireo_service_drop(self);
	vireo_service_set_status(self, VIREO_SERVICE_UNAVAILABLE, msg);
}

static void vireo_service_on_objects(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoService) self = data;
	g_autoptr(GError) e = NULL;
	GDBusObjectManager *om = vireo_object_manager_client_new_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!om) {
		vireo_service_setup_failed(self, e);
		return;
	}
	self->objects = om;
	self->added_id = g_signal_connect(om, "object-added", G_CALLBACK(vireo_service_on_object_added), self);
	self->removed_id = g_signal_connect(om, "object-removed", G_CALLBACK(vireo_service_on_object_removed), self);
	vireo_service_setup_done(self);
}

static void vireo_service_on_host_changed(GObject *manager, GParamSpec *pspec, gpointer data)
{
	VireoService *self = data;
	g_object_notify_by_pspec(G_OBJECT(self), g_str_equal(pspec->name, "host-kind")
							 ? vireo_service_props[PROP_HOST_KIND]
							 : vireo_service_props[PROP_HOST_REASON]);
}

static void vireo_service_on_manager(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoService) self = data;
	g_autoptr(GError) e = NULL;
	VireoManager *manager = vireo_manager_proxy_new_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!manager) {
		vireo_service_setup_failed(self, e);
		return;
	}
	self->manager = manager;
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager), VIREO_VM_CALL_TIMEOUT_MS);
	self->host_kind_id = g_signal_connect(manager, "notify::host-kind", G_CALLBACK(vireo_service_on_host_changed), self);
	self->host_reason_id =
		g_signal_connect(manager, "notify::host-reason", G_CALLBACK(vireo_service_on_host_changed), self);
	vireo_service_setup_done(self);
}

static void vireo_service_on_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
	VireoService *self = data;
	vireo_service_drop(self);
	vireo_service_set_status(self, VIREO_SERVICE_CONNECTING, NULL);
	self->bus = g_object_ref(bus);
	self->cancel = g_cancellable_new();
	self->setups_pending = 2;
	vireo_object_manager_client_new(bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, VIREO_SERVICE_BUS_NAME,
					VIREO_SERVICE_PATH, self->cancel, vireo_service_on_objects, g_object_ref(self));
	vireo_manager_proxy_new(bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, VIREO_SERVICE_BUS_NAME, VIREO_SERVICE_PATH,
				self->cancel, vireo_service_on_manager, g_object_ref(self));
}

static void vireo_service_on_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
	VireoService *self = data;
	vireo_service_drop(self);
	vireo_service_set_status(self, VIREO_SERVICE_UNAVAILABLE,
				 bus ? _("it is not running, and the session could not start it")
				     : _("there is no session bus to reach it on"));
	g_object_notify_by_pspec(G_OBJECT(self), vireo_service_props[PROP_HOST_KIND]);
}

void vireo_service_reconnect(VireoService *self)
{
	g_clear_handle_id(&self->watch_id, g_bus_unwatch_name);
	vireo_service_drop(self);
	vireo_service_set_status(self, VIREO_SERVICE_CONNECTING, NULL);
	/* Auto-start: where vireod is installed, asking for it starts it. */
	self->watch_id = g_bus_watch_name(G_BUS_TYPE_SESSION, VIREO_SERVICE_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_AUTO_START,
					  vireo_service_on_appeared, vireo_service_on_vanished, self, NULL);
}

/* ---- requests ---- */

static void vireo_service_on_created(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GTask) task = data;
	g_autoptr(GError) e = NULL;
	char *path = NULL;
	if (!vireo_manager_call_create_machine_finish(VIREO_MANAGER(src), &path, res, &e)) {
		g_task_set_task_data(task, g_dbus_error_get_remote_error(e), g_free);
		g_dbus_error_strip_remote_error(e);
		g_task_return_error(task, g_steal_pointer(&e));
		return;
	}
	g_task_return_pointer(task, path, g_free);
}

void vireo_service_create_async(VireoService *self, GVariant *config, GCancellable *cancel, GAsyncReadyCallback cb,
				gpointer data)
{
	GTask *task = g_task_new(self, cancel, cb, data);
	g_task_set_source_tag(task, vireo_service_create_async);
	if (!self->manager) {
		g_variant_unref(g_variant_ref_sink(config));
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "%s",
					_("The Vireo service (vireod) cannot be reached."));
		g_object_unref(task);
		return;
	}
	vireo_manager_call_create_machine(self->manager, config, cancel, vireo_service_on_created, task);
}

char *vireo_service_create_finish(VireoService *self, GAsyncResult *res, char **error_name, GError **error)
{
	char *path = g_task_propagate_pointer(G_TASK(res), error);
	if (!path && error_name)
		*error_name = g_strdup(g_task_get_task_data(G_TASK(res)));
	return path;
}

/* ---- getters ---- */

VireoServiceStatus vireo_service_get_status(VireoService *self)
{
	return self->status;
}

const char *vireo_service_get_error(VireoService *self)
{
	return self->error ? self->error : "";
}

const char *vireo_service_get_host_kind(VireoService *self)
{
	const char *k = self->manager ? vireo_manager_get_host_kind(self->manager) : NULL;
	return k ? k : "";
}

const char *vireo_service_get_host_reason(VireoService *self)
{
	const char *r = self->manager ? vireo_manager_get_host_reason(self->manager) : NULL;
	return r ? r : "";
}

GListModel *vireo_service_get_machines(VireoService *self)
{
	return G_LIST_MODEL(self->machines);
}

VireoVm *vireo_service_find(VireoService *self, const char *object_path)
{
	guint i;
	if (!object_path || !vireo_service_index(self, object_path, &i))
		return NULL;
	g_autoptr(VireoVm) vm = g_list_model_get_item(G_LIST_MODEL(self->machines), i);
	return vm;   /* the store holds it */
}

gboolean vireo_service_name_taken(VireoService *self, const char *name, VireoVm *except)
{
	g_autofree char *want = g_utf8_casefold(name, -1);
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->machines));
	for (guint i = 0; i < n; i++) {
		g_autoptr(VireoVm) vm = g_list_model_get_item(G_LIST_MODEL(self->machines), i);
		g_autofree char *have = g_utf8_casefold(vireo_vm_get_name(vm), -1);
		if (vm != except && g_str_equal(have, want))
			return TRUE;
	}
	return FALSE;
}

/* ---- GObject ---- */

static void vireo_service_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	VireoService *self = VIREO_SERVICE(object);
	switch (id) {
	case PROP_STATUS:
		g_value_set_int(value, self->status);
		break;
	case PROP_HOST_KIND:
		g_value_set_string(value, vireo_service_get_host_kind(self));
		break;
	case PROP_HOST_REASON:
		g_value_set_string(value, vireo_service_get_host_reason(self));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void vireo_service_dispose(GObject *object)
{
	VireoService *self = VIREO_SERVICE(object);
	g_clear_handle_id(&self->watch_id, g_bus_unwatch_name);
	vireo_service_drop(self);
	G_OBJECT_CLASS(vireo_service_parent_class)->dispose(object);
}

static void vireo_service_finalize(GObject *object)
{
	VireoService *self = VIREO_SERVICE(object);
	g_clear_object(&self->machines);
	g_free(self->error);
	G_OBJECT_CLASS(vireo_service_parent_class)->finalize(object);
}

static void vireo_service_class_init(VireoServiceClass *klass)
{
	GObjectClass *oc = G_OBJECT_CLASS(klass);
	oc->get_property = vireo_service_get_property;
	oc->dispose = vireo_service_dispose;
	oc->finalize = vireo_service_finalize;
	vireo_service_props[PROP_STATUS] = g_param_spec_int("status", NULL, NULL, VIREO_SERVICE_CONNECTING,
							    VIREO_SERVICE_UNAVAILABLE, VIREO_SERVICE_CONNECTING,
							    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	vireo_service_props[PROP_HOST_KIND] =
		g_param_spec_string("host-kind", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	vireo_service_props[PROP_HOST_REASON] =
		g_param_spec_string("host-reason", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(oc, N_PROPS, vireo_service_props);
}

static void vireo_service_init(VireoService *self)
{
	self->machines = g_list_store_new(VIREO_TYPE_VM);
	self->error = g_strdup("");
}

VireoService *vireo_service_new(void)
{
	VireoService *self = g_object_new(VIREO_TYPE_SERVICE, NULL);
	vireo_service_reconnect(self);
	return self;
}
