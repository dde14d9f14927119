// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <glib/gi18n.h>

#include "vireo-vm-row.h"

struct _VireoVmRow {
	GtkListBoxRow parent_instance;

	/* template widgets */
	GtkStack *thumb_stack;
	GtkPicture *picture;
	GtkImage *placeholder;
	GtkLabel *name_label, *state_label, *emulated_label, *reason_label;
	GtkLabel *cpu_label, *memory_label, *address_label, *uptime_label;
	GtkButton *primary_button;
	GtkMenuButton *menu_button;
	GMenuModel *vm_menu;

	/* owned references */
	VireoVm *vm;
	GtkWidget *context_menu;       /* a GtkPopoverMenu parented to the row */
	gulong changed_id, picture_id;
};

G_DEFINE_FINAL_TYPE(VireoVmRow, vireo_vm_row, GTK_TYPE_LIST_BOX_ROW)

static const char *const vireo_vm_row_state_classes[] = { "success", "warning", "error", "dim-label" };

static const char *vireo_vm_row_state_class(const char *state)
{
	if (g_str_equal(state, "Running"))
		return "success";
	if (g_str_equal(state, "Failed"))
		return "error";
	if (g_str_equal(state, "Off"))
		return "dim-label";
	return "warning";
}

static void vireo_vm_row_update_picture(VireoVmRow *self)
{
	gboolean has = vireo_thumbnail_get_has_picture(vireo_vm_get_thumbnail(self->vm));
	gtk_stack_set_visible_child_name(self->thumb_stack, has ? "picture" : "placeholder");
}

static void vireo_vm_row_update(VireoVmRow *self)
{
	VireoMachine *m = vireo_vm_get_machine(self->vm);
	const char *name = vireo_vm_get_name(self->vm), *state = vireo_vm_get_state(self->vm);
	gboolean active = vireo_state_is_active(state);
	gboolean running = g_str_equal(state, "Running") || g_str_equal(state, "Paused");

	gtk_label_set_text(self->name_label, name);
	gtk_label_set_text(self->state_label, vireo_state_label(state));
	for (gsize i = 0; i < G_N_ELEMENTS(vireo_vm_row_state_classes); i++)
		gtk_widget_remove_css_class(GTK_WIDGET(self->state_label), vireo_vm_row_state_classes[i]);
	gtk_widget_add_css_class(GTK_WIDGET(self->state_label), vireo_vm_row_state_class(state));
	gboolean emulated = vireo_vm_get_emulated_host(self->vm);
	const char *emulated_text = vireo_format_emulated_host(emulated);
	gtk_label_set_text(self->emulated_label, emulated_text);
	gtk_widget_set_visible(GTK_WIDGET(self->emulated_label), emulated);
	const char *reason = vireo_machine_get_state_reason(m);
	gtk_label_set_text(self->reason_label, reason ? reason : "");
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->reason_label), reason && *reason ? reason : NULL);

	g_autofree char *cpu = vireo_format_cpu(vireo_machine_get_cpu_usage(m), active);
	gtk_label_set_text(self->cpu_label, cpu);
	g_autofree char *cpus_tip = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u virtual processor; use in percent of one host CPU",
								"%u virtual processors; use in percent of one host CPU",
								vireo_machine_get_cpus(m)),
						    vireo_machine_get_cpus(m));
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->cpu_label), cpus_tip);

	g_autofree char *assigned = vireo_format_mib(vireo_machine_get_memory_mi_b(m));
	guint64 used = vireo_machine_get_memory_usage(m);
	g_autofree char *used_text = vireo_format_bytes_used(used);
	/* What it was given, and what its worker holds now (which can be more:
	 * the worker's own memory, an emulated host's). */
	/* Translators: a running VM's memory: assigned, then in use, e.g. "512 MiB, 87.3 MiB in use". */
	g_autofree char *memory = active && used ? g_strdup_printf(_("%s, %s in use"), assigned, used_text)
						 : g_strdup(assigned);
	gtk_label_set_text(self->memory_label, memory);

	g_autofree char *address = vireo_format_addresses(vireo_machine_get_guest_addresses(m));
	gtk_label_set_text(self->address_label, address);
	const char *host = vireo_machine_get_guest_hostname(m);
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->address_label), host && *host ? host : NULL);

	g_autofree char *uptime = vireo_format_uptime(vireo_machine_get_uptime(m), running);
	gtk_label_set_text(self->uptime_label, uptime);

	/* What one most likely wants next: start a VM that is not running,
	 * look at one that is. */
	VireoAction primary = vireo_vm_allows(self->vm, VIREO_ACTION_START) ? VIREO_ACTION_START : VIREO_ACTION_CONNECT;
	gtk_button_set_label(self->primary_button, vireo_action_label(primary));
	gtk_widget_set_name(GTK_WIDGET(self->primary_button), vireo_action_name(primary));

	/* Translators: a VM in the list for assistive technologies: its name, its state
	 * and, where it has one, "emulated host: slow". */
	g_autofree char *row_name = emulated ? g_strdup_printf(_("%s, %s, %s"), name, vireo_state_label(state), emulated_text)
					     : g_strdup_printf(_("%s, %s"), name, vireo_state_label(state));
	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, row_name, -1);
	g_autofree char *menu_name = g_strdup_printf(_("Actions for “%s”"), name);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL, menu_name, -1);
	/* The menu button's own toggle is what assistive technologies reach. */
	GtkWidget *toggle = gtk_widget_get_first_child(GTK_WIDGET(self->menu_button));
	if (toggle)
		gtk_accessible_update_property(GTK_ACCESSIBLE(toggle), GTK_ACCESSIBLE_PROPERTY_LABEL, menu_name, -1);
	g_autofree char *picture_name = g_strdup_printf(_("Screen of “%s”"), name);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self->picture), GTK_ACCESSIBLE_PROPERTY_LABEL, picture_name, -1);
}

