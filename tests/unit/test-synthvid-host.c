// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the synthetic video needs around it: the legacy Hyper-V video PCI
 * function (config space through the real PCI bus code, BAR sizing the way
 * Linux probes it), the worker's PNG screenshots (decoded again with
 * libpng's own reader), and the partition's memslots for VRAM on the real
 * /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>

#include "emul/hyperv_video_pci.h"
#include "hv/layout.h"
#include "hv/partition.h"
#include "screenshot.h"

#define CFG(slot, reg) (0x80000000u | (slot) << 11 | (reg))

static uint32_t cfg_read(struct pci_bus *bus, unsigned reg)
{
	return pci_config_read(bus, CFG(HYPERV_VIDEO_PCI_SLOT, reg & ~3u), reg & 3u, 4 - (reg & 3u));
}

static void cfg_write(struct pci_bus *bus, unsigned reg, unsigned len, uint32_t v)
{
	pci_config_write(bus, CFG(HYPERV_VIDEO_PCI_SLOT, reg & ~3u), reg & 3u, len, v);
}

static void test_pci_config(void)
{
	struct pci_bus bus;
	pci_bus_init(&bus);
	struct hyperv_video_pci v;
	g_assert_cmpint(hyperv_video_pci_init(&v, LAYOUT_VMBUS_MMIO_START, 16u << 20), ==, 0);
	g_assert_cmpint(pci_bus_add(&bus, HYPERV_VIDEO_PCI_SLOT, &v.pci), ==, 0);

	/* What hyperv_fb's pci_get_device(0x1414, 0x5353) matches, and a VGA class. */
	g_assert_cmphex(cfg_read(&bus, 0x00), ==, 0x53531414);
	g_assert_cmphex(cfg_read(&bus, 0x08) >> 8, ==, 0x030000);
	g_assert_cmphex(cfg_read(&bus, 0x0c) >> 16 & 0xff, ==, 0);          /* header type 0 */
	g_assert_cmphex(cfg_read(&bus, 0x2c), ==, 0x53531414);              /* subsystem */
	g_assert_cmphex(cfg_read(&bus, 0x3c) >> 8 & 0xff, ==, 0);           /* no interrupt pin */
	/* BAR0: 32-bit memory, not prefetchable, where the machine put it; the others absent. */
	g_assert_cmphex(cfg_read(&bus, 0x10), ==, LAYOUT_VMBUS_MMIO_START);
	for (unsigned b = 1; b < PCI_NUM_BARS; b++)
		g_assert_cmphex(cfg_read(&bus, 0x10 + 4 * b), ==, 0);
	bool on = true;
	g_assert_cmphex(hyperv_video_pci_bar0(&v, &on), ==, LAYOUT_VMBUS_MMIO_START);
	g_assert_false(on);

	/* Sizing as Linux does it (__pci_read_base): all ones, read, restore. */
	cfg_write(&bus, 0x10, 4, 0xffffffffu);
	g_assert_cmphex(cfg_read(&bus, 0x10), ==, 0xff000000u);             /* 16 MiB */
	cfg_write(&bus, 0x14, 4, 0xffffffffu);
	g_assert_cmphex(cfg_read(&bus, 0x14), ==, 0);                       /* no BAR1 */
	cfg_write(&bus, 0x10, 4, LAYOUT_VMBUS_MMIO_START);
	g_assert_cmphex(cfg_read(&bus, 0x10), ==, LAYOUT_VMBUS_MMIO_START);
	/* The guest moves it and turns decoding on: the device hears both. */
	cfg_write(&bus, 0x10, 4, 0xf9000000u | 0xfff);
	g_assert_cmphex(cfg_read(&bus, 0x10), ==, 0xf9000000u);
	g_assert_cmphex(hyperv_video_pci_bar0(&v, &on), ==, 0xf9000000u);
	g_assert_false(on);
	cfg_write(&bus, 0x04, 2, PCI_COMMAND_MEMORY);
	g_assert_cmphex(hyperv_video_pci_bar0(&v, &on), ==, 0xf9000000u);
	g_assert_true(on);
	g_assert_cmphex(cfg_read(&bus, 0x04) & 0xffff, ==, PCI_COMMAND_MEMORY);
	/* The identity is read-only. */
	cfg_write(&bus, 0x00, 4, 0x12345678);
	cfg_write(&bus, 0x08, 4, 0xffffffff);
	g_assert_cmphex(cfg_read(&bus, 0x00), ==, 0x53531414);
	g_assert_cmphex(cfg_read(&bus, 0x08) >> 8, ==, 0x030000);
	pci_bus_destroy(&bus);

	/* BAR0 is a power of two at least as large as VRAM. */
	g_assert_cmpint(hyperv_video_pci_init(&v, LAYOUT_VMBUS_MMIO_START, 4u << 20), ==, 0);
	g_assert_cmpuint(v.bar0_size, ==, 4u << 20);
	g_assert_cmpint(hyperv_video_pci_init(&v, LAYOUT_VMBUS_MMIO_START, 5u << 20), ==, 0);
	g_assert_cmpuint(v.bar0_size, ==, 8u << 20);
	g_assert_cmpint(hyperv_video_pci_init(&v, LAYOUT_VMBUS_MMIO_START + (4u << 20), 16u << 20), ==, -EINVAL);
	g_assert_cmpint(hyperv_video_pci_init(&v, UINT64_C(0x100000000), 16u << 20), ==, -EINVAL);
	g_assert_cmpint(hyperv_video_pci_init(&v, LAYOUT_VMBUS_MMIO_START, 0), ==, -EINVAL);
}

