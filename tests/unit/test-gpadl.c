// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The GPADL table on its own: range areas built byte by byte as the guest
 * lays them out ({u32 byte_count, u32 byte_offset, u64 pfn[]} per range,
 * little-endian), fed whole or split like Linux splits them (26 PFNs in the
 * header, 28 per body).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/gpadl.h"

#define RELID 7u

/* A range area under construction. */
struct area {
	uint8_t b[65536];
	size_t n;
};

static void put_le(struct area *a, uint64_t v, unsigned bytes)
{
	g_assert_cmpuint(a->n + bytes, <=, sizeof(a->b));
	for (unsigned i = 0; i < bytes; i++)
		a->b[a->n++] = (uint8_t)(v >> (8 * i));
}

static void area_range(struct area *a, uint32_t byte_count, uint32_t byte_offset)
{
	put_le(a, byte_count, 4);
	put_le(a, byte_offset, 4);
}

static void area_pfns(struct area *a, uint64_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put_le(a, first + i * 3, 8);   /* scattered, recognisable PFNs */
}

/* Feed an area like Linux: first 8 + 26*8 bytes in the header, then 28 PFNs per body.
 * Returns the last result; *steps counts the messages. */
static int feed(struct gpadl_table *t, uint32_t id, uint16_t rangecount, const struct area *a,
		unsigned *steps)
{
	size_t first = MIN(a->n, (size_t)(8 + 26 * 8));
	int r = gpadl_table_header(t, RELID, id, rangecount, (uint16_t)a->n, a->b, first);
	unsigned n = 1;
	size_t off = first;
	while (r == 0 && off < a->n) {
		size_t chunk = MIN(a->n - off, (size_t)(28 * 8));
		r = gpadl_table_body(t, id, a->b + off, chunk);
		off += chunk;
		n++;
	}
	if (steps)
		*steps = n;
	return r;
}

static void test_header_only(void)
{
	struct gpadl_table *t = gpadl_table_new(NULL);
	struct area a = { .n = 0 };
	area_range(&a, 8 * 4096, 0);
	area_pfns(&a, 0x1000, 8);
	g_assert_cmpint(gpadl_table_header(t, RELID, 0xE1E10, 1, (uint16_t)a.n, a.b, a.n), ==, 1);

	uint32_t relid = 0;
	g_assert_cmpint(gpadl_table_state(t, 0xE1E10, &relid), ==, GPADL_STATE_READY);
	g_assert_cmpuint(relid, ==, RELID);
	struct gpadl *g = gpadl_table_find(t, 0xE1E10);
	g_assert_nonnull(g);
	g_assert_cmpuint(gpadl_id(g), ==, 0xE1E10);
	g_assert_cmpuint(gpadl_relid(g), ==, RELID);
	g_assert_cmpuint(gpadl_size(g), ==, 8 * 4096);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 8);
	g_assert_cmpuint(gpadl_range_count(g), ==, 1);
	g_assert_true(gpadl_whole_pages(g));
	uint32_t off = 1, cnt = 0;
	g_assert_cmpint(gpadl_range(g, 0, &off, &cnt), ==, 0);
	g_assert_cmpuint(off, ==, 0);
	g_assert_cmpuint(cnt, ==, 8 * 4096);
	g_assert_cmpint(gpadl_range(g, 1, &off, &cnt), ==, -ERANGE);

	uint64_t pfns[8];
	g_assert_cmpint(gpadl_pages(g, 2, 3, pfns), ==, 0);
	g_assert_cmphex(pfns[0], ==, 0x1000 + 2 * 3);
	g_assert_cmphex(pfns[2], ==, 0x1000 + 4 * 3);
	g_assert_cmpint(gpadl_pages(g, 0, 8, pfns), ==, 0);
	g_assert_cmpint(gpadl_pages(g, 8, 0, pfns), ==, 0);
	g_assert_cmpint(gpadl_pages(g, 7, 2, pfns), ==, -ERANGE);
	g_assert_cmpint(gpadl_pages(g, 9, 0, pfns), ==, -ERANGE);
	g_assert_cmpint(gpadl_pages(g, 0xffffffffu, 2, pfns), ==, -ERANGE);

	g_assert_cmpuint(gpadl_table_count(t), ==, 1);
	g_assert_cmpuint(gpadl_table_pfns(t), ==, 8);
	g_assert_cmpint(gpadl_table_teardown(t, 0xE1E10, true), ==, 0);
	g_assert_null(gpadl_table_find(t, 0xE1E10));
	g_assert_cmpint(gpadl_table_state(t, 0xE1E10, NULL), ==, -ENOENT);
	g_assert_cmpuint(gpadl_table_count(t), ==, 0);
	g_assert_cmpuint(gpadl_table_pfns(t), ==, 0);
	gpadl_table_free(t);
}

