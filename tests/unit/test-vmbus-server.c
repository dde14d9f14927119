// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMBus channel-management server driven as a Linux 6.1 guest drives it
 * (drivers/hv/connection.c, channel.c, channel_mgmt.c). Every guest message
 * is built here byte by byte at the offsets of Linux's structs, and every
 * reply is checked the same way, not through vmbus_proto.h, so that a wrong
 * struct there shows up as a failure here.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/gpadl.h"
#include "hv/vmbus_server.h"

/* Hyper-V statuses, as the guest sees them (hyperv-tlfs.h). */
#define ST_SUCCESS        0u
#define ST_INVALID_INPUT  3u
#define ST_INVALID_PARAM  5u
#define ST_INVALID_CONN   18u
#define ST_NO_BUFFERS     19u

/* Message types (enum vmbus_channel_message_type). */
enum {
	T_OFFER = 1, T_RESCIND = 2, T_REQUESTOFFERS = 3, T_ALLOFFERS = 4, T_OPEN = 5,
	T_OPEN_RESULT = 6, T_CLOSE = 7, T_GPADL_HEADER = 8, T_GPADL_BODY = 9,
	T_GPADL_CREATED = 10, T_GPADL_TEARDOWN = 11, T_GPADL_TORNDOWN = 12,
	T_RELID_RELEASED = 13, T_INITIATE = 14, T_VERSION_RESPONSE = 15, T_UNLOAD = 16,
	T_UNLOAD_RESPONSE = 17, T_TL_CONNECT = 21, T_MODIFY = 22, T_TL_RESULT = 23,
	T_MODIFY_RESPONSE = 24,
};

/* Linux's vmbus_versions[], newest first. */
static const uint32_t linux_versions[] = {
	0x50003, 0x50002, 0x50001, 0x50000, 0x40001, 0x40000, 0x30000, 0x20004,
};

#define NVPS 4u

/* ---- the rig: a server and what it did ---- */

struct posted {
	unsigned vp;
	GByteArray *msg;
};

struct rig {
	struct vmbus_server *s;
	unsigned nvps;
	uint32_t conn_id;            /* the guest's msg_conn_id */
	unsigned target_vp;          /* the guest's target_vcpu */
	GQueue posted;
	int post_result;             /* what post_to_guest returns; 0 records */
	int open_status;
	GPtrArray *opened, *closed, *removed, *signalled;
	bool tl_op;
	int tl_result;
	unsigned tl_calls;
	uint8_t tl_endpoint[16], tl_service[16];
};

static int ops_post(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct rig *r = opaque;
	g_assert_cmpuint(len, >=, 8);
	g_assert_cmpuint(len, <=, 240);
	g_assert_cmpuint(vp, <, r->nvps);
	if (r->post_result)
		return r->post_result;
	struct posted *p = g_new0(struct posted, 1);
	p->vp = vp;
	p->msg = g_byte_array_new();
	g_byte_array_append(p->msg, msg, (guint)len);
	g_queue_push_tail(&r->posted, p);
	return 0;
}

static int ops_open(void *opaque, struct vmbus_channel *ch)
{
	struct rig *r = opaque;
	struct vmbus_channel_info info;
	/* The device may look at its channel from inside the callback. */
	g_assert_cmpint(vmbus_server_channel_info(r->s, ch, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OPEN);
	g_assert_nonnull(info.ring);
	g_ptr_array_add(r->opened, ch);
	return r->open_status;
}

static void ops_close(void *opaque, struct vmbus_channel *ch)
{
	struct rig *r = opaque;
	g_ptr_array_add(r->closed, ch);
}

static void ops_removed(void *opaque, struct vmbus_channel *ch)
{
	struct rig *r = opaque;
	g_ptr_array_add(r->removed, ch);
}

static void ops_signal(void *opaque, struct vmbus_channel *ch)
{
	struct rig *r = opaque;
	g_ptr_array_add(r->signalled, ch);
}

static int ops_tl_connect(void *opaque, const struct vmbus_guid *ep, const struct vmbus_guid *svc)
{
	struct rig *r = opaque;
	r->tl_calls++;
	memcpy(r->tl_endpoint, ep->b, 16);
	memcpy(r->tl_service, svc->b, 16);
	return r->tl_result;
}

static const struct vmbus_server_ops rig_ops = {
	.post_to_guest = ops_post,
	.channel_open = ops_open,
	.channel_close = ops_close,
	.channel_removed = ops_removed,
	.channel_signal = ops_signal,
	.tl_connect = ops_tl_connect,
};

static const struct vmbus_server_ops rig_ops_no_tl = {
	.post_to_guest = ops_post,
	.channel_open = ops_open,
	.channel_close = ops_close,
	.channel_removed = ops_removed,
	.channel_signal = ops_signal,
};

static void rig_init_cfg(struct rig *r, const struct vmbus_server_config *cfg, bool tl_op)
{
	memset(r, 0, sizeof(*r));
	r->nvps = cfg->nvps;
	r->conn_id = 1;
	g_queue_init(&r->posted);
	r->opened = g_ptr_array_new();
	r->closed = g_ptr_array_new();
	r->removed = g_ptr_array_new();
	r->signalled = g_ptr_array_new();
	r->tl_op = tl_op;
	r->s = vmbus_server_new(cfg, tl_op ? &rig_ops : &rig_ops_no_tl, r);
	g_assert_nonnull(r->s);
}

static void rig_init(struct rig *r, uint32_t max_version)
{
	struct vmbus_server_config cfg = { .nvps = NVPS, .max_version = max_version };
	rig_init_cfg(r, &cfg, false);
}

static void posted_free(gpointer p)
{
	struct posted *x = p;
	g_byte_array_unref(x->msg);
	g_free(x);
}

static void rig_fini(struct rig *r)
{
	vmbus_server_free(r->s);
	g_queue_clear_full(&r->posted, posted_free);
	g_ptr_array_unref(r->opened);
	g_ptr_array_unref(r->closed);
	g_ptr_array_unref(r->removed);
	g_ptr_array_unref(r->signalled);
}

static uint32_t rd32(const GByteArray *m, size_t off)
{
	g_assert_cmpuint(off + 4, <=, m->len);
	return (uint32_t)m->data[off] | (uint32_t)m->data[off + 1] << 8 |
	       (uint32_t)m->data[off + 2] << 16 | (uint32_t)m->data[off + 3] << 24;
}

static uint16_t rd16(const GByteArray *m, size_t off)
{
	g_assert_cmpuint(off + 2, <=, m->len);
	return (uint16_t)(m->data[off] | m->data[off + 1] << 8);
}

/* The oldest reply: of `type`, to the guest's target VP, at least min_len bytes. */
static GByteArray *take(struct rig *r, uint32_t type, size_t min_len)
{
	struct posted *p = g_queue_pop_head(&r->posted);
	g_assert_nonnull(p);
	g_assert_cmpuint(p->msg->len, >=, min_len);
	g_assert_cmpuint(rd32(p->msg, 0), ==, type);
	g_assert_cmpuint(rd32(p->msg, 4), ==, 0);
	g_assert_cmpuint(p->vp, ==, r->target_vp);
	GByteArray *m = g_byte_array_ref(p->msg);
	posted_free(p);
	return m;
}

static void assert_none(struct rig *r)
{
	g_assert_cmpuint(g_queue_get_length(&r->posted), ==, 0);
}

/* ---- guest messages, at Linux's offsets ---- */

struct gmsg {
	uint8_t b[256];
	size_t n;
};

static void w8(struct gmsg *m, size_t off, uint8_t v)
{
	m->b[off] = v;
	m->n = MAX(m->n, off + 1);
}

static void w16(struct gmsg *m, size_t off, uint16_t v)
{
	for (int i = 0; i < 2; i++)
		m->b[off + i] = (uint8_t)(v >> (8 * i));
	m->n = MAX(m->n, off + 2);
}

static void w32(struct gmsg *m, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m->b[off + i] = (uint8_t)(v >> (8 * i));
	m->n = MAX(m->n, off + 4);
}

static void w64(struct gmsg *m, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		m->b[off + i] = (uint8_t)(v >> (8 * i));
	m->n = MAX(m->n, off + 8);
}

static struct gmsg msg_new(uint32_t type, size_t len)
{
	struct gmsg m;
	memset(&m, 0, sizeof(m));
	w32(&m, 0, type);
	w32(&m, 4, 0);
	m.n = len;
	return m;
}

/* vmbus_negotiate_version: 40 bytes. */
static struct gmsg msg_initiate(uint32_t version, uint32_t vcpu)
{
	struct gmsg m = msg_new(T_INITIATE, 40);
	w32(&m, 8, version);
	w32(&m, 12, vcpu);
	if (version >= 0x50000)
		w8(&m, 16, 2);                       /* msg_sint = VMBUS_MESSAGE_SINT */
	else
		w64(&m, 16, 0x7f000000);             /* interrupt_page */
	w64(&m, 24, 0x7f001000);
	w64(&m, 32, 0x7f002000);
	return m;
}

static struct gmsg msg_relid(uint32_t type, uint32_t relid)
{
	struct gmsg m = msg_new(type, 12);
	w32(&m, 8, relid);
	return m;
}

static struct gmsg msg_open(uint32_t relid, uint32_t openid, uint32_t gpadl, uint32_t vp, uint32_t off)
{
	struct gmsg m = msg_new(T_OPEN, 148);
	w32(&m, 8, relid);
	w32(&m, 12, openid);
	w32(&m, 16, gpadl);
	w32(&m, 20, vp);
	w32(&m, 24, off);
	for (int i = 0; i < 120; i++)
		w8(&m, 28 + i, (uint8_t)(0xA0 + i));
	return m;
}

static struct gmsg msg_teardown(uint32_t relid, uint32_t gpadl)
{
	struct gmsg m = msg_new(T_GPADL_TEARDOWN, 16);
	w32(&m, 8, relid);
	w32(&m, 12, gpadl);
	return m;
}

static struct gmsg msg_modify(uint32_t relid, uint32_t vp)
{
	struct gmsg m = msg_new(T_MODIFY, 16);
	w32(&m, 8, relid);
	w32(&m, 12, vp);
	return m;
}

/* GPADL_HEADER as create_gpadl_header() lays it out: one range, up to 26 PFNs. */
static struct gmsg msg_gpadl_header(uint32_t relid, uint32_t gpadl, uint16_t buflen, uint16_t rangecount,
				    uint32_t byte_count, uint32_t byte_offset, uint64_t pfn0, unsigned npfn)
{
	struct gmsg m = msg_new(T_GPADL_HEADER, 28 + 8 * npfn);
	w32(&m, 8, relid);
	w32(&m, 12, gpadl);
	w16(&m, 16, buflen);
	w16(&m, 18, rangecount);
	w32(&m, 20, byte_count);
	w32(&m, 24, byte_offset);
	for (unsigned i = 0; i < npfn; i++)
		w64(&m, 28 + 8 * i, pfn0 + i);
	return m;
}

static struct gmsg msg_gpadl_body(uint32_t gpadl, uint64_t pfn0, unsigned npfn)
{
	struct gmsg m = msg_new(T_GPADL_BODY, 16 + 8 * npfn);
	w32(&m, 8, 0);                               /* msgnumber: Linux leaves it 0 */
	w32(&m, 12, gpadl);
	for (unsigned i = 0; i < npfn; i++)
		w64(&m, 16 + 8 * i, pfn0 + i);
	return m;
}

static unsigned post_on(struct rig *r, uint32_t conn, const struct gmsg *m)
{
	return vmbus_server_handle_post(r->s, conn, 1, m->b, m->n);
}

static unsigned gpost(struct rig *r, const struct gmsg *m)
{
	return post_on(r, r->conn_id, m);
}

/* ---- the Linux guest's sequences ---- */

/* vmbus_connect(): each version in turn until one is accepted; 0 if none. */
static uint32_t guest_connect(struct rig *r, unsigned vcpu, unsigned *tries)
{
	r->target_vp = vcpu;
	*tries = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(linux_versions); i++) {
		uint32_t v = linux_versions[i];
		uint32_t conn = v >= 0x50000 ? 4 : 1;
		struct gmsg m = msg_initiate(v, vcpu);
		(*tries)++;
		unsigned st = post_on(r, conn, &m);
		if (st != ST_SUCCESS) {
			/* Linux: -EINVAL for INVALID_CONNECTION_ID, next version. */
			assert_none(r);
			continue;
		}
		g_autoptr(GByteArray) resp = take(r, T_VERSION_RESPONSE, 16);
		assert_none(r);
		g_assert_cmpuint(resp->data[9], ==, 0);          /* connection_state */
		if (resp->data[8]) {
			r->conn_id = v >= 0x50000 ? rd32(resp, 12) : 1;
			return v;
		}
	}
	return 0;
}

