// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_args.h"
#include "emuhost_l1.h"
#include "size_arg.h"

#define ARGS_ERROR  G_OPTION_ERROR
#define ARGS_FAILED G_OPTION_ERROR_FAILED

const char emuhost_args_usage[] =
	"Usage: vireo-emuhost [WORKER OPTION...] [--emuhost-OPTION...]\n"
	"\n"
	"Runs vireo-worker with these options inside an emulated host: QEMU with TCG\n"
	"and emulated AMD-V booting a small Linux image (built once from Debian\n"
	"packages and cached), for hosts whose KVM cannot run stock guests. The\n"
	"worker's control, console, serial and VNC endpoints appear where the\n"
	"options say, on this host. Slow, but the same worker.\n"
	"\n"
	"Worker options: see vireo-worker --help (--trace-vmbus is not available here).\n"
	"\n"
	"Own options:\n"
	"  --emuhost-qemu PATH        qemu-system-x86_64 to run (default: from $PATH)\n"
	"  --emuhost-cache DIR        image cache (default $XDG_CACHE_HOME/vireo/emuhost)\n"
	"  --emuhost-worker PATH      the vireo-worker to carry (default: beside this program)\n"
	"  --emuhost-agent PATH       the vireo-emuhost-agent to carry (default: beside this program)\n"
	"  --emuhost-l1-memory MIB    the emulated host's RAM (default: the guest's and what L1 needs)\n"
	"  --emuhost-build-only       make sure the image is built, then exit\n"
	"\n"
	"Control commands of its own on the control socket: \"emuhost status\",\n"
	"\"emuhost kill-worker\" (SIGKILL to the worker inside), \"emuhost signal N\".\n"
	"\"screenshot PATH\" and \"save DIR\" write PATH and DIR on this host.\n"
	"\n"
	"Exit status: the worker's (see vireo-worker --help), or 1 when the emulated\n"
	"host could not run it (the message says why); killed by the signal that\n"
	"killed the worker.\n";

/* The worker's options that take a value. */
static const char *const args_with_value[] = {
	"kernel", "initrd", "cmdline", "memory", "cpus", "serial", "control", "console", "vnc",
	"vnc-password-file", "vnc-keymap", "on-reboot", "name", "hv-interface", "resolution", "video-memory",
	"trace-vmbus", "restore",
};
static const char *const args_flags[] = { "timing", "force-kvm", "version", "help" };

void emuhost_args_clear(struct emuhost_args *a)
{
	if (a->inner)
		g_ptr_array_unref(a->inner);
	char **strs[] = { &a->kernel, &a->initrd, &a->vnc_password_file, &a->control, &a->console, &a->serial,
			  &a->vnc, &a->name, &a->qemu, &a->cache_dir, &a->worker, &a->agent, &a->restore };
	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
		g_clear_pointer(strs[i], g_free);
	*a = (struct emuhost_args){ 0 };
}

static bool args_in(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (g_str_equal(list[i], name))
			return true;
	return false;
}

static void args_pass(struct emuhost_args *a, const char *opt, const char *value)
{
	g_ptr_array_add(a->inner, g_strconcat("--", opt, NULL));
	if (value)
		g_ptr_array_add(a->inner, g_strdup(value));
}

static bool args_own(struct emuhost_args *a, const char *opt, const char *value, GError **error)
{
	char **dest = NULL;
	if (g_str_equal(opt, "emuhost-qemu"))
		dest = &a->qemu;
	else if (g_str_equal(opt, "emuhost-cache"))
		dest = &a->cache_dir;
	else if (g_str_equal(opt, "emuhost-worker"))
		dest = &a->worker;
	else if (g_str_equal(opt, "emuhost-agent"))
		dest = &a->agent;
	if (dest) {
		g_free(*dest);
		*dest = g_strdup(value);
		return true;
	}
	if (g_str_equal(opt, "emuhost-l1-memory")) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (*end || v < 128 || v > (1ul << 20)) {
			g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--emuhost-l1-memory %s: a number of MiB, 128 or more",
				    value);
			return false;
		}
		a->l1_memory_mib = (unsigned)v;
		return true;
	}
	g_set_error(error, ARGS_ERROR, ARGS_FAILED, "unknown option --%s (see --help)", opt);
	return false;
}

