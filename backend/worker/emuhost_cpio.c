// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emuhost_cpio.h"

#define CPIO_MAGIC     "070701"
#define CPIO_HDR_SIZE  110u
#define CPIO_INO_FIRST 1000u      /* any: the kernel only pairs hard links by it */
#define CPIO_COPY_BUF  (256u * 1024u)
/* What a name in the archive is, as far as later paths care. */
#define CPIO_KIND_DIR   GINT_TO_POINTER(1)
#define CPIO_KIND_OTHER GINT_TO_POINTER(2)

void emuhost_cpio_init(struct emuhost_cpio *c, emuhost_cpio_write_fn write, void *opaque)
{
	*c = (struct emuhost_cpio){ .write = write, .opaque = opaque, .ino = CPIO_INO_FIRST,
				    .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
}

void emuhost_cpio_clear(struct emuhost_cpio *c)
{
	if (c->names)
		g_hash_table_unref(c->names);
	c->names = NULL;
}

int emuhost_cpio_write_fd(void *opaque, const void *data, size_t len)
{
	int fd = *(const int *)opaque;
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cpio_emit(struct emuhost_cpio *c, const void *data, size_t len)
{
	if (c->error)
		return c->error;
	if (!len)
		return 0;
	int e = c->write(c->opaque, data, len);
	if (e < 0)
		return c->error = e;
	c->offset += len;
	return 0;
}

static int cpio_pad(struct emuhost_cpio *c, unsigned align)
{
	static const uint8_t zero[512];
	size_t n = (size_t)((align - c->offset % align) % align);
	return cpio_emit(c, zero, n);
}

/* A clean relative path into out (without leading '/'), or a negative errno. */
static int cpio_path(const char *path, char *out, size_t size)
{
	while (*path == '/')
		path++;
	size_t len = strlen(path);
	if (len == 0)
		return -EINVAL;
	if (len > EMUHOST_CPIO_NAME_MAX || len >= size)
		return -ENAMETOOLONG;
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '/')
			p++;
	}
	if (path[len - 1] == '/')
		return -EINVAL;
	memcpy(out, path, len + 1);
	return 0;
}

static int cpio_header(struct emuhost_cpio *c, const char *name, uint32_t mode, uint64_t size, uint32_t nlink,
		       unsigned rmajor, unsigned rminor)
{
	if (size > EMUHOST_CPIO_FILE_MAX)
		return -EFBIG;
	size_t namesize = strlen(name) + 1;
	char hdr[CPIO_HDR_SIZE + 1];
	snprintf(hdr, sizeof(hdr), CPIO_MAGIC "%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 c->ino++, mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, rmajor, rminor, (uint32_t)namesize, 0u);
	int e = cpio_emit(c, hdr, CPIO_HDR_SIZE);
	if (e == 0)
		e = cpio_emit(c, name, namesize);
	if (e == 0)
		e = cpio_pad(c, 4);
	return e;
}

static int cpio_parents(struct emuhost_cpio *c, const char *path);

/* A new entry's name: checked, its parents written, remembered. */
static int cpio_claim(struct emuhost_cpio *c, const char *path, char *name, size_t size, bool is_dir)
{
	if (c->error)
		return c->error;
	int e = cpio_path(path, name, size);
	if (e < 0)
		return e;
	gpointer kind;
	if (g_hash_table_lookup_extended(c->names, name, NULL, &kind))
		return is_dir && kind == CPIO_KIND_DIR ? 1 : -EEXIST;
	e = cpio_parents(c, name);
	if (e < 0)
		return e;
	g_hash_table_insert(c->names, g_strdup(name), is_dir ? CPIO_KIND_DIR : CPIO_KIND_OTHER);
	return 0;
}

static int cpio_dir_entry(struct emuhost_cpio *c, const char *path, mode_t perm)
{
	char name[EMUHOST_CPIO_NAME_MAX + 1];
	int e = cpio_claim(c, path, name, sizeof(name), true);
	if (e)
		return e < 0 ? e : 0;
	return cpio_header(c, name, S_IFDIR | (perm & 07777), 0, 2, 0, 0);
}

static int cpio_parents(struct emuhost_cpio *c, const char *path)
{
	char dir[EMUHOST_CPIO_NAME_MAX + 1];
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		size_t n = (size_t)(s - path);
		memcpy(dir, path, n);
		dir[n] = 0;
		gpointer kind;
		if (!g_hash_table_lookup_extended(c->names, dir, NULL, &kind)) {
			int e = cpio_dir_entry(c, dir, 0755);
			if (e < 0)
				return e;
		} else if (kind != CPIO_KIND_DIR) {
			return -ENOTDIR;
		}
	}
	return 0;
}

