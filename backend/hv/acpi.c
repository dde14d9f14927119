// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "hv/acpi.h"
#include "hv/aml.h"
#include "hv/layout.h"

/* The tables are written with the host's integers; KVM on x86 is little-endian like ACPI. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define ACPI_OEM_ID        "VIREO "
#define ACPI_OEM_TABLE_ID  "VIREOVM "
#define ACPI_OEM_REVISION  1
#define ACPI_CREATOR_ID    "VIRO"
#define ACPI_CREATOR_REV   1

/* ---- Wire formats (ACPI 6.x, chapter 5) ---- */

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;          /* first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;      /* all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");
#define ACPI_RSDP_V1_LEN 20

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header is 36 bytes");

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

enum { ACPI_GAS_SYSTEM_IO = 1 };
enum { ACPI_ACCESS_BYTE = 1, ACPI_ACCESS_WORD = 2, ACPI_ACCESS_DWORD = 3 };

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (ACPI 6.0) is 276 bytes");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "X_DSDT at offset 140");

#define ACPI_FADT_REVISION        6
#define ACPI_FADT_MINOR_REVISION  0

/* FADT flags. */
#define ACPI_FADT_WBINVD          (1u << 0)
#define ACPI_FADT_PROC_C1         (1u << 2)
#define ACPI_FADT_SLP_BUTTON      (1u << 5)   /* set: no fixed-feature sleep button */
#define ACPI_FADT_TMR_VAL_EXT     (1u << 8)
#define ACPI_FADT_RESET_REG_SUP   (1u << 10)

/* IA-PC boot architecture flags. */
#define ACPI_BOOT_LEGACY_DEVICES  (1u << 0)
#define ACPI_BOOT_8042            (1u << 1)

/* Latencies above these limits say "C2/C3 not supported". */
#define ACPI_P_LVL2_NONE          101
#define ACPI_P_LVL3_NONE          1001

#define ACPI_CMOS_CENTURY         0x32

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");
#define ACPI_FACS_VERSION 2
#define ACPI_FACS_ALIGN   64

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part is 44 bytes");
#define ACPI_MADT_REVISION    3
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

enum {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_ISO = 2,
	ACPI_MADT_LAPIC_NMI = 4,
};

struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC entry is 8 bytes");
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)

struct acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC entry is 12 bytes");

struct acpi_madt_iso {
	uint8_t type;
	uint8_t length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT interrupt source override is 10 bytes");
/* MPS INTI flags: polarity in bits 1-0, trigger mode in bits 3-2. */
#define ACPI_MPS_CONFORMING   0x0000
#define ACPI_MPS_ACTIVE_HIGH  0x0001
#define ACPI_MPS_LEVEL        0x000C

struct acpi_madt_lapic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI entry is 6 bytes");
#define ACPI_ALL_PROCESSORS 0xFF

#define ACPI_IOAPIC_PINS 24

/* The tables the XSDT and RSDT list. */
enum { ACPI_SDT_FADT, ACPI_SDT_MADT, ACPI_SDT_COUNT };

/* ---- DSDT ---- */

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + data[i]);
	return sum;
}

static int dsdt_sleep_states(struct aml *b, const struct acpi_config *cfg)
{
	/* SLP_TYPa, SLP_TYPb, reserved, reserved: what the OS writes to PM1a_CNT
	 * (and PM1b_CNT, which we lack) with SLP_EN to enter S5. */
	aml_name(b, "\\_S5");
	aml_package_begin(b);
	aml_integer(b, ACPI_S5_SLP_TYP);
	aml_integer(b, ACPI_S5_SLP_TYP);
	aml_integer(b, 0);
	aml_integer(b, 0);
	return aml_end(b);
}

