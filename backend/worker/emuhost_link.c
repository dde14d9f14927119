// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_link.h"

void emuhost_link_init(struct emuhost_link *l, enum emuhost_link_role role, const struct emuhost_link_ops *ops,
		       void *opaque)
{
	*l = (struct emuhost_link){ .role = role, .ops = ops, .opaque = opaque };
	emux_reader_init(&l->reader, role == EMUHOST_LINK_HOST ? EMUX_FROM_AGENT : EMUX_FROM_HOST);
}

void emuhost_link_clear(struct emuhost_link *l)
{
	emux_reader_clear(&l->reader);
	free(l->out);
	l->out = NULL;
	l->out_len = l->out_cap = 0;
}

static int link_queue(struct emuhost_link *l, const struct emux_msg *m, size_t limit)
{
	size_t size = emux_msg_size(m);
	if (!size)
		return -EINVAL;
	if (l->error)
		return l->error;
	if (l->out_len + size > limit)
		return -ENOBUFS;
	if (l->out_len + size > l->out_cap) {
		size_t cap = l->out_cap ? l->out_cap : 64u * 1024u;
		while (cap < l->out_len + size)
			cap *= 2;
		if (cap > EMUHOST_LINK_OUT_MAX)
			cap = EMUHOST_LINK_OUT_MAX;
		uint8_t *p = realloc(l->out, cap);
		if (!p)
			return -ENOMEM;
		l->out = p;
		l->out_cap = cap;
	}
	long n = emux_msg_encode(m, l->out + l->out_len, l->out_cap - l->out_len);
	if (n < 0)
		return (int)n;
	l->out_len += (size_t)n;
	return 0;
}

/* A link message must go out: a peer that never reads loses the link. */
static int link_queue_control(struct emuhost_link *l, const struct emux_msg *m)
{
	int e = link_queue(l, m, EMUHOST_LINK_OUT_MAX);
	if (e == -ENOBUFS || e == -ENOMEM)
		l->error = e;
	return e;
}

void emuhost_link_written(struct emuhost_link *l, size_t n)
{
	if (n >= l->out_len) {
		l->out_len = 0;
		return;
	}
	memmove(l->out, l->out + n, l->out_len - n);
	l->out_len -= n;
}

int emuhost_link_send_hello(struct emuhost_link *l)
{
	struct emux_msg m = { .type = EMUX_MSG_HELLO };
	m.hello.major = EMUX_VERSION_MAJOR;
	m.hello.minor = EMUX_VERSION_MINOR;
	return link_queue_control(l, &m);
}

int emuhost_link_send_ready(struct emuhost_link *l, uint32_t endpoints)
{
	struct emux_msg m = { .type = EMUX_MSG_READY };
	m.ready.endpoints = endpoints;
	return link_queue_control(l, &m);
}

int emuhost_link_send_exit(struct emuhost_link *l, uint32_t how, uint32_t code, const char *text)
{
	struct emux_msg m = { .type = EMUX_MSG_EXIT };
	m.exit.how = how;
	m.exit.code = code;
	m.exit.text = text ? text : "";
	m.exit.text_len = strlen(m.exit.text);
	if (m.exit.text_len > EMUX_TEXT_MAX)
		m.exit.text_len = EMUX_TEXT_MAX;
	/* Do not cut a UTF-8 sequence in two. */
	while (m.exit.text_len && ((const uint8_t *)m.exit.text)[m.exit.text_len] >= 0x80 &&
	       (((const uint8_t *)m.exit.text)[m.exit.text_len] & 0xc0) == 0x80)
		m.exit.text_len--;
	return link_queue_control(l, &m);
}

int emuhost_link_send_signal(struct emuhost_link *l, uint32_t signo)
{
	struct emux_msg m = { .type = EMUX_MSG_SIGNAL };
	m.signal.signo = signo;
	return link_queue_control(l, &m);
}

int emuhost_link_send_file_msg(struct emuhost_link *l, const struct emux_msg *m)
{
	if (m->type < EMUX_MSG_FILE || m->type > EMUX_MSG_FILES_END || m->channel)
		return -EINVAL;
	/* Like data: the files wait for room, the link's own messages do not. */
	return link_queue(l, m, EMUHOST_LINK_OUT_DATA_MAX);
}

size_t emuhost_link_send_log(struct emuhost_link *l, const uint8_t *data, size_t len)
{
	size_t done = 0;
	while (done < len) {
		struct emux_msg m = { .type = EMUX_MSG_LOG };
		m.log.data = data + done;
		m.log.len = len - done < EMUX_LOG_MAX ? len - done : EMUX_LOG_MAX;
		if (link_queue(l, &m, EMUHOST_LINK_OUT_DATA_MAX) < 0)
			break;
		done += m.log.len;
	}
	return done;
}

