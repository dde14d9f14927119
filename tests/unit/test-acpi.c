// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ACPI tables are read back here with offsets taken from the ACPI
 * specification, not with the builder's structs, so that a wrong struct
 * layout shows up as a failure. iasl (acpica-tools) is the real peer: what it
 * disassembles without complaint and recompiles to the same bytes is what the
 * guest's ACPICA will parse.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hv/acpi.h"
#include "hv/aml.h"
#include "hv/layout.h"

/* ---- little-endian readers ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* ---- AML encoder ---- */

/* Runs fn on a fresh builder and returns the encoded bytes. */
static GByteArray *aml_run(void (*fn)(struct aml *b, const void *arg), const void *arg)
{
	struct aml *b = aml_new();
	fn(b, arg);
	const uint8_t *data;
	size_t len;
	g_assert_cmpint(aml_finish(b, &data, &len), ==, 0);
	GByteArray *out = g_byte_array_append(g_byte_array_new(), data, (guint)len);
	aml_free(b);
	return out;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	g_assert_cmpmem(got, got_len, want, want_len);
}

static void test_pkglength_encode(void)
{
	static const struct {
		uint32_t value;
		uint8_t bytes[4];
		int n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 63, { 0x3F }, 1 },
		{ 64, { 0x40, 0x04 }, 2 },
		{ 4095, { 0x4F, 0xFF }, 2 },
		{ 4096, { 0x80, 0x00, 0x01 }, 3 },
		{ 1048575, { 0x8F, 0xFF, 0xFF }, 3 },
		{ 1048576, { 0xC0, 0x00, 0x00, 0x01 }, 4 },
		{ 0x0FFFFFFF, { 0xCF, 0xFF, 0xFF, 0xFF }, 4 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t out[4] = { 0 };
		g_assert_cmpint(aml_pkglength_encode(cases[i].value, out), ==, cases[i].n);
		assert_bytes(out, (size_t)cases[i].n, cases[i].bytes, (size_t)cases[i].n);
	}
	uint8_t out[4];
	g_assert_cmpint(aml_pkglength_encode(0x10000000, out), ==, -ERANGE);
}

/* Decodes a PkgLength; returns its size in bytes. */
static size_t pkglength_decode(const uint8_t *p, uint32_t *value)
{
	size_t n = (size_t)(p[0] >> 6) + 1;
	if (n == 1) {
		*value = p[0] & 0x3F;
		return 1;
	}
	uint32_t v = p[0] & 0x0F;
	for (size_t i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*value = v;
	return n;
}

static void emit_buffer(struct aml *b, const void *arg)
{
	const GByteArray *data = arg;
	aml_name(b, "BUF");
	aml_buffer(b, data->data, data->len);
}

/* The PkgLength counts its own bytes: near each limit the encoder must pick
 * the size that still holds the total, and no larger. */
static void test_pkglength_self_inclusive(void)
{
	static const uint32_t limits[] = { 63, 4095, 1048575 };
	for (size_t l = 0; l < G_N_ELEMENTS(limits); l++) {
		for (int delta = -8; delta <= 8; delta++) {
			g_autoptr(GByteArray) payload = g_byte_array_new();
			g_byte_array_set_size(payload, (guint)((int)limits[l] + delta));
			memset(payload->data, 0x5A, payload->len);
			g_autoptr(GByteArray) out = aml_run(emit_buffer, payload);

			/* NameOp, "BUF_", BufferOp, then the PkgLength. */
			g_assert_cmpuint(out->len, >, 6);
			g_assert_cmpuint(out->data[5], ==, 0x11);
			uint32_t value;
			size_t n = pkglength_decode(out->data + 6, &value);
			g_assert_cmpuint(value, ==, out->len - 6);
			uint8_t minimal[4];
			g_assert_cmpint(aml_pkglength_encode(value, minimal), ==, (int)n);
			/* The payload ends the object. */
			g_assert_cmpuint(out->data[out->len - 1], ==, 0x5A);
		}
	}
}

static void emit_integer(struct aml *b, const void *arg)
{
	aml_name_integer(b, "X", *(const uint64_t *)arg);
}

static void test_integer(void)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[9];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0A, 0x02 }, 2 },
		{ 0xFF, { 0x0A, 0xFF }, 2 },
		{ 0x100, { 0x0B, 0x00, 0x01 }, 3 },
		{ 0xFFFF, { 0x0B, 0xFF, 0xFF }, 3 },
		{ 0x10000, { 0x0C, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xFFFFFFFF, { 0x0C, 0xFF, 0xFF, 0xFF, 0xFF }, 5 },
		{ 0x100000000, { 0x0E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 }, 9 },
		{ 0x123456789ABCDEF0, { 0x0E, 0xF0, 0xDE, 0xBC, 0x9A, 0x78, 0x56, 0x34, 0x12 }, 9 },
		{ UINT64_MAX, { 0xFF }, 1 },   /* Ones */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) out = aml_run(emit_integer, &cases[i].v);
		static const uint8_t head[] = { 0x08, 'X', '_', '_', '_' };
		assert_bytes(out->data, 5, head, 5);
		assert_bytes(out->data + 5, out->len - 5, cases[i].bytes, cases[i].n);
	}
}

static void test_nameseg(void)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "_S5", "_S5_" }, { "RTC", "RTC_" }, { "A", "A___" }, { "_", "____" },
		{ "PCI0", "PCI0" }, { "C1", "C1__" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		char seg[4];
		g_assert_cmpint(aml_nameseg(good[i].in, seg), ==, 0);
		g_assert_cmpmem(seg, 4, good[i].out, 4);
	}
	static const char *const bad[] = { "", "ABCDE", "1ABC", "ab", "A-B", "A.B" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char seg[4];
		g_assert_cmpint(aml_nameseg(bad[i], seg), ==, -EINVAL);
	}
}

static void emit_name(struct aml *b, const void *arg)
{
	aml_name_integer(b, arg, 0);
}

