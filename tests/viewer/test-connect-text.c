// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Type clipboard text (viewer/connect-text.c): characters become the key
 * presses that type them on the guest's layout, with Shift or AltGr held
 * around the key where the layout needs them; what it cannot type is
 * skipped and counted; hostile text is refused whole.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include <glib.h>

#include "connect-text.h"

#define S KEY_LEFTSHIFT
#define G KEY_RIGHTALT

struct ev {
	uint16_t code;
	int down;
};

/* text on layout: exactly these events (code, down). */
static void expect(struct connect_text_map *m, const char *text, const struct ev *want, size_t nwant,
		   size_t want_skipped)
{
	struct connect_text_key out[256];
	size_t n = 999, skipped = 999;
	g_assert_cmpint(connect_text_to_keys(m, text, strlen(text), out, G_N_ELEMENTS(out), &n, &skipped), ==, 0);
	g_assert_cmpuint(skipped, ==, want_skipped);
	g_assert_cmpuint(n, ==, nwant);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpuint(out[i].code, ==, want[i].code);
		g_assert_cmpint(out[i].down, ==, want[i].down);
	}
}

static void lookup(struct connect_text_map *m, uint32_t cp, uint16_t code, bool shift, bool altgr)
{
	uint16_t c = 0;
	bool s = !shift, g = !altgr;
	g_assert_true(connect_text_map_lookup(m, cp, &c, &s, &g));
	g_assert_cmpuint(c, ==, code);
	g_assert_cmpint(s, ==, shift);
	g_assert_cmpint(g, ==, altgr);
}

static void test_us(void)
{
	struct connect_text_map *m = connect_text_map_new(NULL);
	g_assert_nonnull(m);
	lookup(m, 'a', KEY_A, false, false);
	lookup(m, 'A', KEY_A, true, false);
	lookup(m, 'z', KEY_Z, false, false);
	lookup(m, '1', KEY_1, false, false);
	lookup(m, '!', KEY_1, true, false);
	lookup(m, '@', KEY_2, true, false);
	lookup(m, '-', KEY_MINUS, false, false);
	lookup(m, '_', KEY_MINUS, true, false);
	lookup(m, '~', KEY_GRAVE, true, false);
	lookup(m, '|', KEY_BACKSLASH, true, false);
	/* "<" is Shift+comma on every keyboard, not the ISO key pc105 also has */
	lookup(m, '<', KEY_COMMA, true, false);
	lookup(m, '*', KEY_8, true, false);
	lookup(m, '/', KEY_SLASH, false, false);
	lookup(m, ' ', KEY_SPACE, false, false);
	lookup(m, '\n', KEY_ENTER, false, false);
	lookup(m, '\t', KEY_TAB, false, false);
	uint16_t c;
	bool s, g;
	g_assert_false(connect_text_map_lookup(m, 0x00e9, &c, &s, &g));   /* é */
	g_assert_false(connect_text_map_lookup(m, 0x1f600, &c, &s, &g));  /* an emoji */
	g_assert_false(connect_text_map_lookup(m, 0, &c, &s, &g));

	static const struct ev hi[] = {
		{ S, 1 }, { KEY_H, 1 }, { KEY_H, 0 }, { S, 0 }, { KEY_I, 1 }, { KEY_I, 0 },
		{ S, 1 }, { KEY_1, 1 }, { KEY_1, 0 }, { S, 0 }, { KEY_ENTER, 1 }, { KEY_ENTER, 0 },
	};
	expect(m, "Hi!\n", hi, G_N_ELEMENTS(hi), 0);
	/* CRLF is one Enter, a lone CR one too */
	static const struct ev crlf[] = { { KEY_ENTER, 1 }, { KEY_ENTER, 0 }, { KEY_ENTER, 1 }, { KEY_ENTER, 0 } };
	expect(m, "\r\n\r", crlf, G_N_ELEMENTS(crlf), 0);
	/* what the layout has no key for is skipped, the rest typed */
	static const struct ev cafe[] = { { KEY_C, 1 }, { KEY_C, 0 }, { KEY_A, 1 }, { KEY_A, 0 },
					   { KEY_F, 1 }, { KEY_F, 0 } };
	expect(m, "caf\xc3\xa9", cafe, G_N_ELEMENTS(cafe), 1);
	expect(m, "", NULL, 0, 0);
	connect_text_map_free(m);
}

