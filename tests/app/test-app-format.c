// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the manager says about a VM (app/vireo-format.c) and the checks of
 * its settings (app/vireo-vm-config.c). The checks are held against
 * vireod's own (backend/service/vm_config.c, linked in): a name the
 * manager accepts is one vireod accepts, and what the wizard sends is a
 * request vireod's parser takes as it was meant.
 */
#include <locale.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "vireo-format.h"
#include "vireo-vm-config.h"
#include "vm_config.h"

/* ---- the state table: org.vireo.Vireo1.xml ---- */

static void test_state_table(void)
{
	static const struct {
		const char *state;
		const char *allowed;   /* the actions, by name, space separated */
	} table[] = {
		{ "Off", "start delete" },
		{ "Starting", "turn-off" },
		{ "Running", "shut-down turn-off pause reset save" },
		{ "Paused", "resume turn-off save" },
		{ "Saving", "" },
		{ "Saved", "start delete" },
		{ "Stopping", "turn-off" },
		{ "Failed", "start delete" },
		{ "Frobnicating", "" },    /* a state from a newer vireod */
	};
	for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
		g_auto(GStrv) allowed = g_strsplit(table[i].allowed, " ", -1);
		for (VireoAction a = 0; a < VIREO_N_ACTIONS; a++) {
			gboolean want = a == VIREO_ACTION_CONNECT || a == VIREO_ACTION_SETTINGS ||
					g_strv_contains((const char *const *)allowed, vireo_action_name(a));
			if (vireo_state_allows(table[i].state, a) != want)
				g_error("%s: %s should be %s", table[i].state, vireo_action_name(a),
					want ? "allowed" : "refused");
		}
	}
	g_assert_false(vireo_state_allows(NULL, VIREO_ACTION_CONNECT));
	g_assert_false(vireo_state_allows("Off", VIREO_N_ACTIONS));
	g_assert_null(vireo_action_name(VIREO_N_ACTIONS));
	g_assert_true(vireo_state_is_active("Running"));
	g_assert_true(vireo_state_is_active("Stopping"));
	g_assert_false(vireo_state_is_active("Off"));
	g_assert_false(vireo_state_is_active("Saved"));
	g_assert_false(vireo_state_is_active(NULL));
}

/* Hyper-V's words, in the C locale. */
static void test_labels(void)
{
	static const char *const labels[VIREO_N_ACTIONS] = {
		"Start", "Connect", "Shut Down", "Turn Off", "Pause", "Resume", "Reset", "Save", "Delete", "Settings",
	};
	for (VireoAction a = 0; a < VIREO_N_ACTIONS; a++)
		g_assert_cmpstr(vireo_action_label(a), ==, labels[a]);
	g_assert_cmpstr(vireo_state_label("Running"), ==, "Running");
	g_assert_cmpstr(vireo_state_label("Saved"), ==, "Saved");
	g_assert_cmpstr(vireo_state_label("Brand-New"), ==, "Brand-New");
	g_assert_cmpstr(vireo_state_label(NULL), ==, "");
}

/* The tag on a VM vireod runs inside an emulated host, nothing on one
 * that runs on this host's KVM; the tip says both what and why. */
static void test_emulated_host(void)
{
	g_assert_cmpstr(vireo_format_emulated_host(TRUE), ==, "emulated host: slow");
	g_assert_cmpstr(vireo_format_emulated_host(FALSE), ==, "");
	const char *tip = vireo_format_emulated_host_tip();
	g_assert_nonnull(strstr(tip, "emulated host"));
	g_assert_nonnull(strstr(tip, "slowly"));
	g_assert_nonnull(strstr(tip, "KVM"));
}

static void expect(char *got, const char *want)
{
	g_assert_cmpstr(got, ==, want);
	g_free(got);
}

