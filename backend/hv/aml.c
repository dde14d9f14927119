// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/aml.h"

/* Opcodes and prefixes (ACPI 6.x, 20.2). */
enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0A,
	AML_WORD_PREFIX = 0x0B,
	AML_DWORD_PREFIX = 0x0C,
	AML_STRING_PREFIX = 0x0D,
	AML_QWORD_PREFIX = 0x0E,
	AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_METHOD_OP = 0x14,
	AML_DUAL_NAME_PREFIX = 0x2E,
	AML_MULTI_NAME_PREFIX = 0x2F,
	AML_EXT_OP_PREFIX = 0x5B,
	AML_ROOT_CHAR = 0x5C,
	AML_PARENT_PREFIX_CHAR = 0x5E,
	AML_RETURN_OP = 0xA4,
	AML_ONES_OP = 0xFF,
	AML_EXT_DEVICE_OP = 0x82,
};

/* Resource descriptor tags (ACPI 6.x, 6.4). */
enum {
	AML_RES_IRQ_NOFLAGS = 0x22,   /* small item 0x04, 2 bytes */
	AML_RES_IO = 0x47,            /* small item 0x08, 7 bytes */
	AML_RES_END_TAG = 0x79,       /* small item 0x0F, 1 byte */
	AML_RES_DWORD_ADDR = 0x87,
	AML_RES_WORD_ADDR = 0x88,
	AML_RES_QWORD_ADDR = 0x8A,
};

enum aml_space { AML_SPACE_MEMORY = 0, AML_SPACE_IO = 1, AML_SPACE_BUS = 2 };

/* General flags of an address space descriptor. */
#define AML_ADDR_CONSUMER  0x01
#define AML_ADDR_MIN_FIXED 0x04
#define AML_ADDR_MAX_FIXED 0x08
/* I/O type-specific flags: decodes both ISA and non-ISA ranges. */
#define AML_IO_ENTIRE_RANGE 0x03

enum aml_kind {
	AML_FRAME_ROOT,
	AML_FRAME_SCOPE,
	AML_FRAME_DEVICE,
	AML_FRAME_METHOD,
	AML_FRAME_PACKAGE,
	AML_FRAME_RESTEMPLATE,
};

struct aml_frame {
	enum aml_kind kind;
	size_t start;      /* where the PkgLength goes: just after the opcode */
	unsigned count;    /* package elements so far */
	bool pending;      /* a Name or Return waits for its value */
};

struct aml {
	GByteArray *buf;
	struct aml_frame frames[AML_MAX_DEPTH + 1];  /* [0] is the top level */
	unsigned depth;
	int err;
};

struct aml *aml_new(void)
{
	struct aml *b = g_new0(struct aml, 1);
	b->buf = g_byte_array_new();
	b->frames[0].kind = AML_FRAME_ROOT;
	return b;
}

void aml_free(struct aml *b)
{
	if (!b)
		return;
	g_byte_array_unref(b->buf);
	g_free(b);
}

