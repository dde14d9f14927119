// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "hv/hyperv.h"
#include "hv/hyperv_tlfs.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE (64 * 4096ull)

struct rig {
	uint8_t *ram;
	uint64_t now;
	int crashes;
	uint64_t crash_params[5];
	char *crash_msg;
	uint32_t post_conn, post_type;
	size_t post_len;
	uint8_t post_payload[256];
	uint32_t sig_conn;
	uint16_t sig_flag;
	struct hyperv *hv;
};

static void *rig_gpa(void *opaque, uint64_t gpa, size_t len)
{
	struct rig *r = opaque;
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE))
		return NULL;
	return r->ram + (gpa - RAM_BASE);
}

static uint64_t rig_now(void *opaque)
{
	return ((struct rig *)opaque)->now;
}

static void rig_crash(void *opaque, unsigned vp, const uint64_t p[5], const char *msg)
{
	struct rig *r = opaque;
	r->crashes++;
	memcpy(r->crash_params, p, sizeof(r->crash_params));
	g_free(r->crash_msg);
	r->crash_msg = g_strdup(msg);
}

static unsigned rig_post(void *opaque, unsigned vp, uint32_t conn, uint32_t type, const void *payload, size_t len)
{
	struct rig *r = opaque;
	r->post_conn = conn;
	r->post_type = type;
	r->post_len = len;
	memcpy(r->post_payload, payload, len);
	return conn == 4 ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_CONNECTION_ID;
}

static unsigned rig_signal(void *opaque, unsigned vp, uint32_t conn, uint16_t flag)
{
	struct rig *r = opaque;
	r->sig_conn = conn;
	r->sig_flag = flag;
	return HV_STATUS_SUCCESS;
}

static const struct hyperv_ops rig_ops = {
	.gpa_ptr = rig_gpa, .now_ns = rig_now, .crash = rig_crash,
	.post_message = rig_post, .signal_event = rig_signal,
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->ram = g_malloc0(RAM_SIZE);
	r->now = 5000000000ull;
	r->hv = hyperv_new(2, 2500000000ull, 0xe4, &rig_ops, r);
	g_assert_nonnull(r->hv);
}

static void rig_fini(struct rig *r)
{
	hyperv_free(r->hv);
	g_free(r->ram);
	g_free(r->crash_msg);
}

static uint64_t rd(struct rig *r, unsigned vp, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;
	g_assert_cmpint(hyperv_msr_read(r->hv, vp, msr, &v), ==, 0);
	return v;
}

static void test_msrs(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmpuint(rd(&r, 0, HV_MSR_VP_INDEX), ==, 0);
	g_assert_cmpuint(rd(&r, 1, HV_MSR_VP_INDEX), ==, 1);
	g_assert_cmpuint(rd(&r, 0, HV_MSR_TSC_FREQUENCY), ==, 2500000000ull);
	g_assert_cmpuint(rd(&r, 0, HV_MSR_APIC_FREQUENCY), ==, 1000000000ull);
	r.now += 1234567800;   /* 1.2345678 s later */
	g_assert_cmpuint(rd(&r, 0, HV_MSR_TIME_REF_COUNT), ==, 12345678);

	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_GUEST_OS_ID, 0x8100000000060100ull), ==, 0);
	g_assert_cmphex(rd(&r, 1, HV_MSR_GUEST_OS_ID), ==, 0x8100000000060100ull);
	g_assert_cmpint(hyperv_msr_write(r.hv, 1, HV_MSR_VP_ASSIST_PAGE, 0x201001), ==, 0);
	g_assert_cmphex(rd(&r, 1, HV_MSR_VP_ASSIST_PAGE), ==, 0x201001);
	g_assert_cmphex(rd(&r, 0, HV_MSR_VP_ASSIST_PAGE), ==, 0);
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_TSC_INVARIANT_CTL, 1), ==, 0);
	g_assert_cmpuint(rd(&r, 0, HV_MSR_TSC_INVARIANT_CTL), ==, 1);

	/* Read-only, unknown, or unimplemented: #GP. So are bad VP indices. */
	uint64_t v;
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_VP_INDEX, 5), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_TSC_FREQUENCY, 5), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_TIME_REF_COUNT, 5), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_read(r.hv, 0, 0x40000010, &v), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_read(r.hv, 0, 0x400001ff, &v), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_read(r.hv, 2, HV_MSR_VP_INDEX, &v), ==, -EINVAL);
	g_assert_cmpint(hyperv_msr_write(r.hv, 7, HV_MSR_GUEST_OS_ID, 1), ==, -EINVAL);
	/* Without a SynIC wired in, its MSRs fault rather than pretend. */
	g_assert_cmpint(hyperv_msr_read(r.hv, 0, HV_MSR_SCONTROL, &v), ==, -EINVAL);
	rig_fini(&r);
}

