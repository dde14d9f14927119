/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vireo-emuhost's host end while QEMU runs: the mux link on the
 * virtio-serial port's socket, the endpoints on this host (listening from
 * the agent's READY on), their connections as channels (consoles through
 * emuhost_bridge, control through emuhost_ctl), L1's console lines, the
 * worker's log, and how it all ends. "screenshot PATH" and "save DIR" are
 * answered here, their files written on this host (emuhost_shot,
 * emuhost_screenshot, emuhost_save).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "emuhost_args.h"

/* From QEMU's start to the agent's HELLO: L1 boots in seconds, unless the host is very busy. */
#define EMUHOST_RELAY_BOOT_TIMEOUT_MS  300000
/* SIGTERM: from "turn-off" to the worker's end, then QEMU is stopped anyway. */
#define EMUHOST_RELAY_TURN_OFF_MS      20000
/* After EXIT: for the last bytes to reach their clients, and for L1 to power off. */
#define EMUHOST_RELAY_DRAIN_MS         1000
#define EMUHOST_RELAY_QEMU_EXIT_MS     3000
/* L1 console lines kept for an error message, and where a long one is cut. */
#define EMUHOST_RELAY_CONSOLE_TAIL     12u
#define EMUHOST_RELAY_LINE_MAX         1024u

enum emuhost_end {
	EMUHOST_END_EXIT,          /* the worker exited: status */
	EMUHOST_END_SIGNAL,        /* the worker was killed: status is the signal */
	EMUHOST_END_FAILED,        /* the emulated host could not run it: why */
};

struct emuhost_relay_config {
	const struct emuhost_args *args;
	int mux_fd;                /* the virtio-serial port's socket */
	int console_fd;            /* L1's serial console */
	pid_t qemu;
	const char *image_key;
	unsigned l1_memory_mib;
};

struct emuhost_result {
	enum emuhost_end end;
	int status;
	char why[512];
};

/* Runs until the worker ended or the emulated host failed; QEMU is gone after. */
void emuhost_relay_run(const struct emuhost_relay_config *cfg, struct emuhost_result *res);
