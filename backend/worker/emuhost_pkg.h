/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the emulated host's image is made of, from the Debian archive:
 * the cloud kernel's current package and busybox-static, found with
 * apt-cache, fetched with `apt-get download` (as the user: nothing is
 * installed) and unpacked with dpkg-deb. Also the programs and the shared
 * libraries they need (ldd).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#define EMUHOST_KERNEL_META  "linux-image-cloud-amd64"
#define EMUHOST_BUSYBOX_PKG  "busybox-static"
#define EMUHOST_LIBS_MAX     256u    /* shared libraries of one program */

struct emuhost_pkgs {
	char *kernel_pkg, *kernel_version;   /* linux-image-6.1.0-NN-cloud-amd64, 6.1.x-y */
	char *busybox_version;
};

void emuhost_pkgs_clear(struct emuhost_pkgs *p);

/* What apt-cache says the current packages are. With cache_dir, its answer
 * is kept there and taken again while apt's package lists and sources are
 * unchanged (apt-cache takes a second). */
bool emuhost_pkgs_resolve(const char *cache_dir, struct emuhost_pkgs *out, GError **error);
/* The same from `apt-cache show` output (the records of the metapackage and busybox-static). */
bool emuhost_pkgs_parse(const char *apt_show, struct emuhost_pkgs *out, GError **error);

/* debdir/PKG_VERSION_ARCH.deb, fetched unless it is there: its path. */
char *emuhost_pkg_fetch(const char *pkg, const char *version, const char *debdir, GError **error);
/* The file name apt-get download gives a package version ("1:2" -> "1%3a2"), without the arch. */
char *emuhost_pkg_deb_prefix(const char *pkg, const char *version);
bool emuhost_pkg_extract(const char *deb, const char *dest, GError **error);

/* The absolute paths `ldd` lists for exe: shared libraries and loader. */
GPtrArray *emuhost_ldd(const char *exe, GError **error);
/* ldd's output into those paths; an error names a library that is not found. */
GPtrArray *emuhost_ldd_parse(const char *exe, const char *text, GError **error);

/* argv run in cwd (may be NULL): true, and its stdout when out is given;
 * false with an error naming what (and the command's stderr). */
bool emuhost_run(const char *const *argv, const char *cwd, const char *what, char **out, GError **error);
