// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireod with real workers, on a private bus (GTestDBus): the whole
 * lifecycle through the D-Bus API and through vireoctl, bad requests that
 * must change nothing, a worker killed with SIGKILL, and vireod restarted
 * while a VM runs. The VMs boot the demo guest (the stock Debian kernel),
 * so this needs a KVM that runs stock kernels: tests/service/run-in-host.py
 * runs it there (directly, or inside the nested test host).
 *
 * Environment: VIREOD, VIREOCTL, VIREO_WORKER, VIREO_DEMO_DIR.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "vireod-testlib.h"

/* A boot of the demo guest takes about 10 s in the nested host. */
#define STATE_TIMEOUT_S 90

static GTestDBus *bus;
static char *home;

static VireoMachine *machine(const char *path)
{
	return testlib_machine(path, 120000);
}

static guint machine_count(VireoManager *m)
{
	g_auto(GStrv) paths = NULL;
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_manager_call_list_machines_sync(m, &paths, NULL, &e));
	return g_strv_length(paths);
}

/* Wait for a string property to become value (through PropertiesChanged). */
static void wait_for(VireoMachine *vm, const char *property, const char *value)
{
	testlib_wait_property(vm, property, value, STATE_TIMEOUT_S);
}

/* Property changes arrive after the method's reply: let them in. */
static void settle_until(bool (*done)(VireoMachine *vm, guint64 want), VireoMachine *vm, guint64 want)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!done(vm, want) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), 0);
}

static bool memory_is(VireoMachine *vm, guint64 want)
{
	return vireo_machine_get_memory_mi_b(vm) == want;
}

static bool has_address(VireoMachine *vm, guint64 unused)
{
	const char *const *a = vireo_machine_get_guest_addresses(vm);
	return a && a[0] && *a[0];
}

static void expect_dbus_error(GError *e, const char *name)
{
	g_assert_nonnull(e);
	g_autofree char *remote = g_dbus_error_get_remote_error(e);
	if (g_strcmp0(remote, name) != 0)
		g_error("expected %s, got %s: %s", name, remote, e->message);
	g_test_message("refused as expected: %s", e->message);
}

static char *create(VireoManager *m, const char *spec)
{
	g_autoptr(GVariant) cfg = g_variant_ref_sink(g_variant_parse(G_VARIANT_TYPE_VARDICT, spec, NULL, NULL, NULL));
	g_assert_nonnull(cfg);
	char *path = NULL;
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_manager_call_create_machine_sync(m, cfg, &path, NULL, &e));
	g_assert_no_error(e);
	return path;
}

/* A command's reply on the worker's control socket, next to the console
 * socket vireod publishes. */
static char *worker_reply(VireoMachine *vm, const char *command)
{
	g_autofree char *dir = g_path_get_dirname(vireo_machine_get_console_socket(vm));
	g_autofree char *ctl = g_build_filename(dir, "control", NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(GSocketClient) c = g_socket_client_new();
	g_autoptr(GSocketAddress) a = g_unix_socket_address_new(ctl);
	g_autoptr(GSocketConnection) conn = g_socket_client_connect(c, G_SOCKET_CONNECTABLE(a), NULL, &e);
	g_assert_no_error(e);
	g_autofree char *cmd = g_strconcat(command, "\n", NULL);
	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), cmd, strlen(cmd), NULL, NULL, &e);
	g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	char *line = g_data_input_stream_read_line(in, NULL, NULL, &e);
	g_assert_no_error(e);
	g_assert_nonnull(line);
	return line;
}

static pid_t worker_pid(VireoMachine *vm)
{
	/* The worker answers "status" with its pid. */
	g_autofree char *line = worker_reply(vm, "status");
	return (pid_t)testlib_reply_number(line, "pid");
}

/* vireoctl with argv (NULL-terminated) and input on its stdin: its stdout
 * and stderr, its exit status. */
