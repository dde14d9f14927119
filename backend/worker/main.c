// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-worker: runs one VM. Exit status tells how the guest stopped:
 *   0 powered off, 10 rebooted (without --on-reboot=restart), 11 triple fault,
 *   12 KVM could not run the guest, 13 turned off by the host,
 *   14 saved (the control command "save DIR" wrote the VM's state to DIR;
 *      --restore DIR starts it again where it was, see machine_state.h),
 *   1 the VM could not start (the message says why), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vireo-config.h"
#include "hv/boot.h"
#include "hv/hostcheck.h"
#include "hv/layout.h"
#include "console_server.h"
#include "control.h"
#include "input_route.h"
#include "machine.h"
#include "machine_state.h"
#include "serial.h"
#include "size_arg.h"
#include "stall_watch.h"
#include "vnc.h"
#include "vsp/synthvid.h"

enum worker_exit {
	WORKER_EXIT_POWEROFF = 0,
	WORKER_EXIT_ERROR = 1,
	WORKER_EXIT_USAGE = 2,
	WORKER_EXIT_REBOOT = 10,
	WORKER_EXIT_TRIPLE_FAULT = 11,
	WORKER_EXIT_INTERNAL_ERROR = 12,
	WORKER_EXIT_TURNED_OFF = 13,
	WORKER_EXIT_SAVED = 14,
};

#define WORKER_MAX_MEMORY (1ull << 40)   /* 1 TiB: beyond it memslots and e820 need more thought */

struct worker {
	struct machine_config cfg;
	struct machine_keep keep;
	struct machine *m;
	struct serial *serial;
	struct control *control;
	GMainLoop *loop;
	guint stop_source;
	bool restart_on_reboot;
	bool host_reset;              /* a reset asked for by the host always restarts */
	unsigned boots;
	uint64_t start_ns;
	bool timing;
	enum partition_stop last_stop;
	char last_detail[256];
	struct irq_line rtc_irq;      /* the RTC outlives each boot's partition */
	guint rtc_timer;
	/* Host input for the machine that runs now: the console socket and the
	 * VNC export send through (struct input_sink){ &input_route_ops, input }.
	 * It outlives the boots (input_route.h). */
	struct input_route *input;
	struct input_sink input_sink; /* the route as the console socket and VNC see it */
	struct console_server *console;
	struct vnc *vnc;
};

static void worker_rtc_irq(void *opaque, unsigned gsi, bool level)
{
	struct worker *w = opaque;
	if (w->m)
		partition_irq_set_level(w->m->p, gsi, level);
}

static gboolean worker_rtc_timer_fired(gpointer data);

static int64_t worker_wall_clock(void *opaque)
{
	return g_get_real_time() * 1000;
}

/* The RTC model has no timer of its own: the main loop polls it when its
 * alarm or update interrupt is due, and when the guest changes what it waits for. */
static gboolean worker_rtc_poll(gpointer data)
{
	struct worker *w = data;
	if (w->rtc_timer) {
		g_source_remove(w->rtc_timer);
		w->rtc_timer = 0;
	}
	int64_t ns = cmos_rtc_poll(w->keep.rtc);
	if (ns >= 0) {
		guint ms = (guint)MIN((ns + 999999) / 1000000, 60000);
		w->rtc_timer = g_timeout_add(ms ? ms : 1, worker_rtc_timer_fired, w);
	}
	return G_SOURCE_REMOVE;
}

static gboolean worker_rtc_timer_fired(gpointer data)
{
	struct worker *w = data;
	w->rtc_timer = 0;
	worker_rtc_poll(w);
	return G_SOURCE_REMOVE;
}

static void worker_rtc_wakeup(void *opaque)
{
	g_main_context_invoke(NULL, worker_rtc_poll, opaque);
}

