// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct rig {
	struct iobus *bus;
	struct uart8250 *uart;
	struct irq_line irq;
	struct chardev_sink sink;
	GByteArray *out;
	bool level;
	int raises;
};

static void rig_set_level(void *opaque, unsigned gsi, bool level)
{
	struct rig *r = opaque;
	g_assert_cmpuint(gsi, ==, IRQ_COM1);
	if (level && !r->level)
		r->raises++;
	r->level = level;
}

static void rig_sink_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct rig *r = opaque;
	g_byte_array_append(r->out, buf, (guint)len);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->bus = iobus_new("pio");
	r->irq = (struct irq_line){ rig_set_level, r, IRQ_COM1 };
	r->sink = (struct chardev_sink){ rig_sink_write, r };
	r->out = g_byte_array_new();
	r->uart = uart8250_new(&r->irq, &r->sink);
	g_assert_cmpint(iobus_register(r->bus, PORT_COM1, PORT_COM1_LEN, &uart8250_ops, r->uart), ==, 0);
}

static void rig_fini(struct rig *r)
{
	uart8250_free(r->uart);
	iobus_free(r->bus);
	g_byte_array_unref(r->out);
}

static uint8_t rd(struct rig *r, unsigned reg)
{
	uint8_t v = 0;
	g_assert_true(iobus_access(r->bus, PORT_COM1 + reg, &v, 1, false));
	return v;
}

static void wr(struct rig *r, unsigned reg, uint8_t v)
{
	g_assert_true(iobus_access(r->bus, PORT_COM1 + reg, &v, 1, true));
}

/* What Linux's autoconfig() learns from the port, step by step. */
static void test_linux_probe(void)
{
	struct rig r;
	rig_init(&r);

	/* IER: the low nibble is writable, the high nibble reads zero. */
	uint8_t saved_ier = rd(&r, IER);
	wr(&r, IER, 0);
	g_assert_cmphex(rd(&r, IER) & 0x0F, ==, 0);
	wr(&r, IER, 0x0F);
	g_assert_cmphex(rd(&r, IER), ==, 0x0F);
	wr(&r, IER, saved_ier);

	/* Loopback: OUT2 and RTS come back as DCD and CTS. */
	uint8_t saved_mcr = rd(&r, MCR);
	wr(&r, MCR, 0x10 | 0x0A);
	g_assert_cmphex(rd(&r, MSR) & 0xF0, ==, 0x90);
	wr(&r, MCR, saved_mcr);

	/* The EFR write under LCR=0xBF lands in FCR; then FIFOs on: 16550A. */
	uint8_t saved_lcr = rd(&r, LCR);
	wr(&r, LCR, 0xBF);
	wr(&r, 2, 0);
	wr(&r, LCR, 0);
	wr(&r, FCR, 0x01);
	g_assert_cmphex(rd(&r, IIR) >> 6, ==, 3);

	/* No EFR: offset 2 still reads IIR, which is never zero with FIFOs on. */
	wr(&r, LCR, 0x80);
	g_assert_cmphex(rd(&r, 2), !=, 0);
	wr(&r, LCR, 0xBF);
	g_assert_cmphex(rd(&r, 2), !=, 0);

	/* Not a National SuperIO: offset 2 under LCR=0xE0 does not follow MCR.LOOP. */
	wr(&r, LCR, 0);
	uint8_t mcr = rd(&r, MCR);
	wr(&r, LCR, 0xE0);
	uint8_t excr1 = rd(&r, 2);
	g_assert_cmphex((excr1 ^ mcr) & 0x10, ==, 0);
	wr(&r, LCR, 0);
	wr(&r, MCR, mcr ^ 0x10);
	wr(&r, LCR, 0xE0);
	excr1 = rd(&r, 2);
	wr(&r, LCR, 0);
	wr(&r, MCR, mcr);
	g_assert_cmphex((excr1 ^ mcr) & 0x10, ==, 0);

	/* Not a 16750: the 64-byte FIFO bit never shows in IIR. */
	wr(&r, LCR, 0x80);
	wr(&r, FCR, 0x21);
	uint8_t s1 = rd(&r, IIR) >> 5;
	wr(&r, LCR, 0);
	wr(&r, FCR, 0x21);
	uint8_t s2 = rd(&r, IIR) >> 5;
	g_assert_false(s1 == 6 && s2 == 7);
	g_assert_cmphex(s2, ==, 6);

	/* Not an XScale: the UART-enable bit of IER does not stick. */
	wr(&r, IER, 0x40);
	g_assert_cmphex(rd(&r, IER) & 0x40, ==, 0);
	wr(&r, IER, 0);

	/* Scratch register. */
	wr(&r, SCR, 0xA5);
	g_assert_cmphex(rd(&r, SCR), ==, 0xA5);
	wr(&r, SCR, 0x5A);
	g_assert_cmphex(rd(&r, SCR), ==, 0x5A);

	wr(&r, LCR, saved_lcr);
	/* startup(): LSR must not float, and the divisor must not be zero. */
	g_assert_cmphex(rd(&r, LSR), !=, 0xFF);
	g_assert_cmphex(rd(&r, LSR), ==, 0x60);
	wr(&r, LCR, 0x83);
	g_assert_cmpuint(rd(&r, DLL) | rd(&r, DLM) << 8, !=, 0);
	wr(&r, DLL, 0x0C);
	wr(&r, DLM, 0x00);
	g_assert_cmphex(rd(&r, DLL), ==, 0x0C);
	wr(&r, LCR, 0x03);
	g_assert_cmphex(rd(&r, LCR), ==, 0x03);
	g_assert_cmpuint(r.out->len, ==, 0);
	g_assert_false(r.level);
	rig_fini(&r);
}