static int ctl_argv(char **out, const char *input, const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, (gpointer)testlib_env("VIREOCTL"));
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (gpointer)*a);
	g_ptr_array_add(argv, NULL);
	g_autoptr(GError) e = NULL;
	GSubprocessFlags fl = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
			      (input ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0);
	g_autoptr(GSubprocess) p = g_subprocess_newv((const char *const *)argv->pdata, fl, &e);
	g_assert_no_error(e);
	g_autofree char *o = NULL, *er = NULL;
	g_assert_true(g_subprocess_communicate_utf8(p, input, NULL, &o, &er, &e));
	g_test_message("vireoctl %s: %s%s", args[0], o, er);
	g_ptr_array_unref(argv);
	if (out)
		*out = g_strconcat(o, er, NULL);
	return g_subprocess_get_exit_status(p);
}

#define ctl(out, ...) ctl_argv(out, NULL, (const char *const[]){ __VA_ARGS__ })

static void test_requests_refused(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autofree char *path = create(m, "{'Name': <'keeper'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>}");
	guint n = machine_count(m);
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;
	g_autofree char *p = NULL;
	g_assert_false(vireo_manager_call_find_machine_sync(m, "no-such-vm", &p, NULL, &e1));
	expect_dbus_error(e1, "org.vireo.Vireo1.Error.NotFound");
	g_autoptr(GVariant) bad_name = g_variant_ref_sink(g_variant_parse(NULL, "{'Name': <'a/b'>}", NULL, NULL, NULL));
	g_assert_false(vireo_manager_call_create_machine_sync(m, bad_name, &p, NULL, &e2));
	expect_dbus_error(e2, "org.vireo.Vireo1.Error.InvalidArgument");
	g_autoptr(GVariant) dup = g_variant_ref_sink(g_variant_parse(NULL, "{'Name': <'KEEPER'>}", NULL, NULL, NULL));
	g_assert_false(vireo_manager_call_create_machine_sync(m, dup, &p, NULL, &e3));
	expect_dbus_error(e3, "org.vireo.Vireo1.Error.AlreadyExists");
	g_autoptr(GVariant) big = g_variant_ref_sink(g_variant_parse(NULL, "{'Name': <'big'>, 'MemoryMiB': <uint64 900000>}",
								   NULL, NULL, NULL));
	g_assert_false(vireo_manager_call_create_machine_sync(m, big, &p, NULL, &e4));
	expect_dbus_error(e4, "org.vireo.Vireo1.Error.InsufficientResources");
	g_autoptr(GVariant) typo = g_variant_ref_sink(g_variant_parse(NULL, "{'Name': <'t'>, 'Memory': <uint64 512>}",
								    NULL, NULL, NULL));
	g_assert_false(vireo_manager_call_create_machine_sync(m, typo, &p, NULL, &e5));
	expect_dbus_error(e5, "org.vireo.Vireo1.Error.InvalidArgument");
	/* Nothing was added, the existing VM is untouched. */
	g_assert_cmpuint(machine_count(m), ==, n);
	g_autoptr(VireoMachine) vm = machine(path);
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Off");
	g_assert_false(vireo_machine_call_resume_sync(vm, NULL, &e6));
	expect_dbus_error(e6, "org.vireo.Vireo1.Error.InvalidState");
	g_autoptr(GError) ed = NULL;
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &ed));
	g_assert_cmpuint(machine_count(m), ==, n - 1);

	/* A "kernel" that is no kernel: Start fails with the worker's reason,
	 * the VM is Failed, and may be set right and deleted. */
	g_autofree char *initrd = g_build_filename(testlib_env("VIREO_DEMO_DIR"), "guest.cpio.gz", NULL);
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("not-a-kernel"));
	g_variant_builder_add(&b, "{sv}", "MemoryMiB", g_variant_new_uint64(256));
	g_variant_builder_add(&b, "{sv}", "BootSource", g_variant_new_string("kernel"));
	g_variant_builder_add(&b, "{sv}", "Kernel", g_variant_new_string(initrd));
	g_autofree char *bad = NULL;
	g_autoptr(GError) ec = NULL, es = NULL, ef = NULL;
	g_assert_true(vireo_manager_call_create_machine_sync(m, g_variant_builder_end(&b), &bad, NULL, &ec));
	g_assert_no_error(ec);
	g_autoptr(VireoMachine) bvm = machine(bad);
	g_assert_false(vireo_machine_call_start_sync(bvm, NULL, &es));
	expect_dbus_error(es, "org.vireo.Vireo1.Error.Failed");
	g_assert_nonnull(strstr(es->message, "neither a bzImage nor an ELF vmlinux"));
	wait_for(bvm, "state", "Failed");
	g_assert_nonnull(strstr(vireo_machine_get_state_reason(bvm), "neither a bzImage nor an ELF vmlinux"));
	/* Waiting for another state ends there, with the reason. */
	g_autofree char *w = NULL;
	g_assert_cmpint(ctl(&w, "wait", "not-a-kernel", "Running", "--timeout", "600", NULL), ==, 1);
	g_assert_nonnull(strstr(w, "is Failed ("));
	g_assert_nonnull(strstr(w, "neither a bzImage nor an ELF vmlinux"));
	g_assert_null(strstr(w, "after 600 s"));
	g_assert_false(vireo_machine_call_resume_sync(bvm, NULL, &ef));
	expect_dbus_error(ef, "org.vireo.Vireo1.Error.InvalidState");
	g_assert_true(vireo_machine_call_delete_sync(bvm, NULL, &ed));
	g_assert_cmpuint(machine_count(m), ==, n - 1);
}

