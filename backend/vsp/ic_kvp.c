// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hv/saved_state.h"
#include "vsp/ic_kvp.h"
#include "vsp/ic_kvp_msg.h"

/* The pools the cache holds, in lookup order. */
static const uint8_t kvp_read_pools[] = { KVP_POOL_AUTO, KVP_POOL_GUEST };
#define KVP_NREAD G_N_ELEMENTS(kvp_read_pools)

/* A host write or delete waiting for its turn. */
struct kvp_host_op {
	uint8_t op;
	char *key, *value;
};

struct ic_kvp {
	struct vsp_device *dev;
	struct vsp_bus *bus;

	/* Bus thread. */
	struct ic_service svc;
	GSource *refresh, *timeout;
	bool busy;                   /* a request is in flight */
	uint64_t cur_trans;
	uint8_t cur_op, cur_pool;
	uint32_t cur_index;
	struct kvp_host_op *cur_host;    /* the write in flight, NULL for an enumerate */
	bool sweeping;
	unsigned sweep_pool;         /* index into kvp_read_pools */
	uint32_t sweep_index;
	GHashTable *sweep_tab;       /* the pool being read */

	pthread_mutex_t lock;        /* what other threads see */
	GQueue host_ops;
	GHashTable *cache[KVP_NREAD];
	bool answered;               /* the guest answered a request since the open */
	struct ic_kvp_state st;
};

static void kvp_host_op_free(struct kvp_host_op *o)
{
	if (!o)
		return;
	g_free(o->key);
	g_free(o->value);
	g_free(o);
}

static GHashTable *kvp_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Under lock. */
static void kvp_count_entries(struct ic_kvp *kvp)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < KVP_NREAD; i++)
		n += g_hash_table_size(kvp->cache[i]);
	kvp->st.entries = n;
}

static void kvp_publish(struct ic_kvp *kvp)
{
	pthread_mutex_lock(&kvp->lock);
	kvp->st.state = kvp->svc.state;
	kvp->st.bad = kvp->svc.bad_messages;
	kvp->st.queued = kvp->host_ops.length;
	pthread_mutex_unlock(&kvp->lock);
}

static void kvp_pump(struct ic_kvp *kvp);

static gboolean kvp_on_timeout(gpointer data)
{
	struct ic_kvp *kvp = data;
	g_source_unref(kvp->timeout);
	kvp->timeout = NULL;
	kvp->busy = false;
	pthread_mutex_lock(&kvp->lock);
	kvp->st.timeouts++;
	if (kvp->cur_host)
		kvp->st.failed++;
	pthread_mutex_unlock(&kvp->lock);
	kvp_host_op_free(kvp->cur_host);
	kvp->cur_host = NULL;
	/* A guest that does not answer will not finish a sweep either. */
	kvp->sweeping = false;
	kvp_pump(kvp);
	return G_SOURCE_REMOVE;
}

static void kvp_sweep_start(struct ic_kvp *kvp)
{
	if (kvp->sweeping || kvp->svc.state != IC_READY)
		return;
	kvp->sweeping = true;
	kvp->sweep_pool = 0;
	kvp->sweep_index = 0;
	g_clear_pointer(&kvp->sweep_tab, g_hash_table_unref);
	kvp->sweep_tab = kvp_table_new();
}

/* The guest said there is no more in this pool (or failed): what was read
 * replaces the cache only when the pool was read to its end. */
static void kvp_sweep_next_pool(struct ic_kvp *kvp, bool complete)
{
	pthread_mutex_lock(&kvp->lock);
	if (complete) {
		g_hash_table_unref(kvp->cache[kvp->sweep_pool]);
		kvp->cache[kvp->sweep_pool] = g_steal_pointer(&kvp->sweep_tab);
		kvp_count_entries(kvp);
	}
	pthread_mutex_unlock(&kvp->lock);
	g_clear_pointer(&kvp->sweep_tab, g_hash_table_unref);
	kvp->sweep_pool++;
	kvp->sweep_index = 0;
	if (kvp->sweep_pool < KVP_NREAD) {
		kvp->sweep_tab = kvp_table_new();
		return;
	}
	kvp->sweeping = false;
	pthread_mutex_lock(&kvp->lock);
	kvp->st.sweeps++;
	pthread_mutex_unlock(&kvp->lock);
}

/* Send the next request when none is in flight: host writes first, then
 * the sweep. */
