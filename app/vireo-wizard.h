/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoWizard: the New Virtual Machine wizard, in Hyper-V's steps: name;
 * memory and processors; boot source (the demo guest, or a kernel, initrd
 * and command line chosen with the file chooser); a summary, then Create.
 * Each step is checked before Next; what vireod refuses is shown on the
 * step it is about. It starts from the values last used (GSettings).
 */
#pragma once

#include <adwaita.h>

#include "vireo-service.h"

G_BEGIN_DECLS

#define VIREO_TYPE_WIZARD (vireo_wizard_get_type())
G_DECLARE_FINAL_TYPE(VireoWizard, vireo_wizard, VIREO, WIZARD, AdwWindow)

/* signal created(object_path): the new VM, just before the wizard closes. */
VireoWizard *vireo_wizard_new(GtkWindow *parent, VireoService *service, GSettings *settings);

G_END_DECLS
