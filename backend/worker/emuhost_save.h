/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "save DIR" through the emulated host: the worker inside saves to a
 * folder of L1, then the agent sends that folder's files (mux FILE ...
 * FILES_END) and they land in DIR on this host. They are written into a
 * folder of their own beside DIR and renamed to DIR once all came whole
 * and were flushed: DIR never holds half a saved state.
 *
 * The files come out of L1 and are hostile: plain names only (the codec
 * checks them), at most EMUX_FILES_MAX of them, every byte inside the size
 * its FILE declared, all sizes together within the limit the caller sets
 * (the guest's memory and what a saved state adds to it), each file's
 * byte count confirmed by its FILE_END. Anything else fails the save.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "emuhost_mux.h"

/* What a saved state holds beside the guest's RAM: its video memory (the
 * synthetic video's largest) and the device state. */
#define EMUHOST_SAVE_EXTRA_MAX ((uint64_t)(64u + 16u) << 20)

struct emuhost_save {
	char *dir;                   /* DIR on this host */
	char *tmp;                   /* the folder beside it that becomes DIR */
	int tmp_fd;
	uint64_t limit, total;       /* bytes all files may declare; declared so far */
	int fd;                      /* the file being received, or -1 */
	uint64_t size, got;          /* its declared size, FILE_DATA bytes so far */
	unsigned files;
	int error;                   /* the first thing that went wrong (negative errno) */
	bool done;                   /* FILES_END came */
};

/* Ready for DIR (absent or an empty folder; its parent must exist): 0, or
 * -errno (-ENOTEMPTY for a folder with files, -EINVAL for an empty path). */
int emuhost_save_begin(struct emuhost_save *s, const char *dir, uint64_t limit);
/* A FILE, FILE_DATA, FILE_END or FILES_END from the agent. */
void emuhost_save_msg(struct emuhost_save *s, const struct emux_msg *m);
/* After FILES_END: DIR holds the files, flushed (0), or nothing was left
 * (-errno: what went wrong, or -EPROTO for a set that was not whole). */
int emuhost_save_commit(struct emuhost_save *s);
/* Whatever came is removed (also after commit: then nothing is left to). */
void emuhost_save_clear(struct emuhost_save *s);
