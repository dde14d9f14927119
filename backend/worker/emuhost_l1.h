/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where things are inside the emulated host (L1), for vireo-emuhost and its agent. */
#pragma once

#define EMUHOST_L1_WORKER    "/emuhost/bin/vireo-worker"
#define EMUHOST_L1_AGENT     "/emuhost/bin/vireo-emuhost-agent"
#define EMUHOST_L1_START     "/emuhost/start"     /* the per-start files: kernel, initrd, args, endpoints */
#define EMUHOST_L1_RUNDIR    "/run/vireo"         /* the worker's sockets */
#define EMUHOST_L1_PORT      "org.vireo.emuhost.0" /* the virtio-serial port's name */
#define EMUHOST_L1_SAVEDIR   "/run/vireo/save"    /* where "save DIR" saves inside; the agent sends its files */
#define EMUHOST_L1_RESTORE   EMUHOST_L1_START "/restore"   /* --restore DIR's files */
#define EMUHOST_L1_EXIT_SAVED 14                  /* vireo-worker's exit status after a save (main.c) */
#define EMUHOST_L1_TSC_TOLERANCE_PPM 10000   /* kvm.tsc_tolerance_ppm inside (emuhost_image.c); KVM's default is 250 */
