// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker's input route (backend/worker/input_route.c) with stand-ins
 * for the machine's devices (the vmbus_devices_* calls below): keys and
 * pointer reports reach the devices of the machine that runs now, or say
 * -ENOTCONN; surface pixels become the mouse's axes with input_abs_axis;
 * once set_devices(NULL) returns no call reaches the old devices, however
 * many threads send; the `pointer` control command.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "input_route.h"

/* ---- the devices, as the route sees them ---- */

static struct {
	int key_ret, pointer_ret;
	unsigned keys, pointers, releases;
	uint16_t evdev;
	bool down;
	uint16_t x, y;
	uint32_t buttons;
	int32_t wheel, hwheel;
	struct vmbus_devices *last;
	atomic_bool allowed;         /* a call now is inside set_devices' window */
	atomic_uint violations;
} fake;

int vmbus_devices_key(struct vmbus_devices *d, uint16_t evdev, bool down)
{
	if (!atomic_load(&fake.allowed))
		atomic_fetch_add(&fake.violations, 1);
	fake.keys++;
	fake.evdev = evdev;
	fake.down = down;
	fake.last = d;
	return fake.key_ret;
}

int vmbus_devices_pointer_abs(struct vmbus_devices *d, uint16_t x, uint16_t y, uint32_t buttons, int32_t wheel,
			      int32_t hwheel)
{
	if (!atomic_load(&fake.allowed))
		atomic_fetch_add(&fake.violations, 1);
	fake.pointers++;
	fake.x = x;
	fake.y = y;
	fake.buttons = buttons;
	fake.wheel = wheel;
	fake.hwheel = hwheel;
	fake.last = d;
	return fake.pointer_ret;
}

void vmbus_devices_release_keys(struct vmbus_devices *d)
{
	if (!atomic_load(&fake.allowed))
		atomic_fetch_add(&fake.violations, 1);
	fake.releases++;
	fake.last = d;
}

/* ---- */

static int devices_a, devices_b;
#define DEV_A ((struct vmbus_devices *)&devices_a)
#define DEV_B ((struct vmbus_devices *)&devices_b)

static void set_surface(struct display *d, uint32_t w, uint32_t h)
{
	int fd = memfd_create("surface", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)w * h * 4), ==, 0);
	struct display_surface s = { .memfd = fd, .width = w, .height = h, .stride = w * 4,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(d, &s), ==, 0);
	close(fd);
}

static void test_route(void)
{
	memset(&fake, 0, sizeof(fake));
	struct display *disp = display_new(NULL);
	struct input_route *r = input_route_new(disp);
	const struct input_sink sink = { &input_route_ops, r };
	g_assert_nonnull(sink.ops->release_keys);

	/* Between machines. */
	g_assert_cmpint(sink.ops->key(sink.opaque, KEY_A, true), ==, -ENOTCONN);
	set_surface(disp, 1024, 768);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 1, 2, 0, 0, 0), ==, -ENOTCONN);
	sink.ops->release_keys(sink.opaque);
	g_assert_cmpuint(fake.keys + fake.pointers + fake.releases, ==, 0);

	atomic_store(&fake.allowed, true);
	input_route_set_devices(r, DEV_A);
	g_assert_cmpint(sink.ops->key(sink.opaque, KEY_A, true), ==, 0);
	g_assert_true(fake.last == DEV_A);
	g_assert_cmpuint(fake.evdev, ==, KEY_A);
	g_assert_true(fake.down);
	fake.key_ret = -EINVAL;
	g_assert_cmpint(sink.ops->key(sink.opaque, 999, false), ==, -EINVAL);
	g_assert_false(fake.down);

	/* Pixels to axes: the middle, the far corner, past it, the origin. */
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 512, 384, INPUT_BUTTON_LEFT, 2, -3), ==, 0);
	g_assert_cmpuint(fake.x, ==, input_abs_axis(512, 1024));
	g_assert_cmpuint(fake.x, ==, 16400);
	g_assert_cmpuint(fake.y, ==, 16405);
	g_assert_cmpuint(fake.buttons, ==, INPUT_BUTTON_LEFT);
	g_assert_cmpint(fake.wheel, ==, 2);
	g_assert_cmpint(fake.hwheel, ==, -3);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 1023, 767, 0, 0, 0), ==, 0);
	g_assert_cmpuint(fake.x, ==, INPUT_ABS_MAX);
	g_assert_cmpuint(fake.y, ==, INPUT_ABS_MAX);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, UINT32_MAX, 100000, 0, 0, 0), ==, 0);
	g_assert_cmpuint(fake.x, ==, INPUT_ABS_MAX);
	g_assert_cmpuint(fake.y, ==, INPUT_ABS_MAX);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 0, 0, 0, 0, 0), ==, 0);
	g_assert_cmpuint(fake.x, ==, 0);
	g_assert_cmpuint(fake.y, ==, 0);
	/* Another surface size counts at once. */
	set_surface(disp, 800, 600);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 400, 300, 0, 0, 0), ==, 0);
	g_assert_cmpuint(fake.x, ==, input_abs_axis(400, 800));
	g_assert_cmpuint(fake.y, ==, input_abs_axis(300, 600));
	/* No surface: nothing to scale to. */
	unsigned before = fake.pointers;
	g_assert_cmpint(display_set_surface(disp, NULL), ==, 0);
	g_assert_cmpint(sink.ops->pointer(sink.opaque, 1, 1, 0, 0, 0), ==, -ENOTCONN);
	g_assert_cmpuint(fake.pointers, ==, before);
	sink.ops->release_keys(sink.opaque);
	g_assert_cmpuint(fake.releases, ==, 1);

	/* A reboot: the next machine's devices. */
	input_route_set_devices(r, NULL);
	atomic_store(&fake.allowed, false);
	g_assert_cmpint(sink.ops->key(sink.opaque, KEY_A, true), ==, -ENOTCONN);
	atomic_store(&fake.allowed, true);
	input_route_set_devices(r, DEV_B);
	fake.key_ret = 0;
	g_assert_cmpint(sink.ops->key(sink.opaque, KEY_B, true), ==, 0);
	g_assert_true(fake.last == DEV_B);
	g_assert_cmpuint(atomic_load(&fake.violations), ==, 0);

	input_route_free(r);
	display_free(disp);
}

