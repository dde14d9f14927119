// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The console protocol's codec: frames and bodies in and out of bytes.
 * Pure: no I/O, no allocation (console_reader.c buffers a stream). The
 * encoder checks what it wrote with the decoder, so a peer never sends what
 * the other side would refuse.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "console.h"
#include "wire.h"

#define CURSOR_IMAGE_MAX (CONSOLE_CURSOR_SIDE_MAX * CONSOLE_CURSOR_SIDE_MAX * 4u)

enum { FROM_WORKER = 1, FROM_VIEWER = 2, FROM_EITHER = 3 };

struct console_type_rule {
	uint16_t type;
	uint8_t senders;
	uint32_t max;            /* body bytes */
};

static const struct console_type_rule console_rules[] = {
	{ CONSOLE_MSG_HELLO, FROM_EITHER, sizeof(struct console_wire_hello) + CONSOLE_NAME_MAX },
	{ CONSOLE_MSG_CLIPBOARD, FROM_EITHER, sizeof(struct console_wire_clipboard) + CONSOLE_CLIPBOARD_MAX },
	{ CONSOLE_MSG_ERROR, FROM_EITHER, sizeof(struct console_wire_error) + CONSOLE_TEXT_MAX },
	{ CONSOLE_MSG_SURFACE, FROM_WORKER, sizeof(struct console_wire_surface) },
	{ CONSOLE_MSG_NO_SURFACE, FROM_WORKER, 0 },
	{ CONSOLE_MSG_DAMAGE, FROM_WORKER,
	  sizeof(struct console_wire_damage) + CONSOLE_DAMAGE_RECTS_MAX * sizeof(struct console_wire_rect) },
	{ CONSOLE_MSG_PIXELS, FROM_WORKER, sizeof(struct console_wire_pixels) + CONSOLE_PIXELS_MAX },
	{ CONSOLE_MSG_CURSOR, FROM_WORKER, sizeof(struct console_wire_cursor) + CURSOR_IMAGE_MAX },
	{ CONSOLE_MSG_VM_STATE, FROM_WORKER, sizeof(struct console_wire_vm_state) + CONSOLE_TEXT_MAX },
	{ CONSOLE_MSG_KEY, FROM_VIEWER, sizeof(struct console_wire_key) },
	{ CONSOLE_MSG_POINTER, FROM_VIEWER, sizeof(struct console_wire_pointer) },
	{ CONSOLE_MSG_FRAME_DONE, FROM_VIEWER, sizeof(struct console_wire_frame_done) },
};

_Static_assert(sizeof(struct console_wire_clipboard) + CONSOLE_CLIPBOARD_MAX <= CONSOLE_BODY_MAX, "clipboard");
_Static_assert(sizeof(struct console_wire_cursor) + CURSOR_IMAGE_MAX <= CONSOLE_BODY_MAX, "cursor");
_Static_assert(sizeof(struct console_wire_pixels) + CONSOLE_PIXELS_MAX <= CONSOLE_BODY_MAX, "pixels");
_Static_assert(4ull * CONSOLE_SIDE_MAX <= CONSOLE_PIXELS_MAX, "a PIXELS message holds a row at least");

static const struct console_type_rule *console_rule(uint16_t type)
{
	for (size_t i = 0; i < sizeof(console_rules) / sizeof(console_rules[0]); i++)
		if (console_rules[i].type == type)
			return &console_rules[i];
	return NULL;
}

static unsigned console_sender_bit(enum console_sender from)
{
	return from == CONSOLE_FROM_WORKER ? FROM_WORKER : FROM_VIEWER;
}

void console_msg_hello(struct console_msg *m, uint32_t caps, const char *name)
{
	*m = (struct console_msg){ .type = CONSOLE_MSG_HELLO };
	m->hello.major = CONSOLE_VERSION_MAJOR;
	m->hello.minor = CONSOLE_VERSION_MINOR;
	m->hello.caps = caps;
	m->hello.name = name;
	m->hello.name_len = strlen(name);
}

