/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the viewer tells a person about the VM: one state word (in the
 * title, "NAME - STATE - Vireo", and on stdout with --verbose; "(emulated
 * host: slow)" after it for a VM vireod runs inside one) and a
 * message over the picture when there is nothing to show or the VM is
 * not running. Pure: from the connection, the worker's VM_STATE and, when
 * the VM came through vireod, its State and StateReason.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "console.h"

#define CONNECT_STATUS_TEXT_MAX 512

enum connect_link {
	CONNECT_LINK_CONNECTING,   /* no session yet, trying */
	CONNECT_LINK_UP,           /* a session with the worker */
	CONNECT_LINK_GONE,         /* the worker went away, or is not there */
};

struct connect_status {
	const char *name;          /* the VM's name (vireod's, else the worker's HELLO, else the socket) */
	enum connect_link link;
	enum console_vm_state vm;  /* the worker's VM_STATE, 0 before one came */
	const char *vm_reason;     /* the worker's reason, "" if none */
	bool have_picture;
	bool via_vireod;
	bool vireod_up;            /* vireod answers and knows the VM */
	const char *vireod_state;  /* its State ("Running", "Off", ...), with vireod_up */
	const char *vireod_reason; /* its StateReason */
	bool vireod_emulated;      /* its EmulatedHost, with vireod_up */
	const char *link_error;    /* why the last connection ended, "" if none */
	bool grabbed;              /* the keyboard is the guest's */
};

/* "Running", "Paused", "Off", "Connecting", ... */
const char *connect_status_word(const struct connect_status *st);

/* "NAME - STATE - Vireo", then in parentheses "emulated host: slow" where
 * vireod says so and how to release the keyboard while grabbed. */
void connect_status_title(const struct connect_status *st, char *buf, size_t size);

/* The message to show over (or instead of) the picture, "" when the
 * picture speaks for itself. Lines are separated by '\n'. */
void connect_status_message(const struct connect_status *st, char *buf, size_t size);
