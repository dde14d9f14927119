// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "emuhost_cpio.h"
#include "emuhost_image.h"
#include "emuhost_modules.h"
#include "emuhost_pkg.h"

#define IMAGE_ERROR  G_FILE_ERROR
#define IMAGE_FAILED G_FILE_ERROR_FAILED
#define IMAGE_STEPS  6
#define IMAGE_KEY_HEX 20

/*
 * busybox sh. The agent is PID 1 after it: it reports what went wrong
 * here (the log), runs the worker and powers L1 off when it ends.
 */
const char emuhost_image_init[] =
	"#!/bin/sh\n"
	"# /init of vireo-emuhost's emulated host: the modules for /dev/kvm and the\n"
	"# virtio-serial port, then vireo-emuhost-agent, which runs the worker.\n"
	"export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev\n"
	"mkdir -p /dev/pts /dev/shm /run/vireo /tmp\n"
	"mount -t tmpfs tmpfs /dev/shm\n"
	"ip link set lo up 2>/dev/null\n"
	"log=/run/emuhost-init.log\n"
	": > $log\n"
	"while read -r m; do\n"
	"\t[ -n \"$m\" ] || continue\n"
	"\tout=$(insmod \"/lib/modules/emuhost/$m.ko\" 2>&1) || echo \"insmod $m: $out\" >> $log\n"
	"done < /lib/modules/emuhost/load.list\n"
	"# L1's TSC is the host's, but each boot measures its rate again under TCG,\n"
	"# some 0.1 % apart: a state saved in one boot is restored in another, and\n"
	"# KVM without TSC scaling accepts the saved rate only within its tolerance.\n"
	"echo " G_STRINGIFY(EMUHOST_L1_TSC_TOLERANCE_PPM) " > /sys/module/kvm/parameters/tsc_tolerance_ppm 2>/dev/null ||\n"
	"\techo \"kvm: tsc_tolerance_ppm cannot be set\" >> $log\n"
	"exec " EMUHOST_L1_AGENT " --init-log $log\n";

static void image_say(const struct emuhost_image_request *rq, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void image_say(const struct emuhost_image_request *rq, const char *fmt, ...)
{
	if (!rq->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_autofree char *line = g_strconcat("emulated host: ", msg, NULL);
	rq->progress(rq->opaque, line);
}

void emuhost_image_clear(struct emuhost_image *img)
{
	g_free(img->dir);
	g_free(img->kernel);
	g_free(img->initrd);
	g_free(img->key);
	*img = (struct emuhost_image){ 0 };
}

static void image_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
		const char *fn;
		while (d && (fn = g_dir_read_name(d))) {
			g_autofree char *p = g_build_filename(path, fn, NULL);
			image_rm_rf(p);
		}
		(void)g_rmdir(path);
	} else {
		(void)g_unlink(path);
	}
}

static bool image_file_hash(GChecksum *sum, const char *path, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", path, g_strerror(e));
		return false;
	}
	uint8_t buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_checksum_update(sum, buf, n);
	int e = errno;
	close(fd);
	if (n < 0) {
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", path, g_strerror(e));
		return false;
	}
	return true;
}

/* Packages, both programs byte for byte, their libraries by size and time,
 * and how the image is laid out. */
