// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hv/le.h"
#include "vsp/synth_kbd_msg.h"

int synth_kbd_msg_parse(const uint8_t *data, size_t len, struct synth_kbd_guest_msg *out)
{
	if (len > SYNTH_KBD_MSG_MAX)
		return -EMSGSIZE;
	if (len < sizeof(struct synth_kbd_wire_hdr))
		return -EBADMSG;
	struct synth_kbd_guest_msg m = { .type = le32_get(data) };
	switch (m.type) {
	case SYNTH_KBD_MSG_PROTOCOL_REQUEST:
		if (len < sizeof(struct synth_kbd_wire_protocol_request))
			return -EBADMSG;
		m.version = le32_get(data + offsetof(struct synth_kbd_wire_protocol_request, version));
		break;
	case SYNTH_KBD_MSG_LED_INDICATORS:
		if (len < sizeof(struct synth_kbd_wire_led_indicators))
			return -EBADMSG;
		m.led_flags = le16_get(data + offsetof(struct synth_kbd_wire_led_indicators, led_flags));
		break;
	default:
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

long synth_kbd_msg_build_response(uint8_t *buf, size_t size, bool accepted)
{
	size_t n = sizeof(struct synth_kbd_wire_protocol_response);
	if (size < n)
		return -ENOSPC;
	le32_put(buf, SYNTH_KBD_MSG_PROTOCOL_RESPONSE);
	le32_put(buf + offsetof(struct synth_kbd_wire_protocol_response, status),
		 accepted ? SYNTH_KBD_PROTOCOL_ACCEPTED : 0);
	return (long)n;
}

long synth_kbd_msg_build_event(uint8_t *buf, size_t size, const struct synth_kbd_stroke *s)
{
	size_t n = sizeof(struct synth_kbd_wire_keystroke);
	if (size < n)
		return -ENOSPC;
	memset(buf, 0, n);
	le32_put(buf, SYNTH_KBD_MSG_EVENT);
	le16_put(buf + offsetof(struct synth_kbd_wire_keystroke, make_code), s->make_code & 0x7fu);
	le32_put(buf + offsetof(struct synth_kbd_wire_keystroke, info), s->info);
	return (long)n;
}

size_t synth_kbd_strokes(const struct keymap_xt_key *key, bool down,
			 struct synth_kbd_stroke out[SYNTH_KBD_STROKES_MAX])
{
	uint32_t brk = down ? 0 : SYNTH_KBD_INFO_BREAK;
	if (key->flags & KEYMAP_XT_PRESS_ONLY) {
		/* The key's single byte is its code with bit 7 set: what the
		 * guest builds from a break. Releasing it sends nothing. */
		if (!down)
			return 0;
		out[0] = (struct synth_kbd_stroke){ key->code, SYNTH_KBD_INFO_BREAK };
		return 1;
	}
	if (key->flags & KEYMAP_XT_E1) {
		out[0] = (struct synth_kbd_stroke){ KEYMAP_XT_E1_LEAD, SYNTH_KBD_INFO_E1 | brk };
		out[1] = (struct synth_kbd_stroke){ key->code, brk };
		return 2;
	}
	out[0] = (struct synth_kbd_stroke){ key->code, brk | ((key->flags & KEYMAP_XT_E0) ? SYNTH_KBD_INFO_E0 : 0) };
	return 1;
}
