// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost: vireo-worker for hosts whose KVM cannot run stock guests
 * (PVM, or none). It takes the worker's command line, makes sure the
 * emulated host's image is built (emuhost_image.c), boots QEMU with TCG
 * and emulated AMD-V on it with the guest's kernel and initrd and the
 * worker's arguments in a small second initramfs, and serves the worker's
 * endpoints here (emuhost_relay.c). QEMU is only the emulated host: the
 * worker inside is the guest's VMM, on the KVM of L1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vireo-config.h"
#include "emuhost_args.h"
#include "emuhost_cpio.h"
#include "emuhost_image.h"
#include "emuhost_l1.h"
#include "emuhost_mux.h"
#include "emuhost_relay.h"

/* L1 needs room of its own beside the guest: its kernel, the worker and
 * the unpacked initramfs (counted twice: it is unpacked from a copy). */
#define EMUHOST_L1_BASE_MIB 256u
#define EMUHOST_L1_CMDLINE  "console=ttyS0 quiet loglevel=1 panic=-1"
/* EPYC with AMD-V and nested paging; the features TCG cannot give are
 * turned off by name, which only silences QEMU's warning for each. */
#define EMUHOST_L1_CPU      "EPYC,+svm,+npt,rdseed=off,sha-ni=off,fxsr-opt=off,misalignsse=off," \
			    "3dnowprefetch=off,osvw=off,topoext=off,nrip-save=off,xsavec=off"
/* The fds QEMU gets: the mux port's socket, L1's console, the initramfs. */
#define EMUHOST_FD_MUX      3
#define EMUHOST_FD_CONSOLE  4
#define EMUHOST_FD_INITRD   5

static void emuhost_progress(void *opaque, const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static int emuhost_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int emuhost_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* stdout, beside the progress lines: vireod quotes the log's last lines. */
	printf("vireo-emuhost: %s\n", msg);
	fflush(stdout);
	return 1;
}

/* Beside this program (the build tree, or libexecdir), else $PATH-less default. */
static char *emuhost_find(const char *given, const char *env, const char *name)
{
	if (given)
		return g_strdup(given);
	const char *e = g_getenv(env);
	if (e && *e)
		return g_strdup(e);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	if (self) {
		g_autofree char *dir = g_path_get_dirname(self);
		g_autofree char *p = g_build_filename(dir, name, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
			return g_steal_pointer(&p);
	}
	return g_build_filename(VIREO_LIBEXECDIR, name, NULL);
}

static int emuhost_copy_fd(int from, int to)
{
	for (;;) {
		ssize_t n = copy_file_range(from, NULL, to, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		break;
	}
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(from, buf, sizeof(buf))) > 0) {
		int e = emuhost_cpio_write_fd(&to, buf, (size_t)n);
		if (e < 0)
			return e;
	}
	return n < 0 ? -errno : 0;
}

static bool emuhost_cpio_ok(int e, const char *what, GError **error)
{
	if (e >= 0)
		return true;
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the start files: %s: %s", what, g_strerror(-e));
	return false;
}

/* --restore DIR: its files (a saved state has a few, no folders). */
static bool emuhost_start_restore(struct emuhost_cpio *c, const char *dir, GError **error)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, error);
	if (!d)
		return false;
	bool ok = emuhost_cpio_ok(emuhost_cpio_dir(c, EMUHOST_L1_RESTORE, 0700), "restore", error);
	unsigned n = 0;
	const char *name;
	while (ok && (name = g_dir_read_name(d))) {
		g_autofree char *src = g_build_filename(dir, name, NULL);
		if (!g_file_test(src, G_FILE_TEST_IS_REGULAR))
			continue;
		if (++n > EMUX_FILES_MAX) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: more than %u files: not a saved state", dir,
				    EMUX_FILES_MAX);
			return false;
		}
		g_autofree char *dst = g_build_filename(EMUHOST_L1_RESTORE, name, NULL);
		ok = emuhost_cpio_ok(emuhost_cpio_copy(c, dst, 0600, src), src, error);
	}
	return ok;
}

