// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The i8042 keyboard controller, for what a guest without a PS/2 keyboard
 * still uses it: the reset line (command 0xFE, or the output port's bit 0)
 * and the handful of commands that probes send before giving up on a
 * keyboard. No keyboard or mouse is attached: bytes meant for them are
 * dropped and nothing answers, which is what an empty PS/2 port looks like.
 * The controller is never busy, so the input buffer is always empty and
 * software that waits for it (Linux's kb_wait()) goes on at once.
 * There is no interrupt line: nothing here would ever raise one.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <glib.h>

#include "emul/emul.h"
#include "hv/saved_state.h"

#define I8042_STS_OBF       0x01  /* a byte waits at port 0x60 */
#define I8042_STS_IBF       0x02  /* never set */
#define I8042_STS_SYS       0x04  /* mirrors the command byte's system flag */
#define I8042_STS_CMD       0x08  /* the last write went to the command port */
#define I8042_STS_UNLOCKED  0x10  /* keyboard not inhibited by the key lock */
#define I8042_STS_AUX_OBF   0x20  /* the waiting byte comes from the aux port */

#define I8042_CTR_KBD_INT   0x01
#define I8042_CTR_AUX_INT   0x02
#define I8042_CTR_SYS       0x04
#define I8042_CTR_KBD_DIS   0x10
#define I8042_CTR_AUX_DIS   0x20
#define I8042_CTR_XLATE     0x40
/* What firmware leaves: self-test passed, scancode translation on, and the
 * interrupts off since this controller has no line to raise them on. */
#define I8042_CTR_RESET     (I8042_CTR_SYS | I8042_CTR_XLATE)

#define I8042_OUT_RESET     0x01  /* active low: clearing it resets the CPU */
#define I8042_OUT_A20       0x02
#define I8042_OUT_PORT_RESET (I8042_OUT_RESET | I8042_OUT_A20)

enum {
	I8042_CMD_READ_RAM = 0x20,     /* 0x20-0x3F: read controller RAM byte (0 = command byte) */
	I8042_CMD_WRITE_RAM = 0x60,    /* 0x60-0x7F: the next data byte goes to controller RAM */
	I8042_CMD_AUX_DISABLE = 0xA7,
	I8042_CMD_AUX_ENABLE = 0xA8,
	I8042_CMD_AUX_TEST = 0xA9,
	I8042_CMD_SELF_TEST = 0xAA,
	I8042_CMD_KBD_TEST = 0xAB,
	I8042_CMD_KBD_DISABLE = 0xAD,
	I8042_CMD_KBD_ENABLE = 0xAE,
	I8042_CMD_READ_OUTPUT = 0xD0,
	I8042_CMD_WRITE_OUTPUT = 0xD1,
	I8042_CMD_WRITE_KBD_OBUF = 0xD2,
	I8042_CMD_WRITE_AUX_OBUF = 0xD3,
	I8042_CMD_WRITE_AUX = 0xD4,
	I8042_CMD_PULSE = 0xF0,        /* 0xF0-0xFF: pulse the output lines whose bits are clear */
};
#define I8042_RAM_SIZE      32
#define I8042_RAM_MASK      (I8042_RAM_SIZE - 1)
#define I8042_SELF_TEST_OK  0x55
#define I8042_PORT_TEST_OK  0x00
#define I8042_NO_COMMAND    0

struct i8042 {
	pthread_mutex_t lock;
	i8042_reset_fn reset;
	void *reset_opaque;

	uint8_t ram[I8042_RAM_SIZE];   /* ram[0] is the command byte */
	uint8_t out_port;
	uint8_t obuf;
	bool obf, obuf_aux;
	bool last_was_cmd;
	uint8_t pending;               /* a command that waits for its data byte, or 0 */
};

static void i8042_put(struct i8042 *kbc, uint8_t byte, bool aux)
{
	/* One output register: an unread byte is replaced, as on the real part. */
	kbc->obuf = byte;
	kbc->obf = true;
	kbc->obuf_aux = aux;
}

static uint8_t i8042_status(const struct i8042 *kbc)
{
	uint8_t v = I8042_STS_UNLOCKED;
	if (kbc->obf)
		v |= I8042_STS_OBF | (kbc->obuf_aux ? I8042_STS_AUX_OBF : 0);
	if (kbc->ram[0] & I8042_CTR_SYS)
		v |= I8042_STS_SYS;
	if (kbc->last_was_cmd)
		v |= I8042_STS_CMD;
	return v;
}

/* Returns true when the command asks for a reset. */
static bool i8042_command(struct i8042 *kbc, uint8_t cmd)
{
	kbc->pending = I8042_NO_COMMAND;
	if (cmd >= I8042_CMD_READ_RAM && cmd < I8042_CMD_READ_RAM + I8042_RAM_SIZE) {
		i8042_put(kbc, kbc->ram[cmd & I8042_RAM_MASK], false);
		return false;
	}
	if (cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + I8042_RAM_SIZE) {
		kbc->pending = cmd;
		return false;
	}
	if (cmd >= I8042_CMD_PULSE)
		return !(cmd & I8042_OUT_RESET);
	switch (cmd) {
	case I8042_CMD_AUX_DISABLE:
		kbc->ram[0] |= I8042_CTR_AUX_DIS;
		break;
	case I8042_CMD_AUX_ENABLE:
		kbc->ram[0] &= ~I8042_CTR_AUX_DIS;
		break;
	case I8042_CMD_AUX_TEST:
	case I8042_CMD_KBD_TEST:
		i8042_put(kbc, I8042_PORT_TEST_OK, false);
		break;
	case I8042_CMD_SELF_TEST:
		kbc->ram[0] |= I8042_CTR_SYS;
		i8042_put(kbc, I8042_SELF_TEST_OK, false);
		break;
	case I8042_CMD_KBD_DISABLE:
		kbc->ram[0] |= I8042_CTR_KBD_DIS;
		break;
	case I8042_CMD_KBD_ENABLE:
		kbc->ram[0] &= ~I8042_CTR_KBD_DIS;
		break;
	case I8042_CMD_READ_OUTPUT:
		i8042_put(kbc, kbc->out_port, false);
		break;
	case I8042_CMD_WRITE_OUTPUT:
	case I8042_CMD_WRITE_KBD_OBUF:
	case I8042_CMD_WRITE_AUX_OBUF:
	case I8042_CMD_WRITE_AUX:
		kbc->pending = cmd;
		break;
	default:
		/* Unknown or unneeded (input port, test inputs): ignored, no answer. */
		break;
	}
	return false;
}

/* Returns true when the byte asks for a reset. */
static bool i8042_data(struct i8042 *kbc, uint8_t val)
{
	uint8_t cmd = kbc->pending;
	kbc->pending = I8042_NO_COMMAND;
	if (cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + I8042_RAM_SIZE) {
		kbc->ram[cmd & I8042_RAM_MASK] = val;
		return false;
	}
	switch (cmd) {
	case I8042_CMD_WRITE_OUTPUT:
		/* A20 is always on in this machine; the bit is only stored. */
		kbc->out_port = val;
		return !(val & I8042_OUT_RESET);
	case I8042_CMD_WRITE_KBD_OBUF:
		i8042_put(kbc, val, false);
		return false;
	case I8042_CMD_WRITE_AUX_OBUF:
		i8042_put(kbc, val, true);
		return false;
	default:
		/* For the keyboard (or, after 0xD4, the mouse): nobody is there to answer. */
		return false;
	}
}

static void i8042_data_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *kbc = opaque;
	pthread_mutex_lock(&kbc->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset == 0 && i == 0) {
			/* With nothing new the port still shows the last byte. */
			data[i] = kbc->obuf;
			kbc->obf = false;
		} else {
			data[i] = 0xFF;
		}
	}
	pthread_mutex_unlock(&kbc->lock);
}

