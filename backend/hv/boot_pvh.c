// SPDX-License-Identifier: GPL-2.0-or-later
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hv/boot.h"
#include "hv/layout.h"
#include "hv/pvh.h"

/* Every offset and size below comes from the file, so each is checked
 * against the file size before use, with overflow-safe arithmetic. */
static bool range_ok(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static int elf_check_header(const uint8_t *elf, size_t size, Elf64_Ehdr *eh)
{
	if (size < sizeof(*eh))
		return -ENOEXEC;
	memcpy(eh, elf, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    !range_ok(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return -ENOEXEC;
	return 0;
}

static void elf_phdr(const uint8_t *elf, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, elf + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static int pvh_scan_notes(const uint8_t *p, uint64_t len, uint64_t *entry)
{
	uint64_t off = 0;
	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ull;
		if (namesz > len - off || descsz > len - off - namesz)
			return -ENOEXEC;
		const uint8_t *name = p + off;
		const uint8_t *desc = p + off + namesz;
		if (nh.n_type == PVH_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(name, "Xen", 4) == 0 && (nh.n_descsz == 4 || nh.n_descsz == 8)) {
			uint64_t v = 0;
			memcpy(&v, desc, nh.n_descsz);
			*entry = v;
			return 0;
		}
		off += namesz + descsz;
	}
	return -ENOENT;
}

int pvh_find_entry(const uint8_t *elf, size_t size, uint64_t *entry)
{
	Elf64_Ehdr eh;
	int r = elf_check_header(elf, size, &eh);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr(elf, &eh, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (!range_ok(size, ph.p_offset, ph.p_filesz))
			return -ENOEXEC;
		r = pvh_scan_notes(elf + ph.p_offset, ph.p_filesz, entry);
		if (r == 0)
			return 0;
		if (r != -ENOENT)
			return r;
	}
	return -ENOEXEC;
}

static int pvh_load_segments(const struct guest_ram *ram, const uint8_t *elf, size_t size,
			     const Elf64_Ehdr *eh, uint64_t entry, uint64_t *image_end)
{
	uint64_t end = 0;
	bool entry_loaded = false;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr(elf, eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (!range_ok(size, ph.p_offset, ph.p_filesz) || ph.p_filesz > ph.p_memsz)
			return -ENOEXEC;
		uint8_t *dst = guest_ram_ptr(ram, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_paddr < 1 * MiB)
			return -E2BIG;
		memcpy(dst, elf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
		if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_filesz)
			entry_loaded = true;
	}
	/* An entry point outside what the image loads would run whatever RAM holds. */
	if (end == 0 || !entry_loaded)
		return -ENOEXEC;
	*image_end = end;
	return 0;
}

int boot_pvh_load(const struct guest_ram *ram, const struct boot_config *cfg,
		  struct boot_entry *entry)
{
	const uint8_t *elf = cfg->kernel.data;
	size_t size = cfg->kernel.size;
	Elf64_Ehdr eh;
	uint64_t rip, image_end;

	int r = elf_check_header(elf, size, &eh);
	if (r < 0)
		return r;
	r = pvh_find_entry(elf, size, &rip);
	if (r < 0)
		return r;
	/* The entry runs in 32-bit mode without paging. */
	if (rip >= 4 * GiB)
		return -ENOEXEC;
	r = pvh_load_segments(ram, elf, size, &eh, rip, &image_end);
	if (r < 0)
		return r;

	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	if (cmdline_len >= LAYOUT_CMDLINE_MAX)
		return -E2BIG;
	r = guest_ram_write(ram, LAYOUT_CMDLINE, cmdline, cmdline_len + 1);
	if (r < 0)
		return r;

	struct pvh_start_info si = {
		.magic = PVH_START_MAGIC,
		.version = 1,
		.cmdline_paddr = LAYOUT_CMDLINE,
		.rsdp_paddr = cfg->rsdp_gpa,
		.memmap_paddr = LAYOUT_PVH_MEMMAP,
	};

	if (cfg->initrd.size) {
		uint64_t gpa;
		/* Linux's PVH path maps only low memory early; stay below 4 GiB. */
		r = boot_place_initrd(ram, cfg->initrd.size, image_end, 4 * GiB, &gpa);
		if (r < 0)
			return r;
		r = guest_ram_write(ram, gpa, cfg->initrd.data, cfg->initrd.size);
		if (r < 0)
			return r;
		struct pvh_modlist_entry mod = { .paddr = gpa, .size = cfg->initrd.size };
		r = guest_ram_write(ram, LAYOUT_PVH_MODLIST, &mod, sizeof(mod));
		if (r < 0)
			return r;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST;
	}

	const struct e820_map *map = cfg->e820;
	struct pvh_memmap_entry mm[E820_MAX_ENTRIES];
	for (unsigned i = 0; i < map->count; i++)
		mm[i] = (struct pvh_memmap_entry){ .addr = map->entries[i].addr,
			.size = map->entries[i].size, .type = map->entries[i].type };
	_Static_assert(LAYOUT_PVH_MEMMAP + sizeof(mm) <= LAYOUT_PVH_MODLIST, "memmap overlaps modlist");
	r = guest_ram_write(ram, LAYOUT_PVH_MEMMAP, mm, map->count * sizeof(mm[0]));
	if (r < 0)
		return r;
	si.memmap_entries = map->count;
	r = guest_ram_write(ram, LAYOUT_PVH_START_INFO, &si, sizeof(si));
	if (r < 0)
		return r;
	r = boot_write_gdt(ram, BOOT_MODE_PVH32);
	if (r < 0)
		return r;

	*entry = (struct boot_entry){ .mode = BOOT_MODE_PVH32, .rip = rip, .arg = LAYOUT_PVH_START_INFO };
	return 0;
}
