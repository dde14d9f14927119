// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-config-form.h"
#include "vireo-wizard.h"

/* How many "New Virtual Machine N" names are tried for the suggestion. */
#define VIREO_WIZARD_NAME_TRIES 1000u

typedef enum {
	STEP_NAME,
	STEP_HARDWARE,
	STEP_BOOT,
	STEP_SUMMARY,
	N_STEPS,
} VireoWizardStep;

struct _VireoWizard {
	AdwWindow parent_instance;

	/* template widgets */
	AdwWindowTitle *window_title;
	GtkButton *cancel_button, *back_button, *next_button, *create_button;
	GtkLabel *step_intro, *summary_error;
	VireoConfigForm *form;
	AdwPreferencesGroup *summary_group;
	AdwActionRow *summary_name, *summary_memory, *summary_cpus, *summary_resolution, *summary_boot;
	AdwActionRow *summary_kernel, *summary_initrd, *summary_cmdline;

	/* owned references */
	VireoService *service;
	GSettings *settings;
	GCancellable *cancel;

	VireoWizardStep step;
	gboolean creating;
};

enum {
	SIGNAL_CREATED,
	N_SIGNALS,
};

static guint vireo_wizard_signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(VireoWizard, vireo_wizard, ADW_TYPE_WINDOW)

static VireoFormSections vireo_wizard_sections(VireoWizardStep step)
{
	switch (step) {
	case STEP_NAME: return VIREO_FORM_GENERAL;
	case STEP_HARDWARE: return VIREO_FORM_HARDWARE;
	case STEP_BOOT: return VIREO_FORM_BOOT;
	default: return 0;
	}
}

static VireoWizardStep vireo_wizard_step_of(VireoFormSections section)
{
	for (VireoWizardStep s = STEP_NAME; s < STEP_SUMMARY; s++)
		if (vireo_wizard_sections(s) & section)
			return s;
	return STEP_SUMMARY;
}

static const char *vireo_wizard_intro(VireoWizardStep step)
{
	switch (step) {
	case STEP_NAME: return _("Choose a name for the new virtual machine.");
	case STEP_HARDWARE: return _("Give it memory and virtual processors. It holds its memory only while it runs.");
	case STEP_BOOT: return _("Choose what it boots. Disks and networks come with later versions of Vireo.");
	default: return _("Check the settings, then create the virtual machine. It is created turned off.");
	}
}

static void vireo_wizard_fill_summary(VireoWizard *self)
{
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self->form, &c);
	g_autofree char *memory = vireo_format_mib(c.memory_mib);
	g_autofree char *cpus = g_strdup_printf("%u", c.cpus);
	gboolean kernel = c.boot == VIREO_BOOT_KERNEL;
	adw_action_row_set_subtitle(self->summary_name, c.name);
	adw_action_row_set_subtitle(self->summary_memory, memory);
	adw_action_row_set_subtitle(self->summary_cpus, cpus);
	adw_action_row_set_subtitle(self->summary_resolution, c.resolution);
	adw_action_row_set_subtitle(self->summary_boot, kernel ? _("Linux kernel") : _("Demo guest"));
	adw_action_row_set_subtitle(self->summary_kernel, c.kernel);
	adw_action_row_set_subtitle(self->summary_initrd, *c.initrd ? c.initrd : _("None"));
	adw_action_row_set_subtitle(self->summary_cmdline, *c.cmdline ? c.cmdline : _("None"));
	gtk_widget_set_visible(GTK_WIDGET(self->summary_kernel), kernel);
	gtk_widget_set_visible(GTK_WIDGET(self->summary_initrd), kernel);
	gtk_widget_set_visible(GTK_WIDGET(self->summary_cmdline), kernel);
}

static void vireo_wizard_update(VireoWizard *self)
{
	gboolean last = self->step == STEP_SUMMARY;
	/* Translators: the wizard's subtitle, e.g. "Step 2 of 4". */
	g_autofree char *sub = g_strdup_printf(_("Step %u of %u"), (unsigned)self->step + 1, (unsigned)N_STEPS);
	adw_window_title_set_subtitle(self->window_title, sub);
	gtk_label_set_text(self->step_intro, vireo_wizard_intro(self->step));
	gtk_widget_set_visible(GTK_WIDGET(self->form), !last);
	vireo_config_form_set_sections(self->form, vireo_wizard_sections(self->step));
	gtk_widget_set_visible(GTK_WIDGET(self->summary_group), last);
	gtk_widget_set_visible(GTK_WIDGET(self->summary_error), last && *gtk_label_get_text(self->summary_error));
	gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), self->step == STEP_NAME);
	gtk_widget_set_visible(GTK_WIDGET(self->back_button), self->step != STEP_NAME);
	gtk_widget_set_visible(GTK_WIDGET(self->next_button), !last);
	gtk_widget_set_visible(GTK_WIDGET(self->create_button), last);
	gtk_widget_set_sensitive(GTK_WIDGET(self->back_button), !self->creating);
	gtk_widget_set_sensitive(GTK_WIDGET(self->create_button),
				 !self->creating && vireo_config_form_is_valid(self->form, VIREO_FORM_ALL));
	gtk_window_set_default_widget(GTK_WINDOW(self), GTK_WIDGET(last ? self->create_button : self->next_button));
	if (last)
		vireo_wizard_fill_summary(self);
}

