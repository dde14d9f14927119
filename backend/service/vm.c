// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "vm.h"
#include "proc_threads.h"
#include "worker_link.h"

/* How often a running VM's numbers are read (CPU, memory, heartbeat). */
#define VM_POLL_MS          2000u
/* And what its guest says about itself (KVP). */
#define VM_KVP_POLL_MS      5000u
/* A worker that does not answer on its control socket this long after it
 * started never will. */
#define VM_START_TIMEOUT_MS 30000u
/* Through the emulated host the worker answers once L1 booted (tens of
 * seconds), and the first start builds its image: each new progress line
 * ("emulated host: ...") in the log gives it this long again. */
#define VM_START_EMULATED_STEP_MS 180000u
#define VM_PROGRESS_PREFIX  "emulated host: "
#define VM_PROGRESS_TAIL_BYTES 8192u
#define VM_START_POLL_MS    100u
/* An emulated host that is up (L1 said HELLO) and then says nothing more
 * for this long is started once more: QEMU's L1 was seen to stop answering
 * about once in a hundred starts, cause unknown (see vm_restart_emulated). */
#define VM_START_EMULATED_QUIET_MS 60000u
/* Shut Down's default patience, per step (guest, then power button). */
#define VM_SHUTDOWN_DEFAULT_S 120u
#define VM_SHUTDOWN_MAX_S     3600u
/* How often Shut Down asks again while the guest's service is not up. */
#define VM_SHUTDOWN_RETRY_S   2u
/* What of the worker's log an error message quotes. */
#define VM_LOG_TAIL_BYTES   600u
/* How long the worker may take to write a VM's state to disk. */
#define VM_SAVE_TIMEOUT_MS  600000u

struct vm {
	struct service *svc;
	struct vm_config cfg;
	enum vm_state state;
	char *path;
	VireoObjectSkeleton *obj;
	VireoMachine *iface;

	char *rundir;                /* $XDG_RUNTIME_DIR/vireo/ID */
	char *control_path, *console_path, *log_path;
	GSubprocess *proc;           /* our child; NULL when taken over after a restart */
	pid_t pid;
	int pidfd;                   /* a worker we did not start: readable when it ends */
	guint pidfd_src;
	GCancellable *cancel;        /* everything pending for the current worker */
	guint start_timer, poll_timer, kvp_timer, stop_timer;
	gint64 start_deadline;
	GDBusMethodInvocation *start_call;   /* Start waits for Running or a failure */
	unsigned stop_phase;         /* Shut Down: 1 the guest, 2 the power button, 3 turned off */
	bool start_stall_logged;     /* this Start's unanswered poll is in the log already */
	bool start_retried;          /* this Start ran its emulated host a second time */
	gint64 progress_at;          /* when the emulated host's progress line last changed */
	unsigned stop_timeout_s;
	bool turning_off;            /* the host asked for the stop */
	uint64_t cpu_ticks;
	gint64 cpu_at, running_since;
	char *progress;              /* the emulated host's latest progress line */
	char *saved_dir;             /* $XDG_DATA_HOME/vireo/ID/saved: the saved state (Save) */
	enum vm_state save_from;     /* Saving: the state to go back to when it fails */
	bool restoring;              /* the worker starts from the saved state */
};

/* Async work holds the VM through its D-Bus object, which owns struct vm. */
static struct vm *vm_ref(struct vm *vm)
{
	g_object_ref(vm->obj);
	return vm;
}

static void vm_unref(struct vm *vm)
{
	g_object_unref(vm->obj);
}

static void vm_set_state(struct vm *vm, enum vm_state st, const char *reason)
{
	vm->state = st;
	vireo_machine_set_state(vm->iface, vm_state_name(st));
	vireo_machine_set_state_reason(vm->iface, reason ? reason : "");
	if (!vm_state_has_worker(st)) {
		vireo_machine_set_console_socket(vm->iface, "");
		vireo_machine_set_serial_socket(vm->iface, "");
		vireo_machine_set_heartbeat(vm->iface, "");
		vireo_machine_set_cpu_usage(vm->iface, 0);
		vireo_machine_set_memory_usage(vm->iface, 0);
		vireo_machine_set_uptime(vm->iface, 0);
	}
	g_debug("VM %s: %s%s%s", vm->cfg.name, vm_state_name(st), reason ? ": " : "", reason ? reason : "");
}

static void vm_publish_config(struct vm *vm)
{
	const struct vm_config *c = &vm->cfg;
	vireo_machine_set_id(vm->iface, c->id);
	vireo_machine_set_name(vm->iface, c->name);
	vireo_machine_set_memory_mi_b(vm->iface, c->memory_mib);
	vireo_machine_set_cpus(vm->iface, c->cpus);
	vireo_machine_set_boot_source(vm->iface, c->boot == VM_BOOT_KERNEL ? "kernel" : "demo");
	vireo_machine_set_kernel(vm->iface, c->kernel ? c->kernel : "");
	vireo_machine_set_initrd(vm->iface, c->initrd ? c->initrd : "");
	vireo_machine_set_cmdline(vm->iface, c->cmdline ? c->cmdline : "");
	g_autofree char *res = g_strdup_printf("%ux%u", c->res_w, c->res_h);
	vireo_machine_set_resolution(vm->iface, res);
}

static bool vm_refuse(struct vm *vm, GDBusMethodInvocation *inv, enum vm_action a)
{
	if (vm_state_allows(vm->state, a))
		return false;
	g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_STATE,
					      "VM \"%s\" is %s: it cannot %s now", vm->cfg.name,
					      vm_state_name(vm->state), vm_action_name(a));
	return true;
}

/* ---- the worker's end ---- */

static void vm_stop_timers(struct vm *vm)
{
	guint *timers[] = { &vm->start_timer, &vm->poll_timer, &vm->kvp_timer, &vm->stop_timer };
	for (size_t i = 0; i < G_N_ELEMENTS(timers); i++)
		if (*timers[i]) {
			g_source_remove(*timers[i]);
			*timers[i] = 0;
		}
}

static char *vm_log_tail(struct vm *vm)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	if (!vm->log_path || !g_file_get_contents(vm->log_path, &text, &len, NULL) || len == 0)
		return g_strdup("");
	/* The last lines, on one line. */
	const char *start = len > VM_LOG_TAIL_BYTES ? text + len - VM_LOG_TAIL_BYTES : text;
	g_autofree char *tail = g_utf8_make_valid(start, -1);
	g_strstrip(tail);
	g_strdelimit(tail, "\n\r", ' ');
	return g_strdup(tail);
}