static void i8042_data_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *kbc = opaque;
	bool reset = false;
	pthread_mutex_lock(&kbc->lock);
	if (offset == 0 && len > 0) {
		kbc->last_was_cmd = false;
		reset = i8042_data(kbc, data[0]);
	}
	i8042_reset_fn fn = kbc->reset;
	void *fn_opaque = kbc->reset_opaque;
	pthread_mutex_unlock(&kbc->lock);
	/* Outside the lock: the owner may tear the machine down from here. */
	if (reset && fn)
		fn(fn_opaque);
}

static void i8042_cmd_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *kbc = opaque;
	pthread_mutex_lock(&kbc->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = offset == 0 && i == 0 ? i8042_status(kbc) : 0xFF;
	pthread_mutex_unlock(&kbc->lock);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *kbc = opaque;
	bool reset = false;
	pthread_mutex_lock(&kbc->lock);
	if (offset == 0 && len > 0) {
		kbc->last_was_cmd = true;
		reset = i8042_command(kbc, data[0]);
	}
	i8042_reset_fn fn = kbc->reset;
	void *fn_opaque = kbc->reset_opaque;
	pthread_mutex_unlock(&kbc->lock);
	if (reset && fn)
		fn(fn_opaque);
}

const struct iobus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

const struct iobus_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

