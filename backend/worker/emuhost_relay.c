// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_conn.h"
#include "emuhost_hooks.h"
#include "emuhost_link.h"
#include "emuhost_relay.h"
#include "unixsock.h"

#define RELAY_READ_CHUNK EMUX_DATA_MAX
#define RELAY_LISTEN_BACKLOG 16
#define RELAY_DRAIN_READS_MAX 1024   /* more than a socket buffer holds */
#define RELAY_POLL_MAX (8 + EMUX_EP_COUNT + 2 * EMUX_CHANNELS_MAX)

struct relay_ep {
	bool wanted;
	enum emuhost_conn_kind kind;
	int listen_fd;
	char *path;                  /* a unix socket we made: unlinked at the end */
	char *host, *port;           /* or TCP */
};

struct relay {
	const struct emuhost_relay_config *cfg;
	struct emuhost_link link;
	int sig_fd;
	struct relay_ep eps[EMUX_EP_COUNT];
	struct emuhost_conn *conns[EMUX_CHANNELS_MAX + 1];
	bool hello, ready, exited, qemu_done, turning_off;
	bool mux_shut;               /* our end of the mux is shut for writing (after EXIT) */
	bool mux_eof;                /* QEMU closed its end: nothing more to read */
	int qemu_status;
	uint32_t exit_how, exit_code;
	char exit_text[EMUX_TEXT_MAX + 1];
	int64_t started_ms, hello_deadline, turn_off_deadline, drain_deadline;
	struct emuhost_buf con_line;
	char *con_tail[EMUHOST_RELAY_CONSOLE_TAIL];
	unsigned con_next;
	uint64_t refused;
	uint64_t mux_in, mux_out;    /* bytes: a link whose one way stops shows here */
	struct emuhost_hooks hooks;  /* screenshot PATH, save DIR */
	struct emuhost_result *res;
	bool done;
};

static int64_t relay_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void relay_out(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A line of ours into the log (stdout): vireod's StateReason shows the latest "emulated host:" one. */
static void relay_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void relay_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void relay_finish(struct relay *r, enum emuhost_end end, int status, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static void relay_finish(struct relay *r, enum emuhost_end end, int status, const char *fmt, ...)
{
	if (r->done)
		return;
	r->done = true;
	r->res->end = end;
	r->res->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->res->why, sizeof(r->res->why), fmt, ap);
	va_end(ap);
}

/* The last lines of L1's console, on one line, for an error message. */
static char *relay_console_tail(struct relay *r)
{
	GString *s = g_string_new(NULL);
	for (unsigned i = 0; i < EMUHOST_RELAY_CONSOLE_TAIL; i++) {
		const char *l = r->con_tail[(r->con_next + i) % EMUHOST_RELAY_CONSOLE_TAIL];
		if (l && *l)
			g_string_append_printf(s, "%s%s", s->len ? " | " : "", l);
	}
	return g_string_free(s, FALSE);
}

static char *relay_local(void *opaque, const char *args);

/* ---- link callbacks ---- */

static void relay_on_hello(void *opaque, uint16_t major, uint16_t minor)
{
	struct relay *r = opaque;
	if (major != EMUX_VERSION_MAJOR) {
		relay_finish(r, EMUHOST_END_FAILED, 1, "the emulated host's agent speaks mux %u.%u, this vireo-emuhost %u.%u",
			     major, minor, EMUX_VERSION_MAJOR, EMUX_VERSION_MINOR);
		return;
	}
	if (!r->hello) {
		r->hello = true;
		(void)emuhost_link_send_hello(&r->link);
		relay_out("emulated host: L1 is up after %.1f s, starting the worker",
			  (double)(relay_now_ms() - r->started_ms) / 1000);
	}
}

static int relay_listen(struct relay *r, struct relay_ep *e, GError **error)
{
	if (e->path) {
		e->listen_fd = unixsock_listen(e->path, "emulated host endpoint", RELAY_LISTEN_BACKLOG, error);
		return e->listen_fd;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(*e->host ? e->host : NULL, e->port, &hints, &ai);
	if (g) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "VNC %s:%s: %s", e->host, e->port, gai_strerror(g));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, RELAY_LISTEN_BACKLOG) < 0) {
		int err = errno;
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "VNC %s:%s: %s", e->host, e->port, g_strerror(err));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	e->listen_fd = fd;
	return fd;
}

