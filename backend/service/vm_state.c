// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "vm_state.h"

static const char *const state_names[VM_STATE_COUNT] = {
	[VM_OFF] = "Off",
	[VM_STARTING] = "Starting",
	[VM_RUNNING] = "Running",
	[VM_PAUSED] = "Paused",
	[VM_SAVING] = "Saving",
	[VM_SAVED] = "Saved",
	[VM_STOPPING] = "Stopping",
	[VM_FAILED] = "Failed",
};

static const char *const action_names[VM_ACTION_COUNT] = {
	[VM_ACT_START] = "Start",
	[VM_ACT_SHUT_DOWN] = "Shut Down",
	[VM_ACT_TURN_OFF] = "Turn Off",
	[VM_ACT_PAUSE] = "Pause",
	[VM_ACT_RESUME] = "Resume",
	[VM_ACT_RESET] = "Reset",
	[VM_ACT_SAVE] = "Save",
	[VM_ACT_DELETE_SAVED_STATE] = "Delete Saved State",
	[VM_ACT_DELETE] = "Delete",
	[VM_ACT_CONFIGURE] = "Configure",
	[VM_ACT_RENAME] = "Rename",
	[VM_ACT_SCREENSHOT] = "Screenshot",
};

#define A(x) (1u << (x))

/* The table of org.vireo.Vireo1.xml. Renaming is allowed everywhere: it
 * touches only the configuration file. */
static const unsigned allowed[VM_STATE_COUNT] = {
	[VM_OFF] = A(VM_ACT_START) | A(VM_ACT_CONFIGURE) | A(VM_ACT_DELETE) | A(VM_ACT_RENAME),
	[VM_STARTING] = A(VM_ACT_TURN_OFF) | A(VM_ACT_RENAME),
	[VM_RUNNING] = A(VM_ACT_SHUT_DOWN) | A(VM_ACT_TURN_OFF) | A(VM_ACT_PAUSE) | A(VM_ACT_RESET) |
		       A(VM_ACT_SAVE) | A(VM_ACT_RENAME) | A(VM_ACT_SCREENSHOT),
	[VM_PAUSED] = A(VM_ACT_RESUME) | A(VM_ACT_TURN_OFF) | A(VM_ACT_SAVE) | A(VM_ACT_RENAME) |
		      A(VM_ACT_SCREENSHOT),
	[VM_SAVING] = A(VM_ACT_RENAME),
	[VM_SAVED] = A(VM_ACT_START) | A(VM_ACT_DELETE_SAVED_STATE) | A(VM_ACT_DELETE) | A(VM_ACT_RENAME),
	[VM_STOPPING] = A(VM_ACT_TURN_OFF) | A(VM_ACT_RENAME) | A(VM_ACT_SCREENSHOT),
	/* A restore that failed keeps the saved state: it may be given up. */
	[VM_FAILED] = A(VM_ACT_START) | A(VM_ACT_CONFIGURE) | A(VM_ACT_DELETE) | A(VM_ACT_RENAME) |
		      A(VM_ACT_DELETE_SAVED_STATE),
};

const char *vm_state_name(enum vm_state s)
{
	return (unsigned)s < VM_STATE_COUNT ? state_names[s] : "?";
}

int vm_state_from_name(const char *name)
{
	for (int i = 0; i < VM_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

const char *vm_action_name(enum vm_action a)
{
	return (unsigned)a < VM_ACTION_COUNT ? action_names[a] : "?";
}

bool vm_state_allows(enum vm_state s, enum vm_action a)
{
	return (unsigned)s < VM_STATE_COUNT && (unsigned)a < VM_ACTION_COUNT && (allowed[s] & A(a));
}

bool vm_state_has_worker(enum vm_state s)
{
	return s == VM_STARTING || s == VM_RUNNING || s == VM_PAUSED || s == VM_SAVING || s == VM_STOPPING;
}
