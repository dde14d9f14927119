// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/gpadl.h"
#include "hv/saved_state.h"
#include "hv/vmbus_proto.h"

_Static_assert(GPADL_PAGE_SIZE == VMBUS_PAGE_SIZE, "one page size");
_Static_assert((uint64_t)GPADL_MAX_PFNS + 1 <= 0xffffu / 8, "GPADL_MAX_PFNS fits range_buflen");

struct gpadl_range {
	uint32_t byte_count;
	uint32_t byte_offset;
	uint32_t pfn_index;          /* first PFN in gpadl->pfns */
	uint32_t pfn_count;
	uint64_t start;              /* byte position of the range in the buffer */
};

struct gpadl {
	uint32_t id;
	uint32_t relid;
	enum gpadl_state state;
	bool in_table;               /* else held after a drop: freed at the last release */
	bool answer;                 /* a pending teardown the guest waits for */
	unsigned users;

	/* building */
	uint16_t range_count;
	uint32_t buflen;             /* range area bytes announced */
	uint32_t filled;
	uint64_t *raw;               /* the range area, buflen bytes */

	/* ready */
	uint32_t pfn_count;          /* fixed by the header: buflen / 8 - range_count */
	uint64_t size;
	bool whole_pages;
	struct gpadl_range *ranges;
	uint64_t *pfns;
};

struct gpadl_table {
	struct gpadl_limits lim;
	GHashTable *by_id;           /* id -> struct gpadl, owned */
	GPtrArray *dropped;          /* held GPADLs no longer in by_id, owned */
	unsigned count;              /* by_id plus dropped */
	uint64_t pfns;               /* announced PFNs of all of them */
};

static void gpadl_free(struct gpadl *g)
{
	g_free(g->raw);
	g_free(g->ranges);
	g_free(g->pfns);
	g_free(g);
}

struct gpadl_table *gpadl_table_new(const struct gpadl_limits *limits)
{
	struct gpadl_table *t = g_new0(struct gpadl_table, 1);
	if (limits)
		t->lim = *limits;
	if (!t->lim.max_pfns || t->lim.max_pfns > GPADL_MAX_PFNS)
		t->lim.max_pfns = GPADL_MAX_PFNS;
	if (!t->lim.max_ranges || t->lim.max_ranges > GPADL_MAX_RANGES)
		t->lim.max_ranges = GPADL_MAX_RANGES;
	if (!t->lim.max_gpadls)
		t->lim.max_gpadls = GPADL_TABLE_MAX;
	if (!t->lim.max_total_pfns)
		t->lim.max_total_pfns = GPADL_TABLE_MAX_PFNS;
	t->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
	t->dropped = g_ptr_array_new();
	return t;
}

void gpadl_table_free(struct gpadl_table *t)
{
	if (!t)
		return;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t->by_id);
	while (g_hash_table_iter_next(&it, NULL, &v))
		gpadl_free(v);
	g_hash_table_destroy(t->by_id);
	for (guint i = 0; i < t->dropped->len; i++)
		gpadl_free(g_ptr_array_index(t->dropped, i));
	g_ptr_array_free(t->dropped, TRUE);
	g_free(t);
}

static struct gpadl *table_get(const struct gpadl_table *t, uint32_t id)
{
	return g_hash_table_lookup(t->by_id, GUINT_TO_POINTER(id));
}

/* Forget g entirely: out of the table or the dropped list, budget returned. */
static void table_destroy(struct gpadl_table *t, struct gpadl *g)
{
	if (g->in_table)
		g_hash_table_remove(t->by_id, GUINT_TO_POINTER(g->id));
	else
		g_ptr_array_remove_fast(t->dropped, g);
	t->count--;
	t->pfns -= g->pfn_count;
	gpadl_free(g);
}