/* The serial console's lines on our stdio or into a file, through a channel of our own. */
static void relay_open_serial(struct relay *r)
{
	const char *spec = r->cfg->args->serial;
	if (g_str_equal(spec, "none") || g_str_has_prefix(spec, "unix:"))
		return;
	int in = -1, out;
	if (g_str_equal(spec, "stdio")) {
		in = 0;
		out = 1;
	} else {
		out = open(spec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0) {
			relay_out("vireo-emuhost: --serial %s: %s", spec, g_strerror(errno));
			return;
		}
	}
	int ch = emuhost_link_open(&r->link, EMUX_EP_SERIAL);
	if (ch < 0)
		return;
	struct emuhost_conn *c = emuhost_conn_new(&r->link, &r->conns[ch], (unsigned)ch, EMUHOST_CONN_RAW, in, out,
						  false, relay_local, r);
	c->internal = true;
	if (in >= 0)
		fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
}

static void relay_on_ready(void *opaque, uint32_t endpoints)
{
	struct relay *r = opaque;
	if (r->ready)
		return;
	r->ready = true;
	for (unsigned i = 0; i < EMUX_EP_COUNT; i++) {
		struct relay_ep *e = &r->eps[i];
		if (!e->wanted)
			continue;
		if (!(endpoints & (1u << i)))
			relay_out("emulated host: the worker has no %s socket yet",
				  i == EMUX_EP_CONTROL ? "control" : i == EMUX_EP_CONSOLE ? "console" : i == EMUX_EP_SERIAL ? "serial" : "VNC");
		g_autoptr(GError) e2 = NULL;
		if (relay_listen(r, e, &e2) < 0) {
			relay_finish(r, EMUHOST_END_FAILED, 1, "%s", e2->message);
			return;
		}
	}
	relay_open_serial(r);
	relay_out("emulated host: the worker is up after %.1f s", (double)(relay_now_ms() - r->started_ms) / 1000);
}

static void relay_link_write(struct relay *r);

static void relay_on_exit(void *opaque, uint32_t how, uint32_t code, const char *text, size_t len)
{
	struct relay *r = opaque;
	if (r->exited)
		return;
	r->exited = true;
	emuhost_hooks_worker_ended(&r->hooks);
	r->exit_how = how;
	r->exit_code = code;
	g_autofree char *t = g_strndup(text, len);
	g_strlcpy(r->exit_text, t, sizeof(r->exit_text));
	r->drain_deadline = relay_now_ms() + EMUHOST_RELAY_DRAIN_MS;
	/* EXIT is the agent's last word: hanging up tells it everything arrived,
	 * and only then does it power L1 off (QEMU could still hold unsent
	 * bytes otherwise). What we still owed L1 goes first, as far as it can. */
	relay_link_write(r);
	if (shutdown(r->cfg->mux_fd, SHUT_WR) == 0)
		r->mux_shut = true;
}

static void relay_on_log(void *opaque, const uint8_t *data, size_t len)
{
	relay_write_all(1, data, len);
}

static void relay_on_data(void *opaque, unsigned ch, const uint8_t *data, size_t len)
{
	struct relay *r = opaque;
	struct emuhost_conn *c = r->conns[ch];
	if (!c)
		return;
	if (emuhost_buf_append(&c->from_agent, data, len) < 0) {
		emuhost_conn_close(c, ENOMEM);
		return;
	}
	(void)emuhost_conn_pump_down(c);
}

static void relay_on_eof(void *opaque, unsigned ch)
{
	struct relay *r = opaque;
	struct emuhost_conn *c = r->conns[ch];
	if (!c)
		return;
	c->eof_out = true;
	(void)emuhost_conn_pump_down(c);
}

static void relay_on_closed(void *opaque, unsigned ch, uint32_t error)
{
	struct relay *r = opaque;
	struct emuhost_conn *c = r->conns[ch];
	if (c) {
		/* What the client still has to hear goes out first, as far as it can now. */
		c->eof_out = true;
		if (emuhost_conn_pump_down(c) && r->conns[ch] == c)
			emuhost_conn_free(c);
	}
}

static void relay_on_file(void *opaque, const struct emux_msg *m)
{
	struct relay *r = opaque;
	emuhost_hooks_file(&r->hooks, m);
}

static void relay_on_writable(void *opaque, unsigned ch)
{
	struct relay *r = opaque;
	if (r->conns[ch])
		(void)emuhost_conn_pump_up(r->conns[ch]);
}

