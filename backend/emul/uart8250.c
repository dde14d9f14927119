// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A 16550A UART as seen by a PC guest at COM1. Transmitted bytes leave for the
 * chardev sink the moment they are written, so the transmitter is always
 * empty; received bytes wait in a 16-byte FIFO that the host fills with
 * uart8250_receive(). Baud rate, word format and parity are stored for the
 * guest to read back but have no effect.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/saved_state.h"

enum {
	UART_REG_DATA = 0,   /* RBR (read) / THR (write); DLL when LCR.DLAB */
	UART_REG_IER = 1,    /* DLM when LCR.DLAB */
	UART_REG_IIR = 2,    /* IIR (read) / FCR (write) */
	UART_REG_LCR = 3,
	UART_REG_MCR = 4,
	UART_REG_LSR = 5,
	UART_REG_MSR = 6,
	UART_REG_SCR = 7,
	UART_NUM_REGS = 8,
};

#define UART_IER_ERBFI   0x01  /* received data available */
#define UART_IER_ETBEI   0x02  /* transmitter holding register empty */
#define UART_IER_ELSI    0x04  /* receiver line status */
#define UART_IER_EDSSI   0x08  /* modem status */
/* A 16550A has no sleep, low-power or UART-enable bits: probes for XScale and
 * 16750 parts rely on the upper half reading back as zero. */
#define UART_IER_MASK    0x0F

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_TIMEOUT 0x0C
#define UART_IIR_FIFOS   0xC0  /* both bits: FIFOs enabled and working (16550A) */

#define UART_FCR_ENABLE  0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_TRIGGER_SHIFT 6

#define UART_LCR_DLAB    0x80

#define UART_MCR_DTR     0x01
#define UART_MCR_RTS     0x02
#define UART_MCR_OUT1    0x04
#define UART_MCR_OUT2    0x08
#define UART_MCR_LOOP    0x10
#define UART_MCR_MASK    0x1F

#define UART_LSR_DR      0x01
#define UART_LSR_OE      0x02
#define UART_LSR_PE      0x04
#define UART_LSR_FE      0x08
#define UART_LSR_BI      0x10
#define UART_LSR_THRE    0x20
#define UART_LSR_TEMT    0x40
#define UART_LSR_ERRORS  (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS    0x01
#define UART_MSR_DDSR    0x02
#define UART_MSR_TERI    0x04
#define UART_MSR_DDCD    0x08
#define UART_MSR_DELTAS  0x0F
#define UART_MSR_CTS     0x10
#define UART_MSR_DSR     0x20
#define UART_MSR_RI      0x40
#define UART_MSR_DCD     0x80

#define UART_FIFO_SIZE   16

/*
 * With no firmware to program the divisor latch, the value after reset is
 * what a guest finds; Linux's boot stub divides by it to guess the baud rate,
 * so it must not be zero. 1 is 115200 baud with the PC's 1.8432 MHz clock.
 */
#define UART_RESET_DIVISOR 1

/* The host end is always "connected": carrier, data set ready, clear to send. */
#define UART_MSR_HOST_LINES (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

struct uart8250 {
	pthread_mutex_t lock;   /* pthread rather than GMutex: ThreadSanitizer understands it */
	const struct irq_line *irq;
	const struct chardev_sink *out;

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t rbr;            /* last byte read: RBR keeps it once the FIFO is empty */

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_errors;     /* OE and friends, cleared by reading LSR */
	uint8_t msr_deltas;     /* cleared by reading MSR */
	uint8_t msr_lines;      /* the modem inputs as the guest currently sees them */
	bool fifo_enabled;
	unsigned rx_trigger;
	bool thre_pending;      /* THRE interrupt armed and not yet acknowledged */
	bool irq_level;
};

static unsigned uart8250_capacity(const struct uart8250 *uart)
{
	return uart->fifo_enabled ? UART_FIFO_SIZE : 1;
}

