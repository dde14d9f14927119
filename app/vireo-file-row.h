/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoFileRow: a row that holds a file's path (its subtitle), chosen with
 * the desktop's file chooser; with "optional", a button clears it.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIREO_TYPE_FILE_ROW (vireo_file_row_get_type())
G_DECLARE_FINAL_TYPE(VireoFileRow, vireo_file_row, VIREO, FILE_ROW, AdwActionRow)

/* "" when none is chosen. notify::path. */
const char *vireo_file_row_get_path(VireoFileRow *self);
void vireo_file_row_set_path(VireoFileRow *self, const char *path);
/* Opens the file chooser, as the row's button does. */
void vireo_file_row_choose(VireoFileRow *self);

G_END_DECLS
