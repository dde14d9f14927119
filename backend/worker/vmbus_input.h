/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control-socket commands of the synthetic keyboard and mouse (one
 * line each; CODE is a decimal evdev code or a KEY_ name of the keyboard's
 * table, X and Y are the mouse's absolute axes, 0..32767):
 *
 *   key CODE down|up|press     keys CODE...    ctrl-alt-del    release-keys
 *   pointer-abs X Y [BUTTONS]  wheel N [H]     input (the devices' state)
 *
 * `pointer X Y [BUTTONS]` in surface pixels is the input route's
 * (input_route.h): it scales to these axes.
 */
#pragma once

#include "vsp/synth_kbd.h"
#include "vsp/synth_mouse.h"

/* Codes one `keys` command presses (each is a press and a release). */
#define VMBUS_INPUT_KEYS_MAX (SYNTH_KBD_BATCH_MAX / 2u)

#define VMBUS_INPUT_COMMANDS "key CODE down|up|press keys CODE... ctrl-alt-del release-keys" \
	" pointer-abs X Y [BUTTONS] wheel N [H] input"

/* The reply to one of the commands above, or NULL when command is none of them. */
char *vmbus_input_control(struct synth_kbd *kbd, struct synth_mouse *mouse, const char *command);
