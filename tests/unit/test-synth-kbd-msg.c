// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The synthetic keyboard's messages (synth_kbd_msg.c) at the offsets of
 * Linux's hyperv-keyboard.c: the guest's PROTOCOL_REQUEST as Linux sends
 * it and LED_INDICATORS, and every malformed variant (short, unknown
 * type, host-only types, oversized); the host's PROTOCOL_RESPONSE and
 * EVENT as Linux reads them.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vsp/synth_kbd_msg.h"

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* struct synth_kbd_protocol_request as hv_kbd_connect_to_vsp fills it. */
static size_t linux_request(uint8_t *buf, uint32_t version)
{
	memset(buf, 0, 8);
	wr32(buf, 1);
	wr32(buf + 4, version);
	return 8;
}

static void test_parse_request(void)
{
	uint8_t b[16];
	struct synth_kbd_guest_msg m;
	size_t n = linux_request(b, 0x00010000);
	memset(&m, 0xa5, sizeof(m));
	g_assert_cmpint(synth_kbd_msg_parse(b, n, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, SYNTH_KBD_MSG_PROTOCOL_REQUEST);
	g_assert_cmphex(m.version, ==, SYNTH_KBD_VERSION_1_0);
	/* The ring pads it to 8; a guest may send more: ignored. */
	memset(b + 8, 0xee, 8);
	g_assert_cmpint(synth_kbd_msg_parse(b, 16, &m), ==, 0);
	g_assert_cmphex(m.version, ==, SYNTH_KBD_VERSION_1_0);
	/* Another version parses: refusing it is the device's business. */
	linux_request(b, 0x00020000);
	g_assert_cmpint(synth_kbd_msg_parse(b, 8, &m), ==, 0);
	g_assert_cmphex(m.version, ==, 0x00020000);
}

static void test_parse_leds(void)
{
	uint8_t b[8] = { 4, 0, 0, 0, 0x06, 0x00, 0, 0 };
	struct synth_kbd_guest_msg m;
	g_assert_cmpint(synth_kbd_msg_parse(b, 6, &m), ==, 0);
	g_assert_cmpuint(m.type, ==, SYNTH_KBD_MSG_LED_INDICATORS);
	g_assert_cmphex(m.led_flags, ==, SYNTH_KBD_LED_NUM_LOCK | SYNTH_KBD_LED_CAPS_LOCK);
	b[4] = 0x0f;
	b[5] = 0x80;
	g_assert_cmpint(synth_kbd_msg_parse(b, 8, &m), ==, 0);
	g_assert_cmphex(m.led_flags, ==, 0x800f);
}

static void test_parse_malformed(void)
{
	uint8_t b[SYNTH_KBD_MSG_MAX + 8];
	struct synth_kbd_guest_msg m, before;
	memset(&m, 0x5a, sizeof(m));
	before = m;
	memset(b, 0, sizeof(b));
	/* Short: nothing, a partial header, a request without its version,
	 * LEDs without their flags. */
	for (size_t n = 0; n < 4; n++)
		g_assert_cmpint(synth_kbd_msg_parse(b, n, &m), ==, -EBADMSG);
	linux_request(b, 0x00010000);
	for (size_t n = 4; n < 8; n++)
		g_assert_cmpint(synth_kbd_msg_parse(b, n, &m), ==, -EBADMSG);
	wr32(b, 4);
	for (size_t n = 4; n < 6; n++)
		g_assert_cmpint(synth_kbd_msg_parse(b, n, &m), ==, -EBADMSG);
	/* Types the guest does not send: the host's own, and unknown ones. */
	static const uint32_t types[] = { 0, 2, 3, 5, 0x100, 0x80000001u, 0xffffffffu };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		wr32(b, types[i]);
		g_assert_cmpint(synth_kbd_msg_parse(b, 16, &m), ==, -EBADMSG);
	}
	/* Oversized, even when it starts as a good request. */
	linux_request(b, 0x00010000);
	g_assert_cmpint(synth_kbd_msg_parse(b, SYNTH_KBD_MSG_MAX, &m), ==, 0);
	m = before;
	g_assert_cmpint(synth_kbd_msg_parse(b, SYNTH_KBD_MSG_MAX + 1, &m), ==, -EMSGSIZE);
	g_assert_cmpint(synth_kbd_msg_parse(b, sizeof(b), &m), ==, -EMSGSIZE);
	/* A refusal leaves *out alone. */
	g_assert_cmpmem(&m, sizeof(m), &before, sizeof(before));
}

