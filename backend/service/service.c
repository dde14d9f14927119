// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vireo-config.h"
#include "service.h"
#include "vm.h"

static const GDBusErrorEntry vireo_error_entries[] = {
	{ VIREO_ERROR_NOT_FOUND, "org.vireo.Vireo1.Error.NotFound" },
	{ VIREO_ERROR_INVALID_ARGUMENT, "org.vireo.Vireo1.Error.InvalidArgument" },
	{ VIREO_ERROR_ALREADY_EXISTS, "org.vireo.Vireo1.Error.AlreadyExists" },
	{ VIREO_ERROR_INVALID_STATE, "org.vireo.Vireo1.Error.InvalidState" },
	{ VIREO_ERROR_INSUFFICIENT_RESOURCES, "org.vireo.Vireo1.Error.InsufficientResources" },
	{ VIREO_ERROR_NOT_SUPPORTED, "org.vireo.Vireo1.Error.NotSupported" },
	{ VIREO_ERROR_FAILED, "org.vireo.Vireo1.Error.Failed" },
};

GQuark vireo_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("vireo-error-quark", &quark, vireo_error_entries,
					   G_N_ELEMENTS(vireo_error_entries));
	return (GQuark)quark;
}

static uint64_t host_memory_mib(void)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
		return 0;
	const char *p = strstr(text, "MemTotal:");
	return p ? g_ascii_strtoull(p + 9, NULL, 10) / 1024 : 0;
}

bool service_check_resources(struct service *s, uint64_t memory_mib, unsigned cpus, GError **error)
{
	if (s->host_memory_mib && memory_mib > s->host_memory_mib) {
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_INSUFFICIENT_RESOURCES,
			    "%" G_GUINT64_FORMAT " MiB of memory is more than this host has (%" G_GUINT64_FORMAT " MiB)",
			    memory_mib, s->host_memory_mib);
		return false;
	}
	if (cpus > s->host_cpus) {
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_INSUFFICIENT_RESOURCES,
			    "%u vCPUs is more than this host has (%u)", cpus, s->host_cpus);
		return false;
	}
	return true;
}

static bool id_matches(const char *id, const char *want)
{
	/* Dashes optional, any case: what vireoctl users type or paste. */
	const char *a = id, *b = want;
	while (*a || *b) {
		if (*a == '-') { a++; continue; }
		if (*b == '-' || *b == '_') { b++; continue; }
		if (!*a || !*b || g_ascii_tolower(*a) != g_ascii_tolower(*b))
			return false;
		a++;
		b++;
	}
	return true;
}

struct vm *service_find(struct service *s, const char *name_or_id)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, s->vms);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (id_matches(vm_get_config(v)->id, name_or_id))
			return v;
	g_autofree char *want = g_utf8_casefold(name_or_id, -1);
	g_hash_table_iter_init(&it, s->vms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		g_autofree char *have = g_utf8_casefold(vm_get_config(v)->name, -1);
		if (g_str_equal(have, want))
			return v;
	}
	return NULL;
}

bool service_name_taken(struct service *s, const char *name, const struct vm *except)
{
	g_autofree char *want = g_utf8_casefold(name, -1);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, s->vms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		g_autofree char *have = g_utf8_casefold(vm_get_config(v)->name, -1);
		if (v != except && g_str_equal(have, want))
			return true;
	}
	return false;
}

void service_forget(struct service *s, struct vm *vm)
{
	g_autofree char *path = g_strdup(vm_get_object_path(vm));
	g_hash_table_remove(s->vms, vm_get_config(vm)->id);
	vireo_manager_emit_machine_removed(s->manager, path);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	const struct vm *x = *(struct vm *const *)a, *y = *(struct vm *const *)b;
	return g_utf8_collate(vm_get_config(x)->name, vm_get_config(y)->name);
}

static gboolean on_list(VireoManager *m, GDBusMethodInvocation *inv, gpointer data)
{
	struct service *s = data;
	g_autoptr(GPtrArray) vms = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, s->vms);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(vms, v);
	g_ptr_array_sort(vms, by_name);
	g_autoptr(GPtrArray) paths = g_ptr_array_new();
	for (guint i = 0; i < vms->len; i++)
		g_ptr_array_add(paths, (gpointer)vm_get_object_path(vms->pdata[i]));
	g_ptr_array_add(paths, NULL);
	vireo_manager_complete_list_machines(m, inv, (const char *const *)paths->pdata);
	return TRUE;
}

