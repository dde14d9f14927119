// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The emulated host's cpio writer (backend/worker/emuhost_cpio.c): archives
 * read back field by field here and listed by GNU cpio itself (the peer the
 * kernel's unpacker agrees with), parents made in order, and the paths and
 * sizes it must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "emuhost_cpio.h"

static int to_bytes(void *opaque, const void *data, size_t len)
{
	g_byte_array_append(opaque, data, (guint)len);
	return 0;
}

static int fail_after(void *opaque, const void *data, size_t len)
{
	size_t *left = opaque;
	if (len > *left)
		return -ENOSPC;
	*left -= len;
	return 0;
}

struct entry {
	char *name;
	uint32_t mode, nlink, size, rmajor, rminor;
	GBytes *data;
};

static void entry_free(gpointer p)
{
	struct entry *e = p;
	g_free(e->name);
	g_bytes_unref(e->data);
	g_free(e);
}

static uint32_t hex8(const uint8_t *p)
{
	char s[9];
	memcpy(s, p, 8);
	s[8] = 0;
	return (uint32_t)strtoul(s, NULL, 16);
}

/* Our own newc reader: every entry up to the trailer, alignment checked. */
static GPtrArray *parse(const GByteArray *a)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(entry_free);
	size_t pos = 0;
	for (;;) {
		g_assert_cmpuint(pos % 4, ==, 0);
		g_assert_cmpuint(pos + 110, <=, a->len);
		g_assert_cmpmem(a->data + pos, 6, "070701", 6);
		const uint8_t *h = a->data + pos + 6;
		struct entry *e = g_new0(struct entry, 1);
		e->mode = hex8(h + 8);
		g_assert_cmpuint(hex8(h + 16), ==, 0);    /* uid */
		g_assert_cmpuint(hex8(h + 24), ==, 0);    /* gid */
		e->nlink = hex8(h + 32);
		g_assert_cmpuint(hex8(h + 40), ==, 0);    /* mtime */
		e->size = hex8(h + 48);
		e->rmajor = hex8(h + 72);
		e->rminor = hex8(h + 80);
		uint32_t namesize = hex8(h + 88);
		g_assert_cmpuint(hex8(h + 96), ==, 0);    /* check */
		pos += 110;
		g_assert_cmpuint(pos + namesize, <=, a->len);
		g_assert_cmpuint(a->data[pos + namesize - 1], ==, 0);
		e->name = g_strndup((const char *)a->data + pos, namesize - 1);
		pos = (pos + namesize + 3) & ~(size_t)3;
		g_assert_cmpuint(pos + e->size, <=, a->len);
		e->data = g_bytes_new(a->data + pos, e->size);
		pos = (pos + e->size + 3) & ~(size_t)3;
		if (g_str_equal(e->name, "TRAILER!!!")) {
			entry_free(e);
			break;
		}
		g_ptr_array_add(out, e);
	}
	g_assert_cmpuint(a->len % 512, ==, 0);
	for (size_t i = pos; i < a->len; i++)
		g_assert_cmpuint(a->data[i], ==, 0);
	return out;
}

static const struct entry *find(GPtrArray *es, const char *name)
{
	for (guint i = 0; i < es->len; i++)
		if (g_str_equal(((struct entry *)es->pdata[i])->name, name))
			return es->pdata[i];
	return NULL;
}

static const struct entry *get(GPtrArray *es, const char *name)
{
	const struct entry *e = find(es, name);
	if (!e) {
		g_test_message("no entry %s in the archive", name);
		abort();
	}
	return e;
}

static guint index_of(GPtrArray *es, const char *name)
{
	for (guint i = 0; i < es->len; i++)
		if (g_str_equal(((struct entry *)es->pdata[i])->name, name))
			return i;
	g_assert_not_reached();
}