bool console_text_valid(const char *text, size_t len)
{
	return wire_utf8_valid(text, len);
}

int console_frame_parse(const uint8_t *buf, size_t len, enum console_sender from, struct console_frame *f)
{
	if (len < CONSOLE_HEADER_SIZE)
		return -EAGAIN;
	struct console_wire_header h;
	memcpy(&h, buf, sizeof(h));
	struct console_frame fr = { le16toh(h.type), le16toh(h.flags), le32toh(h.length) };
	const struct console_type_rule *rule = console_rule(fr.type);
	if (fr.flags & ~CONSOLE_FLAG_FD)
		return -EPROTO;
	if ((fr.flags & CONSOLE_FLAG_FD) && (fr.type != CONSOLE_MSG_SURFACE || from != CONSOLE_FROM_WORKER))
		return -EPROTO;
	/* A known type from the wrong side is dropped later, as an unknown one is. */
	uint32_t max = rule && (rule->senders & console_sender_bit(from)) ? rule->max : CONSOLE_BODY_MAX;
	if (fr.length > max)
		return -EMSGSIZE;
	*f = fr;
	return 0;
}

static uint32_t rd32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static bool console_rect_ok(const struct console_rect *r)
{
	return r->w && r->h && (uint64_t)r->x + r->w <= CONSOLE_SIDE_MAX && (uint64_t)r->y + r->h <= CONSOLE_SIDE_MAX;
}

static struct console_rect console_rect_read(const uint8_t *p)
{
	struct console_wire_rect w;
	memcpy(&w, p, sizeof(w));
	return (struct console_rect){ le32toh(w.x), le32toh(w.y), le32toh(w.w), le32toh(w.h) };
}

static int console_decode_text(const uint8_t *p, size_t len, size_t max, const char **text, size_t *text_len)
{
	if (len > max)
		return -EBADMSG;
	if (!console_text_valid((const char *)p, len))
		return -EILSEQ;
	*text = (const char *)p;
	*text_len = len;
	return 0;
}