static char *image_key(const struct emuhost_image_request *rq, const struct emuhost_pkgs *p, GPtrArray *libs,
		       GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *head = g_strdup_printf("vireo-emuhost-image %d\n%s=%s\n%s=%s\n", EMUHOST_IMAGE_FORMAT,
						p->kernel_pkg, p->kernel_version, EMUHOST_BUSYBOX_PKG,
						p->busybox_version);
	g_checksum_update(sum, (const guchar *)head, -1);
	g_checksum_update(sum, (const guchar *)emuhost_image_init, -1);
	if (!image_file_hash(sum, rq->worker, error) || !image_file_hash(sum, rq->agent, error))
		return NULL;
	for (guint i = 0; i < libs->len; i++) {
		struct stat st;
		const char *lib = libs->pdata[i];
		if (stat(lib, &st) < 0) {
			int e = errno;
			g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", lib, g_strerror(e));
			return NULL;
		}
		g_autofree char *sig = g_strdup_printf("%s %lld %lld.%09ld\n", lib, (long long)st.st_size,
						       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		g_checksum_update(sum, (const guchar *)sig, -1);
	}
	return g_strndup(g_checksum_get_string(sum), IMAGE_KEY_HEX);
}

static bool image_complete(const char *dir)
{
	static const char *const files[] = { "manifest", "vmlinuz", "l1.cpio" };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *p = g_build_filename(dir, files[i], NULL);
		if (!g_file_test(p, G_FILE_TEST_IS_REGULAR))
			return false;
	}
	return true;
}

static bool image_fill(struct emuhost_image *out, const char *dir, const char *key, bool built, GError **error)
{
	*out = (struct emuhost_image){ .dir = g_strdup(dir), .kernel = g_build_filename(dir, "vmlinuz", NULL),
				       .initrd = g_build_filename(dir, "l1.cpio", NULL), .key = g_strdup(key),
				       .built = built };
	struct stat st;
	if (stat(out->initrd, &st) < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", out->initrd, g_strerror(e));
		emuhost_image_clear(out);
		return false;
	}
	out->initrd_size = (uint64_t)st.st_size;
	/* The most recently used images are the ones kept. */
	(void)utimes(dir, NULL);
	return true;
}

/* ---- building ---- */

struct build {
	const struct emuhost_image_request *rq;
	char *tmp;                   /* the build's own folder */
	char *kroot, *bbroot;        /* the unpacked packages */
	char *moddir;                /* kroot/lib/modules/RELEASE */
	char *release;
	GHashTable *modindex;        /* module name -> file */
	struct emuhost_pkgs pkgs;
};

static void build_clear(struct build *b)
{
	g_free(b->kroot);
	g_free(b->bbroot);
	g_free(b->moddir);
	g_free(b->release);
	if (b->modindex)
		g_hash_table_unref(b->modindex);
}

static void build_index_modules(GHashTable *index, const char *dir, unsigned depth)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *fn;
	while (d && depth < 16 && (fn = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, fn, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK)) {
			build_index_modules(index, p, depth + 1);
			continue;
		}
		const char *ko = strstr(fn, ".ko");
		if (!ko || !(g_str_equal(ko, ".ko") || g_str_equal(ko, ".ko.xz") || g_str_equal(ko, ".ko.zst") ||
			     g_str_equal(ko, ".ko.gz")))
			continue;
		char *name = g_strndup(fn, (gsize)(ko - fn));
		emuhost_module_name_norm(name);
		if (!g_hash_table_contains(index, name))
			g_hash_table_insert(index, name, g_steal_pointer(&p));
		else
			g_free(name);
	}
}

static GBytes *build_decompress(const char *tool, const char *path, GError **error)
{
	g_autoptr(GSubprocess) p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
						    error, tool, "-dc", path, NULL);
	if (!p)
		return NULL;
	GBytes *out = NULL;
	g_autoptr(GBytes) err = NULL;
	if (!g_subprocess_communicate(p, NULL, NULL, &out, &err, error))
		return NULL;
	if (!g_subprocess_get_successful(p)) {
		gsize n = 0;
		const char *t = err ? g_bytes_get_data(err, &n) : "";
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s %s failed: %.*s", tool, path, (int)MIN(n, 300), t);
		g_bytes_unref(out);
		return NULL;
	}
	return out;
}

