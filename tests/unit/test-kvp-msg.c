// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * KVP message bodies at the offsets of Linux's struct hv_kvp_msg
 * (include/uapi/linux/hyperv.h), written here by hand rather than through
 * ic_kvp_msg.h, and the guest's answers as hv_kvp.c writes them: the key
 * and value in place as UTF-16LE with sizes of 2 * (units + 1).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/le.h"
#include "vsp/ic_kvp_msg.h"

/* Offsets in a body. */
#define O_OP        0
#define O_POOL      1
#define O_INDEX     4      /* enumerate */
#define O_ENUM_REC  8
#define O_SET_REC   4
#define R_TYPE      0
#define R_KSIZE     4
#define R_VSIZE     8
#define R_KEY       12
#define R_VALUE     524

/* UTF-16LE units into p, as the guest writes them; the size it reports. */
static uint32_t put_units(uint8_t *p, const uint16_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		le16_put(p + 2 * i, u[i]);
	le16_put(p + 2 * n, 0);
	return (uint32_t)(2 * (n + 1));
}

static uint32_t put_ascii(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		le16_put(p + 2 * i, (uint8_t)s[i]);
	le16_put(p + 2 * n, 0);
	return (uint32_t)(2 * (n + 1));
}

/* The guest's answer to enumerate(pool, index) with this key and value. */
static void answer(uint8_t *b, uint8_t pool, uint32_t index, const char *key, const char *value)
{
	memset(b, 0, KVP_ENUM_BODY_SIZE);
	b[O_OP] = KVP_OP_ENUMERATE;
	b[O_POOL] = pool;
	le32_put(b + O_INDEX, index);
	uint8_t *r = b + O_ENUM_REC;
	le32_put(r + R_TYPE, KVP_REG_SZ);
	le32_put(r + R_KSIZE, put_ascii(r + R_KEY, key));
	le32_put(r + R_VSIZE, put_ascii(r + R_VALUE, value));
}

static void test_build_enumerate(void)
{
	uint8_t b[KVP_BODY_MAX];
	memset(b, 0xaa, sizeof(b));
	g_assert_cmpint(kvp_msg_build_enumerate(b, sizeof(b), KVP_POOL_AUTO, 7), ==, 2580);
	g_assert_cmpuint(b[O_OP], ==, 3);
	g_assert_cmpuint(b[O_POOL], ==, 2);
	g_assert_cmpuint(le16_get(b + 2), ==, 0);
	g_assert_cmpuint(le32_get(b + O_INDEX), ==, 7);
	/* The guest writes its answer into the rest: it must be there, zeroed. */
	for (size_t i = O_ENUM_REC; i < 2580; i++)
		g_assert_cmpuint(b[i], ==, 0);
	g_assert_cmpint(kvp_msg_build_enumerate(b, 2579, KVP_POOL_AUTO, 0), ==, -ENOSPC);
}

static void test_build_set(void)
{
	uint8_t b[KVP_BODY_MAX];
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), KVP_POOL_EXTERNAL, "Key", "vé中"), ==, 2576);
	g_assert_cmpuint(b[O_OP], ==, 1);
	g_assert_cmpuint(b[O_POOL], ==, 0);
	const uint8_t *r = b + O_SET_REC;
	g_assert_cmpuint(le32_get(r + R_TYPE), ==, 1);
	g_assert_cmpuint(le32_get(r + R_KSIZE), ==, 8);
	g_assert_cmpuint(le16_get(r + R_KEY), ==, 'K');
	g_assert_cmpuint(le16_get(r + R_KEY + 4), ==, 'y');
	g_assert_cmpuint(le16_get(r + R_KEY + 6), ==, 0);
	g_assert_cmpuint(le32_get(r + R_VSIZE), ==, 8);
	g_assert_cmpuint(le16_get(r + R_VALUE), ==, 'v');
	g_assert_cmpuint(le16_get(r + R_VALUE + 2), ==, 0xe9);
	g_assert_cmpuint(le16_get(r + R_VALUE + 4), ==, 0x4e2d);
	g_assert_cmpuint(le16_get(r + R_VALUE + 6), ==, 0);

	/* An empty value is a value. */
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k", ""), ==, 2576);
	g_assert_cmpuint(le32_get(b + O_SET_REC + R_VSIZE), ==, 2);
}