/* One worker option with its value: kept for this host, rewritten for L1. */
static bool args_worker_opt(struct emuhost_args *a, const char *opt, const char *v, GError **error)
{
	if (g_str_equal(opt, "kernel")) {
		g_free(a->kernel);
		a->kernel = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_START "/kernel");
	} else if (g_str_equal(opt, "initrd")) {
		g_free(a->initrd);
		a->initrd = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_START "/initrd");
	} else if (g_str_equal(opt, "vnc-password-file")) {
		g_free(a->vnc_password_file);
		a->vnc_password_file = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_START "/vnc-password");
	} else if (g_str_equal(opt, "restore")) {
		/* The saved state's files go into L1 with the start files. */
		g_free(a->restore);
		a->restore = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_RESTORE);
	} else if (g_str_equal(opt, "control")) {
		g_free(a->control);
		a->control = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_RUNDIR "/control");
	} else if (g_str_equal(opt, "console")) {
		g_free(a->console);
		a->console = g_strdup(v);
		args_pass(a, opt, EMUHOST_L1_RUNDIR "/console");
	} else if (g_str_equal(opt, "serial")) {
		g_free(a->serial);
		a->serial = g_strdup(v);
		/* Whatever it is here, it is a socket inside: the serial lines cross on a channel. */
		args_pass(a, opt, g_str_equal(v, "none") ? "none" : "unix:" EMUHOST_L1_RUNDIR "/serial");
	} else if (g_str_equal(opt, "vnc")) {
		g_free(a->vnc);
		a->vnc = g_strdup(v);
		if (g_str_has_prefix(v, "unix:")) {
			args_pass(a, opt, "unix:" EMUHOST_L1_RUNDIR "/vnc");
		} else {
			const char *colon = strrchr(v, ':');
			char *end = NULL;
			unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
			if (!colon || !*(colon + 1) || *end || port == 0 || port > 65535) {
				g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--vnc %s: HOST:PORT or unix:PATH", v);
				return false;
			}
			g_autofree char *inner = g_strdup_printf("127.0.0.1:%lu", port);
			args_pass(a, opt, inner);
		}
	} else if (g_str_equal(opt, "trace-vmbus")) {
		g_set_error(error, ARGS_ERROR, ARGS_FAILED,
			    "--trace-vmbus is not available through the emulated host (the file would stay inside it)");
		return false;
	} else if (g_str_equal(opt, "memory")) {
		if (!size_arg_parse(v, &a->memory)) {
			g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--memory \"%s\" is not a size (examples: 512M, 2G)", v);
			return false;
		}
		args_pass(a, opt, v);
	} else if (g_str_equal(opt, "cpus")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 1 || n > 1024) {
			g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--cpus %s: a number of vCPUs", v);
			return false;
		}
		a->cpus = (unsigned)n;
		args_pass(a, opt, v);
	} else {
		if (g_str_equal(opt, "name")) {
			g_free(a->name);
			a->name = g_strdup(v);
		}
		args_pass(a, opt, v);
	}
	return true;
}

bool emuhost_args_parse(int argc, char **argv, struct emuhost_args *out, GError **error)
{
	struct emuhost_args a = { .inner = g_ptr_array_new_with_free_func(g_free), .memory = 512ull << 20, .cpus = 1 };
	if (argc > (int)EMUHOST_ARGS_MAX) {
		g_set_error(error, ARGS_ERROR, ARGS_FAILED, "more than %u arguments", EMUHOST_ARGS_MAX);
		goto fail;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		g_autofree char *opt = NULL;
		const char *value = NULL;
		if (g_str_equal(arg, "-m") || g_str_equal(arg, "-c")) {
			opt = g_strdup(arg[1] == 'm' ? "memory" : "cpus");
		} else if (g_str_has_prefix(arg, "--") && arg[2]) {
			const char *eq = strchr(arg, '=');
			opt = eq ? g_strndup(arg + 2, (gsize)(eq - arg - 2)) : g_strdup(arg + 2);
			value = eq ? eq + 1 : NULL;
		} else {
			g_set_error(error, ARGS_ERROR, ARGS_FAILED, "unexpected argument \"%s\" (see --help)", arg);
			goto fail;
		}
		bool own = g_str_has_prefix(opt, "emuhost-");
		if (own && g_str_equal(opt, "emuhost-build-only")) {
			a.build_only = true;
			continue;
		}
		if (!own && args_in(args_flags, G_N_ELEMENTS(args_flags), opt)) {
			if (value) {
				g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--%s takes no value", opt);
				goto fail;
			}
			if (g_str_equal(opt, "help"))
				a.help = true;
			else if (g_str_equal(opt, "version"))
				a.version = true;
			else
				args_pass(&a, opt, NULL);
			continue;
		}
		if (!own && !args_in(args_with_value, G_N_ELEMENTS(args_with_value), opt)) {
			g_set_error(error, ARGS_ERROR, ARGS_FAILED,
				    "unknown option --%s (this vireo-emuhost knows the options of its own version of "
				    "vireo-worker; see --help)", opt);
			goto fail;
		}
		if (!value) {
			if (i + 1 >= argc) {
				g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--%s needs a value", opt);
				goto fail;
			}
			value = argv[++i];
		}
		if (own ? !args_own(&a, opt, value, error) : !args_worker_opt(&a, opt, value, error))
			goto fail;
	}
	if (!a.help && !a.version && !a.build_only && !a.kernel && !a.restore) {
		g_set_error(error, ARGS_ERROR, ARGS_FAILED, "--kernel is required, or --restore DIR (see --help)");
		goto fail;
	}
	if (!a.serial) {
		/* The worker's default, stdio, is ours: its lines cross on a channel. */
		a.serial = g_strdup("stdio");
		args_pass(&a, "serial", "unix:" EMUHOST_L1_RUNDIR "/serial");
	}
	*out = a;
	return true;
fail:
	emuhost_args_clear(&a);
	return false;
}