struct i8042 *i8042_new(i8042_reset_fn reset, void *opaque)
{
	struct i8042 *kbc = g_new0(struct i8042, 1);
	pthread_mutex_init(&kbc->lock, NULL);
	kbc->reset = reset;
	kbc->reset_opaque = opaque;
	kbc->ram[0] = I8042_CTR_RESET;
	kbc->out_port = I8042_OUT_PORT_RESET;
	return kbc;
}

void i8042_free(struct i8042 *kbc)
{
	if (!kbc)
		return;
	pthread_mutex_destroy(&kbc->lock);
	g_free(kbc);
}

/* ---- saved state ---- */

GVariant *i8042_save(struct i8042 *kbc)
{
	pthread_mutex_lock(&kbc->lock);
	GVariant *v = g_variant_new(I8042_STATE_FORMAT, saved_state_blob(kbc->ram, sizeof(kbc->ram)), kbc->out_port,
				    kbc->obuf, kbc->obf, kbc->obuf_aux, kbc->last_was_cmd, kbc->pending);
	pthread_mutex_unlock(&kbc->lock);
	return v;
}

int i8042_restore(struct i8042 *kbc, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, I8042_STATE_TYPE, "i8042", error) < 0)
		return -EINVAL;
	g_autoptr(GVariant) ram = NULL;
	guint8 out_port, obuf, pending;
	gboolean obf, aux, last_cmd;
	g_variant_get(v, I8042_STATE_FORMAT, &ram, &out_port, &obuf, &obf, &aux, &last_cmd, &pending);
	uint8_t bytes[I8042_RAM_SIZE];
	if (saved_state_blob_get(ram, bytes, sizeof(bytes), "i8042: controller RAM", error) < 0)
		return -EINVAL;
	/* Only a command that waits for its data byte can be pending. */
	bool waits = pending == I8042_NO_COMMAND ||
		     (pending >= I8042_CMD_WRITE_RAM && pending < I8042_CMD_WRITE_RAM + I8042_RAM_SIZE) ||
		     pending == I8042_CMD_WRITE_OUTPUT || pending == I8042_CMD_WRITE_KBD_OBUF ||
		     pending == I8042_CMD_WRITE_AUX_OBUF || pending == I8042_CMD_WRITE_AUX;
	if (!waits)
		return saved_state_fail(error, "i8042: command %#x cannot be waiting for data", pending);
	pthread_mutex_lock(&kbc->lock);
	memcpy(kbc->ram, bytes, sizeof(kbc->ram));
	kbc->out_port = out_port;
	kbc->obuf = obuf;
	kbc->obf = obf;
	kbc->obuf_aux = aux;
	kbc->last_was_cmd = last_cmd;
	kbc->pending = pending;
	pthread_mutex_unlock(&kbc->lock);
	return 0;
}
