// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-settings.h"
#include "vireo-vm-row.h"
#include "vireo-window.h"
#include "vireo-wizard.h"

struct _VireoWindow {
	AdwApplicationWindow parent_instance;

	/* template widgets */
	AdwWindowTitle *window_title;
	GtkRevealer *banner_revealer, *host_revealer;
	GtkLabel *banner_label, *host_label;
	AdwToastOverlay *toast_overlay;
	GtkStack *stack;
	GtkSpinner *spinner;
	AdwStatusPage *empty_page;
	GtkListBox *list_box;
	GtkButton *new_button, *empty_new_button, *retry_button;

	/* owned references */
	VireoService *service;
	GSettings *settings;
	GCancellable *cancel;          /* every request this window makes */
	VireoVm *selected;
	char *selected_path;           /* kept across a rename (the row is made anew) */

	gulong status_id, host_id, items_id, selected_changed_id;
	guint reselect_id;
};

G_DEFINE_FINAL_TYPE(VireoWindow, vireo_window, ADW_TYPE_APPLICATION_WINDOW)

/* ---- what the window shows ---- */

static void vireo_window_update_actions(VireoWindow *self)
{
	gboolean ready = vireo_service_get_status(self->service) == VIREO_SERVICE_READY;
	for (VireoAction a = 0; a < VIREO_N_ACTIONS; a++) {
		GAction *action = g_action_map_lookup_action(G_ACTION_MAP(self), vireo_action_name(a));
		gboolean on = ready && self->selected && vireo_vm_allows(self->selected, a);
		g_simple_action_set_enabled(G_SIMPLE_ACTION(action), on);
	}
}

static void vireo_window_update_page(VireoWindow *self)
{
	VireoServiceStatus st = vireo_service_get_status(self->service);
	guint n = g_list_model_get_n_items(vireo_service_get_machines(self->service));
	const char *page = st == VIREO_SERVICE_CONNECTING ? "connecting"
			   : st == VIREO_SERVICE_UNAVAILABLE ? "unavailable"
			   : n == 0			      ? "empty"
							      : "list";
	gtk_stack_set_visible_child_name(self->stack, page);
	gtk_spinner_set_spinning(self->spinner, st == VIREO_SERVICE_CONNECTING);
	if (st == VIREO_SERVICE_UNAVAILABLE) {
		g_autofree char *text = g_strdup_printf(_("Cannot reach the Vireo service (vireod): %s."),
							vireo_service_get_error(self->service));
		gtk_label_set_text(self->banner_label, text);
	}
	gtk_revealer_set_reveal_child(self->banner_revealer, st == VIREO_SERVICE_UNAVAILABLE);
	g_autofree char *subtitle = n ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u virtual machine",
								     "%u virtual machines", n), n)
				      : g_strdup("");
	adw_window_title_set_subtitle(self->window_title, st == VIREO_SERVICE_READY ? subtitle : "");
	vireo_window_update_actions(self);
}

static void vireo_window_update_host(VireoWindow *self)
{
	const char *kind = vireo_service_get_host_kind(self->service);
	gboolean limited = vireo_service_get_status(self->service) == VIREO_SERVICE_READY && *kind &&
			   !g_str_equal(kind, "kvm");
	if (limited) {
		g_autofree char *text = g_strdup_printf(_("This host’s KVM cannot run virtual machines directly: %s"),
							vireo_service_get_host_reason(self->service));
		gtk_label_set_text(self->host_label, text);
	}
	gtk_revealer_set_reveal_child(self->host_revealer, limited);
}

static void vireo_window_on_status(GObject *service, GParamSpec *pspec, gpointer data)
{
	vireo_window_update_page(data);
	vireo_window_update_host(data);
}

static void vireo_window_on_host(GObject *service, GParamSpec *pspec, gpointer data)
{
	vireo_window_update_host(data);
}

/* ---- selection ---- */

static void vireo_window_on_selected_changed(VireoVm *vm, const char *property, gpointer data)
{
	if (g_str_equal(property, "state"))
		vireo_window_update_actions(data);
}

