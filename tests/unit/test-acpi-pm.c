// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"

#define PM1_STS      (PORT_ACPI_PM1A_EVT + 0)
#define PM1_EN       (PORT_ACPI_PM1A_EVT + 2)
#define GPE0_STS     (PORT_ACPI_GPE0 + 0)
#define GPE0_EN      (PORT_ACPI_GPE0 + 2)
#define PWRBTN       0x0100
#define SLP_EN       0x2000
#define SLP_TYP(t)   ((uint16_t)((t) << 10))
#define PM_TMR_HZ    UINT64_C(3579545)
#define NS_PER_SEC   UINT64_C(1000000000)

struct rig {
	struct iobus *bus;
	struct acpi_pm *pm;
	struct irq_line sci;
	uint64_t now_ns;
	bool level;
	int poweroffs, resets;
};

static void rig_set_level(void *opaque, unsigned gsi, bool level)
{
	struct rig *r = opaque;
	g_assert_cmpuint(gsi, ==, IRQ_ACPI_SCI);
	r->level = level;
}

static void rig_event(void *opaque, enum acpi_pm_event ev)
{
	struct rig *r = opaque;
	if (ev == ACPI_PM_POWEROFF)
		r->poweroffs++;
	else if (ev == ACPI_PM_RESET)
		r->resets++;
	else
		g_assert_not_reached();
}

static uint64_t rig_clock(void *opaque)
{
	struct rig *r = opaque;
	return r->now_ns;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->now_ns = 5 * NS_PER_SEC;
	r->bus = iobus_new("pio");
	r->sci = (struct irq_line){ rig_set_level, r, IRQ_ACPI_SCI };
	r->pm = acpi_pm_new(&r->sci, rig_event, r, rig_clock, r);
	g_assert_cmpint(iobus_register(r->bus, PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN, &acpi_pm_ops, r->pm), ==, 0);
}

static void rig_fini(struct rig *r)
{
	acpi_pm_free(r->pm);
	iobus_free(r->bus);
}

static uint64_t in(struct rig *r, uint16_t port, uint32_t len)
{
	uint8_t d[8];
	memset(d, 0, sizeof(d));
	g_assert_true(iobus_access(r->bus, port, d, len, false));
	return iobus_get_le(d, len);
}

static void out(struct rig *r, uint16_t port, uint32_t len, uint64_t v)
{
	uint8_t d[8];
	iobus_put_le(d, len, v);
	g_assert_true(iobus_access(r->bus, port, d, len, true));
}

static void test_power_button(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, 0);
	/* Pressed while disabled: status only. */
	acpi_pm_power_button(r.pm);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, PWRBTN);
	g_assert_false(r.level);
	/* Enabling raises the SCI for the pending press. */
	out(&r, PM1_EN, 2, PWRBTN);
	g_assert_cmphex(in(&r, PM1_EN, 2), ==, PWRBTN);
	g_assert_true(r.level);
	/* Writing zeros or other bits clears nothing. */
	out(&r, PM1_STS, 2, 0);
	out(&r, PM1_STS, 2, 0x0001);
	g_assert_true(r.level);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, PWRBTN);
	/* Write 1 to clear. */
	out(&r, PM1_STS, 2, PWRBTN);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, 0);
	g_assert_false(r.level);
	/* Pressed while enabled: the SCI rises at once; disabling lowers it. */
	acpi_pm_power_button(r.pm);
	g_assert_true(r.level);
	out(&r, PM1_EN, 2, 0);
	g_assert_false(r.level);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, PWRBTN);
	/* Reserved enable bits do not stick. */
	out(&r, PM1_EN, 2, 0xFFFF);
	g_assert_cmphex(in(&r, PM1_EN, 2), ==, 0x4721);
	acpi_pm_reset(r.pm);
	g_assert_false(r.level);
	g_assert_cmphex(in(&r, PM1_STS, 4), ==, 0);
	rig_fini(&r);
}

