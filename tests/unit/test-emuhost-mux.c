// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The emulated host's multiplexer: the codec (protocols/emuhost_mux.c) for
 * every message type and its malformed variants, the reader over any split
 * of the stream, and the link's channel rules (backend/worker/
 * emuhost_link.c) between a host end and an agent end wired together, and
 * against hand-made hostile frames.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "emuhost_link.h"
#include "emuhost_mux.h"

static size_t enc(const struct emux_msg *m, uint8_t *buf, size_t size)
{
	long n = emux_msg_encode(m, buf, size);
	g_assert_cmpint(n, >, 0);
	return (size_t)n;
}

/* A raw frame: header and body as given, whatever they say. */
static size_t raw(uint8_t *buf, uint16_t type, uint16_t ch, const void *body, uint32_t len)
{
	buf[0] = (uint8_t)type;
	buf[1] = (uint8_t)(type >> 8);
	buf[2] = (uint8_t)ch;
	buf[3] = (uint8_t)(ch >> 8);
	buf[4] = (uint8_t)len;
	buf[5] = (uint8_t)(len >> 8);
	buf[6] = (uint8_t)(len >> 16);
	buf[7] = (uint8_t)(len >> 24);
	if (len)
		memcpy(buf + 8, body, len);
	return 8 + len;
}