static void guest_connect_ok(struct rig *r, uint32_t want)
{
	unsigned tries;
	g_assert_cmphex(guest_connect(r, 0, &tries), ==, want);
}

/* vmbus_request_offers(): returns the offers' relids in order. */
static unsigned guest_request_offers(struct rig *r, uint32_t *relids, unsigned max)
{
	struct gmsg m = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(gpost(r, &m), ==, ST_SUCCESS);
	unsigned n = 0;
	for (;;) {
		struct posted *p = g_queue_peek_head(&r->posted);
		g_assert_nonnull(p);
		if (rd32(p->msg, 0) == T_ALLOFFERS) {
			g_byte_array_unref(take(r, T_ALLOFFERS, 8));
			break;
		}
		g_autoptr(GByteArray) o = take(r, T_OFFER, 196);
		g_assert_cmpuint(n, <, max);
		relids[n++] = rd32(o, 184);
	}
	assert_none(r);
	return n;
}

/* __vmbus_establish_gpadl(): header with up to 26 PFNs, then bodies of 28,
 * then the wait for GPADL_CREATED. Returns its creation_status. */
static uint32_t guest_gpadl(struct rig *r, uint32_t relid, uint32_t gpadl, unsigned pages, uint64_t pfn0)
{
	unsigned first = MIN(pages, 26u);
	struct gmsg h = msg_gpadl_header(relid, gpadl, (uint16_t)(8 + 8 * pages), 1, pages * 4096u, 0,
					 pfn0, first);
	g_assert_cmpuint(gpost(r, &h), ==, ST_SUCCESS);
	for (unsigned done = first; done < pages;) {
		assert_none(r);                          /* nothing before the last PFN */
		unsigned n = MIN(pages - done, 28u);
		struct gmsg b = msg_gpadl_body(gpadl, pfn0 + done, n);
		g_assert_cmpuint(gpost(r, &b), ==, ST_SUCCESS);
		done += n;
	}
	g_autoptr(GByteArray) c = take(r, T_GPADL_CREATED, 20);
	assert_none(r);
	g_assert_cmpuint(rd32(c, 8), ==, relid);
	g_assert_cmphex(rd32(c, 12), ==, gpadl);
	return rd32(c, 16);
}

/* __vmbus_open(): OPENCHANNEL, then the wait for OPENCHANNEL_RESULT. */
static uint32_t guest_open(struct rig *r, uint32_t relid, uint32_t gpadl, uint32_t vp, uint32_t off)
{
	struct gmsg m = msg_open(relid, relid, gpadl, vp, off);
	g_assert_cmpuint(gpost(r, &m), ==, ST_SUCCESS);
	g_autoptr(GByteArray) res = take(r, T_OPEN_RESULT, 20);
	assert_none(r);
	g_assert_cmpuint(rd32(res, 8), ==, relid);
	g_assert_cmpuint(rd32(res, 12), ==, relid);
	return rd32(res, 16);
}

/* vmbus_teardown_gpadl(): waits for GPADL_TORNDOWN. */
static void guest_teardown(struct rig *r, uint32_t relid, uint32_t gpadl)
{
	struct gmsg m = msg_teardown(relid, gpadl);
	g_assert_cmpuint(gpost(r, &m), ==, ST_SUCCESS);
	g_autoptr(GByteArray) t = take(r, T_GPADL_TORNDOWN, 12);
	assert_none(r);
	g_assert_cmphex(rd32(t, 8), ==, gpadl);
}

/* ---- devices ---- */

#define SYNTHVID_GUID VMBUS_GUID_INIT(0xda0a7802, 0xe377, 0x4aac, 0x8e, 0x77, 0x05, 0x58, 0xeb, 0x10, 0x73, 0xf8)
#define KBD_GUID      VMBUS_GUID_INIT(0xf912ad6d, 0x2b17, 0x48ea, 0xbd, 0x65, 0xf9, 0x27, 0xa6, 0x1c, 0x76, 0x84)
#define HB_GUID       VMBUS_GUID_INIT(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d)

static struct vmbus_channel *add(struct rig *r, struct vmbus_guid type, uint8_t inst, uint16_t sub)
{
	struct vmbus_channel_desc d = { .type = type, .sub_channel_index = sub };
	d.instance.b[0] = inst;
	d.instance.b[15] = 0x5a;
	struct vmbus_channel *ch = NULL;
	g_assert_cmpint(vmbus_server_add_channel(r->s, &d, &ch), ==, 0);
	g_assert_nonnull(ch);
	return ch;
}

/* Connected at `version`, offers delivered, two channels (relids 1 and 2). */
static void rig_ready(struct rig *r, uint32_t version, struct vmbus_channel **a, struct vmbus_channel **b)
{
	rig_init(r, version);
	*a = add(r, SYNTHVID_GUID, 1, 0);
	*b = add(r, KBD_GUID, 2, 0);
	guest_connect_ok(r, version);
	uint32_t relids[4];
	g_assert_cmpuint(guest_request_offers(r, relids, 4), ==, 2);
	g_assert_cmpuint(relids[0], ==, 1);
	g_assert_cmpuint(relids[1], ==, 2);
}

static struct vmbus_server_state state(struct rig *r)
{
	struct vmbus_server_state st;
	vmbus_server_get_state(r->s, &st);
	return st;
}

struct snap {
	struct vmbus_server_state st;
	struct vmbus_channel_info ci[2];
	unsigned opened, closed, removed;
};

