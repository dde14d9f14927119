// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-evdump: the guest side of the input tests. Finds an input device by
 * its name in /proc/bus/input/devices, opens its /dev/input/eventN and
 * prints what the kernel reports, one line per input frame (the events up
 * to a SYN_REPORT), events sorted by type and code:
 *
 *   ev key.30=1                          key 30 (KEY_A) pressed
 *   ev key.272=1 abs.0=32767 abs.1=0     BTN_LEFT down at the top right
 *   ev rel.8=3 rel.11=360                wheel 3 steps up (and its hi-res axis)
 *   dropped                              the kernel's buffer overflowed (SYN_DROPPED)
 *   signal INT                           (--report-sigint) SIGINT arrived
 *
 * The first line is "ready /dev/input/eventN" once the device is open and
 * set up. Types other than key, rel and abs (EV_MSC scan codes) are left
 * out; a frame with nothing else is not printed.
 *
 *   vireo-evdump --list
 *   vireo-evdump --name NAME [--not-phys PREFIX] [--setkeycode SCAN:KEY]... [--repeat-delay MS]
 *                [--report-sigint]
 *
 * --setkeycode is setkeycodes (EVIOCSKEYCODE); --repeat-delay sets the
 * kernel's key repeat delay (EVIOCSREP), so that slow hosts see fewer
 * repeats (value 2) of keys held during the test. --report-sigint catches
 * SIGINT and says so: with the process as the kernel's cad_pid, that is
 * how Ctrl+Alt+Del shows (a shell cannot catch it in the background,
 * where SIGINT is ignored from the start).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/input.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_REMAP 64
#define MAX_FRAME 64
#define LINE_MAX_LEN 2048

struct dev_entry {
	char name[256];
	char phys[256];
	char handlers[256];
};

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
	got_sigint = 1;
}

static void report_sigint(void)
{
	if (got_sigint) {
		got_sigint = 0;
		if (write(1, "signal INT\n", 11) != 11)
			exit(1);
	}
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "vireo-evdump: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Calls fn for each device block of /proc/bus/input/devices. */
static int for_each_device(int (*fn)(const struct dev_entry *, void *), void *data)
{
	FILE *f = fopen("/proc/bus/input/devices", "r");
	if (!f)
		die("/proc/bus/input/devices: %s", strerror(errno));
	struct dev_entry e;
	memset(&e, 0, sizeof(e));
	char line[1024];
	int r = 0;
	bool any = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0') {
			if (any && (r = fn(&e, data)) != 0)
				break;
			memset(&e, 0, sizeof(e));
			any = false;
			continue;
		}
		any = true;
		if (strncmp(line, "N: Name=\"", 9) == 0) {
			copy_field(e.name, sizeof(e.name), line + 9);
			size_t n = strlen(e.name);
			if (n && e.name[n - 1] == '"')
				e.name[n - 1] = '\0';
		} else if (strncmp(line, "P: Phys=", 8) == 0) {
			copy_field(e.phys, sizeof(e.phys), line + 8);
		} else if (strncmp(line, "H: Handlers=", 12) == 0) {
			copy_field(e.handlers, sizeof(e.handlers), line + 12);
		}
	}
	if (r == 0 && any)
		r = fn(&e, data);
	fclose(f);
	return r;
}

static int print_device(const struct dev_entry *e, void *data)
{
	printf("device name=\"%s\" phys=%s handlers=%s\n", e->name, e->phys, e->handlers);
	return 0;
}

struct match {
	const char *name, *not_phys;
	char event[32];
	int found;
};

static int match_device(const struct dev_entry *e, void *data)
{
	struct match *m = data;
	if (strcmp(e->name, m->name) != 0)
		return 0;
	if (m->not_phys && strncmp(e->phys, m->not_phys, strlen(m->not_phys)) == 0)
		return 0;
	const char *ev = strstr(e->handlers, "event");
	if (!ev)
		return 0;
	m->found++;
	snprintf(m->event, sizeof(m->event), "%.*s", (int)strcspn(ev, " "), ev);
	return 0;
}

static const char *type_name(unsigned type)
{
	switch (type) {
	case EV_KEY: return "key";
	case EV_REL: return "rel";
	case EV_ABS: return "abs";
	}
	return NULL;
}

static int cmp_event(const void *a, const void *b)
{
	const struct input_event *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->code < y->code ? -1 : x->code > y->code;
}