static void test_numbers(void)
{
	expect(vireo_format_mib(0), "0 MiB");
	expect(vireo_format_mib(512), "512 MiB");
	expect(vireo_format_mib(1024), "1 GiB");
	expect(vireo_format_mib(1536), "1.5 GiB");
	expect(vireo_format_mib(1048576), "1024 GiB");
	expect(vireo_format_bytes_used(0), "—");
	expect(vireo_format_bytes_used(1048576), "1.0\u00a0MiB");   /* GLib's no-break space */
	expect(vireo_format_cpu(12.4, FALSE), "—");
	expect(vireo_format_cpu(12.4, TRUE), "12 %");
	expect(vireo_format_cpu(187.6, TRUE), "188 %");
	expect(vireo_format_cpu(NAN, TRUE), "0 %");
	expect(vireo_format_cpu(-3, TRUE), "0 %");
	expect(vireo_format_cpu(INFINITY, TRUE), "0 %");
	expect(vireo_format_cpu(1e12, TRUE), "100000 %");
	expect(vireo_format_uptime(5, FALSE), "—");
	expect(vireo_format_uptime(0, TRUE), "0:00:00");
	expect(vireo_format_uptime(3725, TRUE), "1:02:05");
	expect(vireo_format_uptime(86400 + 3, TRUE), "1 day, 0:00:03");
	expect(vireo_format_uptime(3 * 86400 + 23 * 3600 + 59 * 60 + 59, TRUE), "3 days, 23:59:59");
	expect(vireo_format_uptime(G_MAXUINT64, TRUE), "213503982334601 days, 7:00:15");
}

static void test_addresses(void)
{
	expect(vireo_format_addresses(NULL), "—");
	expect(vireo_format_addresses((const char *const[]){ NULL }), "—");
	expect(vireo_format_addresses((const char *const[]){ "", "  ", " 10.0.2.15 ", "fe80::1", NULL }), "10.0.2.15");
	/* The guest's bytes: shown as valid text whatever they were. */
	g_autofree char *bad = vireo_format_addresses((const char *const[]){ "10.0.\xff.1", NULL });
	g_assert_true(g_utf8_validate(bad, -1, NULL));
	g_assert_true(g_str_has_prefix(bad, "10.0."));
}

/* ---- the settings' checks ---- */

static char *check_name(const char *name, gboolean taken)
{
	VireoConfig c;
	vireo_config_init(&c);
	g_free(c.name);
	c.name = g_strdup(name);
	char *msg = vireo_config_check(&c, VIREO_FIELD_NAME, NULL, taken);
	vireo_config_clear(&c);
	return msg;
}

/* Every name: the manager and vireod agree on whether it is acceptable. */
static void test_names_agree_with_vireod(void)
{
	g_autofree char *long64 = g_strnfill(64, 'n');
	g_autofree char *long65 = g_strnfill(65, 'n');
	GString *wide = g_string_new(NULL);
	for (int i = 0; i < 64; i++)
		g_string_append(wide, "é");
	g_autofree char *wide64 = g_string_free(wide, FALSE);
	g_autofree char *wide65 = g_strconcat(wide64, "é", NULL);
	const char *names[] = {
		"demo", "My VM 2", "a", long64, long65, wide64, wide65, "", " lead", "trail ", "\tx", "a/b", "/",
		"line\nbreak", "bell\a", "del\x7f", "tab\tinside", "日本語のVM", "emoji 🐦", "a.b-c_d", "\xc2\x85next",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *ours = check_name(names[i], FALSE);
		g_autoptr(GError) e = NULL;
		gboolean theirs = vm_config_check_name(names[i], &e);
		if ((ours == NULL) != theirs)
			g_error("name \"%s\": the manager says %s, vireod %s", names[i], ours ? ours : "fine",
				theirs ? "fine" : e->message);
	}
}

