/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where things are inside the emulated host (L1), for vireo-emuhost and its agent. */
#pragma once

#define EMUHOST_L1_WORKER    "/emuhost/bin/vireo-worker"
#define EMUHOST_L1_AGENT     "/emuhost/bin/vireo-emuhost-agent"
#define EMUHOST_L1_START     "/emuhost/start"     /* the per-start files: kernel, initrd, args, endpoints */
#define EMUHOST_L1_RUNDIR    "/run/vireo"         /* the worker's sockets */
#define EMUHOST_L1_PORT      "org.vireo.emuhost.0" /* the virtio-serial port's name */
