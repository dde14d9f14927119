// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "keysym_evdev.h"
#include "keysym_table.h"

struct keysym_map {
	struct keysym_entry *entries;   /* sorted by keysym */
	size_t n;
};

struct keysym_map *keysym_map_new(const char *layout, const char *variant)
{
	struct keysym_map *m = g_new0(struct keysym_map, 1);
	if (!layout) {
		/* The default layout's table was made from XKB when the worker was built. */
		m->entries = g_memdup2(keysym_table_us, MAX(keysym_table_us_len, 1u) * sizeof(keysym_table_us[0]));
		m->n = keysym_table_us_len;
		return m;
	}
	if (keysym_table_from_xkb(layout, variant, &m->entries, &m->n) < 0) {
		g_free(m);
		return NULL;
	}
	return m;
}

void keysym_map_free(struct keysym_map *m)
{
	if (!m)
		return;
	g_free(m->entries);
	g_free(m);
}

static int keysym_key_cmp(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key;
	const struct keysym_entry *e = elem;
	return k < e->keysym ? -1 : k > e->keysym ? 1 : 0;
}

int keysym_map_lookup(const struct keysym_map *m, uint32_t keysym)
{
	const struct keysym_entry *e = bsearch(&keysym, m->entries, m->n, sizeof(*e), keysym_key_cmp);
	return e ? e->code : -ENOENT;
}

unsigned keysym_map_size(const struct keysym_map *m)
{
	return (unsigned)m->n;
}

bool keysym_map_equal(const struct keysym_map *a, const struct keysym_map *b)
{
	return a->n == b->n && memcmp(a->entries, b->entries, a->n * sizeof(a->entries[0])) == 0;
}
