/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host input on its way to a VM: what the console socket, the VNC export and
 * the control socket send, and the worker routes to the synthetic keyboard
 * and mouse of the machine that runs now (a reboot brings new devices; the
 * senders do not notice).
 *
 * Keys are Linux evdev codes (KEY_* of linux/input-event-codes.h), whatever
 * the host's layout: the guest's own keymap gives them meaning, as with a
 * physical keyboard. The pointer is absolute, in pixels of the current
 * display surface.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define INPUT_BUTTON_LEFT    (1u << 0)
#define INPUT_BUTTON_RIGHT   (1u << 1)
#define INPUT_BUTTON_MIDDLE  (1u << 2)
#define INPUT_BUTTON_SIDE    (1u << 3)
#define INPUT_BUTTON_EXTRA   (1u << 4)
#define INPUT_BUTTONS_ALL    0x1fu

/* The synthetic mouse reports 0..INPUT_ABS_MAX on each axis. */
#define INPUT_ABS_MAX        32767u

struct input_sink_ops {
	/* 0; -EINVAL for a code the keyboard cannot send; -ENOTCONN when the
	 * guest's keyboard driver is not connected (yet). */
	int (*key)(void *opaque, uint16_t evdev_code, bool down);
	/* Pointer at (x, y) pixels of the current surface (clamped to it) with
	 * these INPUT_BUTTON_* held; wheel steps, positive up / right. 0,
	 * -ENOTCONN (no mouse driver, or no surface to scale to). */
	int (*pointer)(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel,
		       int32_t hwheel);
	/* Let go of every key this sink holds down, e.g. when the viewer that
	 * pressed them disconnects. May be NULL. */
	void (*release_keys)(void *opaque);
};

struct input_sink {
	const struct input_sink_ops *ops;
	void *opaque;
};

/* Pixel (x, y) of a w x h surface as the mouse's absolute axes. */
static inline uint16_t input_abs_axis(uint32_t v, uint32_t size)
{
	if (size <= 1)
		return 0;
	if (v >= size - 1)
		return INPUT_ABS_MAX;
	return (uint16_t)(((uint64_t)v * INPUT_ABS_MAX + (size - 1) / 2) / (size - 1));
}
