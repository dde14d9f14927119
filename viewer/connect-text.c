// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <linux/input-event-codes.h>
#include <xkbcommon/xkbcommon.h>

#include "connect-text.h"

/* XKB numbers keys as evdev codes plus 8 (the X11 convention). */
#define TEXT_XKB_EVDEV_OFFSET 8u
#define TEXT_CODE_MAX 0x2ffu

struct text_entry {
	uint32_t keysym;
	uint16_t code;
	uint8_t shift, altgr;
};

struct connect_text_map {
	struct text_entry *e;   /* sorted by keysym */
	size_t n;
};

static int text_entry_cmp(const void *a, const void *b)
{
	const struct text_entry *x = a, *y = b;
	return x->keysym < y->keysym ? -1 : x->keysym > y->keysym ? 1 : 0;
}

/* The keysym each key types with the modifiers of mask. */
static void text_collect(struct xkb_keymap *km, struct xkb_state *st, xkb_mod_mask_t mask, bool shift, bool altgr,
			 GArray *out)
{
	xkb_state_update_mask(st, mask, 0, 0, 0, 0, 0);
	for (xkb_keycode_t kc = xkb_keymap_min_keycode(km); kc <= xkb_keymap_max_keycode(km); kc++) {
		if (kc <= TEXT_XKB_EVDEV_OFFSET || kc - TEXT_XKB_EVDEV_OFFSET > TEXT_CODE_MAX)
			continue;
		xkb_keysym_t sym = xkb_state_key_get_one_sym(st, kc);
		if (sym == XKB_KEY_NoSymbol)
			continue;
		struct text_entry e = { sym, (uint16_t)(kc - TEXT_XKB_EVDEV_OFFSET), shift, altgr };
		g_array_append_val(out, e);
	}
}

/* The easiest way to type a keysym first: a key every keyboard has (the
 * 102nd key is only on ISO ones), then the fewest modifiers, then the
 * lowest code (the main block before the keypad and extra keys). */
static int text_rank(const struct text_entry *e)
{
	return (e->code == KEY_102ND) * 8 + (e->shift + e->altgr) * 2 + e->altgr;
}

static int text_candidate_cmp(const void *a, const void *b)
{
	const struct text_entry *x = a, *y = b;
	if (x->keysym != y->keysym)
		return x->keysym < y->keysym ? -1 : 1;
	if (text_rank(x) != text_rank(y))
		return text_rank(x) - text_rank(y);
	return (int)x->code - (int)y->code;
}

struct connect_text_map *connect_text_map_new(const char *layout)
{
	if (layout && strlen(layout) > CONNECT_TEXT_LAYOUT_MAX)
		return NULL;
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	if (!ctx)
		return NULL;
	xkb_context_set_log_level(ctx, XKB_LOG_LEVEL_CRITICAL);
	struct xkb_rule_names names = { .rules = "evdev", .model = "pc105",
					.layout = layout && *layout ? layout : CONNECT_TEXT_DEFAULT_LAYOUT };
	struct xkb_keymap *km = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	xkb_context_unref(ctx);
	if (!km)
		return NULL;
	struct xkb_state *st = xkb_state_new(km);
	if (!st) {
		xkb_keymap_unref(km);
		return NULL;
	}
	xkb_mod_index_t shift = xkb_keymap_mod_get_index(km, XKB_MOD_NAME_SHIFT);
	/* AltGr is level 3, which XKB's evdev rules put on Mod5. */
	xkb_mod_index_t l3 = xkb_keymap_mod_get_index(km, "Mod5");
	xkb_mod_mask_t ms = shift == XKB_MOD_INVALID ? 0 : 1u << shift, m3 = l3 == XKB_MOD_INVALID ? 0 : 1u << l3;

	GArray *all = g_array_new(FALSE, FALSE, sizeof(struct text_entry));
	text_collect(km, st, 0, false, false, all);
	if (ms)
		text_collect(km, st, ms, true, false, all);
	if (m3)
		text_collect(km, st, m3, false, true, all);
	if (ms && m3)
		text_collect(km, st, ms | m3, true, true, all);
	xkb_state_unref(st);
	xkb_keymap_unref(km);

	/* One entry per keysym, its best way. */
	g_array_sort(all, text_candidate_cmp);
	struct connect_text_map *m = g_new0(struct connect_text_map, 1);
	m->e = g_new(struct text_entry, all->len ? all->len : 1);
	for (guint i = 0; i < all->len; i++) {
		const struct text_entry *e = &g_array_index(all, struct text_entry, i);
		if (m->n && m->e[m->n - 1].keysym == e->keysym)
			continue;
		m->e[m->n++] = *e;
	}
	g_array_unref(all);
	return m;
}

void connect_text_map_free(struct connect_text_map *m)
{
	if (!m)
		return;
	g_free(m->e);
	g_free(m);
}

static uint32_t text_keysym(uint32_t cp)
{
	switch (cp) {
	case '\n':
	case '\r':
		return XKB_KEY_Return;
	case '\t':
		return XKB_KEY_Tab;
	case '\b':
		return XKB_KEY_BackSpace;
	case 0x1b:
		return XKB_KEY_Escape;
	default:
		return xkb_utf32_to_keysym(cp);
	}
}

bool connect_text_map_lookup(const struct connect_text_map *m, uint32_t cp, uint16_t *code, bool *shift, bool *altgr)
{
	struct text_entry key = { .keysym = text_keysym(cp) };
	if (key.keysym == XKB_KEY_NoSymbol)
		return false;
	const struct text_entry *e = bsearch(&key, m->e, m->n, sizeof(*e), text_entry_cmp);
	if (!e)
		return false;
	*code = e->code;
	*shift = e->shift;
	*altgr = e->altgr;
	return true;
}

int connect_text_to_keys(const struct connect_text_map *m, const char *text, size_t len, struct connect_text_key *out,
			 size_t max, size_t *n, size_t *skipped)
{
	if (len > CONNECT_TEXT_BYTES_MAX)
		return -E2BIG;
	if (!g_utf8_validate_len(text, len, NULL))
		return -EILSEQ;
	size_t k = 0, skip = 0;
	for (const char *p = text, *end = text + len; p < end; p = g_utf8_next_char(p)) {
		uint32_t cp = g_utf8_get_char(p);
		if (cp == '\r' && p + 1 < end && p[1] == '\n')
			continue;   /* CRLF is one Enter */
		uint16_t code;
		bool shift, altgr;
		if (!connect_text_map_lookup(m, cp, &code, &shift, &altgr)) {
			skip++;
			continue;
		}
		if (max - k < CONNECT_TEXT_EVENTS_PER_CHAR)
			return -E2BIG;
		if (shift)
			out[k++] = (struct connect_text_key){ KEY_LEFTSHIFT, true };
		if (altgr)
			out[k++] = (struct connect_text_key){ KEY_RIGHTALT, true };
		out[k++] = (struct connect_text_key){ code, true };
		out[k++] = (struct connect_text_key){ code, false };
		if (altgr)
			out[k++] = (struct connect_text_key){ KEY_RIGHTALT, false };
		if (shift)
			out[k++] = (struct connect_text_key){ KEY_LEFTSHIFT, false };
	}
	*n = k;
	*skipped = skip;
	return 0;
}
