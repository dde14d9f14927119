/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A watch on the worker's main thread: when its main loop has not run for
 * a while (STALL_WATCH_AFTER_S), the log gets one report of where that
 * thread is in the kernel (/proc: its syscall, wait channel and stack),
 * then another when it runs again. A worker whose control socket stays
 * silent then says why, instead of nothing.
 */
#pragma once

#define STALL_WATCH_AFTER_S 30

/* From the main thread, before anything that may block; the loop's context is the default one. */
void stall_watch_start(const char *vm_name);
