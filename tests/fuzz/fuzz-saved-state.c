// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: a hostile saved-state file (backend/worker/machine_state.h)
 * against everything that reads one. The input is tried two ways:
 *  - as a whole state file: saved_state_file_parse, then every component
 *    it has through its restore, into fresh objects of a machine like the
 *    worker's (2 VPs): KVM's state (the pure parse: no /dev/kvm here), the
 *    Hyper-V interface, the SynIC, the emulated devices, the PCI bus, and
 *    the VMBus server with the VSP bus and its seven devices on the unit
 *    tests' guest simulator (vmbus_server_restore, vsp_bus_restore);
 *  - as one component: byte 0 picks which, the rest is that component's
 *    serialized GVariant (refused unless in normal form, as the file is),
 *    so each restore sees inputs that need not survive the file's checks.
 * Checked: no crash, no leak (under ASan), every refusal has a message,
 * and what a restore took saves again without complaint.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emul/emul.h"
#include "emul/hyperv_video_pci.h"
#include "hv/hyperv.h"
#include "hv/kvm_state.h"
#include "hv/pci.h"
#include "hv/saved_state.h"
#include "hv/synic.h"
#include "hv/vmbus_server.h"
#include "vsp-guest.h"
#include "vsp/display.h"
#include "vsp/ic_heartbeat.h"
#include "vsp/ic_kvp.h"
#include "vsp/ic_shutdown.h"
#include "vsp/ic_timesync.h"
#include "vsp/synth_kbd.h"
#include "vsp/synth_mouse.h"
#include "vsp/synthvid.h"
#include "vsp/vsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define NVPS 2u
/* The saved machines the seeds come from: 512 MiB (the VSP bus maps their
 * rings from it). */
#define VSP_RAM_BYTES (512ull << 20)
/* For the Hyper-V interface and the SynIC: every page below 3 GiB is RAM,
 * all of them the same few pages; above is none. */
#define RAM_LIMIT 0xC0000000ull
#define RAM_PAGES 16u

static _Alignas(4096) uint8_t ram[RAM_PAGES * 4096];

static void *fz_gpa(void *opaque, uint64_t gpa, size_t len)
{
	if (gpa >= RAM_LIMIT || len > 4096 || (gpa & 4095) + len > 4096)
		return NULL;
	return ram + ((gpa >> 12) % RAM_PAGES) * 4096 + (gpa & 4095);
}

static uint64_t fz_now(void *opaque)
{
	return 123456789;
}

static void fz_inject(void *opaque, unsigned vp, uint8_t vector)
{
	CHECK(vp < NVPS);
}

static int64_t fz_wall(void *opaque)
{
	return INT64_C(1700000000000000000);
}

static uint64_t fz_mono(void *opaque)
{
	return 5000000000ull;
}

/* A refusal says why (FUZZ_SAVED_STATE_VERBOSE=1 prints it: for keeping
 * the seeds in shape); an acceptance saves again. */
static void fz_outcome(int r, GError **e, GVariant *(*save)(void *), void *obj)
{
	if (r < 0) {
		CHECK(*e && (*e)->message && *(*e)->message);
		if (g_getenv("FUZZ_SAVED_STATE_VERBOSE"))
			fprintf(stderr, "refused: %s\n", (*e)->message);
	} else {
		CHECK(!*e);
		if (save) {
			GVariant *again = g_variant_ref_sink(save(obj));
			CHECK(again);
			g_variant_unref(again);
		}
	}
	g_clear_error(e);
}

static GVariant *save_hyperv(void *o) { return hyperv_save(o); }
static GVariant *save_synic(void *o) { return synic_save(o); }
static GVariant *save_uart(void *o) { return uart8250_save(o); }
static GVariant *save_rtc(void *o) { return cmos_rtc_save(o); }
static GVariant *save_i8042(void *o) { return i8042_save(o); }
static GVariant *save_pm(void *o) { return acpi_pm_save(o); }
static GVariant *save_pci(void *o) { return pci_bus_save(o); }

static void fz_kvm(GVariant *v)
{
	struct kvm_state_vm s;
	GError *e = NULL;
	int r = kvm_state_vm_from_variant(v, NVPS, &s, &e);
	if (r == 0) {
		GVariant *again = g_variant_ref_sink(kvm_state_vm_to_variant(&s));
		/* What was taken comes out the same. */
		CHECK(g_variant_equal(again, v));
		g_variant_unref(again);
		kvm_state_vm_clear(&s);
	}
	fz_outcome(r, &e, NULL, NULL);
}

