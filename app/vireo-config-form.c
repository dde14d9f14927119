// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-config-form.h"
#include "vireo-file-row.h"

/* The two fields that name files, checked on disk. */
enum { FILE_KERNEL, FILE_INITRD, N_FILES };

struct _VireoConfigForm {
	GtkBox parent_instance;

	/* template widgets */
	GtkWidget *general_box, *hardware_box, *boot_box;
	AdwPreferencesGroup *hardware_group, *boot_group;
	GtkLabel *general_error, *hardware_error, *boot_error;
	AdwEntryRow *name_row, *cmdline_row;
	GtkSpinButton *memory_spin, *cpus_spin;
	AdwActionRow *memory_row, *cpus_row;
	AdwComboRow *resolution_row;
	GtkCheckButton *demo_check, *kernel_check;
	VireoFileRow *kernel_row, *initrd_row;

	/* borrowed references */
	VireoVm *editing;

	/* owned references */
	VireoService *service;
	GtkStringList *resolutions;
	GCancellable *file_cancel[N_FILES];
	char *file_error[N_FILES];
	char *server_error[VIREO_N_FIELDS];

	VireoHostLimits host;
	gboolean touched[VIREO_N_FIELDS];
	gboolean file_checking[N_FILES];
	VireoFormSections revealed;
	gboolean locked, loading;
};

enum {
	SIGNAL_CHANGED,
	N_SIGNALS,
};

static guint vireo_config_form_signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(VireoConfigForm, vireo_config_form, GTK_TYPE_BOX)

VireoFormSections vireo_config_form_section_of(VireoField f)
{
	switch (f) {
	case VIREO_FIELD_NAME:
		return VIREO_FORM_GENERAL;
	case VIREO_FIELD_MEMORY:
	case VIREO_FIELD_CPUS:
	case VIREO_FIELD_RESOLUTION:
		return VIREO_FORM_HARDWARE;
	case VIREO_FIELD_KERNEL:
	case VIREO_FIELD_INITRD:
	case VIREO_FIELD_CMDLINE:
		return VIREO_FORM_BOOT;
	default:
		return 0;
	}
}

void vireo_config_form_get_config(VireoConfigForm *self, VireoConfig *out)
{
	guint sel = adw_combo_row_get_selected(self->resolution_row);
	const char *res = sel != GTK_INVALID_LIST_POSITION ? gtk_string_list_get_string(self->resolutions, sel) : NULL;
	VireoConfig c = {
		.name = (char *)gtk_editable_get_text(GTK_EDITABLE(self->name_row)),
		.memory_mib = (guint64)gtk_spin_button_get_value_as_int(self->memory_spin),
		.cpus = (guint)gtk_spin_button_get_value_as_int(self->cpus_spin),
		.boot = gtk_check_button_get_active(self->kernel_check) ? VIREO_BOOT_KERNEL : VIREO_BOOT_DEMO,
		.kernel = (char *)vireo_file_row_get_path(self->kernel_row),
		.initrd = (char *)vireo_file_row_get_path(self->initrd_row),
		.cmdline = (char *)gtk_editable_get_text(GTK_EDITABLE(self->cmdline_row)),
		.resolution = (char *)(res ? res : ""),
	};
	vireo_config_copy(out, &c);
}

/* What is wrong with f now (newly allocated), NULL when nothing. */
static char *vireo_config_form_message(VireoConfigForm *self, const VireoConfig *c, VireoField f)
{
	if (self->server_error[f])
		return g_strdup(self->server_error[f]);
	gboolean taken = f == VIREO_FIELD_NAME && self->service && c->name &&
			 vireo_service_name_taken(self->service, c->name, self->editing);
	char *msg = vireo_config_check(c, f, &self->host, taken);
	if (msg || c->boot != VIREO_BOOT_KERNEL)
		return msg;
	if (f == VIREO_FIELD_KERNEL && self->file_error[FILE_KERNEL])
		return g_strdup(self->file_error[FILE_KERNEL]);
	if (f == VIREO_FIELD_INITRD && self->file_error[FILE_INITRD])
		return g_strdup(self->file_error[FILE_INITRD]);
	return NULL;
}

