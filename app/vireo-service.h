/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoService: the manager's link to vireod (org.vireo.Vireo1 on the
 * session bus). It watches the bus name (starting vireod through D-Bus
 * activation where it is installed), keeps the VMs as a list model of
 * VireoVm sorted by name from the ObjectManager's signals, and says when
 * vireod cannot be reached. One per application; every window shares it.
 */
#pragma once

#include <gio/gio.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_SERVICE_BUS_NAME "org.vireo.Vireo1"
#define VIREO_SERVICE_PATH     "/org/vireo/Vireo1"

typedef enum {
	VIREO_SERVICE_CONNECTING,   /* looking for vireod */
	VIREO_SERVICE_READY,        /* the list is vireod's */
	VIREO_SERVICE_UNAVAILABLE,  /* vireod cannot be reached (error says why) */
} VireoServiceStatus;

#define VIREO_TYPE_SERVICE (vireo_service_get_type())
G_DECLARE_FINAL_TYPE(VireoService, vireo_service, VIREO, SERVICE, GObject)

VireoService *vireo_service_new(void);

/* notify::status; the list empties when vireod goes. */
VireoServiceStatus vireo_service_get_status(VireoService *self);
/* Why vireod cannot be reached, for a person: the end of a sentence that
 * begins "Cannot reach the Vireo service (vireod): " ("" when it can). */
const char *vireo_service_get_error(VireoService *self);
/* vireod's HostKind ("kvm", "kvm-limited", "none") and HostReason. */
const char *vireo_service_get_host_kind(VireoService *self);
const char *vireo_service_get_host_reason(VireoService *self);

/* A GListModel of VireoVm, by name. */
GListModel *vireo_service_get_machines(VireoService *self);
VireoVm *vireo_service_find(VireoService *self, const char *object_path);
/* Whether a VM other than except has this name (as vireod compares: case-folded). */
gboolean vireo_service_name_taken(VireoService *self, const char *name, VireoVm *except);

/* Look for vireod again (after it could not be reached). */
void vireo_service_reconnect(VireoService *self);

/* CreateMachine. finish: the new VM's object path, or vireod's refusal
 * with its D-Bus error name in *error_name. */
void vireo_service_create_async(VireoService *self, GVariant *config, GCancellable *cancel, GAsyncReadyCallback cb,
				gpointer data);
char *vireo_service_create_finish(VireoService *self, GAsyncResult *res, char **error_name, GError **error);

G_END_DECLS
