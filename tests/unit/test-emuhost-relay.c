// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost's relay (backend/worker/emuhost_relay.c) at its end, with
 * a stand-in for QEMU: the agent's last messages are already in the mux
 * socket when the relay starts.
 *  - QEMU ended with EXIT still unread behind more than one read's worth
 *    of log: the worker's exit decides, not "ended before the worker did".
 *  - After EXIT the relay hangs up the mux: that is the agent's sign that
 *    everything arrived and it may power L1 off.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_args.h"
#include "emuhost_link.h"
#include "emuhost_relay.h"

static const struct emuhost_link_ops no_ops = { 0 };

/* The agent's side of a session: HELLO, READY, log_bytes of LOG, EXIT status 0. */
static void agent_says(int fd, size_t log_bytes)
{
	struct emuhost_link l;
	emuhost_link_init(&l, EMUHOST_LINK_AGENT, &no_ops, NULL);
	g_assert_cmpint(emuhost_link_send_hello(&l), ==, 0);
	g_assert_cmpint(emuhost_link_send_ready(&l, 0), ==, 0);
	uint8_t line[1024];
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (size_t done = 0; done < log_bytes; done += sizeof(line))
		g_assert_cmpuint(emuhost_link_send_log(&l, line, sizeof(line)), ==, sizeof(line));
	g_assert_cmpint(emuhost_link_send_exit(&l, EMUX_EXIT_STATUS, 0, "the worker exited with status 0"), ==, 0);
	int buf = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	for (size_t off = 0; off < l.out_len;) {
		ssize_t n = write(fd, l.out + off, l.out_len - off);
		g_assert_cmpint(n, >, 0);
		off += (size_t)n;
	}
	emuhost_link_clear(&l);
}

/* The relay's run, its stdout (our LOG lines) kept out of the test's. */
static void relay(int mux, int console, pid_t qemu, struct emuhost_result *res)
{
	struct emuhost_args a = { .serial = (char *)"none", .memory = 256u << 20, .cpus = 1 };
	struct emuhost_relay_config cfg = { .args = &a, .mux_fd = mux, .console_fd = console, .qemu = qemu,
					    .image_key = "test", .l1_memory_mib = 512 };
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(null, 1);
	emuhost_relay_run(&cfg, res);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
}

static void block_sigchld(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
}

static void test_exit_left_in_socket(void)
{
	int mux[2], con[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mux), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con), ==, 0);
	/* More log than one read of the relay takes: EXIT is behind it. */
	agent_says(mux[1], 96 * 1024);
	block_sigchld();
	pid_t qemu = fork();
	if (qemu == 0)
		_exit(0);
	siginfo_t si;
	g_assert_cmpint(waitid(P_PID, (id_t)qemu, &si, WEXITED | WNOWAIT), ==, 0);
	close(con[1]);
	struct emuhost_result res = { 0 };
	relay(mux[0], con[0], qemu, &res);
	g_assert_cmpstr(res.why, ==, "the worker exited with status 0");
	g_assert_cmpint(res.end, ==, EMUHOST_END_EXIT);
	g_assert_cmpint(res.status, ==, 0);
	close(mux[0]);
	close(mux[1]);
	close(con[0]);
}

static void test_hangs_up_after_exit(void)
{
	int mux[2], con[2], told[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mux), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con), ==, 0);
	g_assert_cmpint(pipe2(told, O_CLOEXEC), ==, 0);
	agent_says(mux[1], 0);
	block_sigchld();
	pid_t qemu = fork();
	if (qemu == 0) {
		/* The agent's wait: until the host hangs up (the relay kills us after its bound). */
		close(mux[0]);
		char b[256];
		while (read(mux[1], b, sizeof(b)) > 0)
			;
		(void)!write(told[1], "h", 1);
		_exit(0);
	}
	close(mux[1]);
	close(con[1]);
	close(told[1]);
	struct emuhost_result res = { 0 };
	gint64 t0 = g_get_monotonic_time();
	relay(mux[0], con[0], qemu, &res);
	gint64 ms = (g_get_monotonic_time() - t0) / 1000;
	g_assert_cmpint(res.end, ==, EMUHOST_END_EXIT);
	char c = 0;
	g_assert_cmpint(read(told[0], &c, 1), ==, 1);
	g_assert_cmpint(c, ==, 'h');
	g_test_message("relay ended %" G_GINT64_FORMAT " ms after it started", ms);
	close(told[0]);
	close(mux[0]);
	close(con[0]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/emuhost-relay/exit-left-in-socket", test_exit_left_in_socket);
	g_test_add_func("/emuhost-relay/hangs-up-after-exit", test_hangs_up_after_exit);
	return g_test_run();
}