struct sender {
	struct input_route *r;
	atomic_bool stop;
	atomic_uint calls;
};

static gpointer send_thread(gpointer data)
{
	struct sender *s = data;
	while (!atomic_load(&s->stop)) {
		(void)input_route_ops.key(s->r, KEY_A, true);
		(void)input_route_ops.pointer(s->r, 3, 4, 0, 0, 0);
		input_route_ops.release_keys(s->r);
		atomic_fetch_add(&s->calls, 1);
	}
	return NULL;
}

/* Senders on other threads while the machine comes and goes: after
 * set_devices(NULL) returns, not one call reaches the devices. */
static void test_threads(void)
{
	memset(&fake, 0, sizeof(fake));
	struct display *disp = display_new(NULL);
	set_surface(disp, 640, 480);
	struct input_route *r = input_route_new(disp);
	struct sender s[2] = { { .r = r }, { .r = r } };
	GThread *t[2];
	for (int i = 0; i < 2; i++)
		t[i] = g_thread_new("sender", send_thread, &s[i]);
	/* Both senders running before the machine comes and goes: on a busy
	 * machine (ASan, tests side by side) the rounds could end first. */
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while ((atomic_load(&s[0].calls) == 0 || atomic_load(&s[1].calls) == 0) && g_get_monotonic_time() < end)
		g_usleep(1000);
	for (int round = 0; round < 2000; round++) {
		atomic_store(&fake.allowed, true);
		input_route_set_devices(r, round & 1 ? DEV_A : DEV_B);
		g_thread_yield();
		input_route_set_devices(r, NULL);
		atomic_store(&fake.allowed, false);
		g_thread_yield();
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&s[i].stop, true);
		g_thread_join(t[i]);
		g_assert_cmpuint(atomic_load(&s[i].calls), >, 0);
	}
	g_assert_cmpuint(atomic_load(&fake.violations), ==, 0);
	input_route_free(r);
	display_free(disp);
}

static void test_control(void)
{
	memset(&fake, 0, sizeof(fake));
	atomic_store(&fake.allowed, true);
	struct display *disp = display_new(NULL);
	struct input_route *r = input_route_new(disp);
	g_assert_null(input_route_control(r, "key 30 down"));
	g_assert_null(input_route_control(r, "pointer-abs 1 2"));
	g_assert_null(input_route_control(r, "pointers 1 2"));
	g_autofree char *none = input_route_control(r, "pointer 1 2");
	g_assert_true(g_str_has_prefix(none, "error no display surface"));
	set_surface(disp, 1024, 768);
	g_autofree char *nodev = input_route_control(r, "pointer 1 2");
	g_assert_true(g_str_has_prefix(nodev, "error the guest's mouse driver is not connected"));
	input_route_set_devices(r, DEV_A);
	g_autofree char *ok = input_route_control(r, "pointer 512 384 5");
	g_assert_cmpstr(ok, ==, "ok abs=16400,16405 surface=1024x768");
	g_assert_cmpuint(fake.buttons, ==, 5);
	static const char *const bad[] = {
		"pointer", "pointer 1", "pointer 1 2 3 4", "pointer -1 2", "pointer 1 y", "pointer 1 2 32",
		"pointer 1 2 0x100", "pointer 99999999999 1",
	};
	unsigned calls = fake.pointers;
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *reply = input_route_control(r, bad[i]);
		g_assert_nonnull(reply);
		g_assert_true(g_str_has_prefix(reply, "error usage: pointer X Y"));
	}
	g_assert_cmpuint(fake.pointers, ==, calls);
	fake.pointer_ret = -ENOBUFS;
	g_autofree char *full = input_route_control(r, "pointer 1 1");
	g_assert_true(g_str_has_prefix(full, "error pointer: "));
	input_route_free(r);
	display_free(disp);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/input-route/route", test_route);
	g_test_add_func("/input-route/threads", test_threads);
	g_test_add_func("/input-route/control", test_control);
	return g_test_run();
}
