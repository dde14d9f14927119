// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireod's VM configuration files and the lifecycle table: what is written
 * reads back, hostile files are refused with a reason, a write killed at
 * any moment leaves the old file or the new one, and the table allows
 * exactly what org.vireo.Vireo1.xml documents.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vm_config.h"
#include "vm_state.h"

static void sample(struct vm_config *c)
{
	vm_config_init_new(c);
	c->name = g_strdup("Débian test");
	c->memory_mib = 2048;
	c->cpus = 4;
	c->boot = VM_BOOT_KERNEL;
	c->kernel = g_strdup("/boot/vmlinuz");
	c->initrd = g_strdup("/boot/initrd.img");
	c->cmdline = g_strdup("console=ttyS0 root=/dev/sda1 quiet");
	c->res_w = 1920;
	c->res_h = 1080;
}

static void test_round_trip(void)
{
	struct vm_config a, b;
	sample(&a);
	gsize len;
	g_autofree char *data = vm_config_to_data(&a, &len);
	g_autoptr(GError) e = NULL;
	g_assert_true(vm_config_from_data(data, len, &b, &e));
	g_assert_no_error(e);
	g_assert_cmpstr(b.id, ==, a.id);
	g_assert_cmpstr(b.name, ==, "Débian test");
	g_assert_cmpuint(b.memory_mib, ==, 2048);
	g_assert_cmpuint(b.cpus, ==, 4);
	g_assert_cmpint(b.boot, ==, VM_BOOT_KERNEL);
	g_assert_cmpstr(b.kernel, ==, "/boot/vmlinuz");
	g_assert_cmpstr(b.initrd, ==, "/boot/initrd.img");
	g_assert_cmpstr(b.cmdline, ==, "console=ttyS0 root=/dev/sda1 quiet");
	g_assert_cmpuint(b.res_w, ==, 1920);
	g_assert_cmpuint(b.res_h, ==, 1080);
	g_assert_cmpint(b.created, ==, a.created);
	vm_config_clear(&a);
	vm_config_clear(&b);
}

/* A valid file with one line replaced. */
static char *spoil(const char *key, const char *line)
{
	struct vm_config a;
	sample(&a);
	gsize len;
	g_autofree char *data = vm_config_to_data(&a, &len);
	vm_config_clear(&a);
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, key)) {
			g_free(*l);
			*l = g_strdup(line);
		}
	return g_strjoinv("\n", lines);
}

static void test_hostile_files(void)
{
	static const struct { const char *key, *line, *why; } cases[] = {
		{ "Format=", "Format=2", "format 2" },
		{ "Format=", "", "Format" },
		{ "Id=", "Id=not-a-uuid", "not a UUID" },
		{ "Name=", "Name=", "needs a name" },
		{ "Name=", "Name=a/b", "\"/\"" },
		{ "Name=", "Name=\\tx", "control character" },
		{ "MemoryMiB=", "MemoryMiB=12", "outside" },
		{ "MemoryMiB=", "MemoryMiB=-1024", "not a number" },
		{ "MemoryMiB=", "MemoryMiB=99999999999999999999999", "not a number" },
		{ "Cpus=", "Cpus=0", "vCPUs" },
		{ "Cpus=", "Cpus=100000", "vCPUs" },
		{ "Resolution=", "Resolution=wide", "WIDTHxHEIGHT" },
		{ "Resolution=", "Resolution=99999x99999", "out of range" },
		{ "Source=", "Source=floppy", "neither demo nor kernel" },
		{ "Kernel=", "Kernel=relative/vmlinuz", "not absolute" },
		{ "Kernel=", "Kernel=", "no kernel" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *data = spoil(cases[i].key, cases[i].line);
		struct vm_config c;
		g_autoptr(GError) e = NULL;
		g_assert_false(vm_config_from_data(data, strlen(data), &c, &e));
		g_assert_nonnull(e);
		if (!strstr(e->message, cases[i].why))
			g_error("%s: the error \"%s\" does not say \"%s\"", cases[i].line, e->message, cases[i].why);
	}
	/* Not a key file at all, a NUL byte, nothing. */
	static const char garbage[] = "\x7f" "ELF\x01\x01";
	struct vm_config c;
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
	g_assert_false(vm_config_from_data(garbage, sizeof(garbage), &c, &e1));
	g_assert_false(vm_config_from_data("[Machine]\nName=a\0b\n", 20, &c, &e2));
	g_assert_false(vm_config_from_data("", 0, &c, &e3));
}

static void test_apply(void)
{
	struct vm_config c;
	vm_config_init_new(&c);
	c.name = g_strdup("one");
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "MemoryMiB", g_variant_new_uint64(4096));
	g_variant_builder_add(&b, "{sv}", "Cpus", g_variant_new_uint32(8));
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string("two"));
	unsigned changed = 0;
	g_autoptr(GError) e = NULL;
	g_assert_true(vm_config_apply(&c, g_variant_builder_end(&b), &changed, &e));
	g_assert_cmpuint(changed, ==, VM_CONFIG_CHANGED_NAME | VM_CONFIG_CHANGED_OTHER);
	g_assert_cmpuint(c.memory_mib, ==, 4096);
	g_assert_cmpstr(c.name, ==, "two");

	/* Refused as a whole: an unknown key, a wrong type, a bad value, a
	 * kernel boot without a kernel. Nothing changes. */
	const char *bad[] = {
		"{'Colour': <'red'>}", "{'Cpus': <'eight'>}", "{'MemoryMiB': <uint64 1>}",
		"{'Cpus': <uint32 2>, 'Name': <''>}", "{'BootSource': <'kernel'>}", "{'Resolution': <'1x1'>}",
		"{'Cpus': <int32 -3>}",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_parse(G_VARIANT_TYPE_VARDICT, bad[i], NULL, NULL, NULL));
		g_assert_nonnull(v);
		g_autoptr(GError) e2 = NULL;
		g_assert_false(vm_config_apply(&c, v, NULL, &e2));
		g_assert_nonnull(e2);
		g_assert_cmpuint(c.cpus, ==, 8);
		g_assert_cmpstr(c.name, ==, "two");
		g_assert_cmpint(c.boot, ==, VM_BOOT_DEMO);
	}
	vm_config_clear(&c);
}

