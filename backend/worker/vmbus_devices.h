/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMBus devices of one boot of a Hyper-V machine: the VSP bus and the
 * integration services on it, and their control-socket commands.
 */
#pragma once

#include <glib.h>

#include "hv/partition.h"
#include "vsp/display.h"

struct vmbus_devices;

/* Offers every device on p's VMBus; call before the vCPUs start. The
 * video device draws on display (which outlives this boot). */
struct vmbus_devices *vmbus_devices_create(struct partition *p, struct display *display, GError **error);
/* Stop signalling the guest: before partition_destroy. */
void vmbus_devices_stop(struct vmbus_devices *d);
/* After partition_destroy. */
void vmbus_devices_free(struct vmbus_devices *d);

/* A control command for the devices ("heartbeat", "shutdown", "vmbus",
 * "timesync", "kvp"): the reply, or NULL when it is not one of theirs. */
char *vmbus_devices_control(struct vmbus_devices *d, const char *command);
/* The commands, for help. */
#define VMBUS_DEVICES_COMMANDS "heartbeat shutdown [reboot] timesync kvp [get|set|delete|list] vmbus"