static void vireo_wizard_go(VireoWizard *self, VireoWizardStep step)
{
	self->step = step;
	vireo_wizard_update(self);
	if (step == STEP_NAME)
		gtk_widget_grab_focus(vireo_config_form_get_row(self->form, VIREO_FIELD_NAME));
	else if (step == STEP_SUMMARY)
		gtk_widget_grab_focus(GTK_WIDGET(self->create_button));
}

/* The first step whose section is not acceptable, N_STEPS when none. */
static VireoWizardStep vireo_wizard_first_invalid(VireoWizard *self, VireoWizardStep upto)
{
	for (VireoWizardStep s = STEP_NAME; s <= upto && s < STEP_SUMMARY; s++)
		if (!vireo_config_form_is_valid(self->form, vireo_wizard_sections(s)))
			return s;
	return N_STEPS;
}

static void vireo_wizard_on_next(VireoWizard *self)
{
	if (self->step >= STEP_SUMMARY)
		return;
	VireoFormSections sections = vireo_wizard_sections(self->step);
	if (!vireo_config_form_is_valid(self->form, sections)) {
		vireo_config_form_reveal(self->form, sections);
		return;
	}
	vireo_wizard_go(self, self->step + 1);
}

static void vireo_wizard_on_back(VireoWizard *self)
{
	if (self->step > STEP_NAME)
		vireo_wizard_go(self, self->step - 1);
}

static void vireo_wizard_remember(VireoWizard *self, const VireoConfig *c)
{
	g_settings_delay(self->settings);
	g_settings_set_uint64(self->settings, "wizard-memory-mib", c->memory_mib);
	g_settings_set_uint(self->settings, "wizard-cpus", c->cpus);
	g_settings_set_string(self->settings, "wizard-boot-source", c->boot == VIREO_BOOT_KERNEL ? "kernel" : "demo");
	g_settings_set_string(self->settings, "wizard-kernel", c->kernel);
	g_settings_set_string(self->settings, "wizard-initrd", c->initrd);
	g_settings_set_string(self->settings, "wizard-cmdline", c->cmdline);
	g_settings_set_string(self->settings, "wizard-resolution", c->resolution);
	g_settings_apply(self->settings);
}

static void vireo_wizard_on_created(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(VireoWizard) self = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *error_name = NULL;
	g_autofree char *path = vireo_service_create_finish(VIREO_SERVICE(src), res, &error_name, &e);
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->creating = FALSE;
	if (!path) {
		VireoField f = vireo_config_field_of_error(error_name, e->message);
		if (f != VIREO_FIELD_NONE) {
			vireo_config_form_set_error(self->form, f, e->message);
			gtk_label_set_text(self->summary_error, "");
			vireo_wizard_go(self, vireo_wizard_step_of(vireo_config_form_section_of(f)));
		} else {
			gtk_label_set_text(self->summary_error, e->message);
			vireo_wizard_update(self);
		}
		return;
	}
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self->form, &c);
	vireo_wizard_remember(self, &c);
	g_signal_emit(self, vireo_wizard_signals[SIGNAL_CREATED], 0, path);
	gtk_window_destroy(GTK_WINDOW(self));
}

static void vireo_wizard_on_create(VireoWizard *self)
{
	if (self->creating)
		return;
	VireoWizardStep bad = vireo_wizard_first_invalid(self, STEP_BOOT);
	if (bad != N_STEPS) {
		vireo_config_form_reveal(self->form, vireo_wizard_sections(bad));
		vireo_wizard_go(self, bad);
		return;
	}
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self->form, &c);
	self->creating = TRUE;
	gtk_label_set_text(self->summary_error, "");
	vireo_wizard_update(self);
	vireo_service_create_async(self->service, vireo_config_to_create(&c), self->cancel, vireo_wizard_on_created,
				   g_object_ref(self));
}

static void vireo_wizard_on_form_changed(VireoWizard *self)
{
	vireo_wizard_update(self);
}

