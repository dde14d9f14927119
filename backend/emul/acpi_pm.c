// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI fixed hardware in one port block (layout.h): PM1a event and control
 * registers, the PM timer, the reset register and GPE0. There is no SMI_CMD,
 * so the machine is in ACPI mode from the start and SCI_EN always reads 1.
 *
 * Every register is reached byte by byte: the guest may read PM1a_EVT as one
 * 32-bit access or as two 16-bit ones, and a wide access that spans two
 * registers acts on each of them, as the chipset's byte lanes would.
 *
 * Not modelled: the PM timer overflow status (TMR_STS never sets, so TMR_EN
 * has no effect), bus-master and global-lock status, sleep states other than
 * S5 (the DSDT declares only \_S5), and the wake status, since nothing sleeps.
 */
#include <errno.h>
#include <pthread.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"
#include "hv/saved_state.h"

enum {
	PM_REG_PM1_STS = 0x00,
	PM_REG_PM1_EN = 0x02,
	PM_REG_PM1_CNT = 0x04,
	PM_REG_TMR = 0x08,
	PM_REG_RESET = 0x0C,
	PM_REG_GPE0_STS = 0x10,
	PM_REG_GPE0_EN = 0x12,
};
_Static_assert(PORT_ACPI_PM1A_CNT - PORT_ACPI_PM_BASE == PM_REG_PM1_CNT, "PM1a_CNT offset");
_Static_assert(PORT_ACPI_PM_TMR - PORT_ACPI_PM_BASE == PM_REG_TMR, "PM_TMR offset");
_Static_assert(PORT_ACPI_RESET - PORT_ACPI_PM_BASE == PM_REG_RESET, "reset register offset");
_Static_assert(PORT_ACPI_GPE0 - PORT_ACPI_PM_BASE == PM_REG_GPE0_STS, "GPE0 offset");

#define PM1_STS_TMR         0x0001
#define PM1_STS_BM          0x0010
#define PM1_STS_GBL         0x0020
#define PM1_STS_PWRBTN      0x0100
#define PM1_STS_SLPBTN      0x0200
#define PM1_STS_RTC         0x0400
#define PM1_STS_PCIEXP_WAKE 0x4000
#define PM1_STS_WAK         0x8000

#define PM1_EN_TMR          0x0001
#define PM1_EN_GBL          0x0020
#define PM1_EN_PWRBTN       0x0100
#define PM1_EN_SLPBTN       0x0200
#define PM1_EN_RTC          0x0400
#define PM1_EN_PCIEXP_WAKE_DIS 0x4000
#define PM1_EN_MASK         (PM1_EN_TMR | PM1_EN_GBL | PM1_EN_PWRBTN | PM1_EN_SLPBTN | \
			     PM1_EN_RTC | PM1_EN_PCIEXP_WAKE_DIS)
/* The status bits that raise the SCI when their enable bit is set. */
#define PM1_SCI_SOURCES     (PM1_STS_TMR | PM1_STS_GBL | PM1_STS_PWRBTN | PM1_STS_RTC)

#define PM1_CNT_SCI_EN      0x0001
#define PM1_CNT_BM_RLD      0x0002
#define PM1_CNT_GBL_RLS     0x0004  /* write-only: would signal firmware, which is absent */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP     0x1C00
#define PM1_CNT_SLP_EN      0x2000  /* write-only */
#define PM1_CNT_STORED      (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP)

#define PM_TMR_HZ           UINT64_C(3579545)
#define PM_NS_PER_SEC       UINT64_C(1000000000)

struct acpi_pm {
	pthread_mutex_t lock;
	const struct irq_line *sci;
	acpi_pm_event_fn event;
	void *event_opaque;
	acpi_pm_clock_fn clock;
	void *clock_opaque;
	uint64_t tmr_base_ns;

	uint16_t pm1_sts, pm1_en, pm1_cnt, gpe0_sts, gpe0_en;
	bool sci_level;
};

/* Pending events found while the lock is held, delivered after it is dropped. */
struct acpi_pm_pending {
	bool poweroff, reset;
};

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	bool level = (pm->pm1_sts & pm->pm1_en & PM1_SCI_SOURCES) || (pm->gpe0_sts & pm->gpe0_en);
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(pm->sci, level);
	}
}

static uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	uint64_t now = pm->clock ? pm->clock(pm->clock_opaque) : 0;
	uint64_t elapsed = now - pm->tmr_base_ns;
	/* 128 bits: ns times 3.58 MHz overflows 64 bits after about 86 minutes. */
	unsigned __int128 ticks = (unsigned __int128)elapsed * PM_TMR_HZ / PM_NS_PER_SEC;
	return (uint32_t)ticks;   /* TMR_VAL_EXT: all 32 bits count */
}

static uint8_t acpi_pm_byte(uint32_t reg, unsigned byte)
{
	return (uint8_t)(reg >> (8 * byte));
}

static uint8_t acpi_pm_read_byte(const struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
	switch (off) {
	case PM_REG_PM1_STS:
	case PM_REG_PM1_STS + 1:
		return acpi_pm_byte(pm->pm1_sts, off - PM_REG_PM1_STS);
	case PM_REG_PM1_EN:
	case PM_REG_PM1_EN + 1:
		return acpi_pm_byte(pm->pm1_en, off - PM_REG_PM1_EN);
	case PM_REG_PM1_CNT:
	case PM_REG_PM1_CNT + 1:
		return acpi_pm_byte(pm->pm1_cnt | PM1_CNT_SCI_EN, off - PM_REG_PM1_CNT);
	case PM_REG_TMR:
	case PM_REG_TMR + 1:
	case PM_REG_TMR + 2:
	case PM_REG_TMR + 3:
		return acpi_pm_byte(tmr, off - PM_REG_TMR);
	case PM_REG_GPE0_STS:
	case PM_REG_GPE0_STS + 1:
		return acpi_pm_byte(pm->gpe0_sts, off - PM_REG_GPE0_STS);
	case PM_REG_GPE0_EN:
	case PM_REG_GPE0_EN + 1:
		return acpi_pm_byte(pm->gpe0_en, off - PM_REG_GPE0_EN);
	default:
		/* The reset register and the gaps read as zero. */
		return 0;
	}
}

static void acpi_pm_write_cnt_high(struct acpi_pm *pm, uint8_t val, struct acpi_pm_pending *ev)
{
	uint16_t v = (uint16_t)(val << 8);
	pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & 0x00FF) | (v & PM1_CNT_STORED & 0xFF00));
	if (!(v & PM1_CNT_SLP_EN))
		return;
	unsigned slp_typ = (v & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT;
	if (slp_typ == ACPI_S5_SLP_TYP)
		ev->poweroff = true;
	else
		g_debug("acpi_pm: sleep type %u requested, not supported", slp_typ);
}

static void acpi_pm_write_byte(struct acpi_pm *pm, unsigned off, uint8_t val, struct acpi_pm_pending *ev)
{
	switch (off) {
	case PM_REG_PM1_STS:
	case PM_REG_PM1_STS + 1:
		pm->pm1_sts &= (uint16_t)~((unsigned)val << (8 * (off - PM_REG_PM1_STS)));
		break;
	case PM_REG_PM1_EN:
	case PM_REG_PM1_EN + 1: {
		unsigned shift = 8 * (off - PM_REG_PM1_EN);
		uint16_t v = (uint16_t)((pm->pm1_en & ~(0xFFu << shift)) | ((unsigned)val << shift));
		pm->pm1_en = v & PM1_EN_MASK;
		break;
	}
	case PM_REG_PM1_CNT:
		pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & 0xFF00) | (val & PM1_CNT_STORED & 0x00FF));
		break;
	case PM_REG_PM1_CNT + 1:
		acpi_pm_write_cnt_high(pm, val, ev);
		break;
	case PM_REG_RESET:
		if (val == ACPI_RESET_VALUE)
			ev->reset = true;
		break;
	case PM_REG_GPE0_STS:
	case PM_REG_GPE0_STS + 1:
		pm->gpe0_sts &= (uint16_t)~((unsigned)val << (8 * (off - PM_REG_GPE0_STS)));
		break;
	case PM_REG_GPE0_EN:
	case PM_REG_GPE0_EN + 1: {
		unsigned shift = 8 * (off - PM_REG_GPE0_EN);
		pm->gpe0_en = (uint16_t)((pm->gpe0_en & ~(0xFFu << shift)) | ((unsigned)val << shift));
		break;
	}
	default:
		/* The PM timer is read-only; the gaps ignore writes. */
		break;
	}
}

