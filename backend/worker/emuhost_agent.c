// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost-agent: PID 1 of the emulated host (L1), after its /init
 * loaded the modules. It runs the worker with the arguments vireo-emuhost
 * put into the start files, connects each channel the host opens on the
 * virtio-serial port to one of the worker's sockets (protocols/
 * emuhost-mux.md), sends the worker's output as LOG, the files of a
 * saved state when the worker saved (FILE ... FILES_END) and its end as
 * EXIT, then powers L1 off. Messages of its own go to L1's console.
 *
 *   vireo-emuhost-agent [--init-log FILE] [--start DIR] [--port NAME]
 *
 * DIR/args holds the worker's arguments (NUL-terminated each), DIR/endpoints
 * a line per endpoint: "NAME unix PATH" or "NAME tcp PORT" (NAME: control,
 * console, serial, vnc).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emuhost_buf.h"
#include "emuhost_link.h"
#include "emuhost_l1.h"

#define AGENT_PORT_WAIT_MS   20000     /* for the virtio-serial port to appear */
#define AGENT_READY_WAIT_MS  60000     /* for the worker's sockets */
#define AGENT_FLUSH_WAIT_MS  5000      /* for the last messages to leave */
#define AGENT_TICK_MS        1000      /* the longest wait without looking at the port */
#define AGENT_HOST_DONE_MS   20000     /* for the host to say it has them (it hangs up) */
#define AGENT_ARGS_MAX       256
#define AGENT_ARGS_BYTES     (256 * 1024)
#define AGENT_READ_CHUNK     EMUX_DATA_MAX
#define AGENT_DRAIN_READS    64        /* reads per channel after the worker ended */

static const char *const agent_ep_names[EMUX_EP_COUNT] = { "control", "console", "serial", "vnc" };

struct agent_ep {
	bool present;
	bool tcp;
	char path[108];
	int port;
};

struct agent_chan {
	int fd;                      /* -1: none */
	bool connecting;
	bool eof_in;                 /* the socket said EOF: sent on */
	bool eof_out;                /* the host sends no more: shut down after the queue */
	struct emuhost_buf to_sock;
};

struct agent {
	int port;
	struct emuhost_link link;
	struct agent_ep eps[EMUX_EP_COUNT];
	struct agent_chan chans[EMUX_CHANNELS_MAX + 1];
	pid_t worker;
	int log_fd;                  /* the worker's stdout and stderr */
	int sigfd;
	bool ready_sent;
	bool worker_done;
	int worker_status;
	const char *init_log;
	/* The port's health, for L1's console (its own way to the host's log):
	 * a port that takes nothing, or says the host is not there, is what a
	 * host that hears nothing from L1 wants to know. */
	uint64_t port_in, port_out, port_hangups;
	int64_t out_waiting_since;   /* 0: nothing waits to go out */
	bool out_stuck_said;
};

static void agent_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void agent_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("vireo-emuhost-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t agent_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void agent_power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* /dev/vportNpM of the virtio-serial port named name. */
static int agent_open_port(const char *name)
{
	int64_t end = agent_now_ms() + AGENT_PORT_WAIT_MS;
	do {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char p[PATH_MAX], buf[128] = "";
			snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name);
			FILE *f = fopen(p, "re");
			if (!f)
				continue;
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
			buf[strcspn(buf, "\n")] = 0;
			if (strcmp(buf, name) != 0)
				continue;
			snprintf(p, sizeof(p), "/dev/%s", de->d_name);
			int fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			closedir(d);
			if (fd < 0)
				agent_say("%s: %s", p, strerror(errno));
			return fd;
		}
		if (d)
			closedir(d);
		usleep(50000);
	} while (agent_now_ms() < end);
	errno = ENOENT;
	return -1;
}

