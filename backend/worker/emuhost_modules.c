// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "emuhost_modules.h"

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define ELF_SHDR_SIZE 64u

int emuhost_modinfo_get(const uint8_t *elf, size_t len, const char *key, char *out, size_t size)
{
	if (len < 64 || memcmp(elf, "\x7f" "ELF", 4) != 0 || elf[4] != 2 || elf[5] != 1)
		return -ENOEXEC;
	uint64_t shoff = rd(elf + 0x28, 8);
	uint64_t shentsize = rd(elf + 0x3a, 2), shnum = rd(elf + 0x3c, 2), shstrndx = rd(elf + 0x3e, 2);
	if (shentsize != ELF_SHDR_SIZE || shnum == 0 || shstrndx >= shnum || shoff > len ||
	    shnum * ELF_SHDR_SIZE > len - shoff)
		return -ENOEXEC;
	const uint8_t *sh = elf + shoff;
	const uint8_t *strsec = sh + shstrndx * ELF_SHDR_SIZE;
	uint64_t str_off = rd(strsec + 24, 8), str_size = rd(strsec + 32, 8);
	if (str_off > len || str_size > len - str_off)
		return -ENOEXEC;
	static const char want[] = ".modinfo";
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *s = sh + i * ELF_SHDR_SIZE;
		uint64_t name = rd(s, 4), off = rd(s + 24, 8), sz = rd(s + 32, 8);
		if (name >= str_size || str_size - name < sizeof(want) ||
		    memcmp(elf + str_off + name, want, sizeof(want)) != 0)
			continue;
		if (off > len || sz > len - off)
			return -ENOEXEC;
		const char *p = (const char *)elf + off, *end = p + sz;
		size_t klen = strlen(key);
		while (p < end) {
			const char *nul = memchr(p, 0, (size_t)(end - p));
			size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
			if (n > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
				size_t vlen = n - klen - 1;
				if (vlen >= size)
					return -ENAMETOOLONG;
				memcpy(out, p + klen + 1, vlen);
				out[vlen] = 0;
				return 0;
			}
			p += n + 1;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

void emuhost_module_name_norm(char *name)
{
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
}

static void module_free(gpointer p)
{
	struct emuhost_module *m = p;
	g_free(m->name);
	if (m->data)
		g_bytes_unref(m->data);
	g_free(m);
}

struct closure {
	GHashTable *builtin, *done, *visiting;
	emuhost_module_load_fn load;
	void *opaque;
	GPtrArray *order;
};

static bool closure_visit(struct closure *c, const char *raw, const char *needed_by, unsigned depth, GError **error)
{
	g_autofree char *name = g_strdup(raw);
	emuhost_module_name_norm(name);
	if (!*name || g_hash_table_contains(c->done, name) || (c->builtin && g_hash_table_contains(c->builtin, name)))
		return true;
	if (g_hash_table_contains(c->visiting, name) || depth > EMUHOST_MODULES_MAX) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "kernel module %s: its dependencies loop (through %s)",
			    name, needed_by ? needed_by : name);
		return false;
	}
	if (c->order->len + g_hash_table_size(c->visiting) >= EMUHOST_MODULES_MAX) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "more than %u kernel modules are needed",
			    EMUHOST_MODULES_MAX);
		return false;
	}
	GError *e = NULL;
	GBytes *data = c->load(c->opaque, name, &e);
	if (!data) {
		g_propagate_prefixed_error(error, e, "kernel module %s%s%s: ", name, needed_by ? ", needed by " : "",
					   needed_by ? needed_by : "");
		return false;
	}
	gsize len;
	const uint8_t *p = g_bytes_get_data(data, &len);
	char deps[EMUHOST_MODINFO_VALUE_MAX];
	int r = emuhost_modinfo_get(p, len, "depends", deps, sizeof(deps));
	if (r == -ENOENT) {
		deps[0] = 0;
	} else if (r < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "kernel module %s: cannot read its .modinfo: %s", name,
			    g_strerror(-r));
		g_bytes_unref(data);
		return false;
	}
	g_hash_table_add(c->visiting, g_strdup(name));
	g_auto(GStrv) list = g_strsplit(deps, ",", -1);
	for (char **d = list; *d; d++) {
		if (!closure_visit(c, *d, name, depth + 1, error)) {
			g_bytes_unref(data);
			return false;
		}
	}
	g_hash_table_remove(c->visiting, name);
	struct emuhost_module *m = g_new0(struct emuhost_module, 1);
	m->name = g_strdup(name);
	m->data = data;
	g_ptr_array_add(c->order, m);
	g_hash_table_add(c->done, g_steal_pointer(&name));
	return true;
}

GPtrArray *emuhost_modules_closure(const char *const *wanted, GHashTable *builtin, emuhost_module_load_fn load,
				   void *opaque, GError **error)
{
	struct closure c = {
		.builtin = builtin,
		.done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.visiting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.load = load,
		.opaque = opaque,
		.order = g_ptr_array_new_with_free_func(module_free),
	};
	bool ok = true;
	for (const char *const *w = wanted; ok && *w; w++)
		ok = closure_visit(&c, *w, NULL, 0, error);
	g_hash_table_unref(c.done);
	g_hash_table_unref(c.visiting);
	if (!ok) {
		g_ptr_array_unref(c.order);
		return NULL;
	}
	return c.order;
}