static void vm_clean_rundir(struct vm *vm)
{
	(void)g_unlink(vm->control_path);
	(void)g_unlink(vm->console_path);
}

/* A saved state is there: the worker writes its state file last. */
static bool vm_has_saved_state(struct vm *vm)
{
	g_autofree char *state = g_build_filename(vm->saved_dir, "state", NULL);
	return g_file_test(state, G_FILE_TEST_IS_REGULAR);
}

/* The saved state's files (only the folder's own, it has no others), then the folder. */
static void vm_remove_saved_state(struct vm *vm)
{
	g_autoptr(GDir) d = g_dir_open(vm->saved_dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *f = g_build_filename(vm->saved_dir, name, NULL);
		(void)g_unlink(f);
	}
	(void)g_rmdir(vm->saved_dir);
}

/* The worker is gone (exit status known or not): what the VM is now. */
static void vm_worker_gone(struct vm *vm, enum vm_state st, const char *reason)
{
	vm_stop_timers(vm);
	if (vm->cancel) {
		g_cancellable_cancel(vm->cancel);
		g_clear_object(&vm->cancel);
	}
	if (vm->pidfd_src) {
		g_source_remove(vm->pidfd_src);
		vm->pidfd_src = 0;
	}
	if (vm->pidfd >= 0) {
		close(vm->pidfd);
		vm->pidfd = -1;
	}
	g_clear_object(&vm->proc);
	vm->pid = 0;
	vm->stop_phase = 0;
	vm->turning_off = false;
	vm->running_since = 0;
	vm_clean_rundir(vm);
	vm_set_state(vm, st, reason);
	if (vm->start_call) {
		g_dbus_method_invocation_return_error(vm->start_call, VIREO_ERROR, VIREO_ERROR_FAILED,
						      "VM \"%s\" did not start: %s", vm->cfg.name, reason);
		vm->start_call = NULL;
	}
}

/* vireo-worker's exit statuses (backend/worker/main.c). */
static void vm_on_worker_exit(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm *vm = data;
	GSubprocess *p = G_SUBPROCESS(src);
	if (p != vm->proc) {
		vm_unref(vm);   /* not ours any more; see vm_spawn's ref */
		return;
	}
	(void)g_subprocess_wait_finish(p, res, NULL);
	g_autofree char *tail = vm_log_tail(vm);
	g_autofree char *why = NULL;
	enum vm_state st = VM_OFF;
	bool starting = vm->state == VM_STARTING;
	if (g_subprocess_get_if_signaled(p)) {
		int sig = g_subprocess_get_term_sig(p);
		why = g_strdup_printf("the worker process ended unexpectedly (signal %d, %s)", sig, g_strsignal(sig));
		st = starting ? VM_FAILED : VM_OFF;
	} else {
		switch (g_subprocess_get_exit_status(p)) {
		case 0: why = g_strdup("the guest shut down"); break;
		case 10: why = g_strdup("the guest rebooted"); break;
		case 13: why = g_strdup(vm->stop_phase == 3 ? "turned off after Shut Down timed out" : "turned off"); break;
		case 11: why = g_strdup("the guest triple-faulted (it crashed while starting or resetting)"); st = VM_FAILED; break;
		case 12: why = g_strdup_printf("KVM could not run the guest: %s", tail); st = VM_FAILED; break;
		case 14:
			if (vm_has_saved_state(vm)) {
				why = g_strdup("saved");
				st = VM_SAVED;
			} else {
				why = g_strdup_printf("the worker saved the VM, but not in %s", vm->saved_dir);
				st = VM_FAILED;
			}
			break;
		default:
			why = g_strdup_printf("the worker failed (status %d): %s", g_subprocess_get_exit_status(p), tail);
			st = VM_FAILED;
			break;
		}
	}
	if (vm->state == VM_SAVING && st != VM_SAVED) {
		g_autofree char *w = g_steal_pointer(&why);
		why = g_strdup_printf("saving failed: %s", w);
	} else if (starting && vm->restoring && vm_has_saved_state(vm)) {
		/* Kept: Start tries it again; DeleteSavedState gives it up. */
		g_autofree char *w = g_steal_pointer(&why);
		why = g_strdup_printf("restoring the saved state failed (it is kept): %s", w);
		st = VM_FAILED;
	}
	vm->restoring = false;
	vm_worker_gone(vm, st, why);
	vm_unref(vm);
}

static gboolean vm_on_pidfd(gint fd, GIOCondition cond, gpointer data)
{
	struct vm *vm = data;
	vm->pidfd_src = 0;
	/* A saved state while it ran can only be its own: a restored one is removed once it runs. */
	if (vm_has_saved_state(vm))
		vm_worker_gone(vm, VM_SAVED, "saved");
	else
		vm_worker_gone(vm, VM_OFF, "the worker ended (it was started by an earlier vireod, so its exit status is unknown)");
	return G_SOURCE_REMOVE;
}

/* ---- numbers of a running VM ---- */

static bool vm_read_proc(pid_t pid, uint64_t *ticks, uint64_t *rss)
{
	char path[64];
	g_autofree char *status = NULL;
	char state;
	guint64 t;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!proc_stat(path, &t, &state))
		return false;
	*ticks = t;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	*rss = 0;
	if (g_file_get_contents(path, &status, NULL, NULL)) {
		const char *r = strstr(status, "\nVmRSS:");
		if (r)
			*rss = g_ascii_strtoull(r + 7, NULL, 10) * 1024;
	}
	return true;
}

/* The worker and, through the emulated host, QEMU (its child, where the VM's CPU time goes). */
static bool vm_read_usage(struct vm *vm, uint64_t *ticks, uint64_t *rss)
{
	if (!vm_read_proc(vm->pid, ticks, rss))
		return false;
	if (!vm->svc->emulated)
		return true;
	g_auto(GStrv) pids = proc_children(vm->pid);
	for (char **p = pids; *p && **p; p++) {
		uint64_t t, r;
		if (vm_read_proc((pid_t)g_ascii_strtoll(*p, NULL, 10), &t, &r)) {
			*ticks += t;
			*rss += r;
		}
	}
	return true;
}

