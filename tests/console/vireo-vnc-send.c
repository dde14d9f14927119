// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-vnc-send: types into a VNC server as a VNC client does, with
 * libvncclient: X keysyms by name (xkbcommon's names), a combination
 * "Shift_L+A" pressed in order and released in reverse. The real-guest
 * console test uses it to check that VNC keys reach the guest as the
 * right evdev codes; gvnccapture is the stock client for the pixels.
 *
 *   vireo-vnc-send HOST:PORT|SOCKET-PATH [--password-file FILE] --keys K[+K...],...
 *
 * Exit status: 0 sent, 1 no connection or a send failed, 2 bad usage.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <rfb/rfbclient.h>
#include <xkbcommon/xkbcommon.h>

#define SEND_KEYS_MAX 256
#define SEND_COMBO_MAX 8
#define SEND_DRAIN_TIMEOUT_S 10

static char *password;

static void quiet(const char *format, ...)
{
}

static char *send_password(rfbClient *c)
{
	return password ? strdup(password) : NULL;
}

int main(int argc, char **argv)
{
	g_autofree char *keys = NULL, *pw_file = NULL;
	GOptionEntry entries[] = {
		{ "keys", 0, 0, G_OPTION_ARG_STRING, &keys, "Keysyms to type: K or K1+K2, comma-separated", "LIST" },
		{ "password-file", 0, 0, G_OPTION_ARG_FILENAME, &pw_file, "VNC password (its first line)", "FILE" },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) ctx = g_option_context_new("HOST:PORT|SOCKET - type keysyms into a VNC server");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || !keys) {
		fprintf(stderr, "vireo-vnc-send: %s (see --help)\n", error ? error->message : "a server and --keys");
		return 2;
	}
	/* Resolve every name before connecting. */
	g_auto(GStrv) combos = g_strsplit(keys, ",", -1);
	uint32_t syms[SEND_KEYS_MAX][SEND_COMBO_MAX];
	int lens[SEND_KEYS_MAX], n = 0;
	for (int i = 0; combos[i]; i++) {
		if (n >= SEND_KEYS_MAX) {
			fprintf(stderr, "vireo-vnc-send: at most %d keys\n", SEND_KEYS_MAX);
			return 2;
		}
		g_auto(GStrv) parts = g_strsplit(combos[i], "+", -1);
		lens[n] = 0;
		for (int k = 0; parts[k]; k++) {
			xkb_keysym_t s = xkb_keysym_from_name(parts[k], XKB_KEYSYM_NO_FLAGS);
			if (s == XKB_KEY_NoSymbol || lens[n] >= SEND_COMBO_MAX) {
				fprintf(stderr, "vireo-vnc-send: \"%s\" is not a keysym name\n", parts[k]);
				return 2;
			}
			syms[n][lens[n]++] = s;
		}
		n++;
	}
	if (pw_file) {
		g_autofree char *text = NULL;
		if (!g_file_get_contents(pw_file, &text, NULL, &error)) {
			fprintf(stderr, "vireo-vnc-send: %s\n", error->message);
			return 1;
		}
		text[strcspn(text, "\r\n")] = '\0';
		password = g_strdup(text);
	}

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	rfbClient *c = rfbGetClient(8, 3, 4);
	const char *target = argv[1];
	const char *colon = strrchr(target, ':');
	free(c->serverHost);
	if (target[0] == '/' || !colon) {
		c->serverHost = strdup(target);   /* libvncclient takes a socket path here */
	} else {
		c->serverHost = g_strndup(target, (gsize)(colon - target));
		c->serverPort = atoi(colon + 1);
	}
	c->GetPassword = send_password;
	c->appData.encodingsString = "raw";
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "vireo-vnc-send: cannot connect to %s\n", target);
		return 1;
	}
	int sent = 0;
	for (int i = 0; i < n; i++) {
		bool ok = true;
		for (int k = 0; k < lens[i]; k++)
			ok = ok && SendKeyEvent(c, syms[i][k], TRUE);
		for (int k = lens[i] - 1; k >= 0; k--)
			ok = ok && SendKeyEvent(c, syms[i][k], FALSE);
		if (!ok) {
			fprintf(stderr, "vireo-vnc-send: the server went away after %d keys\n", sent);
			return 1;
		}
		sent++;
	}
	/* Hang up only once the server has read everything: closing with its
	 * updates unread would reset the connection, and TCP drops what the
	 * server had not read yet. So: our end of the stream, then read until
	 * the server closes its end. */
	shutdown(c->sock, SHUT_WR);
	gint64 end = g_get_monotonic_time() + SEND_DRAIN_TIMEOUT_S * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		struct pollfd p = { c->sock, POLLIN, 0 };
		char buf[65536];
		if (poll(&p, 1, 100) > 0 && read(c->sock, buf, sizeof(buf)) <= 0)
			break;
	}
	printf("ok keys=%d\n", sent);
	free(c->frameBuffer);   /* libvncclient's, not freed by rfbClientCleanup */
	rfbClientCleanup(c);
	g_free(password);
	return 0;
}