static void snap_take(struct rig *r, struct snap *sn, struct vmbus_channel *a, struct vmbus_channel *b)
{
	memset(sn, 0, sizeof(*sn));
	sn->st = state(r);
	g_assert_cmpint(vmbus_server_channel_info(r->s, a, &sn->ci[0]), ==, 0);
	g_assert_cmpint(vmbus_server_channel_info(r->s, b, &sn->ci[1]), ==, 0);
	sn->opened = r->opened->len;
	sn->closed = r->closed->len;
	sn->removed = r->removed->len;
}

static void snap_same(const struct snap *x, const struct snap *y)
{
	g_assert_cmpint(x->st.connected, ==, y->st.connected);
	g_assert_cmphex(x->st.version, ==, y->st.version);
	g_assert_cmpuint(x->st.target_vp, ==, y->st.target_vp);
	g_assert_cmpint(x->st.offers_sent, ==, y->st.offers_sent);
	g_assert_cmpuint(x->st.channels, ==, y->st.channels);
	g_assert_cmpuint(x->st.open_channels, ==, y->st.open_channels);
	g_assert_cmpuint(x->st.gpadls, ==, y->st.gpadls);
	g_assert_cmpuint(x->st.gpadl_pfns, ==, y->st.gpadl_pfns);
	g_assert_cmpuint(x->st.queued, ==, y->st.queued);
	for (int i = 0; i < 2; i++) {
		g_assert_cmpuint(x->ci[i].relid, ==, y->ci[i].relid);
		g_assert_cmpint(x->ci[i].state, ==, y->ci[i].state);
		g_assert_cmpint(x->ci[i].rescinded, ==, y->ci[i].rescinded);
		g_assert_cmpuint(x->ci[i].target_vp, ==, y->ci[i].target_vp);
		g_assert_cmpuint(x->ci[i].openid, ==, y->ci[i].openid);
		g_assert_true(x->ci[i].ring == y->ci[i].ring);
		g_assert_cmpuint(x->ci[i].downstream_offset, ==, y->ci[i].downstream_offset);
	}
	g_assert_cmpuint(x->opened, ==, y->opened);
	g_assert_cmpuint(x->closed, ==, y->closed);
	g_assert_cmpuint(x->removed, ==, y->removed);
}

/* ---- tests ---- */

static void test_version_53(void)
{
	struct rig r;
	rig_init(&r, 0);
	unsigned tries;
	/* The guest's CPU 0 is VP 2 here: every control reply goes there. */
	g_assert_cmphex(guest_connect(&r, 2, &tries), ==, 0x50003);
	g_assert_cmpuint(tries, ==, 1);
	g_assert_cmpuint(r.conn_id, ==, 1);          /* msg_conn_id for >= 5.0 */
	struct vmbus_server_state st = state(&r);
	g_assert_true(st.connected);
	g_assert_cmphex(st.version, ==, 0x50003);
	g_assert_cmpuint(st.target_vp, ==, 2);

	/* The response image: 16 bytes, {15, 0, supported=1, state=0, pad, conn id 1}. */
	struct gmsg m = msg_initiate(0x50003, 2);
	g_assert_cmpuint(post_on(&r, 4, &m), ==, ST_SUCCESS);
	g_autoptr(GByteArray) resp = take(&r, T_VERSION_RESPONSE, 16);
	const uint8_t want[16] = { 15, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
	g_assert_cmpmem(resp->data, resp->len, want, sizeof(want));
	rig_fini(&r);
}

static void test_version_max40(void)
{
	struct rig r;
	rig_init(&r, 0x40000);
	/* 5.x on connection id 4: INVALID_CONNECTION_ID, nothing sent (QEMU's way). */
	for (int i = 0; i < 4; i++) {
		struct gmsg m = msg_initiate(linux_versions[i], 0);
		g_assert_cmpuint(post_on(&r, 4, &m), ==, ST_INVALID_CONN);
		assert_none(&r);
	}
	/* 4.1 on id 1: refused with version_supported = 0. */
	struct gmsg m41 = msg_initiate(0x40001, 0);
	g_assert_cmpuint(post_on(&r, 1, &m41), ==, ST_SUCCESS);
	g_autoptr(GByteArray) no = take(&r, T_VERSION_RESPONSE, 16);
	g_assert_cmpuint(no->data[8], ==, 0);
	g_assert_false(state(&r).connected);
	/* 4.0 on id 1: accepted. */
	struct gmsg m40 = msg_initiate(0x40000, 0);
	g_assert_cmpuint(post_on(&r, 1, &m40), ==, ST_SUCCESS);
	g_autoptr(GByteArray) yes = take(&r, T_VERSION_RESPONSE, 16);
	g_assert_cmpuint(yes->data[8], ==, 1);
	assert_none(&r);
	g_assert_cmphex(state(&r).version, ==, 0x40000);
	/* Later messages on id 4 are refused too. */
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(post_on(&r, 4, &ro), ==, ST_INVALID_CONN);
	rig_fini(&r);

	/* The whole Linux loop against the same configuration. */
	rig_init(&r, 0x40000);
	unsigned tries;
	g_assert_cmphex(guest_connect(&r, 1, &tries), ==, 0x40000);
	g_assert_cmpuint(tries, ==, 6);
	rig_fini(&r);
}

static void test_version_each_max(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(linux_versions); i++) {
		struct rig r;
		rig_init(&r, linux_versions[i]);
		unsigned tries;
		g_assert_cmphex(guest_connect(&r, 3, &tries), ==, linux_versions[i]);
		g_assert_cmpuint(tries, ==, i + 1);
		rig_fini(&r);
	}
	/* Unknown maxima and bad configurations are refused. */
	struct vmbus_server_config bad = { .nvps = 1, .max_version = 0x40002 };
	g_assert_null(vmbus_server_new(&bad, &rig_ops, NULL));
	struct vmbus_server_config novp = { .nvps = 0 };
	g_assert_null(vmbus_server_new(&novp, &rig_ops, NULL));
	struct vmbus_server_config ok = { .nvps = 1 };
	struct vmbus_server_ops nopost = { 0 };
	g_assert_null(vmbus_server_new(&ok, &nopost, NULL));
	g_assert_null(vmbus_server_new(NULL, &rig_ops, NULL));
}

static void test_version_refused(void)
{
	struct rig r;
	rig_init(&r, 0);
	/* Versions Linux 6.1 never offers: answered, not dropped. */
	const uint32_t odd[] = { 0x10001, 0x50004, 0x60000, 0, 0xffffffff, 0x20003 };
	for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
		struct gmsg m = msg_initiate(odd[i], 0);
		g_assert_cmpuint(post_on(&r, 1, &m), ==, ST_SUCCESS);
		g_autoptr(GByteArray) resp = take(&r, T_VERSION_RESPONSE, 16);
		g_assert_cmpuint(resp->data[8], ==, 0);
		g_assert_false(state(&r).connected);
	}
	/* >= 5.0 asking for another SINT than 2. */
	struct gmsg sint = msg_initiate(0x50003, 0);
	w8(&sint, 16, 3);
	g_assert_cmpuint(post_on(&r, 4, &sint), ==, ST_SUCCESS);
	g_autoptr(GByteArray) resp = take(&r, T_VERSION_RESPONSE, 16);
	g_assert_cmpuint(resp->data[8], ==, 0);

	/* A target VP that does not exist: nowhere to answer, refused, nothing changes. */
	guest_connect_ok(&r, 0x50003);
	struct vmbus_server_state before = state(&r);
	for (uint32_t vp = NVPS; vp < NVPS + 3; vp++) {
		struct gmsg m = msg_initiate(0x50003, vp == NVPS + 2 ? 0xffffffffu : vp);
		g_assert_cmpuint(post_on(&r, 4, &m), ==, ST_INVALID_PARAM);
		assert_none(&r);
	}
	struct vmbus_server_state after = state(&r);
	g_assert_true(after.connected);
	g_assert_cmphex(after.version, ==, before.version);
	rig_fini(&r);
}

