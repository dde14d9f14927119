/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMBus devices of one boot of a Hyper-V machine: the VSP bus and the
 * integration services on it, and their control-socket commands.
 */
#pragma once

#include <glib.h>

#include "hv/partition.h"
#include "vsp/display.h"
#include "vmbus_input.h"

struct vmbus_devices;
struct hyperv_video_pci;

/* The VM's settings for its VMBus devices (NULL or zeroes: defaults). */
struct vmbus_devices_config {
	uint32_t video_width, video_height;   /* the synthetic video's default mode */
	uint32_t video_vram_mb;               /* its VRAM (SYNTHVID_VRAM_MB_DEFAULT) */
	struct hyperv_video_pci *video_pci;   /* for the video command's report, or NULL */
};

/* Offers every device on p's VMBus; call before the vCPUs start, on the
 * display's consumer context (the worker's main thread). The video device
 * draws on display (which outlives this boot). */
struct vmbus_devices *vmbus_devices_create(struct partition *p, struct display *display,
					   const struct vmbus_devices_config *cfg, GError **error);
/* Stop signalling the guest: before partition_destroy. */
void vmbus_devices_stop(struct vmbus_devices *d);
/* After partition_destroy. */
void vmbus_devices_free(struct vmbus_devices *d);

/* The synthetic keyboard and mouse, from any thread (synth_kbd.h,
 * synth_mouse.h): 0, -EINVAL for a key it lacks or a bad position,
 * -ENOTCONN while the guest's driver is not connected, -ENOBUFS. */
int vmbus_devices_key(struct vmbus_devices *d, uint16_t evdev, bool down);
/* x, y in 0..INPUT_ABS_MAX; wheel steps positive up / right. */
int vmbus_devices_pointer_abs(struct vmbus_devices *d, uint16_t x, uint16_t y, uint32_t buttons, int32_t wheel,
			      int32_t hwheel);
/* Let go of every key held (a viewer went away). */
void vmbus_devices_release_keys(struct vmbus_devices *d);

/* A control command for the devices ("heartbeat", "shutdown", "vmbus",
 * "timesync", "kvp", "video", "screenshot"): the reply, or NULL when it is
 * not one of theirs. */
char *vmbus_devices_control(struct vmbus_devices *d, const char *command);
/* The commands, for help. */
#define VMBUS_DEVICES_COMMANDS "heartbeat shutdown [reboot] timesync kvp [get|set|delete|list] vmbus" \
	" video screenshot PATH " VMBUS_INPUT_COMMANDS

/* Saved state (machine_state.h): freeze stops the devices' thread (nothing
 * touches the guest's rings or VSP state until thaw), save and restore go
 * through the VSP bus (vsp_bus_save), video gives the device whose VRAM
 * is saved beside. */
struct synthvid;
void vmbus_devices_freeze(struct vmbus_devices *d);
void vmbus_devices_thaw(struct vmbus_devices *d);
GVariant *vmbus_devices_save(struct vmbus_devices *d);
int vmbus_devices_restore(struct vmbus_devices *d, GVariant *v, GError **error);
struct synthvid *vmbus_devices_video(struct vmbus_devices *d);
