/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's configuration and its file: $XDG_CONFIG_HOME/vireo/machines/ID.conf
 * (format in backend/service/config-format.md). Files are read as hostile
 * input (a person may edit them, a crash may have cut them): every field is
 * checked, and a file that does not check out is reported, not half-used.
 * Writes are atomic: a temporary file, fsync, rename.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#define VM_CONFIG_FORMAT        1
#define VM_NAME_MAX_CHARS       64u
#define VM_MEMORY_MIN_MIB       128u
#define VM_MEMORY_MAX_MIB       (1024u * 1024u)      /* 1 TiB, the worker's limit */
#define VM_CPUS_MAX             256u
#define VM_PATH_MAX             4096u
#define VM_CMDLINE_MAX          2048u
#define VM_DEFAULT_MEMORY_MIB   1024u
#define VM_DEFAULT_CPUS         2u
#define VM_DEFAULT_RESOLUTION   "1024x768"

enum vm_boot_source {
	VM_BOOT_DEMO,            /* the demo guest the project builds */
	VM_BOOT_KERNEL,          /* a kernel, an optional initrd and a command line */
};

struct vm_config {
	char id[37];             /* UUID, lower case with dashes */
	char *name;
	uint64_t memory_mib;
	unsigned cpus;
	enum vm_boot_source boot;
	char *kernel, *initrd, *cmdline;   /* VM_BOOT_KERNEL; NULL when unset */
	unsigned res_w, res_h;
	int64_t created;         /* Unix time */
};

void vm_config_clear(struct vm_config *c);
void vm_config_copy(struct vm_config *dst, const struct vm_config *src);
/* Defaults and a new id. */
void vm_config_init_new(struct vm_config *c);

/* Checks of single values: 0 or an error (G_IO_ERROR_INVALID_ARGUMENT)
 * that says what is wrong with it, for a person. */
bool vm_config_check_name(const char *name, GError **error);
bool vm_config_check_path(const char *what, const char *path, GError **error);
bool vm_config_parse_resolution(const char *s, unsigned *w, unsigned *h, GError **error);

/* Every field: false and error naming the first bad one. */
bool vm_config_check(const struct vm_config *c, GError **error);

/* What vm_config_apply changed. */
#define VM_CONFIG_CHANGED_NAME  (1u << 0)
#define VM_CONFIG_CHANGED_OTHER (1u << 1)

/*
 * Apply the keys of an a{sv} dictionary (Name, MemoryMiB, Cpus, BootSource,
 * Kernel, Initrd, Cmdline, Resolution; see org.vireo.Vireo1.xml) to c:
 * false and error (InvalidArgument in G_IO_ERROR terms) for an unknown key,
 * a value of the wrong type, or a bad value; c is then unchanged. *changed
 * gets VM_CONFIG_CHANGED_* bits.
 */
bool vm_config_apply(struct vm_config *c, GVariant *dict, unsigned *changed, GError **error);

/* The file's text, and back. Parsing checks everything (vm_config_check). */
char *vm_config_to_data(const struct vm_config *c, gsize *len);
bool vm_config_from_data(const char *data, gsize len, struct vm_config *out, GError **error);

/* dir/ID.conf, atomically, mode 0600; dir is made (0700) if missing. */
bool vm_config_save(const struct vm_config *c, const char *dir, GError **error);
bool vm_config_load(const char *path, struct vm_config *out, GError **error);
