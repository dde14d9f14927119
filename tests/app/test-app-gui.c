// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo, the manager, in a real X server (Xvfb, started by run-gui.py) with
 * a real vireod on a private bus (GTestDBus): the empty state, the New VM
 * wizard with its checks and a refusal that only vireod can make, creating
 * through it, Settings, Connect, the context menu, keyboard shortcuts sent
 * as X key events (xdotool), starting the VM, Delete with its confirmation,
 * and the banner while vireod is gone. Every control on screen at each
 * step must have an accessible name; the main window and the wizard are
 * written as PNG screenshots.
 *
 * Starting depends on the host. Where vireod can run VMs (HostKind "kvm":
 * directly, or inside the nested test host) the VM boots the demo guest
 * and the test sees it run: state, live thumbnail, CPU, memory and uptime,
 * Pause and Resume by their shortcuts, Settings locked but for the name,
 * then Shut Down through the guest. Elsewhere Start must fail with
 * vireod's own message in a dialog; VIREO_GUI_NEED_GUEST=1 turns that into
 * a failure. Nothing here decides by the host alone: a vireod that starts
 * VMs on a limited host (an emulated one) gets the running path.
 *
 * Where vireod runs its VMs inside an emulated host (EmulatedHost, slow)
 * the row and the Settings window say "emulated host: slow"; elsewhere
 * they must not. run-gui.py says which this run is
 * (VIREO_GUI_EXPECT_EMULATED), and vireod must agree.
 *
 * Environment: VIREOD, XDOTOOL, CONSOLE_CLIENT, VIREO_SCREENSHOT_DIR, DISPLAY,
 * VIREO_GUI_EXPECT_EMULATED, and optionally VIREO_GUI_NEED_GUEST,
 * VIREO_GUI_TIMEOUT_S, VIREO_GUI_HOME.
 */
#include "vireo-app-config.h"
#include "vireo-config.h"   /* the project's: VIREO_VERSION */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <adwaita.h>
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>

#include "vireo-application.h"
#include "vireo-config-form.h"
#include "vireo-file-row.h"
#include "vireo-settings.h"
#include "vireo-thumb.h"
#include "vireo-thumbnail.h"
#include "vireo-vm-row.h"
#include "vireo-window.h"
#include "vireo-wizard.h"

#define BUS_NAME "org.vireo.Vireo1"
#define MANAGER_PATH "/org/vireo/Vireo1"
/* How long one step may take (a boot of the demo guest in the nested host
 * takes tens of seconds; VIREO_GUI_TIMEOUT_S overrides). */
#define STEP_TIMEOUT_S 120
/* The main loop wakes at least this often while a test waits. */
#define TICK_MS 50

static GTestDBus *bus;
static GSubprocess *vireod;
static VireoApplication *app;
static char *home, *connect_args, *shot_dir;
static int step_timeout_s = STEP_TIMEOUT_S;

/* ---- waiting ---- */

static gboolean on_tick(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

/* The VM whose guest runs: no wait outlasts its failure (a guest that
 * crashed shows nothing more, and the reason is what a reader needs). */
static const char *running_vm;
static void fail_if_running_vm_failed(const char *file, int line, const char *what);

/* Runs the main loop until cond holds; fails the test after the step timeout. */
#define WAIT_FOR(cond, ...) \
	G_STMT_START { \
		gint64 end_ = g_get_monotonic_time() + (gint64)step_timeout_s * G_USEC_PER_SEC; \
		while (!(cond)) { \
			if (g_get_monotonic_time() > end_) \
				g_error("%s:%d: waited %d s for %s: %s", __FILE__, __LINE__, step_timeout_s, #cond, \
					g_strdup_printf(__VA_ARGS__)); \
			fail_if_running_vm_failed(__FILE__, __LINE__, #cond); \
			g_main_context_iteration(NULL, TRUE); \
		} \
	} G_STMT_END

/* Let what is pending run (signals, redraws) without waiting for more. */
static void settle(void)
{
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static const char *env(const char *name)
{
	const char *v = g_getenv(name);
	if (!v || !*v)
		g_error("%s is not set (run me through tests/app/run-gui.py)", name);
	return v;
}

/* ---- vireod ---- */

static GDBusConnection *session(void)
{
	g_autoptr(GError) e = NULL;
	GDBusConnection *c = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &e);
	g_assert_no_error(e);
	return c;
}

static gboolean name_owned(void)
{
	g_autoptr(GDBusConnection) c = session();
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
							    "org.freedesktop.DBus", "NameHasOwner",
							    g_variant_new("(s)", BUS_NAME), G_VARIANT_TYPE("(b)"),
							    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean has = FALSE;
	if (r)
		g_variant_get(r, "(b)", &has);
	return has;
}

static void vireod_start(void)
{
	g_autoptr(GError) e = NULL;
	vireod = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &e, env("VIREOD"), NULL);
	g_assert_no_error(e);
	WAIT_FOR(name_owned(), "vireod to take %s", BUS_NAME);
}

static void vireod_stop(void)
{
	g_subprocess_send_signal(vireod, SIGTERM);
	g_autoptr(GError) e = NULL;
	g_assert_true(g_subprocess_wait(vireod, NULL, &e));
	g_assert_cmpint(g_subprocess_get_exit_status(vireod), ==, 0);
	g_clear_object(&vireod);
}

/* vireod's own view, through a proxy of the test's: what the UI did must be
 * what vireod has. */
static VireoMachine *vireod_machine(const char *name)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(VireoManager) m = vireo_manager_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
									BUS_NAME, MANAGER_PATH, NULL, &e);
	g_assert_no_error(e);
	g_autofree char *path = NULL;
	if (!vireo_manager_call_find_machine_sync(m, name, &path, NULL, NULL))
		return NULL;
	VireoMachine *vm = vireo_machine_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
							       path, NULL, &e);
	g_assert_no_error(e);
	return vm;
}

static guint vireod_count(void)
{
	g_autoptr(VireoManager) m =
		vireo_manager_proxy_new_for_bus_sync(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME, MANAGER_PATH,
						     NULL, NULL);
	g_auto(GStrv) paths = NULL;
	g_assert_true(vireo_manager_call_list_machines_sync(m, &paths, NULL, NULL));
	return g_strv_length(paths);
}

/* ---- the UI ---- */

#define CHILD(w, type, name) ((gpointer)gtk_widget_get_template_child(GTK_WIDGET(w), type, name))

static VireoWindow *main_window(void)
{
	for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l; l = l->next)
		if (VIREO_IS_WINDOW(l->data))
			return l->data;
	g_error("no main window");
}

/* The visible toplevel of this type, NULL when there is none. */
static gpointer toplevel(GType type)
{
	GList *all = gtk_window_list_toplevels();
	gpointer found = NULL;
	for (GList *l = all; l && !found; l = l->next)
		if (G_TYPE_CHECK_INSTANCE_TYPE(l->data, type) && gtk_widget_get_visible(l->data))
			found = l->data;
	g_list_free(all);
	return found;
}

static const char *stack_page(void)
{
	GtkStack *stack = CHILD(main_window(), VIREO_TYPE_WINDOW, "stack");
	return gtk_stack_get_visible_child_name(stack);
}

static GtkListBox *list_box(void)
{
	return CHILD(main_window(), VIREO_TYPE_WINDOW, "list_box");
}

static VireoVmRow *row_named(const char *name)
{
	GtkListBoxRow *row;
	for (int i = 0; (row = gtk_list_box_get_row_at_index(list_box(), i)); i++)
		if (g_strcmp0(vireo_vm_get_name(vireo_vm_row_get_vm(VIREO_VM_ROW(row))), name) == 0)
			return VIREO_VM_ROW(row);
	return NULL;
}

static const char *row_label(VireoVmRow *row, const char *label)
{
	return gtk_label_get_text(CHILD(row, VIREO_TYPE_VM_ROW, label));
}

static guint row_count(void)
{
	guint n = 0;
	while (gtk_list_box_get_row_at_index(list_box(), (int)n))
		n++;
	return n;
}

static gboolean action_enabled(const char *name)
{
	return g_action_group_get_action_enabled(G_ACTION_GROUP(main_window()), name);
}