static void vireo_window_set_selected(VireoWindow *self, VireoVm *vm)
{
	if (self->selected == vm)
		return;
	if (self->selected)
		g_clear_signal_handler(&self->selected_changed_id, self->selected);
	g_set_object(&self->selected, vm);
	if (vm) {
		self->selected_changed_id =
			g_signal_connect(vm, "changed", G_CALLBACK(vireo_window_on_selected_changed), self);
		g_free(self->selected_path);
		self->selected_path = g_strdup(vireo_vm_get_object_path(vm));
	}
	vireo_window_update_actions(self);
}

static GtkListBoxRow *vireo_window_row_of(VireoWindow *self, const char *path)
{
	GtkListBoxRow *row;
	for (int i = 0; path && (row = gtk_list_box_get_row_at_index(self->list_box, i)); i++)
		if (g_strcmp0(vireo_vm_get_object_path(vireo_vm_row_get_vm(VIREO_VM_ROW(row))), path) == 0)
			return row;
	return NULL;
}

/* After the list changed: the VM that was selected (renamed rows are made
 * anew), else the first, so that the shortcuts always have a target.
 * Also an idle callback, after the list box dropped a selected row. */
static gboolean vireo_window_reselect(gpointer data)
{
	VireoWindow *self = data;
	self->reselect_id = 0;
	GtkListBoxRow *row = vireo_window_row_of(self, self->selected_path);
	if (!row)
		row = gtk_list_box_get_row_at_index(self->list_box, 0);
	if (row && row != gtk_list_box_get_selected_row(self->list_box))
		gtk_list_box_select_row(self->list_box, row);
	if (!row)
		vireo_window_set_selected(self, NULL);
	return G_SOURCE_REMOVE;
}

static void vireo_window_queue_reselect(VireoWindow *self)
{
	if (!self->reselect_id)
		self->reselect_id = g_idle_add(vireo_window_reselect, self);
}

static void vireo_window_on_row_selected(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
	VireoWindow *self = data;
	if (row)
		vireo_window_set_selected(self, vireo_vm_row_get_vm(VIREO_VM_ROW(row)));
	else
		vireo_window_queue_reselect(self);
}

static void vireo_window_on_row_activated(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
	/* Double click or Enter: look at the VM, as in Hyper-V Manager. */
	gtk_widget_activate_action(GTK_WIDGET(row), "win.connect", NULL);
}

static void vireo_window_on_items_changed(GListModel *model, guint pos, guint removed, guint added, gpointer data)
{
	VireoWindow *self = data;
	/* A VM that left the list is no action's target any more, at once;
	 * the idle reselect finds it again if it only moved (a rename). */
	if (self->selected && !vireo_service_find(self->service, vireo_vm_get_object_path(self->selected)))
		vireo_window_set_selected(self, NULL);
	vireo_window_update_page(self);
	/* A VM came in: the list box made its row already (it bound the model
	 * first), so a renamed VM is selected again before anything else can
	 * ask. One that went may come back at once (a rename is a removal and
	 * an insertion): that waits for the main loop. */
	if (added) {
		g_clear_handle_id(&self->reselect_id, g_source_remove);
		vireo_window_reselect(self);
	} else {
		vireo_window_queue_reselect(self);
	}
}

void vireo_window_select(VireoWindow *self, const char *object_path)
{
	g_free(self->selected_path);
	self->selected_path = g_strdup(object_path);
	GtkListBoxRow *row = vireo_window_row_of(self, object_path);
	if (row) {
		gtk_list_box_select_row(self->list_box, row);
		gtk_widget_grab_focus(GTK_WIDGET(row));
	}
}

VireoVm *vireo_window_get_selected(VireoWindow *self)
{
	return self->selected;
}

static GtkWidget *vireo_window_make_row(gpointer item, gpointer data)
{
	return vireo_vm_row_new(VIREO_VM(item));
}

/* ---- messages ---- */

static void vireo_window_show_error(VireoWindow *self, const char *heading, const char *body)
{
	GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(self), heading, body);
	adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(d), "close", _("_Close"));
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(d), "close");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(d), "close");
	gtk_window_present(GTK_WINDOW(d));
}

static void vireo_window_toast(VireoWindow *self, const char *text)
{
	g_autofree char *escaped = g_markup_escape_text(text, -1);
	adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(escaped));
}

