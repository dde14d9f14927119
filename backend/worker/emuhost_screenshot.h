/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "screenshot PATH" answered by vireo-emuhost on this host: which control
 * lines are one, and the reply once the picture (emuhost_shot) is in,
 * worded as the worker words its own (vmbus_devices.c), the PNG written
 * with the worker's writer (screenshot.c).
 */
#pragma once

#include "emuhost_shot.h"

/* From the request to the complete picture: vireod waits 10 s for a
 * reply, a direct client may wait longer for a large surface through TCG. */
#define EMUHOST_SCREENSHOT_TIMEOUT_MS 30000

/* line (blanks at its end stripped) is a screenshot command: its PATH, ""
 * when it has none; else NULL. As the worker reads it: the verb, one
 * space, the rest. */
const char *emuhost_screenshot_path(const char *line);

/*
 * The reply to "screenshot path" (malloc'd, without newline): for a
 * picture that is DONE the PNG is written first. why: for a shot still
 * WAITING, how it ended (-ETIMEDOUT, or -ECONNRESET when its channel
 * closed).
 */
char *emuhost_screenshot_reply(const struct emuhost_shot *s, int why, const char *path);
