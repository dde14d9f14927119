/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A saved VM's state file: one GVariant of type SAVED_STATE_FILE_TYPE, a
 * magic string, a format version and a dictionary of components (the
 * partition, the Hyper-V interface, the VMBus server, each device). Every
 * component serializes itself next to its code (x_save / x_restore) with a
 * fixed GVariant type of its own; guest RAM and VRAM go to files of their
 * own (ram_image.h).
 *
 * A state file is hostile input like any other: it is loaded untrusted,
 * refused unless in normal form, and every restore checks each count,
 * index, address and size before it uses it. A refusal says what is wrong
 * (SAVED_STATE_ERROR, "component: what"); the caller names the file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define SAVED_STATE_MAGIC        "vireo-saved-state"
/* Bump when a component's type or meaning changes: older files are refused. */
#define SAVED_STATE_VERSION      1u
/* (magic, version, {component: state}) */
#define SAVED_STATE_FILE_TYPE    "(sua{sv})"
/* Largest state file read (RAM and VRAM are not in it). */
#define SAVED_STATE_FILE_MAX     (256u << 20)
/* Components in one file. */
#define SAVED_STATE_COMPONENTS_MAX 64u

#define SAVED_STATE_ERROR (saved_state_error_quark())
GQuark saved_state_error_quark(void);

/* Set a SAVED_STATE_ERROR (printf-style) and return -EINVAL. */
int saved_state_fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* 0 when v has GVariant type `type`, else -EINVAL with "what: ..." set. */
int saved_state_check_type(GVariant *v, const char *type, const char *what, GError **error);

/* Bytes as "ay" (a floating reference). */
GVariant *saved_state_blob(const void *data, size_t len);
/* An "ay" of exactly len bytes into out: 0, or -EINVAL ("what: N bytes, not M"). */
int saved_state_blob_get(GVariant *ay, void *out, size_t len, const char *what, GError **error);
/* The bytes of an "ay" (no copy, valid while ay lives). */
const uint8_t *saved_state_blob_peek(GVariant *ay, size_t *len);

/* The file's variant for these components (an a{sv}), floating. */
GVariant *saved_state_file_new(GVariant *components);
/*
 * Check a file's bytes: the type, normal form, magic, version, at most
 * SAVED_STATE_COMPONENTS_MAX components with distinct names. 0 and
 * *components (the a{sv}, a new reference), or -EINVAL with error set.
 */
int saved_state_file_parse(GBytes *data, GVariant **components, GError **error);
/* Component `name` of a parsed file, of type `type`: a new reference, or
 * NULL with error set when it is missing or of another type. */
GVariant *saved_state_lookup(GVariant *components, const char *name, const char *type, GError **error);
