// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * MC146818 real-time clock and the 128 bytes of CMOS RAM behind ports
 * 0x70 (index) and 0x71 (data).
 *
 * The clock is not a counter of its own: the guest's time is the host wall
 * clock plus an offset that changes only when the guest sets the time, so it
 * cannot drift while the VM is paused or the host is busy. Alarm and
 * update-ended flags are computed from that time when the guest looks (any
 * access to the device) or when the owner calls cmos_rtc_poll().
 *
 * Not modelled: the periodic interrupt (PF never sets, so PIE never fires;
 * the rate bits in register A are only stored), the square-wave output,
 * daylight-saving adjustment (DSE) and the divider-reset states of register A.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"
#include "hv/saved_state.h"

enum {
	RTC_SECONDS = 0x00,
	RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02,
	RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04,
	RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0A,
	RTC_REG_B = 0x0B,
	RTC_REG_C = 0x0C,
	RTC_REG_D = 0x0D,
	RTC_CENTURY = 0x32,   /* the FADT's CENTURY field names this byte */
	RTC_CMOS_SIZE = 128,
};

/* CMOS RAM bytes that describe the memory size, as PC firmware fills them. */
enum {
	CMOS_BASE_MEM_LO = 0x15,   /* KiB below 1 MiB */
	CMOS_BASE_MEM_HI = 0x16,
	CMOS_EXT_MEM_LO = 0x17,    /* KiB from 1 MiB, up to 64 MiB */
	CMOS_EXT_MEM_HI = 0x18,
	CMOS_EXT_MEM2_LO = 0x30,   /* the same, as POST found it */
	CMOS_EXT_MEM2_HI = 0x31,
	CMOS_MEM_16M_LO = 0x34,    /* 64 KiB units from 16 MiB to the end of low RAM */
	CMOS_MEM_16M_HI = 0x35,
	CMOS_MEM_4G_0 = 0x5B,      /* 64 KiB units above 4 GiB, three bytes */
	CMOS_MEM_4G_1 = 0x5C,
	CMOS_MEM_4G_2 = 0x5D,
	/* Firmware's checksum over 0x10-0x2D, big-endian; Linux's /dev/nvram
	 * refuses every access while it does not match. */
	CMOS_CSUM_FIRST = 0x10,
	CMOS_CSUM_LAST = 0x2D,
	CMOS_CSUM_HI = 0x2E,
	CMOS_CSUM_LO = 0x2F,
};
#define CMOS_BASE_MEM_KIB 640

#define RTC_PORT_INDEX   0
#define RTC_PORT_DATA    1
#define RTC_PORT_COUNT   2
#define RTC_INDEX_MASK   0x7F  /* bit 7 of the index port masks NMI; nothing to mask here */

#define RTC_A_UIP        0x80
#define RTC_A_WRITABLE   0x7F
#define RTC_A_RESET      0x26  /* 32.768 kHz time base, 1024 Hz rate: what firmware leaves */

#define RTC_B_SET        0x80
#define RTC_B_PIE        0x40
#define RTC_B_AIE        0x20
#define RTC_B_UIE        0x10
#define RTC_B_SQWE       0x08
#define RTC_B_DM_BINARY  0x04
#define RTC_B_24H        0x02
#define RTC_B_DSE        0x01
/* Firmware leaves the clock in BCD and 24-hour mode; Linux's rtc-cmos needs 24-hour mode. */
#define RTC_B_RESET      RTC_B_24H

#define RTC_C_IRQF       0x80
#define RTC_C_PF         0x40
#define RTC_C_AF         0x20
#define RTC_C_UF         0x10

#define RTC_D_VRT        0x80  /* the battery is fine */

#define RTC_HOUR_PM      0x80
#define RTC_ALARM_DONT_CARE 0xC0  /* both top bits set: the alarm byte matches any value */

#define RTC_NS_PER_SEC   INT64_C(1000000000)
#define RTC_SEC_PER_DAY  INT64_C(86400)
/* UIP rises this long before each update so software can avoid reading mid-update. */
#define RTC_UIP_NS       INT64_C(244000)

