/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vireo-emuhost's command line: the worker's own (vireo-worker --help),
 * passed on to the worker inside L1 with the paths rewritten to what it
 * sees there, plus a few --emuhost-* options of its own.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#define EMUHOST_ARGS_MAX 256u          /* arguments on the command line */

struct emuhost_args {
	GPtrArray *inner;                  /* the worker's arguments inside L1 (no argv[0]) */
	/* host paths of what L1 gets or forwards */
	char *kernel, *initrd, *vnc_password_file;
	char *restore;                     /* --restore DIR: a saved state's folder */
	char *control, *console;           /* sockets to make here (NULL: none) */
	char *serial;                      /* unix:PATH, stdio, FILE or none (default stdio) */
	char *vnc;                         /* unix:PATH or HOST:PORT, or NULL */
	char *name;
	uint64_t memory;                   /* bytes */
	unsigned cpus;
	bool help, version;
	/* --emuhost-* */
	char *qemu, *cache_dir, *worker, *agent;
	unsigned l1_memory_mib;            /* 0: worked out from the guest's */
	bool build_only;
};

/* 0 and a; false and an error naming the argument. */
bool emuhost_args_parse(int argc, char **argv, struct emuhost_args *a, GError **error);
void emuhost_args_clear(struct emuhost_args *a);

extern const char emuhost_args_usage[];
