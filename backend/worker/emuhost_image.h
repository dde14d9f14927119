/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulated host's image: the Debian cloud kernel (vmlinuz) and an
 * initramfs (l1.cpio) with busybox, the kernel modules for /dev/kvm on
 * emulated AMD-V and for the virtio-serial port, vireo-worker,
 * vireo-emuhost-agent, the shared libraries they need and the dynamic
 * loader, and an /init. Built once into CACHE/KEY/ (KEY from the package
 * versions, the two programs and their libraries), atomically: in a
 * temporary folder renamed into place, one build at a time (a lock file).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "emuhost_l1.h"

/* Bump when the image's layout or /init changes. */
#define EMUHOST_IMAGE_FORMAT 1
/* Images kept in the cache (the most recently used). */
#define EMUHOST_IMAGES_KEEP  3
/* The modules L1 loads (their dependencies come along). */
#define EMUHOST_L1_MODULES   { "kvm_amd", "virtio_pci", "virtio_console", NULL }

/* One line for the user: "emulated host: ..." */
typedef void (*emuhost_progress_fn)(void *opaque, const char *line);

struct emuhost_image_request {
	const char *cache_dir;       /* e.g. $XDG_CACHE_HOME/vireo/emuhost */
	const char *worker, *agent;  /* the programs to carry */
	emuhost_progress_fn progress;
	void *opaque;
};

struct emuhost_image {
	char *dir;
	char *kernel;                /* dir/vmlinuz */
	char *initrd;                /* dir/l1.cpio */
	char *key;
	uint64_t initrd_size;
	bool built;                  /* by this call (not from the cache) */
};

bool emuhost_image_ensure(const struct emuhost_image_request *rq, struct emuhost_image *out, GError **error);
void emuhost_image_clear(struct emuhost_image *img);

/* The /init of the image (busybox sh). */
extern const char emuhost_image_init[];