static void test_offers(void)
{
	struct rig r;
	rig_init(&r, 0);
	struct vmbus_channel_desc fb = { .type = SYNTHVID_GUID, .mmio_megabytes = 8 };
	for (int i = 0; i < 16; i++)
		fb.instance.b[i] = (uint8_t)(0x10 + i);
	for (int i = 0; i < 120; i++)
		fb.user_def[i] = (uint8_t)i;
	struct vmbus_channel_desc pipe = {
		.type = HB_GUID, .flags = 0x10 /* NAMED_PIPE_MODE */, .pipe_mode = 4 /* message */,
		.sub_channel_index = 0,
	};
	pipe.instance.b[3] = 0x33;
	pipe.user_def[4] = 0xEE;
	struct vmbus_channel *c_fb, *c_pipe, *c_sub;
	g_assert_cmpint(vmbus_server_add_channel(r.s, &fb, &c_fb), ==, 0);
	g_assert_cmpint(vmbus_server_add_channel(r.s, &pipe, &c_pipe), ==, 0);
	struct vmbus_channel_desc sub = pipe;
	sub.sub_channel_index = 1;
	g_assert_cmpint(vmbus_server_add_channel(r.s, &sub, &c_sub), ==, 0);
	/* Same type, instance and index: refused. */
	struct vmbus_channel *dup = (void *)0x1;
	g_assert_cmpint(vmbus_server_add_channel(r.s, &fb, &dup), ==, -EEXIST);
	g_assert_true(dup == (void *)0x1);
	g_assert_cmpint(vmbus_server_add_channel(r.s, NULL, &dup), ==, -EINVAL);

	/* Nothing goes out before the guest connects and asks. */
	assert_none(&r);
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_INVALID_INPUT);
	assert_none(&r);

	unsigned tries;
	g_assert_cmphex(guest_connect(&r, 1, &tries), ==, 0x50003);
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_SUCCESS);

	/* Offer 1: the byte image of vmbus_channel_offer_channel. */
	g_autoptr(GByteArray) o1 = take(&r, T_OFFER, 196);
	g_assert_cmpuint(o1->len, ==, 196);
	uint8_t want[196] = { 1 };
	/* da0a7802-e377-4aac-8e77-0558eb1073f8 as Linux's modalias prints it. */
	const uint8_t synthvid[16] = { 0x02, 0x78, 0x0a, 0xda, 0x77, 0xe3, 0xac, 0x4a,
				       0x8e, 0x77, 0x05, 0x58, 0xeb, 0x10, 0x73, 0xf8 };
	memcpy(want + 8, synthvid, 16);
	for (int i = 0; i < 16; i++)
		want[24 + i] = (uint8_t)(0x10 + i);
	want[58] = 8;                                /* mmio_megabytes */
	for (int i = 0; i < 120; i++)
		want[60 + i] = (uint8_t)i;
	want[184] = 1;                               /* child_relid */
	want[188] = 0;                               /* monitorid */
	want[189] = 0;                               /* monitor_allocated = 0 */
	want[190] = 1;                               /* is_dedicated_interrupt = 1 */
	uint32_t conn1 = rd32(o1, 192);
	memcpy(want + 192, o1->data + 192, 4);
	g_assert_cmpmem(o1->data, o1->len, want, sizeof(want));
	g_assert_cmpuint(conn1, ==, vmbus_server_channel_connection_id(c_fb));

	/* Offer 2: a pipe, pipe_mode in the first 4 user bytes. */
	g_autoptr(GByteArray) o2 = take(&r, T_OFFER, 196);
	g_assert_cmpuint(rd16(o2, 56), ==, 0x10);
	g_assert_cmpuint(rd32(o2, 60), ==, 4);
	g_assert_cmpuint(o2->data[64], ==, 0xEE);
	g_assert_cmpuint(rd16(o2, 180), ==, 0);
	g_assert_cmpuint(rd32(o2, 184), ==, 2);
	g_autoptr(GByteArray) o3 = take(&r, T_OFFER, 196);
	g_assert_cmpuint(rd16(o3, 180), ==, 1);      /* sub_channel_index */
	g_assert_cmpuint(rd32(o3, 184), ==, 3);
	g_byte_array_unref(take(&r, T_ALLOFFERS, 8));
	assert_none(&r);

	/* Connection ids: distinct, never the message/monitor ids 1-4, within 24 bits. */
	uint32_t ids[3] = { conn1, rd32(o2, 192), rd32(o3, 192) };
	for (int i = 0; i < 3; i++) {
		g_assert_cmpuint(ids[i], >, 4);
		g_assert_cmpuint(ids[i], <=, 0xffffff);
		for (int j = 0; j < i; j++)
			g_assert_cmpuint(ids[i], !=, ids[j]);
	}
	g_assert_true(state(&r).offers_sent);

	/* A second REQUESTOFFERS is refused. */
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_INVALID_INPUT);
	assert_none(&r);

	/* Hot add: offered at once. */
	struct vmbus_channel *c4 = add(&r, KBD_GUID, 9, 0);
	g_autoptr(GByteArray) o4 = take(&r, T_OFFER, 196);
	g_assert_cmpuint(rd32(o4, 184), ==, 4);
	g_assert_cmpuint(vmbus_server_channel_relid(c4), ==, 4);
	assert_none(&r);
	struct vmbus_channel_info info;
	g_assert_cmpint(vmbus_server_channel_info(r.s, c4, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OFFERED);
	g_assert_cmpint(vmbus_server_channel_info(r.s, NULL, &info), ==, -EINVAL);
	/* The server going away removes every channel. */
	vmbus_server_free(g_steal_pointer(&r.s));
	g_assert_cmpuint(r.removed->len, ==, 4);
	rig_fini(&r);
}

static void test_relid_limit(void)
{
	struct rig r;
	rig_init(&r, 0);
	struct vmbus_channel *ch;
	for (unsigned i = 0; i < VMBUS_SERVER_MAX_CHANNELS; i++) {
		struct vmbus_channel_desc d = { .type = KBD_GUID };
		memcpy(d.instance.b, &i, sizeof(i));
		g_assert_cmpint(vmbus_server_add_channel(r.s, &d, &ch), ==, 0);
		g_assert_cmpuint(vmbus_server_channel_relid(ch), ==, i + 1);
	}
	struct vmbus_channel_desc d = { .type = HB_GUID };
	g_assert_cmpint(vmbus_server_add_channel(r.s, &d, &ch), ==, -ENOSPC);
	g_assert_cmpuint(state(&r).channels, ==, 2047);
	vmbus_server_free(g_steal_pointer(&r.s));
	g_assert_cmpuint(r.removed->len, ==, 2047);
	rig_fini(&r);
}

static void test_gpadl_300(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	/* 300 pages: header with 26 PFNs, 9 bodies of 28, one of 22. */
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 300, 0x123400), ==, 0);
	struct vmbus_server_state st = state(&r);
	g_assert_cmpuint(st.gpadls, ==, 1);
	g_assert_cmpuint(st.gpadl_pfns, ==, 300);

	struct gpadl *g;
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, a, 0xE1E10, &g), ==, 0);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 300);
	g_assert_cmpuint(gpadl_size(g), ==, 300 * 4096);
	uint64_t pfns[300];
	g_assert_cmpint(gpadl_pages(g, 0, 300, pfns), ==, 0);
	for (unsigned i = 0; i < 300; i++)
		g_assert_cmphex(pfns[i], ==, 0x123400 + i);
	vmbus_server_gpadl_put(r.s, g);
	/* Not the other channel's, and not an unknown id. */
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, b, 0xE1E10, &g), ==, -ENOENT);
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, a, 0xE1E11, &g), ==, -ENOENT);
	assert_none(&r);

	guest_teardown(&r, 1, 0xE1E10);
	g_assert_cmpuint(state(&r).gpadls, ==, 0);

	/* The largest GPADL Linux can describe in one range_buflen. */
	g_assert_cmphex(guest_gpadl(&r, 2, 0xE1E11, GPADL_MAX_PFNS, 0x200000), ==, 0);
	rig_fini(&r);
}

static void test_open_close(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	/* A 16-page ring: 8 pages each way (fits the header). */
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 16, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 3, 8), ==, 0);
	g_assert_cmpuint(r.opened->len, ==, 1);
	g_assert_true(r.opened->pdata[0] == a);

	struct vmbus_channel_info info;
	g_assert_cmpint(vmbus_server_channel_info(r.s, a, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OPEN);
	g_assert_cmpuint(info.target_vp, ==, 3);
	g_assert_cmpuint(vmbus_server_channel_target_vp(a), ==, 3);
	g_assert_cmpuint(info.openid, ==, 1);
	g_assert_cmpuint(info.ring_gpadl_id, ==, 0xE1E10);
	g_assert_cmpuint(info.downstream_offset, ==, 8);
	g_assert_cmpuint(info.userdata[0], ==, 0xA0);
	g_assert_cmpuint(info.userdata[119], ==, (uint8_t)(0xA0 + 119));
	uint64_t pfn;
	g_assert_cmpint(gpadl_pages(info.ring, 8, 1, &pfn), ==, 0);
	g_assert_cmphex(pfn, ==, 0x5008);
	g_assert_cmpuint(state(&r).open_channels, ==, 1);

	/* Guest->host kicks on the channel's connection id. */
	g_assert_cmpuint(vmbus_server_handle_signal(r.s, vmbus_server_channel_connection_id(a)), ==, ST_SUCCESS);
	g_assert_cmpuint(r.signalled->len, ==, 1);
	g_assert_cmpuint(vmbus_server_handle_signal(r.s, vmbus_server_channel_connection_id(b)), ==, ST_SUCCESS);
	g_assert_cmpuint(r.signalled->len, ==, 1);       /* b is not open */
	const uint32_t bad_ids[] = { 0, 1, 2, 3, 4, 0x2000, 0x2003, 0x27ff, 0x2800, 0x1001 };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_ids); i++)
		g_assert_cmpuint(vmbus_server_handle_signal(r.s, bad_ids[i]), ==, ST_INVALID_CONN);

	/* vmbus_close_internal(): CLOSECHANNEL (no reply), then the ring teardown. */
	struct gmsg c = msg_relid(T_CLOSE, 1);
	g_assert_cmpuint(gpost(&r, &c), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(r.closed->len, ==, 1);
	g_assert_true(r.closed->pdata[0] == a);
	guest_teardown(&r, 1, 0xE1E10);
	g_assert_cmpuint(state(&r).open_channels, ==, 0);
	g_assert_cmpuint(state(&r).gpadls, ==, 0);
	g_assert_cmpint(vmbus_server_channel_info(r.s, a, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OFFERED);
	g_assert_null(info.ring);

	/* Open again with a new ring (a driver rebind). */
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E11, 4, 0x6000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E11, 0, 2), ==, 0);
	g_assert_cmpuint(r.opened->len, ==, 2);
	vmbus_server_free(g_steal_pointer(&r.s));
	g_assert_cmpuint(r.closed->len, ==, 2);        /* closed when the server goes */
	g_assert_cmpuint(r.removed->len, ==, 2);
	rig_fini(&r);
}

