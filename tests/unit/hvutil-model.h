/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux 6.1's hv_utils as a model for the integration-service tests
 * (drivers/hv/hv_util.c, vmbus_prep_negotiate_resp in channel_mgmt.c): IC
 * fields at Linux's offsets, the guest's negotiation answer and its simple
 * services' answers, played through vsp-guest.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsp-guest.h"

#define WAIT_MS VSP_GUEST_TIMEOUT_MS

/* struct vmbuspipe_hdr then struct icmsg_hdr (hyperv.h). */
#define O_PIPE_FLAGS 0
#define O_PIPE_SIZE  4
#define O_FW_MAJOR   8
#define O_FW_MINOR   10
#define O_TYPE       12
#define O_MSG_MAJOR  14
#define O_MSG_MINOR  16
#define O_MSGSIZE    18
#define O_STATUS     20
#define O_TRANS      24
#define O_FLAGS      25
#define O_BODY       28
#define F_TRANSACTION 1u
#define F_REQUEST     2u
#define F_RESPONSE    4u
#define HV_S_OK   0u
#define HV_E_FAIL 0x80004005u

struct ver {
	uint16_t major, minor;
};

enum util_kind { UTIL_HEARTBEAT, UTIL_SHUTDOWN, UTIL_TIMESYNC, UTIL_KVP };

/* hv_util.c's tables, newest first. */
extern const struct ver linux_fw[2], linux_hb[2], linux_sd[4], linux_ts[3], linux_kvp[3];

struct util {
	enum util_kind kind;
	const struct ver *fw, *srv;
	unsigned nfw, nsrv;
	struct ver chosen;           /* the service version it settled on */
	struct vsp_guest_chan *c;
};

/* One host packet as vmbus_recvpacket hands it over: the payload from
 * offset8, len8 * 8 - offset8 * 8 bytes of it (padding included). */
struct hostmsg {
	struct vmbus_packet_desc d;
	uint8_t raw[4200];
	long raw_len;
	uint8_t buf[4200];
	size_t len;
};

uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);
uint64_t rd64(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);
void wr64(uint8_t *p, uint64_t v);

void util_init(struct util *u, enum util_kind kind);
bool ver_at(const uint8_t *p, struct ver v);
/* The guest's answer to NEGOTIATE, in place: false when nothing matched (0/0). */
bool util_negotiate(struct util *u, uint8_t *buf, size_t len);
/* What hv_utils does with one host message of the simple services: false
 * when it sends no answer. */
bool util_process(struct util *u, uint8_t *buf, size_t len);
/* Take the next host packet (asserting Linux's expectations of it). */
void host_recv(struct util *u, struct hostmsg *m);
void guest_send(struct util *u, const void *buf, size_t len, uint64_t trans_id);
void util_answer(struct util *u, struct hostmsg *m);