/* The whole range area has arrived: check it and build ranges and PFNs. */
static int gpadl_finish(struct gpadl *g)
{
	uint32_t words = g->buflen / 8, w = 0, npfn = 0;
	g_autofree struct gpadl_range *ranges = g_new0(struct gpadl_range, g->range_count);
	g_autofree uint64_t *pfns = g_new(uint64_t, g->pfn_count);
	uint64_t size = 0;
	bool whole = true;

	for (uint32_t r = 0; r < g->range_count; r++) {
		if (w >= words)
			return -EINVAL;
		uint64_t hdr = g->raw[w++];
		uint32_t byte_count = (uint32_t)hdr, byte_offset = (uint32_t)(hdr >> 32);
		if (byte_offset >= GPADL_PAGE_SIZE || byte_count == 0)
			return -EINVAL;
		uint64_t n = ((uint64_t)byte_offset + byte_count + GPADL_PAGE_SIZE - 1) >> GPADL_PAGE_SHIFT;
		if (n > words - w || n > g->pfn_count - npfn)
			return -EINVAL;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t pfn = g->raw[w + i];
			if (pfn >= GPADL_PFN_LIMIT)
				return -E2BIG;
			pfns[npfn + i] = pfn;
		}
		ranges[r] = (struct gpadl_range){
			.byte_count = byte_count, .byte_offset = byte_offset,
			.pfn_index = npfn, .pfn_count = (uint32_t)n, .start = size,
		};
		if (byte_offset != 0 || byte_count % GPADL_PAGE_SIZE != 0)
			whole = false;
		size += byte_count;
		w += (uint32_t)n;
		npfn += (uint32_t)n;
	}
	/* Exactly the announced words: no PFN left over, none missing. */
	if (w != words || npfn != g->pfn_count)
		return -EINVAL;
	g->ranges = g_steal_pointer(&ranges);
	g->pfns = g_steal_pointer(&pfns);
	g->size = size;
	g->whole_pages = whole;
	g->state = GPADL_STATE_READY;
	g_clear_pointer(&g->raw, g_free);
	return 1;
}

int gpadl_table_header(struct gpadl_table *t, uint32_t relid, uint32_t id, uint16_t rangecount,
		       uint16_t range_buflen, const void *ranges, size_t len)
{
	if (rangecount == 0 || range_buflen % 8 != 0 || len % 8 != 0 || len > range_buflen ||
	    (len && !ranges))
		return -EINVAL;
	/* Each range is at least its 8-byte header and one PFN. */
	if ((uint32_t)range_buflen < 16u * rangecount)
		return -EINVAL;
	uint32_t npfn = range_buflen / 8u - rangecount;
	if (rangecount > t->lim.max_ranges || npfn > t->lim.max_pfns)
		return -E2BIG;
	if (table_get(t, id))
		return -EEXIST;
	if (t->count >= t->lim.max_gpadls || t->pfns + npfn > t->lim.max_total_pfns)
		return -ENOSPC;

	struct gpadl *g = g_new0(struct gpadl, 1);
	g->id = id;
	g->relid = relid;
	g->state = GPADL_STATE_BUILDING;
	g->range_count = rangecount;
	g->buflen = range_buflen;
	g->pfn_count = npfn;
	g->raw = g_malloc0(range_buflen);
	memcpy(g->raw, ranges, len);
	g->filled = (uint32_t)len;
	g->in_table = true;
	g_hash_table_insert(t->by_id, GUINT_TO_POINTER(id), g);
	t->count++;
	t->pfns += npfn;

	if (g->filled < g->buflen)
		return 0;
	int r = gpadl_finish(g);
	if (r < 0)
		table_destroy(t, g);
	return r;
}

int gpadl_table_body(struct gpadl_table *t, uint32_t id, const void *pfns, size_t len)
{
	struct gpadl *g = table_get(t, id);
	if (!g || g->state != GPADL_STATE_BUILDING)
		return -ENOENT;
	if (len == 0 || len % 8 != 0 || !pfns || len > g->buflen - g->filled) {
		table_destroy(t, g);
		return -EINVAL;
	}
	memcpy((uint8_t *)g->raw + g->filled, pfns, len);
	g->filled += (uint32_t)len;
	if (g->filled < g->buflen)
		return 0;
	int r = gpadl_finish(g);
	if (r < 0)
		table_destroy(t, g);
	return r;
}

int gpadl_table_state(const struct gpadl_table *t, uint32_t id, uint32_t *relid)
{
	struct gpadl *g = table_get(t, id);
	if (!g)
		return -ENOENT;
	if (relid)
		*relid = g->relid;
	return (int)g->state;
}

struct gpadl *gpadl_table_find(const struct gpadl_table *t, uint32_t id)
{
	struct gpadl *g = table_get(t, id);
	return g && g->state == GPADL_STATE_READY ? g : NULL;
}

void gpadl_hold(struct gpadl *g)
{
	g->users++;
}

int gpadl_table_release(struct gpadl_table *t, struct gpadl *g)
{
	g_return_val_if_fail(g->users > 0, 0);
	if (--g->users > 0)
		return 0;
	if (g->state != GPADL_STATE_TEARDOWN && g->in_table)
		return 0;
	bool answer = g->answer && g->in_table;
	table_destroy(t, g);
	return answer ? 1 : 0;
}

int gpadl_table_teardown(struct gpadl_table *t, uint32_t id, bool answer)
{
	struct gpadl *g = table_get(t, id);
	if (!g)
		return -ENOENT;
	if (g->state == GPADL_STATE_TEARDOWN)
		return -EALREADY;
	if (g->users == 0) {
		table_destroy(t, g);
		return 0;
	}
	g->state = GPADL_STATE_TEARDOWN;
	g->answer = answer;
	return -EBUSY;
}