static const char *reply_field(const char *reply, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = reply; (p = strstr(p, key)); p += kl) {
		if ((p == reply || p[-1] == ' ') && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t n = strcspn(v, " ");
			g_strlcpy(buf, v, MIN(n + 1, size));
			return buf;
		}
	}
	return NULL;
}

static void vm_on_heartbeat(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm *vm = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		vm_unref(vm);
		return;
	}
	char state[32], alive[8];
	const char *hb = "no-contact";
	if (reply && g_str_has_prefix(reply, "ok ") && reply_field(reply, "state", state, sizeof(state)) &&
	    reply_field(reply, "alive", alive, sizeof(alive)) && g_str_equal(state, "ready"))
		hb = g_str_equal(alive, "yes") ? "ok" : "lost";
	if (vm_state_has_worker(vm->state))
		vireo_machine_set_heartbeat(vm->iface, hb);
	vm_unref(vm);
}

static gboolean vm_poll(gpointer data)
{
	struct vm *vm = data;
	uint64_t ticks, rss;
	gint64 now = g_get_monotonic_time();
	if (vm->pid && vm_read_usage(vm, &ticks, &rss)) {
		if (vm->cpu_at) {
			double secs = (double)(now - vm->cpu_at) / G_USEC_PER_SEC;
			double used = (double)(ticks - vm->cpu_ticks) / (double)sysconf(_SC_CLK_TCK);
			vireo_machine_set_cpu_usage(vm->iface, secs > 0 ? 100.0 * used / secs : 0);
		}
		vm->cpu_ticks = ticks;
		vm->cpu_at = now;
		vireo_machine_set_memory_usage(vm->iface, rss);
	}
	if (vm->running_since)
		vireo_machine_set_uptime(vm->iface, (guint64)((now - vm->running_since) / G_USEC_PER_SEC));
	worker_link_call(vm->control_path, "heartbeat", vm->cancel, vm_on_heartbeat, vm_ref(vm));
	return G_SOURCE_CONTINUE;
}

struct kvp_ask {
	struct vm *vm;
	const char *key;
};

static void vm_on_kvp(GObject *src, GAsyncResult *res, gpointer data)
{
	struct kvp_ask *a = data;
	struct vm *vm = a->vm;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	if (reply && g_str_has_prefix(reply, "ok ") && vm_state_has_worker(vm->state)) {
		const char *v = reply + 3;
		if (g_str_equal(a->key, "FullyQualifiedDomainName")) {
			vireo_machine_set_guest_hostname(vm->iface, v);
		} else if (g_str_equal(a->key, "OSName")) {
			vireo_machine_set_guest_os(vm->iface, v);
		} else {
			g_auto(GStrv) addrs = g_strsplit(v, ";", 32);
			vireo_machine_set_guest_addresses(vm->iface, (const char *const *)addrs);
		}
	}
	vm_unref(vm);
	g_free(a);
}

static gboolean vm_poll_kvp(gpointer data)
{
	struct vm *vm = data;
	static const char *const keys[] = { "FullyQualifiedDomainName", "OSName", "NetworkAddressIPv4" };
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		struct kvp_ask *a = g_new0(struct kvp_ask, 1);
		a->vm = vm_ref(vm);
		a->key = keys[i];
		g_autofree char *cmd = g_strconcat("kvp get ", keys[i], NULL);
		worker_link_call(vm->control_path, cmd, vm->cancel, vm_on_kvp, a);
	}
	return G_SOURCE_CONTINUE;
}

static void vm_now_running(struct vm *vm, enum vm_state st)
{
	vm->running_since = g_get_monotonic_time();
	vm->cpu_at = 0;
	vm_set_state(vm, st, NULL);
	vireo_machine_set_console_socket(vm->iface, vm->console_path);
	g_autofree char *serial = g_build_filename(vm->rundir, "serial", NULL);
	vireo_machine_set_serial_socket(vm->iface, serial);
	vireo_machine_set_heartbeat(vm->iface, "no-contact");
	vireo_machine_set_guest_hostname(vm->iface, "");
	vireo_machine_set_guest_os(vm->iface, "");
	vireo_machine_set_guest_addresses(vm->iface, (const char *const[]){ NULL });
	vm->poll_timer = g_timeout_add(VM_POLL_MS, vm_poll, vm);
	vm->kvp_timer = g_timeout_add(VM_KVP_POLL_MS, vm_poll_kvp, vm);
	vm_poll(vm);
}

/* ---- Start ---- */

static void vm_on_ready_reply(GObject *src, GAsyncResult *res, gpointer data);

/* The latest "emulated host: ..." line of the log into StateReason: true
 * when it is a new one. */
static bool vm_emulated_progress(struct vm *vm)
{
	int fd = open(vm->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[VM_PROGRESS_TAIL_BYTES + 1];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)VM_PROGRESS_TAIL_BYTES ? end - (off_t)VM_PROGRESS_TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, VM_PROGRESS_TAIL_BYTES, from);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *line = NULL;
	for (char *p = buf; (p = strstr(p, VM_PROGRESS_PREFIX)); p++)
		if (p == buf || p[-1] == '\n')
			line = p;
	if (!line)
		return false;
	g_autofree char *text = g_strndup(line, strcspn(line, "\n"));
	if (g_strcmp0(text, vm->progress) == 0)
		return false;
	g_free(vm->progress);
	vm->progress = g_utf8_make_valid(text, -1);
	vm->progress_at = g_get_monotonic_time();
	vireo_machine_set_state_reason(vm->iface, vm->progress);
	return true;
}

/* A line of vireod's own into the VM's log (after the worker's), and on stderr. */
static void vm_log_line(struct vm *vm, const char *line)
{
	int fd = open(vm->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, line, strlen(line));
		close(fd);
	}
	g_printerr("%s", line);
}

/* A Start inside the emulated host that was never answered: vireo-emuhost
 * answers "emuhost status" itself, so its counters say whether the way to
 * the worker stopped on this host, in the mux, or inside L1. Into the log,
 * where the failure is read. */
