/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vireod's state: the inventory of VMs, their D-Bus objects, and where
 * their files live. One per process, created at startup.
 */
#pragma once

#include <gio/gio.h>

#include "hv/hostcheck.h"
#include "vireo-dbus.h"
#include "vm_config.h"

/* D-Bus errors (org.vireo.Vireo1.Error.*), see org.vireo.Vireo1.xml. */
#define VIREO_ERROR (vireo_error_quark())
enum vireo_error {
	VIREO_ERROR_NOT_FOUND,
	VIREO_ERROR_INVALID_ARGUMENT,
	VIREO_ERROR_ALREADY_EXISTS,
	VIREO_ERROR_INVALID_STATE,
	VIREO_ERROR_INSUFFICIENT_RESOURCES,
	VIREO_ERROR_NOT_SUPPORTED,
	VIREO_ERROR_FAILED,
};
GQuark vireo_error_quark(void);

#define VIREO_BUS_NAME    "org.vireo.Vireo1"
#define VIREO_OBJECT_PATH "/org/vireo/Vireo1"

struct vm;

struct service {
	GDBusConnection *bus;
	GDBusObjectManagerServer *objects;
	VireoManager *manager;
	GHashTable *vms;             /* id -> struct vm */
	char *config_dir;            /* $XDG_CONFIG_HOME/vireo/machines */
	char *data_dir;              /* $XDG_DATA_HOME/vireo */
	char *runtime_dir;           /* $XDG_RUNTIME_DIR/vireo */
	char *worker_path;           /* the vireo-worker to run */
	char *demo_dir;              /* the demo guest: vmlinuz, guest.cpio.gz */
	struct host_kvm_info host;
	uint64_t host_memory_mib;
	unsigned host_cpus;
	/* Where this host's KVM cannot run stock guests: workers run through
	 * vireo-emuhost, inside an emulated host (QEMU with emulated AMD-V). */
	char *emuhost_path;          /* the vireo-emuhost to run */
	bool emulated;               /* VMs take that path */
};

struct service *service_new(GDBusConnection *bus, GError **error);
void service_free(struct service *s);

/* By id (with or without dashes, any case) or by name: NULL when none. */
struct vm *service_find(struct service *s, const char *name_or_id);
/* Another VM than `except` has this name (case-insensitive, as Hyper-V). */
bool service_name_taken(struct service *s, const char *name, const struct vm *except);
/* The VM's files and object are gone: forget it (vm.c calls this). */
void service_forget(struct service *s, struct vm *vm);
/* Check memory and CPUs against this host. */
bool service_check_resources(struct service *s, uint64_t memory_mib, unsigned cpus, GError **error);