static void test_namestring(void)
{
	static const struct {
		const char *path;
		const char *bytes;   /* NameString, then the Zero value */
		size_t n;
	} cases[] = {
		{ "_S5", "_S5_\0", 5 },
		{ "\\_S5", "\\_S5_\0", 6 },
		{ "\\_SB.PCI0", "\\\x2E_SB_PCI0\0", 11 },
		{ "\\_SB.PCI0.COM1", "\\\x2F\x03_SB_PCI0COM1\0", 16 },
		{ "^^X", "^^X___\0", 7 },
		{ "A.B", "\x2E" "A___B___\0", 10 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) out = aml_run(emit_name, cases[i].path);
		g_assert_cmpuint(out->data[0], ==, 0x08);
		assert_bytes(out->data + 1, out->len - 1, (const uint8_t *)cases[i].bytes, cases[i].n);
	}

	static const char *const bad[] = { "", "^", "A..B", "A.", ".A", "^\\X", "\\_SB.pci0", "\\_SB.TOOLONG" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct aml *b = aml_new();
		g_assert_cmpint(aml_name_integer(b, bad[i], 0), ==, -EINVAL);
		aml_free(b);
	}

	/* Scope(\) is the one place where a bare root is a NameString. */
	struct aml *b = aml_new();
	aml_scope_begin(b, "\\");
	aml_end(b);
	const uint8_t *data;
	size_t len;
	g_assert_cmpint(aml_finish(b, &data, &len), ==, 0);
	static const uint8_t root[] = { 0x10, 0x03, 0x5C, 0x00 };
	assert_bytes(data, len, root, sizeof(root));
	aml_free(b);
}

static void emit_values(struct aml *b, const void *arg)
{
	aml_name_eisaid(b, "_HID", "PNP0A03");
	aml_name_eisaid(b, "_CID", "PNP0501");
	aml_name_string(b, "_DDN", "ab");
}

static void test_eisaid_string(void)
{
	g_autoptr(GByteArray) out = aml_run(emit_values, NULL);
	static const uint8_t want[] = {
		0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03,
		0x08, '_', 'C', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01,
		0x08, '_', 'D', 'D', 'N', 0x0D, 'a', 'b', 0x00,
	};
	assert_bytes(out->data, out->len, want, sizeof(want));

	static const char *const bad[] = { "pnp0a03", "PNP0A0", "PNP0A0G", "PNP0A033", "P1P0A03" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct aml *b = aml_new();
		g_assert_cmpint(aml_name_eisaid(b, "_HID", bad[i]), ==, -EINVAL);
		aml_free(b);
	}
	struct aml *b = aml_new();
	g_assert_cmpint(aml_name_string(b, "_DDN", "caf\xc3\xa9"), ==, -EINVAL);
	aml_free(b);
}

static void emit_device(struct aml *b, const void *arg)
{
	aml_device_begin(b, "DEV0");
	aml_name_integer(b, "_UID", 1);
	aml_method_begin(b, "_STA", 0, false);
	aml_return(b);
	aml_integer(b, 0x0F);
	aml_end(b);
	aml_name(b, "PKG");
	aml_package_begin(b);
	aml_integer(b, 5);
	aml_string(b, "x");
	aml_package_begin(b);
	aml_end(b);
	aml_end(b);
	aml_end(b);
}

static void test_structure(void)
{
	g_autoptr(GByteArray) out = aml_run(emit_device, NULL);
	static const uint8_t want[] = {
		0x5B, 0x82, 0x25, 'D', 'E', 'V', '0',
		0x08, '_', 'U', 'I', 'D', 0x01,
		0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xA4, 0x0A, 0x0F,
		0x08, 'P', 'K', 'G', '_',
		0x12, 0x0A, 0x03, 0x0A, 0x05, 0x0D, 'x', 0x00, 0x12, 0x02, 0x00,
	};
	assert_bytes(out->data, out->len, want, sizeof(want));
}

static void emit_resources(struct aml *b, const void *arg)
{
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_io(b, 0x3F8, 0x3F8, 1, 8);
	aml_res_irq_noflags(b, 1u << 4);
	aml_res_word_bus_number(b, AML_PRODUCER, 0, 0xFF);
	aml_res_word_io(b, AML_PRODUCER, 0xD00, 0xFFFF);
	aml_res_dword_io(b, AML_CONSUMER, 0x1000, 0x1FFF);
	aml_res_dword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true, 0xC0000000, 0xF7FFFFFF);
	aml_res_qword_memory(b, AML_PRODUCER, AML_CACHEABLE, true, 0x1000000000, 0x1FFFFFFFFF);
	aml_end(b);
}

static void test_resources(void)
{
	g_autoptr(GByteArray) out = aml_run(emit_resources, NULL);
	static const uint8_t io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08 };
	static const uint8_t irq[] = { 0x22, 0x10, 0x00 };
	static const uint8_t bus[] = { 0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
				       0xFF, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t wio[] = { 0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D,
				       0xFF, 0xFF, 0x00, 0x00, 0x00, 0xF3 };
	static const uint8_t dio_head[] = { 0x87, 0x17, 0x00, 0x01, 0x0D, 0x03 };
	static const uint8_t dmem_head[] = { 0x87, 0x17, 0x00, 0x00, 0x0C, 0x01 };
	static const uint8_t qmem_head[] = { 0x8A, 0x2B, 0x00, 0x00, 0x0C, 0x03 };

	/* NameOp "_CRS" BufferOp PkgLength BufferSize(WordPrefix? no: < 256) */
	const uint8_t *p = out->data;
	g_assert_cmpuint(p[5], ==, 0x11);
	uint32_t pkglen;
	size_t n = pkglength_decode(p + 6, &pkglen);
	g_assert_cmpuint(pkglen, ==, out->len - 6);
	p += 6 + n;
	g_assert_cmpuint(p[0], ==, 0x0A);   /* BufferSize as a byte */
	size_t size = p[1];
	p += 2;
	g_assert_cmpuint((size_t)(p - out->data) + size, ==, out->len);
	const uint8_t *res = p;

	assert_bytes(p, sizeof(io), io, sizeof(io));
	p += sizeof(io);
	assert_bytes(p, sizeof(irq), irq, sizeof(irq));
	p += sizeof(irq);
	assert_bytes(p, sizeof(bus), bus, sizeof(bus));
	p += sizeof(bus);
	assert_bytes(p, sizeof(wio), wio, sizeof(wio));
	p += sizeof(wio);
	assert_bytes(p, sizeof(dio_head), dio_head, sizeof(dio_head));
	g_assert_cmpuint(rd32(p + 10), ==, 0x1000);
	g_assert_cmpuint(rd32(p + 14), ==, 0x1FFF);
	g_assert_cmpuint(rd32(p + 22), ==, 0x1000);
	p += 26;
	assert_bytes(p, sizeof(dmem_head), dmem_head, sizeof(dmem_head));
	g_assert_cmpuint(rd32(p + 6), ==, 0);
	g_assert_cmpuint(rd32(p + 10), ==, 0xC0000000);
	g_assert_cmpuint(rd32(p + 14), ==, 0xF7FFFFFF);
	g_assert_cmpuint(rd32(p + 18), ==, 0);
	g_assert_cmpuint(rd32(p + 22), ==, 0x38000000);
	p += 26;
	assert_bytes(p, sizeof(qmem_head), qmem_head, sizeof(qmem_head));
	g_assert_cmpuint(rd64(p + 14), ==, 0x1000000000);
	g_assert_cmpuint(rd64(p + 22), ==, 0x1FFFFFFFFF);
	g_assert_cmpuint(rd64(p + 38), ==, 0x1000000000);
	p += 46;
	/* EndTag, and a checksum that makes the descriptors sum to zero. */
	g_assert_cmpuint(p[0], ==, 0x79);
	g_assert_cmpuint((size_t)(p + 2 - res), ==, size);
	g_assert_cmpuint(acpi_checksum(res, size), ==, 0);
}