static GBytes *build_load_module(void *opaque, const char *name, GError **error)
{
	struct build *b = opaque;
	const char *path = g_hash_table_lookup(b->modindex, name);
	if (!path) {
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "not in %s %s", b->pkgs.kernel_pkg, b->pkgs.kernel_version);
		return NULL;
	}
	if (g_str_has_suffix(path, ".ko.xz"))
		return build_decompress("xz", path, error);
	if (g_str_has_suffix(path, ".ko.zst"))
		return build_decompress("zstd", path, error);
	if (g_str_has_suffix(path, ".ko.gz"))
		return build_decompress("gzip", path, error);
	g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, error);
	return mf ? g_mapped_file_get_bytes(mf) : NULL;
}

/* The one kernel in the package: its release and module folder. */
static bool build_find_kernel(struct build *b, GError **error)
{
	static const char *const bases[] = { "lib/modules", "usr/lib/modules" };
	for (size_t i = 0; i < G_N_ELEMENTS(bases) && !b->moddir; i++) {
		g_autofree char *base = g_build_filename(b->kroot, bases[i], NULL);
		g_autoptr(GDir) d = g_dir_open(base, 0, NULL);
		const char *fn = d ? g_dir_read_name(d) : NULL;
		if (fn) {
			b->release = g_strdup(fn);
			b->moddir = g_build_filename(base, fn, NULL);
		}
	}
	g_autofree char *vmlinuz = b->release ? g_strconcat(b->kroot, "/boot/vmlinuz-", b->release, NULL) : NULL;
	if (!b->moddir || !g_file_test(vmlinuz, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s %s: no /boot/vmlinuz-RELEASE and /lib/modules/RELEASE inside",
			    b->pkgs.kernel_pkg, b->pkgs.kernel_version);
		return false;
	}
	return true;
}

static GHashTable *build_builtin(struct build *b)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *path = g_build_filename(b->moddir, "modules.builtin", NULL);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return set;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *base = strrchr(*l, '/');
		base = base ? base + 1 : *l;
		const char *ko = strstr(base, ".ko");
		if (!ko)
			continue;
		char *name = g_strndup(base, (gsize)(ko - base));
		emuhost_module_name_norm(name);
		g_hash_table_add(set, name);
	}
	return set;
}

static bool build_cpio_err(int e, const char *what, GError **error)
{
	if (e >= 0)
		return true;
	g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "writing the image: %s: %s", what, g_strerror(-e));
	return false;
}

static bool build_busybox(struct build *b, struct emuhost_cpio *c, GError **error)
{
	g_autofree char *bb = g_build_filename(b->bbroot, "bin", "busybox", NULL);
	if (!g_file_test(bb, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s %s: no /bin/busybox inside", EMUHOST_BUSYBOX_PKG,
			    b->pkgs.busybox_version);
		return false;
	}
	const char *argv[] = { bb, "--list-full", NULL };
	g_autofree char *list = NULL;
	if (!emuhost_run(argv, NULL, "listing busybox's applets", &list, error))
		return false;
	if (!build_cpio_err(emuhost_cpio_copy(c, "bin/busybox", 0755, bb), "bin/busybox", error))
		return false;
	g_auto(GStrv) applets = g_strsplit(list, "\n", -1);
	for (char **a = applets; *a; a++) {
		const char *rel = g_strstrip(*a);
		while (*rel == '/')
			rel++;
		if (!*rel || g_str_equal(rel, "bin/busybox") || g_str_equal(rel, "linuxrc"))
			continue;
		GString *target = g_string_new(NULL);
		for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/'))
			g_string_append(target, "../");
		g_string_append(target, "bin/busybox");
		int e = emuhost_cpio_symlink(c, rel, target->str);
		g_string_free(target, TRUE);
		if (e == -EEXIST)
			continue;
		if (!build_cpio_err(e, rel, error))
			return false;
	}
	return true;
}

