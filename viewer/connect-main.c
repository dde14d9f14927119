// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-connect: the console of a Vireo VM in a window, as Hyper-V's
 * vmconnect. See vireo-connect.1 for the whole story.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "connect-app.h"
#include "connect-text.h"
#include "connect-window.h"
#include "vireo-config.h"

static const char connect_description[] =
	"Shows the screen of a Vireo virtual machine and gives it the keyboard and\n"
	"mouse. VM is a name or an ID that vireod knows (on the session bus); with\n"
	"--socket the viewer talks to a worker's console socket directly, and the\n"
	"power actions (which need vireod) are not available.\n"
	"\n"
	"Click into the picture to give the VM the keyboard; Ctrl+Alt+Left gives it\n"
	"back. Ctrl+Alt+End sends Ctrl+Alt+Del, Ctrl+Alt+Pause toggles full screen.";

static bool parse_zoom(const char *s, struct connect_options *o)
{
	if (!s || g_ascii_strcasecmp(s, "fit") == 0) {
		o->zoom_mode = CONNECT_ZOOM_FIT;
		o->zoom = 100;
		return true;
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || (*end && strcmp(end, "%") != 0) || v < CONNECT_ZOOM_MIN || v > CONNECT_ZOOM_MAX)
		return false;
	o->zoom_mode = CONNECT_ZOOM_FIXED;
	o->zoom = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	gboolean inline_px = FALSE, fullscreen = FALSE, verbose = FALSE, version = FALSE;
	g_autofree char *socket_path = NULL, *zoom = NULL, *font = NULL, *layout = NULL, *shots = NULL;
	GOptionEntry entries[] = {
		{ "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
		  "Connect to this console socket instead of asking vireod", "PATH" },
		{ "inline", 0, 0, G_OPTION_ARG_NONE, &inline_px,
		  "Ask for the pixels inside the protocol (a socket forwarded from another machine)", NULL },
		{ "full-screen", 'f', 0, G_OPTION_ARG_NONE, &fullscreen, "Start in full screen", NULL },
		{ "zoom", 'z', 0, G_OPTION_ARG_STRING, &zoom, "fit (default) or a percentage, 25 to 400", "fit|N" },
		{ "font", 0, 0, G_OPTION_ARG_FILENAME, &font, "The TrueType font for the toolbar and messages (default "
		  CONNECT_FONT_DEFAULT ")", "FILE" },
		{ "type-layout", 0, 0, G_OPTION_ARG_STRING, &layout,
		  "The guest's keyboard layout for Type clipboard (XKB name, default " CONNECT_TEXT_DEFAULT_LAYOUT ")",
		  "LAYOUT" },
		{ "screenshot-dir", 0, 0, G_OPTION_ARG_FILENAME, &shots,
		  "Where Screenshot saves (default: the Pictures folder)", "DIR" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print state changes on standard output", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) ctx = g_option_context_new("[VM] - the console of a Vireo virtual machine");
	g_option_context_set_description(ctx, connect_description);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "vireo-connect: %s (see --help)\n", error->message);
		return 2;
	}
	if (version) {
		printf("vireo-connect %s\n", VIREO_VERSION);
		return 0;
	}
	struct connect_options o = { .inline_pixels = inline_px, .fullscreen = fullscreen, .verbose = verbose,
				     .font = font, .type_layout = layout, .screenshot_dir = shots };
	if (!parse_zoom(zoom, &o)) {
		fprintf(stderr, "vireo-connect: --zoom takes fit or a percentage from %d to %d\n", CONNECT_ZOOM_MIN,
			CONNECT_ZOOM_MAX);
		return 2;
	}
	if ((argc == 2) == (socket_path != NULL) || argc > 2) {
		fprintf(stderr, "vireo-connect: give one VM (a name or ID), or --socket PATH (see --help)\n");
		return 2;
	}
	o.vm = argc == 2 ? argv[1] : NULL;
	o.socket = socket_path;
	signal(SIGPIPE, SIG_IGN);
	return connect_app_run(&o);
}