static void test_misuse(void)
{
	const uint8_t *data;
	size_t len;
	struct aml *b;

	b = aml_new();
	g_assert_cmpint(aml_end(b), ==, -EINVAL);   /* nothing open */
	aml_free(b);

	b = aml_new();
	g_assert_cmpint(aml_integer(b, 3), ==, -EINVAL);   /* a value with no Name or Return */
	aml_free(b);

	b = aml_new();
	aml_name(b, "X");
	g_assert_cmpint(aml_finish(b, &data, &len), ==, -EINVAL);   /* Name without a value */
	aml_free(b);

	b = aml_new();
	aml_scope_begin(b, "\\_SB");
	g_assert_cmpint(aml_finish(b, &data, &len), ==, -EINVAL);   /* still open */
	g_assert_cmpint(aml_end(b), ==, 0);
	g_assert_cmpint(aml_finish(b, &data, &len), ==, 0);
	aml_free(b);

	b = aml_new();
	aml_device_begin(b, "DEV");
	g_assert_cmpint(aml_res_io(b, 0x60, 0x60, 1, 1), ==, -EINVAL);   /* not in a template */
	aml_free(b);

	b = aml_new();
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	g_assert_cmpint(aml_integer(b, 1), ==, -EINVAL);   /* only descriptors inside */
	aml_free(b);

	b = aml_new();
	g_assert_cmpint(aml_return(b), ==, -EINVAL);   /* outside a Method */
	aml_free(b);

	b = aml_new();
	aml_method_begin(b, "M", 0, false);
	g_assert_cmpint(aml_device_begin(b, "D"), ==, -EINVAL);
	aml_free(b);

	b = aml_new();
	g_assert_cmpint(aml_method_begin(b, "M", 8, false), ==, -EINVAL);
	aml_free(b);

	b = aml_new();
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	g_assert_cmpint(aml_res_word_io(b, AML_PRODUCER, 0, 0xFFFF), ==, -ERANGE);   /* length 0x10000 */
	aml_free(b);

	b = aml_new();
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	g_assert_cmpint(aml_res_dword_memory(b, AML_PRODUCER, AML_CACHEABLE, true, 2, 1), ==, -EINVAL);
	aml_free(b);

	b = aml_new();
	aml_name(b, "P");
	aml_package_begin(b);
	for (int i = 0; i < AML_PACKAGE_MAX; i++)
		g_assert_cmpint(aml_integer(b, 0), ==, 0);
	g_assert_cmpint(aml_integer(b, 0), ==, -ERANGE);
	aml_free(b);

	b = aml_new();
	aml_name(b, "P");
	int r = 0;
	for (int i = 0; i <= AML_MAX_DEPTH && r == 0; i++)
		r = aml_package_begin(b);
	g_assert_cmpint(r, ==, -E2BIG);
	aml_free(b);

	/* Sticky: after the first error, valid calls fail with it and write nothing. */
	b = aml_new();
	g_assert_cmpint(aml_name_eisaid(b, "_HID", "bad"), ==, -EINVAL);
	g_assert_cmpint(aml_name_integer(b, "_UID", 0), ==, -EINVAL);
	g_assert_cmpint(aml_finish(b, &data, &len), ==, -EINVAL);
	aml_free(b);
}

/* ---- Tables ---- */

struct tables {
	uint8_t *buf;
	size_t used;
	uint64_t base;
	uint64_t rsdp;
	struct acpi_config cfg;
};

static struct acpi_config default_config(unsigned ncpus)
{
	return (struct acpi_config){ .ncpus = ncpus, .pci_mmio_start = LAYOUT_PCI_MMIO_START,
				     .pci_mmio_end = LAYOUT_PCI_MMIO_END,
				     .vmbus_mmio_start = LAYOUT_VMBUS_MMIO_START,
				     .vmbus_mmio_end = LAYOUT_VMBUS_MMIO_END };
}

static void tables_build_at(struct tables *t, unsigned ncpus, uint64_t base)
{
	t->cfg = default_config(ncpus);
	t->base = base;
	t->buf = g_malloc(LAYOUT_ACPI_SIZE);
	memset(t->buf, 0xA5, LAYOUT_ACPI_SIZE);
	long n = acpi_build(&t->cfg, t->buf, LAYOUT_ACPI_SIZE, t->base, &t->rsdp);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(n, <=, (long)LAYOUT_ACPI_SIZE);
	t->used = (size_t)n;
}

static void tables_build(struct tables *t, unsigned ncpus)
{
	tables_build_at(t, ncpus, LAYOUT_ACPI_START);
}