static void fz_hyperv(GVariant *v)
{
	static const struct hyperv_ops ops = { .gpa_ptr = fz_gpa, .now_ns = fz_now };
	struct hyperv *hv = hyperv_new(NVPS, 2000000000ull, 0xe4, &ops, NULL);
	hyperv_set_signal_port(hv, 0xe8);
	GError *e = NULL;
	fz_outcome(hyperv_restore(hv, v, &e), &e, save_hyperv, hv);
	hyperv_free(hv);
}

static void fz_synic(GVariant *v)
{
	static const struct synic_ops ops = { .gpa_ptr = fz_gpa, .inject = fz_inject };
	struct synic *s = synic_new(NVPS, &ops, NULL);
	GError *e = NULL;
	int r = synic_restore(s, v, &e);
	fz_outcome(r, &e, save_synic, s);
	if (r == 0) {
		/* The restored SynIC works on: every VP flushed and EOMed. */
		for (unsigned vp = 0; vp < NVPS; vp++) {
			synic_flush(s, vp);
			(void)synic_msr_write(s, vp, SYNIC_MSR_EOM, 0);
			for (unsigned sint = 0; sint < SYNIC_SINT_COUNT; sint++)
				CHECK(synic_queued(s, vp, sint) <= (int)SYNIC_QUEUE_MAX);
		}
	}
	synic_free(s);
}

static void fz_emul(const char *name, GVariant *v)
{
	struct irq_line irq = { 0 };
	GError *e = NULL;
	if (strcmp(name, "uart") == 0) {
		struct uart8250 *u = uart8250_new(&irq, NULL);
		fz_outcome(uart8250_restore(u, v, &e), &e, save_uart, u);
		uart8250_free(u);
	} else if (strcmp(name, "rtc") == 0) {
		struct cmos_rtc *rtc = cmos_rtc_new(&irq, fz_wall, NULL);
		int r = cmos_rtc_restore(rtc, v, &e);
		fz_outcome(r, &e, save_rtc, rtc);
		if (r == 0)
			(void)cmos_rtc_poll(rtc);
		cmos_rtc_free(rtc);
	} else if (strcmp(name, "i8042") == 0) {
		struct i8042 *k = i8042_new(NULL, NULL);
		fz_outcome(i8042_restore(k, v, &e), &e, save_i8042, k);
		i8042_free(k);
	} else if (strcmp(name, "acpi-pm") == 0) {
		struct acpi_pm *pm = acpi_pm_new(&irq, NULL, NULL, fz_mono, NULL);
		fz_outcome(acpi_pm_restore(pm, v, &e), &e, save_pm, pm);
		acpi_pm_free(pm);
	} else if (strcmp(name, "pci") == 0) {
		struct pci_bus bus;
		struct pci_device host;
		struct hyperv_video_pci video;
		pci_bus_init(&bus);
		pci_host_bridge_init(&host);
		pci_bus_add(&bus, 0, &host);
		CHECK(hyperv_video_pci_init(&video, 0xf8000000ull, 16u << 20) == 0);
		pci_bus_add(&bus, HYPERV_VIDEO_PCI_SLOT, &video.pci);
		fz_outcome(pci_bus_restore(&bus, v, &e), &e, save_pci, &bus);
		bool on;
		uint64_t bar = hyperv_video_pci_bar0(&video, &on);
		CHECK(bar % (16u << 20) == 0);
		pci_bus_destroy(&bus);
	}
}

/* The worker's seven devices, in its order (vmbus_devices.c). */
#define INST(n) VMBUS_GUID_INIT(0x7669726f, 0x0001, 0x4000 | (n), 0x80, 0x00, 0, 0, 0, 0, 0, (n))

static int fz_vram_map(void *opaque, uint64_t gpa, int memfd, uint64_t size)
{
	return 0;
}

static void fz_vram_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
}