static void test_lifecycle(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autofree char *path = create(m, "{'Name': <'life'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 2>}");
	g_autoptr(VireoMachine) vm = machine(path);
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	g_assert_no_error(e);
	wait_for(vm, "state", "Running");
	g_assert_cmpstr(vireo_machine_get_console_socket(vm), !=, "");
	g_assert_true(g_file_test(vireo_machine_get_console_socket(vm), G_FILE_TEST_EXISTS));
	/* Starting twice, deleting while running, reconfiguring the memory
	 * while running: refused, nothing changes. */
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
	g_assert_false(vireo_machine_call_start_sync(vm, NULL, &e1));
	expect_dbus_error(e1, "org.vireo.Vireo1.Error.InvalidState");
	g_assert_false(vireo_machine_call_delete_sync(vm, NULL, &e2));
	expect_dbus_error(e2, "org.vireo.Vireo1.Error.InvalidState");
	g_autoptr(GVariant) mem = g_variant_ref_sink(g_variant_parse(NULL, "{'MemoryMiB': <uint64 512>}", NULL, NULL, NULL));
	g_assert_false(vireo_machine_call_configure_sync(vm, mem, NULL, &e3));
	expect_dbus_error(e3, "org.vireo.Vireo1.Error.InvalidState");
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Running");
	g_assert_cmpuint(vireo_machine_get_memory_mi_b(vm), ==, 256);

	/* The guest's integration services answer; KVP names the guest
	 * (tests/guest/scenarios/demo.sh sets them up for hv_kvp_daemon). */
	wait_for(vm, "heartbeat", "ok");
	g_assert_cmpuint(vireo_machine_get_memory_usage(vm), >, 0);
	wait_for(vm, "guest-hostname", "vireo-demo.vireo.test");
	/* The address and the OS come in replies of their own: a poll or two later. */
	gint64 kvp_end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	while (!(has_address(vm, 0) && *vireo_machine_get_guest_os(vm)) && g_get_monotonic_time() < kvp_end)
		g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), 0);
	const char *const *addrs = vireo_machine_get_guest_addresses(vm);
	g_assert_true(addrs && g_strv_contains(addrs, "10.0.2.15"));
	g_assert_cmpstr(vireo_machine_get_guest_os(vm), !=, "");

	/* Pause and resume. */
	g_assert_true(vireo_machine_call_pause_sync(vm, NULL, &e));
	wait_for(vm, "state", "Paused");
	g_assert_true(vireo_machine_call_resume_sync(vm, NULL, &e));
	wait_for(vm, "state", "Running");
	wait_for(vm, "heartbeat", "ok");

	/* Shut Down goes through the guest. */
	g_assert_true(vireo_machine_call_shut_down_sync(vm, 60, NULL, &e));
	g_assert_no_error(e);
	wait_for(vm, "state", "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "the guest shut down");
	g_assert_cmpstr(vireo_machine_get_console_socket(vm), ==, "");

	/* Turn Off cuts the power. */
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	wait_for(vm, "state", "Running");
	g_assert_true(vireo_machine_call_turn_off_sync(vm, NULL, &e));
	wait_for(vm, "state", "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "turned off");

	/* Now it may be reconfigured and deleted. */
	g_assert_true(vireo_machine_call_configure_sync(vm, mem, NULL, &e));
	settle_until(memory_is, vm, 512);
	g_assert_cmpuint(vireo_machine_get_memory_mi_b(vm), ==, 512);
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_autofree char *p = NULL;
	g_autoptr(GError) e4 = NULL;
	g_assert_false(vireo_manager_call_find_machine_sync(m, "life", &p, NULL, &e4));
	expect_dbus_error(e4, "org.vireo.Vireo1.Error.NotFound");
}

/* A VM named name that boots the demo kernel with the test initramfs and
 * runs one of its scenarios (tests/guest/scenarios), started. */
static VireoMachine *start_scenario_vm(VireoManager *m, const char *name, const char *cmdline)
{
	g_autofree char *kernel = g_build_filename(testlib_env("VIREO_DEMO_DIR"), "vmlinuz", NULL);
	g_autofree char *initrd = g_build_filename(testlib_env("VIREO_DEMO_DIR"), "guest.cpio.gz", NULL);
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(name));
	g_variant_builder_add(&b, "{sv}", "MemoryMiB", g_variant_new_uint64(256));
	g_variant_builder_add(&b, "{sv}", "Cpus", g_variant_new_uint32(1));
	g_variant_builder_add(&b, "{sv}", "BootSource", g_variant_new_string("kernel"));
	g_variant_builder_add(&b, "{sv}", "Kernel", g_variant_new_string(kernel));
	g_variant_builder_add(&b, "{sv}", "Initrd", g_variant_new_string(initrd));
	g_variant_builder_add(&b, "{sv}", "Cmdline", g_variant_new_string(cmdline));
	g_autofree char *path = NULL;
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_manager_call_create_machine_sync(m, g_variant_builder_end(&b), &path, NULL, &e));
	g_assert_no_error(e);
	VireoMachine *vm = machine(path);
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	g_assert_no_error(e);
	return vm;
}