static void kvp_pump(struct ic_kvp *kvp)
{
	if (kvp->busy || kvp->svc.state != IC_READY)
		return;
	uint8_t body[KVP_BODY_MAX];
	long n;
	pthread_mutex_lock(&kvp->lock);
	struct kvp_host_op *o = g_queue_pop_head(&kvp->host_ops);
	pthread_mutex_unlock(&kvp->lock);
	if (o) {
		kvp->cur_op = o->op;
		kvp->cur_pool = KVP_POOL_EXTERNAL;
		n = o->op == KVP_OP_SET ? kvp_msg_build_set(body, sizeof(body), KVP_POOL_EXTERNAL, o->key, o->value)
					: kvp_msg_build_delete(body, sizeof(body), KVP_POOL_EXTERNAL, o->key);
	} else if (kvp->sweeping) {
		kvp->cur_op = KVP_OP_ENUMERATE;
		kvp->cur_pool = kvp_read_pools[kvp->sweep_pool];
		kvp->cur_index = kvp->sweep_index;
		n = kvp_msg_build_enumerate(body, sizeof(body), kvp->cur_pool, kvp->cur_index);
	} else {
		return;
	}
	int r = n < 0 ? (int)n
		      : ic_send_request(kvp->dev, &kvp->svc, IC_MSGTYPE_KVP, body, (size_t)n, &kvp->cur_trans);
	if (r == -EAGAIN) {
		/* The ring is full: the writable callback comes back here. */
		if (o) {
			pthread_mutex_lock(&kvp->lock);
			g_queue_push_head(&kvp->host_ops, o);
			pthread_mutex_unlock(&kvp->lock);
		}
		return;
	}
	if (r < 0) {
		/* Writes were checked when queued: only a closing channel gets here. */
		if (o) {
			pthread_mutex_lock(&kvp->lock);
			kvp->st.failed++;
			pthread_mutex_unlock(&kvp->lock);
			kvp_host_op_free(o);
		} else {
			kvp->sweeping = false;
		}
		return;
	}
	kvp->busy = true;
	kvp->cur_host = o;
	pthread_mutex_lock(&kvp->lock);
	kvp->st.requests++;
	pthread_mutex_unlock(&kvp->lock);
	kvp->timeout = g_timeout_source_new(IC_KVP_ANSWER_MS);
	g_source_set_callback(kvp->timeout, kvp_on_timeout, kvp, NULL);
	g_source_attach(kvp->timeout, vsp_bus_context(kvp->bus));
}

static void kvp_take_entry(struct ic_kvp *kvp, const struct ic_message *m)
{
	struct kvp_entry *e = g_new(struct kvp_entry, 1);
	if (kvp_msg_parse_enumerate(m->body, m->body_len, kvp->cur_pool, kvp->cur_index, e) < 0) {
		/* A broken answer ends this pool's read; the old cache stays. */
		kvp->svc.bad_messages++;
		kvp_sweep_next_pool(kvp, false);
	} else if (kvp->sweep_index + 1 >= IC_KVP_POOL_MAX) {
		g_hash_table_replace(kvp->sweep_tab, g_strdup(e->key), g_strdup(e->value));
		kvp_sweep_next_pool(kvp, true);
	} else {
		g_hash_table_replace(kvp->sweep_tab, g_strdup(e->key), g_strdup(e->value));
		kvp->sweep_index++;
	}
	g_free(e);
}

static void kvp_answer(struct ic_kvp *kvp, const struct vsp_packet *pkt, const struct ic_message *m)
{
	if (m->type != IC_MSGTYPE_KVP || !(m->flags & IC_FLAG_RESPONSE) || !kvp->busy ||
	    pkt->trans_id != kvp->cur_trans) {
		kvp->svc.bad_messages++;
		return;
	}
	kvp->busy = false;
	if (kvp->timeout) {
		g_source_destroy(kvp->timeout);
		g_clear_pointer(&kvp->timeout, g_source_unref);
	}
	pthread_mutex_lock(&kvp->lock);
	kvp->st.answers++;
	kvp->answered = true;
	pthread_mutex_unlock(&kvp->lock);

	if (kvp->cur_op == KVP_OP_ENUMERATE) {
		if (!kvp->sweeping)
			return;
		if (m->status == IC_S_OK)
			kvp_take_entry(kvp, m);
		else
			/* HV_S_CONT ends a pool; any other status is a failure. */
			kvp_sweep_next_pool(kvp, m->status == IC_S_CONT);
		return;
	}
	bool ok = m->status == IC_S_OK &&
		  kvp_msg_check_echo(m->body, m->body_len, kvp->cur_op, KVP_POOL_EXTERNAL) == 0;
	pthread_mutex_lock(&kvp->lock);
	if (ok)
		kvp->st.sets_done++;
	else
		kvp->st.failed++;
	pthread_mutex_unlock(&kvp->lock);
	kvp_host_op_free(kvp->cur_host);
	kvp->cur_host = NULL;
}

