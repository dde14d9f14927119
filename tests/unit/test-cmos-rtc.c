// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"

#define NS_PER_SEC INT64_C(1000000000)

enum {
	SEC = 0x00, SEC_ALARM = 0x01, MIN = 0x02, MIN_ALARM = 0x03, HOUR = 0x04, HOUR_ALARM = 0x05,
	WDAY = 0x06, MDAY = 0x07, MON = 0x08, YEAR = 0x09, REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C,
	REG_D = 0x0D, CENTURY = 0x32,
};

struct rig {
	struct iobus *bus;
	struct cmos_rtc *rtc;
	struct irq_line irq;
	int64_t now_ns;
	bool level;
	int wakeups;
};

static int64_t rig_clock(void *opaque)
{
	struct rig *r = opaque;
	return r->now_ns;
}

static void rig_set_level(void *opaque, unsigned gsi, bool level)
{
	struct rig *r = opaque;
	g_assert_cmpuint(gsi, ==, IRQ_RTC);
	r->level = level;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	GDateTime *dt = g_date_time_new_utc(y, mo, d, h, mi, s);
	g_assert_nonnull(dt);
	int64_t v = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return v * NS_PER_SEC;
}

static void rig_init(struct rig *r, int64_t now_ns)
{
	memset(r, 0, sizeof(*r));
	r->now_ns = now_ns;
	r->bus = iobus_new("pio");
	r->irq = (struct irq_line){ rig_set_level, r, IRQ_RTC };
	r->rtc = cmos_rtc_new(&r->irq, rig_clock, r);
	g_assert_cmpint(iobus_register(r->bus, PORT_RTC, PORT_RTC_LEN, &cmos_rtc_ops, r->rtc), ==, 0);
}

static void rig_fini(struct rig *r)
{
	cmos_rtc_free(r->rtc);
	iobus_free(r->bus);
}

static uint8_t rd(struct rig *r, uint8_t reg)
{
	uint8_t v = 0;
	g_assert_true(iobus_access(r->bus, PORT_RTC, &reg, 1, true));
	g_assert_true(iobus_access(r->bus, PORT_RTC + 1, &v, 1, false));
	return v;
}

static void wr(struct rig *r, uint8_t reg, uint8_t v)
{
	g_assert_true(iobus_access(r->bus, PORT_RTC, &reg, 1, true));
	g_assert_true(iobus_access(r->bus, PORT_RTC + 1, &v, 1, true));
}

static void test_defaults(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 1, 1, 0, 0, 0));
	g_assert_cmphex(rd(&r, REG_A), ==, 0x26);
	g_assert_cmphex(rd(&r, REG_B), ==, 0x02);   /* BCD, 24-hour */
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	g_assert_cmphex(rd(&r, REG_D), ==, 0x80);
	wr(&r, REG_D, 0x00);
	wr(&r, REG_C, 0xF0);
	g_assert_cmphex(rd(&r, REG_D), ==, 0x80);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	rig_fini(&r);
}

static void test_bcd_24h(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 2, 29, 23, 59, 58) + 123456789);
	g_assert_cmphex(rd(&r, SEC), ==, 0x58);
	g_assert_cmphex(rd(&r, MIN), ==, 0x59);
	g_assert_cmphex(rd(&r, HOUR), ==, 0x23);
	g_assert_cmphex(rd(&r, WDAY), ==, 5);   /* Thursday; Sunday is 1 */
	g_assert_cmphex(rd(&r, MDAY), ==, 0x29);
	g_assert_cmphex(rd(&r, MON), ==, 0x02);
	g_assert_cmphex(rd(&r, YEAR), ==, 0x24);
	g_assert_cmphex(rd(&r, CENTURY), ==, 0x20);
	/* Over midnight at the end of a leap February. */
	r.now_ns += 2 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, SEC), ==, 0x00);
	g_assert_cmphex(rd(&r, MIN), ==, 0x00);
	g_assert_cmphex(rd(&r, HOUR), ==, 0x00);
	g_assert_cmphex(rd(&r, WDAY), ==, 6);
	g_assert_cmphex(rd(&r, MDAY), ==, 0x01);
	g_assert_cmphex(rd(&r, MON), ==, 0x03);
	/* Over a century. */
	r.now_ns = utc(2099, 12, 31, 23, 59, 59);
	g_assert_cmphex(rd(&r, YEAR), ==, 0x99);
	g_assert_cmphex(rd(&r, CENTURY), ==, 0x20);
	r.now_ns += NS_PER_SEC;
	g_assert_cmphex(rd(&r, YEAR), ==, 0x00);
	g_assert_cmphex(rd(&r, CENTURY), ==, 0x21);
	g_assert_cmphex(rd(&r, MON), ==, 0x01);
	rig_fini(&r);
}

