// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <glib.h>

#include "input_route.h"

struct input_route {
	struct display *display;
	pthread_mutex_t lock;        /* held across each call into the devices */
	struct vmbus_devices *devices;
};

static int route_key(void *opaque, uint16_t evdev_code, bool down)
{
	struct input_route *r = opaque;
	pthread_mutex_lock(&r->lock);
	int e = r->devices ? vmbus_devices_key(r->devices, evdev_code, down) : -ENOTCONN;
	pthread_mutex_unlock(&r->lock);
	return e;
}

static int route_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	struct input_route *r = opaque;
	uint32_t w, h;
	if (!display_get_size(r->display, &w, &h))
		return -ENOTCONN;
	/* input_abs_axis puts the last pixel, and anything past it, at the
	 * axis' end: a pointer dragged off the surface stays on its edge. */
	uint16_t ax = input_abs_axis(x, w), ay = input_abs_axis(y, h);
	pthread_mutex_lock(&r->lock);
	int e = r->devices ? vmbus_devices_pointer_abs(r->devices, ax, ay, buttons, wheel, hwheel) : -ENOTCONN;
	pthread_mutex_unlock(&r->lock);
	return e;
}

static void route_release_keys(void *opaque)
{
	struct input_route *r = opaque;
	pthread_mutex_lock(&r->lock);
	if (r->devices)
		vmbus_devices_release_keys(r->devices);
	pthread_mutex_unlock(&r->lock);
}

const struct input_sink_ops input_route_ops = {
	.key = route_key,
	.pointer = route_pointer,
	.release_keys = route_release_keys,
};

struct input_route *input_route_new(struct display *display)
{
	struct input_route *r = g_new0(struct input_route, 1);
	r->display = display;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void input_route_free(struct input_route *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	g_free(r);
}

void input_route_set_devices(struct input_route *r, struct vmbus_devices *d)
{
	pthread_mutex_lock(&r->lock);
	r->devices = d;
	pthread_mutex_unlock(&r->lock);
}

static bool route_parse_u32(const char *s, uint32_t *out)
{
	if (!s || !g_ascii_isdigit(s[0]))
		return false;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	char *end;
	errno = 0;
	unsigned long long v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (errno || *end || end == (hex ? s + 2 : s) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

char *input_route_control(struct input_route *r, const char *command)
{
	g_auto(GStrv) w = g_strsplit(command, " ", -1);
	guint n = g_strv_length(w);
	if (n == 0 || !g_str_equal(w[0], "pointer"))
		return NULL;
	uint32_t x, y, buttons = 0;
	if (n < 3 || n > 4 || !route_parse_u32(w[1], &x) || !route_parse_u32(w[2], &y) ||
	    (n == 4 && (!route_parse_u32(w[3], &buttons) || (buttons & ~INPUT_BUTTONS_ALL))))
		return g_strdup("error usage: pointer X Y [BUTTONS] (surface pixels; BUTTONS a mask of 5 bits, "
				"1 left, 2 right, 4 middle, 8 side, 16 extra)");
	uint32_t sw, sh;
	if (!display_get_size(r->display, &sw, &sh))
		return g_strdup("error no display surface to place the pointer on (no video driver yet); "
				"pointer-abs takes the mouse's own axes");
	int e = input_route_ops.pointer(r, x, y, buttons, 0, 0);
	if (e == -ENOTCONN)
		return g_strdup("error the guest's mouse driver is not connected (no hid_hyperv, or still booting)");
	if (e < 0)
		return g_strdup_printf("error pointer: %s", g_strerror(-e));
	return g_strdup_printf("ok abs=%u,%u surface=%ux%u", input_abs_axis(x, sw), input_abs_axis(y, sh), sw, sh);
}