static void test_name_messages(void)
{
	expect(check_name("", FALSE), "Enter a name for the virtual machine.");
	g_autofree char *long65 = g_strnfill(65, 'x');
	expect(check_name(long65, FALSE), "A name has at most 64 characters.");
	expect(check_name("a/b", FALSE), "A name cannot contain “/” or control characters.");
	expect(check_name("x\n", FALSE), "A name cannot contain “/” or control characters.");
	expect(check_name(" x", FALSE), "A name cannot start or end with a space.");
	expect(check_name("demo", TRUE), "There is a virtual machine named “demo” already.");
	g_assert_null(check_name("demo", FALSE));
	expect(check_name("\xff", FALSE), "The name is not valid text.");
}

static char *check_field(VireoConfig *c, VireoField f, const VireoHostLimits *host)
{
	return vireo_config_check(c, f, host, FALSE);
}

static void test_resources(void)
{
	VireoConfig c;
	vireo_config_init(&c);
	VireoHostLimits host = { .memory_mib = 2048, .cpus = 4 };
	g_assert_null(check_field(&c, VIREO_FIELD_MEMORY, &host));
	c.memory_mib = 127;
	expect(check_field(&c, VIREO_FIELD_MEMORY, &host), "Memory must be between 128 MiB and 1024 GiB.");
	c.memory_mib = 128;
	g_assert_null(check_field(&c, VIREO_FIELD_MEMORY, &host));
	c.memory_mib = 2049;
	expect(check_field(&c, VIREO_FIELD_MEMORY, &host), "This host has 2 GiB of memory: give the virtual machine less.");
	g_assert_null(check_field(&c, VIREO_FIELD_MEMORY, NULL));   /* the host unknown: vireod decides */
	c.memory_mib = VIREO_MEMORY_MAX_MIB + 1;
	expect(check_field(&c, VIREO_FIELD_MEMORY, NULL), "Memory must be between 128 MiB and 1024 GiB.");
	c.cpus = 0;
	expect(check_field(&c, VIREO_FIELD_CPUS, &host), "A virtual machine has 1 to 256 virtual processors.");
	c.cpus = 257;
	expect(check_field(&c, VIREO_FIELD_CPUS, NULL), "A virtual machine has 1 to 256 virtual processors.");
	c.cpus = 5;
	expect(check_field(&c, VIREO_FIELD_CPUS, &host), "This host has 4 processors.");
	host.cpus = 1;
	c.cpus = 2;
	expect(check_field(&c, VIREO_FIELD_CPUS, &host), "This host has 1 processor.");
	c.cpus = 1;
	g_assert_null(check_field(&c, VIREO_FIELD_CPUS, &host));
	g_free(c.resolution);
	c.resolution = g_strdup("1000x700");
	expect(check_field(&c, VIREO_FIELD_RESOLUTION, NULL), "Choose one of the offered screen sizes.");
	g_free(c.resolution);
	c.resolution = NULL;
	expect(check_field(&c, VIREO_FIELD_RESOLUTION, NULL), "Choose one of the offered screen sizes.");
	vireo_config_clear(&c);
}

/* Every resolution offered is one vireod takes. */
static void test_resolutions(void)
{
	const char *const *res = vireo_config_resolutions();
	g_assert_cmpstr(res[0], ==, VIREO_DEFAULT_RESOLUTION);
	guint n = 0;
	for (; res[n]; n++) {
		unsigned w, h;
		g_autoptr(GError) e = NULL;
		g_assert_true(vm_config_parse_resolution(res[n], &w, &h, &e));
	}
	g_assert_cmpuint(n, ==, 15);
}