static void test_tx(void)
{
	struct rig r;
	rig_init(&r);
	const char *msg = "hello, world\n";
	for (const char *p = msg; *p; p++) {
		g_assert_cmphex(rd(&r, LSR) & 0x60, ==, 0x60);
		wr(&r, THR, (uint8_t)*p);
	}
	g_assert_cmpmem(r.out->data, r.out->len, msg, strlen(msg));
	/* With DLAB set, offset 0 is the divisor, not the transmitter. */
	wr(&r, LCR, 0x80);
	wr(&r, 0, 'X');
	wr(&r, LCR, 0x03);
	g_assert_cmpuint(r.out->len, ==, strlen(msg));
	rig_fini(&r);
}

static void test_thre_interrupt(void)
{
	struct rig r;
	rig_init(&r);
	/* The sequence of Linux's startup THRE test. */
	wr(&r, IER, 0x02);
	g_assert_true(r.level);
	uint8_t iir1 = rd(&r, IIR);
	g_assert_cmphex(iir1, ==, 0x02);
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, IIR), ==, 0x01);
	wr(&r, IER, 0);
	wr(&r, IER, 0x02);
	uint8_t iir = rd(&r, IIR);
	wr(&r, IER, 0);
	g_assert_false(!(iir1 & 1) && (iir & 1));
	g_assert_false(r.level);

	/* A write re-arms THRE at once: the byte has already left. */
	wr(&r, FCR, 0x07);
	wr(&r, IER, 0x02);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC2);
	g_assert_false(r.level);
	wr(&r, THR, 'a');
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC2);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC1);
	/* Disabling the interrupt lowers the line. */
	wr(&r, THR, 'b');
	g_assert_true(r.level);
	wr(&r, IER, 0);
	g_assert_false(r.level);
	/* Enabling another source keeps THRE off until ETBEI is turned on again. */
	wr(&r, IER, 0x01);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC1);
	rig_fini(&r);
}

