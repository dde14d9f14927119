/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoVmRow: one VM in the window's list: its live thumbnail, name, state
 * (and why; "emulated host: slow" where vireod runs it inside one), CPU and
 * memory use, the guest's address and uptime; a button
 * for what one most likely wants next (Start, or Connect), a menu with
 * every action, the same menu on a right click, a long press, Menu or
 * Shift+F10. The buttons and menus act through the window's win.* actions
 * on the selected VM: the row selects itself first.
 */
#pragma once

#include <gtk/gtk.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_TYPE_VM_ROW (vireo_vm_row_get_type())
G_DECLARE_FINAL_TYPE(VireoVmRow, vireo_vm_row, VIREO, VM_ROW, GtkListBoxRow)

GtkWidget *vireo_vm_row_new(VireoVm *vm);
VireoVm *vireo_vm_row_get_vm(VireoVmRow *self);
/* The context menu, at (x, y) in the row, or where the row is (x < 0). */
void vireo_vm_row_popup_menu(VireoVmRow *self, double x, double y);

G_END_DECLS