static void activate(const char *detailed)
{
	/* As a menu item or a shortcut would: through the widget tree; an
	 * action that is disabled would do nothing, silently. */
	g_assert_true(g_str_has_prefix(detailed, "win."));
	VireoVm *sel = vireo_window_get_selected(main_window());
	if (!action_enabled(detailed + 4))
		g_error("%s is disabled (selected: %s, %s)", detailed, sel ? vireo_vm_get_name(sel) : "none",
			sel ? vireo_vm_get_state(sel) : "");
	g_assert_true(gtk_widget_activate_action(GTK_WIDGET(main_window()), detailed, NULL));
}

static void click(gpointer button)
{
	g_assert_true(gtk_widget_get_sensitive(button));
	g_signal_emit_by_name(button, "clicked");
}

static gboolean label_has(gpointer label, const char *text)
{
	return gtk_widget_get_visible(label) && strstr(gtk_label_get_text(label), text) != NULL;
}

/* ---- the emulated host ---- */

#define EMULATED_TAG "emulated host: slow"

/* run-gui.py's word on where this run's vireod runs its VMs. */
static gboolean expect_emulated(void)
{
	const char *v = env("VIREO_GUI_EXPECT_EMULATED");
	if (!g_str_equal(v, "0") && !g_str_equal(v, "1"))
		g_error("VIREO_GUI_EXPECT_EMULATED is \"%s\", not 0 or 1", v);
	return g_str_equal(v, "1");
}

/* A label on screen under w (mapped, so a person sees it) saying text. */
static GtkWidget *shown_label(GtkWidget *w, const char *text)
{
	if (!gtk_widget_get_mapped(w))
		return NULL;
	if (GTK_IS_LABEL(w) && g_str_equal(gtk_label_get_text(GTK_LABEL(w)), text))
		return w;
	for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = shown_label(c, text);
		if (found)
			return found;
	}
	return NULL;
}

static gboolean tag_shown(gpointer w)
{
	return shown_label(GTK_WIDGET(w), EMULATED_TAG) != NULL;
}

/* The manager's own proxy says EmulatedHost changed, as vireod's
 * PropertiesChanged would make it (vireod's value is fixed for its life). */
static void fake_emulated_host(VireoVm *vm, gboolean emulated)
{
	GDBusProxy *proxy = G_DBUS_PROXY(vireo_vm_get_machine(vm));
	g_dbus_proxy_set_cached_property(proxy, "EmulatedHost", g_variant_new_boolean(emulated));
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "EmulatedHost", g_variant_new_boolean(emulated));
	const char *const none[] = { NULL };
	g_signal_emit_by_name(proxy, "g-properties-changed", g_variant_builder_end(&b), none);
	g_assert_cmpint(vireo_vm_get_emulated_host(vm), ==, emulated);
}

/* ---- X key events, as a person types them ---- */

struct done {
	gboolean done;
};

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct done *d = data;
	(void)g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
	d->done = TRUE;
}

static void keys(GtkWidget *window, const char *combo)
{
	GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(window));
	g_assert_true(GDK_IS_X11_SURFACE(surface));
	g_autofree char *xid = g_strdup_printf("%lu", (unsigned long)gdk_x11_surface_get_xid(surface));
	const char *argv[] = { env("XDOTOOL"), "windowfocus", "--sync", xid, "key", "--clearmodifiers", combo, NULL };
	g_autoptr(GError) e = NULL;
	g_autoptr(GSubprocess) p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &e);
	g_assert_no_error(e);
	/* The events reach us while xdotool runs: keep the loop turning. */
	struct done d = { 0 };
	g_subprocess_wait_async(p, NULL, on_done, &d);
	WAIT_FOR(d.done, "xdotool %s", combo);
	g_assert_true(g_subprocess_get_successful(p));
}

/* ---- accessibility ---- */

static gboolean needs_name(GtkAccessibleRole role)
{
	switch (role) {
	case GTK_ACCESSIBLE_ROLE_BUTTON:
	case GTK_ACCESSIBLE_ROLE_CHECKBOX:
	case GTK_ACCESSIBLE_ROLE_COMBO_BOX:
	case GTK_ACCESSIBLE_ROLE_LINK:
	case GTK_ACCESSIBLE_ROLE_LIST:
	case GTK_ACCESSIBLE_ROLE_LIST_ITEM:
	case GTK_ACCESSIBLE_ROLE_MENU_ITEM:
	case GTK_ACCESSIBLE_ROLE_MENU_ITEM_CHECKBOX:
	case GTK_ACCESSIBLE_ROLE_MENU_ITEM_RADIO:
	case GTK_ACCESSIBLE_ROLE_RADIO:
	case GTK_ACCESSIBLE_ROLE_SEARCH_BOX:
	case GTK_ACCESSIBLE_ROLE_SLIDER:
	case GTK_ACCESSIBLE_ROLE_SPIN_BUTTON:
	case GTK_ACCESSIBLE_ROLE_SWITCH:
	case GTK_ACCESSIBLE_ROLE_TAB:
	case GTK_ACCESSIBLE_ROLE_TEXT_BOX:
	case GTK_ACCESSIBLE_ROLE_IMG:
		return TRUE;
	default:
		return FALSE;
	}
}

/* Text a person would read inside w (a button's label, a row's title). */
static gboolean has_text_inside(GtkWidget *w)
{
	if (GTK_IS_LABEL(w) && gtk_widget_get_visible(w) && *gtk_label_get_text(GTK_LABEL(w)))
		return TRUE;
	for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
		if (has_text_inside(c))
			return TRUE;
	return FALSE;
}

/*
 * A name as assistive technologies compute it: the label property, a
 * labelled-by relation, or (for controls that take it from their content)
 * visible text inside; a text box inside a named entry row or spin button
 * has its container's.
 */
static gboolean has_accessible_name(GtkWidget *w)
{
	GtkAccessible *a = GTK_ACCESSIBLE(w);
	if (gtk_test_accessible_has_property(a, GTK_ACCESSIBLE_PROPERTY_LABEL)) {
		g_autofree char *not_empty = gtk_test_accessible_check_property(a, GTK_ACCESSIBLE_PROPERTY_LABEL, "");
		return not_empty != NULL;
	}
	if (gtk_test_accessible_has_relation(a, GTK_ACCESSIBLE_RELATION_LABELLED_BY))
		return TRUE;
	GtkAccessibleRole role = gtk_accessible_get_accessible_role(a);
	if (role == GTK_ACCESSIBLE_ROLE_IMG)
		return FALSE;
	if (role != GTK_ACCESSIBLE_ROLE_TEXT_BOX && role != GTK_ACCESSIBLE_ROLE_LIST && has_text_inside(w))
		return TRUE;
	if (role == GTK_ACCESSIBLE_ROLE_TEXT_BOX) {
		GtkWidget *row = gtk_widget_get_ancestor(w, ADW_TYPE_ENTRY_ROW);
		if (row && *adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row)))
			return TRUE;
		GtkWidget *spin = gtk_widget_get_ancestor(w, GTK_TYPE_SPIN_BUTTON);
		if (spin && spin != w && has_accessible_name(spin))
			return TRUE;
	}
	if (ADW_IS_PREFERENCES_ROW(w) && *adw_preferences_row_get_title(ADW_PREFERENCES_ROW(w)))
		return TRUE;
	return FALSE;
}

static guint check_names(GtkWidget *w, const char *where, GString *missing)
{
	if (!gtk_widget_get_mapped(w))
		return 0;
	guint n = 0;
	GtkAccessibleRole role = gtk_accessible_get_accessible_role(GTK_ACCESSIBLE(w));
	/* Pictures are named where they say something (a VM's screen); icons
	 * beside text are decoration. */
	gboolean decoration = role == GTK_ACCESSIBLE_ROLE_IMG && !GTK_IS_PICTURE(w);
	if (needs_name(role) && !decoration) {
		n++;
		if (!has_accessible_name(w))
			g_string_append_printf(missing, "%s%s %s (%s) in %s", missing->len ? "; " : "", G_OBJECT_TYPE_NAME(w),
					       gtk_widget_get_name(w),
					       g_enum_get_value(g_type_class_peek(GTK_TYPE_ACCESSIBLE_ROLE), role)->value_nick,
					       G_OBJECT_TYPE_NAME(gtk_widget_get_parent(w) ? gtk_widget_get_parent(w) : w));
	}
	for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
		n += check_names(c, where, missing);
	return n;
}

