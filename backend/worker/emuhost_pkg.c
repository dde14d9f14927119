// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "emuhost_pkg.h"

#define PKG_ERROR G_FILE_ERROR
#define PKG_FAILED G_FILE_ERROR_FAILED

static bool pkgs_lookup(struct emuhost_pkgs *out, GError **error);

static gint pkgs_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void emuhost_pkgs_clear(struct emuhost_pkgs *p)
{
	g_free(p->kernel_pkg);
	g_free(p->kernel_version);
	g_free(p->busybox_version);
	*p = (struct emuhost_pkgs){ 0 };
}

bool emuhost_run(const char *const *argv, const char *cwd, const char *what, char **out, GError **error)
{
	g_autofree char *so = NULL, *se = NULL;
	int status = 0;
	GError *e = NULL;
	if (!g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
			  &so, &se, &status, &e)) {
		g_set_error(error, PKG_ERROR, PKG_FAILED, "%s: cannot run %s: %s", what, argv[0], e->message);
		g_error_free(e);
		return false;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
		g_strstrip(se);
		g_set_error(error, PKG_ERROR, PKG_FAILED, "%s: '%s' failed (%s): %s", what, cmd,
			    WIFEXITED(status) ? "exit status" : "signal",
			    *se ? se : (so && *g_strstrip(so) ? so : "(no output)"));
		return false;
	}
	if (out)
		*out = g_steal_pointer(&so);
	return true;
}

/* The value of "Field: value" in an apt record, or NULL. */
static char *record_field(const char *record, const char *field)
{
	size_t fl = strlen(field);
	for (const char *p = record; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
			const char *v = p + fl + 1;
			size_t n = strcspn(v, "\n");
			g_autofree char *val = g_strndup(v, n);
			return g_strdup(g_strstrip(val));
		}
	}
	return NULL;
}

bool emuhost_pkgs_parse(const char *apt_show, struct emuhost_pkgs *out, GError **error)
{
	struct emuhost_pkgs p = { 0 };
	/* Records are separated by empty lines. */
	g_auto(GStrv) records = g_strsplit(apt_show, "\n\n", -1);
	for (char **r = records; *r; r++) {
		g_autofree char *pkg = record_field(*r, "Package");
		if (!pkg)
			continue;
		if (g_str_equal(pkg, EMUHOST_KERNEL_META) && !p.kernel_pkg) {
			g_autofree char *dep = record_field(*r, "Depends");
			/* "linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)" */
			g_auto(GStrv) alts = g_strsplit_set(dep ? dep : "", ",|", -1);
			for (char **a = alts; *a && !p.kernel_pkg; a++) {
				g_autofree char *item = g_strstrip(g_strdup(*a));
				if (!g_str_has_prefix(item, "linux-image-") || g_str_has_prefix(item, EMUHOST_KERNEL_META))
					continue;
				char *sp = strchr(item, ' ');
				const char *eq = strstr(item, "(= ");
				if (!sp || !eq || !strchr(eq, ')'))
					continue;
				p.kernel_pkg = g_strndup(item, (gsize)(sp - item));
				p.kernel_version = g_strndup(eq + 3, (gsize)(strchr(eq, ')') - eq - 3));
			}
		} else if (g_str_equal(pkg, EMUHOST_BUSYBOX_PKG) && !p.busybox_version) {
			p.busybox_version = record_field(*r, "Version");
		}
	}
	if (!p.kernel_pkg || !p.busybox_version) {
		g_set_error(error, PKG_ERROR, PKG_FAILED,
			    "apt-cache has no %s%s%s: the emulated host is made of Debian packages "
			    "(Debian 12's main archive in the apt sources, then 'apt-get update')",
			    !p.kernel_pkg ? EMUHOST_KERNEL_META " with a kernel package of the form (= VERSION) in its Depends" : "",
			    !p.kernel_pkg && !p.busybox_version ? " and no " : "",
			    !p.busybox_version ? EMUHOST_BUSYBOX_PKG : "");
		emuhost_pkgs_clear(&p);
		return false;
	}
	*out = p;
	return true;
}