static bool link_ch_valid(unsigned ch)
{
	return ch >= 1 && ch <= EMUX_CHANNELS_MAX;
}

bool emuhost_link_chan_open(const struct emuhost_link *l, unsigned ch)
{
	return link_ch_valid(ch) && l->chans[ch].state == EMUHOST_CHAN_OPEN;
}

static void link_chan_start(struct emuhost_link_chan *c)
{
	*c = (struct emuhost_link_chan){ .state = EMUHOST_CHAN_OPEN, .send_window = EMUX_WINDOW,
					 .recv_window = EMUX_WINDOW };
}

int emuhost_link_open(struct emuhost_link *l, uint32_t endpoint)
{
	if (l->role != EMUHOST_LINK_HOST || endpoint >= EMUX_EP_COUNT)
		return -EINVAL;
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
		if (l->chans[ch].state != EMUHOST_CHAN_FREE)
			continue;
		struct emux_msg m = { .type = EMUX_MSG_OPEN, .channel = (uint16_t)ch };
		m.open.endpoint = endpoint;
		int e = link_queue_control(l, &m);
		if (e < 0)
			return e;
		link_chan_start(&l->chans[ch]);
		return (int)ch;
	}
	return -EBUSY;
}

size_t emuhost_link_send_room(const struct emuhost_link *l, unsigned ch)
{
	if (!emuhost_link_chan_open(l, ch) || l->chans[ch].eof_sent || l->error)
		return 0;
	if (l->out_len + EMUX_HEADER_SIZE >= EMUHOST_LINK_OUT_DATA_MAX)
		return 0;
	size_t room = EMUHOST_LINK_OUT_DATA_MAX - l->out_len - EMUX_HEADER_SIZE;
	size_t n = l->chans[ch].send_window;
	if (n > room)
		n = room;
	return n > EMUX_DATA_MAX ? EMUX_DATA_MAX : n;
}

size_t emuhost_link_send(struct emuhost_link *l, unsigned ch, const uint8_t *data, size_t len)
{
	size_t n = emuhost_link_send_room(l, ch);
	if (n > len)
		n = len;
	if (!n)
		return 0;
	struct emux_msg m = { .type = EMUX_MSG_DATA, .channel = (uint16_t)ch };
	m.data.data = data;
	m.data.len = n;
	if (link_queue(l, &m, EMUHOST_LINK_OUT_DATA_MAX) < 0)
		return 0;
	l->chans[ch].send_window -= (uint32_t)n;
	return n;
}

int emuhost_link_eof(struct emuhost_link *l, unsigned ch)
{
	if (!emuhost_link_chan_open(l, ch))
		return -ENOTCONN;
	if (l->chans[ch].eof_sent)
		return 0;
	struct emux_msg m = { .type = EMUX_MSG_EOF, .channel = (uint16_t)ch };
	int e = link_queue_control(l, &m);
	if (e == 0)
		l->chans[ch].eof_sent = true;
	return e;
}

int emuhost_link_close(struct emuhost_link *l, unsigned ch, uint32_t error)
{
	if (!emuhost_link_chan_open(l, ch))
		return -ENOTCONN;
	struct emux_msg m = { .type = EMUX_MSG_CLOSE, .channel = (uint16_t)ch };
	m.close.error = error <= 4095 ? error : EIO;
	int e = link_queue_control(l, &m);
	/* Even when it could not be queued: the link is lost then. */
	l->chans[ch].state = EMUHOST_CHAN_CLOSING;
	return e;
}

void emuhost_link_consumed(struct emuhost_link *l, unsigned ch, size_t n)
{
	if (!emuhost_link_chan_open(l, ch) || n == 0)
		return;
	struct emuhost_link_chan *c = &l->chans[ch];
	/* Never credit more than was received: the window stays within EMUX_WINDOW. */
	uint64_t outstanding = (uint64_t)EMUX_WINDOW - c->recv_window - c->unacked;
	if (n > outstanding)
		n = (size_t)outstanding;
	c->unacked += (uint32_t)n;
	bool drained = c->recv_window + c->unacked == EMUX_WINDOW;
	if (c->unacked >= EMUHOST_LINK_CREDIT_BATCH || (drained && c->unacked)) {
		struct emux_msg m = { .type = EMUX_MSG_CREDIT, .channel = (uint16_t)ch };
		m.credit.bytes = c->unacked;
		if (link_queue_control(l, &m) == 0) {
			c->recv_window += c->unacked;
			c->unacked = 0;
		}
	}
}