/* Out of the table now; a held one waits on the dropped list for its release. */
static void drop_one(struct gpadl_table *t, struct gpadl *g)
{
	g->in_table = false;
	if (g->users == 0) {
		t->count--;
		t->pfns -= g->pfn_count;
		gpadl_free(g);
		return;
	}
	g->answer = false;
	g->state = GPADL_STATE_TEARDOWN;
	g_ptr_array_add(t->dropped, g);
}

void gpadl_table_drop_relid(struct gpadl_table *t, uint32_t relid)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t->by_id);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct gpadl *g = v;
		if (g->relid != relid)
			continue;
		g_hash_table_iter_steal(&it);
		drop_one(t, g);
	}
}

void gpadl_table_clear(struct gpadl_table *t)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t->by_id);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		g_hash_table_iter_steal(&it);
		drop_one(t, v);
	}
}

unsigned gpadl_table_count(const struct gpadl_table *t)
{
	return t->count;
}

uint64_t gpadl_table_pfns(const struct gpadl_table *t)
{
	return t->pfns;
}

uint32_t gpadl_id(const struct gpadl *g)
{
	return g->id;
}

uint32_t gpadl_relid(const struct gpadl *g)
{
	return g->relid;
}

uint64_t gpadl_size(const struct gpadl *g)
{
	return g->size;
}

uint32_t gpadl_pfn_count(const struct gpadl *g)
{
	return g->pfn_count;
}

uint32_t gpadl_range_count(const struct gpadl *g)
{
	return g->ranges ? g->range_count : 0;
}

int gpadl_range(const struct gpadl *g, uint32_t index, uint32_t *byte_offset, uint32_t *byte_count)
{
	if (!g->ranges || index >= g->range_count)
		return -ERANGE;
	*byte_offset = g->ranges[index].byte_offset;
	*byte_count = g->ranges[index].byte_count;
	return 0;
}

bool gpadl_whole_pages(const struct gpadl *g)
{
	return g->ranges && g->whole_pages;
}

int gpadl_pages(const struct gpadl *g, uint32_t first, uint32_t count, uint64_t *pfns)
{
	if (!gpadl_whole_pages(g))
		return -EINVAL;
	if (first > g->pfn_count || count > g->pfn_count - first)
		return -ERANGE;
	if (count)
		memcpy(pfns, g->pfns + first, (size_t)count * sizeof(*pfns));
	return 0;
}

int gpadl_iter_init(struct gpadl_iter *it, const struct gpadl *g, uint64_t offset, uint64_t len)
{
	if (!g->ranges || offset > g->size || len > g->size - offset)
		return -ERANGE;
	/* The last range starting at or before offset (ranges are in order). */
	uint32_t lo = 0, hi = g->range_count;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (g->ranges[mid].start <= offset)
			lo = mid;
		else
			hi = mid;
	}
	*it = (struct gpadl_iter){ .g = g, .range = lo, .pos = offset - g->ranges[lo].start, .left = len };
	return 0;
}

bool gpadl_iter_next(struct gpadl_iter *it, uint64_t *gpa, uint32_t *len)
{
	const struct gpadl *g = it->g;
	if (it->left == 0)
		return false;
	while (it->range < g->range_count && it->pos >= g->ranges[it->range].byte_count) {
		it->pos -= g->ranges[it->range].byte_count;
		it->range++;
	}
	if (it->range >= g->range_count)
		return false;
	const struct gpadl_range *r = &g->ranges[it->range];
	uint64_t abs = r->byte_offset + it->pos;
	uint64_t page = abs >> GPADL_PAGE_SHIFT;
	uint32_t in_page = (uint32_t)(abs & (GPADL_PAGE_SIZE - 1));
	if (page >= r->pfn_count)
		return false;
	uint64_t n = GPADL_PAGE_SIZE - in_page;
	if (n > r->byte_count - it->pos)
		n = r->byte_count - it->pos;
	if (n > it->left)
		n = it->left;
	*gpa = (g->pfns[r->pfn_index + page] << GPADL_PAGE_SHIFT) | in_page;
	*len = (uint32_t)n;
	it->pos += n;
	it->left -= n;
	return true;
}

