/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the tests of vireod share (test-vireod.c, test-emuhost.c): their
 * environment, one vireod on the test's private bus, proxies of its
 * objects, waiting for a property, and the numbers in a worker's reply.
 */
#pragma once

#include <gio/gio.h>

#include "vireo-dbus.h"

#define TESTLIB_BUS_NAME "org.vireo.Vireo1"
#define TESTLIB_PATH     "/org/vireo/Vireo1"

/* $name, which meson.build sets: the test stops when it is not. */
const char *testlib_env(const char *name);

/* $VIREOD, running once it owns its bus name; stopped with SIGTERM, which
 * it must answer with exit status 0. */
void testlib_vireod_start(void);
void testlib_vireod_stop(void);

VireoManager *testlib_manager(void);
/* A VM's proxy whose calls wait up to timeout_ms (a start waits for the guest). */
VireoMachine *testlib_machine(const char *path, int timeout_ms);

/* Where vireod keeps the worker's log (stderr) of the VM. */
char *testlib_worker_log_path(VireoMachine *vm);
/* What the VM's worker (or vireo-emuhost) wrote, its last 16 KiB, as test
 * messages: a failure is explained by it. */
void testlib_show_worker_log(VireoMachine *vm);

/* Until the string property is value (PropertiesChanged): the test fails
 * after timeout_s, showing the worker's log. */
void testlib_wait_property(VireoMachine *vm, const char *property, const char *value, unsigned timeout_s);

/* The number after " key=" in a worker's reply: the test fails without one. */
guint64 testlib_reply_number(const char *reply, const char *key);