static void test_save_load(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-config-XXXXXX", NULL);
	g_autofree char *sub = g_build_filename(dir, "machines", NULL);
	struct vm_config a, b;
	sample(&a);
	g_autoptr(GError) e = NULL;
	g_assert_true(vm_config_save(&a, sub, &e));
	g_autofree char *name = g_strconcat(a.id, ".conf", NULL);
	g_autofree char *path = g_build_filename(sub, name, NULL);
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	g_assert_true(vm_config_load(path, &b, &e));
	g_assert_cmpstr(b.name, ==, a.name);
	/* A file under another VM's name is refused. */
	g_autofree char *other = g_build_filename(sub, "00000000-0000-4000-8000-000000000000.conf", NULL);
	g_assert_cmpint(g_rename(path, other), ==, 0);
	struct vm_config c;
	g_autoptr(GError) e2 = NULL;
	g_assert_false(vm_config_load(other, &c, &e2));
	g_assert_nonnull(strstr(e2->message, "should be named"));
	/* An invalid configuration is never written. */
	g_free(a.name);
	a.name = g_strdup("");
	g_autoptr(GError) e3 = NULL;
	g_assert_false(vm_config_save(&a, sub, &e3));
	g_unlink(other);
	g_rmdir(sub);
	g_rmdir(dir);
	vm_config_clear(&a);
	vm_config_clear(&b);
}

/* A writer killed at random moments, over and over: every time, the file
 * is the old configuration or the new one, never a mix or empty. */
static void test_interrupted_writes(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-crash-XXXXXX", NULL);
	struct vm_config a;
	sample(&a);
	g_autoptr(GError) e = NULL;
	g_assert_true(vm_config_save(&a, dir, &e));
	g_autofree char *name = g_strconcat(a.id, ".conf", NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	GRand *rnd = g_rand_new_with_seed(42);
	unsigned olds = 0, news = 0;
	for (int round = 0; round < 60; round++) {
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			/* Alternate two versions as fast as possible until killed. */
			for (uint64_t i = 0;; i++) {
				a.memory_mib = i % 2 ? 1024 : 2048;
				(void)vm_config_save(&a, dir, NULL);
			}
		}
		g_usleep((gulong)g_rand_int_range(rnd, 100, 5000));
		kill(pid, SIGKILL);
		int status;
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		struct vm_config got;
		g_autoptr(GError) le = NULL;
		if (!vm_config_load(path, &got, &le))
			g_error("after a killed write: %s", le->message);
		g_assert_true(got.memory_mib == 1024 || got.memory_mib == 2048);
		if (got.memory_mib == 1024)
			olds++;
		else
			news++;
		vm_config_clear(&got);
	}
	g_test_message("%u and %u of each version found", olds, news);
	g_rand_free(rnd);
	/* Leftover temporary files do not matter; the next save replaces the file. */
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *fn;
	while ((fn = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, fn, NULL);
		g_unlink(p);
	}
	g_rmdir(dir);
	vm_config_clear(&a);
}

static void test_state_table(void)
{
	/* org.vireo.Vireo1.xml's table, written out again independently. */
	static const struct { enum vm_state s; const char *allowed; } table[] = {
		{ VM_OFF, "Start,Configure,Delete,Rename" },
		{ VM_STARTING, "Turn Off,Rename" },
		{ VM_RUNNING, "Shut Down,Turn Off,Pause,Reset,Save,Rename,Screenshot" },
		{ VM_PAUSED, "Resume,Turn Off,Save,Rename,Screenshot" },
		{ VM_SAVING, "Rename" },
		{ VM_SAVED, "Start,Delete Saved State,Delete,Rename" },
		{ VM_STOPPING, "Turn Off,Rename,Screenshot" },
		{ VM_FAILED, "Start,Configure,Delete,Rename,Delete Saved State" },
	};
	g_assert_cmpuint(G_N_ELEMENTS(table), ==, VM_STATE_COUNT);
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		g_auto(GStrv) want = g_strsplit(table[i].allowed, ",", -1);
		for (int a = 0; a < VM_ACTION_COUNT; a++) {
			bool expect = g_strv_contains((const char *const *)want, vm_action_name(a));
			if (vm_state_allows(table[i].s, a) != expect)
				g_error("%s: %s is %s", vm_state_name(table[i].s), vm_action_name(a),
					expect ? "refused" : "allowed");
		}
		g_assert_cmpint(vm_state_from_name(vm_state_name(table[i].s)), ==, table[i].s);
	}
	g_assert_cmpint(vm_state_from_name("Exploded"), ==, -1);
	g_assert_false(vm_state_allows(VM_STATE_COUNT, VM_ACT_START));
	g_assert_true(vm_state_has_worker(VM_PAUSED));
	g_assert_false(vm_state_has_worker(VM_SAVED));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vm-config/round-trip", test_round_trip);
	g_test_add_func("/vm-config/hostile-files", test_hostile_files);
	g_test_add_func("/vm-config/apply", test_apply);
	g_test_add_func("/vm-config/save-load", test_save_load);
	g_test_add_func("/vm-config/interrupted-writes", test_interrupted_writes);
	g_test_add_func("/vm-state/table", test_state_table);
	return g_test_run();
}