static int decode(const uint8_t *buf, size_t len, enum emux_sender from, struct emux_msg *m)
{
	struct emux_frame f;
	int e = emux_frame_parse(buf, len, &f);
	if (e < 0)
		return e;
	g_assert_cmpuint(len, ==, EMUX_HEADER_SIZE + f.length);
	return emux_msg_decode(&f, buf + EMUX_HEADER_SIZE, f.length, from, m);
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_roundtrip(void)
{
	uint8_t buf[EMUX_HEADER_SIZE + EMUX_DATA_MAX];
	static const uint8_t payload[] = "bytes of a connection";
	struct emux_msg msgs[10] = {
		{ .type = EMUX_MSG_HELLO, .hello = { 1, 7, 0 } },
		{ .type = EMUX_MSG_READY, .ready = { EMUX_EP_ALL } },
		{ .type = EMUX_MSG_EXIT, .exit = { EMUX_EXIT_SIGNAL, 9, "killed ünd so", strlen("killed ünd so") } },
		{ .type = EMUX_MSG_LOG, .log = { payload, sizeof(payload) } },
		{ .type = EMUX_MSG_SIGNAL, .signal = { 15 } },
		{ .type = EMUX_MSG_OPEN, .channel = 64, .open = { EMUX_EP_VNC } },
		{ .type = EMUX_MSG_DATA, .channel = 1, .data = { payload, sizeof(payload) } },
		{ .type = EMUX_MSG_CREDIT, .channel = 2, .credit = { EMUX_WINDOW } },
		{ .type = EMUX_MSG_EOF, .channel = 3 },
		{ .type = EMUX_MSG_CLOSE, .channel = 4, .close = { EPROTO } },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(msgs); i++) {
		size_t n = enc(&msgs[i], buf, sizeof(buf));
		g_assert_cmpuint(n, ==, emux_msg_size(&msgs[i]));
		struct emux_msg d;
		uint16_t t = msgs[i].type;
		bool from_host = t == EMUX_MSG_HELLO || t == EMUX_MSG_SIGNAL || t == EMUX_MSG_OPEN || t >= EMUX_MSG_DATA;
		bool from_agent = t != EMUX_MSG_SIGNAL && t != EMUX_MSG_OPEN;
		g_assert_cmpint(decode(buf, n, EMUX_FROM_HOST, &d), ==, from_host ? 0 : -ENOMSG);
		g_assert_cmpint(decode(buf, n, EMUX_FROM_AGENT, &d), ==, from_agent ? 0 : -ENOMSG);
		g_assert_cmpint(decode(buf, n, from_host ? EMUX_FROM_HOST : EMUX_FROM_AGENT, &d), ==, 0);
		g_assert_cmpuint(d.type, ==, t);
		g_assert_cmpuint(d.channel, ==, msgs[i].channel);
		/* And back to the same bytes. */
		uint8_t again[sizeof(buf)];
		g_assert_cmpuint(enc(&d, again, sizeof(again)), ==, n);
		g_assert_cmpmem(again, n, buf, n);
	}
	struct emux_msg d;
	size_t n = enc(&msgs[2], buf, sizeof(buf));
	g_assert_cmpint(decode(buf, n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpuint(d.exit.how, ==, EMUX_EXIT_SIGNAL);
	g_assert_cmpuint(d.exit.code, ==, 9);
	g_assert_cmpmem(d.exit.text, d.exit.text_len, "killed ünd so", strlen("killed ünd so"));
	n = enc(&msgs[6], buf, sizeof(buf));
	g_assert_cmpint(decode(buf, n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpmem(d.data.data, d.data.len, payload, sizeof(payload));
}

static void test_frame_limits(void)
{
	uint8_t buf[16] = { 0 };
	struct emux_frame f;
	g_assert_cmpint(emux_frame_parse(buf, 7, &f), ==, -EAGAIN);
	raw(buf, EMUX_MSG_DATA, 1, NULL, 0);
	le32(buf + 4, EMUX_BODY_MAX);
	g_assert_cmpint(emux_frame_parse(buf, 8, &f), ==, 0);
	g_assert_cmpuint(f.length, ==, EMUX_BODY_MAX);
	le32(buf + 4, EMUX_BODY_MAX + 1);
	g_assert_cmpint(emux_frame_parse(buf, 8, &f), ==, -EMSGSIZE);
	/* Of a type nobody knows: the same limit. */
	raw(buf, 0x7777, 0, NULL, 0);
	le32(buf + 4, 0xffffffffu);
	g_assert_cmpint(emux_frame_parse(buf, 8, &f), ==, -EMSGSIZE);
}

static void test_malformed(void)
{
	uint8_t buf[EMUX_HEADER_SIZE + EMUX_DATA_MAX + 16];
	uint8_t body[EMUX_DATA_MAX + 1] = { 0 };
	struct emux_msg m;
	/* Unknown types, from both sides. */
	g_assert_cmpint(decode(buf, raw(buf, 0x000a, 0, NULL, 0), EMUX_FROM_AGENT, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, 0x00ff, 1, NULL, 0), EMUX_FROM_HOST, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, 0x0000, 0, NULL, 0), EMUX_FROM_HOST, &m), ==, -ENOMSG);
	/* Short and long bodies. */
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_HELLO, 0, body, 7), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_HELLO, 0, body, 9), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_READY, 0, body, 3), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EXIT, 0, body, 7), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EXIT, 0, body, 8 + EMUX_TEXT_MAX + 1), EMUX_FROM_AGENT, &m), ==,
			-EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_LOG, 0, body, 0), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_LOG, 0, body, EMUX_LOG_MAX + 1), EMUX_FROM_AGENT, &m), ==,
			-EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_OPEN, 1, body, 5), EMUX_FROM_HOST, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_DATA, 1, body, 0), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_CREDIT, 1, body, 8), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EOF, 1, body, 1), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_CLOSE, 1, body, 0), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	/* Channel numbers the type does not take. */
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_HELLO, 1, body, 8), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_DATA, 0, body, 1), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_DATA, EMUX_CHANNELS_MAX + 1, body, 1), EMUX_FROM_AGENT, &m), ==,
			-EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EOF, 0xffff, body, 0), EMUX_FROM_AGENT, &m), ==, -EBADMSG);
	/* The wrong side. */
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_OPEN, 1, body, 4), EMUX_FROM_AGENT, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_SIGNAL, 0, body, 4), EMUX_FROM_AGENT, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EXIT, 0, body, 8), EMUX_FROM_HOST, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_READY, 0, body, 4), EMUX_FROM_HOST, &m), ==, -ENOMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_LOG, 0, body, 4), EMUX_FROM_HOST, &m), ==, -ENOMSG);
	/* Fields out of range. */
	uint8_t f[8] = { 0 };
	le32(f, EMUX_EP_COUNT);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_OPEN, 1, f, 4), EMUX_FROM_HOST, &m), ==, -EINVAL);
	le32(f, 1u << EMUX_EP_COUNT);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_READY, 0, f, 4), EMUX_FROM_AGENT, &m), ==, -EINVAL);
	le32(f, 0);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_CREDIT, 1, f, 4), EMUX_FROM_AGENT, &m), ==, -EINVAL);
	le32(f, EMUX_WINDOW + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_CREDIT, 1, f, 4), EMUX_FROM_AGENT, &m), ==, -EINVAL);
	le32(f, 0);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_SIGNAL, 0, f, 4), EMUX_FROM_HOST, &m), ==, -EINVAL);
	le32(f, EMUX_SIGNAL_MAX + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_SIGNAL, 0, f, 4), EMUX_FROM_HOST, &m), ==, -EINVAL);
	le32(f, 4096);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_CLOSE, 1, f, 4), EMUX_FROM_AGENT, &m), ==, -EINVAL);
	static const struct { uint32_t how, code; int want; } exits[] = {
		{ EMUX_EXIT_STATUS, 255, 0 }, { EMUX_EXIT_STATUS, 256, -EINVAL }, { EMUX_EXIT_SIGNAL, 0, -EINVAL },
		{ EMUX_EXIT_SIGNAL, 65, -EINVAL }, { EMUX_EXIT_L1_FAILURE, 0, 0 }, { EMUX_EXIT_L1_FAILURE, 1, -EINVAL },
		{ EMUX_EXIT_NO_WORKER, 0, -EINVAL }, { EMUX_EXIT_NO_WORKER, 2, 0 }, { 0, 0, -EINVAL }, { 9, 0, -EINVAL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(exits); i++) {
		le32(f, exits[i].how);
		le32(f + 4, exits[i].code);
		g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EXIT, 0, f, 8), EMUX_FROM_AGENT, &m), ==, exits[i].want);
	}
	/* EXIT text that is not UTF-8, holds a NUL, or is overlong / a surrogate. */
	static const char *const bad_text[] = { "a\xff", "a\0b", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80" };
	static const size_t bad_len[] = { 2, 3, 2, 3, 2, 4 };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_text); i++) {
		uint8_t e[8 + 8];
		le32(e, EMUX_EXIT_STATUS);
		le32(e + 4, 0);
		memcpy(e + 8, bad_text[i], bad_len[i]);
		g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_EXIT, 0, e, 8 + (uint32_t)bad_len[i]), EMUX_FROM_AGENT, &m), ==,
				-EILSEQ);
	}
	/* The encoder takes only what the decoder would. */
	struct emux_msg bad = { .type = EMUX_MSG_DATA, .channel = 0, .data = { body, 1 } };
	g_assert_cmpint(emux_msg_encode(&bad, buf, sizeof(buf)), ==, -EINVAL);
	bad.channel = 1;
	bad.data.len = EMUX_DATA_MAX + 1;
	g_assert_cmpint(emux_msg_encode(&bad, buf, sizeof(buf)), ==, -EINVAL);
	bad.data.len = 10;
	g_assert_cmpint(emux_msg_encode(&bad, buf, 17), ==, -ENOSPC);
	struct emux_msg badopen = { .type = EMUX_MSG_OPEN, .channel = 1, .open = { 99 } };
	g_assert_cmpuint(emux_msg_size(&badopen), ==, 0);
}