static void test_boot_files(void)
{
	VireoConfig c;
	vireo_config_init(&c);
	/* The demo guest: the kernel fields are not its. */
	g_free(c.kernel);
	c.kernel = g_strdup("relative");
	g_assert_null(check_field(&c, VIREO_FIELD_KERNEL, NULL));
	c.boot = VIREO_BOOT_KERNEL;
	expect(check_field(&c, VIREO_FIELD_KERNEL, NULL), "The kernel’s path must start with “/”.");
	g_free(c.kernel);
	c.kernel = g_strdup("");
	expect(check_field(&c, VIREO_FIELD_KERNEL, NULL), "Choose the kernel to boot.");
	g_free(c.kernel);
	g_autofree char *long_path = g_strnfill(VIREO_PATH_MAX, 'k');
	c.kernel = g_strconcat("/", long_path, NULL);
	expect(check_field(&c, VIREO_FIELD_KERNEL, NULL), "The kernel’s path is too long.");
	g_free(c.kernel);
	c.kernel = g_strdup("/boot/vm\nlinuz");
	expect(check_field(&c, VIREO_FIELD_KERNEL, NULL), "The kernel’s path cannot contain a line break.");
	g_free(c.kernel);
	c.kernel = g_strdup("/boot/vmlinuz");
	g_assert_null(check_field(&c, VIREO_FIELD_KERNEL, NULL));
	g_assert_null(check_field(&c, VIREO_FIELD_INITRD, NULL));   /* optional */
	g_free(c.initrd);
	c.initrd = g_strdup("initrd.img");
	expect(check_field(&c, VIREO_FIELD_INITRD, NULL), "The initial RAM disk’s path must start with “/”.");
	g_free(c.cmdline);
	c.cmdline = g_strnfill(VIREO_CMDLINE_MAX - 1, 'c');
	g_assert_null(check_field(&c, VIREO_FIELD_CMDLINE, NULL));
	g_free(c.cmdline);
	c.cmdline = g_strnfill(VIREO_CMDLINE_MAX, 'c');
	expect(check_field(&c, VIREO_FIELD_CMDLINE, NULL), "The command line is longer than 2047 bytes.");
	g_free(c.cmdline);
	c.cmdline = g_strdup("console=ttyS0\nquiet");
	expect(check_field(&c, VIREO_FIELD_CMDLINE, NULL), "The command line cannot contain a line break.");
	vireo_config_clear(&c);
	g_assert_null(check_field(&c, VIREO_N_FIELDS, NULL));
}

/* What the wizard sends, read back by vireod's own parser. */
static void apply_as_vireod(GVariant *request, struct vm_config *out)
{
	g_autoptr(GVariant) r = g_variant_ref_sink(request);
	vm_config_init_new(out);
	g_autoptr(GError) e = NULL;
	if (!vm_config_apply(out, r, NULL, &e))
		g_error("vireod refuses %s: %s", g_variant_print(r, TRUE), e->message);
}

static void test_create_request(void)
{
	VireoConfig c;
	vireo_config_init(&c);
	g_free(c.name);
	c.name = g_strdup("gui vm");
	c.memory_mib = 640;
	c.cpus = 3;
	g_free(c.resolution);
	c.resolution = g_strdup("1280x720");
	struct vm_config v;
	apply_as_vireod(vireo_config_to_create(&c), &v);
	g_assert_cmpstr(v.name, ==, "gui vm");
	g_assert_cmpuint(v.memory_mib, ==, 640);
	g_assert_cmpuint(v.cpus, ==, 3);
	g_assert_cmpint(v.boot, ==, VM_BOOT_DEMO);
	g_assert_null(v.kernel);
	g_assert_cmpuint(v.res_w, ==, 1280);
	g_assert_cmpuint(v.res_h, ==, 720);
	vm_config_clear(&v);

	c.boot = VIREO_BOOT_KERNEL;
	g_free(c.kernel);
	c.kernel = g_strdup("/boot/vmlinuz");
	g_free(c.cmdline);
	c.cmdline = g_strdup("console=ttyS0 quiet");
	apply_as_vireod(vireo_config_to_create(&c), &v);
	g_assert_cmpint(v.boot, ==, VM_BOOT_KERNEL);
	g_assert_cmpstr(v.kernel, ==, "/boot/vmlinuz");
	g_assert_null(v.initrd);    /* "" is none */
	g_assert_cmpstr(v.cmdline, ==, "console=ttyS0 quiet");
	vm_config_clear(&v);
	vireo_config_clear(&c);
}