static void test_bodies(void)
{
	struct gpadl_table *t = gpadl_table_new(NULL);
	struct area a = { .n = 0 };
	area_range(&a, 300 * 4096, 0);
	area_pfns(&a, 0x40000, 300);
	g_assert_cmpuint(a.n, ==, 8 + 300 * 8);

	/* Header: 26 PFNs, then 9 bodies of 28 and one of 22. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 5, 1, (uint16_t)a.n, a.b, 8 + 26 * 8), ==, 0);
	g_assert_cmpint(gpadl_table_state(t, 5, NULL), ==, GPADL_STATE_BUILDING);
	g_assert_null(gpadl_table_find(t, 5));
	size_t off = 8 + 26 * 8;
	for (int i = 0; i < 9; i++) {
		g_assert_cmpint(gpadl_table_body(t, 5, a.b + off, 28 * 8), ==, 0);
		off += 28 * 8;
	}
	g_assert_cmpuint(a.n - off, ==, 22 * 8);
	g_assert_cmpint(gpadl_table_body(t, 5, a.b + off, 22 * 8), ==, 1);

	struct gpadl *g = gpadl_table_find(t, 5);
	g_assert_nonnull(g);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 300);
	uint64_t pfns[300];
	g_assert_cmpint(gpadl_pages(g, 0, 300, pfns), ==, 0);
	for (unsigned i = 0; i < 300; i++)
		g_assert_cmphex(pfns[i], ==, 0x40000 + i * 3);
	/* A body once complete is not taken. */
	g_assert_cmpint(gpadl_table_body(t, 5, a.b + 8, 8), ==, -ENOENT);
	g_assert_nonnull(gpadl_table_find(t, 5));

	/* The same through the Linux-like splitter: 1 + 11 messages. */
	unsigned steps;
	g_assert_cmpint(feed(t, 6, 1, &a, &steps), ==, 1);
	g_assert_cmpuint(steps, ==, 11);
	gpadl_table_free(t);
}

static void test_multi_range_iter(void)
{
	struct gpadl_table *t = gpadl_table_new(NULL);
	struct area a = { .n = 0 };
	/* Range 0: 5000 bytes from offset 100 of pages A, B; range 1: page C whole. */
	area_range(&a, 5000, 100);
	put_le(&a, 0xA, 8);
	put_le(&a, 0xB, 8);
	area_range(&a, 4096, 0);
	put_le(&a, 0xC, 8);
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 2, (uint16_t)a.n, a.b, a.n), ==, 1);
	struct gpadl *g = gpadl_table_find(t, 1);
	g_assert_nonnull(g);
	g_assert_cmpuint(gpadl_size(g), ==, 9096);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 3);
	g_assert_cmpuint(gpadl_range_count(g), ==, 2);
	g_assert_false(gpadl_whole_pages(g));
	uint64_t pfns[4];
	g_assert_cmpint(gpadl_pages(g, 0, 1, pfns), ==, -EINVAL);

	struct { uint64_t gpa; uint32_t len; } want[] = {
		{ 0xA000 + 100, 3996 }, { 0xB000, 1004 }, { 0xC000, 4096 },
	};
	struct gpadl_iter it;
	uint64_t gpa;
	uint32_t len;
	g_assert_cmpint(gpadl_iter_init(&it, g, 0, 9096), ==, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_true(gpadl_iter_next(&it, &gpa, &len));
		g_assert_cmphex(gpa, ==, want[i].gpa);
		g_assert_cmpuint(len, ==, want[i].len);
	}
	g_assert_false(gpadl_iter_next(&it, &gpa, &len));

	/* A span crossing the range boundary, starting inside page B. */
	g_assert_cmpint(gpadl_iter_init(&it, g, 4000, 1100), ==, 0);
	g_assert_true(gpadl_iter_next(&it, &gpa, &len));
	g_assert_cmphex(gpa, ==, 0xB000 + 4);
	g_assert_cmpuint(len, ==, 1000);
	g_assert_true(gpadl_iter_next(&it, &gpa, &len));
	g_assert_cmphex(gpa, ==, 0xC000);
	g_assert_cmpuint(len, ==, 100);
	g_assert_false(gpadl_iter_next(&it, &gpa, &len));

	/* Starting exactly at range 1. */
	g_assert_cmpint(gpadl_iter_init(&it, g, 5000, 10), ==, 0);
	g_assert_true(gpadl_iter_next(&it, &gpa, &len));
	g_assert_cmphex(gpa, ==, 0xC000);
	g_assert_cmpuint(len, ==, 10);

	/* Empty and out-of-range spans. */
	g_assert_cmpint(gpadl_iter_init(&it, g, 9096, 0), ==, 0);
	g_assert_false(gpadl_iter_next(&it, &gpa, &len));
	g_assert_cmpint(gpadl_iter_init(&it, g, 9096, 1), ==, -ERANGE);
	g_assert_cmpint(gpadl_iter_init(&it, g, 9097, 0), ==, -ERANGE);
	g_assert_cmpint(gpadl_iter_init(&it, g, 1, UINT64_MAX), ==, -ERANGE);
	g_assert_cmpint(gpadl_iter_init(&it, g, UINT64_MAX, 2), ==, -ERANGE);

	/* PFN lists. */
	uint32_t first = 99;
	g_assert_cmpint(gpadl_pfns(g, 0, 9096, pfns, 4, &first), ==, 3);
	g_assert_cmpuint(first, ==, 100);
	g_assert_cmphex(pfns[0], ==, 0xA);
	g_assert_cmphex(pfns[1], ==, 0xB);
	g_assert_cmphex(pfns[2], ==, 0xC);
	g_assert_cmpint(gpadl_pfns(g, 4000, 50, pfns, 4, &first), ==, 1);
	g_assert_cmpuint(first, ==, 4);
	g_assert_cmphex(pfns[0], ==, 0xB);
	pfns[0] = 0x77;
	g_assert_cmpint(gpadl_pfns(g, 0, 9096, pfns, 2, &first), ==, -ENOSPC);
	g_assert_cmphex(pfns[0], ==, 0x77);
	g_assert_cmpint(gpadl_pfns(g, 9000, 97, pfns, 4, NULL), ==, -ERANGE);
	g_assert_cmpint(gpadl_pfns(g, 9096, 0, pfns, 0, NULL), ==, 0);
	gpadl_table_free(t);
}