static int dsdt_pci_root(struct aml *b, const struct acpi_config *cfg)
{
	/* No _ADR: a device has a _HID or an _ADR, not both (ACPI 6.x, 6.1). */
	aml_device_begin(b, "PCI0");
	aml_name_eisaid(b, "_HID", "PNP0A03");
	aml_name_integer(b, "_UID", 0);
	aml_name_integer(b, "_SEG", 0);
	aml_name_integer(b, "_BBN", 0);
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_word_bus_number(b, AML_PRODUCER, 0x00, 0xFF);
	/* The config ports are the bridge's own; the windows leave them out. */
	aml_res_io(b, PORT_PCI_CONFIG_ADDR, PORT_PCI_CONFIG_ADDR, 1, 8);
	aml_res_word_io(b, AML_PRODUCER, 0x0000, PORT_PCI_CONFIG_ADDR - 1);
	aml_res_word_io(b, AML_PRODUCER, PORT_PCI_CONFIG_ADDR + 8, 0xFFFF);
	aml_res_dword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true, (uint32_t)cfg->pci_mmio_start,
			     (uint32_t)(cfg->pci_mmio_end - 1));
	aml_end(b);
	return aml_end(b);
}

static int dsdt_com1(struct aml *b, const struct acpi_config *cfg)
{
	aml_device_begin(b, "COM1");
	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_integer(b, "_UID", 1);
	aml_method_begin(b, "_STA", 0, false);
	aml_return(b);
	aml_integer(b, 0x0F);   /* present, enabled, shown, functioning */
	aml_end(b);
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_io(b, PORT_COM1, PORT_COM1, 1, PORT_COM1_LEN);
	aml_res_irq_noflags(b, 1u << IRQ_COM1);
	aml_end(b);
	return aml_end(b);
}

static int dsdt_rtc(struct aml *b, const struct acpi_config *cfg)
{
	/* Found here, Linux's rtc_cmos binds through PNP and takes IRQ 8 from _CRS. */
	aml_device_begin(b, "RTC");
	aml_name_eisaid(b, "_HID", "PNP0B00");
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_io(b, PORT_RTC, PORT_RTC, 1, PORT_RTC_LEN);
	aml_res_irq_noflags(b, 1u << IRQ_RTC);
	aml_end(b);
	return aml_end(b);
}

/*
 * hv_vmbus probes the ACPI device "VMBUS" and takes its MMIO pool from the
 * nearest ancestor's _CRS; the window sits in an ACPI0004 module device, as
 * on Hyper-V, so Linux's default enumeration does not claim it. The VMBUS
 * device needs a _CRS of its own, even an empty one, or the probe fails.
 */
static int dsdt_vmbus(struct aml *b, const struct acpi_config *cfg)
{
	if (cfg->vmbus_mmio_end == 0)
		return 0;
	aml_device_begin(b, "VMOD");
	aml_name_string(b, "_HID", "ACPI0004");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_qword_memory(b, AML_PRODUCER, AML_CACHEABLE, true, cfg->vmbus_mmio_start, cfg->vmbus_mmio_end - 1);
	aml_end(b);
	aml_device_begin(b, "VMBS");
	/* Linux 6.1 matches "VMBUS" in _HID or _CID; a _HID must have 7 or 8
	 * characters (iasl refuses "VMBUS"), so the name Hyper-V uses on newer
	 * guests goes in _HID and "VMBUS" in _CID. */
	aml_name_string(b, "_HID", "MSFT1000");
	aml_name_string(b, "_CID", "VMBUS");
	aml_name_integer(b, "_UID", 0);
	aml_name_string(b, "_DDN", "VMBUS");
	aml_method_begin(b, "_STA", 0, false);
	aml_return(b);
	aml_integer(b, 0x0F);
	aml_end(b);
	aml_name(b, "_CRS");
	aml_restemplate_begin(b);
	aml_end(b);
	aml_end(b);
	return aml_end(b);
}

typedef int (*acpi_dsdt_fn)(struct aml *b, const struct acpi_config *cfg);

/* Objects at the root of the namespace. */
static const acpi_dsdt_fn acpi_dsdt_root[] = {
	dsdt_sleep_states,
};

/* Devices in \_SB. A new device (the VMBus module) is one more function here. */
static const acpi_dsdt_fn acpi_dsdt_sb[] = {
	dsdt_pci_root,
	dsdt_com1,
	dsdt_rtc,
	dsdt_vmbus,
};