static uint8_t uart8250_modem_inputs(const struct uart8250 *uart)
{
	if (!(uart->mcr & UART_MCR_LOOP))
		return UART_MSR_HOST_LINES;
	/* Loopback wires the four modem outputs back to the four inputs. */
	uint8_t v = 0;
	if (uart->mcr & UART_MCR_RTS)
		v |= UART_MSR_CTS;
	if (uart->mcr & UART_MCR_DTR)
		v |= UART_MSR_DSR;
	if (uart->mcr & UART_MCR_OUT1)
		v |= UART_MSR_RI;
	if (uart->mcr & UART_MCR_OUT2)
		v |= UART_MSR_DCD;
	return v;
}

static void uart8250_update_modem_lines(struct uart8250 *uart)
{
	uint8_t now = uart8250_modem_inputs(uart);
	uint8_t changed = now ^ uart->msr_lines;
	if (changed & UART_MSR_CTS)
		uart->msr_deltas |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		uart->msr_deltas |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		uart->msr_deltas |= UART_MSR_DDCD;
	/* Only the trailing edge of ring indicator counts. */
	if ((changed & UART_MSR_RI) && !(now & UART_MSR_RI))
		uart->msr_deltas |= UART_MSR_TERI;
	uart->msr_lines = now;
}

static uint8_t uart8250_iir(const struct uart8250 *uart)
{
	uint8_t id;
	if ((uart->ier & UART_IER_ELSI) && (uart->lsr_errors & UART_LSR_ERRORS))
		id = UART_IIR_RLSI;
	else if ((uart->ier & UART_IER_ERBFI) && uart->rx_count > 0)
		/*
		 * Bytes below the trigger level would raise the character
		 * timeout after four character times with no new data; the
		 * host hands bytes over in bursts, so that time has always passed.
		 * Without FIFOs the trigger level is 1 and this is plain RDI.
		 */
		id = uart->rx_count >= uart->rx_trigger ? UART_IIR_RDI : UART_IIR_TIMEOUT;
	else if ((uart->ier & UART_IER_ETBEI) && uart->thre_pending)
		id = UART_IIR_THRI;
	else if ((uart->ier & UART_IER_EDSSI) && (uart->msr_deltas & UART_MSR_DELTAS))
		id = UART_IIR_MSI;
	else
		id = UART_IIR_NO_INT;
	return id | (uart->fifo_enabled ? UART_IIR_FIFOS : 0);
}

/* Called with the lock held so that levels from two vCPUs cannot cross. */
static void uart8250_update_irq(struct uart8250 *uart)
{
	bool level = !(uart8250_iir(uart) & UART_IIR_NO_INT);
	if (level != uart->irq_level) {
		uart->irq_level = level;
		irq_line_set(uart->irq, level);
	}
}

static void uart8250_rx_clear(struct uart8250 *uart)
{
	uart->rx_head = 0;
	uart->rx_count = 0;
}

/* One byte arrives at the receiver; false when there was no room for it. */
static bool uart8250_rx_push(struct uart8250 *uart, uint8_t byte)
{
	if (uart->rx_count >= uart8250_capacity(uart))
		return false;
	uart->rx[(uart->rx_head + uart->rx_count) % UART_FIFO_SIZE] = byte;
	uart->rx_count++;
	return true;
}

static uint8_t uart8250_rx_pop(struct uart8250 *uart)
{
	if (uart->rx_count > 0) {
		uart->rbr = uart->rx[uart->rx_head];
		uart->rx_head = (uart->rx_head + 1) % UART_FIFO_SIZE;
		uart->rx_count--;
	}
	return uart->rbr;
}

static void uart8250_transmit(struct uart8250 *uart, uint8_t byte)
{
	if (uart->mcr & UART_MCR_LOOP) {
		if (!uart8250_rx_push(uart, byte)) {
			/* A full FIFO keeps its bytes and loses the new one; without
			 * FIFOs the holding register is overwritten. Either way: overrun. */
			if (!uart->fifo_enabled)
				uart->rx[uart->rx_head] = byte;
			uart->lsr_errors |= UART_LSR_OE;
		}
	} else if (uart->out && uart->out->write) {
		uart->out->write(uart->out->opaque, &byte, 1);
	}
	/* The byte left at once: the holding register is empty again. */
	uart->thre_pending = true;
}