static void test_binary(void)
{
	struct rig r;
	rig_init(&r, utc(1999, 12, 31, 23, 59, 58));
	wr(&r, REG_B, 0x06);
	g_assert_cmpuint(rd(&r, SEC), ==, 58);
	g_assert_cmpuint(rd(&r, MIN), ==, 59);
	g_assert_cmpuint(rd(&r, HOUR), ==, 23);
	g_assert_cmpuint(rd(&r, MDAY), ==, 31);
	g_assert_cmpuint(rd(&r, MON), ==, 12);
	g_assert_cmpuint(rd(&r, YEAR), ==, 99);
	g_assert_cmpuint(rd(&r, CENTURY), ==, 19);
	g_assert_cmpuint(rd(&r, WDAY), ==, 6);   /* Friday */
	rig_fini(&r);
}

struct hour_case {
	int hour;
	uint8_t bcd12, bin12;
};

static void test_12h(void)
{
	/* Midnight is 12 AM, noon is 12 PM; bit 7 marks PM. */
	static const struct hour_case cases[] = {
		{ 0, 0x12, 12 }, { 1, 0x01, 1 }, { 11, 0x11, 11 }, { 12, 0x92, 0x8C },
		{ 13, 0x81, 0x81 }, { 22, 0x90, 0x8A }, { 23, 0x91, 0x8B },
	};
	struct rig r;
	rig_init(&r, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		r.now_ns = utc(2010, 6, 15, cases[i].hour, 30, 0);
		wr(&r, REG_B, 0x00);
		g_assert_cmphex(rd(&r, HOUR), ==, cases[i].bcd12);
		wr(&r, REG_B, 0x04);
		g_assert_cmphex(rd(&r, HOUR), ==, cases[i].bin12);
		wr(&r, REG_B, 0x06);
		g_assert_cmpuint(rd(&r, HOUR), ==, (unsigned)cases[i].hour);
	}
	/* Setting the hour in 12-hour mode: 12 AM and 12 PM. */
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		wr(&r, REG_B, 0x80);
		wr(&r, HOUR, cases[i].bcd12);
		wr(&r, REG_B, 0x06);
		g_assert_cmpuint(rd(&r, HOUR), ==, (unsigned)cases[i].hour);
		wr(&r, REG_B, 0x84);
		wr(&r, HOUR, cases[i].bin12);
		wr(&r, REG_B, 0x02);
		g_assert_cmphex(rd(&r, HOUR), ==, (unsigned)(cases[i].hour / 10 << 4 | cases[i].hour % 10));
	}
	rig_fini(&r);
}

