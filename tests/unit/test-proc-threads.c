// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proc_threads_describe (backend/service/proc_threads.c), on this process:
 * a thread that spins shows as running and its CPU use counts; a thread
 * that waits shows its wait; a process that is gone gives NULL.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "proc_threads.h"

static atomic_bool stop;

static void *spin(void *arg)
{
	pthread_setname_np(pthread_self(), "vireo-spinner");
	while (!atomic_load(&stop))
		;
	return NULL;
}

static void *sleeper(void *arg)
{
	pthread_setname_np(pthread_self(), "vireo-sleeper");
	while (!atomic_load(&stop))
		g_usleep(10000);
	return NULL;
}

static void test_self(void)
{
	pthread_t a, b;
	g_assert_cmpint(pthread_create(&a, NULL, spin, NULL), ==, 0);
	g_assert_cmpint(pthread_create(&b, NULL, sleeper, NULL), ==, 0);
	g_usleep(50000);
	g_autofree char *d = proc_threads_describe(getpid(), 500);
	atomic_store(&stop, true);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	g_assert_nonnull(d);
	g_test_message("%s", d);
	g_autofree char *head = g_strdup_printf("pid %d: cpu ", (int)getpid());
	g_assert_true(g_str_has_prefix(d, head));
	/* The spinner is busy for the whole sample: some of it is counted even
	 * on a machine that runs other tests beside this one. */
	g_assert_cmpfloat(g_ascii_strtod(d + strlen(head), NULL), >, 0.0);
	/* Running or runnable: R either way. */
	g_assert_nonnull(strstr(d, " vireo-spinner(R "));
	g_assert_nonnull(strstr(d, " vireo-sleeper(S "));
	g_assert_nonnull(strstr(d, "threads: "));
}

static void test_gone(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	g_assert_cmpint(p, >, 0);
	int st;
	g_assert_cmpint(waitpid(p, &st, 0), ==, p);
	g_assert_null(proc_threads_describe(p, 10));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proc-threads/self", test_self);
	g_test_add_func("/proc-threads/gone", test_gone);
	return g_test_run();
}
