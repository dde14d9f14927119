/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A control connection through the emulated host (vireo-emuhost): the
 * worker's line protocol (a command per line, a reply line each) with
 * these changes on this host, every reply still in the order of the
 * commands:
 *  - commands whose first word is "emuhost" are answered here (the
 *    emulated host's own: status, kill-worker);
 *  - the hooks may take other commands: answer them here, at once or
 *    later (a screenshot written on this host), or send the worker a
 *    command of their own instead and answer once they have its reply (a
 *    save, whose folder is on this host);
 *  - "pid=N" in a reply names this host's process (vireo-emuhost) instead
 *    of the worker's process inside L1, which means nothing here (vireod
 *    watches the pid a "status" reply names).
 * A command line longer than the worker takes, more than
 * EMUHOST_CTL_PENDING_MAX commands awaiting their replies, or a reply line
 * (it comes out of L1) longer than EMUHOST_CTL_LINE_MAX switch the
 * connection to passing bytes as they are; a reply nobody asked for passes
 * as it is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emuhost_buf.h"

#define EMUHOST_CTL_LINE_MAX   65536u   /* a reply line (vireod reads up to 64 KiB) */
#define EMUHOST_CTL_CMD_MAX    1024u    /* a command line (the worker's limit) */
#define EMUHOST_CTL_PENDING_MAX 16u     /* commands awaiting their reply in order */

struct emuhost_ctl;

/* A reply for a local command (after "emuhost "), without newline; malloc'd. */
typedef char *(*emuhost_ctl_local_fn)(void *opaque, const char *args);

/* What becomes of a command line the hooks see. */
enum emuhost_ctl_route {
	EMUHOST_CTL_PASS,      /* to the worker as it is, its reply to the client */
	EMUHOST_CTL_ANSWER,    /* answered here: *text (malloc'd, without newline) */
	EMUHOST_CTL_LATER,     /* answered here later: emuhost_ctl_answer(ticket) */
	EMUHOST_CTL_REWRITE,   /* *text (malloc'd) goes to the worker instead; its reply to hooks->reply */
};

struct emuhost_ctl_hooks {
	/* A command line (not "emuhost ..."), its blanks stripped; ticket names
	 * it for emuhost_ctl_answer (to be called only after this returns). */
	enum emuhost_ctl_route (*command)(void *opaque, struct emuhost_ctl *c, uint32_t ticket, const char *line,
					  char **text);
	/* The worker's reply line (without newline) to a rewritten command:
	 * the client's answer comes from emuhost_ctl_answer, now or later. */
	void (*reply)(void *opaque, struct emuhost_ctl *c, uint32_t ticket, const char *line);
};

enum emuhost_ctl_wait {
	EMUHOST_CTL_WAIT_WORKER,   /* the worker's reply goes to the client */
	EMUHOST_CTL_WAIT_HOOK,     /* the worker's reply goes to hooks->reply */
	EMUHOST_CTL_WAIT_ANSWER,   /* emuhost_ctl_answer */
	EMUHOST_CTL_READY,         /* reply holds the line to send */
};

struct emuhost_ctl_pending {
	uint32_t ticket;
	enum emuhost_ctl_wait wait;
	char *reply;                  /* READY: the line, with its newline */
	size_t reply_len;
};

struct emuhost_ctl {
	long pid;                     /* put into "pid=" */
	emuhost_ctl_local_fn local;
	void *opaque;
	const struct emuhost_ctl_hooks *hooks;
	void *hooks_opaque;
	bool raw;                     /* passing bytes as they are */
	char cmd[EMUHOST_CTL_CMD_MAX + 1];
	size_t cmd_len;
	struct emuhost_buf reply;     /* a reply line of the worker's, being completed */
	struct emuhost_ctl_pending pending[EMUHOST_CTL_PENDING_MAX];
	unsigned npending, head;
	uint32_t next_ticket;
	struct emuhost_buf to_worker, to_client;
	int error;
};

void emuhost_ctl_init(struct emuhost_ctl *c, long pid, emuhost_ctl_local_fn local, void *opaque);
void emuhost_ctl_set_hooks(struct emuhost_ctl *c, const struct emuhost_ctl_hooks *hooks, void *opaque);
void emuhost_ctl_clear(struct emuhost_ctl *c);
/* The client's bytes: 0, or -ENOMEM. */
int emuhost_ctl_from_client(struct emuhost_ctl *c, const char *data, size_t len);
/* The worker's bytes: 0, or -ENOMEM. */
int emuhost_ctl_from_worker(struct emuhost_ctl *c, const char *data, size_t len);
/* Answers the hooks still owe through emuhost_ctl_answer (their own
 * deadlines bound the wait): the client is to hear them before its end. */
bool emuhost_ctl_owed(const struct emuhost_ctl *c);
/* The reply (without newline) to a command the hooks took: it goes to the
 * client in its turn. 0; -ENOENT when no such command waits for one (the
 * connection went raw meanwhile); -ENOMEM. A rewritten command may be
 * answered before the worker's reply only when none can come any more
 * (the worker ended): a later one would answer the next command. */
int emuhost_ctl_answer(struct emuhost_ctl *c, uint32_t ticket, const char *text);