static void vm_log_emuhost_state(struct vm *vm, const char *last)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *st = worker_link_call_sync(vm->control_path, "emuhost status", 3000, &e);
	/* And QEMU itself (vireo-emuhost's child): all its threads asleep is an
	 * emulated host that stopped. */
	g_auto(GStrv) kids = vm->pid ? proc_children(vm->pid) : g_new0(char *, 1);
	pid_t qemu = kids[0] ? (pid_t)g_ascii_strtoll(kids[0], NULL, 10) : 0;
	g_autofree char *threads = qemu > 0 ? proc_threads_describe(qemu, 1000) : NULL;
	g_autofree char *line = g_strdup_printf("vireod: VM \"%s\": Start not answered (last: %s); vireo-emuhost: %s;"
						" QEMU %s\n", vm->cfg.name, last ? last : "?", st ? st : e->message,
						threads ? threads : "?");
	vm_log_line(vm, line);
}

/* Up (HELLO came), then nothing new for VM_START_EMULATED_QUIET_MS, the
 * first time in this Start. */
static bool vm_emulated_quiet(struct vm *vm)
{
	if (vm->start_retried || !vm->progress)
		return false;
	if (!g_str_has_prefix(vm->progress, "emulated host: L1 is up") &&
	    !g_str_has_prefix(vm->progress, "emulated host: the worker is up"))
		return false;
	return g_get_monotonic_time() - vm->progress_at > (gint64)VM_START_EMULATED_QUIET_MS * 1000;
}

static bool vm_spawn(struct vm *vm, bool keep_log, GError **error);

/* The emulated host stopped answering while the VM started: once per
 * Start, it goes and another is started, the same way (a saved state is
 * kept until the VM runs, so a restore is tried again too). What both
 * looked like stays in the log. */
static void vm_restart_emulated(struct vm *vm)
{
	vm->start_retried = true;
	vm_log_emuhost_state(vm, "nothing new from the emulated host for 60 s");
	g_autofree char *line = g_strdup_printf("vireod: VM \"%s\": its emulated host stopped answering for %u s: "
						"starting it again\n", vm->cfg.name, VM_START_EMULATED_QUIET_MS / 1000);
	vm_log_line(vm, line);
	if (vm->cancel) {
		g_cancellable_cancel(vm->cancel);
		g_clear_object(&vm->cancel);
	}
	/* Its exit is not ours any more (vm_on_worker_exit tells by vm->proc);
	 * its QEMU dies with it (PR_SET_PDEATHSIG). */
	if (vm->proc) {
		g_subprocess_force_exit(vm->proc);
		g_clear_object(&vm->proc);
	}
	g_autoptr(GError) e = NULL;
	if (!vm_spawn(vm, true, &e)) {
		vm_worker_gone(vm, VM_FAILED, e->message);
		return;
	}
	vireo_machine_set_state_reason(vm->iface, "emulated host: it stopped answering; starting it again");
}

static gboolean vm_check_ready(gpointer data)
{
	struct vm *vm = data;
	vm->start_timer = 0;
	if (vm->state != VM_STARTING)
		return G_SOURCE_REMOVE;
	worker_link_call(vm->control_path, "status", vm->cancel, vm_on_ready_reply, vm_ref(vm));
	return G_SOURCE_REMOVE;
}

static void vm_on_ready_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm *vm = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	if (vm->state == VM_STARTING && !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		if (reply && g_str_has_prefix(reply, "ok ")) {
			vm_now_running(vm, VM_RUNNING);
			if (vm->restoring) {
				/* It goes on from there: the saved state is used up. */
				vm_remove_saved_state(vm);
				vm->restoring = false;
				vireo_machine_set_state_reason(vm->iface, "restored from its saved state");
			}
			if (vm->start_call) {
				g_dbus_method_invocation_return_value(vm->start_call, NULL);
				vm->start_call = NULL;
			}
		} else if (vm->svc->emulated && vm_emulated_progress(vm)) {
			vm->start_stall_logged = false;
			vm->start_deadline = g_get_monotonic_time() + (gint64)VM_START_EMULATED_STEP_MS * 1000;
			vm->start_timer = g_timeout_add(VM_START_POLL_MS, vm_check_ready, vm);
		} else if (vm->svc->emulated && vm_emulated_quiet(vm)) {
			vm_restart_emulated(vm);
		} else if (g_get_monotonic_time() > vm->start_deadline) {
			g_autofree char *why = g_strdup_printf("the worker did not answer within %u s",
							       (vm->svc->emulated ? VM_START_EMULATED_STEP_MS : VM_START_TIMEOUT_MS) / 1000);
			if (vm->svc->emulated)
				vm_log_emuhost_state(vm, e ? e->message : reply);
			if (vm->proc)
				g_subprocess_force_exit(vm->proc);
			vm_worker_gone(vm, VM_FAILED, why);
		} else {
			/* The first poll the worker let time out: what the emulated host looks like then. */
			if (vm->svc->emulated && !vm->start_stall_logged && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
				vm->start_stall_logged = true;
				vm_log_emuhost_state(vm, e->message);
			}
			vm->start_timer = g_timeout_add(VM_START_POLL_MS, vm_check_ready, vm);
		}
	}
	vm_unref(vm);
}

static void vm_child_setup(gpointer data)
{
	/* Its own session: the VM outlives a vireod restart, and a terminal's
	 * Ctrl-C to vireod does not reach it. */
	setsid();
}

/* argv for the worker of this configuration: false and error when the boot
 * files are not there. */