static void tables_free(struct tables *t)
{
	g_free(t->buf);
}

/* The bytes at guest-physical gpa, which must lie inside what acpi_build used. */
static const uint8_t *tables_at(const struct tables *t, uint64_t gpa, size_t len)
{
	g_assert_cmpuint(gpa, >=, t->base);
	g_assert_cmpuint(gpa - t->base, <=, t->used);
	g_assert_cmpuint(len, <=, t->used - (gpa - t->base));
	return t->buf + (gpa - t->base);
}

/* A system description table: header sane, inside the area, 16-byte aligned, sums to zero. */
static const uint8_t *check_sdt(const struct tables *t, uint64_t gpa, const char *sig)
{
	g_assert_cmpuint(gpa % 16, ==, 0);
	const uint8_t *p = tables_at(t, gpa, 36);
	g_assert_cmpmem(p, 4, sig, 4);
	uint32_t len = rd32(p + 4);
	g_assert_cmpuint(len, >=, 36);
	tables_at(t, gpa, len);
	g_assert_cmpuint(acpi_checksum(p, len), ==, 0);
	g_assert_cmpmem(p + 10, 6, "VIREO ", 6);
	g_assert_cmpmem(p + 16, 8, "VIREOVM ", 8);
	g_assert_cmpmem(p + 28, 4, "VIRO", 4);
	return p;
}

struct walked {
	uint64_t xsdt, rsdt, fadt, madt, dsdt, facs;
};

