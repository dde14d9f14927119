/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Linux 6.1 guest for the VSP tests, without /dev/kvm: real guest RAM (a
 * memfd), a real VMBus server and a real VSP bus with its thread, and the
 * guest's half played here from the protocol (drivers/hv/connection.c,
 * channel.c, ring_buffer.c): it connects, collects offers, puts its rings in
 * guest RAM on scattered pages, describes them with GPADL_HEADER/BODY, opens
 * the channel, writes packets the way hv_ringbuffer_write does and reads the
 * host's the way hv_pkt_iter_* does, signalling only when Linux would.
 *
 * Functions return negative errno (or a Hyper-V status where a hypercall
 * would) instead of asserting, so that the fuzz target can use them too.
 * Everything here runs on the caller's thread except the bus callbacks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "hv/guest_ram.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_ring.h"
#include "hv/vmbus_server.h"
#include "vsp/vsp.h"

#define VSP_GUEST_NVPS          2u
#define VSP_GUEST_MAX_OFFERS    32u
/* How long a test waits for the bus thread before it calls the run failed. */
#define VSP_GUEST_TIMEOUT_MS    5000u
/* hv_utils' rings: VMBUS_RING_SIZE(3 * 4096), a header page and three data pages. */
#define VSP_GUEST_UTIL_RING_PAGES 4u

struct vsp_guest_offer {
	struct vmbus_guid type, instance;
	uint32_t relid, conn_id;
	uint16_t chn_flags;
	uint32_t pipe_mode;          /* first word of user_def */
};

/* One direction of a channel's ring as the guest sees it. */
struct vsp_guest_ring {
	const uint64_t *pfns;        /* header page first, then the data pages */
	unsigned pages;
	uint32_t size;               /* data bytes */
};

struct vsp_guest;

struct vsp_guest_chan {
	struct vsp_guest *g;
	struct vsp_guest_offer offer;
	uint32_t gpadl;
	uint64_t *pfns;              /* the GPADL: guest->host ring, then host->guest */
	unsigned npfns;
	struct vsp_guest_ring out;   /* guest -> host (our sendring) */
	struct vsp_guest_ring in;    /* host -> guest */
	bool open;
	bool always_signal;          /* signal after every write, not only on empty -> non-empty */
	uint64_t signals;            /* HvSignalEvents made */
	uint64_t host_signals_seen;  /* vsp_guest_host_signals when last waited */
};

/* A new guest with a server and a bus (no devices yet: add them to ->bus). */
struct vsp_guest *vsp_guest_new(void);
/* The same with ram_bytes of guest RAM (e.g. a saved machine's size); its own
 * rings stay in the first LAYOUT_MIN_MEMORY. */
struct vsp_guest *vsp_guest_new_ram(uint64_t ram_bytes);
/* Stops the bus, frees server, bus and RAM. Devices' own structs after this. */
void vsp_guest_free(struct vsp_guest *g);

/* A new host on the same guest (tests of saved states): the bus and
 * server go as at a worker's exit, an empty new pair takes their place on
 * the same guest RAM; the guest's side (its offers, channels, rings) stays
 * as it is. Add the devices again, then restore the saved state into them.
 * 0 or -ENOMEM. */
int vsp_guest_new_host(struct vsp_guest *g);
struct vsp_bus *vsp_guest_bus(struct vsp_guest *g);
struct vmbus_server *vsp_guest_server(struct vsp_guest *g);
const struct guest_ram *vsp_guest_ram(struct vsp_guest *g);

/* INITIATE_CONTACT 5.3 on connection id 4, then REQUESTOFFERS: the number
 * of offers, -EPROTO when the server answered otherwise than Linux expects. */
int vsp_guest_connect(struct vsp_guest *g);
/* UNLOAD and its response: 0 or -EPROTO. */
int vsp_guest_unload(struct vsp_guest *g);
/* The offer of class `type` (the first), or NULL. Also picks up offers that
 * arrived after the connection. */
const struct vsp_guest_offer *vsp_guest_find(struct vsp_guest *g, const struct vmbus_guid *type);

/* A raw HvPostMessage on the guest's message connection: the hypercall status. */
unsigned vsp_guest_post(struct vsp_guest *g, const void *msg, size_t len);
/* The oldest host message of `type` not yet taken (removed from the inbox),
 * or NULL. Unref it. */
