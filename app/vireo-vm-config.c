// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "vireo-vm-config.h"
#include "vireo-format.h"

static const char *const vireo_resolutions[] = {
	"1024x768", "1152x864", "1280x720", "1280x800", "1280x1024", "1366x768", "1440x900", "1600x900",
	"1600x1200", "1680x1050", "1920x1080", "1920x1200", "2560x1440", "2560x1600", "3840x2160", NULL,
};

const char *const *vireo_config_resolutions(void)
{
	return vireo_resolutions;
}

void vireo_config_init(VireoConfig *c)
{
	*c = (VireoConfig){
		.name = g_strdup(""),
		.memory_mib = VIREO_DEFAULT_MEMORY_MIB,
		.cpus = VIREO_DEFAULT_CPUS,
		.boot = VIREO_BOOT_DEMO,
		.kernel = g_strdup(""),
		.initrd = g_strdup(""),
		.cmdline = g_strdup(""),
		.resolution = g_strdup(VIREO_DEFAULT_RESOLUTION),
	};
}

void vireo_config_clear(VireoConfig *c)
{
	g_free(c->name);
	g_free(c->kernel);
	g_free(c->initrd);
	g_free(c->cmdline);
	g_free(c->resolution);
	memset(c, 0, sizeof(*c));
}

void vireo_config_copy(VireoConfig *dst, const VireoConfig *src)
{
	*dst = *src;
	dst->name = g_strdup(src->name ? src->name : "");
	dst->kernel = g_strdup(src->kernel ? src->kernel : "");
	dst->initrd = g_strdup(src->initrd ? src->initrd : "");
	dst->cmdline = g_strdup(src->cmdline ? src->cmdline : "");
	dst->resolution = g_strdup(src->resolution ? src->resolution : VIREO_DEFAULT_RESOLUTION);
}

guint64 vireo_config_parse_meminfo(const char *text)
{
	const char *p = text ? strstr(text, "MemTotal:") : NULL;
	if (!p)
		return 0;
	return g_ascii_strtoull(p + strlen("MemTotal:"), NULL, 10) / 1024;
}

static char *vireo_config_check_name(const char *name, gboolean taken)
{
	if (!name || !*name)
		return g_strdup(_("Enter a name for the virtual machine."));
	if (!g_utf8_validate(name, -1, NULL))
		return g_strdup(_("The name is not valid text."));
	if (g_utf8_strlen(name, -1) > VIREO_NAME_MAX_CHARS)
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "A name has at most %u character.",
						   "A name has at most %u characters.", VIREO_NAME_MAX_CHARS),
				       VIREO_NAME_MAX_CHARS);
	for (const char *p = name; *p; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if (ch == '/' || g_unichar_iscntrl(ch))
			return g_strdup(_("A name cannot contain “/” or control characters."));
	}
	const char *last = g_utf8_prev_char(name + strlen(name));
	if (g_unichar_isspace(g_utf8_get_char(name)) || g_unichar_isspace(g_utf8_get_char(last)))
		return g_strdup(_("A name cannot start or end with a space."));
	if (taken)
		return g_strdup_printf(_("There is a virtual machine named “%s” already."), name);
	return NULL;
}

/* f: VIREO_FIELD_KERNEL or VIREO_FIELD_INITRD, for the messages. */
static char *vireo_config_check_path(const char *path, gboolean required, VireoField f)
{
	gboolean kernel = f == VIREO_FIELD_KERNEL;
	if (!path || !*path)
		return required ? g_strdup(_("Choose the kernel to boot.")) : NULL;
	if (strlen(path) >= VIREO_PATH_MAX)
		return g_strdup(kernel ? _("The kernel’s path is too long.") : _("The initial RAM disk’s path is too long."));
	if (!g_path_is_absolute(path))
		return g_strdup(kernel ? _("The kernel’s path must start with “/”.")
				       : _("The initial RAM disk’s path must start with “/”."));
	if (strchr(path, '\n'))
		return g_strdup(kernel ? _("The kernel’s path cannot contain a line break.")
				       : _("The initial RAM disk’s path cannot contain a line break."));
	return NULL;
}

static gboolean vireo_config_resolution_known(const char *res)
{
	for (gsize i = 0; res && vireo_resolutions[i]; i++)
		if (g_str_equal(vireo_resolutions[i], res))
			return TRUE;
	return FALSE;
}

char *vireo_config_check(const VireoConfig *c, VireoField f, const VireoHostLimits *host, gboolean name_taken)
{
	switch (f) {
	case VIREO_FIELD_NAME:
		return vireo_config_check_name(c->name, name_taken);
	case VIREO_FIELD_MEMORY:
		if (c->memory_mib < VIREO_MEMORY_MIN_MIB || c->memory_mib > VIREO_MEMORY_MAX_MIB)
			return g_strdup_printf(_("Memory must be between %u MiB and %u GiB."), VIREO_MEMORY_MIN_MIB,
					       VIREO_MEMORY_MAX_MIB / 1024);
		if (host && host->memory_mib && c->memory_mib > host->memory_mib) {
			g_autofree char *have = vireo_format_mib(host->memory_mib);
			return g_strdup_printf(_("This host has %s of memory: give the virtual machine less."), have);
		}
		return NULL;
	case VIREO_FIELD_CPUS:
		if (c->cpus < 1 || c->cpus > VIREO_CPUS_MAX)
			return g_strdup_printf(_("A virtual machine has 1 to %u virtual processors."), VIREO_CPUS_MAX);
		if (host && host->cpus && c->cpus > host->cpus)
			return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "This host has %u processor.",
							   "This host has %u processors.", host->cpus),
					       host->cpus);
		return NULL;
	case VIREO_FIELD_KERNEL:
		return c->boot == VIREO_BOOT_KERNEL ? vireo_config_check_path(c->kernel, TRUE, f) : NULL;
	case VIREO_FIELD_INITRD:
		return c->boot == VIREO_BOOT_KERNEL ? vireo_config_check_path(c->initrd, FALSE, f) : NULL;
	case VIREO_FIELD_CMDLINE:
		if (c->boot != VIREO_BOOT_KERNEL || !c->cmdline)
			return NULL;
		if (strlen(c->cmdline) >= VIREO_CMDLINE_MAX)
			return g_strdup_printf(_("The command line is longer than %u bytes."), VIREO_CMDLINE_MAX - 1);
		if (strchr(c->cmdline, '\n'))
			return g_strdup(_("The command line cannot contain a line break."));
		return NULL;
	case VIREO_FIELD_RESOLUTION:
		return vireo_config_resolution_known(c->resolution) ? NULL
								     : g_strdup(_("Choose one of the offered screen sizes."));
	default:
		return NULL;
	}
}

