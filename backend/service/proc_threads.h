/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/* utime + stime (clock ticks) of /proc/PID[/task/TID]/stat, and its state
 * letter: false when it cannot be read. */
bool proc_stat(const char *path, guint64 *ticks, char *state);

/* The pids of pid's children (of its main thread), as text; empty when none. */
GStrv proc_children(pid_t pid);

/* What a process's threads are doing, on one line, for a log: its CPU use
 * over sample_ms, then each thread's name, state (R running, S sleeping,
 * D in the kernel, ...) and wait channel. It tells a process that is stuck
 * (everything asleep in futexes) from one that is busy. NULL when pid is
 * gone. */
char *proc_threads_describe(pid_t pid, unsigned sample_ms);
