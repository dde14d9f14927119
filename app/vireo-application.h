/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoApplication: vireo, the manager (as Hyper-V Manager). app.new-vm,
 * app.about, app.quit; the keyboard shortcuts of every action, declared
 * with them; one VireoService and one GSettings for all its windows.
 */
#pragma once

#include <adwaita.h>

#include "vireo-service.h"

G_BEGIN_DECLS

#define VIREO_TYPE_APPLICATION (vireo_application_get_type())
G_DECLARE_FINAL_TYPE(VireoApplication, vireo_application, VIREO, APPLICATION, AdwApplication)

VireoApplication *vireo_application_new(void);
VireoService *vireo_application_get_service(VireoApplication *self);
GSettings *vireo_application_get_settings(VireoApplication *self);

/* setlocale and the message catalog (main and the tests). */
void vireo_application_init_i18n(void);

G_END_DECLS
