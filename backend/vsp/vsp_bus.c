// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib-unix.h>

#include "hv/gpadl.h"
#include "hv/saved_state.h"
#include "hv/vmbus_ring.h"
#include "vsp/vsp.h"

struct vsp_device {
	struct vsp_bus *bus;
	const struct vsp_device_class *cls;
	void *priv;
	struct vmbus_channel *ch;
	int efd;                     /* guest signals and host kicks wake the bus thread here */
	GSource *src;

	/* Shared with the vCPU threads' open and close, under lock. */
	pthread_mutex_t lock;
	bool mapped;
	void *ring_base;
	size_t ring_pages;
	struct vmbus_ring in;        /* guest -> host */
	struct vmbus_ring out;       /* host -> guest */
	uint32_t relid, conn_id;
	uint64_t gen;                /* bumped at every open */
	bool want_open;
	bool watched;                /* signals reach efd through KVM_IOEVENTFD */
	bool broken;                 /* the guest broke the indices: no reading until reopen */

	/* Bus thread only. */
	bool cb_open;
	uint64_t cb_gen;
	bool out_blocked;            /* a send said -EAGAIN: call writable when room comes */
	uint8_t *rxbuf;
	size_t rxsize;

	_Atomic uint64_t opens, packets_in, packets_out, bad_packets;
	_Atomic uint64_t wakeups, signals_exit, kicks, signals_out;
};

struct vsp_bus {
	struct vsp_bus_host host;
	GMainContext *ctx;
	GMainLoop *loop;
	pthread_t thread;
	pthread_mutex_t devices_lock;
	GPtrArray *devices;
	bool stopped;

	pthread_mutex_t freeze_lock;
	pthread_cond_t freeze_cond;
	bool frozen;                 /* the bus thread waits in vsp_bus_on_freeze */
	bool thaw;
};

static void *vsp_bus_thread(void *arg)
{
	struct vsp_bus *bus = arg;
	g_main_context_push_thread_default(bus->ctx);
	g_main_loop_run(bus->loop);
	g_main_context_pop_thread_default(bus->ctx);
	return NULL;
}

struct vsp_bus *vsp_bus_new(const struct vsp_bus_host *host)
{
	if (!host || !host->server || !host->ram || !host->signal_guest) {
		errno = EINVAL;
		return NULL;
	}
	struct vsp_bus *bus = g_new0(struct vsp_bus, 1);
	bus->host = *host;
	bus->ctx = g_main_context_new();
	bus->loop = g_main_loop_new(bus->ctx, FALSE);
	pthread_mutex_init(&bus->devices_lock, NULL);
	pthread_mutex_init(&bus->freeze_lock, NULL);
	pthread_cond_init(&bus->freeze_cond, NULL);
	bus->devices = g_ptr_array_new();
	int r = pthread_create(&bus->thread, NULL, vsp_bus_thread, bus);
	if (r != 0) {
		g_main_loop_unref(bus->loop);
		g_main_context_unref(bus->ctx);
		g_ptr_array_unref(bus->devices);
		g_free(bus);
		errno = r;
		return NULL;
	}
	return bus;
}

/* Devices still open (the server is gone, so no close comes) get their
 * close on the bus thread, where they keep their timers. */
static gboolean vsp_bus_quit(gpointer data)
{
	struct vsp_bus *bus = data;
	pthread_mutex_lock(&bus->devices_lock);
	for (guint i = 0; i < bus->devices->len; i++) {
		struct vsp_device *dev = g_ptr_array_index(bus->devices, i);
		if (dev->cb_open) {
			dev->cb_open = false;
			if (dev->cls->close)
				dev->cls->close(dev);
		}
	}
	pthread_mutex_unlock(&bus->devices_lock);
	g_main_loop_quit(bus->loop);
	return G_SOURCE_REMOVE;
}

static void vsp_device_free(struct vsp_device *dev)
{
	if (dev->src) {
		g_source_destroy(dev->src);
		g_source_unref(dev->src);
	}
	if (dev->mapped)
		guest_ram_unmap_pages(dev->ring_base, dev->ring_pages);
	close(dev->efd);
	pthread_mutex_destroy(&dev->lock);
	g_free(dev->rxbuf);
	g_free(dev);
}

void vsp_bus_stop(struct vsp_bus *bus)
{
	if (!bus || bus->stopped)
		return;
	vsp_bus_thaw(bus);
	g_main_context_invoke(bus->ctx, vsp_bus_quit, bus);
	pthread_join(bus->thread, NULL);
	bus->stopped = true;
}