static void uart8250_write_fcr(struct uart8250 *uart, uint8_t val)
{
	static const unsigned triggers[4] = { 1, 4, 8, 14 };
	bool enable = val & UART_FCR_ENABLE;
	/* Switching the FIFOs on or off empties them. */
	if (enable != uart->fifo_enabled) {
		uart8250_rx_clear(uart);
		uart->fifo_enabled = enable;
	}
	if (!enable) {
		uart->rx_trigger = 1;
		return;
	}
	if (val & UART_FCR_CLEAR_RX)
		uart8250_rx_clear(uart);
	uart->rx_trigger = triggers[(val >> UART_FCR_TRIGGER_SHIFT) & 3];
}

static uint8_t uart8250_read_reg(struct uart8250 *uart, unsigned reg)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;
	uint8_t v;
	switch (reg) {
	case UART_REG_DATA:
		return dlab ? uart->dll : uart8250_rx_pop(uart);
	case UART_REG_IER:
		return dlab ? uart->dlm : uart->ier;
	case UART_REG_IIR:
		v = uart8250_iir(uart);
		/* Reading IIR acknowledges a THRE interrupt, and only that one. */
		if ((v & ~UART_IIR_FIFOS) == UART_IIR_THRI)
			uart->thre_pending = false;
		return v;
	case UART_REG_LCR:
		return uart->lcr;
	case UART_REG_MCR:
		return uart->mcr;
	case UART_REG_LSR:
		v = uart->lsr_errors | UART_LSR_THRE | UART_LSR_TEMT;
		if (uart->rx_count > 0)
			v |= UART_LSR_DR;
		uart->lsr_errors = 0;
		return v;
	case UART_REG_MSR:
		v = uart->msr_lines | uart->msr_deltas;
		uart->msr_deltas = 0;
		return v;
	case UART_REG_SCR:
		return uart->scr;
	default:
		return 0xFF;
	}
}

static void uart8250_write_reg(struct uart8250 *uart, unsigned reg, uint8_t val)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;
	uint8_t old;
	switch (reg) {
	case UART_REG_DATA:
		if (dlab)
			uart->dll = val;
		else
			uart8250_transmit(uart, val);
		break;
	case UART_REG_IER:
		if (dlab) {
			uart->dlm = val;
			break;
		}
		old = uart->ier;
		uart->ier = val & UART_IER_MASK;
		/* Enabling the THRE interrupt while the holding register is empty
		 * raises it again, even if it was acknowledged before: Linux's
		 * startup tests for exactly this. */
		if ((uart->ier & UART_IER_ETBEI) && !(old & UART_IER_ETBEI))
			uart->thre_pending = true;
		break;
	case UART_REG_IIR:
		uart8250_write_fcr(uart, val);
		break;
	case UART_REG_LCR:
		/* Break (bit 6) is stored but sends nothing: the sink has no way to carry it. */
		uart->lcr = val;
		break;
	case UART_REG_MCR:
		uart->mcr = val & UART_MCR_MASK;
		uart8250_update_modem_lines(uart);
		break;
	case UART_REG_SCR:
		uart->scr = val;
		break;
	default:
		/* LSR and MSR are read-only; a write changes nothing. */
		break;
	}
}

static void uart8250_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct uart8250 *uart = opaque;
	pthread_mutex_lock(&uart->lock);
	for (uint32_t i = 0; i < len; i++) {
		/* A wide access reaches consecutive ports byte by byte, as on the ISA bus. */
		if (offset < UART_NUM_REGS && i < UART_NUM_REGS - offset)
			data[i] = uart8250_read_reg(uart, (unsigned)(offset + i));
		else
			data[i] = 0xFF;
	}
	uart8250_update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
}

static void uart8250_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct uart8250 *uart = opaque;
	pthread_mutex_lock(&uart->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset < UART_NUM_REGS && i < UART_NUM_REGS - offset)
			uart8250_write_reg(uart, (unsigned)(offset + i), data[i]);
	}
	uart8250_update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
}

const struct iobus_ops uart8250_ops = {
	.read = uart8250_read,
	.write = uart8250_write,
};

