// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <xkbcommon/xkbcommon.h>

#include "keysym_evdev.h"
#include "keysym_table.h"

/* XKB numbers keys as evdev codes plus 8 (the X11 convention). */
#define KEYSYM_EVDEV_XKB_OFFSET 8u
/* evdev KEY_MAX: codes above it are not keys. */
#define KEYSYM_EVDEV_CODE_MAX 0x2ffu

static int keysym_entry_cmp(const void *a, const void *b)
{
	const struct keysym_entry *x = a, *y = b;
	if (x->keysym != y->keysym)
		return x->keysym < y->keysym ? -1 : 1;
	return (int)x->code - (int)y->code;
}

int keysym_table_from_xkb(const char *layout, const char *variant, struct keysym_entry **out, size_t *count)
{
	if ((layout && strlen(layout) > KEYSYM_EVDEV_NAME_MAX) || (variant && strlen(variant) > KEYSYM_EVDEV_NAME_MAX))
		return -EINVAL;
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	if (!ctx)
		return -ENOMEM;
	/* A layout that does not compile is the caller's to report. */
	xkb_context_set_log_level(ctx, XKB_LOG_LEVEL_CRITICAL);
	/* Only the layout comes from the caller: no environment, no user config. */
	struct xkb_rule_names names = {
		.rules = "evdev",
		.model = "pc105",
		.layout = layout && *layout ? layout : KEYSYM_EVDEV_DEFAULT_LAYOUT,
		.variant = variant && *variant ? variant : NULL,
	};
	struct xkb_keymap *km = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (!km) {
		xkb_context_unref(ctx);
		return -EINVAL;
	}
	GArray *all = g_array_new(FALSE, FALSE, sizeof(struct keysym_entry));
	xkb_keycode_t min = xkb_keymap_min_keycode(km), max = xkb_keymap_max_keycode(km);
	for (xkb_keycode_t kc = MAX(min, KEYSYM_EVDEV_XKB_OFFSET); kc <= max; kc++) {
		uint32_t code = kc - KEYSYM_EVDEV_XKB_OFFSET;
		if (code == 0 || code > KEYSYM_EVDEV_CODE_MAX)
			continue;
		for (xkb_layout_index_t l = 0; l < xkb_keymap_num_layouts_for_key(km, kc); l++) {
			for (xkb_level_index_t lv = 0; lv < xkb_keymap_num_levels_for_key(km, kc, l); lv++) {
				const xkb_keysym_t *syms;
				int n = xkb_keymap_key_get_syms_by_level(km, kc, l, lv, &syms);
				for (int i = 0; i < n; i++) {
					if (syms[i] == XKB_KEY_NoSymbol)
						continue;
					struct keysym_entry e = { syms[i], (uint16_t)code };
					g_array_append_val(all, e);
				}
			}
		}
	}
	xkb_keymap_unref(km);
	xkb_context_unref(ctx);

	/* Sorted by keysym then code: the first of each keysym is its lowest code. */
	g_array_sort(all, keysym_entry_cmp);
	struct keysym_entry *t = g_new(struct keysym_entry, MAX(all->len, 1u));
	size_t k = 0;
	for (guint i = 0; i < all->len; i++) {
		const struct keysym_entry *e = &g_array_index(all, struct keysym_entry, i);
		if (k && t[k - 1].keysym == e->keysym)
			continue;
		t[k++] = *e;
	}
	g_array_unref(all);
	*out = t;
	*count = k;
	return 0;
}
