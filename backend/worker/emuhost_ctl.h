/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A control connection through the emulated host (vireo-emuhost): the
 * worker's line protocol (a command per line, a reply line each) with two
 * changes on this host:
 *  - commands whose first word is "emuhost" are answered here (the
 *    emulated host's own: status, kill-worker), in order with the others;
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

#include "emuhost_buf.h"

#define EMUHOST_CTL_LINE_MAX   65536u   /* a reply line (vireod reads up to 64 KiB) */
#define EMUHOST_CTL_CMD_MAX    1024u    /* a command line (the worker's limit) */
#define EMUHOST_CTL_PENDING_MAX 16u     /* commands awaiting their reply in order */

/* A reply for a local command (after "emuhost "), without newline; malloc'd. */
typedef char *(*emuhost_ctl_local_fn)(void *opaque, const char *args);

struct emuhost_ctl {
	long pid;                     /* put into "pid=" */
	emuhost_ctl_local_fn local;
	void *opaque;
	bool raw;                     /* passing bytes as they are */
	char cmd[EMUHOST_CTL_CMD_MAX + 1];
	size_t cmd_len;
	struct emuhost_buf reply;     /* a reply line of the worker's, being completed */
	char *pending[EMUHOST_CTL_PENDING_MAX];   /* NULL: the worker's reply; else ours */
	unsigned npending, head;
	struct emuhost_buf to_worker, to_client;
	int error;
};

void emuhost_ctl_init(struct emuhost_ctl *c, long pid, emuhost_ctl_local_fn local, void *opaque);
void emuhost_ctl_clear(struct emuhost_ctl *c);
/* The client's bytes: 0, or -ENOMEM. */
int emuhost_ctl_from_client(struct emuhost_ctl *c, const char *data, size_t len);
/* The worker's bytes: 0, or -ENOMEM. */
int emuhost_ctl_from_worker(struct emuhost_ctl *c, const char *data, size_t len);