static void test_rx_fifo(void)
{
	struct rig r;
	rig_init(&r);
	wr(&r, FCR, 0xC7);   /* FIFOs on and cleared, trigger at 14 */
	wr(&r, IER, 0x01);
	g_assert_cmpuint(uart8250_rx_room(r.uart), ==, 16);
	g_assert_false(r.level);

	const uint8_t a[3] = { 'a', 'b', 'c' };
	g_assert_cmpuint(uart8250_receive(r.uart, a, 3), ==, 3);
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, LSR) & 0x01, ==, 0x01);
	g_assert_cmphex(rd(&r, IIR), ==, 0xCC);   /* below the trigger: character timeout */

	uint8_t b[20];
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)('d' + i);
	g_assert_cmpuint(uart8250_receive(r.uart, b, sizeof(b)), ==, 13);
	g_assert_cmpuint(uart8250_rx_room(r.uart), ==, 0);
	g_assert_cmpuint(uart8250_receive(r.uart, b, sizeof(b)), ==, 0);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC4);

	for (unsigned i = 0; i < 16; i++) {
		g_assert_true(r.level);
		g_assert_cmphex(rd(&r, RBR), ==, i < 3 ? a[i] : b[i - 3]);
	}
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, LSR), ==, 0x60);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC1);
	/* An empty RBR keeps showing the last byte. */
	g_assert_cmphex(rd(&r, RBR), ==, b[12]);
	g_assert_cmpuint(uart8250_rx_room(r.uart), ==, 16);

	/* The FIFO reset bit drops what is waiting and lowers the line. */
	g_assert_cmpuint(uart8250_receive(r.uart, a, 3), ==, 3);
	g_assert_true(r.level);
	wr(&r, FCR, 0x03);
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, LSR) & 0x01, ==, 0);

	/* Without FIFOs only the holding register is there. */
	g_assert_cmpuint(uart8250_receive(r.uart, a, 3), ==, 3);
	wr(&r, FCR, 0x00);
	g_assert_cmpuint(uart8250_rx_room(r.uart), ==, 1);
	g_assert_cmpuint(uart8250_receive(r.uart, a, 3), ==, 1);
	g_assert_cmphex(rd(&r, IIR), ==, 0x04);
	g_assert_cmphex(rd(&r, RBR), ==, 'a');
	g_assert_cmphex(rd(&r, IIR), ==, 0x01);
	g_assert_false(r.level);
	rig_fini(&r);
}

static void test_overrun(void)
{
	struct rig r;
	rig_init(&r);
	wr(&r, FCR, 0x07);
	wr(&r, MCR, 0x10);
	for (unsigned i = 0; i < 17; i++)
		wr(&r, THR, (uint8_t)i);
	g_assert_cmpuint(r.out->len, ==, 0);
	wr(&r, IER, 0x05);
	g_assert_true(r.level);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC6);   /* line status beats received data */
	g_assert_cmphex(rd(&r, LSR), ==, 0x63);
	g_assert_cmphex(rd(&r, LSR), ==, 0x61);   /* OE clears on read */
	g_assert_cmphex(rd(&r, IIR), ==, 0xC4);
	/* The FIFO kept the first 16 bytes; the 17th was lost. */
	for (unsigned i = 0; i < 16; i++)
		g_assert_cmphex(rd(&r, RBR), ==, i);
	g_assert_false(r.level);

	/* Without FIFOs the holding register is overwritten. */
	wr(&r, FCR, 0x00);
	wr(&r, THR, 'x');
	wr(&r, THR, 'y');
	g_assert_cmphex(rd(&r, LSR), ==, 0x63);
	g_assert_cmphex(rd(&r, RBR), ==, 'y');
	g_assert_cmphex(rd(&r, LSR), ==, 0x60);
	rig_fini(&r);
}

