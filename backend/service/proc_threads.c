// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "proc_threads.h"

bool proc_stat(const char *path, guint64 *ticks, char *state)
{
	g_autofree char *stat = NULL;
	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return false;
	/* After the name, which may hold spaces and parentheses: its last ')'. */
	const char *p = strrchr(stat, ')');
	if (!p || !p[1])
		return false;
	g_auto(GStrv) f = g_strsplit(p + 2, " ", 16);
	if (g_strv_length(f) < 13)
		return false;
	*ticks = g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10);
	*state = f[0][0];
	return true;
}

static char *proc_line(const char *dir, const char *file)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("?");
	return g_strdup(g_strstrip(text));
}

GStrv proc_children(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", (int)pid, (int)pid);
	g_autofree char *kids = NULL;
	if (!g_file_get_contents(path, &kids, NULL, NULL) || !*g_strstrip(kids))
		return g_new0(char *, 1);
	return g_strsplit(kids, " ", 8);
}

char *proc_threads_describe(pid_t pid, unsigned sample_ms)
{
	g_autofree char *stat = g_strdup_printf("/proc/%d/stat", (int)pid);
	guint64 t0, t1;
	char st;
	if (!proc_stat(stat, &t0, &st))
		return NULL;
	g_usleep((gulong)sample_ms * 1000);
	if (!proc_stat(stat, &t1, &st))
		return NULL;
	long hz = sysconf(_SC_CLK_TCK);
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "pid %d: cpu %.0f%% over %u ms; threads:", (int)pid,
			       sample_ms && hz > 0 ? 100.0 * (double)(t1 - t0) / (double)hz * 1000.0 / sample_ms : 0.0,
			       sample_ms);
	g_autofree char *tasks = g_strdup_printf("/proc/%d/task", (int)pid);
	g_autoptr(GDir) d = g_dir_open(tasks, 0, NULL);
	const char *tid;
	while (d && (tid = g_dir_read_name(d))) {
		g_autofree char *dir = g_build_filename(tasks, tid, NULL);
		g_autofree char *tstat = g_build_filename(dir, "stat", NULL);
		guint64 ticks;
		char state;
		if (!proc_stat(tstat, &ticks, &state))
			continue;
		g_autofree char *comm = proc_line(dir, "comm"), *wchan = proc_line(dir, "wchan");
		g_string_append_printf(s, " %s(%c %s)", comm, state, *wchan && strcmp(wchan, "0") ? wchan : "-");
	}
	return g_string_free(s, FALSE);
}
