/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VSP framework: what a synthetic device needs from VMBus, so that a
 * device is one file under backend/vsp/ that fills in a struct
 * vsp_device_class (class id, ring limits, open, packet, close).
 *
 * The bus offers each device as a channel of the VMBus server, maps the
 * channel's ring GPADL into one host view when the guest opens it, reads the
 * guest's packets, and writes and signals the device's. The guest's
 * HvSignalEvent for a channel ends in an eventfd: in the kernel when the host
 * can route it there (vsp_bus_host.watch_signal, KVM_IOEVENTFD), else through
 * vsp_bus_server_ops' channel_signal.
 *
 * Threads: the bus runs one thread with its own GMainContext
 * (vsp_bus_context). Every device callback runs there, one at a time, and
 * vsp_device_send may only be called there; other threads reach a device
 * with vsp_bus_invoke. Device timers are GSources attached to that context.
 * The VMBus server's channel callbacks (vsp_bus_server_ops) come from vCPU
 * threads; a close stops all ring access before it returns, because the
 * guest may reuse the pages as soon as it hears back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "hv/guest_ram.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_server.h"

/* Ring bounds (per direction, header page included) when a class gives none. */
#define VSP_RING_MIN_DEFAULT    (2u * 4096u)
#define VSP_RING_MAX_DEFAULT    (1u << 20)
/* Largest guest packet (descriptor included) when a class gives none. */
#define VSP_PACKET_MAX_DEFAULT  (16u * 1024u)

struct vsp_bus;
struct vsp_device;

/* One packet from the guest, copied out of the ring: stable while the
 * packet callback runs, and never changed by the guest meanwhile. */
struct vsp_packet {
	uint16_t type;               /* VMBUS_PKT_* */
	uint16_t flags;              /* VMBUS_PKT_FLAG_COMPLETION_REQUESTED */
	uint64_t trans_id;
	const uint8_t *data;         /* payload: from offset8 * 8 to the packet's end */
	size_t len;
	const uint8_t *raw;          /* the whole packet, descriptor first (GPA_DIRECT parsers) */
	size_t raw_len;
};

struct vsp_device_class {
	const char *name;            /* short, for logs and the control socket */
	struct vmbus_guid type;      /* the class id the guest driver binds to */
	uint16_t channel_flags;      /* VMBUS_CHANNEL_* of the offer */
	uint16_t mmio_megabytes;
	uint32_t pipe_mode;          /* with VMBUS_CHANNEL_NAMED_PIPE_MODE */
	/* Ring sizes accepted at open, per direction, header page included;
	 * 0: the defaults above. Another size fails the open. */
	uint32_t min_ring_bytes, max_ring_bytes;
	/* Largest guest packet taken; larger ones are dropped and counted.
	 * 0: VSP_PACKET_MAX_DEFAULT. */
	uint32_t max_packet;

	/* The guest opened the channel: its rings are ready. A failure is
	 * logged and the channel stays open but unused. May be NULL. */
	int (*open)(struct vsp_device *dev);
	/* A packet from the guest. */
	void (*packet)(struct vsp_device *dev, const struct vsp_packet *pkt);
	/* The host->guest ring has room again after vsp_device_send said
	 * -EAGAIN. May be NULL. */
	void (*writable)(struct vsp_device *dev);
	/* The channel closed (guest close, reset, unload): the rings are gone
	 * already. Called once for every open that was called. May be NULL. */
	void (*close)(struct vsp_device *dev);

	/*
	 * Saved state (saved_state.h, vsp_bus_save). save: the device's own
	 * state, called with the bus frozen (vsp_bus_freeze: no callback runs
	 * meanwhile) from any thread. restore: that state, into the device of
	 * a new machine, with its bus frozen, instead of open: the channel is
	 * as it was (vsp_device_is_open says whether it is open, its rings are
	 * mapped), nothing is sent or renegotiated. The state is hostile: every
	 * value checked; 0, or -EINVAL with error set ("NAME: what"). Both
	 * NULL: the device keeps nothing worth saving.
	 */
	GVariant *(*save)(struct vsp_device *dev);
	int (*restore)(struct vsp_device *dev, GVariant *state, GError **error);
};

/* What the bus needs from the partition. */
struct vsp_bus_host {
	struct vmbus_server *server;
	const struct guest_ram *ram;
	/* Set event flag `relid` in SINT2 of VP `vp` and interrupt it. */
	int (*signal_guest)(void *opaque, unsigned vp, uint32_t relid);
	/* Make a guest HvSignalEvent on conn_id increment eventfd `fd` without
	 * leaving the kernel. NULL, or a negative errno: the signal arrives
	 * through channel_signal instead (still works, costs an exit). */
	int (*watch_signal)(void *opaque, uint32_t conn_id, int fd);
	void (*unwatch_signal)(void *opaque, uint32_t conn_id, int fd);
	/* The partition's reference time (TIME_REF_COUNT, 100 ns units). */
	uint64_t (*reference_time)(void *opaque);
	/* Optional: every packet each way, whole (descriptor first), for
	 * recording test fixtures. from_guest tells the direction. */
	void (*trace_packet)(void *opaque, const char *device, uint32_t relid, bool from_guest,
			     const void *data, size_t len);
	void *opaque;
};

