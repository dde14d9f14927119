// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/hyperv.h"
#include "hv/hyperv_tlfs.h"
#include "hv/saved_state.h"

#define PAGE_SIZE 4096u

struct hyperv *hyperv_new(unsigned nvps, uint64_t tsc_hz, uint16_t hypercall_port,
			  const struct hyperv_ops *ops, void *opaque)
{
	if (nvps == 0 || !ops || !ops->gpa_ptr || !ops->now_ns)
		return NULL;
	struct hyperv *hv = g_new0(struct hyperv, 1);
	hv->ops = ops;
	hv->opaque = opaque;
	hv->nvps = nvps;
	hv->tsc_hz = tsc_hz;
	hv->hypercall_port = hypercall_port;
	hv->start_ns = ops->now_ns(opaque);
	hv->vp_assist = g_new0(uint64_t, nvps);
	pthread_mutex_init(&hv->lock, NULL);
	return hv;
}

void hyperv_free(struct hyperv *hv)
{
	if (!hv)
		return;
	pthread_mutex_destroy(&hv->lock);
	g_free(hv->vp_assist);
	g_free(hv);
}

/*
 * The guest calls offset 0 with RCX/RDX/R8 loaded. The OUT exits to the VMM
 * with every register intact (a VMCALL would not: KVM answers it itself);
 * the VMM puts the result in RAX. The page may clobber RCX, RDX, R8-R11.
 *
 * HvSignalEvent (fast, RCX 0x1005d) takes its own way when signal_port is
 * set: the connection id goes out as the OUT's data, so a KVM_IOEVENTFD
 * with that id as datamatch completes it in the kernel, with no exit to us.
 * Linux treats RDX as clobbered there, and ignores the result.
 */
size_t hyperv_trampoline(uint16_t port, uint16_t signal_port, uint8_t *buf, size_t size)
{
	const uint8_t slow[] = {
		0xe7, (uint8_t)port,          /* out imm8, eax */
		0xc3,                         /* ret */
	};
	const uint8_t fast[] = {
		0x81, 0xf9, 0x5d, 0x00, 0x01, 0x00,  /* cmp ecx, 0x1005d */
		0x75, 0x0a,                          /* jne slow */
		0x89, 0xd0,                          /* mov eax, edx */
		0x66, 0xba, (uint8_t)signal_port, (uint8_t)(signal_port >> 8), /* mov dx, port */
		0xef,                                /* out dx, eax */
		0x31, 0xc0,                          /* xor eax, eax: success */
		0xc3,                                /* ret */
	};
	const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };   /* an IBT kernel checks for it */
	size_t need = sizeof(endbr64) + (signal_port ? sizeof(fast) : 0) + sizeof(slow);
	if (size < need || port > 0xff)
		return 0;
	size_t off = 0;
	memcpy(buf, endbr64, sizeof(endbr64));
	off += sizeof(endbr64);
	if (signal_port) {
		memcpy(buf + off, fast, sizeof(fast));
		off += sizeof(fast);
	}
	memcpy(buf + off, slow, sizeof(slow));
	return need;
}

void hyperv_set_signal_port(struct hyperv *hv, uint16_t port)
{
	pthread_mutex_lock(&hv->lock);
	hv->signal_port = port;
	pthread_mutex_unlock(&hv->lock);
}

uint64_t hyperv_reference_time(struct hyperv *hv)
{
	/* 100 ns units since the partition started; timesync messages use the same clock. */
	return (hv->ops->now_ns(hv->opaque) - hv->start_ns) / 100;
}

static int hyperv_write_hypercall_page(struct hyperv *hv, uint64_t val)
{
	if (!(val & HV_HYPERCALL_ENABLE))
		return 0;
	/* The TLFS forbids enabling the page before the guest says who it is. */
	if (hv->guest_os_id == 0)
		return -EINVAL;
	uint8_t *page = hv->ops->gpa_ptr(hv->opaque, val & ~(uint64_t)(PAGE_SIZE - 1), PAGE_SIZE);
	if (!page)
		return -EINVAL;
	/* int3 after the code: a guest that jumps elsewhere in the page traps. */
	memset(page, 0xcc, PAGE_SIZE);
	return hyperv_trampoline(hv->hypercall_port, hv->signal_port, page, PAGE_SIZE) ? 0 : -EINVAL;
}

static void hyperv_report_crash(struct hyperv *hv, unsigned vp, uint64_t ctl)
{
	char *msg = NULL;
	uint64_t params[5];
	memcpy(params, hv->crash, sizeof(params));
	/* With NOTIFY_MSG, P3 and P4 are the GPA and length of the kernel log. */
	if ((ctl & HV_CRASH_CTL_NOTIFY_MSG) && params[4]) {
		size_t len = params[4] < HYPERV_CRASH_MSG_MAX ? (size_t)params[4] : HYPERV_CRASH_MSG_MAX;
		const char *text = hv->ops->gpa_ptr(hv->opaque, params[3], len);
		if (text)
			msg = g_strndup(text, len);
	}
	hv->crashes++;
	if (hv->ops->crash)
		hv->ops->crash(hv->opaque, vp, params, msg);
	g_free(msg);
}