static int console_decode_hello(const uint8_t *b, size_t len, struct console_msg *m)
{
	struct console_wire_hello w;
	if (len < sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	m->hello.major = le16toh(w.major);
	m->hello.minor = le16toh(w.minor);
	m->hello.caps = le32toh(w.caps);
	return console_decode_text(b + sizeof(w), len - sizeof(w), CONSOLE_NAME_MAX, &m->hello.name,
				   &m->hello.name_len);
}

static int console_decode_surface(const uint8_t *b, size_t len, uint16_t flags, struct console_msg *m)
{
	struct console_wire_surface w;
	if (len != sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	uint32_t width = le32toh(w.width), height = le32toh(w.height), stride = le32toh(w.stride);
	uint64_t offset = le64toh(w.offset), size = le64toh(w.size);
	if (width == 0 || height == 0 || width > CONSOLE_SIDE_MAX || height > CONSOLE_SIDE_MAX ||
	    le32toh(w.format) != CONSOLE_FORMAT_XRGB8888 || stride < width * 4u)
		return -EINVAL;
	uint64_t bytes = (uint64_t)stride * height;
	if (offset > UINT64_MAX - bytes || size < offset + bytes)
		return -EINVAL;
	/* Inline pixels come tightly packed: there is no memory to describe. */
	if (!(flags & CONSOLE_FLAG_FD) && (offset != 0 || stride != width * 4u || size != bytes))
		return -EINVAL;
	m->surface.width = width;
	m->surface.height = height;
	m->surface.stride = stride;
	m->surface.format = CONSOLE_FORMAT_XRGB8888;
	m->surface.offset = offset;
	m->surface.size = size;
	return 0;
}

static int console_decode_damage(const uint8_t *b, size_t len, struct console_msg *m)
{
	struct console_wire_damage w;
	if (len < sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	uint32_t count = le32toh(w.count);
	if (count > CONSOLE_DAMAGE_RECTS_MAX || len != sizeof(w) + (size_t)count * sizeof(struct console_wire_rect))
		return -EBADMSG;
	for (uint32_t i = 0; i < count; i++) {
		struct console_rect r = console_rect_read(b + sizeof(w) + i * sizeof(struct console_wire_rect));
		if (!console_rect_ok(&r))
			return -EINVAL;
		m->damage.rects[i] = r;
	}
	m->damage.frame = le32toh(w.frame);
	m->damage.count = count;
	return 0;
}

static int console_decode_pixels(const uint8_t *b, size_t len, struct console_msg *m)
{
	if (len < sizeof(struct console_wire_pixels))
		return -EBADMSG;
	struct console_rect r = console_rect_read(b);
	if (!console_rect_ok(&r))
		return -EINVAL;
	uint64_t bytes = (uint64_t)r.w * r.h * 4u;
	if (bytes > CONSOLE_PIXELS_MAX)
		return -EINVAL;
	if (len != sizeof(struct console_wire_pixels) + bytes)
		return -EBADMSG;
	m->pixels.r = r;
	m->pixels.data = b + sizeof(struct console_wire_pixels);
	m->pixels.stride = r.w * 4u;
	return 0;
}

static int console_decode_cursor(const uint8_t *b, size_t len, struct console_msg *m)
{
	struct console_wire_cursor w;
	if (len < sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	uint32_t flags = le32toh(w.flags), cw = le32toh(w.w), ch = le32toh(w.h);
	uint32_t hx = le32toh(w.hot_x), hy = le32toh(w.hot_y);
	int32_t x = (int32_t)le32toh((uint32_t)w.x), y = (int32_t)le32toh((uint32_t)w.y);
	if (flags & ~CONSOLE_CURSOR_FLAGS)
		return -EINVAL;
	if (x < -(int32_t)CONSOLE_SIDE_MAX || x > (int32_t)CONSOLE_SIDE_MAX || y < -(int32_t)CONSOLE_SIDE_MAX ||
	    y > (int32_t)CONSOLE_SIDE_MAX)
		return -EINVAL;
	size_t image = 0;
	if (flags & CONSOLE_CURSOR_SHAPE) {
		if (cw == 0 || ch == 0 || cw > CONSOLE_CURSOR_SIDE_MAX || ch > CONSOLE_CURSOR_SIDE_MAX || hx >= cw ||
		    hy >= ch)
			return -EINVAL;
		image = (size_t)cw * ch * 4u;
	} else if (cw || ch || hx || hy) {
		return -EINVAL;
	}
	if (len != sizeof(w) + image)
		return -EBADMSG;
	m->cursor.flags = flags;
	m->cursor.x = x;
	m->cursor.y = y;
	m->cursor.w = cw;
	m->cursor.h = ch;
	m->cursor.hot_x = hx;
	m->cursor.hot_y = hy;
	m->cursor.argb = image ? b + sizeof(w) : NULL;
	return 0;
}

static int console_decode_key(const uint8_t *b, size_t len, struct console_msg *m)
{
	struct console_wire_key w;
	if (len != sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	uint16_t code = le16toh(w.code);
	/* Code 0 is KEY_RESERVED: no key sends it. */
	if (code == 0 || code > CONSOLE_KEY_CODE_MAX || w.down > 1 || w.reserved)
		return -EINVAL;
	m->key.code = code;
	m->key.down = w.down;
	return 0;
}

static int console_decode_pointer(const uint8_t *b, size_t len, struct console_msg *m)
{
	struct console_wire_pointer w;
	if (len != sizeof(w))
		return -EBADMSG;
	memcpy(&w, b, sizeof(w));
	uint32_t x = le32toh(w.x), y = le32toh(w.y), buttons = le32toh(w.buttons);
	int32_t wheel = (int32_t)le32toh((uint32_t)w.wheel), hwheel = (int32_t)le32toh((uint32_t)w.hwheel);
	if (x >= CONSOLE_SIDE_MAX || y >= CONSOLE_SIDE_MAX || (buttons & ~CONSOLE_BUTTONS_ALL) ||
	    wheel < -CONSOLE_WHEEL_MAX || wheel > CONSOLE_WHEEL_MAX || hwheel < -CONSOLE_WHEEL_MAX ||
	    hwheel > CONSOLE_WHEEL_MAX)
		return -EINVAL;
	m->pointer.x = x;
	m->pointer.y = y;
	m->pointer.buttons = buttons;
	m->pointer.wheel = wheel;
	m->pointer.hwheel = hwheel;
	return 0;
}

static int console_decode_body(const struct console_frame *f, const uint8_t *b, size_t len, struct console_msg *m)
{
	switch (f->type) {
	case CONSOLE_MSG_HELLO:
		return console_decode_hello(b, len, m);
	case CONSOLE_MSG_CLIPBOARD:
		if (len < sizeof(struct console_wire_clipboard))
			return -EBADMSG;
		if (rd32(b) != CONSOLE_CLIPBOARD_TEXT)
			return -EINVAL;
		m->clipboard.format = CONSOLE_CLIPBOARD_TEXT;
		return console_decode_text(b + 4, len - 4, CONSOLE_CLIPBOARD_MAX, &m->clipboard.text, &m->clipboard.len);
	case CONSOLE_MSG_ERROR:
		if (len < sizeof(struct console_wire_error))
			return -EBADMSG;
		m->error.code = rd32(b);
		return console_decode_text(b + 4, len - 4, CONSOLE_TEXT_MAX, &m->error.text, &m->error.text_len);
	case CONSOLE_MSG_SURFACE:
		return console_decode_surface(b, len, f->flags, m);
	case CONSOLE_MSG_NO_SURFACE:
		return len == 0 ? 0 : -EBADMSG;
	case CONSOLE_MSG_DAMAGE:
		return console_decode_damage(b, len, m);
	case CONSOLE_MSG_PIXELS:
		return console_decode_pixels(b, len, m);
	case CONSOLE_MSG_CURSOR:
		return console_decode_cursor(b, len, m);
	case CONSOLE_MSG_VM_STATE:
		if (len < sizeof(struct console_wire_vm_state))
			return -EBADMSG;
		m->vm_state.state = rd32(b);
		if (m->vm_state.state < CONSOLE_VM_RUNNING || m->vm_state.state > CONSOLE_VM_OFF)
			return -EINVAL;
		return console_decode_text(b + 4, len - 4, CONSOLE_TEXT_MAX, &m->vm_state.reason,
					   &m->vm_state.reason_len);
	case CONSOLE_MSG_KEY:
		return console_decode_key(b, len, m);
	case CONSOLE_MSG_POINTER:
		return console_decode_pointer(b, len, m);
	case CONSOLE_MSG_FRAME_DONE:
		if (len != sizeof(struct console_wire_frame_done))
			return -EBADMSG;
		m->frame_done.frame = rd32(b);
		return 0;
	default:
		return -ENOMSG;
	}
}

int console_msg_decode(const struct console_frame *f, const uint8_t *body, size_t len, enum console_sender from,
		       struct console_msg *m)
{
	const struct console_type_rule *rule = console_rule(f->type);
	if (!rule || !(rule->senders & console_sender_bit(from)))
		return -ENOMSG;
	if (len != f->length || len > rule->max)
		return -EBADMSG;
	struct console_msg out = { .type = f->type, .flags = f->flags };
	int r = console_decode_body(f, body, len, &out);
	if (r < 0)
		return r;
	*m = out;
	return 0;
}

/* The body size m describes; false when its counts and sizes cannot be
 * encoded at all (the decoder judges the rest). */
static bool console_body_size(const struct console_msg *m, size_t *out)
{
	size_t n;
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		if (m->hello.name_len > CONSOLE_NAME_MAX || (m->hello.name_len && !m->hello.name))
			return false;
		n = sizeof(struct console_wire_hello) + m->hello.name_len;
		break;
	case CONSOLE_MSG_CLIPBOARD:
		if (m->clipboard.len > CONSOLE_CLIPBOARD_MAX || (m->clipboard.len && !m->clipboard.text))
			return false;
		n = sizeof(struct console_wire_clipboard) + m->clipboard.len;
		break;
	case CONSOLE_MSG_ERROR:
		if (m->error.text_len > CONSOLE_TEXT_MAX || (m->error.text_len && !m->error.text))
			return false;
		n = sizeof(struct console_wire_error) + m->error.text_len;
		break;
	case CONSOLE_MSG_SURFACE:
		n = sizeof(struct console_wire_surface);
		break;
	case CONSOLE_MSG_NO_SURFACE:
		n = 0;
		break;
	case CONSOLE_MSG_DAMAGE:
		if (m->damage.count > CONSOLE_DAMAGE_RECTS_MAX)
			return false;
		n = sizeof(struct console_wire_damage) + m->damage.count * sizeof(struct console_wire_rect);
		break;
	case CONSOLE_MSG_PIXELS:
		if ((uint64_t)m->pixels.r.w * m->pixels.r.h * 4u > CONSOLE_PIXELS_MAX || !m->pixels.data)
			return false;
		n = sizeof(struct console_wire_pixels) + (size_t)m->pixels.r.w * m->pixels.r.h * 4u;
		break;
	case CONSOLE_MSG_CURSOR:
		n = sizeof(struct console_wire_cursor);
		if (m->cursor.flags & CONSOLE_CURSOR_SHAPE) {
			if (m->cursor.w > CONSOLE_CURSOR_SIDE_MAX || m->cursor.h > CONSOLE_CURSOR_SIDE_MAX ||
			    !m->cursor.argb)
				return false;
			n += (size_t)m->cursor.w * m->cursor.h * 4u;
		}
		break;
	case CONSOLE_MSG_VM_STATE:
		if (m->vm_state.reason_len > CONSOLE_TEXT_MAX || (m->vm_state.reason_len && !m->vm_state.reason))
			return false;
		n = sizeof(struct console_wire_vm_state) + m->vm_state.reason_len;
		break;
	case CONSOLE_MSG_KEY:
		n = sizeof(struct console_wire_key);
		break;
	case CONSOLE_MSG_POINTER:
		n = sizeof(struct console_wire_pointer);
		break;
	case CONSOLE_MSG_FRAME_DONE:
		n = sizeof(struct console_wire_frame_done);
		break;
	default:
		return false;
	}
	if (n > CONSOLE_BODY_MAX)
		return false;
	*out = n;
	return true;
}

size_t console_msg_size(const struct console_msg *m)
{
	size_t n;
	return console_body_size(m, &n) ? CONSOLE_HEADER_SIZE + n : 0;
}

static uint8_t *wr32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static uint8_t *wr_text(uint8_t *p, const char *text, size_t len)
{
	if (len)
		memcpy(p, text, len);
	return p + len;
}

static uint8_t *wr_rect(uint8_t *p, const struct console_rect *r)
{
	p = wr32(p, r->x);
	p = wr32(p, r->y);
	p = wr32(p, r->w);
	return wr32(p, r->h);
}

static void console_encode_body(const struct console_msg *m, uint8_t *p)
{
	switch (m->type) {
	case CONSOLE_MSG_HELLO: {
		struct console_wire_hello w = { htole16(m->hello.major), htole16(m->hello.minor), htole32(m->hello.caps) };
		memcpy(p, &w, sizeof(w));
		wr_text(p + sizeof(w), m->hello.name, m->hello.name_len);
		break;
	}
	case CONSOLE_MSG_CLIPBOARD:
		wr_text(wr32(p, m->clipboard.format), m->clipboard.text, m->clipboard.len);
		break;
	case CONSOLE_MSG_ERROR:
		wr_text(wr32(p, m->error.code), m->error.text, m->error.text_len);
		break;
	case CONSOLE_MSG_SURFACE: {
		struct console_wire_surface w = {
			htole32(m->surface.width), htole32(m->surface.height), htole32(m->surface.stride),
			htole32(m->surface.format), htole64(m->surface.offset), htole64(m->surface.size),
		};
		memcpy(p, &w, sizeof(w));
		break;
	}
	case CONSOLE_MSG_DAMAGE:
		p = wr32(wr32(p, m->damage.frame), m->damage.count);
		for (uint32_t i = 0; i < m->damage.count; i++)
			p = wr_rect(p, &m->damage.rects[i]);
		break;
	case CONSOLE_MSG_PIXELS: {
		p = wr_rect(p, &m->pixels.r);
		size_t row = (size_t)m->pixels.r.w * 4u;
		size_t stride = m->pixels.stride ? m->pixels.stride : row;
		for (uint32_t y = 0; y < m->pixels.r.h; y++)
			memcpy(p + y * row, m->pixels.data + y * stride, row);
		break;
	}
	case CONSOLE_MSG_CURSOR: {
		bool shape = m->cursor.flags & CONSOLE_CURSOR_SHAPE;
		p = wr32(p, m->cursor.flags);
		p = wr32(p, (uint32_t)m->cursor.x);
		p = wr32(p, (uint32_t)m->cursor.y);
		p = wr32(p, shape ? m->cursor.w : 0);
		p = wr32(p, shape ? m->cursor.h : 0);
		p = wr32(p, shape ? m->cursor.hot_x : 0);
		p = wr32(p, shape ? m->cursor.hot_y : 0);
		if (shape)
			memcpy(p, m->cursor.argb, (size_t)m->cursor.w * m->cursor.h * 4u);
		break;
	}
	case CONSOLE_MSG_VM_STATE:
		wr_text(wr32(p, m->vm_state.state), m->vm_state.reason, m->vm_state.reason_len);
		break;
	case CONSOLE_MSG_KEY: {
		struct console_wire_key w = { htole16(m->key.code), m->key.down ? 1 : 0, 0 };
		memcpy(p, &w, sizeof(w));
		break;
	}
	case CONSOLE_MSG_POINTER:
		p = wr32(p, m->pointer.x);
		p = wr32(p, m->pointer.y);
		p = wr32(p, m->pointer.buttons);
		p = wr32(p, (uint32_t)m->pointer.wheel);
		wr32(p, (uint32_t)m->pointer.hwheel);
		break;
	case CONSOLE_MSG_FRAME_DONE:
		wr32(p, m->frame_done.frame);
		break;
	default:
		break;
	}
}

long console_msg_encode(const struct console_msg *m, uint8_t *buf, size_t size)
{
	size_t body;
	if (!console_body_size(m, &body))
		return -EINVAL;
	if (size < CONSOLE_HEADER_SIZE + body)
		return -ENOSPC;
	struct console_wire_header h = { htole16(m->type), htole16(m->flags), htole32((uint32_t)body) };
	memcpy(buf, &h, sizeof(h));
	console_encode_body(m, buf + CONSOLE_HEADER_SIZE);

	const struct console_type_rule *rule = console_rule(m->type);
	if (!rule)
		return -EINVAL;
	enum console_sender from = (rule->senders & FROM_WORKER) ? CONSOLE_FROM_WORKER : CONSOLE_FROM_VIEWER;
	struct console_frame f;
	struct console_msg check;
	if (console_frame_parse(buf, size, from, &f) < 0 ||
	    console_msg_decode(&f, buf + CONSOLE_HEADER_SIZE, body, from, &check) < 0)
		return -EINVAL;
	return (long)(CONSOLE_HEADER_SIZE + body);
}
