/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control commands vireo-emuhost answers on this host because their
 * files are here (emuhost_ctl's hooks, for every control connection):
 *  - "screenshot PATH": a console channel of our own takes one picture
 *    (emuhost_shot), the PNG is written at PATH (emuhost_screenshot), the
 *    reply is the worker's, within EMUHOST_SCREENSHOT_TIMEOUT_MS;
 *  - "save DIR": the worker saves to EMUHOST_L1_SAVEDIR inside L1; the
 *    agent sends those files once it ended and they land in DIR
 *    (emuhost_save); the worker's reply, its folder named as DIR, goes to
 *    the client once they are in.
 * The relay owns the connections and the link; this keeps the requests.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "emuhost_conn.h"
#include "emuhost_save.h"

struct emuhost_hooks {
	struct emuhost_link *link;
	struct emuhost_conn **conns;   /* the relay's slots, [1..EMUX_CHANNELS_MAX] */
	uint64_t memory;               /* the guest's: what a save may hold beside EMUHOST_SAVE_EXTRA_MAX */
	bool closed;                   /* no more channels of ours: the worker ended, or is turned off */
	/* save DIR: the files come after the worker's reply, before its end */
	bool saving, files_in;
	struct emuhost_save save;
	uint64_t save_ctl;             /* the connection that asked */
	uint32_t save_ticket;
	char *save_reply;              /* the worker's reply for DIR, until the files are in */
	int save_result;
	uint64_t saves, shots;         /* answered, for "emuhost status" */
};

/* ctl's hooks, with the struct emuhost_hooks as their opaque. */
extern const struct emuhost_ctl_hooks emuhost_hooks_ctl;

void emuhost_hooks_init(struct emuhost_hooks *h, struct emuhost_link *link, struct emuhost_conn **conns,
			uint64_t memory);
/* A save not ended leaves nothing behind. */
void emuhost_hooks_clear(struct emuhost_hooks *h);

/* FILE ... FILES_END from the agent (the link's file op). */
void emuhost_hooks_file(struct emuhost_hooks *h, const struct emux_msg *m);
/* The agent said EXIT: a save's files will not come any more. */
void emuhost_hooks_worker_ended(struct emuhost_hooks *h);

/* Pictures that did not come in time: answered with an error. The next
 * deadline (CLOCK_MONOTONIC ms), or INT64_MAX. */
void emuhost_hooks_expire(struct emuhost_hooks *h, int64_t now_ms);
int64_t emuhost_hooks_deadline(const struct emuhost_hooks *h);