/* A surface of w x h with a pixel pattern, in a memfd. */
struct surf {
	struct display_surface s;
	uint8_t *map;
	size_t len;
};

static void surf_make(struct surf *f, uint32_t w, uint32_t h, uint32_t stride, uint32_t seed)
{
	f->len = (size_t)stride * h;
	int fd = memfd_create("t", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)f->len), ==, 0);
	f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	g_assert_true(f->map != MAP_FAILED);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t *p = f->map + (size_t)y * stride + 4u * x;
			p[0] = (uint8_t)(x ^ y ^ seed);          /* B */
			p[1] = (uint8_t)(y * 3 + seed);          /* G */
			p[2] = (uint8_t)(x * 5);                 /* R */
			p[3] = 0xee;                             /* X: not in the picture */
		}
	f->s = (struct display_surface){ .memfd = fd, .width = w, .height = h, .stride = stride,
					 .format = DISPLAY_FORMAT_XRGB8888, .pixels = f->map };
}

static void surf_free(struct surf *f)
{
	munmap(f->map, f->len);
	close(f->s.memfd);
}

/* Decoded with libpng's simplified reader: the picture must be the surface's. */
static void assert_png_is(const char *path, const struct surf *f)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	g_assert_true(png_image_begin_read_from_file(&img, path));
	g_assert_cmpuint(img.width, ==, f->s.width);
	g_assert_cmpuint(img.height, ==, f->s.height);
	g_assert_cmphex(img.format & PNG_FORMAT_FLAG_ALPHA, ==, 0);
	img.format = PNG_FORMAT_RGB;
	g_autofree uint8_t *rgb = g_malloc(PNG_IMAGE_SIZE(img));
	g_assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (uint32_t y = 0; y < f->s.height; y++)
		for (uint32_t x = 0; x < f->s.width; x++) {
			const uint8_t *p = f->map + (size_t)y * f->s.stride + 4u * x;
			const uint8_t *q = rgb + ((size_t)y * f->s.width + x) * 3u;
			if (q[0] != p[2] || q[1] != p[1] || q[2] != p[0])
				g_error("%s: pixel %u,%u is %02x%02x%02x, the surface has %02x%02x%02x", path, x, y, q[0],
					q[1], q[2], p[2], p[1], p[0]);
		}
	png_image_free(&img);
}

