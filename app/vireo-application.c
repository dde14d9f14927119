// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"
#include "vireo-config.h"   /* the project's: VIREO_VERSION */

#include <locale.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "vireo-application.h"
#include "vireo-window.h"

struct _VireoApplication {
	AdwApplication parent_instance;

	/* owned references */
	VireoService *service;
	GSettings *settings;
};

G_DEFINE_FINAL_TYPE(VireoApplication, vireo_application, ADW_TYPE_APPLICATION)

/* The shortcuts, with the actions they trigger; Hyper-V's own where it has
 * them (vmconnect: Ctrl+S Start, Ctrl+D Shut Down, Ctrl+O Turn Off, Ctrl+P
 * Pause, Ctrl+R Resume, Ctrl+E Reset, Ctrl+A Save). help-overlay.ui lists
 * the same. */
static const struct {
	const char *action;
	const char *accels[3];
} vireo_application_accels[] = {
	{ "app.new-vm", { "<Control>n", NULL } },
	{ "app.quit", { "<Control>q", NULL } },
	{ "window.close", { "<Control>w", NULL } },
	{ "win.start", { "<Control>s", NULL } },
	{ "win.connect", { "<Control>Return", NULL } },
	{ "win.shut-down", { "<Control>d", NULL } },
	{ "win.turn-off", { "<Control>o", NULL } },
	{ "win.pause", { "<Control>p", NULL } },
	{ "win.resume", { "<Control>r", NULL } },
	{ "win.reset", { "<Control>e", NULL } },
	{ "win.save", { "<Control>a", NULL } },
	{ "win.delete", { "Delete", NULL } },
	{ "win.settings", { "<Alt>Return", NULL } },
};

VireoService *vireo_application_get_service(VireoApplication *self)
{
	return self->service;
}

GSettings *vireo_application_get_settings(VireoApplication *self)
{
	return self->settings;
}

static VireoWindow *vireo_application_window(VireoApplication *self)
{
	GtkWindow *w = gtk_application_get_active_window(GTK_APPLICATION(self));
	if (VIREO_IS_WINDOW(w))
		return VIREO_WINDOW(w);
	for (GList *l = gtk_application_get_windows(GTK_APPLICATION(self)); l; l = l->next)
		if (VIREO_IS_WINDOW(l->data))
			return l->data;
	return NULL;
}

static void vireo_application_activate(GApplication *app)
{
	VireoApplication *self = VIREO_APPLICATION(app);
	VireoWindow *w = vireo_application_window(self);
	if (!w)
		w = vireo_window_new(GTK_APPLICATION(app), self->service, self->settings);
	gtk_window_present(GTK_WINDOW(w));
}

static void vireo_application_on_new_vm(GSimpleAction *action, GVariant *param, gpointer data)
{
	VireoApplication *self = data;
	VireoWindow *w = vireo_application_window(self);
	if (!w) {
		w = vireo_window_new(GTK_APPLICATION(self), self->service, self->settings);
		gtk_window_present(GTK_WINDOW(w));
	}
	vireo_window_open_wizard(w);
}

static void vireo_application_on_about(GSimpleAction *action, GVariant *param, gpointer data)
{
	VireoApplication *self = data;
	GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(self));
	static const char *developers[] = { "The Vireo developers", NULL };
	GtkWidget *about = g_object_new(ADW_TYPE_ABOUT_WINDOW,
		"transient-for", parent,
		"application-icon", VIREO_APP_ID,
		"application-name", _("Vireo"),
		"developer-name", _("The Vireo developers"),
		"developers", developers,
		"version", VIREO_VERSION,
		"comments", _("Virtual machines with the Hyper-V model on KVM: stock Linux guests drive its synthetic devices with their own Hyper-V drivers."),
		"license-type", GTK_LICENSE_GPL_2_0,
		"debug-info", vireo_service_get_host_reason(self->service),
		NULL);
	gtk_window_present(GTK_WINDOW(about));
}

static void vireo_application_on_quit(GSimpleAction *action, GVariant *param, gpointer data)
{
	g_application_quit(G_APPLICATION(data));
}

/* The installed schema, else the build tree's (running uninstalled). */
static GSettings *vireo_application_open_settings(void)
{
	GSettingsSchemaSource *installed = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = installed ? g_settings_schema_source_lookup(installed, VIREO_APP_ID, TRUE) : NULL;
	if (!schema) {
		g_autoptr(GSettingsSchemaSource) built =
			g_settings_schema_source_new_from_directory(VIREO_BUILD_SCHEMA_DIR, installed, FALSE, NULL);
		if (built)
			schema = g_settings_schema_source_lookup(built, VIREO_APP_ID, FALSE);
	}
	if (!schema) {
		g_printerr("vireo: the settings schema %s is neither installed nor in %s\n", VIREO_APP_ID,
			   VIREO_BUILD_SCHEMA_DIR);
		exit(1);
	}
	return g_settings_new_full(schema, NULL, NULL);
}

static void vireo_application_startup(GApplication *app)
{
	VireoApplication *self = VIREO_APPLICATION(app);
	G_APPLICATION_CLASS(vireo_application_parent_class)->startup(app);
	static const GActionEntry entries[] = {
		{ .name = "new-vm", .activate = vireo_application_on_new_vm },
		{ .name = "about", .activate = vireo_application_on_about },
		{ .name = "quit", .activate = vireo_application_on_quit },
	};
	g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), self);
	for (gsize i = 0; i < G_N_ELEMENTS(vireo_application_accels); i++)
		gtk_application_set_accels_for_action(GTK_APPLICATION(app), vireo_application_accels[i].action,
						      vireo_application_accels[i].accels);
	gtk_window_set_default_icon_name(VIREO_APP_ID);
	self->settings = vireo_application_open_settings();
	self->service = vireo_service_new();
}

static void vireo_application_shutdown(GApplication *app)
{
	VireoApplication *self = VIREO_APPLICATION(app);
	G_APPLICATION_CLASS(vireo_application_parent_class)->shutdown(app);
	g_clear_object(&self->service);
	g_clear_object(&self->settings);
}

static void vireo_application_dispose(GObject *object)
{
	VireoApplication *self = VIREO_APPLICATION(object);
	g_clear_object(&self->service);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(vireo_application_parent_class)->dispose(object);
}

static void vireo_application_class_init(VireoApplicationClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = vireo_application_dispose;
	G_APPLICATION_CLASS(klass)->activate = vireo_application_activate;
	G_APPLICATION_CLASS(klass)->startup = vireo_application_startup;
	G_APPLICATION_CLASS(klass)->shutdown = vireo_application_shutdown;
}

static void vireo_application_init(VireoApplication *self)
{
}

VireoApplication *vireo_application_new(void)
{
	/* The development build has its own id (and icon, and settings), so
	 * that it runs beside an installed Vireo. Resources are at one path
	 * for both. */
	return g_object_new(VIREO_TYPE_APPLICATION, "application-id", VIREO_APP_ID, "flags", G_APPLICATION_DEFAULT_FLAGS,
			    "resource-base-path", "/org/vireo/Vireo", NULL);
}

void vireo_application_init_i18n(void)
{
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, VIREO_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
}
