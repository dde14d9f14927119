// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_conn.h"
#include "fdpass.h"

#define CONN_READ_CHUNK EMUX_DATA_MAX

struct emuhost_buf *emuhost_conn_up(struct emuhost_conn *c)
{
	switch (c->kind) {
	case EMUHOST_CONN_CONSOLE: return &c->bridge.to_worker;
	case EMUHOST_CONN_CONTROL: return &c->ctl.to_worker;
	case EMUHOST_CONN_SHOT: return &c->shot.to_worker;
	default: return &c->to_agent;
	}
}

struct emuhost_buf *emuhost_conn_down(struct emuhost_conn *c)
{
	switch (c->kind) {
	case EMUHOST_CONN_CONSOLE: return &c->bridge.to_viewer;
	case EMUHOST_CONN_CONTROL: return &c->ctl.to_client;
	case EMUHOST_CONN_SHOT: return &c->to_agent;   /* stays empty: the shot takes everything */
	default: return &c->from_agent;
	}
}

/* The SHOT's owner hears of its end once. */
static void conn_shot_report(struct emuhost_conn *c)
{
	emuhost_conn_shot_fn done = c->shot_done;
	c->shot_done = NULL;
	if (done)
		done(c->shot_opaque, c);
}

void emuhost_conn_free(struct emuhost_conn *c)
{
	if (c->kind == EMUHOST_CONN_SHOT)
		conn_shot_report(c);
	*c->slot = NULL;
	if (c->socket && c->in_fd >= 0)
		close(c->in_fd);
	else if (!c->socket && c->out_fd > 2)
		close(c->out_fd);
	emuhost_buf_free(&c->from_agent);
	emuhost_buf_free(&c->to_agent);
	emuhost_bridge_clear(&c->bridge);
	emuhost_ctl_clear(&c->ctl);
	emuhost_shot_clear(&c->shot);
	g_free(c);
}

void emuhost_conn_close(struct emuhost_conn *c, int err)
{
	(void)emuhost_link_close(c->link, c->ch, (uint32_t)err);
	emuhost_conn_free(c);
}

struct emuhost_conn *emuhost_conn_new(struct emuhost_link *link, struct emuhost_conn **slot, unsigned ch,
				     enum emuhost_conn_kind kind, int in_fd, int out_fd, bool socket,
				     emuhost_ctl_local_fn local, void *opaque)
{
	struct emuhost_conn *c = g_new0(struct emuhost_conn, 1);
	c->link = link;
	c->slot = slot;
	c->ch = ch;
	c->kind = kind;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->socket = socket;
	static uint64_t next_id;
	c->id = ++next_id;
	emuhost_bridge_init(&c->bridge);
	emuhost_ctl_init(&c->ctl, (long)getpid(), local, opaque);
	*slot = c;
	return c;
}

struct emuhost_conn *emuhost_conn_new_shot(struct emuhost_link *link, struct emuhost_conn **slot, unsigned ch,
					  emuhost_conn_shot_fn done, void *opaque)
{
	struct emuhost_conn *c = emuhost_conn_new(link, slot, ch, EMUHOST_CONN_SHOT, -1, -1, false, NULL, NULL);
	c->internal = true;
	if (emuhost_shot_init(&c->shot) < 0) {
		emuhost_conn_close(c, ENOMEM);
		return NULL;
	}
	c->shot_done = done;
	c->shot_opaque = opaque;
	return c;
}

/* Nothing reaches the client any more (it closed, or its socket failed):
 * what it sent before still goes to the worker, what the worker sends is
 * dropped, and the channel closes once the rest has left. */
static void conn_lost(struct emuhost_conn *c);

/* Answers made here are still to come (a save's, once its files are in). */
static bool conn_owes(const struct emuhost_conn *c)
{
	return c->kind == EMUHOST_CONN_CONTROL && emuhost_ctl_owed(&c->ctl);
}

/* Toward the agent: what the connection's filter left, as the window allows. */
bool emuhost_conn_pump_up(struct emuhost_conn *c)
{
	struct emuhost_buf *up = emuhost_conn_up(c);
	while (up->len) {
		size_t n = emuhost_link_send(c->link, c->ch, up->data, up->len);
		if (!n)
			break;
		emuhost_buf_consume(up, n);
	}
	/* The client's end waits for the answers we owe it: the worker's end
	 * after it would end the connection before them. */
	if (c->eof_in && !up->len && !c->internal && !conn_owes(c)) {
		(void)emuhost_link_eof(c->link, c->ch);
		if (c->shut) {
			emuhost_conn_close(c, 0);
			return false;
		}
	}
	return true;
}