static void test_open_refused_by_device(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50002, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 2, 0xE1E10, 8, 0x5000), ==, 0);
	r.open_status = 0x4711;
	g_assert_cmphex(guest_open(&r, 2, 0xE1E10, 2, 4), ==, 0x4711);
	r.open_status = -EIO;
	g_assert_cmphex(guest_open(&r, 2, 0xE1E10, 3, 4), ==, 0xC0000001);
	g_assert_cmpuint(r.opened->len, ==, 2);
	g_assert_cmpuint(r.closed->len, ==, 0);
	struct vmbus_channel_info info;
	g_assert_cmpint(vmbus_server_channel_info(r.s, b, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OFFERED);
	g_assert_cmpuint(info.target_vp, ==, 0);
	/* The ring is not held: its teardown is answered at once. */
	guest_teardown(&r, 2, 0xE1E10);
	rig_fini(&r);
}

static void test_teardown_in_use(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	/* Tearing down the ring of an open channel: answered at its close. */
	struct gmsg t = msg_teardown(1, 0xE1E10);
	g_assert_cmpuint(gpost(&r, &t), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(gpost(&r, &t), ==, ST_SUCCESS);   /* asked twice: still one answer */
	assert_none(&r);
	/* Meanwhile it cannot be opened again nor fetched. */
	struct gpadl *g;
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, a, 0xE1E10, &g), ==, -ENOENT);
	struct gmsg c = msg_relid(T_CLOSE, 1);
	g_assert_cmpuint(gpost(&r, &c), ==, ST_SUCCESS);
	g_autoptr(GByteArray) td = take(&r, T_GPADL_TORNDOWN, 12);
	g_assert_cmphex(rd32(td, 8), ==, 0xE1E10);
	assert_none(&r);

	/* A buffer GPADL a device holds (netvsc's receive buffer). */
	g_assert_cmphex(guest_gpadl(&r, 2, 0xCAFE, 40, 0x9000), ==, 0);
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, b, 0xCAFE, &g), ==, 0);
	struct gmsg t2 = msg_teardown(2, 0xCAFE);
	g_assert_cmpuint(gpost(&r, &t2), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 40);
	vmbus_server_gpadl_put(r.s, g);
	g_autoptr(GByteArray) td2 = take(&r, T_GPADL_TORNDOWN, 12);
	g_assert_cmphex(rd32(td2, 8), ==, 0xCAFE);
	g_assert_cmpuint(state(&r).gpadls, ==, 0);
	rig_fini(&r);
}

static void test_modify(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;

	/* 5.3: always answered. */
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	struct { uint32_t relid, vp, status; unsigned want_vp; } cases[] = {
		{ 1, 3, 0, 3 },
		{ 1, NVPS, 0xC0000001, 3 },              /* VP out of range */
		{ 1, 0xffffffff, 0xC0000001, 3 },
		{ 2, 1, 0xC0000001, 3 },                 /* not open */
		{ 77, 1, 0xC0000001, 3 },                /* no such relid */
		{ 1, 0, 0, 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct gmsg m = msg_modify(cases[i].relid, cases[i].vp);
		g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
		g_autoptr(GByteArray) resp = take(&r, T_MODIFY_RESPONSE, 16);
		assert_none(&r);
		g_assert_cmpuint(rd32(resp, 8), ==, cases[i].relid);
		g_assert_cmphex(rd32(resp, 12), ==, cases[i].status);
		g_assert_cmpuint(vmbus_server_channel_target_vp(a), ==, cases[i].want_vp);
	}
	rig_fini(&r);

	/* 5.2: never answered; a refused one fails the hypercall. */
	rig_ready(&r, 0x50002, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	struct gmsg m = msg_modify(1, 2);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(vmbus_server_channel_target_vp(a), ==, 2);
	struct gmsg bad = msg_modify(1, NVPS);
	g_assert_cmpuint(gpost(&r, &bad), ==, ST_INVALID_INPUT);
	assert_none(&r);
	g_assert_cmpuint(vmbus_server_channel_target_vp(a), ==, 2);
	rig_fini(&r);

	/* 4.0: MODIFYCHANNEL does not exist yet. */
	rig_ready(&r, 0x40000, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 1, 4), ==, 0);
	struct gmsg m40 = msg_modify(1, 2);
	g_assert_cmpuint(gpost(&r, &m40), ==, ST_INVALID_INPUT);
	assert_none(&r);
	g_assert_cmpuint(vmbus_server_channel_target_vp(a), ==, 1);
	rig_fini(&r);
}

static void test_rescind(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E11, 30, 0x8000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);

	g_assert_cmpint(vmbus_server_rescind(r.s, a), ==, 0);
	g_autoptr(GByteArray) rs = take(&r, T_RESCIND, 12);
	g_assert_cmpuint(rs->len, ==, 12);
	g_assert_cmpuint(rd32(rs, 8), ==, 1);
	assert_none(&r);
	g_assert_cmpint(vmbus_server_rescind(r.s, a), ==, -EALREADY);
	struct vmbus_channel_info info;
	g_assert_cmpint(vmbus_server_channel_info(r.s, a, &info), ==, 0);
	g_assert_true(info.rescinded);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_OPEN);

	/* New GPADLs and opens of a rescinded channel fail (a racing guest). */
	struct gmsg h = msg_gpadl_header(1, 0xE1E12, 8 + 8, 1, 4096, 0, 0x1, 1);
	g_assert_cmpuint(gpost(&r, &h), ==, ST_SUCCESS);
	g_autoptr(GByteArray) cr = take(&r, T_GPADL_CREATED, 20);
	g_assert_cmphex(rd32(cr, 16), !=, 0);

	/* The guest closes, skips the teardowns (channel->rescind), releases the relid. */
	struct gmsg c = msg_relid(T_CLOSE, 1);
	g_assert_cmpuint(gpost(&r, &c), ==, ST_SUCCESS);
	g_assert_cmpuint(r.closed->len, ==, 1);
	assert_none(&r);
	g_assert_cmpuint(state(&r).gpadls, ==, 2);
	struct gmsg rel = msg_relid(T_RELID_RELEASED, 1);
	g_assert_cmpuint(gpost(&r, &rel), ==, ST_SUCCESS);
	assert_none(&r);                             /* no GPADL_TORNDOWN owed */
	g_assert_cmpuint(r.removed->len, ==, 1);
	g_assert_true(r.removed->pdata[0] == a);
	g_assert_cmpuint(state(&r).gpadls, ==, 0);
	g_assert_cmpuint(state(&r).channels, ==, 1);
	g_assert_cmpuint(gpost(&r, &rel), ==, ST_INVALID_INPUT);   /* released already */

	/* The relid is free again: the next device gets it, offered at once. */
	struct vmbus_channel *c2 = add(&r, HB_GUID, 3, 0);
	g_assert_cmpuint(vmbus_server_channel_relid(c2), ==, 1);
	g_autoptr(GByteArray) o = take(&r, T_OFFER, 196);
	g_assert_cmpuint(rd32(o, 184), ==, 1);

	/* Rescinding a channel the guest never saw removes it at once. */
	rig_fini(&r);
	rig_init(&r, 0);
	a = add(&r, HB_GUID, 1, 0);
	g_assert_cmpint(vmbus_server_rescind(r.s, a), ==, 0);
	assert_none(&r);
	g_assert_cmpuint(r.removed->len, ==, 1);
	g_assert_cmpuint(state(&r).channels, ==, 0);
	g_assert_cmpint(vmbus_server_rescind(r.s, NULL), ==, -EINVAL);
	rig_fini(&r);

	/* A rescinded offered (not open) channel, and a guest that refuses an offer. */
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmpint(vmbus_server_rescind(r.s, b), ==, 0);
	g_byte_array_unref(take(&r, T_RESCIND, 12));
	struct gmsg rel2 = msg_relid(T_RELID_RELEASED, 2);
	g_assert_cmpuint(gpost(&r, &rel2), ==, ST_SUCCESS);
	g_assert_cmpuint(r.removed->len, ==, 1);
	g_assert_cmpuint(r.closed->len, ==, 0);
	/* RELID_RELEASED without a rescind (vmbus_process_offer failed): idle. */
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	struct gmsg rel1 = msg_relid(T_RELID_RELEASED, 1);
	g_assert_cmpuint(gpost(&r, &rel1), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpint(vmbus_server_channel_info(r.s, a, &info), ==, 0);
	g_assert_cmpint(info.state, ==, VMBUS_CHANNEL_IDLE);
	g_assert_cmpuint(state(&r).gpadls, ==, 0);
	g_assert_cmpuint(gpost(&r, &rel1), ==, ST_INVALID_INPUT);
	/* ... and a rescind of it now needs no message. */
	g_assert_cmpint(vmbus_server_rescind(r.s, a), ==, 0);
	assert_none(&r);
	g_assert_cmpuint(r.removed->len, ==, 2);
	rig_fini(&r);
}