/* RSDP -> XSDT/RSDT -> FADT, MADT; FADT -> DSDT, FACS. */
static void tables_walk(const struct tables *t, struct walked *w)
{
	memset(w, 0, sizeof(*w));
	/* The RSDP comes first so that the 16-byte scan of 0xE0000 finds it at once. */
	g_assert_cmpuint(t->rsdp, ==, t->base);
	const uint8_t *rsdp = tables_at(t, t->rsdp, 36);
	g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(acpi_checksum(rsdp, 20), ==, 0);
	g_assert_cmpuint(rsdp[15], ==, 2);
	g_assert_cmpuint(rd32(rsdp + 20), ==, 36);
	g_assert_cmpuint(acpi_checksum(rsdp, 36), ==, 0);
	g_assert_cmpmem(rsdp + 9, 6, "VIREO ", 6);

	w->xsdt = rd64(rsdp + 24);
	w->rsdt = rd32(rsdp + 16);
	const uint8_t *xsdt = check_sdt(t, w->xsdt, "XSDT");
	uint32_t xlen = rd32(xsdt + 4);
	g_assert_cmpuint((xlen - 36) % 8, ==, 0);
	size_t nx = (xlen - 36) / 8;

	for (size_t i = 0; i < nx; i++) {
		uint64_t a = rd64(xsdt + 36 + 8 * i);
		const uint8_t *p = tables_at(t, a, 36);
		if (memcmp(p, "FACP", 4) == 0) {
			g_assert_cmpuint(w->fadt, ==, 0);
			w->fadt = a;
		} else if (memcmp(p, "APIC", 4) == 0) {
			g_assert_cmpuint(w->madt, ==, 0);
			w->madt = a;
		}
		char sig[5] = { 0 };
		memcpy(sig, p, 4);
		check_sdt(t, a, sig);
	}
	g_assert_cmpuint(w->fadt, !=, 0);
	g_assert_cmpuint(w->madt, !=, 0);

	/* The RSDT, if there is one, lists the same tables. */
	if (w->rsdt) {
		const uint8_t *rsdt = check_sdt(t, w->rsdt, "RSDT");
		uint32_t rlen = rd32(rsdt + 4);
		g_assert_cmpuint((rlen - 36) % 4, ==, 0);
		g_assert_cmpuint((rlen - 36) / 4, ==, nx);
		for (size_t i = 0; i < nx; i++)
			g_assert_cmpuint(rd32(rsdt + 36 + 4 * i), ==, rd64(xsdt + 36 + 8 * i));
	}

	const uint8_t *fadt = check_sdt(t, w->fadt, "FACP");
	g_assert_cmpuint(fadt[8], >=, 5);
	g_assert_cmpuint(rd32(fadt + 4), >=, 268);   /* through SLEEP_STATUS_REG */
	w->dsdt = rd64(fadt + 140);
	g_assert_cmpuint(rd32(fadt + 40), ==, w->dsdt);
	w->facs = rd64(fadt + 132);
	g_assert_cmpuint(rd32(fadt + 36), ==, w->facs);

	const uint8_t *dsdt = check_sdt(t, w->dsdt, "DSDT");
	g_assert_cmpuint(dsdt[8], >=, 2);   /* 64-bit integers */

	g_assert_cmpuint(w->facs % 64, ==, 0);
	const uint8_t *facs = tables_at(t, w->facs, 64);
	g_assert_cmpmem(facs, 4, "FACS", 4);
	g_assert_cmpuint(rd32(facs + 4), ==, 64);

	check_sdt(t, w->madt, "APIC");

	/* No two structures overlap. */
	struct { uint64_t a, len; } r[] = {
		{ t->rsdp, 36 }, { w->xsdt, xlen }, { w->fadt, rd32(fadt + 4) }, { w->facs, 64 },
		{ w->dsdt, rd32(dsdt + 4) }, { w->madt, rd32(tables_at(t, w->madt, 36) + 4) },
		{ w->rsdt, w->rsdt ? rd32(tables_at(t, w->rsdt, 36) + 4) : 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(r); i++)
		for (size_t j = i + 1; j < G_N_ELEMENTS(r); j++)
			g_assert_true(r[i].a + r[i].len <= r[j].a || r[j].a + r[j].len <= r[i].a ||
				      r[i].len == 0 || r[j].len == 0);
}

static const unsigned cpu_counts[] = { 1, 2, 8, 255 };

static void test_walk(void)
{
	/* A base that is only 16-byte aligned must still give a 64-byte aligned FACS. */
	static const uint64_t bases[] = { LAYOUT_ACPI_START, LAYOUT_ACPI_START + 16, LAYOUT_ACPI_START + 48 };
	for (size_t i = 0; i < G_N_ELEMENTS(cpu_counts) * G_N_ELEMENTS(bases); i++) {
		struct tables t;
		struct walked w;
		tables_build_at(&t, cpu_counts[i % G_N_ELEMENTS(cpu_counts)], bases[i / G_N_ELEMENTS(cpu_counts)]);
		tables_walk(&t, &w);

		/* Deterministic: nothing left from the buffer's previous contents. */
		uint8_t *again = g_malloc0(LAYOUT_ACPI_SIZE);
		uint64_t rsdp2 = 0;
		long n2 = acpi_build(&t.cfg, again, LAYOUT_ACPI_SIZE, t.base, &rsdp2);
		g_assert_cmpint(n2, ==, (long)t.used);
		g_assert_cmpmem(again, t.used, t.buf, t.used);
		g_free(again);
		tables_free(&t);
	}
}

static void test_fadt(void)
{
	struct tables t;
	struct walked w;
	tables_build(&t, 4);
	tables_walk(&t, &w);
	const uint8_t *f = tables_at(&t, w.fadt, 276);

	g_assert_cmpuint(rd16(f + 46), ==, IRQ_ACPI_SCI);
	g_assert_cmpuint(rd32(f + 48), ==, 0);   /* SMI_CMD: always in ACPI mode */
	g_assert_cmpuint(f[52], ==, 0);
	g_assert_cmpuint(f[53], ==, 0);
	g_assert_cmpuint(rd32(f + 56), ==, PORT_ACPI_PM1A_EVT);
	g_assert_cmpuint(rd32(f + 60), ==, 0);
	g_assert_cmpuint(rd32(f + 64), ==, PORT_ACPI_PM1A_CNT);
	g_assert_cmpuint(rd32(f + 68), ==, 0);
	g_assert_cmpuint(rd32(f + 76), ==, PORT_ACPI_PM_TMR);
	g_assert_cmpuint(rd32(f + 80), ==, PORT_ACPI_GPE0);
	g_assert_cmpuint(f[88], ==, 4);   /* PM1_EVT_LEN */
	g_assert_cmpuint(f[89], ==, 2);   /* PM1_CNT_LEN */
	g_assert_cmpuint(f[91], ==, 4);   /* PM_TMR_LEN */
	g_assert_cmpuint(f[92], ==, 4);   /* GPE0_BLK_LEN */
	g_assert_cmpuint(rd16(f + 96), >, 100);    /* no C2 */
	g_assert_cmpuint(rd16(f + 98), >, 1000);   /* no C3 */
	g_assert_cmpuint(f[108], ==, 0x32);        /* CENTURY */
	g_assert_cmpuint(rd16(f + 109) & 0x3, ==, 0x3);   /* legacy devices, 8042 */

	uint32_t flags = rd32(f + 112);
	g_assert_true(flags & (1u << 0));    /* WBINVD */
	g_assert_true(flags & (1u << 2));    /* PROC_C1 */
	g_assert_false(flags & (1u << 4));   /* PWR_BUTTON clear: fixed power button */
	g_assert_true(flags & (1u << 5));    /* SLP_BUTTON: no sleep button */
	g_assert_true(flags & (1u << 8));    /* TMR_VAL_EXT */
	g_assert_true(flags & (1u << 10));   /* RESET_REG_SUP */
	g_assert_false(flags & (1u << 20));  /* not HW_REDUCED */

	/* RESET_REG: SystemIO, 8 bits, then RESET_VALUE. */
	g_assert_cmpuint(f[116], ==, 1);
	g_assert_cmpuint(f[117], ==, 8);
	g_assert_cmpuint(rd64(f + 120), ==, PORT_ACPI_RESET);
	g_assert_cmpuint(f[128], ==, ACPI_RESET_VALUE);

	/* The X_ blocks say what the 32-bit ones say, in bits. */
	static const struct { size_t gas, blk, len; } x[] = {
		{ 148, 56, 88 },   /* PM1a_EVT */
		{ 172, 64, 89 },   /* PM1a_CNT */
		{ 208, 76, 91 },   /* PM_TMR */
		{ 220, 80, 92 },   /* GPE0 */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(x); i++) {
		g_assert_cmpuint(f[x[i].gas], ==, 1);   /* SystemIO */
		g_assert_cmpuint(f[x[i].gas + 1], ==, f[x[i].len] * 8u);
		g_assert_cmpuint(rd64(f + x[i].gas + 4), ==, rd32(f + x[i].blk));
	}
	/* PM1b, PM2, GPE1 absent in both forms. */
	g_assert_cmpuint(rd64(f + 160 + 4), ==, 0);
	g_assert_cmpuint(rd64(f + 196 + 4), ==, 0);
	g_assert_cmpuint(rd64(f + 232 + 4), ==, 0);
	tables_free(&t);
}

static void test_madt(void)
{
	for (size_t c = 0; c < G_N_ELEMENTS(cpu_counts); c++) {
		unsigned ncpus = cpu_counts[c];
		struct tables t;
		struct walked w;
		tables_build(&t, ncpus);
		tables_walk(&t, &w);
		const uint8_t *m = tables_at(&t, w.madt, 44);
		uint32_t len = rd32(m + 4);
		g_assert_cmpuint(rd32(m + 36), ==, LAYOUT_LAPIC_ADDR);
		g_assert_true(rd32(m + 40) & 1);   /* PCAT_COMPAT */

		unsigned enabled = 0, ioapics = 0, nmis = 0;
		bool irq0 = false, sci = false;
		g_autofree bool *seen = g_new0(bool, 256);
		uint8_t ioapic_id = 0;
		size_t off = 44;
		while (off < len) {
			g_assert_cmpuint(len - off, >=, 2);
			const uint8_t *e = m + off;
			g_assert_cmpuint(e[1], >=, 2);
			g_assert_cmpuint(e[1], <=, len - off);
			switch (e[0]) {
			case 0:   /* Processor Local APIC */
				g_assert_cmpuint(e[1], ==, 8);
				if (rd32(e + 4) & 1) {
					g_assert_false(seen[e[3]]);
					seen[e[3]] = true;
					g_assert_cmpuint(e[3], ==, enabled);   /* APIC id = cpu index */
					enabled++;
				}
				break;
			case 1:   /* I/O APIC */
				g_assert_cmpuint(e[1], ==, 12);
				ioapic_id = e[2];
				g_assert_cmpuint(rd32(e + 4), ==, LAYOUT_IOAPIC_ADDR);
				g_assert_cmpuint(rd32(e + 8), ==, 0);
				ioapics++;
				break;
			case 2:   /* Interrupt Source Override */
				g_assert_cmpuint(e[1], ==, 10);
				g_assert_cmpuint(e[2], ==, 0);   /* ISA */
				if (e[3] == 0) {
					g_assert_cmpuint(rd32(e + 4), ==, 2);
					g_assert_cmpuint(rd16(e + 8), ==, 0);
					irq0 = true;
				} else if (e[3] == IRQ_ACPI_SCI) {
					g_assert_cmpuint(rd32(e + 4), ==, IRQ_ACPI_SCI);
					g_assert_cmpuint(rd16(e + 8), ==, 0x000D);
					sci = true;
				} else {
					g_assert_not_reached();
				}
				break;
			case 4:   /* Local APIC NMI */
				g_assert_cmpuint(e[1], ==, 6);
				g_assert_cmpuint(e[2], ==, 0xFF);
				g_assert_cmpuint(e[5], ==, 1);
				nmis++;
				break;
			default:
				g_assert_not_reached();
			}
			off += e[1];
		}
		g_assert_cmpuint(off, ==, len);
		g_assert_cmpuint(enabled, ==, ncpus);
		g_assert_cmpuint(ioapics, ==, 1);
		g_assert_false(seen[ioapic_id]);   /* distinct from every LAPIC id */
		g_assert_cmpuint(nmis, ==, 1);
		g_assert_true(irq0);
		g_assert_true(sci);
		tables_free(&t);
	}
}

static void test_no_vmbus(void)
{
	/* A guest on the KVM interface gets no VMBus device at all. */
	struct acpi_config cfg = default_config(2);
	cfg.vmbus_mmio_start = cfg.vmbus_mmio_end = 0;
	uint8_t *buf = g_malloc0(LAYOUT_ACPI_SIZE);
	uint64_t rsdp;
	long n = acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp);
	g_assert_cmpint(n, >, 0);
	g_assert_null(memmem(buf, (size_t)n, "VMBUS", 5));
	g_assert_null(memmem(buf, (size_t)n, "VMOD", 4));
	cfg = default_config(2);
	n = acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp);
	g_assert_nonnull(memmem(buf, (size_t)n, "VMBUS", 5));
	/* A window below 1 MiB or upside down is refused. */
	cfg.vmbus_mmio_start = 0x1000;
	cfg.vmbus_mmio_end = 0x2000;
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);
	cfg.vmbus_mmio_start = LAYOUT_VMBUS_MMIO_END;
	cfg.vmbus_mmio_end = LAYOUT_VMBUS_MMIO_START;
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);
	g_free(buf);
}

