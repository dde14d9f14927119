// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireod on this host, with its VMs inside the emulated host (vireo-emuhost:
 * QEMU/TCG with emulated AMD-V, the worker on L1's KVM), on a private bus
 * (GTestDBus): the whole lifecycle through vireoctl and the D-Bus API. The
 * guest is the fixtures' Debian kernel with the scenario emuhost
 * (tests/guest/scenarios/emuhost.sh): it draws vireo-fbtool's pattern 41,
 * which must come through the console socket exactly (shared memory, made
 * by vireo-emuhost's bridge, and inline) and into the PNG of a screenshot
 * (vireoctl screenshot, and the control socket: vireo-emuhost answers it
 * and writes the file on this host). Then Save (the state comes out of
 * the emulated host into vireod's folder here) and Start: the guest goes
 * on where it was (its picture is still there, undrawn, and it reports on
 * its serial console whether the keys typed through the console socket
 * after the restore arrived). Then Shut Down
 * through the guest, a worker killed inside the emulated host (reported as
 * any killed worker), SIGTERM to vireo-emuhost and Turn Off (both turn the
 * VM off), and Delete.
 *
 * Where this host's KVM runs stock guests, vireod would run them natively:
 * the test then asks for the emulated host (VIREO_HOST_PATH=emulated).
 *
 * Environment: VIREOD, VIREOCTL, VIREO_WORKER, VIREO_EMUHOST, CONSOLE_CLIENT,
 * WORKER_CTL, FBPATTERN, FIXTURES, EMUHOST_CACHE (the image cache, kept
 * between runs), OUTDIR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "vireod-testlib.h"

#define SEED     41
/* The first start builds the image (seconds from cached packages, more
 * when they are downloaded); L1 boots in about 6 s, the guest in about 20. */
#define START_TIMEOUT_S  900
#define STATE_TIMEOUT_S  240
#define SERIAL_TIMEOUT_S 300

/* A program's stdout and exit status. */
static int run(char **out, const char *const *argv)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *o = NULL, *er = NULL;
	int status = 0;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &er, &status, &e));
	g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
	g_test_message("%s: %s%s", cmd, o, er);
	if (out)
		*out = g_steal_pointer(&o);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define RUN(out, ...) run(out, (const char *const[]){ __VA_ARGS__, NULL })

static VireoMachine *machine(const char *path)
{
	return testlib_machine(path, START_TIMEOUT_S * 1000);
}

static gboolean on_timeout(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void wait_state(VireoMachine *vm, const char *value)
{
	testlib_wait_property(vm, "state", value, STATE_TIMEOUT_S);
}

/* ---- the progress vireod shows while the emulated host starts ---- */

struct progress {
	GPtrArray *lines;
};

static void on_reason(GObject *o, GParamSpec *ps, gpointer data)
{
	struct progress *p = data;
	const char *r = vireo_machine_get_state_reason(VIREO_MACHINE(o));
	if (g_str_equal(vireo_machine_get_state(VIREO_MACHINE(o)), "Starting") && g_str_has_prefix(r, "emulated host: "))
		g_ptr_array_add(p->lines, g_strdup(r));
}

/* What the worker says of itself when the guest went quiet. */
static void show_worker_state(const char *control)
{
	static const char *const cmds[] = { "status", "input", "console", "vmbus", "heartbeat", "emuhost status" };
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
		g_autofree char *o = NULL;
		(void)RUN(&o, testlib_env("WORKER_CTL"), control, cmds[i]);
	}
}

struct start_call {
	GMainLoop *loop;
	GError *error;
	bool done;
};

static void on_started(GObject *src, GAsyncResult *res, gpointer data)
{
	struct start_call *s = data;
	(void)vireo_machine_call_start_finish(VIREO_MACHINE(src), res, &s->error);
	s->done = true;
	g_main_loop_quit(s->loop);
}

/* Start, and wait for Running: the progress lines seen on the way. */
static GPtrArray *start(VireoMachine *vm)
{
	struct progress p = { g_ptr_array_new_with_free_func(g_free) };
	gulong id = g_signal_connect(vm, "notify::state-reason", G_CALLBACK(on_reason), &p);
	struct start_call s = { g_main_loop_new(NULL, FALSE) };
	vireo_machine_call_start(vm, NULL, on_started, &s);
	guint t = g_timeout_add_seconds(START_TIMEOUT_S, on_timeout, s.loop);
	g_main_loop_run(s.loop);
	g_source_remove(t);
	g_main_loop_unref(s.loop);
	if (!s.done || s.error)
		testlib_show_worker_log(vm);
	g_assert_true(s.done);
	g_assert_no_error(s.error);
	wait_state(vm, "Running");
	g_signal_handler_disconnect(vm, id);
	for (guint i = 0; i < p.lines->len; i++)
		g_test_message("progress: %s", (const char *)p.lines->pdata[i]);
	return p.lines;
}

/* ---- the guest's serial console ---- */