/* Everything queued for the host, waiting for the port as long as it takes (bounded). */
static void agent_flush(struct agent *a, int64_t deadline)
{
	while (a->link.out_len && agent_now_ms() < deadline) {
		ssize_t n = write(a->port, a->link.out, a->link.out_len);
		if (n > 0) {
			emuhost_link_written(&a->link, (size_t)n);
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
		struct pollfd p = { a->port, POLLOUT, 0 };
		(void)poll(&p, 1, 100);
	}
}

/* A write to the port only hands the bytes to QEMU, which may still hold
 * them when L1 powers off: then the host never gets EXIT (nor the end of a
 * saved state). The host hangs up its end once it has read EXIT; only then,
 * or after a bound, does L1 go. */
static void agent_end(struct agent *a)
{
	int64_t end = agent_now_ms() + AGENT_HOST_DONE_MS;
	uint8_t buf[4096];
	agent_flush(a, agent_now_ms() + AGENT_FLUSH_WAIT_MS);
	while (a->port >= 0 && agent_now_ms() < end) {
		struct pollfd p = { a->port, POLLIN, 0 };
		int n = poll(&p, 1, 100);
		if (n < 0 && errno != EINTR)
			break;
		if (p.revents & (POLLHUP | POLLERR))
			break;
		/* What the host still sends is of no use now; reading keeps its queue moving. */
		if ((p.revents & POLLIN) && read(a->port, buf, sizeof(buf)) == 0)
			break;
	}
	agent_power_off();
}

static char *agent_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = 0;
	ssize_t r;
	while (buf && n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (buf)
		buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static void agent_fail_l1(struct agent *a, const char *why)
{
	char text[EMUX_TEXT_MAX + 1];
	size_t n = 0;
	char *log = a->init_log ? agent_read_file(a->init_log, 4096, &n) : NULL;
	if (log) {
		for (char *p = log; *p; p++)
			if (*p == '\n' || (unsigned char)*p < 0x20)
				*p = ' ';
		while (n && log[n - 1] == ' ')
			log[--n] = 0;
	}
	snprintf(text, sizeof(text), "%s%s%s", why, log && n ? ": " : "", log && n ? log : "");
	free(log);
	agent_say("%s", text);
	(void)emuhost_link_send_exit(&a->link, EMUX_EXIT_L1_FAILURE, 0, text);
	agent_end(a);
}

static bool agent_read_endpoints(struct agent *a, const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/endpoints", dir);
	char *text = agent_read_file(path, 4096, NULL);
	if (!text)
		return false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[16], kind[8], where[108];
		if (sscanf(line, "%15s %7s %107s", name, kind, where) != 3)
			continue;
		for (int i = 0; i < EMUX_EP_COUNT; i++) {
			if (strcmp(name, agent_ep_names[i]) != 0)
				continue;
			struct agent_ep *e = &a->eps[i];
			e->present = true;
			e->tcp = strcmp(kind, "tcp") == 0;
			if (e->tcp)
				e->port = atoi(where);
			else
				snprintf(e->path, sizeof(e->path), "%s", where);
		}
	}
	free(text);
	return true;
}

static int agent_spawn_worker(struct agent *a, const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/args", dir);
	size_t len = 0;
	char *buf = agent_read_file(path, AGENT_ARGS_BYTES, &len);
	if (!buf)
		return -errno;
	char *argv[AGENT_ARGS_MAX + 2];
	int argc = 0;
	argv[argc++] = (char *)EMUHOST_L1_WORKER;
	for (size_t i = 0; i < len && argc < AGENT_ARGS_MAX; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (chdir("/tmp") < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		int e = errno;
		(void)!write(err[1], &e, sizeof(e));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	int e = 0;
	ssize_t n = read(err[0], &e, sizeof(e));
	close(err[0]);
	free(buf);
	if (n == (ssize_t)sizeof(e)) {
		close(out[0]);
		waitpid(pid, NULL, 0);
		return -e;
	}
	a->worker = pid;
	a->log_fd = out[0];
	fcntl(a->log_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static uint32_t agent_endpoints_up(const struct agent *a)
{
	uint32_t up = 0;
	for (int i = 0; i < EMUX_EP_COUNT; i++) {
		if (!a->eps[i].present)
			continue;
		struct stat st;
		/* A TCP endpoint is there when the worker is: it listens before it boots. */
		if (a->eps[i].tcp || (stat(a->eps[i].path, &st) == 0 && S_ISSOCK(st.st_mode)))
			up |= 1u << i;
	}
	return up;
}

static uint32_t agent_endpoints_wanted(const struct agent *a)
{
	uint32_t w = 0;
	for (int i = 0; i < EMUX_EP_COUNT; i++)
		if (a->eps[i].present)
			w |= 1u << i;
	return w;
}

/* ---- channels ---- */

static void agent_chan_drop(struct agent *a, unsigned ch)
{
	struct agent_chan *c = &a->chans[ch];
	if (c->fd >= 0)
		close(c->fd);
	emuhost_buf_free(&c->to_sock);
	*c = (struct agent_chan){ .fd = -1 };
}

static void agent_chan_close(struct agent *a, unsigned ch, int err)
{
	(void)emuhost_link_close(&a->link, ch, (uint32_t)err);
	agent_chan_drop(a, ch);
}

static void agent_on_open(void *opaque, unsigned ch, uint32_t endpoint)
{
	struct agent *a = opaque;
	struct agent_ep *e = &a->eps[endpoint];
	agent_chan_drop(a, ch);
	if (!e->present) {
		(void)emuhost_link_close(&a->link, ch, ENOENT);
		return;
	}
	int fd;
	int r;
	if (e->tcp) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)e->port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		r = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", e->path);
		r = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	}
	if (r < 0 && errno != EINPROGRESS) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		(void)emuhost_link_close(&a->link, ch, (uint32_t)err);
		return;
	}
	a->chans[ch].fd = fd;
	a->chans[ch].connecting = r < 0;
}

static void agent_chan_flush(struct agent *a, unsigned ch)
{
	struct agent_chan *c = &a->chans[ch];
	while (c->fd >= 0 && !c->connecting && c->to_sock.len) {
		ssize_t n = send(c->fd, c->to_sock.data, c->to_sock.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* The worker went away: what the host sends is dropped (and credited),
			 * what the worker said before it went is still read and sent on. */
			emuhost_link_consumed(&a->link, ch, c->to_sock.len);
			emuhost_buf_consume(&c->to_sock, c->to_sock.len);
			c->eof_out = true;
			break;
		}
		emuhost_buf_consume(&c->to_sock, (size_t)n);
		emuhost_link_consumed(&a->link, ch, (size_t)n);
	}
	if (c->fd >= 0 && c->eof_out && !c->to_sock.len) {
		shutdown(c->fd, SHUT_WR);
		if (c->eof_in) {
			(void)emuhost_link_close(&a->link, ch, 0);
			agent_chan_drop(a, ch);
		}
	}
}

static void agent_on_data(void *opaque, unsigned ch, const uint8_t *data, size_t len)
{
	struct agent *a = opaque;
	struct agent_chan *c = &a->chans[ch];
	if (c->fd < 0)
		return;
	if (c->eof_out) {
		emuhost_link_consumed(&a->link, ch, len);   /* its socket cannot take it any more */
		return;
	}
	if (emuhost_buf_append(&c->to_sock, data, len) < 0) {
		agent_chan_close(a, ch, ENOMEM);
		return;
	}
	agent_chan_flush(a, ch);
}

static void agent_on_eof(void *opaque, unsigned ch)
{
	struct agent *a = opaque;
	a->chans[ch].eof_out = true;
	agent_chan_flush(a, ch);
}

static void agent_on_closed(void *opaque, unsigned ch, uint32_t error)
{
	agent_chan_drop(opaque, ch);
}

static void agent_on_signal(void *opaque, uint32_t signo)
{
	struct agent *a = opaque;
	if (a->worker > 0 && !a->worker_done) {
		agent_say("the host sends signal %u to the worker", signo);
		kill(a->worker, (int)signo);
	}
}

static void agent_on_hello(void *opaque, uint16_t major, uint16_t minor)
{
	if (major != EMUX_VERSION_MAJOR)
		agent_say("the host speaks mux %u.%u, we speak %u.%u", major, minor, EMUX_VERSION_MAJOR,
			  EMUX_VERSION_MINOR);
}

static const struct emuhost_link_ops agent_link_ops = {
	.hello = agent_on_hello,
	.signal = agent_on_signal,
	.open = agent_on_open,
	.data = agent_on_data,
	.eof = agent_on_eof,
	.closed = agent_on_closed,
};

static void agent_chan_read(struct agent *a, unsigned ch)
{
	struct agent_chan *c = &a->chans[ch];
	static uint8_t buf[AGENT_READ_CHUNK];
	size_t room = emuhost_link_send_room(&a->link, ch);
	if (!room || c->eof_in)
		return;
	ssize_t n = recv(c->fd, buf, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			agent_chan_close(a, ch, errno);
		return;
	}
	if (n == 0) {
		c->eof_in = true;
		(void)emuhost_link_eof(&a->link, ch);
		if (c->eof_out && !c->to_sock.len) {
			(void)emuhost_link_close(&a->link, ch, 0);
			agent_chan_drop(a, ch);
		}
		return;
	}
	(void)emuhost_link_send(&a->link, ch, buf, (size_t)n);
}

static void agent_read_log(struct agent *a)
{
	static uint8_t buf[EMUX_LOG_MAX];
	while (a->log_fd >= 0) {
		ssize_t n = read(a->log_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			close(a->log_fd);
			a->log_fd = -1;
			return;
		}
		size_t done = emuhost_link_send_log(&a->link, buf, (size_t)n);
		if (done < (size_t)n) {
			/* The port is full: the rest goes to the console rather than nowhere. */
			(void)!write(2, buf + done, (size_t)n - done);
			return;
		}
	}
}

static void agent_reap(struct agent *a)
{
	struct signalfd_siginfo si;
	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	int st;
	pid_t p;
	/* PID 1 reaps every orphan of L1, not only the worker. */
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == a->worker) {
			a->worker_done = true;
			a->worker_status = st;
		}
	}
}

