/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VireoConfigForm: the settings of a VM as rows, in three sections (name;
 * memory, processors and screen; boot source), checked as the person types
 * with vireo-config.c's rules and, for the kernel and initrd, whether the
 * files are there (asynchronously). The New VM wizard shows one section per
 * step; the Settings window all of them.
 */
#pragma once

#include <adwaita.h>

#include "vireo-vm-config.h"
#include "vireo-service.h"

G_BEGIN_DECLS

typedef enum {
	VIREO_FORM_GENERAL = 1 << 0,
	VIREO_FORM_HARDWARE = 1 << 1,
	VIREO_FORM_BOOT = 1 << 2,
	VIREO_FORM_ALL = 0x7,
} VireoFormSections;

#define VIREO_TYPE_CONFIG_FORM (vireo_config_form_get_type())
G_DECLARE_FINAL_TYPE(VireoConfigForm, vireo_config_form, VIREO, CONFIG_FORM, GtkBox)

GtkWidget *vireo_config_form_new(void);

/* Where names are looked up (another VM's name is taken); editing: the VM
 * whose settings these are (its own name is not "taken"), or NULL. */
void vireo_config_form_set_service(VireoConfigForm *self, VireoService *service, VireoVm *editing);

void vireo_config_form_set_config(VireoConfigForm *self, const VireoConfig *c);
void vireo_config_form_get_config(VireoConfigForm *self, VireoConfig *out);

void vireo_config_form_set_sections(VireoConfigForm *self, VireoFormSections shown);
/* Only the name may change (a VM that is not off); why, in the sections. */
void vireo_config_form_set_locked(VireoConfigForm *self, gboolean locked);

/* Every field of these sections is acceptable (and the files checked). */
gboolean vireo_config_form_is_valid(VireoConfigForm *self, VireoFormSections sections);
/* Show what is wrong in these sections, touched or not. */
void vireo_config_form_reveal(VireoConfigForm *self, VireoFormSections sections);
/* A refusal of vireod's, shown with the field's section until it is edited
 * (VIREO_FIELD_NONE: nowhere; the caller shows it). */
void vireo_config_form_set_error(VireoConfigForm *self, VireoField f, const char *message);
VireoFormSections vireo_config_form_section_of(VireoField f);
/* The field's row, to give it focus. */
GtkWidget *vireo_config_form_get_row(VireoConfigForm *self, VireoField f);

G_END_DECLS