int emuhost_cpio_dir(struct emuhost_cpio *c, const char *path, mode_t perm)
{
	if (perm & ~07777)
		return -EINVAL;
	return cpio_dir_entry(c, path, perm);
}

int emuhost_cpio_data(struct emuhost_cpio *c, const char *path, mode_t perm, const void *data, size_t len)
{
	if (perm & ~07777)
		return -EINVAL;
	if (len > EMUHOST_CPIO_FILE_MAX)
		return -EFBIG;
	char name[EMUHOST_CPIO_NAME_MAX + 1];
	int e = cpio_claim(c, path, name, sizeof(name), false);
	if (e < 0)
		return e;
	e = cpio_header(c, name, S_IFREG | perm, len, 1, 0, 0);
	if (e == 0)
		e = cpio_emit(c, data, len);
	return e ? e : cpio_pad(c, 4);
}

int emuhost_cpio_copy(struct emuhost_cpio *c, const char *path, mode_t perm, const char *src)
{
	if (perm & ~07777)
		return -EINVAL;
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = -errno;
	else if (!S_ISREG(st.st_mode))
		e = -EINVAL;
	else if ((uint64_t)st.st_size > EMUHOST_CPIO_FILE_MAX)
		e = -EFBIG;
	char name[EMUHOST_CPIO_NAME_MAX + 1];
	if (e == 0)
		e = cpio_claim(c, path, name, sizeof(name), false);
	if (e == 0)
		e = cpio_header(c, name, S_IFREG | perm, (uint64_t)st.st_size, 1, 0, 0);
	g_autofree uint8_t *buf = e == 0 ? g_malloc(CPIO_COPY_BUF) : NULL;
	uint64_t left = e == 0 ? (uint64_t)st.st_size : 0;
	while (e == 0 && left) {
		ssize_t n = read(fd, buf, left < CPIO_COPY_BUF ? (size_t)left : CPIO_COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file shrank while we copied it: the header lies now. */
			e = n < 0 ? -errno : -EIO;
			c->error = e;
			break;
		}
		e = cpio_emit(c, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	close(fd);
	return e ? e : cpio_pad(c, 4);
}

int emuhost_cpio_symlink(struct emuhost_cpio *c, const char *path, const char *target)
{
	size_t len = strlen(target);
	if (len == 0)
		return -EINVAL;
	if (len > EMUHOST_CPIO_NAME_MAX)
		return -ENAMETOOLONG;
	char name[EMUHOST_CPIO_NAME_MAX + 1];
	int e = cpio_claim(c, path, name, sizeof(name), false);
	if (e < 0)
		return e;
	e = cpio_header(c, name, S_IFLNK | 0777, len, 1, 0, 0);
	if (e == 0)
		e = cpio_emit(c, target, len);
	return e ? e : cpio_pad(c, 4);
}

int emuhost_cpio_node(struct emuhost_cpio *c, const char *path, mode_t type, mode_t perm, unsigned major,
		      unsigned minor)
{
	if ((type != S_IFCHR && type != S_IFBLK) || (perm & ~07777) || major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	char name[EMUHOST_CPIO_NAME_MAX + 1];
	int e = cpio_claim(c, path, name, sizeof(name), false);
	if (e < 0)
		return e;
	return cpio_header(c, name, type | perm, 0, 1, major, minor);
}

int emuhost_cpio_finish(struct emuhost_cpio *c)
{
	int e = cpio_header(c, "TRAILER!!!", 0, 0, 1, 0, 0);
	return e ? e : cpio_pad(c, 512);
}