/* Every control of every visible window has a name. */
static void assert_accessible(const char *where)
{
	g_autoptr(GString) missing = g_string_new(NULL);
	guint n = 0;
	GList *all = gtk_window_list_toplevels();
	for (GList *l = all; l; l = l->next)
		n += check_names(l->data, where, missing);
	g_list_free(all);
	if (missing->len)
		g_error("%s: controls without an accessible name:%s", where, missing->str);
	g_assert_cmpuint(n, >, 0);
	g_test_message("%s: %u controls, each with an accessible name", where, n);
}

/* ---- screenshots ---- */

static gboolean drawn(GtkWidget *w)
{
	return gtk_widget_get_mapped(w) && gtk_widget_get_width(w) > 0;
}

static void on_painted(GdkFrameClock *clock, gpointer data)
{
	(*(guint *)data)++;
}

/* A frame painted after now: what the window shows is laid out and drawn. */
static void wait_painted(GtkWidget *window, const char *what)
{
	WAIT_FOR(drawn(window), "%s to be mapped", what);
	GdkFrameClock *clock = gtk_widget_get_frame_clock(window);
	guint paints = 0;
	gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_painted), &paints);
	gtk_widget_queue_draw(window);
	WAIT_FOR(paints >= 1, "%s to be painted", what);
	g_signal_handler_disconnect(clock, id);
}

static void screenshot(GtkWidget *window, const char *name)
{
	wait_painted(window, name);
	int w = gtk_widget_get_width(window), h = gtk_widget_get_height(window);
	g_autoptr(GdkPaintable) p = gtk_widget_paintable_new(window);
	GtkSnapshot *s = gtk_snapshot_new();
	gdk_paintable_snapshot(p, s, w, h);
	g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(s);
	g_assert_nonnull(node);
	GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(window));
	g_autoptr(GdkTexture) t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
	g_mkdir_with_parents(shot_dir, 0755);
	g_autofree char *path = g_build_filename(shot_dir, name, NULL);
	g_assert_true(gdk_texture_save_to_png(t, path));
	g_test_message("screenshot %s: %dx%d", path, w, h);
}

/* ---- the tests ---- */

static void test_empty_state(void)
{
	WAIT_FOR(g_strcmp0(stack_page(), "empty") == 0, "the empty state (now %s)", stack_page());
	AdwStatusPage *page = CHILD(main_window(), VIREO_TYPE_WINDOW, "empty_page");
	g_assert_cmpstr(adw_status_page_get_title(page), ==, "No Virtual Machines");
	GtkButton *b = CHILD(main_window(), VIREO_TYPE_WINDOW, "empty_new_button");
	g_assert_cmpstr(gtk_actionable_get_action_name(GTK_ACTIONABLE(b)), ==, "app.new-vm");
	g_assert_false(gtk_revealer_get_reveal_child(CHILD(main_window(), VIREO_TYPE_WINDOW, "banner_revealer")));
	g_assert_false(action_enabled("start"));
	g_assert_false(action_enabled("delete"));
	/* Its picture is the application's icon, found even uninstalled. */
	g_assert_cmpstr(adw_status_page_get_icon_name(page), ==, VIREO_APP_ID);
	g_assert_true(gtk_icon_theme_has_icon(gtk_icon_theme_get_for_display(gdk_display_get_default()), VIREO_APP_ID));
	assert_accessible("the empty state");
}

/* The shortcuts window (it lists what the accelerators do) and About. */
static void test_help_and_about(void)
{
	gtk_widget_activate_action(GTK_WIDGET(main_window()), "win.show-help-overlay", NULL);
	GtkWindow *help = NULL;
	WAIT_FOR((help = toplevel(GTK_TYPE_SHORTCUTS_WINDOW)) && drawn(GTK_WIDGET(help)), "the shortcuts window");
	gtk_window_destroy(help);
	g_action_group_activate_action(G_ACTION_GROUP(app), "about", NULL);
	GtkWindow *about = NULL;
	WAIT_FOR((about = toplevel(ADW_TYPE_ABOUT_WINDOW)) && drawn(GTK_WIDGET(about)), "the about window");
	g_assert_cmpstr(adw_about_window_get_application_icon(ADW_ABOUT_WINDOW(about)), ==, VIREO_APP_ID);
	g_assert_cmpstr(adw_about_window_get_version(ADW_ABOUT_WINDOW(about)), ==, VIREO_VERSION);
	assert_accessible("the about window");
	gtk_window_destroy(about);
	WAIT_FOR(toplevel(ADW_TYPE_ABOUT_WINDOW) == NULL, "the about window to go");
}

struct wizard {
	VireoWizard *w;
	VireoConfigForm *form;
	GtkLabel *general_error, *hardware_error, *boot_error, *summary_error;
	GtkButton *next, *back, *create;
	AdwWindowTitle *title;
};

static void wizard_open(struct wizard *z)
{
	g_assert_null(toplevel(VIREO_TYPE_WIZARD));
	click(CHILD(main_window(), VIREO_TYPE_WINDOW, "new_button"));
	WAIT_FOR((z->w = toplevel(VIREO_TYPE_WIZARD)) && drawn(GTK_WIDGET(z->w)), "the wizard");
	z->form = CHILD(z->w, VIREO_TYPE_WIZARD, "form");
	z->general_error = CHILD(z->form, VIREO_TYPE_CONFIG_FORM, "general_error");
	z->hardware_error = CHILD(z->form, VIREO_TYPE_CONFIG_FORM, "hardware_error");
	z->boot_error = CHILD(z->form, VIREO_TYPE_CONFIG_FORM, "boot_error");
	z->summary_error = CHILD(z->w, VIREO_TYPE_WIZARD, "summary_error");
	z->next = CHILD(z->w, VIREO_TYPE_WIZARD, "next_button");
	z->back = CHILD(z->w, VIREO_TYPE_WIZARD, "back_button");
	z->create = CHILD(z->w, VIREO_TYPE_WIZARD, "create_button");
	z->title = CHILD(z->w, VIREO_TYPE_WIZARD, "window_title");
}

static gpointer form_child(struct wizard *z, const char *name)
{
	return CHILD(z->form, VIREO_TYPE_CONFIG_FORM, name);
}

static void set_text(gpointer editable, const char *text)
{
	gtk_editable_set_text(GTK_EDITABLE(editable), text);
	settle();
}

static const char *step(struct wizard *z)
{
	return adw_window_title_get_subtitle(z->title);
}