/* --resolution WxH: one of the modes the synthetic video offers with vram_mb of VRAM. */
static bool parse_resolution(const char *s, uint32_t vram_mb, uint32_t *w, uint32_t *h)
{
	unsigned long x, y;
	char *end;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || end == s || (*end != 'x' && *end != 'X') || !g_ascii_isdigit(end[1]))
		return false;
	const char *ys = end + 1;
	y = strtoul(ys, &end, 10);
	if (errno || *end || x > UINT32_MAX || y > UINT32_MAX)
		return false;
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	size_t n = synthvid_modes_offered(vram_mb, modes);
	if (synthvid_mode_index(modes, n, (uint32_t)x, (uint32_t)y) < 0)
		return false;
	*w = (uint32_t)x;
	*h = (uint32_t)y;
	return true;
}

static char *resolutions_allowed(uint32_t vram_mb)
{
	struct synthvid_mode modes[SYNTHVID_RESOLUTIONS_MAX];
	size_t n = synthvid_modes_offered(vram_mb, modes);
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%ux%u", i ? ", " : "", modes[i].width, modes[i].height);
	return g_string_free(s, FALSE);
}

static uint64_t host_memory_bytes(void)
{
	g_autofree char *meminfo = NULL;
	if (!g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL))
		return 0;
	const char *p = strstr(meminfo, "MemTotal:");
	return p ? g_ascii_strtoull(p + 9, NULL, 10) * 1024 : 0;
}

static GBytes *load_file(const char *what, const char *path, GError **error)
{
	g_autoptr(GMappedFile) mf = NULL;
	GError *e = NULL;
	mf = g_mapped_file_new(path, FALSE, &e);
	if (!mf) {
		g_set_error(error, G_FILE_ERROR, e->code, "%s %s: %s", what, path,
			    e->code == G_FILE_ERROR_NOENT ? "no such file" : e->message);
		g_error_free(e);
		return NULL;
	}
	if (g_mapped_file_get_length(mf) == 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s %s: the file is empty", what, path);
		return NULL;
	}
	return g_mapped_file_get_bytes(mf);
}

static void worker_print_stop(struct worker *w)
{
	if (w->last_stop == PARTITION_STOP_INTERNAL_ERROR || w->last_stop == PARTITION_STOP_HOST_ERROR)
		g_printerr("vireo-worker: VM %s stopped: %s: %s\n", w->cfg.name, partition_stop_name(w->last_stop),
			   w->last_detail);
	else
		g_printerr("vireo-worker: VM %s: %s\n", w->cfg.name, w->last_detail);
}

static gboolean worker_on_stop(gint fd, GIOCondition cond, gpointer data);

static size_t worker_serial_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct worker *w = opaque;
	return w->m ? uart8250_receive(w->m->uart, buf, len) : len;
}

static void worker_serial_escape(void *opaque, char cmd)
{
	struct worker *w = opaque;
	switch (g_ascii_tolower(cmd)) {
	case 'x':
		if (w->m)
			partition_request_stop(w->m->p, PARTITION_STOP_TURNED_OFF, "turned off from the console (Ctrl-A x)");
		break;
	case 'p':
		if (w->m)
			machine_power_button(w->m);
		break;
	default:
		break;
	}
}

static bool worker_boot(struct worker *w, GError **error)
{
	bool restored = w->cfg.restore != NULL;
	w->m = machine_create(&w->cfg, &w->keep, error);
	/* A saved state is restored once: a reboot afterwards boots the kernel. */
	w->cfg.restore_dir = NULL;
	g_clear_pointer(&w->cfg.restore, g_variant_unref);
	if (!w->m)
		return false;
	w->boots++;
	if (w->console)
		console_server_set_vm_state(w->console, CONSOLE_VM_RUNNING,
					    restored ? "restored" : w->boots > 1 ? "restarted" : "started");
	w->stop_source = g_unix_fd_add(w->m->p->stop_eventfd, G_IO_IN, worker_on_stop, w);
	serial_attach(w->serial, worker_serial_input, worker_serial_escape, w);
	input_route_set_devices(w->input, w->m->vmbus);
	return true;
}