static void test_loopback(void)
{
	struct rig r;
	rig_init(&r);
	/* Outside loopback the host line shows carrier, DSR and CTS. */
	g_assert_cmphex(rd(&r, MSR), ==, 0xB0);
	wr(&r, FCR, 0x01);
	wr(&r, IER, 0x08);
	g_assert_false(r.level);

	wr(&r, MCR, 0x10);
	g_assert_true(r.level);   /* the inputs changed: modem status interrupt */
	g_assert_cmphex(rd(&r, IIR), ==, 0xC0);
	g_assert_cmphex(rd(&r, MSR), ==, 0x0B);  /* DCD, DSR, CTS fell */
	g_assert_false(r.level);
	g_assert_cmphex(rd(&r, MSR), ==, 0x00);

	wr(&r, MCR, 0x10 | 0x01);
	g_assert_cmphex(rd(&r, MSR), ==, 0x22);  /* DTR → DSR */
	wr(&r, MCR, 0x10 | 0x02);
	g_assert_cmphex(rd(&r, MSR), ==, 0x13);  /* RTS → CTS, DSR fell */
	wr(&r, MCR, 0x10 | 0x04);
	g_assert_cmphex(rd(&r, MSR), ==, 0x41);  /* OUT1 → RI; a rising RI is no delta */
	wr(&r, MCR, 0x10);
	g_assert_cmphex(rd(&r, MSR), ==, 0x04);  /* trailing edge of RI */
	wr(&r, MCR, 0x10 | 0x08);
	g_assert_cmphex(rd(&r, MSR), ==, 0x88);  /* OUT2 → DCD */

	/* Host input waits while the receiver is looped back; TX comes back as RX. */
	const uint8_t in[2] = { 'h', 'i' };
	g_assert_cmpuint(uart8250_rx_room(r.uart), ==, 0);
	g_assert_cmpuint(uart8250_receive(r.uart, in, 2), ==, 0);
	wr(&r, THR, 'L');
	g_assert_cmpuint(r.out->len, ==, 0);
	g_assert_cmphex(rd(&r, LSR) & 0x01, ==, 0x01);
	g_assert_cmphex(rd(&r, RBR), ==, 'L');

	wr(&r, MCR, 0x00);
	g_assert_cmphex(rd(&r, MSR), ==, 0xB3);  /* back to the host lines: CTS and DSR rose */
	g_assert_cmpuint(uart8250_receive(r.uart, in, 2), ==, 2);
	wr(&r, THR, 'T');
	g_assert_cmpmem(r.out->data, r.out->len, "T", 1);
	g_assert_cmphex(rd(&r, MCR), ==, 0x00);
	wr(&r, MCR, 0xFF);
	g_assert_cmphex(rd(&r, MCR), ==, 0x1F);  /* bits 5-7 do not exist */
	rig_fini(&r);
}

static void test_priority(void)
{
	struct rig r;
	rig_init(&r);
	wr(&r, FCR, 0x01);
	wr(&r, MCR, 0x10);
	wr(&r, THR, 1);
	for (unsigned i = 0; i < 16; i++)
		wr(&r, THR, 2);   /* the last one overruns */
	wr(&r, IER, 0x0F);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC6);
	rd(&r, LSR);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC4);
	for (unsigned i = 0; i < 16; i++)
		rd(&r, RBR);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC2);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC0);   /* THRE acknowledged, MSR deltas left */
	rd(&r, MSR);
	g_assert_cmphex(rd(&r, IIR), ==, 0xC1);
	g_assert_false(r.level);
	rig_fini(&r);
}