static void test_build_limits(void)
{
	uint8_t b[KVP_BODY_MAX];
	/* The guest keeps one unit of each field for its own terminator. */
	g_autofree char *k255 = g_strnfill(255, 'k'), *k256 = g_strnfill(256, 'k');
	g_autofree char *v1023 = g_strnfill(1023, 'v'), *v1024 = g_strnfill(1024, 'v');
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, k255, v1023), ==, 2576);
	g_assert_cmpuint(le32_get(b + O_SET_REC + R_KSIZE), ==, 512);
	g_assert_cmpuint(le32_get(b + O_SET_REC + R_VSIZE), ==, 2048);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, k256, "v"), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k", v1024), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "", "v"), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, NULL, "v"), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k", NULL), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k\xff", "v"), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k", "\xc3"), ==, -EINVAL);
	g_assert_cmpint(kvp_msg_build_set(b, 100, 0, "k", "v"), ==, -ENOSPC);
	/* The guest turns the text into UTF-8 in a field of the same size. */
	GString *cjk = g_string_new(NULL);
	for (int i = 0; i < 170; i++)
		g_string_append(cjk, "中");
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, cjk->str, "v"), ==, 2576);
	g_string_append(cjk, "中");
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, cjk->str, "v"), ==, -EINVAL);
	g_string_free(cjk, TRUE);
	/* A character outside the BMP takes two units. */
	GString *s = g_string_new(NULL);
	for (int i = 0; i < 127; i++)
		g_string_append(s, "😀");
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, s->str, "v"), ==, 2576);
	g_assert_cmpuint(le32_get(b + O_SET_REC + R_KSIZE), ==, 127 * 4 + 2);
	g_string_append(s, "😀");
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, s->str, "v"), ==, -EINVAL);
	g_string_free(s, TRUE);
}

static void test_build_delete(void)
{
	uint8_t b[KVP_BODY_MAX];
	g_assert_cmpint(kvp_msg_build_delete(b, sizeof(b), KVP_POOL_EXTERNAL, "Gone"), ==, 520);
	g_assert_cmpuint(b[O_OP], ==, 2);
	g_assert_cmpuint(le32_get(b + 4), ==, 10);
	g_assert_cmpuint(le16_get(b + 8), ==, 'G');
	g_assert_cmpuint(le16_get(b + 8 + 8), ==, 0);
	g_assert_cmpint(kvp_msg_build_delete(b, sizeof(b), 0, ""), ==, -EINVAL);
}

static void test_parse_answer(void)
{
	uint8_t b[KVP_BODY_MAX];
	struct kvp_entry e;
	answer(b, KVP_POOL_AUTO, 0, "FullyQualifiedDomainName", "vireo-guest.vireo.test");
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.key, ==, "FullyQualifiedDomainName");
	g_assert_cmpstr(e.value, ==, "vireo-guest.vireo.test");

	/* A longer packet is fine (the guest echoes our length). */
	g_assert_cmpint(kvp_msg_parse_enumerate(b, sizeof(b), KVP_POOL_AUTO, 0, &e), ==, 0);

	/* Non-ASCII: é, 中, a surrogate pair, and a lone surrogate. */
	uint8_t *r = b + O_ENUM_REC;
	static const uint16_t v[] = { 'a', 0xe9, 0x4e2d, 0xd83d, 0xde00, 0xdc00, 'z' };
	le32_put(r + R_VSIZE, put_units(r + R_VALUE, v, G_N_ELEMENTS(v)));
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.value, ==, "aé中😀\xef\xbf\xbdz");

	/* The value stops at its size even without a terminator... */
	le32_put(r + R_VSIZE, 4);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.value, ==, "aé");
	/* ...and at a terminator before its size; an empty value is a value. */
	le32_put(r + R_VSIZE, 0);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.value, ==, "");

	/* Numbers come back as text. */
	le32_put(r + R_TYPE, KVP_REG_U32);
	le32_put(r + R_VALUE, 4000000000u);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.value, ==, "4000000000");
	le32_put(r + R_TYPE, KVP_REG_U64);
	le64_put(r + R_VALUE, 18446744073709551615ull);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 0, &e), ==, 0);
	g_assert_cmpstr(e.value, ==, "18446744073709551615");

	/* A key of every unit of its field, without a terminator. */
	answer(b, KVP_POOL_GUEST, 3, "k", "v");
	for (int i = 0; i < 256; i++)
		le16_put(r + R_KEY + 2 * i, 0x4e2d);
	le32_put(r + R_KSIZE, 512);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_GUEST, 3, &e), ==, 0);
	g_assert_cmpuint(strlen(e.key), ==, 768);
	g_assert_true(g_utf8_validate(e.key, -1, NULL));
}