static bool acpi_pm_in_block(uint64_t offset, uint32_t i)
{
	return offset < PORT_ACPI_PM_LEN && i < PORT_ACPI_PM_LEN - offset;
}

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	/* One sample per access, so a 32-bit read sees one consistent count. */
	uint32_t tmr = acpi_pm_timer(pm);
	for (uint32_t i = 0; i < len; i++)
		data[i] = acpi_pm_in_block(offset, i) ? acpi_pm_read_byte(pm, (unsigned)(offset + i), tmr) : 0xFF;
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;
	struct acpi_pm_pending ev = { 0 };
	pthread_mutex_lock(&pm->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (acpi_pm_in_block(offset, i))
			acpi_pm_write_byte(pm, (unsigned)(offset + i), data[i], &ev);
	}
	acpi_pm_update_sci(pm);
	acpi_pm_event_fn fn = pm->event;
	void *fn_opaque = pm->event_opaque;
	pthread_mutex_unlock(&pm->lock);
	/* Outside the lock: the owner stops the partition from here. */
	if (fn && ev.poweroff)
		fn(fn_opaque, ACPI_PM_POWEROFF);
	if (fn && ev.reset)
		fn(fn_opaque, ACPI_PM_RESET);
}

const struct iobus_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

struct acpi_pm *acpi_pm_new(const struct irq_line *sci, acpi_pm_event_fn event, void *event_opaque,
			    acpi_pm_clock_fn clock, void *clock_opaque)
{
	struct acpi_pm *pm = g_new0(struct acpi_pm, 1);
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = sci;
	pm->event = event;
	pm->event_opaque = event_opaque;
	pm->clock = clock;
	pm->clock_opaque = clock_opaque;
	pm->tmr_base_ns = clock ? clock(clock_opaque) : 0;
	return pm;
}

void acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	g_free(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts |= PM1_STS_PWRBTN;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_raise_gpe(struct acpi_pm *pm, unsigned bit)
{
	if (bit >= ACPI_PM_GPE0_BITS)
		return;
	pthread_mutex_lock(&pm->lock);
	pm->gpe0_sts |= (uint16_t)(1u << bit);
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = pm->pm1_en = pm->pm1_cnt = 0;
	pm->gpe0_sts = pm->gpe0_en = 0;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* ---- saved state ---- */

GVariant *acpi_pm_save(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	GVariant *v = g_variant_new(ACPI_PM_STATE_TYPE, pm->pm1_sts, pm->pm1_en, pm->pm1_cnt, pm->gpe0_sts, pm->gpe0_en,
				    acpi_pm_timer(pm));
	pthread_mutex_unlock(&pm->lock);
	return v;
}

int acpi_pm_restore(struct acpi_pm *pm, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, ACPI_PM_STATE_TYPE, "acpi-pm", error) < 0)
		return -EINVAL;
	guint16 sts, en, cnt, gsts, gen;
	guint32 ticks;
	g_variant_get(v, ACPI_PM_STATE_TYPE, &sts, &en, &cnt, &gsts, &gen, &ticks);
	if ((en & ~PM1_EN_MASK) || (cnt & ~PM1_CNT_STORED))
		return saved_state_fail(error, "acpi-pm: PM1 enable %#x or control %#x has bits the guest cannot set", en,
					cnt);
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = sts;
	pm->pm1_en = en;
	pm->pm1_cnt = cnt;
	pm->gpe0_sts = gsts;
	pm->gpe0_en = gen;
	/* The PM timer goes on from where it stood. */
	uint64_t now = pm->clock ? pm->clock(pm->clock_opaque) : 0;
	pm->tmr_base_ns = now - (uint64_t)((unsigned __int128)ticks * PM_NS_PER_SEC / PM_TMR_HZ);
	pm->sci_level = false;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}