/* Where apt's answers come from: the package lists, sources and pins, by name, size and time. */
static char *pkgs_apt_signature(void)
{
	static const char *const dirs[] = { "/var/lib/apt/lists", "/etc/apt/sources.list.d", "/etc/apt/preferences.d" };
	static const char *const files[] = { "/etc/apt/sources.list", "/etc/apt/preferences" };
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autoptr(GDir) d = g_dir_open(dirs[i], 0, NULL);
		const char *fn;
		while (d && (fn = g_dir_read_name(d)))
			g_ptr_array_add(paths, g_build_filename(dirs[i], fn, NULL));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		g_ptr_array_add(paths, g_strdup(files[i]));
	g_ptr_array_sort(paths, (GCompareFunc)pkgs_strcmp);
	for (guint i = 0; i < paths->len; i++) {
		struct stat st;
		if (stat(paths->pdata[i], &st) < 0)
			continue;
		g_autofree char *sig = g_strdup_printf("%s %lld %lld.%09ld\n", (const char *)paths->pdata[i],
						       (long long)st.st_size, (long long)st.st_mtim.tv_sec,
						       st.st_mtim.tv_nsec);
		g_checksum_update(sum, (const guchar *)sig, -1);
	}
	return g_strdup(g_checksum_get_string(sum));
}

static bool pkgs_from_cache(const char *path, const char *sig, struct emuhost_pkgs *out)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	g_auto(GStrv) lines = g_strsplit(text, "\n", 5);
	if (g_strv_length(lines) < 4 || !g_str_equal(lines[0], sig) || !*lines[1] || !*lines[2] || !*lines[3])
		return false;
	out->kernel_pkg = g_strdup(lines[1]);
	out->kernel_version = g_strdup(lines[2]);
	out->busybox_version = g_strdup(lines[3]);
	return true;
}

bool emuhost_pkgs_resolve(const char *cache_dir, struct emuhost_pkgs *out, GError **error)
{
	g_autofree char *sig = cache_dir ? pkgs_apt_signature() : NULL;
	g_autofree char *cpath = cache_dir ? g_build_filename(cache_dir, "packages", NULL) : NULL;
	if (cache_dir && pkgs_from_cache(cpath, sig, out))
		return true;
	if (!pkgs_lookup(out, error))
		return false;
	if (cache_dir) {
		g_autofree char *text = g_strdup_printf("%s\n%s\n%s\n%s\n", sig, out->kernel_pkg, out->kernel_version,
							out->busybox_version);
		(void)g_file_set_contents(cpath, text, -1, NULL);
	}
	return true;
}

static bool pkgs_lookup(struct emuhost_pkgs *out, GError **error)
{
	g_autofree char *apt_cache = g_find_program_in_path("apt-cache");
	if (!apt_cache) {
		g_set_error(error, PKG_ERROR, PKG_FAILED,
			    "apt-cache is not installed: the emulated host is built from Debian packages with apt");
		return false;
	}
	const char *argv[] = { "apt-cache", "show", "--no-all-versions", EMUHOST_KERNEL_META, EMUHOST_BUSYBOX_PKG, NULL };
	g_autofree char *text = NULL;
	GError *e = NULL;
	if (!emuhost_run(argv, NULL, "looking up the packages of the emulated host", &text, &e)) {
		g_propagate_prefixed_error(error, e, "%s", "");
		return false;
	}
	return emuhost_pkgs_parse(text, out, error);
}

char *emuhost_pkg_deb_prefix(const char *pkg, const char *version)
{
	g_autofree char *v = g_strdup(version);
	GString *s = g_string_new(pkg);
	g_string_append_c(s, '_');
	for (const char *p = v; *p; p++) {
		if (*p == ':')
			g_string_append(s, "%3a");
		else
			g_string_append_c(s, *p);
	}
	g_string_append_c(s, '_');
	return g_string_free(s, FALSE);
}

static char *pkg_find(const char *debdir, const char *prefix)
{
	g_autoptr(GDir) d = g_dir_open(debdir, 0, NULL);
	const char *fn;
	while (d && (fn = g_dir_read_name(d)))
		if (g_str_has_prefix(fn, prefix) && g_str_has_suffix(fn, ".deb"))
			return g_build_filename(debdir, fn, NULL);
	return NULL;
}

static bool pkg_offline_text(const char *t)
{
	static const char *const signs[] = { "Temporary failure resolving", "Could not resolve", "Failed to fetch",
					     "Unable to connect", "Network is unreachable", "Could not connect" };
	for (size_t i = 0; i < G_N_ELEMENTS(signs); i++)
		if (strstr(t, signs[i]))
			return true;
	return false;
}

static void pkg_rm_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *fn;
	while (d && (fn = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, fn, NULL);
		(void)g_unlink(p);
	}
	(void)g_rmdir(dir);
}