/* Starts the bus thread. NULL with errno set (EINVAL: no server, ram or
 * signal_guest). */
struct vsp_bus *vsp_bus_new(const struct vsp_bus_host *host);
/*
 * Teardown: vsp_bus_stop ends the thread (open devices get their close
 * there), so nothing signals the guest any more; then free the VMBus server
 * (it closes and removes the channels through vsp_bus_server_ops, which
 * works without the thread); then vsp_bus_free (which stops the thread
 * itself if still needed) frees the devices.
 */
void vsp_bus_stop(struct vsp_bus *bus);
void vsp_bus_free(struct vsp_bus *bus);

/* The VMBus server's channel callbacks, with the bus as their opaque. Every
 * channel of the server must belong to the bus (post_to_guest is not here). */
extern const struct vmbus_server_ops vsp_bus_server_ops;

GMainContext *vsp_bus_context(struct vsp_bus *bus);
/* Run fn(data) on the bus thread (at once when called there). */
void vsp_bus_invoke(struct vsp_bus *bus, GSourceFunc fn, void *data);
/* The partition's reference time, for devices. */
uint64_t vsp_bus_reference_time(struct vsp_bus *bus);

/*
 * Offer a device: a channel of class cls with this instance id; priv is the
 * device's own state (vsp_device_priv). From any thread. 0 and *out, or the
 * server's errors (vmbus_server_add_channel), -ENOMEM.
 */
int vsp_bus_add(struct vsp_bus *bus, const struct vsp_device_class *cls,
		const struct vmbus_guid *instance, void *priv, struct vsp_device **out);

/* Find a device by its class name (the first one), or NULL. Any thread. */
struct vsp_device *vsp_bus_find(struct vsp_bus *bus, const char *name);

void *vsp_device_priv(const struct vsp_device *dev);
const struct vsp_device_class *vsp_device_class(const struct vsp_device *dev);
struct vsp_bus *vsp_device_bus(const struct vsp_device *dev);
/* Bus thread: the channel is open and its rings mapped. */
bool vsp_device_is_open(const struct vsp_device *dev);

/*
 * Bus thread: write one packet to the guest and signal it when it may be
 * waiting. 0; -EAGAIN when the ring is full (class->writable is called once
 * there is room); -EPIPE when the channel is not open; -EINVAL for a packet
 * the ring can never hold; -EPROTO when the guest broke the ring indices.
 */
int vsp_device_send(struct vsp_device *dev, uint16_t type, uint16_t flags, uint64_t trans_id,
		    const void *data, size_t len);

struct vsp_device_stats {
	uint64_t opens;
	uint64_t packets_in, packets_out;
	uint64_t bad_packets;        /* dropped: too large for the class, or broken indices */
	uint64_t signals_kernel;     /* guest signals that stayed in the kernel (ioeventfd) */
	uint64_t signals_exit;       /* guest signals that cost a userspace exit */
	uint64_t signals_out;        /* host->guest interrupts */
	bool open;
	bool signal_in_kernel;       /* the current open routes signals through KVM_IOEVENTFD */
	uint32_t relid;
	uint32_t ring_bytes_in, ring_bytes_out;
};
/* Any thread. */
void vsp_device_get_stats(const struct vsp_device *dev, struct vsp_device_stats *out);

/*
 * Freeze: the bus thread waits inside a callback of its own until thaw, so
 * no device callback or timer runs and nothing touches the rings; the
 * device state may then be read or written from another thread. Returns
 * once the thread waits. Not from the bus thread. vsp_bus_stop thaws.
 */
void vsp_bus_freeze(struct vsp_bus *bus);
void vsp_bus_thaw(struct vsp_bus *bus);

/*
 * Saved state of the bus and its devices, frozen: per device, in the order
 * they were added, its class name, relid, whether the channel is open for
 * the device, whether that open is the guest's current one, whether it is
 * open for the guest (an open or close the device had not caught up with
 * is finished after a restore), whether the guest broke its ring, whether
 * a send waits for room, and the device's own state (class->save).
 */
#define VSP_BUS_STATE_TYPE "a(subbbbbv)"
GVariant *vsp_bus_save(struct vsp_bus *bus);
/*
 * Into the bus of a new machine with the same devices added in the same
 * order, after vmbus_server_restore and frozen: the open channels' rings
 * are mapped again from their GPADLs (and their guest signals watched),
 * each device gets its state (class->restore), and each is woken, so that
 * what the guest left in its ring is read once the bus thaws. -EINVAL with
 * error set when the devices differ or a state is refused.
 */
int vsp_bus_restore(struct vsp_bus *bus, GVariant *v, GError **error);