static void test_wizard_checks(void)
{
	struct wizard z;
	wizard_open(&z);
	g_assert_cmpstr(step(&z), ==, "Step 1 of 4");
	/* A name to start from, which is free. */
	g_assert_cmpstr(gtk_editable_get_text(form_child(&z, "name_row")), ==, "New Virtual Machine");
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(z.general_error)));
	assert_accessible("the wizard's name step");

	set_text(form_child(&z, "name_row"), "");
	g_assert_true(label_has(z.general_error, "Enter a name for the virtual machine."));
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 1 of 4");   /* Next does not leave a bad step */
	set_text(form_child(&z, "name_row"), "a/b");
	g_assert_true(label_has(z.general_error, "cannot contain “/”"));
	g_autofree char *long_name = g_strnfill(65, 'v');
	set_text(form_child(&z, "name_row"), long_name);
	g_assert_true(label_has(z.general_error, "at most 64 characters"));
	set_text(form_child(&z, "name_row"), "trailing ");
	g_assert_true(label_has(z.general_error, "start or end with a space"));
	set_text(form_child(&z, "name_row"), "gui-vm");
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(z.general_error)));
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 2 of 4");
	assert_accessible("the wizard's memory step");

	/* More than the host has. */
	GtkSpinButton *memory = form_child(&z, "memory_spin"), *cpus = form_child(&z, "cpus_spin");
	g_autofree char *meminfo = NULL;
	g_assert_true(g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL));
	guint64 host_mib = vireo_config_parse_meminfo(meminfo);
	gtk_spin_button_set_value(memory, (double)(host_mib + 1024));
	settle();
	g_assert_true(label_has(z.hardware_error, "This host has"));
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 2 of 4");
	gtk_spin_button_set_value(memory, 384);
	gtk_spin_button_set_value(cpus, g_get_num_processors() + 1);
	settle();
	g_assert_true(label_has(z.hardware_error, "processor"));
	gtk_spin_button_set_value(cpus, 1);
	settle();
	g_assert_false(gtk_widget_get_visible(GTK_WIDGET(z.hardware_error)));
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 3 of 4");

	/* A kernel of one's own: chosen, relative, not there. */
	gtk_check_button_set_active(form_child(&z, "kernel_check"), TRUE);
	settle();
	VireoFileRow *kernel = form_child(&z, "kernel_row");
	g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(kernel)));
	vireo_file_row_set_path(kernel, "");
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 3 of 4");
	g_assert_true(label_has(z.boot_error, "Choose the kernel to boot."));
	vireo_file_row_set_path(kernel, "vmlinuz");
	settle();
	g_assert_true(label_has(z.boot_error, "must start with “/”"));
	g_autofree char *missing = g_build_filename(home, "no-such-vmlinuz", NULL);
	vireo_file_row_set_path(kernel, missing);
	WAIT_FOR(label_has(z.boot_error, "There is no file"), "the kernel's file check (%s)",
		 gtk_label_get_text(z.boot_error));
	/* A file that is there, and the chooser opens on it. */
	g_autofree char *present = g_build_filename(home, "vmlinuz", NULL);
	g_assert_true(g_file_set_contents(present, "not really a kernel", -1, NULL));
	vireo_file_row_set_path(kernel, present);
	WAIT_FOR(!gtk_widget_get_visible(GTK_WIDGET(z.boot_error)), "the kernel to check out (%s)",
		 gtk_label_get_text(z.boot_error));
	assert_accessible("the wizard's boot step, kernel chosen");
	vireo_file_row_choose(kernel);
	GtkWindow *chooser = NULL;
	WAIT_FOR((chooser = toplevel(GTK_TYPE_FILE_CHOOSER_DIALOG)) != NULL, "the file chooser");
	g_assert_true(gtk_window_get_modal(chooser));
	g_assert_true(gtk_window_get_transient_for(chooser) == GTK_WINDOW(z.w));
	wait_painted(GTK_WIDGET(chooser), "the file chooser");
	keys(GTK_WIDGET(chooser), "Escape");
	WAIT_FOR(toplevel(GTK_TYPE_FILE_CHOOSER_DIALOG) == NULL, "the file chooser to close");
	g_assert_cmpstr(vireo_file_row_get_path(kernel), ==, present);

	/* Back to the demo guest for this VM. */
	vireo_file_row_set_path(kernel, "");
	gtk_check_button_set_active(form_child(&z, "demo_check"), TRUE);
	settle();
	g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(kernel)));
	screenshot(GTK_WIDGET(z.w), "new-vm.png");
	click(z.back);
	g_assert_cmpstr(step(&z), ==, "Step 2 of 4");
	click(z.next);
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 4 of 4");
	g_assert_cmpstr(adw_action_row_get_subtitle(CHILD(z.w, VIREO_TYPE_WIZARD, "summary_name")), ==, "gui-vm");
	g_assert_cmpstr(adw_action_row_get_subtitle(CHILD(z.w, VIREO_TYPE_WIZARD, "summary_memory")), ==, "384 MiB");
	g_assert_cmpstr(adw_action_row_get_subtitle(CHILD(z.w, VIREO_TYPE_WIZARD, "summary_boot")), ==, "Demo guest");
	g_assert_false(gtk_widget_get_visible(CHILD(z.w, VIREO_TYPE_WIZARD, "summary_kernel")));
	assert_accessible("the wizard's summary");

	/* Create: the wizard closes, the VM is in vireod and in the list, selected. */
	click(z.create);
	WAIT_FOR(toplevel(VIREO_TYPE_WIZARD) == NULL, "the wizard to close (%s)", gtk_label_get_text(z.summary_error));
	WAIT_FOR(row_named("gui-vm") != NULL, "the new VM in the list");
	g_autoptr(VireoMachine) vm = vireod_machine("gui-vm");
	g_assert_nonnull(vm);
	g_assert_cmpuint(vireo_machine_get_memory_mi_b(vm), ==, 384);
	g_assert_cmpuint(vireo_machine_get_cpus(vm), ==, 1);
	g_assert_cmpstr(vireo_machine_get_boot_source(vm), ==, "demo");
	g_assert_cmpstr(vireo_machine_get_resolution(vm), ==, "1024x768");
	WAIT_FOR(vireo_window_get_selected(main_window()) &&
			 g_str_equal(vireo_vm_get_name(vireo_window_get_selected(main_window())), "gui-vm"),
		 "the new VM selected");
	g_assert_cmpstr(stack_page(), ==, "list");
	VireoVmRow *row = row_named("gui-vm");
	g_assert_cmpstr(row_label(row, "state_label"), ==, "Off");
	g_assert_cmpstr(row_label(row, "memory_label"), ==, "384 MiB");
	g_assert_cmpstr(row_label(row, "cpu_label"), ==, "—");
	g_assert_cmpstr(row_label(row, "uptime_label"), ==, "—");
	g_assert_cmpstr(gtk_button_get_label(CHILD(row, VIREO_TYPE_VM_ROW, "primary_button")), ==, "Start");
	/* The wizard's values are remembered for the next VM. */
	GSettings *s = vireo_application_get_settings(app);
	g_assert_cmpuint(g_settings_get_uint64(s, "wizard-memory-mib"), ==, 384);
	g_assert_cmpuint(g_settings_get_uint(s, "wizard-cpus"), ==, 1);
	g_assert_true(action_enabled("start"));
	g_assert_true(action_enabled("delete"));
	g_assert_false(action_enabled("shut-down"));
	g_assert_false(action_enabled("pause"));
	assert_accessible("the list with a VM");
	/* Where it runs, as vireod has it, on its row: seen and said. */
	gboolean emulated = expect_emulated();
	g_assert_cmpint(vireo_machine_get_emulated_host(vm), ==, emulated);
	WAIT_FOR(drawn(GTK_WIDGET(row)), "the row to be drawn");
	g_assert_cmpint(tag_shown(row), ==, emulated);
	g_autofree char *row_name = g_strdup_printf("gui-vm, Off%s", emulated ? ", " EMULATED_TAG : "");
	g_autofree char *name_differs = gtk_test_accessible_check_property(GTK_ACCESSIBLE(row),
									   GTK_ACCESSIBLE_PROPERTY_LABEL, row_name);
	g_assert_null(name_differs);
	g_test_message("EmulatedHost %d: the tag is %s", emulated, emulated ? "shown" : "absent");
}

/* The name is free when the person presses Create, and taken by the time
 * vireod sees the request: only vireod can refuse it, and the wizard
 * shows its words on the name step. */
static void test_wizard_refused_by_vireod(void)
{
	struct wizard z;
	wizard_open(&z);
	g_assert_cmpstr(step(&z), ==, "Step 1 of 4");
	set_text(form_child(&z, "name_row"), "Race");
	click(z.next);
	/* The wizard remembered 384 MiB and 1 vCPU. */
	g_assert_cmpint(gtk_spin_button_get_value_as_int(form_child(&z, "memory_spin")), ==, 384);
	click(z.next);
	click(z.next);
	g_assert_cmpstr(step(&z), ==, "Step 4 of 4");
	/* Another client takes the name; the manager has not heard of it yet
	 * (the main loop does not run until the click). */
	g_autoptr(GDBusConnection) other = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL,
		NULL);
	g_assert_nonnull(other);
	g_autoptr(GError) e = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(other, BUS_NAME, MANAGER_PATH, "org.vireo.Vireo1.Manager",
							    "CreateMachine",
							    g_variant_new_parsed("({'Name': <'race'>},)"), NULL,
							    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &e);
	g_assert_no_error(e);
	g_assert_true(g_variant_is_of_type(r, G_VARIANT_TYPE("(o)")));
	click(z.create);
	WAIT_FOR(g_strcmp0(step(&z), "Step 1 of 4") == 0, "the wizard back on the name step");
	WAIT_FOR(label_has(z.general_error, "there is a VM named \"Race\" already"), "vireod's refusal (%s)",
		 gtk_label_get_text(z.general_error));
	/* Editing the name clears vireod's message; the manager now knows
	 * the name too. */
	set_text(form_child(&z, "name_row"), "race");
	g_assert_true(label_has(z.general_error, "There is a virtual machine named “race” already."));
	gtk_window_close(GTK_WINDOW(z.w));
	WAIT_FOR(toplevel(VIREO_TYPE_WIZARD) == NULL, "the wizard to close");
	g_assert_cmpuint(vireod_count(), ==, 2);
}

static void select_vm(const char *name)
{
	VireoVmRow *row = row_named(name);
	g_assert_nonnull(row);
	gtk_list_box_select_row(list_box(), GTK_LIST_BOX_ROW(row));
	settle();
	g_assert_cmpstr(vireo_vm_get_name(vireo_window_get_selected(main_window())), ==, name);
}