static void test_evt_widths(void)
{
	struct rig r;
	rig_init(&r);
	acpi_pm_power_button(r.pm);
	out(&r, PM1_EN, 2, PWRBTN | 0x0020);
	/* One 32-bit read: status low, enable high. Two 16-bit reads agree. */
	g_assert_cmphex(in(&r, PM1_STS, 4), ==, (uint64_t)(PWRBTN | 0x0020) << 16 | PWRBTN);
	g_assert_cmphex(in(&r, PM1_STS, 2), ==, PWRBTN);
	g_assert_cmphex(in(&r, PM1_EN, 2), ==, PWRBTN | 0x0020);
	/* Byte-wise and at odd offsets. */
	g_assert_cmphex(in(&r, PM1_STS + 1, 1), ==, 0x01);
	g_assert_cmphex(in(&r, PM1_STS + 1, 2), ==, 0x2001);
	/* A 32-bit write clears status bits and sets the enable. */
	out(&r, PM1_STS, 4, (uint64_t)0x0100 << 16 | PWRBTN);
	g_assert_cmphex(in(&r, PM1_STS, 4), ==, (uint64_t)0x0100 << 16);
	/* A byte write to the high half of PM1_EN leaves the low half. */
	out(&r, PM1_EN, 1, 0x20);
	out(&r, PM1_EN + 1, 1, 0x00);
	g_assert_cmphex(in(&r, PM1_EN, 2), ==, 0x0020);
	/* SCI_EN reads 1 whatever is written. */
	out(&r, PORT_ACPI_PM1A_CNT, 2, 0);
	g_assert_cmphex(in(&r, PORT_ACPI_PM1A_CNT, 2), ==, 0x0001);
	/* An 8-byte read of the whole PM1 block. */
	g_assert_cmphex(in(&r, PORT_ACPI_PM_BASE, 8), ==, (uint64_t)0x0001 << 32 | (uint64_t)0x0020 << 16);
	rig_fini(&r);
}

static void test_sleep(void)
{
	struct rig r;
	rig_init(&r);
	/* What ACPICA does: SLP_TYP first, then SLP_TYP with SLP_EN. */
	out(&r, PORT_ACPI_PM1A_CNT, 2, SLP_TYP(ACPI_S5_SLP_TYP) | 0x0001);
	g_assert_cmpint(r.poweroffs, ==, 0);
	g_assert_cmphex(in(&r, PORT_ACPI_PM1A_CNT, 2), ==, SLP_TYP(ACPI_S5_SLP_TYP) | 0x0001);
	out(&r, PORT_ACPI_PM1A_CNT, 2, SLP_TYP(ACPI_S5_SLP_TYP) | SLP_EN | 0x0001);
	g_assert_cmpint(r.poweroffs, ==, 1);
	/* SLP_EN is write-only. */
	g_assert_cmphex(in(&r, PORT_ACPI_PM1A_CNT, 2), ==, SLP_TYP(ACPI_S5_SLP_TYP) | 0x0001);
	/* Other sleep states are not offered and do nothing. */
	for (unsigned t = 0; t < 8; t++) {
		if (t == ACPI_S5_SLP_TYP)
			continue;
		out(&r, PORT_ACPI_PM1A_CNT, 2, SLP_TYP(t) | SLP_EN);
	}
	g_assert_cmpint(r.poweroffs, ==, 1);
	g_assert_cmpint(r.resets, ==, 0);
	/* A byte write to the high half is enough. */
	out(&r, PORT_ACPI_PM1A_CNT + 1, 1, (SLP_TYP(ACPI_S5_SLP_TYP) | SLP_EN) >> 8);
	g_assert_cmpint(r.poweroffs, ==, 2);
	/* So is a 32-bit write at the control register. */
	out(&r, PORT_ACPI_PM1A_CNT, 4, SLP_TYP(ACPI_S5_SLP_TYP) | SLP_EN);
	g_assert_cmpint(r.poweroffs, ==, 3);
	rig_fini(&r);
}