static void assert_keys(GVariant *dict, const char *keys)
{
	g_autoptr(GVariant) d = dict ? g_variant_ref_sink(dict) : NULL;
	if (!*keys) {
		g_assert_null(d);
		return;
	}
	g_assert_nonnull(d);
	g_auto(GStrv) want = g_strsplit(keys, " ", -1);
	g_assert_cmpuint(g_variant_n_children(d), ==, g_strv_length(want));
	for (guint i = 0; want[i]; i++)
		g_assert_true(g_variant_lookup_value(d, want[i], NULL) != NULL);
}

static void test_configure_request(void)
{
	VireoConfig old, c;
	vireo_config_init(&old);
	g_free(old.name);
	old.name = g_strdup("vm");
	vireo_config_copy(&c, &old);
	assert_keys(vireo_config_to_configure(&old, &c), "");
	g_free(c.name);
	c.name = g_strdup("renamed");
	assert_keys(vireo_config_to_configure(&old, &c), "Name");
	c.memory_mib = 2048;
	c.cpus = 1;
	assert_keys(vireo_config_to_configure(&old, &c), "Name MemoryMiB Cpus");
	vireo_config_clear(&c);
	vireo_config_copy(&c, &old);
	c.boot = VIREO_BOOT_KERNEL;
	g_free(c.kernel);
	c.kernel = g_strdup("/k");
	assert_keys(vireo_config_to_configure(&old, &c), "BootSource Kernel Initrd Cmdline");
	/* Kernel fields edited while the demo guest stays: nothing to send. */
	vireo_config_clear(&c);
	vireo_config_copy(&c, &old);
	g_free(c.kernel);
	c.kernel = g_strdup("/k");
	assert_keys(vireo_config_to_configure(&old, &c), "");
	g_free(c.resolution);
	c.resolution = g_strdup("1920x1080");
	assert_keys(vireo_config_to_configure(&old, &c), "Resolution");

	/* A rename, as vireod applies it: only the name changed. */
	struct vm_config v;
	vm_config_init_new(&v);
	v.name = g_strdup("vm");
	vireo_config_clear(&c);
	vireo_config_copy(&c, &old);
	g_free(c.name);
	c.name = g_strdup("renamed");
	g_autoptr(GVariant) req = g_variant_ref_sink(vireo_config_to_configure(&old, &c));
	unsigned changed = 0;
	g_autoptr(GError) e = NULL;
	g_assert_true(vm_config_apply(&v, req, &changed, &e));
	g_assert_cmpuint(changed, ==, VM_CONFIG_CHANGED_NAME);
	g_assert_cmpstr(v.name, ==, "renamed");
	vm_config_clear(&v);
	vireo_config_clear(&c);
	vireo_config_clear(&old);
}

