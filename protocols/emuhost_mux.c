// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_mux.h"
#include "wire.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A file's name is a name, never a path: no '/', nothing hidden, no "..". */
static bool emux_file_name_ok(const char *name, size_t len)
{
	if (len < 1 || len > EMUX_FILE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

int emux_frame_parse(const uint8_t *buf, size_t len, struct emux_frame *f)
{
	if (len < EMUX_HEADER_SIZE)
		return -EAGAIN;
	struct emux_frame h = { get16(buf), get16(buf + 2), get32(buf + 4) };
	if (h.length > EMUX_BODY_MAX)
		return -EMSGSIZE;
	*f = h;
	return 0;
}

static bool emux_type_on_link(uint16_t type)
{
	return type >= EMUX_MSG_HELLO && type <= EMUX_MSG_FILES_END;
}

static bool emux_type_known(uint16_t type)
{
	return emux_type_on_link(type) || (type >= EMUX_MSG_OPEN && type <= EMUX_MSG_CLOSE);
}

/* Who may send it: 1 host, 2 agent, 3 both. */
static unsigned emux_type_senders(uint16_t type)
{
	switch (type) {
	case EMUX_MSG_READY:
	case EMUX_MSG_EXIT:
	case EMUX_MSG_LOG:
	case EMUX_MSG_FILE:
	case EMUX_MSG_FILE_DATA:
	case EMUX_MSG_FILE_END:
	case EMUX_MSG_FILES_END:
		return 2;
	case EMUX_MSG_SIGNAL:
	case EMUX_MSG_OPEN:
		return 1;
	default:
		return 3;
	}
}

static bool emux_channel_ok(uint16_t type, uint16_t channel)
{
	if (emux_type_on_link(type))
		return channel == 0;
	return channel >= 1 && channel <= EMUX_CHANNELS_MAX;
}

/* Body size rules: fixed, or a fixed part plus up to `var` bytes. */
static bool emux_body_size_ok(uint16_t type, size_t len)
{
	switch (type) {
	case EMUX_MSG_HELLO: return len == sizeof(struct emux_wire_hello);
	case EMUX_MSG_READY: return len == sizeof(struct emux_wire_ready);
	case EMUX_MSG_EXIT:
		return len >= sizeof(struct emux_wire_exit) && len - sizeof(struct emux_wire_exit) <= EMUX_TEXT_MAX;
	case EMUX_MSG_LOG: return len >= 1 && len <= EMUX_LOG_MAX;
	case EMUX_MSG_SIGNAL: return len == sizeof(struct emux_wire_signal);
	case EMUX_MSG_FILE:
		return len > sizeof(struct emux_wire_file) && len - sizeof(struct emux_wire_file) <= EMUX_FILE_NAME_MAX;
	case EMUX_MSG_FILE_DATA:
		return len > sizeof(struct emux_wire_file_data) &&
		       len - sizeof(struct emux_wire_file_data) <= EMUX_FILE_DATA_MAX;
	case EMUX_MSG_FILE_END: return len == sizeof(struct emux_wire_file_end);
	case EMUX_MSG_FILES_END: return len == sizeof(struct emux_wire_files_end);
	case EMUX_MSG_OPEN: return len == sizeof(struct emux_wire_open);
	case EMUX_MSG_DATA: return len >= 1 && len <= EMUX_DATA_MAX;
	case EMUX_MSG_CREDIT: return len == sizeof(struct emux_wire_credit);
	case EMUX_MSG_EOF: return len == 0;
	case EMUX_MSG_CLOSE: return len == sizeof(struct emux_wire_close);
	default: return false;
	}
}

static bool emux_exit_ok(uint32_t how, uint32_t code)
{
	switch (how) {
	case EMUX_EXIT_STATUS: return code <= 255;
	case EMUX_EXIT_SIGNAL: return code >= 1 && code <= EMUX_SIGNAL_MAX;
	case EMUX_EXIT_L1_FAILURE: return code == 0;
	case EMUX_EXIT_NO_WORKER: return code >= 1 && code <= EMUX_ERRNO_MAX;
	default: return false;
	}
}

/* The checks decode and encode share. */
static int emux_msg_check(const struct emux_msg *m)
{
	switch (m->type) {
	case EMUX_MSG_EXIT:
		if (!emux_exit_ok(m->exit.how, m->exit.code))
			return -EINVAL;
		if (!wire_utf8_valid(m->exit.text, m->exit.text_len))
			return -EILSEQ;
		return 0;
	case EMUX_MSG_READY:
		return m->ready.endpoints & ~EMUX_EP_ALL ? -EINVAL : 0;
	case EMUX_MSG_SIGNAL:
		return m->signal.signo >= 1 && m->signal.signo <= EMUX_SIGNAL_MAX ? 0 : -EINVAL;
	case EMUX_MSG_OPEN:
		return m->open.endpoint < EMUX_EP_COUNT ? 0 : -EINVAL;
	case EMUX_MSG_CREDIT:
		return m->credit.bytes >= 1 && m->credit.bytes <= EMUX_WINDOW ? 0 : -EINVAL;
	case EMUX_MSG_CLOSE:
		return m->close.error <= EMUX_ERRNO_MAX ? 0 : -EINVAL;
	case EMUX_MSG_FILE:
		return m->file.size <= EMUX_FILE_SIZE_MAX && emux_file_name_ok(m->file.name, m->file.name_len) ? 0
														 : -EINVAL;
	case EMUX_MSG_FILE_DATA:
		return m->file_data.offset <= EMUX_FILE_SIZE_MAX &&
			       m->file_data.len <= EMUX_FILE_SIZE_MAX - m->file_data.offset ? 0 : -EINVAL;
	case EMUX_MSG_FILE_END:
		return m->file_end.bytes <= EMUX_FILE_SIZE_MAX ? 0 : -EINVAL;
	case EMUX_MSG_FILES_END:
		return m->files_end.files <= EMUX_FILES_MAX && m->files_end.error <= EMUX_ERRNO_MAX ? 0 : -EINVAL;
	default:
		return 0;
	}
}

int emux_msg_decode(const struct emux_frame *f, const uint8_t *body, size_t len, enum emux_sender from,
		    struct emux_msg *m)
{
	if (!emux_type_known(f->type) || !(emux_type_senders(f->type) & (from == EMUX_FROM_HOST ? 1u : 2u)))
		return -ENOMSG;
	if (len != f->length || !emux_body_size_ok(f->type, len) || !emux_channel_ok(f->type, f->channel))
		return -EBADMSG;
	struct emux_msg d = { .type = f->type, .channel = f->channel };
	switch (f->type) {
	case EMUX_MSG_HELLO:
		d.hello.major = get16(body);
		d.hello.minor = get16(body + 2);
		d.hello.flags = get32(body + 4);
		break;
	case EMUX_MSG_READY:
		d.ready.endpoints = get32(body);
		break;
	case EMUX_MSG_EXIT:
		d.exit.how = get32(body);
		d.exit.code = get32(body + 4);
		d.exit.text = (const char *)body + sizeof(struct emux_wire_exit);
		d.exit.text_len = len - sizeof(struct emux_wire_exit);
		break;
	case EMUX_MSG_LOG:
		d.log.data = body;
		d.log.len = len;
		break;
	case EMUX_MSG_SIGNAL:
		d.signal.signo = get32(body);
		break;
	case EMUX_MSG_FILE:
		d.file.size = get64(body);
		d.file.name = (const char *)body + sizeof(struct emux_wire_file);
		d.file.name_len = len - sizeof(struct emux_wire_file);
		break;
	case EMUX_MSG_FILE_DATA:
		d.file_data.offset = get64(body);
		d.file_data.data = body + sizeof(struct emux_wire_file_data);
		d.file_data.len = len - sizeof(struct emux_wire_file_data);
		break;
	case EMUX_MSG_FILE_END:
		d.file_end.bytes = get64(body);
		break;
	case EMUX_MSG_FILES_END:
		d.files_end.files = get32(body);
		d.files_end.error = get32(body + 4);
		break;
	case EMUX_MSG_OPEN:
		d.open.endpoint = get32(body);
		break;
	case EMUX_MSG_DATA:
		d.data.data = body;
		d.data.len = len;
		break;
	case EMUX_MSG_CREDIT:
		d.credit.bytes = get32(body);
		break;
	case EMUX_MSG_EOF:
		break;
	case EMUX_MSG_CLOSE:
		d.close.error = get32(body);
		break;
	}
	int r = emux_msg_check(&d);
	if (r < 0)
		return r;
	*m = d;
	return 0;
}

static size_t emux_body_size(const struct emux_msg *m)
{
	switch (m->type) {
	case EMUX_MSG_HELLO: return sizeof(struct emux_wire_hello);
	case EMUX_MSG_READY: return sizeof(struct emux_wire_ready);
	case EMUX_MSG_EXIT: return sizeof(struct emux_wire_exit) + m->exit.text_len;
	case EMUX_MSG_LOG: return m->log.len;
	case EMUX_MSG_SIGNAL: return sizeof(struct emux_wire_signal);
	case EMUX_MSG_FILE: return sizeof(struct emux_wire_file) + m->file.name_len;
	case EMUX_MSG_FILE_DATA: return sizeof(struct emux_wire_file_data) + m->file_data.len;
	case EMUX_MSG_FILE_END: return sizeof(struct emux_wire_file_end);
	case EMUX_MSG_FILES_END: return sizeof(struct emux_wire_files_end);
	case EMUX_MSG_OPEN: return sizeof(struct emux_wire_open);
	case EMUX_MSG_DATA: return m->data.len;
	case EMUX_MSG_CREDIT: return sizeof(struct emux_wire_credit);
	case EMUX_MSG_EOF: return 0;
	case EMUX_MSG_CLOSE: return sizeof(struct emux_wire_close);
	default: return SIZE_MAX;
	}
}

size_t emux_msg_size(const struct emux_msg *m)
{
	if (!emux_type_known(m->type) || !emux_channel_ok(m->type, m->channel))
		return 0;
	size_t body = emux_body_size(m);
	if (!emux_body_size_ok(m->type, body) || emux_msg_check(m) < 0)
		return 0;
	return EMUX_HEADER_SIZE + body;
}

long emux_msg_encode(const struct emux_msg *m, uint8_t *buf, size_t size)
{
	size_t total = emux_msg_size(m);
	if (!total)
		return -EINVAL;
	if (size < total)
		return -ENOSPC;
	size_t body = total - EMUX_HEADER_SIZE;
	put16(buf, m->type);
	put16(buf + 2, m->channel);
	put32(buf + 4, (uint32_t)body);
	uint8_t *b = buf + EMUX_HEADER_SIZE;
	switch (m->type) {
	case EMUX_MSG_HELLO:
		put16(b, m->hello.major);
		put16(b + 2, m->hello.minor);
		put32(b + 4, m->hello.flags);
		break;
	case EMUX_MSG_READY:
		put32(b, m->ready.endpoints);
		break;
	case EMUX_MSG_EXIT:
		put32(b, m->exit.how);
		put32(b + 4, m->exit.code);
		if (m->exit.text_len)
			memcpy(b + sizeof(struct emux_wire_exit), m->exit.text, m->exit.text_len);
		break;
	case EMUX_MSG_LOG:
		memcpy(b, m->log.data, m->log.len);
		break;
	case EMUX_MSG_SIGNAL:
		put32(b, m->signal.signo);
		break;
	case EMUX_MSG_FILE:
		put64(b, m->file.size);
		memcpy(b + sizeof(struct emux_wire_file), m->file.name, m->file.name_len);
		break;
	case EMUX_MSG_FILE_DATA:
		put64(b, m->file_data.offset);
		memcpy(b + sizeof(struct emux_wire_file_data), m->file_data.data, m->file_data.len);
		break;
	case EMUX_MSG_FILE_END:
		put64(b, m->file_end.bytes);
		break;
	case EMUX_MSG_FILES_END:
		put32(b, m->files_end.files);
		put32(b + 4, m->files_end.error);
		break;
	case EMUX_MSG_OPEN:
		put32(b, m->open.endpoint);
		break;
	case EMUX_MSG_DATA:
		memcpy(b, m->data.data, m->data.len);
		break;
	case EMUX_MSG_CREDIT:
		put32(b, m->credit.bytes);
		break;
	case EMUX_MSG_EOF:
		break;
	case EMUX_MSG_CLOSE:
		put32(b, m->close.error);
		break;
	}
	return (long)total;
}

void emux_reader_init(struct emux_reader *r, enum emux_sender from)
{
	*r = (struct emux_reader){ .from = from };
}

void emux_reader_clear(struct emux_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
}

static int emux_reader_deliver(struct emux_reader *r, const struct emux_frame *f, const uint8_t *body,
			       emux_msg_fn fn, void *opaque)
{
	struct emux_msg m;
	int st = emux_msg_decode(f, body, f->length, r->from, &m);
	return fn(opaque, st, f, st == 0 ? &m : NULL);
}

int emux_reader_feed(struct emux_reader *r, const uint8_t *data, size_t len, emux_msg_fn fn, void *opaque)
{
	if (r->broken)
		return -EMSGSIZE;
	while (len > 0) {
		struct emux_frame f;
		/* Whole frames straight from the caller's bytes when nothing is held. */
		if (r->len == 0) {
			int e = emux_frame_parse(data, len, &f);
			if (e == -EMSGSIZE) {
				r->broken = true;
				return e;
			}
			if (e == 0 && len - EMUX_HEADER_SIZE >= f.length) {
				int st = emux_reader_deliver(r, &f, data + EMUX_HEADER_SIZE, fn, opaque);
				data += EMUX_HEADER_SIZE + f.length;
				len -= EMUX_HEADER_SIZE + f.length;
				if (st)
					return st;
				continue;
			}
		}
		if (!r->buf) {
			r->buf = malloc(EMUX_HEADER_SIZE + EMUX_BODY_MAX);
			if (!r->buf)
				return -ENOMEM;
		}
		/* Complete the header first, then exactly the body it announces. */
		size_t want = EMUX_HEADER_SIZE;
		if (r->len >= EMUX_HEADER_SIZE) {
			(void)emux_frame_parse(r->buf, r->len, &f);
			want = EMUX_HEADER_SIZE + f.length;
		}
		size_t n = want - r->len < len ? want - r->len : len;
		memcpy(r->buf + r->len, data, n);
		r->len += n;
		data += n;
		len -= n;
		if (r->len == EMUX_HEADER_SIZE && want == EMUX_HEADER_SIZE) {
			int e = emux_frame_parse(r->buf, r->len, &f);
			if (e == -EMSGSIZE) {
				r->broken = true;
				return e;
			}
			want = EMUX_HEADER_SIZE + f.length;
		}
		if (r->len == want && r->len >= EMUX_HEADER_SIZE) {
			(void)emux_frame_parse(r->buf, r->len, &f);
			r->len = 0;
			int st = emux_reader_deliver(r, &f, r->buf + EMUX_HEADER_SIZE, fn, opaque);
			if (st)
				return st;
		}
	}
	return 0;
}
