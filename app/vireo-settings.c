// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-config-form.h"
#include "vireo-settings.h"

struct _VireoSettings {
	AdwWindow parent_instance;

	/* template widgets */
	AdwWindowTitle *window_title;
	GtkButton *apply_button;
	VireoConfigForm *form;
	GtkLabel *error_label;
	GtkWidget *emulated_box;
	GtkLabel *emulated_label, *emulated_tip;

	/* owned references */
	VireoService *service;
	VireoVm *vm;
	GCancellable *cancel;
	VireoConfig original;          /* what the window opened with: only edits are sent */

	gulong changed_id;
	gboolean applying;
};

G_DEFINE_FINAL_TYPE(VireoSettings, vireo_settings, ADW_TYPE_WINDOW)

/* Configure may change more than the name while the VM is off or failed. */
static gboolean vireo_settings_locked(VireoSettings *self)
{
	const char *state = vireo_vm_get_state(self->vm);
	return !g_str_equal(state, "Off") && !g_str_equal(state, "Failed");
}

static void vireo_settings_update(VireoSettings *self)
{
	g_autofree char *title = g_strdup_printf(_("Settings of “%s”"), vireo_vm_get_name(self->vm));
	adw_window_title_set_title(self->window_title, title);
	adw_window_title_set_subtitle(self->window_title, vireo_state_label(vireo_vm_get_state(self->vm)));
	vireo_config_form_set_locked(self->form, vireo_settings_locked(self));
	gboolean emulated = vireo_vm_get_emulated_host(self->vm);
	gtk_label_set_text(self->emulated_label, vireo_format_emulated_host(emulated));
	gtk_widget_set_visible(self->emulated_box, emulated);
	gtk_widget_set_sensitive(GTK_WIDGET(self->apply_button),
				 !self->applying && vireo_config_form_is_valid(self->form, VIREO_FORM_ALL));
}

static void vireo_settings_on_vm_changed(VireoVm *vm, const char *property, gpointer data)
{
	if (g_str_equal(property, "state") || g_str_equal(property, "name") || g_str_equal(property, "emulated-host"))
		vireo_settings_update(data);
}

static void vireo_settings_on_configured(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoSettings) self = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *error_name = NULL;
	gboolean ok = vireo_vm_configure_finish(VIREO_VM(src), res, &error_name, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->applying = FALSE;
	if (ok) {
		gtk_window_destroy(GTK_WINDOW(self));
		return;
	}
	VireoField f = vireo_config_field_of_error(error_name, e->message);
	if (f != VIREO_FIELD_NONE) {
		vireo_config_form_set_error(self->form, f, e->message);
		gtk_widget_grab_focus(vireo_config_form_get_row(self->form, f));
	} else {
		gtk_label_set_text(self->error_label, e->message);
		gtk_widget_set_visible(GTK_WIDGET(self->error_label), TRUE);
	}
	vireo_settings_update(self);
}

static void vireo_settings_on_apply(VireoSettings *self)
{
	if (self->applying)
		return;
	if (!vireo_config_form_is_valid(self->form, VIREO_FORM_ALL)) {
		vireo_config_form_reveal(self->form, VIREO_FORM_ALL);
		return;
	}
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self->form, &c);
	GVariant *changes = vireo_config_to_configure(&self->original, &c);
	if (!changes) {
		gtk_window_destroy(GTK_WINDOW(self));
		return;
	}
	self->applying = TRUE;
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), FALSE);
	vireo_settings_update(self);
	vireo_vm_configure_async(self->vm, changes, self->cancel, vireo_settings_on_configured, g_object_ref(self));
}

static void vireo_settings_on_form_changed(VireoSettings *self)
{
	vireo_settings_update(self);
}

VireoVm *vireo_settings_get_vm(VireoSettings *self)
{
	return self->vm;
}

static void vireo_settings_dispose(GObject *object)
{
	VireoSettings *self = VIREO_SETTINGS(object);
	if (self->cancel)
		g_cancellable_cancel(self->cancel);
	g_clear_object(&self->cancel);
	if (self->vm)
		g_clear_signal_handler(&self->changed_id, self->vm);
	g_clear_object(&self->vm);
	g_clear_object(&self->service);
	vireo_config_clear(&self->original);
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_SETTINGS);
	G_OBJECT_CLASS(vireo_settings_parent_class)->dispose(object);
}

static void vireo_settings_class_init(VireoSettingsClass *klass)
{
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_settings_dispose;
	g_type_ensure(VIREO_TYPE_CONFIG_FORM);
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-settings.ui");
	gtk_widget_class_bind_template_child(wc, VireoSettings, window_title);
	gtk_widget_class_bind_template_child(wc, VireoSettings, apply_button);
	gtk_widget_class_bind_template_child(wc, VireoSettings, form);
	gtk_widget_class_bind_template_child(wc, VireoSettings, error_label);
	gtk_widget_class_bind_template_child(wc, VireoSettings, emulated_box);
	gtk_widget_class_bind_template_child(wc, VireoSettings, emulated_label);
	gtk_widget_class_bind_template_child(wc, VireoSettings, emulated_tip);
	gtk_widget_class_bind_template_callback(wc, vireo_settings_on_apply);
	gtk_widget_class_add_binding_action(wc, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void vireo_settings_init(VireoSettings *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->cancel = g_cancellable_new();
	gtk_label_set_text(self->emulated_tip, vireo_format_emulated_host_tip());
	g_signal_connect_swapped(self->form, "changed", G_CALLBACK(vireo_settings_on_form_changed), self);
}

VireoSettings *vireo_settings_new(GtkWindow *parent, VireoService *service, VireoVm *vm)
{
	VireoSettings *self = g_object_new(VIREO_TYPE_SETTINGS, "transient-for", parent, NULL);
	self->service = g_object_ref(service);
	self->vm = g_object_ref(vm);
	vireo_vm_get_config(vm, &self->original);
	vireo_config_form_set_service(self->form, service, vm);
	vireo_config_form_set_config(self->form, &self->original);
	self->changed_id = g_signal_connect(vm, "changed", G_CALLBACK(vireo_settings_on_vm_changed), self);
	vireo_settings_update(self);
	return self;
}
