// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireoctl: the command line for everything vireod's D-Bus API offers, as
 * PowerShell's Hyper-V module is for VMMS. Every read takes --json. Exit
 * status: 0 done, 1 the request failed (the message says why), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "vireo-config.h"
#include "vireo-dbus.h"
#include "serial_term.h"

#define BUS_NAME    "org.vireo.Vireo1"
#define OBJECT_PATH "/org/vireo/Vireo1"
/* Starting and stopping wait for the guest: longer than D-Bus's 25 s. */
#define CALL_TIMEOUT_MS (120 * 1000)
/* From a pipe: how long the guest's answer is awaited once stdin ended. */
#define CONSOLE_LINGER_MS 2000

static const char usage_text[] =
	"Usage: vireoctl COMMAND [ARGS] [--json]\n"
	"\n"
	"VMs:\n"
	"  list                          every VM with its state, CPUs, memory, address\n"
	"  show VM                       everything about one VM\n"
	"  new NAME [--memory SIZE] [--cpus N] [--resolution WxH]\n"
	"           [--kernel FILE [--initrd FILE] [--cmdline TEXT]]\n"
	"                                a new VM (the demo guest unless --kernel)\n"
	"  set VM KEY=VALUE...           name, memory, cpus, resolution, kernel, initrd, cmdline, boot=demo|kernel\n"
	"  delete VM                     the VM and its files (it must be off)\n"
	"Power:\n"
	"  start VM                      start it and wait until it runs\n"
	"  stop VM [--timeout S]         Shut Down: the guest shuts down (then the power button, then Turn Off)\n"
	"  stop VM --force               Turn Off: cut the power\n"
	"  pause VM | resume VM | reset VM | save VM\n"
	"  wait VM STATE [--timeout S]   until the VM is in STATE (Off, Running, ...)\n"
	"Console:\n"
	"  connect VM                    open vireo-connect on the VM's console\n"
	"  console VM                    the VM's serial console on this terminal (Ctrl-] ends it)\n"
	"  screenshot VM FILE.png        what the guest shows\n"
	"Host:\n"
	"  host                          can this host run VMs, and how\n"
	"\n"
	"VM is a name or an ID. SIZE takes K, M, G suffixes (default M).\n";

static gboolean opt_json;

static int fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_printerr("vireoctl: %s\n", msg);
	return 1;
}

static int fail_error(GError *e)
{
	if (g_dbus_error_is_remote_error(e))
		g_dbus_error_strip_remote_error(e);
	if (g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
		return fail("vireod is not running (and could not be started): %s", e->message);
	return fail("%s", e->message);
}

static int usage(const char *why)
{
	if (why)
		g_printerr("vireoctl: %s\n\n", why);
	g_printerr("%s", usage_text);
	return 2;
}

static VireoManager *manager_get(GError **error)
{
	return vireo_manager_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
						    OBJECT_PATH, NULL, error);
}

static VireoMachine *machine_get(VireoManager *m, const char *name, GError **error)
{
	g_autofree char *path = NULL;
	if (!vireo_manager_call_find_machine_sync(m, name, &path, NULL, error))
		return NULL;
	VireoMachine *vm = vireo_machine_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
								 BUS_NAME, path, NULL, error);
	if (vm)
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(vm), CALL_TIMEOUT_MS);
	return vm;
}

static bool parse_size_mib(const char *s, guint64 *out)
{
	char *end;
	errno = 0;
	guint64 v = g_ascii_strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return false;
	switch (g_ascii_toupper(*end)) {
	case '\0': case 'M': break;
	case 'K': v /= 1024; break;
	case 'G': v *= 1024; break;
	case 'T': v *= 1024 * 1024; break;
	default: return false;
	}
	if (*end && end[1] && g_ascii_strcasecmp(end + 1, "iB") && g_ascii_strcasecmp(end + 1, "B"))
		return false;
	*out = v;
	return true;
}

/* ---- reading ---- */

