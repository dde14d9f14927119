/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoVm: one VM of vireod's, as the manager lists it: its
 * org.vireo.Vireo1.Machine proxy (properties kept current by vireod's
 * PropertiesChanged signals: no polling), its live thumbnail, and the
 * actions on it as asynchronous calls.
 */
#pragma once

#include <gtk/gtk.h>

#include "vireo-vm-config.h"
#include "vireo-dbus.h"
#include "vireo-format.h"
#include "vireo-thumbnail.h"

G_BEGIN_DECLS

/* How long a request may take before the manager gives up waiting (Start
 * returns only once the VM runs, which an emulated host makes slow). */
#define VIREO_VM_CALL_TIMEOUT_MS   (10 * 60 * 1000)
/* Shut Down's patience, per step, in seconds (0: vireod's default). */
#define VIREO_VM_SHUTDOWN_TIMEOUT_S 0u

#define VIREO_TYPE_VM (vireo_vm_get_type())
G_DECLARE_FINAL_TYPE(VireoVm, vireo_vm, VIREO, VM, GObject)

VireoVm *vireo_vm_new(VireoMachine *machine);

VireoMachine *vireo_vm_get_machine(VireoVm *self);
VireoThumbnail *vireo_vm_get_thumbnail(VireoVm *self);
const char *vireo_vm_get_object_path(VireoVm *self);
const char *vireo_vm_get_id(VireoVm *self);
const char *vireo_vm_get_name(VireoVm *self);
const char *vireo_vm_get_state(VireoVm *self);
gboolean vireo_vm_allows(VireoVm *self, VireoAction a);
/* Whether vireod runs it inside an emulated host (slow); changed("emulated-host"). */
gboolean vireo_vm_get_emulated_host(VireoVm *self);

/* The settings as the Settings window edits them. */
void vireo_vm_get_config(VireoVm *self, VireoConfig *out);

/*
 * Start, Shut Down, Turn Off, Pause, Resume, Reset, Save, Delete (not
 * Connect nor Settings, which are not calls). finish: FALSE and vireod's
 * refusal, as it said it (the remote error name stripped).
 */
void vireo_vm_call_async(VireoVm *self, VireoAction a, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data);
gboolean vireo_vm_call_finish(VireoVm *self, GAsyncResult *res, GError **error);

void vireo_vm_configure_async(VireoVm *self, GVariant *config, GCancellable *cancel, GAsyncReadyCallback cb,
			      gpointer data);
gboolean vireo_vm_configure_finish(VireoVm *self, GAsyncResult *res, char **error_name, GError **error);

G_END_DECLS