/* A file message, waiting for room in the port as long as it drains. */
static int agent_send_file_msg(struct agent *a, const struct emux_msg *m)
{
	for (;;) {
		int e = emuhost_link_send_file_msg(&a->link, m);
		if (e != -ENOBUFS)
			return e;
		size_t before = a->link.out_len;
		agent_flush(a, agent_now_ms() + AGENT_FLUSH_WAIT_MS);
		if (a->link.out_len == before)
			return -ETIMEDOUT;
	}
}

static bool agent_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* One saved file: FILE, its data without holes or zeros, FILE_END. */
static int agent_send_saved_file(struct agent *a, int fd, const char *name, uint64_t size)
{
	static uint8_t buf[EMUX_FILE_DATA_MAX];
	struct emux_msg m = { .type = EMUX_MSG_FILE };
	m.file.size = size;
	m.file.name = name;
	m.file.name_len = strlen(name);
	int e = agent_send_file_msg(a, &m);
	uint64_t bytes = 0;
	for (off_t pos = 0; e == 0 && (uint64_t)pos < size;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			data = pos;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		while (e == 0 && data < hole) {
			size_t want = (uint64_t)(hole - data) < sizeof(buf) ? (size_t)(hole - data) : sizeof(buf);
			ssize_t n = pread(fd, buf, want, data);
			if (n <= 0) {
				e = n < 0 ? -errno : -EIO;
				break;
			}
			if (!agent_zero(buf, (size_t)n)) {
				m = (struct emux_msg){ .type = EMUX_MSG_FILE_DATA };
				m.file_data.offset = (uint64_t)data;
				m.file_data.data = buf;
				m.file_data.len = (size_t)n;
				e = agent_send_file_msg(a, &m);
				bytes += (uint64_t)n;
			}
			data += n;
		}
		pos = hole;
	}
	if (e == 0) {
		m = (struct emux_msg){ .type = EMUX_MSG_FILE_END };
		m.file_end.bytes = bytes;
		e = agent_send_file_msg(a, &m);
	}
	return e;
}