/* Broken-down guest time while the guest holds SET and writes the registers. */
struct cmos_rtc_tm {
	int64_t year;   /* full year: century * 100 + year */
	int mon;        /* 1-12 when valid; a guest may write anything */
	int mday, hour, min, sec;
};

struct cmos_rtc {
	pthread_mutex_t lock;
	const struct irq_line *irq;
	cmos_clock_fn clock;
	void *clock_opaque;
	cmos_rtc_wakeup_fn wakeup;
	void *wakeup_opaque;

	uint8_t index;
	/* Alarms, registers A and B and the RAM; time bytes are computed instead. */
	uint8_t ram[RTC_CMOS_SIZE];
	/* guest time = host time + offset_sec + phase_ns */
	int64_t offset_sec;
	int64_t phase_ns;
	struct cmos_rtc_tm held;
	bool held_dirty;
	int64_t events_sec;   /* the guest second up to which UF and AF are accounted for */
	uint8_t flags;        /* PF/AF/UF of register C */
	bool irq_level;
};

static int64_t cmos_rtc_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t cmos_rtc_floor_mod(int64_t a, int64_t b)
{
	int64_t m = a % b;
	return m < 0 ? m + b : m;
}

/* Days since 1970-01-01 of a proleptic Gregorian date; months must be 1-12. */
static int64_t cmos_rtc_days_from_date(int64_t y, int m, int64_t d)
{
	/* Count years from March so that the leap day ends the year. */
	if (m <= 2)
		y--;
	int64_t era = cmos_rtc_floor_div(y, 400);
	int64_t year_of_era = y - era * 400;
	int64_t month_from_march = m > 2 ? m - 3 : m + 9;
	int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

static void cmos_rtc_date_from_days(int64_t days, struct cmos_rtc_tm *tm)
{
	days += 719468;
	int64_t era = cmos_rtc_floor_div(days, 146097);
	int64_t day_of_era = days - era * 146097;
	int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	int64_t month_from_march = (5 * day_of_year + 2) / 153;
	tm->mday = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
	tm->mon = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
	tm->year = year_of_era + era * 400 + (tm->mon <= 2);
}

static void cmos_rtc_tm_from_sec(int64_t sec, struct cmos_rtc_tm *tm)
{
	int64_t sod = cmos_rtc_floor_mod(sec, RTC_SEC_PER_DAY);
	cmos_rtc_date_from_days(cmos_rtc_floor_div(sec, RTC_SEC_PER_DAY), tm);
	tm->hour = (int)(sod / 3600);
	tm->min = (int)(sod / 60 % 60);
	tm->sec = (int)(sod % 60);
}

/* Out-of-range fields (month 0, day 45, minute 99) carry over rather than fail. */
static int64_t cmos_rtc_sec_from_tm(const struct cmos_rtc_tm *tm)
{
	int64_t m0 = (int64_t)tm->mon - 1;
	int64_t y = tm->year + cmos_rtc_floor_div(m0, 12);
	int m = (int)cmos_rtc_floor_mod(m0, 12) + 1;
	int64_t days = cmos_rtc_days_from_date(y, m, 1) + tm->mday - 1;
	return days * RTC_SEC_PER_DAY + (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
}

/* 1 = Sunday, as PC firmware counts. */
static int cmos_rtc_day_of_week(const struct cmos_rtc_tm *tm)
{
	int64_t days = cmos_rtc_floor_div(cmos_rtc_sec_from_tm(tm), RTC_SEC_PER_DAY);
	return (int)cmos_rtc_floor_mod(days + 4, 7) + 1;   /* 1970-01-01 was a Thursday */
}

static bool cmos_rtc_binary(const struct cmos_rtc *rtc)
{
	return rtc->ram[RTC_REG_B] & RTC_B_DM_BINARY;
}

static uint8_t cmos_rtc_encode(const struct cmos_rtc *rtc, int64_t v)
{
	if (cmos_rtc_binary(rtc))
		return (uint8_t)v;
	v = cmos_rtc_floor_mod(v, 100);
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

static int cmos_rtc_decode(const struct cmos_rtc *rtc, uint8_t v)
{
	if (cmos_rtc_binary(rtc))
		return v;
	/* Invalid BCD digits decode linearly, so every byte means something. */
	return (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t cmos_rtc_encode_hour(const struct cmos_rtc *rtc, int hour)
{
	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return cmos_rtc_encode(rtc, hour);
	int h12 = hour % 12 == 0 ? 12 : hour % 12;
	return cmos_rtc_encode(rtc, h12) | (hour >= 12 ? RTC_HOUR_PM : 0);
}

static int cmos_rtc_decode_hour(const struct cmos_rtc *rtc, uint8_t v)
{
	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return cmos_rtc_decode(rtc, v);
	/* 12 AM is midnight and 12 PM is noon. */
	return cmos_rtc_decode(rtc, v & ~RTC_HOUR_PM) % 12 + ((v & RTC_HOUR_PM) ? 12 : 0);
}

static void cmos_rtc_now(const struct cmos_rtc *rtc, int64_t *sec, int64_t *ns)
{
	int64_t host = rtc->clock ? rtc->clock(rtc->clock_opaque) : 0;
	int64_t hs = cmos_rtc_floor_div(host, RTC_NS_PER_SEC);
	int64_t hn = cmos_rtc_floor_mod(host, RTC_NS_PER_SEC) + rtc->phase_ns;
	if (hn >= RTC_NS_PER_SEC) {
		hn -= RTC_NS_PER_SEC;
		hs++;
	}
	*sec = hs + rtc->offset_sec;
	*ns = hn;
}

static int64_t cmos_rtc_now_sec(const struct cmos_rtc *rtc)
{
	int64_t sec, ns;
	cmos_rtc_now(rtc, &sec, &ns);
	return sec;
}

/* The new second starts now, as when the divider chain restarts after SET. */
static void cmos_rtc_set_time(struct cmos_rtc *rtc, const struct cmos_rtc_tm *tm)
{
	int64_t target = cmos_rtc_sec_from_tm(tm);
	int64_t host = rtc->clock ? rtc->clock(rtc->clock_opaque) : 0;
	int64_t hs = cmos_rtc_floor_div(host, RTC_NS_PER_SEC);
	int64_t hn = cmos_rtc_floor_mod(host, RTC_NS_PER_SEC);
	if (hn == 0) {
		rtc->phase_ns = 0;
	} else {
		rtc->phase_ns = RTC_NS_PER_SEC - hn;
		hs++;
	}
	rtc->offset_sec = target - hs;
	rtc->events_sec = target;
	g_debug("cmos_rtc: guest set the clock to %" G_GINT64_FORMAT " s since the epoch", target);
}

static bool cmos_rtc_alarm_byte_matches(const struct cmos_rtc *rtc, unsigned reg, uint8_t now)
{
	uint8_t alarm = rtc->ram[reg];
	return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == now;
}

/* Whether the alarm names a second of the day in [from, to], 0 <= from <= to < 86400. */
static bool cmos_rtc_alarm_within(const struct cmos_rtc *rtc, int64_t from, int64_t to)
{
	bool sec_ok[60], min_ok[60], any_sec = false;
	for (int i = 0; i < 60; i++) {
		sec_ok[i] = cmos_rtc_alarm_byte_matches(rtc, RTC_SECONDS_ALARM, cmos_rtc_encode(rtc, i));
		min_ok[i] = cmos_rtc_alarm_byte_matches(rtc, RTC_MINUTES_ALARM, cmos_rtc_encode(rtc, i));
		any_sec |= sec_ok[i];
	}
	/* With some second matching, every whole minute inside the range hits at once:
	 * only the two partial minutes at its ends are scanned. */
	if (!any_sec)
		return false;
	for (int h = 0; h < 24; h++) {
		if (!cmos_rtc_alarm_byte_matches(rtc, RTC_HOURS_ALARM, cmos_rtc_encode_hour(rtc, h)))
			continue;
		for (int m = 0; m < 60; m++) {
			if (!min_ok[m])
				continue;
			int64_t base = (int64_t)h * 3600 + m * 60;
			int64_t lo = from > base ? from - base : 0;
			int64_t hi = to - base < 59 ? to - base : 59;
			for (int64_t sec = lo; sec <= hi; sec++)
				if (sec_ok[sec])
					return true;
		}
	}
	return false;
}

/* Raises UF and AF for the updates that happened since the guest last looked. */
static void cmos_rtc_catch_up(struct cmos_rtc *rtc)
{
	/* SET stops the update cycle: no updates, no flags. */
	if (rtc->ram[RTC_REG_B] & RTC_B_SET)
		return;
	int64_t now = cmos_rtc_now_sec(rtc);
	if (now <= rtc->events_sec) {
		/* The host clock stepped back: start counting from here. */
		rtc->events_sec = now;
		return;
	}
	rtc->flags |= RTC_C_UF;
	/* The updates since then cover the seconds of day in (events_sec, now]. */
	bool hit;
	if (now - rtc->events_sec >= RTC_SEC_PER_DAY) {
		hit = cmos_rtc_alarm_within(rtc, 0, RTC_SEC_PER_DAY - 1);
	} else {
		int64_t from = cmos_rtc_floor_mod(rtc->events_sec + 1, RTC_SEC_PER_DAY);
		int64_t to = cmos_rtc_floor_mod(now, RTC_SEC_PER_DAY);
		if (from <= to)
			hit = cmos_rtc_alarm_within(rtc, from, to);
		else
			hit = cmos_rtc_alarm_within(rtc, from, RTC_SEC_PER_DAY - 1) ||
			      cmos_rtc_alarm_within(rtc, 0, to);
	}
	if (hit)
		rtc->flags |= RTC_C_AF;
	rtc->events_sec = now;
}

static uint8_t cmos_rtc_irqf(const struct cmos_rtc *rtc)
{
	/* Flag and enable bits sit at the same positions in registers C and B. */
	uint8_t enabled = rtc->ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
	return (rtc->flags & enabled) ? RTC_C_IRQF : 0;
}

static void cmos_rtc_update_irq(struct cmos_rtc *rtc)
{
	bool level = cmos_rtc_irqf(rtc);
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		irq_line_set(rtc->irq, level);
	}
}

/* The time as the registers show it: held while SET, running otherwise. */
static void cmos_rtc_current_tm(const struct cmos_rtc *rtc, struct cmos_rtc_tm *tm)
{
	if (rtc->ram[RTC_REG_B] & RTC_B_SET)
		*tm = rtc->held;
	else
		cmos_rtc_tm_from_sec(cmos_rtc_now_sec(rtc), tm);
}

static bool cmos_rtc_is_time_reg(unsigned reg)
{
	switch (reg) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static uint8_t cmos_rtc_read_time(const struct cmos_rtc *rtc, unsigned reg)
{
	struct cmos_rtc_tm tm;
	cmos_rtc_current_tm(rtc, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return cmos_rtc_encode(rtc, tm.sec);
	case RTC_MINUTES:
		return cmos_rtc_encode(rtc, tm.min);
	case RTC_HOURS:
		return cmos_rtc_encode_hour(rtc, tm.hour);
	case RTC_DAY_OF_WEEK:
		return cmos_rtc_encode(rtc, cmos_rtc_day_of_week(&tm));
	case RTC_DAY_OF_MONTH:
		return cmos_rtc_encode(rtc, tm.mday);
	case RTC_MONTH:
		return cmos_rtc_encode(rtc, tm.mon);
	case RTC_YEAR:
		return cmos_rtc_encode(rtc, cmos_rtc_floor_mod(tm.year, 100));
	default:
		return cmos_rtc_encode(rtc, cmos_rtc_floor_div(tm.year, 100));
	}
}

static void cmos_rtc_write_time(struct cmos_rtc *rtc, unsigned reg, uint8_t val)
{
	struct cmos_rtc_tm tm;
	cmos_rtc_current_tm(rtc, &tm);
	int v = cmos_rtc_decode(rtc, val);
	switch (reg) {
	case RTC_SECONDS:
		tm.sec = v;
		break;
	case RTC_MINUTES:
		tm.min = v;
		break;
	case RTC_HOURS:
		tm.hour = cmos_rtc_decode_hour(rtc, val);
		break;
	case RTC_DAY_OF_WEEK:
		/* The weekday follows from the date; a written one is not kept. */
		return;
	case RTC_DAY_OF_MONTH:
		tm.mday = v;
		break;
	case RTC_MONTH:
		tm.mon = v;
		break;
	case RTC_YEAR:
		tm.year = cmos_rtc_floor_div(tm.year, 100) * 100 + v;
		break;
	default:
		tm.year = (int64_t)v * 100 + cmos_rtc_floor_mod(tm.year, 100);
		break;
	}
	if (rtc->ram[RTC_REG_B] & RTC_B_SET) {
		rtc->held = tm;
		rtc->held_dirty = true;
	} else {
		/* Writing without SET is racy on real parts; here it simply sets that field. */
		cmos_rtc_set_time(rtc, &tm);
	}
}

static bool cmos_rtc_write_b(struct cmos_rtc *rtc, uint8_t val)
{
	uint8_t old = rtc->ram[RTC_REG_B];
	if (val & RTC_B_SET)
		val &= ~RTC_B_UIE;   /* the part clears UIE whenever SET is written */
	if ((val & RTC_B_SET) && !(old & RTC_B_SET)) {
		cmos_rtc_tm_from_sec(cmos_rtc_now_sec(rtc), &rtc->held);
		rtc->held_dirty = false;
	}
	rtc->ram[RTC_REG_B] = val;
	if ((old & RTC_B_SET) && !(val & RTC_B_SET)) {
		/* Without a new time, the clock runs on as if SET had not been held. */
		if (rtc->held_dirty)
			cmos_rtc_set_time(rtc, &rtc->held);
		rtc->held_dirty = false;
		rtc->events_sec = cmos_rtc_now_sec(rtc);
	}
	return (old ^ val) & (RTC_B_SET | RTC_B_AIE | RTC_B_UIE);
}

static uint8_t cmos_rtc_read_data(struct cmos_rtc *rtc)
{
	unsigned reg = rtc->index;
	int64_t sec, ns;
	uint8_t v;
	if (cmos_rtc_is_time_reg(reg))
		return cmos_rtc_read_time(rtc, reg);
	switch (reg) {
	case RTC_REG_A:
		cmos_rtc_now(rtc, &sec, &ns);
		v = rtc->ram[RTC_REG_A] & RTC_A_WRITABLE;
		if (!(rtc->ram[RTC_REG_B] & RTC_B_SET) && ns >= RTC_NS_PER_SEC - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		v = rtc->flags | cmos_rtc_irqf(rtc);
		rtc->flags = 0;
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return rtc->ram[reg];
	}
}

/* Returns true when what the owner's timer waits for may have changed. */
static bool cmos_rtc_write_data(struct cmos_rtc *rtc, uint8_t val)
{
	unsigned reg = rtc->index;
	if (cmos_rtc_is_time_reg(reg)) {
		cmos_rtc_write_time(rtc, reg, val);
		/* Without SET the new time applies at once and moves the next update. */
		return !(rtc->ram[RTC_REG_B] & RTC_B_SET);
	}
	switch (reg) {
	case RTC_REG_A:
		rtc->ram[RTC_REG_A] = val & RTC_A_WRITABLE;
		return false;
	case RTC_REG_B:
		return cmos_rtc_write_b(rtc, val);
	case RTC_REG_C:
	case RTC_REG_D:
		return false;   /* read-only */
	default:
		rtc->ram[reg] = val;
		return false;
	}
}

static void cmos_rtc_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct cmos_rtc *rtc = opaque;
	pthread_mutex_lock(&rtc->lock);
	cmos_rtc_catch_up(rtc);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t port = offset + i;
		if (offset >= RTC_PORT_COUNT || i >= RTC_PORT_COUNT - offset)
			data[i] = 0xFF;
		else if (port == RTC_PORT_INDEX)
			data[i] = rtc->index;   /* write-only on old parts; reading back the index is harmless */
		else
			data[i] = cmos_rtc_read_data(rtc);
	}
	cmos_rtc_update_irq(rtc);
	pthread_mutex_unlock(&rtc->lock);
}

static void cmos_rtc_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct cmos_rtc *rtc = opaque;
	bool wake = false;
	pthread_mutex_lock(&rtc->lock);
	cmos_rtc_catch_up(rtc);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t port = offset + i;
		if (offset >= RTC_PORT_COUNT || i >= RTC_PORT_COUNT - offset)
			continue;
		/* A 16-bit write sets the index and then writes the data byte, as on ISA. */
		if (port == RTC_PORT_INDEX)
			rtc->index = data[i] & RTC_INDEX_MASK;
		else if (cmos_rtc_write_data(rtc, data[i]))
			wake = true;
	}
	cmos_rtc_update_irq(rtc);
	cmos_rtc_wakeup_fn fn = rtc->wakeup;
	void *fn_opaque = rtc->wakeup_opaque;
	pthread_mutex_unlock(&rtc->lock);
	if (wake && fn)
		fn(fn_opaque);
}

const struct iobus_ops cmos_rtc_ops = {
	.read = cmos_rtc_read,
	.write = cmos_rtc_write,
};

struct cmos_rtc *cmos_rtc_new(const struct irq_line *irq, cmos_clock_fn clock, void *clock_opaque)
{
	struct cmos_rtc *rtc = g_new0(struct cmos_rtc, 1);
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->irq = irq;
	rtc->clock = clock;
	rtc->clock_opaque = clock_opaque;
	rtc->ram[RTC_REG_A] = RTC_A_RESET;
	rtc->ram[RTC_REG_B] = RTC_B_RESET;
	rtc->events_sec = cmos_rtc_now_sec(rtc);
	return rtc;
}

void cmos_rtc_free(struct cmos_rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	g_free(rtc);
}

static uint64_t cmos_rtc_clamp(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

void cmos_rtc_set_memory_size(struct cmos_rtc *rtc, uint64_t low_bytes, uint64_t high_bytes)
{
	uint64_t ext_kib = low_bytes > 1 * MiB ? cmos_rtc_clamp((low_bytes - 1 * MiB) / KiB, 0xFFFF) : 0;
	uint64_t above_16m = low_bytes > 16 * MiB ? cmos_rtc_clamp((low_bytes - 16 * MiB) / (64 * KiB), 0xFFFF) : 0;
	uint64_t above_4g = cmos_rtc_clamp(high_bytes / (64 * KiB), 0xFFFFFF);

	pthread_mutex_lock(&rtc->lock);
	rtc->ram[CMOS_BASE_MEM_LO] = CMOS_BASE_MEM_KIB & 0xFF;
	rtc->ram[CMOS_BASE_MEM_HI] = CMOS_BASE_MEM_KIB >> 8;
	rtc->ram[CMOS_EXT_MEM_LO] = rtc->ram[CMOS_EXT_MEM2_LO] = (uint8_t)ext_kib;
	rtc->ram[CMOS_EXT_MEM_HI] = rtc->ram[CMOS_EXT_MEM2_HI] = (uint8_t)(ext_kib >> 8);
	rtc->ram[CMOS_MEM_16M_LO] = (uint8_t)above_16m;
	rtc->ram[CMOS_MEM_16M_HI] = (uint8_t)(above_16m >> 8);
	rtc->ram[CMOS_MEM_4G_0] = (uint8_t)above_4g;
	rtc->ram[CMOS_MEM_4G_1] = (uint8_t)(above_4g >> 8);
	rtc->ram[CMOS_MEM_4G_2] = (uint8_t)(above_4g >> 16);
	uint16_t sum = 0;
	for (unsigned i = CMOS_CSUM_FIRST; i <= CMOS_CSUM_LAST; i++)
		sum = (uint16_t)(sum + rtc->ram[i]);
	rtc->ram[CMOS_CSUM_HI] = (uint8_t)(sum >> 8);
	rtc->ram[CMOS_CSUM_LO] = (uint8_t)sum;
	pthread_mutex_unlock(&rtc->lock);
}

void cmos_rtc_set_wakeup(struct cmos_rtc *rtc, cmos_rtc_wakeup_fn fn, void *opaque)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->wakeup = fn;
	rtc->wakeup_opaque = opaque;
	pthread_mutex_unlock(&rtc->lock);
}

int64_t cmos_rtc_poll(struct cmos_rtc *rtc)
{
	int64_t sec, ns, delay = -1;
	pthread_mutex_lock(&rtc->lock);
	cmos_rtc_catch_up(rtc);
	cmos_rtc_update_irq(rtc);
	if (!(rtc->ram[RTC_REG_B] & RTC_B_SET) && (rtc->ram[RTC_REG_B] & (RTC_B_AIE | RTC_B_UIE))) {
		cmos_rtc_now(rtc, &sec, &ns);
		delay = RTC_NS_PER_SEC - ns;
	}
	pthread_mutex_unlock(&rtc->lock);
	return delay;
}

/* ---- saved state ---- */

/* What a guest can put in the clock, with room to spare: far from int64 overflow. */
#define RTC_STATE_SEC_LIMIT  INT64_C(1000000000000000)
#define RTC_STATE_YEAR_LIMIT INT64_C(100000)

GVariant *cmos_rtc_save(struct cmos_rtc *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	const struct cmos_rtc_tm *h = &rtc->held;
	GVariant *v = g_variant_new(CMOS_RTC_STATE_FORMAT, rtc->index, saved_state_blob(rtc->ram, sizeof(rtc->ram)),
				    rtc->offset_sec, rtc->phase_ns, h->year, h->mon, h->mday, h->hour, h->min, h->sec,
				    rtc->held_dirty, rtc->events_sec, rtc->flags);
	pthread_mutex_unlock(&rtc->lock);
	return v;
}

int cmos_rtc_restore(struct cmos_rtc *rtc, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, CMOS_RTC_STATE_TYPE, "rtc", error) < 0)
		return -EINVAL;
	guint8 index, flags;
	g_autoptr(GVariant) ram = NULL;
	gint64 offset, phase, events;
	struct cmos_rtc_tm h;
	gint64 year;
	gint32 mon, mday, hour, min, sec;
	gboolean dirty;
	g_variant_get(v, CMOS_RTC_STATE_FORMAT, &index, &ram, &offset, &phase, &year, &mon, &mday, &hour, &min, &sec,
		      &dirty, &events, &flags);
	uint8_t bytes[RTC_CMOS_SIZE];
	if (saved_state_blob_get(ram, bytes, sizeof(bytes), "rtc: CMOS RAM", error) < 0)
		return -EINVAL;
	if (index > RTC_INDEX_MASK || (flags & ~(RTC_C_PF | RTC_C_AF | RTC_C_UF)))
		return saved_state_fail(error, "rtc: index %#x, flags %#x", index, flags);
	if (phase < 0 || phase >= RTC_NS_PER_SEC || offset > RTC_STATE_SEC_LIMIT || offset < -RTC_STATE_SEC_LIMIT ||
	    events > RTC_STATE_SEC_LIMIT || events < -RTC_STATE_SEC_LIMIT)
		return saved_state_fail(error, "rtc: clock offset %" G_GINT64_FORMAT " s + %" G_GINT64_FORMAT " ns out of range",
					offset, phase);
	/* The held time comes from guest bytes: each field fits one. */
	if (year < 0 || year > RTC_STATE_YEAR_LIMIT || mon < 0 || mon > 255 || mday < 0 || mday > 255 || hour < 0 ||
	    hour > 255 || min < 0 || min > 255 || sec < 0 || sec > 255)
		return saved_state_fail(error, "rtc: held time %" G_GINT64_FORMAT "-%d-%d %d:%d:%d out of range", year,
					mon, mday, hour, min, sec);
	h = (struct cmos_rtc_tm){ .year = year, .mon = mon, .mday = mday, .hour = hour, .min = min, .sec = sec };
	pthread_mutex_lock(&rtc->lock);
	rtc->index = index;
	memcpy(rtc->ram, bytes, sizeof(rtc->ram));
	rtc->ram[RTC_REG_A] &= RTC_A_WRITABLE;
	rtc->offset_sec = offset;
	rtc->phase_ns = phase;
	rtc->held = h;
	rtc->held_dirty = dirty;
	rtc->events_sec = events;
	rtc->flags = flags;
	rtc->irq_level = false;
	cmos_rtc_update_irq(rtc);
	cmos_rtc_wakeup_fn fn = rtc->wakeup;
	void *fn_opaque = rtc->wakeup_opaque;
	pthread_mutex_unlock(&rtc->lock);
	/* The owner's timer learns what the restored clock waits for. */
	if (fn)
		fn(fn_opaque);
	return 0;
}