struct collect {
	unsigned ok, bad;
	GString *data;
	int stop_after;
};

static int collect_fn(void *opaque, int status, const struct emux_frame *f, const struct emux_msg *m)
{
	struct collect *c = opaque;
	if (status) {
		g_assert_null(m);
		c->bad++;
		return 0;
	}
	c->ok++;
	if (m->type == EMUX_MSG_DATA)
		g_string_append_len(c->data, (const char *)m->data.data, (gssize)m->data.len);
	return c->stop_after && (int)c->ok == c->stop_after ? 42 : 0;
}

static void test_reader_splits(void)
{
	/* Three frames: a DATA of 1000 bytes, a bad one, an EOF; fed in every chunk size. */
	g_autofree uint8_t *stream = g_malloc(4096);
	uint8_t body[1000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	size_t n = raw(stream, EMUX_MSG_DATA, 5, body, sizeof(body));
	n += raw(stream + n, EMUX_MSG_CREDIT, 5, body, 3);
	n += raw(stream + n, EMUX_MSG_EOF, 5, NULL, 0);
	for (size_t chunk = 1; chunk <= n; chunk += chunk < 16 ? 1 : 97) {
		struct emux_reader r;
		emux_reader_init(&r, EMUX_FROM_AGENT);
		struct collect c = { .data = g_string_new(NULL) };
		for (size_t off = 0; off < n; off += chunk)
			g_assert_cmpint(emux_reader_feed(&r, stream + off, MIN(chunk, n - off), collect_fn, &c), ==, 0);
		g_assert_cmpuint(c.ok, ==, 2);
		g_assert_cmpuint(c.bad, ==, 1);
		g_assert_cmpmem(c.data->str, c.data->len, body, sizeof(body));
		g_assert_cmpuint(r.len, ==, 0);
		g_string_free(c.data, TRUE);
		emux_reader_clear(&r);
	}
	/* A callback's nonzero result stops the reader and comes back. */
	struct emux_reader r;
	emux_reader_init(&r, EMUX_FROM_AGENT);
	struct collect c = { .data = g_string_new(NULL), .stop_after = 1 };
	g_assert_cmpint(emux_reader_feed(&r, stream, n, collect_fn, &c), ==, 42);
	g_string_free(c.data, TRUE);
	emux_reader_clear(&r);
	/* A broken frame ends the stream for good. */
	emux_reader_init(&r, EMUX_FROM_AGENT);
	c = (struct collect){ .data = g_string_new(NULL) };
	uint8_t big[8];
	raw(big, EMUX_MSG_DATA, 1, NULL, 0);
	le32(big + 4, EMUX_BODY_MAX + 1);
	g_assert_cmpint(emux_reader_feed(&r, big, 4, collect_fn, &c), ==, 0);
	g_assert_cmpint(emux_reader_feed(&r, big + 4, 4, collect_fn, &c), ==, -EMSGSIZE);
	g_assert_cmpint(emux_reader_feed(&r, stream, n, collect_fn, &c), ==, -EMSGSIZE);
	g_assert_cmpuint(c.ok + c.bad, ==, 0);
	g_string_free(c.data, TRUE);
	emux_reader_clear(&r);
}

/* ---- two link ends, wired ---- */

struct end {
	struct emuhost_link link;
	GString *data[EMUX_CHANNELS_MAX + 1];
	unsigned opens, eofs, closes, writables, hellos, readies, exits, logs, signals;
	uint32_t last_endpoint, last_close, last_exit_code, last_signal;
	bool auto_consume;
};

static struct end *end_of(void *opaque)
{
	return opaque;
}

static void on_hello(void *o, uint16_t major, uint16_t minor) { end_of(o)->hellos++; }
static void on_ready(void *o, uint32_t ep) { end_of(o)->readies++; }
static void on_exit_msg(void *o, uint32_t how, uint32_t code, const char *t, size_t len)
{
	end_of(o)->exits++;
	end_of(o)->last_exit_code = code;
}
static void on_log(void *o, const uint8_t *d, size_t len) { end_of(o)->logs++; }
static void on_signal(void *o, uint32_t s)
{
	end_of(o)->signals++;
	end_of(o)->last_signal = s;
}
static void on_open(void *o, unsigned ch, uint32_t ep)
{
	end_of(o)->opens++;
	end_of(o)->last_endpoint = ep;
}
static void on_data(void *o, unsigned ch, const uint8_t *d, size_t len)
{
	struct end *e = o;
	if (!e->data[ch])
		e->data[ch] = g_string_new(NULL);
	g_string_append_len(e->data[ch], (const char *)d, (gssize)len);
	if (e->auto_consume)
		emuhost_link_consumed(&e->link, ch, len);
}
static void on_eof(void *o, unsigned ch) { end_of(o)->eofs++; }
static void on_closed(void *o, unsigned ch, uint32_t err)
{
	end_of(o)->closes++;
	end_of(o)->last_close = err;
}
static void on_writable(void *o, unsigned ch) { end_of(o)->writables++; }

static const struct emuhost_link_ops ops = {
	on_hello, on_ready, on_exit_msg, on_log, on_signal, on_open, on_data, on_eof, on_closed, on_writable,
};

static void end_init(struct end *e, enum emuhost_link_role role)
{
	memset(e, 0, sizeof(*e));
	emuhost_link_init(&e->link, role, &ops, e);
}

static void end_clear(struct end *e)
{
	for (unsigned i = 0; i <= EMUX_CHANNELS_MAX; i++)
		if (e->data[i])
			g_string_free(e->data[i], TRUE);
	emuhost_link_clear(&e->link);
}

/* Everything one end queued, into the other. */
static void pump(struct end *from, struct end *to)
{
	while (from->link.out_len) {
		size_t n = from->link.out_len;
		g_autofree uint8_t *copy = g_memdup2(from->link.out, n);
		emuhost_link_written(&from->link, n);
		g_assert_cmpint(emuhost_link_feed(&to->link, copy, n), ==, 0);
	}
}

static void pump_both(struct end *a, struct end *b)
{
	while (a->link.out_len || b->link.out_len) {
		pump(a, b);
		pump(b, a);
	}
}

static void test_link_session(void)
{
	struct end h, a;
	end_init(&h, EMUHOST_LINK_HOST);
	end_init(&a, EMUHOST_LINK_AGENT);
	g_assert_cmpint(emuhost_link_send_hello(&a.link), ==, 0);
	g_assert_cmpint(emuhost_link_send_hello(&h.link), ==, 0);
	g_assert_cmpint(emuhost_link_send_ready(&a.link, 1u << EMUX_EP_CONTROL), ==, 0);
	static const uint8_t logline[] = "vireo-worker: hello\n";
	g_assert_cmpuint(emuhost_link_send_log(&a.link, logline, sizeof(logline) - 1), ==, sizeof(logline) - 1);
	pump_both(&h, &a);
	g_assert_cmpuint(h.hellos, ==, 1);
	g_assert_cmpuint(a.hellos, ==, 1);
	g_assert_cmpuint(h.readies, ==, 1);
	g_assert_cmpuint(h.logs, ==, 1);

	/* The agent end cannot open; the host end opens channel 1 to the control socket. */
	g_assert_cmpint(emuhost_link_open(&a.link, EMUX_EP_CONTROL), ==, -EINVAL);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_COUNT), ==, -EINVAL);
	int ch = emuhost_link_open(&h.link, EMUX_EP_CONTROL);
	g_assert_cmpint(ch, ==, 1);
	g_assert_cmpuint(emuhost_link_send(&h.link, 1, (const uint8_t *)"status\n", 7), ==, 7);
	pump_both(&h, &a);
	g_assert_cmpuint(a.opens, ==, 1);
	g_assert_cmpuint(a.last_endpoint, ==, EMUX_EP_CONTROL);
	g_assert_cmpstr(a.data[1]->str, ==, "status\n");
	g_assert_cmpuint(emuhost_link_send(&a.link, 1, (const uint8_t *)"ok state=running\n", 17), ==, 17);
	pump_both(&h, &a);
	g_assert_cmpstr(h.data[1]->str, ==, "ok state=running\n");

	/* Both ends say EOF and close: the channel is free again, for the next OPEN. */
	g_assert_cmpint(emuhost_link_eof(&h.link, 1), ==, 0);
	g_assert_cmpint(emuhost_link_eof(&a.link, 1), ==, 0);
	pump_both(&h, &a);
	g_assert_cmpuint(h.eofs, ==, 1);
	g_assert_cmpuint(a.eofs, ==, 1);
	g_assert_cmpuint(emuhost_link_send_room(&h.link, 1), ==, 0);   /* after our EOF */
	g_assert_cmpint(emuhost_link_close(&a.link, 1, 0), ==, 0);
	/* Until the host answered, its channel 1 is still taken. */
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONSOLE), ==, 2);
	pump_both(&h, &a);
	g_assert_cmpuint(h.closes, ==, 1);
	g_assert_cmpuint(h.last_close, ==, 0);
	g_assert_false(emuhost_link_chan_open(&h.link, 1));
	g_assert_false(emuhost_link_chan_open(&a.link, 1));
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_SERIAL), ==, 1);

	/* Link messages the other way. */
	g_assert_cmpint(emuhost_link_send_signal(&h.link, 9), ==, 0);
	g_assert_cmpint(emuhost_link_send_signal(&h.link, 0), ==, -EINVAL);
	g_assert_cmpint(emuhost_link_send_exit(&a.link, EMUX_EXIT_STATUS, 13, "turned off"), ==, 0);
	pump_both(&h, &a);
	g_assert_cmpuint(a.signals, ==, 1);
	g_assert_cmpuint(a.last_signal, ==, 9);
	g_assert_cmpuint(h.exits, ==, 1);
	g_assert_cmpuint(h.last_exit_code, ==, 13);
	g_assert_cmpuint(h.link.stats.bad + h.link.stats.unknown + h.link.stats.stray + h.link.stats.violations, ==, 0);
	g_assert_cmpuint(a.link.stats.bad + a.link.stats.unknown + a.link.stats.stray + a.link.stats.violations, ==, 0);
	end_clear(&h);
	end_clear(&a);
}

