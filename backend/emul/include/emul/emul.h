/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The legacy devices a direct-boot guest needs. Each model is independent of
 * KVM: it is registered on an iobus and drives irq_lines, so unit tests run
 * it without a partition.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <glib.h>

#include "hv/iobus.h"
#include "hv/irq.h"
#include "emul/chardev.h"

/* 16550A UART. */
struct uart8250;
struct uart8250 *uart8250_new(const struct irq_line *irq, const struct chardev_sink *out);
void uart8250_free(struct uart8250 *uart);
extern const struct iobus_ops uart8250_ops;
/* Host → guest bytes; returns how many fitted in the receive FIFO. */
size_t uart8250_receive(struct uart8250 *uart, const uint8_t *buf, size_t len);
size_t uart8250_rx_room(struct uart8250 *uart);

/* MC146818 RTC and CMOS RAM, in binary/BCD and 12/24h modes as the guest sets. */
struct cmos_rtc;
typedef int64_t (*cmos_clock_fn)(void *opaque);  /* host wall time in ns since the epoch */
struct cmos_rtc *cmos_rtc_new(const struct irq_line *irq, cmos_clock_fn clock, void *clock_opaque);
void cmos_rtc_free(struct cmos_rtc *rtc);
extern const struct iobus_ops cmos_rtc_ops;  /* ports 0x70-0x71 */
/* CMOS RAM survives a guest reset; the worker keeps the object across reboots. */
void cmos_rtc_set_memory_size(struct cmos_rtc *rtc, uint64_t low_bytes, uint64_t high_bytes);
/*
 * Alarm and update-ended interrupts need a timer the device does not own.
 * cmos_rtc_poll() brings the flags up to date, drives the IRQ and returns in
 * how many ns to call it again, or -1 while the guest enables neither
 * interrupt. The wakeup callback says the guest changed what the clock waits
 * for (interrupt enables, SET, a new time): call cmos_rtc_poll() soon to
 * re-arm the timer. It runs on a vCPU thread, outside the device lock.
 */
typedef void (*cmos_rtc_wakeup_fn)(void *opaque);
void cmos_rtc_set_wakeup(struct cmos_rtc *rtc, cmos_rtc_wakeup_fn fn, void *opaque);
int64_t cmos_rtc_poll(struct cmos_rtc *rtc);

/* i8042 controller, only as much as a guest needs for the reset line. */
struct i8042;
typedef void (*i8042_reset_fn)(void *opaque);
struct i8042 *i8042_new(i8042_reset_fn reset, void *opaque);
void i8042_free(struct i8042 *kbc);
extern const struct iobus_ops i8042_data_ops;  /* register at PORT_I8042_DATA, len 1 */
extern const struct iobus_ops i8042_cmd_ops;   /* register at PORT_I8042_CMD, len 1 */

/* ACPI fixed hardware: PM1a event/control, PM timer, reset register, GPE0. */
struct acpi_pm;
enum acpi_pm_event { ACPI_PM_POWEROFF, ACPI_PM_RESET };
typedef void (*acpi_pm_event_fn)(void *opaque, enum acpi_pm_event ev);
typedef uint64_t (*acpi_pm_clock_fn)(void *opaque);  /* monotonic ns */
struct acpi_pm *acpi_pm_new(const struct irq_line *sci, acpi_pm_event_fn event, void *event_opaque,
			    acpi_pm_clock_fn clock, void *clock_opaque);
void acpi_pm_free(struct acpi_pm *pm);
extern const struct iobus_ops acpi_pm_ops;  /* register at PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN */
/* The host presses the power button: PWRBTN_STS is set and the SCI raised if enabled. */
void acpi_pm_power_button(struct acpi_pm *pm);
/* A reset clears the event registers; ACPI mode (SCI_EN) stays on since there is no SMI_CMD. */
void acpi_pm_reset(struct acpi_pm *pm);
/* A general-purpose event: sets GPE0_STS bit `bit` (< ACPI_PM_GPE0_BITS) and raises the SCI if enabled. */
#define ACPI_PM_GPE0_BITS 16
void acpi_pm_raise_gpe(struct acpi_pm *pm, unsigned bit);

/*
 * Saved state of each model (saved_state.h): its registers and buffers. A
 * restore checks every value against what the guest could have set, makes
 * the interrupt line follow the restored registers, and changes nothing
 * when it refuses (-EINVAL with error set). The PM timer and the RTC go on
 * from the saved state (the RTC follows the host's wall clock, as before).
 */
#define UART8250_STATE_TYPE   "(ayyyyyyyyyybyb)"
#define UART8250_STATE_FORMAT "(@ayyyyyyyyyybyb)"
GVariant *uart8250_save(struct uart8250 *uart);
int uart8250_restore(struct uart8250 *uart, GVariant *v, GError **error);
#define CMOS_RTC_STATE_TYPE   "(yayxxxiiiiibxy)"
#define CMOS_RTC_STATE_FORMAT "(y@ayxxxiiiiibxy)"
GVariant *cmos_rtc_save(struct cmos_rtc *rtc);
int cmos_rtc_restore(struct cmos_rtc *rtc, GVariant *v, GError **error);
#define I8042_STATE_TYPE      "(ayyybbby)"
#define I8042_STATE_FORMAT    "(@ayyybbby)"
GVariant *i8042_save(struct i8042 *kbc);
int i8042_restore(struct i8042 *kbc, GVariant *v, GError **error);
#define ACPI_PM_STATE_TYPE    "(qqqqqu)"
GVariant *acpi_pm_save(struct acpi_pm *pm);
int acpi_pm_restore(struct acpi_pm *pm, GVariant *v, GError **error);
