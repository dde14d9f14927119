/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMBus channel-management protocol on the wire: the messages a guest
 * posts with HvPostMessage and the host's replies, as Linux 6.1 defines them
 * (include/linux/hyperv.h, drivers/hv/hyperv_vmbus.h; see
 * ../shared/docs/hyperv-host.md section 6). Every message is a payload of at
 * most 240 bytes starting with {u32 msgtype, u32 padding}. All fields are
 * little-endian; the structs are packed and mirror the guest's exactly.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire structs are little-endian");

/* Protocol versions: (major << 16) | minor. Linux 6.1 offers them newest first. */
#define VMBUS_VERSION(major, minor)  (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define VMBUS_VERSION_WIN8           VMBUS_VERSION(2, 4)
#define VMBUS_VERSION_WIN8_1         VMBUS_VERSION(3, 0)
#define VMBUS_VERSION_WIN10          VMBUS_VERSION(4, 0)
#define VMBUS_VERSION_WIN10_V4_1     VMBUS_VERSION(4, 1)
#define VMBUS_VERSION_WIN10_V5       VMBUS_VERSION(5, 0)
#define VMBUS_VERSION_WIN10_V5_1     VMBUS_VERSION(5, 1)
#define VMBUS_VERSION_WIN10_V5_2     VMBUS_VERSION(5, 2)
#define VMBUS_VERSION_WIN10_V5_3     VMBUS_VERSION(5, 3)
#define VMBUS_VERSION_MIN            VMBUS_VERSION_WIN8
#define VMBUS_VERSION_MAX            VMBUS_VERSION_WIN10_V5_3

/* Connection ids (24 bits) of HvPostMessage and HvSignalEvent. */
#define VMBUS_MESSAGE_CONNECTION_ID    1u   /* control messages, and INITIATE_CONTACT < 5.0 */
#define VMBUS_EVENT_CONNECTION_ID      2u   /* pre-WIN8 shared interrupt page; unused by us */
#define VMBUS_MONITOR_CONNECTION_ID    3u
#define VMBUS_MESSAGE_CONNECTION_ID_4  4u   /* INITIATE_CONTACT >= 5.0 */
#define VMBUS_CONNECTION_ID_MASK       0xffffffu
/* The SINT the guest receives VMBus messages and channel events on. */
#define VMBUS_MESSAGE_SINT             2u
/* The HvPostMessage / SynIC message type of every VMBus message. */
#define VMBUS_HV_MESSAGE_TYPE          1u

#define VMBUS_MSG_PAYLOAD_MAX          240u
#define VMBUS_PAGE_SIZE                4096u
#define VMBUS_PAGE_SHIFT               12u

/* Relids 1..2047: the guest's MAX_CHANNEL_RELIDS is 2048 and event bit 0 is reserved. */
#define VMBUS_RELID_MIN                1u
#define VMBUS_RELID_MAX                2047u

enum vmbus_msgtype {
	VMBUS_MSG_INVALID                  = 0,
	VMBUS_MSG_OFFERCHANNEL             = 1,   /* H->G */
	VMBUS_MSG_RESCIND_CHANNELOFFER     = 2,   /* H->G */
	VMBUS_MSG_REQUESTOFFERS            = 3,   /* G->H */
	VMBUS_MSG_ALLOFFERS_DELIVERED      = 4,   /* H->G */
	VMBUS_MSG_OPENCHANNEL              = 5,   /* G->H */
	VMBUS_MSG_OPENCHANNEL_RESULT       = 6,   /* H->G */
	VMBUS_MSG_CLOSECHANNEL             = 7,   /* G->H */
	VMBUS_MSG_GPADL_HEADER             = 8,   /* G->H */
	VMBUS_MSG_GPADL_BODY               = 9,   /* G->H */
	VMBUS_MSG_GPADL_CREATED            = 10,  /* H->G */
	VMBUS_MSG_GPADL_TEARDOWN           = 11,  /* G->H */
	VMBUS_MSG_GPADL_TORNDOWN           = 12,  /* H->G */
	VMBUS_MSG_RELID_RELEASED           = 13,  /* G->H */
	VMBUS_MSG_INITIATE_CONTACT         = 14,  /* G->H */
	VMBUS_MSG_VERSION_RESPONSE         = 15,  /* H->G */
	VMBUS_MSG_UNLOAD                   = 16,  /* G->H */
	VMBUS_MSG_UNLOAD_RESPONSE          = 17,  /* H->G */
	VMBUS_MSG_TL_CONNECT_REQUEST       = 21,  /* G->H, >= 4.0 */
	VMBUS_MSG_MODIFYCHANNEL            = 22,  /* G->H, >= 4.1 */
	VMBUS_MSG_TL_CONNECT_RESULT        = 23,  /* H->G (ignored by Linux 6.1) */
	VMBUS_MSG_MODIFYCHANNEL_RESPONSE   = 24,  /* H->G, 5.3 only */
	VMBUS_MSG_COUNT
};