static void kvp_packet(struct vsp_device *dev, const struct vsp_packet *pkt)
{
	struct ic_kvp *kvp = vsp_device_priv(dev);
	struct ic_message m;
	int r = ic_receive(&kvp->svc, pkt, &m);
	if (r == 0 && kvp->svc.state == IC_READY)
		kvp_sweep_start(kvp);
	else if (r == 1)
		kvp_answer(kvp, pkt, &m);
	kvp_pump(kvp);
	kvp_publish(kvp);
}

static gboolean kvp_on_refresh(gpointer data)
{
	struct ic_kvp *kvp = data;
	kvp_sweep_start(kvp);
	kvp_pump(kvp);
	return G_SOURCE_CONTINUE;
}

static gboolean kvp_on_queued(gpointer data)
{
	struct ic_kvp *kvp = data;
	if (vsp_device_is_open(kvp->dev))
		kvp_pump(kvp);
	kvp_publish(kvp);
	return G_SOURCE_REMOVE;
}

static int kvp_open(struct vsp_device *dev)
{
	struct ic_kvp *kvp = vsp_device_priv(dev);
	int r = ic_open(dev, &kvp->svc);
	kvp->refresh = ic_timer_start(kvp->bus, IC_KVP_REFRESH_MS, kvp_on_refresh, kvp);
	kvp_publish(kvp);
	return r;
}

static void kvp_writable(struct vsp_device *dev)
{
	kvp_pump(vsp_device_priv(dev));
}

static void kvp_close(struct vsp_device *dev)
{
	struct ic_kvp *kvp = vsp_device_priv(dev);
	ic_timer_stop(&kvp->refresh);
	ic_timer_stop(&kvp->timeout);
	ic_close(&kvp->svc);
	kvp->busy = false;
	kvp->sweeping = false;
	g_clear_pointer(&kvp->sweep_tab, g_hash_table_unref);
	kvp_host_op_free(kvp->cur_host);
	kvp->cur_host = NULL;
	/* What the guest said, and what was meant for it, went with it. */
	pthread_mutex_lock(&kvp->lock);
	g_queue_clear_full(&kvp->host_ops, (GDestroyNotify)kvp_host_op_free);
	for (unsigned i = 0; i < KVP_NREAD; i++)
		g_hash_table_remove_all(kvp->cache[i]);
	kvp->answered = false;
	kvp_count_entries(kvp);
	pthread_mutex_unlock(&kvp->lock);
	kvp_publish(kvp);
}


/* ---- saved state ---- */

/* service, request in flight (busy, transaction, op, pool, index, host
 * write), sweep (on, pool, index, what it read so far), host writes
 * waiting, the cache of each pool read, answered, counters. */
#define KVP_STATE_TYPE "(" IC_SERVICE_STATE_TYPE "btyyum(yss)buua{ss}a(yss)aa{ss}bat)"
#define KVP_STATE_FORMAT "(@" IC_SERVICE_STATE_TYPE "btyyu@m(yss)buu@a{ss}@a(yss)@aa{ss}b@at)"
#define KVP_COUNTERS 6u

static GVariant *kvp_table_save(GHashTable *t)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_autoptr(GList) keys = t ? g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp) : NULL;
	for (GList *l = keys; l; l = l->next)
		g_variant_builder_add(&b, "{ss}", (const char *)l->data, (const char *)g_hash_table_lookup(t, l->data));
	return g_variant_builder_end(&b);
}

static GVariant *kvp_op_save(const struct kvp_host_op *o)
{
	return g_variant_new("(yss)", o->op, o->key, o->value ? o->value : "");
}

