// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vm_config.h"

#define RES_MIN_SIDE 640u
#define RES_MAX_SIDE 7680u

void vm_config_clear(struct vm_config *c)
{
	g_free(c->name);
	g_free(c->kernel);
	g_free(c->initrd);
	g_free(c->cmdline);
	memset(c, 0, sizeof(*c));
}

void vm_config_copy(struct vm_config *dst, const struct vm_config *src)
{
	*dst = *src;
	dst->name = g_strdup(src->name);
	dst->kernel = g_strdup(src->kernel);
	dst->initrd = g_strdup(src->initrd);
	dst->cmdline = g_strdup(src->cmdline);
}

void vm_config_init_new(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	g_autofree char *uuid = g_uuid_string_random();
	g_strlcpy(c->id, uuid, sizeof(c->id));
	c->memory_mib = VM_DEFAULT_MEMORY_MIB;
	c->cpus = VM_DEFAULT_CPUS;
	c->boot = VM_BOOT_DEMO;
	(void)vm_config_parse_resolution(VM_DEFAULT_RESOLUTION, &c->res_w, &c->res_h, NULL);
	c->created = g_get_real_time() / G_USEC_PER_SEC;
}

static bool bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool bad(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, msg);
	return false;
}

bool vm_config_check_name(const char *name, GError **error)
{
	if (!name || !*name)
		return bad(error, "a VM needs a name");
	if (!g_utf8_validate(name, -1, NULL))
		return bad(error, "the name is not valid UTF-8");
	if (g_utf8_strlen(name, -1) > VM_NAME_MAX_CHARS)
		return bad(error, "the name \"%.64s…\" is longer than %u characters", name, VM_NAME_MAX_CHARS);
	for (const char *p = name; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '/' || g_unichar_iscntrl(c))
			return bad(error, "the name \"%s\" has a \"/\" or a control character", name);
	}
	if (g_unichar_isspace(g_utf8_get_char(name)) || g_unichar_isspace(g_utf8_get_char(g_utf8_prev_char(name + strlen(name)))))
		return bad(error, "the name \"%s\" starts or ends with a space", name);
	return true;
}

bool vm_config_check_path(const char *what, const char *path, GError **error)
{
	if (!path || !*path)
		return bad(error, "no %s file given", what);
	if (strlen(path) >= VM_PATH_MAX)
		return bad(error, "the %s path is longer than %u bytes", what, VM_PATH_MAX - 1);
	if (!g_path_is_absolute(path))
		return bad(error, "the %s path \"%s\" is not absolute", what, path);
	if (strchr(path, '\n'))
		return bad(error, "the %s path has a line break", what);
	return true;
}

bool vm_config_parse_resolution(const char *s, unsigned *w, unsigned *h, GError **error)
{
	if (!s)
		return bad(error, "no resolution given");
	char *end;
	guint64 a = g_ascii_strtoull(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		return bad(error, "the resolution \"%.32s\" is not WIDTHxHEIGHT", s);
	const char *hs = end + 1;
	guint64 b = g_ascii_strtoull(hs, &end, 10);
	if (end == hs || *end)
		return bad(error, "the resolution \"%.32s\" is not WIDTHxHEIGHT", s);
	if (a < RES_MIN_SIDE || b < RES_MIN_SIDE / 2 || a > RES_MAX_SIDE || b > RES_MAX_SIDE)
		return bad(error, "the resolution %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT " is out of range", a, b);
	*w = (unsigned)a;
	*h = (unsigned)b;
	return true;
}

bool vm_config_check(const struct vm_config *c, GError **error)
{
	if (!g_uuid_string_is_valid(c->id))
		return bad(error, "the VM id \"%.40s\" is not a UUID", c->id);
	if (!vm_config_check_name(c->name, error))
		return false;
	if (c->memory_mib < VM_MEMORY_MIN_MIB || c->memory_mib > VM_MEMORY_MAX_MIB)
		return bad(error, "memory %" G_GUINT64_FORMAT " MiB is outside %u MiB to %u GiB", c->memory_mib,
			   VM_MEMORY_MIN_MIB, VM_MEMORY_MAX_MIB / 1024);
	if (c->cpus < 1 || c->cpus > VM_CPUS_MAX)
		return bad(error, "%u vCPUs is outside 1 to %u", c->cpus, VM_CPUS_MAX);
	if (c->boot == VM_BOOT_KERNEL) {
		if (!vm_config_check_path("kernel", c->kernel, error))
			return false;
		if (c->initrd && !vm_config_check_path("initrd", c->initrd, error))
			return false;
	} else if (c->boot != VM_BOOT_DEMO) {
		return bad(error, "unknown boot source");
	}
	if (c->cmdline && (strlen(c->cmdline) >= VM_CMDLINE_MAX || strchr(c->cmdline, '\n')))
		return bad(error, "the kernel command line is longer than %u bytes or has a line break", VM_CMDLINE_MAX - 1);
	unsigned w, h;
	g_autofree char *res = g_strdup_printf("%ux%u", c->res_w, c->res_h);
	if (!vm_config_parse_resolution(res, &w, &h, error))
		return false;
	return true;
}

static bool apply_string(GVariant *v, const char *key, char **dst, GError **error)
{
	if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
		return bad(error, "%s must be a string (s), not %s", key, g_variant_get_type_string(v));
	g_free(*dst);
	const char *s = g_variant_get_string(v, NULL);
	*dst = *s ? g_strdup(s) : NULL;
	return true;
}

static bool apply_number(GVariant *v, const char *key, guint64 *dst, GError **error)
{
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64))
		*dst = g_variant_get_uint64(v);
	else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
		*dst = g_variant_get_uint32(v);
	else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) && g_variant_get_int32(v) >= 0)
		*dst = (guint64)g_variant_get_int32(v);
	else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64) && g_variant_get_int64(v) >= 0)
		*dst = (guint64)g_variant_get_int64(v);
	else
		return bad(error, "%s must be a non-negative number (t or u), not %s", key,
			   g_variant_get_type_string(v));
	return true;
}