struct serial {
	GSocketConnection *conn;
	GString *text;
};

static void serial_open(struct serial *s, const char *path)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GSocketClient) c = g_socket_client_new();
	g_autoptr(GSocketAddress) a = g_unix_socket_address_new(path);
	s->conn = g_socket_client_connect(c, G_SOCKET_CONNECTABLE(a), NULL, &e);
	g_assert_no_error(e);
	s->text = g_string_new(NULL);
}

static void serial_close(struct serial *s)
{
	g_clear_object(&s->conn);
	g_string_free(s->text, TRUE);
}

/* Until the console said needle (a line of its own): false when it never does. */
static bool serial_wait(struct serial *s, const char *needle)
{
	GSocket *sock = g_socket_connection_get_socket(s->conn);
	gint64 end = g_get_monotonic_time() + (gint64)SERIAL_TIMEOUT_S * G_USEC_PER_SEC;
	while (!strstr(s->text->str, needle)) {
		gint64 left = end - g_get_monotonic_time();
		if (left <= 0)
			return false;
		g_autoptr(GError) e = NULL;
		if (!g_socket_condition_timed_wait(sock, G_IO_IN, left, NULL, &e))
			return false;
		char buf[4096];
		gssize n = g_socket_receive(sock, buf, sizeof(buf), NULL, &e);
		if (n <= 0)
			return false;
		g_string_append_len(s->text, buf, n);
	}
	return true;
}

/* VIREO-RESULT key=value of the console so far, or NULL. */
static char *serial_result(struct serial *s, const char *key)
{
	g_autofree char *want = g_strdup_printf("VIREO-RESULT %s=", key);
	const char *p = strstr(s->text->str, want);
	if (!p)
		return NULL;
	p += strlen(want);
	return g_strndup(p, strcspn(p, "\r\n"));
}

/* ---- helpers ---- */

static char *ctl_socket(VireoMachine *vm)
{
	g_autofree char *dir = g_path_get_dirname(vireo_machine_get_console_socket(vm));
	return g_build_filename(dir, "control", NULL);
}

static void assert_private_socket(const char *path)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_autofree char *dir = g_path_get_dirname(path);
	g_assert_cmpint(stat(dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
}

static void check_picture(const char *png)
{
	g_autofree char *seed = g_strdup_printf("%d", SEED);
	g_autofree char *o = NULL;
	g_assert_cmpint(RUN(&o, "python3", testlib_env("FBPATTERN"), "check", png, seed, "1024", "768"), ==, 0);
	g_assert_nonnull(strstr(o, ": exact"));
}

/* ---- the test ---- */

static char *vm_path;

static void test_host(void)
{
	g_autoptr(VireoManager) m = testlib_manager();
	g_autofree char *o = NULL;
	g_assert_cmpint(RUN(&o, testlib_env("VIREOCTL"), "host"), ==, 0);
	g_assert_nonnull(strstr(o, "VMs run inside an emulated host (QEMU with emulated AMD-V): slow"));
	g_assert_nonnull(strstr(vireo_manager_get_host_reason(m), "emulated host"));
	/* This project's machines: PVM. */
	if (g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR))
		g_assert_cmpstr(vireo_manager_get_host_kind(m), ==, "kvm-limited");
}

static void test_create(void)
{
	g_autofree char *fx = g_strdup(testlib_env("FIXTURES"));
	g_autofree char *kernel = g_build_filename(fx, "vmlinuz", NULL);
	g_autofree char *initrd = g_build_filename(fx, "guest.cpio.gz", NULL);
	g_assert_cmpint(RUN(NULL, testlib_env("VIREOCTL"), "new", "emu", "--memory", "256M", "--cpus", "2", "--kernel", kernel,
			    "--initrd", initrd, "--cmdline", "console=ttyS0 quiet vireo.scenario=emuhost"), ==, 0);
	g_autofree char *o = NULL;
	g_assert_cmpint(RUN(&o, testlib_env("VIREOCTL"), "show", "emu"), ==, 0);
	g_assert_nonnull(strstr(o, "emulated host: slow"));
	g_autoptr(VireoManager) m = testlib_manager();
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_manager_call_find_machine_sync(m, "emu", &vm_path, NULL, &e));
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_assert_true(vireo_machine_get_emulated_host(vm));
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Off");
}

