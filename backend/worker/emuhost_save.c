// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_save.h"

static int save_fail(struct emuhost_save *s, int e)
{
	if (!s->error)
		s->error = e;
	return s->error;
}

/* DIR may be taken: absent, or a folder without entries. */
static int save_dir_free(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			r = -ENOTEMPTY;
	closedir(d);
	return r;
}

int emuhost_save_begin(struct emuhost_save *s, const char *dir, uint64_t limit)
{
	*s = (struct emuhost_save){ .tmp_fd = -1, .fd = -1, .limit = limit };
	if (!dir || !*dir)
		return -EINVAL;
	int r = save_dir_free(dir);
	if (r < 0)
		return r;
	g_autofree char *base = g_path_get_basename(dir);
	g_autofree char *parent = g_path_get_dirname(dir);
	g_autofree char *tmpl = g_strdup_printf("%s/.%s.partial-XXXXXX", parent, base);
	if (!g_mkdtemp_full(tmpl, 0700))
		return -errno;
	s->tmp_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->tmp_fd < 0) {
		r = -errno;
		rmdir(tmpl);
		return r;
	}
	s->dir = g_strdup(dir);
	s->tmp = g_steal_pointer(&tmpl);
	return 0;
}

static void save_file(struct emuhost_save *s, const struct emux_msg *m)
{
	if (s->fd >= 0 || s->files >= EMUX_FILES_MAX) {
		save_fail(s, -EPROTO);
		return;
	}
	if (m->file.size > s->limit - s->total) {
		save_fail(s, -EFBIG);
		return;
	}
	char name[EMUX_FILE_NAME_MAX + 1];
	memcpy(name, m->file.name, m->file.name_len);
	name[m->file.name_len] = 0;
	/* O_EXCL: a name twice is a broken set. */
	s->fd = openat(s->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0) {
		save_fail(s, errno == EEXIST ? -EPROTO : -errno);
		return;
	}
	s->files++;
	s->total += m->file.size;
	s->size = m->file.size;
	s->got = 0;
	/* The rest is holes: RAM that was never written costs nothing. */
	if (ftruncate(s->fd, (off_t)m->file.size) < 0)
		save_fail(s, -errno);
}

static void save_data(struct emuhost_save *s, const struct emux_msg *m)
{
	if (s->fd < 0 || m->file_data.offset > s->size || m->file_data.len > s->size - m->file_data.offset) {
		save_fail(s, -EPROTO);
		return;
	}
	const uint8_t *p = m->file_data.data;
	size_t left = m->file_data.len;
	off_t at = (off_t)m->file_data.offset;
	while (left) {
		ssize_t n = pwrite(s->fd, p, left, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			save_fail(s, n < 0 ? -errno : -EIO);
			return;
		}
		p += n;
		left -= (size_t)n;
		at += n;
	}
	s->got += m->file_data.len;
}

static void save_file_end(struct emuhost_save *s, const struct emux_msg *m)
{
	if (s->fd < 0 || m->file_end.bytes != s->got) {
		save_fail(s, -EPROTO);
		return;
	}
	if (fsync(s->fd) < 0)
		save_fail(s, -errno);
	close(s->fd);
	s->fd = -1;
}

void emuhost_save_msg(struct emuhost_save *s, const struct emux_msg *m)
{
	if (s->done) {
		save_fail(s, -EPROTO);
		return;
	}
	if (s->error || s->tmp_fd < 0)
		return;
	switch (m->type) {
	case EMUX_MSG_FILE:
		save_file(s, m);
		break;
	case EMUX_MSG_FILE_DATA:
		save_data(s, m);
		break;
	case EMUX_MSG_FILE_END:
		save_file_end(s, m);
		break;
	case EMUX_MSG_FILES_END:
		s->done = true;
		if (m->files_end.error)
			save_fail(s, -(int)m->files_end.error);
		else if (s->fd >= 0 || m->files_end.files != s->files || !s->files)
			save_fail(s, -EPROTO);
		break;
	default:
		break;
	}
}

/* The partial folder and what is in it. */
static void save_remove_tmp(struct emuhost_save *s)
{
	/* Nothing was begun (a zeroed struct too), or all of it was committed. */
	if (!s->tmp)
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tmp_fd >= 0) {
		DIR *d = fdopendir(dup(s->tmp_fd));
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(s->tmp_fd, e->d_name, 0);
		if (d)
			closedir(d);
		close(s->tmp_fd);
		s->tmp_fd = -1;
	}
	rmdir(s->tmp);
}

int emuhost_save_commit(struct emuhost_save *s)
{
	if (!s->tmp)
		return -EINVAL;
	if (!s->done)
		save_fail(s, -EPROTO);
	if (!s->error && fsync(s->tmp_fd) < 0)
		save_fail(s, -errno);
	/* Over an empty folder too (someone made DIR meanwhile); never over files. */
	if (!s->error && rename(s->tmp, s->dir) < 0)
		save_fail(s, -errno);
	if (s->error) {
		save_remove_tmp(s);
		return s->error;
	}
	close(s->tmp_fd);
	s->tmp_fd = -1;
	g_clear_pointer(&s->tmp, g_free);
	g_autofree char *parent = g_path_get_dirname(s->dir);
	int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		(void)fsync(pfd);
		close(pfd);
	}
	return 0;
}

void emuhost_save_clear(struct emuhost_save *s)
{
	save_remove_tmp(s);
	g_clear_pointer(&s->tmp, g_free);
	g_clear_pointer(&s->dir, g_free);
}
