// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the legacy devices: one UART, RTC, i8042 and ACPI PM
 * block on a port bus, driven by a byte string read as a list of steps:
 *
 *   op & 7 = 0..4   port access on uart / rtc / i8042 data / i8042 cmd / acpi pm
 *                   op bits 3-4: width 1, 2, 4, 8; bit 5: write; bit 6: call the
 *                   device directly with a raw offset (bit 7: near UINT64_MAX),
 *                   bypassing the bus's range checks
 *                   then: offset byte, and for writes `width` value bytes
 *   op & 7 = 5      host → UART bytes: count byte, then the bytes
 *   op & 7 = 6      host event: selector byte (power button, PM reset, GPE,
 *                   RTC poll, memory size) and its argument bytes
 *   op & 7 = 7      clocks move: four bytes of delta; op bit 7 steps the
 *                   wall clock back instead
 *
 * After every step the invariants a guest could observe are checked.
 */
#include <stdlib.h>
#include <string.h>

#include "emul/emul.h"
#include "hv/layout.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_GSI       16
#define FUZZ_MAX_RX        24
#define FUZZ_MAX_STEPS     4096

static uint8_t fuzz_byte(struct fuzz_input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_byte(in) << (8 * i);
	return v;
}

struct fuzz_rig {
	struct iobus *bus;
	struct uart8250 *uart;
	struct cmos_rtc *rtc;
	struct i8042 *kbc;
	struct acpi_pm *pm;
	struct irq_line irq_com1, irq_rtc, irq_sci;
	struct chardev_sink sink;
	bool level[FUZZ_MAX_GSI];
	size_t sink_bytes;
	int64_t wall_ns;
	uint64_t mono_ns;
	unsigned resets, poweroffs;
};

static void fuzz_set_level(void *opaque, unsigned gsi, bool level)
{
	struct fuzz_rig *r = opaque;
	if (gsi >= FUZZ_MAX_GSI)
		abort();
	r->level[gsi] = level;
}

static void fuzz_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct fuzz_rig *r = opaque;
	r->sink_bytes += len;
}

static int64_t fuzz_wall(void *opaque)
{
	struct fuzz_rig *r = opaque;
	return r->wall_ns;
}

static uint64_t fuzz_mono(void *opaque)
{
	struct fuzz_rig *r = opaque;
	return r->mono_ns;
}

static void fuzz_reset(void *opaque)
{
	struct fuzz_rig *r = opaque;
	r->resets++;
}

static void fuzz_pm_event(void *opaque, enum acpi_pm_event ev)
{
	struct fuzz_rig *r = opaque;
	if (ev == ACPI_PM_POWEROFF)
		r->poweroffs++;
	else if (ev == ACPI_PM_RESET)
		r->resets++;
	else
		abort();
}

struct fuzz_port {
	uint64_t base, len;
	const struct iobus_ops *ops;
};

static void fuzz_rig_init(struct fuzz_rig *r)
{
	memset(r, 0, sizeof(*r));
	/* 2024-01-01 00:00:00 UTC */
	r->wall_ns = INT64_C(1704067200) * 1000000000;
	r->mono_ns = 1000;
	r->bus = iobus_new("fuzz");
	r->irq_com1 = (struct irq_line){ fuzz_set_level, r, IRQ_COM1 };
	r->irq_rtc = (struct irq_line){ fuzz_set_level, r, IRQ_RTC };
	r->irq_sci = (struct irq_line){ fuzz_set_level, r, IRQ_ACPI_SCI };
	r->sink = (struct chardev_sink){ fuzz_sink, r };
	r->uart = uart8250_new(&r->irq_com1, &r->sink);
	r->rtc = cmos_rtc_new(&r->irq_rtc, fuzz_wall, r);
	r->kbc = i8042_new(fuzz_reset, r);
	r->pm = acpi_pm_new(&r->irq_sci, fuzz_pm_event, r, fuzz_mono, r);
	if (iobus_register(r->bus, PORT_COM1, PORT_COM1_LEN, &uart8250_ops, r->uart) < 0 ||
	    iobus_register(r->bus, PORT_RTC, PORT_RTC_LEN, &cmos_rtc_ops, r->rtc) < 0 ||
	    iobus_register(r->bus, PORT_I8042_DATA, 1, &i8042_data_ops, r->kbc) < 0 ||
	    iobus_register(r->bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, r->kbc) < 0 ||
	    iobus_register(r->bus, PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN, &acpi_pm_ops, r->pm) < 0)
		abort();
}

static void fuzz_rig_fini(struct fuzz_rig *r)
{
	uart8250_free(r->uart);
	cmos_rtc_free(r->rtc);
	i8042_free(r->kbc);
	acpi_pm_free(r->pm);
	iobus_free(r->bus);
}

static void *fuzz_port_opaque(struct fuzz_rig *r, unsigned dev)
{
	switch (dev) {
	case 0:
		return r->uart;
	case 1:
		return r->rtc;
	case 2:
	case 3:
		return r->kbc;
	default:
		return r->pm;
	}
}