static void test_hypercall_page(void)
{
	struct rig r;
	rig_init(&r);
	uint64_t page = RAM_BASE + 3 * 4096;
	/* Refused until the guest has written its OS id. */
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_HYPERCALL, page | 1), ==, -EINVAL);
	g_assert_cmpuint(rd(&r, 0, HV_MSR_HYPERCALL), ==, 0);
	hyperv_msr_write(r.hv, 0, HV_MSR_GUEST_OS_ID, 0x8100000000060100ull);
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_HYPERCALL, page | 1), ==, 0);
	g_assert_cmphex(rd(&r, 1, HV_MSR_HYPERCALL), ==, page | 1);
	const uint8_t expect[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe7, 0xe4, 0xc3 };
	uint8_t *p = rig_gpa(&r, page, 4096);
	g_assert_cmpmem(p, sizeof(expect), expect, sizeof(expect));
	g_assert_cmphex(p[4095], ==, 0xcc);
	/* A page that is not RAM faults and leaves the MSR as it was. */
	g_assert_cmpint(hyperv_msr_write(r.hv, 0, HV_MSR_HYPERCALL, 0xfee00001), ==, -EINVAL);
	g_assert_cmphex(rd(&r, 0, HV_MSR_HYPERCALL), ==, page | 1);
	/* Clearing the OS id disables the page (the guest's kexec path). */
	hyperv_msr_write(r.hv, 0, HV_MSR_GUEST_OS_ID, 0);
	g_assert_cmphex(rd(&r, 0, HV_MSR_HYPERCALL) & 1, ==, 0);
	/* The port must fit the trampoline's imm8 OUT. */
	uint8_t buf[16];
	g_assert_cmpuint(hyperv_trampoline(0x1e4, 0, buf, sizeof(buf)), ==, 0);
	g_assert_cmpuint(hyperv_trampoline(0xe4, 0, buf, 3), ==, 0);
	rig_fini(&r);
}

static void test_crash(void)
{
	struct rig r;
	rig_init(&r);
	g_assert_cmphex(rd(&r, 0, HV_MSR_CRASH_CTL), ==, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_NOTIFY_MSG);
	const char text[] = "Kernel panic - not syncing: test";
	memcpy(r.ram + 8192, text, sizeof(text) - 1);
	uint64_t params[5] = { 1, 2, 3, RAM_BASE + 8192, sizeof(text) - 1 };
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_P0 + i, params[i]), ==, 0);
	g_assert_cmpint(r.crashes, ==, 0);
	g_assert_cmpint(hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_NOTIFY_MSG), ==, 0);
	g_assert_cmpint(r.crashes, ==, 1);
	g_assert_cmpstr(r.crash_msg, ==, text);
	g_assert_cmpuint(r.crash_params[0], ==, 1);
	/* A hostile length or address: bounded, or no text at all. */
	hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_P0 + 3, 0xffffffffffff0000ull);
	hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_P0 + 4, ~0ull);
	hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_NOTIFY_MSG);
	g_assert_cmpint(r.crashes, ==, 2);
	g_assert_null(r.crash_msg);
	hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_P0 + 3, RAM_BASE);
	hyperv_msr_write(r.hv, 1, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_NOTIFY_MSG);
	g_assert_cmpuint(strlen(r.crash_msg), <=, HYPERV_CRASH_MSG_MAX);
	rig_fini(&r);
}