static void test_parse_malformed(void)
{
	uint8_t b[KVP_BODY_MAX];
	struct kvp_entry e;
	memset(&e, 0x5a, sizeof(e));
	struct kvp_entry before = e;
	uint8_t *r = b + O_ENUM_REC;
	/* Shorter than the record the guest had to fill in. */
	static const size_t short_len[] = { 2579, 8, 4, 0 };
	answer(b, KVP_POOL_AUTO, 1, "Key", "Value");
	for (size_t i = 0; i < G_N_ELEMENTS(short_len); i++)
		g_assert_cmpint(kvp_msg_parse_enumerate(b, short_len[i], KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);

	/* Not the answer to what we asked. */
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_GUEST, 1, &e), ==, -EBADMSG);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 2, &e), ==, -EBADMSG);
	b[O_OP] = KVP_OP_GET;
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);
	b[O_OP] = KVP_OP_ENUMERATE;

	/* Sizes the protocol does not have. */
	static const uint32_t bad_ksize[] = { 0, 1, 3, 514, 0xffffffffu };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_ksize); i++) {
		answer(b, KVP_POOL_AUTO, 1, "Key", "Value");
		le32_put(r + R_KSIZE, bad_ksize[i]);
		g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);
	}
	static const uint32_t bad_vsize[] = { 1, 2049, 2050, 0x80000000u };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_vsize); i++) {
		answer(b, KVP_POOL_AUTO, 1, "Key", "Value");
		le32_put(r + R_VSIZE, bad_vsize[i]);
		g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);
	}
	/* An empty key (a terminator first). */
	answer(b, KVP_POOL_AUTO, 1, "", "Value");
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);
	/* A value type we do not know. */
	answer(b, KVP_POOL_AUTO, 1, "Key", "Value");
	le32_put(r + R_TYPE, 3);
	g_assert_cmpint(kvp_msg_parse_enumerate(b, 2580, KVP_POOL_AUTO, 1, &e), ==, -EBADMSG);
	/* Nothing is written on failure. */
	g_assert_cmpmem(&e, sizeof(e), &before, sizeof(before));
}

static void test_echo(void)
{
	uint8_t b[KVP_BODY_MAX];
	g_assert_cmpint(kvp_msg_build_set(b, sizeof(b), 0, "k", "v"), >, 0);
	g_assert_cmpint(kvp_msg_check_echo(b, 2576, KVP_OP_SET, 0), ==, 0);
	g_assert_cmpint(kvp_msg_check_echo(b, 3, KVP_OP_SET, 0), ==, -EBADMSG);
	g_assert_cmpint(kvp_msg_check_echo(b, 2576, KVP_OP_DELETE, 0), ==, -EBADMSG);
	g_assert_cmpint(kvp_msg_check_echo(b, 2576, KVP_OP_SET, 1), ==, -EBADMSG);
}

static void test_utf16_round_trip(void)
{
	static const char *const texts[] = { "", "plain", "é", "中文", "😀x😀", "tab\there" };
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		uint8_t u[64];
		char back[64];
		long n = kvp_utf8_to_utf16le(texts[i], u, sizeof(u));
		g_assert_cmpint(n, >=, 2);
		g_assert_cmpint(n % 2, ==, 0);
		g_assert_cmpint(kvp_utf16le_to_utf8(u, (size_t)n, back, sizeof(back)), ==, (long)strlen(texts[i]));
		g_assert_cmpstr(back, ==, texts[i]);
	}
	/* Output that does not fit is refused, not cut. */
	uint8_t u[16];
	char small[4];
	long n = kvp_utf8_to_utf16le("abcd", u, sizeof(u));
	g_assert_cmpint(kvp_utf16le_to_utf8(u, (size_t)n, small, sizeof(small)), ==, -ENOSPC);
	g_assert_cmpint(kvp_utf16le_to_utf8(u, (size_t)n, small, 0), ==, -ENOSPC);
	g_assert_cmpint(kvp_utf8_to_utf16le("abcd", u, 8), ==, -ENOSPC);
	/* An odd byte count drops the half unit. */
	char out[8];
	g_assert_cmpint(kvp_utf16le_to_utf8(u, 3, out, sizeof(out)), ==, 1);
	g_assert_cmpstr(out, ==, "a");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvp-msg/build/enumerate", test_build_enumerate);
	g_test_add_func("/kvp-msg/build/set", test_build_set);
	g_test_add_func("/kvp-msg/build/limits", test_build_limits);
	g_test_add_func("/kvp-msg/build/delete", test_build_delete);
	g_test_add_func("/kvp-msg/parse/answer", test_parse_answer);
	g_test_add_func("/kvp-msg/parse/malformed", test_parse_malformed);
	g_test_add_func("/kvp-msg/echo", test_echo);
	g_test_add_func("/kvp-msg/utf16", test_utf16_round_trip);
	return g_test_run();
}
