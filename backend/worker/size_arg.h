/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A size on a command line, as vireo-worker's --memory and vireo-emuhost
 * (which passes the same option on) take it: "512M", "2G", "4096KiB",
 * "1TB", or a plain number of MiB (as QEMU's -m).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* true and *out in bytes; false (and *out untouched) when s is not a size
 * or does not fit in 64 bits. */
bool size_arg_parse(const char *s, uint64_t *out);