/* Status words of OPENCHANNEL_RESULT, GPADL_CREATED, MODIFYCHANNEL_RESPONSE
 * and TL_CONNECT_RESULT: 0 is success, Linux only tests for non-zero. */
#define VMBUS_STATUS_SUCCESS             0u
#define VMBUS_STATUS_UNSUCCESSFUL        0xC0000001u   /* NTSTATUS STATUS_UNSUCCESSFUL */
#define VMBUS_STATUS_CONNECTION_REFUSED  0xC0000236u   /* NTSTATUS STATUS_CONNECTION_REFUSED */

/* Offer chn_flags */
#define VMBUS_CHANNEL_ENUMERATE_DEVICE_INTERFACE      0x0001u
#define VMBUS_CHANNEL_SERVER_SUPPORTS_TRANSFER_PAGES  0x0002u
#define VMBUS_CHANNEL_SERVER_SUPPORTS_GPADLS          0x0004u
#define VMBUS_CHANNEL_NAMED_PIPE_MODE                 0x0010u
#define VMBUS_CHANNEL_LOOPBACK_OFFER                  0x0100u
#define VMBUS_CHANNEL_PARENT_OFFER                    0x0200u
#define VMBUS_CHANNEL_REQUEST_MONITORED_NOTIFICATION  0x0400u
#define VMBUS_CHANNEL_TLNPI_PROVIDER_OFFER            0x2000u

/* Pipe modes (first u32 of user_def in a NAMED_PIPE_MODE offer) */
#define VMBUS_PIPE_TYPE_BYTE             0x0u
#define VMBUS_PIPE_TYPE_MESSAGE          0x4u

#define VMBUS_USER_DEFINED_BYTES         120u
#define VMBUS_PIPE_USER_DEFINED_BYTES    116u

/* A GUID in the Microsoft byte layout: the first three fields little-endian,
 * the last eight bytes as written. This is what goes on the wire and what
 * Linux prints in MODALIAS=vmbus:<hex>. */
struct vmbus_guid {
	uint8_t b[16];
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_guid) == 16, "a GUID is 16 bytes");

/* VMBUS_GUID_INIT(0xda0a7802, 0xe377, 0x4aac, 0x8e, 0x77, 0x05, 0x58, 0xeb, 0x10, 0x73, 0xf8)
 * is da0a7802-e377-4aac-8e77-0558eb1073f8. */
#define VMBUS_GUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7) \
	((struct vmbus_guid){ { \
		(uint8_t)((a) & 0xff), (uint8_t)(((a) >> 8) & 0xff), \
		(uint8_t)(((a) >> 16) & 0xff), (uint8_t)(((a) >> 24) & 0xff), \
		(uint8_t)((b) & 0xff), (uint8_t)(((b) >> 8) & 0xff), \
		(uint8_t)((c) & 0xff), (uint8_t)(((c) >> 8) & 0xff), \
		(d0), (d1), (d2), (d3), (d4), (d5), (d6), (d7) } })