static bool build_modules(struct build *b, struct emuhost_cpio *c, char **names, GError **error)
{
	b->modindex = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	build_index_modules(b->modindex, b->moddir, 0);
	g_autoptr(GHashTable) builtin = build_builtin(b);
	static const char *const wanted[] = EMUHOST_L1_MODULES;
	g_autoptr(GPtrArray) mods = emuhost_modules_closure(wanted, builtin, build_load_module, b, error);
	if (!mods)
		return false;
	GString *list = g_string_new(NULL);
	bool ok = true;
	for (guint i = 0; ok && i < mods->len; i++) {
		struct emuhost_module *m = mods->pdata[i];
		g_autofree char *path = g_strdup_printf("lib/modules/emuhost/%s.ko", m->name);
		gsize len;
		const void *data = g_bytes_get_data(m->data, &len);
		ok = build_cpio_err(emuhost_cpio_data(c, path, 0644, data, len), path, error);
		g_string_append_printf(list, "%s\n", m->name);
	}
	if (ok)
		ok = build_cpio_err(emuhost_cpio_data(c, "lib/modules/emuhost/load.list", 0644, list->str, list->len),
				    "load.list", error);
	g_strchomp(list->str);
	g_strdelimit(list->str, "\n", ',');
	*names = g_string_free(list, FALSE);
	return ok;
}

static bool build_copy_file(const char *src, const char *dest, GError **error)
{
	g_autoptr(GFile) s = g_file_new_for_path(src), d = g_file_new_for_path(dest);
	return g_file_copy(s, d, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error);
}

static bool build_sync(const char *path, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", path, g_strerror(e));
		return false;
	}
	close(fd);
	return true;
}