/* Every malformed description is refused and leaves the table as it was. */
static void test_malformed(void)
{
	struct gpadl_limits lim = { .max_pfns = 100, .max_ranges = 2, .max_gpadls = 2, .max_total_pfns = 150 };
	struct gpadl_table *t = gpadl_table_new(&lim);
	struct area a = { .n = 0 };
	area_range(&a, 4 * 4096, 0);
	area_pfns(&a, 0x100, 4);
	uint16_t bl = (uint16_t)a.n;

	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 0, bl, a.b, a.n), ==, -EINVAL);       /* no range */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl - 1, a.b, 8), ==, -EINVAL);    /* buflen % 8 */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, 8, a.b, 8), ==, -EINVAL);         /* no PFN room */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 2, 24, a.b, 8), ==, -EINVAL);        /* 2 ranges in 3 words */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl, a.b, 12), ==, -EINVAL);       /* len % 8 */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, 16, a.b, 24), ==, -EINVAL);       /* more than announced */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, 8 + 101 * 8, a.b, 8), ==, -E2BIG); /* PFN limit */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 3, 8 * 8, a.b, 8), ==, -E2BIG);      /* range limit */
	g_assert_cmpuint(gpadl_table_count(t), ==, 0);

	/* Inconsistent ranges, seen once the area is complete. */
	struct { uint32_t count, offset; unsigned npfn; uint64_t pfn; int err; } bad[] = {
		{ 4 * 4096, 4096, 5, 0x100, -EINVAL },           /* byte_offset past the page */
		{ 0, 0, 1, 0x100, -EINVAL },                    /* empty range */
		{ 3 * 4096, 0, 4, 0x100, -EINVAL },             /* a PFN more than byte_count needs */
		{ 4 * 4096 + 1, 0, 4, 0x100, -EINVAL },         /* a PFN fewer */
		{ 4 * 4096, 1, 4, 0x100, -EINVAL },             /* offset pushes it to 5 pages */
		{ 0xffffffffu, 0xfff, 4, 0x100, -EINVAL },      /* huge byte_count */
		{ 4 * 4096, 0, 4, GPADL_PFN_LIMIT - 2, -E2BIG }, /* last PFN past the limit */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct area b = { .n = 0 };
		area_range(&b, bad[i].count, bad[i].offset);
		for (unsigned p = 0; p < bad[i].npfn; p++)
			put_le(&b, bad[i].pfn + p, 8);
		g_assert_cmpint(gpadl_table_header(t, RELID, 9, 1, (uint16_t)b.n, b.b, b.n), ==, bad[i].err);
		/* Split over bodies: the same verdict at the last body, the partial dropped. */
		g_assert_cmpint(gpadl_table_header(t, RELID, 9, 1, (uint16_t)b.n, b.b, 8), ==, 0);
		g_assert_cmpint(gpadl_table_body(t, 9, b.b + 8, b.n - 8), ==, bad[i].err);
		g_assert_cmpint(gpadl_table_state(t, 9, NULL), ==, -ENOENT);
		g_assert_cmpuint(gpadl_table_count(t), ==, 0);
		g_assert_cmpuint(gpadl_table_pfns(t), ==, 0);
	}

	/* Bodies: unknown id, empty, misaligned, too long. */
	g_assert_cmpint(gpadl_table_body(t, 1, a.b, 8), ==, -ENOENT);
	const size_t body_cases[] = { 0, 4, 5 * 8 };
	for (unsigned i = 0; i < G_N_ELEMENTS(body_cases); i++) {
		g_assert_cmpint(gpadl_table_header(t, RELID, 2, 1, bl, a.b, 8), ==, 0);
		g_assert_cmpint(gpadl_table_body(t, 2, a.b + 8, body_cases[i]), ==, -EINVAL);
		g_assert_cmpint(gpadl_table_state(t, 2, NULL), ==, -ENOENT);
	}
	g_assert_cmpint(gpadl_table_body(t, 2, NULL, 8), ==, -ENOENT);

	/* Duplicate ids, table and budget limits. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl, a.b, a.n), ==, 1);
	g_assert_cmpint(gpadl_table_header(t, RELID + 1, 1, 1, bl, a.b, a.n), ==, -EEXIST);
	g_assert_nonnull(gpadl_table_find(t, 1));
	struct area big = { .n = 0 };
	area_range(&big, 100 * 4096, 0);
	area_pfns(&big, 0x1000, 100);
	unsigned steps;
	g_assert_cmpint(feed(t, 2, 1, &big, &steps), ==, 1);         /* 104 of 150 PFNs */
	g_assert_cmpuint(gpadl_table_pfns(t), ==, 104);
	g_assert_cmpint(gpadl_table_header(t, RELID, 3, 1, bl, a.b, a.n), ==, -ENOSPC);   /* count */
	g_assert_cmpint(gpadl_table_teardown(t, 1, true), ==, 0);
	g_assert_cmpint(feed(t, 3, 1, &big, &steps), ==, -ENOSPC);   /* budget */
	g_assert_cmpint(gpadl_table_header(t, RELID, 3, 1, bl, a.b, a.n), ==, 1);
	g_assert_cmpuint(gpadl_table_count(t), ==, 2);
	g_assert_cmpuint(gpadl_table_pfns(t), ==, 104);
	gpadl_table_free(t);
}