static GPtrArray *vm_worker_argv(struct vm *vm, GError **error)
{
	struct service *s = vm->svc;
	const struct vm_config *c = &vm->cfg;
	g_autofree char *kernel = NULL, *initrd = NULL;
	const char *cmdline = c->cmdline;
	if (c->boot == VM_BOOT_DEMO) {
		kernel = g_build_filename(s->demo_dir, "vmlinuz", NULL);
		initrd = g_build_filename(s->demo_dir, "guest.cpio.gz", NULL);
		cmdline = "console=ttyS0 quiet vireo.scenario=demo vireo.quiet=1";
	} else {
		kernel = g_strdup(c->kernel);
		initrd = g_strdup(c->initrd);
	}
	const char *files[] = { kernel, initrd };
	const char *what[] = { "kernel", "initrd" };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		if (files[i] && g_access(files[i], R_OK) != 0) {
			int e = errno;
			g_set_error(error, VIREO_ERROR, VIREO_ERROR_INVALID_ARGUMENT, "VM \"%s\": the %s %s: %s%s", c->name,
				    what[i], files[i], g_strerror(e),
				    c->boot == VM_BOOT_DEMO ? " (the demo guest is built by scripts/run-demo.sh)" : "");
			return NULL;
		}
	}
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	/* vireo-emuhost takes the worker's command line (and which worker to carry). */
	g_ptr_array_add(a, g_strdup(s->emulated ? s->emuhost_path : s->worker_path));
	if (s->emulated)
		g_ptr_array_add(a, g_strdup_printf("--emuhost-worker=%s", s->worker_path));
	g_ptr_array_add(a, g_strdup("--name"));
	g_ptr_array_add(a, g_strdup(c->name));
	g_ptr_array_add(a, g_strdup("--kernel"));
	g_ptr_array_add(a, g_strdup(kernel));
	if (initrd) {
		g_ptr_array_add(a, g_strdup("--initrd"));
		g_ptr_array_add(a, g_strdup(initrd));
	}
	g_ptr_array_add(a, g_strdup("--cmdline"));
	g_ptr_array_add(a, g_strdup(cmdline ? cmdline : "console=ttyS0"));
	g_ptr_array_add(a, g_strdup("--memory"));
	g_ptr_array_add(a, g_strdup_printf("%" G_GUINT64_FORMAT "M", c->memory_mib));
	g_ptr_array_add(a, g_strdup("--cpus"));
	g_ptr_array_add(a, g_strdup_printf("%u", c->cpus));
	g_ptr_array_add(a, g_strdup("--resolution"));
	g_ptr_array_add(a, g_strdup_printf("%ux%u", c->res_w, c->res_h));
	g_ptr_array_add(a, g_strdup("--on-reboot"));
	g_ptr_array_add(a, g_strdup("restart"));
	g_ptr_array_add(a, g_strdup("--serial"));
	g_ptr_array_add(a, g_strdup_printf("unix:%s/serial", vm->rundir));
	g_ptr_array_add(a, g_strdup("--control"));
	g_ptr_array_add(a, g_strdup(vm->control_path));
	g_ptr_array_add(a, g_strdup("--console"));
	g_ptr_array_add(a, g_strdup(vm->console_path));
	if (vm->restoring) {
		g_ptr_array_add(a, g_strdup("--restore"));
		g_ptr_array_add(a, g_strdup(vm->saved_dir));
	}
	g_ptr_array_add(a, NULL);
	return a;
}

static bool vm_spawn(struct vm *vm, bool keep_log, GError **error)
{
	if (vm->svc->host.cls != HOST_KVM_HARDWARE && !vm->svc->emulated) {
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_NOT_SUPPORTED, "VM \"%s\" cannot start on this host: %s",
			    vm->cfg.name, vm->svc->host.reason);
		return false;
	}
	if (!service_check_resources(vm->svc, vm->cfg.memory_mib, vm->cfg.cpus, error))
		return false;
	if (g_mkdir_with_parents(vm->rundir, 0700) < 0) {
		int e = errno;
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": %s: %s", vm->cfg.name, vm->rundir,
			    g_strerror(e));
		return false;
	}
	vm_clean_rundir(vm);
	g_autoptr(GPtrArray) argv = vm_worker_argv(vm, error);
	if (!argv)
		return false;
	/* A file, not a pipe: the worker must not die of SIGPIPE when vireod
	 * goes. A new start's log begins empty; a second run of the same Start
	 * (an emulated host started again) goes on after the first's lines. */
	int logfd = open(vm->log_path, O_WRONLY | O_CREAT | O_APPEND | (keep_log ? 0 : O_TRUNC) | O_CLOEXEC, 0600);
	if (logfd < 0) {
		int err = errno;
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": its log %s: %s", vm->cfg.name,
			    vm->log_path, g_strerror(err));
		return false;
	}
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_subprocess_launcher_set_stdin_file_path(l, "/dev/null");
	g_subprocess_launcher_take_stdout_fd(l, logfd);
	g_subprocess_launcher_set_child_setup(l, vm_child_setup, NULL, NULL);
	g_autoptr(GError) e = NULL;
	GSubprocess *p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &e);
	if (!p) {
		g_set_error(error, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": cannot run %s: %s", vm->cfg.name,
			    vm->svc->worker_path, e->message);
		return false;
	}
	vm->proc = p;
	vm->pid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(p), NULL, 10);
	vm->cancel = g_cancellable_new();
	/* The wait holds a reference: the callback finds the VM even if it was
	 * deleted from the inventory meanwhile. */
	g_subprocess_wait_async(p, NULL, vm_on_worker_exit, vm_ref(vm));
	vm->start_deadline = g_get_monotonic_time() +
			     (gint64)(vm->svc->emulated ? VM_START_EMULATED_STEP_MS : VM_START_TIMEOUT_MS) * 1000;
	vm->start_stall_logged = false;
	g_clear_pointer(&vm->progress, g_free);
	vm_set_state(vm, VM_STARTING, vm->svc->emulated ? "starting its emulated host" : NULL);
	vm->start_timer = g_timeout_add(VM_START_POLL_MS, vm_check_ready, vm);
	return true;
}

static gboolean vm_on_start(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_START))
		return TRUE;
	/* Saved, or Failed with the saved state kept: the worker goes on from it. */
	vm->restoring = vm_has_saved_state(vm);
	if (vm->state == VM_SAVED && !vm->restoring) {
		vm_set_state(vm, VM_OFF, "its saved state is gone");
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_FAILED,
						      "VM \"%s\": its saved state (%s) is gone", vm->cfg.name, vm->saved_dir);
		return TRUE;
	}
	GError *e = NULL;
	vm->start_retried = false;
	if (!vm_spawn(vm, false, &e)) {
		g_dbus_method_invocation_take_error(inv, e);
		return TRUE;
	}
	vm->start_call = inv;
	return TRUE;
}

/* ---- requests to the worker ---- */

struct vm_call {
	struct vm *vm;
	GDBusMethodInvocation *inv;  /* answered with the outcome, or NULL */
	enum vm_action action;
};

static void vm_call_free(struct vm_call *c)
{
	vm_unref(c->vm);
	g_free(c);
}

static void vm_command(struct vm *vm, const char *command, GDBusMethodInvocation *inv, enum vm_action a,
		       GAsyncReadyCallback done)
{
	struct vm_call *c = g_new0(struct vm_call, 1);
	c->vm = vm_ref(vm);
	c->inv = inv;
	c->action = a;
	worker_link_call(vm->control_path, command, vm->cancel, done, c);
}