static void fuzz_access(struct fuzz_rig *r, uint8_t op, struct fuzz_input *in)
{
	static const struct fuzz_port ports[5] = {
		{ PORT_COM1, PORT_COM1_LEN, &uart8250_ops },
		{ PORT_RTC, PORT_RTC_LEN, &cmos_rtc_ops },
		{ PORT_I8042_DATA, 1, &i8042_data_ops },
		{ PORT_I8042_CMD, 1, &i8042_cmd_ops },
		{ PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN, &acpi_pm_ops },
	};
	static const uint32_t widths[4] = { 1, 2, 4, 8 };
	unsigned dev = op & 7;
	const struct fuzz_port *port = &ports[dev];
	uint32_t len = widths[(op >> 3) & 3];
	bool is_write = op & 0x20;
	bool direct = op & 0x40;
	uint8_t off = fuzz_byte(in);
	uint8_t buf[8];
	memset(buf, 0xA5, sizeof(buf));
	if (is_write)
		for (uint32_t i = 0; i < len; i++)
			buf[i] = fuzz_byte(in);

	if (direct) {
		uint64_t offset = (op & 0x80) ? UINT64_MAX - off : off;
		void *opaque = fuzz_port_opaque(r, dev);
		if (is_write)
			port->ops->write(opaque, offset, buf, len);
		else
			port->ops->read(opaque, offset, buf, len);
	} else {
		/* A few ports past the range, to exercise the bus refusing them. */
		uint64_t addr = port->base + off % (port->len + 2);
		iobus_access(r->bus, addr, buf, len, is_write);
	}
}

static void fuzz_event(struct fuzz_rig *r, struct fuzz_input *in)
{
	switch (fuzz_byte(in) % 5) {
	case 0:
		acpi_pm_power_button(r->pm);
		break;
	case 1:
		acpi_pm_reset(r->pm);
		break;
	case 2:
		acpi_pm_raise_gpe(r->pm, fuzz_byte(in) % (ACPI_PM_GPE0_BITS + 4));
		break;
	case 3: {
		int64_t delay = cmos_rtc_poll(r->rtc);
		if (delay < -1 || delay > INT64_C(1000000000))
			abort();
		break;
	}
	default: {
		uint64_t low = (uint64_t)fuzz_u32(in) << 8;
		uint64_t high = (uint64_t)fuzz_u32(in) << 16;
		cmos_rtc_set_memory_size(r->rtc, low, high);
		break;
	}
	}
}

static void fuzz_clock(struct fuzz_rig *r, uint8_t op, struct fuzz_input *in)
{
	uint32_t v = fuzz_u32(in);
	/* Scale by the op's middle bits: from nanoseconds up to days per step. */
	uint64_t delta = (uint64_t)v << (((op >> 3) & 0xF) * 3);
	if (delta > UINT64_C(1) << 52)
		delta = UINT64_C(1) << 52;
	/* The wall clock saturates at the ends of its range, which the RTC must survive too. */
	int64_t d = op & 0x80 ? -(int64_t)delta : (int64_t)delta;
	if (__builtin_add_overflow(r->wall_ns, d, &r->wall_ns))
		r->wall_ns = d < 0 ? INT64_MIN : INT64_MAX;
	r->mono_ns += delta;   /* wraps, as a 64-bit counter would */
}

/* What must hold whatever the guest did: checked with side-effect-free reads only. */
static void fuzz_check(struct fuzz_rig *r)
{
	uint8_t b[8];
	if (uart8250_rx_room(r->uart) > 16)
		abort();

	i8042_cmd_ops.read(r->kbc, 0, b, 1);
	if (b[0] & 0x02)   /* the input buffer is never full */
		abort();

	acpi_pm_ops.read(r->pm, 0, b, 4);
	uint16_t sts = (uint16_t)(b[0] | b[1] << 8), en = (uint16_t)(b[2] | b[3] << 8);
	acpi_pm_ops.read(r->pm, 0x10, b, 4);
	uint16_t gsts = (uint16_t)(b[0] | b[1] << 8), gen = (uint16_t)(b[2] | b[3] << 8);
	acpi_pm_ops.read(r->pm, 0x04, b, 2);
	if (!(b[0] & 0x01) || (b[1] & 0x20))   /* SCI_EN always set, SLP_EN never reads back */
		abort();
	bool sci = (sts & en & 0x0521) || (gsts & gen);
	if (sci != r->level[IRQ_ACPI_SCI])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct fuzz_rig r;
	fuzz_rig_init(&r);
	for (unsigned step = 0; in.n > 0 && step < FUZZ_MAX_STEPS; step++) {
		uint8_t op = fuzz_byte(&in);
		switch (op & 7) {
		case 5: {
			uint8_t rx[FUZZ_MAX_RX];
			size_t n = fuzz_byte(&in) % (FUZZ_MAX_RX + 1);
			for (size_t i = 0; i < n; i++)
				rx[i] = fuzz_byte(&in);
			size_t room = uart8250_rx_room(r.uart);
			size_t took = uart8250_receive(r.uart, rx, n);
			if (took > n || took > room)
				abort();
			break;
		}
		case 6:
			fuzz_event(&r, &in);
			break;
		case 7:
			fuzz_clock(&r, op, &in);
			break;
		default:
			fuzz_access(&r, op, &in);
			break;
		}
		fuzz_check(&r);
	}
	fuzz_rig_fini(&r);
	return 0;
}
