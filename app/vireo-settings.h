/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoSettings: a VM's settings, as its state allows changing them
 * (the name always; memory, processors, screen and boot source while it is
 * off), applied with vireod's Configure. It follows the VM live: a VM
 * that starts while the window is open locks what it can no longer change.
 * A VM that vireod runs inside an emulated host says so at the top.
 */
#pragma once

#include <adwaita.h>

#include "vireo-service.h"

G_BEGIN_DECLS

#define VIREO_TYPE_SETTINGS (vireo_settings_get_type())
G_DECLARE_FINAL_TYPE(VireoSettings, vireo_settings, VIREO, SETTINGS, AdwWindow)

VireoSettings *vireo_settings_new(GtkWindow *parent, VireoService *service, VireoVm *vm);
VireoVm *vireo_settings_get_vm(VireoSettings *self);

G_END_DECLS