static inline bool vmbus_guid_equal(const struct vmbus_guid *a, const struct vmbus_guid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

struct vmbus_msg_header {
	uint32_t msgtype;            /* enum vmbus_msgtype */
	uint32_t padding;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_header) == 8, "message header is 8 bytes");

/* OFFERCHANNEL (1): the guest requires at least all 196 bytes. */
#define VMBUS_OFFER_MONITOR_ALLOCATED    0x01u     /* monitor_flags bit 0 */
#define VMBUS_OFFER_DEDICATED_INTERRUPT  0x0001u   /* interrupt_flags bit 0 */
struct vmbus_msg_offer_channel {
	struct vmbus_msg_header header;
	struct vmbus_guid if_type;           /* device class */
	struct vmbus_guid if_instance;
	uint64_t reserved1;
	uint64_t reserved2;
	uint16_t chn_flags;                  /* VMBUS_CHANNEL_* */
	uint16_t mmio_megabytes;
	uint8_t user_def[VMBUS_USER_DEFINED_BYTES];   /* pipe offers: u32 pipe_mode + 116 */
	uint16_t sub_channel_index;
	uint16_t reserved3;
	uint32_t child_relid;
	uint8_t monitorid;
	uint8_t monitor_flags;               /* VMBUS_OFFER_MONITOR_ALLOCATED */
	uint16_t interrupt_flags;            /* VMBUS_OFFER_DEDICATED_INTERRUPT */
	uint32_t connection_id;              /* the guest's HvSignalEvent id for this channel */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_offer_channel) == 196, "OFFERCHANNEL is 196 bytes");
_Static_assert(__builtin_offsetof(struct vmbus_msg_offer_channel, chn_flags) == 56, "chn_flags at 56");
_Static_assert(__builtin_offsetof(struct vmbus_msg_offer_channel, user_def) == 60, "user_def at 60");
_Static_assert(__builtin_offsetof(struct vmbus_msg_offer_channel, child_relid) == 184, "child_relid at 184");
_Static_assert(__builtin_offsetof(struct vmbus_msg_offer_channel, connection_id) == 192, "connection_id at 192");

/* RESCIND_CHANNELOFFER (2) */
struct vmbus_msg_rescind_offer {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_rescind_offer) == 12, "RESCIND_CHANNELOFFER is 12 bytes");

/* REQUESTOFFERS (3), ALLOFFERS_DELIVERED (4), UNLOAD (16), UNLOAD_RESPONSE (17):
 * the header alone. */

/* OPENCHANNEL (5) */
struct vmbus_msg_open_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t ringbuffer_gpadlhandle;
	uint32_t target_vp;                       /* VP index for host->guest interrupts */
	uint32_t downstream_ringbuffer_pageoffset; /* first page of the host->guest ring */
	uint8_t userdata[VMBUS_USER_DEFINED_BYTES];
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_open_channel) == 148, "OPENCHANNEL is 148 bytes");

/* OPENCHANNEL_RESULT (6): the guest matches (child_relid, openid). */
struct vmbus_msg_open_result {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t status;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_open_result) == 20, "OPENCHANNEL_RESULT is 20 bytes");

/* CLOSECHANNEL (7) */
struct vmbus_msg_close_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_close_channel) == 12, "CLOSECHANNEL is 12 bytes");

/* One range of a GPADL: byte_count bytes starting byte_offset bytes into the
 * first of ceil((byte_offset + byte_count) / 4096) pages. */
struct vmbus_gpa_range {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* uint64_t pfn[] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_gpa_range) == 8, "gpa_range header is 8 bytes");

/* GPADL_HEADER (8): range_buflen bytes of ranges follow, split over this
 * message and GPADL_BODY messages. Linux: rangecount 1, up to 26 PFNs here. */
