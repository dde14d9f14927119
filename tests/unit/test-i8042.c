// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/layout.h"

#define STS_OBF      0x01
#define STS_IBF      0x02
#define STS_SYS      0x04
#define STS_CMD      0x08
#define STS_AUX      0x20

struct rig {
	struct iobus *bus;
	struct i8042 *kbc;
	int resets;
};

static void rig_reset(void *opaque)
{
	struct rig *r = opaque;
	r->resets++;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->bus = iobus_new("pio");
	r->kbc = i8042_new(rig_reset, r);
	g_assert_cmpint(iobus_register(r->bus, PORT_I8042_DATA, 1, &i8042_data_ops, r->kbc), ==, 0);
	g_assert_cmpint(iobus_register(r->bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, r->kbc), ==, 0);
}

static void rig_fini(struct rig *r)
{
	i8042_free(r->kbc);
	iobus_free(r->bus);
}

static uint8_t status(struct rig *r)
{
	uint8_t v = 0;
	g_assert_true(iobus_access(r->bus, PORT_I8042_CMD, &v, 1, false));
	return v;
}

static uint8_t data_in(struct rig *r)
{
	uint8_t v = 0;
	g_assert_true(iobus_access(r->bus, PORT_I8042_DATA, &v, 1, false));
	return v;
}

static void cmd(struct rig *r, uint8_t v)
{
	g_assert_true(iobus_access(r->bus, PORT_I8042_CMD, &v, 1, true));
}

static void data_out(struct rig *r, uint8_t v)
{
	g_assert_true(iobus_access(r->bus, PORT_I8042_DATA, &v, 1, true));
}

/* Sends a command and takes its one-byte answer, as a driver polling OBF does. */
static uint8_t ask(struct rig *r, uint8_t c)
{
	cmd(r, c);
	g_assert_cmphex(status(r) & STS_OBF, ==, STS_OBF);
	uint8_t v = data_in(r);
	g_assert_cmphex(status(r) & STS_OBF, ==, 0);
	return v;
}

static void test_status(void)
{
	struct rig r;
	rig_init(&r);
	uint8_t s = status(&r);
	g_assert_cmphex(s & (STS_OBF | STS_IBF), ==, 0);
	g_assert_cmphex(s & STS_SYS, ==, STS_SYS);
	/* kb_wait(): the input buffer is empty whatever happens. */
	for (unsigned c = 0; c < 0x100; c++) {
		if (c >= 0xF0 || c == 0xD1)
			continue;
		cmd(&r, (uint8_t)c);
		g_assert_cmphex(status(&r) & STS_IBF, ==, 0);
		g_assert_cmphex(status(&r) & STS_CMD, ==, STS_CMD);
		data_out(&r, 0x00);
		g_assert_cmphex(status(&r) & (STS_IBF | STS_CMD), ==, 0);
	}
	g_assert_cmpint(r.resets, ==, 0);
	rig_fini(&r);
}

static void test_reset_pulse(void)
{
	struct rig r;
	rig_init(&r);
	cmd(&r, 0xFE);
	g_assert_cmpint(r.resets, ==, 1);
	/* Linux's reboot loop sends it ten times; each one counts. */
	for (int i = 0; i < 9; i++)
		cmd(&r, 0xFE);
	g_assert_cmpint(r.resets, ==, 10);
	cmd(&r, 0xFF);   /* pulses nothing */
	cmd(&r, 0xFD);   /* another line */
	g_assert_cmpint(r.resets, ==, 10);
	cmd(&r, 0xF0);   /* all lines, reset included */
	g_assert_cmpint(r.resets, ==, 11);
	rig_fini(&r);
}

static void test_output_port(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmphex(ask(&r, 0xD0) & 0x03, ==, 0x03);
	cmd(&r, 0xD1);
	data_out(&r, 0xDF);   /* A20 on, reset line high */
	g_assert_cmpint(r.resets, ==, 0);
	g_assert_cmphex(ask(&r, 0xD0), ==, 0xDF);
	cmd(&r, 0xD1);
	data_out(&r, 0xFE);   /* bit 0 low: reset */
	g_assert_cmpint(r.resets, ==, 1);
	/* The data byte only counts right after 0xD1. */
	data_out(&r, 0xFE);
	g_assert_cmpint(r.resets, ==, 1);
	/* A new command cancels the pending one. */
	cmd(&r, 0xD1);
	cmd(&r, 0xAE);
	data_out(&r, 0x00);
	g_assert_cmpint(r.resets, ==, 1);
	rig_fini(&r);
}

