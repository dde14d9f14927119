/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vireo-connect as a whole: the window, the session with the worker, the
 * VM through vireod, and what ties them together (input, toolbar actions,
 * reconnecting, the title and the messages).
 */
#pragma once

#include <stdbool.h>

#include "connect-view.h"

#define CONNECT_RETRY_MS 1000            /* between attempts to reach a worker that is not there */
#define CONNECT_TYPE_INTERVAL_MS 10      /* between batches of typed keys */
#define CONNECT_TYPE_BATCH 8             /* key events per batch: the guest's keyboard keeps up */
#define CONNECT_NOTICE_MS 6000           /* how long a notice stays in the status line */

struct connect_options {
	const char *vm;                  /* a name or ID through vireod, or NULL */
	const char *socket;              /* --socket PATH, or NULL */
	bool inline_pixels;              /* --inline */
	bool fullscreen;
	enum connect_zoom_mode zoom_mode;
	int zoom;
	const char *font;
	const char *type_layout;         /* the guest's layout for typed text */
	const char *screenshot_dir;      /* where Screenshot writes, NULL: Pictures or home */
	bool verbose;
};

/* Runs until the window is closed: the process's exit status. */
int connect_app_run(const struct connect_options *opts);
