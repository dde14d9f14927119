/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel modules of the emulated host: each module's .modinfo says
 * what it depends on ("depends=a,b"); there is no depmod on the hosts this
 * runs on, so the load order is worked out here from those lists.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define EMUHOST_MODULES_MAX     64u    /* modules in one closure */
#define EMUHOST_MODINFO_VALUE_MAX 1024u

/*
 * The value of key in the .modinfo section of a module (an ELF64
 * little-endian relocatable): 0 and out (NUL-terminated); -ENOENT when the
 * key is not there; -ENOEXEC when elf is not such a file or its section
 * table points outside it; -ENAMETOOLONG when the value does not fit.
 */
int emuhost_modinfo_get(const uint8_t *elf, size_t len, const char *key, char *out, size_t size);

/* "kvm-amd" -> "kvm_amd", in place: how the kernel compares module names. */
void emuhost_module_name_norm(char *name);

/* A module's image by its (normalised) name, or NULL and error. */
typedef GBytes *(*emuhost_module_load_fn)(void *opaque, const char *name, GError **error);

struct emuhost_module {
	char *name;
	GBytes *data;
};

/*
 * wanted and what they depend on, each once, dependencies first: an array
 * of struct emuhost_module * (freed with it). Names in builtin (a set, may
 * be NULL) are in the kernel already. NULL and error when a module cannot
 * be loaded, has a broken .modinfo, the dependencies loop, or there are
 * more than EMUHOST_MODULES_MAX.
 */
GPtrArray *emuhost_modules_closure(const char *const *wanted, GHashTable *builtin, emuhost_module_load_fn load,
				   void *opaque, GError **error);
