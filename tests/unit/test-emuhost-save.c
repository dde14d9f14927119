// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "save DIR" through the emulated host, on this host's side
 * (backend/worker/emuhost_save.c): the files the agent sends (mux FILE,
 * FILE_DATA, FILE_END, FILES_END) land in DIR whole, holes and all, or not
 * at all; every way a hostile L1 can get the set wrong fails it and leaves
 * nothing behind: a file inside a file, data beyond its size, a byte count
 * that does not match, a name twice, too many files, sizes beyond the
 * limit, a count that disagrees, the sender's own error, a set cut short.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "emuhost_save.h"

#define LIMIT (8u << 20)

struct place {
	char *root, *dir;
};

static struct place place_new(void)
{
	struct place p;
	p.root = g_dir_make_tmp("emuhost-save-XXXXXX", NULL);
	g_assert_nonnull(p.root);
	p.dir = g_build_filename(p.root, "saved", NULL);
	return p;
}

/* Only DIR (when want_dir) in the parent: nothing half-written beside it. */
static void place_check_and_free(struct place *p, bool want_dir)
{
	g_autoptr(GDir) d = g_dir_open(p->root, 0, NULL);
	const char *n;
	unsigned entries = 0;
	while ((n = g_dir_read_name(d))) {
		g_assert_cmpstr(n, ==, "saved");
		entries++;
	}
	g_assert_cmpuint(entries, ==, want_dir ? 1 : 0);
	if (want_dir) {
		g_autoptr(GDir) s = g_dir_open(p->dir, 0, NULL);
		while ((n = g_dir_read_name(s))) {
			g_autofree char *f = g_build_filename(p->dir, n, NULL);
			g_assert_cmpint(g_unlink(f), ==, 0);
		}
		g_assert_cmpint(g_rmdir(p->dir), ==, 0);
	}
	g_assert_cmpint(g_rmdir(p->root), ==, 0);
	g_free(p->root);
	g_free(p->dir);
}

static void file(struct emuhost_save *s, const char *name, uint64_t size)
{
	struct emux_msg m = { .type = EMUX_MSG_FILE };
	m.file.size = size;
	m.file.name = name;
	m.file.name_len = strlen(name);
	emuhost_save_msg(s, &m);
}

static void data(struct emuhost_save *s, uint64_t offset, const void *p, size_t len)
{
	struct emux_msg m = { .type = EMUX_MSG_FILE_DATA };
	m.file_data.offset = offset;
	m.file_data.data = p;
	m.file_data.len = len;
	emuhost_save_msg(s, &m);
}

static void file_end(struct emuhost_save *s, uint64_t bytes)
{
	struct emux_msg m = { .type = EMUX_MSG_FILE_END, .file_end = { bytes } };
	emuhost_save_msg(s, &m);
}

static void files_end(struct emuhost_save *s, uint32_t files, uint32_t error)
{
	struct emux_msg m = { .type = EMUX_MSG_FILES_END, .files_end = { files, error } };
	emuhost_save_msg(s, &m);
}

static void test_whole(void)
{
	struct place p = place_new();
	struct emuhost_save s;
	g_assert_cmpint(emuhost_save_begin(&s, p.dir, LIMIT), ==, 0);
	/* Nothing is at DIR until the set is whole. */
	g_assert_false(g_file_test(p.dir, G_FILE_TEST_EXISTS));
	file(&s, "state", 5);
	data(&s, 0, "hello", 5);
	file_end(&s, 5);
	/* A RAM image with two runs of data and holes around them. */
	file(&s, "ram", 1u << 20);
	data(&s, 4096, "abc", 3);
	data(&s, (1u << 20) - 2, "yz", 2);
	file_end(&s, 5);
	files_end(&s, 2, 0);
	g_assert_cmpint(emuhost_save_commit(&s), ==, 0);
	emuhost_save_clear(&s);
	g_autofree char *state = g_build_filename(p.dir, "state", NULL);
	g_autofree char *ram = g_build_filename(p.dir, "ram", NULL);
	g_autofree char *st = NULL, *rm = NULL;
	gsize n = 0;
	g_assert_true(g_file_get_contents(state, &st, &n, NULL));
	g_assert_cmpmem(st, n, "hello", 5);
	g_assert_true(g_file_get_contents(ram, &rm, &n, NULL));
	g_assert_cmpuint(n, ==, 1u << 20);
	g_assert_cmpmem(rm + 4096, 3, "abc", 3);
	g_assert_cmpmem(rm + (1u << 20) - 2, 2, "yz", 2);
	for (size_t i = 0; i < 4096; i++)
		g_assert_cmpint(rm[i], ==, 0);
	place_check_and_free(&p, true);
}