static void test_console_keys_shutdown(void)
{
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_autoptr(GPtrArray) progress = start(vm);
	/* vireod showed where the emulated host was while it started. */
	g_assert_cmpuint(progress->len, >=, 1);
	const char *console = vireo_machine_get_console_socket(vm);
	g_autofree char *control = ctl_socket(vm);
	assert_private_socket(console);
	assert_private_socket(control);
	assert_private_socket(vireo_machine_get_serial_socket(vm));

	/* The control socket through the emulated host: pid= names vireo-emuhost here. */
	g_autofree char *status = NULL, *emu = NULL;
	g_assert_cmpint(RUN(&status, testlib_env("WORKER_CTL"), control, "status"), ==, 0);
	g_assert_true(g_str_has_prefix(status, "ok state=running "));
	g_autofree char *exe = g_strdup_printf("/proc/%" G_GUINT64_FORMAT "/exe", testlib_reply_number(status, "pid"));
	g_autofree char *target = g_file_read_link(exe, NULL);
	g_assert_nonnull(target);
	g_assert_true(g_str_has_suffix(target, "/vireo-emuhost"));
	g_assert_cmpint(RUN(&emu, testlib_env("WORKER_CTL"), control, "emuhost status"), ==, 0);
	g_assert_true(g_str_has_prefix(emu, "ok emulated=yes qemu_pid="));

	struct serial s;
	serial_open(&s, vireo_machine_get_serial_socket(vm));
	if (!serial_wait(&s, "VIREO-READY emuhost"))
		g_error("the guest did not draw its pattern; its console said:\n%s", s.text->str);
	g_autofree char *fb = serial_result(&s, "fb");
	g_assert_cmpstr(fb, ==, "yes");

	/* The picture, through the bridge's memfd and inline. */
	g_autofree char *shared = g_build_filename(testlib_env("OUTDIR"), "emuhost-shared.png", NULL);
	g_autofree char *inl = g_build_filename(testlib_env("OUTDIR"), "emuhost-inline.png", NULL);
	g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL;
	g_assert_cmpint(RUN(&o1, testlib_env("CONSOLE_CLIENT"), console, "--png", shared, "--timeout", "120"), ==, 0);
	g_assert_nonnull(strstr(o1, "ok surface=1024x768 mode=shared "));
	check_picture(shared);
	g_assert_cmpint(RUN(&o2, testlib_env("CONSOLE_CLIENT"), console, "--inline", "--ack", "--png", inl, "--timeout", "120"),
			==, 0);
	g_assert_nonnull(strstr(o2, "ok surface=1024x768 mode=inline "));
	check_picture(inl);

	/* Screenshot: taken by vireo-emuhost through the mux, written here. */
	g_autofree char *shot = g_build_filename(testlib_env("OUTDIR"), "emuhost-screenshot.png", NULL);
	g_unlink(shot);
	g_autofree char *o4 = NULL;
	gint64 t0 = g_get_monotonic_time();
	g_assert_cmpint(RUN(&o4, testlib_env("VIREOCTL"), "screenshot", "emu", shot), ==, 0);
	g_test_message("screenshot through the emulated host: %.2f s", (double)(g_get_monotonic_time() - t0) / 1e6);
	g_autofree char *want4 = g_strdup_printf("%s: 1024x768\n", shot);
	g_assert_cmpstr(o4, ==, want4);
	check_picture(shot);
	/* On the control socket, in the worker's words; a folder that is not there is an error. */
	g_autofree char *shot2 = g_build_filename(testlib_env("OUTDIR"), "emuhost-screenshot-ctl.png", NULL);
	g_unlink(shot2);
	g_autofree char *cmd5 = g_strconcat("screenshot ", shot2, NULL);
	g_autofree char *o5 = NULL, *o6 = NULL;
	g_assert_cmpint(RUN(&o5, testlib_env("WORKER_CTL"), control, cmd5), ==, 0);
	g_autofree char *want5 = g_strdup_printf("ok 1024x768 %s\n", shot2);
	g_assert_cmpstr(o5, ==, want5);
	check_picture(shot2);
	g_autofree char *missing = g_build_filename(testlib_env("OUTDIR"), "no-such-folder", "x.png", NULL);
	g_autofree char *cmd6 = g_strconcat("screenshot ", missing, NULL);
	g_assert_cmpint(RUN(&o6, testlib_env("WORKER_CTL"), control, cmd6), ==, 1);
	g_autofree char *want6 = g_strdup_printf("error writing %s: No such file or directory\n", missing);
	g_assert_cmpstr(o6, ==, want6);

	/* Save: the worker saves inside L1, vireo-emuhost brings the files here. */
	g_autoptr(GError) se = NULL;
	gint64 t1 = g_get_monotonic_time();
	g_assert_true(vireo_machine_call_save_sync(vm, NULL, &se));
	g_assert_no_error(se);
	wait_state(vm, "Saved");
	g_test_message("save through the emulated host: %.2f s", (double)(g_get_monotonic_time() - t1) / 1e6);
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "saved");
	g_autofree char *saved = g_build_filename(g_getenv("XDG_DATA_HOME"), "vireo", vireo_machine_get_id(vm), "saved",
						  NULL);
	g_autofree char *saved_state = g_build_filename(saved, "state", NULL);
	g_autofree char *saved_ram = g_build_filename(saved, "ram", NULL);
	g_assert_true(g_file_test(saved_state, G_FILE_TEST_IS_REGULAR));
	struct stat rst;
	g_assert_cmpint(stat(saved_ram, &rst), ==, 0);
	g_assert_cmpint(rst.st_size, ==, 256 << 20);
	/* Only the folder itself beside the VM's files: no half-written one left. */
	g_autofree char *vmdir = g_path_get_dirname(saved);
	g_autoptr(GDir) vd = g_dir_open(vmdir, 0, NULL);
	const char *vn;
	while (vd && (vn = g_dir_read_name(vd)))
		g_assert_false(strstr(vn, "partial"));
	serial_close(&s);

	/* Start goes on from the saved state: the picture is there without a new drawing. */
	gint64 t2 = g_get_monotonic_time();
	g_autoptr(GPtrArray) progress2 = start(vm);
	g_test_message("restore through the emulated host: %.2f s", (double)(g_get_monotonic_time() - t2) / 1e6);
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "restored from its saved state");
	serial_open(&s, vireo_machine_get_serial_socket(vm));
	g_autofree char *shot3 = g_build_filename(testlib_env("OUTDIR"), "emuhost-restored.png", NULL);
	g_unlink(shot3);
	g_autofree char *o7 = NULL;
	g_assert_cmpint(RUN(&o7, testlib_env("VIREOCTL"), "screenshot", "emu", shot3), ==, 0);
	check_picture(shot3);

	/* Keys reach the guest, which was waiting for them when it was saved. */
	g_assert_cmpint(RUN(&o3, testlib_env("CONSOLE_CLIENT"), console, "--frames", "0", "--keys", "30,48,46"), ==, 0);
	g_assert_nonnull(strstr(o3, " keys=3"));
	if (!serial_wait(&s, "VIREO-READY emuhost-keys")) {
		show_worker_state(control);
		testlib_show_worker_log(vm);
		g_error("the guest did not report its keys; its console said:\n%s", s.text->str);
	}
	g_autofree char *match = serial_result(&s, "kbd_match");
	g_autofree char *frames = serial_result(&s, "kbd_frames");
	g_assert_cmpstr(frames, ==, "6");
	g_assert_cmpstr(match, ==, "yes");
	g_assert_null(strstr(s.text->str, "VIREO-READY emuhost\r"));
	g_assert_null(strstr(s.text->str, "VIREO-READY emuhost\n"));

	/* The mux carried all of it without a broken rule. */
	g_autofree char *emu2 = NULL;
	g_assert_cmpint(RUN(&emu2, testlib_env("WORKER_CTL"), control, "emuhost status"), ==, 0);
	g_assert_cmpint(testlib_reply_number(emu2, "bad"), ==, 0);
	g_assert_cmpint(testlib_reply_number(emu2, "violations"), ==, 0);
	g_assert_cmpint(testlib_reply_number(emu2, "stray"), ==, 0);

	/* Shut Down goes through the guest. */
	g_assert_cmpint(RUN(NULL, testlib_env("VIREOCTL"), "stop", "emu", "--timeout", "120"), ==, 0);
	wait_state(vm, "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "the guest shut down");
	g_assert_false(g_file_test(control, G_FILE_TEST_EXISTS));
	serial_close(&s);
}