GBytes *vsp_guest_take_msg(struct vsp_guest *g, uint32_t type);
/* Host messages waiting in the inbox. */
unsigned vsp_guest_inbox_len(struct vsp_guest *g);

/*
 * Open a channel with rings of out_pages (guest -> host) and in_pages pages,
 * header pages included. 0 and *out on success; the OPENCHANNEL_RESULT
 * status as -EIO with *status set when the host refused (the GPADL is then
 * torn down again, as Linux does); -EPROTO when the protocol broke.
 */
int vsp_guest_open(struct vsp_guest *g, const struct vsp_guest_offer *o, unsigned out_pages,
		   unsigned in_pages, uint32_t *status, struct vsp_guest_chan **out);
/* CLOSECHANNEL only (the rings stay in guest RAM, the GPADL stays): 0 or the
 * hypercall status as -EIO. */
int vsp_guest_close(struct vsp_guest_chan *c);
/* Close if open, GPADL_TEARDOWN and wait for GPADL_TORNDOWN, free c. */
int vsp_guest_release(struct vsp_guest_chan *c);

/* The guest's HvSignalEvent for the channel: the hypercall status. */
unsigned vsp_guest_signal(struct vsp_guest_chan *c);
/* The ring headers in guest RAM (the guest may scribble on them). */
struct vmbus_ring_header *vsp_guest_out_hdr(struct vsp_guest_chan *c);
struct vmbus_ring_header *vsp_guest_in_hdr(struct vsp_guest_chan *c);

/*
 * Write one packet into the guest->host ring as hv_ringbuffer_write does
 * (descriptor with offset8 2, payload padded to 8, previous write index as
 * trailer) and signal when Linux would. 0, -EAGAIN when there is no room,
 * -EINVAL for a packet the ring can never hold.
 */
int vsp_guest_write(struct vsp_guest_chan *c, uint16_t type, uint16_t flags, uint64_t trans_id,
		    const void *data, size_t len);
/* The same with a caller-made descriptor (len8/offset8 as given: may lie). */
int vsp_guest_write_desc(struct vsp_guest_chan *c, const struct vmbus_packet_desc *d,
			 const void *data, size_t len);

/*
 * Read the next host packet (descriptor first) into buf, as
 * hv_pkt_iter_first/close do, signalling the host when it waits for room.
 * Its length, 0 when the ring is empty, -EMSGSIZE (left in place) or -EPROTO.
 */
long vsp_guest_read(struct vsp_guest_chan *c, void *buf, size_t size);
/* The same, waiting up to timeout_ms for a packet: -ETIMEDOUT. */
long vsp_guest_recv(struct vsp_guest_chan *c, void *buf, size_t size, unsigned timeout_ms);
/* Bytes waiting in the host->guest ring / left to the guest's writes. */
uint32_t vsp_guest_in_used(struct vsp_guest_chan *c);
uint32_t vsp_guest_out_used(struct vsp_guest_chan *c);

/* Host->guest interrupts the bus raised for relid so far. */
uint64_t vsp_guest_host_signals(struct vsp_guest *g, uint32_t relid);
/* Sleep until the bus signals the guest or 1 ms passed. */
void vsp_guest_nap(struct vsp_guest *g);
/* Run everything the bus thread has been asked to do so far (twice round
 * its loop), so that a guest signal given before this has been handled. */
void vsp_guest_bus_sync(struct vsp_guest *g);

/* Keep the bus thread busy (inside a callback of its own) until unhold, so
 * that what the guest does meanwhile reaches the devices all at once. */
void vsp_guest_bus_hold(struct vsp_guest *g);
void vsp_guest_bus_unhold(struct vsp_guest *g);

/* The partition reference time the bus reads: each read advances it by
 * `step`; the last value handed out. */
void vsp_guest_set_reference_time(struct vsp_guest *g, uint64_t start, uint64_t step);
uint64_t vsp_guest_last_reference_time(struct vsp_guest *g);
unsigned vsp_guest_reference_time_reads(struct vsp_guest *g);

/* Wait (napping) until cond holds or timeout_ms passed; the last value of cond. */
#define vsp_guest_wait_until(g, cond, timeout_ms) ({ \
	gint64 vsp_wait_end_ = g_get_monotonic_time() + (gint64)(timeout_ms) * 1000; \
	bool vsp_wait_ok_; \
	while (!(vsp_wait_ok_ = (cond)) && g_get_monotonic_time() < vsp_wait_end_) \
		vsp_guest_nap(g); \
	vsp_wait_ok_; \
})