static void test_set_time(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 5, 5, 10, 0, 0) + 300000000);
	/* What Linux's mc146818_set_time does: SET, the registers, then B restored. */
	uint8_t b = rd(&r, REG_B);
	wr(&r, REG_B, b | 0x80);
	wr(&r, SEC, 0x50);
	wr(&r, MIN, 0x59);
	wr(&r, HOUR, 0x23);
	wr(&r, MDAY, 0x31);
	wr(&r, MON, 0x12);
	wr(&r, YEAR, 0x99);
	wr(&r, CENTURY, 0x19);
	/* While SET is held the registers do not tick. */
	r.now_ns += 5 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, SEC), ==, 0x50);
	g_assert_cmphex(rd(&r, YEAR), ==, 0x99);
	g_assert_cmphex(rd(&r, REG_A) & 0x80, ==, 0);
	int64_t t0 = r.now_ns;
	wr(&r, REG_B, b);
	/* The new second starts when SET is released. */
	r.now_ns = t0 + NS_PER_SEC - 1;
	g_assert_cmphex(rd(&r, SEC), ==, 0x50);
	r.now_ns = t0 + NS_PER_SEC;
	g_assert_cmphex(rd(&r, SEC), ==, 0x51);
	r.now_ns = t0 + 15 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, SEC), ==, 0x05);
	g_assert_cmphex(rd(&r, MIN), ==, 0x00);
	g_assert_cmphex(rd(&r, HOUR), ==, 0x00);
	g_assert_cmphex(rd(&r, MDAY), ==, 0x01);
	g_assert_cmphex(rd(&r, MON), ==, 0x01);
	g_assert_cmphex(rd(&r, YEAR), ==, 0x00);
	g_assert_cmphex(rd(&r, CENTURY), ==, 0x20);
	g_assert_cmphex(rd(&r, WDAY), ==, 7);   /* 2000-01-01 was a Saturday */

	/* The offset holds across a big host clock advance. */
	r.now_ns += (int64_t)86400 * 366 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, YEAR), ==, 0x01);
	g_assert_cmphex(rd(&r, MON), ==, 0x01);
	g_assert_cmphex(rd(&r, MDAY), ==, 0x01);
	g_assert_cmphex(rd(&r, SEC), ==, 0x05);

	/* Binary mode, one field without SET: only that field changes. */
	wr(&r, REG_B, 0x06);
	wr(&r, MIN, 42);
	g_assert_cmpuint(rd(&r, MIN), ==, 42);
	g_assert_cmpuint(rd(&r, YEAR), ==, 1);
	g_assert_cmpuint(rd(&r, CENTURY), ==, 20);

	/* SET raised and dropped without writes leaves the clock running. */
	int64_t before = r.now_ns;
	wr(&r, REG_B, 0x86);
	r.now_ns += 3 * NS_PER_SEC;
	wr(&r, REG_B, 0x06);
	r.now_ns = before + 3 * NS_PER_SEC;
	g_assert_cmpuint(rd(&r, SEC), ==, 8);

	/* Garbage in the registers still gives a defined time. */
	wr(&r, REG_B, 0x82);
	wr(&r, MON, 0x00);
	wr(&r, MDAY, 0xFF);
	wr(&r, HOUR, 0xFF);
	wr(&r, REG_B, 0x02);
	(void)rd(&r, MON);
	(void)rd(&r, WDAY);
	rig_fini(&r);
}

static void test_uip(void)
{
	struct rig r;
	int64_t t = utc(2024, 1, 1, 12, 0, 0);
	rig_init(&r, t);
	r.now_ns = t + 500000000;
	g_assert_cmphex(rd(&r, REG_A), ==, 0x26);
	r.now_ns = t + NS_PER_SEC - 244000 - 1;
	g_assert_cmphex(rd(&r, REG_A) & 0x80, ==, 0);
	r.now_ns = t + NS_PER_SEC - 200000;
	g_assert_cmphex(rd(&r, REG_A), ==, 0xA6);
	/* Reads taken while UIP is up are still the old second. */
	g_assert_cmphex(rd(&r, SEC), ==, 0x00);
	/* SET stops updates, and UIP with them. */
	wr(&r, REG_B, 0x82);
	g_assert_cmphex(rd(&r, REG_A) & 0x80, ==, 0);
	wr(&r, REG_B, 0x02);
	/* UIP is read-only. */
	r.now_ns = t + 500000000;
	wr(&r, REG_A, 0xFF);
	g_assert_cmphex(rd(&r, REG_A), ==, 0x7F);
	rig_fini(&r);
}

