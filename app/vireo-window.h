/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoWindow: the manager's window. The list of VMs (VireoVmRow), an
 * empty state that invites creating the first one, a banner while vireod
 * cannot be reached, and the actions on the selected VM as win.* actions
 * (win.start, win.connect, win.shut-down, win.turn-off, win.pause,
 * win.resume, win.reset, win.save, win.delete, win.settings), enabled as
 * its state allows. Requests are asynchronous, with one GCancellable for
 * the window.
 */
#pragma once

#include <adwaita.h>

#include "vireo-service.h"

G_BEGIN_DECLS

#define VIREO_TYPE_WINDOW (vireo_window_get_type())
G_DECLARE_FINAL_TYPE(VireoWindow, vireo_window, VIREO, WINDOW, AdwApplicationWindow)

VireoWindow *vireo_window_new(GtkApplication *app, VireoService *service, GSettings *settings);

/* The New Virtual Machine wizard, over this window. */
GtkWindow *vireo_window_open_wizard(VireoWindow *self);
/* Select the VM at object_path (now, or when it shows up in the list). */
void vireo_window_select(VireoWindow *self, const char *object_path);
VireoVm *vireo_window_get_selected(VireoWindow *self);

G_END_DECLS