static void vireo_config_form_show_section(VireoConfigForm *self, const VireoConfig *c, VireoFormSections section,
					   GtkLabel *label)
{
	g_autoptr(GString) text = g_string_new(NULL);
	for (VireoField f = 0; f < VIREO_N_FIELDS; f++) {
		if (vireo_config_form_section_of(f) != section)
			continue;
		if (!self->touched[f] && !(self->revealed & section) && !self->server_error[f])
			continue;
		g_autofree char *msg = vireo_config_form_message(self, c, f);
		if (!msg)
			continue;
		if (text->len)
			g_string_append_c(text, '\n');
		g_string_append(text, msg);
	}
	gtk_label_set_text(label, text->str);
	gtk_widget_set_visible(GTK_WIDGET(label), text->len > 0);
}

static void vireo_config_form_refresh(VireoConfigForm *self)
{
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self, &c);
	gboolean kernel = c.boot == VIREO_BOOT_KERNEL;
	gtk_widget_set_sensitive(GTK_WIDGET(self->kernel_row), kernel);
	gtk_widget_set_sensitive(GTK_WIDGET(self->initrd_row), kernel);
	gtk_widget_set_sensitive(GTK_WIDGET(self->cmdline_row), kernel);
	vireo_config_form_show_section(self, &c, VIREO_FORM_GENERAL, self->general_error);
	vireo_config_form_show_section(self, &c, VIREO_FORM_HARDWARE, self->hardware_error);
	vireo_config_form_show_section(self, &c, VIREO_FORM_BOOT, self->boot_error);
	g_signal_emit(self, vireo_config_form_signals[SIGNAL_CHANGED], 0);
}

gboolean vireo_config_form_is_valid(VireoConfigForm *self, VireoFormSections sections)
{
	g_auto(VireoConfig) c = { 0 };
	vireo_config_form_get_config(self, &c);
	for (VireoField f = 0; f < VIREO_N_FIELDS; f++) {
		if (!(vireo_config_form_section_of(f) & sections))
			continue;
		g_autofree char *msg = vireo_config_form_message(self, &c, f);
		if (msg)
			return FALSE;
	}
	if ((sections & VIREO_FORM_BOOT) && c.boot == VIREO_BOOT_KERNEL &&
	    (self->file_checking[FILE_KERNEL] || self->file_checking[FILE_INITRD]))
		return FALSE;
	return TRUE;
}

void vireo_config_form_reveal(VireoConfigForm *self, VireoFormSections sections)
{
	self->revealed |= sections;
	vireo_config_form_refresh(self);
}

void vireo_config_form_set_error(VireoConfigForm *self, VireoField f, const char *message)
{
	if (f >= VIREO_N_FIELDS)
		return;
	g_free(self->server_error[f]);
	self->server_error[f] = g_strdup(message);
	vireo_config_form_refresh(self);
}

/* ---- the files ---- */

struct file_check {
	VireoConfigForm *self;
	int which;
	char *path;
};

