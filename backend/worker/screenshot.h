/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Headless screenshots: the display's current picture as a PNG file. A
 * screenshot is a display sink like the console and VNC (it follows the
 * surface the sinks see), so it lives on the display's consumer context.
 */
#pragma once

#include <stdint.h>

#include "vsp/display.h"

struct screenshot;

/* Consumer context of d. */
struct screenshot *screenshot_new(struct display *d);
void screenshot_free(struct screenshot *s);

/*
 * Write the current picture to path as an 8-bit RGB PNG, atomically (a
 * temporary file beside it, then rename). 0 and *width, *height; -ENODATA
 * when there is no picture (no video driver yet, or the machine is gone);
 * -EINVAL for an empty path; -errno of the file operations; -EIO when
 * libpng fails.
 */
int screenshot_save(struct screenshot *s, const char *path, uint32_t *width, uint32_t *height);

/* The same for any surface (pixels mapped, XRGB8888). */
int screenshot_write_png(const struct display_surface *surf, const char *path);