static bool build_image(struct build *b, GPtrArray *libs, const char *key, const char *imgdir, GError **error)
{
	const struct emuhost_image_request *rq = b->rq;
	g_autofree char *debdir = g_build_filename(rq->cache_dir, "debs", NULL);
	if (g_mkdir_with_parents(debdir, 0700) < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", debdir, g_strerror(e));
		return false;
	}
	image_say(rq, "downloading %s (1/%d)", b->pkgs.kernel_pkg, IMAGE_STEPS);
	g_autofree char *kdeb = emuhost_pkg_fetch(b->pkgs.kernel_pkg, b->pkgs.kernel_version, debdir, error);
	if (!kdeb)
		return false;
	image_say(rq, "downloading %s (2/%d)", EMUHOST_BUSYBOX_PKG, IMAGE_STEPS);
	g_autofree char *bdeb = emuhost_pkg_fetch(EMUHOST_BUSYBOX_PKG, b->pkgs.busybox_version, debdir, error);
	if (!bdeb)
		return false;
	image_say(rq, "unpacking the packages (3/%d)", IMAGE_STEPS);
	b->kroot = g_build_filename(b->tmp, "kernel", NULL);
	b->bbroot = g_build_filename(b->tmp, "busybox", NULL);
	if (!emuhost_pkg_extract(kdeb, b->kroot, error) || !emuhost_pkg_extract(bdeb, b->bbroot, error) ||
	    !build_find_kernel(b, error))
		return false;

	image_say(rq, "collecting the kernel modules (4/%d)", IMAGE_STEPS);
	if (g_mkdir_with_parents(imgdir, 0700) < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", imgdir, g_strerror(e));
		return false;
	}
	g_autofree char *cpio_path = g_build_filename(imgdir, "l1.cpio", NULL);
	int fd = open(cpio_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", cpio_path, g_strerror(e));
		return false;
	}
	struct emuhost_cpio c;
	emuhost_cpio_init(&c, emuhost_cpio_write_fd, &fd);
	g_autofree char *modnames = NULL;
	bool ok = true;
	static const char *const dirs[] = { "dev", "proc", "sys", "tmp", "run", "root", "etc", "var/tmp", "emuhost/start" };
	for (size_t i = 0; ok && i < G_N_ELEMENTS(dirs); i++)
		ok = build_cpio_err(emuhost_cpio_dir(&c, dirs[i], 0755), dirs[i], error);
	ok = ok && build_cpio_err(emuhost_cpio_node(&c, "dev/console", S_IFCHR, 0600, 5, 1), "dev/console", error);
	ok = ok && build_cpio_err(emuhost_cpio_node(&c, "dev/null", S_IFCHR, 0666, 1, 3), "dev/null", error);
	ok = ok && build_modules(b, &c, &modnames, error);
	if (ok)
		image_say(rq, "collecting vireo-worker, vireo-emuhost-agent and %u shared libraries (5/%d)", libs->len,
			  IMAGE_STEPS);
	ok = ok && build_busybox(b, &c, error);
	ok = ok && build_cpio_err(emuhost_cpio_data(&c, "init", 0755, emuhost_image_init, strlen(emuhost_image_init)),
				  "init", error);
	ok = ok && build_cpio_err(emuhost_cpio_copy(&c, EMUHOST_L1_WORKER, 0755, rq->worker), rq->worker, error);
	ok = ok && build_cpio_err(emuhost_cpio_copy(&c, EMUHOST_L1_AGENT, 0755, rq->agent), rq->agent, error);
	for (guint i = 0; ok && i < libs->len; i++)
		ok = build_cpio_err(emuhost_cpio_copy(&c, libs->pdata[i], 0755, libs->pdata[i]), libs->pdata[i], error);
	if (ok)
		image_say(rq, "writing the image (6/%d)", IMAGE_STEPS);
	ok = ok && build_cpio_err(emuhost_cpio_finish(&c), "the trailer", error);
	if (ok && fsync(fd) < 0)
		ok = build_cpio_err(-errno, cpio_path, error);
	close(fd);
	emuhost_cpio_clear(&c);
	if (!ok)
		return false;

	g_autofree char *vmlinuz = g_strconcat(b->kroot, "/boot/vmlinuz-", b->release, NULL);
	g_autofree char *kdest = g_build_filename(imgdir, "vmlinuz", NULL);
	if (!build_copy_file(vmlinuz, kdest, error) || !build_sync(kdest, error))
		return false;
	GString *lt = g_string_new(NULL);
	for (guint i = 0; i < libs->len; i++)
		g_string_append_printf(lt, "%s%s", i ? " " : "", (const char *)libs->pdata[i]);
	g_autofree char *libs_text = g_string_free(lt, FALSE);
	g_autofree char *manifest = g_strdup_printf(
		"format=%d\nkey=%s\nkernel_package=%s\nkernel_version=%s\nkernel_release=%s\nbusybox_version=%s\n"
		"worker=%s\nagent=%s\nmodules=%s\nlibraries=%s\n",
		EMUHOST_IMAGE_FORMAT, key, b->pkgs.kernel_pkg, b->pkgs.kernel_version, b->release,
		b->pkgs.busybox_version, rq->worker, rq->agent, modnames, libs_text);
	g_autofree char *mpath = g_build_filename(imgdir, "manifest", NULL);
	return g_file_set_contents(mpath, manifest, -1, error);
}