/* Appends the DSDT's AML body (what follows the header) to out. */
static int acpi_dsdt_body(const struct acpi_config *cfg, GByteArray *out)
{
	struct aml *b = aml_new();
	for (size_t i = 0; i < G_N_ELEMENTS(acpi_dsdt_root); i++)
		acpi_dsdt_root[i](b, cfg);
	aml_scope_begin(b, "\\_SB");
	for (size_t i = 0; i < G_N_ELEMENTS(acpi_dsdt_sb); i++)
		acpi_dsdt_sb[i](b, cfg);
	aml_end(b);

	const uint8_t *data;
	size_t len;
	int r = aml_finish(b, &data, &len);
	if (r == 0)
		g_byte_array_append(out, data, (guint)len);
	aml_free(b);
	return r;
}

/* ---- Tables ---- */

static void acpi_header_init(struct acpi_header *h, const char *sig, size_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = rev;
	h->checksum = 0;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REV;
}

/* Sets the header checksum of the table at t, whose length field is already set. */
static void acpi_table_seal(uint8_t *t)
{
	struct acpi_header *h = (struct acpi_header *)t;
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_checksum(t, h->length);
}

static struct acpi_gas acpi_gas_io(uint16_t port, unsigned len, uint8_t access)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_SYSTEM_IO, .bit_width = (uint8_t)(len * 8),
				  .access_size = access, .address = port };
}

static void acpi_write_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
	struct acpi_fadt f = { 0 };
	acpi_header_init(&f.h, "FACP", sizeof(f), ACPI_FADT_REVISION);
	f.minor_version = ACPI_FADT_MINOR_REVISION;
	f.firmware_ctrl = (uint32_t)facs;
	f.x_firmware_ctrl = facs;
	f.dsdt = (uint32_t)dsdt;
	f.x_dsdt = dsdt;
	f.sci_int = IRQ_ACPI_SCI;
	/* SMI_CMD 0: the hardware is always in ACPI mode, there is nothing to enable. */
	f.smi_cmd = 0;

	f.pm1a_evt_blk = PORT_ACPI_PM1A_EVT;
	f.pm1_evt_len = 4;
	f.x_pm1a_evt_blk = acpi_gas_io(PORT_ACPI_PM1A_EVT, 4, ACPI_ACCESS_WORD);
	f.pm1a_cnt_blk = PORT_ACPI_PM1A_CNT;
	f.pm1_cnt_len = 2;
	f.x_pm1a_cnt_blk = acpi_gas_io(PORT_ACPI_PM1A_CNT, 2, ACPI_ACCESS_WORD);
	f.pm_tmr_blk = PORT_ACPI_PM_TMR;
	f.pm_tmr_len = 4;
	f.x_pm_tmr_blk = acpi_gas_io(PORT_ACPI_PM_TMR, 4, ACPI_ACCESS_DWORD);
	f.gpe0_blk = PORT_ACPI_GPE0;
	f.gpe0_blk_len = 4;
	f.x_gpe0_blk = acpi_gas_io(PORT_ACPI_GPE0, 4, ACPI_ACCESS_BYTE);

	f.p_lvl2_lat = ACPI_P_LVL2_NONE;
	f.p_lvl3_lat = ACPI_P_LVL3_NONE;
	f.century = ACPI_CMOS_CENTURY;
	/* COM1 and the RTC are ISA devices; Linux probes i8042 only if this says it exists. */
	f.iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042;
	/* PWR_BUTTON stays clear: the power button is the fixed-feature one in PM1. */
	f.flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_TMR_VAL_EXT |
		  ACPI_FADT_RESET_REG_SUP;
	f.reset_reg = acpi_gas_io(PORT_ACPI_RESET, 1, ACPI_ACCESS_BYTE);
	f.reset_value = ACPI_RESET_VALUE;

	memcpy(t, &f, sizeof(f));
	acpi_table_seal(t);
}

static void acpi_write_facs(uint8_t *t)
{
	/* No checksum: the OS writes to it (waking vector, global lock). */
	struct acpi_facs f = { .length = sizeof(f), .version = ACPI_FACS_VERSION };
	memcpy(f.signature, "FACS", 4);
	memcpy(t, &f, sizeof(f));
}

static size_t acpi_madt_len(unsigned ncpus)
{
	return sizeof(struct acpi_madt) + ncpus * sizeof(struct acpi_madt_lapic) +
	       sizeof(struct acpi_madt_ioapic) + 2 * sizeof(struct acpi_madt_iso) +
	       sizeof(struct acpi_madt_lapic_nmi);
}