static void test_archive(void)
{
	g_autoptr(GByteArray) a = g_byte_array_new();
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, to_bytes, a);
	g_autofree char *tmp = NULL;
	int fd = g_file_open_tmp("emuhost-cpio-XXXXXX", &tmp, NULL);
	g_assert_cmpint(fd, >=, 0);
	static const char content[] = "a file copied from disk\n";
	g_assert_cmpint(write(fd, content, strlen(content)), ==, (ssize_t)strlen(content));
	close(fd);
	g_assert_cmpint(emuhost_cpio_dir(&c, "dev", 0755), ==, 0);
	g_assert_cmpint(emuhost_cpio_node(&c, "dev/console", S_IFCHR, 0600, 5, 1), ==, 0);
	g_assert_cmpint(emuhost_cpio_node(&c, "/dev/vda", S_IFBLK, 0660, 254, 0), ==, 0);
	g_assert_cmpint(emuhost_cpio_data(&c, "init", 0755, "#!/bin/sh\n", 10), ==, 0);
	g_assert_cmpint(emuhost_cpio_data(&c, "empty", 0644, "", 0), ==, 0);
	g_assert_cmpint(emuhost_cpio_copy(&c, "lib/x86_64-linux-gnu/libc.so.6", 0755, tmp), ==, 0);
	g_assert_cmpint(emuhost_cpio_symlink(&c, "usr/bin/sh", "../../bin/busybox"), ==, 0);
	g_assert_cmpint(emuhost_cpio_dir(&c, "lib", 0755), ==, 0);   /* made already: kept */
	g_assert_cmpint(emuhost_cpio_finish(&c), ==, 0);
	emuhost_cpio_clear(&c);
	g_autoptr(GPtrArray) es = parse(a);
	const char *names[] = { "dev", "dev/console", "dev/vda", "init", "empty", "lib", "lib/x86_64-linux-gnu",
				"lib/x86_64-linux-gnu/libc.so.6", "usr", "usr/bin", "usr/bin/sh" };
	g_assert_cmpuint(es->len, ==, G_N_ELEMENTS(names));
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_nonnull(find(es, names[i]));
	/* Parents come before what is in them. */
	g_assert_cmpuint(index_of(es, "lib"), <, index_of(es, "lib/x86_64-linux-gnu"));
	g_assert_cmpuint(index_of(es, "lib/x86_64-linux-gnu"), <, index_of(es, "lib/x86_64-linux-gnu/libc.so.6"));
	const struct entry *e = get(es, "dev/console");
	g_assert_cmpuint(e->mode, ==, S_IFCHR | 0600);
	g_assert_cmpuint(e->rmajor, ==, 5);
	g_assert_cmpuint(e->rminor, ==, 1);
	e = get(es, "dev/vda");
	g_assert_cmpuint(e->mode, ==, S_IFBLK | 0660);
	g_assert_cmpuint(e->rmajor, ==, 254);
	e = get(es, "init");
	g_assert_cmpuint(e->mode, ==, S_IFREG | 0755);
	g_assert_cmpuint(e->nlink, ==, 1);
	g_assert_cmpmem(g_bytes_get_data(e->data, NULL), g_bytes_get_size(e->data), "#!/bin/sh\n", 10);
	e = get(es, "lib/x86_64-linux-gnu/libc.so.6");
	g_assert_cmpmem(g_bytes_get_data(e->data, NULL), g_bytes_get_size(e->data), content, strlen(content));
	e = get(es, "usr/bin/sh");
	g_assert_cmpuint(e->mode, ==, S_IFLNK | 0777);
	g_assert_cmpmem(g_bytes_get_data(e->data, NULL), g_bytes_get_size(e->data), "../../bin/busybox", 17);
	e = get(es, "lib");
	g_assert_cmpuint(e->mode, ==, S_IFDIR | 0755);
	g_assert_cmpuint(e->size, ==, 0);

	/* GNU cpio lists the same entries, with the same types and targets. */
	g_autofree char *arch = NULL;
	int afd = g_file_open_tmp("emuhost-cpio-XXXXXX.cpio", &arch, NULL);
	g_assert_cmpint(write(afd, a->data, a->len), ==, (ssize_t)a->len);
	close(afd);
	g_autofree char *cmd = g_strdup_printf("cpio -itv --quiet -F %s", arch);
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;
	g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	g_test_message("cpio -itv:\n%s", out);
	g_auto(GStrv) lines = g_strsplit(g_strchomp(out), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(names));
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_nonnull(g_strrstr(lines[i], names[i]));
	g_assert_true(g_str_has_prefix(lines[1], "crw-------"));
	g_assert_true(g_str_has_prefix(lines[2], "brw-rw----"));
	g_assert_true(g_str_has_prefix(lines[3], "-rwxr-xr-x"));
	g_assert_true(g_str_has_prefix(lines[10], "lrwxrwxrwx"));
	g_assert_nonnull(strstr(lines[10], "usr/bin/sh -> ../../bin/busybox"));
	g_unlink(arch);
	g_unlink(tmp);
}