static void test_worker_crash(void)
{
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_autoptr(GPtrArray) progress = start(vm);
	g_autofree char *control = ctl_socket(vm);
	g_autofree char *emu = NULL, *killed = NULL;
	g_assert_cmpint(RUN(&emu, testlib_env("WORKER_CTL"), control, "emuhost status"), ==, 0);
	pid_t qemu = (pid_t)testlib_reply_number(emu, "qemu_pid");
	g_assert_cmpint(kill(qemu, 0), ==, 0);
	/* SIGKILL to the worker inside L1: vireod hears of it as of any killed worker. */
	g_assert_cmpint(RUN(&killed, testlib_env("WORKER_CTL"), control, "emuhost kill-worker"), ==, 0);
	g_assert_true(g_str_has_prefix(killed, "ok sent signal 9"));
	wait_state(vm, "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==,
			"the worker process ended unexpectedly (signal 9, Killed)");
	/* And the emulated host went with it. */
	g_assert_cmpint(kill(qemu, 0), ==, -1);
	g_assert_cmpint(errno, ==, ESRCH);
}

static void test_sigterm_turn_off(void)
{
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_autoptr(GPtrArray) p1 = start(vm);
	g_autofree char *control = ctl_socket(vm);
	g_autofree char *status = NULL;
	g_assert_cmpint(RUN(&status, testlib_env("WORKER_CTL"), control, "status"), ==, 0);
	/* SIGTERM to vireo-emuhost turns the VM off through its control socket. */
	g_assert_cmpint(kill((pid_t)testlib_reply_number(status, "pid"), SIGTERM), ==, 0);
	wait_state(vm, "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "turned off");

	g_autoptr(GPtrArray) p2 = start(vm);
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_turn_off_sync(vm, NULL, &e));
	g_assert_no_error(e);
	wait_state(vm, "Off");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "turned off");
}