static char *format_uptime(guint64 s)
{
	if (s == 0)
		return g_strdup("-");
	if (s < 3600)
		return g_strdup_printf("%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT, s / 60, s % 60);
	return g_strdup_printf("%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT, s / 3600,
			       s / 60 % 60, s % 60);
}

static void json_machine(JsonBuilder *b, VireoMachine *vm)
{
	json_builder_begin_object(b);
	const char *const *addrs = vireo_machine_get_guest_addresses(vm);
	struct { const char *k; const char *v; } strs[] = {
		{ "id", vireo_machine_get_id(vm) }, { "name", vireo_machine_get_name(vm) },
		{ "state", vireo_machine_get_state(vm) }, { "state_reason", vireo_machine_get_state_reason(vm) },
		{ "boot_source", vireo_machine_get_boot_source(vm) }, { "kernel", vireo_machine_get_kernel(vm) },
		{ "initrd", vireo_machine_get_initrd(vm) }, { "cmdline", vireo_machine_get_cmdline(vm) },
		{ "resolution", vireo_machine_get_resolution(vm) }, { "heartbeat", vireo_machine_get_heartbeat(vm) },
		{ "guest_hostname", vireo_machine_get_guest_hostname(vm) }, { "guest_os", vireo_machine_get_guest_os(vm) },
		{ "console_socket", vireo_machine_get_console_socket(vm) },
		{ "serial_socket", vireo_machine_get_serial_socket(vm) },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++) {
		json_builder_set_member_name(b, strs[i].k);
		json_builder_add_string_value(b, strs[i].v ? strs[i].v : "");
	}
	json_builder_set_member_name(b, "memory_mib");
	json_builder_add_int_value(b, (gint64)vireo_machine_get_memory_mi_b(vm));
	json_builder_set_member_name(b, "cpus");
	json_builder_add_int_value(b, vireo_machine_get_cpus(vm));
	json_builder_set_member_name(b, "cpu_usage_percent");
	json_builder_add_double_value(b, vireo_machine_get_cpu_usage(vm));
	json_builder_set_member_name(b, "memory_usage_bytes");
	json_builder_add_int_value(b, (gint64)vireo_machine_get_memory_usage(vm));
	json_builder_set_member_name(b, "uptime_s");
	json_builder_add_int_value(b, (gint64)vireo_machine_get_uptime(vm));
	json_builder_set_member_name(b, "emulated_host");
	json_builder_add_boolean_value(b, vireo_machine_get_emulated_host(vm));
	json_builder_set_member_name(b, "guest_addresses");
	json_builder_begin_array(b);
	for (size_t i = 0; addrs && addrs[i]; i++)
		json_builder_add_string_value(b, addrs[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void json_print(JsonBuilder *b)
{
	g_autoptr(JsonGenerator) g = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	g_autofree char *text = json_generator_to_data(g, NULL);
	printf("%s\n", text);
}

static int cmd_list(VireoManager *m, int argc, char **argv)
{
	if (argc != 1)
		return usage("list takes no arguments");
	g_autoptr(GError) e = NULL;
	g_auto(GStrv) paths = NULL;
	if (!vireo_manager_call_list_machines_sync(m, &paths, NULL, &e))
		return fail_error(e);
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_array(b);
	if (!opt_json)
		printf("%-24s %-9s %4s %8s  %-16s %s\n", "NAME", "STATE", "CPUS", "MEMORY", "ADDRESS", "UPTIME");
	for (char **p = paths; *p; p++) {
		g_autoptr(VireoMachine) vm = vireo_machine_proxy_new_for_bus_sync(
			G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME, *p, NULL, &e);
		if (!vm)
			return fail_error(e);
		if (opt_json) {
			json_machine(b, vm);
			continue;
		}
		const char *const *addrs = vireo_machine_get_guest_addresses(vm);
		g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT "M", vireo_machine_get_memory_mi_b(vm));
		g_autofree char *up = format_uptime(vireo_machine_get_uptime(vm));
		printf("%-24s %-9s %4u %8s  %-16s %s\n", vireo_machine_get_name(vm), vireo_machine_get_state(vm),
		       vireo_machine_get_cpus(vm), mem, addrs && addrs[0] ? addrs[0] : "-", up);
	}
	json_builder_end_array(b);
	if (opt_json)
		json_print(b);
	return 0;
}

static int cmd_show(VireoManager *m, int argc, char **argv)
{
	if (argc != 2)
		return usage("show takes one VM");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	if (opt_json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		json_machine(b, vm);
		json_print(b);
		return 0;
	}
	const char *const *addrs = vireo_machine_get_guest_addresses(vm);
	g_autofree char *addr = addrs ? g_strjoinv(", ", (char **)addrs) : g_strdup("");
	g_autofree char *up = format_uptime(vireo_machine_get_uptime(vm));
	printf("Name:        %s\nId:          %s\nState:       %s%s%s\n", vireo_machine_get_name(vm),
	       vireo_machine_get_id(vm), vireo_machine_get_state(vm),
	       *vireo_machine_get_state_reason(vm) ? " - " : "", vireo_machine_get_state_reason(vm));
	printf("Memory:      %" G_GUINT64_FORMAT " MiB\nCPUs:        %u\nResolution:  %s\n",
	       vireo_machine_get_memory_mi_b(vm), vireo_machine_get_cpus(vm), vireo_machine_get_resolution(vm));
	if (g_str_equal(vireo_machine_get_boot_source(vm), "kernel"))
		printf("Boot:        kernel %s, initrd %s, command line \"%s\"\n", vireo_machine_get_kernel(vm),
		       *vireo_machine_get_initrd(vm) ? vireo_machine_get_initrd(vm) : "(none)",
		       vireo_machine_get_cmdline(vm));
	else
		printf("Boot:        the demo guest\n");
	printf("Heartbeat:   %s\nGuest:       %s%s%s\nAddresses:   %s\n", *vireo_machine_get_heartbeat(vm) ? vireo_machine_get_heartbeat(vm) : "-",
	       vireo_machine_get_guest_hostname(vm), *vireo_machine_get_guest_os(vm) ? ", " : "",
	       vireo_machine_get_guest_os(vm), *addr ? addr : "-");
	printf("CPU usage:   %.1f %%\nMemory used: %" G_GUINT64_FORMAT " MiB\nUptime:      %s\n",
	       vireo_machine_get_cpu_usage(vm), vireo_machine_get_memory_usage(vm) >> 20, up);
	if (*vireo_machine_get_console_socket(vm))
		printf("Console:     %s\n", vireo_machine_get_console_socket(vm));
	if (vireo_machine_get_emulated_host(vm))
		printf("Host:        emulated host: slow\n");
	return 0;
}

static int cmd_host(VireoManager *m, int argc, char **argv)
{
	if (argc != 1)
		return usage("host takes no arguments");
	if (opt_json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "kind");
		json_builder_add_string_value(b, vireo_manager_get_host_kind(m));
		json_builder_set_member_name(b, "reason");
		json_builder_add_string_value(b, vireo_manager_get_host_reason(m));
		json_builder_set_member_name(b, "version");
		json_builder_add_string_value(b, vireo_manager_get_version(m));
		json_builder_end_object(b);
		json_print(b);
		return 0;
	}
	printf("%s: %s\n", vireo_manager_get_host_kind(m), vireo_manager_get_host_reason(m));
	return 0;
}

/* ---- changing ---- */

/* --memory, --cpus, ... and KEY=VALUE into an a{sv} for Create/Configure. */
static bool add_setting(GVariantBuilder *b, const char *key, const char *value, GError **error)
{
	guint64 n;
	if (g_str_equal(key, "name")) {
		g_variant_builder_add(b, "{sv}", "Name", g_variant_new_string(value));
	} else if (g_str_equal(key, "memory")) {
		if (!parse_size_mib(value, &n))
			goto bad;
		g_variant_builder_add(b, "{sv}", "MemoryMiB", g_variant_new_uint64(n));
	} else if (g_str_equal(key, "cpus")) {
		char *end;
		n = g_ascii_strtoull(value, &end, 10);
		if (end == value || *end || n > G_MAXUINT32)
			goto bad;
		g_variant_builder_add(b, "{sv}", "Cpus", g_variant_new_uint32((guint32)n));
	} else if (g_str_equal(key, "resolution")) {
		g_variant_builder_add(b, "{sv}", "Resolution", g_variant_new_string(value));
	} else if (g_str_equal(key, "boot")) {
		g_variant_builder_add(b, "{sv}", "BootSource", g_variant_new_string(value));
	} else if (g_str_equal(key, "kernel") || g_str_equal(key, "initrd")) {
		/* Paths as the user typed them are relative to here, not to vireod. */
		g_autofree char *abs = *value ? g_canonicalize_filename(value, NULL) : g_strdup("");
		g_variant_builder_add(b, "{sv}", g_str_equal(key, "kernel") ? "Kernel" : "Initrd",
				      g_variant_new_string(abs));
	} else if (g_str_equal(key, "cmdline")) {
		g_variant_builder_add(b, "{sv}", "Cmdline", g_variant_new_string(value));
	} else {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "unknown setting \"%s\" (name, memory, cpus, resolution, boot, kernel, initrd, cmdline)", key);
		return false;
	}
	return true;
bad:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: \"%s\" is not a valid value", key, value);
	return false;
}

