// SPDX-License-Identifier: GPL-2.0-or-later
#include <glib.h>
#include <glib/gstdio.h>

#include "hv/hostcheck.h"

static void test_classes(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("vireo-hostcheck-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *sys = g_build_filename(root, "sys", NULL);
	g_autofree char *pvm = g_build_filename(sys, "module", "kvm_pvm", NULL);
	g_autofree char *missing = g_build_filename(root, "no-such-kvm", NULL);
	g_autofree char *fake = g_build_filename(root, "fake-kvm", NULL);
	g_assert_true(g_file_set_contents(fake, "", 0, NULL));
	g_assert_cmpint(g_mkdir_with_parents(sys, 0700), ==, 0);

	struct host_kvm_info info;
	hostcheck_classify(sys, missing, &info);
	g_assert_cmpint(info.cls, ==, HOST_KVM_ABSENT);
	g_assert_nonnull(strstr(info.reason, missing));

	/* A file that opens but is not KVM: the API check refuses it. */
	hostcheck_classify(sys, fake, &info);
	g_assert_cmpint(info.cls, ==, HOST_KVM_UNUSABLE);

	g_assert_cmpint(g_mkdir_with_parents(pvm, 0700), ==, 0);
	hostcheck_classify(sys, fake, &info);
	g_assert_cmpint(info.cls, ==, HOST_KVM_PVM);
	g_assert_nonnull(strstr(info.reason, "PVM"));
	g_assert_cmpstr(hostcheck_class_name(info.cls), ==, "pvm");

	g_rmdir(pvm);
	g_autofree char *mod = g_build_filename(sys, "module", NULL);
	g_rmdir(mod);
	g_rmdir(sys);
	g_unlink(fake);
	g_rmdir(root);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hostcheck/classes", test_classes);
	return g_test_run();
}