static const struct emuhost_link_ops relay_link_ops = {
	.hello = relay_on_hello,
	.ready = relay_on_ready,
	.exit = relay_on_exit,
	.log = relay_on_log,
	.file = relay_on_file,
	.data = relay_on_data,
	.eof = relay_on_eof,
	.closed = relay_on_closed,
	.writable = relay_on_writable,
};

/* ---- control commands of ours ---- */

static char *relay_local(void *opaque, const char *args)
{
	struct relay *r = opaque;
	if (!*args || g_str_equal(args, "status")) {
		unsigned n = 0;
		for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++)
			n += r->conns[ch] != NULL;
		const struct emuhost_link_stats *s = &r->link.stats;
		return g_strdup_printf("ok emulated=yes qemu_pid=%d l1_memory_mib=%u image=%s uptime_s=%" G_GINT64_FORMAT
				       " channels=%u refused=%" G_GUINT64_FORMAT " messages=%" G_GUINT64_FORMAT
				       " bad=%" G_GUINT64_FORMAT " unknown=%" G_GUINT64_FORMAT " stray=%" G_GUINT64_FORMAT
				       " violations=%" G_GUINT64_FORMAT " screenshots=%" G_GUINT64_FORMAT
				       " saves=%" G_GUINT64_FORMAT " mux_in=%" G_GUINT64_FORMAT " mux_out=%" G_GUINT64_FORMAT
				       " queued=%zu",
				       (int)r->cfg->qemu, r->cfg->l1_memory_mib, r->cfg->image_key,
				       (relay_now_ms() - r->started_ms) / 1000, n, r->refused, s->messages, s->bad,
				       s->unknown, s->stray, s->violations, r->hooks.shots, r->hooks.saves, r->mux_in,
				       r->mux_out, r->link.out_len);
	}
	unsigned sig = 0;
	if (g_str_equal(args, "kill-worker")) {
		sig = SIGKILL;
	} else if (g_str_has_prefix(args, "signal ")) {
		char *end;
		unsigned long v = strtoul(args + 7, &end, 10);
		if (*end || v < 1 || v > EMUX_SIGNAL_MAX)
			return g_strdup_printf("error emuhost signal takes a signal number, 1 to %u", EMUX_SIGNAL_MAX);
		sig = (unsigned)v;
	} else {
		return g_strdup_printf("error unknown emuhost command \"%.64s\" (emuhost status, emuhost kill-worker, "
				       "emuhost signal N)", args);
	}
	if (emuhost_link_send_signal(&r->link, sig) < 0)
		return g_strdup("error the emulated host's link is lost");
	return g_strdup_printf("ok sent signal %u to the worker inside the emulated host", sig);
}

/* ---- the loop ---- */

static void relay_accept(struct relay *r, unsigned ep)
{
	struct relay_ep *e = &r->eps[ep];
	int fd = e->path ? unixsock_accept_same_user(e->listen_fd)
			 : accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int ch = r->exited || r->turning_off ? -ESHUTDOWN : emuhost_link_open(&r->link, ep);
	if (ch < 0) {
		r->refused++;
		close(fd);
		return;
	}
	struct emuhost_conn *c = emuhost_conn_new(&r->link, &r->conns[ch], (unsigned)ch, e->kind, fd, fd, true,
						  relay_local, r);
	if (e->kind == EMUHOST_CONN_CONTROL)
		emuhost_ctl_set_hooks(&c->ctl, &emuhost_hooks_ctl, &r->hooks);
}

/* L1's console lines into the log: bytes read (0 at its end). */
static ssize_t relay_console(struct relay *r, int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return n;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || r->con_line.len >= EMUHOST_RELAY_LINE_MAX) {
			g_autofree char *line = g_strndup((const char *)r->con_line.data, r->con_line.len);
			g_strdelimit(line, "\r", ' ');
			g_strchomp(line);
			emuhost_buf_consume(&r->con_line, r->con_line.len);
			if (!*line)
				continue;
			g_autofree char *valid = g_utf8_make_valid(line, -1);
			relay_out("[L1] %s", valid);
			g_free(r->con_tail[r->con_next]);
			r->con_tail[r->con_next] = g_steal_pointer(&valid);
			r->con_next = (r->con_next + 1) % EMUHOST_RELAY_CONSOLE_TAIL;
		} else {
			(void)emuhost_buf_append(&r->con_line, buf + i, 1);
		}
	}
	return n;
}