static int aml_fail(struct aml *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

int aml_finish(const struct aml *b, const uint8_t **data, size_t *len)
{
	if (b->err)
		return b->err;
	if (b->depth != 0 || b->frames[0].pending)
		return -EINVAL;
	*data = b->buf->data;
	*len = b->buf->len;
	return 0;
}

static struct aml_frame *aml_top(struct aml *b)
{
	return &b->frames[b->depth];
}

static bool aml_is_term_list(enum aml_kind k)
{
	return k == AML_FRAME_ROOT || k == AML_FRAME_SCOPE || k == AML_FRAME_DEVICE ||
	       k == AML_FRAME_METHOD;
}

/* A value object may come next: as a Package element or as a pending operand. */
static int aml_accept_value(struct aml *b)
{
	if (b->err)
		return b->err;
	struct aml_frame *f = aml_top(b);
	if (f->kind == AML_FRAME_PACKAGE) {
		if (f->count >= AML_PACKAGE_MAX)
			return aml_fail(b, -ERANGE);
		f->count++;
		return 0;
	}
	if (aml_is_term_list(f->kind) && f->pending) {
		f->pending = false;
		return 0;
	}
	return aml_fail(b, -EINVAL);
}

/* A named object or statement may come next: only in a term list with no operand owed. */
static int aml_accept_term(struct aml *b)
{
	if (b->err)
		return b->err;
	struct aml_frame *f = aml_top(b);
	if (!aml_is_term_list(f->kind) || f->pending)
		return aml_fail(b, -EINVAL);
	return 0;
}

static void aml_byte(struct aml *b, uint8_t v)
{
	g_byte_array_append(b->buf, &v, 1);
}

static void aml_le(struct aml *b, uint64_t v, unsigned nbytes)
{
	uint8_t tmp[8];
	for (unsigned i = 0; i < nbytes; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	g_byte_array_append(b->buf, tmp, nbytes);
}

static void aml_insert(GByteArray *a, size_t at, const uint8_t *data, size_t n)
{
	size_t old = a->len;
	g_byte_array_set_size(a, (guint)(old + n));
	memmove(a->data + at + n, a->data + at, old - at);
	memcpy(a->data + at, data, n);
}

int aml_pkglength_encode(uint32_t value, uint8_t out[4])
{
	if (value <= 0x3F) {
		out[0] = (uint8_t)value;
		return 1;
	}
	if (value > AML_PKGLENGTH_MAX)
		return -ERANGE;
	/* Past one byte, the lead byte keeps only 4 bits: the count is in bits 7-6. */
	int n = value <= 0xFFF ? 2 : value <= 0xFFFFF ? 3 : 4;
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0F));
	for (int i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

static size_t aml_encode_integer(uint64_t v, uint8_t out[9])
{
	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = AML_ONES_OP;
		return 1;
	}
	unsigned n;
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

static bool aml_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool aml_name_char(char c)
{
	return aml_lead_char(c) || (c >= '0' && c <= '9');
}

static int aml_nameseg_n(const char *name, size_t len, char out[4])
{
	if (len < 1 || len > 4 || !aml_lead_char(name[0]))
		return -EINVAL;
	for (size_t i = 1; i < len; i++)
		if (!aml_name_char(name[i]))
			return -EINVAL;
	/* Trailing underscores are the padding the grammar defines, not part of the name. */
	memset(out, '_', 4);
	memcpy(out, name, len);
	return 0;
}

int aml_nameseg(const char *name, char out[4])
{
	return aml_nameseg_n(name, strlen(name), out);
}

static int aml_put_namestring(struct aml *b, const char *path)
{
	const char *p = path;
	if (*p == '\\') {
		aml_byte(b, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			aml_byte(b, AML_PARENT_PREFIX_CHAR);
			p++;
		}
	}
	if (*p == '\0') {
		/* "\" alone is the root; "" or "^" name nothing. */
		if (p == path || path[0] != '\\')
			return aml_fail(b, -EINVAL);
		aml_byte(b, AML_ZERO_OP);   /* NullName */
		return 0;
	}

	size_t nsegs = 1;
	for (const char *q = p; *q; q++)
		nsegs += *q == '.';
	if (nsegs > AML_NAMESEGS_MAX)
		return aml_fail(b, -EINVAL);
	if (nsegs == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)nsegs);
	}
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char seg[4];
		if (aml_nameseg_n(p, len, seg) < 0)
			return aml_fail(b, -EINVAL);
		g_byte_array_append(b->buf, (const uint8_t *)seg, 4);
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

int aml_integer(struct aml *b, uint64_t value)
{
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	uint8_t enc[9];
	size_t n = aml_encode_integer(value, enc);
	g_byte_array_append(b->buf, enc, (guint)n);
	return 0;
}

int aml_string(struct aml *b, const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7F)
			return aml_fail(b, -EINVAL);
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_STRING_PREFIX);
	g_byte_array_append(b->buf, (const uint8_t *)s, (guint)strlen(s) + 1);
	return 0;
}

static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid(struct aml *b, const char *id)
{
	if (strlen(id) != 7)
		return aml_fail(b, -EINVAL);
	/* Three letters of 5 bits each (A = 1), then four hex digits. */
	uint32_t v = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return aml_fail(b, -EINVAL);
		v = (v << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		int d = aml_hex_digit(id[i]);
		if (d < 0)
			return aml_fail(b, -EINVAL);
		v = (v << 4) | (uint32_t)d;
	}
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	/* The id is defined as a big-endian byte string; ASL compilers always
	 * emit it as a DWord, so the disassembly shows EisaId() again. */
	aml_byte(b, AML_DWORD_PREFIX);
	aml_le(b, GUINT32_SWAP_LE_BE(v), 4);
	return 0;
}

int aml_namestring(struct aml *b, const char *path)
{
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	return aml_put_namestring(b, path);
}

int aml_name(struct aml *b, const char *name)
{
	int r = aml_accept_term(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_NAME_OP);
	r = aml_put_namestring(b, name);
	if (r < 0)
		return r;
	aml_top(b)->pending = true;
	return 0;
}

