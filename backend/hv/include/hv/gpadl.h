/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GPADLs (guest physical address descriptor lists): guest buffers the guest
 * describes to the host with GPADL_HEADER + GPADL_BODY messages, as one or
 * more ranges {byte_count, byte_offset, pfn[]}. The table collects the raw
 * range bytes until range_buflen of them have arrived, then checks the whole
 * description at once; the GPADL seen as one buffer is the concatenation of
 * its ranges. Every value the guest sent is checked before use and every
 * size it controls has a named limit.
 *
 * A GPADL in use (the ring of an open channel, a buffer a device holds) is
 * only freed after its last user let it go: a teardown requested meanwhile
 * waits for that, as the guest may reuse the pages once it hears back.
 * No locking: the owner (the VMBus server) serialises every call. Once a
 * GPADL is ready its ranges and PFNs never change, so a holder may read
 * them from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define GPADL_PAGE_SIZE      4096u
#define GPADL_PAGE_SHIFT     12u
/* PFNs of one GPADL: range_buflen is a u16, so one message series can carry
 * at most (65535 - 8) / 8 words (netvsc's 31 MiB receive buffer is 7936 pages). */
#define GPADL_MAX_PFNS       8190u
/* Ranges in one GPADL (Linux always sends 1). */
#define GPADL_MAX_RANGES     64u
/* GPADLs alive in one table, complete or being built. */
#define GPADL_TABLE_MAX      4096u
/* PFNs over all GPADLs of one table: 4 GiB of guest memory, 8 MiB of ours. */
#define GPADL_TABLE_MAX_PFNS (1u << 20)
/* PFNs beyond 52-bit guest physical addresses are refused. */
#define GPADL_PFN_LIMIT      (1ull << 40)

struct gpadl_limits {
	uint32_t max_pfns;           /* per GPADL; 0: GPADL_MAX_PFNS */
	uint32_t max_ranges;         /* per GPADL; 0: GPADL_MAX_RANGES */
	uint32_t max_gpadls;         /* per table; 0: GPADL_TABLE_MAX */
	uint64_t max_total_pfns;     /* per table; 0: GPADL_TABLE_MAX_PFNS */
};

enum gpadl_state {
	GPADL_STATE_BUILDING = 1,    /* header seen, waiting for bodies */
	GPADL_STATE_READY,
	GPADL_STATE_TEARDOWN,        /* teardown requested, still in use */
};

struct gpadl;
struct gpadl_table;

/* NULL limits: the defaults above. Never NULL. */
struct gpadl_table *gpadl_table_new(const struct gpadl_limits *limits);
/* Frees every GPADL, held ones too: holders must be gone. */
void gpadl_table_free(struct gpadl_table *t);

/*
 * A GPADL_HEADER for GPADL `id` of channel `relid`: `ranges` is the part of
 * the range area the header carries (the bytes after its 20-byte fixed part).
 * 1: complete and ready; 0: waiting for bodies;
 * -EEXIST: the id is in use (that GPADL is left alone);
 * -EINVAL: malformed (rangecount 0, range_buflen not a whole number of words
 *          or too small for rangecount, len not a multiple of 8 or above
 *          range_buflen, or, when complete, inconsistent ranges);
 * -E2BIG: more PFNs or ranges than the limits;
 * -ENOSPC: the table is full (count or PFN budget).
 * Nothing is kept on error.
 */
int gpadl_table_header(struct gpadl_table *t, uint32_t relid, uint32_t id, uint16_t rangecount,
		       uint16_t range_buflen, const void *ranges, size_t len);

/*
 * A GPADL_BODY for GPADL `id`: `pfns` is everything after its 16-byte fixed part.
 * 1: complete and ready; 0: waiting for more;
 * -ENOENT: no GPADL `id` is being built (nothing changed);
 * -EINVAL: empty, not a multiple of 8, more than announced or inconsistent
 *          ranges once complete; -E2BIG: a PFN beyond GPADL_PFN_LIMIT.
 *          On these two the partial GPADL is dropped.
 */
int gpadl_table_body(struct gpadl_table *t, uint32_t id, const void *pfns, size_t len);

/* State of GPADL `id` (and its channel in *relid), or -ENOENT. */
int gpadl_table_state(const struct gpadl_table *t, uint32_t id, uint32_t *relid);

/* A ready GPADL with no teardown requested, or NULL. Not a reference. */
struct gpadl *gpadl_table_find(const struct gpadl_table *t, uint32_t id);