static void test_link_window(void)
{
	struct end h, a;
	end_init(&h, EMUHOST_LINK_HOST);
	end_init(&a, EMUHOST_LINK_AGENT);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONSOLE), ==, 1);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONTROL), ==, 2);
	pump_both(&h, &a);
	/* The agent sends a window's worth on channel 1; the host does not consume it. */
	g_autofree uint8_t *blob = g_malloc(EMUX_WINDOW + 1);
	memset(blob, 'x', EMUX_WINDOW + 1);
	size_t sent = 0;
	while (sent < EMUX_WINDOW + 1) {
		size_t n = emuhost_link_send(&a.link, 1, blob + sent, EMUX_WINDOW + 1 - sent);
		if (!n)
			break;
		sent += n;
		pump(&a, &h);
	}
	g_assert_cmpuint(sent, ==, EMUX_WINDOW);
	g_assert_cmpuint(emuhost_link_send_room(&a.link, 1), ==, 0);
	/* A slow channel 1 does not hold up channel 2. */
	g_assert_cmpuint(emuhost_link_send(&a.link, 2, (const uint8_t *)"ok\n", 3), ==, 3);
	pump(&a, &h);
	g_assert_cmpstr(h.data[2]->str, ==, "ok\n");
	/* Credit below a batch is kept; a drained channel gets it all back. */
	emuhost_link_consumed(&h.link, 1, 100);
	pump(&h, &a);
	g_assert_cmpuint(a.writables, ==, 0);
	emuhost_link_consumed(&h.link, 1, EMUX_WINDOW);   /* more than was received: capped */
	pump(&h, &a);
	g_assert_cmpuint(a.writables, ==, 1);
	g_assert_cmpuint(emuhost_link_send_room(&a.link, 1), ==, EMUX_DATA_MAX);
	g_assert_cmpuint(a.link.chans[1].send_window, ==, EMUX_WINDOW);
	/* Data waits in the queue up to its limit: then no room, whatever the windows. */
	for (unsigned ch = 3; ch <= 8; ch++)
		g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONSOLE), ==, (int)ch);
	pump(&h, &a);
	for (unsigned ch = 2; ch <= 8; ch++)
		while (emuhost_link_send_room(&a.link, ch))
			(void)emuhost_link_send(&a.link, ch, blob, EMUX_DATA_MAX);
	g_assert_cmpuint(a.link.out_len, ==, EMUHOST_LINK_OUT_DATA_MAX);
	g_assert_cmpuint(emuhost_link_send_room(&a.link, 1), ==, 0);
	g_assert_cmpuint(a.link.chans[1].send_window, ==, EMUX_WINDOW);
	/* Link messages still go in beyond it. */
	g_assert_cmpint(emuhost_link_eof(&a.link, 1), ==, 0);
	pump(&a, &h);
	g_assert_cmpuint(h.eofs, ==, 1);
	g_assert_cmpuint(h.link.stats.violations, ==, 0);
	end_clear(&h);
	end_clear(&a);
}