static void test_build(void)
{
	uint8_t b[32];
	memset(b, 0xcc, sizeof(b));
	/* struct synth_kbd_protocol_response: Linux wants 8 bytes and bit 0. */
	g_assert_cmpint(synth_kbd_msg_build_response(b, sizeof(b), true), ==, 8);
	g_assert_cmpuint(rd32(b), ==, 2);
	g_assert_cmphex(rd32(b + 4), ==, 1);
	g_assert_cmpint(synth_kbd_msg_build_response(b, 8, false), ==, 8);
	g_assert_cmphex(rd32(b + 4) & 1, ==, 0);
	g_assert_cmpint(synth_kbd_msg_build_response(b, 7, true), ==, -ENOSPC);

	/* struct synth_kbd_keystroke: make_code @4 (u16), reserved, info @8. */
	memset(b, 0xcc, sizeof(b));
	struct synth_kbd_stroke s = { 0x53, SYNTH_KBD_INFO_E0 | SYNTH_KBD_INFO_BREAK };
	g_assert_cmpint(synth_kbd_msg_build_event(b, sizeof(b), &s), ==, 12);
	static const uint8_t want[12] = { 3, 0, 0, 0, 0x53, 0, 0, 0, 0x06, 0, 0, 0 };
	g_assert_cmpmem(b, 12, want, 12);
	g_assert_cmphex(b[12], ==, 0xcc);
	/* The code is 7 bits: the break bit belongs to info. */
	s = (struct synth_kbd_stroke){ 0xff, 0 };
	g_assert_cmpint(synth_kbd_msg_build_event(b, 12, &s), ==, 12);
	g_assert_cmphex(b[4], ==, 0x7f);
	g_assert_cmphex(b[5], ==, 0);
	g_assert_cmpint(synth_kbd_msg_build_event(b, 11, &s), ==, -ENOSPC);
}

static void test_strokes(void)
{
	struct synth_kbd_stroke s[SYNTH_KBD_STROKES_MAX];
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(30), true, s), ==, 1);
	g_assert_cmphex(s[0].make_code, ==, 0x1e);
	g_assert_cmphex(s[0].info, ==, 0);
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(30), false, s), ==, 1);
	g_assert_cmphex(s[0].info, ==, SYNTH_KBD_INFO_BREAK);
	/* KEY_UP: E0 48. */
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(103), false, s), ==, 1);
	g_assert_cmphex(s[0].make_code, ==, 0x48);
	g_assert_cmphex(s[0].info, ==, SYNTH_KBD_INFO_E0 | SYNTH_KBD_INFO_BREAK);
	/* KEY_PAUSE: {1D, E1} {45}, released {1D, E1|break} {45, break}. */
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(119), true, s), ==, 2);
	g_assert_cmphex(s[0].make_code, ==, 0x1d);
	g_assert_cmphex(s[0].info, ==, SYNTH_KBD_INFO_E1);
	g_assert_cmphex(s[1].make_code, ==, 0x45);
	g_assert_cmphex(s[1].info, ==, 0);
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(119), false, s), ==, 2);
	g_assert_cmphex(s[0].info, ==, SYNTH_KBD_INFO_E1 | SYNTH_KBD_INFO_BREAK);
	g_assert_cmphex(s[1].info, ==, SYNTH_KBD_INFO_BREAK);
	/* KEY_HANGEUL: one 0xF2 on press, nothing on release. */
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(122), true, s), ==, 1);
	g_assert_cmphex(s[0].make_code, ==, 0x72);
	g_assert_cmphex(s[0].info, ==, SYNTH_KBD_INFO_BREAK);
	g_assert_cmpuint(synth_kbd_strokes(keymap_xt_find(122), false, s), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synth-kbd-msg/parse-request", test_parse_request);
	g_test_add_func("/synth-kbd-msg/parse-leds", test_parse_leds);
	g_test_add_func("/synth-kbd-msg/parse-malformed", test_parse_malformed);
	g_test_add_func("/synth-kbd-msg/build", test_build);
	g_test_add_func("/synth-kbd-msg/strokes", test_strokes);
	return g_test_run();
}
