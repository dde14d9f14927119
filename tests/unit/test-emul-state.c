// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Saved state of the emulated devices: the UART, the RTC/CMOS, the i8042
 * and ACPI PM. Each is put in a state through its ports as a guest would,
 * saved, restored into a new device, and read back through the ports:
 * what the guest sees is the same (the interrupt line too), and the new
 * one saves to the same value. Malformed states are refused with their
 * reason and change nothing.
 */
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"
#include "hv/saved_state.h"
#include "state-util.h"

struct rig {
	struct iobus *bus;
	struct irq_line irq;
	bool level;
	unsigned level_calls;
	int64_t now_ns;
	unsigned wakeups, resets;
	struct uart8250 *uart;
	struct cmos_rtc *rtc;
	struct i8042 *kbc;
	struct acpi_pm *pm;
	GString *tx;
};

static void rig_level(void *opaque, unsigned gsi, bool level)
{
	struct rig *r = opaque;
	r->level = level;
	r->level_calls++;
}

static int64_t rig_wall(void *opaque)
{
	return ((struct rig *)opaque)->now_ns;
}

static uint64_t rig_mono(void *opaque)
{
	return (uint64_t)((struct rig *)opaque)->now_ns;
}

static void rig_wakeup(void *opaque)
{
	((struct rig *)opaque)->wakeups++;
}

static void rig_reset(void *opaque)
{
	((struct rig *)opaque)->resets++;
}

static void rig_tx(void *opaque, const uint8_t *buf, size_t len)
{
	g_string_append_len(((struct rig *)opaque)->tx, (const char *)buf, (gssize)len);
}

static const struct chardev_sink rig_sink_tmpl = { .write = rig_tx };

static void rig_init(struct rig *r, int64_t now, struct chardev_sink *sink)
{
	memset(r, 0, sizeof(*r));
	r->now_ns = now;
	r->tx = g_string_new(NULL);
	*sink = rig_sink_tmpl;
	sink->opaque = r;
	r->bus = iobus_new("pio");
	r->irq = (struct irq_line){ rig_level, r, 4 };
	r->uart = uart8250_new(&r->irq, sink);
	r->rtc = cmos_rtc_new(&r->irq, rig_wall, r);
	cmos_rtc_set_wakeup(r->rtc, rig_wakeup, r);
	r->kbc = i8042_new(rig_reset, r);
	r->pm = acpi_pm_new(&r->irq, NULL, NULL, rig_mono, r);
	g_assert_cmpint(iobus_register(r->bus, PORT_COM1, PORT_COM1_LEN, &uart8250_ops, r->uart), ==, 0);
	g_assert_cmpint(iobus_register(r->bus, PORT_RTC, PORT_RTC_LEN, &cmos_rtc_ops, r->rtc), ==, 0);
	g_assert_cmpint(iobus_register(r->bus, PORT_I8042_DATA, 1, &i8042_data_ops, r->kbc), ==, 0);
	g_assert_cmpint(iobus_register(r->bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, r->kbc), ==, 0);
	g_assert_cmpint(iobus_register(r->bus, PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN, &acpi_pm_ops, r->pm), ==, 0);
}

static void rig_fini(struct rig *r)
{
	uart8250_free(r->uart);
	cmos_rtc_free(r->rtc);
	i8042_free(r->kbc);
	acpi_pm_free(r->pm);
	iobus_free(r->bus);
	g_string_free(r->tx, TRUE);
}

static uint64_t in(struct rig *r, uint16_t port, uint32_t len)
{
	uint8_t d[8] = { 0 };
	iobus_access(r->bus, port, d, len, false);
	return iobus_get_le(d, len);
}

static void out(struct rig *r, uint16_t port, uint32_t len, uint64_t v)
{
	uint8_t d[8];
	iobus_put_le(d, len, v);
	iobus_access(r->bus, port, d, len, true);
}

/* ---- UART ---- */

