// SPDX-License-Identifier: GPL-2.0-or-later
#include "vireo-app-config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "vireo-format.h"

/* Shown where a number does not apply (a VM that is not running). */
#define VIREO_NONE "—"

static const char *const vireo_action_names[VIREO_N_ACTIONS] = {
	[VIREO_ACTION_START] = "start",
	[VIREO_ACTION_CONNECT] = "connect",
	[VIREO_ACTION_SHUT_DOWN] = "shut-down",
	[VIREO_ACTION_TURN_OFF] = "turn-off",
	[VIREO_ACTION_PAUSE] = "pause",
	[VIREO_ACTION_RESUME] = "resume",
	[VIREO_ACTION_RESET] = "reset",
	[VIREO_ACTION_SAVE] = "save",
	[VIREO_ACTION_DELETE] = "delete",
	[VIREO_ACTION_SETTINGS] = "settings",
};

const char *vireo_action_name(VireoAction a)
{
	return a < VIREO_N_ACTIONS ? vireo_action_names[a] : NULL;
}

const char *vireo_action_label(VireoAction a)
{
	switch (a) {
	case VIREO_ACTION_START: return _("Start");
	case VIREO_ACTION_CONNECT: return _("Connect");
	case VIREO_ACTION_SHUT_DOWN: return _("Shut Down");
	case VIREO_ACTION_TURN_OFF: return _("Turn Off");
	case VIREO_ACTION_PAUSE: return _("Pause");
	case VIREO_ACTION_RESUME: return _("Resume");
	case VIREO_ACTION_RESET: return _("Reset");
	case VIREO_ACTION_SAVE: return _("Save");
	case VIREO_ACTION_DELETE: return _("Delete");
	case VIREO_ACTION_SETTINGS: return _("Settings");
	default: return NULL;
	}
}

/*
 * org.vireo.Vireo1.xml, Machine states and the actions each allows. Connect
 * and Settings are always there: the viewer waits for a VM that is off (as
 * vmconnect does), and the name may change in any state.
 */
#define A(x) (1u << VIREO_ACTION_##x)
static const struct {
	const char *state;
	unsigned actions;
} vireo_state_table[] = {
	{ "Off", A(START) | A(DELETE) },
	{ "Starting", A(TURN_OFF) },
	{ "Running", A(SHUT_DOWN) | A(TURN_OFF) | A(PAUSE) | A(RESET) | A(SAVE) },
	{ "Paused", A(RESUME) | A(TURN_OFF) | A(SAVE) },
	{ "Saving", 0 },
	{ "Saved", A(START) | A(DELETE) },
	{ "Stopping", A(TURN_OFF) },
	{ "Failed", A(START) | A(DELETE) },
};
#define VIREO_ALWAYS (A(CONNECT) | A(SETTINGS))

gboolean vireo_state_allows(const char *state, VireoAction a)
{
	if (a >= VIREO_N_ACTIONS || !state)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(vireo_state_table); i++)
		if (g_str_equal(vireo_state_table[i].state, state))
			return ((vireo_state_table[i].actions | VIREO_ALWAYS) >> a) & 1;
	/* A state this manager does not know: nothing but the harmless. */
	return (VIREO_ALWAYS >> a) & 1;
}

gboolean vireo_state_is_active(const char *state)
{
	static const char *const active[] = { "Starting", "Running", "Paused", "Saving", "Stopping" };
	for (gsize i = 0; state && i < G_N_ELEMENTS(active); i++)
		if (g_str_equal(active[i], state))
			return TRUE;
	return FALSE;
}

const char *vireo_state_label(const char *state)
{
	if (!state)
		return "";
	/* Translators: the states of a virtual machine, as Hyper-V names them. */
	if (g_str_equal(state, "Off")) return C_("vm state", "Off");
	if (g_str_equal(state, "Starting")) return C_("vm state", "Starting");
	if (g_str_equal(state, "Running")) return C_("vm state", "Running");
	if (g_str_equal(state, "Paused")) return C_("vm state", "Paused");
	if (g_str_equal(state, "Saving")) return C_("vm state", "Saving");
	if (g_str_equal(state, "Saved")) return C_("vm state", "Saved");
	if (g_str_equal(state, "Stopping")) return C_("vm state", "Stopping");
	if (g_str_equal(state, "Failed")) return C_("vm state", "Failed");
	return state;
}

char *vireo_format_mib(guint64 mib)
{
	if (mib < 1024)
		/* Translators: an amount of memory in mebibytes. */
		return g_strdup_printf(_("%llu MiB"), (unsigned long long)mib);
	if (mib % 1024 == 0)
		/* Translators: an amount of memory in gibibytes. */
		return g_strdup_printf(_("%llu GiB"), (unsigned long long)(mib / 1024));
	/* Translators: an amount of memory in gibibytes, with one decimal. */
	return g_strdup_printf(_("%.1f GiB"), (double)mib / 1024.0);
}

char *vireo_format_bytes_used(guint64 bytes)
{
	if (bytes == 0)
		return g_strdup(VIREO_NONE);
	return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

char *vireo_format_cpu(double percent, gboolean running)
{
	if (!running)
		return g_strdup(VIREO_NONE);
	/* vireod's number is a percentage of one host CPU: above 100 with
	 * several busy vCPUs. Anything not a number is a broken reply. */
	if (!isfinite(percent) || percent < 0)
		percent = 0;
	if (percent > 100000)
		percent = 100000;
	/* Translators: CPU use in percent of one host CPU. */
	return g_strdup_printf(_("%.0f %%"), percent);
}

char *vireo_format_uptime(guint64 seconds, gboolean running)
{
	if (!running)
		return g_strdup(VIREO_NONE);
	guint64 days = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
	g_autofree char *clock = g_strdup_printf("%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT,
						 h, m, s);
	if (days == 0)
		return g_steal_pointer(&clock);
	/* Translators: an uptime of more than a day: the days, then H:MM:SS. */
	return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%llu day, %s", "%llu days, %s", (gulong)MIN(days, G_MAXULONG)),
			       (unsigned long long)days, clock);
}

char *vireo_format_addresses(const char *const *addresses)
{
	for (gsize i = 0; addresses && addresses[i]; i++) {
		/* The guest's own text: only what is valid to show. */
		g_autofree char *a = g_utf8_make_valid(addresses[i], -1);
		g_strstrip(a);
		if (*a)
			return g_steal_pointer(&a);
	}
	return g_strdup(VIREO_NONE);
}

const char *vireo_format_emulated_host(gboolean emulated)
{
	/* Translators: a tag on a VM that runs inside an emulated host (QEMU
	 * emulating the processor's virtualization): it works, slowly. */
	return emulated ? _("emulated host: slow") : "";
}

const char *vireo_format_emulated_host_tip(void)
{
	return _("This host’s KVM cannot run the virtual machine directly: it runs inside an emulated host "
		 "(QEMU with emulated AMD-V). It works, but slowly.");
}
