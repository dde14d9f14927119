// SPDX-License-Identifier: GPL-2.0-or-later
/* vireo: the manager's program. */
#include "vireo-app-config.h"

#include "vireo-application.h"

int main(int argc, char **argv)
{
	vireo_application_init_i18n();
	g_autoptr(VireoApplication) app = vireo_application_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
