/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A console connection through the emulated host (vireo-emuhost). A memfd
 * cannot cross QEMU, so the inner worker always serves the connection with
 * pixels inline: the viewer's HELLO gets CONSOLE_CAP_INLINE_PIXELS added on
 * its way in. A viewer that asked for inline pixels itself gets the
 * worker's stream as it is. For one that did not (it expects the shared
 * transport), the bridge keeps the surface in a memfd of its own on this
 * host: SURFACE goes out with that memfd (read-only), PIXELS are written
 * into it and not forwarded, DAMAGE follows them as before. Viewers on
 * this host work unchanged either way.
 *
 * The worker's side of the stream comes out of L1 and is hostile: frames
 * are split with the shared codec (protocols/console.h), a SURFACE beyond
 * EMUHOST_BRIDGE_SURFACE_MAX or PIXELS outside the surface are counted and
 * dropped; a stream that breaks the framing ends the connection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "emuhost_buf.h"

/* The largest surface the bridge maps: the synthetic video's largest VRAM. */
#define EMUHOST_BRIDGE_SURFACE_MAX (64u * 1024u * 1024u)
/* The bridge takes no more from the worker while this much waits for the viewer. */
#define EMUHOST_BRIDGE_OUT_MAX     (256u * 1024u)
/* fds waiting to go out with their SURFACE: beyond it the worker waits too. */
#define EMUHOST_BRIDGE_FDS_MAX     4u
/* The viewer's first frame is at most a HELLO. */
#define EMUHOST_BRIDGE_HELLO_MAX   (CONSOLE_HEADER_SIZE + sizeof(struct console_wire_hello) + CONSOLE_NAME_MAX)

struct emuhost_bridge_stats {
	uint64_t surfaces;        /* memfds made */
	uint64_t pixels;          /* PIXELS written into them */
	uint64_t bad;             /* dropped: out of the surface, too big, undecodable */
};

struct emuhost_bridge {
	/* viewer -> worker */
	bool hello_seen;          /* its first frame went on */
	bool reshare;             /* the viewer expects shared memory: we make it */
	uint8_t hello[EMUHOST_BRIDGE_HELLO_MAX];
	size_t hello_len;
	struct emuhost_buf to_worker;
	/* worker -> viewer */
	bool worker_hello_seen;
	struct emuhost_buf frame;  /* one frame of the worker's, being completed */
	struct emuhost_buf to_viewer;
	struct { int fd; size_t at; } fds[EMUHOST_BRIDGE_FDS_MAX];   /* at: offset in to_viewer */
	unsigned nfds;
	/* the surface (reshare) */
	int memfd;
	uint8_t *map;
	size_t map_len;
	uint32_t width, height, stride;
	int error;                /* the connection is to be closed */
	struct emuhost_bridge_stats stats;
};

void emuhost_bridge_init(struct emuhost_bridge *b);
void emuhost_bridge_clear(struct emuhost_bridge *b);

/* Bytes the viewer sent: all taken (into to_worker), or a negative errno. */
int emuhost_bridge_from_viewer(struct emuhost_bridge *b, const uint8_t *data, size_t len);

/* Bytes the worker sent: how many were taken (the rest waits for the
 * viewer to read, or for its HELLO); negative when the stream broke. */
long emuhost_bridge_from_worker(struct emuhost_bridge *b, const uint8_t *data, size_t len);

/*
 * What goes to the viewer next: *len bytes of to_viewer from its start,
 * and *fd (or -1) to pass with the first of them. Then emuhost_bridge_sent
 * with what went out (the fd goes with the first byte sent).
 */
void emuhost_bridge_next(const struct emuhost_bridge *b, size_t *len, int *fd);
void emuhost_bridge_sent(struct emuhost_bridge *b, size_t n);
