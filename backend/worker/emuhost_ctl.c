// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_ctl.h"

#define CTL_CANNOT "error the emulated host cannot answer that"

void emuhost_ctl_init(struct emuhost_ctl *c, long pid, emuhost_ctl_local_fn local, void *opaque)
{
	*c = (struct emuhost_ctl){ .pid = pid, .local = local, .opaque = opaque, .next_ticket = 1 };
}

void emuhost_ctl_set_hooks(struct emuhost_ctl *c, const struct emuhost_ctl_hooks *hooks, void *opaque)
{
	c->hooks = hooks;
	c->hooks_opaque = opaque;
}

static struct emuhost_ctl_pending *ctl_at(struct emuhost_ctl *c, unsigned i)
{
	return &c->pending[(c->head + i) % EMUHOST_CTL_PENDING_MAX];
}

static void ctl_pop(struct emuhost_ctl *c)
{
	struct emuhost_ctl_pending *p = ctl_at(c, 0);
	free(p->reply);
	*p = (struct emuhost_ctl_pending){ 0 };
	c->head = (c->head + 1) % EMUHOST_CTL_PENDING_MAX;
	c->npending--;
}

void emuhost_ctl_clear(struct emuhost_ctl *c)
{
	while (c->npending)
		ctl_pop(c);
	emuhost_buf_free(&c->reply);
	emuhost_buf_free(&c->to_worker);
	emuhost_buf_free(&c->to_client);
}

static bool ctl_full(const struct emuhost_ctl *c)
{
	return !c->raw && c->npending >= EMUHOST_CTL_PENDING_MAX;
}

static int ctl_fail(struct emuhost_ctl *c, int e)
{
	if (!c->error)
		c->error = e;
	return c->error;
}

static int ctl_out(struct emuhost_buf *b, struct emuhost_ctl *c, const void *data, size_t len)
{
	return emuhost_buf_append(b, data, len) < 0 ? ctl_fail(c, -ENOMEM) : 0;
}

static struct emuhost_ctl_pending *ctl_push(struct emuhost_ctl *c, enum emuhost_ctl_wait wait)
{
	struct emuhost_ctl_pending *p = ctl_at(c, c->npending);
	if (!c->next_ticket)
		c->next_ticket = 1;
	*p = (struct emuhost_ctl_pending){ .ticket = c->next_ticket++, .wait = wait };
	c->npending++;
	return p;
}

/* p's reply: text and a newline. */
static void ctl_ready(struct emuhost_ctl *c, struct emuhost_ctl_pending *p, const char *text)
{
	size_t n = strlen(text);
	char *r = malloc(n + 1);
	if (!r) {
		ctl_fail(c, -ENOMEM);
		return;
	}
	memcpy(r, text, n);
	r[n] = '\n';
	free(p->reply);
	p->reply = r;
	p->reply_len = n + 1;
	p->wait = EMUHOST_CTL_READY;
}

/* The replies that are next in line go out now. */
static void ctl_flush(struct emuhost_ctl *c)
{
	while (c->npending && ctl_at(c, 0)->wait == EMUHOST_CTL_READY) {
		struct emuhost_ctl_pending *p = ctl_at(c, 0);
		(void)ctl_out(&c->to_client, c, p->reply, p->reply_len);
		ctl_pop(c);
	}
}