static int cmd_new(VireoManager *m, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return usage("new takes a name");
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(argv[1]));
	g_autoptr(GError) e = NULL;
	bool kernel = false;
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		if (!g_str_has_prefix(opt, "--") || i + 1 >= argc) {
			g_variant_builder_clear(&b);
			return usage("new: options are --memory, --cpus, --resolution, --kernel, --initrd, --cmdline, each with a value");
		}
		kernel = kernel || g_str_equal(opt, "--kernel");
		if (!add_setting(&b, opt + 2, argv[++i], &e)) {
			g_variant_builder_clear(&b);
			return fail("%s", e->message);
		}
	}
	if (kernel)
		g_variant_builder_add(&b, "{sv}", "BootSource", g_variant_new_string("kernel"));
	g_autofree char *path = NULL;
	if (!vireo_manager_call_create_machine_sync(m, g_variant_builder_end(&b), &path, NULL, &e))
		return fail_error(e);
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	printf("created VM \"%s\" (%s)\n", vireo_machine_get_name(vm), vireo_machine_get_id(vm));
	return 0;
}

static int cmd_set(VireoManager *m, int argc, char **argv)
{
	if (argc < 3)
		return usage("set takes a VM and KEY=VALUE settings");
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_autoptr(GError) e = NULL;
	for (int i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq) {
			g_variant_builder_clear(&b);
			return usage("set: settings are KEY=VALUE");
		}
		g_autofree char *key = g_strndup(argv[i], (gsize)(eq - argv[i]));
		if (!add_setting(&b, key, eq + 1, &e)) {
			g_variant_builder_clear(&b);
			return fail("%s", e->message);
		}
	}
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm) {
		g_variant_builder_clear(&b);
		return fail_error(e);
	}
	if (!vireo_machine_call_configure_sync(vm, g_variant_builder_end(&b), NULL, &e))
		return fail_error(e);
	return 0;
}