void vsp_bus_free(struct vsp_bus *bus)
{
	if (!bus)
		return;
	vsp_bus_stop(bus);
	for (guint i = 0; i < bus->devices->len; i++)
		vsp_device_free(g_ptr_array_index(bus->devices, i));
	g_ptr_array_unref(bus->devices);
	pthread_mutex_destroy(&bus->devices_lock);
	pthread_cond_destroy(&bus->freeze_cond);
	pthread_mutex_destroy(&bus->freeze_lock);
	g_main_loop_unref(bus->loop);
	g_main_context_unref(bus->ctx);
	g_free(bus);
}

GMainContext *vsp_bus_context(struct vsp_bus *bus)
{
	return bus->ctx;
}

void vsp_bus_invoke(struct vsp_bus *bus, GSourceFunc fn, void *data)
{
	g_main_context_invoke(bus->ctx, fn, data);
}

uint64_t vsp_bus_reference_time(struct vsp_bus *bus)
{
	return bus->host.reference_time ? bus->host.reference_time(bus->host.opaque) : 0;
}

static void vsp_device_kick(struct vsp_device *dev)
{
	atomic_fetch_add(&dev->kicks, 1);
	uint64_t one = 1;
	(void)!write(dev->efd, &one, sizeof(one));
}

/* Tell the guest about a ring change when the ring rules say it may be waiting. */
static void vsp_device_signal_guest(struct vsp_device *dev)
{
	if (!dev->ch)
		return;
	unsigned vp = vmbus_server_channel_target_vp(dev->ch);
	if (dev->bus->host.signal_guest(dev->bus->host.opaque, vp, dev->relid) == 0)
		atomic_fetch_add(&dev->signals_out, 1);
}

/* One packet out of the guest's ring into rxbuf, under the lock: its
 * length, 0 when there is nothing (more) to read now. */
static long vsp_device_take(struct vsp_device *dev)
{
	long n = 0;
	bool sig = false;
	pthread_mutex_lock(&dev->lock);
	if (!dev->mapped || dev->gen != dev->cb_gen || dev->broken)
		goto out;
	for (;;) {
		n = vmbus_ring_read(&dev->in, dev->rxbuf, dev->rxsize, &sig);
		if (n == -EMSGSIZE) {
			atomic_fetch_add(&dev->bad_packets, 1);
			n = vmbus_ring_skip(&dev->in, &sig);
			if (n > 0)
				continue;
		}
		if (n < 0) {
			/* Nothing in this ring can be trusted any more; the
			 * guest gets its channel back when it reopens it. */
			atomic_fetch_add(&dev->bad_packets, 1);
			dev->broken = true;
			n = 0;
			break;
		}
		if (n > 0)
			break;
		/* Empty: let the guest signal again, then look once more for a
		 * packet that raced with the unmask. */
		if (!vmbus_ring_unmask(&dev->in))
			break;
	}
	if (n > 0)
		vmbus_ring_mask(&dev->in);
	if (sig)
		vsp_device_signal_guest(dev);
out:
	pthread_mutex_unlock(&dev->lock);
	return n;
}

static void vsp_device_drain(struct vsp_device *dev)
{
	long n;
	while (dev->cb_open && (n = vsp_device_take(dev)) > 0) {
		const struct vmbus_packet_desc *d = (const void *)dev->rxbuf;
		size_t off = (size_t)d->offset8 * 8;
		struct vsp_packet pkt = {
			.type = d->type,
			.flags = d->flags,
			.trans_id = d->trans_id,
			.data = dev->rxbuf + off,
			.len = (size_t)n - off,
			.raw = dev->rxbuf,
			.raw_len = (size_t)n,
		};
		atomic_fetch_add(&dev->packets_in, 1);
		if (dev->bus->host.trace_packet)
			dev->bus->host.trace_packet(dev->bus->host.opaque, dev->cls->name, dev->relid, true,
						    dev->rxbuf, (size_t)n);
		dev->cls->packet(dev, &pkt);
	}
}

/* Bus thread: bring the device's view (open/close callbacks) in line with
 * the channel, then read what the guest sent. */
