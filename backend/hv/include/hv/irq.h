/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An interrupt line as a device model sees it: it only drives a level.
 * The partition connects it to KVM_IRQ_LINE; unit tests connect it to a probe.
 */
#pragma once

#include <stdbool.h>

struct irq_line {
	void (*set_level)(void *opaque, unsigned gsi, bool level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *irq, bool level)
{
	if (irq && irq->set_level)
		irq->set_level(irq->opaque, irq->gsi, level);
}
