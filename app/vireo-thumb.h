/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's screen, downscaled, from the worker's side of the console protocol
 * (protocols/console-protocol.md) with inline pixels: the manager's live
 * thumbnail. Pure: bytes in, a small picture out; no GTK, no I/O, so the
 * unit tests and the fuzz target feed it exactly what a worker could send.
 *
 * Every byte is hostile: the shared codec checks the framing and each body,
 * this file checks that pixels fall on the surface it announced. A bad
 * message is counted and dropped; only a broken framing, another major
 * version or an ERROR from the worker ends the session.
 *
 * The picture keeps only samples of the screen: VIREO_THUMB_SUPERSAMPLE ×
 * VIREO_THUMB_SUPERSAMPLE points per thumbnail pixel, averaged when it is
 * rendered. Memory stays bounded by the thumbnail's box, whatever the
 * guest's resolution.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"

/* The largest thumbnail: what the manager's list shows, with room for 2× screens. */
#define VIREO_THUMB_BOX_MAX_SIDE   512u
/* Sample points per thumbnail pixel along each axis. */
#define VIREO_THUMB_SUPERSAMPLE    2u
/* Our name in HELLO. */
#define VIREO_THUMB_PEER_NAME      "vireo thumbnail"

/* Why a session ended (vireo_thumb_feed's result). */
enum vireo_thumb_end {
	VIREO_THUMB_END_FRAMING = 1,   /* the worker broke the framing */
	VIREO_THUMB_END_VERSION,       /* it speaks another major version */
	VIREO_THUMB_END_ERROR,         /* it sent ERROR (code and text kept) */
	VIREO_THUMB_END_NOMEM,
};

struct vireo_thumb {
	struct console_reader reader;
	uint32_t box_w, box_h;         /* the thumbnail fits in this box */
	bool hello;                    /* the worker's HELLO arrived */
	uint32_t caps;                 /* the session's capabilities */

	uint32_t src_w, src_h;         /* the surface; 0 when there is none */
	uint32_t w, h;                 /* the thumbnail */
	uint32_t sw, sh;               /* the sample grid: w, h × SUPERSAMPLE */
	uint32_t *col_src, *row_src;   /* surface column / row of each sample column / row */
	uint8_t *samples;              /* sw × sh × 4 bytes, B G R X */
	uint8_t *pixels;               /* w × h × 4 bytes, B G R A (opaque), from vireo_thumb_render */

	bool dirty;                    /* the picture changed since the last render */
	bool ack_due;                  /* a DAMAGE awaits its FRAME_DONE */
	uint32_t ack_frame;
	uint32_t vm_state;             /* enum console_vm_state, 0 before the first */

	uint32_t error_code;           /* the worker's ERROR */
	char error_text[CONSOLE_TEXT_MAX + 1];

	/* counters */
	uint64_t msgs, bad, surfaces, damages, pixel_msgs, shared_refused;
};

/* An empty thumbnail that fits in box_w × box_h (1..VIREO_THUMB_BOX_MAX_SIDE). */
int vireo_thumb_init(struct vireo_thumb *t, uint32_t box_w, uint32_t box_h);
void vireo_thumb_clear(struct vireo_thumb *t);

/*
 * Bytes from the worker. 0 when the session goes on; a positive enum
 * vireo_thumb_end when it must be closed (the state stays readable).
 */
int vireo_thumb_feed(struct vireo_thumb *t, const uint8_t *data, size_t len);

/* Our HELLO (inline pixels, frame acks) into buf: its size, or negative errno. */
long vireo_thumb_hello(uint8_t *buf, size_t size);

/*
 * FRAME_DONE for the latest DAMAGE, when one is due: its size (and the ack
 * is no longer due), 0 when nothing is due, or negative errno. The caller
 * sends it once it has shown the picture: the worker then merges damage
 * meanwhile, so a thumbnail that renders seldom costs the worker little.
 */
long vireo_thumb_take_ack(struct vireo_thumb *t, uint8_t *buf, size_t size);

/*
 * The picture: w × h pixels of 4 bytes (B, G, R, A = 255), rows w × 4
 * bytes apart; NULL when there is no surface. Clears dirty.
 */
const uint8_t *vireo_thumb_render(struct vireo_thumb *t, uint32_t *w, uint32_t *h);

/* The thumbnail size for a src_w × src_h screen in a box_w × box_h box. */
void vireo_thumb_fit(uint32_t src_w, uint32_t src_h, uint32_t box_w, uint32_t box_h, uint32_t *w, uint32_t *h);