static void test_errors(void)
{
	uint8_t *buf = g_malloc(LAYOUT_ACPI_SIZE);
	const uint64_t sentinel = 0xDEADBEEF;
	uint64_t rsdp = sentinel;
	struct acpi_config cfg = default_config(0);
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);
	cfg.ncpus = LAYOUT_MAX_VCPUS + 1;
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);

	cfg = default_config(2);
	cfg.pci_mmio_end = cfg.pci_mmio_start;
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);
	cfg = default_config(2);
	cfg.pci_mmio_end = LAYOUT_MMIO_HOLE_END + 1;   /* DWordMemory cannot say that */
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp), ==, -EINVAL);

	cfg = default_config(2);
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START + 8, &rsdp), ==, -EINVAL);
	/* The 32-bit pointers could not reach it. */
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_MMIO_HOLE_END, &rsdp), ==, -EINVAL);
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_MMIO_HOLE_END - 256, &rsdp), ==, -EINVAL);
	g_assert_cmpint(acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, UINT64_MAX - 15, &rsdp), ==, -EINVAL);
	g_assert_cmpuint(rsdp, ==, sentinel);

	/* Too small: nothing written, including the output parameter. */
	cfg = default_config(LAYOUT_MAX_VCPUS);
	long need = acpi_build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp);
	g_assert_cmpint(need, >, 0);
	rsdp = sentinel;
	memset(buf, 0xA5, LAYOUT_ACPI_SIZE);
	g_assert_cmpint(acpi_build(&cfg, buf, 16, LAYOUT_ACPI_START, &rsdp), ==, -ENOSPC);
	g_assert_cmpint(acpi_build(&cfg, buf, (size_t)need - 1, LAYOUT_ACPI_START, &rsdp), ==, -ENOSPC);
	g_assert_cmpuint(rsdp, ==, sentinel);
	for (size_t i = 0; i < LAYOUT_ACPI_SIZE; i++)
		if (buf[i] != 0xA5)
			g_assert_not_reached();
	g_assert_cmpint(acpi_build(&cfg, buf, (size_t)need, LAYOUT_ACPI_START, &rsdp), ==, need);
	g_assert_cmpuint(rsdp, ==, LAYOUT_ACPI_START);
	g_free(buf);
}

/* ---- iasl, the real peer ---- */

struct run {
	gchar *out;
	int status;
};

static void run_iasl(const char *iasl, const char *dir, const char *const *args, struct run *r)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_ptr_array_add(argv, (gpointer)iasl);
	for (size_t i = 0; args[i]; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);

	g_autofree gchar *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok = g_spawn_sync(dir, (gchar **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   &out, &err, &r->status, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	r->out = g_strconcat(out, err, NULL);
	g_test_message("iasl %s:\n%s", args[0], r->out);
}

static void assert_clean_exit(const struct run *r)
{
	g_autoptr(GError) error = NULL;
	g_spawn_check_wait_status(r->status, &error);
	g_assert_no_error(error);
}

static void write_table(const char *dir, const char *name, const uint8_t *table)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	g_file_set_contents(path, (const gchar *)table, rd32(table + 4), &error);
	g_assert_no_error(error);
}

static gchar *read_text(const char *dir, const char *name)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	gchar *text = NULL;
	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