static char *vireo_window_failure_heading(VireoAction a, const char *name)
{
	switch (a) {
	case VIREO_ACTION_START: return g_strdup_printf(_("Could Not Start “%s”"), name);
	case VIREO_ACTION_CONNECT: return g_strdup_printf(_("Could Not Connect to “%s”"), name);
	case VIREO_ACTION_SHUT_DOWN: return g_strdup_printf(_("Could Not Shut Down “%s”"), name);
	case VIREO_ACTION_TURN_OFF: return g_strdup_printf(_("Could Not Turn Off “%s”"), name);
	case VIREO_ACTION_PAUSE: return g_strdup_printf(_("Could Not Pause “%s”"), name);
	case VIREO_ACTION_RESUME: return g_strdup_printf(_("Could Not Resume “%s”"), name);
	case VIREO_ACTION_RESET: return g_strdup_printf(_("Could Not Reset “%s”"), name);
	case VIREO_ACTION_SAVE: return g_strdup_printf(_("Could Not Save “%s”"), name);
	case VIREO_ACTION_DELETE: return g_strdup_printf(_("Could Not Delete “%s”"), name);
	default: return g_strdup(name);
	}
}

/* ---- actions ---- */

struct vireo_window_call {
	VireoWindow *self;
	VireoVm *vm;
	VireoAction action;
	char *name;                    /* as it was asked: a deleted VM has none */
};

static void vireo_window_call_free(struct vireo_window_call *c)
{
	g_object_unref(c->self);
	g_object_unref(c->vm);
	g_free(c->name);
	g_free(c);
}

static void vireo_window_on_called(GObject *src, GAsyncResult *res, gpointer data)
{
	struct vireo_window_call *c = data;
	g_autoptr(GError) e = NULL;
	if (!vireo_vm_call_finish(VIREO_VM(src), res, &e)) {
		if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_autofree char *heading = vireo_window_failure_heading(c->action, c->name);
			vireo_window_show_error(c->self, heading, e->message);
		}
	} else if (c->action == VIREO_ACTION_DELETE) {
		g_autofree char *text = g_strdup_printf(_("“%s” was deleted"), c->name);
		vireo_window_toast(c->self, text);
	}
	vireo_window_call_free(c);
}

static void vireo_window_call(VireoWindow *self, VireoVm *vm, VireoAction a)
{
	struct vireo_window_call *c = g_new0(struct vireo_window_call, 1);
	c->self = g_object_ref(self);
	c->vm = g_object_ref(vm);
	c->action = a;
	c->name = g_strdup(vireo_vm_get_name(vm));
	vireo_vm_call_async(vm, a, self->cancel, vireo_window_on_called, c);
}

static void vireo_window_call_notify(gpointer data, GClosure *closure)
{
	vireo_window_call_free(data);
}

static void vireo_window_on_delete_response(AdwMessageDialog *d, const char *response, gpointer data)
{
	struct vireo_window_call *c = data;
	if (g_str_equal(response, "delete"))
		vireo_window_call(c->self, c->vm, VIREO_ACTION_DELETE);
}

static void vireo_window_confirm_delete(VireoWindow *self, VireoVm *vm)
{
	g_autofree char *heading = g_strdup_printf(_("Delete “%s”?"), vireo_vm_get_name(vm));
	GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(self), heading,
					      _("Its settings are removed from this computer. This cannot be undone."));
	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(d), "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(d), "delete", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(d), "cancel");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(d), "cancel");
	struct vireo_window_call *c = g_new0(struct vireo_window_call, 1);
	c->self = g_object_ref(self);
	c->vm = g_object_ref(vm);
	c->action = VIREO_ACTION_DELETE;
	g_signal_connect_data(d, "response", G_CALLBACK(vireo_window_on_delete_response), c, vireo_window_call_notify, 0);
	gtk_window_present(GTK_WINDOW(d));
}

/* vireo-connect: $VIREO_CONNECT, the one built beside this program, the
 * one in $PATH, the installed one. */
static char *vireo_window_find_viewer(void)
{
	const char *env = g_getenv("VIREO_CONNECT");
	if (env && *env)
		return g_strdup(env);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self) {
		g_autofree char *dir = g_path_get_dirname(self);
		g_autofree char *built = g_build_filename(dir, "..", "viewer", "vireo-connect", NULL);
		if (g_file_test(built, G_FILE_TEST_IS_EXECUTABLE))
			return g_canonicalize_filename(built, NULL);
	}
	char *found = g_find_program_in_path("vireo-connect");
	return found ? found : g_build_filename(VIREO_BINDIR, "vireo-connect", NULL);
}