bool vm_config_apply(struct vm_config *c, GVariant *dict, unsigned *changed, GError **error)
{
	if (!g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT))
		return bad(error, "the configuration must be a{sv}");
	struct vm_config n;
	vm_config_copy(&n, c);
	unsigned ch = 0;
	GVariantIter it;
	const char *key;
	GVariant *v;
	g_variant_iter_init(&it, dict);
	while (g_variant_iter_next(&it, "{&sv}", &key, &v)) {
		g_autoptr(GVariant) val = v;
		guint64 num = 0;
		g_autofree char *str = NULL;
		bool ok;
		if (g_str_equal(key, "Name")) {
			ok = apply_string(val, key, &n.name, error);
			ch |= VM_CONFIG_CHANGED_NAME;
		} else if (g_str_equal(key, "MemoryMiB")) {
			ok = apply_number(val, key, &num, error);
			n.memory_mib = num;
		} else if (g_str_equal(key, "Cpus")) {
			ok = apply_number(val, key, &num, error);
			n.cpus = num > VM_CPUS_MAX ? VM_CPUS_MAX + 1 : (unsigned)num;
		} else if (g_str_equal(key, "BootSource")) {
			ok = apply_string(val, key, &str, error);
			if (ok && str && g_str_equal(str, "demo"))
				n.boot = VM_BOOT_DEMO;
			else if (ok && str && g_str_equal(str, "kernel"))
				n.boot = VM_BOOT_KERNEL;
			else if (ok)
				ok = bad(error, "BootSource \"%.32s\" is neither \"demo\" nor \"kernel\"", str ? str : "");
		} else if (g_str_equal(key, "Kernel")) {
			ok = apply_string(val, key, &n.kernel, error);
		} else if (g_str_equal(key, "Initrd")) {
			ok = apply_string(val, key, &n.initrd, error);
		} else if (g_str_equal(key, "Cmdline")) {
			ok = apply_string(val, key, &n.cmdline, error);
		} else if (g_str_equal(key, "Resolution")) {
			ok = apply_string(val, key, &str, error) &&
			     vm_config_parse_resolution(str, &n.res_w, &n.res_h, error);
		} else {
			ok = bad(error, "unknown setting \"%.64s\" (Name, MemoryMiB, Cpus, BootSource, Kernel, Initrd, "
				 "Cmdline, Resolution)", key);
		}
		if (!ok) {
			vm_config_clear(&n);
			return false;
		}
		if (!g_str_equal(key, "Name"))
			ch |= VM_CONFIG_CHANGED_OTHER;
	}
	if (!vm_config_check(&n, error)) {
		vm_config_clear(&n);
		return false;
	}
	vm_config_clear(c);
	*c = n;
	if (changed)
		*changed = ch;
	return true;
}

char *vm_config_to_data(const struct vm_config *c, gsize *len)
{
	g_autoptr(GKeyFile) k = g_key_file_new();
	g_key_file_set_integer(k, "Machine", "Format", VM_CONFIG_FORMAT);
	g_key_file_set_string(k, "Machine", "Id", c->id);
	g_key_file_set_string(k, "Machine", "Name", c->name);
	g_key_file_set_uint64(k, "Machine", "MemoryMiB", c->memory_mib);
	g_key_file_set_integer(k, "Machine", "Cpus", (gint)c->cpus);
	g_autofree char *res = g_strdup_printf("%ux%u", c->res_w, c->res_h);
	g_key_file_set_string(k, "Machine", "Resolution", res);
	g_key_file_set_int64(k, "Machine", "Created", c->created);
	g_key_file_set_string(k, "Boot", "Source", c->boot == VM_BOOT_KERNEL ? "kernel" : "demo");
	if (c->kernel)
		g_key_file_set_string(k, "Boot", "Kernel", c->kernel);
	if (c->initrd)
		g_key_file_set_string(k, "Boot", "Initrd", c->initrd);
	if (c->cmdline)
		g_key_file_set_string(k, "Boot", "Cmdline", c->cmdline);
	g_key_file_set_comment(k, NULL, NULL, " A Vireo virtual machine (format: backend/service/config-format.md)", NULL);
	return g_key_file_to_data(k, len, NULL);
}

