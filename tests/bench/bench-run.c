// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-run: runs one VMM to completion and measures it the same way
 * whichever VMM it is, so that ours and the peer are comparable:
 *   marker_s      spawn -> first console line containing --marker
 *   first_run_s   spawn -> first KVM_RUN: vireo-worker reports it (--timing);
 *                 QEMU's kvm_run_exit trace gives the first exit, just after
 *   wall_s, cpu_s the whole run; CPU time of all its threads (rusage)
 *   overhead_kb   the largest RSS outside guest RAM seen (guest RAM is a
 *                 memfd for both: ours, QEMU's memory-backend-memfd)
 * Prints one line: "bench LABEL key=value ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * RSS outside guest RAM: the sum of every mapping's Rss in smaps, less the
 * mappings of memfds (our guest RAM, QEMU's memory-backend-memfd). Program
 * files are counted in both, even when they live on a RAM file system.
 */
static long overhead_kb(pid_t pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long total = 0, guest = 0;
	int in_memfd = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ')) {
			in_memfd = strstr(line, "/memfd:") != NULL;
			continue;
		}
		if (strncmp(line, "Rss:", 4) == 0) {
			long kb = strtol(line + 4, NULL, 10);
			total += kb;
			if (in_memfd)
				guest += kb;
		}
	}
	fclose(f);
	return total - guest;
}

struct linebuf {
	char buf[8192];
	size_t len;
};

/* Feeds bytes, calls fn for each complete line. */
static void linebuf_feed(struct linebuf *lb, const char *data, size_t n, void (*fn)(const char *, void *), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n' || lb->len == sizeof(lb->buf) - 1) {
			lb->buf[lb->len] = 0;
			fn(lb->buf, ctx);
			lb->len = 0;
		} else if (data[i] != '\r') {
			lb->buf[lb->len++] = data[i];
		}
	}
}

struct run {
	const char *marker;
	double t0_mono, t0_real;
	double marker_s, first_run_s;
	int echo;
};

static void on_out(const char *line, void *ctx)
{
	struct run *r = ctx;
	if (r->marker_s < 0 && strstr(line, r->marker))
		r->marker_s = now_mono() - r->t0_mono;
	if (r->echo)
		fprintf(stderr, "  | %s\n", line);
}

static void on_err(const char *line, void *ctx)
{
	struct run *r = ctx;
	const char *p;
	if (r->first_run_s < 0 && (p = strstr(line, "start_to_first_kvm_run_us=")))
		r->first_run_s = strtod(p + strlen("start_to_first_kvm_run_us="), NULL) / 1e6;
	/* QEMU's log trace backend: "PID@SEC.USEC:kvm_run_exit ..." */
	if (r->first_run_s < 0 && (p = strstr(line, ":kvm_run_exit")) && (p = strchr(line, '@')))
		r->first_run_s = strtod(p + 1, NULL) - r->t0_real;
	if (r->echo && !strstr(line, "kvm_run_exit"))
		fprintf(stderr, "  ! %s\n", line);
}

int main(int argc, char **argv)
{
	const char *label = "run", *marker = "VIREO-GUEST-INIT";
	double timeout = 300;
	int i = 1, echo = getenv("BENCH_ECHO") != NULL;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--label") && i + 1 < argc)
			label = argv[++i];
		else if (!strcmp(argv[i], "--marker") && i + 1 < argc)
			marker = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "usage: bench-run [--label L] [--marker M] [--timeout S] -- CMD...\n");
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "bench-run: no command\n");
		return 2;
	}
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return 1;
	struct run r = { .marker = marker, .marker_s = -1, .first_run_s = -1, .echo = echo };
	r.t0_mono = now_mono();
	r.t0_real = now_real();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		execvp(argv[i], argv + i);
		fprintf(stderr, "bench-run: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	struct linebuf lo = { 0 }, le = { 0 };
	long max_overhead = -1;
	int open_fds = 2, status = 0;
	struct pollfd pfd[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	while (open_fds > 0) {
		if (now_mono() - r.t0_mono > timeout) {
			kill(pid, SIGKILL);
			fprintf(stderr, "bench-run: %s: timeout after %.0f s\n", label, timeout);
			break;
		}
		int n = poll(pfd, 2, 100);
		long ov = overhead_kb(pid);
		if (ov > max_overhead)
			max_overhead = ov;
		if (n <= 0)
			continue;
		for (int k = 0; k < 2; k++) {
			if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t got = read(pfd[k].fd, buf, sizeof(buf));
			if (got <= 0) {
				close(pfd[k].fd);
				pfd[k].fd = -1;
				open_fds--;
				continue;
			}
			linebuf_feed(k ? &le : &lo, buf, (size_t)got, k ? on_err : on_out, &r);
		}
	}
	struct rusage ru;
	wait4(pid, &status, 0, &ru);
	double wall = now_mono() - r.t0_mono;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("bench %s exit=%d wall_s=%.3f cpu_s=%.3f marker_s=%.3f first_run_s=%.3f overhead_kb=%ld\n", label,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), wall, cpu, r.marker_s,
	       r.first_run_s, max_overhead);
	return 0;
}