/* The VM's worker log, whole ("" when there is none). */
static char *worker_log(VireoMachine *vm)
{
	g_autofree char *path = g_build_filename(g_getenv("XDG_RUNTIME_DIR"), "vireo", vireo_machine_get_id(vm),
						 "worker.log", NULL);
	char *text = NULL;
	return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("");
}

/* The QEMU of this VM's vireo-emuhost (found by its --control), 0 when none. */
static pid_t vm_qemu(const char *control)
{
	g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		if (!g_ascii_isdigit(n[0]))
			continue;
		g_autofree char *cl = g_strdup_printf("/proc/%s/cmdline", n), *args = NULL;
		gsize len = 0;
		if (!g_file_get_contents(cl, &args, &len, NULL) || !g_str_has_suffix(args, "/vireo-emuhost"))
			continue;
		bool ours = false;
		for (gsize i = 0; i < len; i += strlen(args + i) + 1)
			ours |= g_str_equal(args + i, control);
		g_autofree char *kids = NULL, *kp = g_strdup_printf("/proc/%s/task/%s/children", n, n);
		if (ours && g_file_get_contents(kp, &kids, NULL, NULL) && g_ascii_isdigit(kids[0]))
			return (pid_t)g_ascii_strtoll(kids, NULL, 10);
	}
	return 0;
}

/* L1 stops answering as soon as it is up (its QEMU stopped with SIGSTOP,
 * as an emulated host was seen to go quiet about once in a hundred
 * starts): after 60 s vireod starts the emulated host again, once, the VM
 * runs, and the log says what happened, with QEMU's threads then. */
static void test_l1_stops_answering(void)
{
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_autofree char *control = g_build_filename(g_getenv("XDG_RUNTIME_DIR"), "vireo", vireo_machine_get_id(vm),
						    "control", NULL);
	/* The freeze must come before the worker's first answer: a Start that
	 * was quicker proves nothing and is tried again. */
	for (int attempt = 1; attempt <= 3; attempt++) {
		struct start_call s = { g_main_loop_new(NULL, FALSE) };
		vireo_machine_call_start(vm, NULL, on_started, &s);
		pid_t qemu = 0;
		gint64 end = g_get_monotonic_time() + (gint64)START_TIMEOUT_S * G_USEC_PER_SEC;
		while (!qemu && !s.done && g_get_monotonic_time() < end) {
			g_autofree char *log = worker_log(vm);
			if (strstr(log, "emulated host: L1 is up") && (qemu = vm_qemu(control)) > 0)
				g_assert_cmpint(kill(qemu, SIGSTOP), ==, 0);
			else
				g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), 0);
		}
		guint t = g_timeout_add_seconds(START_TIMEOUT_S, on_timeout, s.loop);
		if (!s.done)
			g_main_loop_run(s.loop);
		g_source_remove(t);
		g_main_loop_unref(s.loop);
		g_autofree char *log = worker_log(vm);
		if (!s.done || s.error)
			testlib_show_worker_log(vm);
		g_assert_true(s.done);
		g_assert_no_error(s.error);
		wait_state(vm, "Running");
		bool retried = strstr(log, "its emulated host stopped answering for 60 s: starting it again") != NULL;
		g_test_message("attempt %d: QEMU %d stopped; %s", attempt, (int)qemu,
			       retried ? "vireod started the emulated host again" : "the worker had answered first");
		if (retried) {
			/* The log says what the stopped one looked like: every thread stopped (T). */
			g_autofree char *want = g_strdup_printf("QEMU pid %d: cpu 0%% over 1000 ms; threads:", (int)qemu);
			g_assert_nonnull(strstr(log, want));
			g_assert_nonnull(strstr(log, "(T "));
			/* It is gone with its vireo-emuhost. */
			for (int i = 0; i < 100 && kill(qemu, 0) == 0; i++)
				g_usleep(100000);
			g_assert_cmpint(kill(qemu, 0), ==, -1);
			g_autofree char *st = NULL;
			g_assert_cmpint(RUN(&st, testlib_env("WORKER_CTL"), control, "status"), ==, 0);
			g_assert_true(g_str_has_prefix(st, "ok state=running "));
		}
		g_autoptr(GError) e = NULL;
		g_assert_true(vireo_machine_call_turn_off_sync(vm, NULL, &e));
		g_assert_no_error(e);
		wait_state(vm, "Off");
		if (qemu > 0)
			(void)kill(qemu, SIGCONT);
		if (retried)
			return;
	}
	g_error("in three Starts the worker answered before its QEMU could be stopped");
}