static void vireo_wizard_on_name_activated(VireoWizard *self)
{
	vireo_wizard_on_next(self);
}

static char *vireo_wizard_suggest_name(VireoWizard *self)
{
	const char *base = _("New Virtual Machine");
	if (!vireo_service_name_taken(self->service, base, NULL))
		return g_strdup(base);
	for (guint i = 2; i < VIREO_WIZARD_NAME_TRIES; i++) {
		/* Translators: a suggested name when "New Virtual Machine" is taken: "New Virtual Machine 2". */
		g_autofree char *name = g_strdup_printf(_("New Virtual Machine %u"), i);
		if (!vireo_service_name_taken(self->service, name, NULL))
			return g_steal_pointer(&name);
	}
	return g_strdup("");
}

static void vireo_wizard_load(VireoWizard *self)
{
	g_auto(VireoConfig) c = { 0 };
	vireo_config_init(&c);
	g_free(c.name);
	c.name = vireo_wizard_suggest_name(self);
	c.memory_mib = g_settings_get_uint64(self->settings, "wizard-memory-mib");
	c.cpus = g_settings_get_uint(self->settings, "wizard-cpus");
	g_autofree char *boot = g_settings_get_string(self->settings, "wizard-boot-source");
	c.boot = g_str_equal(boot, "kernel") ? VIREO_BOOT_KERNEL : VIREO_BOOT_DEMO;
	g_free(c.kernel);
	c.kernel = g_settings_get_string(self->settings, "wizard-kernel");
	g_free(c.initrd);
	c.initrd = g_settings_get_string(self->settings, "wizard-initrd");
	g_free(c.cmdline);
	c.cmdline = g_settings_get_string(self->settings, "wizard-cmdline");
	g_free(c.resolution);
	c.resolution = g_settings_get_string(self->settings, "wizard-resolution");
	vireo_config_form_set_config(self->form, &c);
}

static void vireo_wizard_dispose(GObject *object)
{
	VireoWizard *self = VIREO_WIZARD(object);
	if (self->cancel)
		g_cancellable_cancel(self->cancel);
	g_clear_object(&self->cancel);
	g_clear_object(&self->service);
	g_clear_object(&self->settings);
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_WIZARD);
	G_OBJECT_CLASS(vireo_wizard_parent_class)->dispose(object);
}

static void vireo_wizard_class_init(VireoWizardClass *klass)
{
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_wizard_dispose;
	vireo_wizard_signals[SIGNAL_CREATED] = g_signal_new("created", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
							    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	g_type_ensure(VIREO_TYPE_CONFIG_FORM);
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-wizard.ui");
	gtk_widget_class_bind_template_child(wc, VireoWizard, window_title);
	gtk_widget_class_bind_template_child(wc, VireoWizard, cancel_button);
	gtk_widget_class_bind_template_child(wc, VireoWizard, back_button);
	gtk_widget_class_bind_template_child(wc, VireoWizard, next_button);
	gtk_widget_class_bind_template_child(wc, VireoWizard, create_button);
	gtk_widget_class_bind_template_child(wc, VireoWizard, step_intro);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_error);
	gtk_widget_class_bind_template_child(wc, VireoWizard, form);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_group);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_name);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_memory);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_cpus);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_resolution);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_boot);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_kernel);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_initrd);
	gtk_widget_class_bind_template_child(wc, VireoWizard, summary_cmdline);
	gtk_widget_class_bind_template_callback(wc, vireo_wizard_on_back);
	gtk_widget_class_bind_template_callback(wc, vireo_wizard_on_next);
	gtk_widget_class_bind_template_callback(wc, vireo_wizard_on_create);
	gtk_widget_class_add_binding_action(wc, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void vireo_wizard_init(VireoWizard *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->cancel = g_cancellable_new();
	g_signal_connect_swapped(self->form, "changed", G_CALLBACK(vireo_wizard_on_form_changed), self);
	g_signal_connect_swapped(vireo_config_form_get_row(self->form, VIREO_FIELD_NAME), "entry-activated",
				 G_CALLBACK(vireo_wizard_on_name_activated), self);
}

VireoWizard *vireo_wizard_new(GtkWindow *parent, VireoService *service, GSettings *settings)
{
	VireoWizard *self = g_object_new(VIREO_TYPE_WIZARD, "transient-for", parent, NULL);
	self->service = g_object_ref(service);
	self->settings = g_object_ref(settings);
	vireo_config_form_set_service(self->form, service, NULL);
	vireo_wizard_load(self);
	vireo_wizard_go(self, STEP_NAME);
	return self;
}