static void test_settings(void)
{
	select_vm("race");
	activate("win.settings");
	VireoSettings *s = NULL;
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "the settings");
	VireoConfigForm *form = CHILD(s, VIREO_TYPE_SETTINGS, "form");
	g_assert_true(gtk_widget_get_sensitive(CHILD(form, VIREO_TYPE_CONFIG_FORM, "hardware_box")));
	g_assert_cmpint(tag_shown(s), ==, expect_emulated());
	assert_accessible("the settings");
	/* The other VM's name is taken: Apply refuses to try. */
	set_text(CHILD(form, VIREO_TYPE_CONFIG_FORM, "name_row"), "GUI-VM");
	g_assert_true(label_has(CHILD(form, VIREO_TYPE_CONFIG_FORM, "general_error"), "already"));
	g_assert_false(gtk_widget_get_sensitive(CHILD(s, VIREO_TYPE_SETTINGS, "apply_button")));
	set_text(CHILD(form, VIREO_TYPE_CONFIG_FORM, "name_row"), "build server");
	gtk_spin_button_set_value(CHILD(form, VIREO_TYPE_CONFIG_FORM, "memory_spin"), 640);
	adw_combo_row_set_selected(CHILD(form, VIREO_TYPE_CONFIG_FORM, "resolution_row"), 10);   /* 1920x1080 */
	settle();
	click(CHILD(s, VIREO_TYPE_SETTINGS, "apply_button"));
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL, "the settings to close");
	WAIT_FOR(row_named("build server") != NULL, "the renamed VM in the list");
	WAIT_FOR(g_str_equal(row_label(row_named("build server"), "memory_label"), "640 MiB"), "its memory in the list");
	g_autoptr(VireoMachine) vm = vireod_machine("build server");
	g_assert_nonnull(vm);
	g_assert_cmpuint(vireo_machine_get_memory_mi_b(vm), ==, 640);
	g_assert_cmpstr(vireo_machine_get_resolution(vm), ==, "1920x1080");
	g_assert_cmpuint(vireo_machine_get_cpus(vm), ==, 2);   /* untouched */
	/* Renamed, resorted, still selected. */
	WAIT_FOR(vireo_window_get_selected(main_window()) &&
			 g_str_equal(vireo_vm_get_name(vireo_window_get_selected(main_window())), "build server"),
		 "the renamed VM still selected");
	g_assert_true(row_named("build server") == VIREO_VM_ROW(gtk_list_box_get_row_at_index(list_box(), 0)));
}

/* The tag follows EmulatedHost as it changes, in the row and in an open
 * Settings window, both ways. */
static void test_emulated_host_follows(void)
{
	select_vm("gui-vm");
	VireoVm *vm = vireo_window_get_selected(main_window());
	gboolean was = expect_emulated();
	g_assert_cmpint(tag_shown(row_named("gui-vm")), ==, was);
	fake_emulated_host(vm, !was);
	WAIT_FOR(tag_shown(row_named("gui-vm")) == !was, "the row to follow EmulatedHost %d", !was);
	activate("win.settings");
	VireoSettings *s = NULL;
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "the settings");
	WAIT_FOR(tag_shown(s) == !was, "the settings to show EmulatedHost %d", !was);
	if (!was)
		assert_accessible("the settings of a VM in an emulated host");
	fake_emulated_host(vm, was);
	WAIT_FOR(tag_shown(s) == was, "the settings to follow EmulatedHost %d", was);
	WAIT_FOR(tag_shown(row_named("gui-vm")) == was, "the row to follow EmulatedHost %d", was);
	gtk_window_close(GTK_WINDOW(s));
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL, "the settings to close");
}

static void test_connect(void)
{
	select_vm("gui-vm");
	g_unlink(connect_args);
	activate("win.connect");
	WAIT_FOR(g_file_test(connect_args, G_FILE_TEST_EXISTS), "vireo-connect to run");
	g_autofree char *args = NULL;
	WAIT_FOR(g_file_get_contents(connect_args, &args, NULL, NULL) && strchr(args, '\n'), "its arguments");
	g_autoptr(VireoMachine) vm = vireod_machine("gui-vm");
	g_autofree char *want = g_strconcat(vireo_machine_get_id(vm), "\n", NULL);
	g_assert_cmpstr(args, ==, want);
}

static void test_context_menu(void)
{
	VireoVmRow *row = row_named("gui-vm");
	gtk_list_box_select_row(list_box(), GTK_LIST_BOX_ROW(row_named("build server")));
	vireo_vm_row_popup_menu(row, 20, 20);
	GtkPopover *menu = NULL;
	for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(row)); c; c = gtk_widget_get_next_sibling(c))
		if (GTK_IS_POPOVER_MENU(c))
			menu = GTK_POPOVER(c);
	g_assert_nonnull(menu);
	WAIT_FOR(gtk_widget_get_mapped(GTK_WIDGET(menu)), "the context menu");
	/* The menu acts on its row: the row is selected now. */
	g_assert_cmpstr(vireo_vm_get_name(vireo_window_get_selected(main_window())), ==, "gui-vm");
	assert_accessible("the context menu");
	gtk_popover_popdown(menu);
	WAIT_FOR(!gtk_widget_get_mapped(GTK_WIDGET(menu)), "the menu to close");
}

static GtkWindow *message_dialog(const char *heading)
{
	AdwMessageDialog *d = toplevel(ADW_TYPE_MESSAGE_DIALOG);
	if (!d || !drawn(GTK_WIDGET(d)) || !strstr(adw_message_dialog_get_heading(d), heading))
		return NULL;
	return GTK_WINDOW(d);
}

static GtkButton *button_labelled(GtkWidget *w, const char *label)
{
	if (GTK_IS_BUTTON(w) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(w)), label) == 0)
		return GTK_BUTTON(w);
	for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
		GtkButton *b = button_labelled(c, label);
		if (b)
			return b;
	}
	return NULL;
}

/* Answer a message dialog as a person does: its button. */
static void answer(GtkWindow *dialog, const char *label)
{
	GtkButton *b = button_labelled(GTK_WIDGET(dialog), label);
	if (!b)
		g_error("no button \"%s\" in \"%s\"", label, adw_message_dialog_get_heading(ADW_MESSAGE_DIALOG(dialog)));
	click(b);
}

/* Shortcuts as X key events, with the actions they are declared with. */
static void test_shortcuts(void)
{
	select_vm("gui-vm");
	GtkWidget *win = GTK_WIDGET(main_window());
	keys(win, "ctrl+n");
	VireoWizard *w = NULL;
	WAIT_FOR((w = toplevel(VIREO_TYPE_WIZARD)) && drawn(GTK_WIDGET(w)), "Ctrl+N to open the wizard");
	keys(GTK_WIDGET(w), "Escape");
	WAIT_FOR(toplevel(VIREO_TYPE_WIZARD) == NULL, "Escape to close the wizard");
	keys(win, "alt+Return");
	VireoSettings *s = NULL;
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "Alt+Return to open the settings");
	g_assert_true(vireo_settings_get_vm(s) == vireo_window_get_selected(main_window()));
	keys(GTK_WIDGET(s), "Escape");
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL, "Escape to close the settings");
	keys(win, "Delete");
	GtkWindow *d = NULL;
	WAIT_FOR((d = message_dialog("Delete “gui-vm”?")) != NULL, "Delete to ask");
	keys(GTK_WIDGET(d), "Escape");
	WAIT_FOR(message_dialog("Delete") == NULL, "Escape to cancel the question");
	g_assert_nonnull(vireod_machine("gui-vm"));
	static const char *const declared[][2] = {
		{ "win.start", "<Control>s" }, { "win.shut-down", "<Control>d" }, { "win.turn-off", "<Control>o" },
		{ "win.pause", "<Control>p" }, { "win.resume", "<Control>r" },    { "win.reset", "<Control>e" },
		{ "win.save", "<Control>a" },  { "win.connect", "<Control>Return" }, { "app.new-vm", "<Control>n" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(declared); i++) {
		g_auto(GStrv) accels = gtk_application_get_accels_for_action(GTK_APPLICATION(app), declared[i][0]);
		g_assert_true(accels && g_strv_contains((const char *const *)accels, declared[i][1]));
	}
}

static gboolean state_is(const char *name, const char *state)
{
	VireoVmRow *row = row_named(name);
	return row && g_str_equal(row_label(row, "state_label"), state);
}

