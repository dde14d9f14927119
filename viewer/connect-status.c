// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>

#include "connect-input.h"
#include "connect-status.h"

static bool str_is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

const char *connect_status_word(const struct connect_status *st)
{
	/* vireod knows the VM's life; the worker only the current boot. */
	if (st->via_vireod && st->vireod_up && nonempty(st->vireod_state))
		return st->vireod_state;
	if (st->via_vireod && !st->vireod_up)
		return "Unknown";
	switch (st->link) {
	case CONNECT_LINK_CONNECTING:
		return "Connecting";
	case CONNECT_LINK_GONE:
		return "Off";
	case CONNECT_LINK_UP:
	default:
		break;
	}
	switch (st->vm) {
	case CONSOLE_VM_RUNNING:
		return "Running";
	case CONSOLE_VM_PAUSED:
		return "Paused";
	case CONSOLE_VM_OFF:
		return "Off";
	default:
		return "Connecting";
	}
}

void connect_status_title(const struct connect_status *st, char *buf, size_t size)
{
	const char *name = nonempty(st->name) ? st->name : "Virtual machine";
	/* Only vireod knows where the worker runs; a stale word from a vireod
	 * that went away is not repeated. */
	bool emulated = st->via_vireod && st->vireod_up && st->vireod_emulated;
	const char *word = connect_status_word(st);
	if (st->grabbed)
		snprintf(buf, size, "%s - %s - Vireo (%spress %s to release the keyboard)", name, word,
			 emulated ? "emulated host: slow; " : "", CONNECT_RELEASE_HINT);
	else
		snprintf(buf, size, "%s - %s - Vireo%s", name, word, emulated ? " (emulated host: slow)" : "");
}

/* Why, in parentheses, when there is a why. */
static void with_reason(char *buf, size_t size, const char *text, const char *reason)
{
	if (nonempty(reason))
		snprintf(buf, size, "%s\n(%s)", text, reason);
	else
		snprintf(buf, size, "%s", text);
}

static bool connect_status_vireod_message(const struct connect_status *st, char *buf, size_t size)
{
	const char *s = st->vireod_state, *why = st->vireod_reason;
	if (!st->vireod_up) {
		snprintf(buf, size, "The Vireo service (vireod) does not answer.\nWaiting for it...");
		return true;
	}
	if (str_is(s, "Off")) {
		with_reason(buf, size, "The virtual machine is turned off.\nStart it to connect.", why);
	} else if (str_is(s, "Saved")) {
		with_reason(buf, size, "The virtual machine is saved.\nStart it to restore it.", why);
	} else if (str_is(s, "Failed")) {
		with_reason(buf, size, "The virtual machine could not run.", why);
	} else if (str_is(s, "Starting")) {
		snprintf(buf, size, "The virtual machine is starting...");
	} else if (str_is(s, "Stopping")) {
		snprintf(buf, size, "The virtual machine is shutting down...");
	} else if (str_is(s, "Saving")) {
		snprintf(buf, size, "The virtual machine is being saved...");
	} else {
		return false;
	}
	return true;
}

void connect_status_message(const struct connect_status *st, char *buf, size_t size)
{
	buf[0] = 0;
	if (st->via_vireod && connect_status_vireod_message(st, buf, size))
		return;
	switch (st->link) {
	case CONNECT_LINK_CONNECTING:
		snprintf(buf, size, "Connecting to the virtual machine...");
		return;
	case CONNECT_LINK_GONE:
		with_reason(buf, size,
			    st->via_vireod ? "The virtual machine is off: its worker is gone.\nWaiting for it to start..."
					   : "The virtual machine is off: its worker is gone.\nWaiting for it to come back...",
			    st->link_error);
		return;
	case CONNECT_LINK_UP:
	default:
		break;
	}
	if (st->vm == CONSOLE_VM_OFF)
		with_reason(buf, size, "The virtual machine is off.", st->vm_reason);
	else if (st->vm == CONSOLE_VM_PAUSED)
		snprintf(buf, size, "Paused");
	else if (!st->have_picture)
		snprintf(buf, size, "The guest shows no picture yet\n(its video driver has not started).");
}