/* "emuhost" as the first word: the arguments after it, else NULL. */
static const char *ctl_local_args(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, "emuhost", 7) != 0 || (line[7] && line[7] != ' ' && line[7] != '\t'))
		return NULL;
	line += 7;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static void ctl_route(struct emuhost_ctl *c, struct emuhost_ctl_pending *p, enum emuhost_ctl_route route, char *text)
{
	switch (route) {
	case EMUHOST_CTL_PASS:
		(void)ctl_out(&c->to_worker, c, c->cmd, c->cmd_len);
		(void)ctl_out(&c->to_worker, c, "\n", 1);
		break;
	case EMUHOST_CTL_ANSWER:
		ctl_ready(c, p, text ? text : CTL_CANNOT);
		break;
	case EMUHOST_CTL_LATER:
		p->wait = EMUHOST_CTL_WAIT_ANSWER;
		break;
	case EMUHOST_CTL_REWRITE:
		/* A line of its own, or the worker's replies would be out of step. */
		if (!text || strchr(text, '\n')) {
			ctl_ready(c, p, CTL_CANNOT);
			break;
		}
		(void)ctl_out(&c->to_worker, c, text, strlen(text));
		(void)ctl_out(&c->to_worker, c, "\n", 1);
		p->wait = EMUHOST_CTL_WAIT_HOOK;
		break;
	}
	free(text);
}

static void ctl_command(struct emuhost_ctl *c)
{
	/* The worker strips the line too: trailing blanks mean nothing. */
	while (c->cmd_len && (c->cmd[c->cmd_len - 1] == '\r' || c->cmd[c->cmd_len - 1] == ' ' ||
			      c->cmd[c->cmd_len - 1] == '\t'))
		c->cmd_len--;
	c->cmd[c->cmd_len] = 0;
	const char *args = ctl_local_args(c->cmd);
	struct emuhost_ctl_pending *p = ctl_push(c, EMUHOST_CTL_WAIT_WORKER);
	if (args) {
		char *r = c->local ? c->local(c->opaque, args) : NULL;
		ctl_ready(c, p, r ? r : CTL_CANNOT);
		free(r);
	} else {
		char *text = NULL;
		enum emuhost_ctl_route route = EMUHOST_CTL_PASS;
		if (c->hooks && c->hooks->command)
			route = c->hooks->command(c->hooks_opaque, c, p->ticket, c->cmd, &text);
		ctl_route(c, p, route, text);
	}
	ctl_flush(c);
	c->cmd_len = 0;
}

/* Everything held goes on as it is, and so does all that follows. */
static void ctl_go_raw(struct emuhost_ctl *c)
{
	c->raw = true;
	(void)ctl_out(&c->to_worker, c, c->cmd, c->cmd_len);
	c->cmd_len = 0;
	/* The replies known already go first: they answered earlier lines. */
	while (c->npending) {
		struct emuhost_ctl_pending *p = ctl_at(c, 0);
		if (p->wait == EMUHOST_CTL_READY)
			(void)ctl_out(&c->to_client, c, p->reply, p->reply_len);
		ctl_pop(c);
	}
	(void)ctl_out(&c->to_client, c, c->reply.data, c->reply.len);
	emuhost_buf_consume(&c->reply, c->reply.len);
}

int emuhost_ctl_from_client(struct emuhost_ctl *c, const char *data, size_t len)
{
	for (size_t i = 0; i < len && !c->error; i++) {
		if (c->raw)
			return ctl_out(&c->to_worker, c, data + i, len - i);
		if (data[i] == '\n') {
			if (ctl_full(c)) {
				/* The client asks faster than replies come: it is not a client of ours. */
				ctl_go_raw(c);
				return ctl_out(&c->to_worker, c, data + i, len - i);
			}
			ctl_command(c);
		} else if (c->cmd_len >= EMUHOST_CTL_CMD_MAX) {
			ctl_go_raw(c);
			return ctl_out(&c->to_worker, c, data + i, len - i);
		} else {
			c->cmd[c->cmd_len++] = data[i];
		}
	}
	return c->error;
}

/* The worker's line for the client, "pid=N" of an "ok" reply naming our process. */
static void ctl_reply_line(struct emuhost_ctl *c, struct emuhost_buf *out, const char *line, size_t len)
{
	const char *p = NULL;
	if (len >= 2 && line[0] == 'o' && line[1] == 'k') {
		for (size_t i = 0; i + 4 <= len; i++) {
			if ((i == 0 || line[i - 1] == ' ') && memcmp(line + i, "pid=", 4) == 0) {
				p = line + i + 4;
				break;
			}
		}
	}
	if (!p) {
		(void)ctl_out(out, c, line, len);
		return;
	}
	const char *end = p;
	while (end < line + len && *end >= '0' && *end <= '9')
		end++;
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%ld", c->pid);
	(void)ctl_out(out, c, line, (size_t)(p - line));
	(void)ctl_out(out, c, pid, (size_t)n);
	(void)ctl_out(out, c, end, (size_t)(line + len - end));
}