/* vireo-emuhost by itself, as vireod runs it, with an emulated host that fails. */
static int emuhost_alone(const char *qemu, char **out)
{
	g_autofree char *fx = g_strdup(testlib_env("FIXTURES"));
	g_autofree char *kernel = g_build_filename(fx, "vmlinuz", NULL);
	g_autofree char *initrd = g_build_filename(fx, "guest.cpio.gz", NULL);
	g_autofree char *cache = g_build_filename(testlib_env("EMUHOST_CACHE"), "vireo", "emuhost", NULL);
	g_autofree char *qopt = g_strconcat("--emuhost-qemu=", qemu, NULL);
	g_autofree char *copt = g_strconcat("--emuhost-cache=", cache, NULL);
	g_autofree char *wopt = g_strconcat("--emuhost-worker=", testlib_env("VIREO_WORKER"), NULL);
	g_autofree char *dir = g_dir_make_tmp("emuhost-alone-XXXXXX", NULL);
	g_autofree char *ctl = g_build_filename(dir, "control", NULL);
	int r = RUN(out, testlib_env("VIREO_EMUHOST"), qopt, copt, wopt, "--kernel", kernel, "--initrd", initrd, "--memory", "256M",
		    "--serial", "none", "--control", ctl);
	g_assert_false(g_file_test(ctl, G_FILE_TEST_EXISTS));
	g_rmdir(dir);
	return r;
}

static void test_qemu_fails(void)
{
	g_autofree char *o = NULL;
	g_assert_cmpint(emuhost_alone("/bin/false", &o), ==, 1);
	g_assert_nonnull(strstr(o, "vireo-emuhost: the emulated host (QEMU, exit status 1) ended before the worker did"));
}

static void test_l1_without_kvm(void)
{
	/* An emulated CPU without AMD-V: kvm_amd cannot load, L1 has no /dev/kvm. */
	g_autofree char *dir = g_dir_make_tmp("emuhost-qemu-XXXXXX", NULL);
	g_autofree char *qemu = g_build_filename(dir, "qemu-without-svm", NULL);
	g_assert_true(g_file_set_contents(qemu, "#!/bin/sh\nexec qemu-system-x86_64 \"$@\" -cpu EPYC,svm=off\n", -1, NULL));
	g_assert_cmpint(g_chmod(qemu, 0755), ==, 0);
	g_autofree char *o = NULL;
	g_assert_cmpint(emuhost_alone(qemu, &o), ==, 1);
	g_assert_nonnull(strstr(o, "vireo-emuhost: L1 could not provide a KVM: the emulated host has no /dev/kvm"));
	g_assert_nonnull(strstr(o, "insmod kvm_amd"));
	g_unlink(qemu);
	g_rmdir(dir);
}

/* apt-get that cannot reach the archive: the image cannot be built, and the message says why. */
static void test_offline(void)
{
	g_autofree char *dir = g_dir_make_tmp("emuhost-offline-XXXXXX", NULL);
	g_autofree char *bin = g_build_filename(dir, "bin", NULL);
	g_autofree char *apt = g_build_filename(bin, "apt-get", NULL);
	g_autofree char *cache = g_build_filename(dir, "cache", NULL);
	g_mkdir_with_parents(bin, 0755);
	g_assert_true(g_file_set_contents(apt, "#!/bin/sh\n"
					  "echo \"E: Failed to fetch http://deb.debian.org/x.deb  Temporary failure resolving "
					  "'deb.debian.org'\" >&2\nexit 100\n", -1, NULL));
	g_assert_cmpint(g_chmod(apt, 0755), ==, 0);
	g_auto(GStrv) envp = g_get_environ();
	g_autofree char *path = g_strconcat(bin, ":", g_environ_getenv(envp, "PATH"), NULL);
	envp = g_environ_setenv(envp, "PATH", path, TRUE);
	g_autofree char *copt = g_strconcat("--emuhost-cache=", cache, NULL);
	g_autofree char *wopt = g_strconcat("--emuhost-worker=", testlib_env("VIREO_WORKER"), NULL);
	const char *argv[] = { testlib_env("VIREO_EMUHOST"), copt, wopt, "--emuhost-build-only", NULL };
	g_autofree char *o = NULL;
	int status = 0;
	g_autoptr(GError) e = NULL;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &o, NULL, &status, &e));
	g_test_message("%s", o);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 1);
	g_assert_nonnull(strstr(o, "emulated host: downloading linux-image-"));
	g_assert_nonnull(strstr(o, "vireo-emuhost: the emulated host's image: cannot download linux-image-"));
	g_assert_nonnull(strstr(o, "this host cannot reach the Debian archive (offline?)"));
	/* Nothing half-built is left for the next start to take. */
	g_autofree char *debs = g_build_filename(cache, "debs", NULL);
	g_autoptr(GDir) d = g_dir_open(cache, 0, NULL);
	const char *fn;
	while (d && (fn = g_dir_read_name(d)))
		g_assert_true(g_str_equal(fn, "debs") || g_str_equal(fn, ".lock") || g_str_equal(fn, "packages"));
	g_autoptr(GDir) dd = g_dir_open(debs, 0, NULL);
	g_assert_null(dd ? g_dir_read_name(dd) : NULL);
	g_autofree char *cmd = g_strdup_printf("rm -rf %s", dir);
	g_assert_cmpint(system(cmd), ==, 0);
}