/* A guest whose hv_utils takes the shutdown request and does nothing, and
 * which has no power button handler (tests/guest/scenarios/stubborn.sh):
 * Shut Down goes on to the power button, then turns the VM off, each after
 * its timeout, and says so on the way. */
static void test_shut_down_falls_back(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autoptr(VireoMachine) vm = start_scenario_vm(m, "stubborn", "console=ttyS0 quiet vireo.scenario=stubborn");
	g_autoptr(GError) e = NULL;
	wait_for(vm, "state", "Running");
	/* hv_utils is bound: the shutdown service takes the request. */
	wait_for(vm, "heartbeat", "ok");
	g_assert_true(vireo_machine_call_shut_down_sync(vm, 5, NULL, &e));
	g_assert_no_error(e);
	wait_for(vm, "state", "Stopping");
	wait_for(vm, "state-reason", "the guest is shutting down");
	wait_for(vm, "state-reason", "the guest did not shut down: pressing its power button");
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Stopping");
	wait_for(vm, "state-reason", "the guest did not shut down: turning it off");
	wait_for(vm, "state", "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "turned off after Shut Down timed out");
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_assert_no_error(e);
}

/* A guest that crashes (it resets by a triple fault, tests/guest/scenarios/
 * triplefault.sh): the VM is Failed with the reason, and the log keeps what
 * the guest last said on its serial console, which nobody was reading. */
static void test_guest_crash(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autoptr(VireoMachine) vm = start_scenario_vm(m, "crasher", "console=ttyS0 quiet vireo.scenario=triplefault reboot=t");
	g_autoptr(GError) e = NULL;
	wait_for(vm, "state", "Failed");
	g_assert_nonnull(strstr(vireo_machine_get_state_reason(vm), "the guest triple-faulted"));
	g_autofree char *log_path = testlib_worker_log_path(vm);
	g_autofree char *log = NULL;
	g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
	/* The log is shown only when it is wrong: a crash report in a passing
	 * test's output would read as a crash to the nested harness. */
	const char *tail = strstr(log, "vireo-worker: VM crasher: the last of its serial console:\n");
	const char *end = tail ? strstr(tail, "vireo-worker: (end of the serial console)") : NULL;
	g_autofree char *quoted = end ? g_strndup(tail, (gsize)(end - tail)) : NULL;
	if (!strstr(log, "triple-faulted after ") || !quoted || !strstr(quoted, "VIREO-RESULT reboot_method=triple") ||
	    !strstr(quoted, "VIREO-REBOOTING") || strchr(quoted, '\r')) {
		testlib_show_worker_log(vm);
		g_error("the log of VM crasher lacks the triple fault or the guest's last console lines");
	}
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_assert_no_error(e);
}

static void test_worker_killed(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autofree char *path = create(m, "{'Name': <'victim'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>}");
	g_autoptr(VireoMachine) vm = machine(path);
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	wait_for(vm, "state", "Running");
	/* Another VM keeps running through it. */
	g_autofree char *path2 = create(m, "{'Name': <'bystander'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>}");
	g_autoptr(VireoMachine) vm2 = machine(path2);
	g_assert_true(vireo_machine_call_start_sync(vm2, NULL, &e));
	wait_for(vm2, "state", "Running");
	pid_t pid = worker_pid(vm);
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	wait_for(vm, "state", "Off");
	g_assert_nonnull(strstr(vireo_machine_get_state_reason(vm), "signal 9"));
	g_assert_cmpstr(vireo_machine_get_state(vm2), ==, "Running");
	g_assert_true(vireo_machine_call_turn_off_sync(vm2, NULL, &e));
	wait_for(vm2, "state", "Off");
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_assert_true(vireo_machine_call_delete_sync(vm2, NULL, &e));
}

static void test_vireod_restart(void)
{
	g_autofree char *path = NULL, *path2 = NULL;
	{
		g_autoptr(VireoManager) m = testlib_manager();
		path = create(m, "{'Name': <'survivor'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>}");
		path2 = create(m, "{'Name': <'orphan'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>}");
		g_autoptr(VireoMachine) vm = machine(path), vm2 = machine(path2);
		g_autoptr(GError) e = NULL;
		g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
		g_assert_true(vireo_machine_call_start_sync(vm2, NULL, &e));
		wait_for(vm, "state", "Running");
		wait_for(vm2, "state", "Running");
		pid_t orphan = worker_pid(vm2);
		testlib_vireod_stop();
		/* One worker outlives vireod, the other dies while it is away. */
		g_assert_cmpint(kill(orphan, SIGKILL), ==, 0);
		g_usleep(500000);
	}
	testlib_vireod_start();
	g_autoptr(VireoMachine) vm = machine(path), vm2 = machine(path2);
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Running");
	g_assert_cmpstr(vireo_machine_get_state(vm2), ==, "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm2), ==, "the worker ended while vireod was not running");
	wait_for(vm, "heartbeat", "ok");
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_turn_off_sync(vm, NULL, &e));
	wait_for(vm, "state", "Off");
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_assert_true(vireo_machine_call_delete_sync(vm2, NULL, &e));
}

/* $XDG_DATA_HOME/vireo/ID/saved: where vireod keeps a VM's saved state. */
static char *saved_dir(VireoMachine *vm)
{
	return g_build_filename(home, "data", "vireo", vireo_machine_get_id(vm), "saved", NULL);
}

static bool saved_state_there(VireoMachine *vm)
{
	g_autofree char *dir = saved_dir(vm);
	g_autofree char *state = g_build_filename(dir, "state", NULL);
	g_autofree char *ram = g_build_filename(dir, "ram", NULL);
	return g_file_test(state, G_FILE_TEST_IS_REGULAR) && g_file_test(ram, G_FILE_TEST_IS_REGULAR);
}

static void test_save(void)
{
	g_autofree char *path = NULL, *dir = NULL;
	guint64 seq_before = 0;
	{
		g_autoptr(VireoManager) m = testlib_manager();
		path = create(m, "{'Name': <'sleeper'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 2>}");
		g_autoptr(VireoMachine) vm = machine(path);
		dir = saved_dir(vm);
		g_autoptr(GError) e = NULL;
		/* Off: nothing to save, nothing to delete. */
		g_autoptr(GError) e0 = NULL, e00 = NULL;
		g_assert_false(vireo_machine_call_save_sync(vm, NULL, &e0));
		expect_dbus_error(e0, "org.vireo.Vireo1.Error.InvalidState");
		g_assert_false(vireo_machine_call_delete_saved_state_sync(vm, NULL, &e00));
		expect_dbus_error(e00, "org.vireo.Vireo1.Error.InvalidState");

		g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
		g_assert_no_error(e);
		wait_for(vm, "state", "Running");
		wait_for(vm, "heartbeat", "ok");
		/* A few beats answered: their count is part of what is saved. */
		for (int i = 0; i < 100; i++) {
			g_autofree char *hb = worker_reply(vm, "heartbeat");
			if (testlib_reply_number(hb, "beats") >= 2) {
				seq_before = testlib_reply_number(hb, "seq");
				break;
			}
			g_usleep(100000);
		}
		g_assert_cmpuint(seq_before, >, 0);
		pid_t pid = worker_pid(vm);
		/* Running -> Saving -> Saved: the worker writes it all and ends. */
		g_assert_true(vireo_machine_call_save_sync(vm, NULL, &e));
		g_assert_no_error(e);
		wait_for(vm, "state", "Saved");
		g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "saved");
		g_assert_cmpstr(vireo_machine_get_console_socket(vm), ==, "");
		g_assert_true(saved_state_there(vm));
		g_assert_cmpint(kill(pid, 0), ==, -1);
		/* Saved allows Start, DeleteSavedState, Delete, Rename: not these. */
		g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
		g_assert_false(vireo_machine_call_pause_sync(vm, NULL, &e1));
		expect_dbus_error(e1, "org.vireo.Vireo1.Error.InvalidState");
		g_assert_false(vireo_machine_call_save_sync(vm, NULL, &e2));
		expect_dbus_error(e2, "org.vireo.Vireo1.Error.InvalidState");
		g_autoptr(GVariant) mem = g_variant_ref_sink(g_variant_parse(NULL, "{'MemoryMiB': <uint64 512>}", NULL, NULL, NULL));
		g_assert_false(vireo_machine_call_configure_sync(vm, mem, NULL, &e3));
		expect_dbus_error(e3, "org.vireo.Vireo1.Error.InvalidState");
		g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Saved");
	}
	/* A Saved VM is still Saved for the next vireod. */
	testlib_vireod_stop();
	testlib_vireod_start();
	g_autoptr(VireoMachine) vm = machine(path);
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Saved");
	g_assert_true(saved_state_there(vm));

	/* Start goes on from it: the same VM, whose heartbeat counts on from
	 * where it stood (a new boot would start again from 1), and the saved
	 * state is used up. */
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	g_assert_no_error(e);
	wait_for(vm, "state", "Running");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "restored from its saved state");
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	{
		g_autofree char *hb = worker_reply(vm, "heartbeat");
		g_test_message("after the restore: %s", hb);
		g_assert_cmpuint(testlib_reply_number(hb, "beats"), >=, 2);
		g_assert_cmpuint(testlib_reply_number(hb, "seq"), >=, seq_before);
	}
	wait_for(vm, "heartbeat", "ok");

	/* Paused -> Saving -> Saved, then given up: Off, nothing left. */
	g_assert_true(vireo_machine_call_pause_sync(vm, NULL, &e));
	wait_for(vm, "state", "Paused");
	g_assert_true(vireo_machine_call_save_sync(vm, NULL, &e));
	wait_for(vm, "state", "Saved");
	g_assert_true(saved_state_there(vm));
	g_assert_true(vireo_machine_call_delete_saved_state_sync(vm, NULL, &e));
	g_assert_no_error(e);
	wait_for(vm, "state", "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "the saved state was deleted");
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	/* The next Start boots afresh (the heartbeat counts from the start). */
	g_assert_true(vireo_machine_call_start_sync(vm, NULL, &e));
	wait_for(vm, "state", "Running");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "");
	{
		g_autofree char *hb = worker_reply(vm, "heartbeat");
		g_assert_cmpuint(testlib_reply_number(hb, "beats"), <, 2);
	}
	/* Saved again, then deleted with the VM: its files go with it. */
	wait_for(vm, "heartbeat", "ok");
	g_assert_true(vireo_machine_call_save_sync(vm, NULL, &e));
	wait_for(vm, "state", "Saved");
	g_assert_true(vireo_machine_call_delete_sync(vm, NULL, &e));
	g_assert_no_error(e);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	g_autofree char *datadir = g_path_get_dirname(dir);
	g_assert_false(g_file_test(datadir, G_FILE_TEST_EXISTS));
}

