/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine's saved state: the folder the worker's `save DIR` writes and
 * `--restore DIR` reads back.
 *
 *   DIR/ram    guest RAM, as big as the guest's memory, zero pages as holes
 *              (hv/ram_image.h)
 *   DIR/vram   the synthetic video's VRAM, the same way (Hyper-V machines)
 *   DIR/state  everything else: one GVariant (hv/saved_state.h) with a
 *              component per part of the machine ("config", "kvm", "hyperv",
 *              "synic", "vmbus", "vsp", "uart", "rtc", "i8042", "acpi-pm",
 *              "pci"), written last: a folder without it is no saved state.
 *
 * The guest goes on exactly where it was; only its clocks stood still
 * while it was saved (time sync steps its wall clock after the restore).
 */
#pragma once

#include <glib.h>

#include "machine.h"

#define MACHINE_STATE_FILE "state"
#define MACHINE_STATE_RAM  "ram"
#define MACHINE_STATE_VRAM "vram"
/* (memory, vCPUs, interface, video width, height, VRAM MiB) */
#define MACHINE_STATE_CONFIG_TYPE "(tuuuuu)"

struct machine_save_stats {
	uint64_t ram_bytes;          /* guest RAM */
	uint64_t data_bytes;         /* written of RAM and VRAM: the rest were zero pages */
	uint64_t ms;                 /* how long it took */
};

/*
 * Save m into dir (made 0700; an existing folder must be empty) with its
 * vCPUs paused by the caller: its VMBus devices are frozen meanwhile. On
 * success they stay frozen (the machine must not go on: it is saved); on
 * failure they run again, what was written is removed, and error says
 * what failed. keep: the devices that outlive the boot (the RTC).
 */
int machine_save(struct machine *m, const struct machine_config *cfg, const char *dir,
		 struct machine_save_stats *stats, GError **error);

/*
 * DIR/state read and checked against cfg (memory, vCPUs, interface,
 * resolution, VRAM): the components (a new reference), or NULL and an
 * error naming the file and the mismatch.
 */
GVariant *machine_state_load(const char *dir, const struct machine_config *cfg, GError **error);

/*
 * Put a new machine, whose devices are added but whose vCPUs have not
 * run, back in the saved state: RAM and VRAM from their files, then every
 * component. 0, or -errno with error naming the file and what is wrong.
 */
int machine_restore(struct machine *m, const struct machine_config *cfg, GVariant *components, const char *dir,
		    GError **error);