/* The images beyond the most recent few, and builds a crash left behind. */
static void image_prune(const char *cache_dir)
{
	g_autoptr(GDir) d = g_dir_open(cache_dir, 0, NULL);
	g_autoptr(GPtrArray) imgs = g_ptr_array_new_with_free_func(g_free);
	const char *fn;
	while (d && (fn = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(cache_dir, fn, NULL);
		if (g_str_has_prefix(fn, ".build-"))
			image_rm_rf(p);
		else if (strlen(fn) == IMAGE_KEY_HEX && image_complete(p))
			g_ptr_array_add(imgs, g_steal_pointer(&p));
	}
	while (imgs->len > EMUHOST_IMAGES_KEEP) {
		guint oldest = 0;
		time_t t = 0;
		for (guint i = 0; i < imgs->len; i++) {
			struct stat st;
			if (stat(imgs->pdata[i], &st) == 0 && (t == 0 || st.st_mtime < t)) {
				t = st.st_mtime;
				oldest = i;
			}
		}
		image_rm_rf(imgs->pdata[oldest]);
		g_ptr_array_remove_index(imgs, oldest);
	}
}

static gint image_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What both programs need, each once, sorted. */
static GPtrArray *image_libraries(const struct emuhost_image_request *rq, GError **error)
{
	g_autoptr(GPtrArray) w = emuhost_ldd(rq->worker, error);
	if (!w)
		return NULL;
	g_autoptr(GPtrArray) a = emuhost_ldd(rq->agent, error);
	if (!a)
		return NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *lists[] = { w, a };
	for (size_t k = 0; k < G_N_ELEMENTS(lists); k++)
		for (guint i = 0; i < lists[k]->len; i++)
			if (g_hash_table_add(seen, lists[k]->pdata[i]))
				g_ptr_array_add(all, g_strdup(lists[k]->pdata[i]));
	g_ptr_array_sort(all, image_strcmp);
	return all;
}

bool emuhost_image_ensure(const struct emuhost_image_request *rq, struct emuhost_image *out, GError **error)
{
	if (g_mkdir_with_parents(rq->cache_dir, 0700) < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "the image cache %s: %s", rq->cache_dir, g_strerror(e));
		return false;
	}
	image_say(rq, "checking its image");
	struct build b = { .rq = rq };
	bool ok = false;
	int lock = -1;
	g_autofree char *key = NULL, *dir = NULL, *lockpath = NULL, *tmpl = NULL, *imgdir = NULL;
	g_autoptr(GPtrArray) libs = NULL;
	if (!emuhost_pkgs_resolve(rq->cache_dir, &b.pkgs, error))
		goto out;
	libs = image_libraries(rq, error);
	if (!libs)
		goto out;
	key = image_key(rq, &b.pkgs, libs, error);
	if (!key)
		goto out;
	dir = g_build_filename(rq->cache_dir, key, NULL);
	if (image_complete(dir)) {
		image_say(rq, "using the cached image %s", key);
		ok = image_fill(out, dir, key, false, error);
		goto out;
	}
	lockpath = g_build_filename(rq->cache_dir, ".lock", NULL);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", lockpath, g_strerror(e));
		goto out;
	}
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		image_say(rq, "waiting for another start that builds the image");
		if (flock(lock, LOCK_EX) < 0) {
			int e = errno;
			g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", lockpath, g_strerror(e));
			goto out;
		}
	}
	if (image_complete(dir)) {
		ok = image_fill(out, dir, key, false, error);
		goto out;
	}
	image_prune(rq->cache_dir);
	tmpl = g_build_filename(rq->cache_dir, ".build-XXXXXX", NULL);
	if (!g_mkdtemp_full(tmpl, 0700)) {
		int e = errno;
		g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", tmpl, g_strerror(e));
		goto out;
	}
	b.tmp = tmpl;
	image_say(rq, "building its image %s once (%s %s, %s %s)", key, b.pkgs.kernel_pkg, b.pkgs.kernel_version,
		  EMUHOST_BUSYBOX_PKG, b.pkgs.busybox_version);
	imgdir = g_build_filename(tmpl, "image", NULL);
	if (build_image(&b, libs, key, imgdir, error)) {
		if (g_rename(imgdir, dir) < 0) {
			int e = errno;
			g_set_error(error, IMAGE_ERROR, IMAGE_FAILED, "%s: %s", dir, g_strerror(e));
		} else {
			(void)build_sync(rq->cache_dir, NULL);
			ok = image_fill(out, dir, key, true, error);
			if (ok)
				image_say(rq, "image %s ready (%" G_GUINT64_FORMAT " MiB)", key, out->initrd_size >> 20);
		}
	}
	image_rm_rf(tmpl);
	image_prune(rq->cache_dir);
out:
	if (lock >= 0)
		close(lock);
	build_clear(&b);
	emuhost_pkgs_clear(&b.pkgs);
	return ok;
}