/* The VNC export through the emulated host, read by a stock VNC client (gvnccapture). */
/* A VNC display on 127.0.0.1 nobody listens on: another test run (CI's
 * stages, a developer's) may hold a fixed one. */
static int free_vnc_display(void)
{
	for (int d = 61; d < 100; d++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		g_assert_cmpint(fd, >=, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(5900 + d)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return d;
	}
	g_error("no free VNC display on 127.0.0.1 between :61 and :99");
}

/* vireo-emuhost on its own, as vireod would run it, with the emuhost
 * scenario's guest; once its serial socket is there (the guest drew its
 * pattern), its console is open in *s. */
static GSubprocess *emuhost_spawn(const char *dir, const char *const *extra, struct serial *s)
{
	g_autofree char *fx = g_strdup(testlib_env("FIXTURES"));
	g_autofree char *cache = g_build_filename(testlib_env("EMUHOST_CACHE"), "vireo", "emuhost", NULL);
	g_autofree char *serial = g_build_filename(dir, "serial", NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(argv, g_strdup(testlib_env("VIREO_EMUHOST")));
	g_ptr_array_add(argv, g_strconcat("--emuhost-cache=", cache, NULL));
	g_ptr_array_add(argv, g_strconcat("--emuhost-worker=", testlib_env("VIREO_WORKER"), NULL));
	const char *const fixed[] = { "--kernel", NULL, "--initrd", NULL, "--cmdline",
				      "console=ttyS0 quiet vireo.scenario=emuhost", "--memory", "256M", "--serial" };
	for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(argv, i == 1   ? g_build_filename(fx, "vmlinuz", NULL)
				      : i == 3 ? g_build_filename(fx, "guest.cpio.gz", NULL)
					       : g_strdup(fixed[i]));
	g_ptr_array_add(argv, g_strconcat("unix:", serial, NULL));
	for (size_t i = 0; extra[i]; i++)
		g_ptr_array_add(argv, g_strdup(extra[i]));
	g_ptr_array_add(argv, NULL);
	/* Its stdout to our stderr: what it says stays in the log, out of the TAP stream. */
	g_autoptr(GError) e = NULL;
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_subprocess_launcher_take_stdout_fd(l, dup(STDERR_FILENO));
	GSubprocess *p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &e);
	g_assert_no_error(e);
	/* The identifier is gone once the process is. */
	for (int i = 0; i < START_TIMEOUT_S * 10 && !g_file_test(serial, G_FILE_TEST_EXISTS) &&
			g_subprocess_get_identifier(p);
	     i++)
		g_usleep(100000);
	if (!g_subprocess_get_identifier(p))
		g_error("vireo-emuhost ended before its serial socket appeared (its output is above)");
	serial_open(s, serial);
	if (!serial_wait(s, "VIREO-READY emuhost"))
		g_error("the guest did not draw its pattern; its console said:\n%s", s->text->str);
	return p;
}

static void test_vnc(void)
{
	int display = free_vnc_display();
	g_autofree char *listen = g_strdup_printf("127.0.0.1:%d", 5900 + display);
	g_autofree char *target = g_strdup_printf("127.0.0.1:%d", display);
	g_autofree char *dir = g_dir_make_tmp("emuhost-vnc-XXXXXX", NULL);
	g_autofree char *serial = g_build_filename(dir, "serial", NULL);
	struct serial s;
	g_autoptr(GSubprocess) p = emuhost_spawn(dir, (const char *const[]){ "--vnc", listen, NULL }, &s);
	g_autofree char *png = g_build_filename(testlib_env("OUTDIR"), "emuhost-vnc.png", NULL);
	g_autofree char *o = NULL;
	g_assert_cmpint(RUN(&o, "gvnccapture", target, png), ==, 0);
	g_assert_nonnull(strstr(o, "Saved display to "));
	check_picture(png);
	/* SIGTERM turns it off: the worker's status, 13. */
	g_autoptr(GError) e = NULL;
	g_subprocess_send_signal(p, SIGTERM);
	g_assert_true(g_subprocess_wait(p, NULL, &e));
	g_assert_true(g_subprocess_get_if_exited(p));
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 13);
	g_assert_false(g_file_test(serial, G_FILE_TEST_EXISTS));
	serial_close(&s);
	g_rmdir(dir);
}

/* "save DIR" on the control socket itself: the worker's own reply comes
 * out of L1 (the agent reads what the worker wrote before it ended), with
 * DIR named as on this host, and the worker's exit status after a save. */