static void test_hypercalls(void)
{
	struct rig r;
	rig_init(&r);
	uint64_t in = RAM_BASE + 5 * 4096;
	struct hv_post_message_input msg = { .connection_id = 0x05000004, .message_type = 1, .payload_size = 40 };
	for (int i = 0; i < 40; i++)
		msg.payload[i] = (uint8_t)i;
	memcpy(rig_gpa(&r, in, sizeof(msg)), &msg, sizeof(msg));
	/* Connection ids are 24 bits: the top byte is not part of it. */
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, in, 0), ==, HV_STATUS_SUCCESS);
	g_assert_cmpuint(r.post_conn, ==, 4);
	g_assert_cmpuint(r.post_type, ==, 1);
	g_assert_cmpuint(r.post_len, ==, 40);
	g_assert_cmpmem(r.post_payload, 40, msg.payload, 40);

	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, in + 4, 0), ==, HV_STATUS_INVALID_ALIGNMENT);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, 0x1000, 0), ==, HV_STATUS_INVALID_PARAMETER);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, RAM_BASE + RAM_SIZE - 128, 0), ==,
			 HV_STATUS_INVALID_PARAMETER);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE | HV_HYPERCALL_FAST, in, 0), ==,
			 HV_STATUS_INVALID_HYPERCALL_INPUT);
	msg.payload_size = 241;
	memcpy(rig_gpa(&r, in, sizeof(msg)), &msg, sizeof(msg));
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, in, 0), ==, HV_STATUS_INVALID_PARAMETER);
	msg.payload_size = 8;
	msg.message_type = 0;
	memcpy(rig_gpa(&r, in, sizeof(msg)), &msg, sizeof(msg));
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, in, 0), ==, HV_STATUS_INVALID_PARAMETER);
	msg.message_type = 1;
	msg.connection_id = 1;
	memcpy(rig_gpa(&r, in, sizeof(msg)), &msg, sizeof(msg));
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_POST_MESSAGE, in, 0), ==, HV_STATUS_INVALID_CONNECTION_ID);

	/* HvSignalEvent is fast only: connection id in bits 0-23, flag in 32-47. */
	g_assert_cmpuint(hyperv_hypercall(r.hv, 1, HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, 0x0000000300002012ull, 0), ==,
			 HV_STATUS_SUCCESS);
	g_assert_cmpuint(r.sig_conn, ==, 0x2012);
	g_assert_cmpuint(r.sig_flag, ==, 3);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 1, HV_CALL_SIGNAL_EVENT, 0x2012, 0), ==, HV_STATUS_INVALID_HYPERCALL_INPUT);

	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, 0x0046, 0, 0), ==, HV_STATUS_INVALID_HYPERCALL_CODE);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, 0x8001, 0, 0), ==, HV_STATUS_INVALID_HYPERCALL_CODE);
	g_assert_cmpuint(hyperv_hypercall(r.hv, 0, HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST | (1ull << 32), 1, 0), ==,
			 HV_STATUS_INVALID_HYPERCALL_INPUT);
	g_assert_cmpuint(r.hv->hypercalls, ==, 13);
	rig_fini(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hyperv/msrs", test_msrs);
	g_test_add_func("/hyperv/hypercall-page", test_hypercall_page);
	g_test_add_func("/hyperv/crash", test_crash);
	g_test_add_func("/hyperv/hypercalls", test_hypercalls);
	return g_test_run();
}
