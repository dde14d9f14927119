// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hv/kvm_state.h"
#include "hv/ram_image.h"
#include "hv/saved_state.h"
#include "machine_state.h"
#include "vsp/synthvid.h"
#include "vsp/vsp.h"

static uint32_t ms_video_width(const struct machine_config *cfg)
{
	return cfg->video_width ? cfg->video_width : SYNTHVID_DEFAULT_WIDTH;
}

static uint32_t ms_video_height(const struct machine_config *cfg)
{
	return cfg->video_height ? cfg->video_height : SYNTHVID_DEFAULT_HEIGHT;
}

static uint32_t ms_vram_mb(const struct machine_config *cfg)
{
	return cfg->video_vram_mb ? cfg->video_vram_mb : SYNTHVID_VRAM_MB_DEFAULT;
}

static int ms_fail_errno(GError **error, int e, const char *fmt, const char *arg)
{
	g_autofree char *what = g_strdup_printf(fmt, arg);
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
	return -e;
}

/* dir made, or an empty folder already there. */
static int ms_make_dir(const char *dir, bool *made, GError **error)
{
	*made = false;
	if (mkdir(dir, 0700) == 0) {
		*made = true;
		return 0;
	}
	if (errno != EEXIST)
		return ms_fail_errno(error, errno, "creating %s", dir);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	if (!d) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists and is not a folder", dir);
		return -EEXIST;
	}
	if (g_dir_read_name(d)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists and is not empty", dir);
		return -ENOTEMPTY;
	}
	return 0;
}

static int ms_write_image(const char *dir, const char *name, const uint8_t *mem, uint64_t size, int memfd,
			  uint64_t *data, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ms_fail_errno(error, errno, "creating %s", path);
	struct ram_image_stats st;
	int r = ram_image_write(fd, mem, size, memfd, &st);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return ms_fail_errno(error, -r, "writing %s", path);
	*data += st.data_bytes;
	return 0;
}

static GVariant *ms_config(const struct machine_config *cfg)
{
	return g_variant_new(MACHINE_STATE_CONFIG_TYPE, (guint64)cfg->memory, cfg->ncpus, (guint32)cfg->hv,
			     ms_video_width(cfg), ms_video_height(cfg), ms_vram_mb(cfg));
}

/* Every component, the bus frozen and the vCPUs parked. */
static GVariant *ms_components(struct machine *m, const struct machine_config *cfg, GError **error)
{
	struct partition *p = m->p;
	GVariant *kvm = NULL;
	if (partition_save(p, &kvm, error) < 0)
		return NULL;
	GVariantBuilder b;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "config", ms_config(cfg));
	g_variant_builder_add(&b, "{sv}", "kvm", kvm);
	g_variant_unref(kvm);
	g_variant_builder_add(&b, "{sv}", "uart", uart8250_save(m->uart));
	g_variant_builder_add(&b, "{sv}", "rtc", cmos_rtc_save(m->keep->rtc));
	g_variant_builder_add(&b, "{sv}", "i8042", i8042_save(m->kbc));
	g_variant_builder_add(&b, "{sv}", "acpi-pm", acpi_pm_save(m->pm));
	g_variant_builder_add(&b, "{sv}", "pci", pci_bus_save(&m->pci));
	if (p->hv) {
		g_variant_builder_add(&b, "{sv}", "hyperv", hyperv_save(p->hv));
		g_variant_builder_add(&b, "{sv}", "synic", synic_save(p->synic));
		g_variant_builder_add(&b, "{sv}", "vmbus", vmbus_server_save(p->vmbus));
	}
	if (m->vmbus)
		g_variant_builder_add(&b, "{sv}", "vsp", vmbus_devices_save(m->vmbus));
	return g_variant_ref_sink(saved_state_file_new(g_variant_builder_end(&b)));
}