static void test_users_and_teardown(void)
{
	struct gpadl_table *t = gpadl_table_new(NULL);
	struct area a = { .n = 0 };
	area_range(&a, 4 * 4096, 0);
	area_pfns(&a, 0x100, 4);
	uint16_t bl = (uint16_t)a.n;

	/* Teardown while held: deferred, answered at the last release. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl, a.b, a.n), ==, 1);
	struct gpadl *g = gpadl_table_find(t, 1);
	gpadl_hold(g);
	gpadl_hold(g);
	g_assert_cmpint(gpadl_table_teardown(t, 1, true), ==, -EBUSY);
	g_assert_cmpint(gpadl_table_state(t, 1, NULL), ==, GPADL_STATE_TEARDOWN);
	g_assert_null(gpadl_table_find(t, 1));
	g_assert_cmpint(gpadl_table_teardown(t, 1, true), ==, -EALREADY);
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl, a.b, a.n), ==, -EEXIST);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 4);          /* still readable by its holders */
	g_assert_cmpint(gpadl_table_release(t, g), ==, 0);
	g_assert_cmpint(gpadl_table_release(t, g), ==, 1);
	g_assert_cmpint(gpadl_table_state(t, 1, NULL), ==, -ENOENT);
	g_assert_cmpuint(gpadl_table_count(t), ==, 0);

	/* Release without teardown keeps it. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 1, 1, bl, a.b, a.n), ==, 1);
	g = gpadl_table_find(t, 1);
	gpadl_hold(g);
	g_assert_cmpint(gpadl_table_release(t, g), ==, 0);
	g_assert_nonnull(gpadl_table_find(t, 1));

	/* Teardown of a GPADL being built drops it. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 2, 1, bl, a.b, 8), ==, 0);
	g_assert_cmpint(gpadl_table_teardown(t, 2, true), ==, 0);
	g_assert_cmpint(gpadl_table_teardown(t, 2, true), ==, -ENOENT);

	/* Dropping a channel's GPADLs: held ones leave the table at once, and
	 * their release owes no answer. Other channels' stay. */
	g_assert_cmpint(gpadl_table_header(t, RELID, 3, 1, bl, a.b, a.n), ==, 1);
	g_assert_cmpint(gpadl_table_header(t, RELID + 1, 4, 1, bl, a.b, a.n), ==, 1);
	g_assert_cmpint(gpadl_table_header(t, RELID, 5, 1, bl, a.b, 8), ==, 0);
	struct gpadl *held = gpadl_table_find(t, 3);
	gpadl_hold(held);
	gpadl_table_drop_relid(t, RELID);
	g_assert_cmpint(gpadl_table_state(t, 1, NULL), ==, -ENOENT);
	g_assert_cmpint(gpadl_table_state(t, 3, NULL), ==, -ENOENT);
	g_assert_cmpint(gpadl_table_state(t, 5, NULL), ==, -ENOENT);
	g_assert_nonnull(gpadl_table_find(t, 4));
	g_assert_cmpuint(gpadl_table_count(t), ==, 2);        /* 4, and 3 still held */
	g_assert_cmpint(gpadl_table_header(t, RELID, 3, 1, bl, a.b, a.n), ==, 1);   /* id reusable */
	g_assert_cmpint(gpadl_table_release(t, held), ==, 0);
	g_assert_cmpuint(gpadl_table_count(t), ==, 2);
	g_assert_nonnull(gpadl_table_find(t, 3));

	/* Clear: same, for every channel; a pending teardown's answer is dropped too. */
	g = gpadl_table_find(t, 4);
	gpadl_hold(g);
	g_assert_cmpint(gpadl_table_teardown(t, 4, true), ==, -EBUSY);
	gpadl_table_clear(t);
	g_assert_cmpuint(gpadl_table_count(t), ==, 1);
	g_assert_cmpint(gpadl_table_state(t, 4, NULL), ==, -ENOENT);
	g_assert_cmpint(gpadl_table_release(t, g), ==, 0);
	g_assert_cmpuint(gpadl_table_count(t), ==, 0);
	g_assert_cmpuint(gpadl_table_pfns(t), ==, 0);

	/* Freeing the table with a GPADL still held frees it too (no leak under ASan). */
	g_assert_cmpint(gpadl_table_header(t, RELID, 6, 1, bl, a.b, a.n), ==, 1);
	gpadl_hold(gpadl_table_find(t, 6));
	gpadl_table_clear(t);
	gpadl_table_free(t);
}

