// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parsers behind the emulated host's image: a module's .modinfo
 * (backend/worker/emuhost_modules.c) and the load order worked out from
 * it, apt-cache's records and ldd's output (emuhost_pkg.c). The modules
 * are ELF files made here, also broken ones; the real kernel package's
 * modules go through the same code when the image is built (the
 * emuhost-lifecycle test boots it).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "emuhost_modules.h"
#include "emuhost_pkg.h"

static void put(GByteArray *a, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		a->data[off + i] = (uint8_t)(v >> (8 * i));
}

/* An ELF64 relocatable with a .modinfo section holding `info` (NUL-separated). */
static GByteArray *module_elf(const char *info, size_t info_len)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab\0";
	GByteArray *a = g_byte_array_new();
	size_t mi_off = 64, str_off = mi_off + info_len, sh_off = (str_off + sizeof(shstr) + 7) & ~(size_t)7;
	g_byte_array_set_size(a, (guint)(sh_off + 3 * 64));
	memset(a->data, 0, a->len);
	memcpy(a->data, "\x7f" "ELF\x02\x01\x01", 7);
	put(a, 0x28, sh_off, 8);
	put(a, 0x3a, 64, 2);
	put(a, 0x3c, 3, 2);
	put(a, 0x3e, 2, 2);
	memcpy(a->data + mi_off, info, info_len);
	memcpy(a->data + str_off, shstr, sizeof(shstr));
	/* [1] .modinfo, [2] .shstrtab */
	put(a, sh_off + 64 + 0, 1, 4);
	put(a, sh_off + 64 + 24, mi_off, 8);
	put(a, sh_off + 64 + 32, info_len, 8);
	put(a, sh_off + 128 + 0, 10, 4);
	put(a, sh_off + 128 + 24, str_off, 8);
	put(a, sh_off + 128 + 32, sizeof(shstr), 8);
	return a;
}

#define INFO(s) s, sizeof(s) - 1

static void test_modinfo(void)
{
	g_autoptr(GByteArray) m = module_elf(INFO("license=GPL\0depends=kvm,irqbypass\0name=kvm_amd\0vermagic=6.1\0"));
	char out[64];
	g_assert_cmpint(emuhost_modinfo_get(m->data, m->len, "depends", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "kvm,irqbypass");
	g_assert_cmpint(emuhost_modinfo_get(m->data, m->len, "name", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "kvm_amd");
	/* A key is a whole word before '='. */
	g_assert_cmpint(emuhost_modinfo_get(m->data, m->len, "depend", out, sizeof(out)), ==, -ENOENT);
	g_assert_cmpint(emuhost_modinfo_get(m->data, m->len, "alias", out, sizeof(out)), ==, -ENOENT);
	g_assert_cmpint(emuhost_modinfo_get(m->data, m->len, "depends", out, 5), ==, -ENAMETOOLONG);
	/* An empty depends= (no dependencies), and a section without a final NUL. */
	g_autoptr(GByteArray) m2 = module_elf(INFO("depends=\0name=x"));
	g_assert_cmpint(emuhost_modinfo_get(m2->data, m2->len, "depends", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpint(emuhost_modinfo_get(m2->data, m2->len, "name", out, sizeof(out)), ==, 0);
	g_assert_cmpstr(out, ==, "x");
	/* Not ELF64 LE; truncated; section tables and sections pointing outside the file. */
	g_assert_cmpint(emuhost_modinfo_get((const uint8_t *)"hello", 5, "depends", out, sizeof(out)), ==, -ENOEXEC);
	g_autoptr(GByteArray) b = module_elf(INFO("depends=a\0"));
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len - 1, "depends", out, sizeof(out)), ==, -ENOEXEC);
	b->data[4] = 1;
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len, "depends", out, sizeof(out)), ==, -ENOEXEC);
	b->data[4] = 2;
	size_t sh = b->len - 3 * 64;
	put(b, sh + 64 + 32, 1u << 30, 8);            /* .modinfo size */
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len, "depends", out, sizeof(out)), ==, -ENOEXEC);
	put(b, sh + 64 + 32, 10, 8);
	put(b, 0x3e, 7, 2);                           /* e_shstrndx past e_shnum */
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len, "depends", out, sizeof(out)), ==, -ENOEXEC);
	put(b, 0x3e, 2, 2);
	put(b, sh + 128 + 24, (uint64_t)-1, 8);       /* .shstrtab offset */
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len, "depends", out, sizeof(out)), ==, -ENOEXEC);
	put(b, sh + 128 + 24, 74, 8);
	put(b, 0x28, (uint64_t)-64, 8);               /* e_shoff */
	g_assert_cmpint(emuhost_modinfo_get(b->data, b->len, "depends", out, sizeof(out)), ==, -ENOEXEC);
	/* Without a .modinfo at all. */
	g_autoptr(GByteArray) n = module_elf(INFO("x=1\0"));
	n->data[n->len - 3 * 64 + 64] = 19;           /* name it ".shstrtab"'s tail */
	g_assert_cmpint(emuhost_modinfo_get(n->data, n->len, "x", out, sizeof(out)), ==, -ENOENT);
}