int hyperv_msr_read(struct hyperv *hv, unsigned vp, uint32_t msr, uint64_t *val)
{
	if (vp >= hv->nvps)
		return -EINVAL;
	if (msr >= HV_MSR_SCONTROL && msr <= HV_MSR_SINT15) {
		int r = hv->ops->synic_msr_read ? hv->ops->synic_msr_read(hv->opaque, vp, msr, val) : -ENOENT;
		return r == -ENOENT ? -EINVAL : r;
	}
	int r = 0;
	pthread_mutex_lock(&hv->lock);
	switch (msr) {
	case HV_MSR_GUEST_OS_ID: *val = hv->guest_os_id; break;
	case HV_MSR_HYPERCALL: *val = hv->hypercall_msr; break;
	case HV_MSR_VP_INDEX: *val = vp; break;
	case HV_MSR_TIME_REF_COUNT:
		*val = hyperv_reference_time(hv);
		break;
	case HV_MSR_TSC_FREQUENCY: *val = hv->tsc_hz; break;
	case HV_MSR_APIC_FREQUENCY: *val = HV_APIC_FREQUENCY_HZ; break;
	case HV_MSR_VP_ASSIST_PAGE: *val = hv->vp_assist[vp]; break;
	case HV_MSR_CRASH_CTL: *val = HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_NOTIFY_MSG; break;
	case HV_MSR_TSC_INVARIANT_CTL: *val = hv->tsc_invariant_ctl; break;
	default:
		if (msr >= HV_MSR_CRASH_P0 && msr <= HV_MSR_CRASH_P4)
			*val = hv->crash[msr - HV_MSR_CRASH_P0];
		else
			r = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&hv->lock);
	return r;
}

int hyperv_msr_write(struct hyperv *hv, unsigned vp, uint32_t msr, uint64_t val)
{
	if (vp >= hv->nvps)
		return -EINVAL;
	if (msr >= HV_MSR_SCONTROL && msr <= HV_MSR_SINT15) {
		int r = hv->ops->synic_msr_write ? hv->ops->synic_msr_write(hv->opaque, vp, msr, val) : -ENOENT;
		return r == -ENOENT ? -EINVAL : r;
	}
	int r = 0;
	bool crashed = false;
	pthread_mutex_lock(&hv->lock);
	switch (msr) {
	case HV_MSR_GUEST_OS_ID:
		hv->guest_os_id = val;
		/* Clearing the id (kexec, crash) also disables the hypercall page. */
		if (val == 0)
			hv->hypercall_msr &= ~HV_HYPERCALL_ENABLE;
		break;
	case HV_MSR_HYPERCALL:
		r = hyperv_write_hypercall_page(hv, val);
		if (r == 0)
			hv->hypercall_msr = val;
		break;
	case HV_MSR_VP_ASSIST_PAGE:
		/* Accepted and kept: nothing in the page is used without hints we do not give. */
		hv->vp_assist[vp] = val;
		break;
	case HV_MSR_CRASH_CTL:
		crashed = (val & HV_CRASH_CTL_NOTIFY) != 0;
		break;
	case HV_MSR_TSC_INVARIANT_CTL:
		hv->tsc_invariant_ctl = val & 1;
		break;
	default:
		if (msr >= HV_MSR_CRASH_P0 && msr <= HV_MSR_CRASH_P4)
			hv->crash[msr - HV_MSR_CRASH_P0] = val;
		else
			r = -EINVAL;   /* read-only (VP_INDEX, frequencies, TIME_REF_COUNT) or not implemented */
		break;
	}
	pthread_mutex_unlock(&hv->lock);
	if (crashed)
		hyperv_report_crash(hv, vp, val);
	return r;
}

static uint64_t hyperv_post_message(struct hyperv *hv, unsigned vp, uint64_t control, uint64_t in_gpa)
{
	if (control & HV_HYPERCALL_FAST)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (in_gpa & 7)
		return HV_STATUS_INVALID_ALIGNMENT;
	const struct hv_post_message_input *in = hv->ops->gpa_ptr(hv->opaque, in_gpa, sizeof(*in));
	if (!in)
		return HV_STATUS_INVALID_PARAMETER;
	/* Copy first: the guest may change the page while we look at it. */
	struct hv_post_message_input msg;
	memcpy(&msg, in, sizeof(msg));
	if (msg.payload_size > HV_MESSAGE_PAYLOAD_MAX || msg.message_type == 0 ||
	    (msg.message_type & 0x80000000u))
		return HV_STATUS_INVALID_PARAMETER;
	if (!hv->ops->post_message)
		return HV_STATUS_INVALID_CONNECTION_ID;
	return hv->ops->post_message(hv->opaque, vp, msg.connection_id & 0xffffff, msg.message_type,
				     msg.payload, msg.payload_size);
}