static void test_limits_max(void)
{
	/* The largest GPADL range_buflen can describe, through Linux-sized messages. */
	struct gpadl_table *t = gpadl_table_new(NULL);
	static struct area a;
	a.n = 0;
	area_range(&a, GPADL_MAX_PFNS * 4096u, 0);
	area_pfns(&a, 0x100000, GPADL_MAX_PFNS);
	g_assert_cmpuint(a.n, <=, 0xffff);
	unsigned steps;
	g_assert_cmpint(feed(t, 1, 1, &a, &steps), ==, 1);
	g_assert_cmpuint(gpadl_pfn_count(gpadl_table_find(t, 1)), ==, GPADL_MAX_PFNS);
	/* Limits above the hard ones are clamped. */
	struct gpadl_limits lim = { .max_pfns = 100000 };
	struct gpadl_table *t2 = gpadl_table_new(&lim);
	g_assert_cmpint(gpadl_table_header(t2, RELID, 1, 1, 0xfff8, a.b, 8), ==, 0);
	gpadl_table_free(t2);
	gpadl_table_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gpadl/header-only", test_header_only);
	g_test_add_func("/gpadl/bodies", test_bodies);
	g_test_add_func("/gpadl/multi-range-iter", test_multi_range_iter);
	g_test_add_func("/gpadl/malformed", test_malformed);
	g_test_add_func("/gpadl/users-and-teardown", test_users_and_teardown);
	g_test_add_func("/gpadl/limits-max", test_limits_max);
	return g_test_run();
}