static void test_flags(void)
{
	struct rig r;
	int64_t t = utc(2024, 1, 1, 12, 0, 0) + 100;
	rig_init(&r, t);
	g_assert_cmpint(cmos_rtc_poll(r.rtc), ==, -1);

	/* Update-ended: the flag rises every second, the IRQ only when enabled. */
	r.now_ns += NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	wr(&r, REG_B, 0x12);
	int64_t delay = cmos_rtc_poll(r.rtc);
	g_assert_cmpint(delay, ==, NS_PER_SEC - 100);
	g_assert_false(r.level);
	r.now_ns += delay;
	g_assert_cmpint(cmos_rtc_poll(r.rtc), ==, NS_PER_SEC);
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x90);
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	/* Enabling with the flag already up raises the line at once. */
	wr(&r, REG_B, 0x02);
	r.now_ns += NS_PER_SEC;
	g_assert_cmpint(cmos_rtc_poll(r.rtc), ==, -1);
	g_assert_false(r.level);
	wr(&r, REG_B, 0x12);
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x90);
	/* Writing SET clears UIE. */
	wr(&r, REG_B, 0x92);
	g_assert_cmphex(rd(&r, REG_B), ==, 0x82);
	wr(&r, REG_B, 0x02);

	/* Alarm at 12:00:10 (BCD); the clock is at 12:00:03. */
	g_assert_cmphex(rd(&r, SEC), ==, 0x03);
	wr(&r, SEC_ALARM, 0x10);
	wr(&r, MIN_ALARM, 0x00);
	wr(&r, HOUR_ALARM, 0x12);
	wr(&r, REG_B, 0x22);
	(void)rd(&r, REG_C);
	r.now_ns += 6 * NS_PER_SEC;
	(void)cmos_rtc_poll(r.rtc);
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);
	r.now_ns += NS_PER_SEC;
	(void)cmos_rtc_poll(r.rtc);
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, REG_C), ==, 0xB0);
	g_assert_false(r.level);
	/* An alarm passed while nobody looked is still reported. */
	wr(&r, REG_B, 0x02);
	r.now_ns += (int64_t)86400 * NS_PER_SEC - 1;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);   /* a day minus a moment: 12:00:10 not reached */
	r.now_ns += 1;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x30);
	/* Don't-care bytes: every second matches. */
	wr(&r, SEC_ALARM, 0xC0);
	wr(&r, MIN_ALARM, 0xFF);
	wr(&r, HOUR_ALARM, 0xC5);
	r.now_ns += NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x30);

	/* The periodic interrupt is not modelled: PIE never fires. */
	wr(&r, SEC_ALARM, 0x00);
	wr(&r, REG_B, 0x42);
	g_assert_cmpint(cmos_rtc_poll(r.rtc), ==, -1);
	r.now_ns += 3 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C) & 0xC0, ==, 0);
	g_assert_false(r.level);

	/* A host clock that steps back raises nothing. */
	wr(&r, REG_B, 0x12);
	(void)rd(&r, REG_C);
	r.now_ns -= 100 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	rig_fini(&r);
}