static void vireo_vm_row_on_changed(VireoVm *vm, const char *property, gpointer data)
{
	vireo_vm_row_update(data);
}

static void vireo_vm_row_on_picture(GObject *thumbnail, GParamSpec *pspec, gpointer data)
{
	vireo_vm_row_update_picture(data);
}

static void vireo_vm_row_select(VireoVmRow *self)
{
	GtkWidget *list = gtk_widget_get_parent(GTK_WIDGET(self));
	if (GTK_IS_LIST_BOX(list))
		gtk_list_box_select_row(GTK_LIST_BOX(list), GTK_LIST_BOX_ROW(self));
}

static void vireo_vm_row_on_primary(VireoVmRow *self)
{
	vireo_vm_row_select(self);
	g_autofree char *action = g_strconcat("win.", gtk_widget_get_name(GTK_WIDGET(self->primary_button)), NULL);
	gtk_widget_activate_action(GTK_WIDGET(self), action, NULL);
}

static void vireo_vm_row_on_menu_shown(GtkWidget *popover, gpointer data)
{
	vireo_vm_row_select(data);
}

void vireo_vm_row_popup_menu(VireoVmRow *self, double x, double y)
{
	vireo_vm_row_select(self);
	if (!self->context_menu) {
		self->context_menu = gtk_popover_menu_new_from_model(self->vm_menu);
		gtk_widget_set_parent(self->context_menu, GTK_WIDGET(self));
		gtk_popover_set_has_arrow(GTK_POPOVER(self->context_menu), FALSE);
		gtk_widget_set_halign(self->context_menu, GTK_ALIGN_START);
	}
	if (x >= 0) {
		GdkRectangle at = { (int)x, (int)y, 1, 1 };
		gtk_popover_set_pointing_to(GTK_POPOVER(self->context_menu), &at);
	} else {
		gtk_popover_set_pointing_to(GTK_POPOVER(self->context_menu), NULL);
	}
	gtk_popover_popup(GTK_POPOVER(self->context_menu));
}