static int ms_write_state(const char *dir, GVariant *file, GError **error)
{
	g_autofree char *path = g_build_filename(dir, MACHINE_STATE_FILE, NULL);
	/* The last file, and atomically: a folder with it is a whole saved state. */
	if (!g_file_set_contents_full(path, g_variant_get_data(file), (gssize)g_variant_get_size(file),
				      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error)) {
		g_prefix_error(error, "writing %s: ", path);
		return -EIO;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void ms_remove(const char *dir, bool made)
{
	static const char *const files[] = { MACHINE_STATE_FILE, MACHINE_STATE_RAM, MACHINE_STATE_VRAM };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_build_filename(dir, files[i], NULL);
		(void)g_unlink(path);
	}
	if (made)
		(void)g_rmdir(dir);
}

int machine_save(struct machine *m, const struct machine_config *cfg, const char *dir,
		 struct machine_save_stats *stats, GError **error)
{
	gint64 t0 = g_get_monotonic_time();
	bool made;
	int r = ms_make_dir(dir, &made, error);
	if (r < 0)
		return r;
	if (m->vmbus)
		vmbus_devices_freeze(m->vmbus);
	struct partition *p = m->p;
	uint64_t data = 0;
	g_autoptr(GVariant) file = ms_components(m, cfg, error);
	if (!file)
		r = -EIO;
	if (r == 0)
		r = ms_write_image(dir, MACHINE_STATE_RAM, p->ram.host, p->ram.size, p->ram.memfd, &data, error);
	if (r == 0 && m->vmbus) {
		int vfd;
		uint8_t *pixels;
		uint64_t size;
		synthvid_get_vram(vmbus_devices_video(m->vmbus), &vfd, &pixels, &size);
		r = ms_write_image(dir, MACHINE_STATE_VRAM, pixels, size, vfd, &data, error);
	}
	if (r == 0)
		r = ms_write_state(dir, file, error);
	if (r < 0) {
		ms_remove(dir, made);
		if (m->vmbus)
			vmbus_devices_thaw(m->vmbus);
		return r;
	}
	if (stats)
		*stats = (struct machine_save_stats){ .ram_bytes = p->ram.size, .data_bytes = data,
						      .ms = (uint64_t)(g_get_monotonic_time() - t0) / 1000 };
	return 0;
}

static const char *ms_interface_name(uint32_t hv)
{
	return hv == CPUID_HV_HYPERV ? "hyperv" : hv == CPUID_HV_KVM ? "kvm" : "(another)";
}

static int ms_mismatch(GError **error, const char *path, const char *what, uint64_t saved, uint64_t now,
		       const char *unit)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "saved state %s: the VM was saved with %s %" G_GUINT64_FORMAT "%s, not %" G_GUINT64_FORMAT "%s "
		    "(give the same option as when it was saved)", path, what, saved, unit, now, unit);
	return -EINVAL;
}

GVariant *machine_state_load(const char *dir, const struct machine_config *cfg, GError **error)
{
	g_autofree char *path = g_build_filename(dir, MACHINE_STATE_FILE, NULL);
	GError *e = NULL;
	g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, &e);
	if (!mf) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "saved state %s: %s", path,
			    e->code == G_FILE_ERROR_NOENT ? "no such file (not a saved VM, or its save did not finish)"
							  : e->message);
		g_error_free(e);
		return NULL;
	}
	g_autoptr(GBytes) bytes = g_mapped_file_get_bytes(mf);
	GVariant *components = NULL;
	if (saved_state_file_parse(bytes, &components, error) < 0) {
		g_prefix_error(error, "saved state %s: ", path);
		return NULL;
	}
	g_autoptr(GVariant) c = saved_state_lookup(components, "config", MACHINE_STATE_CONFIG_TYPE, error);
	if (!c) {
		g_prefix_error(error, "saved state %s: ", path);
		g_variant_unref(components);
		return NULL;
	}
	guint64 memory;
	guint32 ncpus, hv, w, h, vram;
	g_variant_get(c, MACHINE_STATE_CONFIG_TYPE, &memory, &ncpus, &hv, &w, &h, &vram);
	int r = 0;
	if (memory != cfg->memory)
		r = ms_mismatch(error, path, "--memory", memory >> 20, cfg->memory >> 20, "M");
	else if (ncpus != cfg->ncpus)
		r = ms_mismatch(error, path, "--cpus", ncpus, cfg->ncpus, "");
	else if (hv != (guint32)cfg->hv) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "saved state %s: the VM was saved with --hv-interface %s, not %s "
			    "(give the same option as when it was saved)", path, ms_interface_name(hv),
			    ms_interface_name((guint32)cfg->hv));
		r = -EINVAL;
	}
	else if (hv == CPUID_HV_HYPERV && (w != ms_video_width(cfg) || h != ms_video_height(cfg))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "saved state %s: the VM was saved with --resolution %ux%u, not %ux%u "
			    "(give the same option as when it was saved)", path, w, h, ms_video_width(cfg),
			    ms_video_height(cfg));
		r = -EINVAL;
	} else if (hv == CPUID_HV_HYPERV && vram != ms_vram_mb(cfg))
		r = ms_mismatch(error, path, "--video-memory", vram, ms_vram_mb(cfg), "");
	if (r < 0) {
		g_variant_unref(components);
		return NULL;
	}
	return components;
}