/* The image's initramfs and, after it, this start's: kernel, initrd, arguments, endpoints. */
static int emuhost_start_initrd(const struct emuhost_args *a, const struct emuhost_image *img, const char *dir,
				uint64_t *size, GError **error)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_autofree char *tmpl = g_build_filename(dir, ".start-XXXXXX", NULL);
		fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			(void)g_unlink(tmpl);
	}
	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the start files in %s: %s", dir, g_strerror(e));
		return -1;
	}
	int src = open(img->initrd, O_RDONLY | O_CLOEXEC);
	int e = src < 0 ? -errno : emuhost_copy_fd(src, fd);
	if (src >= 0)
		close(src);
	if (e < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", img->initrd, g_strerror(-e));
		close(fd);
		return -1;
	}
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, emuhost_cpio_write_fd, &fd);
	GString *args = g_string_new(NULL);
	for (guint i = 0; i < a->inner->len; i++)
		g_string_append_len(args, a->inner->pdata[i], (gssize)strlen(a->inner->pdata[i]) + 1);
	GString *eps = g_string_new(NULL);
	if (a->control)
		g_string_append(eps, "control unix " EMUHOST_L1_RUNDIR "/control\n");
	if (a->console)
		g_string_append(eps, "console unix " EMUHOST_L1_RUNDIR "/console\n");
	if (!g_str_equal(a->serial, "none"))
		g_string_append(eps, "serial unix " EMUHOST_L1_RUNDIR "/serial\n");
	if (a->vnc && g_str_has_prefix(a->vnc, "unix:"))
		g_string_append(eps, "vnc unix " EMUHOST_L1_RUNDIR "/vnc\n");
	else if (a->vnc)
		g_string_append_printf(eps, "vnc tcp %s\n", strrchr(a->vnc, ':') + 1);
	bool ok = !a->kernel ||
		  emuhost_cpio_ok(emuhost_cpio_copy(&c, EMUHOST_L1_START "/kernel", 0644, a->kernel), a->kernel, error);
	if (ok && a->restore)
		ok = emuhost_start_restore(&c, a->restore, error);
	if (ok && a->initrd)
		ok = emuhost_cpio_ok(emuhost_cpio_copy(&c, EMUHOST_L1_START "/initrd", 0644, a->initrd), a->initrd, error);
	if (ok && a->vnc_password_file)
		ok = emuhost_cpio_ok(emuhost_cpio_copy(&c, EMUHOST_L1_START "/vnc-password", 0600, a->vnc_password_file),
				     a->vnc_password_file, error);
	if (ok)
		ok = emuhost_cpio_ok(emuhost_cpio_data(&c, EMUHOST_L1_START "/args", 0644, args->str, args->len), "args",
				     error);
	if (ok)
		ok = emuhost_cpio_ok(emuhost_cpio_data(&c, EMUHOST_L1_START "/endpoints", 0644, eps->str, eps->len),
				     "endpoints", error);
	if (ok)
		ok = emuhost_cpio_ok(emuhost_cpio_finish(&c), "the trailer", error);
	g_string_free(args, TRUE);
	g_string_free(eps, TRUE);
	emuhost_cpio_clear(&c);
	struct stat st;
	if (!ok || fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static pid_t emuhost_spawn_qemu(const char *qemu, const struct emuhost_args *a, const struct emuhost_image *img,
				unsigned l1_mib, int mux, int con, int initrd, GError **error)
{
	g_autofree char *mem = g_strdup_printf("%u", l1_mib);
	g_autofree char *smp = g_strdup_printf("%u", a->cpus);
	g_autofree char *name = g_strdup_printf("vireo-emuhost:%s", a->name ? a->name : "vm");
	g_autofree char *chr_mux = g_strdup_printf("socket,id=mux,fd=%d", EMUHOST_FD_MUX);
	g_autofree char *chr_con = g_strdup_printf("socket,id=l1con,fd=%d", EMUHOST_FD_CONSOLE);
	g_autofree char *port = g_strdup_printf("virtserialport,chardev=mux,name=%s", EMUHOST_L1_PORT);
	g_autofree char *rd = g_strdup_printf("/dev/fd/%d", EMUHOST_FD_INITRD);
	const char *argv[] = {
		qemu, "-name", name, "-M", "q35", "-accel", "tcg", "-cpu", EMUHOST_L1_CPU, "-m", mem, "-smp", smp,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-monitor", "none",
		"-chardev", chr_con, "-serial", "chardev:l1con",
		"-device", "virtio-serial-pci", "-chardev", chr_mux, "-device", port,
		"-kernel", img->kernel, "-initrd", rd, "-append", EMUHOST_L1_CMDLINE, NULL,
	};
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot start %s: %s", qemu, g_strerror(e));
		return -1;
	}
	if (pid == 0) {
		/* QEMU goes with us, however we end (vireod's Turn Off kills us outright). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		/* A signal to our process group (Ctrl-C, a supervisor) is ours to
		 * handle by turning the VM off; QEMU must not die of it first. */
		setpgid(0, 0);
		int fds[] = { mux, con, initrd };
		int tmp[3];
		for (int i = 0; i < 3; i++)
			tmp[i] = fcntl(fds[i], F_DUPFD, 10);
		for (int i = 0; i < 3; i++)
			dup2(tmp[i], EMUHOST_FD_MUX + i);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(qemu, (char **)argv);
		fprintf(stderr, "vireo-emuhost: cannot run %s: %s\n", qemu, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* The worker's end as ours: its status, or its signal raised on ourselves. */
static int emuhost_exit(const struct emuhost_result *r)
{
	switch (r->end) {
	case EMUHOST_END_EXIT:
		return r->status;
	case EMUHOST_END_SIGNAL: {
		printf("vireo-emuhost: %s\n", r->why);
		fflush(stdout);
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		signal(r->status, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, r->status);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		kill(getpid(), r->status);
		return 1;
	}
	default:
		return emuhost_fail("%s", r->why);
	}
}

int main(int argc, char **argv)
{
	struct emuhost_args a;
	g_autoptr(GError) error = NULL;
	if (!emuhost_args_parse(argc, argv, &a, &error)) {
		fprintf(stderr, "vireo-emuhost: %s\n", error->message);
		return 2;
	}
	if (a.help) {
		fputs(emuhost_args_usage, stdout);
		emuhost_args_clear(&a);
		return 0;
	}
	if (a.version) {
		printf("vireo-emuhost %s\n", VIREO_VERSION);
		emuhost_args_clear(&a);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	g_autofree char *worker = emuhost_find(a.worker, "VIREO_WORKER", "vireo-worker");
	g_autofree char *agent = emuhost_find(a.agent, "VIREO_EMUHOST_AGENT", "vireo-emuhost-agent");
	g_autofree char *qemu = a.qemu ? g_strdup(a.qemu) : g_find_program_in_path("qemu-system-x86_64");
	g_autofree char *cache = a.cache_dir ? g_strdup(a.cache_dir)
					     : g_build_filename(g_get_user_cache_dir(), "vireo", "emuhost", NULL);
	int status = 1;
	struct emuhost_image img = { 0 };
	if (!qemu) {
		status = emuhost_fail("qemu-system-x86_64 is not installed (Debian package qemu-system-x86): "
				      "the emulated host needs it");
		goto out;
	}
	const char *progs[] = { worker, agent };
	for (size_t i = 0; i < G_N_ELEMENTS(progs); i++) {
		if (!g_file_test(progs[i], G_FILE_TEST_IS_EXECUTABLE)) {
			status = emuhost_fail("%s is missing: the emulated host carries it", progs[i]);
			goto out;
		}
	}
	struct emuhost_image_request rq = { .cache_dir = cache, .worker = worker, .agent = agent,
					    .progress = emuhost_progress };
	if (!emuhost_image_ensure(&rq, &img, &error)) {
		status = emuhost_fail("the emulated host's image: %s", error->message);
		goto out;
	}
	if (a.build_only) {
		printf("vireo-emuhost: image %s in %s\n", img.key, img.dir);
		status = 0;
		goto out;
	}
	uint64_t start_size = 0;
	int initrd = emuhost_start_initrd(&a, &img, cache, &start_size, &error);
	if (initrd < 0) {
		status = emuhost_fail("%s", error->message);
		goto out;
	}
	/* The guest's memory twice: once for itself, once for a save's files. */
	unsigned l1_mib = a.l1_memory_mib ? a.l1_memory_mib
					  : (unsigned)(2 * (a.memory >> 20) + 2 * (start_size >> 20) + EMUHOST_L1_BASE_MIB);
	int mux[2], con[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mux) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0) {
		status = emuhost_fail("socketpair: %s", g_strerror(errno));
		close(initrd);
		goto out;
	}
	printf("emulated host: booting it (QEMU with TCG and emulated AMD-V, %u MiB, %u vCPU%s): slow\n", l1_mib, a.cpus,
	       a.cpus == 1 ? "" : "s");
	fflush(stdout);
	pid_t qpid = emuhost_spawn_qemu(qemu, &a, &img, l1_mib, mux[1], con[1], initrd, &error);
	close(mux[1]);
	close(con[1]);
	close(initrd);
	if (qpid < 0) {
		status = emuhost_fail("%s", error->message);
		close(mux[0]);
		close(con[0]);
		goto out;
	}
	struct emuhost_relay_config rc = { .args = &a, .mux_fd = mux[0], .console_fd = con[0], .qemu = qpid,
					   .image_key = img.key, .l1_memory_mib = l1_mib };
	struct emuhost_result res = { 0 };
	emuhost_relay_run(&rc, &res);
	close(mux[0]);
	close(con[0]);
	emuhost_image_clear(&img);
	emuhost_args_clear(&a);
	return emuhost_exit(&res);
out:
	emuhost_image_clear(&img);
	emuhost_args_clear(&a);
	return status;
}