static void fz_vsp(GVariant *server, GVariant *bus)
{
	struct vsp_guest *g = vsp_guest_new_ram(VSP_RAM_BYTES);
	CHECK(g);
	struct vsp_bus *b = vsp_guest_bus(g);
	GMainContext *ctx = g_main_context_new();
	struct display *d = display_new(ctx);
	struct vmbus_guid i[8] = { INST(0), INST(1), INST(2), INST(3), INST(4), INST(5), INST(6), INST(7) };
	struct synthvid_config cfg = {
		.vram_mb = 16, .window_start = 0xf8000000ull, .window_end = 0xfc000000ull,
		.ram = vsp_guest_ram(g), .display = d, .host = { fz_vram_map, fz_vram_unmap, NULL },
	};
	struct ic_heartbeat *hb = ic_heartbeat_add(b, &i[1]);
	struct ic_shutdown *sd = ic_shutdown_add(b, &i[2]);
	struct ic_timesync *ts = ic_timesync_add(b, &i[3]);
	struct ic_kvp *kvp = ic_kvp_add(b, &i[4]);
	struct synthvid *sv = synthvid_add(b, &i[5], &cfg);
	struct synth_kbd *kbd = synth_kbd_add(b, &i[6]);
	struct synth_mouse *mouse = synth_mouse_add(b, &i[7]);
	CHECK(hb && sd && ts && kvp && sv && kbd && mouse);
	GError *e = NULL;
	int r = server ? vmbus_server_restore(vsp_guest_server(g), server, &e) : 0;
	fz_outcome(r, &e, NULL, NULL);
	if (r == 0 && bus) {
		vsp_bus_freeze(b);
		r = vsp_bus_restore(b, bus, &e);
		if (r == 0) {
			GVariant *again = g_variant_ref_sink(vsp_bus_save(b));
			g_variant_unref(again);
		}
		vsp_bus_thaw(b);
		fz_outcome(r, &e, NULL, NULL);
		/* Let the devices run a little on what they took. */
		vsp_guest_bus_sync(g);
	}
	vsp_guest_free(g);
	ic_heartbeat_free(hb);
	ic_shutdown_free(sd);
	ic_timesync_free(ts);
	ic_kvp_free(kvp);
	synthvid_free(sv);
	synth_kbd_free(kbd);
	synth_mouse_free(mouse);
	display_free(d);
	g_main_context_unref(ctx);
}

struct component {
	const char *name, *type;
};

static const struct component components[] = {
	{ "kvm", KVM_STATE_VM_TYPE }, { "hyperv", HYPERV_STATE_TYPE }, { "synic", SYNIC_STATE_TYPE },
	{ "uart", UART8250_STATE_TYPE }, { "rtc", CMOS_RTC_STATE_TYPE }, { "i8042", I8042_STATE_TYPE },
	{ "acpi-pm", ACPI_PM_STATE_TYPE }, { "pci", PCI_BUS_STATE_TYPE }, { "vmbus", VMBUS_SERVER_STATE_TYPE },
	{ "vsp", VSP_BUS_STATE_TYPE },
};

static void fz_component(const char *name, GVariant *v, GVariant *vmbus)
{
	if (strcmp(name, "kvm") == 0)
		fz_kvm(v);
	else if (strcmp(name, "hyperv") == 0)
		fz_hyperv(v);
	else if (strcmp(name, "synic") == 0)
		fz_synic(v);
	else if (strcmp(name, "vmbus") == 0)
		fz_vsp(v, NULL);
	else if (strcmp(name, "vsp") == 0)
		fz_vsp(vmbus, v);
	else
		fz_emul(name, v);
}

static void fz_file(const uint8_t *data, size_t size)
{
	GBytes *b = g_bytes_new(data, size);
	GVariant *comps = NULL;
	GError *e = NULL;
	int r = saved_state_file_parse(b, &comps, &e);
	g_bytes_unref(b);
	if (r < 0) {
		CHECK(e && !comps);
		g_clear_error(&e);
		return;
	}
	g_autoptr(GVariant) vmbus = saved_state_lookup(comps, "vmbus", VMBUS_SERVER_STATE_TYPE, &e);
	g_clear_error(&e);
	g_autoptr(GVariant) vsp = g_variant_lookup_value(comps, "vsp", NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(components); i++) {
		GVariant *v = saved_state_lookup(comps, components[i].name, components[i].type, &e);
		if (!v) {
			CHECK(e);
			g_clear_error(&e);
			continue;
		}
		/* With a vsp component, vmbus is restored under it. */
		if (strcmp(components[i].name, "vmbus") != 0 || !vsp)
			fz_component(components[i].name, v, vmbus);
		g_variant_unref(v);
	}
	g_variant_unref(comps);
}

static void fz_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	const struct component *c = &components[data[0] % G_N_ELEMENTS(components)];
	GBytes *b = g_bytes_new(data + 1, size - 1);
	GVariant *v = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(c->type), b, FALSE));
	g_bytes_unref(b);
	if (g_variant_is_normal_form(v))
		fz_component(c->name, v, NULL);
	g_variant_unref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	fz_file(data, size);
	fz_one(data, size);
	return 0;
}