static void test_reset_register(void)
{
	struct rig r;
	rig_init(&r);
	for (unsigned v = 0; v < 0x100; v++)
		if (v != ACPI_RESET_VALUE)
			out(&r, PORT_ACPI_RESET, 1, v);
	g_assert_cmpint(r.resets, ==, 0);
	out(&r, PORT_ACPI_RESET, 1, ACPI_RESET_VALUE);
	g_assert_cmpint(r.resets, ==, 1);
	g_assert_cmpint(r.poweroffs, ==, 0);
	g_assert_cmphex(in(&r, PORT_ACPI_RESET, 1), ==, 0);
	/* The value must land on the reset byte itself. */
	out(&r, PORT_ACPI_RESET - 1, 1, ACPI_RESET_VALUE);
	out(&r, PORT_ACPI_RESET + 1, 1, ACPI_RESET_VALUE);
	g_assert_cmpint(r.resets, ==, 1);
	out(&r, PORT_ACPI_RESET, 4, ACPI_RESET_VALUE);
	g_assert_cmpint(r.resets, ==, 2);
	rig_fini(&r);
}

static uint32_t expected_ticks(uint64_t ns)
{
	return (uint32_t)((unsigned __int128)ns * PM_TMR_HZ / NS_PER_SEC);
}

static void test_timer(void)
{
	struct rig r;
	rig_init(&r);
	uint64_t base = r.now_ns;
	g_assert_cmphex(in(&r, PORT_ACPI_PM_TMR, 4), ==, 0);
	r.now_ns = base + NS_PER_SEC;
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, PM_TMR_HZ);
	r.now_ns = base + 279;   /* just under one tick (279.4 ns) */
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, 0);
	r.now_ns = base + 280;
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, 1);
	/* 32 bits wrap after 1199.86 s. */
	r.now_ns = base + 1199 * NS_PER_SEC;
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, UINT64_C(1199) * PM_TMR_HZ);
	r.now_ns = base + 1200 * NS_PER_SEC;
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, UINT64_C(1200) * PM_TMR_HZ - (UINT64_C(1) << 32));
	/* Far along, still exact modulo 2^32. */
	r.now_ns = base + UINT64_C(86400) * 365 * NS_PER_SEC + 123456789;
	uint32_t t = (uint32_t)in(&r, PORT_ACPI_PM_TMR, 4);
	g_assert_cmpuint(t, ==, expected_ticks(r.now_ns - base));
	/* 16-bit halves of the same instant agree with the 32-bit read. */
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 2), ==, t & 0xFFFF);
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR + 2, 2), ==, t >> 16);
	/* Read-only. */
	out(&r, PORT_ACPI_PM_TMR, 4, 0);
	g_assert_cmpuint(in(&r, PORT_ACPI_PM_TMR, 4), ==, t);
	/* TMR_STS never sets: the overflow interrupt is not modelled. */
	out(&r, PM1_EN, 2, 0x0001);
	g_assert_cmphex(in(&r, PM1_STS, 2) & 0x0001, ==, 0);
	g_assert_false(r.level);
	rig_fini(&r);
}

static void test_gpe(void)
{
	struct rig r;
	rig_init(&r);
	acpi_pm_raise_gpe(r.pm, 3);
	g_assert_cmphex(in(&r, GPE0_STS, 2), ==, 0x0008);
	g_assert_false(r.level);
	out(&r, GPE0_EN, 2, 0x0008);
	g_assert_true(r.level);
	g_assert_cmphex(in(&r, PORT_ACPI_GPE0, 4), ==, 0x00080008);
	out(&r, GPE0_STS, 2, 0x0008);
	g_assert_false(r.level);
	acpi_pm_raise_gpe(r.pm, 15);
	out(&r, GPE0_EN + 1, 1, 0x80);
	g_assert_true(r.level);
	out(&r, GPE0_STS + 1, 1, 0x80);
	g_assert_false(r.level);
	acpi_pm_raise_gpe(r.pm, ACPI_PM_GPE0_BITS);
	acpi_pm_raise_gpe(r.pm, 1000);
	g_assert_cmphex(in(&r, GPE0_STS, 2), ==, 0);
	/* A reset clears the enables too. */
	acpi_pm_raise_gpe(r.pm, 3);
	g_assert_true(r.level);
	acpi_pm_reset(r.pm);
	g_assert_false(r.level);
	g_assert_cmphex(in(&r, PORT_ACPI_GPE0, 4), ==, 0);
	rig_fini(&r);
}

