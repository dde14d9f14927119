/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keysym -> evdev tables: built from an XKB keymap (keysym_xkb.c, at run
 * time for --vnc-keymap, and at build time by keysym_gen.c for the default
 * "us" layout, compiled in as keysym_table_us so that the default needs no
 * XKB data on the machine that runs the worker).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct keysym_entry {
	uint32_t keysym;
	uint16_t code;
};

/* Sorted by keysym, one entry each (the lowest evdev code that produces
 * it); *out is g_free'd by the caller. -EINVAL when the layout does not
 * compile, or its names are longer than KEYSYM_EVDEV_NAME_MAX. */
int keysym_table_from_xkb(const char *layout, const char *variant, struct keysym_entry **out, size_t *n);

extern const struct keysym_entry keysym_table_us[];
extern const size_t keysym_table_us_len;