static gboolean on_find(VireoManager *m, GDBusMethodInvocation *inv, const char *name, gpointer data)
{
	struct service *s = data;
	struct vm *vm = service_find(s, name);
	if (!vm)
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_NOT_FOUND, "there is no VM \"%s\"", name);
	else
		vireo_manager_complete_find_machine(m, inv, vm_get_object_path(vm));
	return TRUE;
}

static gboolean on_create(VireoManager *m, GDBusMethodInvocation *inv, GVariant *config, gpointer data)
{
	struct service *s = data;
	struct vm_config c;
	vm_config_init_new(&c);
	GError *e = NULL;
	/* The name is required: a default would hide a forgotten key. */
	if (!g_variant_lookup(config, "Name", "&s", NULL)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_ARGUMENT,
						      "a new VM needs a Name (a string)");
		goto out;
	}
	if (!vm_config_apply(&c, config, NULL, &e)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_ARGUMENT, "%s", e->message);
		goto out;
	}
	if (service_name_taken(s, c.name, NULL)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_ALREADY_EXISTS,
						      "there is a VM named \"%s\" already", c.name);
		goto out;
	}
	if (!service_check_resources(s, c.memory_mib, c.cpus, &e)) {
		g_dbus_method_invocation_take_error(inv, g_steal_pointer(&e));
		goto out;
	}
	if (!vm_config_save(&c, s->config_dir, &e)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_FAILED,
						      "writing the configuration of \"%s\": %s", c.name, e->message);
		goto out;
	}
	struct vm *vm = vm_new(s, &c);
	g_hash_table_insert(s->vms, g_strdup(c.id), vm);
	vireo_manager_complete_create_machine(m, inv, vm_get_object_path(vm));
	vireo_manager_emit_machine_added(m, vm_get_object_path(vm));
out:
	g_clear_error(&e);
	vm_config_clear(&c);
	return TRUE;
}

/* Every *.conf in the inventory; a broken file is reported and left alone
 * (never rewritten: the person who broke it may want to repair it). */
static void service_load(struct service *s)
{
	g_autoptr(GDir) d = g_dir_open(s->config_dir, 0, NULL);
	if (!d)
		return;
	const char *fn;
	while ((fn = g_dir_read_name(d))) {
		if (!g_str_has_suffix(fn, ".conf"))
			continue;
		g_autofree char *path = g_build_filename(s->config_dir, fn, NULL);
		struct vm_config c;
		g_autoptr(GError) e = NULL;
		if (!vm_config_load(path, &c, &e)) {
			g_printerr("vireod: skipping a VM: %s\n", e->message);
			continue;
		}
		if (service_name_taken(s, c.name, NULL) || g_hash_table_contains(s->vms, c.id)) {
			g_printerr("vireod: skipping %s: another VM is named \"%s\" already\n", path, c.name);
			vm_config_clear(&c);
			continue;
		}
		struct vm *vm = vm_new(s, &c);
		g_hash_table_insert(s->vms, g_strdup(c.id), vm);
		vm_reattach(vm);
		vm_config_clear(&c);
	}
}

/* vireo-worker: $VIREO_WORKER, then beside vireod in the build tree, then
 * the installed one. */
static char *find_worker(void)
{
	const char *env = g_getenv("VIREO_WORKER");
	if (env && *env)
		return g_strdup(env);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self) {
		g_autofree char *dir = g_path_get_dirname(self);
		g_autofree char *built = g_build_filename(dir, "..", "worker", "vireo-worker", NULL);
		if (g_file_test(built, G_FILE_TEST_IS_EXECUTABLE))
			return g_canonicalize_filename(built, NULL);
	}
	return g_build_filename(VIREO_LIBEXECDIR, "vireo-worker", NULL);
}

/* vireo-emuhost: $VIREO_EMUHOST, then beside vireod in the build tree, then
 * the installed one. */
static char *find_emuhost(void)
{
	const char *env = g_getenv("VIREO_EMUHOST");
	if (env && *env)
		return g_strdup(env);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self) {
		g_autofree char *dir = g_path_get_dirname(self);
		g_autofree char *built = g_build_filename(dir, "..", "worker", "vireo-emuhost", NULL);
		if (g_file_test(built, G_FILE_TEST_IS_EXECUTABLE))
			return g_canonicalize_filename(built, NULL);
	}
	return g_build_filename(VIREO_LIBEXECDIR, "vireo-emuhost", NULL);
}