/* The reply, or NULL with the invocation answered with the error. */
static char *vm_command_finish(struct vm_call *c, GAsyncResult *res)
{
	g_autoptr(GError) e = NULL;
	char *reply = worker_link_call_finish(res, &e);
	if (reply && g_str_has_prefix(reply, "ok"))
		return reply;
	if (c->inv)
		g_dbus_method_invocation_return_error(c->inv, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": %s: %s",
						      c->vm->cfg.name, vm_action_name(c->action),
						      reply ? reply + (g_str_has_prefix(reply, "error ") ? 6 : 0)
							    : e->message);
	g_free(reply);
	return NULL;
}

static void vm_kill(struct vm *vm)
{
	if (vm->proc)
		g_subprocess_force_exit(vm->proc);
	else if (vm->pid)
		kill(vm->pid, SIGKILL);
}

static void vm_on_turned_off(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	/* A worker that cannot even take "turn-off" gets the kill. */
	if (!reply || !g_str_has_prefix(reply, "ok"))
		vm_kill(c->vm);
	if (c->inv)
		g_dbus_method_invocation_return_value(c->inv, NULL);
	vm_call_free(c);
}

static void vm_turn_off(struct vm *vm, GDBusMethodInvocation *inv)
{
	vm->turning_off = true;
	if (vm->state != VM_STOPPING)
		vm_set_state(vm, VM_STOPPING, "turning off");
	vm_command(vm, "turn-off", inv, VM_ACT_TURN_OFF, vm_on_turned_off);
}

static gboolean vm_on_turn_off(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_TURN_OFF))
		return TRUE;
	vm_turn_off(vm, inv);
	return TRUE;
}

static gboolean vm_shutdown_step(gpointer data);

static void vm_on_power_button(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	g_free(vm_command_finish(c, res));
	vm_call_free(c);
}

/* Shut Down timed out at its current step: the next, harder one. */
static gboolean vm_shutdown_step(gpointer data)
{
	struct vm *vm = data;
	vm->stop_timer = 0;
	if (vm->state != VM_STOPPING)
		return G_SOURCE_REMOVE;
	if (vm->stop_phase < 2) {
		vm->stop_phase = 2;
		vireo_machine_set_state_reason(vm->iface, "the guest did not shut down: pressing its power button");
		vm_command(vm, "power-button", NULL, VM_ACT_SHUT_DOWN, vm_on_power_button);
		vm->stop_timer = g_timeout_add_seconds(vm->stop_timeout_s, vm_shutdown_step, vm);
	} else {
		vm->stop_phase = 3;
		vireo_machine_set_state_reason(vm->iface, "the guest did not shut down: turning it off");
		vm_command(vm, "turn-off", NULL, VM_ACT_TURN_OFF, vm_on_turned_off);
	}
	return G_SOURCE_REMOVE;
}

static gboolean vm_shutdown_retry(gpointer data);

static void vm_on_shutdown_sent(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	struct vm *vm = c->vm;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	if (c->inv)
		g_dbus_method_invocation_return_value(c->inv, NULL);
	if (vm->state == VM_STOPPING && vm->stop_phase == 1 && !(reply && g_str_has_prefix(reply, "ok"))) {
		/* The guest's shutdown service is not up (yet: it may be booting):
		 * ask again until Shut Down's patience runs out. */
		vireo_machine_set_state_reason(vm->iface, "waiting for the guest's shutdown service");
		g_timeout_add_seconds(VM_SHUTDOWN_RETRY_S, vm_shutdown_retry, vm_ref(vm));
	} else if (vm->state == VM_STOPPING && vm->stop_phase == 1) {
		vireo_machine_set_state_reason(vm->iface, "the guest is shutting down");
	}
	vm_call_free(c);
}

static gboolean vm_shutdown_retry(gpointer data)
{
	struct vm *vm = data;
	if (vm->state == VM_STOPPING && vm->stop_phase == 1)
		vm_command(vm, "shutdown", NULL, VM_ACT_SHUT_DOWN, vm_on_shutdown_sent);
	vm_unref(vm);
	return G_SOURCE_REMOVE;
}

static gboolean vm_on_shut_down(VireoMachine *iface, GDBusMethodInvocation *inv, guint timeout_s, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_SHUT_DOWN))
		return TRUE;
	vm->stop_timeout_s = timeout_s ? MIN(timeout_s, VM_SHUTDOWN_MAX_S) : VM_SHUTDOWN_DEFAULT_S;
	vm_set_state(vm, VM_STOPPING, "asking the guest to shut down");
	vm->stop_phase = 1;
	vm->stop_timer = g_timeout_add_seconds(vm->stop_timeout_s, vm_shutdown_step, vm);
	vm_command(vm, "shutdown", inv, VM_ACT_SHUT_DOWN, vm_on_shutdown_sent);
	return TRUE;
}

static void vm_on_paused(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	g_autofree char *reply = vm_command_finish(c, res);
	if (reply) {
		if (vm_state_has_worker(c->vm->state))
			vm_set_state(c->vm, c->action == VM_ACT_PAUSE ? VM_PAUSED : VM_RUNNING, NULL);
		g_dbus_method_invocation_return_value(c->inv, NULL);
	}
	vm_call_free(c);
}

static gboolean vm_on_pause(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (!vm_refuse(vm, inv, VM_ACT_PAUSE))
		vm_command(vm, "pause", inv, VM_ACT_PAUSE, vm_on_paused);
	return TRUE;
}

static gboolean vm_on_resume(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (!vm_refuse(vm, inv, VM_ACT_RESUME))
		vm_command(vm, "resume", inv, VM_ACT_RESUME, vm_on_paused);
	return TRUE;
}

static void vm_on_reset_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	g_autofree char *reply = vm_command_finish(c, res);
	if (reply) {
		/* As Hyper-V counts it: a reset guest's uptime starts again. */
		if (c->vm->running_since)
			c->vm->running_since = g_get_monotonic_time();
		g_dbus_method_invocation_return_value(c->inv, NULL);
	}
	vm_call_free(c);
}

static gboolean vm_on_reset(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (!vm_refuse(vm, inv, VM_ACT_RESET))
		vm_command(vm, "reset", inv, VM_ACT_RESET, vm_on_reset_done);
	return TRUE;
}

