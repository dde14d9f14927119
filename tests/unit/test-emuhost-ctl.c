// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A control connection through the emulated host (backend/worker/
 * emuhost_ctl.c): "emuhost ..." answered here in order with the worker's
 * replies, pid= naming this host's process, and the limits that turn the
 * connection into a plain byte pipe.
 */
#include <errno.h>
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

struct hooks_log {
	uint32_t later, rewritten;
	char *reply;
};

static enum emuhost_ctl_route h_command(void *opaque, struct emuhost_ctl *c, uint32_t ticket, const char *line,
					char **out)
{
	struct hooks_log *h = opaque;
	if (g_str_equal(line, "later")) {
		h->later = ticket;
		return EMUHOST_CTL_LATER;
	}
	if (g_str_equal(line, "answer")) {
		*out = g_strdup("ok answered");
		return EMUHOST_CTL_ANSWER;
	}
	if (g_str_has_prefix(line, "rewrite ")) {
		h->rewritten = ticket;
		*out = g_strdup_printf("inner %s", line + 8);
		return EMUHOST_CTL_REWRITE;
	}
	if (g_str_equal(line, "two-lines")) {
		/* Would put the worker's replies out of step: refused. */
		*out = g_strdup("a\nb");
		return EMUHOST_CTL_REWRITE;
	}
	return EMUHOST_CTL_PASS;
}

static void h_reply(void *opaque, struct emuhost_ctl *c, uint32_t ticket, const char *line)
{
	struct hooks_log *h = opaque;
	g_assert_cmpuint(ticket, ==, h->rewritten);
	g_free(h->reply);
	h->reply = g_strdup(line);
}

static const struct emuhost_ctl_hooks log_hooks = { .command = h_command, .reply = h_reply };

static void test_hooks(void)
{
	struct hooks_log h = { 0 };
	struct emuhost_ctl c;
	emuhost_ctl_init(&c, 4242, local, &(unsigned){ 0 });
	emuhost_ctl_set_hooks(&c, &log_hooks, &h);
	const char *in = "later\nstatus\nanswer\nrewrite 1 \ntwo-lines\nemuhost status\nheartbeat\n";
	g_assert_cmpint(emuhost_ctl_from_client(&c, in, strlen(in)), ==, 0);
	g_assert_cmpuint(h.later, !=, 0);
	g_assert_cmpuint(h.rewritten, !=, 0);
	g_assert_cmpuint(h.later, !=, h.rewritten);
	g_autofree char *w = text(&c.to_worker);
	g_assert_cmpstr(w, ==, "status\ninner 1\nheartbeat\n");
	/* Everything waits for the first command's answer. */
	g_assert_true(emuhost_ctl_owed(&c));
	const char *r = "ok state=running pid=3\nok inner-reply pid=3\nok alive=yes\n";
	g_assert_cmpint(emuhost_ctl_from_worker(&c, r, strlen(r)), ==, 0);
	/* The hook sees the worker's line as it is. */
	g_assert_cmpstr(h.reply, ==, "ok inner-reply pid=3");
	g_assert_cmpuint(c.to_client.len, ==, 0);
	/* The rewritten command's answer first, out of order: still held. */
	g_autofree char *outer = g_strdup_printf("ok outer [%s]", h.reply);
	g_assert_cmpint(emuhost_ctl_answer(&c, h.rewritten, outer), ==, 0);
	g_assert_cmpuint(c.to_client.len, ==, 0);
	g_assert_cmpint(emuhost_ctl_answer(&c, h.rewritten, "again"), ==, -ENOENT);
	g_assert_cmpint(emuhost_ctl_answer(&c, 999, "nobody"), ==, -ENOENT);
	g_assert_cmpint(emuhost_ctl_answer(&c, h.later, "ok later"), ==, 0);
	g_assert_false(emuhost_ctl_owed(&c));
	g_autofree char *out = text(&c.to_client);
	g_assert_cmpstr(out, ==,
			"ok later\n"
			"ok state=running pid=4242\n"
			"ok answered\n"
			"ok outer [ok inner-reply pid=3]\n"
			"error the emulated host cannot answer that\n"
			"ok local [status]\n"
			"ok alive=yes\n");
	g_assert_cmpint(emuhost_ctl_answer(&c, h.later, "ok twice"), ==, -ENOENT);
	emuhost_ctl_clear(&c);

	/* An answer still owed when the connection goes raw is not sent. */
	g_free(h.reply);
	memset(&h, 0, sizeof(h));
	emuhost_ctl_init(&c, 1, local, &(unsigned){ 0 });
	emuhost_ctl_set_hooks(&c, &log_hooks, &h);
	g_assert_cmpint(emuhost_ctl_from_client(&c, "answer\nlater\n", 14), ==, 0);
	g_assert_true(emuhost_ctl_owed(&c));
	g_autofree char *longcmd = g_strnfill(EMUHOST_CTL_CMD_MAX + 1, 'a');
	g_assert_cmpint(emuhost_ctl_from_client(&c, longcmd, strlen(longcmd)), ==, 0);
	g_assert_true(c.raw);
	g_assert_false(emuhost_ctl_owed(&c));
	g_assert_cmpint(emuhost_ctl_answer(&c, h.later, "ok late"), ==, -ENOENT);
	g_autofree char *o2 = text(&c.to_client);
	g_assert_cmpstr(o2, ==, "ok answered\n");
	emuhost_ctl_clear(&c);

	/* A rewritten command whose worker ended before it replied: answered here all the same. */
	memset(&h, 0, sizeof(h));
	emuhost_ctl_init(&c, 1, local, &(unsigned){ 0 });
	emuhost_ctl_set_hooks(&c, &log_hooks, &h);
	g_assert_cmpint(emuhost_ctl_from_client(&c, "rewrite x\n", 10), ==, 0);
	g_assert_false(emuhost_ctl_owed(&c));
	g_assert_cmpint(emuhost_ctl_answer(&c, h.rewritten, "ok saved here"), ==, 0);
	g_autofree char *o3 = text(&c.to_client);
	g_assert_cmpstr(o3, ==, "ok saved here\n");
	g_assert_null(h.reply);
	emuhost_ctl_clear(&c);
	g_free(h.reply);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-ctl/order-and-pid", test_order_and_pid);
	g_test_add_func("/emuhost-ctl/limits", test_limits);
	g_test_add_func("/emuhost-ctl/hooks", test_hooks);
	return g_test_run();
}