static void vireo_config_add_boot(GVariantBuilder *b, const VireoConfig *c)
{
	g_variant_builder_add(b, "{sv}", "BootSource", g_variant_new_string(c->boot == VIREO_BOOT_KERNEL ? "kernel" : "demo"));
	if (c->boot != VIREO_BOOT_KERNEL)
		return;
	g_variant_builder_add(b, "{sv}", "Kernel", g_variant_new_string(c->kernel));
	g_variant_builder_add(b, "{sv}", "Initrd", g_variant_new_string(c->initrd));
	g_variant_builder_add(b, "{sv}", "Cmdline", g_variant_new_string(c->cmdline));
}

GVariant *vireo_config_to_create(const VireoConfig *c)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(c->name));
	g_variant_builder_add(&b, "{sv}", "MemoryMiB", g_variant_new_uint64(c->memory_mib));
	g_variant_builder_add(&b, "{sv}", "Cpus", g_variant_new_uint32(c->cpus));
	vireo_config_add_boot(&b, c);
	g_variant_builder_add(&b, "{sv}", "Resolution", g_variant_new_string(c->resolution));
	return g_variant_builder_end(&b);
}

GVariant *vireo_config_to_configure(const VireoConfig *old, const VireoConfig *c)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	gboolean any = FALSE;
	if (g_strcmp0(old->name, c->name) != 0) {
		g_variant_builder_add(&b, "{sv}", "Name", g_variant_new_string(c->name));
		any = TRUE;
	}
	if (old->memory_mib != c->memory_mib) {
		g_variant_builder_add(&b, "{sv}", "MemoryMiB", g_variant_new_uint64(c->memory_mib));
		any = TRUE;
	}
	if (old->cpus != c->cpus) {
		g_variant_builder_add(&b, "{sv}", "Cpus", g_variant_new_uint32(c->cpus));
		any = TRUE;
	}
	gboolean boot_changed = old->boot != c->boot;
	if (c->boot == VIREO_BOOT_KERNEL)
		boot_changed = boot_changed || g_strcmp0(old->kernel, c->kernel) || g_strcmp0(old->initrd, c->initrd) ||
			       g_strcmp0(old->cmdline, c->cmdline);
	if (boot_changed) {
		vireo_config_add_boot(&b, c);
		any = TRUE;
	}
	if (g_strcmp0(old->resolution, c->resolution) != 0) {
		g_variant_builder_add(&b, "{sv}", "Resolution", g_variant_new_string(c->resolution));
		any = TRUE;
	}
	if (!any) {
		g_variant_builder_clear(&b);
		return NULL;
	}
	return g_variant_builder_end(&b);
}

VireoField vireo_config_field_of_error(const char *error_name, const char *message)
{
	if (!error_name)
		return VIREO_FIELD_NONE;
	if (g_str_equal(error_name, "org.vireo.Vireo1.Error.AlreadyExists"))
		return VIREO_FIELD_NAME;
	if (!message || (!g_str_equal(error_name, "org.vireo.Vireo1.Error.InvalidArgument") &&
			 !g_str_equal(error_name, "org.vireo.Vireo1.Error.InsufficientResources")))
		return VIREO_FIELD_NONE;
	/* Configure says which VM first: 'VM "name": ...'. */
	const char *m = message;
	if (g_str_has_prefix(m, "VM \"")) {
		const char *end = strstr(m + 4, "\": ");
		if (end)
			m = end + 3;
	}
	/* vireod's sentences begin with what they refuse (backend/service/
	 * vm_config.c and service.c), the name's own text after that. */
	static const struct {
		const char *start;
		VireoField field;
	} starts[] = {
		{ "the kernel command line", VIREO_FIELD_CMDLINE },
		{ "the kernel", VIREO_FIELD_KERNEL },
		{ "no kernel", VIREO_FIELD_KERNEL },
		{ "the initrd", VIREO_FIELD_INITRD },
		{ "no initrd", VIREO_FIELD_INITRD },
		{ "the name", VIREO_FIELD_NAME },
		{ "a VM needs a name", VIREO_FIELD_NAME },
		{ "a new VM needs a Name", VIREO_FIELD_NAME },
		{ "memory", VIREO_FIELD_MEMORY },
		{ "the resolution", VIREO_FIELD_RESOLUTION },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(starts); i++)
		if (g_str_has_prefix(m, starts[i].start))
			return starts[i].field;
	/* "900000 MiB of memory is more ...", "300 vCPUs is ..." */
	const char *p = m;
	while (g_ascii_isdigit(*p))
		p++;
	if (p > m && g_str_has_prefix(p, " MiB of memory"))
		return VIREO_FIELD_MEMORY;
	if (p > m && g_str_has_prefix(p, " vCPUs"))
		return VIREO_FIELD_CPUS;
	return VIREO_FIELD_NONE;
}
