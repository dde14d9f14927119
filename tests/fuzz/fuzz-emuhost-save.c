// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the emulated host's agent sends vireo-emuhost after a save: a
 * saved state's files as mux messages (FILE ... FILES_END) into the
 * folder they land in on this host (backend/worker/emuhost_save.c).
 * Whatever the bytes and however they are split: no write outside the
 * folder or beyond the limit, a set that is not whole leaves nothing
 * behind, a whole one only plain files within the limit.
 *
 * Input: byte 0 picks the chunk size; the rest is the stream.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emuhost_save.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_LIMIT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_root[] = "/tmp/fuzz-emuhost-save-XXXXXX";
static char fuzz_dir[sizeof(fuzz_root) + 8];

static void fuzz_cleanup(void)
{
	rmdir(fuzz_root);
}

static int on_msg(void *opaque, int status, const struct emux_frame *f, const struct emux_msg *m)
{
	if (status == 0 && m->type >= EMUX_MSG_FILE && m->type <= EMUX_MSG_FILES_END)
		emuhost_save_msg(opaque, m);
	return 0;
}

/* The folder's entries: only plain files within the limit; then none. */
static unsigned fuzz_sweep(const char *dir, bool check)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned n = 0;
	uint64_t total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		CHECK(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
		if (check) {
			CHECK(S_ISREG(st.st_mode));
			total += (uint64_t)st.st_size;
		}
		CHECK(unlinkat(dirfd(d), e->d_name, 0) == 0);
		n++;
	}
	closedir(d);
	CHECK(total <= FUZZ_LIMIT);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_dir[0]) {
		CHECK(mkdtemp(fuzz_root));
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/saved", fuzz_root);
		atexit(fuzz_cleanup);
	}
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] * 97u + 1u;
	data++;
	size--;
	struct emuhost_save s;
	CHECK(emuhost_save_begin(&s, fuzz_dir, FUZZ_LIMIT) == 0);
	struct emux_reader r;
	emux_reader_init(&r, EMUX_FROM_AGENT);
	for (size_t i = 0; i < size; i += chunk)
		if (emux_reader_feed(&r, data + i, size - i < chunk ? size - i : chunk, on_msg, &s) < 0)
			break;
	emux_reader_clear(&r);
	int e = emuhost_save_commit(&s);
	emuhost_save_clear(&s);
	/* Committed: DIR holds the set; else nothing, and nothing beside it either. */
	unsigned n = fuzz_sweep(fuzz_dir, true);
	CHECK(e == 0 ? n >= 1 && n <= EMUX_FILES_MAX : n == 0);
	if (e == 0)
		CHECK(rmdir(fuzz_dir) == 0);
	CHECK(fuzz_sweep(fuzz_root, false) == 0);
	return 0;
}