/* A rule of the channel was broken: it is closed, its user told. */
static void link_violation(struct emuhost_link *l, unsigned ch)
{
	l->stats.violations++;
	(void)emuhost_link_close(l, ch, EPROTO);
	if (l->ops->closed)
		l->ops->closed(l->opaque, ch, EPROTO);
}

static void link_on_chan_msg(struct emuhost_link *l, const struct emux_msg *m)
{
	unsigned ch = m->channel;
	struct emuhost_link_chan *c = &l->chans[ch];
	if (m->type == EMUX_MSG_OPEN) {
		if (c->state != EMUHOST_CHAN_FREE) {
			l->stats.bad++;
			return;
		}
		link_chan_start(c);
		if (l->ops->open)
			l->ops->open(l->opaque, ch, m->open.endpoint);
		return;
	}
	if (c->state == EMUHOST_CHAN_CLOSING) {
		/* What the peer sent before it saw our CLOSE; its CLOSE frees the channel. */
		if (m->type == EMUX_MSG_CLOSE)
			c->state = EMUHOST_CHAN_FREE;
		return;
	}
	if (c->state == EMUHOST_CHAN_FREE) {
		l->stats.stray++;
		return;
	}
	switch (m->type) {
	case EMUX_MSG_DATA:
		if (c->eof_received || m->data.len > c->recv_window) {
			link_violation(l, ch);
			return;
		}
		c->recv_window -= (uint32_t)m->data.len;
		if (l->ops->data)
			l->ops->data(l->opaque, ch, m->data.data, m->data.len);
		return;
	case EMUX_MSG_CREDIT:
		if ((uint64_t)c->send_window + m->credit.bytes > EMUX_WINDOW) {
			link_violation(l, ch);
			return;
		}
		c->send_window += m->credit.bytes;
		if (l->ops->writable)
			l->ops->writable(l->opaque, ch);
		return;
	case EMUX_MSG_EOF:
		if (c->eof_received) {
			link_violation(l, ch);
			return;
		}
		c->eof_received = true;
		if (l->ops->eof)
			l->ops->eof(l->opaque, ch);
		return;
	case EMUX_MSG_CLOSE: {
		/* Answer it, then the channel is free on both ends. */
		struct emux_msg r = { .type = EMUX_MSG_CLOSE, .channel = (uint16_t)ch };
		(void)link_queue_control(l, &r);
		c->state = EMUHOST_CHAN_FREE;
		if (l->ops->closed)
			l->ops->closed(l->opaque, ch, m->close.error);
		return;
	}
	default:
		l->stats.bad++;
		return;
	}
}

static int link_on_msg(void *opaque, int status, const struct emux_frame *f, const struct emux_msg *m)
{
	struct emuhost_link *l = opaque;
	if (status == -ENOMSG) {
		l->stats.unknown++;
		return 0;
	}
	if (status < 0) {
		l->stats.bad++;
		return 0;
	}
	l->stats.messages++;
	switch (m->type) {
	case EMUX_MSG_HELLO:
		if (l->ops->hello)
			l->ops->hello(l->opaque, m->hello.major, m->hello.minor);
		break;
	case EMUX_MSG_READY:
		if (l->ops->ready)
			l->ops->ready(l->opaque, m->ready.endpoints);
		break;
	case EMUX_MSG_EXIT:
		if (l->ops->exit)
			l->ops->exit(l->opaque, m->exit.how, m->exit.code, m->exit.text, m->exit.text_len);
		break;
	case EMUX_MSG_LOG:
		if (l->ops->log)
			l->ops->log(l->opaque, m->log.data, m->log.len);
		break;
	case EMUX_MSG_SIGNAL:
		if (l->ops->signal)
			l->ops->signal(l->opaque, m->signal.signo);
		break;
	case EMUX_MSG_FILE:
	case EMUX_MSG_FILE_DATA:
	case EMUX_MSG_FILE_END:
	case EMUX_MSG_FILES_END:
		if (l->ops->file)
			l->ops->file(l->opaque, m);
		break;
	default:
		link_on_chan_msg(l, m);
		break;
	}
	return l->error;
}

int emuhost_link_feed(struct emuhost_link *l, const uint8_t *data, size_t len)
{
	if (l->error)
		return l->error;
	int e = emux_reader_feed(&l->reader, data, len, link_on_msg, l);
	if (e < 0 && !l->error)
		l->error = e;
	return l->error;
}