static void test_uart(void)
{
	struct rig a, b;
	struct chardev_sink sa, sb;
	rig_init(&a, 0, &sa);
	out(&a, PORT_COM1 + 3, 1, 0x83);           /* DLAB, 8 bits */
	out(&a, PORT_COM1 + 0, 1, 0x0c);           /* 9600 baud */
	out(&a, PORT_COM1 + 1, 1, 0x00);
	out(&a, PORT_COM1 + 3, 1, 0x03);
	out(&a, PORT_COM1 + 2, 1, 0xc7);           /* FIFOs on, trigger 14 */
	out(&a, PORT_COM1 + 4, 1, 0x0b);           /* DTR RTS OUT2 */
	out(&a, PORT_COM1 + 7, 1, 0x5a);
	out(&a, PORT_COM1 + 1, 1, 0x01);           /* receive interrupt */
	g_assert_cmpuint(uart8250_receive(a.uart, (const uint8_t *)"hello", 5), ==, 5);
	g_assert_true(a.level);
	g_assert_cmpuint(in(&a, PORT_COM1, 1), ==, 'h');
	g_autoptr(GVariant) v = g_variant_ref_sink(uart8250_save(a.uart));

	rig_init(&b, 0, &sb);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(uart8250_restore(b.uart, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_true(b.level);                    /* the line follows the restored registers */
	g_autoptr(GVariant) again = g_variant_ref_sink(uart8250_save(b.uart));
	g_assert_true(g_variant_equal(v, again));
	g_assert_cmpuint(in(&b, PORT_COM1 + 7, 1), ==, 0x5a);
	g_assert_cmpuint(in(&b, PORT_COM1 + 4, 1), ==, 0x0b);
	g_assert_cmpuint(in(&b, PORT_COM1 + 2, 1), ==, 0xc0 | 0x0c);   /* FIFOs, timeout: 4 bytes < 14 */
	out(&b, PORT_COM1 + 3, 1, 0x83);
	g_assert_cmpuint(in(&b, PORT_COM1 + 0, 1), ==, 0x0c);
	out(&b, PORT_COM1 + 3, 1, 0x03);
	char rest[5] = { 0 };
	for (int i = 0; i < 4; i++)
		rest[i] = (char)in(&b, PORT_COM1, 1);
	g_assert_cmpstr(rest, ==, "ello");
	g_assert_false(b.level);
	out(&b, PORT_COM1, 1, '!');
	g_assert_cmpstr(b.tx->str, ==, "!");

	struct {
		gsize child;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ 0, saved_state_blob("0123456789abcdefg", 17), "17 bytes in a receive FIFO of 16" },
		{ 2, g_variant_new_byte(0xf0), "IER" },
		{ 4, g_variant_new_byte(0x20), "MCR" },
		{ 8, g_variant_new_byte(0x20), "LSR" },
		{ 11, g_variant_new_byte(3), "trigger level 3" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_with(v, bad[i].child, bad[i].value));
		int r = uart8250_restore(b.uart, m, &e);
		assert_refused(r, e, bad[i].needle);
	}
	/* Without FIFOs only one byte waits, at trigger level 1. */
	g_autoptr(GVariant) nofifo = g_variant_ref_sink(state_with(v, 10, g_variant_new_boolean(FALSE)));
	int r = uart8250_restore(b.uart, nofifo, &e);
	assert_refused(r, e, "receive FIFO of 1");
	g_autoptr(GVariant) wrong = g_variant_ref_sink(g_variant_new("(y)", 1));
	r = uart8250_restore(b.uart, wrong, &e);
	assert_refused(r, e, "uart: of type (y)");
	g_assert_cmpuint(in(&b, PORT_COM1 + 7, 1), ==, 0x5a);
	rig_fini(&a);
	rig_fini(&b);
}

/* ---- RTC ---- */

#define NS INT64_C(1000000000)

static uint8_t cmos(struct rig *r, uint8_t reg)
{
	out(r, PORT_RTC, 1, reg);
	return (uint8_t)in(r, PORT_RTC + 1, 1);
}

static void cmos_set(struct rig *r, uint8_t reg, uint8_t v)
{
	out(r, PORT_RTC, 1, reg);
	out(r, PORT_RTC + 1, 1, v);
}

static void test_rtc(void)
{
	struct rig a, b;
	struct chardev_sink sa, sb;
	int64_t t0 = INT64_C(1700000000) * NS;     /* 2023-11-14 22:13:20 UTC */
	rig_init(&a, t0, &sa);
	/* The guest sets the clock an hour ahead, binary mode, update interrupts on. */
	cmos_set(&a, 0x0b, 0x80 | 0x04 | 0x02);
	cmos_set(&a, 0x04, 23);
	cmos_set(&a, 0x0b, 0x04 | 0x02 | 0x10);
	cmos_set(&a, 0x40, 0x77);                  /* a CMOS RAM byte */
	out(&a, PORT_RTC, 1, 0x0a);                /* the index the guest left */
	g_autoptr(GVariant) v = g_variant_ref_sink(cmos_rtc_save(a.rtc));
	/* Later: the RTC follows the host's clock, keeping the guest's offset. */
	rig_init(&b, t0 + 10 * NS, &sb);
	g_autoptr(GError) e = NULL;
	unsigned wakeups = b.wakeups;
	g_assert_cmpint(cmos_rtc_restore(b.rtc, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_cmpuint(b.wakeups, ==, wakeups + 1);
	g_autoptr(GVariant) again = g_variant_ref_sink(cmos_rtc_save(b.rtc));
	g_assert_true(g_variant_equal(v, again));
	g_assert_cmpuint(in(&b, PORT_RTC, 1), ==, 0x0a);
	g_assert_cmpuint(cmos(&b, 0x40), ==, 0x77);
	g_assert_cmpuint(cmos(&b, 0x0b), ==, 0x04 | 0x02 | 0x10);
	g_assert_cmpuint(cmos(&b, 0x04), ==, 23);
	g_assert_cmpuint(cmos(&b, 0x02), ==, 13);    /* binary minutes */
	g_assert_cmpuint(cmos(&b, 0x00), ==, 30);    /* 20 s + 10 s later */
	/* Update interrupts went on meanwhile: UF, and IRQF as UIE is on. */
	g_assert_cmpuint(cmos(&b, 0x0c) & 0x90, ==, 0x90);
	g_assert_true(cmos_rtc_poll(b.rtc) >= 0);

	struct {
		gsize child;
		GVariant *value;
		const char *needle;
	} bad[] = {
		{ 0, g_variant_new_byte(0x80), "index 0x80" },
		{ 1, saved_state_blob("x", 1), "CMOS RAM: 1 bytes" },
		{ 3, g_variant_new_int64(NS), "out of range" },
		{ 2, g_variant_new_int64(INT64_MAX), "out of range" },
		{ 4, g_variant_new_int64(-1), "held time" },
		{ 5, g_variant_new_int32(256), "held time" },
		{ 12, g_variant_new_byte(0x81), "flags 0x81" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GVariant) m = g_variant_ref_sink(state_with(v, bad[i].child, bad[i].value));
		int r = cmos_rtc_restore(b.rtc, m, &e);
		assert_refused(r, e, bad[i].needle);
	}
	rig_fini(&a);
	rig_fini(&b);
}

/* ---- i8042 ---- */

static void test_i8042(void)
{
	struct rig a, b;
	struct chardev_sink sa, sb;
	rig_init(&a, 0, &sa);
	out(&a, PORT_I8042_CMD, 1, 0x60);           /* write the command byte... */
	out(&a, PORT_I8042_DATA, 1, 0x47);          /* ...now */
	out(&a, PORT_I8042_CMD, 1, 0xaa);           /* self test: 0x55 waits */
	out(&a, PORT_I8042_CMD, 1, 0xd1);           /* write output port: its byte is pending */
	g_autoptr(GVariant) v = g_variant_ref_sink(i8042_save(a.kbc));
	rig_init(&b, 0, &sb);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(i8042_restore(b.kbc, v, &e), ==, 0);
	g_assert_no_error(e);
	g_autoptr(GVariant) again = g_variant_ref_sink(i8042_save(b.kbc));
	g_assert_true(g_variant_equal(v, again));
	g_assert_cmpuint(in(&b, PORT_I8042_CMD, 1) & 0x09, ==, 0x09);   /* a byte waits; last write was a command */
	g_assert_cmpuint(in(&b, PORT_I8042_DATA, 1), ==, 0x55);
	/* The pending 0xd1 takes this byte: reset line low, the machine resets. */
	out(&b, PORT_I8042_DATA, 1, 0x00);
	g_assert_cmpuint(b.resets, ==, 1);
	out(&b, PORT_I8042_CMD, 1, 0x20);
	g_assert_cmpuint(in(&b, PORT_I8042_DATA, 1), ==, 0x47);

	g_autoptr(GVariant) m1 = g_variant_ref_sink(state_with(v, 6, g_variant_new_byte(0xaa)));
	int r = i8042_restore(b.kbc, m1, &e);
	assert_refused(r, e, "command 0xaa cannot be waiting");
	g_autoptr(GVariant) m2 = g_variant_ref_sink(state_with(v, 0, saved_state_blob("abc", 3)));
	r = i8042_restore(b.kbc, m2, &e);
	assert_refused(r, e, "controller RAM: 3 bytes");
	rig_fini(&a);
	rig_fini(&b);
}

/* ---- ACPI PM ---- */

static void test_acpi_pm(void)
{
	struct rig a, b;
	struct chardev_sink sa, sb;
	rig_init(&a, 0, &sa);
	out(&a, PORT_ACPI_PM1A_EVT + 2, 2, 0x0100);   /* power button enabled */
	out(&a, PORT_ACPI_GPE0 + 2, 2, 0x0004);
	acpi_pm_power_button(a.pm);
	g_assert_true(a.level);
	a.now_ns = 10 * NS;                           /* the PM timer has run 10 s */
	uint32_t ticks = (uint32_t)in(&a, PORT_ACPI_PM_TMR, 4);
	g_autoptr(GVariant) v = g_variant_ref_sink(acpi_pm_save(a.pm));
	rig_init(&b, 99999 * NS, &sb);
	g_autoptr(GError) e = NULL;
	g_assert_cmpint(acpi_pm_restore(b.pm, v, &e), ==, 0);
	g_assert_no_error(e);
	g_assert_true(b.level);
	/* The timer goes on from the saved count, not from the new host clock. */
	uint32_t now = (uint32_t)in(&b, PORT_ACPI_PM_TMR, 4);
	g_assert_cmpint((int32_t)(now - ticks), >=, -1);
	g_assert_cmpint((int32_t)(now - ticks), <=, 1);
	g_assert_cmpuint(in(&b, PORT_ACPI_PM1A_EVT, 2) & 0x0100, ==, 0x0100);
	g_assert_cmpuint(in(&b, PORT_ACPI_GPE0 + 2, 2), ==, 0x0004);
	out(&b, PORT_ACPI_PM1A_EVT, 2, 0x0100);       /* the guest acknowledges */
	g_assert_false(b.level);

	g_autoptr(GVariant) m1 = g_variant_ref_sink(state_with(v, 1, g_variant_new_uint16(0x8000)));
	int r = acpi_pm_restore(b.pm, m1, &e);
	assert_refused(r, e, "PM1 enable 0x8000");
	g_autoptr(GVariant) m2 = g_variant_ref_sink(state_with(v, 2, g_variant_new_uint16(0x2001)));
	r = acpi_pm_restore(b.pm, m2, &e);
	assert_refused(r, e, "control 0x2001");
	rig_fini(&a);
	rig_fini(&b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emul-state/uart", test_uart);
	g_test_add_func("/emul-state/rtc", test_rtc);
	g_test_add_func("/emul-state/i8042", test_i8042);
	g_test_add_func("/emul-state/acpi-pm", test_acpi_pm);
	return g_test_run();
}