static void relay_turn_off(struct relay *r)
{
	if (r->turning_off)
		return;
	r->turning_off = true;
	r->hooks.closed = true;
	r->turn_off_deadline = relay_now_ms() + EMUHOST_RELAY_TURN_OFF_MS;
	relay_out("emulated host: turning the VM off (a signal)");
	int ch = r->ready ? emuhost_link_open(&r->link, EMUX_EP_CONTROL) : -1;
	if (ch < 0) {
		/* Nothing to turn off gently yet: the emulated host goes. */
		relay_finish(r, EMUHOST_END_EXIT, 13, "turned off before the worker was up");
		return;
	}
	struct emuhost_conn *c = emuhost_conn_new(&r->link, &r->conns[ch], (unsigned)ch, EMUHOST_CONN_RAW, -1, -1,
						  false, relay_local, r);
	c->internal = true;
	(void)emuhost_buf_append(&c->to_agent, "turn-off\n", 9);
	(void)emuhost_conn_pump_up(c);
}

static bool relay_link_read(struct relay *r);

/* Every byte QEMU left in the mux socket (it has ended: the reads end). */
static void relay_link_drain(struct relay *r)
{
	for (unsigned i = 0; i < RELAY_DRAIN_READS_MAX && !r->done && relay_link_read(r); i++)
		;
}

static void relay_signals(struct relay *r)
{
	struct signalfd_siginfo si;
	while (read(r->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int st;
			if (waitpid(r->cfg->qemu, &st, WNOHANG) == r->cfg->qemu) {
				r->qemu_done = true;
				r->qemu_status = st;
				/* What QEMU wrote before it ended is still in the socket: an
				 * EXIT there decides how this ends, not QEMU's exit. */
				relay_link_drain(r);
			}
		} else {
			relay_turn_off(r);
		}
	}
}

/* One read of the mux into the link: false when there was nothing to read. */
static bool relay_link_read(struct relay *r)
{
	static uint8_t buf[RELAY_READ_CHUNK];
	ssize_t n = read(r->cfg->mux_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		r->mux_eof = true;   /* QEMU is going: its exit says the rest */
		return false;
	}
	r->mux_in += (uint64_t)n;
	if (emuhost_link_feed(&r->link, buf, (size_t)n) < 0)
		relay_finish(r, EMUHOST_END_FAILED, 1, "the emulated host broke the mux protocol (%s)",
			     g_strerror(-r->link.error));
	return true;
}

static void relay_link_write(struct relay *r)
{
	while (r->link.out_len && !r->mux_shut) {
		ssize_t n = write(r->cfg->mux_fd, r->link.out, r->link.out_len);
		if (n <= 0)
			return;
		r->mux_out += (uint64_t)n;
		emuhost_link_written(&r->link, (size_t)n);
	}
}

static void relay_check_end(struct relay *r)
{
	int64_t now = relay_now_ms();
	if (r->exited) {
		bool busy = false;
		for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++)
			busy |= r->conns[ch] && !r->conns[ch]->internal && emuhost_conn_down(r->conns[ch])->len;
		if (!busy || now >= r->drain_deadline) {
			if (r->exit_how == EMUX_EXIT_STATUS)
				relay_finish(r, EMUHOST_END_EXIT, (int)r->exit_code, "%s", r->exit_text);
			else if (r->exit_how == EMUX_EXIT_SIGNAL)
				relay_finish(r, EMUHOST_END_SIGNAL, (int)r->exit_code, "%s", r->exit_text);
			else if (r->exit_how == EMUX_EXIT_L1_FAILURE)
				relay_finish(r, EMUHOST_END_FAILED, 1, "L1 could not provide a KVM: %s", r->exit_text);
			else
				relay_finish(r, EMUHOST_END_FAILED, 1, "the worker could not run inside the emulated host: %s",
					     r->exit_text);
		}
		return;
	}
	if (r->qemu_done) {
		g_autofree char *tail = relay_console_tail(r);
		int st = r->qemu_status;
		/* Exit status 0 without the agent's EXIT: L1 powered off or reset by itself (-no-reboot). */
		bool reset = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		relay_finish(r, EMUHOST_END_FAILED, 1,
			     "the emulated host (QEMU, %s %d) ended before the worker did%s%s%s",
			     WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
			     reset ? " (L1 reset or powered off: a crash inside it)" : "",
			     *tail ? "; its console said: " : "", tail);
		return;
	}
	if (!r->hello && now >= r->hello_deadline) {
		g_autofree char *tail = relay_console_tail(r);
		relay_finish(r, EMUHOST_END_FAILED, 1, "the emulated host did not come up within %d s%s%s",
			     EMUHOST_RELAY_BOOT_TIMEOUT_MS / 1000, *tail ? "; its console said: " : "", tail);
		return;
	}
	if (r->turning_off && now >= r->turn_off_deadline)
		relay_finish(r, EMUHOST_END_EXIT, 13, "turned off: the worker did not stop within %d s, its emulated host was stopped",
			     EMUHOST_RELAY_TURN_OFF_MS / 1000);
}