static void vireo_config_form_on_file_info(GObject *src, GAsyncResult *res, gpointer data)
{
	struct file_check *fc = data;
	g_autoptr(GError) e = NULL;
	g_autoptr(GFileInfo) info = g_file_query_info_finish(G_FILE(src), res, &e);
	if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		VireoConfigForm *self = fc->self;
		char *msg = NULL;
		if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			msg = g_strdup_printf(_("There is no file “%s”."), fc->path);
		else if (e)
			msg = g_strdup_printf(_("“%s” cannot be read: %s"), fc->path, e->message);
		else if (g_file_info_get_file_type(info) != G_FILE_TYPE_REGULAR)
			msg = g_strdup_printf(_("“%s” is not a file."), fc->path);
		else if (g_file_info_has_attribute(info, G_FILE_ATTRIBUTE_ACCESS_CAN_READ) &&
			 !g_file_info_get_attribute_boolean(info, G_FILE_ATTRIBUTE_ACCESS_CAN_READ))
			msg = g_strdup_printf(_("“%s” cannot be read: permission denied."), fc->path);
		g_free(self->file_error[fc->which]);
		self->file_error[fc->which] = msg;
		self->file_checking[fc->which] = FALSE;
		g_clear_object(&self->file_cancel[fc->which]);
		vireo_config_form_refresh(self);
	}
	g_object_unref(fc->self);
	g_free(fc->path);
	g_free(fc);
}

static void vireo_config_form_check_file(VireoConfigForm *self, int which)
{
	const char *path = vireo_file_row_get_path(which == FILE_KERNEL ? self->kernel_row : self->initrd_row);
	if (self->file_cancel[which]) {
		g_cancellable_cancel(self->file_cancel[which]);
		g_clear_object(&self->file_cancel[which]);
	}
	g_clear_pointer(&self->file_error[which], g_free);
	self->file_checking[which] = FALSE;
	if (!*path || !g_path_is_absolute(path))
		return;   /* vireo_config_check says what is wrong */
	self->file_checking[which] = TRUE;
	self->file_cancel[which] = g_cancellable_new();
	struct file_check *fc = g_new0(struct file_check, 1);
	fc->self = g_object_ref(self);
	fc->which = which;
	fc->path = g_strdup(path);
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_file_query_info_async(file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_ACCESS_CAN_READ,
				G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, self->file_cancel[which],
				vireo_config_form_on_file_info, fc);
}

/* ---- edits ---- */

static void vireo_config_form_edited(VireoConfigForm *self, VireoField f)
{
	if (self->loading)
		return;
	self->touched[f] = TRUE;
	g_clear_pointer(&self->server_error[f], g_free);
	vireo_config_form_refresh(self);
}

static void vireo_config_form_on_name(VireoConfigForm *self)
{
	vireo_config_form_edited(self, VIREO_FIELD_NAME);
}

static void vireo_config_form_on_cmdline(VireoConfigForm *self)
{
	vireo_config_form_edited(self, VIREO_FIELD_CMDLINE);
}

static void vireo_config_form_on_memory(VireoConfigForm *self)
{
	vireo_config_form_edited(self, VIREO_FIELD_MEMORY);
}

static void vireo_config_form_on_cpus(VireoConfigForm *self)
{
	vireo_config_form_edited(self, VIREO_FIELD_CPUS);
}

static void vireo_config_form_on_resolution(GObject *row, GParamSpec *pspec, gpointer data)
{
	vireo_config_form_edited(data, VIREO_FIELD_RESOLUTION);
}

static void vireo_config_form_on_boot(GObject *check, GParamSpec *pspec, gpointer data)
{
	VireoConfigForm *self = data;
	vireo_config_form_check_file(self, FILE_KERNEL);
	vireo_config_form_check_file(self, FILE_INITRD);
	if (!self->loading)
		vireo_config_form_refresh(self);
}

static void vireo_config_form_on_kernel(GObject *row, GParamSpec *pspec, gpointer data)
{
	VireoConfigForm *self = data;
	vireo_config_form_check_file(self, FILE_KERNEL);
	vireo_config_form_edited(self, VIREO_FIELD_KERNEL);
}

static void vireo_config_form_on_initrd(GObject *row, GParamSpec *pspec, gpointer data)
{
	VireoConfigForm *self = data;
	vireo_config_form_check_file(self, FILE_INITRD);
	vireo_config_form_edited(self, VIREO_FIELD_INITRD);
}

/* ---- setup ---- */