static gboolean worker_on_stop(gint fd, GIOCondition cond, gpointer data)
{
	struct worker *w = data;
	struct partition *p = w->m->p;
	w->stop_source = 0;
	partition_join(p);
	w->last_stop = partition_stopped(p);
	g_strlcpy(w->last_detail, p->stop_detail, sizeof(w->last_detail));
	if (p->crash_text)
		g_printerr("vireo-worker: VM %s: the guest reported a crash: %s\n", w->cfg.name, p->crash_text);
	/* A guest that dies usually said why on its console, which nobody may
	 * have been watching: keep that with the error. */
	if (p->crash_text || w->last_stop == PARTITION_STOP_TRIPLE_FAULT ||
	    w->last_stop == PARTITION_STOP_INTERNAL_ERROR) {
		g_autofree char *tail = serial_last_lines(w->serial, 40);
		if (tail)
			g_printerr("vireo-worker: VM %s: the last of its serial console:\n%s\n"
				   "vireo-worker: (end of the serial console)\n", w->cfg.name, tail);
	}
	if (w->timing && w->boots == 1) {
		uint64_t first = atomic_load(&p->first_run_ns);
		g_printerr("vireo-worker: timing start_to_first_kvm_run_us=%" G_GUINT64_FORMAT
			   " io_exits=%" G_GUINT64_FORMAT "\n",
			   first ? (first - w->start_ns) / 1000 : 0, (uint64_t)atomic_load(&p->exits_io));
	}
	serial_detach(w->serial);
	input_route_set_devices(w->input, NULL);
	machine_destroy(w->m);
	w->m = NULL;

	/* A VM restored without --kernel has nothing to boot again. */
	bool restart = w->last_stop == PARTITION_STOP_REBOOT && (w->restart_on_reboot || w->host_reset) &&
		       w->cfg.kernel;
	w->host_reset = false;
	if (w->console)
		console_server_set_vm_state(w->console, CONSOLE_VM_OFF, restart ? "rebooting" : w->last_detail);
	if (restart) {
		g_printerr("vireo-worker: VM %s: guest reboot (%s), restarting\n", w->cfg.name, w->last_detail);
		g_autoptr(GError) error = NULL;
		if (!worker_boot(w, &error)) {
			g_printerr("vireo-worker: VM %s: restart failed: %s\n", w->cfg.name, error->message);
			w->last_stop = PARTITION_STOP_HOST_ERROR;
			g_strlcpy(w->last_detail, error->message, sizeof(w->last_detail));
			g_main_loop_quit(w->loop);
		}
		return G_SOURCE_REMOVE;
	}
	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

/* save DIR: the vCPUs stop, the whole VM goes to DIR, and the worker ends
 * (exit status 14) with the VM saved; on failure the VM goes on as it was. */
static char *worker_save(struct worker *w, const char *dir)
{
	if (!*dir)
		return g_strdup("error usage: save DIR (a new or empty folder)");
	bool was_paused = partition_is_paused(w->m->p);
	partition_pause(w->m->p);
	if (partition_stopped(w->m->p) != PARTITION_RUNNING)
		return g_strdup("error the VM stopped while it was being paused");
	struct machine_save_stats st;
	g_autoptr(GError) error = NULL;
	if (machine_save(w->m, &w->cfg, dir, &st, &error) < 0) {
		if (!was_paused)
			partition_resume(w->m->p);
		g_printerr("vireo-worker: VM %s: save failed: %s\n", w->cfg.name, error->message);
		return g_strdup_printf("error saving the VM: %s", error->message);
	}
	g_autofree char *detail = g_strdup_printf("saved to %s", dir);
	partition_request_stop(w->m->p, PARTITION_STOP_SAVED, detail);
	return g_strdup_printf("ok saved %s ram_mib=%" G_GUINT64_FORMAT " written_mib=%" G_GUINT64_FORMAT
			       " ms=%" G_GUINT64_FORMAT, dir, st.ram_bytes >> 20, st.data_bytes >> 20, st.ms);
}

static char *worker_control(void *opaque, const char *command)
{
	struct worker *w = opaque;
	/* The console socket and VNC outlive the boots: they answer between them too. */
	if (g_str_equal(command, "console")) {
		if (!w->console)
			return g_strdup("error no console socket (--console)");
		g_autofree char *d = console_server_describe(w->console);
		return g_strconcat("ok ", d, NULL);
	}
	if (g_str_equal(command, "vnc")) {
		if (!w->vnc)
			return g_strdup("error no VNC export (--vnc)");
		g_autofree char *d = vnc_describe(w->vnc);
		return g_strconcat("ok ", d, NULL);
	}
	if (!w->m)
		return g_strdup("error the VM is between boots; try again");
	if (g_str_equal(command, "power-button")) {
		machine_power_button(w->m);
		return g_strdup("ok");
	}
	if (g_str_equal(command, "turn-off")) {
		partition_request_stop(w->m->p, PARTITION_STOP_TURNED_OFF, "turned off by the host");
		return g_strdup("ok");
	}
	if (g_str_equal(command, "reset")) {
		w->host_reset = true;
		partition_request_stop(w->m->p, PARTITION_STOP_REBOOT, "reset by the host");
		return g_strdup("ok");
	}
	if (g_str_equal(command, "pause")) {
		/* Returns once every vCPU is out of the guest. */
		partition_pause(w->m->p);
		return g_strdup("ok paused");
	}
	if (g_str_equal(command, "resume")) {
		partition_resume(w->m->p);
		return g_strdup("ok running");
	}
	if (g_str_has_prefix(command, "save ") || g_str_equal(command, "save"))
		return worker_save(w, command[4] ? command + 5 : "");
	if (g_str_equal(command, "status")) {
		return g_strdup_printf("ok state=%s boots=%u cpus=%u memory_mib=%" G_GUINT64_FORMAT " pid=%d",
				       partition_is_paused(w->m->p) ? "paused" : "running", w->boots, w->cfg.ncpus,
				       w->cfg.memory >> 20, (int)getpid());
	}
	if (w->m->vmbus) {
		char *reply = input_route_control(w->input, command);
		if (!reply)
			reply = vmbus_devices_control(w->m->vmbus, command);
		if (reply)
			return reply;
	}
	if (g_str_equal(command, "help"))
		return g_strdup(w->m->vmbus ? "ok commands: power-button turn-off reset pause resume save DIR status console vnc help "
					      VMBUS_DEVICES_COMMANDS " " INPUT_ROUTE_COMMANDS
					    : "ok commands: power-button turn-off reset pause resume save DIR status console vnc help");
	return g_strdup_printf("error unknown command \"%.64s\" (try help)", command);
}

static gboolean worker_on_signal(gpointer data)
{
	struct worker *w = data;
	if (w->m)
		partition_request_stop(w->m->p, PARTITION_STOP_TURNED_OFF, "turned off by a signal");
	return G_SOURCE_CONTINUE;
}

static int worker_exit_code(enum partition_stop s)
{
	switch (s) {
	case PARTITION_STOP_POWEROFF: return WORKER_EXIT_POWEROFF;
	case PARTITION_STOP_REBOOT: return WORKER_EXIT_REBOOT;
	case PARTITION_STOP_TRIPLE_FAULT: return WORKER_EXIT_TRIPLE_FAULT;
	case PARTITION_STOP_INTERNAL_ERROR: return WORKER_EXIT_INTERNAL_ERROR;
	case PARTITION_STOP_TURNED_OFF: return WORKER_EXIT_TURNED_OFF;
	case PARTITION_STOP_SAVED: return WORKER_EXIT_SAVED;
	default: return WORKER_EXIT_ERROR;
	}
}

static int worker_host_check(bool force)
{
	struct host_kvm_info info;
	hostcheck_classify("/sys", "/dev/kvm", &info);
	switch (info.cls) {
	case HOST_KVM_HARDWARE:
		return 0;
	case HOST_KVM_PVM:
		if (force) {
			g_printerr("vireo-worker: warning: %s; continuing because of --force-kvm\n", info.reason);
			return 0;
		}
		g_printerr("vireo-worker: %s.\n"
			   "vireo-worker: stock guests need a hardware KVM (Intel VT-x or AMD-V). On this machine, run\n"
			   "vireo-worker: the same command with vireo-emuhost, inside an emulated host (vireod does so by itself; see README).\n",
			   info.reason);
		return -1;
	default:
		g_printerr("vireo-worker: %s\n", info.reason);
		return -1;
	}
}

int main(int argc, char **argv)
{
	g_autofree char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *memory = NULL;
	g_autofree char *serial_spec = NULL, *control_path = NULL, *name = NULL, *on_reboot = NULL;
	g_autofree char *hv_interface = NULL, *trace_vmbus = NULL, *resolution = NULL;
	g_autofree char *console_path = NULL, *vnc_spec = NULL, *vnc_password_file = NULL, *vnc_keymap = NULL;
	g_autofree char *restore = NULL;
	int cpus = 1;
	int video_memory = SYNTHVID_VRAM_MB_DEFAULT;
	gboolean force_kvm = FALSE, timing = FALSE, version = FALSE;
	GOptionEntry entries[] = {
		{ "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Linux kernel: bzImage or ELF vmlinux (PVH)", "FILE" },
		{ "restore", 0, 0, G_OPTION_ARG_FILENAME, &restore,
		  "Go on from the state the control command \"save DIR\" wrote instead of booting; --memory, --cpus, "
		  "--hv-interface, --resolution and --video-memory must be as when it was saved (--kernel: for a later reboot)",
		  "DIR" },
		{ "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial ramdisk", "FILE" },
		{ "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline, "Kernel command line", "TEXT" },
		{ "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest RAM, e.g. 512M or 2G (default 512M)", "SIZE" },
		{ "cpus", 'c', 0, G_OPTION_ARG_INT, &cpus, "Number of vCPUs (default 1)", "N" },
		{ "serial", 0, 0, G_OPTION_ARG_STRING, &serial_spec,
		  "Serial console: stdio (Ctrl-A x quits, Ctrl-A p power button), FILE, unix:PATH or none (default stdio)", "WHERE" },
		{ "control", 0, 0, G_OPTION_ARG_FILENAME, &control_path, "Control socket (see vireo-worker-ctl)", "PATH" },
		{ "console", 0, 0, G_OPTION_ARG_FILENAME, &console_path,
		  "Console socket for viewers (protocols/console-protocol.md)", "PATH" },
		{ "vnc", 0, 0, G_OPTION_ARG_STRING, &vnc_spec,
		  "VNC export on HOST:PORT (a loopback address unless --vnc-password-file) or unix:PATH", "WHERE" },
		{ "vnc-password-file", 0, 0, G_OPTION_ARG_FILENAME, &vnc_password_file,
		  "VNC password: the first line of FILE (VNC authentication uses 8 bytes of it)", "FILE" },
		{ "vnc-keymap", 0, 0, G_OPTION_ARG_STRING, &vnc_keymap,
		  "XKB layout the VNC client types in, e.g. de or fr(azerty) (default us)", "LAYOUT" },
		{ "on-reboot", 0, 0, G_OPTION_ARG_STRING, &on_reboot, "exit (status 10) or restart (default exit)", "ACTION" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, "VM name for messages", "NAME" },
		{ "hv-interface", 0, 0, G_OPTION_ARG_STRING, &hv_interface,
		  "What the guest sees: hyperv (VMBus and its devices), or kvm (KVM's paravirtual interface, no devices) (default hyperv)", "WHICH" },
		{ "resolution", 0, 0, G_OPTION_ARG_STRING, &resolution,
		  "The screen the guest's video driver starts with, e.g. 1920x1080 (default 1024x768)", "WxH" },
		{ "video-memory", 0, 0, G_OPTION_ARG_INT, &video_memory,
		  "VRAM of the synthetic video in MiB, 4 to 64 (default 16); it bounds the resolutions offered", "MIB" },
		{ "timing", 0, 0, G_OPTION_ARG_NONE, &timing, "Report start-up timing on stderr", NULL },
		{ "trace-vmbus", 0, 0, G_OPTION_ARG_FILENAME, &trace_vmbus,
		  "Record the guest's VMBus messages and packets (hex, a line each) in FILE", "FILE" },
		{ "force-kvm", 0, 0, G_OPTION_ARG_NONE, &force_kvm, "Use /dev/kvm even if it cannot run stock kernels", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
		{ NULL },
	};
	struct worker w = { .start_ns = partition_monotonic_ns() };
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) ctx = g_option_context_new("- run one Vireo virtual machine");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Exit status: 0 guest powered off, 10 guest rebooted, 11 triple fault,\n"
		"12 KVM could not run the guest, 13 turned off by the host, 14 saved (control command save),\n"
		"1 could not start, 2 bad usage.");
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("vireo-worker: %s (see --help)\n", error->message);
		return WORKER_EXIT_USAGE;
	}
	if (version) {
		g_print("vireo-worker %s\n", VIREO_VERSION);
		return 0;
	}
	if (argc > 1) {
		g_printerr("vireo-worker: unexpected argument \"%s\" (see --help)\n", argv[1]);
		return WORKER_EXIT_USAGE;
	}
	if (!kernel && !restore) {
		g_printerr("vireo-worker: --kernel is required, or --restore DIR (see --help)\n");
		return WORKER_EXIT_USAGE;
	}
	w.cfg.name = name ? name : "vm";
	w.cfg.kernel_path = kernel;
	w.cfg.cmdline = cmdline ? cmdline : "";
	w.timing = timing;
	if (!on_reboot || g_str_equal(on_reboot, "exit")) {
		w.restart_on_reboot = false;
	} else if (g_str_equal(on_reboot, "restart")) {
		w.restart_on_reboot = true;
	} else {
		g_printerr("vireo-worker: --on-reboot takes exit or restart, not \"%s\"\n", on_reboot);
		return WORKER_EXIT_USAGE;
	}

	if (!hv_interface || g_str_equal(hv_interface, "hyperv")) {
		w.cfg.hv = CPUID_HV_HYPERV;
	} else if (g_str_equal(hv_interface, "kvm")) {
		w.cfg.hv = CPUID_HV_KVM;
	} else {
		g_printerr("vireo-worker: --hv-interface takes kvm or hyperv, not \"%s\"\n", hv_interface);
		return WORKER_EXIT_USAGE;
	}

	/* VRAM and the video PCI function's BAR live in the VMBus window. */
	const int video_memory_max = (int)MIN(SYNTHVID_VRAM_MB_MAX, (LAYOUT_VMBUS_MMIO_END - LAYOUT_VMBUS_MMIO_START) >> 20);
	if (video_memory < (int)SYNTHVID_VRAM_MB_MIN || video_memory > video_memory_max) {
		g_printerr("vireo-worker: --video-memory %d: must be between %u and %d (MiB)\n", video_memory,
			   SYNTHVID_VRAM_MB_MIN, video_memory_max);
		return WORKER_EXIT_USAGE;
	}
	w.cfg.video_vram_mb = (uint32_t)video_memory;
	if (resolution && !parse_resolution(resolution, w.cfg.video_vram_mb, &w.cfg.video_width,
					    &w.cfg.video_height)) {
		g_autofree char *allowed = resolutions_allowed(w.cfg.video_vram_mb);
		g_printerr("vireo-worker: --resolution \"%s\" is not one the synthetic video offers with %u MiB of "
			   "video memory: %s\n", resolution, w.cfg.video_vram_mb, allowed);
		return WORKER_EXIT_USAGE;
	}

	if (trace_vmbus) {
		w.cfg.vmbus_trace = fopen(trace_vmbus, "we");
		if (!w.cfg.vmbus_trace) {
			g_printerr("vireo-worker: --trace-vmbus %s: %s\n", trace_vmbus, g_strerror(errno));
			return WORKER_EXIT_ERROR;
		}
	}

	uint64_t mem = 512 * MiB;
	if (memory && !size_arg_parse(memory, &mem)) {
		g_printerr("vireo-worker: --memory \"%s\" is not a size (examples: 512M, 2G)\n", memory);
		return WORKER_EXIT_USAGE;
	}
	uint64_t host_mem = host_memory_bytes();
	if (mem < LAYOUT_MIN_MEMORY) {
		g_printerr("vireo-worker: --memory %s: at least %" G_GUINT64_FORMAT " MiB is needed\n", memory,
			   LAYOUT_MIN_MEMORY >> 20);
		return WORKER_EXIT_ERROR;
	}
	if (mem % (2 * MiB)) {
		g_printerr("vireo-worker: --memory %s: must be a multiple of 2 MiB\n", memory);
		return WORKER_EXIT_ERROR;
	}
	if (mem > WORKER_MAX_MEMORY || (host_mem && mem > host_mem)) {
		g_printerr("vireo-worker: --memory %s: cannot give the guest %" G_GUINT64_FORMAT
			   " MiB, this host has %" G_GUINT64_FORMAT " MiB of RAM\n",
			   memory, mem >> 20, host_mem >> 20);
		return WORKER_EXIT_ERROR;
	}
	w.cfg.memory = mem;
	if (cpus < 1 || cpus > LAYOUT_MAX_VCPUS) {
		g_printerr("vireo-worker: --cpus %d: must be between 1 and %d\n", cpus, LAYOUT_MAX_VCPUS);
		return WORKER_EXIT_ERROR;
	}
	long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (host_cpus > 0 && cpus > 4 * host_cpus)
		g_printerr("vireo-worker: warning: %d vCPUs on %ld host CPUs will be slow\n", cpus, host_cpus);
	w.cfg.ncpus = (unsigned)cpus;

	g_autoptr(GVariant) restore_state = NULL;
	if (restore) {
		restore_state = machine_state_load(restore, &w.cfg, &error);
		if (!restore_state) {
			g_printerr("vireo-worker: %s\n", error->message);
			return WORKER_EXIT_ERROR;
		}
		w.cfg.restore_dir = restore;
		w.cfg.restore = g_variant_ref(restore_state);
	}
	g_autoptr(GBytes) kernel_bytes = kernel ? load_file("kernel", kernel, &error) : NULL;
	if (kernel && !kernel_bytes) {
		g_printerr("vireo-worker: %s\n", error->message);
		return WORKER_EXIT_ERROR;
	}
	g_autoptr(GBytes) initrd_bytes = NULL;
	if (initrd && kernel) {
		initrd_bytes = load_file("initrd", initrd, &error);
		if (!initrd_bytes) {
			g_printerr("vireo-worker: %s\n", error->message);
			return WORKER_EXIT_ERROR;
		}
	}
	w.cfg.kernel = kernel_bytes;
	w.cfg.initrd = initrd_bytes;
	gsize ksize = 0;
	const uint8_t *kdata = kernel_bytes ? g_bytes_get_data(kernel_bytes, &ksize) : NULL;
	if (kernel_bytes && boot_detect_format(kdata, ksize) == BOOT_FORMAT_UNKNOWN) {
		g_printerr("vireo-worker: kernel %s: neither a bzImage nor an ELF vmlinux\n", kernel);
		return WORKER_EXIT_ERROR;
	}

	if (worker_host_check(force_kvm) < 0)
		return WORKER_EXIT_ERROR;

	w.serial = serial_open(serial_spec ? serial_spec : "stdio", &error);
	if (!w.serial) {
		g_printerr("vireo-worker: %s\n", error->message);
		return WORKER_EXIT_ERROR;
	}
	w.keep.console = serial_sink(w.serial);
	w.rtc_irq = (struct irq_line){ worker_rtc_irq, &w, IRQ_RTC };
	w.keep.rtc = cmos_rtc_new(&w.rtc_irq, worker_wall_clock, NULL);
	w.keep.display = display_new(NULL);
	w.input = input_route_new(w.keep.display);
	cmos_rtc_set_wakeup(w.keep.rtc, worker_rtc_wakeup, &w);
	w.loop = g_main_loop_new(NULL, FALSE);
	int status = WORKER_EXIT_ERROR;

	if (control_path) {
		w.control = control_open(control_path, worker_control, &w, &error);
		if (!w.control) {
			g_printerr("vireo-worker: %s\n", error->message);
			goto out;
		}
	}
	w.input_sink = (struct input_sink){ &input_route_ops, w.input };
	if (console_path) {
		struct console_server_config ccfg = { .path = console_path, .display = w.keep.display,
						      .input = &w.input_sink, .name = w.cfg.name };
		w.console = console_server_new(&ccfg, &error);
		if (!w.console) {
			g_printerr("vireo-worker: %s\n", error->message);
			goto out;
		}
	}
	if (vnc_spec) {
		g_autofree char *layout = NULL, *variant = NULL;
		if (vnc_keymap) {
			/* LAYOUT or LAYOUT(VARIANT), as setxkbmap and localectl write them. */
			g_auto(GStrv) parts = g_strsplit_set(vnc_keymap, "()", 3);
			layout = g_strdup(parts[0]);
			variant = parts[1] && *parts[1] ? g_strdup(parts[1]) : NULL;
		}
		struct vnc_config vcfg = { .listen = vnc_spec, .password_file = vnc_password_file,
					   .keymap_layout = layout, .keymap_variant = variant,
					   .display = w.keep.display, .input = &w.input_sink, .name = w.cfg.name };
		w.vnc = vnc_new(&vcfg, &error);
		if (!w.vnc) {
			g_printerr("vireo-worker: %s\n", error->message);
			goto out;
		}
	} else if (vnc_password_file || vnc_keymap) {
		g_printerr("vireo-worker: --vnc-password-file and --vnc-keymap go with --vnc\n");
		status = WORKER_EXIT_USAGE;
		goto out;
	}
	stall_watch_start(w.cfg.name);
	g_unix_signal_add(SIGTERM, worker_on_signal, &w);
	g_unix_signal_add(SIGINT, worker_on_signal, &w);
	g_unix_signal_add(SIGHUP, worker_on_signal, &w);

	if (!worker_boot(&w, &error)) {
		g_printerr("vireo-worker: VM %s: %s\n", w.cfg.name, error->message);
		goto out;
	}
	g_main_loop_run(w.loop);
	worker_print_stop(&w);
	status = worker_exit_code(w.last_stop);
out:
	g_clear_pointer(&w.cfg.restore, g_variant_unref);
	if (w.rtc_timer)
		g_source_remove(w.rtc_timer);
	control_close(w.control);
	vnc_free(w.vnc);
	console_server_free(w.console);
	serial_close(w.serial);
	cmos_rtc_free(w.keep.rtc);
	input_route_free(w.input);
	display_free(w.keep.display);
	g_main_loop_unref(w.loop);
	if (w.cfg.vmbus_trace)
		fclose(w.cfg.vmbus_trace);
	return status;
}