struct waiter {
	GMainLoop *loop;
	const char *want;
	bool reached, failed;
	guint timeout;
};

/* Failed does not pass by itself: waiting on for another state would only
 * hide the reason until the timeout. */
static void on_state_changed(GObject *obj, GParamSpec *ps, gpointer data)
{
	struct waiter *w = data;
	const char *now = vireo_machine_get_state(VIREO_MACHINE(obj));
	if (g_str_equal(now, w->want))
		w->reached = true;
	else if (g_str_equal(now, "Failed"))
		w->failed = true;
	else
		return;
	g_main_loop_quit(w->loop);
}

static gboolean on_wait_timeout(gpointer data)
{
	struct waiter *w = data;
	w->timeout = 0;
	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

static int wait_state(VireoMachine *vm, const char *want, unsigned timeout_s)
{
	struct waiter w = { .loop = g_main_loop_new(NULL, FALSE), .want = want };
	gulong id = g_signal_connect(vm, "notify::state", G_CALLBACK(on_state_changed), &w);
	w.timeout = g_timeout_add_seconds(timeout_s, on_wait_timeout, &w);
	on_state_changed(G_OBJECT(vm), NULL, &w);
	if (!w.reached && !w.failed)
		g_main_loop_run(w.loop);
	g_signal_handler_disconnect(vm, id);
	if (w.timeout)
		g_source_remove(w.timeout);
	g_main_loop_unref(w.loop);
	if (w.reached)
		return 0;
	const char *reason = vireo_machine_get_state_reason(vm);
	g_autofree char *why = *reason ? g_strdup_printf(" (%s)", reason) : g_strdup("");
	if (w.failed)
		return fail("VM \"%s\" is Failed%s, not %s", vireo_machine_get_name(vm), why, want);
	return fail("VM \"%s\" is %s%s, not %s, after %u s", vireo_machine_get_name(vm), vireo_machine_get_state(vm),
		    why, want, timeout_s);
}

static bool take_timeout(int *argc, char **argv, unsigned *out)
{
	for (int i = 2; i + 1 < *argc; i++) {
		if (!g_str_equal(argv[i], "--timeout"))
			continue;
		char *end;
		guint64 v = g_ascii_strtoull(argv[i + 1], &end, 10);
		if (end == argv[i + 1] || *end || v > 86400)
			return false;
		*out = (unsigned)v;
		memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 1) * sizeof(char *));
		*argc -= 2;
		return true;
	}
	return true;
}