/* After a save: the saved state's files to the host, then FILES_END, whole or with why not. */
static void agent_send_saved(struct agent *a)
{
	DIR *d = opendir(EMUHOST_L1_SAVEDIR);
	int err = d ? 0 : errno;
	unsigned files = 0;
	struct dirent *de;
	while (d && !err && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			err = fd < 0 ? errno : EINVAL;
		} else if (files == EMUX_FILES_MAX) {
			err = EFBIG;
		} else {
			int e = agent_send_saved_file(a, fd, de->d_name, (uint64_t)st.st_size);
			err = e < 0 ? -e : 0;
			files++;
		}
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	struct emux_msg m = { .type = EMUX_MSG_FILES_END };
	m.files_end.files = files;
	m.files_end.error = err > 0 && err <= (int)EMUX_ERRNO_MAX ? (uint32_t)err : err ? EIO : 0;
	(void)agent_send_file_msg(a, &m);
	agent_say("sent the saved state: %u files%s%s", files, err ? ", then: " : "", err ? strerror(err) : "");
}

/* What the worker wrote just before it ended is still in its sockets (a
 * save's "ok saved ..."): it goes out before EXIT, as far as the windows
 * allow. */
static void agent_drain_channels(struct agent *a)
{
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
		struct agent_chan *c = &a->chans[ch];
		for (unsigned k = 0; k < AGENT_DRAIN_READS && c->fd >= 0 && !c->connecting && !c->eof_in; k++) {
			size_t before = a->link.out_len;
			agent_chan_read(a, ch);
			if (a->link.out_len == before)
				break;
		}
	}
}