/* A string key, or NULL when absent; error when present but broken. */
static char *key_string(GKeyFile *k, const char *group, const char *key, bool required, GError **error)
{
	g_autoptr(GError) e = NULL;
	char *v = g_key_file_get_string(k, group, key, &e);
	if (!v && (required || !g_error_matches(e, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)))
		bad(error, "[%s] %s: %s", group, key, e->message);
	return v;
}

static bool key_uint(GKeyFile *k, const char *group, const char *key, guint64 *out, GError **error)
{
	g_autofree char *s = key_string(k, group, key, true, error);
	if (!s)
		return false;
	char *end;
	errno = 0;
	guint64 v = g_ascii_strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return bad(error, "[%s] %s=%.32s is not a number", group, key, s);
	*out = v;
	return true;
}

bool vm_config_from_data(const char *data, gsize len, struct vm_config *out, GError **error)
{
	g_autoptr(GKeyFile) k = g_key_file_new();
	g_autoptr(GError) e = NULL, le = NULL;   /* before any goto */
	if (memchr(data, '\0', len) || !g_key_file_load_from_data(k, data, len, G_KEY_FILE_NONE, &e))
		return bad(error, "not a configuration file: %s", e ? e->message : "it holds a NUL byte");
	struct vm_config c = { 0 };
	guint64 format = 0, mem = 0, cpus = 0, created = 0;
	g_autofree char *id = NULL, *res = NULL, *src = NULL;
	if (!key_uint(k, "Machine", "Format", &format, error))
		goto fail;
	if (format != VM_CONFIG_FORMAT) {
		bad(error, "format %" G_GUINT64_FORMAT " is not the one this vireod reads (%d)", format, VM_CONFIG_FORMAT);
		goto fail;
	}
	if (!(id = key_string(k, "Machine", "Id", true, error)) ||
	    !(c.name = key_string(k, "Machine", "Name", true, error)) ||
	    !key_uint(k, "Machine", "MemoryMiB", &mem, error) || !key_uint(k, "Machine", "Cpus", &cpus, error) ||
	    !(res = key_string(k, "Machine", "Resolution", true, error)) ||
	    !(src = key_string(k, "Boot", "Source", true, error)))
		goto fail;
	if (!key_uint(k, "Machine", "Created", &created, NULL))
		created = 0;
	if (strlen(id) >= sizeof(c.id)) {
		bad(error, "the VM id \"%.40s\" is not a UUID", id);
		goto fail;
	}
	g_strlcpy(c.id, id, sizeof(c.id));
	c.memory_mib = mem;
	c.cpus = cpus > VM_CPUS_MAX ? VM_CPUS_MAX + 1 : (unsigned)cpus;
	c.created = (int64_t)MIN(created, (guint64)G_MAXINT64);
	if (!vm_config_parse_resolution(res, &c.res_w, &c.res_h, error))
		goto fail;
	if (g_str_equal(src, "demo")) {
		c.boot = VM_BOOT_DEMO;
	} else if (g_str_equal(src, "kernel")) {
		c.boot = VM_BOOT_KERNEL;
	} else {
		bad(error, "[Boot] Source=%.32s is neither demo nor kernel", src);
		goto fail;
	}
	c.kernel = key_string(k, "Boot", "Kernel", false, &le);
	if (!le)
		c.initrd = key_string(k, "Boot", "Initrd", false, &le);
	if (!le)
		c.cmdline = key_string(k, "Boot", "Cmdline", false, &le);
	if (le) {
		g_propagate_error(error, g_steal_pointer(&le));
		goto fail;
	}
	if (!vm_config_check(&c, error))
		goto fail;
	*out = c;
	return true;
fail:
	vm_config_clear(&c);
	return false;
}

bool vm_config_save(const struct vm_config *c, const char *dir, GError **error)
{
	if (!vm_config_check(c, error))
		return false;
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", dir, g_strerror(e));
		return false;
	}
	gsize len;
	g_autofree char *data = vm_config_to_data(c, &len);
	g_autofree char *name = g_strconcat(c->id, ".conf", NULL);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	/* CONSISTENT: a temporary file renamed over the old one; DURABLE: fsynced
	 * first, so a crash leaves the old file or the new one, never half. */
	return g_file_set_contents_full(path, data, (gssize)len,
					G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error);
}

bool vm_config_load(const char *path, struct vm_config *out, GError **error)
{
	g_autofree char *data = NULL;
	gsize len;
	struct stat st;
	/* A configuration is small; a huge file is not one. */
	if (g_stat(path, &st) == 0 && st.st_size > 65536)
		return bad(error, "%s: %lld bytes is too large for a VM configuration", path, (long long)st.st_size);
	if (!g_file_get_contents(path, &data, &len, error))
		return false;
	g_autoptr(GError) e = NULL;
	if (!vm_config_from_data(data, len, out, &e)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, e->message);
		return false;
	}
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *want = g_strconcat(out->id, ".conf", NULL);
	if (!g_str_equal(base, want)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: holds VM %s, so it should be named %s",
			    path, out->id, want);
		vm_config_clear(out);
		return false;
	}
	return true;
}