int aml_name_integer(struct aml *b, const char *name, uint64_t value)
{
	aml_name(b, name);
	return aml_integer(b, value);
}

int aml_name_string(struct aml *b, const char *name, const char *s)
{
	aml_name(b, name);
	return aml_string(b, s);
}

int aml_name_eisaid(struct aml *b, const char *name, const char *id)
{
	aml_name(b, name);
	return aml_eisaid(b, id);
}

int aml_return(struct aml *b)
{
	int r = aml_accept_term(b);
	if (r < 0)
		return r;
	if (aml_top(b)->kind != AML_FRAME_METHOD)
		return aml_fail(b, -EINVAL);
	aml_byte(b, AML_RETURN_OP);
	aml_top(b)->pending = true;
	return 0;
}

static int aml_push(struct aml *b, enum aml_kind kind)
{
	if (b->depth >= AML_MAX_DEPTH)
		return aml_fail(b, -E2BIG);
	b->frames[++b->depth] = (struct aml_frame){ .kind = kind, .start = b->buf->len };
	return 0;
}

int aml_scope_begin(struct aml *b, const char *path)
{
	int r = aml_accept_term(b);
	if (r < 0)
		return r;
	if (aml_top(b)->kind == AML_FRAME_METHOD)
		return aml_fail(b, -EINVAL);
	aml_byte(b, AML_SCOPE_OP);
	r = aml_push(b, AML_FRAME_SCOPE);
	if (r < 0)
		return r;
	return aml_put_namestring(b, path);
}

int aml_device_begin(struct aml *b, const char *name)
{
	int r = aml_accept_term(b);
	if (r < 0)
		return r;
	if (aml_top(b)->kind == AML_FRAME_METHOD)
		return aml_fail(b, -EINVAL);
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_EXT_DEVICE_OP);
	r = aml_push(b, AML_FRAME_DEVICE);
	if (r < 0)
		return r;
	return aml_put_namestring(b, name);
}

int aml_method_begin(struct aml *b, const char *name, unsigned nargs, bool serialized)
{
	if (nargs > 7)
		return aml_fail(b, -EINVAL);
	int r = aml_accept_term(b);
	if (r < 0)
		return r;
	if (aml_top(b)->kind == AML_FRAME_METHOD)
		return aml_fail(b, -EINVAL);
	aml_byte(b, AML_METHOD_OP);
	r = aml_push(b, AML_FRAME_METHOD);
	if (r < 0)
		return r;
	r = aml_put_namestring(b, name);
	if (r < 0)
		return r;
	aml_byte(b, (uint8_t)(nargs | (serialized ? 0x08 : 0)));   /* SyncLevel 0 */
	return 0;
}

int aml_package_begin(struct aml *b)
{
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_PACKAGE_OP);
	r = aml_push(b, AML_FRAME_PACKAGE);
	if (r < 0)
		return r;
	aml_byte(b, 0);   /* NumElements, filled in by aml_end */
	return 0;
}

int aml_restemplate_begin(struct aml *b)
{
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_BUFFER_OP);
	return aml_push(b, AML_FRAME_RESTEMPLATE);
}

/* Inserts prefix (BufferSize, or nothing) and then a PkgLength covering it and
 * everything after start. The PkgLength counts its own bytes, so its size is
 * the smallest that still holds content + its size. */
static int aml_close(struct aml *b, size_t start, const uint8_t *prefix, size_t plen)
{
	size_t content = b->buf->len - start + plen;
	static const uint32_t limit[4] = { 0x3F, 0xFFF, 0xFFFFF, AML_PKGLENGTH_MAX };
	size_t n = 0;
	while (n < 4 && content + n + 1 > limit[n])
		n++;
	if (n == 4)
		return aml_fail(b, -ERANGE);
	uint8_t head[4 + 9];
	int hl = aml_pkglength_encode((uint32_t)(content + n + 1), head);
	g_assert(hl == (int)n + 1);
	if (plen)
		memcpy(head + hl, prefix, plen);
	aml_insert(b->buf, start, head, (size_t)hl + plen);
	return 0;
}

int aml_end(struct aml *b)
{
	if (b->err)
		return b->err;
	if (b->depth == 0)
		return aml_fail(b, -EINVAL);
	struct aml_frame f = b->frames[b->depth];
	if (f.pending)
		return aml_fail(b, -EINVAL);
	b->depth--;

	switch (f.kind) {
	case AML_FRAME_PACKAGE:
		b->buf->data[f.start] = (uint8_t)f.count;
		return aml_close(b, f.start, NULL, 0);
	case AML_FRAME_RESTEMPLATE: {
		aml_byte(b, AML_RES_END_TAG);
		/* The EndTag's checksum makes the whole descriptor list sum to zero. */
		uint8_t sum = 0;
		for (size_t i = f.start; i < b->buf->len; i++)
			sum = (uint8_t)(sum + b->buf->data[i]);
		aml_byte(b, (uint8_t)-sum);
		uint8_t size[9];
		size_t sl = aml_encode_integer(b->buf->len - f.start, size);
		return aml_close(b, f.start, size, sl);
	}
	default:
		return aml_close(b, f.start, NULL, 0);
	}
}