uint64_t hyperv_hypercall(struct hyperv *hv, unsigned vp, uint64_t control, uint64_t rdx, uint64_t r8)
{
	uint16_t code = control & 0xffff;
	hv->hypercalls++;
	/* Rep and variable-header forms are not used by the calls we offer. */
	if ((control >> 17) & 0x3ff || (control >> 32) & 0xfff)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	switch (code) {
	case HV_CALL_POST_MESSAGE:
		return hyperv_post_message(hv, vp, control, rdx);
	case HV_CALL_SIGNAL_EVENT:
		if (!(control & HV_HYPERCALL_FAST))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		if (!hv->ops->signal_event)
			return HV_STATUS_INVALID_CONNECTION_ID;
		return hv->ops->signal_event(hv->opaque, vp, (uint32_t)rdx & 0xffffff, (uint16_t)(rdx >> 32));
	default:
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
}

/* ---- saved state ---- */

GVariant *hyperv_save(struct hyperv *hv)
{
	pthread_mutex_lock(&hv->lock);
	GVariant *v = g_variant_new("(tt@att@attqq)", hv->guest_os_id, hv->hypercall_msr,
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, hv->crash, G_N_ELEMENTS(hv->crash),
							      sizeof(uint64_t)),
				    hv->tsc_invariant_ctl,
				    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, hv->vp_assist, hv->nvps,
							      sizeof(uint64_t)),
				    hyperv_reference_time(hv), hv->hypercall_port, hv->signal_port);
	pthread_mutex_unlock(&hv->lock);
	return v;
}

int hyperv_restore(struct hyperv *hv, GVariant *v, GError **error)
{
	if (saved_state_check_type(v, HYPERV_STATE_TYPE, "hyperv", error) < 0)
		return -EINVAL;
	guint64 os_id, hcall, tsc_ctl, ref;
	guint16 hport, sport;
	g_autoptr(GVariant) crash = NULL, assist = NULL;
	g_variant_get(v, "(tt@att@attqq)", &os_id, &hcall, &crash, &tsc_ctl, &assist, &ref, &hport, &sport);
	gsize nc, na;
	const uint64_t *c = g_variant_get_fixed_array(crash, &nc, sizeof(uint64_t));
	const uint64_t *a = g_variant_get_fixed_array(assist, &na, sizeof(uint64_t));
	if (nc != G_N_ELEMENTS(hv->crash))
		return saved_state_fail(error, "hyperv: %zu crash parameters, not %zu", (size_t)nc,
					G_N_ELEMENTS(hv->crash));
	if (na != hv->nvps)
		return saved_state_fail(error, "hyperv: %zu VP assist pages saved, this machine has %u VPs", (size_t)na,
					hv->nvps);
	/* The guest's hypercall page (in the restored RAM) goes out on these ports. */
	pthread_mutex_lock(&hv->lock);
	uint16_t want_sport = hv->signal_port;
	pthread_mutex_unlock(&hv->lock);
	if (hport != hv->hypercall_port || sport != want_sport)
		return saved_state_fail(error, "hyperv: the saved hypercall page uses ports %#x/%#x, this machine %#x/%#x",
					hport, sport, hv->hypercall_port, want_sport);
	if ((hcall & HV_HYPERCALL_ENABLE) &&
	    (os_id == 0 || !hv->ops->gpa_ptr(hv->opaque, hcall & ~(uint64_t)(PAGE_SIZE - 1), PAGE_SIZE)))
		return saved_state_fail(error, "hyperv: the hypercall page at %#" G_GINT64_MODIFIER "x is not usable",
					hcall);
	if (tsc_ctl & ~(uint64_t)1)
		return saved_state_fail(error, "hyperv: TSC_INVARIANT_CONTROL %#" G_GINT64_MODIFIER "x", tsc_ctl);
	if (ref > UINT64_MAX / 100)
		return saved_state_fail(error, "hyperv: reference time %" G_GUINT64_FORMAT " out of range", ref);
	pthread_mutex_lock(&hv->lock);
	hv->guest_os_id = os_id;
	hv->hypercall_msr = hcall;
	memcpy(hv->crash, c, sizeof(hv->crash));
	hv->tsc_invariant_ctl = tsc_ctl;
	memcpy(hv->vp_assist, a, hv->nvps * sizeof(uint64_t));
	/* The reference time goes on from where it stood, as the guest's TSC does:
	 * the saved time is not the guest's (time sync corrects its wall clock). */
	hv->start_ns = hv->ops->now_ns(hv->opaque) - ref * 100;
	pthread_mutex_unlock(&hv->lock);
	return 0;
}