static int relay_timeout(const struct relay *r)
{
	int64_t now = relay_now_ms(), t = INT64_MAX;
	if (!r->hello)
		t = MIN(t, r->hello_deadline);
	if (r->turning_off)
		t = MIN(t, r->turn_off_deadline);
	if (r->exited)
		t = MIN(t, r->drain_deadline);
	t = MIN(t, emuhost_hooks_deadline(&r->hooks));
	if (t == INT64_MAX)
		return -1;
	return t <= now ? 0 : (int)MIN(t - now, 60000);
}

static void relay_poll_once(struct relay *r)
{
	struct pollfd fds[RELAY_POLL_MAX];
	struct { int kind; unsigned idx; } what[RELAY_POLL_MAX];
	nfds_t n = 0;
	const struct emuhost_relay_config *cfg = r->cfg;
	what[n].kind = 0;
	/* A closed mux would wake every poll: QEMU's exit (SIGCHLD) comes next. */
	fds[n++] = (struct pollfd){ r->mux_eof ? -1 : cfg->mux_fd,
				    (short)(POLLIN | (r->link.out_len && !r->mux_shut ? POLLOUT : 0)), 0 };
	what[n].kind = 1;
	fds[n++] = (struct pollfd){ cfg->console_fd, POLLIN, 0 };
	what[n].kind = 2;
	fds[n++] = (struct pollfd){ r->sig_fd, POLLIN, 0 };
	for (unsigned i = 0; i < EMUX_EP_COUNT; i++) {
		if (r->eps[i].listen_fd < 0)
			continue;
		what[n].kind = 3;
		what[n].idx = i;
		fds[n++] = (struct pollfd){ r->eps[i].listen_fd, POLLIN, 0 };
	}
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
		struct emuhost_conn *c = r->conns[ch];
		if (!c)
			continue;
		if (c->in_fd >= 0 && !c->eof_in && emuhost_conn_up(c)->len < EMUHOST_CONN_BUF_MAX) {
			what[n].kind = 4;
			what[n].idx = ch;
			fds[n++] = (struct pollfd){ c->in_fd, POLLIN, 0 };
		}
		if (c->out_fd >= 0 && emuhost_conn_down(c)->len) {
			what[n].kind = 5;
			what[n].idx = ch;
			fds[n++] = (struct pollfd){ c->out_fd, POLLOUT, 0 };
		}
	}
	if (poll(fds, n, relay_timeout(r)) < 0 && errno != EINTR)
		return;
	for (nfds_t i = 0; i < n && !r->done; i++) {
		if (!fds[i].revents)
			continue;
		struct emuhost_conn *c = what[i].kind >= 4 ? r->conns[what[i].idx] : NULL;
		switch (what[i].kind) {
		case 0:
			if (fds[i].revents & POLLOUT)
				relay_link_write(r);
			if (fds[i].revents & (POLLIN | POLLHUP))
				(void)relay_link_read(r);
			break;
		case 1:
			(void)relay_console(r, fds[i].fd);
			break;
		case 2:
			relay_signals(r);
			break;
		case 3:
			relay_accept(r, what[i].idx);
			break;
		case 4:
			if (c && c->in_fd == fds[i].fd)
				emuhost_conn_read(c);
			break;
		case 5:
			if (c && c->out_fd == fds[i].fd)
				(void)emuhost_conn_pump_down(c);
			break;
		}
	}
	/* Windows that opened meanwhile. */
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++)
		if (r->conns[ch])
			(void)emuhost_conn_pump_up(r->conns[ch]);
	relay_link_write(r);
	if (r->link.error && !r->done)
		relay_finish(r, EMUHOST_END_FAILED, 1, "the emulated host's link is lost (%s)", g_strerror(-r->link.error));
}