/* Disassembles name.dat into name.dsl; ACPICA's complaints (bad checksum,
 * bad name characters, unknown opcodes) all say Warning or Error. */
static gchar *disassemble(const char *iasl, const char *dir, const char *name)
{
	g_autofree gchar *dat = g_strconcat(name, ".dat", NULL);
	g_autofree gchar *dsl = g_strconcat(name, ".dsl", NULL);
	const char *args[] = { "-d", dat, NULL };
	struct run r;
	run_iasl(iasl, dir, args, &r);
	assert_clean_exit(&r);
	g_autofree gchar *lower = g_ascii_strdown(r.out, -1);
	g_assert_null(strstr(lower, "warning"));
	g_assert_null(strstr(lower, "error"));
	g_free(r.out);
	return read_text(dir, dsl);
}

static unsigned count_substr(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		g_error("disassembly lacks \"%s\"", needle);
}

static unsigned compile_count(const char *out, const char *what)
{
	/* "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks, ..." */
	g_autofree gchar *pattern = g_strdup_printf("([0-9]+) %s", what);
	g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
	g_autoptr(GMatchInfo) mi = NULL;
	if (!g_regex_match(re, out, 0, &mi))
		g_error("iasl printed no count of %s", what);
	g_autofree gchar *n = g_match_info_fetch(mi, 1);
	return (unsigned)g_ascii_strtoull(n, NULL, 10);
}

static void remove_tree(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return;
	const char *name;
	while ((name = g_dir_read_name(d))) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	g_dir_close(d);
	g_rmdir(dir);
}

/* The text of one Device () in a disassembly, up to the next one. */
static gchar *dsl_device(const char *dsl, const char *name)
{
	g_autofree gchar *head = g_strdup_printf("Device (%s)", name);
	const char *start = strstr(dsl, head);
	if (!start)
		g_error("disassembly has no %s", head);
	const char *next = strstr(start + 1, "Device (");
	return next ? g_strndup(start, (gsize)(next - start)) : g_strdup(start);
}