/* One frame as one line; the last value of an event repeated in it wins. */
static void print_frame(struct input_event *ev, size_t n)
{
	qsort(ev, n, sizeof(*ev), cmp_event);
	char line[LINE_MAX_LEN];
	size_t len = (size_t)snprintf(line, sizeof(line), "ev");
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && ev[i + 1].type == ev[i].type && ev[i + 1].code == ev[i].code)
			continue;
		if (len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s.%u=%d", type_name(ev[i].type),
						ev[i].code, ev[i].value);
		shown++;
	}
	if (!shown)
		return;
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* A line per write: the scenario reads the file while we run. */
	if (write(1, line, len) != (ssize_t)len)
		exit(1);
}

static unsigned long number(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end)
		die("\"%s\" is not a number", s);
	return v;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *not_phys = NULL;
	unsigned int remap[MAX_REMAP][2];
	int nremap = 0, repeat_delay = -1;
	bool sigint = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			for_each_device(print_device, NULL);
			return 0;
		}
		if (strcmp(argv[i], "--report-sigint") == 0) {
			sigint = true;
			continue;
		}
		if (i + 1 >= argc)
			die("%s needs a value", argv[i]);
		if (strcmp(argv[i], "--name") == 0) {
			name = argv[++i];
		} else if (strcmp(argv[i], "--not-phys") == 0) {
			not_phys = argv[++i];
		} else if (strcmp(argv[i], "--repeat-delay") == 0) {
			repeat_delay = (int)number(argv[++i]);
		} else if (strcmp(argv[i], "--setkeycode") == 0) {
			char *v = argv[++i], *colon = strchr(v, ':');
			if (!colon || nremap == MAX_REMAP)
				die("--setkeycode %s: SCAN:KEY, at most 64 of them", v);
			*colon = '\0';
			remap[nremap][0] = (unsigned)number(v);
			remap[nremap][1] = (unsigned)number(colon + 1);
			nremap++;
		} else {
			die("unknown argument %s (see the source)", argv[i]);
		}
	}
	if (!name)
		die("%s", "--name NAME is required");

	struct match m = { .name = name, .not_phys = not_phys };
	for_each_device(match_device, &m);
	if (m.found != 1) {
		fprintf(stderr, "vireo-evdump: %d devices named \"%s\"\n", m.found, name);
		return 1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/dev/input/%s", m.event);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("%s", strerror(errno));
	for (int i = 0; i < nremap; i++) {
		if (ioctl(fd, EVIOCSKEYCODE, remap[i]) < 0) {
			fprintf(stderr, "vireo-evdump: setkeycode 0x%x %u: %s\n", remap[i][0], remap[i][1],
				strerror(errno));
			return 1;
		}
	}
	if (repeat_delay >= 0) {
		unsigned int rep[2] = { (unsigned)repeat_delay, 33 };
		if (ioctl(fd, EVIOCSREP, rep) < 0)
			fprintf(stderr, "vireo-evdump: EVIOCSREP: %s (repeats stay as they were)\n", strerror(errno));
	}
	if (sigint) {
		/* No SA_RESTART: the read returns, and the line goes out at once. */
		struct sigaction sa = { .sa_handler = on_sigint };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGINT, &sa, NULL) < 0)
			die("sigaction: %s", strerror(errno));
	}
	char ready[96];
	int rl = snprintf(ready, sizeof(ready), "ready %s\n", path);
	if (write(1, ready, (size_t)rl) != rl)
		return 1;

	struct input_event frame[MAX_FRAME];
	size_t n = 0;
	for (;;) {
		struct input_event ev[64];
		ssize_t r = read(fd, ev, sizeof(ev));
		report_sigint();
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || r % (ssize_t)sizeof(ev[0]))
			die("read: %s", r < 0 ? strerror(errno) : "short event");
		for (size_t i = 0; i < (size_t)r / sizeof(ev[0]); i++) {
			if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED) {
				if (write(1, "dropped\n", 8) != 8)
					return 1;
				n = 0;
			} else if (ev[i].type == EV_SYN && ev[i].code == SYN_REPORT) {
				print_frame(frame, n);
				n = 0;
			} else if (type_name(ev[i].type) && n < MAX_FRAME) {
				frame[n++] = ev[i];
			}
		}
	}
}
