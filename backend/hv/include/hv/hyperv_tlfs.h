/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Hyper-V interface facts we present (Hyper-V TLFS, as Linux 6.1 reads
 * them; see ../shared/docs/hyperv-host.md sections 1-3). Only what we
 * implement is advertised.
 */
#pragma once

#include <stdint.h>

/* CPUID leaves */
#define HV_CPUID_VENDOR            0x40000000u
#define HV_CPUID_INTERFACE         0x40000001u
#define HV_CPUID_VERSION           0x40000002u
#define HV_CPUID_FEATURES          0x40000003u
#define HV_CPUID_ENLIGHTENMENT     0x40000004u
#define HV_CPUID_LIMITS            0x40000005u
#define HV_CPUID_MAX_LEAF          0x40000006u   /* below 0x4000000A: no nested leaf is read */
#define HV_CPUID_VS1_SIGNATURE     0x40000081u   /* read unconditionally by Linux's MSI code */
#define HV_CPUID_VS1_SIGNATURE2    0x40000082u

#define HV_SIGNATURE_EBX           0x7263694Du   /* "Micr" */
#define HV_SIGNATURE_ECX           0x666F736Fu   /* "osof" */
#define HV_SIGNATURE_EDX           0x76482074u   /* "t Hv" */
#define HV_INTERFACE_HV1           0x31237648u   /* "Hv#1" */

/* 0x40000003 EAX: partition privileges (low) */
#define HV_PRIV_SYNIC              (1u << 2)
#define HV_PRIV_HYPERCALL          (1u << 5)
#define HV_PRIV_VP_INDEX           (1u << 6)
#define HV_PRIV_FREQUENCY_MSRS     (1u << 11)
#define HV_PRIV_TSC_INVARIANT      (1u << 15)
/* 0x40000003 EBX: partition privileges (high) */
#define HV_PRIV_POST_MESSAGES      (1u << 4)
#define HV_PRIV_SIGNAL_EVENTS      (1u << 5)
/* 0x40000003 EDX: misc features */
#define HV_FEATURE_FREQUENCY_MSRS  (1u << 8)
#define HV_FEATURE_GUEST_CRASH_MSR (1u << 10)
/* 0x40000004 EAX: hints. Without this one Linux asks for auto-EOI on SINT2,
 * which KVM's in-kernel LAPIC cannot do, and vector 0xF3 would stay in service. */
#define HV_HINT_DEPRECATING_AEOI   (1u << 9)

/* MSRs */
#define HV_MSR_FIRST               0x40000000u
#define HV_MSR_LAST                0x400001FFu
#define HV_MSR_GUEST_OS_ID         0x40000000u
#define HV_MSR_HYPERCALL           0x40000001u
#define HV_MSR_VP_INDEX            0x40000002u
#define HV_MSR_RESET               0x40000003u
#define HV_MSR_TIME_REF_COUNT      0x40000020u
#define HV_MSR_TSC_FREQUENCY       0x40000022u
#define HV_MSR_APIC_FREQUENCY      0x40000023u
#define HV_MSR_VP_ASSIST_PAGE      0x40000073u
#define HV_MSR_SCONTROL            0x40000080u
#define HV_MSR_SINT15              0x4000009Fu
#define HV_MSR_CRASH_P0            0x40000100u
#define HV_MSR_CRASH_P4            0x40000104u
#define HV_MSR_CRASH_CTL           0x40000105u
#define HV_MSR_TSC_INVARIANT_CTL   0x40000118u

#define HV_HYPERCALL_ENABLE        (1ull << 0)
#define HV_CRASH_CTL_NOTIFY        (1ull << 63)
#define HV_CRASH_CTL_NOTIFY_MSG    (1ull << 62)

/* Hypercalls */
#define HV_CALL_POST_MESSAGE       0x005c
#define HV_CALL_SIGNAL_EVENT       0x005d
#define HV_HYPERCALL_FAST          (1ull << 16)

#define HV_STATUS_SUCCESS                  0
#define HV_STATUS_INVALID_HYPERCALL_CODE   2
#define HV_STATUS_INVALID_HYPERCALL_INPUT  3
#define HV_STATUS_INVALID_ALIGNMENT        4
#define HV_STATUS_INVALID_PARAMETER        5
#define HV_STATUS_INSUFFICIENT_MEMORY      11
#define HV_STATUS_INVALID_CONNECTION_ID    18
#define HV_STATUS_INSUFFICIENT_BUFFERS     19

/* HvPostMessage input, at the GPA in RDX. */
#define HV_MESSAGE_PAYLOAD_MAX     240
struct hv_post_message_input {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[HV_MESSAGE_PAYLOAD_MAX];
} __attribute__((packed));
_Static_assert(sizeof(struct hv_post_message_input) == 256, "HvPostMessage input is 256 bytes");

/* KVM's LAPIC timer runs on a 1 GHz bus clock. */
#define HV_APIC_FREQUENCY_HZ       1000000000ull
