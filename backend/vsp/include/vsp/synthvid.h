/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The synthetic video device (the VSP that Linux's hyperv_fb binds to):
 * version negotiation, the resolution list, VRAM placement, modes, dirty
 * rectangles and the pointer, feeding a struct display.
 *
 * VRAM is one memfd of the offer's mmio_megabytes, made once per device.
 * When the guest puts VRAM in the VMBus MMIO window (the usual case), the
 * host maps that memfd there (synthvid_host.map_vram: a KVM memslot), so the
 * guest draws straight into the pixels the display shares with its sinks.
 * When the guest puts it in its own RAM (hyperv_fb does with enough
 * contiguous memory, e.g. with cma=), the device copies each dirty
 * rectangle from guest RAM into the memfd. Either way the display only ever
 * sees the memfd. Anything else is refused: the VRAM ack then carries a
 * user_ctx that is not the guest's, and hyperv_fb gives up its probe at
 * once instead of waiting.
 *
 * The modes offered are the table's that fit the VRAM (w * h * 4 bytes),
 * with the configured one as the default; hyperv_fb takes the default at
 * probe time and keeps it (there is no host-initiated mode change in Linux
 * 6.1).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/guest_ram.h"
#include "vsp/display.h"
#include "vsp/synthvid_msg.h"
#include "vsp/vsp.h"

#define SYNTHVID_CLASS \
	VMBUS_GUID_INIT(0xda0a7802, 0xe377, 0x4aac, 0x8e, 0x77, 0x05, 0x58, 0xeb, 0x10, 0x73, 0xf8)

/* VRAM (offer.mmio_megabytes): 16 MiB hold every mode up to 2560x1600. */
#define SYNTHVID_VRAM_MB_DEFAULT   16u
/* 1024x768 needs 3 MiB; hyperv_fb handles at most 8K (127 MiB). */
#define SYNTHVID_VRAM_MB_MIN       4u
#define SYNTHVID_VRAM_MB_MAX       128u
#define SYNTHVID_DEFAULT_WIDTH     1024u
#define SYNTHVID_DEFAULT_HEIGHT    768u
/* Host messages held while the guest does not read its ring; more are dropped. */
#define SYNTHVID_TX_QUEUE_MAX      16u
/* Memslots and the RAM copy work on whole pages. */
#define SYNTHVID_PAGE_SIZE         4096u

/* Every mode the device knows, smallest first. */
extern const struct synthvid_mode synthvid_modes[];
extern const size_t synthvid_n_modes;
/* The modes that fit vram_mb MiB, into out (room for SYNTHVID_RESOLUTIONS_MAX): their number. */
size_t synthvid_modes_offered(uint32_t vram_mb, struct synthvid_mode *out);
/* The index of w x h in list, or -ENOENT. */
int synthvid_mode_index(const struct synthvid_mode *list, size_t n, uint32_t w, uint32_t h);

enum synthvid_vram_kind {
	SYNTHVID_VRAM_NONE = 0,
	SYNTHVID_VRAM_MMIO,          /* our memfd, mapped into the VMBus window */
	SYNTHVID_VRAM_RAM,           /* guest RAM, copied into our memfd on damage */
};
const char *synthvid_vram_kind_name(enum synthvid_vram_kind k);

/*
 * Where `size` bytes of VRAM at gpa would live: SYNTHVID_VRAM_MMIO when the
 * whole range lies in [win_start, win_end) and touches no RAM,
 * SYNTHVID_VRAM_RAM when it lies in one RAM region; -EINVAL when gpa or
 * size is not page-aligned, size is 0, or the range is anywhere else
 * (partly RAM, partly the window, or outside both).
 */
int synthvid_vram_classify(const struct guest_ram *ram, uint64_t win_start, uint64_t win_end, uint64_t gpa,
			   uint64_t size);

/* What the device needs from the partition; called on the bus thread. */
struct synthvid_host {
	/* Back [gpa, gpa + size) with the first size bytes of memfd, as
	 * guest memory: 0 or -errno (the location is then refused). */
	int (*map_vram)(void *opaque, uint64_t gpa, int memfd, uint64_t size);
	void (*unmap_vram)(void *opaque, uint64_t gpa, uint64_t size);
	void *opaque;
};

struct synthvid_config {
	uint32_t width, height;      /* the default mode; 0 x 0: SYNTHVID_DEFAULT_* */
	uint32_t vram_mb;            /* 0: SYNTHVID_VRAM_MB_DEFAULT */
	uint64_t window_start, window_end;   /* the VMBus MMIO window (ACPI _CRS) */
	const struct guest_ram *ram;
	struct display *display;
	struct synthvid_host host;
};

enum synthvid_phase {
	SYNTHVID_CLOSED = 0,         /* the guest has not opened the channel */
	SYNTHVID_NEGOTIATING,        /* open, no version agreed yet */
	SYNTHVID_NEGOTIATED,         /* a version, no VRAM yet */
	SYNTHVID_VRAM,               /* VRAM placed, no (active) mode yet */
	SYNTHVID_RUNNING,            /* a mode: the display has the surface */
};
const char *synthvid_phase_name(enum synthvid_phase p);

struct synthvid_state {
	enum synthvid_phase phase;
	uint32_t version;            /* agreed, 0 when none */
	uint32_t width, height;      /* the default mode offered */
	uint32_t vram_mb;
	enum synthvid_vram_kind vram_kind;
	uint64_t vram_gpa;
	uint32_t surface_width, surface_height, surface_stride;   /* RUNNING */
	struct display_rect last_dirt;   /* the bounding box of the last DIRT taken */
	uint64_t opens;
	uint64_t situations;         /* modes taken */
	uint64_t dirt, dirt_rects;   /* DIRT messages and rectangles taken */
	uint64_t pointer, shapes;    /* pointer positions and shapes taken */
	uint64_t vram_refused;       /* VRAM locations refused */
	uint64_t unsupported;        /* well-formed messages we do not act on */
	uint64_t bad;                /* malformed, out of place or out of range: dropped */
	uint64_t tx_dropped;         /* host messages dropped: the guest did not read */
};

/* Offers the device on bus. NULL with errno: EINVAL for a mode that is not
 * offered with this VRAM, a VRAM size out of range or larger than the
 * window, no display, ram or map_vram, or an empty window; else what
 * memfd_create, mmap or vsp_bus_add said. */
struct synthvid *synthvid_add(struct vsp_bus *bus, const struct vmbus_guid *instance,
			      const struct synthvid_config *cfg);
/* After the bus is gone (vsp_bus_free). */
void synthvid_free(struct synthvid *sv);
/* Any thread. */
void synthvid_get_state(struct synthvid *sv, struct synthvid_state *out);

/* The device's VRAM: its memfd and the device's read-write mapping of it,
 * size bytes (a saved state keeps the pixels in a file of their own). */
void synthvid_get_vram(struct synthvid *sv, int *memfd, uint8_t **pixels, uint64_t *size);
