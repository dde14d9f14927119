/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's lifecycle, as Hyper-V's VMMS has it: the states, the actions a
 * person or program asks for, and which action each state allows
 * (protocols/org.vireo.Vireo1.xml documents the same table). Pure: the
 * service asks vm_state_allows before it does anything, so a refused
 * request changes nothing.
 */
#pragma once

#include <stdbool.h>

enum vm_state {
	VM_OFF,
	VM_STARTING,
	VM_RUNNING,
	VM_PAUSED,
	VM_SAVING,
	VM_SAVED,
	VM_STOPPING,
	VM_FAILED,               /* could not start, or the worker ended unexpectedly */
	VM_STATE_COUNT,
};

enum vm_action {
	VM_ACT_START,
	VM_ACT_SHUT_DOWN,
	VM_ACT_TURN_OFF,
	VM_ACT_PAUSE,
	VM_ACT_RESUME,
	VM_ACT_RESET,
	VM_ACT_SAVE,
	VM_ACT_DELETE_SAVED_STATE,
	VM_ACT_DELETE,
	VM_ACT_CONFIGURE,        /* anything but the name */
	VM_ACT_RENAME,
	VM_ACT_SCREENSHOT,
	VM_ACTION_COUNT,
};

/* The names on D-Bus and in vireoctl: "Off", "Running", ... */
const char *vm_state_name(enum vm_state s);
/* -1 for an unknown name. */
int vm_state_from_name(const char *name);
/* Hyper-V's words for the action: "Start", "Shut Down", "Turn Off", ... */
const char *vm_action_name(enum vm_action a);

bool vm_state_allows(enum vm_state s, enum vm_action a);
/* A worker process exists in this state. */
bool vm_state_has_worker(enum vm_state s);