static void test_wide_and_malformed(void)
{
	struct rig r;
	rig_init(&r);
	/* A 16-bit write at LCR reaches LCR and MCR. */
	uint8_t two[2] = { 0x03, 0x0B };
	g_assert_true(iobus_access(r.bus, PORT_COM1 + LCR, two, 2, true));
	g_assert_cmphex(rd(&r, LCR), ==, 0x03);
	g_assert_cmphex(rd(&r, MCR), ==, 0x0B);
	/* A 32-bit read at LCR: LCR, MCR, LSR, MSR. */
	uint8_t four[4];
	g_assert_true(iobus_access(r.bus, PORT_COM1 + LCR, four, 4, false));
	g_assert_cmphex(four[0], ==, 0x03);
	g_assert_cmphex(four[1], ==, 0x0B);
	g_assert_cmphex(four[2], ==, 0x60);
	g_assert_cmphex(four[3], ==, 0xB0);
	/* An 8-byte write at 0 sends one byte and sets every other register. */
	uint8_t eight[8] = { 'Q', 0x00, 0x00, 0x03, 0x0B, 0xAA, 0xBB, 0x77 };
	g_assert_true(iobus_access(r.bus, PORT_COM1, eight, 8, true));
	g_assert_cmpmem(r.out->data, r.out->len, "Q", 1);
	g_assert_cmphex(rd(&r, SCR), ==, 0x77);
	g_assert_cmphex(rd(&r, LSR), ==, 0x60);   /* read-only */

	/* Past the end: the bus refuses, the device is not asked. */
	uint8_t v[8];
	memset(v, 0, sizeof(v));
	g_assert_false(iobus_access(r.bus, PORT_COM1 + 7, v, 2, false));
	g_assert_cmphex(v[0] & v[1], ==, 0xFF);
	g_assert_false(iobus_access(r.bus, PORT_COM1 + 4, v, 8, true));
	g_assert_cmphex(rd(&r, MCR), ==, 0x0B);

	/* Called directly with offsets a bus would never pass. */
	memset(v, 0, sizeof(v));
	uart8250_ops.read(r.uart, 6, v, 4);
	g_assert_cmphex(v[2], ==, 0xFF);
	g_assert_cmphex(v[3], ==, 0xFF);
	memset(v, 0, sizeof(v));
	uart8250_ops.read(r.uart, UINT64_MAX, v, 8);
	for (unsigned i = 0; i < 8; i++)
		g_assert_cmphex(v[i], ==, 0xFF);
	memset(v, 0x42, sizeof(v));
	uart8250_ops.write(r.uart, UINT64_MAX - 1, v, 8);
	uart8250_ops.write(r.uart, 1000, v, 8);
	g_assert_cmpuint(r.out->len, ==, 1);
	g_assert_cmphex(rd(&r, SCR), ==, 0x77);
	rig_fini(&r);
}

struct race {
	struct rig *r;
	unsigned total;
	unsigned got;
};

static gpointer race_feeder(gpointer data)
{
	struct race *race = data;
	unsigned sent = 0;
	while (sent < race->total) {
		uint8_t b = (uint8_t)sent;
		sent += (unsigned)uart8250_receive(race->r->uart, &b, 1);
	}
	return NULL;
}

/* The host feeds while a vCPU drains: no byte lost, none duplicated. */
static void test_threads(void)
{
	struct rig r;
	rig_init(&r);
	wr(&r, FCR, 0x07);
	wr(&r, IER, 0x01);
	struct race race = { .r = &r, .total = 20000 };
	GThread *t = g_thread_new("feeder", race_feeder, &race);
	while (race.got < race.total) {
		if (rd(&r, LSR) & 0x01) {
			g_assert_cmphex(rd(&r, RBR), ==, (uint8_t)race.got);
			race.got++;
		}
	}
	g_thread_join(t);
	g_assert_cmphex(rd(&r, LSR) & 0x01, ==, 0);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/uart8250/linux-probe", test_linux_probe);
	g_test_add_func("/uart8250/tx", test_tx);
	g_test_add_func("/uart8250/thre-interrupt", test_thre_interrupt);
	g_test_add_func("/uart8250/rx-fifo", test_rx_fifo);
	g_test_add_func("/uart8250/overrun", test_overrun);
	g_test_add_func("/uart8250/loopback", test_loopback);
	g_test_add_func("/uart8250/priority", test_priority);
	g_test_add_func("/uart8250/wide-and-malformed", test_wide_and_malformed);
	g_test_add_func("/uart8250/threads", test_threads);
	return g_test_run();
}