static unsigned dir_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	unsigned n = 0;
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static void test_screenshot_png(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-shot-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "shot.png", NULL);
	struct surf f;
	/* An odd size and a stride wider than the row. */
	surf_make(&f, 37, 23, 37 * 4 + 52, 9);
	g_assert_cmpint(screenshot_write_png(&f.s, path), ==, 0);
	assert_png_is(path, &f);
	g_assert_cmpuint(dir_entries(dir), ==, 1);        /* no temporary file left */
	/* An existing file is replaced whole. */
	surf_free(&f);
	surf_make(&f, 64, 2, 256, 200);
	g_assert_cmpint(screenshot_write_png(&f.s, path), ==, 0);
	assert_png_is(path, &f);
	g_assert_cmpuint(dir_entries(dir), ==, 1);

	g_autofree char *nodir = g_build_filename(dir, "missing", "shot.png", NULL);
	g_assert_cmpint(screenshot_write_png(&f.s, nodir), ==, -ENOENT);
	g_assert_cmpint(screenshot_write_png(&f.s, ""), ==, -EINVAL);
	g_assert_cmpint(screenshot_write_png(&f.s, NULL), ==, -EINVAL);
	struct display_surface bad = f.s;
	bad.stride = 4;
	g_assert_cmpint(screenshot_write_png(&bad, path), ==, -EINVAL);
	bad = f.s;
	bad.pixels = NULL;
	g_assert_cmpint(screenshot_write_png(&bad, path), ==, -EINVAL);
	/* A directory where the file should be: nothing half-written stays. */
	g_autofree char *isdir = g_build_filename(dir, "adir", NULL);
	g_assert_cmpint(g_mkdir(isdir, 0755), ==, 0);
	g_assert_cmpint(screenshot_write_png(&f.s, isdir), <, 0);
	g_assert_cmpuint(dir_entries(dir), ==, 2);
	g_assert_cmpint(g_rmdir(isdir), ==, 0);
	assert_png_is(path, &f);
	surf_free(&f);
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void iterate(GMainContext *ctx)
{
	while (g_main_context_iteration(ctx, FALSE))
		;
}

