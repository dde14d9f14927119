// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "emuhost_screenshot.h"
#include "screenshot.h"

#define SCREENSHOT_VERB "screenshot"

const char *emuhost_screenshot_path(const char *line)
{
	/* The worker strips leading blanks too (control.c). */
	while (*line == ' ' || *line == '\t')
		line++;
	size_t n = strlen(SCREENSHOT_VERB);
	if (strncmp(line, SCREENSHOT_VERB, n) != 0)
		return NULL;
	if (line[n] == 0)
		return line + n;
	return line[n] == ' ' ? line + n + 1 : NULL;
}

static char *screenshot_failed(const struct emuhost_shot *s, int why)
{
	switch (s->state == EMUHOST_SHOT_WAITING ? why : s->error) {
	case -ETIMEDOUT:
		return g_strdup_printf("error no complete picture came out of the emulated host within %d s",
				       EMUHOST_SCREENSHOT_TIMEOUT_MS / 1000);
	case -EFBIG:
		return g_strdup_printf("error the emulated host sent a picture larger than %u bytes",
				       EMUHOST_SHOT_SURFACE_MAX);
	case -EPROTONOSUPPORT:
		return g_strdup("error the worker inside the emulated host speaks another console protocol");
	case -ECONNREFUSED:
		return g_strdup("error the worker inside the emulated host refused a console connection (busy?)");
	case -ENOMEM:
		return g_strdup("error out of memory for the picture");
	case -EPROTO:
		return g_strdup("error the emulated host broke the console protocol");
	default:
		return g_strdup("error the emulated host's console closed before the picture was complete");
	}
}

char *emuhost_screenshot_reply(const struct emuhost_shot *s, int why, const char *path)
{
	if (!path || !*path)
		return g_strdup("error usage: screenshot PATH");
	if (s->state == EMUHOST_SHOT_NO_PICTURE)
		return g_strdup("error no picture yet: the guest's video driver has not set a mode");
	if (s->state != EMUHOST_SHOT_DONE)
		return screenshot_failed(s, why);
	struct display_surface surf = {
		.memfd = -1,
		.width = s->width,
		.height = s->height,
		.stride = s->width * 4u,
		.format = DISPLAY_FORMAT_XRGB8888,
		.pixels = s->pixels,
	};
	int r = screenshot_write_png(&surf, path);
	if (r < 0)
		return g_strdup_printf("error writing %s: %s", path, g_strerror(-r));
	return g_strdup_printf("ok %ux%u %s", s->width, s->height, path);
}