/* Through the filter: how many of the agent's bytes it took. */
static long conn_filter_down(struct emuhost_conn *c)
{
	size_t n = c->from_agent.len;
	if (!n || c->kind == EMUHOST_CONN_RAW)
		return 0;
	if (c->kind == EMUHOST_CONN_SHOT) {
		(void)emuhost_shot_from_worker(&c->shot, c->from_agent.data, n);
		emuhost_buf_consume(&c->from_agent, n);
		emuhost_link_consumed(c->link, c->ch, n);
		return (long)n;
	}
	if (c->kind == EMUHOST_CONN_CONSOLE) {
		long t = emuhost_bridge_from_worker(&c->bridge, c->from_agent.data, n);
		if (t < 0)
			return -EPROTO;
		n = (size_t)t;
	} else {
		if (emuhost_conn_down(c)->len >= EMUHOST_CONN_BUF_MAX)
			return 0;
		if (emuhost_ctl_from_worker(&c->ctl, (const char *)c->from_agent.data, n) < 0)
			return -ENOMEM;
	}
	emuhost_buf_consume(&c->from_agent, n);
	emuhost_link_consumed(c->link, c->ch, n);
	return (long)n;
}

/* Some of what waits for the client, out: bytes sent, 0 when it cannot take more, or -errno. */
static ssize_t conn_write(struct emuhost_conn *c)
{
	struct emuhost_buf *down = emuhost_conn_down(c);
	if (c->out_fd < 0)
		return (ssize_t)down->len;      /* nobody listens: an internal request's reply */
	ssize_t n;
	if (c->kind == EMUHOST_CONN_CONSOLE) {
		size_t len;
		int fd;
		emuhost_bridge_next(&c->bridge, &len, &fd);
		n = fdpass_send(c->out_fd, down->data, len, fd);
	} else if (c->socket) {
		n = send(c->out_fd, down->data, down->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		n = write(c->out_fd, down->data, down->len);
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return n;
}

/* The agent's bytes through the filter, then out to the client. false: c is gone. */
bool emuhost_conn_pump_down(struct emuhost_conn *c)
{
	struct emuhost_buf *down = emuhost_conn_down(c);
	for (;;) {
		long f = conn_filter_down(c);
		if (f < 0) {
			emuhost_conn_close(c, (int)-f);
			return false;
		}
		if (c->kind == EMUHOST_CONN_SHOT && c->shot.state != EMUHOST_SHOT_WAITING) {
			/* The picture is in: the rest of the stream is not wanted. */
			conn_shot_report(c);
			emuhost_conn_close(c, 0);
			return false;
		}
		ssize_t n = down->len ? conn_write(c) : 0;
		if (n < 0) {
			/* It may have sent something just before it went. */
			conn_lost(c);
			if (!emuhost_conn_pump_up(c))
				return false;
			continue;
		}
		if (n > 0) {
			if (c->kind == EMUHOST_CONN_CONSOLE)
				emuhost_bridge_sent(&c->bridge, (size_t)n);
			else
				emuhost_buf_consume(down, (size_t)n);
			if (c->kind == EMUHOST_CONN_RAW)
				emuhost_link_consumed(c->link, c->ch, (size_t)n);
		}
		if (f == 0 && n == 0)
			break;
	}
	/* The worker's end does not end the client's while we owe it answers. */
	if (c->eof_out && !c->from_agent.len && !down->len && !c->shut && !conn_owes(c)) {
		c->shut = true;
		if (c->socket && c->out_fd >= 0)
			shutdown(c->out_fd, SHUT_WR);
	}
	if (c->shut && (c->eof_in || c->internal) && !emuhost_conn_up(c)->len) {
		emuhost_conn_close(c, 0);
		return false;
	}
	return true;
}

/* One read from the client into its filter: bytes read, 0 at its end, -EAGAIN, or -errno. */
static ssize_t conn_read_once(struct emuhost_conn *c)
{
	static uint8_t buf[CONN_READ_CHUNK];
	ssize_t n = c->socket ? recv(c->in_fd, buf, sizeof(buf), MSG_DONTWAIT) : read(c->in_fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	if (n == 0) {
		c->eof_in = true;
		return 0;
	}
	int e = 0;
	if (c->kind == EMUHOST_CONN_CONSOLE)
		e = emuhost_bridge_from_viewer(&c->bridge, buf, (size_t)n);
	else if (c->kind == EMUHOST_CONN_CONTROL)
		e = emuhost_ctl_from_client(&c->ctl, (const char *)buf, (size_t)n);
	else
		e = emuhost_buf_append(&c->to_agent, buf, (size_t)n);
	return e < 0 ? e : n;
}

static void conn_lost(struct emuhost_conn *c)
{
	if (c->socket)
		while (!c->eof_in && c->in_fd >= 0 && conn_read_once(c) > 0)
			;
	c->eof_in = true;
	c->shut = true;
	c->out_fd = -1;
}

void emuhost_conn_read(struct emuhost_conn *c)
{
	if (emuhost_conn_up(c)->len >= EMUHOST_CONN_BUF_MAX || c->eof_in)
		return;
	ssize_t n = conn_read_once(c);
	if (n == -EAGAIN)
		return;
	if (n == -ENOMEM) {
		emuhost_conn_close(c, ENOMEM);
		return;
	}
	if (n < 0)
		conn_lost(c);
	else if (n == 0 && c->internal)
		c->in_fd = -1;   /* our stdin ending (vireod gives /dev/null) says nothing about the guest's console */
	if (!emuhost_conn_pump_up(c))
		return;
	/* Local control replies (and what a lost client leaves) go on. */
	(void)emuhost_conn_pump_down(c);
}