/* Natively on a hardware KVM; else inside an emulated host when QEMU is
 * there. $VIREO_HOST_PATH=native|emulated overrides it (tests, and people
 * who want the emulated host on a hardware KVM). The reason says which. */
static void service_choose_path(struct service *s)
{
	const char *force = g_getenv("VIREO_HOST_PATH");
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	bool emuhost = g_file_test(s->emuhost_path, G_FILE_TEST_IS_EXECUTABLE);
	bool native = s->host.cls == HOST_KVM_HARDWARE;
	if (force && g_str_equal(force, "native"))
		s->emulated = false;
	else if (force && g_str_equal(force, "emulated"))
		s->emulated = qemu && emuhost;
	else
		s->emulated = !native && qemu && emuhost;
	g_autofree char *reason = NULL;
	if (s->emulated)
		reason = g_strdup_printf("%s; VMs run inside an emulated host (QEMU with emulated AMD-V): slow",
					 s->host.reason);
	else if (!native && !qemu)
		reason = g_strdup_printf("%s; VMs cannot start: install qemu-system-x86 to run them inside an "
					 "emulated host (slow)", s->host.reason);
	else if (!native && !emuhost)
		reason = g_strdup_printf("%s; VMs cannot start: %s is missing", s->host.reason, s->emuhost_path);
	else
		return;
	g_strlcpy(s->host.reason, reason, sizeof(s->host.reason));
}

struct service *service_new(GDBusConnection *bus, GError **error)
{
	struct service *s = g_new0(struct service, 1);
	s->bus = g_object_ref(bus);
	s->config_dir = g_build_filename(g_get_user_config_dir(), "vireo", "machines", NULL);
	s->data_dir = g_build_filename(g_get_user_data_dir(), "vireo", NULL);
	s->runtime_dir = g_build_filename(g_get_user_runtime_dir(), "vireo", NULL);
	s->worker_path = find_worker();
	const char *demo = g_getenv("VIREO_DEMO_DIR");
	s->demo_dir = g_strdup(demo && *demo ? demo : VIREO_DEMO_DIR);
	s->host_memory_mib = host_memory_mib();
	s->host_cpus = g_get_num_processors();
	hostcheck_classify("/sys", "/dev/kvm", &s->host);
	s->emuhost_path = find_emuhost();
	service_choose_path(s);
	if (g_mkdir_with_parents(s->config_dir, 0700) < 0 || g_mkdir_with_parents(s->runtime_dir, 0700) < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s or %s: %s", s->config_dir, s->runtime_dir,
			    g_strerror(e));
		service_free(s);
		return NULL;
	}
	s->vms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vm_free);
	s->objects = g_dbus_object_manager_server_new(VIREO_OBJECT_PATH);
	s->manager = vireo_manager_skeleton_new();
	vireo_manager_set_version(s->manager, VIREO_VERSION);
	static const char *const kinds[] = {
		[HOST_KVM_HARDWARE] = "kvm", [HOST_KVM_PVM] = "kvm-limited", [HOST_KVM_ABSENT] = "none",
		[HOST_KVM_NO_ACCESS] = "none", [HOST_KVM_UNUSABLE] = "kvm-limited",
	};
	vireo_manager_set_host_kind(s->manager, kinds[s->host.cls]);
	vireo_manager_set_host_reason(s->manager, s->host.reason);
	g_signal_connect(s->manager, "handle-list-machines", G_CALLBACK(on_list), s);
	g_signal_connect(s->manager, "handle-find-machine", G_CALLBACK(on_find), s);
	g_signal_connect(s->manager, "handle-create-machine", G_CALLBACK(on_create), s);
	/* The manager sits at the object manager's own path, beside it, not
	 * one of its children. */
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(s->manager), bus, VIREO_OBJECT_PATH, error)) {
		service_free(s);
		return NULL;
	}
	service_load(s);
	g_dbus_object_manager_server_set_connection(s->objects, bus);
	return s;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	if (s->vms)
		g_hash_table_unref(s->vms);
	if (s->objects)
		g_dbus_object_manager_server_set_connection(s->objects, NULL);
	g_clear_object(&s->objects);
	if (s->manager)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(s->manager));
	g_clear_object(&s->manager);
	g_clear_object(&s->bus);
	g_free(s->config_dir);
	g_free(s->data_dir);
	g_free(s->runtime_dir);
	g_free(s->worker_path);
	g_free(s->emuhost_path);
	g_free(s->demo_dir);
	g_free(s);
}