/* The first command still waiting for the worker's reply, or NULL. */
static struct emuhost_ctl_pending *ctl_awaiting_worker(struct emuhost_ctl *c)
{
	for (unsigned i = 0; i < c->npending; i++) {
		struct emuhost_ctl_pending *p = ctl_at(c, i);
		if (p->wait == EMUHOST_CTL_WAIT_WORKER || p->wait == EMUHOST_CTL_WAIT_HOOK)
			return p;
	}
	return NULL;
}

/* A whole reply line of the worker's (with its newline) to whom it answers. */
static void ctl_worker_line(struct emuhost_ctl *c, const char *line, size_t len)
{
	struct emuhost_ctl_pending *p = ctl_awaiting_worker(c);
	if (!p) {
		/* An unasked-for line passes as it is. */
		ctl_reply_line(c, &c->to_client, line, len);
		return;
	}
	if (p->wait == EMUHOST_CTL_WAIT_WORKER) {
		struct emuhost_buf b = { 0 };
		ctl_reply_line(c, &b, line, len);
		free(p->reply);
		p->reply = (char *)b.data;
		p->reply_len = b.len;
		p->wait = EMUHOST_CTL_READY;
		return;
	}
	/* Rewritten: the hook makes the answer, now or later. */
	p->wait = EMUHOST_CTL_WAIT_ANSWER;
	size_t n = len && line[len - 1] == '\n' ? len - 1 : len;
	char *copy = malloc(n + 1);
	if (!copy) {
		ctl_fail(c, -ENOMEM);
		return;
	}
	memcpy(copy, line, n);
	copy[n] = 0;
	if (c->hooks && c->hooks->reply)
		c->hooks->reply(c->hooks_opaque, c, p->ticket, copy);
	else
		ctl_ready(c, p, copy);
	free(copy);
}

int emuhost_ctl_from_worker(struct emuhost_ctl *c, const char *data, size_t len)
{
	while (len && !c->error) {
		if (c->raw)
			return ctl_out(&c->to_client, c, data, len);
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;
		if (c->reply.len + n > EMUHOST_CTL_LINE_MAX) {
			ctl_go_raw(c);
			continue;
		}
		if (emuhost_buf_append(&c->reply, data, n) < 0)
			return ctl_fail(c, -ENOMEM);
		data += n;
		len -= n;
		if (!nl)
			break;
		ctl_worker_line(c, (const char *)c->reply.data, c->reply.len);
		emuhost_buf_consume(&c->reply, c->reply.len);
		ctl_flush(c);
	}
	return c->error;
}

int emuhost_ctl_answer(struct emuhost_ctl *c, uint32_t ticket, const char *text)
{
	for (unsigned i = 0; i < c->npending; i++) {
		struct emuhost_ctl_pending *p = ctl_at(c, i);
		if (p->ticket != ticket || (p->wait != EMUHOST_CTL_WAIT_ANSWER && p->wait != EMUHOST_CTL_WAIT_HOOK))
			continue;
		ctl_ready(c, p, text);
		ctl_flush(c);
		return c->error;
	}
	return -ENOENT;
}

bool emuhost_ctl_owed(const struct emuhost_ctl *c)
{
	for (unsigned i = 0; i < c->npending; i++) {
		/* Not WAIT_HOOK: after the worker's end its reply never comes. */
		if (c->pending[(c->head + i) % EMUHOST_CTL_PENDING_MAX].wait == EMUHOST_CTL_WAIT_ANSWER)
			return true;
	}
	return false;
}