static void acpi_write_madt(uint8_t *t, unsigned ncpus)
{
	size_t len = acpi_madt_len(ncpus);
	struct acpi_madt m = { .lapic_address = (uint32_t)LAYOUT_LAPIC_ADDR,
			       .flags = ACPI_MADT_PCAT_COMPAT };   /* KVM emulates the 8259s too */
	acpi_header_init(&m.h, "APIC", len, ACPI_MADT_REVISION);
	memcpy(t, &m, sizeof(m));
	size_t off = sizeof(m);

	for (unsigned i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic e = { .type = ACPI_MADT_LAPIC, .length = sizeof(e),
					     .processor_uid = (uint8_t)i, .apic_id = (uint8_t)i,
					     .flags = ACPI_MADT_LAPIC_ENABLED };
		memcpy(t + off, &e, sizeof(e));
		off += sizeof(e);
	}

	/* Its id follows the LAPIC ids so that no APIC id is used twice. */
	struct acpi_madt_ioapic io = { .type = ACPI_MADT_IOAPIC, .length = sizeof(io),
				       .ioapic_id = (uint8_t)ncpus,
				       .address = (uint32_t)LAYOUT_IOAPIC_ADDR, .gsi_base = 0 };
	memcpy(t + off, &io, sizeof(io));
	off += sizeof(io);

	/* The partition routes the PIT (IRQ0) to IOAPIC pin 2, as PC firmware always has. */
	const struct acpi_madt_iso isos[2] = {
		{ .type = ACPI_MADT_ISO, .length = sizeof(isos[0]), .bus = 0, .source = 0, .gsi = 2,
		  .flags = ACPI_MPS_CONFORMING },
		/* The SCI is level-triggered, active high, unlike ISA interrupts. */
		{ .type = ACPI_MADT_ISO, .length = sizeof(isos[0]), .bus = 0, .source = IRQ_ACPI_SCI,
		  .gsi = IRQ_ACPI_SCI, .flags = ACPI_MPS_LEVEL | ACPI_MPS_ACTIVE_HIGH },
	};
	memcpy(t + off, isos, sizeof(isos));
	off += sizeof(isos);

	struct acpi_madt_lapic_nmi nmi = { .type = ACPI_MADT_LAPIC_NMI, .length = sizeof(nmi),
					   .processor_uid = ACPI_ALL_PROCESSORS, .flags = ACPI_MPS_CONFORMING,
					   .lint = 1 };
	memcpy(t + off, &nmi, sizeof(nmi));
	off += sizeof(nmi);
	g_assert(off == len);

	acpi_table_seal(t);
}

static void acpi_write_dsdt(uint8_t *t, const GByteArray *body)
{
	struct acpi_header h;
	/* Revision 2: integers are 64 bits wide. */
	acpi_header_init(&h, "DSDT", sizeof(h) + body->len, 2);
	memcpy(t, &h, sizeof(h));
	memcpy(t + sizeof(h), body->data, body->len);
	acpi_table_seal(t);
}

static void acpi_write_xsdt(uint8_t *t, const uint64_t *tables, size_t n)
{
	struct acpi_header h;
	acpi_header_init(&h, "XSDT", sizeof(h) + n * 8, 1);
	memcpy(t, &h, sizeof(h));
	memcpy(t + sizeof(h), tables, n * 8);
	acpi_table_seal(t);
}

/* Old parsers that ignore the XSDT still find the same tables; all are below 4 GiB. */
static void acpi_write_rsdt(uint8_t *t, const uint64_t *tables, size_t n)
{
	struct acpi_header h;
	acpi_header_init(&h, "RSDT", sizeof(h) + n * 4, 1);
	memcpy(t, &h, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		uint32_t a = (uint32_t)tables[i];
		memcpy(t + sizeof(h) + i * 4, &a, 4);
	}
	acpi_table_seal(t);
}