static void agent_send_exit(struct agent *a)
{
	agent_drain_channels(a);
	/* All the worker said first: its last words explain its status. */
	if (a->log_fd >= 0) {
		fcntl(a->log_fd, F_SETFL, 0);
		agent_read_log(a);
	}
	int st = a->worker_status;
	if (WIFEXITED(st) && WEXITSTATUS(st) == EMUHOST_L1_EXIT_SAVED)
		agent_send_saved(a);
	char text[64];
	if (WIFSIGNALED(st)) {
		snprintf(text, sizeof(text), "the worker was killed by signal %d", WTERMSIG(st));
		(void)emuhost_link_send_exit(&a->link, EMUX_EXIT_SIGNAL, (uint32_t)WTERMSIG(st), text);
	} else {
		snprintf(text, sizeof(text), "the worker exited with status %d", WEXITSTATUS(st));
		(void)emuhost_link_send_exit(&a->link, EMUX_EXIT_STATUS, (uint32_t)WEXITSTATUS(st), text);
	}
	agent_say("%s", text);   /* agent_end sends it and waits for the host's hangup */
}

#define AGENT_PORT_STUCK_MS 10000

/* Says on L1's console when the port has taken nothing for a while, and
 * when it takes again. */
static void agent_watch_port(struct agent *a)
{
	int64_t now = agent_now_ms();
	if (!a->link.out_len) {
		if (a->out_stuck_said)
			agent_say("the port takes again (read %" PRIu64 ", wrote %" PRIu64 " bytes)", a->port_in,
				  a->port_out);
		a->out_waiting_since = 0;
		a->out_stuck_said = false;
		return;
	}
	if (!a->out_waiting_since)
		a->out_waiting_since = now;
	if (!a->out_stuck_said && now - a->out_waiting_since >= AGENT_PORT_STUCK_MS) {
		a->out_stuck_said = true;
		agent_say("the port has taken nothing for %d s: %zu bytes wait (read %" PRIu64 ", wrote %" PRIu64
			  " bytes, %" PRIu64 " hangups)", AGENT_PORT_STUCK_MS / 1000, a->link.out_len, a->port_in,
			  a->port_out, a->port_hangups);
	}
}