struct vmbus_msg_gpadl_header {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen;
	uint16_t rangecount;
	/* struct vmbus_gpa_range range[] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) == 20, "GPADL_HEADER fixed part is 20 bytes");
#define VMBUS_GPADL_HEADER_MAX_PFNS \
	((VMBUS_MSG_PAYLOAD_MAX - sizeof(struct vmbus_msg_gpadl_header) - sizeof(struct vmbus_gpa_range)) / 8)

/* GPADL_BODY (9): Linux leaves msgnumber 0; up to 28 PFNs each. */
struct vmbus_msg_gpadl_body {
	struct vmbus_msg_header header;
	uint32_t msgnumber;
	uint32_t gpadl;
	/* uint64_t pfn[] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) == 16, "GPADL_BODY fixed part is 16 bytes");
#define VMBUS_GPADL_BODY_MAX_PFNS \
	((VMBUS_MSG_PAYLOAD_MAX - sizeof(struct vmbus_msg_gpadl_body)) / 8)
_Static_assert(VMBUS_GPADL_HEADER_MAX_PFNS == 26 && VMBUS_GPADL_BODY_MAX_PFNS == 28,
	       "26 PFNs per GPADL_HEADER and 28 per GPADL_BODY, as Linux computes them");

/* GPADL_CREATED (10): the guest matches (child_relid, gpadl). */
struct vmbus_msg_gpadl_created {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t creation_status;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_gpadl_created) == 20, "GPADL_CREATED is 20 bytes");

/* GPADL_TEARDOWN (11) */
struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_gpadl_teardown) == 16, "GPADL_TEARDOWN is 16 bytes");

/* GPADL_TORNDOWN (12): the guest matches gpadl. */
struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_header header;
	uint32_t gpadl;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_gpadl_torndown) == 12, "GPADL_TORNDOWN is 12 bytes");

/* RELID_RELEASED (13) */
struct vmbus_msg_relid_released {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_relid_released) == 12, "RELID_RELEASED is 12 bytes");

/* INITIATE_CONTACT (14): >= 5.0 the union holds msg_sint (2), before it the
 * GPA of the guest's interrupt page. */
struct vmbus_msg_initiate_contact {
	struct vmbus_msg_header header;
	uint32_t vmbus_version_requested;
	uint32_t target_vcpu;                /* VP index the host sends control messages to */
	union {
		uint64_t interrupt_page;
		struct {
			uint8_t msg_sint;
			uint8_t padding1[3];
			uint32_t padding2;
		} __attribute__((packed));
	} __attribute__((packed));
	uint64_t monitor_page1;
	uint64_t monitor_page2;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40, "INITIATE_CONTACT is 40 bytes");

/* VERSION_RESPONSE (15): the guest requires at least 16 bytes. */
struct vmbus_msg_version_response {
	struct vmbus_msg_header header;
	uint8_t version_supported;
	uint8_t connection_state;
	uint16_t padding;
	uint32_t msg_conn_id;                /* >= 5.0: where the guest posts from now on */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16, "VERSION_RESPONSE is 16 bytes");

/* TL_CONNECT_REQUEST (21): Linux 6.1 sends this short (pre-silo) form. */
struct vmbus_msg_tl_connect_request {
	struct vmbus_msg_header header;
	struct vmbus_guid guest_endpoint_id;
	struct vmbus_guid host_service_id;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_tl_connect_request) == 40, "TL_CONNECT_REQUEST is 40 bytes");

/* MODIFYCHANNEL (22) */
struct vmbus_msg_modify_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t target_vp;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_modify_channel) == 16, "MODIFYCHANNEL is 16 bytes");

/* TL_CONNECT_RESULT (23) */
struct vmbus_msg_tl_connect_result {
	struct vmbus_msg_header header;
	struct vmbus_guid endpoint_id;
	struct vmbus_guid service_id;
	uint32_t status;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_tl_connect_result) == 44, "TL_CONNECT_RESULT is 44 bytes");

/* MODIFYCHANNEL_RESPONSE (24): the guest matches child_relid. */
struct vmbus_msg_modify_channel_response {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t status;
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_msg_modify_channel_response) == 16,
	       "MODIFYCHANNEL_RESPONSE is 16 bytes");
