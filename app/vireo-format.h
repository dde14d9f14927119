/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the manager says about a VM, for a person: the actions each state
 * allows (org.vireo.Vireo1.xml's table, with Hyper-V's words), state names,
 * sizes, CPU use and uptime. Pure (GLib and gettext only): unit-tested.
 */
#pragma once

#include <glib.h>

/* The actions on a VM, as the window's win.* actions name them. */
typedef enum {
	VIREO_ACTION_START,
	VIREO_ACTION_CONNECT,
	VIREO_ACTION_SHUT_DOWN,
	VIREO_ACTION_TURN_OFF,
	VIREO_ACTION_PAUSE,
	VIREO_ACTION_RESUME,
	VIREO_ACTION_RESET,
	VIREO_ACTION_SAVE,
	VIREO_ACTION_DELETE,
	VIREO_ACTION_SETTINGS,
	VIREO_N_ACTIONS,
} VireoAction;

/* "start", "shut-down", ...: the action's name without "win.". */
const char *vireo_action_name(VireoAction a);
/* The verb on a button or a menu item ("Shut Down"), translated. */
const char *vireo_action_label(VireoAction a);
/* Whether a VM in state (vireod's State) may be asked for a. */
gboolean vireo_state_allows(const char *state, VireoAction a);
/* True for the states in which a worker runs (a picture may exist). */
gboolean vireo_state_is_active(const char *state);

/* "Running", "Off", ...: vireod's State in the person's language; an
 * unknown state is shown as it came. */
const char *vireo_state_label(const char *state);

/* "512 MiB", "1 GiB", "1.5 GiB", from MiB. */
char *vireo_format_mib(guint64 mib);
/* "87.3 MiB", from bytes ("—" for 0: not running). */
char *vireo_format_bytes_used(guint64 bytes);
/* "12 %" of one host CPU ("—" when not running). */
char *vireo_format_cpu(double percent, gboolean running);
/* "0:05:12", "2 days, 3:04:05" ("—" when not running). */
char *vireo_format_uptime(guint64 seconds, gboolean running);
/* The guest's first address, "—" when it has not said. */
char *vireo_format_addresses(const char *const *addresses);

/* "emulated host: slow" for a VM that vireod runs inside an emulated host
 * (its EmulatedHost), "" for one that runs on this host's KVM; the tip
 * says why, for a tooltip. */
const char *vireo_format_emulated_host(gboolean emulated);
const char *vireo_format_emulated_host_tip(void);