static void test_refused(void)
{
	g_autoptr(GByteArray) a = g_byte_array_new();
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, to_bytes, a);
	static const char *const bad[] = { "", "/", "a//b", "a/./b", "../etc/passwd", "a/..", "a/", ".", "dir/" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(emuhost_cpio_data(&c, bad[i], 0644, "x", 1), ==, -EINVAL);
	GString *longname = g_string_new(NULL);
	while (longname->len <= EMUHOST_CPIO_NAME_MAX)
		g_string_append(longname, "abcdefgh/");
	g_string_append(longname, "f");
	g_assert_cmpint(emuhost_cpio_data(&c, longname->str, 0644, "x", 1), ==, -ENAMETOOLONG);
	g_assert_cmpint(emuhost_cpio_symlink(&c, "l", longname->str), ==, -ENAMETOOLONG);
	g_assert_cmpint(emuhost_cpio_symlink(&c, "l", ""), ==, -EINVAL);
	g_string_free(longname, TRUE);
	g_assert_cmpint(emuhost_cpio_data(&c, "f", 01000000, "x", 1), ==, -EINVAL);
	g_assert_cmpint(emuhost_cpio_node(&c, "n", S_IFREG, 0600, 1, 3), ==, -EINVAL);
	g_assert_cmpint(emuhost_cpio_node(&c, "n", S_IFCHR, 0600, 0x1000, 0), ==, -EINVAL);
	g_assert_cmpint(emuhost_cpio_copy(&c, "missing", 0644, "/nonexistent/file"), ==, -ENOENT);
	g_assert_cmpint(emuhost_cpio_copy(&c, "adir", 0644, "/tmp"), ==, -EINVAL);
	/* Twice the same path; a file used as a directory. */
	g_assert_cmpint(emuhost_cpio_data(&c, "f", 0644, "x", 1), ==, 0);
	g_assert_cmpint(emuhost_cpio_data(&c, "f", 0644, "y", 1), ==, -EEXIST);
	g_assert_cmpint(emuhost_cpio_symlink(&c, "f", "t"), ==, -EEXIST);
	g_assert_cmpint(emuhost_cpio_dir(&c, "f", 0755), ==, -EEXIST);
	g_assert_cmpint(emuhost_cpio_data(&c, "f/g", 0644, "x", 1), ==, -ENOTDIR);
	g_assert_cmpint(emuhost_cpio_finish(&c), ==, 0);
	emuhost_cpio_clear(&c);
	/* Only f made it in, once. */
	g_autoptr(GPtrArray) es = parse(a);
	g_assert_cmpuint(es->len, ==, 1);
	g_assert_cmpstr(((struct entry *)es->pdata[0])->name, ==, "f");
}

static void test_write_error(void)
{
	/* A write that fails sticks: everything after returns it. */
	size_t left = 200;
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, fail_after, &left);
	g_assert_cmpint(emuhost_cpio_data(&c, "a", 0644, "x", 1), ==, 0);
	g_assert_cmpint(emuhost_cpio_data(&c, "b", 0644, "0123456789", 10), ==, -ENOSPC);
	g_assert_cmpint(emuhost_cpio_dir(&c, "c", 0755), ==, -ENOSPC);
	g_assert_cmpint(emuhost_cpio_finish(&c), ==, -ENOSPC);
	emuhost_cpio_clear(&c);
}

static void test_fd(void)
{
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("emuhost-cpio-XXXXXX", &path, NULL);
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, emuhost_cpio_write_fd, &fd);
	g_assert_cmpint(emuhost_cpio_data(&c, "x/y", 0600, "hello", 5), ==, 0);
	g_assert_cmpint(emuhost_cpio_finish(&c), ==, 0);
	emuhost_cpio_clear(&c);
	close(fd);
	g_autofree char *data = NULL;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_autoptr(GByteArray) a = g_byte_array_new();
	g_byte_array_append(a, (const guint8 *)data, (guint)len);
	g_autoptr(GPtrArray) es = parse(a);
	g_assert_cmpuint(es->len, ==, 2);
	g_unlink(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-cpio/archive", test_archive);
	g_test_add_func("/emuhost-cpio/refused", test_refused);
	g_test_add_func("/emuhost-cpio/write-error", test_write_error);
	g_test_add_func("/emuhost-cpio/fd", test_fd);
	return g_test_run();
}
