// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <time.h>

#include <gio/gio.h>

#include "hv/acpi.h"
#include "hv/boot.h"
#include "hv/e820.h"
#include "hv/layout.h"
#include "machine.h"
#include "machine_state.h"
#include "vsp/synthvid.h"

static void machine_on_reset(void *opaque)
{
	struct machine *m = opaque;
	partition_request_stop(m->p, PARTITION_STOP_REBOOT, "reset through the i8042 controller");
}

static void machine_on_pm_event(void *opaque, enum acpi_pm_event ev)
{
	struct machine *m = opaque;
	if (ev == ACPI_PM_POWEROFF)
		partition_request_stop(m->p, PARTITION_STOP_POWEROFF, "the guest entered ACPI S5");
	else
		partition_request_stop(m->p, PARTITION_STOP_REBOOT, "reset through the ACPI reset register");
}

static uint64_t machine_monotonic_ns(void *opaque)
{
	return partition_monotonic_ns();
}

static int machine_add_pio(struct machine *m, uint64_t base, uint64_t len, const struct iobus_ops *ops,
			   void *opaque, const char *what, GError **error)
{
	int r = iobus_register(m->p->pio, base, len, ops, opaque);
	if (r < 0)
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "cannot place %s at port 0x%" G_GINT64_MODIFIER "x: %s",
			    what, base, g_strerror(-r));
	return r;
}

static int machine_add_devices(struct machine *m, GError **error)
{
	struct partition *p = m->p;
	m->irq_com1 = (struct irq_line){ partition_irq_set_level, p, IRQ_COM1 };
	m->irq_rtc = (struct irq_line){ partition_irq_set_level, p, IRQ_RTC };
	m->irq_sci = (struct irq_line){ partition_irq_set_level, p, IRQ_ACPI_SCI };

	m->uart = uart8250_new(&m->irq_com1, m->keep->console);
	m->kbc = i8042_new(machine_on_reset, m);
	m->pm = acpi_pm_new(&m->irq_sci, machine_on_pm_event, m, machine_monotonic_ns, NULL);
	cmos_rtc_set_memory_size(m->keep->rtc, guest_ram_low_end(&p->ram),
				 p->ram.size - guest_ram_low_end(&p->ram));

	pci_bus_init(&m->pci);
	pci_host_bridge_init(&m->host_bridge);
	pci_bus_add(&m->pci, 0, &m->host_bridge);
	if (m->vmbus) {
		int vr = pci_bus_add(&m->pci, HYPERV_VIDEO_PCI_SLOT, &m->video_pci.pci);
		if (vr < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-vr),
				    "adding the Hyper-V video PCI device: %s", g_strerror(-vr));
			return vr;
		}
	}

	if (machine_add_pio(m, PORT_COM1, PORT_COM1_LEN, &uart8250_ops, m->uart, "COM1", error) < 0 ||
	    machine_add_pio(m, PORT_RTC, PORT_RTC_LEN, &cmos_rtc_ops, m->keep->rtc, "the RTC", error) < 0 ||
	    machine_add_pio(m, PORT_I8042_DATA, 1, &i8042_data_ops, m->kbc, "the i8042", error) < 0 ||
	    machine_add_pio(m, PORT_I8042_CMD, 1, &i8042_cmd_ops, m->kbc, "the i8042", error) < 0 ||
	    machine_add_pio(m, PORT_ACPI_PM_BASE, PORT_ACPI_PM_LEN, &acpi_pm_ops, m->pm, "ACPI PM", error) < 0 ||
	    machine_add_pio(m, PORT_PCI_CONFIG_ADDR, 8, &pci_config_ops, &m->pci, "PCI config", error) < 0)
		return -EEXIST;

	/* Linux writes port 0x80 to delay I/O; answering in the kernel saves an exit each time. */
	int r = partition_add_port_sink(p, PORT_POST, 1);
	if (r < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "KVM_IOEVENTFD for port 0x80: %s",
			    g_strerror(-r));
		return r;
	}
	return 0;
}