static void test_other_layouts(void)
{
	struct connect_text_map *de = connect_text_map_new("de");
	g_assert_nonnull(de);
	lookup(de, 'z', KEY_Y, false, false);
	lookup(de, 'y', KEY_Z, false, false);
	lookup(de, '@', KEY_Q, false, true);
	lookup(de, 0x00fc, KEY_LEFTBRACE, false, false);   /* ü */
	lookup(de, '<', KEY_102ND, false, false);          /* only the ISO key types it */
	static const struct ev at[] = { { G, 1 }, { KEY_Q, 1 }, { KEY_Q, 0 }, { G, 0 } };
	expect(de, "@", at, G_N_ELEMENTS(at), 0);
	connect_text_map_free(de);

	struct connect_text_map *fr = connect_text_map_new("fr");
	g_assert_nonnull(fr);
	lookup(fr, 'a', KEY_Q, false, false);
	lookup(fr, 0x00e9, KEY_2, false, false);   /* é */
	lookup(fr, '2', KEY_2, true, false);
	connect_text_map_free(fr);

	g_assert_null(connect_text_map_new("no-such-layout"));
	char longname[CONNECT_TEXT_LAYOUT_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	g_assert_null(connect_text_map_new(longname));
}

static void test_hostile(void)
{
	struct connect_text_map *m = connect_text_map_new("us");
	struct connect_text_key out[64];
	size_t n = 77, skipped = 77;
	/* not UTF-8: overlong, lone continuation, truncated, surrogate */
	static const char *const bad[] = { "\xc0\xaf", "a\x80", "\xe2\x82", "\xed\xa0\x80" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(connect_text_to_keys(m, bad[i], strlen(bad[i]), out, G_N_ELEMENTS(out), &n, &skipped), ==,
				-EILSEQ);
	/* too long for one go */
	size_t big = CONNECT_TEXT_BYTES_MAX + 1;
	char *text = g_malloc(big);
	memset(text, 'a', big);
	g_assert_cmpint(connect_text_to_keys(m, text, big, out, G_N_ELEMENTS(out), &n, &skipped), ==, -E2BIG);
	/* more events than room: nothing reported */
	g_assert_cmpint(connect_text_to_keys(m, text, 100, out, G_N_ELEMENTS(out), &n, &skipped), ==, -E2BIG);
	g_assert_cmpuint(n, ==, 77);
	g_assert_cmpuint(skipped, ==, 77);
	/* the longest text fits the buffer the viewer gives it */
	size_t max = CONNECT_TEXT_BYTES_MAX * CONNECT_TEXT_EVENTS_PER_CHAR;
	struct connect_text_key *all = g_new(struct connect_text_key, max);
	memset(text, 'A', CONNECT_TEXT_BYTES_MAX);
	g_assert_cmpint(connect_text_to_keys(m, text, CONNECT_TEXT_BYTES_MAX, all, max, &n, &skipped), ==, 0);
	g_assert_cmpuint(n, ==, CONNECT_TEXT_BYTES_MAX * 4u);
	g_free(all);
	g_free(text);
	/* a NUL inside is not text */
	g_assert_cmpint(connect_text_to_keys(m, "a\0b", 3, out, G_N_ELEMENTS(out), &n, &skipped), ==, -EILSEQ);
	connect_text_map_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/connect-text/us", test_us);
	g_test_add_func("/connect-text/other-layouts", test_other_layouts);
	g_test_add_func("/connect-text/hostile", test_hostile);
	return g_test_run();
}
