// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost's command line (backend/worker/emuhost_args.c): vireod's
 * worker command line, its paths rewritten for L1 and kept for this host,
 * sizes parsed as the worker parses them, and what it refuses.
 */
#include <string.h>

#include <glib.h>

#include "emuhost_args.h"
#include "size_arg.h"

static char *inner(const struct emuhost_args *a)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < a->inner->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", (const char *)a->inner->pdata[i]);
	return g_string_free(s, FALSE);
}

static bool parse(struct emuhost_args *a, const char *const *argv, GError **e)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return emuhost_args_parse(argc, (char **)argv, a, e);
}

static void test_vireod_line(void)
{
	/* What vireod's vm_worker_argv gives, with the worker to carry. */
	const char *argv[] = { "vireo-emuhost", "--emuhost-worker=/opt/vireo-worker", "--name", "My VM", "--kernel",
			       "/boot/vmlinuz", "--initrd", "/boot/initrd", "--cmdline", "console=ttyS0 quiet",
			       "--memory", "512M", "--cpus", "2", "--resolution", "1024x768", "--on-reboot", "restart",
			       "--serial", "unix:/run/u/vireo/ID/serial", "--control", "/run/u/vireo/ID/control",
			       "--console", "/run/u/vireo/ID/console", NULL };
	struct emuhost_args a;
	g_autoptr(GError) e = NULL;
	g_assert_true(parse(&a, argv, &e));
	g_autofree char *in = inner(&a);
	g_assert_cmpstr(in, ==,
			"--name My VM --kernel /emuhost/start/kernel --initrd /emuhost/start/initrd "
			"--cmdline console=ttyS0 quiet --memory 512M --cpus 2 --resolution 1024x768 --on-reboot restart "
			"--serial unix:/run/vireo/serial --control /run/vireo/control --console /run/vireo/console");
	g_assert_cmpstr(a.kernel, ==, "/boot/vmlinuz");
	g_assert_cmpstr(a.initrd, ==, "/boot/initrd");
	g_assert_cmpstr(a.control, ==, "/run/u/vireo/ID/control");
	g_assert_cmpstr(a.console, ==, "/run/u/vireo/ID/console");
	g_assert_cmpstr(a.serial, ==, "unix:/run/u/vireo/ID/serial");
	g_assert_cmpstr(a.worker, ==, "/opt/vireo-worker");
	g_assert_cmpstr(a.name, ==, "My VM");
	g_assert_cmpuint(a.memory, ==, 512ull << 20);
	g_assert_cmpuint(a.cpus, ==, 2);
	g_assert_null(a.vnc);
	g_assert_false(a.build_only);
	emuhost_args_clear(&a);
}

static void test_forms(void)
{
	const char *argv[] = { "vireo-emuhost", "--kernel=/k", "-m", "2G", "-c", "4", "--vnc=0.0.0.0:5901",
			       "--vnc-password-file", "/home/u/pw", "--timing", "--force-kvm", "--emuhost-l1-memory",
			       "3000", "--emuhost-cache", "/c", "--emuhost-qemu=/q", NULL };
	struct emuhost_args a;
	g_autoptr(GError) e = NULL;
	g_assert_true(parse(&a, argv, &e));
	g_autofree char *in = inner(&a);
	/* No --serial given: the worker's default stdio, which is ours; inside it is a socket. */
	g_assert_cmpstr(in, ==,
			"--kernel /emuhost/start/kernel --memory 2G --cpus 4 --vnc 127.0.0.1:5901 "
			"--vnc-password-file /emuhost/start/vnc-password --timing --force-kvm "
			"--serial unix:/run/vireo/serial");
	g_assert_cmpstr(a.serial, ==, "stdio");
	g_assert_cmpstr(a.vnc, ==, "0.0.0.0:5901");
	g_assert_cmpstr(a.vnc_password_file, ==, "/home/u/pw");
	g_assert_cmpuint(a.memory, ==, 2ull << 30);
	g_assert_cmpuint(a.cpus, ==, 4);
	g_assert_cmpuint(a.l1_memory_mib, ==, 3000);
	g_assert_cmpstr(a.cache_dir, ==, "/c");
	g_assert_cmpstr(a.qemu, ==, "/q");
	emuhost_args_clear(&a);

	const char *argv2[] = { "vireo-emuhost", "--kernel", "/k", "--serial", "none", "--vnc", "unix:/r/vnc", NULL };
	g_assert_true(parse(&a, argv2, &e));
	g_autofree char *in2 = inner(&a);
	g_assert_cmpstr(in2, ==, "--kernel /emuhost/start/kernel --serial none --vnc unix:/run/vireo/vnc");
	emuhost_args_clear(&a);

	const char *argv3[] = { "vireo-emuhost", "--help", NULL };
	g_assert_true(parse(&a, argv3, &e));
	g_assert_true(a.help);
	emuhost_args_clear(&a);
	const char *argv4[] = { "vireo-emuhost", "--emuhost-build-only", NULL };
	g_assert_true(parse(&a, argv4, &e));
	g_assert_true(a.build_only);
	emuhost_args_clear(&a);
}