static void vireo_vm_row_on_click(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
	gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
	vireo_vm_row_popup_menu(data, x, y);
}

static void vireo_vm_row_on_long_press(GtkGestureLongPress *g, double x, double y, gpointer data)
{
	gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
	vireo_vm_row_popup_menu(data, x, y);
}

static gboolean vireo_vm_row_on_menu_key(GtkWidget *widget, GVariant *args, gpointer data)
{
	vireo_vm_row_popup_menu(VIREO_VM_ROW(widget), -1, -1);
	return TRUE;
}

VireoVm *vireo_vm_row_get_vm(VireoVmRow *self)
{
	return self->vm;
}

static void vireo_vm_row_dispose(GObject *object)
{
	VireoVmRow *self = VIREO_VM_ROW(object);
	if (self->vm) {
		g_clear_signal_handler(&self->changed_id, self->vm);
		g_clear_signal_handler(&self->picture_id, vireo_vm_get_thumbnail(self->vm));
	}
	g_clear_pointer(&self->context_menu, gtk_widget_unparent);
	g_clear_object(&self->vm);
	gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_VM_ROW);
	G_OBJECT_CLASS(vireo_vm_row_parent_class)->dispose(object);
}

static void vireo_vm_row_class_init(VireoVmRowClass *klass)
{
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = vireo_vm_row_dispose;
	gtk_widget_class_set_template_from_resource(wc, "/org/vireo/Vireo/vireo-vm-row.ui");
	gtk_widget_class_bind_template_child(wc, VireoVmRow, thumb_stack);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, picture);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, placeholder);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, name_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, state_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, emulated_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, reason_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, cpu_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, memory_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, address_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, uptime_label);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, primary_button);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, menu_button);
	gtk_widget_class_bind_template_child(wc, VireoVmRow, vm_menu);
	gtk_widget_class_bind_template_callback(wc, vireo_vm_row_on_primary);
	gtk_widget_class_add_binding(wc, GDK_KEY_F10, GDK_SHIFT_MASK, vireo_vm_row_on_menu_key, NULL);
	gtk_widget_class_add_binding(wc, GDK_KEY_Menu, 0, vireo_vm_row_on_menu_key, NULL);
}

static void vireo_vm_row_init(VireoVmRow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	gtk_widget_set_tooltip_text(GTK_WIDGET(self->emulated_label), vireo_format_emulated_host_tip());
	GtkGesture *click = gtk_gesture_click_new();
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
	g_signal_connect(click, "pressed", G_CALLBACK(vireo_vm_row_on_click), self);
	gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
	GtkGesture *press = gtk_gesture_long_press_new();
	gtk_gesture_single_set_touch_only(GTK_GESTURE_SINGLE(press), TRUE);
	g_signal_connect(press, "pressed", G_CALLBACK(vireo_vm_row_on_long_press), self);
	gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(press));
	/* The menu acts on the selection: this row, once its menu opens. */
	GtkPopover *popover = gtk_menu_button_get_popover(self->menu_button);
	if (popover)
		g_signal_connect(popover, "show", G_CALLBACK(vireo_vm_row_on_menu_shown), self);
}

GtkWidget *vireo_vm_row_new(VireoVm *vm)
{
	VireoVmRow *self = g_object_new(VIREO_TYPE_VM_ROW, NULL);
	self->vm = g_object_ref(vm);
	VireoThumbnail *thumb = vireo_vm_get_thumbnail(vm);
	gtk_picture_set_paintable(self->picture, GDK_PAINTABLE(thumb));
	self->changed_id = g_signal_connect(vm, "changed", G_CALLBACK(vireo_vm_row_on_changed), self);
	self->picture_id = g_signal_connect(thumb, "notify::has-picture", G_CALLBACK(vireo_vm_row_on_picture), self);
	vireo_vm_row_update(self);
	vireo_vm_row_update_picture(self);
	return GTK_WIDGET(self);
}