static void fail_if_running_vm_failed(const char *file, int line, const char *what)
{
	if (!running_vm || !state_is(running_vm, "Failed"))
		return;
	g_error("%s:%d: the VM %s failed (%s) while the test waited for %s", file, line, running_vm,
		row_label(row_named(running_vm), "reason_label"), what);
}

static gboolean texture_has_detail(GdkTexture *t)
{
	/* A guest between screen modes has no picture for a moment. */
	if (!t)
		return FALSE;
	int w = gdk_texture_get_width(t), h = gdk_texture_get_height(t);
	g_autofree guint8 *px = g_malloc((gsize)w * h * 4);
	gdk_texture_download(t, px, (gsize)w * 4);
	g_autoptr(GHashTable) colours = g_hash_table_new(NULL, NULL);
	for (int i = 0; i < w * h; i++) {
		guint32 v;
		memcpy(&v, px + i * 4, 4);
		g_hash_table_add(colours, GUINT_TO_POINTER(v));
	}
	g_test_message("thumbnail %dx%d: %u colours", w, h, g_hash_table_size(colours));
	/* Text on the guest's console, downscaled: more than a flat screen. */
	return g_hash_table_size(colours) > 2;
}

/* Runs a program while the main loop turns; its exit status. */
static int run_async(const char *const *argv)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GSubprocess) p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &e);
	g_assert_no_error(e);
	struct done d = { 0 };
	g_subprocess_wait_async(p, NULL, on_done, &d);
	WAIT_FOR(d.done, "%s", argv[0]);
	return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

/*
 * How much of the thumbnail is the guest's screen as another viewer of the
 * console socket sees it (tests/console's vireo-console-client, its own
 * decoder), downscaled by the thumbnail's rule: the centres of each
 * sample's share of the screen, averaged.
 */
static double agreement_with_viewer(VireoThumbnail *thumb, const char *socket)
{
	/* Held: the main loop turns while the other viewer runs, and a new
	 * frame replaces (and frees) the thumbnail's texture. */
	g_autoptr(GdkTexture) t = vireo_thumbnail_get_texture(thumb);
	if (!t)
		return 0;
	g_object_ref(t);
	g_autofree char *path = g_build_filename(home, "guest-screen.png", NULL);
	g_unlink(path);
	const char *argv[] = { env("CONSOLE_CLIENT"), socket, "--inline", "--frames", "1", "--png", path,
			       "--timeout", "60", NULL };
	int rc = run_async(argv);
	if (rc != 0) {
		g_test_message("vireo-console-client: status %d", rc);
		return 0;
	}
	g_autoptr(GError) e = NULL;
	g_autoptr(GdkTexture) shot = gdk_texture_new_from_filename(path, &e);
	g_assert_no_error(e);
	guint sw = (guint)gdk_texture_get_width(shot), sh = (guint)gdk_texture_get_height(shot);
	g_autofree guint8 *screen = g_malloc((gsize)sw * sh * 4);
	gdk_texture_download(shot, screen, (gsize)sw * 4);
	guint tw = (guint)gdk_texture_get_width(t), th = (guint)gdk_texture_get_height(t);
	g_autofree guint8 *px = g_malloc((gsize)tw * th * 4);
	gdk_texture_download(t, px, (gsize)tw * 4);
	const guint s = VIREO_THUMB_SUPERSAMPLE;
	guint same = 0;
	for (guint y = 0; y < th; y++)
		for (guint x = 0; x < tw; x++) {
			guint sum[3] = { 0 };
			for (guint dy = 0; dy < s; dy++)
				for (guint dx = 0; dx < s; dx++) {
					guint64 j = (guint64)x * s + dx, i = (guint64)y * s + dy;
					guint sx = (guint)(((2 * j + 1) * sw) / (2ull * tw * s));
					guint sy = (guint)(((2 * i + 1) * sh) / (2ull * th * s));
					const guint8 *p = screen + ((gsize)sy * sw + sx) * 4;
					for (int c = 0; c < 3; c++)
						sum[c] += p[c];
				}
			const guint8 *got = px + ((gsize)y * tw + x) * 4;
			gboolean eq = TRUE;
			for (int c = 0; c < 3; c++)
				eq = eq && got[c] == (sum[c] + s * s / 2) / (s * s);
			same += eq;
		}
	double a = (double)same / (tw * th);
	g_test_message("thumbnail %ux%u against another viewer's %ux%u picture: %.4f of its pixels agree", tw, th, sw,
		       sh, a);
	return a;
}