void vireo_config_form_set_service(VireoConfigForm *self, VireoService *service, VireoVm *editing)
{
	g_set_object(&self->service, service);
	self->editing = editing;
	vireo_config_form_refresh(self);
}

void vireo_config_form_set_config(VireoConfigForm *self, const VireoConfig *c)
{
	self->loading = TRUE;
	gtk_editable_set_text(GTK_EDITABLE(self->name_row), c->name ? c->name : "");
	gtk_spin_button_set_value(self->memory_spin, (double)c->memory_mib);
	gtk_spin_button_set_value(self->cpus_spin, (double)c->cpus);
	guint sel = 0;
	const char *const *res = vireo_config_resolutions();
	for (guint i = 0; res[i]; i++)
		if (g_strcmp0(res[i], c->resolution) == 0)
			sel = i;
	adw_combo_row_set_selected(self->resolution_row, sel);
	gtk_check_button_set_active(c->boot == VIREO_BOOT_KERNEL ? self->kernel_check : self->demo_check, TRUE);
	vireo_file_row_set_path(self->kernel_row, c->kernel);
	vireo_file_row_set_path(self->initrd_row, c->initrd);
	gtk_editable_set_text(GTK_EDITABLE(self->cmdline_row), c->cmdline ? c->cmdline : "");
	self->loading = FALSE;
	for (VireoField f = 0; f < VIREO_N_FIELDS; f++)
		g_clear_pointer(&self->server_error[f], g_free);
	vireo_config_form_check_file(self, FILE_KERNEL);
	vireo_config_form_check_file(self, FILE_INITRD);
	vireo_config_form_refresh(self);
}

void vireo_config_form_set_sections(VireoConfigForm *self, VireoFormSections shown)
{
	gtk_widget_set_visible(self->general_box, (shown & VIREO_FORM_GENERAL) != 0);
	gtk_widget_set_visible(self->hardware_box, (shown & VIREO_FORM_HARDWARE) != 0);
	gtk_widget_set_visible(self->boot_box, (shown & VIREO_FORM_BOOT) != 0);
}

void vireo_config_form_set_locked(VireoConfigForm *self, gboolean locked)
{
	self->locked = locked;
	gtk_widget_set_sensitive(self->hardware_box, !locked);
	gtk_widget_set_sensitive(self->boot_box, !locked);
	const char *why = locked ? _("These settings can change while the virtual machine is off.") : NULL;
	adw_preferences_group_set_description(self->hardware_group, why);
	adw_preferences_group_set_description(self->boot_group, why);
}

GtkWidget *vireo_config_form_get_row(VireoConfigForm *self, VireoField f)
{
	switch (f) {
	case VIREO_FIELD_NAME: return GTK_WIDGET(self->name_row);
	case VIREO_FIELD_MEMORY: return GTK_WIDGET(self->memory_spin);
	case VIREO_FIELD_CPUS: return GTK_WIDGET(self->cpus_spin);
	case VIREO_FIELD_KERNEL: return GTK_WIDGET(self->kernel_row);
	case VIREO_FIELD_INITRD: return GTK_WIDGET(self->initrd_row);
	case VIREO_FIELD_CMDLINE: return GTK_WIDGET(self->cmdline_row);
	case VIREO_FIELD_RESOLUTION: return GTK_WIDGET(self->resolution_row);
	default: return NULL;
	}
}

/* libadwaita 1.2's combo row shows its choice in an unnamed list view:
 * it gets the row's title, which is what it is about. */
static void vireo_config_form_name_lists(GtkWidget *w, const char *title)
{
	if (GTK_IS_LIST_VIEW(w))
		gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
	for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
		vireo_config_form_name_lists(c, title);
}

