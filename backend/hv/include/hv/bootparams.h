/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 Linux boot protocol's zero page (struct boot_params), as offsets:
 * only the fields a 64-bit direct boot reads or writes. See the kernel's
 * Documentation/arch/x86/boot.rst for their meaning.
 */
#pragma once

#define BP_SIZE                 4096
#define BP_ACPI_RSDP_ADDR       0x070   /* u64, protocol 2.14 */
#define BP_EXT_RAMDISK_IMAGE    0x0c0   /* u32 */
#define BP_EXT_RAMDISK_SIZE     0x0c4   /* u32 */
#define BP_EXT_CMD_LINE_PTR     0x0c8   /* u32 */
#define BP_E820_ENTRIES         0x1e8   /* u8 */
#define BP_HDR                  0x1f1   /* the setup header starts here */
#define BP_SETUP_SECTS          0x1f1   /* u8 */
#define BP_VID_MODE             0x1fa   /* u16 */
#define BP_BOOT_FLAG            0x1fe   /* u16, 0xAA55 */
#define BP_HEADER_END_BYTE      0x201   /* u8: header length - 0x202 (jump offset) */
#define BP_HEADER_MAGIC         0x202   /* "HdrS" */
#define BP_VERSION              0x206   /* u16 */
#define BP_TYPE_OF_LOADER       0x210   /* u8 */
#define BP_LOADFLAGS            0x211   /* u8 */
#define BP_CODE32_START         0x214   /* u32 */
#define BP_RAMDISK_IMAGE        0x218   /* u32 */
#define BP_RAMDISK_SIZE         0x21c   /* u32 */
#define BP_HEAP_END_PTR         0x224   /* u16 */
#define BP_CMD_LINE_PTR         0x228   /* u32 */
#define BP_INITRD_ADDR_MAX      0x22c   /* u32 */
#define BP_KERNEL_ALIGNMENT     0x230   /* u32 */
#define BP_RELOCATABLE_KERNEL   0x234   /* u8 */
#define BP_XLOADFLAGS           0x236   /* u16 */
#define BP_CMDLINE_SIZE         0x238   /* u32 */
#define BP_PREF_ADDRESS         0x258   /* u64 */
#define BP_INIT_SIZE            0x260   /* u32 */
#define BP_E820_TABLE           0x2d0   /* 128 x 20 bytes */
#define BP_E820_MAX             128

#define BP_LOADFLAG_LOADED_HIGH   0x01
#define BP_LOADFLAG_CAN_USE_HEAP  0x80
#define BP_XLF_KERNEL_64          0x0001
#define BP_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BP_MIN_VERSION_64BIT      0x020c