/* Hand-made frames from a hostile agent, into a host end with channel 1 open. */
static void test_link_hostile(void)
{
	struct end h;
	end_init(&h, EMUHOST_LINK_HOST);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONSOLE), ==, 1);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONTROL), ==, 2);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_SERIAL), ==, 3);
	emuhost_link_written(&h.link, h.link.out_len);
	g_autofree uint8_t *buf = g_malloc(EMUX_HEADER_SIZE + EMUX_DATA_MAX);
	g_autofree uint8_t *body = g_malloc0(EMUX_DATA_MAX);
	uint8_t f[4];
	/* Data for a channel never opened: stray, dropped. */
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_DATA, 9, body, 10)), ==, 0);
	g_assert_cmpuint(h.link.stats.stray, ==, 1);
	g_assert_null(h.data[9]);
	/* An OPEN from the agent: not for this end. */
	le32(f, 0);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_OPEN, 4, f, 4)), ==, 0);
	g_assert_cmpuint(h.link.stats.unknown, ==, 1);
	g_assert_cmpuint(h.opens, ==, 0);
	/* Beyond the window: channel 1 is closed with EPROTO. */
	for (int i = 0; i < 4; i++)
		g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_DATA, 1, body, EMUX_DATA_MAX)), ==, 0);
	g_assert_cmpuint(h.link.stats.violations, ==, 0);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_DATA, 1, body, 1)), ==, 0);
	g_assert_cmpuint(h.link.stats.violations, ==, 1);
	g_assert_cmpuint(h.closes, ==, 1);
	g_assert_cmpuint(h.last_close, ==, EPROTO);
	g_assert_cmpuint(h.data[1]->len, ==, EMUX_WINDOW);
	/* Our CLOSE is queued; what the agent sent before it saw it is dropped quietly. */
	g_assert_cmpuint(h.link.out_len, ==, EMUX_HEADER_SIZE + 4);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_DATA, 1, body, 5)), ==, 0);
	g_assert_cmpuint(h.link.stats.stray, ==, 1);
	g_assert_cmpuint(h.data[1]->len, ==, EMUX_WINDOW);
	/* Credit beyond the window closes channel 2. */
	le32(f, 1);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_CREDIT, 2, f, 4)), ==, 0);
	g_assert_cmpuint(h.link.stats.violations, ==, 2);
	g_assert_false(emuhost_link_chan_open(&h.link, 2));
	/* Data after EOF closes channel 3; so would a second EOF. */
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_EOF, 3, NULL, 0)), ==, 0);
	g_assert_cmpuint(h.eofs, ==, 1);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_DATA, 3, body, 1)), ==, 0);
	g_assert_cmpuint(h.link.stats.violations, ==, 3);
	/* A CLOSE for a channel nobody opened is counted, and answered by nothing. */
	size_t before = h.link.out_len;
	le32(f, 0);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_CLOSE, 20, f, 4)), ==, 0);
	g_assert_cmpuint(h.link.stats.stray, ==, 2);
	g_assert_cmpuint(h.link.out_len, ==, before);
	/* Until a frame breaks the framing: then the link is lost. */
	raw(buf, EMUX_MSG_DATA, 1, NULL, 0);
	le32(buf + 4, EMUX_BODY_MAX + 1);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, 8), ==, -EMSGSIZE);
	g_assert_cmpint(emuhost_link_feed(&h.link, buf, raw(buf, EMUX_MSG_EOF, 1, NULL, 0)), ==, -EMSGSIZE);
	g_assert_cmpint(emuhost_link_send_hello(&h.link), ==, -EMSGSIZE);
	end_clear(&h);
}