static gboolean on_wake(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* The thumbnail agrees with another viewer (but for what changed between
 * the two looks: a blinking cursor); tried again on each new thumbnail. */
static void wait_thumbnail_is_screen(VireoThumbnail *thumb, const char *socket)
{
	gint64 end = g_get_monotonic_time() + (gint64)step_timeout_s * G_USEC_PER_SEC;
	while (agreement_with_viewer(thumb, socket) < 0.99) {
		if (g_get_monotonic_time() > end)
			g_error("waited %d s for the thumbnail to show the guest's screen", step_timeout_s);
		guint frames = vireo_thumbnail_get_frames(thumb);
		gboolean woke = FALSE;
		guint id = g_timeout_add(2000, on_wake, &woke);
		WAIT_FOR(woke || vireo_thumbnail_get_frames(thumb) != frames, "a new thumbnail");
		if (!woke)
			g_source_remove(id);
	}
}

static void run_guest(void)
{
	VireoVmRow *row = row_named("gui-vm");
	VireoThumbnail *thumb = vireo_vm_get_thumbnail(vireo_vm_row_get_vm(row));
	GtkStack *picture = CHILD(row, VIREO_TYPE_VM_ROW, "thumb_stack");
	g_assert_cmpstr(gtk_stack_get_visible_child_name(picture), ==, "placeholder");
	running_vm = "gui-vm";
	WAIT_FOR(state_is("gui-vm", "Running"), "Running (%s)", row_label(row, "state_label"));
	g_assert_cmpstr(gtk_button_get_label(CHILD(row, VIREO_TYPE_VM_ROW, "primary_button")), ==, "Connect");
	g_assert_true(action_enabled("shut-down") && action_enabled("turn-off") && action_enabled("pause"));
	g_assert_false(action_enabled("start") || action_enabled("delete") || action_enabled("resume"));
	/* The live thumbnail: the guest's console, as the worker shows it. */
	WAIT_FOR(vireo_thumbnail_get_frames(thumb) > 0 && texture_has_detail(vireo_thumbnail_get_texture(thumb)),
		 "the guest's screen in the thumbnail (%u frames)", vireo_thumbnail_get_frames(thumb));
	g_assert_cmpstr(gtk_stack_get_visible_child_name(picture), ==, "picture");
	g_assert_cmpint(gdk_texture_get_width(vireo_thumbnail_get_texture(thumb)), ==, 320);
	g_assert_cmpint(gdk_texture_get_height(vireo_thumbnail_get_texture(thumb)), ==, 240);
	g_assert_cmpuint(vireo_thumbnail_get_bad_messages(thumb), ==, 0);
	wait_thumbnail_is_screen(thumb, vireo_machine_get_console_socket(vireo_vm_get_machine(vireo_vm_row_get_vm(row))));
	WAIT_FOR(!g_str_equal(row_label(row, "uptime_label"), "—") && !g_str_equal(row_label(row, "cpu_label"), "—"),
		 "uptime and CPU use");
	WAIT_FOR(g_str_has_prefix(row_label(row, "memory_label"), "384 MiB, ") &&
			 g_str_has_suffix(row_label(row, "memory_label"), " in use"),
		 "memory use (%s)",
		 row_label(row, "memory_label"));
	g_autofree char *uptime = g_strdup(row_label(row, "uptime_label"));
	WAIT_FOR(!g_str_equal(row_label(row, "uptime_label"), uptime), "the uptime to move on from %s", uptime);
	assert_accessible("a running VM");
	screenshot(GTK_WIDGET(main_window()), "main-window.png");

	/* Pause and Resume, as Hyper-V's shortcuts. */
	GtkWidget *win = GTK_WIDGET(main_window());
	keys(win, "ctrl+p");
	WAIT_FOR(state_is("gui-vm", "Paused"), "Ctrl+P to pause (%s)", row_label(row, "state_label"));
	g_assert_true(action_enabled("resume") && !action_enabled("pause"));
	keys(win, "ctrl+r");
	WAIT_FOR(state_is("gui-vm", "Running"), "Ctrl+R to resume (%s)", row_label(row, "state_label"));

	/* Settings while it runs: only the name. */
	activate("win.settings");
	VireoSettings *s = NULL;
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "the settings");
	VireoConfigForm *form = CHILD(s, VIREO_TYPE_SETTINGS, "form");
	g_assert_false(gtk_widget_get_sensitive(CHILD(form, VIREO_TYPE_CONFIG_FORM, "hardware_box")));
	g_assert_false(gtk_widget_get_sensitive(CHILD(form, VIREO_TYPE_CONFIG_FORM, "boot_box")));
	set_text(CHILD(form, VIREO_TYPE_CONFIG_FORM, "name_row"), "gui-vm running");
	click(CHILD(s, VIREO_TYPE_SETTINGS, "apply_button"));
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL, "the settings to close");
	WAIT_FOR(state_is("gui-vm running", "Running"), "the running VM renamed");
	g_assert_cmpstr(vireo_vm_get_name(vireo_window_get_selected(main_window())), ==, "gui-vm running");
	activate("win.settings");
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "the settings");
	form = CHILD(s, VIREO_TYPE_SETTINGS, "form");
	set_text(CHILD(form, VIREO_TYPE_CONFIG_FORM, "name_row"), "gui-vm");
	click(CHILD(s, VIREO_TYPE_SETTINGS, "apply_button"));
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL && row_named("gui-vm"), "the name back");
	/* Renamed rows are new rows. */
	row = row_named("gui-vm");
	picture = CHILD(row, VIREO_TYPE_VM_ROW, "thumb_stack");
	g_assert_cmpstr(gtk_stack_get_visible_child_name(picture), ==, "picture");

	/* The guest's address, from its KVP daemon (the demo guest has one). */
	WAIT_FOR(g_str_equal(row_label(row, "address_label"), "10.0.2.15"), "the guest's address (%s)",
		 row_label(row, "address_label"));
	g_autoptr(VireoMachine) vm = vireod_machine("gui-vm");

	/* Reset (Ctrl+E): the guest boots again, its uptime starts again. */
	WAIT_FOR(vireo_machine_get_uptime(vm) >= 3, "an uptime of 3 s");
	guint64 up = vireo_machine_get_uptime(vm);
	keys(win, "ctrl+e");
	WAIT_FOR(vireo_machine_get_uptime(vm) < up, "Ctrl+E to reset (uptime %" G_GUINT64_FORMAT " s)",
		 vireo_machine_get_uptime(vm));
	g_assert_true(state_is("gui-vm", "Running"));

	/* Save (Ctrl+A), and Start goes on from it. */
	keys(win, "ctrl+a");
	WAIT_FOR(state_is("gui-vm", "Saved"), "Ctrl+A to save (%s)", row_label(row, "state_label"));
	g_assert_true(action_enabled("start") && action_enabled("delete") && !action_enabled("turn-off"));
	keys(win, "ctrl+s");
	WAIT_FOR(state_is("gui-vm", "Running"), "Ctrl+S to restore (%s)", row_label(row, "state_label"));
	WAIT_FOR(g_str_equal(vireo_machine_get_state_reason(vm), "restored from its saved state"),
		 "vireod to say it restored the VM (%s)", vireo_machine_get_state_reason(vm));

	/* Turn Off (Ctrl+O) cuts the power; then a fresh boot. */
	keys(win, "ctrl+o");
	WAIT_FOR(state_is("gui-vm", "Off"), "Ctrl+O to turn off (%s)", row_label(row, "state_label"));
	WAIT_FOR(g_str_equal(row_label(row, "reason_label"), "turned off"), "the row to say why (%s)",
		 row_label(row, "reason_label"));
	WAIT_FOR(g_str_equal(vireo_machine_get_state_reason(vm), "turned off"), "vireod's reason (%s)",
		 vireo_machine_get_state_reason(vm));
	WAIT_FOR(!vireo_thumbnail_get_has_picture(thumb), "the picture to go with the power");
	keys(win, "ctrl+s");
	WAIT_FOR(state_is("gui-vm", "Running"), "Ctrl+S to start again (%s)", row_label(row, "state_label"));
	WAIT_FOR(vireo_thumbnail_get_has_picture(thumb), "the picture after a fresh boot");

	/* Shut Down (Ctrl+D) goes through the guest. */
	keys(win, "ctrl+d");
	WAIT_FOR(state_is("gui-vm", "Off"), "Shut Down to end in Off (%s)", row_label(row, "state_label"));
	WAIT_FOR(g_str_equal(vireo_machine_get_state_reason(vm), "the guest shut down"), "vireod's reason (%s)",
		 vireo_machine_get_state_reason(vm));
	g_assert_cmpstr(row_label(row, "reason_label"), ==, "the guest shut down");
	WAIT_FOR(!vireo_thumbnail_get_has_picture(thumb), "the picture to go");
	g_assert_cmpstr(gtk_stack_get_visible_child_name(picture), ==, "placeholder");
	g_assert_cmpstr(row_label(row, "uptime_label"), ==, "—");
	g_assert_true(action_enabled("start") && action_enabled("delete"));
}

/* Where the demo guest's files are here (set where this run boots it
 * itself): the VM boots them as a kernel of one's own, chosen in Settings,
 * with its console on the screen, so that the thumbnail has text to show. */
static void boot_own_kernel(const char *demo)
{
	activate("win.settings");
	VireoSettings *s = NULL;
	WAIT_FOR((s = toplevel(VIREO_TYPE_SETTINGS)) && drawn(GTK_WIDGET(s)), "the settings");
	VireoConfigForm *form = CHILD(s, VIREO_TYPE_SETTINGS, "form");
	gtk_check_button_set_active(CHILD(form, VIREO_TYPE_CONFIG_FORM, "kernel_check"), TRUE);
	g_autofree char *kernel = g_build_filename(demo, "vmlinuz", NULL);
	g_autofree char *initrd = g_build_filename(demo, "guest.cpio.gz", NULL);
	vireo_file_row_set_path(CHILD(form, VIREO_TYPE_CONFIG_FORM, "kernel_row"), kernel);
	vireo_file_row_set_path(CHILD(form, VIREO_TYPE_CONFIG_FORM, "initrd_row"), initrd);
	set_text(CHILD(form, VIREO_TYPE_CONFIG_FORM, "cmdline_row"), "console=ttyS0 console=tty0 vireo.scenario=demo");
	GtkWidget *apply = CHILD(s, VIREO_TYPE_SETTINGS, "apply_button");
	WAIT_FOR(gtk_widget_get_sensitive(apply), "the files to check out");
	click(apply);
	WAIT_FOR(toplevel(VIREO_TYPE_SETTINGS) == NULL, "the settings to close");
	g_autoptr(VireoMachine) vm = vireod_machine("gui-vm");
	WAIT_FOR(g_strcmp0(vireo_machine_get_boot_source(vm), "kernel") == 0, "vireod to boot a kernel");
	g_assert_cmpstr(vireo_machine_get_kernel(vm), ==, kernel);
	g_assert_cmpstr(vireo_machine_get_initrd(vm), ==, initrd);
	g_assert_cmpstr(vireo_machine_get_cmdline(vm), ==, "console=ttyS0 console=tty0 vireo.scenario=demo");
}

static void test_start(void)
{
	select_vm("gui-vm");
	const char *demo = g_getenv("VIREO_DEMO_DIR");
	if (demo && g_getenv("VIREO_GUI_NEED_GUEST"))
		boot_own_kernel(demo);
	const char *host_kind = vireo_service_get_host_kind(vireo_application_get_service(app));
	gboolean host_notice = gtk_revealer_get_reveal_child(CHILD(main_window(), VIREO_TYPE_WINDOW, "host_revealer"));
	g_assert_cmpint(host_notice, ==, !g_str_equal(host_kind, "kvm"));
	GtkWidget *win = GTK_WIDGET(main_window());
	keys(win, "ctrl+s");
	GtkWindow *refused = NULL;
	WAIT_FOR(state_is("gui-vm", "Starting") || state_is("gui-vm", "Running") ||
			 (refused = message_dialog("Could Not Start “gui-vm”")) != NULL,
		 "Ctrl+S to start it, or vireod to refuse");
	if (!refused) {
		g_test_message("vireod started the VM (HostKind %s)", host_kind);
		run_guest();
		return;
	}
	/* vireod's own sentence, in the dialog. */
	const char *body = adw_message_dialog_get_body(ADW_MESSAGE_DIALOG(refused));
	g_test_message("vireod refused to start the VM: %s", body);
	if (g_getenv("VIREO_GUI_NEED_GUEST"))
		g_error("this run must start the VM, but vireod refused: %s", body);
	g_assert_cmpstr(host_kind, !=, "kvm");
	g_assert_nonnull(strstr(body, "VM \"gui-vm\" cannot start on this host: "));
	g_assert_nonnull(strstr(body, vireo_service_get_host_reason(vireo_application_get_service(app))));
	assert_accessible("the refusal");
	answer(refused, "_Close");
	WAIT_FOR(message_dialog("Could Not Start") == NULL, "the dialog to close");
	g_assert_true(state_is("gui-vm", "Off"));
	screenshot(win, "main-window.png");
}