static void test_refused(void)
{
	const char *const *bad[] = {
		(const char *const[]){ "x", NULL },                                        /* no --kernel */
		(const char *const[]){ "x", "--kernel", NULL },                            /* no value */
		(const char *const[]){ "x", "--kernel", "/k", "--frobnicate", "1", NULL }, /* unknown */
		(const char *const[]){ "x", "--kernel", "/k", "--emuhost-frob", "1", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "stray", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--timing=yes", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--trace-vmbus", "/t", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--memory", "lots", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--memory", "-1", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--cpus", "0", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--cpus", "2x", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--vnc", "5900", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--vnc", "host:", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--vnc", "host:70000", NULL },
		(const char *const[]){ "x", "--kernel", "/k", "--emuhost-l1-memory", "64", NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct emuhost_args a;
		g_autoptr(GError) e = NULL;
		g_assert_false(parse(&a, bad[i], &e));
		g_assert_nonnull(e);
		g_test_message("refused: %s", e->message);
	}
	/* More arguments than it takes. */
	const char *many[EMUHOST_ARGS_MAX + 2];
	many[0] = "x";
	for (unsigned i = 1; i <= EMUHOST_ARGS_MAX; i++)
		many[i] = "--timing";
	many[EMUHOST_ARGS_MAX + 1] = NULL;
	struct emuhost_args a;
	g_autoptr(GError) e = NULL;
	g_assert_false(parse(&a, many, &e));
}

static void test_memory(void)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "512", 512ull << 20 }, { "512M", 512ull << 20 }, { "512MiB", 512ull << 20 }, { "2G", 2ull << 30 },
		{ "1g", 1ull << 30 }, { "4096K", 4ull << 20 }, { "1T", 1ull << 40 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		uint64_t v = 0;
		g_assert_true(size_arg_parse(ok[i].s, &v));
		g_assert_cmpuint(v, ==, ok[i].v);
	}
	static const char *const bad[] = { "", "M", "-5M", " 5M", "+5M", " -5", "5X", "5MM", "99999999999999999999",
					   "18446744073709551615G" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint64_t v = 7;
		g_assert_false(size_arg_parse(bad[i], &v));
		g_assert_cmpuint(v, ==, 7);
	}
}

static void test_restore(void)
{
	/* A saved state's folder: its files go in with the start files, the worker finds them there. */
	const char *argv[] = { "vireo-emuhost", "--restore", "/home/u/.local/share/vireo/ID/saved", "--kernel", "/k",
			       "--memory", "256M", NULL };
	struct emuhost_args a;
	g_autoptr(GError) e = NULL;
	g_assert_true(parse(&a, argv, &e));
	g_autofree char *in = inner(&a);
	g_assert_cmpstr(in, ==, "--restore /emuhost/start/restore --kernel /emuhost/start/kernel --memory 256M "
				"--serial unix:/run/vireo/serial");
	g_assert_cmpstr(a.restore, ==, "/home/u/.local/share/vireo/ID/saved");
	emuhost_args_clear(&a);
	/* As for the worker: --restore without --kernel is enough. */
	const char *alone[] = { "vireo-emuhost", "--restore=/s", NULL };
	g_assert_true(parse(&a, alone, &e));
	g_assert_null(a.kernel);
	emuhost_args_clear(&a);
	const char *none[] = { "vireo-emuhost", "--memory", "1G", NULL };
	g_assert_false(parse(&a, none, &e));
	g_assert_nonnull(strstr(e->message, "--restore DIR"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-args/vireod-line", test_vireod_line);
	g_test_add_func("/emuhost-args/restore", test_restore);
	g_test_add_func("/emuhost-args/forms", test_forms);
	g_test_add_func("/emuhost-args/refused", test_refused);
	g_test_add_func("/emuhost-args/memory", test_memory);
	return g_test_run();
}
