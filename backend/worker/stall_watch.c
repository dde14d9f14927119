// SPDX-License-Identifier: GPL-2.0-or-later
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "stall_watch.h"

static atomic_llong watch_beat;   /* monotonic seconds of the main loop's last run */
static pid_t watch_tid;
static char *watch_name;

static long long watch_now(void)
{
	return (long long)(g_get_monotonic_time() / G_USEC_PER_SEC);
}

static gboolean watch_on_beat(gpointer data)
{
	atomic_store(&watch_beat, watch_now());
	return G_SOURCE_CONTINUE;
}

/* One /proc file of the main thread, its lines joined with " | ". */
static char *watch_read(const char *what)
{
	g_autofree char *path = g_strdup_printf("/proc/self/task/%d/%s", (int)watch_tid, what);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("?");
	g_strstrip(text);
	g_auto(GStrv) lines = g_strsplit(text, "\n", 24);
	return g_strjoinv(" | ", lines);
}

static void *watch_thread(void *arg)
{
	bool stalled = false;
	for (;;) {
		sleep(5);
		long long quiet = watch_now() - atomic_load(&watch_beat);
		if (!stalled && quiet >= STALL_WATCH_AFTER_S) {
			stalled = true;
			g_autofree char *sc = watch_read("syscall"), *wchan = watch_read("wchan"), *stack = watch_read("stack");
			fprintf(stderr, "vireo-worker: VM %s: the main thread has not come back to its loop for %lld s: "
				"syscall %s; waits in %s; kernel stack %s\n", watch_name, quiet, sc, wchan, stack);
		} else if (stalled && quiet < 5) {
			stalled = false;
			fprintf(stderr, "vireo-worker: VM %s: the main thread runs again\n", watch_name);
		}
	}
	return NULL;
}

void stall_watch_start(const char *vm_name)
{
	watch_tid = (pid_t)syscall(SYS_gettid);
	watch_name = g_strdup(vm_name ? vm_name : "?");
	atomic_store(&watch_beat, watch_now());
	g_timeout_add_seconds(1, watch_on_beat, NULL);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, watch_thread, NULL) != 0)
		fprintf(stderr, "vireo-worker: the main thread's stall watch did not start\n");
	pthread_attr_destroy(&a);
}