static void test_save_on_control_socket(void)
{
	g_autofree char *dir = g_dir_make_tmp("emuhost-save-XXXXXX", NULL);
	g_autofree char *control = g_build_filename(dir, "control", NULL);
	g_autofree char *copt = g_strconcat("--control=", control, NULL);
	g_autofree char *saved = g_build_filename(dir, "saved", NULL);
	struct serial s;
	g_autoptr(GSubprocess) p = emuhost_spawn(dir, (const char *const[]){ copt, NULL }, &s);
	g_autofree char *cmd = g_strconcat("save ", saved, NULL);
	g_autofree char *reply = NULL;
	g_assert_cmpint(RUN(&reply, testlib_env("WORKER_CTL"), control, cmd), ==, 0);
	g_autofree char *want = g_strconcat("ok saved ", saved, " ram_mib=", NULL);
	g_assert_true(g_str_has_prefix(reply, want));
	g_autoptr(GError) e = NULL;
	g_assert_true(g_subprocess_wait(p, NULL, &e));
	g_assert_true(g_subprocess_get_if_exited(p));
	g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 14);
	const char *const files[] = { "state", "ram" };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *f = g_build_filename(saved, files[i], NULL);
		g_assert_true(g_file_test(f, G_FILE_TEST_IS_REGULAR));
		g_unlink(f);
	}
	g_rmdir(saved);
	serial_close(&s);
	g_rmdir(dir);
}

/* vireod restarts while the VM runs: the next one takes it over through
 * the pid its control socket names, vireo-emuhost's. */
static void test_vireod_restart(void)
{
	{
		g_autoptr(VireoMachine) vm = machine(vm_path);
		g_autoptr(GPtrArray) p = start(vm);
	}
	testlib_vireod_stop();
	testlib_vireod_start();
	g_autoptr(VireoMachine) vm = machine(vm_path);
	g_assert_cmpstr(vireo_machine_get_state(vm), ==, "Running");
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==, "taken over after vireod restarted");
	g_assert_true(vireo_machine_get_emulated_host(vm));
	g_autoptr(GError) e = NULL;
	g_assert_true(vireo_machine_call_turn_off_sync(vm, NULL, &e));
	g_assert_no_error(e);
	wait_state(vm, "Off");
	/* Its end is seen through the pidfd of vireo-emuhost. */
	g_assert_cmpstr(vireo_machine_get_state_reason(vm), ==,
			"the worker ended (it was started by an earlier vireod, so its exit status is unknown)");
}

static void test_delete(void)
{
	g_assert_cmpint(RUN(NULL, testlib_env("VIREOCTL"), "delete", "emu"), ==, 0);
	g_assert_cmpint(RUN(NULL, testlib_env("VIREOCTL"), "show", "emu"), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_autofree char *home = g_dir_make_tmp("emuhost-test-XXXXXX", NULL);
	g_autofree char *cfg = g_build_filename(home, "config", NULL);
	g_autofree char *data = g_build_filename(home, "data", NULL);
	g_autofree char *rt = g_build_filename(home, "run", NULL);
	g_mkdir_with_parents(rt, 0700);
	g_mkdir_with_parents(testlib_env("OUTDIR"), 0755);
	g_setenv("XDG_CONFIG_HOME", cfg, TRUE);
	g_setenv("XDG_DATA_HOME", data, TRUE);
	/* The image is built once into the build folder and kept. */
	g_setenv("XDG_CACHE_HOME", testlib_env("EMUHOST_CACHE"), TRUE);
	if (!g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR) && g_file_test("/dev/kvm", G_FILE_TEST_EXISTS))
		g_setenv("VIREO_HOST_PATH", "emulated", FALSE);
	GTestDBus *bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	/* After the bus: GTestDBus unsets XDG_RUNTIME_DIR, and vireod would put
	 * its sockets under the cache folder, past the 107 bytes a socket path has. */
	g_setenv("XDG_RUNTIME_DIR", rt, TRUE);
	/* The guest's initramfs holds the scenario: the fixtures are current first. */
	g_auto(GStrv) fx = NULL;
	g_assert_true(g_shell_parse_argv(testlib_env("FIXTURES_CMD"), NULL, &fx, NULL));
	if (run(NULL, (const char *const *)fx) != 0)
		g_error("building the fixtures failed: %s", testlib_env("FIXTURES_CMD"));
	testlib_vireod_start();
	g_test_add_func("/emuhost/host", test_host);
	g_test_add_func("/emuhost/create", test_create);
	g_test_add_func("/emuhost/console-keys-shutdown", test_console_keys_shutdown);
	g_test_add_func("/emuhost/worker-crash", test_worker_crash);
	g_test_add_func("/emuhost/sigterm-turn-off", test_sigterm_turn_off);
	g_test_add_func("/emuhost/l1-stops-answering", test_l1_stops_answering);
	g_test_add_func("/emuhost/vireod-restart", test_vireod_restart);
	g_test_add_func("/emuhost/delete", test_delete);
	g_test_add_func("/emuhost/qemu-fails", test_qemu_fails);
	g_test_add_func("/emuhost/l1-without-kvm", test_l1_without_kvm);
	g_test_add_func("/emuhost/offline", test_offline);
	g_test_add_func("/emuhost/vnc", test_vnc);
	g_test_add_func("/emuhost/save-on-control-socket", test_save_on_control_socket);
	int r = g_test_run();
	testlib_vireod_stop();
	g_test_dbus_down(bus);
	g_object_unref(bus);
	return r;
}