static void vireo_window_on_viewer_exit(GObject *src, GAsyncResult *res, gpointer data)
{
	/* Reaped; the viewer reports its own troubles in its own window. */
	(void)g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
}

static void vireo_window_connect(VireoWindow *self, VireoVm *vm)
{
	g_autofree char *viewer = vireo_window_find_viewer();
	const char *argv[] = { viewer, vireo_vm_get_id(vm), NULL };
	g_autoptr(GError) e = NULL;
	g_autoptr(GSubprocess) p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &e);
	if (!p) {
		g_autofree char *heading = vireo_window_failure_heading(VIREO_ACTION_CONNECT, vireo_vm_get_name(vm));
		g_autofree char *body = g_strdup_printf(_("The console viewer %s could not be started: %s"), viewer,
							e->message);
		vireo_window_show_error(self, heading, body);
		return;
	}
	g_subprocess_wait_async(p, NULL, vireo_window_on_viewer_exit, NULL);
}

static void vireo_window_open_settings(VireoWindow *self, VireoVm *vm)
{
	/* One Settings window per VM. */
	GList *windows = gtk_window_list_toplevels();
	for (GList *l = windows; l; l = l->next)
		if (VIREO_IS_SETTINGS(l->data) && vireo_settings_get_vm(l->data) == vm) {
			gtk_window_present(l->data);
			g_list_free(windows);
			return;
		}
	g_list_free(windows);
	gtk_window_present(GTK_WINDOW(vireo_settings_new(GTK_WINDOW(self), self->service, vm)));
}

static void vireo_window_on_action(GSimpleAction *action, GVariant *param, gpointer data)
{
	VireoWindow *self = data;
	const char *name = g_action_get_name(G_ACTION(action));
	VireoVm *vm = self->selected;
	if (!vm)
		return;
	VireoAction a = VIREO_N_ACTIONS;
	for (VireoAction i = 0; i < VIREO_N_ACTIONS; i++)
		if (g_str_equal(vireo_action_name(i), name))
			a = i;
	/* The state may have moved on since the action was enabled. */
	if (a == VIREO_N_ACTIONS || !vireo_vm_allows(vm, a))
		return;
	switch (a) {
	case VIREO_ACTION_CONNECT:
		vireo_window_connect(self, vm);
		break;
	case VIREO_ACTION_DELETE:
		vireo_window_confirm_delete(self, vm);
		break;
	case VIREO_ACTION_SETTINGS:
		vireo_window_open_settings(self, vm);
		break;
	default:
		vireo_window_call(self, vm, a);
		break;
	}
}

static void vireo_window_on_reconnect(GSimpleAction *action, GVariant *param, gpointer data)
{
	VireoWindow *self = data;
	vireo_service_reconnect(self->service);
}

static void vireo_window_on_created(VireoWizard *wizard, const char *path, gpointer data)
{
	vireo_window_select(VIREO_WINDOW(data), path);
}

GtkWindow *vireo_window_open_wizard(VireoWindow *self)
{
	VireoWizard *w = vireo_wizard_new(GTK_WINDOW(self), self->service, self->settings);
	g_signal_connect_object(w, "created", G_CALLBACK(vireo_window_on_created), self, 0);
	gtk_window_present(GTK_WINDOW(w));
	return GTK_WINDOW(w);
}

/* ---- the window ---- */

static gboolean vireo_window_close_request(GtkWindow *window)
{
	VireoWindow *self = VIREO_WINDOW(window);
	int w, h;
	gtk_window_get_default_size(window, &w, &h);
	g_settings_delay(self->settings);
	g_settings_set_int(self->settings, "window-width", w);
	g_settings_set_int(self->settings, "window-height", h);
	g_settings_set_boolean(self->settings, "window-maximized", gtk_window_is_maximized(window));
	g_settings_apply(self->settings);
	return GTK_WINDOW_CLASS(vireo_window_parent_class)->close_request(window);
}

