// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <SDL2/SDL_mouse.h>

#include "console.h"
#include "connect-input.h"
#include "connect-keymap.h"

static bool bit_get(const uint8_t *set, unsigned i)
{
	return set[i / 8] & (1u << (i % 8));
}

static void bit_put(uint8_t *set, unsigned i, bool on)
{
	if (on)
		set[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		set[i / 8] &= (uint8_t)~(1u << (i % 8));
}

void connect_input_init(struct connect_input *in)
{
	memset(in, 0, sizeof(*in));
}

void connect_input_note(struct connect_input *in, uint16_t code, bool down)
{
	if (code && code < CONNECT_INPUT_CODES)
		bit_put(in->held, code, down);
}

static enum connect_input_action connect_input_shortcut(SDL_Scancode sc, uint16_t mod)
{
	if (!(mod & KMOD_CTRL) || !(mod & KMOD_ALT))
		return CONNECT_INPUT_NONE;
	switch (sc) {
	case SDL_SCANCODE_LEFT:
		return CONNECT_INPUT_RELEASE_GRAB;
	case SDL_SCANCODE_END:
		return CONNECT_INPUT_CTRL_ALT_DEL;
	case SDL_SCANCODE_PAUSE:
		return CONNECT_INPUT_FULLSCREEN;
	default:
		return CONNECT_INPUT_NONE;
	}
}

enum connect_input_action connect_input_key(struct connect_input *in, SDL_Scancode sc, uint16_t mod, bool down,
					    bool repeat, uint16_t *code)
{
	if ((unsigned)sc >= SDL_NUM_SCANCODES)
		return CONNECT_INPUT_NONE;
	if (down) {
		enum connect_input_action a = connect_input_shortcut(sc, mod);
		if (a != CONNECT_INPUT_NONE) {
			bit_put(in->swallowed, sc, true);
			return repeat ? CONNECT_INPUT_NONE : a;
		}
	} else if (bit_get(in->swallowed, sc)) {
		bit_put(in->swallowed, sc, false);
		return CONNECT_INPUT_NONE;
	}
	uint16_t c = connect_keymap_to_evdev(sc);
	/* The guest repeats a held key by itself. */
	if (c == 0 || repeat)
		return CONNECT_INPUT_NONE;
	/* A release the guest never saw pressed (the key went down before the
	 * window had the keyboard) is not news to it. */
	if (!down && !bit_get(in->held, c))
		return CONNECT_INPUT_NONE;
	bit_put(in->held, c, down);
	*code = c;
	return CONNECT_INPUT_SEND;
}

size_t connect_input_release_all(struct connect_input *in, uint16_t *codes, size_t max)
{
	size_t n = 0;
	for (unsigned c = 1; c < CONNECT_INPUT_CODES && n < max; c++) {
		if (!bit_get(in->held, c))
			continue;
		codes[n++] = (uint16_t)c;
		bit_put(in->held, c, false);
	}
	return n;
}

uint32_t connect_input_button(uint8_t sdl_button)
{
	switch (sdl_button) {
	case SDL_BUTTON_LEFT:
		return CONSOLE_BUTTON_LEFT;
	case SDL_BUTTON_RIGHT:
		return CONSOLE_BUTTON_RIGHT;
	case SDL_BUTTON_MIDDLE:
		return CONSOLE_BUTTON_MIDDLE;
	case SDL_BUTTON_X1:
		return CONSOLE_BUTTON_SIDE;
	case SDL_BUTTON_X2:
		return CONSOLE_BUTTON_EXTRA;
	default:
		return 0;
	}
}