static void vsp_device_sync(struct vsp_device *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool want = dev->want_open;
	uint64_t gen = dev->gen;
	pthread_mutex_unlock(&dev->lock);

	if (dev->cb_open && (!want || dev->cb_gen != gen)) {
		dev->cb_open = false;
		dev->out_blocked = false;
		if (dev->cls->close)
			dev->cls->close(dev);
	}
	if (want && !dev->cb_open) {
		dev->cb_open = true;
		dev->cb_gen = gen;
		atomic_fetch_add(&dev->opens, 1);
		if (dev->cls->open)
			(void)dev->cls->open(dev);
	}
	vsp_device_drain(dev);
	if (dev->cb_open && dev->out_blocked) {
		pthread_mutex_lock(&dev->lock);
		/* Room for the refused packet: the size vmbus_ring_write asked for. */
		bool room = dev->mapped && vmbus_ring_free(&dev->out) >=
			    __atomic_load_n(&dev->out.hdr->pending_send_sz, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&dev->lock);
		if (room) {
			dev->out_blocked = false;
			if (dev->cls->writable)
				dev->cls->writable(dev);
		}
	}
}

static gboolean vsp_device_on_wake(gint fd, GIOCondition cond, gpointer data)
{
	struct vsp_device *dev = data;
	uint64_t count;
	if (read(fd, &count, sizeof(count)) == sizeof(count))
		atomic_fetch_add(&dev->wakeups, count);
	vsp_device_sync(dev);
	return G_SOURCE_CONTINUE;
}

int vsp_bus_add(struct vsp_bus *bus, const struct vsp_device_class *cls,
		const struct vmbus_guid *instance, void *priv, struct vsp_device **out)
{
	if (!cls || !cls->name || !cls->packet || !instance)
		return -EINVAL;
	struct vsp_device *dev = g_new0(struct vsp_device, 1);
	dev->bus = bus;
	dev->cls = cls;
	dev->priv = priv;
	dev->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->efd < 0) {
		g_free(dev);
		return -ENOMEM;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->rxsize = cls->max_packet ? cls->max_packet : VSP_PACKET_MAX_DEFAULT;
	dev->rxbuf = g_malloc(dev->rxsize);

	struct vmbus_channel_desc desc = {
		.type = cls->type,
		.instance = *instance,
		.flags = cls->channel_flags,
		.mmio_megabytes = cls->mmio_megabytes,
		.pipe_mode = cls->pipe_mode,
		.priv = dev,
	};
	pthread_mutex_lock(&bus->devices_lock);
	/* Before the offer: the guest may open the channel at once. */
	dev->src = g_unix_fd_source_new(dev->efd, G_IO_IN);
	g_source_set_callback(dev->src, (GSourceFunc)(void (*)(void))vsp_device_on_wake, dev, NULL);
	g_source_attach(dev->src, bus->ctx);
	int r = vmbus_server_add_channel(bus->host.server, &desc, &dev->ch);
	if (r == 0)
		g_ptr_array_add(bus->devices, dev);
	pthread_mutex_unlock(&bus->devices_lock);
	if (r < 0) {
		vsp_device_free(dev);
		return r;
	}
	if (out)
		*out = dev;
	return 0;
}

struct vsp_device *vsp_bus_find(struct vsp_bus *bus, const char *name)
{
	struct vsp_device *found = NULL;
	pthread_mutex_lock(&bus->devices_lock);
	for (guint i = 0; i < bus->devices->len && !found; i++) {
		struct vsp_device *dev = g_ptr_array_index(bus->devices, i);
		if (strcmp(dev->cls->name, name) == 0)
			found = dev;
	}
	pthread_mutex_unlock(&bus->devices_lock);
	return found;
}

void *vsp_device_priv(const struct vsp_device *dev)
{
	return dev->priv;
}

const struct vsp_device_class *vsp_device_class(const struct vsp_device *dev)
{
	return dev->cls;
}

struct vsp_bus *vsp_device_bus(const struct vsp_device *dev)
{
	return dev->bus;
}

bool vsp_device_is_open(const struct vsp_device *dev)
{
	return dev->cb_open;
}

