/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One picture of the guest's screen through the emulated host, for the
 * control command "screenshot PATH" that vireo-emuhost answers on this
 * host (the worker inside would write PATH inside L1). It is a console
 * viewer of its own on a channel of the mux (protocols/console-protocol.md):
 * HELLO with inline pixels, then the worker's handshake: SURFACE (or
 * NO_SURFACE: no picture yet), the PIXELS of the whole surface and the
 * DAMAGE that lists them. The first DAMAGE after the SURFACE that names
 * the whole surface completes the picture (the worker's first frame for a
 * surface always does).
 *
 * The worker's stream comes out of L1 and is hostile: a SURFACE larger
 * than EMUHOST_SHOT_SURFACE_MAX or one that claims an fd fails the
 * picture; PIXELS outside the surface and messages that do not decode are
 * counted and dropped; a stream that breaks the framing, or a worker whose
 * major version is not ours, fails the picture.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "emuhost_buf.h"

/* The largest picture taken: the synthetic video's largest VRAM. */
#define EMUHOST_SHOT_SURFACE_MAX (64u * 1024u * 1024u)

enum emuhost_shot_state {
	EMUHOST_SHOT_WAITING,     /* still reading */
	EMUHOST_SHOT_DONE,        /* pixels hold the picture */
	EMUHOST_SHOT_NO_PICTURE,  /* the worker has no surface */
	EMUHOST_SHOT_FAILED,      /* error says why */
};

struct emuhost_shot {
	enum emuhost_shot_state state;
	/* FAILED: -EPROTO (the stream broke, or a SURFACE with an fd),
	 * -EPROTONOSUPPORT (version), -EFBIG (a surface beyond the limit), -ECONNREFUSED
	 * (the worker sent ERROR: busy), -ENOMEM */
	int error;
	struct emuhost_buf to_worker;    /* our HELLO */
	struct console_reader reader;
	bool hello_seen;
	uint8_t *pixels;             /* width * height * 4 bytes, XRGB8888, rows width * 4 apart */
	uint32_t width, height;
	uint64_t bad;                /* messages dropped */
};

/* Ready, with the HELLO to send in to_worker: 0, or -ENOMEM. */
int emuhost_shot_init(struct emuhost_shot *s);
void emuhost_shot_clear(struct emuhost_shot *s);

/* The worker's bytes, all taken (once the state is no longer WAITING
 * they are dropped): the state. */
enum emuhost_shot_state emuhost_shot_from_worker(struct emuhost_shot *s, const uint8_t *data, size_t len);
