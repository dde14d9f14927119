/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The settings of a VM as the New VM wizard and the Settings window edit
 * them: the checks a person gets as they type (the same rules vireod
 * applies: org.vireo.Vireo1.xml, CreateMachine), the request for vireod,
 * and which field a refusal of vireod's belongs to. Pure (GLib and
 * gettext): unit-tested. vireod checks everything again; these checks are
 * there for clear messages before the request goes out.
 */
#pragma once

#include <glib.h>

/* vireod's limits (org.vireo.Vireo1.xml, backend/service/vm_config.h). */
#define VIREO_NAME_MAX_CHARS     64u
#define VIREO_MEMORY_MIN_MIB     128u
#define VIREO_MEMORY_MAX_MIB     (1024u * 1024u)
#define VIREO_CPUS_MAX           256u
#define VIREO_PATH_MAX           4096u
#define VIREO_CMDLINE_MAX        2048u
#define VIREO_DEFAULT_MEMORY_MIB 1024u
#define VIREO_DEFAULT_CPUS       2u
#define VIREO_DEFAULT_RESOLUTION "1024x768"

typedef enum {
	VIREO_BOOT_DEMO,
	VIREO_BOOT_KERNEL,
} VireoBoot;

typedef enum {
	VIREO_FIELD_NAME,
	VIREO_FIELD_MEMORY,
	VIREO_FIELD_CPUS,
	VIREO_FIELD_KERNEL,
	VIREO_FIELD_INITRD,
	VIREO_FIELD_CMDLINE,
	VIREO_FIELD_RESOLUTION,
	VIREO_N_FIELDS,
	VIREO_FIELD_NONE = VIREO_N_FIELDS,
} VireoField;

typedef struct {
	char *name;
	guint64 memory_mib;
	guint cpus;
	VireoBoot boot;
	char *kernel, *initrd, *cmdline;   /* "" when unset */
	char *resolution;                  /* "WxH" */
} VireoConfig;

/* What this host has, for the checks (0: unknown, not checked). */
typedef struct {
	guint64 memory_mib;
	guint cpus;
} VireoHostLimits;

void vireo_config_init(VireoConfig *c);   /* vireod's defaults */
void vireo_config_clear(VireoConfig *c);
void vireo_config_copy(VireoConfig *dst, const VireoConfig *src);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VireoConfig, vireo_config_clear)

/* The screen sizes the synthetic video offers (backend/vsp/synthvid.c), "WxH". */
const char *const *vireo_config_resolutions(void);

/* MemTotal of a /proc/meminfo text, in MiB (0 when it is not there). */
guint64 vireo_config_parse_meminfo(const char *text);

/*
 * NULL when the field is acceptable, else what is wrong, for a person
 * (translated, newly allocated). name_taken: another VM has this name
 * (the caller knows the list). Kernel, initrd and command line are only
 * checked with VIREO_BOOT_KERNEL.
 */
char *vireo_config_check(const VireoConfig *c, VireoField f, const VireoHostLimits *host, gboolean name_taken);

/* CreateMachine's a{sv}: every setting (floating). */
GVariant *vireo_config_to_create(const VireoConfig *c);
/* Configure's a{sv}: what changed from old (floating); NULL when nothing did. */
GVariant *vireo_config_to_configure(const VireoConfig *old, const VireoConfig *c);

/* The field a refusal of vireod's is about (its D-Bus error name and its
 * message), VIREO_FIELD_NONE when it is about none in particular. */
VireoField vireo_config_field_of_error(const char *error_name, const char *message);