struct uart8250 *uart8250_new(const struct irq_line *irq, const struct chardev_sink *out)
{
	struct uart8250 *uart = g_new0(struct uart8250, 1);
	pthread_mutex_init(&uart->lock, NULL);
	uart->irq = irq;
	uart->out = out;
	uart->dll = UART_RESET_DIVISOR & 0xFF;
	uart->dlm = UART_RESET_DIVISOR >> 8;
	uart->rx_trigger = 1;
	uart->msr_lines = uart8250_modem_inputs(uart);
	uart->thre_pending = true;
	return uart;
}

void uart8250_free(struct uart8250 *uart)
{
	if (!uart)
		return;
	pthread_mutex_destroy(&uart->lock);
	g_free(uart);
}

static size_t uart8250_room_locked(const struct uart8250 *uart)
{
	/* Loopback disconnects the serial input: host bytes wait on the host side. */
	if (uart->mcr & UART_MCR_LOOP)
		return 0;
	return uart8250_capacity(uart) - uart->rx_count;
}

size_t uart8250_receive(struct uart8250 *uart, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&uart->lock);
	size_t n = uart8250_room_locked(uart);
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		uart8250_rx_push(uart, buf[i]);
	uart8250_update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

size_t uart8250_rx_room(struct uart8250 *uart)
{
	pthread_mutex_lock(&uart->lock);
	size_t n = uart8250_room_locked(uart);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

/* ---- saved state ---- */

GVariant *uart8250_save(struct uart8250 *uart)
{
	pthread_mutex_lock(&uart->lock);
	uint8_t rx[UART_FIFO_SIZE];
	for (unsigned i = 0; i < uart->rx_count; i++)
		rx[i] = uart->rx[(uart->rx_head + i) % UART_FIFO_SIZE];
	GVariant *v = g_variant_new(UART8250_STATE_FORMAT, saved_state_blob(rx, uart->rx_count), uart->rbr, uart->ier,
				    uart->lcr, uart->mcr, uart->scr, uart->dll, uart->dlm, uart->lsr_errors,
				    uart->msr_deltas, uart->fifo_enabled, (guint8)uart->rx_trigger, uart->thre_pending);
	pthread_mutex_unlock(&uart->lock);
	return v;
}

int uart8250_restore(struct uart8250 *uart, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, UART8250_STATE_TYPE, "uart", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) rxv = NULL;
	guint8 rbr, ier, lcr, mcr, scr, dll, dlm, lsr, deltas, trigger;
	gboolean fifo, thre;
	g_variant_get(v, UART8250_STATE_FORMAT, &rxv, &rbr, &ier, &lcr, &mcr, &scr, &dll, &dlm, &lsr, &deltas, &fifo,
		      &trigger, &thre);
	size_t n;
	const uint8_t *rx = saved_state_blob_peek(rxv, &n);
	if (n > (fifo ? UART_FIFO_SIZE : 1u))
		return saved_state_fail(error, "uart: %zu bytes in a receive FIFO of %u", n, fifo ? UART_FIFO_SIZE : 1u);
	if (fifo ? (trigger != 1 && trigger != 4 && trigger != 8 && trigger != 14) : trigger != 1)
		return saved_state_fail(error, "uart: receive trigger level %u", trigger);
	if ((ier & ~UART_IER_MASK) || (mcr & ~UART_MCR_MASK) || (lsr & ~UART_LSR_ERRORS) || (deltas & ~UART_MSR_DELTAS))
		return saved_state_fail(error, "uart: register bits a 16550A does not have (IER %#x, MCR %#x, LSR %#x, MSR %#x)",
					ier, mcr, lsr, deltas);
	pthread_mutex_lock(&uart->lock);
	memcpy(uart->rx, rx, n);
	uart->rx_head = 0;
	uart->rx_count = (unsigned)n;
	uart->rbr = rbr;
	uart->ier = ier;
	uart->lcr = lcr;
	uart->mcr = mcr;
	uart->scr = scr;
	uart->dll = dll;
	uart->dlm = dlm;
	uart->lsr_errors = lsr;
	uart->msr_deltas = deltas;
	uart->msr_lines = uart8250_modem_inputs(uart);
	uart->fifo_enabled = fifo;
	uart->rx_trigger = trigger;
	uart->thre_pending = thre;
	/* The line follows from the registers; the irqchip's own state comes after. */
	uart->irq_level = false;
	uart8250_update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
	return 0;
}