long gpadl_pfns(const struct gpadl *g, uint64_t offset, uint64_t len, uint64_t *pfns, size_t max,
		uint32_t *first_offset)
{
	struct gpadl_iter it;
	uint64_t gpa;
	uint32_t n;
	int r = gpadl_iter_init(&it, g, offset, len);
	if (r < 0)
		return r;
	size_t count = 0;
	uint32_t first = 0;
	struct gpadl_iter walk = it;
	while (gpadl_iter_next(&walk, &gpa, &n)) {
		if (count == 0)
			first = (uint32_t)(gpa & (GPADL_PAGE_SIZE - 1));
		count++;
	}
	if (count > max)
		return -ENOSPC;
	for (size_t i = 0; i < count && gpadl_iter_next(&it, &gpa, &n); i++)
		pfns[i] = gpa >> GPADL_PAGE_SHIFT;
	if (first_offset)
		*first_offset = first;
	return (long)count;
}

/* ---- saved state ---- */

static gint gpadl_cmp_id(gconstpointer a, gconstpointer b)
{
	const struct gpadl *x = *(struct gpadl *const *)a, *y = *(struct gpadl *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The range area as the guest sent it: each range's header word, then its PFNs. */
static GVariant *gpadl_raw_area(const struct gpadl *g)
{
	if (g->state == GPADL_STATE_BUILDING)
		return saved_state_blob(g->raw, g->filled);
	g_autofree uint64_t *w = g_new(uint64_t, g->buflen / 8);
	size_t n = 0;
	for (uint32_t r = 0; r < g->range_count; r++) {
		const struct gpadl_range *rg = &g->ranges[r];
		w[n++] = rg->byte_count | (uint64_t)rg->byte_offset << 32;
		memcpy(w + n, g->pfns + rg->pfn_index, (size_t)rg->pfn_count * sizeof(uint64_t));
		n += rg->pfn_count;
	}
	return saved_state_blob(w, n * sizeof(uint64_t));
}

GVariant *gpadl_table_save(const struct gpadl_table *t)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, t->by_id);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(all, v);
	g_ptr_array_sort(all, gpadl_cmp_id);
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE(GPADL_TABLE_STATE_TYPE));
	for (guint i = 0; i < all->len; i++) {
		const struct gpadl *g = all->pdata[i];
		g_variant_builder_add(&b, "(uuubqq@ay)", g->id, g->relid, (guint32)g->state,
				      g->state == GPADL_STATE_TEARDOWN && g->answer, g->range_count,
				      (guint16)g->buflen, gpadl_raw_area(g));
	}
	return g_variant_builder_end(&b);
}

int gpadl_table_restore(struct gpadl_table *t, GVariant *v, GArray **teardowns, GError **error)
{
	if (saved_state_check_type(v, GPADL_TABLE_STATE_TYPE, "gpadls", error) < 0)
		return -EINVAL;
	if (t->count != 0)
		return saved_state_fail(error, "gpadls: the table is not empty");
	g_autoptr(GArray) td = g_array_new(FALSE, FALSE, sizeof(struct gpadl_pending_teardown));
	gsize n = g_variant_n_children(v);
	int r = 0;
	for (gsize i = 0; i < n && r == 0; i++) {
		guint32 id, relid, state;
		gboolean answer;
		guint16 rangecount, buflen;
		g_autoptr(GVariant) raw = NULL;
		g_variant_get_child(v, i, "(uuubqq@ay)", &id, &relid, &state, &answer, &rangecount, &buflen, &raw);
		size_t len;
		const uint8_t *bytes = saved_state_blob_peek(raw, &len);
		bool building = state == GPADL_STATE_BUILDING;
		if (state != GPADL_STATE_BUILDING && state != GPADL_STATE_READY && state != GPADL_STATE_TEARDOWN) {
			r = saved_state_fail(error, "gpadls: GPADL %#x: unknown state %u", id, state);
			break;
		}
		if (answer && state != GPADL_STATE_TEARDOWN) {
			r = saved_state_fail(error, "gpadls: GPADL %#x owes a teardown answer but is not torn down", id);
			break;
		}
		if (building ? len >= buflen : len != buflen) {
			r = saved_state_fail(error, "gpadls: GPADL %#x: %zu bytes of a %u-byte range area %s", id, len,
					     buflen, building ? "while being built" : "when complete");
			break;
		}
		/* The table's own checks, as for the guest's message. */
		int h = gpadl_table_header(t, relid, id, rangecount, buflen, bytes, len);
		if (h < 0) {
			r = saved_state_fail(error, "gpadls: GPADL %#x of relid %u refused: %s", id, relid, g_strerror(-h));
			break;
		}
		if (state == GPADL_STATE_TEARDOWN) {
			struct gpadl_pending_teardown p = { id, answer };
			g_array_append_val(td, p);
		}
	}
	if (r < 0) {
		gpadl_table_clear(t);
		return r;
	}
	*teardowns = g_steal_pointer(&td);
	return 0;
}