static GVariant *kvp_save(struct vsp_device *dev)
{
	struct ic_kvp *kvp = vsp_device_priv(dev);
	pthread_mutex_lock(&kvp->lock);
	GVariantBuilder ops, cache;
	g_variant_builder_init(&ops, G_VARIANT_TYPE("a(yss)"));
	for (GList *l = kvp->host_ops.head; l; l = l->next)
		g_variant_builder_add_value(&ops, kvp_op_save(l->data));
	g_variant_builder_init(&cache, G_VARIANT_TYPE("aa{ss}"));
	for (unsigned i = 0; i < KVP_NREAD; i++)
		g_variant_builder_add_value(&cache, kvp_table_save(kvp->cache[i]));
	const uint64_t counters[KVP_COUNTERS] = { kvp->st.requests, kvp->st.answers, kvp->st.sweeps,
						  kvp->st.sets_done, kvp->st.failed, kvp->st.timeouts };
	GVariant *cur = g_variant_new_maybe(G_VARIANT_TYPE("(yss)"), kvp->cur_host ? kvp_op_save(kvp->cur_host) : NULL);
	GVariant *v = g_variant_new(KVP_STATE_FORMAT, ic_service_save(&kvp->svc), kvp->busy, kvp->cur_trans, kvp->cur_op,
				    kvp->cur_pool, kvp->cur_index, cur, kvp->sweeping, kvp->sweep_pool, kvp->sweep_index,
				    kvp_table_save(kvp->sweep_tab), g_variant_builder_end(&ops), g_variant_builder_end(&cache),
				    kvp->answered,
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, counters, KVP_COUNTERS, sizeof(uint64_t)));
	pthread_mutex_unlock(&kvp->lock);
	return v;
}

/* What the guest reported: UTF-8 that fits the protocol's fields. */
static bool kvp_entry_ok(const char *key, const char *value)
{
	return *key && strlen(key) < KVP_KEY_UTF8_MAX && strlen(value) < KVP_VALUE_UTF8_MAX &&
	       g_utf8_validate(key, -1, NULL) && g_utf8_validate(value, -1, NULL);
}

static GHashTable *kvp_table_restore(GVariant *v, const char *what, GError **error)
{
	if (g_variant_n_children(v) > IC_KVP_POOL_MAX) {
		saved_state_fail(error, "kvp: %s: %zu entries, more than %u", what, (size_t)g_variant_n_children(v),
				 IC_KVP_POOL_MAX);
		return NULL;
	}
	GHashTable *t = kvp_table_new();
	GVariantIter it;
	const char *k, *val;
	g_variant_iter_init(&it, v);
	while (g_variant_iter_next(&it, "{&s&s}", &k, &val)) {
		if (!kvp_entry_ok(k, val) || g_hash_table_contains(t, k)) {
			saved_state_fail(error, "kvp: %s: an entry the guest could not have sent", what);
			g_hash_table_unref(t);
			return NULL;
		}
		g_hash_table_insert(t, g_strdup(k), g_strdup(val));
	}
	return t;
}

/* A host write that would be queued (kvp_queue's checks), or NULL. */
static struct kvp_host_op *kvp_op_restore(GVariant *v)
{
	guint8 op;
	const char *key, *value;
	g_variant_get(v, "(y&s&s)", &op, &key, &value);
	uint8_t body[KVP_BODY_MAX];
	long n = op == KVP_OP_SET ? kvp_msg_build_set(body, sizeof(body), KVP_POOL_EXTERNAL, key, value)
	       : op == KVP_OP_DELETE && !*value ? kvp_msg_build_delete(body, sizeof(body), KVP_POOL_EXTERNAL, key)
					       : -EINVAL;
	if (n < 0)
		return NULL;
	struct kvp_host_op *o = g_new0(struct kvp_host_op, 1);
	o->op = op;
	o->key = g_strdup(key);
	o->value = op == KVP_OP_SET ? g_strdup(value) : NULL;
	return o;
}

static gboolean kvp_on_restored(gpointer data)
{
	struct ic_kvp *kvp = data;
	if (vsp_device_is_open(kvp->dev))
		kvp_pump(kvp);
	kvp_publish(kvp);
	return G_SOURCE_REMOVE;
}

struct kvp_restored {
	GHashTable *sweep_tab, *cache[KVP_NREAD];
	GQueue ops;
	struct kvp_host_op *cur;
};

