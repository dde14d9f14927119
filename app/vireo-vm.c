// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include "vireo-vm.h"

struct _VireoVm {
	GObject parent_instance;

	/* owned references */
	VireoMachine *machine;
	VireoThumbnail *thumbnail;
	gulong notify_id;
};

enum {
	SIGNAL_CHANGED,
	N_SIGNALS,
};

static guint vireo_vm_signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(VireoVm, vireo_vm, G_TYPE_OBJECT)

/* The picture follows the console socket: vireod publishes one while a
 * worker runs and clears it when the VM stops. */
static void vireo_vm_follow_console(VireoVm *self)
{
	vireo_thumbnail_set_socket(self->thumbnail, vireo_machine_get_console_socket(self->machine));
}

static void vireo_vm_on_notify(GObject *machine, GParamSpec *pspec, gpointer data)
{
	VireoVm *self = data;
	if (g_str_equal(pspec->name, "console-socket"))
		vireo_vm_follow_console(self);
	g_signal_emit(self, vireo_vm_signals[SIGNAL_CHANGED], 0, pspec->name);
}

VireoMachine *vireo_vm_get_machine(VireoVm *self)
{
	return self->machine;
}

VireoThumbnail *vireo_vm_get_thumbnail(VireoVm *self)
{
	return self->thumbnail;
}

const char *vireo_vm_get_object_path(VireoVm *self)
{
	return g_dbus_proxy_get_object_path(G_DBUS_PROXY(self->machine));
}

static const char *vireo_vm_str(const char *s)
{
	return s ? s : "";
}

const char *vireo_vm_get_id(VireoVm *self)
{
	return vireo_vm_str(vireo_machine_get_id(self->machine));
}

const char *vireo_vm_get_name(VireoVm *self)
{
	return vireo_vm_str(vireo_machine_get_name(self->machine));
}

const char *vireo_vm_get_state(VireoVm *self)
{
	return vireo_vm_str(vireo_machine_get_state(self->machine));
}

gboolean vireo_vm_allows(VireoVm *self, VireoAction a)
{
	return vireo_state_allows(vireo_vm_get_state(self), a);
}

gboolean vireo_vm_get_emulated_host(VireoVm *self)
{
	return vireo_machine_get_emulated_host(self->machine);
}

void vireo_vm_get_config(VireoVm *self, VireoConfig *out)
{
	VireoMachine *m = self->machine;
	VireoConfig c = {
		.name = (char *)vireo_vm_get_name(self),
		.memory_mib = vireo_machine_get_memory_mi_b(m),
		.cpus = vireo_machine_get_cpus(m),
		.boot = g_strcmp0(vireo_machine_get_boot_source(m), "kernel") == 0 ? VIREO_BOOT_KERNEL : VIREO_BOOT_DEMO,
		.kernel = (char *)vireo_vm_str(vireo_machine_get_kernel(m)),
		.initrd = (char *)vireo_vm_str(vireo_machine_get_initrd(m)),
		.cmdline = (char *)vireo_vm_str(vireo_machine_get_cmdline(m)),
		.resolution = (char *)vireo_vm_str(vireo_machine_get_resolution(m)),
	};
	vireo_config_copy(out, &c);
}

static const char *vireo_vm_method(VireoAction a)
{
	switch (a) {
	case VIREO_ACTION_START: return "Start";
	case VIREO_ACTION_SHUT_DOWN: return "ShutDown";
	case VIREO_ACTION_TURN_OFF: return "TurnOff";
	case VIREO_ACTION_PAUSE: return "Pause";
	case VIREO_ACTION_RESUME: return "Resume";
	case VIREO_ACTION_RESET: return "Reset";
	case VIREO_ACTION_SAVE: return "Save";
	case VIREO_ACTION_DELETE: return "Delete";
	default: return NULL;
	}
}

static void vireo_vm_on_called(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GTask) task = data;
	g_autoptr(GError) e = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &e);
	if (!reply) {
		/* The name goes with the task (configure needs it); the message
		 * is vireod's own sentence. */
		g_task_set_task_data(task, g_dbus_error_get_remote_error(e), g_free);
		g_dbus_error_strip_remote_error(e);
		g_task_return_error(task, g_steal_pointer(&e));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void vireo_vm_call_method(VireoVm *self, const char *method, GVariant *args, gpointer tag, GCancellable *cancel,
				 GAsyncReadyCallback cb, gpointer data)
{
	GTask *task = g_task_new(self, cancel, cb, data);
	g_task_set_source_tag(task, tag);
	g_dbus_proxy_call(G_DBUS_PROXY(self->machine), method, args, G_DBUS_CALL_FLAGS_NONE, VIREO_VM_CALL_TIMEOUT_MS,
			  cancel, vireo_vm_on_called, task);
}

void vireo_vm_call_async(VireoVm *self, VireoAction a, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data)
{
	const char *method = vireo_vm_method(a);
	if (!method) {
		g_task_report_new_error(self, cb, data, vireo_vm_call_async, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
					"not a request to vireod");
		return;
	}
	GVariant *args = a == VIREO_ACTION_SHUT_DOWN ? g_variant_new("(u)", VIREO_VM_SHUTDOWN_TIMEOUT_S) : NULL;
	vireo_vm_call_method(self, method, args, vireo_vm_call_async, cancel, cb, data);
}

gboolean vireo_vm_call_finish(VireoVm *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

void vireo_vm_configure_async(VireoVm *self, GVariant *config, GCancellable *cancel, GAsyncReadyCallback cb,
			      gpointer data)
{
	vireo_vm_call_method(self, "Configure", g_variant_new("(@a{sv})", config), vireo_vm_configure_async, cancel,
			     cb, data);
}

gboolean vireo_vm_configure_finish(VireoVm *self, GAsyncResult *res, char **error_name, GError **error)
{
	if (g_task_propagate_boolean(G_TASK(res), error))
		return TRUE;
	if (error_name)
		*error_name = g_strdup(g_task_get_task_data(G_TASK(res)));
	return FALSE;
}

static void vireo_vm_dispose(GObject *object)
{
	VireoVm *self = VIREO_VM(object);
	if (self->machine)
		g_clear_signal_handler(&self->notify_id, self->machine);
	if (self->thumbnail)
		vireo_thumbnail_set_socket(self->thumbnail, NULL);
	g_clear_object(&self->thumbnail);
	g_clear_object(&self->machine);
	G_OBJECT_CLASS(vireo_vm_parent_class)->dispose(object);
}

static void vireo_vm_class_init(VireoVmClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vireo_vm_dispose;
	/* changed(property): a property of the VM changed (its D-Bus name in
	 * GObject form: "state", "cpu-usage", ...). */
	vireo_vm_signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
							NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void vireo_vm_init(VireoVm *self)
{
	self->thumbnail = vireo_thumbnail_new();
}

VireoVm *vireo_vm_new(VireoMachine *machine)
{
	VireoVm *self = g_object_new(VIREO_TYPE_VM, NULL);
	self->machine = g_object_ref(machine);
	self->notify_id = g_signal_connect(machine, "notify", G_CALLBACK(vireo_vm_on_notify), self);
	vireo_vm_follow_console(self);
	return self;
}