static int ms_read_image(const char *dir, const char *name, uint8_t *mem, uint64_t size, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ms_fail_errno(error, errno, "saved state %s", path);
	struct stat sb;
	int r = fstat(fd, &sb) < 0 ? -errno : ram_image_read(fd, mem, size, NULL);
	close(fd);
	if (r == -EFBIG) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "saved state %s: %" G_GINT64_FORMAT " bytes, this VM has %" G_GUINT64_FORMAT, path,
			    (gint64)sb.st_size, size);
		return r;
	}
	if (r < 0)
		return ms_fail_errno(error, -r, "saved state %s", path);
	return 0;
}

/* One component through its restore; errors name the file. */
#define MS_RESTORE(name, type, call) do { \
	g_autoptr(GVariant) v_ = saved_state_lookup(components, (name), (type), error); \
	if (!v_ || (call) < 0) { \
		g_prefix_error(error, "saved state %s: ", state_path); \
		r = -EINVAL; \
		goto out; \
	} \
} while (0)

int machine_restore(struct machine *m, const struct machine_config *cfg, GVariant *components, const char *dir,
		    GError **error)
{
	struct partition *p = m->p;
	g_autofree char *state_path = g_build_filename(dir, MACHINE_STATE_FILE, NULL);
	/* Progress in the log: a restore that stalls shows where. */
	gint64 t0 = g_get_monotonic_time();
	g_printerr("vireo-worker: VM %s: restoring from %s: reading %" G_GUINT64_FORMAT " MiB of RAM\n", cfg->name, dir,
		   (guint64)(p->ram.size >> 20));
	int r = ms_read_image(dir, MACHINE_STATE_RAM, p->ram.host, p->ram.size, error);
	if (r < 0)
		return r;
	g_printerr("vireo-worker: VM %s: RAM read in %" G_GINT64_FORMAT " ms; the devices and vCPUs next\n", cfg->name,
		   (g_get_monotonic_time() - t0) / 1000);
	if (m->vmbus) {
		int vfd;
		uint8_t *pixels;
		uint64_t size;
		synthvid_get_vram(vmbus_devices_video(m->vmbus), &vfd, &pixels, &size);
		r = ms_read_image(dir, MACHINE_STATE_VRAM, pixels, size, error);
		if (r < 0)
			return r;
		vmbus_devices_freeze(m->vmbus);
	}
	/* Devices first: the interrupt lines they raise again are then
	 * overwritten by the irqchip's own saved state, which comes last
	 * with the vCPUs, before anything may signal the guest (thaw). */
	MS_RESTORE("uart", UART8250_STATE_TYPE, uart8250_restore(m->uart, v_, error));
	MS_RESTORE("rtc", CMOS_RTC_STATE_TYPE, cmos_rtc_restore(m->keep->rtc, v_, error));
	MS_RESTORE("i8042", I8042_STATE_TYPE, i8042_restore(m->kbc, v_, error));
	MS_RESTORE("acpi-pm", ACPI_PM_STATE_TYPE, acpi_pm_restore(m->pm, v_, error));
	MS_RESTORE("pci", PCI_BUS_STATE_TYPE, pci_bus_restore(&m->pci, v_, error));
	if (p->hv) {
		MS_RESTORE("hyperv", HYPERV_STATE_TYPE, hyperv_restore(p->hv, v_, error));
		MS_RESTORE("synic", SYNIC_STATE_TYPE, synic_restore(p->synic, v_, error));
		MS_RESTORE("vmbus", VMBUS_SERVER_STATE_TYPE, vmbus_server_restore(p->vmbus, v_, error));
	}
	if (m->vmbus)
		MS_RESTORE("vsp", VSP_BUS_STATE_TYPE, vmbus_devices_restore(m->vmbus, v_, error));
	MS_RESTORE("kvm", KVM_STATE_VM_TYPE, partition_restore(p, v_, error));
	g_printerr("vireo-worker: VM %s: restored in %" G_GINT64_FORMAT " ms\n", cfg->name,
		   (g_get_monotonic_time() - t0) / 1000);
out:
	if (m->vmbus)
		vmbus_devices_thaw(m->vmbus);
	return r;
}
