// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "hv/saved_state.h"

G_DEFINE_QUARK(vireo-saved-state-error-quark, saved_state_error)

int saved_state_fail(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, SAVED_STATE_ERROR, 0, msg);
	g_free(msg);
	return -EINVAL;
}

int saved_state_check_type(GVariant *v, const char *type, const char *what, GError **error)
{
	if (!v)
		return saved_state_fail(error, "%s: missing", what);
	if (!g_variant_type_string_is_valid(type))
		return saved_state_fail(error, "%s: bad type string", what);
	if (!g_variant_is_of_type(v, G_VARIANT_TYPE(type)))
		return saved_state_fail(error, "%s: of type %.64s, not %.64s", what, g_variant_get_type_string(v), type);
	return 0;
}

GVariant *saved_state_blob(const void *data, size_t len)
{
	return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, len ? data : "", len, 1);
}

const uint8_t *saved_state_blob_peek(GVariant *ay, size_t *len)
{
	gsize n = 0;
	const uint8_t *p = g_variant_get_fixed_array(ay, &n, 1);
	*len = n;
	return p;
}

int saved_state_blob_get(GVariant *ay, void *out, size_t len, const char *what, GError **error)
{
	if (saved_state_check_type(ay, "ay", what, error) < 0)
		return -EINVAL;
	size_t n;
	const uint8_t *p = saved_state_blob_peek(ay, &n);
	if (n != len)
		return saved_state_fail(error, "%s: %zu bytes, not %zu", what, n, len);
	if (len)
		memcpy(out, p, len);
	return 0;
}

GVariant *saved_state_file_new(GVariant *components)
{
	return g_variant_new("(su@a{sv})", SAVED_STATE_MAGIC, SAVED_STATE_VERSION, components);
}

int saved_state_file_parse(GBytes *data, GVariant **components, GError **error)
{
	gsize len = data ? g_bytes_get_size(data) : 0;
	if (len == 0)
		return saved_state_fail(error, "the file is empty");
	if (len > SAVED_STATE_FILE_MAX)
		return saved_state_fail(error, "%zu bytes, more than the %u a state file may have", (size_t)len,
					SAVED_STATE_FILE_MAX);
	g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(SAVED_STATE_FILE_TYPE),
									     data, FALSE));
	/* Untrusted data in another form reads as defaults: refuse it instead. */
	if (!g_variant_is_normal_form(v))
		return saved_state_fail(error, "not a Vireo saved state (not a serialized %s in normal form)",
					SAVED_STATE_FILE_TYPE);
	const char *magic = NULL;
	guint32 version = 0;
	g_autoptr(GVariant) dict = NULL;
	g_variant_get(v, "(&su@a{sv})", &magic, &version, &dict);
	if (strcmp(magic, SAVED_STATE_MAGIC) != 0)
		return saved_state_fail(error, "not a Vireo saved state (magic \"%.32s\")", magic);
	if (version != SAVED_STATE_VERSION)
		return saved_state_fail(error, "format version %u, this worker reads version %u", version,
					SAVED_STATE_VERSION);
	gsize n = g_variant_n_children(dict);
	if (n > SAVED_STATE_COMPONENTS_MAX)
		return saved_state_fail(error, "%zu components, more than %u", (size_t)n, SAVED_STATE_COMPONENTS_MAX);
	for (gsize i = 0; i < n; i++) {
		const char *a;
		g_variant_get_child(dict, i, "{&sv}", &a, NULL);
		for (gsize j = 0; j < i; j++) {
			const char *b;
			g_variant_get_child(dict, j, "{&sv}", &b, NULL);
			if (strcmp(a, b) == 0)
				return saved_state_fail(error, "component \"%.32s\" appears twice", a);
		}
	}
	*components = g_steal_pointer(&dict);
	return 0;
}

GVariant *saved_state_lookup(GVariant *components, const char *name, const char *type, GError **error)
{
	GVariant *v = g_variant_lookup_value(components, name, NULL);
	if (!v) {
		saved_state_fail(error, "%s: missing", name);
		return NULL;
	}
	if (saved_state_check_type(v, type, name, error) < 0) {
		g_variant_unref(v);
		return NULL;
	}
	return v;
}