/* Take and drop a user of a GPADL found above. gpadl_table_release returns 1
 * when that freed a GPADL whose teardown the guest waits for (the caller
 * kept its id and answers now), else 0. */
void gpadl_hold(struct gpadl *g);
int gpadl_table_release(struct gpadl_table *t, struct gpadl *g);

/*
 * The guest tears down GPADL `id`. 0: freed (a partial one too);
 * -EBUSY: in use, freed at the last release, which then reports whether
 *         `answer` was asked for; -EALREADY: a teardown is already pending;
 * -ENOENT: unknown.
 */
int gpadl_table_teardown(struct gpadl_table *t, uint32_t id, bool answer);

/* Drop every GPADL of channel `relid` (rescinded and released), or all of
 * them (reset, unload), with no answer owed. Held ones leave the table at
 * once (their ids can be reused) and are freed at their last release. */
void gpadl_table_drop_relid(struct gpadl_table *t, uint32_t relid);
void gpadl_table_clear(struct gpadl_table *t);

/* GPADLs alive (in the table or still held) and the PFNs they use. */
unsigned gpadl_table_count(const struct gpadl_table *t);
uint64_t gpadl_table_pfns(const struct gpadl_table *t);

/* A ready GPADL. */
uint32_t gpadl_id(const struct gpadl *g);
uint32_t gpadl_relid(const struct gpadl *g);
uint64_t gpadl_size(const struct gpadl *g);           /* bytes: sum of the byte_counts */
uint32_t gpadl_pfn_count(const struct gpadl *g);
uint32_t gpadl_range_count(const struct gpadl *g);
/* 0 and the range's fields, or -ERANGE for a bad index. */
int gpadl_range(const struct gpadl *g, uint32_t index, uint32_t *byte_offset, uint32_t *byte_count);
/* Every range starts at offset 0 and covers whole pages: then byte
 * k * 4096 of the buffer is the start of its k-th PFN (ring buffers need this). */
bool gpadl_whole_pages(const struct gpadl *g);

/* PFNs [first, first + count) of a whole-pages GPADL into pfns.
 * -EINVAL when it is not whole pages, -ERANGE when past its end. */
int gpadl_pages(const struct gpadl *g, uint32_t first, uint32_t count, uint64_t *pfns);

/*
 * Walk the bytes [offset, offset + len) of the buffer as guest-physical
 * pieces, each inside one guest page, in order.
 * gpadl_iter_init: 0, or -ERANGE when the span is not inside the buffer.
 */
struct gpadl_iter {
	const struct gpadl *g;
	uint32_t range;              /* current range */
	uint64_t pos;                /* byte position inside that range */
	uint64_t left;
};
int gpadl_iter_init(struct gpadl_iter *it, const struct gpadl *g, uint64_t offset, uint64_t len);
bool gpadl_iter_next(struct gpadl_iter *it, uint64_t *gpa, uint32_t *len);

/*
 * The guest PFNs covering [offset, offset + len), one per piece of the walk
 * above (so one per page, in order), and the offset of the first byte in the
 * first page (first_offset may be NULL). Returns their number; -ERANGE when
 * the span is not inside the buffer; -ENOSPC when more than max (nothing written).
 */
long gpadl_pfns(const struct gpadl *g, uint64_t offset, uint64_t len, uint64_t *pfns, size_t max,
		uint32_t *first_offset);

/*
 * Saved state (saved_state.h): every GPADL of the table, complete or being
 * built, with its range area as the guest sent it. Held GPADLs that left
 * the table (gpadl_table_drop_relid with a holder) are not part of it.
 */
#define GPADL_TABLE_STATE_TYPE "a(uuubqqay)"
GVariant *gpadl_table_save(const struct gpadl_table *t);

/* A teardown the guest asked for while the GPADL was in use. */
struct gpadl_pending_teardown {
	uint32_t id;
	bool answer;
};
/*
 * Refill an empty table from gpadl_table_save's variant, each GPADL through
 * the checks of gpadl_table_header. GPADLs whose teardown was pending come
 * back ready and are listed in *teardowns (a GArray of struct
 * gpadl_pending_teardown): once their holders hold them again, the caller
 * asks gpadl_table_teardown for each. 0, or -EINVAL with error set and the
 * table empty again.
 */
int gpadl_table_restore(struct gpadl_table *t, GVariant *v, GArray **teardowns, GError **error);
