// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-file-row.h"

struct _VireoFileRow {
	AdwActionRow parent_instance;

	/* template widgets */
	GtkButton *choose_button, *clear_button;

	/* owned references */
	char *path;
	GtkFileChooserNative *chooser;
	gboolean optional;
};

enum {
	PROP_0,
	PROP_PATH,
	PROP_OPTIONAL,
	N_PROPS,
};

static GParamSpec *vireo_file_row_props[N_PROPS];

G_DEFINE_FINAL_TYPE(VireoFileRow, vireo_file_row, ADW_TYPE_ACTION_ROW)

static void vireo_file_row_update(VireoFileRow *self)
{
	gboolean has = self->path && *self->path;
	adw_action_row_set_subtitle(ADW_ACTION_ROW(self), has ? self->path : _("None chosen"));
	gtk_widget_set_visible(GTK_WIDGET(self->clear_button), self->optional && has);
	const char *title = adw_preferences_row_get_title(ADW_PREFERENCES_ROW(self));
	/* Translators: the button that opens the file chooser for the row's file, e.g. "Choose the Kernel". */
	g_autofree char *choose = g_strdup_printf(_("Choose the %s"), title ? title : "");
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->choose_button), GTK_ACCESSIBLE_PROPERTY_LABEL, choose, -1);
	g_autofree char *clear = g_strdup_printf(_("Clear the %s"), title ? title : "");
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->clear_button), GTK_ACCESSIBLE_PROPERTY_LABEL, clear, -1);
}

const char *vireo_file_row_get_path(VireoFileRow *self)
{
	return self->path ? self->path : "";
}

void vireo_file_row_set_path(VireoFileRow *self, const char *path)
{
	g_return_if_fail(VIREO_IS_FILE_ROW(self));
	if (g_strcmp0(path ? path : "", vireo_file_row_get_path(self)) == 0)
		return;
	g_free(self->path);
	self->path = g_strdup(path ? path : "");
	vireo_file_row_update(self);
	g_object_notify_by_pspec(G_OBJECT(self), vireo_file_row_props[PROP_PATH]);
}

static void vireo_file_row_on_clear(VireoFileRow *self)
{
	vireo_file_row_set_path(self, "");
}

static void vireo_file_row_on_response(GtkNativeDialog *dialog, int response, gpointer data)
{
	VireoFileRow *self = data;
	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
		g_autofree char *path = file ? g_file_get_path(file) : NULL;
		if (path)
			vireo_file_row_set_path(self, path);
	}
	gtk_native_dialog_destroy(dialog);
	g_clear_object(&self->chooser);
}

void vireo_file_row_choose(VireoFileRow *self)
{
	if (self->chooser)
		return;
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
	const char *title = adw_preferences_row_get_title(ADW_PREFERENCES_ROW(self));
	self->chooser = gtk_file_chooser_native_new(title, GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
						    GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
	if (self->path && *self->path) {
		g_autoptr(GFile) file = g_file_new_for_path(self->path);
		gtk_file_chooser_set_file(GTK_FILE_CHOOSER(self->chooser), file, NULL);
	}
	g_signal_connect(self->chooser, "response", G_CALLBACK(vireo_file_row_on_response), self);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void vireo_file_row_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	VireoFileRow *self = VIREO_FILE_ROW(object);
	switch (id) {
	case PROP_PATH:
		g_value_set_string(value, vireo_file_row_get_path(self));
		break;
	case PROP_OPTIONAL:
		g_value_set_boolean(value, self->optional);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void vireo_file_row_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	VireoFileRow *self = VIREO_FILE_ROW(object);
	switch (id) {
	case PROP_PATH:
		vireo_file_row_set_path(self, g_value_get_string(value));
		break;
	case PROP_OPTIONAL:
		self->optional = g_value_get_boolean(value);
		vireo_file_row_update(self);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void vireo_file_row_on_title(GObject *object, GParamSpec *pspec, gpointer data)
{
	vireo_file_row_update(VIREO_FILE_ROW(object));
}

static void vireo_file_row_dispose(GObject *object)
{
	VireoFileRow *self = VIREO_FILE_ROW(object);
	if (self->chooser) {
		g_signal_handlers_disconnect_by_data(self->chooser, self);
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
		g_clear_object(&self->chooser);
	}
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_FILE_ROW);
	G_OBJECT_CLASS(vireo_file_row_parent_class)->dispose(object);
}

static void vireo_file_row_finalize(GObject *object)
{
	g_free(VIREO_FILE_ROW(object)->path);
	G_OBJECT_CLASS(vireo_file_row_parent_class)->finalize(object);
}

static void vireo_file_row_class_init(VireoFileRowClass *klass)
{
	GObjectClass *oc = G_OBJECT_CLASS(klass);
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	oc->get_property = vireo_file_row_get_property;
	oc->set_property = vireo_file_row_set_property;
	oc->dispose = vireo_file_row_dispose;
	oc->finalize = vireo_file_row_finalize;
	vireo_file_row_props[PROP_PATH] = g_param_spec_string("path", NULL, NULL, "",
							      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
								      G_PARAM_EXPLICIT_NOTIFY);
	vireo_file_row_props[PROP_OPTIONAL] = g_param_spec_boolean("optional", NULL, NULL, FALSE,
								   G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(oc, N_PROPS, vireo_file_row_props);
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-file-row.ui");
	gtk_widget_class_bind_template_child(wc, VireoFileRow, choose_button);
	gtk_widget_class_bind_template_child(wc, VireoFileRow, clear_button);
	gtk_widget_class_bind_template_callback(wc, vireo_file_row_on_clear);
	gtk_widget_class_bind_template_callback(wc, vireo_file_row_choose);
}

static void vireo_file_row_init(VireoFileRow *self)
{
	self->path = g_strdup("");
	gtk_widget_init_template(GTK_WIDGET(self));
	g_signal_connect(self, "notify::title", G_CALLBACK(vireo_file_row_on_title), NULL);
	vireo_file_row_update(self);
}