static void test_iasl(void)
{
	g_autofree gchar *iasl = g_find_program_in_path("iasl");
	if (!iasl) {
		g_test_fail_printf("iasl not found in PATH: install acpica-tools (apt install acpica-tools); "
				   "the ACPI tables are checked against it");
		return;
	}
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("vireo-acpi-XXXXXX", &error);
	g_assert_no_error(error);

	const unsigned ncpus = 4;
	struct tables t;
	struct walked w;
	tables_build(&t, ncpus);
	tables_walk(&t, &w);
	const uint8_t *dsdt = tables_at(&t, w.dsdt, 36);
	write_table(dir, "dsdt.dat", dsdt);
	write_table(dir, "facp.dat", tables_at(&t, w.fadt, 36));
	write_table(dir, "apic.dat", tables_at(&t, w.madt, 36));
	write_table(dir, "xsdt.dat", tables_at(&t, w.xsdt, 36));

	g_autofree gchar *dsl = disassemble(iasl, dir, "dsdt");
	assert_contains(dsl, "DefinitionBlock (\"\", \"DSDT\", 2, \"VIREO \", \"VIREOVM \"");
	g_autofree gchar *s5 = g_strdup_printf("Name (\\_S5, Package (0x04)  // _S5_: S5 System State\n"
					       "    {\n        0x%02X, \n        0x%02X, \n        Zero, \n        Zero\n    })",
					       ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP);
	assert_contains(dsl, s5);
	assert_contains(dsl, "Scope (\\_SB)");

	g_autofree gchar *pci0 = dsl_device(dsl, "PCI0");
	assert_contains(pci0, "Name (_HID, EisaId (\"PNP0A03\")");
	assert_contains(pci0, "Name (_UID, Zero)");
	assert_contains(pci0, "Name (_SEG, Zero)");
	assert_contains(pci0, "Name (_BBN, Zero)");
	assert_contains(pci0, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,");
	assert_contains(pci0, "0x00FF,             // Range Maximum");
	assert_contains(pci0, "0x0CF8,             // Range Minimum");
	assert_contains(pci0, "0x0CF7,             // Range Maximum");
	assert_contains(pci0, "0x0D00,             // Range Minimum");
	assert_contains(pci0, "0xFFFF,             // Range Maximum");
	g_autofree gchar *mmio_lo = g_strdup_printf("0x%08" PRIX64 ",         // Range Minimum",
						    t.cfg.pci_mmio_start);
	g_autofree gchar *mmio_hi = g_strdup_printf("0x%08" PRIX64 ",         // Range Maximum",
						    t.cfg.pci_mmio_end - 1);
	assert_contains(pci0, mmio_lo);
	assert_contains(pci0, mmio_hi);
	g_assert_null(strstr(pci0, "_ADR"));   /* _HID and _ADR together: iasl warns, the spec forbids */

	/* hv_vmbus matches _HID "VMBUS" and takes its MMIO pool from the parent module's window. */
	g_autofree gchar *vmod = dsl_device(dsl, "VMOD");
	assert_contains(vmod, "Name (_HID, \"ACPI0004\" /* Module Device */)");
	assert_contains(vmod, "QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,");
	assert_contains(vmod, "0x00000000F8000000, // Range Minimum");
	assert_contains(vmod, "0x00000000FBFFFFFF, // Range Maximum");
	g_autofree gchar *vmbs = dsl_device(dsl, "VMBS");
	assert_contains(dsl, "Device (VMOD)\n        {\n            Name (_HID, \"ACPI0004\"");
	assert_contains(vmbs, "Name (_HID, \"MSFT1000\")");
	assert_contains(vmbs, "Name (_CID, \"VMBUS\")");
	assert_contains(vmbs, "Return (0x0F)");
	/* An empty _CRS (just the end tag): iasl shows it as a two-byte buffer. */
	assert_contains(vmbs, "Name (_CRS, Buffer (0x02)");
	assert_contains(vmbs, "0x79, 0x87");
	/* VMBS is VMOD's child: iasl indents it one level deeper than VMOD (\_SB.VMOD.VMBS). */
	assert_contains(dsl, "\n        Device (VMOD)");
	assert_contains(dsl, "\n            Device (VMBS)");

	g_autofree gchar *com1 = dsl_device(dsl, "COM1");
	assert_contains(com1, "Name (_HID, EisaId (\"PNP0501\")");
	assert_contains(com1, "Name (_UID, One)");
	assert_contains(com1, "Return (0x0F)");
	g_autofree gchar *com1_io = g_strdup_printf("0x%04X,             // Range Minimum\n"
						    "                    0x%04X,             // Range Maximum\n"
						    "                    0x01,               // Alignment\n"
						    "                    0x%02X,               // Length",
						    PORT_COM1, PORT_COM1, PORT_COM1_LEN);
	assert_contains(com1, com1_io);
	g_autofree gchar *com1_irq = g_strdup_printf("{%d}", IRQ_COM1);
	assert_contains(com1, com1_irq);

	g_autofree gchar *rtc = dsl_device(dsl, "RTC");
	assert_contains(rtc, "Name (_HID, EisaId (\"PNP0B00\")");
	g_autofree gchar *rtc_io = g_strdup_printf("0x%04X,             // Range Minimum\n"
						   "                    0x%04X,             // Range Maximum\n"
						   "                    0x01,               // Alignment\n"
						   "                    0x%02X,               // Length",
						   PORT_RTC, PORT_RTC, PORT_RTC_LEN);
	assert_contains(rtc, rtc_io);
	g_autofree gchar *rtc_irq = g_strdup_printf("{%d}", IRQ_RTC);
	assert_contains(rtc, rtc_irq);

	g_autofree gchar *fadt = disassemble(iasl, dir, "facp");
	gchar *want[] = {
		g_strdup_printf("PM1A Event Block Address : %08X", PORT_ACPI_PM1A_EVT),
		g_strdup_printf("PM1A Control Block Address : %08X", PORT_ACPI_PM1A_CNT),
		g_strdup_printf("PM Timer Block Address : %08X", PORT_ACPI_PM_TMR),
		g_strdup_printf("GPE0 Block Address : %08X", PORT_ACPI_GPE0),
		g_strdup_printf("SCI Interrupt : %04X", IRQ_ACPI_SCI),
		g_strdup_printf("Value to cause reset : %02X", ACPI_RESET_VALUE),
		g_strdup_printf("Address : %016X", PORT_ACPI_RESET),
		g_strdup_printf("DSDT Address : %016" PRIX64, w.dsdt),
		g_strdup_printf("FACS Address : %016" PRIX64, w.facs),
		g_strdup("Control Method Power Button (V1) : 0"),
		g_strdup("Control Method Sleep Button (V1) : 1"),
		g_strdup("Hardware Reduced (V5) : 0"),
		g_strdup("8042 Present on ports 60/64 (V2) : 1"),
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		assert_contains(fadt, want[i]);
		g_free(want[i]);
	}

	g_autofree gchar *madt = disassemble(iasl, dir, "apic");
	g_assert_cmpuint(count_substr(madt, "[Processor Local APIC]"), ==, ncpus);
	g_assert_cmpuint(count_substr(madt, "Processor Enabled : 1"), ==, ncpus);
	g_assert_cmpuint(count_substr(madt, "[Interrupt Source Override]"), ==, 2);
	assert_contains(madt, "Local Apic Address : FEE00000");
	assert_contains(madt, "Address : FEC00000");
	assert_contains(madt, "PC-AT Compatibility : 1");
	assert_contains(madt, "Interrupt Input LINT : 01");

	g_autofree gchar *xsdt = disassemble(iasl, dir, "xsdt");
	g_assert_cmpuint(count_substr(xsdt, "ACPI Table Address"), ==, 2);

	/* Recompiled without optimizations, the disassembly must give back our
	 * bytes: then the encoder agrees with the reference compiler. */
	const char *args[] = { "-oa", "-p", "recompiled", "dsdt.dsl", NULL };
	struct run r;
	run_iasl(iasl, dir, args, &r);
	assert_clean_exit(&r);
	g_assert_cmpuint(compile_count(r.out, "Errors"), ==, 0);
	g_assert_cmpuint(compile_count(r.out, "Warnings"), ==, 0);
	g_free(r.out);

	g_autofree gchar *aml_path = g_build_filename(dir, "recompiled.aml", NULL);
	g_autofree gchar *aml = NULL;
	gsize aml_len = 0;
	g_file_get_contents(aml_path, &aml, &aml_len, &error);
	g_assert_no_error(error);
	uint32_t dsdt_len = rd32(dsdt + 4);
	g_assert_cmpuint(aml_len, ==, dsdt_len);
	for (size_t i = 36; i < dsdt_len; i++) {
		uint8_t ours = dsdt[i], theirs = (uint8_t)aml[i];
		if (ours == theirs)
			continue;
		/* iasl writes 0 ("valid") for an EndTag checksum; we compute it. */
		if (dsdt[i - 1] == 0x79 && theirs == 0)
			continue;
		g_error("DSDT byte %zu: ours 0x%02X, iasl 0x%02X", i, ours, theirs);
	}

	tables_free(&t);
	remove_tree(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi/aml/pkglength", test_pkglength_encode);
	g_test_add_func("/acpi/tables/no-vmbus", test_no_vmbus);
	g_test_add_func("/acpi/aml/pkglength-self-inclusive", test_pkglength_self_inclusive);
	g_test_add_func("/acpi/aml/integer", test_integer);
	g_test_add_func("/acpi/aml/nameseg", test_nameseg);
	g_test_add_func("/acpi/aml/namestring", test_namestring);
	g_test_add_func("/acpi/aml/eisaid-string", test_eisaid_string);
	g_test_add_func("/acpi/aml/structure", test_structure);
	g_test_add_func("/acpi/aml/resources", test_resources);
	g_test_add_func("/acpi/aml/misuse", test_misuse);
	g_test_add_func("/acpi/tables/walk", test_walk);
	g_test_add_func("/acpi/tables/fadt", test_fadt);
	g_test_add_func("/acpi/tables/madt", test_madt);
	g_test_add_func("/acpi/tables/errors", test_errors);
	g_test_add_func("/acpi/iasl", test_iasl);
	return g_test_run();
}
