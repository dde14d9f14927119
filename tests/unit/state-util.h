/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the saved-state tests: take a state a component saved, change
 * one piece of it, and hand it to the restore, which must refuse it with a
 * message (and not crash). Tuples and arrays are rebuilt child by child.
 */
#pragma once

#include <string.h>

#include <glib.h>

/* v with child i replaced by child (consumed: a floating value or a
 * reference the caller hands over). A new floating value. */
static inline GVariant *state_with(GVariant *v, gsize i, GVariant *child)
{
	gsize n = g_variant_n_children(v);
	g_assert_cmpuint(i, <, n);
	GVariant **c = g_new(GVariant *, n);
	g_variant_take_ref(child);
	for (gsize k = 0; k < n; k++)
		c[k] = k == i ? g_variant_ref(child) : g_variant_get_child_value(v, k);
	GVariant *out;
	if (g_variant_is_of_type(v, G_VARIANT_TYPE_TUPLE)) {
		out = g_variant_new_tuple(c, n);
	} else if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT)) {
		out = g_variant_new_variant(c[0]);
	} else if (g_variant_is_of_type(v, G_VARIANT_TYPE_MAYBE)) {
		out = g_variant_new_maybe(NULL, c[0]);
	} else {
		g_autoptr(GVariantType) elem = g_variant_type_copy(g_variant_type_element(g_variant_get_type(v)));
		out = g_variant_new_array(elem, c, n);
	}
	for (gsize k = 0; k < n; k++)
		g_variant_unref(c[k]);
	g_free(c);
	g_variant_unref(child);
	return out;
}

/* The array v with child (consumed, as above) added at its end. */
static inline GVariant *state_append(GVariant *v, GVariant *child)
{
	gsize n = g_variant_n_children(v);
	GVariant **c = g_new(GVariant *, n + 1);
	for (gsize k = 0; k < n; k++)
		c[k] = g_variant_get_child_value(v, k);
	c[n] = g_variant_take_ref(child);
	g_autoptr(GVariantType) elem = g_variant_type_copy(g_variant_type_element(g_variant_get_type(v)));
	GVariant *out = g_variant_new_array(elem, c, n + 1);
	for (gsize k = 0; k <= n; k++)
		g_variant_unref(c[k]);
	g_free(c);
	return out;
}

/* The array v without child i. */
static inline GVariant *state_without(GVariant *v, gsize i)
{
	gsize n = g_variant_n_children(v);
	GVariant **c = g_new(GVariant *, n);
	gsize m = 0;
	for (gsize k = 0; k < n; k++)
		if (k != i)
			c[m++] = g_variant_get_child_value(v, k);
	g_autoptr(GVariantType) elem = g_variant_type_copy(g_variant_type_element(g_variant_get_type(v)));
	GVariant *out = g_variant_new_array(elem, c, m);
	for (gsize k = 0; k < m; k++)
		g_variant_unref(c[k]);
	g_free(c);
	return out;
}

/* The value at a path of child indexes, -1 ending it (a new reference). */
static inline GVariant *state_at(GVariant *v, const int *path)
{
	GVariant *cur = g_variant_ref(v);
	for (const int *p = path; *p >= 0; p++) {
		GVariant *next = g_variant_get_child_value(cur, (gsize)*p);
		g_variant_unref(cur);
		cur = next;
	}
	return cur;
}

/* v with the value at path replaced by child (consumed, as above); floating. */
static inline GVariant *state_set(GVariant *v, const int *path, GVariant *child)
{
	if (path[0] < 0)
		return child;
	g_autoptr(GVariant) sub = g_variant_get_child_value(v, (gsize)path[0]);
	return state_with(v, (gsize)path[0], state_set(sub, path + 1, child));
}

#define PATH(...) ((const int[]){ __VA_ARGS__, -1 })

/* A restore refused it: an error was set, its message has `needle`. */
#define assert_refused(r, err, needle) do { \
	g_assert_cmpint((r), <, 0); \
	g_assert_nonnull(err); \
	g_test_message("refused as expected: %s", (err)->message); \
	if (!strstr((err)->message, (needle))) \
		g_error("refusal \"%s\" does not say \"%s\"", (err)->message, (needle)); \
	g_clear_error(&(err)); \
} while (0)
