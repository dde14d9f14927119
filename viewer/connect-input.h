/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host keys and buttons on their way to the guest: which evdev code a key
 * event sends, which key combinations stay with the viewer (vmconnect's:
 * Ctrl+Alt+Left releases the keyboard, Ctrl+Alt+End is Ctrl+Alt+Del,
 * Ctrl+Alt+Pause toggles full screen), and what the guest holds down, so
 * that it can be let go when the window loses the keyboard. Pure: no SDL
 * calls, only its scancode and modifier values.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL2/SDL_keycode.h>
#include <SDL2/SDL_scancode.h>

#define CONNECT_INPUT_CODES 0x300u            /* evdev codes 0..KEY_MAX */
#define CONNECT_RELEASE_HINT "Ctrl+Alt+Left"  /* shown in the title while grabbed */

enum connect_input_action {
	CONNECT_INPUT_NONE,          /* nothing to do (a repeat, an unmapped key, a swallowed release) */
	CONNECT_INPUT_SEND,          /* send *code, pressed or released */
	CONNECT_INPUT_RELEASE_GRAB,
	CONNECT_INPUT_CTRL_ALT_DEL,
	CONNECT_INPUT_FULLSCREEN,
};

struct connect_input {
	uint8_t held[CONNECT_INPUT_CODES / 8];        /* codes the guest has pressed */
	uint8_t swallowed[SDL_NUM_SCANCODES / 8];      /* shortcut keys whose release is ours too */
};

void connect_input_init(struct connect_input *in);

/* A key event: what to do, and with CONNECT_INPUT_SEND the code in *code. */
enum connect_input_action connect_input_key(struct connect_input *in, SDL_Scancode sc, uint16_t mod, bool down,
					    bool repeat, uint16_t *code);

/* Codes the guest holds, into codes (at most max), forgotten here: the
 * caller sends their release. Returns how many. */
size_t connect_input_release_all(struct connect_input *in, uint16_t *codes, size_t max);

/* Record a press or release the viewer sends by itself (Ctrl+Alt+Del,
 * typed text), so that release_all knows about it. */
void connect_input_note(struct connect_input *in, uint16_t code, bool down);

/* SDL_BUTTON_* as CONSOLE_BUTTON_* (0 for buttons the protocol lacks). */
uint32_t connect_input_button(uint8_t sdl_button);
