/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SDL scancodes (USB HID keyboard usages: where a key is, whatever the
 * host's layout) to Linux evdev key codes (what the console protocol
 * carries). The guest's own keymap gives the code its meaning, as with a
 * physical keyboard plugged into it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <SDL2/SDL_scancode.h>

/* The evdev KEY_* code of sc, or 0 when evdev has no such key. */
uint16_t connect_keymap_to_evdev(SDL_Scancode sc);

/* The scancode SDL gives the key with this evdev code on a Linux host
 * (SDL_SCANCODE_UNKNOWN when none does). */
SDL_Scancode connect_keymap_from_evdev(uint16_t code);

/* Scancodes that share their evdev code with another one (NonUS hash is
 * the backslash key in evdev, SysReq is Print Screen, ...). */
bool connect_keymap_is_alias(SDL_Scancode sc);