static void test_alarm_wrap(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 3, 9, 23, 59, 58));
	/* 00:00:05 in 12-hour BCD: 12 AM. */
	wr(&r, REG_B, 0x20);
	wr(&r, SEC_ALARM, 0x05);
	wr(&r, MIN_ALARM, 0x00);
	wr(&r, HOUR_ALARM, 0x12);
	(void)rd(&r, REG_C);
	r.now_ns += 6 * NS_PER_SEC;   /* 00:00:04 */
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);
	r.now_ns -= 3 * NS_PER_SEC;   /* the host steps back to 00:00:01 */
	g_assert_cmphex(rd(&r, REG_C), ==, 0x00);
	r.now_ns += 10 * NS_PER_SEC;  /* across 00:00:05 */
	g_assert_cmphex(rd(&r, REG_C), ==, 0xB0);
	/* Across midnight, hour as don't-care, minute fixed. */
	r.now_ns = utc(2024, 3, 10, 23, 59, 30);
	(void)rd(&r, REG_C);
	wr(&r, HOUR_ALARM, 0xFF);
	wr(&r, MIN_ALARM, 0x00);
	wr(&r, SEC_ALARM, 0x10);
	r.now_ns += 39 * NS_PER_SEC;  /* 00:00:09 */
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);
	r.now_ns += 1 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C), ==, 0xB0);
	/* An alarm no time can match never fires, however long the wait. */
	wr(&r, SEC_ALARM, 0x60);
	r.now_ns += (int64_t)3 * 86400 * NS_PER_SEC;
	g_assert_cmphex(rd(&r, REG_C), ==, 0x10);
	rig_fini(&r);
}

static void wakeup_count(void *opaque)
{
	struct rig *r = opaque;
	r->wakeups++;
}

static void test_wakeup(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 1, 1, 0, 0, 0));
	cmos_rtc_set_wakeup(r.rtc, wakeup_count, &r);
	wr(&r, REG_B, 0x02);
	g_assert_cmpint(r.wakeups, ==, 0);
	wr(&r, REG_B, 0x22);
	g_assert_cmpint(r.wakeups, ==, 1);
	wr(&r, REG_B, 0x26);   /* the data mode only: nothing to re-arm */
	g_assert_cmpint(r.wakeups, ==, 1);
	wr(&r, REG_B, 0x06);
	g_assert_cmpint(r.wakeups, ==, 2);
	/* A time written without SET moves the next update. */
	wr(&r, SEC, 0x30);
	g_assert_cmpint(r.wakeups, ==, 3);
	wr(&r, 0x40, 0x30);
	g_assert_cmpint(r.wakeups, ==, 3);
	/* Not from the host's own calls. */
	(void)cmos_rtc_poll(r.rtc);
	g_assert_cmpint(r.wakeups, ==, 3);
	rig_fini(&r);
}

static uint16_t rd16(struct rig *r, uint8_t lo)
{
	return (uint16_t)(rd(r, lo) | rd(r, (uint8_t)(lo + 1)) << 8);
}

static void test_memory_size(void)
{
	struct rig r;
	rig_init(&r, 0);
	cmos_rtc_set_memory_size(r.rtc, 3 * GiB, 5 * GiB);
	g_assert_cmpuint(rd16(&r, 0x15), ==, 640);
	g_assert_cmpuint(rd16(&r, 0x17), ==, 0xFFFF);
	g_assert_cmpuint(rd16(&r, 0x30), ==, 0xFFFF);
	g_assert_cmpuint(rd16(&r, 0x34), ==, (3 * GiB - 16 * MiB) / (64 * KiB));
	g_assert_cmpuint(rd(&r, 0x5B) | rd(&r, 0x5C) << 8 | rd(&r, 0x5D) << 16, ==, 5 * GiB / (64 * KiB));

	/* The firmware checksum covers 0x10-0x2D and is stored big-endian. */
	unsigned sum = 0;
	for (uint8_t i = 0x10; i <= 0x2D; i++)
		sum += rd(&r, i);
	g_assert_cmpuint(sum, >, 0);
	g_assert_cmpuint((unsigned)(rd(&r, 0x2E) << 8 | rd(&r, 0x2F)), ==, sum & 0xFFFF);

	cmos_rtc_set_memory_size(r.rtc, 8 * MiB, 0);
	g_assert_cmpuint(rd16(&r, 0x17), ==, 7 * 1024);
	g_assert_cmpuint(rd16(&r, 0x30), ==, 7 * 1024);
	g_assert_cmpuint(rd16(&r, 0x34), ==, 0);
	g_assert_cmpuint(rd(&r, 0x5B) | rd(&r, 0x5C) | rd(&r, 0x5D), ==, 0);

	cmos_rtc_set_memory_size(r.rtc, 3 * GiB, UINT64_MAX);
	g_assert_cmpuint(rd(&r, 0x5B) & rd(&r, 0x5C) & rd(&r, 0x5D), ==, 0xFF);
	rig_fini(&r);
}