static void test_link_exit_text(void)
{
	struct end h, a;
	end_init(&h, EMUHOST_LINK_HOST);
	end_init(&a, EMUHOST_LINK_AGENT);
	/* 300 bytes of "é": cut at EMUX_TEXT_MAX without halving a character. */
	GString *s = g_string_new(NULL);
	for (int i = 0; i < 150; i++)
		g_string_append(s, "é");
	g_assert_cmpint(emuhost_link_send_exit(&a.link, EMUX_EXIT_L1_FAILURE, 0, s->str), ==, 0);
	pump(&a, &h);
	g_assert_cmpuint(h.exits, ==, 1);
	g_assert_cmpuint(h.link.stats.bad, ==, 0);
	g_string_free(s, TRUE);
	/* 64 channels, then none. */
	for (unsigned i = 1; i <= EMUX_CHANNELS_MAX; i++)
		g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONTROL), ==, (int)i);
	g_assert_cmpint(emuhost_link_open(&h.link, EMUX_EP_CONTROL), ==, -EBUSY);
	end_clear(&h);
	end_clear(&a);
}

/* Mux 1.1: a saved state's files, from the agent only. */
static void test_files(void)
{
	uint8_t buf[EMUX_HEADER_SIZE + EMUX_BODY_MAX];
	uint8_t body[EMUX_BODY_MAX] = { 0 };
	struct emux_msg m, d;
	m = (struct emux_msg){ .type = EMUX_MSG_FILE };
	m.file.size = 5ull << 30;
	m.file.name = "ram.img";
	m.file.name_len = 7;
	long n = emux_msg_encode(&m, buf, sizeof(buf));
	g_assert_cmpint(n, ==, EMUX_HEADER_SIZE + 8 + 7);
	g_assert_cmpint(decode(buf, (size_t)n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpuint(d.file.size, ==, 5ull << 30);
	g_assert_cmpmem(d.file.name, d.file.name_len, "ram.img", 7);
	/* Not from the host. */
	g_assert_cmpint(decode(buf, (size_t)n, EMUX_FROM_HOST, &d), ==, -ENOMSG);
	m = (struct emux_msg){ .type = EMUX_MSG_FILE_DATA };
	m.file_data.offset = 1ull << 33;
	m.file_data.data = body;
	m.file_data.len = EMUX_FILE_DATA_MAX;
	n = emux_msg_encode(&m, buf, sizeof(buf));
	g_assert_cmpint(n, ==, EMUX_HEADER_SIZE + EMUX_BODY_MAX);
	g_assert_cmpint(decode(buf, (size_t)n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpuint(d.file_data.offset, ==, 1ull << 33);
	g_assert_cmpuint(d.file_data.len, ==, EMUX_FILE_DATA_MAX);
	m = (struct emux_msg){ .type = EMUX_MSG_FILE_END, .file_end = { 12345 } };
	n = emux_msg_encode(&m, buf, sizeof(buf));
	g_assert_cmpint(decode(buf, (size_t)n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpuint(d.file_end.bytes, ==, 12345);
	m = (struct emux_msg){ .type = EMUX_MSG_FILES_END, .files_end = { 3, 0 } };
	n = emux_msg_encode(&m, buf, sizeof(buf));
	g_assert_cmpint(decode(buf, (size_t)n, EMUX_FROM_AGENT, &d), ==, 0);
	g_assert_cmpuint(d.files_end.files, ==, 3);

	/* Names that are paths, hidden, empty, too long or not plain. */
	static const char *const bad_names[] = { "../x", "a/b", ".state", "", "sp ace", "nul\0", "\xc3\xa9" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_names); i++) {
		size_t len = i == 5 ? 4 : strlen(bad_names[i]);
		memset(body, 0, 8);
		memcpy(body + 8, bad_names[i], len);
		int want = len == 0 ? -EBADMSG : -EINVAL;
		g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE, 0, body, 8 + len), EMUX_FROM_AGENT, &d), ==, want);
	}
	memset(body + 8, 'a', EMUX_FILE_NAME_MAX + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE, 0, body, 8 + EMUX_FILE_NAME_MAX + 1), EMUX_FROM_AGENT, &d), ==,
			-EBADMSG);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE, 0, body, 8 + EMUX_FILE_NAME_MAX), EMUX_FROM_AGENT, &d), ==, 0);
	/* A size beyond the limit; data beyond it; counts out of range. */
	le32(body, 0), le32(body + 4, (uint32_t)(EMUX_FILE_SIZE_MAX >> 32) + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE, 0, body, 9), EMUX_FROM_AGENT, &d), ==, -EINVAL);
	le32(body, 0xffffffffu), le32(body + 4, (uint32_t)(EMUX_FILE_SIZE_MAX >> 32) - 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE_DATA, 0, body, 8 + 4096), EMUX_FROM_AGENT, &d), ==, -EINVAL);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE_DATA, 0, body, 8), EMUX_FROM_AGENT, &d), ==, -EBADMSG);
	le32(body + 4, (uint32_t)(EMUX_FILE_SIZE_MAX >> 32) + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE_END, 0, body, 8), EMUX_FROM_AGENT, &d), ==, -EINVAL);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILE_END, 0, body, 7), EMUX_FROM_AGENT, &d), ==, -EBADMSG);
	le32(body, EMUX_FILES_MAX + 1), le32(body + 4, 0);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILES_END, 0, body, 8), EMUX_FROM_AGENT, &d), ==, -EINVAL);
	le32(body, 1), le32(body + 4, EMUX_ERRNO_MAX + 1);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILES_END, 0, body, 8), EMUX_FROM_AGENT, &d), ==, -EINVAL);
	/* On a channel: not a link message's place. */
	le32(body + 4, 0);
	g_assert_cmpint(decode(buf, raw(buf, EMUX_MSG_FILES_END, 1, body, 8), EMUX_FROM_AGENT, &d), ==, -EBADMSG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-mux/roundtrip", test_roundtrip);
	g_test_add_func("/emuhost-mux/frame-limits", test_frame_limits);
	g_test_add_func("/emuhost-mux/malformed", test_malformed);
	g_test_add_func("/emuhost-mux/files", test_files);
	g_test_add_func("/emuhost-mux/reader-splits", test_reader_splits);
	g_test_add_func("/emuhost-mux/link-session", test_link_session);
	g_test_add_func("/emuhost-mux/link-window", test_link_window);
	g_test_add_func("/emuhost-mux/link-hostile", test_link_hostile);
	g_test_add_func("/emuhost-mux/link-exit-text", test_link_exit_text);
	return g_test_run();
}