char *emuhost_pkg_fetch(const char *pkg, const char *version, const char *debdir, GError **error)
{
	g_autofree char *prefix = emuhost_pkg_deb_prefix(pkg, version);
	char *have = pkg_find(debdir, prefix);
	if (have)
		return have;
	g_autofree char *apt_get = g_find_program_in_path("apt-get");
	if (!apt_get) {
		g_set_error(error, PKG_ERROR, PKG_FAILED, "cannot download %s: apt-get is not installed", pkg);
		return NULL;
	}
	/* Into a folder of its own first: an interrupted download is never taken for a package. */
	g_autofree char *tmpl = g_build_filename(debdir, ".download-XXXXXX", NULL);
	if (!g_mkdtemp(tmpl)) {
		int e = errno;
		g_set_error(error, PKG_ERROR, PKG_FAILED, "cannot download %s: %s: %s", pkg, debdir, g_strerror(e));
		return NULL;
	}
	g_autofree char *spec = g_strconcat(pkg, "=", version, NULL);
	const char *argv[] = { "apt-get", "download", "-q", spec, NULL };
	GError *e = NULL;
	bool ok = emuhost_run(argv, tmpl, "", NULL, &e);
	char *got = ok ? pkg_find(tmpl, prefix) : NULL;
	char *dest = NULL;
	if (got) {
		dest = g_build_filename(debdir, strrchr(got, '/') + 1, NULL);
		if (g_rename(got, dest) < 0) {
			int err = errno;
			g_set_error(error, PKG_ERROR, PKG_FAILED, "cannot keep %s: %s: %s", pkg, dest, g_strerror(err));
			g_clear_pointer(&dest, g_free);
		}
		g_free(got);
	} else if (ok) {
		g_set_error(error, PKG_ERROR, PKG_FAILED, "apt-get download %s succeeded, but no %s*.deb appeared", spec,
			    prefix);
	} else {
		bool offline = pkg_offline_text(e->message);
		g_set_error(error, PKG_ERROR, PKG_FAILED, "cannot download %s %s%s%s", pkg, version, e->message,
			    offline ? " -- this host cannot reach the Debian archive (offline?): the emulated host's "
				      "image is built once from it, then cached" : "");
		g_error_free(e);
	}
	pkg_rm_tree(tmpl);
	return dest;
}

bool emuhost_pkg_extract(const char *deb, const char *dest, GError **error)
{
	if (g_mkdir_with_parents(dest, 0700) < 0) {
		int e = errno;
		g_set_error(error, PKG_ERROR, PKG_FAILED, "unpacking %s: %s: %s", deb, dest, g_strerror(e));
		return false;
	}
	const char *argv[] = { "dpkg-deb", "-x", deb, dest, NULL };
	g_autofree char *what = g_strdup_printf("unpacking %s", deb);
	return emuhost_run(argv, NULL, what, NULL, error);
}

GPtrArray *emuhost_ldd_parse(const char *exe, const char *text, GError **error)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_autofree char *line = g_strstrip(g_strdup(*l));
		if (!*line)
			continue;
		if (strstr(line, "=> not found")) {
			g_set_error(error, PKG_ERROR, PKG_FAILED, "%s needs the shared library %.*s, which is not installed",
				    exe, (int)strcspn(line, " "), line);
			g_ptr_array_unref(out);
			return NULL;
		}
		/* "libx.so.1 => /lib/.../libx.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)",
		 * "linux-vdso.so.1 (0x...)" (in the kernel: nothing to carry). */
		const char *arrow = strstr(line, "=> ");
		const char *path = arrow ? arrow + 3 : line;
		if (*path != '/')
			continue;
		size_t n = strcspn(path, " ");
		if (out->len >= EMUHOST_LIBS_MAX) {
			g_set_error(error, PKG_ERROR, PKG_FAILED, "%s needs more than %u shared libraries", exe,
				    EMUHOST_LIBS_MAX);
			g_ptr_array_unref(out);
			return NULL;
		}
		g_ptr_array_add(out, g_strndup(path, n));
	}
	return out;
}

GPtrArray *emuhost_ldd(const char *exe, GError **error)
{
	const char *argv[] = { "ldd", exe, NULL };
	g_autofree char *text = NULL;
	g_autofree char *what = g_strdup_printf("listing the shared libraries of %s", exe);
	if (!emuhost_run(argv, NULL, what, &text, error))
		return NULL;
	return emuhost_ldd_parse(exe, text, error);
}