static void kvp_restored_clear(struct kvp_restored *r)
{
	g_clear_pointer(&r->sweep_tab, g_hash_table_unref);
	for (unsigned i = 0; i < KVP_NREAD; i++)
		g_clear_pointer(&r->cache[i], g_hash_table_unref);
	g_queue_clear_full(&r->ops, (GDestroyNotify)kvp_host_op_free);
	kvp_host_op_free(r->cur);
	r->cur = NULL;
}

static bool kvp_pool_read(uint8_t pool)
{
	for (unsigned i = 0; i < KVP_NREAD; i++)
		if (kvp_read_pools[i] == pool)
			return true;
	return false;
}

static int kvp_restore(struct vsp_device *dev, GVariant *v, GError **error)
{
	struct ic_kvp *kvp = vsp_device_priv(dev);
	if (saved_state_check_type(v, KVP_STATE_TYPE, "kvp", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) svc = NULL, cur = NULL, sweep = NULL, ops = NULL, cache = NULL, counters = NULL;
	gboolean busy, sweeping, answered;
	guint64 cur_trans;
	guint8 cur_op, cur_pool;
	guint32 cur_index, sweep_pool, sweep_index;
	g_variant_get(v, KVP_STATE_FORMAT, &svc, &busy, &cur_trans, &cur_op, &cur_pool, &cur_index, &cur, &sweeping,
		      &sweep_pool, &sweep_index, &sweep, &ops, &cache, &answered, &counters);
	bool open = vsp_device_is_open(dev);
	struct ic_service s = kvp->svc;
	if (ic_service_restore(&s, svc, open, "kvp", error) < 0)
		return -EINVAL;
	struct kvp_restored r = { 0 };
	g_queue_init(&r.ops);
	int e = 0;
	g_autoptr(GVariant) curv = g_variant_get_maybe(cur);
	gsize nc;
	const uint64_t *cnt = g_variant_get_fixed_array(counters, &nc, sizeof(uint64_t));
	if (nc != KVP_COUNTERS)
		e = saved_state_fail(error, "kvp: %zu counters, not %u", (size_t)nc, KVP_COUNTERS);
	else if (busy && (s.state != IC_READY || cur_trans == 0 || cur_trans > s.next_trans_id))
		e = saved_state_fail(error, "kvp: a request in flight on transaction %" G_GUINT64_FORMAT " (service %s)",
				     cur_trans, ic_state_name(s.state));
	else if (busy && cur_op == KVP_OP_ENUMERATE && (curv || !kvp_pool_read(cur_pool) || cur_index >= IC_KVP_POOL_MAX))
		e = saved_state_fail(error, "kvp: an enumeration of pool %u index %u in flight", cur_pool, cur_index);
	else if (busy && cur_op != KVP_OP_ENUMERATE &&
		 (!curv || cur_pool != KVP_POOL_EXTERNAL || !(r.cur = kvp_op_restore(curv)) || r.cur->op != cur_op))
		e = saved_state_fail(error, "kvp: the host write in flight (op %u, pool %u) is not one", cur_op, cur_pool);
	else if (!busy && curv)
		e = saved_state_fail(error, "kvp: a host write in flight with no request");
	else if (sweeping && (s.state != IC_READY || sweep_pool >= KVP_NREAD || sweep_index >= IC_KVP_POOL_MAX))
		e = saved_state_fail(error, "kvp: a sweep at pool %u index %u", sweep_pool, sweep_index);
	else if (!sweeping && g_variant_n_children(sweep))
		e = saved_state_fail(error, "kvp: entries of a sweep that does not run");
	else if (!(r.sweep_tab = kvp_table_restore(sweep, "the sweep", error)))
		e = -EINVAL;
	else if (g_variant_n_children(ops) > IC_KVP_QUEUE_MAX)
		e = saved_state_fail(error, "kvp: %zu host writes waiting, more than %u", (size_t)g_variant_n_children(ops),
				     IC_KVP_QUEUE_MAX);
	else if (g_variant_n_children(cache) != KVP_NREAD)
		e = saved_state_fail(error, "kvp: %zu pools cached, not %zu", (size_t)g_variant_n_children(cache),
				     (size_t)KVP_NREAD);
	for (gsize i = 0; e == 0 && i < g_variant_n_children(ops); i++) {
		g_autoptr(GVariant) o = g_variant_get_child_value(ops, i);
		struct kvp_host_op *op = kvp_op_restore(o);
		if (!op)
			e = saved_state_fail(error, "kvp: waiting host write %zu is not one", (size_t)i);
		else
			g_queue_push_tail(&r.ops, op);
	}
	for (unsigned i = 0; e == 0 && i < KVP_NREAD; i++) {
		g_autoptr(GVariant) t = g_variant_get_child_value(cache, i);
		if (!(r.cache[i] = kvp_table_restore(t, "the cache", error)))
			e = -EINVAL;
	}
	/* A closed channel took all of it (kvp_close). */
	if (e == 0 && !open && (busy || sweeping || r.ops.length || answered ||
				g_hash_table_size(r.cache[0]) || g_hash_table_size(r.cache[1])))
		e = saved_state_fail(error, "kvp: requests, writes or answers on a closed channel");
	if (e < 0) {
		kvp_restored_clear(&r);
		return e;
	}
	kvp->svc = s;
	kvp->busy = busy;
	kvp->cur_trans = busy ? cur_trans : 0;
	kvp->cur_op = cur_op;
	kvp->cur_pool = cur_pool;
	kvp->cur_index = cur_index;
	kvp->cur_host = g_steal_pointer(&r.cur);
	kvp->sweeping = sweeping;
	kvp->sweep_pool = sweep_pool;
	kvp->sweep_index = sweep_index;
	g_clear_pointer(&kvp->sweep_tab, g_hash_table_unref);
	kvp->sweep_tab = sweeping ? g_steal_pointer(&r.sweep_tab) : NULL;
	pthread_mutex_lock(&kvp->lock);
	g_queue_clear_full(&kvp->host_ops, (GDestroyNotify)kvp_host_op_free);
	kvp->host_ops = r.ops;
	g_queue_init(&r.ops);
	for (unsigned i = 0; i < KVP_NREAD; i++) {
		g_hash_table_unref(kvp->cache[i]);
		kvp->cache[i] = g_steal_pointer(&r.cache[i]);
	}
	kvp->answered = answered;
	kvp->st.requests = cnt[0];
	kvp->st.answers = cnt[1];
	kvp->st.sweeps = cnt[2];
	kvp->st.sets_done = cnt[3];
	kvp->st.failed = cnt[4];
	kvp->st.timeouts = cnt[5];
	kvp_count_entries(kvp);
	pthread_mutex_unlock(&kvp->lock);
	kvp_restored_clear(&r);
	if (open) {
		kvp->refresh = ic_timer_start(kvp->bus, IC_KVP_REFRESH_MS, kvp_on_refresh, kvp);
		if (busy) {
			/* The request is in the restored ring; its patience starts again. */
			kvp->timeout = g_timeout_source_new(IC_KVP_ANSWER_MS);
			g_source_set_callback(kvp->timeout, kvp_on_timeout, kvp, NULL);
			g_source_attach(kvp->timeout, vsp_bus_context(kvp->bus));
		}
		GSource *now = g_idle_source_new();
		g_source_set_callback(now, kvp_on_restored, kvp, NULL);
		g_source_attach(now, vsp_bus_context(kvp->bus));
		g_source_unref(now);
	}
	kvp_publish(kvp);
	return 0;
}

static const struct vsp_device_class ic_kvp_class = {
	.name = "kvp",
	.type = IC_KVP_CLASS,
	.max_packet = 8192,
	.open = kvp_open,
	.packet = kvp_packet,
	.writable = kvp_writable,
	.close = kvp_close,
	.save = kvp_save,
	.restore = kvp_restore,
};

struct ic_kvp *ic_kvp_add(struct vsp_bus *bus, const struct vmbus_guid *instance)
{
	struct ic_kvp *kvp = g_new0(struct ic_kvp, 1);
	kvp->bus = bus;
	kvp->svc = (struct ic_service){
		.fw_versions = { { 3, 0 }, { 1, 0 } }, .n_fw = 2,
		.msg_versions = { { 4, 0 }, { 3, 0 }, { 1, 0 } }, .n_msg = 3,
	};
	pthread_mutex_init(&kvp->lock, NULL);
	g_queue_init(&kvp->host_ops);
	for (unsigned i = 0; i < KVP_NREAD; i++)
		kvp->cache[i] = kvp_table_new();
	int r = vsp_bus_add(bus, &ic_kvp_class, instance, kvp, &kvp->dev);
	if (r < 0) {
		ic_kvp_free(kvp);
		errno = -r;
		return NULL;
	}
	return kvp;
}

int ic_kvp_get(struct ic_kvp *kvp, const char *key, char *buf, size_t size)
{
	int r = -ENOENT;
	pthread_mutex_lock(&kvp->lock);
	if (!kvp->answered) {
		r = -EAGAIN;
		goto out;
	}
	for (unsigned i = 0; i < KVP_NREAD; i++) {
		const char *v = g_hash_table_lookup(kvp->cache[i], key);
		if (!v)
			continue;
		r = g_strlcpy(buf, v, size) < size ? 0 : -ENOSPC;
		break;
	}
out:
	pthread_mutex_unlock(&kvp->lock);
	return r;
}

static int kvp_queue(struct ic_kvp *kvp, uint8_t op, const char *key, const char *value)
{
	uint8_t body[KVP_BODY_MAX];
	long n = op == KVP_OP_SET ? kvp_msg_build_set(body, sizeof(body), KVP_POOL_EXTERNAL, key, value)
				  : kvp_msg_build_delete(body, sizeof(body), KVP_POOL_EXTERNAL, key);
	if (n < 0)
		return (int)n;
	int r = 0;
	pthread_mutex_lock(&kvp->lock);
	if (kvp->st.state != IC_READY) {
		r = -ENOTCONN;
	} else if (kvp->host_ops.length >= IC_KVP_QUEUE_MAX) {
		r = -ENOBUFS;
	} else {
		struct kvp_host_op *o = g_new0(struct kvp_host_op, 1);
		o->op = op;
		o->key = g_strdup(key);
		o->value = g_strdup(value);
		g_queue_push_tail(&kvp->host_ops, o);
		kvp->st.queued = kvp->host_ops.length;
	}
	pthread_mutex_unlock(&kvp->lock);
	if (r == 0)
		vsp_bus_invoke(kvp->bus, kvp_on_queued, kvp);
	return r;
}

int ic_kvp_set(struct ic_kvp *kvp, const char *key, const char *value)
{
	return value ? kvp_queue(kvp, KVP_OP_SET, key, value) : -EINVAL;
}

int ic_kvp_delete(struct ic_kvp *kvp, const char *key)
{
	return kvp_queue(kvp, KVP_OP_DELETE, key, NULL);
}

static gint kvp_cmp_keys(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ic_kvp_list(struct ic_kvp *kvp)
{
	GPtrArray *keys = g_ptr_array_new();
	GPtrArray *out = g_ptr_array_new();
	pthread_mutex_lock(&kvp->lock);
	for (unsigned i = 0; i < KVP_NREAD; i++) {
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, kvp->cache[i]);
		while (g_hash_table_iter_next(&it, &k, NULL)) {
			/* The auto pool wins, as in ic_kvp_get. */
			bool shadowed = false;
			for (unsigned j = 0; j < i; j++)
				shadowed = shadowed || g_hash_table_contains(kvp->cache[j], k);
			if (!shadowed)
				g_ptr_array_add(keys, k);
		}
	}
	g_ptr_array_sort(keys, kvp_cmp_keys);
	for (guint i = 0; i < keys->len; i++) {
		const char *k = keys->pdata[i], *v = NULL;
		for (unsigned j = 0; j < KVP_NREAD && !v; j++)
			v = g_hash_table_lookup(kvp->cache[j], k);
		g_ptr_array_add(out, g_strdup(k));
		g_ptr_array_add(out, g_strdup(v));
	}
	pthread_mutex_unlock(&kvp->lock);
	g_ptr_array_unref(keys);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

void ic_kvp_get_state(struct ic_kvp *kvp, struct ic_kvp_state *out)
{
	pthread_mutex_lock(&kvp->lock);
	*out = kvp->st;
	pthread_mutex_unlock(&kvp->lock);
}

void ic_kvp_free(struct ic_kvp *kvp)
{
	if (!kvp)
		return;
	g_queue_clear_full(&kvp->host_ops, (GDestroyNotify)kvp_host_op_free);
	for (unsigned i = 0; i < KVP_NREAD; i++)
		g_clear_pointer(&kvp->cache[i], g_hash_table_unref);
	g_clear_pointer(&kvp->sweep_tab, g_hash_table_unref);
	kvp_host_op_free(kvp->cur_host);
	pthread_mutex_destroy(&kvp->lock);
	g_free(kvp);
}