int vsp_device_send(struct vsp_device *dev, uint16_t type, uint16_t flags, uint64_t trans_id,
		    const void *data, size_t len)
{
	bool sig = false;
	int r;
	pthread_mutex_lock(&dev->lock);
	if (!dev->cb_open || !dev->mapped || dev->gen != dev->cb_gen) {
		r = -EPIPE;
	} else {
		r = vmbus_ring_write(&dev->out, type, flags, trans_id, data, len, &sig);
		if (r == 0)
			atomic_fetch_add(&dev->packets_out, 1);
		if (r == 0 && dev->bus->host.trace_packet) {
			/* The descriptor as the guest will see it, then the payload. */
			struct vmbus_packet_desc d = { .type = type, .offset8 = 2,
				.len8 = (uint16_t)((sizeof(d) + len + 7) / 8), .flags = flags, .trans_id = trans_id };
			uint8_t *rec = g_malloc(sizeof(d) + len);
			memcpy(rec, &d, sizeof(d));
			memcpy(rec + sizeof(d), data, len);
			dev->bus->host.trace_packet(dev->bus->host.opaque, dev->cls->name, dev->relid, false,
						    rec, sizeof(d) + len);
			g_free(rec);
		}
		if (sig)
			vsp_device_signal_guest(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	if (r == -EAGAIN)
		dev->out_blocked = true;
	return r;
}

void vsp_device_get_stats(const struct vsp_device *dev, struct vsp_device_stats *out)
{
	struct vsp_device *d = (struct vsp_device *)dev;
	pthread_mutex_lock(&d->lock);
	*out = (struct vsp_device_stats){
		.open = d->want_open,
		.signal_in_kernel = d->want_open && d->watched,
		.relid = d->relid,
		.ring_bytes_in = d->mapped ? d->in.size + VMBUS_RING_HEADER_SIZE : 0,
		.ring_bytes_out = d->mapped ? d->out.size + VMBUS_RING_HEADER_SIZE : 0,
	};
	pthread_mutex_unlock(&d->lock);
	out->opens = atomic_load(&d->opens);
	out->packets_in = atomic_load(&d->packets_in);
	out->packets_out = atomic_load(&d->packets_out);
	out->bad_packets = atomic_load(&d->bad_packets);
	out->signals_exit = atomic_load(&d->signals_exit);
	out->signals_out = atomic_load(&d->signals_out);
	/* Every wakeup is a guest signal through either path, or our own kick. */
	uint64_t w = atomic_load(&d->wakeups), k = atomic_load(&d->kicks);
	uint64_t other = k + out->signals_exit;
	out->signals_kernel = w > other ? w - other : 0;
}

/* ---- the VMBus server's channel callbacks (vCPU threads, server lock held) ---- */

static struct vsp_device *vsp_channel_device(struct vmbus_channel *ch)
{
	return vmbus_server_channel_priv(ch);
}

static int vsp_ring_size_ok(const struct vsp_device_class *cls, uint64_t bytes)
{
	uint64_t min = cls->min_ring_bytes ? cls->min_ring_bytes : VSP_RING_MIN_DEFAULT;
	uint64_t max = cls->max_ring_bytes ? cls->max_ring_bytes : VSP_RING_MAX_DEFAULT;
	return bytes >= min && bytes <= max;
}

/* Map ch's ring GPADL into dev's host view and count a new open. */
static int vsp_device_attach(struct vsp_bus *bus, struct vsp_device *dev, struct vmbus_channel *ch)
{
	struct vmbus_channel_info info;
	if (vmbus_server_channel_info(bus->host.server, ch, &info) < 0 || !info.ring)
		return -EINVAL;
	if (!gpadl_whole_pages(info.ring))
		return -EINVAL;
	uint64_t pages = gpadl_size(info.ring) / GPADL_PAGE_SIZE;
	uint64_t off = info.downstream_offset;
	if (off == 0 || off >= pages || pages > GUEST_RAM_MAP_MAX_PAGES ||
	    !vsp_ring_size_ok(dev->cls, off * GPADL_PAGE_SIZE) ||
	    !vsp_ring_size_ok(dev->cls, (pages - off) * GPADL_PAGE_SIZE))
		return -EINVAL;
	uint64_t *pfns = g_new(uint64_t, pages);
	void *base = NULL;
	int r = gpadl_pages(info.ring, 0, (uint32_t)pages, pfns);
	if (r == 0)
		r = guest_ram_map_pages(bus->host.ram, pfns, pages, &base);
	g_free(pfns);
	if (r < 0)
		return r;
	struct vmbus_ring in, out;
	if (vmbus_ring_init(&in, base, off * GPADL_PAGE_SIZE) < 0 ||
	    vmbus_ring_init(&out, (uint8_t *)base + off * GPADL_PAGE_SIZE,
			    (pages - off) * GPADL_PAGE_SIZE) < 0) {
		guest_ram_unmap_pages(base, pages);
		return -EINVAL;
	}

	pthread_mutex_lock(&dev->lock);
	if (dev->mapped)   /* cannot happen: the server closes before it reopens */
		guest_ram_unmap_pages(dev->ring_base, dev->ring_pages);
	dev->ring_base = base;
	dev->ring_pages = pages;
	dev->in = in;
	dev->out = out;
	dev->mapped = true;
	dev->relid = info.relid;
	dev->conn_id = info.connection_id;
	dev->gen++;
	dev->want_open = true;
	dev->broken = false;
	dev->watched = bus->host.watch_signal &&
		       bus->host.watch_signal(bus->host.opaque, info.connection_id, dev->efd) == 0;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int vsp_on_channel_open(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_bus *bus = opaque;
	struct vsp_device *dev = vsp_channel_device(ch);
	if (!dev)
		return -EINVAL;
	int r = vsp_device_attach(bus, dev, ch);
	if (r < 0)
		return r;
	vsp_device_kick(dev);
	return 0;
}

static void vsp_on_channel_close(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_bus *bus = opaque;
	struct vsp_device *dev = vsp_channel_device(ch);
	if (!dev)
		return;
	/* The lock waits out a bus-thread read or write in progress; after it
	 * nothing touches the guest's pages. */
	pthread_mutex_lock(&dev->lock);
	if (dev->watched && bus->host.unwatch_signal)
		bus->host.unwatch_signal(bus->host.opaque, dev->conn_id, dev->efd);
	dev->watched = false;
	if (dev->mapped)
		guest_ram_unmap_pages(dev->ring_base, dev->ring_pages);
	dev->mapped = false;
	dev->ring_base = NULL;
	dev->want_open = false;
	pthread_mutex_unlock(&dev->lock);
	vsp_device_kick(dev);
}

static void vsp_on_channel_signal(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_device *dev = vsp_channel_device(ch);
	if (!dev)
		return;
	atomic_fetch_add(&dev->signals_exit, 1);
	uint64_t one = 1;
	(void)!write(dev->efd, &one, sizeof(one));
}

static void vsp_on_channel_removed(void *opaque, struct vmbus_channel *ch)
{
	struct vsp_device *dev = vsp_channel_device(ch);
	(void)opaque;
	if (!dev)
		return;
	/* The device stays until the bus goes; only its channel is gone. */
	pthread_mutex_lock(&dev->lock);
	dev->ch = NULL;
	pthread_mutex_unlock(&dev->lock);
}

const struct vmbus_server_ops vsp_bus_server_ops = {
	.channel_open = vsp_on_channel_open,
	.channel_close = vsp_on_channel_close,
	.channel_signal = vsp_on_channel_signal,
	.channel_removed = vsp_on_channel_removed,
};

/* ---- freezing and saved state ---- */

static gboolean vsp_bus_on_freeze(gpointer data)
{
	struct vsp_bus *bus = data;
	pthread_mutex_lock(&bus->freeze_lock);
	bus->frozen = true;
	pthread_cond_broadcast(&bus->freeze_cond);
	while (!bus->thaw)
		pthread_cond_wait(&bus->freeze_cond, &bus->freeze_lock);
	bus->frozen = false;
	bus->thaw = false;
	pthread_cond_broadcast(&bus->freeze_cond);
	pthread_mutex_unlock(&bus->freeze_lock);
	return G_SOURCE_REMOVE;
}

void vsp_bus_freeze(struct vsp_bus *bus)
{
	if (bus->stopped)
		return;                  /* no thread: nothing runs anyway */
	pthread_mutex_lock(&bus->freeze_lock);
	bool already = bus->frozen;
	pthread_mutex_unlock(&bus->freeze_lock);
	if (already)
		return;
	g_main_context_invoke(bus->ctx, vsp_bus_on_freeze, bus);
	pthread_mutex_lock(&bus->freeze_lock);
	while (!bus->frozen)
		pthread_cond_wait(&bus->freeze_cond, &bus->freeze_lock);
	pthread_mutex_unlock(&bus->freeze_lock);
}

void vsp_bus_thaw(struct vsp_bus *bus)
{
	pthread_mutex_lock(&bus->freeze_lock);
	if (bus->frozen) {
		bus->thaw = true;
		pthread_cond_broadcast(&bus->freeze_cond);
		while (bus->frozen)
			pthread_cond_wait(&bus->freeze_cond, &bus->freeze_lock);
	}
	pthread_mutex_unlock(&bus->freeze_lock);
}

GVariant *vsp_bus_save(struct vsp_bus *bus)
{
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE(VSP_BUS_STATE_TYPE));
	pthread_mutex_lock(&bus->devices_lock);
	for (guint i = 0; i < bus->devices->len; i++) {
		struct vsp_device *dev = g_ptr_array_index(bus->devices, i);
		pthread_mutex_lock(&dev->lock);
		uint32_t relid = dev->ch ? vmbus_server_channel_relid(dev->ch) : 0;
		bool want = dev->want_open, broken = dev->broken;
		pthread_mutex_unlock(&dev->lock);
		/* The device may not have caught up with a close and reopen yet. */
		bool current = dev->cb_open && want && dev->cb_gen == dev->gen;
		GVariant *st = dev->cls->save ? dev->cls->save(dev) : g_variant_new_tuple(NULL, 0);
		g_variant_builder_add(&b, "(subbbbbv)", dev->cls->name, relid, dev->cb_open, current, want, broken,
				      dev->out_blocked, st);
	}
	pthread_mutex_unlock(&bus->devices_lock);
	return g_variant_builder_end(&b);
}

static int vsp_device_restore(struct vsp_bus *bus, struct vsp_device *dev, GVariant *d, GError **error)
{
	const char *name;
	guint32 relid;
	gboolean cb_open, current, want, broken, blocked;
	g_autoptr(GVariant) st = NULL;
	g_variant_get(d, "(&subbbbbv)", &name, &relid, &cb_open, &current, &want, &broken, &blocked, &st);
	if (strcmp(name, dev->cls->name) != 0)
		return saved_state_fail(error, "vsp: the saved VM had a \"%.32s\" device where this machine has \"%s\"", name,
					dev->cls->name);
	struct vmbus_channel_info info;
	if (!dev->ch || vmbus_server_channel_info(bus->host.server, dev->ch, &info) < 0 || info.relid != relid)
		return saved_state_fail(error, "vsp: %s: relid %u in the saved VM, %u here", dev->cls->name, relid,
					dev->ch ? vmbus_server_channel_relid(dev->ch) : 0);
	if (want != (info.state == VMBUS_CHANNEL_OPEN))
		return saved_state_fail(error, "vsp: %s: the device's channel is %s, the VMBus state says it is %s",
					dev->cls->name, want ? "open" : "closed",
					info.state == VMBUS_CHANNEL_OPEN ? "open" : "not");
	if (!want && broken)
		return saved_state_fail(error, "vsp: %s: a broken ring on a closed channel", dev->cls->name);
	if (current && !(cb_open && want))
		return saved_state_fail(error, "vsp: %s: open for the device and the guest, but not both", dev->cls->name);
	if (!dev->cls->restore && !g_variant_is_of_type(st, G_VARIANT_TYPE_UNIT))
		return saved_state_fail(error, "vsp: %s keeps no state, but the saved VM has one", dev->cls->name);
	if (want) {
		int r = vsp_device_attach(bus, dev, dev->ch);
		if (r < 0)
			return saved_state_fail(error, "vsp: %s: mapping its ring: %s", dev->cls->name, g_strerror(-r));
	}
	pthread_mutex_lock(&dev->lock);
	dev->broken = broken;
	/* A close (and reopen) the device had not heard of yet comes to it after the thaw. */
	dev->cb_open = cb_open;
	dev->cb_gen = current ? dev->gen : dev->gen + 1;
	pthread_mutex_unlock(&dev->lock);
	dev->out_blocked = current && blocked;
	if (cb_open)
		atomic_fetch_add(&dev->opens, 1);
	if (dev->cls->restore && dev->cls->restore(dev, st, error) < 0) {
		dev->cb_open = false;
		return -EINVAL;
	}
	return 0;
}

int vsp_bus_restore(struct vsp_bus *bus, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, VSP_BUS_STATE_TYPE, "vsp", error) < 0)
		return -EINVAL;
	pthread_mutex_lock(&bus->devices_lock);
	gsize n = g_variant_n_children(v);
	int r = 0;
	if (n != bus->devices->len)
		r = saved_state_fail(error, "vsp: the saved VM had %zu devices, this machine %u", (size_t)n,
				     bus->devices->len);
	for (gsize i = 0; i < n && r == 0; i++) {
		g_autoptr(GVariant) d = g_variant_get_child_value(v, i);
		r = vsp_device_restore(bus, g_ptr_array_index(bus->devices, i), d, error);
	}
	/* Each device reads what waits in its ring once the bus runs again. */
	for (guint i = 0; i < bus->devices->len && r == 0; i++)
		vsp_device_kick(g_ptr_array_index(bus->devices, i));
	pthread_mutex_unlock(&bus->devices_lock);
	return r;
}
