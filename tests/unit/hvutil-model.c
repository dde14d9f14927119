// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include <glib.h>

#include "hvutil-model.h"
#include "vsp/ic.h"

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* ---- hv_utils, as a model ---- */



const struct ver linux_fw[] = { { 3, 0 }, { 1, 0 } };
const struct ver linux_hb[] = { { 3, 0 }, { 1, 0 } };
const struct ver linux_sd[] = { { 3, 2 }, { 3, 1 }, { 3, 0 }, { 1, 0 } };
const struct ver linux_ts[] = { { 4, 0 }, { 3, 0 }, { 1, 0 } };
const struct ver linux_kvp[] = { { 4, 0 }, { 3, 0 }, { 1, 0 } };


void util_init(struct util *u, enum util_kind kind)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->fw = linux_fw;
	u->nfw = G_N_ELEMENTS(linux_fw);
	switch (kind) {
	case UTIL_HEARTBEAT: u->srv = linux_hb; u->nsrv = G_N_ELEMENTS(linux_hb); break;
	case UTIL_SHUTDOWN: u->srv = linux_sd; u->nsrv = G_N_ELEMENTS(linux_sd); break;
	case UTIL_TIMESYNC: u->srv = linux_ts; u->nsrv = G_N_ELEMENTS(linux_ts); break;
	case UTIL_KVP: u->srv = linux_kvp; u->nsrv = G_N_ELEMENTS(linux_kvp); break;
	}
}

bool ver_at(const uint8_t *p, struct ver v)
{
	return rd16(p) == v.major && rd16(p + 2) == v.minor;
}

/*
 * vmbus_prep_negotiate_resp's answer, in place: our newest framework
 * version the host offered, then our newest service version it offered;
 * counts 1/1 and the two versions, or 0/0. Its quirks are kept: a body too
 * short for the counts is left alone; counts beyond the body answer 0/0
 * with the counts themselves as "versions".
 */
bool util_negotiate(struct util *u, uint8_t *buf, size_t len)
{
	if (len < O_BODY + 4)
		return false;
	wr16(buf + O_MSGSIZE, 0x10);
	uint8_t *neg = buf + O_BODY;
	unsigned nfw = rd16(neg), nmsg = rd16(neg + 2);
	struct ver fw = { (uint16_t)nfw, 0 }, srv = { (uint16_t)nmsg, 0 };
	bool found = false;
	if (nfw <= 100 && nmsg <= 100 && O_BODY + 8 + 4 * (nfw + nmsg) <= len) {
		for (unsigned i = 0; i < u->nfw && !found; i++)
			for (unsigned j = 0; j < nfw && !found; j++)
				if (ver_at(neg + 8 + 4 * j, u->fw[i])) {
					fw = u->fw[i];
					found = true;
				}
		if (found) {
			found = false;
			for (unsigned i = 0; i < u->nsrv && !found; i++)
				for (unsigned j = nfw; j < nfw + nmsg && !found; j++)
					if (ver_at(neg + 8 + 4 * j, u->srv[i])) {
						srv = u->srv[i];
						found = true;
					}
		}
	}
	wr16(neg, found);
	wr16(neg + 2, found);
	wr16(neg + 8, fw.major);
	wr16(neg + 10, fw.minor);
	wr16(neg + 12, srv.major);
	wr16(neg + 14, srv.minor);
	u->chosen = found ? srv : (struct ver){ 0, 0 };
	return found;
}

/* What hv_utils does with one host message (buf holds recvlen bytes, with
 * room for the versions it writes): false when it sends no answer. */
bool util_process(struct util *u, uint8_t *buf, size_t len)
{
	if (len < O_BODY)
		return false;
	uint16_t type = rd16(buf + O_TYPE);
	if (type == IC_MSGTYPE_NEGOTIATE) {
		util_negotiate(u, buf, len);
	} else if (u->kind == UTIL_HEARTBEAT && type == IC_MSGTYPE_HEARTBEAT) {
		if (len < O_BODY + 8)
			return false;
		wr64(buf + O_BODY, rd64(buf + O_BODY) + 1);
	} else if (u->kind == UTIL_SHUTDOWN && type == IC_MSGTYPE_SHUTDOWN) {
		if (len < O_BODY + 12 + 2048)
			return false;
		uint32_t flags = rd32(buf + O_BODY + 8);
		wr32(buf + O_STATUS, flags <= 3 ? HV_S_OK : HV_E_FAIL);
	} else if (u->kind == UTIL_TIMESYNC && type == IC_MSGTYPE_TIMESYNC) {
		/* The clock is set from the body; the answer is the message itself. */
	} else {
		wr32(buf + O_STATUS, HV_E_FAIL);
	}
	buf[O_FLAGS] = F_TRANSACTION | F_RESPONSE;
	return true;
}


void host_recv(struct util *u, struct hostmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->raw_len = vsp_guest_recv(u->c, m->raw, sizeof(m->raw), WAIT_MS);
	g_assert_cmpint(m->raw_len, >=, 16);
	memcpy(&m->d, m->raw, sizeof(m->d));
	g_assert_cmpuint(m->d.type, ==, VMBUS_PKT_DATA_INBAND);
	g_assert_cmpuint(m->d.offset8, ==, 2);
	g_assert_cmpuint(m->d.len8 * 8, ==, m->raw_len);
	m->len = (size_t)m->raw_len - 16;
	memcpy(m->buf, m->raw + 16, m->len);
	g_assert_cmpuint(m->len, >=, O_BODY);
	/* The pipe header Linux skips and openvmm writes. */
	g_assert_cmpuint(rd32(m->buf + O_PIPE_FLAGS), ==, 1);
	g_assert_cmpuint(rd32(m->buf + O_PIPE_SIZE), ==, 20 + rd16(m->buf + O_MSGSIZE));
	g_assert_cmpuint(O_BODY + rd16(m->buf + O_MSGSIZE), <=, m->len);
	g_assert_cmpuint(m->buf[O_FLAGS], ==, F_TRANSACTION | F_REQUEST);
	g_assert_cmphex(rd32(m->buf + O_STATUS), ==, 0);
}

/* vmbus_sendpacket(channel, buf, recvlen, requestid, VM_PKT_DATA_INBAND, 0). */
void guest_send(struct util *u, const void *buf, size_t len, uint64_t trans_id)
{
	g_assert_cmpint(vsp_guest_write(u->c, VMBUS_PKT_DATA_INBAND, 0, trans_id, buf, len), ==, 0);
}

void util_answer(struct util *u, struct hostmsg *m)
{
	g_assert_true(util_process(u, m->buf, m->len));
	guest_send(u, m->buf, m->len, m->d.trans_id);
}