static void test_commands(void)
{
	struct rig r;
	rig_init(&r);
	uint8_t ctr = ask(&r, 0x20);
	g_assert_cmphex(ctr & 0x04, ==, 0x04);
	cmd(&r, 0x60);
	data_out(&r, 0x47);
	g_assert_cmphex(ask(&r, 0x20), ==, 0x47);
	cmd(&r, 0x60);
	data_out(&r, 0x40);
	g_assert_cmphex(status(&r) & STS_SYS, ==, 0);
	g_assert_cmphex(ask(&r, 0xAA), ==, 0x55);
	g_assert_cmphex(status(&r) & STS_SYS, ==, STS_SYS);
	g_assert_cmphex(ask(&r, 0xAB), ==, 0x00);
	g_assert_cmphex(ask(&r, 0xA9), ==, 0x00);

	cmd(&r, 0x60);
	data_out(&r, 0x00);
	cmd(&r, 0xA7);
	cmd(&r, 0xAD);
	g_assert_cmphex(ask(&r, 0x20), ==, 0x30);
	cmd(&r, 0xA8);
	g_assert_cmphex(ask(&r, 0x20), ==, 0x10);
	cmd(&r, 0xAE);
	g_assert_cmphex(ask(&r, 0x20), ==, 0x00);
	g_assert_cmpuint(status(&r) & STS_OBF, ==, 0);

	/* Other controller RAM bytes. */
	cmd(&r, 0x65);
	data_out(&r, 0xA5);
	g_assert_cmphex(ask(&r, 0x25), ==, 0xA5);

	/* Echo through the output buffer, as i8042 loop tests do. */
	cmd(&r, 0xD2);
	data_out(&r, 0x5A);
	g_assert_cmphex(status(&r) & (STS_OBF | STS_AUX), ==, STS_OBF);
	g_assert_cmphex(data_in(&r), ==, 0x5A);
	cmd(&r, 0xD3);
	data_out(&r, 0xA5);
	g_assert_cmphex(status(&r) & (STS_OBF | STS_AUX), ==, STS_OBF | STS_AUX);
	g_assert_cmphex(data_in(&r), ==, 0xA5);
	g_assert_cmphex(status(&r) & (STS_OBF | STS_AUX), ==, 0);
	/* An empty port repeats the last byte. */
	g_assert_cmphex(data_in(&r), ==, 0xA5);
	g_assert_cmpint(r.resets, ==, 0);
	rig_fini(&r);
}

static void test_no_keyboard(void)
{
	struct rig r;
	rig_init(&r);
	/* Keyboard reset and identify, mouse reset: nobody answers. */
	data_out(&r, 0xFF);
	g_assert_cmphex(status(&r) & STS_OBF, ==, 0);
	data_out(&r, 0xF2);
	g_assert_cmphex(status(&r) & STS_OBF, ==, 0);
	cmd(&r, 0xD4);
	data_out(&r, 0xFF);
	g_assert_cmphex(status(&r) & STS_OBF, ==, 0);
	/* Unknown commands are ignored. */
	cmd(&r, 0xC0);
	cmd(&r, 0x01);
	g_assert_cmphex(status(&r) & STS_OBF, ==, 0);
	g_assert_cmpint(r.resets, ==, 0);
	rig_fini(&r);
}

static void test_malformed(void)
{
	struct rig r;
	rig_init(&r);
	uint8_t v[8];
	memset(v, 0, sizeof(v));
	g_assert_false(iobus_access(r.bus, PORT_I8042_CMD, v, 2, false));
	g_assert_cmphex(v[0] & v[1], ==, 0xFF);
	memset(v, 0xFE, sizeof(v));
	g_assert_false(iobus_access(r.bus, PORT_I8042_CMD, v, 8, true));
	g_assert_false(iobus_access(r.bus, PORT_I8042_CMD + 1, v, 1, true));
	g_assert_cmpint(r.resets, ==, 0);

	/* Called directly: only byte 0 at offset 0 is a register. */
	memset(v, 0, sizeof(v));
	i8042_cmd_ops.read(r.kbc, 0, v, 8);
	g_assert_cmphex(v[0] & STS_SYS, ==, STS_SYS);
	for (unsigned i = 1; i < 8; i++)
		g_assert_cmphex(v[i], ==, 0xFF);
	memset(v, 0, sizeof(v));
	i8042_data_ops.read(r.kbc, 3, v, 4);
	for (unsigned i = 0; i < 4; i++)
		g_assert_cmphex(v[i], ==, 0xFF);
	memset(v, 0xFE, sizeof(v));
	i8042_cmd_ops.write(r.kbc, 1, v, 8);
	i8042_cmd_ops.write(r.kbc, UINT64_MAX, v, 8);
	i8042_cmd_ops.write(r.kbc, 0, v, 0);
	g_assert_cmpint(r.resets, ==, 0);
	/* A wide write at offset 0 acts on its first byte. */
	i8042_cmd_ops.write(r.kbc, 0, v, 4);
	g_assert_cmpint(r.resets, ==, 1);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i8042/status", test_status);
	g_test_add_func("/i8042/reset-pulse", test_reset_pulse);
	g_test_add_func("/i8042/output-port", test_output_port);
	g_test_add_func("/i8042/commands", test_commands);
	g_test_add_func("/i8042/no-keyboard", test_no_keyboard);
	g_test_add_func("/i8042/malformed", test_malformed);
	return g_test_run();
}