static void test_unload(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_gpadl(&r, 2, 0xE1E11, 100, 0x7000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 2, 4), ==, 0);
	/* A half-built GPADL too. */
	struct gmsg h = msg_gpadl_header(2, 0xE1E12, 8 + 8 * 40, 1, 40 * 4096, 0, 0x1, 26);
	g_assert_cmpuint(gpost(&r, &h), ==, ST_SUCCESS);
	assert_none(&r);

	struct gmsg u = msg_new(T_UNLOAD, 8);
	g_assert_cmpuint(gpost(&r, &u), ==, ST_SUCCESS);
	g_byte_array_unref(take(&r, T_UNLOAD_RESPONSE, 8));
	assert_none(&r);
	g_assert_cmpuint(r.closed->len, ==, 1);
	struct vmbus_server_state st = state(&r);
	g_assert_false(st.connected);
	g_assert_false(st.offers_sent);
	g_assert_cmpuint(st.open_channels, ==, 0);
	g_assert_cmpuint(st.gpadls, ==, 0);
	g_assert_cmpuint(st.gpadl_pfns, ==, 0);
	g_assert_cmpuint(st.channels, ==, 2);

	/* Disconnected: only INITIATE_CONTACT is taken. */
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_INVALID_INPUT);
	g_assert_cmpuint(gpost(&r, &u), ==, ST_INVALID_INPUT);
	assert_none(&r);

	/* kexec'd kernel: the same offers again. */
	r.conn_id = 1;
	guest_connect_ok(&r, 0x50003);
	uint32_t relids[4];
	g_assert_cmpuint(guest_request_offers(&r, relids, 4), ==, 2);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	rig_fini(&r);
}

static void test_reset(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_ready(&r, 0x50003, &a, &b);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	g_assert_cmpint(vmbus_server_rescind(r.s, b), ==, 0);
	g_byte_array_unref(take(&r, T_RESCIND, 12));

	vmbus_server_reset(r.s);
	assert_none(&r);
	g_assert_cmpuint(r.closed->len, ==, 1);
	g_assert_cmpuint(r.removed->len, ==, 1);      /* the rescinded one is gone */
	struct vmbus_server_state st = state(&r);
	g_assert_false(st.connected);
	g_assert_cmpuint(st.channels, ==, 1);
	g_assert_cmpuint(st.gpadls, ==, 0);
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_INVALID_INPUT);

	/* A new INITIATE_CONTACT while connected resets as well (reboot without UNLOAD). */
	r.conn_id = 1;
	guest_connect_ok(&r, 0x50003);
	uint32_t relids[2];
	g_assert_cmpuint(guest_request_offers(&r, relids, 2), ==, 1);
	g_assert_cmphex(guest_gpadl(&r, 1, 0xE1E10, 8, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(&r, 1, 0xE1E10, 0, 4), ==, 0);
	unsigned tries;
	g_assert_cmphex(guest_connect(&r, 1, &tries), ==, 0x50003);
	g_assert_cmpuint(r.closed->len, ==, 2);
	st = state(&r);
	g_assert_true(st.connected);
	g_assert_false(st.offers_sent);
	g_assert_cmpuint(st.target_vp, ==, 1);
	g_assert_cmpuint(st.open_channels, ==, 0);
	g_assert_cmpuint(st.gpadls, ==, 0);
	g_assert_cmpuint(guest_request_offers(&r, relids, 2), ==, 1);
	rig_fini(&r);
}

/* A message refused outright: status, nothing sent, nothing changed. */
static void expect_refused(struct rig *r, struct vmbus_channel *a, struct vmbus_channel *b, uint32_t conn,
			   uint32_t hvtype, const void *p, size_t len, unsigned status)
{
	struct snap before, after;
	snap_take(r, &before, a, b);
	g_assert_cmpuint(vmbus_server_handle_post(r->s, conn, hvtype, p, len), ==, status);
	assert_none(r);
	snap_take(r, &after, a, b);
	snap_same(&before, &after);
}

/* A request answered with a failure: one reply of `type`, nothing else changed. */
static GByteArray *expect_failed(struct rig *r, struct vmbus_channel *a, struct vmbus_channel *b,
				 const struct gmsg *m, uint32_t type, size_t len)
{
	struct snap before, after;
	snap_take(r, &before, a, b);
	g_assert_cmpuint(gpost(r, m), ==, ST_SUCCESS);
	GByteArray *resp = take(r, type, len);
	assert_none(r);
	snap_take(r, &after, a, b);
	snap_same(&before, &after);
	return resp;
}

static void expect_gpadl_failed(struct rig *r, struct vmbus_channel *a, struct vmbus_channel *b,
				const struct gmsg *m, uint32_t relid, uint32_t id)
{
	g_autoptr(GByteArray) c = expect_failed(r, a, b, m, T_GPADL_CREATED, 20);
	g_assert_cmpuint(rd32(c, 8), ==, relid);
	g_assert_cmphex(rd32(c, 12), ==, id);
	g_assert_cmphex(rd32(c, 16), !=, 0);
}

static void expect_open_failed(struct rig *r, struct vmbus_channel *a, struct vmbus_channel *b,
			       const struct gmsg *m)
{
	g_autoptr(GByteArray) res = expect_failed(r, a, b, m, T_OPEN_RESULT, 20);
	uint32_t relid, openid;
	memcpy(&relid, m->b + 8, 4);
	memcpy(&openid, m->b + 12, 4);
	g_assert_cmpuint(rd32(res, 8), ==, GUINT32_FROM_LE(relid));
	g_assert_cmpuint(rd32(res, 12), ==, GUINT32_FROM_LE(openid));
	g_assert_cmphex(rd32(res, 16), !=, 0);
}

/* Connected 5.3 with the limit of 64 PFNs per GPADL: channel 1 open on a
 * 16-page ring 0xE1E10, channel 2 offered with a 4-page GPADL 0xE1E20. */
static void rig_busy(struct rig *r, struct vmbus_channel **a, struct vmbus_channel **b)
{
	struct vmbus_server_config cfg = { .nvps = NVPS, .gpadl = { .max_pfns = 64 } };
	rig_init_cfg(r, &cfg, false);
	*a = add(r, SYNTHVID_GUID, 1, 0);
	*b = add(r, KBD_GUID, 2, 0);
	guest_connect_ok(r, 0x50003);
	uint32_t relids[2];
	g_assert_cmpuint(guest_request_offers(r, relids, 2), ==, 2);
	g_assert_cmphex(guest_gpadl(r, 1, 0xE1E10, 16, 0x5000), ==, 0);
	g_assert_cmphex(guest_open(r, 1, 0xE1E10, 1, 8), ==, 0);
	g_assert_cmphex(guest_gpadl(r, 2, 0xE1E20, 4, 0x9000), ==, 0);
}

