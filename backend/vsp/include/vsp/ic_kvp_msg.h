/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVP message bodies (the part after the 28-byte IC header), as Linux's
 * hv_kvp.c and hv_kvp_daemon read and answer them (include/uapi/linux/
 * hyperv.h: struct hv_kvp_msg). The guest answers in place: it keeps our
 * header, index and sizes of the request and only fills in the key and
 * value, so a request must be as long as the answer it asks for, and an
 * answer must echo our operation, pool and index.
 *
 * Keys and values travel as NUL-terminated UTF-16LE with sizes in bytes,
 * terminator included; the host side here speaks UTF-8.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KVP_OP_GET            0u
#define KVP_OP_SET            1u
#define KVP_OP_DELETE         2u
#define KVP_OP_ENUMERATE      3u

#define KVP_POOL_EXTERNAL     0u   /* host -> guest: /var/lib/hyperv/.kvp_pool_0 */
#define KVP_POOL_GUEST        1u   /* what the guest's own programs publish */
#define KVP_POOL_AUTO         2u   /* hostname, OS, addresses: made up by the daemon */
#define KVP_POOL_COUNT        5u

#define KVP_REG_SZ            1u
#define KVP_REG_U32           4u
#define KVP_REG_U64           8u

/* Protocol sizes, in bytes of UTF-16LE. */
#define KVP_KEY_BYTES         512u
#define KVP_VALUE_BYTES       2048u
/* Longest UTF-8 a protocol string becomes (3 bytes per UTF-16 unit at
 * most, a surrogate pair is 4 bytes for 2 units), with its NUL. */
#define KVP_KEY_UTF8_MAX      (KVP_KEY_BYTES / 2u * 3u + 1u)
#define KVP_VALUE_UTF8_MAX    (KVP_VALUE_BYTES / 2u * 3u + 1u)

/* {u8 operation, u8 pool, u16 pad} */
#define KVP_HDR_SIZE          4u
/* {u32 value_type, u32 key_size, u32 value_size, key[512], value[2048]} */
#define KVP_VALUE_REC_SIZE    (12u + KVP_KEY_BYTES + KVP_VALUE_BYTES)
#define KVP_ENUM_BODY_SIZE    (KVP_HDR_SIZE + 4u + KVP_VALUE_REC_SIZE)   /* 2580 */
#define KVP_SET_BODY_SIZE     (KVP_HDR_SIZE + KVP_VALUE_REC_SIZE)        /* 2576 */
#define KVP_DELETE_BODY_SIZE  (KVP_HDR_SIZE + 4u + KVP_KEY_BYTES)        /* 520 */
#define KVP_BODY_MAX          KVP_ENUM_BODY_SIZE

struct kvp_entry {
	char key[KVP_KEY_UTF8_MAX];
	char value[KVP_VALUE_UTF8_MAX];
};

/* Requests into buf (at least KVP_BODY_MAX bytes): the body length, or
 * -EINVAL for an empty key, text that is not UTF-8, or a key or value too
 * long for the protocol (a key of at most 255 UTF-16 units and 511 bytes
 * of UTF-8, a value of at most 1023 units and 2047 bytes: the guest keeps
 * the UTF-8 in fields of the same size); -ENOSPC for a small buf. */
long kvp_msg_build_enumerate(uint8_t *buf, size_t size, uint8_t pool, uint32_t index);
long kvp_msg_build_set(uint8_t *buf, size_t size, uint8_t pool, const char *key, const char *value);
long kvp_msg_build_delete(uint8_t *buf, size_t size, uint8_t pool, const char *key);

/*
 * The guest's answer to kvp_msg_build_enumerate(pool, index): 0 and *out;
 * -EBADMSG when it is short, does not echo our operation, pool or index,
 * has sizes past the protocol's, an odd or empty key, or a value type other
 * than string, u32 or u64 (numbers come back as decimal text).
 */
int kvp_msg_parse_enumerate(const uint8_t *body, size_t len, uint8_t pool, uint32_t index,
			    struct kvp_entry *out);
/* The answer to a set or delete must echo our header: 0 or -EBADMSG. */
int kvp_msg_check_echo(const uint8_t *body, size_t len, uint8_t op, uint8_t pool);

/*
 * UTF-16LE of `bytes` bytes (stops at a NUL unit) into NUL-terminated
 * UTF-8; a lone surrogate becomes U+FFFD. The UTF-8 length, or -ENOSPC.
 */
long kvp_utf16le_to_utf8(const uint8_t *in, size_t bytes, char *out, size_t outsize);
/* NUL-terminated UTF-8 into UTF-16LE with its NUL: the byte count
 * (terminator included), -EINVAL when in is not UTF-8, -ENOSPC. */
long kvp_utf8_to_utf16le(const char *in, uint8_t *out, size_t outsize);
