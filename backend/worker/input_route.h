/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's input route: the struct input_sink_ops (vsp/input.h) that the
 * console socket, the VNC export and the control socket send host input
 * to. It outlives the machines and reaches the synthetic keyboard and mouse
 * of the one that runs now; between boots every call says -ENOTCONN. The
 * pointer arrives in pixels of the display's current surface and leaves as
 * the mouse's absolute axes.
 *
 * Any thread may call the ops; set_devices waits for calls in progress, so
 * once it returns nothing reaches the old devices.
 */
#pragma once

#include "vmbus_devices.h"
#include "vsp/display.h"
#include "vsp/input.h"

struct input_route;

/* opaque: a struct input_route. */
extern const struct input_sink_ops input_route_ops;

#define INPUT_ROUTE_COMMANDS "pointer X Y [BUTTONS]"

/* display: the screen whose pixels the pointer is given in (borrowed). */
struct input_route *input_route_new(struct display *display);
void input_route_free(struct input_route *r);

/* The devices of the machine that runs now, or NULL when it goes away
 * (before it is destroyed). */
void input_route_set_devices(struct input_route *r, struct vmbus_devices *d);

/* "pointer X Y [BUTTONS]" (surface pixels): the reply, or NULL when the
 * command is not the route's. */
char *input_route_control(struct input_route *r, const char *command);