/* vireod's refusals, as it words them, land on the right field. */
static void test_field_of_error(void)
{
	static const struct {
		const char *name, *message;
		VireoField field;
	} cases[] = {
		{ "org.vireo.Vireo1.Error.AlreadyExists", "there is a VM named \"x\" already", VIREO_FIELD_NAME },
		{ "org.vireo.Vireo1.Error.InsufficientResources",
		  "900000 MiB of memory is more than this host has (15932 MiB)", VIREO_FIELD_MEMORY },
		{ "org.vireo.Vireo1.Error.InsufficientResources", "300 vCPUs is more than this host has (2)",
		  VIREO_FIELD_CPUS },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "the name \"a/b\" has a \"/\" or a control character",
		  VIREO_FIELD_NAME },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "the name \"my kernel/x\" has a \"/\" or a control character",
		  VIREO_FIELD_NAME },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "a new VM needs a Name (a string)", VIREO_FIELD_NAME },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "no kernel file given", VIREO_FIELD_KERNEL },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "the kernel path \"k\" is not absolute", VIREO_FIELD_KERNEL },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "the initrd path \"i\" is not absolute", VIREO_FIELD_INITRD },
		{ "org.vireo.Vireo1.Error.InvalidArgument",
		  "the kernel command line is longer than 2047 bytes or has a line break", VIREO_FIELD_CMDLINE },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "memory 64 MiB is outside 128 MiB to 1024 GiB",
		  VIREO_FIELD_MEMORY },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "the resolution 10x10 is out of range",
		  VIREO_FIELD_RESOLUTION },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "VM \"a: b\": memory 64 MiB is outside 128 MiB to 1024 GiB",
		  VIREO_FIELD_MEMORY },
		{ "org.vireo.Vireo1.Error.InvalidArgument", "unknown setting \"Frob\"", VIREO_FIELD_NONE },
		{ "org.vireo.Vireo1.Error.InvalidState", "VM \"x\" is Running: it cannot configure now", VIREO_FIELD_NONE },
		{ "org.vireo.Vireo1.Error.NotSupported", "the kernel", VIREO_FIELD_NONE },
		{ "org.vireo.Vireo1.Error.InvalidArgument", NULL, VIREO_FIELD_NONE },
		{ NULL, "the name", VIREO_FIELD_NONE },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		if (vireo_config_field_of_error(cases[i].name, cases[i].message) != cases[i].field)
			g_error("%s \"%s\": field %d, not %d", cases[i].name, cases[i].message,
				vireo_config_field_of_error(cases[i].name, cases[i].message), cases[i].field);
}

/* vireod's own refusals of bad names name the name (its wording checked). */
static void test_vireod_name_errors_map(void)
{
	const char *bad[] = { "", "a/b", " x" };
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) e = NULL;
		g_assert_false(vm_config_check_name(bad[i], &e));
		g_assert_cmpint(vireo_config_field_of_error("org.vireo.Vireo1.Error.InvalidArgument", e->message), ==,
				VIREO_FIELD_NAME);
	}
	g_autoptr(GError) e = NULL;
	g_assert_false(vm_config_check_path("kernel", "rel", &e));
	g_assert_cmpint(vireo_config_field_of_error("org.vireo.Vireo1.Error.InvalidArgument", e->message), ==,
			VIREO_FIELD_KERNEL);
}

static void test_meminfo(void)
{
	g_assert_cmpuint(vireo_config_parse_meminfo("MemTotal:       16314560 kB\nMemFree: 1 kB\n"), ==, 15932);
	g_assert_cmpuint(vireo_config_parse_meminfo("MemFree: 1 kB\n"), ==, 0);
	g_assert_cmpuint(vireo_config_parse_meminfo(""), ==, 0);
	g_assert_cmpuint(vireo_config_parse_meminfo(NULL), ==, 0);
	g_assert_cmpuint(vireo_config_parse_meminfo("MemTotal: lots"), ==, 0);
}

int main(int argc, char **argv)
{
	/* The C locale's texts (the strings as written). */
	g_setenv("LC_ALL", "C.UTF-8", TRUE);
	setlocale(LC_ALL, "");
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/app-format/state-table", test_state_table);
	g_test_add_func("/app-format/labels", test_labels);
	g_test_add_func("/app-format/emulated-host", test_emulated_host);
	g_test_add_func("/app-format/numbers", test_numbers);
	g_test_add_func("/app-format/addresses", test_addresses);
	g_test_add_func("/app-config/names-agree-with-vireod", test_names_agree_with_vireod);
	g_test_add_func("/app-config/name-messages", test_name_messages);
	g_test_add_func("/app-config/resources", test_resources);
	g_test_add_func("/app-config/resolutions", test_resolutions);
	g_test_add_func("/app-config/boot-files", test_boot_files);
	g_test_add_func("/app-config/create-request", test_create_request);
	g_test_add_func("/app-config/configure-request", test_configure_request);
	g_test_add_func("/app-config/field-of-error", test_field_of_error);
	g_test_add_func("/app-config/vireod-name-errors-map", test_vireod_name_errors_map);
	g_test_add_func("/app-config/meminfo", test_meminfo);
	return g_test_run();
}