static GBytes *fake_load(void *opaque, const char *name, GError **error)
{
	GHashTable *mods = opaque;
	const char *deps = g_hash_table_lookup(mods, name);
	if (!deps) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no such module");
		return NULL;
	}
	if (g_str_equal(deps, "!broken"))
		return g_bytes_new("junk", 4);
	g_autofree char *info = g_strdup_printf("name=%s%cdepends=%s%c", name, 0, deps, 0);
	size_t len = strlen(name) + 5 + 1 + strlen(deps) + 8 + 1;
	GByteArray *a = module_elf(info, len);
	return g_byte_array_free_to_bytes(a);
}

static char *order(GPtrArray *mods)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < mods->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", ((struct emuhost_module *)mods->pdata[i])->name);
	return g_string_free(s, FALSE);
}

static void test_closure(void)
{
	g_autoptr(GHashTable) mods = g_hash_table_new(g_str_hash, g_str_equal);
	/* What the cloud kernel's modules say, roughly. */
	g_hash_table_insert(mods, "kvm_amd", "kvm,ccp");
	g_hash_table_insert(mods, "kvm", "irqbypass");
	g_hash_table_insert(mods, "irqbypass", "");
	g_hash_table_insert(mods, "ccp", "");
	g_hash_table_insert(mods, "virtio_console", "virtio,virtio_ring");
	g_hash_table_insert(mods, "virtio_pci", "virtio_pci_modern_dev,virtio,virtio_ring");
	g_hash_table_insert(mods, "virtio_pci_modern_dev", "");
	g_hash_table_insert(mods, "virtio_ring", "");
	g_hash_table_insert(mods, "virtio", "");
	g_autoptr(GHashTable) builtin = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_add(builtin, "ccp");
	const char *wanted[] = { "kvm-amd", "virtio_pci", "virtio_console", NULL };
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) got = emuhost_modules_closure(wanted, builtin, fake_load, mods, &e);
	g_assert_no_error(e);
	g_autofree char *o = order(got);
	g_assert_cmpstr(o, ==, "irqbypass kvm kvm_amd virtio_pci_modern_dev virtio virtio_ring virtio_pci virtio_console");
	g_assert_nonnull(((struct emuhost_module *)got->pdata[0])->data);

	/* A missing dependency names who needed it. */
	g_hash_table_insert(mods, "kvm", "irqbypass,missing");
	g_autoptr(GError) e2 = NULL;
	g_assert_null(emuhost_modules_closure(wanted, builtin, fake_load, mods, &e2));
	g_assert_nonnull(strstr(e2->message, "kernel module missing, needed by kvm"));
	/* A loop. */
	g_hash_table_insert(mods, "kvm", "irqbypass,kvm_amd");
	g_autoptr(GError) e3 = NULL;
	g_assert_null(emuhost_modules_closure(wanted, builtin, fake_load, mods, &e3));
	g_assert_nonnull(strstr(e3->message, "loop"));
	/* A module that is not ELF. */
	g_hash_table_insert(mods, "kvm", "irqbypass");
	g_hash_table_insert(mods, "irqbypass", "!broken");
	g_autoptr(GError) e4 = NULL;
	g_assert_null(emuhost_modules_closure(wanted, builtin, fake_load, mods, &e4));
	g_assert_nonnull(strstr(e4->message, "irqbypass"));
	/* More than EMUHOST_MODULES_MAX. */
	g_autoptr(GHashTable) chain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (unsigned i = 0; i <= EMUHOST_MODULES_MAX; i++)
		g_hash_table_insert(chain, g_strdup_printf("m%u", i),
				    i < EMUHOST_MODULES_MAX ? g_strdup_printf("m%u", i + 1) : g_strdup(""));
	const char *first[] = { "m0", NULL };
	g_autoptr(GError) e5 = NULL;
	g_assert_null(emuhost_modules_closure(first, NULL, fake_load, chain, &e5));
}