static void vireo_window_dispose(GObject *object)
{
	VireoWindow *self = VIREO_WINDOW(object);
	if (self->cancel)
		g_cancellable_cancel(self->cancel);
	g_clear_object(&self->cancel);
	/* The list empties as it goes: nothing of that is to reselect. */
	if (self->list_box)
		g_signal_handlers_disconnect_by_data(self->list_box, self);
	g_clear_handle_id(&self->reselect_id, g_source_remove);
	vireo_window_set_selected(self, NULL);
	if (self->service) {
		g_clear_signal_handler(&self->status_id, self->service);
		g_clear_signal_handler(&self->host_id, self->service);
		g_clear_signal_handler(&self->items_id, vireo_service_get_machines(self->service));
	}
	g_clear_object(&self->service);
	g_clear_object(&self->settings);
	g_clear_pointer(&self->selected_path, g_free);
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_WINDOW);
	G_OBJECT_CLASS(vireo_window_parent_class)->dispose(object);
}

static void vireo_window_class_init(VireoWindowClass *klass)
{
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_window_dispose;
	GTK_WINDOW_CLASS(klass)->close_request = vireo_window_close_request;
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-window.ui");
	gtk_widget_class_bind_template_child(wc, VireoWindow, window_title);
	gtk_widget_class_bind_template_child(wc, VireoWindow, banner_revealer);
	gtk_widget_class_bind_template_child(wc, VireoWindow, host_revealer);
	gtk_widget_class_bind_template_child(wc, VireoWindow, banner_label);
	gtk_widget_class_bind_template_child(wc, VireoWindow, host_label);
	gtk_widget_class_bind_template_child(wc, VireoWindow, toast_overlay);
	gtk_widget_class_bind_template_child(wc, VireoWindow, stack);
	gtk_widget_class_bind_template_child(wc, VireoWindow, spinner);
	gtk_widget_class_bind_template_child(wc, VireoWindow, empty_page);
	gtk_widget_class_bind_template_child(wc, VireoWindow, list_box);
	gtk_widget_class_bind_template_child(wc, VireoWindow, new_button);
	gtk_widget_class_bind_template_child(wc, VireoWindow, empty_new_button);
	gtk_widget_class_bind_template_child(wc, VireoWindow, retry_button);
}

static void vireo_window_init(VireoWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->cancel = g_cancellable_new();
	adw_status_page_set_icon_name(self->empty_page, VIREO_APP_ID);
	/* A development build says so (GNOME's striped header bar). */
	if (g_str_equal(VIREO_PROFILE, "development"))
		gtk_widget_add_css_class(GTK_WIDGET(self), "devel");
	GActionEntry entries[VIREO_N_ACTIONS + 1];
	for (VireoAction a = 0; a < VIREO_N_ACTIONS; a++)
		entries[a] = (GActionEntry){ .name = vireo_action_name(a), .activate = vireo_window_on_action };
	entries[VIREO_N_ACTIONS] = (GActionEntry){ .name = "reconnect", .activate = vireo_window_on_reconnect };
	g_action_map_add_action_entries(G_ACTION_MAP(self), entries, G_N_ELEMENTS(entries), self);
	g_signal_connect(self->list_box, "row-selected", G_CALLBACK(vireo_window_on_row_selected), self);
	g_signal_connect(self->list_box, "row-activated", G_CALLBACK(vireo_window_on_row_activated), self);
}

VireoWindow *vireo_window_new(GtkApplication *app, VireoService *service, GSettings *settings)
{
	VireoWindow *self = g_object_new(VIREO_TYPE_WINDOW, "application", app, NULL);
	self->service = g_object_ref(service);
	self->settings = g_object_ref(settings);
	gtk_window_set_default_size(GTK_WINDOW(self), g_settings_get_int(settings, "window-width"),
				    g_settings_get_int(settings, "window-height"));
	if (g_settings_get_boolean(settings, "window-maximized"))
		gtk_window_maximize(GTK_WINDOW(self));
	GListModel *machines = vireo_service_get_machines(service);
	gtk_list_box_bind_model(self->list_box, machines, vireo_window_make_row, self, NULL);
	self->items_id = g_signal_connect(machines, "items-changed", G_CALLBACK(vireo_window_on_items_changed), self);
	self->status_id = g_signal_connect(service, "notify::status", G_CALLBACK(vireo_window_on_status), self);
	self->host_id = g_signal_connect(service, "notify::host-kind", G_CALLBACK(vireo_window_on_host), self);
	g_signal_connect_object(service, "notify::host-reason", G_CALLBACK(vireo_window_on_host), self, 0);
	vireo_window_update_page(self);
	vireo_window_update_host(self);
	vireo_window_queue_reselect(self);
	return self;
}