/* "ok saved": the worker exits 14 next (vm_on_worker_exit: Saved). "error":
 * it could not save and goes on, as it was. No answer: its exit tells. */
static void vm_on_save_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	struct vm *vm = c->vm;
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_finish(res, &e);
	if (vm->state == VM_SAVING && reply && g_str_has_prefix(reply, "error")) {
		g_autofree char *why = g_strdup_printf("saving failed: %s", reply + (g_str_has_prefix(reply, "error ") ? 6 : 5));
		vm_set_state(vm, vm->save_from, why);
	}
	vm_call_free(c);
}

static gboolean vm_on_save(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_SAVE))
		return TRUE;
	/* An empty folder of its own: what an earlier save that failed left goes. */
	vm_remove_saved_state(vm);
	g_autofree char *parent = g_path_get_dirname(vm->saved_dir);
	if (g_mkdir_with_parents(parent, 0700) < 0) {
		int err = errno;
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": %s: %s",
						      vm->cfg.name, parent, g_strerror(err));
		return TRUE;
	}
	vm->save_from = vm->state;
	vm_set_state(vm, VM_SAVING, "saving its state");
	struct vm_call *c = g_new0(struct vm_call, 1);
	c->vm = vm_ref(vm);
	c->action = VM_ACT_SAVE;
	g_autofree char *cmd = g_strconcat("save ", vm->saved_dir, NULL);
	worker_link_call_timeout(vm->control_path, cmd, VM_SAVE_TIMEOUT_MS, vm->cancel, vm_on_save_reply, c);
	/* Like Shut Down: the request went out, State follows. */
	g_dbus_method_invocation_return_value(inv, NULL);
	return TRUE;
}

static gboolean vm_on_delete_saved_state(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_DELETE_SAVED_STATE))
		return TRUE;
	if (vm->state == VM_FAILED && !vm_has_saved_state(vm)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_STATE,
						      "VM \"%s\" has no saved state", vm->cfg.name);
		return TRUE;
	}
	vm_remove_saved_state(vm);
	vm_set_state(vm, VM_OFF, "the saved state was deleted");
	g_dbus_method_invocation_return_value(inv, NULL);
	return TRUE;
}

static void vm_on_screenshot_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vm_call *c = data;
	g_autofree char *reply = vm_command_finish(c, res);
	unsigned w = 0, h = 0;
	if (reply && sscanf(reply, "ok %ux%u", &w, &h) == 2)
		g_dbus_method_invocation_return_value(c->inv, g_variant_new("(uu)", w, h));
	else if (reply)
		g_dbus_method_invocation_return_error(c->inv, VIREO_ERROR, VIREO_ERROR_FAILED,
						      "VM \"%s\": unexpected screenshot reply \"%.80s\"", c->vm->cfg.name,
						      reply);
	vm_call_free(c);
}

static gboolean vm_on_screenshot(VireoMachine *iface, GDBusMethodInvocation *inv, const char *path, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_SCREENSHOT))
		return TRUE;
	GError *e = NULL;
	if (!vm_config_check_path("screenshot", path, &e)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_ARGUMENT, "%s", e->message);
		g_error_free(e);
		return TRUE;
	}
	g_autofree char *cmd = g_strconcat("screenshot ", path, NULL);
	vm_command(vm, cmd, inv, VM_ACT_SCREENSHOT, vm_on_screenshot_done);
	return TRUE;
}

/* ---- configuration ---- */

static gboolean vm_on_configure(VireoMachine *iface, GDBusMethodInvocation *inv, GVariant *dict, gpointer data)
{
	struct vm *vm = data;
	struct vm_config n;
	vm_config_copy(&n, &vm->cfg);
	unsigned changed = 0;
	GError *e = NULL;
	if (!vm_config_apply(&n, dict, &changed, &e)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_INVALID_ARGUMENT, "VM \"%s\": %s",
						      vm->cfg.name, e->message);
		goto out;
	}
	if ((changed & VM_CONFIG_CHANGED_OTHER) && vm_refuse(vm, inv, VM_ACT_CONFIGURE))
		goto out;
	if ((changed & VM_CONFIG_CHANGED_NAME) && service_name_taken(vm->svc, n.name, vm)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_ALREADY_EXISTS,
						      "there is a VM named \"%s\" already", n.name);
		goto out;
	}
	if ((changed & VM_CONFIG_CHANGED_OTHER) &&
	    !service_check_resources(vm->svc, n.memory_mib, n.cpus, &e)) {
		g_dbus_method_invocation_take_error(inv, g_steal_pointer(&e));
		goto out;
	}
	if (!vm_config_save(&n, vm->svc->config_dir, &e)) {
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_FAILED,
						      "VM \"%s\": writing its configuration: %s", vm->cfg.name,
						      e->message);
		goto out;
	}
	vm_config_clear(&vm->cfg);
	vm->cfg = n;
	n = (struct vm_config){ 0 };
	vm_publish_config(vm);
	g_dbus_method_invocation_return_value(inv, NULL);
out:
	g_clear_error(&e);
	vm_config_clear(&n);
	return TRUE;
}

static gboolean vm_on_delete(VireoMachine *iface, GDBusMethodInvocation *inv, gpointer data)
{
	struct vm *vm = data;
	if (vm_refuse(vm, inv, VM_ACT_DELETE))
		return TRUE;
	g_autofree char *name = g_strconcat(vm->cfg.id, ".conf", NULL);
	g_autofree char *path = g_build_filename(vm->svc->config_dir, name, NULL);
	if (g_unlink(path) < 0 && errno != ENOENT) {
		int err = errno;
		g_dbus_method_invocation_return_error(inv, VIREO_ERROR, VIREO_ERROR_FAILED, "VM \"%s\": deleting %s: %s",
						      vm->cfg.name, path, g_strerror(err));
		return TRUE;
	}
	(void)g_unlink(vm->log_path);
	g_autofree char *serial = g_build_filename(vm->rundir, "serial", NULL);
	(void)g_unlink(serial);
	(void)g_rmdir(vm->rundir);
	/* Its saved state too, and its data folder once that is empty. */
	vm_remove_saved_state(vm);
	g_autofree char *datadir = g_path_get_dirname(vm->saved_dir);
	(void)g_rmdir(datadir);
	g_dbus_method_invocation_return_value(inv, NULL);
	service_forget(vm->svc, vm);
	return TRUE;
}