static void test_pkgs(void)
{
	const char *show =
		"Package: linux-image-cloud-amd64\n"
		"Source: linux-signed-amd64 (6.1.192+3)\n"
		"Version: 6.1.192-3\n"
		"Depends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)\n"
		"Description: Linux for x86-64 cloud (meta-package)\n"
		"\n"
		"Package: busybox-static\n"
		"Version: 1:1.35.0-4+deb12u1+b1\n"
		"Depends: \n"
		"\n";
	struct emuhost_pkgs p;
	g_autoptr(GError) e = NULL;
	g_assert_true(emuhost_pkgs_parse(show, &p, &e));
	g_assert_cmpstr(p.kernel_pkg, ==, "linux-image-6.1.0-57-cloud-amd64");
	g_assert_cmpstr(p.kernel_version, ==, "6.1.192-3");
	g_assert_cmpstr(p.busybox_version, ==, "1:1.35.0-4+deb12u1+b1");
	emuhost_pkgs_clear(&p);
	/* Without a pinned kernel, or without busybox-static: an error saying which. */
	g_autoptr(GError) e2 = NULL;
	g_assert_false(emuhost_pkgs_parse("Package: linux-image-cloud-amd64\nDepends: linux-image-6.1.0-57-cloud-amd64\n\n"
					  "Package: busybox-static\nVersion: 1\n", &p, &e2));
	g_assert_nonnull(strstr(e2->message, "linux-image-cloud-amd64"));
	g_autoptr(GError) e3 = NULL;
	g_assert_false(emuhost_pkgs_parse(show + strlen(show) - 1, &p, &e3));
	g_assert_nonnull(strstr(e3->message, "busybox-static"));

	g_autofree char *pre = emuhost_pkg_deb_prefix("busybox-static", "1:1.35.0-4+deb12u1+b1");
	g_assert_cmpstr(pre, ==, "busybox-static_1%3a1.35.0-4+deb12u1+b1_");
}

/* apt-cache's answer kept in the cache folder, and taken only while apt's lists are the same. */
static void test_pkgs_cached(void)
{
	g_autofree char *dir = g_dir_make_tmp("emuhost-pkgs-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "packages", NULL);
	struct emuhost_pkgs p;
	g_autoptr(GError) e = NULL;
	g_assert_true(emuhost_pkgs_resolve(dir, &p, &e));
	g_assert_true(g_str_has_prefix(p.kernel_pkg, "linux-image-"));
	g_autofree char *real = g_strdup(p.kernel_version);
	emuhost_pkgs_clear(&p);
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 5);
	g_assert_cmpstr(lines[2], ==, real);
	/* The kept answer is what comes back... */
	g_autofree char *edited = g_strdup_printf("%s\nlinux-image-9.9.9-cloud-amd64\n9.9.9-1\n1:2.0\n", lines[0]);
	g_assert_true(g_file_set_contents(file, edited, -1, NULL));
	g_assert_true(emuhost_pkgs_resolve(dir, &p, &e));
	g_assert_cmpstr(p.kernel_version, ==, "9.9.9-1");
	g_assert_cmpstr(p.busybox_version, ==, "1:2.0");
	emuhost_pkgs_clear(&p);
	/* ...until apt's lists change (another signature): then apt-cache again. */
	g_autofree char *stale = g_strdup_printf("0000\nlinux-image-9.9.9-cloud-amd64\n9.9.9-1\n1:2.0\n");
	g_assert_true(g_file_set_contents(file, stale, -1, NULL));
	g_assert_true(emuhost_pkgs_resolve(dir, &p, &e));
	g_assert_cmpstr(p.kernel_version, ==, real);
	emuhost_pkgs_clear(&p);
	g_unlink(file);
	g_rmdir(dir);
}

static void test_ldd(void)
{
	const char *text =
		"\tlinux-vdso.so.1 (0x00007ffd1a3f5000)\n"
		"\tlibglib-2.0.so.0 => /lib/x86_64-linux-gnu/libglib-2.0.so.0 (0x00007f0c4c6a0000)\n"
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c4c4bf000)\n"
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f0c4c7f6000)\n";
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) libs = emuhost_ldd_parse("w", text, &e);
	g_assert_no_error(e);
	g_assert_cmpuint(libs->len, ==, 3);
	g_assert_cmpstr(libs->pdata[0], ==, "/lib/x86_64-linux-gnu/libglib-2.0.so.0");
	g_assert_cmpstr(libs->pdata[2], ==, "/lib64/ld-linux-x86-64.so.2");
	g_autoptr(GError) e2 = NULL;
	g_assert_null(emuhost_ldd_parse("w", "\tlibvncserver.so.1 => not found\n", &e2));
	g_assert_nonnull(strstr(e2->message, "libvncserver.so.1"));
	/* And the real ldd on a real program. */
	g_autoptr(GError) e3 = NULL;
	g_autoptr(GPtrArray) real = emuhost_ldd("/bin/sh", &e3);
	g_assert_no_error(e3);
	bool libc = false;
	for (guint i = 0; i < real->len; i++)
		libc |= g_str_has_suffix(real->pdata[i], "/libc.so.6");
	g_assert_true(libc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-image/modinfo", test_modinfo);
	g_test_add_func("/emuhost-image/closure", test_closure);
	g_test_add_func("/emuhost-image/pkgs", test_pkgs);
	g_test_add_func("/emuhost-image/pkgs-cached", test_pkgs_cached);
	g_test_add_func("/emuhost-image/ldd", test_ldd);
	return g_test_run();
}
