/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * X keysyms (what VNC clients send) to Linux evdev key codes (what the
 * guest's keyboard gets), read out of an XKB keymap compiled with
 * libxkbcommon: for every key and every shift level of the layout, the
 * keysyms it produces map to that key's evdev code (XKB keycode - 8). A
 * shifted keysym ("A", "exclam") maps to its unshifted key, because a VNC
 * client sends the Shift key itself. When several keys produce a keysym,
 * the lowest evdev code wins: the main block before the extra keys of
 * some keyboards (KEY_102ND, KEY_KPCOMMA, ...).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KEYSYM_EVDEV_DEFAULT_LAYOUT "us"
#define KEYSYM_EVDEV_NAME_MAX 64    /* layout and variant names */

struct keysym_map;

/* layout, variant (NULL or ""): XKB names, as in
 * /usr/share/X11/xkb/rules/evdev.lst, compiled now (NULL when they do not
 * compile). layout NULL: the "us" table made when the worker was built,
 * which needs no XKB data here. */
struct keysym_map *keysym_map_new(const char *layout, const char *variant);
void keysym_map_free(struct keysym_map *m);

/* The evdev code for keysym, or -ENOENT. */
int keysym_map_lookup(const struct keysym_map *m, uint32_t keysym);
/* How many keysyms the map knows. */
unsigned keysym_map_size(const struct keysym_map *m);
bool keysym_map_equal(const struct keysym_map *a, const struct keysym_map *b);
