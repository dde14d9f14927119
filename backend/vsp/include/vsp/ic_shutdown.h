/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shutdown integration service: the host asks the guest to power off or
 * reboot cleanly; hv_utils answers and runs the guest's orderly power-off,
 * which ends in ACPI S5 like any other shutdown.
 */
#pragma once

#include <stdint.h>

#include "vsp/ic.h"

#define IC_SHUTDOWN_CLASS \
	VMBUS_GUID_INIT(0x0e0b6031, 0x5213, 0x4934, 0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb)

enum ic_shutdown_kind {
	IC_SHUTDOWN_POWEROFF,
	IC_SHUTDOWN_REBOOT,
};

struct ic_shutdown;

struct ic_shutdown_state {
	enum ic_state state;
	uint64_t requests;           /* sent to the guest */
	uint64_t answers;            /* answered by it */
	uint32_t last_status;        /* of the last answer: IC_S_OK, or why it refused */
	uint64_t bad;
};

struct ic_shutdown *ic_shutdown_add(struct vsp_bus *bus, const struct vmbus_guid *instance);
/*
 * Any thread: ask the guest to shut down. 0 when the request went out;
 * -ENOTCONN when the service is not ready (no hv_utils in the guest, or not
 * yet); other vsp_device_send errors. Waits for the bus thread, not the guest.
 */
int ic_shutdown_request(struct ic_shutdown *sd, enum ic_shutdown_kind kind, const char *why);
void ic_shutdown_get(struct ic_shutdown *sd, struct ic_shutdown_state *out);
void ic_shutdown_free(struct ic_shutdown *sd);
