/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM through vireod (protocols/org.vireo.Vireo1.xml, session bus): found
 * by name or UUID, its State, StateReason, Name, ConsoleSocket and
 * EmulatedHost watched (PropertiesChanged, no polling), its power actions
 * called. All D-Bus work runs on the io thread (connect-io.h); what
 * changes reaches the window thread as CONNECT_EVENT_VIREOD snapshots,
 * call failures as CONNECT_EVENT_NOTICE, a VM that does not exist as
 * CONNECT_EVENT_FATAL.
 */
#pragma once

#include <stdbool.h>

#include "connect-io.h"
#include "connect-toolbar.h"

#define CONNECT_VIREOD_BUS_NAME "org.vireo.Vireo1"
#define CONNECT_VIREOD_PATH "/org/vireo/Vireo1"
#define CONNECT_VIREOD_RETRY_MS 2000        /* after vireod failed to answer */
#define CONNECT_VIREOD_CALL_TIMEOUT_MS (120 * 1000)  /* starting and stopping wait for the guest */
#define CONNECT_VIREOD_VM_MAX 256           /* bytes of a VM name or UUID */

struct connect_vireod_info {
	bool up;               /* vireod answers and has the VM */
	char *id, *name, *state, *reason, *console_socket;
	bool emulated;         /* EmulatedHost: the worker runs inside an emulated host */
};

void connect_vireod_info_free(struct connect_vireod_info *info);

struct connect_vireod;

/* Starts looking for vm (a name or an ID) on the io thread. NULL when vm
 * is empty or longer than CONNECT_VIREOD_VM_MAX. */
struct connect_vireod *connect_vireod_new(struct connect_io *io, const char *vm);
void connect_vireod_free(struct connect_vireod *v);

/* Window thread: one of the power actions (CONNECT_ACTION_START ...
 * CONNECT_ACTION_SAVE; PAUSE resumes a paused VM). */
void connect_vireod_request(struct connect_vireod *v, enum connect_action action);
