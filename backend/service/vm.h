/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One VM in vireod: its configuration, its lifecycle state, its D-Bus
 * object (org.vireo.Vireo1.Machine), and the worker process that runs it
 * while it is not Off. Every request is checked against vm_state_allows
 * first; a refused one changes nothing.
 */
#pragma once

#include "service.h"
#include "vm_state.h"

/* A VM of the inventory (cfg is copied); exported on the service's bus. */
struct vm *vm_new(struct service *s, const struct vm_config *cfg);
/* Unexport and free; the worker, if any, keeps running (vireod may come back). */
void vm_free(struct vm *vm);

const struct vm_config *vm_get_config(const struct vm *vm);
const char *vm_get_object_path(const struct vm *vm);
enum vm_state vm_get_state(const struct vm *vm);

/* After vireod restarted: find a worker still running this VM, take it
 * over, and tell the truth about what became of it otherwise. */
void vm_reattach(struct vm *vm);

/* The D-Bus object path for a VM id. */
char *vm_object_path_for(const char *id);
