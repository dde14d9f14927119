/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "Type clipboard text": text as the key presses that type it on the
 * guest, through the layout the guest is presumed to use (XKB "us" by
 * default, as vmconnect's basic session assumes). The table comes from
 * libxkbcommon: for every key and modifier combination (none, Shift,
 * AltGr, Shift+AltGr) the character it types; where several type the same,
 * a key of every keyboard (not the ISO 102nd), the fewest modifiers and
 * the lowest key win. Characters the layout cannot type are skipped and
 * counted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONNECT_TEXT_DEFAULT_LAYOUT "us"
#define CONNECT_TEXT_LAYOUT_MAX 64          /* XKB layout name, bytes */
#define CONNECT_TEXT_BYTES_MAX (64u * 1024) /* of text typed at once; the rest is cut */
/* Key events one character can take: two modifiers and the key, each down and up. */
#define CONNECT_TEXT_EVENTS_PER_CHAR 6u

struct connect_text_key {
	uint16_t code;     /* evdev */
	bool down;
};

struct connect_text_map;

/* layout: an XKB layout name ("us", "de", "fr", ...), NULL for the
 * default. NULL when it does not compile (unknown name, no XKB data). */
struct connect_text_map *connect_text_map_new(const char *layout);
void connect_text_map_free(struct connect_text_map *m);

/* The key and modifiers that type the Unicode character cp: true and
 * *code, *shift, *altgr; false when the layout cannot. */
bool connect_text_map_lookup(const struct connect_text_map *m, uint32_t cp, uint16_t *code, bool *shift,
			     bool *altgr);

/*
 * The key events that type text (UTF-8, len bytes; "\n" and "\r\n" are
 * Enter, "\t" is Tab), at most max events into out. 0 and *n, *skipped
 * (characters the layout has no key for); -EILSEQ when text is not
 * UTF-8; -E2BIG when len is above CONNECT_TEXT_BYTES_MAX or out is too
 * small (*n and *skipped untouched then).
 */
int connect_text_to_keys(const struct connect_text_map *m, const char *text, size_t len, struct connect_text_key *out,
			 size_t max, size_t *n, size_t *skipped);