static void test_screenshot_sink(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-shot-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s.png", NULL);
	GMainContext *ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	struct display *d = display_new(ctx);
	struct screenshot *shot = screenshot_new(d);
	uint32_t w = 1, h = 1;
	g_assert_cmpint(screenshot_save(shot, path, &w, &h), ==, -ENODATA);
	g_assert_cmpuint(w, ==, 1);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	struct surf f;
	surf_make(&f, 320, 200, 1280, 3);
	g_assert_cmpint(display_set_surface(d, &f.s), ==, 0);
	iterate(ctx);
	g_assert_cmpint(screenshot_save(shot, path, &w, &h), ==, 0);
	g_assert_cmpuint(w, ==, 320);
	g_assert_cmpuint(h, ==, 200);
	assert_png_is(path, &f);
	/* The guest draws on: the next picture shows it (the sink reads the shared pixels). */
	f.map[0] = 0x11;
	f.map[1] = 0x22;
	f.map[2] = 0x33;
	g_assert_cmpint(screenshot_save(shot, path, &w, &h), ==, 0);
	assert_png_is(path, &f);

	/* A sink added later hears of the current surface at once. */
	struct screenshot *late = screenshot_new(d);
	g_assert_cmpint(screenshot_save(late, path, &w, &h), ==, 0);
	screenshot_free(late);

	g_assert_cmpint(display_set_surface(d, NULL), ==, 0);
	iterate(ctx);
	g_assert_cmpint(screenshot_save(shot, path, &w, &h), ==, -ENODATA);
	screenshot_free(shot);
	display_free(d);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	surf_free(&f);
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_memslots(void)
{
	int kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kfd < 0) {
		g_test_skip("NO /dev/kvm HERE: the VRAM memslot is covered by the real-guest video tests instead");
		return;
	}
	close(kfd);
	struct partition_config cfg = { .memory = 128 * MiB, .ncpus = 1, .hv = CPUID_HV_KVM, .name = "t" };
	struct partition *p = NULL;
	struct partition_error err = { 0 };
	int r = partition_create(&cfg, &p, &err);
	if (r < 0)
		g_error("partition_create failed at %s: %s", err.step, g_strerror(-r));
	int fd = memfd_create("vram", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 16 << 20), ==, 0);
	const uint64_t win = LAYOUT_VMBUS_MMIO_START;

	/* RAM, misalignment, empty, wrapping, beyond the guest's reach. */
	g_assert_cmpint(partition_map_memfd(p, 0, fd, 0, 4096), ==, -EEXIST);
	g_assert_cmpint(partition_map_memfd(p, 128 * MiB - 4096, fd, 0, 8192), ==, -EEXIST);
	g_assert_cmpint(partition_map_memfd(p, win + 1, fd, 0, 4096), ==, -EINVAL);
	g_assert_cmpint(partition_map_memfd(p, win, fd, 1, 4096), ==, -EINVAL);
	g_assert_cmpint(partition_map_memfd(p, win, fd, 0, 4095), ==, -EINVAL);
	g_assert_cmpint(partition_map_memfd(p, win, fd, 0, 0), ==, -EINVAL);
	g_assert_cmpint(partition_map_memfd(p, 0xfffffffffffff000ull, fd, 0, 8192), ==, -EINVAL);
	g_assert_cmpint(partition_map_memfd(p, PARTITION_GPA_LIMIT - 4096, fd, 0, 8192), ==, -EINVAL);
	g_assert_cmpint(partition_unmap_memfd(p, win), ==, -ENOENT);

	/* VRAM in the window, then nothing that overlaps it. */
	g_assert_cmpint(partition_map_memfd(p, win, fd, 0, 16 << 20), ==, 0);
	g_assert_cmpint(partition_map_memfd(p, win + (8 << 20), fd, 0, 16 << 20), ==, -EEXIST);
	g_assert_cmpint(partition_map_memfd(p, win - 4096, fd, 0, 8192), ==, -EEXIST);
	g_assert_cmpint(partition_unmap_memfd(p, win + 4096), ==, -ENOENT);
	/* Neighbours are fine, up to the slot limit. */
	for (unsigned i = 1; i < PARTITION_EXTRA_SLOTS; i++)
		g_assert_cmpint(partition_map_memfd(p, win + (16 << 20) + (uint64_t)i * 4096, fd, 0, 4096), ==, 0);
	g_assert_cmpint(partition_map_memfd(p, win + (32 << 20), fd, 0, 4096), ==, -ENOSPC);
	/* Moving VRAM: unmap, then the old place is free again. */
	g_assert_cmpint(partition_unmap_memfd(p, win), ==, 0);
	g_assert_cmpint(partition_unmap_memfd(p, win), ==, -ENOENT);
	g_assert_cmpint(partition_map_memfd(p, win + (4 << 20), fd, 0, 8 << 20), ==, 0);
	g_assert_cmpint(partition_unmap_memfd(p, win + (4 << 20)), ==, 0);
	g_assert_cmpint(partition_map_memfd(p, win, fd, 0, 16 << 20), ==, 0);
	/* The partition takes its own mapping: the caller's fd may go. */
	close(fd);
	/* Destroyed with slots still mapped: partition_destroy cleans up. */
	partition_destroy(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/synthvid-host/pci-config", test_pci_config);
	g_test_add_func("/synthvid-host/screenshot-png", test_screenshot_png);
	g_test_add_func("/synthvid-host/screenshot-sink", test_screenshot_sink);
	g_test_add_func("/synthvid-host/memslots", test_memslots);
	return g_test_run();
}