static void agent_loop(struct agent *a)
{
	int64_t ready_deadline = agent_now_ms() + AGENT_READY_WAIT_MS;
	uint8_t buf[AGENT_READ_CHUNK];
	for (;;) {
		if (a->worker_done) {
			agent_send_exit(a);
			return;
		}
		if (!a->ready_sent) {
			uint32_t up = agent_endpoints_up(a), want = agent_endpoints_wanted(a);
			if (up == want || agent_now_ms() > ready_deadline) {
				(void)emuhost_link_send_ready(&a->link, up);
				a->ready_sent = true;
			}
		}
		struct pollfd fds[3 + EMUX_CHANNELS_MAX];
		unsigned chan_of[3 + EMUX_CHANNELS_MAX];
		nfds_t n = 0;
		fds[n++] = (struct pollfd){ a->port, (short)(POLLIN | (a->link.out_len ? POLLOUT : 0)), 0 };
		fds[n++] = (struct pollfd){ a->sigfd, POLLIN, 0 };
		fds[n++] = (struct pollfd){ a->log_fd, POLLIN, 0 };
		for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
			struct agent_chan *c = &a->chans[ch];
			if (c->fd < 0)
				continue;
			short ev = 0;
			if (c->connecting || c->to_sock.len)
				ev |= POLLOUT;
			if (!c->connecting && !c->eof_in && emuhost_link_send_room(&a->link, ch))
				ev |= POLLIN;
			/* Nothing to wait for: a hung-up socket would wake us in a loop. */
			if (!ev)
				continue;
			chan_of[n] = ch;
			fds[n++] = (struct pollfd){ c->fd, ev, 0 };
		}
		/* A bounded wait, and a look at everything when it ends: should a
		 * wakeup be lost, it costs a second, not the VM. (A worker that was up
		 * but never answered was seen about once in 40 starts; its cause is
		 * not known.) Every read here is non-blocking. */
		int ready = poll(fds, n, a->ready_sent ? AGENT_TICK_MS : 50);
		if (ready < 0 && errno != EINTR)
			return;
		if (ready == 0) {
			fds[0].revents |= POLLIN;
			for (nfds_t i = 3; i < n; i++)
				if (!a->chans[chan_of[i]].connecting)
					fds[i].revents |= fds[i].events;
		}
		if (fds[1].revents)
			agent_reap(a);
		if (fds[2].revents)
			agent_read_log(a);
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(a->port, buf, sizeof(buf));   /* non-blocking: nothing there is EAGAIN */
			if (r > 0)
				a->port_in += (uint64_t)r;
			if (r > 0 && emuhost_link_feed(&a->link, buf, (size_t)r) < 0) {
				agent_say("the host broke the mux protocol: %s", strerror(-a->link.error));
				kill(a->worker, SIGKILL);
			}
			/* virtio_console reads 0 while QEMU says nobody holds the port's other end. */
			if (r == 0 && a->port_hangups++ == 0)
				agent_say("the port says the host is not connected (read %" PRIu64 ", wrote %" PRIu64 " bytes)",
					  a->port_in, a->port_out);
			if (r == 0)
				usleep(50000);   /* the hangup stays: poll would return at once, for ever */
		}
		for (nfds_t i = 3; i < n; i++) {
			unsigned ch = chan_of[i];
			struct agent_chan *c = &a->chans[ch];
			if (c->fd != fds[i].fd || !fds[i].revents)
				continue;
			if (c->connecting) {
				int err = 0;
				socklen_t l = sizeof(err);
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err) {
					agent_chan_close(a, ch, err);
					continue;
				}
				c->connecting = false;
			}
			if (fds[i].revents & (POLLOUT | POLLERR))
				agent_chan_flush(a, ch);
			if (c->fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				agent_chan_read(a, ch);
		}
		while (a->link.out_len) {
			ssize_t w = write(a->port, a->link.out, a->link.out_len);
			if (w <= 0)
				break;
			a->port_out += (uint64_t)w;
			emuhost_link_written(&a->link, (size_t)w);
			a->out_waiting_since = 0;
		}
		agent_watch_port(a);
	}
}

int main(int argc, char **argv)
{
	const char *start = EMUHOST_L1_START, *port_name = EMUHOST_L1_PORT;
	struct agent a = { .worker = -1, .log_fd = -1, .port = -1 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--init-log") && i + 1 < argc)
			a.init_log = argv[++i];
		else if (!strcmp(argv[i], "--start") && i + 1 < argc)
			start = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port_name = argv[++i];
		else {
			agent_say("usage: vireo-emuhost-agent [--init-log FILE] [--start DIR] [--port NAME]");
			return 2;
		}
	}
	for (unsigned ch = 0; ch <= EMUX_CHANNELS_MAX; ch++)
		a.chans[ch].fd = -1;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	a.port = agent_open_port(port_name);
	if (a.port < 0) {
		agent_say("no virtio-serial port named %s: %s", port_name, strerror(errno));
		agent_power_off();
	}
	emuhost_link_init(&a.link, EMUHOST_LINK_AGENT, &agent_link_ops, &a);
	(void)emuhost_link_send_hello(&a.link);
	struct stat st;
	if (stat("/dev/kvm", &st) < 0)
		agent_fail_l1(&a, "the emulated host has no /dev/kvm (kvm_amd did not load on the emulated AMD-V)");
	if (!agent_read_endpoints(&a, start))
		agent_fail_l1(&a, "the start files are missing (no endpoints file)");
	int e = agent_spawn_worker(&a, start);
	if (e < 0) {
		agent_say("cannot run %s: %s", EMUHOST_L1_WORKER, strerror(-e));
		(void)emuhost_link_send_exit(&a.link, EMUX_EXIT_NO_WORKER, (uint32_t)-e, strerror(-e));
		agent_end(&a);
	}
	agent_loop(&a);
	agent_end(&a);
	return 0;
}