static void test_malformed(void)
{
	struct rig r;
	rig_init(&r);
	acpi_pm_power_button(r.pm);
	out(&r, PM1_EN, 2, PWRBTN);
	/* The gaps read as zero and ignore writes. */
	g_assert_cmphex(in(&r, PORT_ACPI_PM_BASE + 0x06, 2), ==, 0);
	g_assert_cmphex(in(&r, PORT_ACPI_PM_BASE + 0x14, 8), ==, 0);
	g_assert_cmphex(in(&r, PORT_ACPI_PM_BASE + 0x18, 8), ==, 0);
	out(&r, PORT_ACPI_PM_BASE + 0x14, 8, UINT64_MAX);
	out(&r, PORT_ACPI_PM_BASE + 0x0D, 2, 0xFFFF);
	g_assert_cmpint(r.resets + r.poweroffs, ==, 0);
	/* Past the end: the bus answers all ones, the device is not reached. */
	uint8_t d[8];
	memset(d, 0, sizeof(d));
	g_assert_false(iobus_access(r.bus, PORT_ACPI_PM_BASE + 0x1C, d, 8, false));
	for (unsigned i = 0; i < 8; i++)
		g_assert_cmphex(d[i], ==, 0xFF);
	memset(d, 0xFF, sizeof(d));
	g_assert_false(iobus_access(r.bus, PORT_ACPI_PM_BASE + 0x1F, d, 2, true));
	g_assert_true(r.level);
	/* Called directly with offsets a bus never passes. */
	memset(d, 0, sizeof(d));
	acpi_pm_ops.read(r.pm, 0x1F, d, 8);
	g_assert_cmphex(d[0], ==, 0);
	for (unsigned i = 1; i < 8; i++)
		g_assert_cmphex(d[i], ==, 0xFF);
	memset(d, 0, sizeof(d));
	acpi_pm_ops.read(r.pm, UINT64_MAX - 2, d, 8);
	for (unsigned i = 0; i < 8; i++)
		g_assert_cmphex(d[i], ==, 0xFF);
	memset(d, 0xFF, sizeof(d));
	acpi_pm_ops.write(r.pm, UINT64_MAX - 2, d, 8);
	acpi_pm_ops.write(r.pm, 0x20, d, 8);
	acpi_pm_ops.write(r.pm, 0, d, 0);
	g_assert_true(r.level);
	g_assert_cmphex(in(&r, PM1_STS, 4), ==, (uint64_t)PWRBTN << 16 | PWRBTN);
	/* A 2-byte write at offset 1: clears PWRBTN_STS, sets TMR_EN. */
	out(&r, PORT_ACPI_PM_BASE + 1, 2, 0x0101);
	g_assert_cmphex(in(&r, PM1_STS, 4), ==, (uint64_t)(PWRBTN | 0x0001) << 16);
	g_assert_false(r.level);
	g_assert_cmpint(r.resets + r.poweroffs, ==, 0);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi-pm/power-button", test_power_button);
	g_test_add_func("/acpi-pm/evt-widths", test_evt_widths);
	g_test_add_func("/acpi-pm/sleep", test_sleep);
	g_test_add_func("/acpi-pm/reset-register", test_reset_register);
	g_test_add_func("/acpi-pm/timer", test_timer);
	g_test_add_func("/acpi-pm/gpe", test_gpe);
	g_test_add_func("/acpi-pm/malformed", test_malformed);
	return g_test_run();
}