static void test_malformed_messages(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_busy(&r, &a, &b);
	uint8_t junk[256];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 1);

	/* Too short for their struct, by one byte, and with nothing but the type. */
	const struct { uint32_t type; size_t len; } mins[] = {
		{ T_REQUESTOFFERS, 8 }, { T_OPEN, 148 }, { T_CLOSE, 12 }, { T_GPADL_HEADER, 28 },
		{ T_GPADL_BODY, 16 }, { T_GPADL_TEARDOWN, 16 }, { T_RELID_RELEASED, 12 },
		{ T_INITIATE, 40 }, { T_UNLOAD, 8 }, { T_TL_CONNECT, 40 }, { T_MODIFY, 16 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(mins); i++) {
		struct gmsg m = msg_new(mins[i].type, mins[i].len);
		memcpy(m.b + 8, junk, sizeof(m.b) - 8);
		w32(&m, 8, 1);                            /* relid 1, to look plausible */
		w32(&m, 12, 0xE1E10);
		expect_refused(&r, a, b, 1, 1, m.b, mins[i].len - 1, ST_INVALID_INPUT);
		expect_refused(&r, a, b, 1, 1, m.b, 4, ST_INVALID_INPUT);
	}
	expect_refused(&r, a, b, 1, 1, junk, 0, ST_INVALID_INPUT);
	expect_refused(&r, a, b, 1, 1, NULL, 0, ST_INVALID_INPUT);
	expect_refused(&r, a, b, 1, 1, NULL, 8, ST_INVALID_INPUT);

	/* Oversized payloads and other HvPostMessage types. */
	struct gmsg big = msg_new(T_REQUESTOFFERS, 241);
	expect_refused(&r, a, b, 1, 1, big.b, 241, ST_INVALID_PARAM);
	expect_refused(&r, a, b, 1, 1, big.b, 256, ST_INVALID_PARAM);
	const uint32_t hvtypes[] = { 0, 2, 0x80000000u, 0x80000010u, 0xffffffffu };
	for (size_t i = 0; i < G_N_ELEMENTS(hvtypes); i++) {
		struct gmsg m = msg_new(T_REQUESTOFFERS, 8);
		expect_refused(&r, a, b, 1, hvtypes[i], m.b, 8, ST_INVALID_PARAM);
	}

	/* Unknown connection ids. */
	const uint32_t conns[] = { 0, 2, 3, 5, 0x2001, 0xffffff, 0xff000002u };
	for (size_t i = 0; i < G_N_ELEMENTS(conns); i++) {
		struct gmsg m = msg_new(T_UNLOAD, 8);
		expect_refused(&r, a, b, conns[i], 1, m.b, 8, ST_INVALID_CONN);
	}

	/* Unknown types, and host->guest types sent by the guest, at full length. */
	const uint32_t types[] = { 0, 18, 19, 20, 25, 100, 0x10000, 0xffffffffu,
				   T_OFFER, T_RESCIND, T_ALLOFFERS, T_OPEN_RESULT, T_GPADL_CREATED,
				   T_GPADL_TORNDOWN, T_VERSION_RESPONSE, T_UNLOAD_RESPONSE, T_TL_RESULT,
				   T_MODIFY_RESPONSE };
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		struct gmsg m = msg_new(types[i], 240);
		memcpy(m.b + 8, junk, 232);
		expect_refused(&r, a, b, 1, 1, m.b, 240, ST_INVALID_INPUT);
	}

	/* Requests that have no answer and cannot be granted. */
	const uint32_t relids[] = { 0, 2, 3, 999, 2048, 0xffffffffu };   /* 2 is offered, not open */
	for (size_t i = 0; i < G_N_ELEMENTS(relids); i++) {
		struct gmsg c = msg_relid(T_CLOSE, relids[i]);
		expect_refused(&r, a, b, 1, 1, c.b, c.n, ST_INVALID_INPUT);
		if (relids[i] != 2) {
			struct gmsg rel = msg_relid(T_RELID_RELEASED, relids[i]);
			expect_refused(&r, a, b, 1, 1, rel.b, rel.n, ST_INVALID_INPUT);
		}
	}
	struct gmsg rel1 = msg_relid(T_RELID_RELEASED, 1);       /* open, not rescinded */
	expect_refused(&r, a, b, 1, 1, rel1.b, rel1.n, ST_INVALID_INPUT);
	struct gmsg body_unknown = msg_gpadl_body(0x1234, 0x1, 4);
	expect_refused(&r, a, b, 1, 1, body_unknown.b, body_unknown.n, ST_INVALID_INPUT);
	struct gmsg body_ready = msg_gpadl_body(0xE1E20, 0x1, 4);   /* complete already */
	expect_refused(&r, a, b, 1, 1, body_ready.b, body_ready.n, ST_INVALID_INPUT);
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);               /* second time */
	expect_refused(&r, a, b, 1, 1, ro.b, ro.n, ST_INVALID_INPUT);
	struct gmsg init_bad_vp = msg_initiate(0x50003, NVPS);
	expect_refused(&r, a, b, 4, 1, init_bad_vp.b, init_bad_vp.n, ST_INVALID_PARAM);

	/* Padding bytes past a valid message are ignored, not misread. */
	struct gmsg c2 = msg_relid(T_CLOSE, 2);
	memcpy(c2.b + 12, junk, 228);
	expect_refused(&r, a, b, 1, 1, c2.b, 240, ST_INVALID_INPUT);

	struct gpadl *g;
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, b, 0xE1E20, &g), ==, 0);
	g_assert_cmpuint(gpadl_pfn_count(g), ==, 4);
	vmbus_server_gpadl_put(r.s, g);
	rig_fini(&r);
}

static void test_malformed_gpadl(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_busy(&r, &a, &b);

	/* Headers that fail at once: one GPADL_CREATED with a failure, nothing kept. */
	struct gmsg m;
	m = msg_gpadl_header(5, 0x100, 16, 1, 4096, 0, 0x1, 1);          /* unknown relid */
	expect_gpadl_failed(&r, a, b, &m, 5, 0x100);
	m = msg_gpadl_header(0, 0x100, 16, 1, 4096, 0, 0x1, 1);          /* relid 0 */
	expect_gpadl_failed(&r, a, b, &m, 0, 0x100);
	m = msg_gpadl_header(2, 0x100, 16, 0, 4096, 0, 0x1, 1);          /* rangecount 0 */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 17, 1, 4096, 0, 0x1, 1);          /* buflen % 8 */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8, 1, 4096, 0, 0x1, 0);           /* no room for a PFN */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 16, 1, 4096, 0, 0x1, 3);          /* more than announced */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 65, 1, 65 * 4096, 0, 0x1, 26);  /* past the 64 limit */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 8190, 1, 8190 * 4096, 0, 0x1, 26);
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 0xffff, 0xffff, 4096, 0, 0x1, 26);
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0xE1E20, 16, 1, 4096, 0, 0x1, 1);        /* duplicate id */
	expect_gpadl_failed(&r, a, b, &m, 2, 0xE1E20);
	m = msg_gpadl_header(2, 0xE1E10, 16, 1, 4096, 0, 0x1, 1);        /* another channel's id */
	expect_gpadl_failed(&r, a, b, &m, 2, 0xE1E10);
	m = msg_gpadl_header(2, 0x100, 16, 1, 4096, 0, 0x1, 1);
	m.n = 32;                                                          /* len % 8 */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);

	/* Ranges inconsistent once complete (here all in the header). */
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 1, 2 * 4096, 4096, 0x1, 2);   /* offset 4096 */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 1, 0, 0, 0x1, 2);             /* empty */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 1, 3 * 4096, 0, 0x1, 2);      /* needs 3 PFNs */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 3, 1, 2 * 4096, 0, 0x1, 3);      /* needs 2 */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 1, 2 * 4096, 1, 0x1, 2);      /* offset: 3 pages */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 1, 2 * 4096, 0, 1ull << 40, 2); /* PFN past 52 bits */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);
	m = msg_gpadl_header(2, 0x100, 8 + 8 * 2, 2, 2 * 4096, 0, 0x1, 2);      /* 2 ranges, 1 described */
	expect_gpadl_failed(&r, a, b, &m, 2, 0x100);

	/* Failures found at a body: answered then, the partial dropped. */
	struct snap before, after;
	snap_take(&r, &before, a, b);
	m = msg_gpadl_header(2, 0x200, 8 + 8 * 30, 1, 30 * 4096, 0, 0x1, 26);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(state(&r).gpadls, ==, before.st.gpadls + 1);
	struct gmsg body = msg_gpadl_body(0x200, 0x100, 28);                  /* 28 > 4 announced */
	g_assert_cmpuint(gpost(&r, &body), ==, ST_SUCCESS);
	g_autoptr(GByteArray) c2 = take(&r, T_GPADL_CREATED, 20);
	assert_none(&r);
	g_assert_cmpuint(rd32(c2, 8), ==, 2);
	g_assert_cmphex(rd32(c2, 12), ==, 0x200);
	g_assert_cmphex(rd32(c2, 16), !=, 0);
	snap_take(&r, &after, a, b);
	snap_same(&before, &after);
	/* ... and later bodies of it are refused (Linux then stops waiting). */
	body = msg_gpadl_body(0x200, 0x100, 4);
	expect_refused(&r, a, b, 1, 1, body.b, body.n, ST_INVALID_INPUT);

	const size_t body_lens[] = { 16, 20, 23 };                            /* empty, misaligned */
	for (size_t i = 0; i < G_N_ELEMENTS(body_lens); i++) {
		m = msg_gpadl_header(2, 0x300, 8 + 8 * 30, 1, 30 * 4096, 0, 0x1, 26);
		g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
		body = msg_gpadl_body(0x300, 0x100, 2);
		body.n = body_lens[i];
		g_assert_cmpuint(gpost(&r, &body), ==, ST_SUCCESS);
		g_autoptr(GByteArray) c = take(&r, T_GPADL_CREATED, 20);
		g_assert_cmphex(rd32(c, 16), !=, 0);
		assert_none(&r);
	}
	m = msg_gpadl_header(2, 0x400, 8 + 8 * 30, 1, 30 * 4096, 0, 0x1, 26);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	body = msg_gpadl_body(0x400, 1ull << 41, 4);                          /* bad PFN at the end */
	g_assert_cmpuint(gpost(&r, &body), ==, ST_SUCCESS);
	g_autoptr(GByteArray) c4 = take(&r, T_GPADL_CREATED, 20);
	g_assert_cmphex(rd32(c4, 16), !=, 0);
	snap_take(&r, &after, a, b);
	snap_same(&before, &after);

	/* Multi-range GPADLs are supported: 2 ranges, the second mid-page. */
	m = msg_new(T_GPADL_HEADER, 20 + 8 + 16 + 8 + 8);
	w32(&m, 8, 2);
	w32(&m, 12, 0x500);
	w16(&m, 16, 8 + 16 + 8 + 8);
	w16(&m, 18, 2);
	w32(&m, 20, 5000);
	w32(&m, 24, 100);
	w64(&m, 28, 0xA);
	w64(&m, 36, 0xB);
	w32(&m, 44, 200);
	w32(&m, 48, 3000);
	w64(&m, 52, 0xC);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	g_autoptr(GByteArray) ok = take(&r, T_GPADL_CREATED, 20);
	g_assert_cmphex(rd32(ok, 16), ==, 0);
	struct gpadl *g;
	g_assert_cmpint(vmbus_server_gpadl_get(r.s, b, 0x500, &g), ==, 0);
	g_assert_cmpuint(gpadl_size(g), ==, 5200);
	g_assert_false(gpadl_whole_pages(g));
	vmbus_server_gpadl_put(r.s, g);
	/* ... but not as a ring. */
	m = msg_open(2, 2, 0x500, 0, 1);
	expect_open_failed(&r, a, b, &m);

	/* Teardowns of unknown ids, or naming another channel: answered, nothing freed. */
	const struct { uint32_t relid, id; } td[] = { { 2, 0x999 }, { 1, 0xE1E20 }, { 0, 0xE1E10 }, { 2, 0 } };
	for (size_t i = 0; i < G_N_ELEMENTS(td); i++) {
		m = msg_teardown(td[i].relid, td[i].id);
		g_autoptr(GByteArray) t = expect_failed(&r, a, b, &m, T_GPADL_TORNDOWN, 12);
		g_assert_cmphex(rd32(t, 8), ==, td[i].id);
	}
	rig_fini(&r);
}

