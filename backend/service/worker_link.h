/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vireod's side of a worker's control socket: one command line, one reply
 * line, asynchronously (vireod never blocks its main loop on a worker). A
 * worker that does not answer within WORKER_LINK_TIMEOUT_MS is an error, so
 * a stuck worker cannot stall the service.
 */
#pragma once

#include <gio/gio.h>

#define WORKER_LINK_TIMEOUT_MS 10000u
#define WORKER_LINK_REPLY_MAX  65536u

/* Send command to the control socket at path; callback gets the reply
 * ("ok ..." or "error ..."), or error when the worker cannot be reached. */
void worker_link_call(const char *path, const char *command, GCancellable *cancel,
		      GAsyncReadyCallback callback, gpointer user_data);
/* The same with another timeout (a command that takes long: save). */
void worker_link_call_timeout(const char *path, const char *command, unsigned timeout_ms, GCancellable *cancel,
			      GAsyncReadyCallback callback, gpointer user_data);
/* The reply (g_free it), or NULL and error. */
char *worker_link_call_finish(GAsyncResult *res, GError **error);

/* The same, blocking (vireoctl-like callers and startup). */
char *worker_link_call_sync(const char *path, const char *command, unsigned timeout_ms, GError **error);