int aml_buffer(struct aml *b, const void *data, size_t len)
{
	if (len > AML_PKGLENGTH_MAX)
		return aml_fail(b, -ERANGE);
	int r = aml_accept_value(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_BUFFER_OP);
	size_t start = b->buf->len;
	if (len)
		g_byte_array_append(b->buf, data, (guint)len);
	uint8_t size[9];
	size_t sl = aml_encode_integer(len, size);
	return aml_close(b, start, size, sl);
}

static int aml_accept_descriptor(struct aml *b)
{
	if (b->err)
		return b->err;
	if (aml_top(b)->kind != AML_FRAME_RESTEMPLATE)
		return aml_fail(b, -EINVAL);
	return 0;
}

int aml_res_io(struct aml *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (max < min)
		return aml_fail(b, -EINVAL);
	int r = aml_accept_descriptor(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_RES_IO);
	aml_byte(b, 0x01);   /* decodes all 16 address bits */
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_byte(b, align);
	aml_byte(b, len);
	return 0;
}

int aml_res_irq_noflags(struct aml *b, uint16_t mask)
{
	int r = aml_accept_descriptor(b);
	if (r < 0)
		return r;
	aml_byte(b, AML_RES_IRQ_NOFLAGS);
	aml_le(b, mask, 2);
	return 0;
}

static int aml_res_address(struct aml *b, uint8_t tag, unsigned width, enum aml_space space,
			   enum aml_usage use, uint8_t type_flags, uint64_t min, uint64_t max)
{
	if (max < min)
		return aml_fail(b, -EINVAL);
	uint64_t len = max - min + 1;
	if (len == 0 || (width < 8 && len > (UINT64_C(1) << (8 * width)) - 1))
		return aml_fail(b, -ERANGE);
	int r = aml_accept_descriptor(b);
	if (r < 0)
		return r;
	aml_byte(b, tag);
	aml_le(b, 3 + 5 * width, 2);   /* flags, then granularity, min, max, translation, length */
	aml_byte(b, (uint8_t)space);
	aml_byte(b, (use == AML_CONSUMER ? AML_ADDR_CONSUMER : 0) | AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED);
	aml_byte(b, type_flags);
	aml_le(b, 0, width);
	aml_le(b, min, width);
	aml_le(b, max, width);
	aml_le(b, 0, width);
	aml_le(b, len, width);
	return 0;
}

static uint8_t aml_mem_flags(enum aml_cache cache, bool rw)
{
	return (uint8_t)(((unsigned)cache & 3) << 1 | (rw ? 1 : 0));
}

int aml_res_word_bus_number(struct aml *b, enum aml_usage use, uint16_t min, uint16_t max)
{
	return aml_res_address(b, AML_RES_WORD_ADDR, 2, AML_SPACE_BUS, use, 0, min, max);
}

int aml_res_word_io(struct aml *b, enum aml_usage use, uint16_t min, uint16_t max)
{
	return aml_res_address(b, AML_RES_WORD_ADDR, 2, AML_SPACE_IO, use, AML_IO_ENTIRE_RANGE, min, max);
}

int aml_res_dword_io(struct aml *b, enum aml_usage use, uint32_t min, uint32_t max)
{
	return aml_res_address(b, AML_RES_DWORD_ADDR, 4, AML_SPACE_IO, use, AML_IO_ENTIRE_RANGE, min, max);
}

int aml_res_dword_memory(struct aml *b, enum aml_usage use, enum aml_cache cache, bool rw,
			 uint32_t min, uint32_t max)
{
	return aml_res_address(b, AML_RES_DWORD_ADDR, 4, AML_SPACE_MEMORY, use, aml_mem_flags(cache, rw),
			       min, max);
}

int aml_res_qword_memory(struct aml *b, enum aml_usage use, enum aml_cache cache, bool rw,
			 uint64_t min, uint64_t max)
{
	return aml_res_address(b, AML_RES_QWORD_ADDR, 8, AML_SPACE_MEMORY, use, aml_mem_flags(cache, rw),
			       min, max);
}