static void test_dir_taken(void)
{
	struct place p = place_new();
	struct emuhost_save s;
	g_assert_cmpint(emuhost_save_begin(&s, "", LIMIT), ==, -EINVAL);
	/* An empty folder is taken, one with a file is not. */
	g_assert_cmpint(g_mkdir(p.dir, 0700), ==, 0);
	g_assert_cmpint(emuhost_save_begin(&s, p.dir, LIMIT), ==, 0);
	file(&s, "state", 1);
	data(&s, 0, "x", 1);
	file_end(&s, 1);
	files_end(&s, 1, 0);
	g_assert_cmpint(emuhost_save_commit(&s), ==, 0);
	emuhost_save_clear(&s);
	g_assert_cmpint(emuhost_save_begin(&s, p.dir, LIMIT), ==, -ENOTEMPTY);
	/* A parent that is not there. */
	g_autofree char *deep = g_build_filename(p.root, "no", "saved", NULL);
	g_assert_cmpint(emuhost_save_begin(&s, deep, LIMIT), ==, -ENOENT);
	place_check_and_free(&p, true);
}

/* A set that went wrong somewhere: commit fails with want, nothing is left. */
typedef void (*wrong_fn)(struct emuhost_save *s);

static void wrong_nested(struct emuhost_save *s)
{
	file(s, "a", 1);
	file(s, "b", 1);
}

static void wrong_beyond(struct emuhost_save *s)
{
	file(s, "a", 4);
	data(s, 2, "xyz", 3);
}

static void wrong_count(struct emuhost_save *s)
{
	file(s, "a", 4);
	data(s, 0, "xy", 2);
	file_end(s, 3);
}

static void wrong_twice(struct emuhost_save *s)
{
	file(s, "a", 1);
	file_end(s, 0);
	file(s, "a", 1);
}

static void wrong_many(struct emuhost_save *s)
{
	for (unsigned i = 0; i <= EMUX_FILES_MAX; i++) {
		g_autofree char *n = g_strdup_printf("f%u", i);
		file(s, n, 0);
		file_end(s, 0);
	}
}

static void wrong_big(struct emuhost_save *s)
{
	file(s, "a", LIMIT / 2);
	file_end(s, 0);
	file(s, "b", LIMIT / 2 + 1);
}

static void wrong_data_first(struct emuhost_save *s)
{
	data(s, 0, "x", 1);
}

static void wrong_end_count(struct emuhost_save *s)
{
	file(s, "a", 0);
	file_end(s, 0);
	files_end(s, 2, 0);
}

static void wrong_open_at_end(struct emuhost_save *s)
{
	file(s, "a", 0);
	files_end(s, 1, 0);
}

static void wrong_sender(struct emuhost_save *s)
{
	file(s, "a", 0);
	file_end(s, 0);
	files_end(s, 1, ENOSPC);
}

static void wrong_none(struct emuhost_save *s)
{
	files_end(s, 0, 0);
}

static void wrong_short(struct emuhost_save *s)
{
	file(s, "a", 3);
	data(s, 0, "abc", 3);
	file_end(s, 3);
}

static void wrong_after_end(struct emuhost_save *s)
{
	file(s, "a", 0);
	file_end(s, 0);
	files_end(s, 1, 0);
	file(s, "b", 0);
}

static void test_wrong(void)
{
	static const struct { wrong_fn fn; int want; } cases[] = {
		{ wrong_nested, -EPROTO },   { wrong_beyond, -EPROTO },      { wrong_count, -EPROTO },
		{ wrong_twice, -EPROTO },    { wrong_many, -EPROTO },        { wrong_big, -EFBIG },
		{ wrong_data_first, -EPROTO }, { wrong_end_count, -EPROTO }, { wrong_open_at_end, -EPROTO },
		{ wrong_sender, -ENOSPC },   { wrong_none, -EPROTO },        { wrong_short, -EPROTO },
		{ wrong_after_end, -EPROTO },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct place p = place_new();
		struct emuhost_save s;
		g_assert_cmpint(emuhost_save_begin(&s, p.dir, LIMIT), ==, 0);
		cases[i].fn(&s);
		g_assert_cmpint(emuhost_save_commit(&s), ==, cases[i].want);
		emuhost_save_clear(&s);
		place_check_and_free(&p, false);
	}
	/* Given up before its end (the emulated host went): nothing left either. */
	struct place p = place_new();
	struct emuhost_save s;
	g_assert_cmpint(emuhost_save_begin(&s, p.dir, LIMIT), ==, 0);
	file(&s, "a", 10);
	data(&s, 0, "0123", 4);
	emuhost_save_clear(&s);
	place_check_and_free(&p, false);
	/* A zeroed one (never begun) clears to nothing, touching no fd. */
	struct emuhost_save z = { 0 };
	emuhost_save_clear(&z);
	g_assert_cmpint(emuhost_save_commit(&z), ==, -EINVAL);
	g_assert_cmpint(fcntl(0, F_GETFD), >=, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-save/whole", test_whole);
	g_test_add_func("/emuhost-save/dir-taken", test_dir_taken);
	g_test_add_func("/emuhost-save/wrong", test_wrong);
	return g_test_run();
}