static int machine_load(struct machine *m, const struct machine_config *cfg, struct boot_entry *entry,
			GError **error)
{
	struct partition *p = m->p;
	uint8_t *acpi = guest_ram_ptr(&p->ram, LAYOUT_ACPI_START, LAYOUT_ACPI_SIZE);
	struct acpi_config acfg = { .ncpus = cfg->ncpus, .pci_mmio_start = LAYOUT_PCI_MMIO_START,
				    .pci_mmio_end = LAYOUT_PCI_MMIO_END };
	if (cfg->hv == CPUID_HV_HYPERV) {
		acfg.vmbus_mmio_start = LAYOUT_VMBUS_MMIO_START;
		acfg.vmbus_mmio_end = LAYOUT_VMBUS_MMIO_END;
		/* The root bridge's window takes in the VMBus window, as on
		 * Hyper-V's generation 1 machine: the video device's BAR0 lies
		 * there, and Linux moves a BAR no bridge window covers (then
		 * hv_vmbus cannot reserve it for hyperv_fb's VRAM). */
		acfg.pci_mmio_end = LAYOUT_VMBUS_MMIO_END;
	}
	uint64_t rsdp = 0;
	long n = acpi ? acpi_build(&acfg, acpi, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_START, &rsdp) : -EFAULT;
	if (n < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno((int)-n), "building ACPI tables: %s",
			    g_strerror((int)-n));
		return (int)n;
	}

	struct e820_map map;
	e820_build(p->ram.regions, p->ram.nregions, &map);

	gsize ksize, isize = 0;
	const uint8_t *kdata = g_bytes_get_data(cfg->kernel, &ksize);
	const uint8_t *idata = cfg->initrd ? g_bytes_get_data(cfg->initrd, &isize) : NULL;
	struct boot_config bc = {
		.kernel = { kdata, ksize }, .initrd = { idata, isize },
		.cmdline = cfg->cmdline, .rsdp_gpa = rsdp, .e820 = &map,
	};
	int r;
	const char *how;
	switch (boot_detect_format(kdata, ksize)) {
	case BOOT_FORMAT_BZIMAGE:
		how = "bzImage (64-bit boot protocol)";
		r = boot_bzimage_load(&p->ram, &bc, entry);
		break;
	case BOOT_FORMAT_ELF:
		how = "ELF vmlinux (PVH entry)";
		r = boot_pvh_load(&p->ram, &bc, entry);
		break;
	default:
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "kernel %s: neither a bzImage nor an ELF vmlinux", cfg->kernel_path);
		return -ENOEXEC;
	}
	if (r == -ENOEXEC)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "kernel %s: not a loadable %s%s",
			    cfg->kernel_path, how,
			    boot_detect_format(kdata, ksize) == BOOT_FORMAT_ELF ? " (no PVH entry note)" : "");
	else if (r == -E2BIG)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
			    "kernel %s, its initrd and command line do not fit in %" G_GUINT64_FORMAT " MiB of guest RAM",
			    cfg->kernel_path, cfg->memory >> 20);
	else if (r < 0)
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "loading kernel %s: %s",
			    cfg->kernel_path, g_strerror(-r));
	return r;
}

struct machine *machine_create(const struct machine_config *cfg, struct machine_keep *keep, GError **error)
{
	struct machine *m = g_new0(struct machine, 1);
	m->keep = keep;
	struct partition_config pcfg = { .memory = cfg->memory, .ncpus = cfg->ncpus,
					 .hv = cfg->hv, .name = cfg->name };
	struct partition_error perr = { 0 };
	int r = partition_create(&pcfg, &m->p, &perr);
	if (r < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "creating the partition: %s: %s",
			    perr.step ? perr.step : "?", g_strerror(-r));
		g_free(m);
		return NULL;
	}
	m->p->vmbus_trace = cfg->vmbus_trace;
	struct boot_entry entry;
	uint32_t vram_mb = cfg->video_vram_mb ? cfg->video_vram_mb : SYNTHVID_VRAM_MB_DEFAULT;
	struct vmbus_devices_config vcfg = {
		.video_width = cfg->video_width, .video_height = cfg->video_height,
		.video_vram_mb = vram_mb, .video_pci = &m->video_pci,
	};
	/* BAR0 at the start of the VMBus window: hv_vmbus reserves it for the
	 * framebuffer and hyperv_fb takes its VRAM from there. */
	if (cfg->hv == CPUID_HV_HYPERV &&
	    (r = hyperv_video_pci_init(&m->video_pci, LAYOUT_VMBUS_MMIO_START, (uint64_t)vram_mb << 20)) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "the Hyper-V video PCI device: %s",
			    g_strerror(-r));
		machine_destroy(m);
		return NULL;
	}
	if (cfg->hv == CPUID_HV_HYPERV && !(m->vmbus = vmbus_devices_create(m->p, keep->display, &vcfg, error))) {
		machine_destroy(m);
		return NULL;
	}
	if (machine_add_devices(m, error) < 0 ||
	    (cfg->restore ? machine_restore(m, cfg, cfg->restore, cfg->restore_dir, error)
			  : machine_load(m, cfg, &entry, error)) < 0) {
		machine_destroy(m);
		return NULL;
	}
	r = partition_start(m->p, cfg->restore ? NULL : &entry);
	if (r < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "starting the vCPUs: %s", g_strerror(-r));
		partition_join(m->p);
		machine_destroy(m);
		return NULL;
	}
	return m;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	vmbus_devices_stop(m->vmbus);   /* no more signals into the partition */
	partition_destroy(m->p);   /* first: no vCPU may touch a device after this */
	vmbus_devices_free(m->vmbus);
	uart8250_free(m->uart);
	i8042_free(m->kbc);
	acpi_pm_free(m->pm);
	if (m->pci.slots[0])
		pci_bus_destroy(&m->pci);
	g_free(m);
}

void machine_power_button(struct machine *m)
{
	acpi_pm_power_button(m->pm);
}