static void test_malformed_open(void)
{
	struct rig r;
	struct vmbus_channel *a, *b;
	rig_busy(&r, &a, &b);
	/* A GPADL being built for channel 2. */
	struct gmsg h = msg_gpadl_header(2, 0x600, 8 + 8 * 30, 1, 30 * 4096, 0, 0x1, 26);
	g_assert_cmpuint(gpost(&r, &h), ==, ST_SUCCESS);
	assert_none(&r);

	const struct { uint32_t relid, gpadl, vp, off; } bad[] = {
		{ 0, 0xE1E20, 0, 2 },            /* relid 0 */
		{ 9, 0xE1E20, 0, 2 },            /* unknown relid */
		{ 0xffffffff, 0xE1E20, 0, 2 },
		{ 1, 0xE1E10, 0, 8 },            /* double open */
		{ 2, 0x777, 0, 2 },              /* open before its GPADL */
		{ 2, 0x600, 0, 2 },              /* GPADL still being built */
		{ 2, 0xE1E10, 0, 8 },            /* another channel's GPADL */
		{ 2, 0xE1E20, 0, 0 },            /* split leaves < 2 pages outbound */
		{ 2, 0xE1E20, 0, 1 },
		{ 2, 0xE1E20, 0, 3 },            /* < 2 pages inbound */
		{ 2, 0xE1E20, 0, 4 },
		{ 2, 0xE1E20, 0, 9 },
		{ 2, 0xE1E20, 0, 0xffffffff },
		{ 2, 0xE1E20, NVPS, 2 },         /* target VP out of range */
		{ 2, 0xE1E20, 0xffffffff, 2 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct gmsg m = msg_open(bad[i].relid, 0x4242, bad[i].gpadl, bad[i].vp, bad[i].off);
		expect_open_failed(&r, a, b, &m);
	}
	/* The boundary case opens. */
	g_assert_cmphex(guest_open(&r, 2, 0xE1E20, 0, 2), ==, 0);
	rig_fini(&r);
}

static void test_tl_connect(void)
{
	struct rig r;
	struct vmbus_server_config cfg = { .nvps = 2 };
	rig_init_cfg(&r, &cfg, true);
	guest_connect_ok(&r, 0x50003);
	struct gmsg m = msg_new(T_TL_CONNECT, 40);
	for (int i = 0; i < 32; i++)
		w8(&m, 8 + i, (uint8_t)(0x40 + i));
	/* The hv_sock layer accepts: it will offer a channel; nothing sent now. */
	r.tl_result = 0;
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(r.tl_calls, ==, 1);
	g_assert_cmpmem(r.tl_endpoint, 16, m.b + 8, 16);
	g_assert_cmpmem(r.tl_service, 16, m.b + 24, 16);
	/* It refuses: TL_CONNECT_RESULT {endpoint, service, status}. */
	r.tl_result = -ECONNREFUSED;
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	g_autoptr(GByteArray) res = take(&r, T_TL_RESULT, 44);
	g_assert_cmpuint(res->len, ==, 44);
	g_assert_cmpmem(res->data + 8, 32, m.b + 8, 32);
	g_assert_cmphex(rd32(res, 40), ==, 0xC0000236);
	rig_fini(&r);

	/* No hv_sock layer: refused likewise. */
	rig_init(&r, 0x40000);
	guest_connect_ok(&r, 0x40000);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_SUCCESS);
	g_byte_array_unref(take(&r, T_TL_RESULT, 44));
	rig_fini(&r);

	/* Before 4.0 there is no hv_sock. */
	rig_init(&r, 0x30000);
	guest_connect_ok(&r, 0x30000);
	g_assert_cmpuint(gpost(&r, &m), ==, ST_INVALID_INPUT);
	assert_none(&r);
	rig_fini(&r);
}

static void test_outbox(void)
{
	struct rig r;
	rig_init(&r, 0);
	for (int i = 0; i < 5; i++)
		add(&r, KBD_GUID, (uint8_t)i, 0);
	guest_connect_ok(&r, 0x50003);

	/* The SynIC queue is full: replies wait, in order. */
	r.post_result = -ENOBUFS;
	struct gmsg ro = msg_new(T_REQUESTOFFERS, 8);
	g_assert_cmpuint(gpost(&r, &ro), ==, ST_SUCCESS);
	assert_none(&r);
	g_assert_cmpuint(state(&r).queued, ==, 6);
	/* Until the outbox is full; then the guest is told to retry. */
	unsigned accepted = 0;
	for (;;) {
		struct gmsg t = msg_teardown(1, 0x1000 + accepted);
		unsigned st = gpost(&r, &t);
		if (st == ST_NO_BUFFERS)
			break;
		g_assert_cmpuint(st, ==, ST_SUCCESS);
		accepted++;
		g_assert_cmpuint(accepted, <=, VMBUS_SERVER_OUTBOX_MAX);
	}
	g_assert_cmpuint(state(&r).queued, ==, VMBUS_SERVER_OUTBOX_MAX);
	g_assert_cmpuint(accepted, ==, VMBUS_SERVER_OUTBOX_MAX - 6);

	/* The SynIC drains: everything arrives, offers first. */
	r.post_result = 0;
	vmbus_server_flush(r.s);
	g_assert_cmpuint(state(&r).queued, ==, 0);
	for (uint32_t i = 1; i <= 5; i++) {
		g_autoptr(GByteArray) o = take(&r, T_OFFER, 196);
		g_assert_cmpuint(rd32(o, 184), ==, i);
	}
	g_byte_array_unref(take(&r, T_ALLOFFERS, 8));
	for (unsigned i = 0; i < accepted; i++) {
		g_autoptr(GByteArray) t = take(&r, T_GPADL_TORNDOWN, 12);
		g_assert_cmphex(rd32(t, 8), ==, 0x1000 + i);
	}
	assert_none(&r);

	/* A reply the SynIC refuses for good (bad VP) is dropped, not retried forever. */
	r.post_result = -EINVAL;
	struct gmsg t = msg_teardown(1, 0x42);
	g_assert_cmpuint(gpost(&r, &t), ==, ST_SUCCESS);
	g_assert_cmpuint(state(&r).queued, ==, 0);
	r.post_result = 0;
	vmbus_server_flush(r.s);
	assert_none(&r);

	/* A reset drops what waits. */
	r.post_result = -EAGAIN;
	g_assert_cmpuint(gpost(&r, &t), ==, ST_SUCCESS);
	g_assert_cmpuint(state(&r).queued, ==, 1);
	vmbus_server_reset(r.s);
	g_assert_cmpuint(state(&r).queued, ==, 0);
	r.post_result = 0;
	vmbus_server_flush(r.s);
	assert_none(&r);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmbus-server/version/5.3", test_version_53);
	g_test_add_func("/vmbus-server/version/max-4.0", test_version_max40);
	g_test_add_func("/vmbus-server/version/each-max", test_version_each_max);
	g_test_add_func("/vmbus-server/version/refused", test_version_refused);
	g_test_add_func("/vmbus-server/offers", test_offers);
	g_test_add_func("/vmbus-server/relid-limit", test_relid_limit);
	g_test_add_func("/vmbus-server/gpadl-300", test_gpadl_300);
	g_test_add_func("/vmbus-server/open-close", test_open_close);
	g_test_add_func("/vmbus-server/open-refused-by-device", test_open_refused_by_device);
	g_test_add_func("/vmbus-server/teardown-in-use", test_teardown_in_use);
	g_test_add_func("/vmbus-server/modify", test_modify);
	g_test_add_func("/vmbus-server/rescind", test_rescind);
	g_test_add_func("/vmbus-server/unload", test_unload);
	g_test_add_func("/vmbus-server/reset", test_reset);
	g_test_add_func("/vmbus-server/malformed/messages", test_malformed_messages);
	g_test_add_func("/vmbus-server/malformed/gpadl", test_malformed_gpadl);
	g_test_add_func("/vmbus-server/malformed/open", test_malformed_open);
	g_test_add_func("/vmbus-server/tl-connect", test_tl_connect);
	g_test_add_func("/vmbus-server/outbox", test_outbox);
	return g_test_run();
}