/* The VM called name, or NULL when vireod has none. */
static VireoMachine *machine_by_name(const char *name)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autofree char *path = NULL;
	if (!vireo_manager_call_find_machine_sync(m, name, &path, NULL, NULL))
		return NULL;
	return machine(path);
}

/* The worker's reply to command, for the VM called name. */
static char *worker_reply_by_name(const char *name, const char *command)
{
	g_autoptr(VireoMachine) vm = machine_by_name(name);
	g_assert_nonnull(vm);
	return worker_reply(vm, command);
}

/* A vireoctl command that must succeed; when it does not, the worker's log
 * (the guest's last console lines with it) says what the VM did. */
static void ctl_must(const char *const *args)
{
	if (ctl_argv(NULL, NULL, args) == 0)
		return;
	g_autoptr(VireoMachine) vm = args[1] ? machine_by_name(args[1]) : NULL;
	if (vm)
		testlib_show_worker_log(vm);
	g_error("vireoctl %s %s failed", args[0], args[1] ? args[1] : "");
}

#define ctl_ok(...) ctl_must((const char *const[]){ __VA_ARGS__ })

static void test_vireoctl(void)
{
	g_autofree char *o = NULL;
	ctl_ok("new", "cli-vm", "--memory", "256M", "--cpus", "1", NULL);
	g_assert_cmpint(ctl(NULL, "new", "cli-vm", NULL), ==, 1);
	g_assert_cmpint(ctl(NULL, "frobnicate", NULL), ==, 2);
	g_assert_cmpint(ctl(&o, "list", "--json", NULL), ==, 0);
	g_assert_nonnull(strstr(o, "\"name\" : \"cli-vm\""));
	g_clear_pointer(&o, g_free);
	ctl_ok("start", "cli-vm", NULL);
	ctl_ok("wait", "cli-vm", "Running", NULL);
	g_assert_cmpint(ctl(&o, "show", "cli-vm", "--json", NULL), ==, 0);
	g_assert_nonnull(strstr(o, "\"state\" : \"Running\""));
	g_clear_pointer(&o, g_free);
	g_assert_cmpint(ctl(NULL, "delete", "cli-vm", NULL), ==, 1);
	ctl_ok("pause", "cli-vm", NULL);
	ctl_ok("wait", "cli-vm", "Paused", NULL);
	ctl_ok("resume", "cli-vm", NULL);
	g_assert_cmpint(ctl(&o, "host", "--json", NULL), ==, 0);
	g_assert_nonnull(strstr(o, "\"kind\" : \""));
	g_clear_pointer(&o, g_free);

	/* The serial console, from a pipe: the demo guest's shell there
	 * answers (a few tries: it may still be starting). */
	bool answered = false;
	for (int i = 0; i < 10 && !answered; i++) {
		g_assert_cmpint(ctl_argv(&o, "echo VIREO-CONSOLE-$((6*7))\n",
					 (const char *const[]){ "console", "cli-vm", NULL }), ==, 0);
		answered = strstr(o, "VIREO-CONSOLE-42") != NULL;
		g_clear_pointer(&o, g_free);
	}
	g_assert_true(answered);

	/* Reset: the same worker boots the guest again. */
	g_autofree char *st0 = worker_reply_by_name("cli-vm", "status");
	ctl_ok("reset", "cli-vm", NULL);
	ctl_ok("wait", "cli-vm", "Running", NULL);
	guint64 boots = 0;
	for (int i = 0; i < 100 && boots <= testlib_reply_number(st0, "boots"); i++) {
		g_autofree char *st1 = worker_reply_by_name("cli-vm", "status");
		boots = testlib_reply_number(st1, "boots");
		g_assert_cmpuint(testlib_reply_number(st1, "pid"), ==, testlib_reply_number(st0, "pid"));
		if (boots <= testlib_reply_number(st0, "boots"))
			g_usleep(100000);
	}
	g_assert_cmpuint(boots, ==, testlib_reply_number(st0, "boots") + 1);

	/* Turn Off, then Shut Down through the guest. */
	ctl_ok("stop", "cli-vm", "--force", NULL);
	g_assert_cmpint(ctl(&o, "show", "cli-vm", NULL), ==, 0);
	g_assert_nonnull(strstr(o, "State:       Off - turned off"));
	g_clear_pointer(&o, g_free);
	g_assert_cmpint(ctl(&o, "console", "cli-vm", NULL), ==, 1);
	g_clear_pointer(&o, g_free);
	ctl_ok("start", "cli-vm", NULL);
	ctl_ok("stop", "cli-vm", "--timeout", "60", NULL);
	g_assert_cmpint(ctl(&o, "show", "cli-vm", NULL), ==, 0);
	g_assert_nonnull(strstr(o, "State:       Off - the guest shut down"));
	ctl_ok("set", "cli-vm", "memory=384", "name=cli-renamed", NULL);
	ctl_ok("delete", "cli-renamed", NULL);
	g_assert_cmpint(ctl(NULL, "show", "cli-renamed", NULL), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	home = g_dir_make_tmp("vireod-test-XXXXXX", NULL);
	g_autofree char *cfg = g_build_filename(home, "config", NULL);
	g_autofree char *data = g_build_filename(home, "data", NULL);
	g_autofree char *run = g_build_filename(home, "run", NULL);
	g_mkdir_with_parents(run, 0700);
	g_setenv("XDG_CONFIG_HOME", cfg, TRUE);
	g_setenv("XDG_DATA_HOME", data, TRUE);
	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	/* After the bus: GTestDBus unsets XDG_RUNTIME_DIR, and vireod would put
	 * its sockets under the cache folder, past the 107 bytes a socket path has. */
	g_setenv("XDG_RUNTIME_DIR", run, TRUE);
	testlib_vireod_start();
	g_test_add_func("/vireod/requests-refused", test_requests_refused);
	g_test_add_func("/vireod/lifecycle", test_lifecycle);
	g_test_add_func("/vireod/shut-down-falls-back", test_shut_down_falls_back);
	g_test_add_func("/vireod/guest-crash", test_guest_crash);
	g_test_add_func("/vireod/worker-killed", test_worker_killed);
	g_test_add_func("/vireod/vireod-restart", test_vireod_restart);
	g_test_add_func("/vireod/save", test_save);
	g_test_add_func("/vireod/vireoctl", test_vireoctl);
	int r = g_test_run();
	testlib_vireod_stop();
	g_test_dbus_down(bus);
	g_object_unref(bus);
	return r;
}