static void vireo_config_form_read_host(VireoConfigForm *self)
{
	/* procfs: no disk behind it, answered at once. */
	g_autofree char *meminfo = NULL;
	if (g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL))
		self->host.memory_mib = vireo_config_parse_meminfo(meminfo);
	self->host.cpus = (guint)g_get_num_processors();
	if (self->host.memory_mib) {
		g_autofree char *have = vireo_format_mib(self->host.memory_mib);
		/* Translators: the memory row's hint; %s is the host's memory, e.g. "15.6 GiB". */
		g_autofree char *hint = g_strdup_printf(_("In MiB, at least 128; this host has %s"), have);
		adw_action_row_set_subtitle(self->memory_row, hint);
	}
	g_autofree char *cpus = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "This host has %u processor",
							    "This host has %u processors", self->host.cpus),
						self->host.cpus);
	adw_action_row_set_subtitle(self->cpus_row, cpus);
}

static void vireo_config_form_dispose(GObject *object)
{
	VireoConfigForm *self = VIREO_CONFIG_FORM(object);
	for (int i = 0; i < N_FILES; i++) {
		if (self->file_cancel[i])
			g_cancellable_cancel(self->file_cancel[i]);
		g_clear_object(&self->file_cancel[i]);
		g_clear_pointer(&self->file_error[i], g_free);
	}
	for (VireoField f = 0; f < VIREO_N_FIELDS; f++)
		g_clear_pointer(&self->server_error[f], g_free);
	g_clear_object(&self->service);
	g_clear_object(&self->resolutions);
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_CONFIG_FORM);
	G_OBJECT_CLASS(vireo_config_form_parent_class)->dispose(object);
}

static void vireo_config_form_class_init(VireoConfigFormClass *klass)
{
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_config_form_dispose;
	vireo_config_form_signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
								 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
	g_type_ensure(VIREO_TYPE_FILE_ROW);
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-config-form.ui");
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, general_box);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, hardware_box);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, boot_box);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, hardware_group);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, boot_group);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, general_error);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, hardware_error);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, boot_error);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, name_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, cmdline_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, memory_spin);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, cpus_spin);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, memory_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, cpus_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, resolution_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, demo_check);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, kernel_check);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, kernel_row);
	gtk_widget_class_bind_template_child(wc, VireoConfigForm, initrd_row);
}

static void vireo_config_form_init(VireoConfigForm *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->resolutions = gtk_string_list_new(vireo_config_resolutions());
	adw_combo_row_set_model(self->resolution_row, G_LIST_MODEL(self->resolutions));
	vireo_config_form_name_lists(GTK_WIDGET(self->resolution_row),
				     adw_preferences_row_get_title(ADW_PREFERENCES_ROW(self->resolution_row)));
	vireo_config_form_read_host(self);
	g_signal_connect_swapped(self->name_row, "changed", G_CALLBACK(vireo_config_form_on_name), self);
	g_signal_connect_swapped(self->cmdline_row, "changed", G_CALLBACK(vireo_config_form_on_cmdline), self);
	g_signal_connect_swapped(self->memory_spin, "value-changed", G_CALLBACK(vireo_config_form_on_memory), self);
	g_signal_connect_swapped(self->cpus_spin, "value-changed", G_CALLBACK(vireo_config_form_on_cpus), self);
	g_signal_connect(self->resolution_row, "notify::selected", G_CALLBACK(vireo_config_form_on_resolution), self);
	g_signal_connect(self->kernel_check, "notify::active", G_CALLBACK(vireo_config_form_on_boot), self);
	g_signal_connect(self->kernel_row, "notify::path", G_CALLBACK(vireo_config_form_on_kernel), self);
	g_signal_connect(self->initrd_row, "notify::path", G_CALLBACK(vireo_config_form_on_initrd), self);
	g_auto(VireoConfig) defaults = { 0 };
	vireo_config_init(&defaults);
	vireo_config_form_set_config(self, &defaults);
}

GtkWidget *vireo_config_form_new(void)
{
	return g_object_new(VIREO_TYPE_CONFIG_FORM, NULL);
}