static void acpi_write_rsdp(uint8_t *t, uint64_t rsdt, uint64_t xsdt)
{
	struct acpi_rsdp r = { .revision = 2, .rsdt_address = (uint32_t)rsdt,
			       .length = sizeof(r), .xsdt_address = xsdt };
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, ACPI_OEM_ID, 6);
	r.checksum = (uint8_t)-acpi_checksum((const uint8_t *)&r, ACPI_RSDP_V1_LEN);
	r.ext_checksum = (uint8_t)-acpi_checksum((const uint8_t *)&r, sizeof(r));
	memcpy(t, &r, sizeof(r));
}

/* Alignment is of the guest-physical address, not of the offset: base may be
 * only 16-byte aligned, and the FACS needs 64. */
static size_t acpi_place(size_t *cursor, uint64_t base, size_t len, size_t align)
{
	uint64_t gpa = (base + *cursor + align - 1) & ~(uint64_t)(align - 1);
	size_t off = (size_t)(gpa - base);
	*cursor = off + len;
	return off;
}

long acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
		uint64_t base, uint64_t *rsdp_gpa)
{
	if (!cfg || !buf || !rsdp_gpa)
		return -EINVAL;
	if (cfg->ncpus == 0 || cfg->ncpus > LAYOUT_MAX_VCPUS)
		return -EINVAL;
	/* DWordMemory window: must be non-empty and below 4 GiB. */
	if (cfg->vmbus_mmio_end && (cfg->vmbus_mmio_start >= cfg->vmbus_mmio_end ||
				    cfg->vmbus_mmio_start < 1 * MiB))
		return -EINVAL;
	if (cfg->pci_mmio_start >= cfg->pci_mmio_end || cfg->pci_mmio_end > LAYOUT_MMIO_HOLE_END)
		return -EINVAL;
	/* The RSDP scan looks at 16-byte boundaries only; FIRMWARE_CTRL, DSDT and
	 * the RSDT hold 32-bit addresses. */
	if (base % 16 != 0 || base >= LAYOUT_MMIO_HOLE_END)
		return -EINVAL;

	long ret;
	GByteArray *dsdt_body = g_byte_array_new();
	int r = acpi_dsdt_body(cfg, dsdt_body);
	if (r < 0) {
		ret = r;
		goto out;
	}

	size_t end = 0;
	size_t o_rsdp = acpi_place(&end, base, sizeof(struct acpi_rsdp), 16);
	size_t o_xsdt = acpi_place(&end, base, sizeof(struct acpi_header) + ACPI_SDT_COUNT * 8, 16);
	size_t o_rsdt = acpi_place(&end, base, sizeof(struct acpi_header) + ACPI_SDT_COUNT * 4, 16);
	size_t o_fadt = acpi_place(&end, base, sizeof(struct acpi_fadt), 16);
	size_t o_facs = acpi_place(&end, base, sizeof(struct acpi_facs), ACPI_FACS_ALIGN);
	size_t o_madt = acpi_place(&end, base, acpi_madt_len(cfg->ncpus), 16);
	size_t o_dsdt = acpi_place(&end, base, sizeof(struct acpi_header) + dsdt_body->len, 16);

	if (end > size) {
		ret = -ENOSPC;
		goto out;
	}
	if (end > LAYOUT_MMIO_HOLE_END - base) {
		ret = -EINVAL;
		goto out;
	}

	memset(buf, 0, end);
	uint64_t sdts[ACPI_SDT_COUNT] = {
		[ACPI_SDT_FADT] = base + o_fadt,
		[ACPI_SDT_MADT] = base + o_madt,
	};
	acpi_write_dsdt(buf + o_dsdt, dsdt_body);
	acpi_write_madt(buf + o_madt, cfg->ncpus);
	acpi_write_facs(buf + o_facs);
	acpi_write_fadt(buf + o_fadt, base + o_facs, base + o_dsdt);
	acpi_write_rsdt(buf + o_rsdt, sdts, ACPI_SDT_COUNT);
	acpi_write_xsdt(buf + o_xsdt, sdts, ACPI_SDT_COUNT);
	acpi_write_rsdp(buf + o_rsdp, base + o_rsdt, base + o_xsdt);

	*rsdp_gpa = base + o_rsdp;
	ret = (long)end;
out:
	g_byte_array_unref(dsdt_body);
	return ret;
}