/* ---- the object ---- */

char *vm_object_path_for(const char *id)
{
	g_autofree char *under = g_strdelimit(g_strdup(id), "-", '_');
	return g_strconcat(VIREO_OBJECT_PATH "/Machine/", under, NULL);
}

/* The VM's GObject is its skeleton object; struct vm hangs off it, so that
 * async work can hold a reference to both. */
static GQuark vm_quark(void)
{
	return g_quark_from_static_string("vireo-vm");
}

static void vm_destroy(gpointer p)
{
	struct vm *vm = p;
	vm_stop_timers(vm);
	if (vm->cancel) {
		g_cancellable_cancel(vm->cancel);
		g_object_unref(vm->cancel);
	}
	if (vm->pidfd_src)
		g_source_remove(vm->pidfd_src);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	g_clear_object(&vm->proc);
	g_clear_object(&vm->iface);
	vm_config_clear(&vm->cfg);
	g_free(vm->path);
	g_free(vm->rundir);
	g_free(vm->control_path);
	g_free(vm->console_path);
	g_free(vm->log_path);
	g_free(vm->progress);
	g_free(vm->saved_dir);
	g_free(vm);
}

struct vm *vm_new(struct service *s, const struct vm_config *cfg)
{
	struct vm *vm = g_new0(struct vm, 1);
	vm->svc = s;
	vm->pidfd = -1;
	vm_config_copy(&vm->cfg, cfg);
	vm->path = vm_object_path_for(cfg->id);
	vm->rundir = g_build_filename(s->runtime_dir, cfg->id, NULL);
	vm->control_path = g_build_filename(vm->rundir, "control", NULL);
	vm->console_path = g_build_filename(vm->rundir, "console", NULL);
	vm->log_path = g_build_filename(vm->rundir, "worker.log", NULL);
	vm->saved_dir = g_build_filename(s->data_dir, cfg->id, "saved", NULL);
	vm->obj = vireo_object_skeleton_new(vm->path);
	g_object_set_qdata_full(G_OBJECT(vm->obj), vm_quark(), vm, vm_destroy);
	vm->iface = vireo_machine_skeleton_new();
	vm_publish_config(vm);
	vireo_machine_set_emulated_host(vm->iface, s->emulated);
	vm_set_state(vm, VM_OFF, NULL);
	g_signal_connect(vm->iface, "handle-start", G_CALLBACK(vm_on_start), vm);
	g_signal_connect(vm->iface, "handle-shut-down", G_CALLBACK(vm_on_shut_down), vm);
	g_signal_connect(vm->iface, "handle-turn-off", G_CALLBACK(vm_on_turn_off), vm);
	g_signal_connect(vm->iface, "handle-pause", G_CALLBACK(vm_on_pause), vm);
	g_signal_connect(vm->iface, "handle-resume", G_CALLBACK(vm_on_resume), vm);
	g_signal_connect(vm->iface, "handle-reset", G_CALLBACK(vm_on_reset), vm);
	g_signal_connect(vm->iface, "handle-save", G_CALLBACK(vm_on_save), vm);
	g_signal_connect(vm->iface, "handle-delete-saved-state", G_CALLBACK(vm_on_delete_saved_state), vm);
	g_signal_connect(vm->iface, "handle-delete", G_CALLBACK(vm_on_delete), vm);
	g_signal_connect(vm->iface, "handle-configure", G_CALLBACK(vm_on_configure), vm);
	g_signal_connect(vm->iface, "handle-screenshot", G_CALLBACK(vm_on_screenshot), vm);
	vireo_object_skeleton_set_machine(vm->obj, vm->iface);
	g_dbus_object_manager_server_export(s->objects, G_DBUS_OBJECT_SKELETON(vm->obj));
	return vm;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	GDBusObjectManagerServer *objects = vm->svc->objects;
	VireoObjectSkeleton *obj = vm->obj;
	vm_stop_timers(vm);
	g_dbus_object_manager_server_unexport(objects, g_dbus_object_get_object_path(G_DBUS_OBJECT(obj)));
	/* The last reference (ours, or a pending callback's) frees struct vm. */
	g_object_unref(obj);
}

const struct vm_config *vm_get_config(const struct vm *vm)
{
	return &vm->cfg;
}

const char *vm_get_object_path(const struct vm *vm)
{
	return vm->path;
}

enum vm_state vm_get_state(const struct vm *vm)
{
	return vm->state;
}

void vm_reattach(struct vm *vm)
{
	if (!g_file_test(vm->control_path, G_FILE_TEST_EXISTS) && vm_has_saved_state(vm)) {
		vm_clean_rundir(vm);
		vm_set_state(vm, VM_SAVED, "saved");
		return;
	}
	if (!g_file_test(vm->control_path, G_FILE_TEST_EXISTS)) {
		if (g_file_test(vm->log_path, G_FILE_TEST_EXISTS) && g_file_test(vm->console_path, G_FILE_TEST_EXISTS))
			vm_set_state(vm, VM_OFF, "the worker ended while vireod was not running");
		vm_clean_rundir(vm);
		return;
	}
	g_autoptr(GError) e = NULL;
	g_autofree char *reply = worker_link_call_sync(vm->control_path, "status", 2000, &e);
	char state[16], pid[16];
	if (!reply || !g_str_has_prefix(reply, "ok ") || !reply_field(reply, "pid", pid, sizeof(pid)) ||
	    !reply_field(reply, "state", state, sizeof(state))) {
		vm_clean_rundir(vm);
		if (vm_has_saved_state(vm))
			vm_set_state(vm, VM_SAVED, "saved");
		else
			vm_set_state(vm, VM_OFF, "the worker ended while vireod was not running");
		return;
	}
	vm->pid = (pid_t)g_ascii_strtoll(pid, NULL, 10);
	vm->pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
	if (vm->pidfd < 0) {
		vm_set_state(vm, VM_OFF, "the worker's process could not be watched");
		return;
	}
	vm->pidfd_src = g_unix_fd_add(vm->pidfd, G_IO_IN, vm_on_pidfd, vm);
	vm->cancel = g_cancellable_new();
	vm_now_running(vm, g_str_equal(state, "paused") ? VM_PAUSED : VM_RUNNING);
	vireo_machine_set_state_reason(vm->iface, "taken over after vireod restarted");
}
