// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The keyboard and mouse control commands (backend/worker/vmbus_input.c):
 * which lines are theirs, what each accepts and refuses, with the real
 * devices on a VSP bus. The guest opens the keyboard and mouse only for
 * the commands that must reach it; the real-guest scenario (input.host)
 * drives the same commands against Linux.
 */
#include <linux/input-event-codes.h>
#include <string.h>

#include <glib.h>

#include "vmbus_input.h"
#include "vsp-guest.h"

struct rig {
	struct vsp_guest *g;
	struct synth_kbd *k;
	struct synth_mouse *m;
};

static void rig_init(struct rig *r)
{
	r->g = vsp_guest_new();
	g_assert_nonnull(r->g);
	struct vmbus_guid i1 = VMBUS_GUID_INIT(0xc0de1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1);
	struct vmbus_guid i2 = VMBUS_GUID_INIT(0xc0de2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2);
	r->k = synth_kbd_add(vsp_guest_bus(r->g), &i1);
	r->m = synth_mouse_add(vsp_guest_bus(r->g), &i2);
	g_assert_nonnull(r->k);
	g_assert_nonnull(r->m);
}

static void rig_fini(struct rig *r)
{
	vsp_guest_free(r->g);
	synth_kbd_free(r->k);
	synth_mouse_free(r->m);
}

static void assert_reply(struct rig *r, const char *cmd, const char *prefix)
{
	g_autofree char *reply = vmbus_input_control(r->k, r->m, cmd);
	if (!reply || !g_str_has_prefix(reply, prefix))
		g_error("\"%s\" answered \"%s\", want \"%s...\"", cmd, reply ? reply : "(not ours)", prefix);
}

/* Well-formed commands reach the devices, which are not connected yet:
 * that answer proves the line parsed; malformed ones never get that far. */
static void test_parse(void)
{
	struct rig r;
	rig_init(&r);
	static const char *const not_ours[] = {
		"heartbeat", "keyboard", "keyz 1", "pointer 1 2", "inputs", "ctrl-alt-delete", "",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(not_ours); i++)
		g_assert_null(vmbus_input_control(r.k, r.m, not_ours[i]));

	const char *kbd_down = "error the guest's keyboard driver is not connected";
	const char *mouse_down = "error the guest's mouse driver is not connected";
	static const char *const kbd_ok[] = {
		"key 30 down", "key 30 up", "key 30 press", "key KEY_A press", "key key_pause down",
		"key 0x1e press", "key 226 press", "keys 1", "keys 1 2 KEY_F24 226", "ctrl-alt-del",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(kbd_ok); i++)
		assert_reply(&r, kbd_ok[i], kbd_down);
	static const char *const key_bad[] = {
		"key", "key 30", "key 30 sideways", "key 30 down up", "key 30 DOWN",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(key_bad); i++)
		assert_reply(&r, key_bad[i], "error usage: key CODE");
	static const char *const key_unknown[] = {
		"key 0 down", "key 112 down", "key 256 down", "key 65536 down", "key -1 down", "key 030x down",
		"key A down", "key KEY_NOPE down", "key BTN_LEFT down",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(key_unknown); i++)
		assert_reply(&r, key_unknown[i], "error unknown key");
	/* A leading zero is decimal: 030 is KEY_A. */
	assert_reply(&r, "key 030 down", kbd_down);
	assert_reply(&r, "keys", "error usage: keys CODE...");
	assert_reply(&r, "keys 1 2 nope", "error unknown key \"nope\" (nothing sent)");
	GString *many = g_string_new("keys");
	for (unsigned i = 0; i < VMBUS_INPUT_KEYS_MAX; i++)
		g_string_append(many, " 30");
	assert_reply(&r, many->str, kbd_down);
	g_string_append(many, " 30");
	assert_reply(&r, many->str, "error usage: keys CODE...");
	g_string_free(many, TRUE);
	/* Nothing held: releasing is nothing to do, connected or not. */
	assert_reply(&r, "release-keys", "ok released=0");
	g_assert_null(vmbus_input_control(r.k, r.m, "ctrl-alt-del now"));
	g_assert_null(vmbus_input_control(r.k, r.m, "release-keys 30"));
	g_assert_null(vmbus_input_control(r.k, r.m, "input all"));

	static const char *const mouse_ok[] = {
		"pointer-abs 0 0", "pointer-abs 32767 32767 31", "pointer-abs 1 2 0x1f", "wheel 3", "wheel -1024",
		"wheel 0 1024", "wheel -5 -5",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(mouse_ok); i++)
		assert_reply(&r, mouse_ok[i], mouse_down);
	static const char *const pointer_bad[] = {
		"pointer-abs", "pointer-abs 1", "pointer-abs 32768 0", "pointer-abs 0 -1", "pointer-abs 1 2 32",
		"pointer-abs 1 2 3 4", "pointer-abs x y",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(pointer_bad); i++)
		assert_reply(&r, pointer_bad[i], "error usage: pointer-abs X Y");
	static const char *const wheel_bad[] = { "wheel", "wheel 1025", "wheel -1025", "wheel 1 2 3", "wheel up" };
	for (size_t i = 0; i < G_N_ELEMENTS(wheel_bad); i++)
		assert_reply(&r, wheel_bad[i], "error usage: wheel N");

	assert_reply(&r, "input", "ok keyboard=closed mouse=closed keys=0 events=0 kbd_queued=0 held=0 ");
	/* Refused lines never counted as keys. */
	struct synth_kbd_state ks;
	synth_kbd_get_state(r.k, &ks);
	g_assert_cmpuint(ks.keys, ==, 0);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synth-kbd-control/parse", test_parse);
	return g_test_run();
}
