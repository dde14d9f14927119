// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The KVP answers a guest sends (ic_kvp_msg.c): whatever the bytes, parsing
 * never reads outside them and what it accepts is valid UTF-8 that fits its
 * field; text the host builds decodes back to itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hv/le.h"
#include "vsp/ic_kvp_msg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_entry(const struct kvp_entry *e)
{
	CHECK(memchr(e->key, 0, sizeof(e->key)) && memchr(e->value, 0, sizeof(e->value)));
	CHECK(g_utf8_validate(e->key, -1, NULL) && g_utf8_validate(e->value, -1, NULL));
	CHECK(e->key[0] != '\0');
}

/* Bytes as the whole body, in a buffer of exactly their size. */
static void fuzz_raw(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	uint8_t pool = data[0] % KVP_POOL_COUNT;
	uint8_t *copy = g_memdup2(data + 1, size - 1);
	struct kvp_entry e;
	if (kvp_msg_parse_enumerate(copy, size - 1, pool, 0, &e) == 0)
		check_entry(&e);
	(void)kvp_msg_check_echo(copy, size - 1, KVP_OP_SET, pool);
	g_free(copy);
}

/* A well-formed header for our request, the record from the input: the
 * sizes, type, key and value are the guest's to choose. */
static void fuzz_record(const uint8_t *data, size_t size)
{
	if (size < 6)
		return;
	uint8_t pool = data[0] % KVP_POOL_COUNT;
	uint32_t index = le32_get(data + 1);
	uint8_t *body = g_malloc0(KVP_ENUM_BODY_SIZE);
	body[0] = KVP_OP_ENUMERATE;
	body[1] = pool;
	le32_put(body + 4, index);
	size_t n = MIN(size - 5, (size_t)KVP_ENUM_BODY_SIZE - 8);
	memcpy(body + 8, data + 5, n);
	struct kvp_entry e;
	if (kvp_msg_parse_enumerate(body, KVP_ENUM_BODY_SIZE, pool, index, &e) == 0)
		check_entry(&e);
	g_free(body);
}

static void fuzz_utf16(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	size_t outsize = data[0];
	char *out = g_malloc(outsize + 1);
	long n = kvp_utf16le_to_utf8(data + 1, size - 1, out, outsize);
	if (n >= 0) {
		CHECK((size_t)n < outsize && out[n] == '\0');
		CHECK(g_utf8_validate(out, n, NULL));
	}
	g_free(out);
}

/* UTF-16 units of text, or -1 when it is not UTF-8. */
static long units16(const char *text)
{
	glong n = 0;
	gunichar2 *u = g_utf8_to_utf16(text, -1, NULL, &n, NULL);
	g_free(u);
	return u ? (long)n : -1;
}

/* Host text (key NUL value) into a set request, and back. */
static void fuzz_build(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t klen = nul ? (size_t)(nul - data) : size;
	char *key = g_strndup((const char *)data, klen);
	char *value = nul ? g_strndup((const char *)nul + 1, size - klen - 1) : g_strdup("");
	long ku = units16(key), vu = units16(value);
	/* Each field holds its terminator too, in UTF-16 and in the guest's UTF-8. */
	bool fits = ku >= 1 && ku <= 255 && strlen(key) <= 511 && vu >= 0 && vu <= 1023 &&
		    strlen(value) <= 2047;
	uint8_t body[KVP_BODY_MAX];
	long r = kvp_msg_build_set(body, sizeof(body), KVP_POOL_EXTERNAL, key, value);
	CHECK(fits ? r == KVP_SET_BODY_SIZE : r == -EINVAL);
	if (r > 0) {
		uint32_t ks = le32_get(body + 8), vs = le32_get(body + 12);
		CHECK(ks == 2 * (uint32_t)ku + 2 && vs == 2 * (uint32_t)vu + 2);
		char k[KVP_KEY_UTF8_MAX], v[KVP_VALUE_UTF8_MAX];
		CHECK(kvp_utf16le_to_utf8(body + 16, ks, k, sizeof(k)) >= 0 && strcmp(k, key) == 0);
		CHECK(kvp_utf16le_to_utf8(body + 16 + KVP_KEY_BYTES, vs, v, sizeof(v)) >= 0 &&
		      strcmp(v, value) == 0);
	}
	g_free(key);
	g_free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0: fuzz_raw(data + 1, size - 1); break;
	case 1: fuzz_record(data + 1, size - 1); break;
	case 2: fuzz_utf16(data + 1, size - 1); break;
	default: fuzz_build(data + 1, size - 1); break;
	}
	return 0;
}
