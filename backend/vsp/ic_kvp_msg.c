// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hv/le.h"
#include "vsp/ic_kvp_msg.h"

/* Offsets inside a value record. */
#define REC_TYPE       0u
#define REC_KEY_SIZE   4u
#define REC_VALUE_SIZE 8u
#define REC_KEY        12u
#define REC_VALUE      (REC_KEY + KVP_KEY_BYTES)

/* Where the record starts in each body. */
#define ENUM_INDEX     KVP_HDR_SIZE
#define ENUM_REC       (KVP_HDR_SIZE + 4u)
#define SET_REC        KVP_HDR_SIZE
#define DELETE_SIZE    KVP_HDR_SIZE
#define DELETE_KEY     (KVP_HDR_SIZE + 4u)

static void kvp_put_utf8(char **o, uint32_t c)
{
	char *p = *o;
	if (c < 0x80) {
		*p++ = (char)c;
	} else if (c < 0x800) {
		*p++ = (char)(0xc0 | c >> 6);
		*p++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (char)(0xe0 | c >> 12);
		*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (char)(0xf0 | c >> 18);
		*p++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	}
	*o = p;
}

long kvp_utf16le_to_utf8(const uint8_t *in, size_t bytes, char *out, size_t outsize)
{
	if (outsize == 0)
		return -ENOSPC;
	char *o = out;
	size_t units = bytes / 2;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = le16_get(in + 2 * i);
		if (c == 0)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			uint32_t lo = le16_get(in + 2 * (i + 1));
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else {
				c = 0xfffd;
			}
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		size_t need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if ((size_t)(o - out) + need + 1 > outsize)
			return -ENOSPC;
		kvp_put_utf8(&o, c);
	}
	*o = '\0';
	return (long)(o - out);
}

long kvp_utf8_to_utf16le(const char *in, uint8_t *out, size_t outsize)
{
	glong n = 0;
	g_autoptr(GError) err = NULL;
	g_autofree gunichar2 *u = g_utf8_to_utf16(in, -1, NULL, &n, &err);
	if (!u)
		return -EINVAL;
	if ((size_t)n + 1 > outsize / 2)
		return -ENOSPC;
	for (glong i = 0; i < n; i++)
		le16_put(out + 2 * i, u[i]);
	le16_put(out + 2 * n, 0);
	return (long)(2 * (n + 1));
}

static void kvp_put_hdr(uint8_t *buf, uint8_t op, uint8_t pool)
{
	buf[0] = op;
	buf[1] = pool;
	buf[2] = buf[3] = 0;
}

long kvp_msg_build_enumerate(uint8_t *buf, size_t size, uint8_t pool, uint32_t index)
{
	if (size < KVP_ENUM_BODY_SIZE)
		return -ENOSPC;
	memset(buf, 0, KVP_ENUM_BODY_SIZE);
	kvp_put_hdr(buf, KVP_OP_ENUMERATE, pool);
	le32_put(buf + ENUM_INDEX, index);
	return KVP_ENUM_BODY_SIZE;
}

/* Text for a field of `bytes`: it must fit there with its terminator, and
 * the guest turns it back into UTF-8 in a buffer of the same size. */
static long kvp_put_text(uint8_t *field, size_t bytes, const char *text)
{
	if (strlen(text) > bytes - 1)
		return -EINVAL;
	long n = kvp_utf8_to_utf16le(text, field, bytes);
	return n == -ENOSPC ? -EINVAL : n;
}

static long kvp_put_key(uint8_t *field, const char *key)
{
	if (!key || !*key)
		return -EINVAL;
	return kvp_put_text(field, KVP_KEY_BYTES, key);
}

long kvp_msg_build_set(uint8_t *buf, size_t size, uint8_t pool, const char *key, const char *value)
{
	if (size < KVP_SET_BODY_SIZE)
		return -ENOSPC;
	if (!value)
		return -EINVAL;
	memset(buf, 0, KVP_SET_BODY_SIZE);
	kvp_put_hdr(buf, KVP_OP_SET, pool);
	uint8_t *rec = buf + SET_REC;
	long kn = kvp_put_key(rec + REC_KEY, key);
	if (kn < 0)
		return kn;
	long vn = kvp_put_text(rec + REC_VALUE, KVP_VALUE_BYTES, value);
	if (vn < 0)
		return vn;
	le32_put(rec + REC_TYPE, KVP_REG_SZ);
	le32_put(rec + REC_KEY_SIZE, (uint32_t)kn);
	le32_put(rec + REC_VALUE_SIZE, (uint32_t)vn);
	return KVP_SET_BODY_SIZE;
}

long kvp_msg_build_delete(uint8_t *buf, size_t size, uint8_t pool, const char *key)
{
	if (size < KVP_DELETE_BODY_SIZE)
		return -ENOSPC;
	memset(buf, 0, KVP_DELETE_BODY_SIZE);
	kvp_put_hdr(buf, KVP_OP_DELETE, pool);
	long kn = kvp_put_key(buf + DELETE_KEY, key);
	if (kn < 0)
		return kn;
	le32_put(buf + DELETE_SIZE, (uint32_t)kn);
	return KVP_DELETE_BODY_SIZE;
}

int kvp_msg_check_echo(const uint8_t *body, size_t len, uint8_t op, uint8_t pool)
{
	if (len < KVP_HDR_SIZE || body[0] != op || body[1] != pool)
		return -EBADMSG;
	return 0;
}

int kvp_msg_parse_enumerate(const uint8_t *body, size_t len, uint8_t pool, uint32_t index,
			    struct kvp_entry *out)
{
	if (len < KVP_ENUM_BODY_SIZE || kvp_msg_check_echo(body, len, KVP_OP_ENUMERATE, pool) < 0 ||
	    le32_get(body + ENUM_INDEX) != index)
		return -EBADMSG;
	const uint8_t *rec = body + ENUM_REC;
	uint32_t type = le32_get(rec + REC_TYPE);
	uint32_t ks = le32_get(rec + REC_KEY_SIZE), vs = le32_get(rec + REC_VALUE_SIZE);
	if (ks < 2 || ks > KVP_KEY_BYTES || (ks & 1) || vs > KVP_VALUE_BYTES)
		return -EBADMSG;
	struct kvp_entry e;
	if (kvp_utf16le_to_utf8(rec + REC_KEY, ks, e.key, sizeof(e.key)) <= 0)
		return -EBADMSG;
	switch (type) {
	case KVP_REG_SZ:
		if ((vs & 1) || kvp_utf16le_to_utf8(rec + REC_VALUE, vs, e.value, sizeof(e.value)) < 0)
			return -EBADMSG;
		break;
	case KVP_REG_U32:
		snprintf(e.value, sizeof(e.value), "%" PRIu32, le32_get(rec + REC_VALUE));
		break;
	case KVP_REG_U64:
		snprintf(e.value, sizeof(e.value), "%" PRIu64, le64_get(rec + REC_VALUE));
		break;
	default:
		return -EBADMSG;
	}
	*out = e;
	return 0;
}