static void relay_setup_eps(struct relay *r)
{
	const struct emuhost_args *a = r->cfg->args;
	for (unsigned i = 0; i < EMUX_EP_COUNT; i++)
		r->eps[i].listen_fd = -1;
	if (a->control) {
		r->eps[EMUX_EP_CONTROL] = (struct relay_ep){ true, EMUHOST_CONN_CONTROL, -1, g_strdup(a->control), NULL, NULL };
	}
	if (a->console)
		r->eps[EMUX_EP_CONSOLE] = (struct relay_ep){ true, EMUHOST_CONN_CONSOLE, -1, g_strdup(a->console), NULL, NULL };
	if (g_str_has_prefix(a->serial, "unix:"))
		r->eps[EMUX_EP_SERIAL] = (struct relay_ep){ true, EMUHOST_CONN_RAW, -1, g_strdup(a->serial + 5), NULL, NULL };
	if (a->vnc && g_str_has_prefix(a->vnc, "unix:")) {
		r->eps[EMUX_EP_VNC] = (struct relay_ep){ true, EMUHOST_CONN_RAW, -1, g_strdup(a->vnc + 5), NULL, NULL };
	} else if (a->vnc) {
		const char *colon = strrchr(a->vnc, ':');
		g_autofree char *host = g_strndup(a->vnc, (gsize)(colon - a->vnc));
		/* [::1]:5900 */
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			char *h = g_strndup(host + 1, strlen(host) - 2);
			g_free(host);
			host = h;
		}
		r->eps[EMUX_EP_VNC] = (struct relay_ep){ true, EMUHOST_CONN_RAW, -1, NULL, g_steal_pointer(&host),
							 g_strdup(colon + 1) };
	}
}

void emuhost_relay_run(const struct emuhost_relay_config *cfg, struct emuhost_result *res)
{
	struct relay r = { .cfg = cfg, .res = res };
	r.started_ms = relay_now_ms();
	r.hello_deadline = r.started_ms + EMUHOST_RELAY_BOOT_TIMEOUT_MS;
	emuhost_link_init(&r.link, EMUHOST_LINK_HOST, &relay_link_ops, &r);
	emuhost_hooks_init(&r.hooks, &r.link, r.conns, cfg->args->memory);
	relay_setup_eps(&r);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	fcntl(cfg->mux_fd, F_SETFL, fcntl(cfg->mux_fd, F_GETFL) | O_NONBLOCK);
	fcntl(cfg->console_fd, F_SETFL, fcntl(cfg->console_fd, F_GETFL) | O_NONBLOCK);
	/* A QEMU that ended between its start and the signalfd. */
	int st;
	if (waitpid(cfg->qemu, &st, WNOHANG) == cfg->qemu) {
		r.qemu_done = true;
		r.qemu_status = st;
		relay_link_drain(&r);
	}
	while (!r.done) {
		relay_poll_once(&r);
		emuhost_hooks_expire(&r.hooks, relay_now_ms());
		if (!r.done)
			relay_check_end(&r);
	}
	/* The endpoints go first: nobody should connect to a VM that is gone. */
	for (unsigned i = 0; i < EMUX_EP_COUNT; i++) {
		struct relay_ep *e = &r.eps[i];
		if (e->listen_fd >= 0)
			close(e->listen_fd);
		if (e->path && e->listen_fd >= 0)
			unlink(e->path);
		g_free(e->path);
		g_free(e->host);
		g_free(e->port);
	}
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++)
		if (r.conns[ch])
			emuhost_conn_free(r.conns[ch]);
	/* L1 powers itself off after EXIT; otherwise, or if it lingers, QEMU is stopped. */
	int64_t end = relay_now_ms() + (r.exited ? EMUHOST_RELAY_QEMU_EXIT_MS : 0);
	while (!r.qemu_done) {
		if (waitpid(cfg->qemu, &st, WNOHANG) == cfg->qemu)
			break;
		if (relay_now_ms() >= end) {
			kill(cfg->qemu, SIGKILL);
			waitpid(cfg->qemu, &st, 0);
			break;
		}
		usleep(20000);
	}
	/* What L1 said last, for the log: QEMU is gone, so this ends. */
	fcntl(cfg->console_fd, F_SETFL, fcntl(cfg->console_fd, F_GETFL) & ~O_NONBLOCK);
	while (relay_console(&r, cfg->console_fd) > 0)
		;
	for (unsigned i = 0; i < EMUHOST_RELAY_CONSOLE_TAIL; i++)
		g_free(r.con_tail[i]);
	emuhost_buf_free(&r.con_line);
	emuhost_hooks_clear(&r.hooks);
	emuhost_link_clear(&r.link);
	close(r.sig_fd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
}