static void test_ram(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 1, 1, 0, 0, 0));
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != CENTURY)
			wr(&r, (uint8_t)i, (uint8_t)(i * 7 + 1));
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != CENTURY)
			g_assert_cmphex(rd(&r, (uint8_t)i), ==, (uint8_t)(i * 7 + 1));
	/* Bit 7 of the index is the NMI mask, not part of the address. */
	uint8_t idx = 0x80 | 0x40, v = 0;
	g_assert_true(iobus_access(r.bus, PORT_RTC, &idx, 1, true));
	g_assert_true(iobus_access(r.bus, PORT_RTC + 1, &v, 1, false));
	g_assert_cmphex(v, ==, (uint8_t)(0x40 * 7 + 1));
	/* The alarm bytes are plain storage. */
	wr(&r, SEC_ALARM, 0x33);
	g_assert_cmphex(rd(&r, SEC_ALARM), ==, 0x33);
	rig_fini(&r);
}

static void test_wide_and_malformed(void)
{
	struct rig r;
	rig_init(&r, utc(2024, 1, 1, 0, 0, 0));
	/* outw 0x70: index in the low byte, data in the high byte. */
	uint8_t two[2] = { 0x40, 0x5A };
	g_assert_true(iobus_access(r.bus, PORT_RTC, two, 2, true));
	g_assert_cmphex(rd(&r, 0x40), ==, 0x5A);
	memset(two, 0, sizeof(two));
	g_assert_true(iobus_access(r.bus, PORT_RTC, two, 2, false));
	g_assert_cmphex(two[0], ==, 0x40);
	g_assert_cmphex(two[1], ==, 0x5A);

	uint8_t v[8];
	memset(v, 0, sizeof(v));
	g_assert_false(iobus_access(r.bus, PORT_RTC, v, 4, false));
	g_assert_false(iobus_access(r.bus, PORT_RTC + 1, v, 8, true));
	memset(v, 0, sizeof(v));
	cmos_rtc_ops.read(r.rtc, 1, v, 8);
	g_assert_cmphex(v[0], ==, 0x5A);
	for (unsigned i = 1; i < 8; i++)
		g_assert_cmphex(v[i], ==, 0xFF);
	memset(v, 0, sizeof(v));
	cmos_rtc_ops.read(r.rtc, UINT64_MAX, v, 8);
	for (unsigned i = 0; i < 8; i++)
		g_assert_cmphex(v[i], ==, 0xFF);
	memset(v, 0x11, sizeof(v));
	cmos_rtc_ops.write(r.rtc, UINT64_MAX - 1, v, 8);
	cmos_rtc_ops.write(r.rtc, 7, v, 8);
	g_assert_cmphex(rd(&r, 0x40), ==, 0x5A);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cmos-rtc/defaults", test_defaults);
	g_test_add_func("/cmos-rtc/bcd-24h", test_bcd_24h);
	g_test_add_func("/cmos-rtc/binary", test_binary);
	g_test_add_func("/cmos-rtc/12h", test_12h);
	g_test_add_func("/cmos-rtc/set-time", test_set_time);
	g_test_add_func("/cmos-rtc/uip", test_uip);
	g_test_add_func("/cmos-rtc/flags", test_flags);
	g_test_add_func("/cmos-rtc/alarm-wrap", test_alarm_wrap);
	g_test_add_func("/cmos-rtc/wakeup", test_wakeup);
	g_test_add_func("/cmos-rtc/memory-size", test_memory_size);
	g_test_add_func("/cmos-rtc/ram", test_ram);
	g_test_add_func("/cmos-rtc/wide-and-malformed", test_wide_and_malformed);
	return g_test_run();
}