static int cmd_power(VireoManager *m, int argc, char **argv)
{
	const char *cmd = argv[0];
	unsigned timeout = 0;
	if (!take_timeout(&argc, argv, &timeout))
		return usage("--timeout takes seconds");
	bool force = argc == 3 && g_str_equal(argv[2], "--force") && g_str_equal(cmd, "stop");
	if (argc != 2 && !force)
		return usage("one VM, please");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	bool ok;
	if (g_str_equal(cmd, "start"))
		ok = vireo_machine_call_start_sync(vm, NULL, &e);
	else if (g_str_equal(cmd, "stop") && force)
		ok = vireo_machine_call_turn_off_sync(vm, NULL, &e);
	else if (g_str_equal(cmd, "stop"))
		ok = vireo_machine_call_shut_down_sync(vm, timeout, NULL, &e);
	else if (g_str_equal(cmd, "pause"))
		ok = vireo_machine_call_pause_sync(vm, NULL, &e);
	else if (g_str_equal(cmd, "resume"))
		ok = vireo_machine_call_resume_sync(vm, NULL, &e);
	else if (g_str_equal(cmd, "reset"))
		ok = vireo_machine_call_reset_sync(vm, NULL, &e);
	else if (g_str_equal(cmd, "save"))
		ok = vireo_machine_call_save_sync(vm, NULL, &e);
	else
		ok = vireo_machine_call_delete_sync(vm, NULL, &e);
	if (!ok)
		return fail_error(e);
	/* Stopping returns once the request went out; the power is off when Off. */
	if (g_str_equal(cmd, "stop"))
		return wait_state(vm, "Off", force ? 30 : (timeout ? 2 * timeout : 240) + 30);
	return 0;
}

static int cmd_wait(VireoManager *m, int argc, char **argv)
{
	unsigned timeout = 60;
	if (!take_timeout(&argc, argv, &timeout))
		return usage("--timeout takes seconds");
	if (argc != 3)
		return usage("wait takes a VM and a state");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	return wait_state(vm, argv[2], timeout);
}

static int cmd_screenshot(VireoManager *m, int argc, char **argv)
{
	if (argc != 3)
		return usage("screenshot takes a VM and a file");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	g_autofree char *path = g_canonicalize_filename(argv[2], NULL);
	guint w, h;
	if (!vireo_machine_call_screenshot_sync(vm, path, &w, &h, NULL, &e))
		return fail_error(e);
	printf("%s: %ux%u\n", path, w, h);
	return 0;
}

