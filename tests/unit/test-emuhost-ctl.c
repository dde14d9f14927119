// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A control connection through the emulated host (backend/worker/
 * emuhost_ctl.c): "emuhost ..." answered here in order with the worker's
 * replies, pid= naming this host's process, and the limits that turn the
 * connection into a plain byte pipe.
 */
#include <string.h>

#include <glib.h>

#include "emuhost_ctl.h"

static char *local(void *opaque, const char *args)
{
	unsigned *calls = opaque;
	(*calls)++;
	return g_strdup_printf("ok local [%s]", args);
}

static char *text(const struct emuhost_buf *b)
{
	return g_strndup((const char *)b->data, b->len);
}

static void test_order_and_pid(void)
{
	unsigned calls = 0;
	struct emuhost_ctl c;
	emuhost_ctl_init(&c, 4242, local, &calls);
	const char *in = "status\r\nemuhost status\n  emuhost   kill-worker  \nemuhostile\nheartbeat\n";
	/* In pieces, as a socket gives them. */
	size_t inlen = strlen(in);
	for (size_t i = 0; i < inlen; i += 3)
		g_assert_cmpint(emuhost_ctl_from_client(&c, in + i, MIN(3, inlen - i)), ==, 0);
	g_assert_cmpuint(calls, ==, 2);
	g_autofree char *w = text(&c.to_worker);
	g_assert_cmpstr(w, ==, "status\nemuhostile\nheartbeat\n");
	/* Our replies wait for the worker's reply to the command before them. */
	g_assert_cmpuint(c.to_client.len, ==, 0);
	const char *r1 = "ok state=running boots=1 cpus=2 memory_mib=256 pid=77\n";
	g_assert_cmpint(emuhost_ctl_from_worker(&c, r1, 20), ==, 0);
	g_assert_cmpuint(c.to_client.len, ==, 0);
	g_assert_cmpint(emuhost_ctl_from_worker(&c, r1 + 20, strlen(r1) - 20), ==, 0);
	const char *r2 = "error unknown command \"emuhostile\" (try help)\nok alive=yes beats=3 pid=x\n";
	g_assert_cmpint(emuhost_ctl_from_worker(&c, r2, strlen(r2)), ==, 0);
	g_autofree char *out = text(&c.to_client);
	g_assert_cmpstr(out, ==,
			"ok state=running boots=1 cpus=2 memory_mib=256 pid=4242\n"
			"ok local [status]\n"
			"ok local [kill-worker]\n"
			"error unknown command \"emuhostile\" (try help)\n"
			"ok alive=yes beats=3 pid=4242x\n");
	/* A local command with nothing before it is answered at once. */
	emuhost_buf_consume(&c.to_client, c.to_client.len);
	g_assert_cmpint(emuhost_ctl_from_client(&c, "emuhost\n", 8), ==, 0);
	g_autofree char *out2 = text(&c.to_client);
	g_assert_cmpstr(out2, ==, "ok local []\n");
	/* Only "ok" replies have their pid rewritten, and only a whole pid= word. */
	emuhost_buf_consume(&c.to_client, c.to_client.len);
	g_assert_cmpint(emuhost_ctl_from_client(&c, "a\nb\n", 4), ==, 0);
	const char *r3 = "error pid=5\nok ppid=5 xpid=6\n";
	g_assert_cmpint(emuhost_ctl_from_worker(&c, r3, strlen(r3)), ==, 0);
	g_autofree char *out3 = text(&c.to_client);
	g_assert_cmpstr(out3, ==, r3);
	g_assert_false(c.raw);
	emuhost_ctl_clear(&c);
}

static void test_limits(void)
{
	unsigned calls = 0;
	struct emuhost_ctl c;
	/* A command longer than the worker takes: bytes as they are from then on. */
	emuhost_ctl_init(&c, 1, local, &calls);
	g_autofree char *longcmd = g_strnfill(EMUHOST_CTL_CMD_MAX + 10, 'a');
	g_assert_cmpint(emuhost_ctl_from_client(&c, "emuhost status\n", 15), ==, 0);
	g_assert_cmpint(emuhost_ctl_from_client(&c, longcmd, strlen(longcmd)), ==, 0);
	g_assert_true(c.raw);
	g_assert_cmpuint(c.to_worker.len, ==, strlen(longcmd));
	g_assert_cmpint(emuhost_ctl_from_client(&c, "emuhost status\n", 15), ==, 0);
	g_assert_cmpuint(calls, ==, 1);
	g_assert_cmpuint(c.to_worker.len, ==, strlen(longcmd) + 15);
	g_assert_cmpint(emuhost_ctl_from_worker(&c, "pid=1 ok\n", 9), ==, 0);
	g_autofree char *o = text(&c.to_client);
	g_assert_cmpstr(o, ==, "ok local [status]\npid=1 ok\n");
	emuhost_ctl_clear(&c);

	/* A reply line longer than EMUHOST_CTL_LINE_MAX (from L1): passed on, then raw. */
	emuhost_ctl_init(&c, 1, local, &calls);
	g_assert_cmpint(emuhost_ctl_from_client(&c, "help\n", 5), ==, 0);
	g_autofree char *huge = g_strnfill(EMUHOST_CTL_LINE_MAX + 1, 'r');
	g_assert_cmpint(emuhost_ctl_from_worker(&c, huge, strlen(huge)), ==, 0);
	g_assert_true(c.raw);
	g_assert_cmpuint(c.to_client.len, ==, strlen(huge));
	emuhost_ctl_clear(&c);

	/* More commands in flight than it keeps order for. */
	emuhost_ctl_init(&c, 1, local, &calls);
	GString *many = g_string_new(NULL);
	for (unsigned i = 0; i < EMUHOST_CTL_PENDING_MAX + 1; i++)
		g_string_append(many, "status\n");
	g_assert_cmpint(emuhost_ctl_from_client(&c, many->str, many->len), ==, 0);
	g_assert_true(c.raw);
	g_assert_cmpuint(c.to_worker.len, ==, many->len);
	g_string_free(many, TRUE);
	/* Unasked-for replies pass as they are. */
	emuhost_ctl_clear(&c);
	emuhost_ctl_init(&c, 1, NULL, NULL);
	g_assert_cmpint(emuhost_ctl_from_worker(&c, "ok pid=9\n", 9), ==, 0);
	g_autofree char *o2 = text(&c.to_client);
	g_assert_cmpstr(o2, ==, "ok pid=1\n");
	g_assert_cmpint(emuhost_ctl_from_client(&c, "emuhost x\n", 10), ==, 0);
	g_autofree char *o3 = text(&c.to_client);
	g_assert_true(g_str_has_suffix(o3, "error the emulated host cannot answer that\n"));
	emuhost_ctl_clear(&c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-ctl/order-and-pid", test_order_and_pid);
	g_test_add_func("/emuhost-ctl/limits", test_limits);
	return g_test_run();
}
