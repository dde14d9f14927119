/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A cpio "newc" archive writer, as the kernel unpacks an initramfs:
 * entries in the order given, parent directories made when missing, owner
 * root, mtime 0, the archive padded to 512 bytes after its trailer. Device
 * nodes are entries, so no root is needed to write them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#define EMUHOST_CPIO_NAME_MAX 4095u              /* bytes of an entry's path */
#define EMUHOST_CPIO_FILE_MAX 0xffffffffu        /* newc sizes are 32 bits */

/* Writes len bytes or returns a negative errno. */
typedef int (*emuhost_cpio_write_fn)(void *opaque, const void *data, size_t len);

struct emuhost_cpio {
	emuhost_cpio_write_fn write;
	void *opaque;
	uint64_t offset;
	uint32_t ino;
	GHashTable *names;       /* every path written */
	int error;               /* the first write error: every later call returns it */
};

void emuhost_cpio_init(struct emuhost_cpio *c, emuhost_cpio_write_fn write, void *opaque);
void emuhost_cpio_clear(struct emuhost_cpio *c);

/*
 * Paths are relative ("bin/sh"; a leading '/' is dropped), without empty,
 * "." or ".." components. Each returns 0, -EINVAL for a bad path or mode,
 * -ENAMETOOLONG, -EEXIST for a path given twice (directories excepted:
 * the first one stays), -ENOTDIR when a parent is not a directory, -EFBIG,
 * or the write error.
 */
int emuhost_cpio_dir(struct emuhost_cpio *c, const char *path, mode_t perm);
int emuhost_cpio_data(struct emuhost_cpio *c, const char *path, mode_t perm, const void *data, size_t len);
/* The file at src (symlinks followed), read as it is copied. */
int emuhost_cpio_copy(struct emuhost_cpio *c, const char *path, mode_t perm, const char *src);
int emuhost_cpio_symlink(struct emuhost_cpio *c, const char *path, const char *target);
/* type: S_IFCHR or S_IFBLK. */
int emuhost_cpio_node(struct emuhost_cpio *c, const char *path, mode_t type, mode_t perm, unsigned major,
		      unsigned minor);
/* The trailer and the padding: the archive is complete. */
int emuhost_cpio_finish(struct emuhost_cpio *c);

/* An archive into a file descriptor (the write function for fds). */
int emuhost_cpio_write_fd(void *opaque, const void *data, size_t len);
