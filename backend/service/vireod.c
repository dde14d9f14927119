// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireod: the management service. Owns org.vireo.Vireo1 on the session bus
 * (or the bus given with --address, for tests), keeps the inventory of VMs
 * and runs one vireo-worker per running VM. It exits when it loses its name
 * or gets SIGTERM; running VMs keep running and are taken over by the next
 * vireod.
 */
#include <locale.h>
#include <stdio.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vireo-config.h"
#include "service.h"

struct daemon {
	GMainLoop *loop;
	struct service *svc;
	int status;
};

static void on_name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	g_printerr("vireod %s: serving %s\n", VIREO_VERSION, name);
}

static void on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	struct daemon *d = data;
	g_printerr("vireod: %s\n", bus ? "another vireod owns " VIREO_BUS_NAME " already" : "cannot connect to the bus");
	d->status = 1;
	g_main_loop_quit(d->loop);
}

static gboolean on_signal(gpointer data)
{
	struct daemon *d = data;
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	g_autofree char *address = NULL;
	gboolean version = FALSE;
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &address, "Serve on this D-Bus address instead of the session bus", "ADDRESS" },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- Vireo's management service");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("vireod: %s\n", error->message);
		return 2;
	}
	if (version) {
		printf("vireod %s\n", VIREO_VERSION);
		return 0;
	}
	g_autoptr(GDBusConnection) bus = NULL;
	if (address)
		bus = g_dbus_connection_new_for_address_sync(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
							     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							     NULL, NULL, &error);
	else
		bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (!bus) {
		g_printerr("vireod: cannot connect to the D-Bus session bus: %s\n", error->message);
		return 1;
	}
	struct daemon d = { .loop = g_main_loop_new(NULL, FALSE) };
	d.svc = service_new(bus, &error);
	if (!d.svc) {
		g_printerr("vireod: %s\n", error->message);
		return 1;
	}
	g_unix_signal_add(SIGTERM, on_signal, &d);
	g_unix_signal_add(SIGINT, on_signal, &d);
	guint owner = g_bus_own_name_on_connection(bus, VIREO_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
						  on_name_acquired, on_name_lost, &d, NULL);
	g_main_loop_run(d.loop);
	g_bus_unown_name(owner);
	service_free(d.svc);
	g_main_loop_unref(d.loop);
	return d.status;
}
