// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emuhost_ctl.h"

void emuhost_ctl_init(struct emuhost_ctl *c, long pid, emuhost_ctl_local_fn local, void *opaque)
{
	*c = (struct emuhost_ctl){ .pid = pid, .local = local, .opaque = opaque };
}

void emuhost_ctl_clear(struct emuhost_ctl *c)
{
	for (unsigned i = 0; i < c->npending; i++)
		free(c->pending[(c->head + i) % EMUHOST_CTL_PENDING_MAX]);
	c->npending = 0;
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

static void ctl_push(struct emuhost_ctl *c, char *local)
{
	c->pending[(c->head + c->npending) % EMUHOST_CTL_PENDING_MAX] = local;
	c->npending++;
}

/* Our replies that are next in line go out now. */
static void ctl_flush_local(struct emuhost_ctl *c)
{
	while (c->npending && c->pending[c->head]) {
		char *r = c->pending[c->head];
		(void)ctl_out(&c->to_client, c, r, strlen(r));
		(void)ctl_out(&c->to_client, c, "\n", 1);
		free(r);
		c->head = (c->head + 1) % EMUHOST_CTL_PENDING_MAX;
		c->npending--;
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

static void ctl_command(struct emuhost_ctl *c)
{
	/* The worker strips the line too: trailing blanks mean nothing. */
	while (c->cmd_len && (c->cmd[c->cmd_len - 1] == '\r' || c->cmd[c->cmd_len - 1] == ' ' ||
			      c->cmd[c->cmd_len - 1] == '\t'))
		c->cmd_len--;
	c->cmd[c->cmd_len] = 0;
	const char *args = ctl_local_args(c->cmd);
	if (args) {
		char *r = c->local ? c->local(c->opaque, args) : NULL;
		if (!r)
			r = strdup("error the emulated host cannot answer that");
		if (!r) {
			ctl_fail(c, -ENOMEM);
			return;
		}
		ctl_push(c, r);
		ctl_flush_local(c);
	} else {
		(void)ctl_out(&c->to_worker, c, c->cmd, c->cmd_len);
		(void)ctl_out(&c->to_worker, c, "\n", 1);
		ctl_push(c, NULL);
	}
	c->cmd_len = 0;
}

/* Everything held goes on as it is, and so does all that follows. */
static void ctl_go_raw(struct emuhost_ctl *c)
{
	c->raw = true;
	(void)ctl_out(&c->to_worker, c, c->cmd, c->cmd_len);
	c->cmd_len = 0;
	(void)ctl_out(&c->to_client, c, c->reply.data, c->reply.len);
	emuhost_buf_consume(&c->reply, c->reply.len);
	/* Our own replies still owed go first: they answered earlier lines. */
	for (unsigned i = 0; i < c->npending; i++) {
		char *r = c->pending[(c->head + i) % EMUHOST_CTL_PENDING_MAX];
		if (r) {
			(void)ctl_out(&c->to_client, c, r, strlen(r));
			(void)ctl_out(&c->to_client, c, "\n", 1);
			free(r);
		}
	}
	c->npending = 0;
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

/* "pid=N" of a reply names our process. */
static void ctl_reply_line(struct emuhost_ctl *c, const char *line, size_t len)
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
		(void)ctl_out(&c->to_client, c, line, len);
		return;
	}
	const char *end = p;
	while (end < line + len && *end >= '0' && *end <= '9')
		end++;
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%ld", c->pid);
	(void)ctl_out(&c->to_client, c, line, (size_t)(p - line));
	(void)ctl_out(&c->to_client, c, pid, (size_t)n);
	(void)ctl_out(&c->to_client, c, end, (size_t)(line + len - end));
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
		/* An unasked-for line passes as it is. */
		if (c->npending && !c->pending[c->head]) {
			c->head = (c->head + 1) % EMUHOST_CTL_PENDING_MAX;
			c->npending--;
		}
		ctl_reply_line(c, (const char *)c->reply.data, c->reply.len);
		emuhost_buf_consume(&c->reply, c->reply.len);
		ctl_flush_local(c);
	}
	return c->error;
}