static void test_delete(void)
{
	guint before = vireod_count();
	select_vm("build server");
	activate("win.delete");
	GtkWindow *d = NULL;
	WAIT_FOR((d = message_dialog("Delete “build server”?")) != NULL, "the question");
	assert_accessible("the question before deleting");
	answer(d, "_Cancel");
	WAIT_FOR(message_dialog("Delete") == NULL, "the question to go");
	g_assert_nonnull(vireod_machine("build server"));
	activate("win.delete");
	WAIT_FOR((d = message_dialog("Delete “build server”?")) != NULL, "the question again");
	answer(d, "_Delete");
	WAIT_FOR(row_named("build server") == NULL, "the VM to leave the list");
	g_assert_cmpuint(vireod_count(), ==, before - 1);
	g_assert_null(vireod_machine("build server"));
	/* The other one too; then the list is empty again. */
	select_vm("gui-vm");
	activate("win.delete");
	WAIT_FOR((d = message_dialog("Delete “gui-vm”?")) != NULL, "the question");
	answer(d, "_Delete");
	WAIT_FOR(g_strcmp0(stack_page(), "empty") == 0, "the empty state");
	g_assert_cmpuint(vireod_count(), ==, 0);
	g_assert_cmpuint(row_count(), ==, 0);
	g_assert_false(action_enabled("delete"));
}

static void test_vireod_gone(void)
{
	/* A VM to come back with. */
	g_autoptr(GError) e = NULL;
	g_autoptr(GDBusConnection) c = session();
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(c, BUS_NAME, MANAGER_PATH, "org.vireo.Vireo1.Manager",
							    "CreateMachine",
							    g_variant_new_parsed("({'Name': <'survivor'>},)"), NULL,
							    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &e);
	g_assert_no_error(e);
	g_assert_true(g_variant_is_of_type(r, G_VARIANT_TYPE("(o)")));
	WAIT_FOR(row_named("survivor") != NULL, "the VM vireod added to show up");
	WAIT_FOR(action_enabled("start"), "it to be selected");
	vireod_stop();
	GtkRevealer *banner = CHILD(main_window(), VIREO_TYPE_WINDOW, "banner_revealer");
	WAIT_FOR(gtk_revealer_get_reveal_child(banner), "the banner");
	g_assert_true(label_has(CHILD(main_window(), VIREO_TYPE_WINDOW, "banner_label"),
				"Cannot reach the Vireo service (vireod): it is not running, and the session could not start it."));
	g_assert_cmpstr(stack_page(), ==, "unavailable");
	g_assert_false(action_enabled("start"));
	g_assert_false(action_enabled("settings"));
	g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(main_window()), "reconnect"));
	WAIT_FOR(drawn(CHILD(main_window(), VIREO_TYPE_WINDOW, "retry_button")), "the banner to be drawn");
	assert_accessible("the banner");
	screenshot(GTK_WIDGET(main_window()), "vireod-gone.png");
	/* vireod is back: the name appears, the list returns. */
	vireod_start();
	WAIT_FOR(!gtk_revealer_get_reveal_child(banner), "the banner to go");
	WAIT_FOR(row_named("survivor") != NULL, "the list back");
	g_assert_cmpstr(stack_page(), ==, "list");
	WAIT_FOR(action_enabled("start"), "the actions back");
}

static int test_rc;

static void on_activate(GApplication *application, gpointer data)
{
	/* Screenshots and checks of what is shown, not of a crossfade half done. */
	g_object_set(gtk_settings_get_default(), "gtk-enable-animations", FALSE, NULL);
	g_test_add_func("/gui/empty-state", test_empty_state);
	g_test_add_func("/gui/help-and-about", test_help_and_about);
	g_test_add_func("/gui/wizard-checks-and-create", test_wizard_checks);
	g_test_add_func("/gui/wizard-refused-by-vireod", test_wizard_refused_by_vireod);
	g_test_add_func("/gui/settings", test_settings);
	g_test_add_func("/gui/emulated-host-follows", test_emulated_host_follows);
	g_test_add_func("/gui/connect", test_connect);
	g_test_add_func("/gui/context-menu", test_context_menu);
	g_test_add_func("/gui/shortcuts", test_shortcuts);
	g_test_add_func("/gui/start", test_start);
	g_test_add_func("/gui/delete", test_delete);
	g_test_add_func("/gui/vireod-gone", test_vireod_gone);
	test_rc = g_test_run();
	GList *all = gtk_window_list_toplevels();
	for (GList *l = all; l; l = l->next)
		gtk_window_destroy(l->data);
	g_list_free(all);
	g_application_quit(application);
}

int main(int argc, char **argv)
{
	vireo_application_init_i18n();
	g_test_init(&argc, &argv, NULL);
	const char *t = g_getenv("VIREO_GUI_TIMEOUT_S");
	if (t && atoi(t) > 0)
		step_timeout_s = atoi(t);
	/* run-gui.py's folder, where it finds what a failed run left running. */
	home = g_getenv("VIREO_GUI_HOME") ? g_strdup(g_getenv("VIREO_GUI_HOME")) : g_dir_make_tmp("vireo-gui-XXXXXX", NULL);
	g_assert_nonnull(home);
	g_autofree char *cfg = g_build_filename(home, "config", NULL);
	g_autofree char *data = g_build_filename(home, "data", NULL);
	g_autofree char *run = g_build_filename(home, "run", NULL);
	g_mkdir_with_parents(run, 0700);
	g_setenv("XDG_CONFIG_HOME", cfg, TRUE);
	g_setenv("XDG_DATA_HOME", data, TRUE);
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
	shot_dir = g_strdup(env("VIREO_SCREENSHOT_DIR"));
	(void)env("XDOTOOL");
	(void)env("CONSOLE_CLIENT");
	(void)expect_emulated();
	/* vireo-connect's stand-in: it says what it was asked to show. */
	connect_args = g_build_filename(home, "connect-args", NULL);
	g_autofree char *stub = g_build_filename(home, "vireo-connect", NULL);
	g_autofree char *script = g_strdup_printf("#!/bin/sh\necho \"$@\" > %s.tmp && mv %s.tmp %s\n", connect_args,
						  connect_args, connect_args);
	g_assert_true(g_file_set_contents(stub, script, -1, NULL));
	g_assert_cmpint(g_chmod(stub, 0755), ==, 0);
	g_setenv("VIREO_CONNECT", stub, TRUE);

	/* GTestDBus unsets DISPLAY (against dbus-launch's X11 autolaunch) and
	 * XDG_RUNTIME_DIR (vireod would fall back to the cache folder, whose
	 * socket paths can pass the 107 bytes a socket path has). */
	g_autofree char *display = g_strdup(env("DISPLAY"));
	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	g_setenv("DISPLAY", display, TRUE);
	g_setenv("XDG_RUNTIME_DIR", run, TRUE);
	g_timeout_add(TICK_MS, on_tick, NULL);
	vireod_start();
	app = vireo_application_new();
	/* The tests run inside the application's own run, once its window is
	 * up, so that it shuts down as it would (and lets go of the bus). */
	g_signal_connect_after(app, "activate", G_CALLBACK(on_activate), NULL);
	char *app_argv[] = { argv[0], NULL };
	int app_rc = g_application_run(G_APPLICATION(app), 1, app_argv);
	g_assert_cmpint(app_rc, ==, 0);
	g_assert_finalize_object(app);
	app = NULL;
	settle();
	vireod_stop();
	/* Not g_test_dbus_down (nor the last unref, which calls it): libadwaita
	 * keeps its settings portal proxy, and with it the session connection,
	 * for the life of the process. */
	g_test_dbus_stop(bus);
	return test_rc;
}