/* The viewer finds the VM through vireod itself. */
static int cmd_connect(VireoManager *m, int argc, char **argv)
{
	if (argc != 2)
		return usage("connect takes one VM");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	g_autofree char *built = dir ? g_build_filename(dir, "..", "..", "viewer", "vireo-connect", NULL) : NULL;
	const char *viewer = built && g_file_test(built, G_FILE_TEST_IS_EXECUTABLE) ? built : "vireo-connect";
	execlp(viewer, "vireo-connect", vireo_machine_get_id(vm), (char *)NULL);
	return fail("cannot run vireo-connect (%s): %s", viewer, g_strerror(errno));
}

static int cmd_console(VireoManager *m, int argc, char **argv)
{
	if (argc != 2)
		return usage("console takes one VM");
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoMachine) vm = machine_get(m, argv[1], &e);
	if (!vm)
		return fail_error(e);
	const char *sock = vireo_machine_get_serial_socket(vm);
	if (!*sock)
		return fail("VM \"%s\" is %s: it has no console now", vireo_machine_get_name(vm),
			    vireo_machine_get_state(vm));
	bool tty = isatty(STDIN_FILENO);
	if (tty)
		g_printerr("vireoctl: the console of \"%s\"; Ctrl-] ends it\n", vireo_machine_get_name(vm));
	enum serial_term_end end;
	if (serial_term_run(sock, CONSOLE_LINGER_MS, &end, &e) < 0)
		return fail("the console of \"%s\": %s", vireo_machine_get_name(vm), e->message);
	if (end == SERIAL_TERM_CLOSED)
		g_printerr("%svireoctl: the console of \"%s\" closed: the VM stopped, or another console took it\n",
			   tty ? "\r\n" : "",
			   vireo_machine_get_name(vm));
	else if (tty)
		g_printerr("\r\n");
	return 0;
}

int main(int argc, char **argv)
{
	/* A closed stdin, stdout or stderr would be taken by the next socket
	 * (the bus, a console): guest output would go there. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return 1;
	setlocale(LC_ALL, "");
	/* --json anywhere. */
	int n = 1;
	for (int i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--json"))
			opt_json = TRUE;
		else if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
			printf("%s", usage_text);
			return 0;
		} else if (g_str_equal(argv[i], "--version")) {
			printf("vireoctl %s\n", VIREO_VERSION);
			return 0;
		} else
			argv[n++] = argv[i];
	}
	argc = n;
	if (argc < 2)
		return usage(NULL);
	static const struct { const char *name; int (*fn)(VireoManager *, int, char **); } cmds[] = {
		{ "list", cmd_list }, { "show", cmd_show }, { "host", cmd_host }, { "new", cmd_new },
		{ "set", cmd_set }, { "delete", cmd_power }, { "start", cmd_power }, { "stop", cmd_power },
		{ "pause", cmd_power }, { "resume", cmd_power }, { "reset", cmd_power }, { "save", cmd_power },
		{ "wait", cmd_wait }, { "screenshot", cmd_screenshot }, { "connect", cmd_connect },
		{ "console", cmd_console },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
		if (!g_str_equal(argv[1], cmds[i].name))
			continue;
		g_autoptr(GError) e = NULL;
		g_autoptr(VireoManager) m = manager_get(&e);
		if (!m)
			return fail_error(e);
		/* A call starts vireod through D-Bus activation when it is not
		 * running; the proxy made before then has no properties. */
		g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(m));
		if (!owner) {
			g_auto(GStrv) paths = NULL;
			if (!vireo_manager_call_list_machines_sync(m, &paths, NULL, &e))
				return fail_error(e);
			g_clear_object(&m);
			if (!(m = manager_get(&e)))
				return fail_error(e);
		}
		return cmds[i].fn(m, argc - 1, argv + 1);
	}
	return usage("unknown command");
}
