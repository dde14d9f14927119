// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <gio/gio.h>

#include "emul/hyperv_video_pci.h"
#include "hv/layout.h"
#include "screenshot.h"
#include "vmbus_devices.h"
#include "vsp/ic_heartbeat.h"
#include "vsp/ic_kvp.h"
#include "vsp/ic_kvp_msg.h"
#include "vsp/ic_shutdown.h"
#include "vsp/ic_timesync.h"
#include "vsp/synthvid.h"
#include "vsp/vsp.h"
#include "vmbus_input.h"

struct vmbus_devices {
	struct partition *p;
	struct display *display;
	struct vsp_bus *bus;
	struct ic_heartbeat *heartbeat;
	struct ic_shutdown *shutdown;
	struct ic_timesync *timesync;
	struct ic_kvp *kvp;
	struct synthvid *video;
	struct hyperv_video_pci *video_pci;
	struct screenshot *screenshot;
	struct synth_kbd *kbd;
	struct synth_mouse *mouse;
};

/* Instance ids: any unique value works; fixed ones keep the guest's sysfs
 * names stable from boot to boot. */
#define INSTANCE(n) VMBUS_GUID_INIT(0x7669726f, 0x0001, 0x4000 | (n), 0x80, 0x00, 0, 0, 0, 0, 0, (n))

static int vd_signal_guest(void *opaque, unsigned vp, uint32_t relid)
{
	return partition_signal_guest(opaque, vp, relid);
}

static int vd_watch(void *opaque, uint32_t conn_id, int fd)
{
	return partition_watch_signal(opaque, conn_id, fd);
}

static void vd_unwatch(void *opaque, uint32_t conn_id, int fd)
{
	partition_unwatch_signal(opaque, conn_id, fd);
}

static uint64_t vd_reference_time(void *opaque)
{
	struct partition *p = opaque;
	return hyperv_reference_time(p->hv);
}

static void vd_trace_packet(void *opaque, const char *device, uint32_t relid, bool from_guest,
			    const void *data, size_t len)
{
	g_autofree char *what = g_strdup_printf("%s %s relid=%u", from_guest ? "packet" : "send", device, relid);
	partition_trace(opaque, what, data, len);
}

static int vd_map_vram(void *opaque, uint64_t gpa, int memfd, uint64_t size)
{
	return partition_map_memfd(opaque, gpa, memfd, 0, size);
}

static void vd_unmap_vram(void *opaque, uint64_t gpa, uint64_t size)
{
	(void)partition_unmap_memfd(opaque, gpa);
}

struct vmbus_devices *vmbus_devices_create(struct partition *p, struct display *display,
					   const struct vmbus_devices_config *cfg, GError **error)
{
	static const struct vmbus_devices_config defaults = { 0 };
	if (!cfg)
		cfg = &defaults;
	struct vmbus_devices *d = g_new0(struct vmbus_devices, 1);
	d->p = p;
	d->display = display;
	d->video_pci = cfg->video_pci;
	struct vsp_bus_host host = {
		.server = p->vmbus,
		.ram = &p->ram,
		.signal_guest = vd_signal_guest,
		.watch_signal = vd_watch,
		.unwatch_signal = vd_unwatch,
		.reference_time = vd_reference_time,
		.trace_packet = p->vmbus_trace ? vd_trace_packet : NULL,
		.opaque = p,
	};
	d->bus = vsp_bus_new(&host);
	if (!d->bus) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "starting the VMBus device thread: %s",
			    g_strerror(errno));
		g_free(d);
		return NULL;
	}
	partition_set_vmbus_devices(p, &vsp_bus_server_ops, d->bus);
	struct vmbus_guid i1 = INSTANCE(1), i2 = INSTANCE(2), i3 = INSTANCE(3), i4 = INSTANCE(4);
	struct vmbus_guid i_video = INSTANCE(5);
	struct synthvid_config vcfg = {
		.width = cfg->video_width, .height = cfg->video_height, .vram_mb = cfg->video_vram_mb,
		.window_start = LAYOUT_VMBUS_MMIO_START, .window_end = LAYOUT_VMBUS_MMIO_END,
		.ram = &p->ram, .display = display,
		.host = { vd_map_vram, vd_unmap_vram, p },
	};
	const char *what = NULL;
	if (!(d->heartbeat = ic_heartbeat_add(d->bus, &i1)))
		what = "heartbeat";
	else if (!(d->shutdown = ic_shutdown_add(d->bus, &i2)))
		what = "shutdown";
	else if (!(d->timesync = ic_timesync_add(d->bus, &i3)))
		what = "time sync";
	else if (!(d->kvp = ic_kvp_add(d->bus, &i4)))
		what = "KVP";
	else if (!(d->video = synthvid_add(d->bus, &i_video, &vcfg)))
		what = "synthetic video";
	else if (!(d->kbd = synth_kbd_add(d->bus, &INSTANCE(6))))
		what = "synthetic keyboard";
	else if (!(d->mouse = synth_mouse_add(d->bus, &INSTANCE(7))))
		what = "synthetic mouse";
	if (what) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "offering the %s service on VMBus: %s",
			    what, g_strerror(e));
		/* Nothing ran yet: no vCPU, so the server calls nothing back. */
		vmbus_devices_stop(d);
		partition_set_vmbus_devices(p, NULL, NULL);
		vmbus_devices_free(d);
		return NULL;
	}
	d->screenshot = screenshot_new(display);
	return d;
}

void vmbus_devices_stop(struct vmbus_devices *d)
{
	if (d)
		vsp_bus_stop(d->bus);
}

void vmbus_devices_free(struct vmbus_devices *d)
{
	if (!d)
		return;
	vsp_bus_free(d->bus);
	ic_heartbeat_free(d->heartbeat);
	ic_shutdown_free(d->shutdown);
	ic_timesync_free(d->timesync);
	ic_kvp_free(d->kvp);
	synthvid_free(d->video);
	screenshot_free(d->screenshot);
	synth_kbd_free(d->kbd);
	synth_mouse_free(d->mouse);
	g_free(d);
}

int vmbus_devices_key(struct vmbus_devices *d, uint16_t evdev, bool down)
{
	return synth_kbd_key(d->kbd, evdev, down);
}

int vmbus_devices_pointer_abs(struct vmbus_devices *d, uint16_t x, uint16_t y, uint32_t buttons, int32_t wheel,
			      int32_t hwheel)
{
	return synth_mouse_report(d->mouse, x, y, buttons, wheel, hwheel);
}

void vmbus_devices_release_keys(struct vmbus_devices *d)
{
	/* Nothing held, or no keyboard to tell: nothing to release either way. */
	(void)synth_kbd_release_all(d->kbd);
}

static char *vd_heartbeat(struct vmbus_devices *d)
{
	struct ic_heartbeat_state st;
	ic_heartbeat_get(d->heartbeat, &st);
	return g_strdup_printf("ok state=%s alive=%s beats=%" PRIu64 " seq=%" PRIu64 " age_ms=%" PRId64
			       " bad=%" PRIu64,
			       ic_state_name(st.state), st.alive ? "yes" : "no", st.beats, st.seq,
			       st.age_ms == UINT64_MAX ? (int64_t)-1 : (int64_t)st.age_ms, st.bad);
}

static char *vd_shutdown(struct vmbus_devices *d, const char *arg)
{
	enum ic_shutdown_kind kind;
	if (!arg || !*arg || g_str_equal(arg, "poweroff"))
		kind = IC_SHUTDOWN_POWEROFF;
	else if (g_str_equal(arg, "reboot"))
		kind = IC_SHUTDOWN_REBOOT;
	else
		return g_strdup("error usage: shutdown [poweroff|reboot]");
	int r = ic_shutdown_request(d->shutdown, kind, "The host asked this VM to shut down.");
	if (r == -ENOTCONN)
		return g_strdup("error the guest's shutdown service is not running (no hv_utils, or still booting)");
	if (r < 0)
		return g_strdup_printf("error sending the shutdown request: %s", g_strerror(-r));
	return g_strdup("ok sent");
}

static char *vd_timesync(struct vmbus_devices *d)
{
	struct ic_timesync_state st;
	ic_timesync_get(d->timesync, &st);
	return g_strdup_printf("ok state=%s syncs=%" PRIu64 " samples=%" PRIu64 " answers=%" PRIu64
			       " bad=%" PRIu64,
			       ic_state_name(st.state), st.syncs, st.samples, st.answers, st.bad);
}

/* One line: every device with its channel and signal counters. */
static char *vd_vmbus(struct vmbus_devices *d)
{
	static const char *const names[] = { "heartbeat", "shutdown", "timesync", "kvp", "video",
					     "keyboard", "mouse" };
	struct vmbus_server_state ss;
	vmbus_server_get_state(d->p->vmbus, &ss);
	GString *s = g_string_new(NULL);
	g_string_printf(s, "ok connected=%s version=%u.%u channels=%u open=%u exits_signal=%" PRIu64,
			ss.connected ? "yes" : "no", ss.version >> 16, ss.version & 0xffff, ss.channels,
			ss.open_channels, (uint64_t)atomic_load(&d->p->exits_signal));
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		struct vsp_device *dev = vsp_bus_find(d->bus, names[i]);
		if (!dev)
			continue;
		struct vsp_device_stats st;
		vsp_device_get_stats(dev, &st);
		g_string_append_printf(s, " %s:relid=%u,open=%d,in=%" PRIu64 ",out=%" PRIu64
				       ",sig_kernel=%" PRIu64 ",sig_exit=%" PRIu64 ",sig_out=%" PRIu64
				       ",bad=%" PRIu64 ",fast=%d",
				       names[i], st.relid, st.open, st.packets_in, st.packets_out,
				       st.signals_kernel, st.signals_exit, st.signals_out, st.bad_packets,
				       st.signal_in_kernel);
	}
	return g_string_free(s, FALSE);
}

/* Guest text on one reply line: control characters and backslashes escaped. */
static void vd_append_escaped(GString *s, const char *text, bool quote)
{
	for (const char *c = text; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u == '\\' || (quote && u == '"'))
			g_string_append_printf(s, "\\%c", u);
		else if (u < 0x20 || u == 0x7f)
			g_string_append_printf(s, "\\x%02x", u);
		else
			g_string_append_c(s, (char)u);
	}
}

static char *vd_kvp_error(int r, const char *key)
{
	switch (r) {
	case -EAGAIN:
		return g_strdup("error the guest has not answered KVP yet (no hv_kvp_daemon, or still booting)");
	case -ENOENT:
		return g_strdup_printf("error the guest reported no \"%.64s\"", key);
	case -ENOTCONN:
		return g_strdup("error the guest's KVP service is not running (no hv_utils or hv_kvp_daemon, or still booting)");
	case -EINVAL:
		return g_strdup("error KVP takes a key of 1 to 255 characters (511 bytes of UTF-8) and a value of up to 1023 characters (2047 bytes)");
	case -ENOBUFS:
		return g_strdup("error too many KVP writes wait for the guest already");
	}
	return g_strdup_printf("error KVP: %s", g_strerror(-r));
}

/* kvp | kvp get KEY | kvp set KEY VALUE... | kvp delete KEY | kvp list */
static char *vd_kvp(struct vmbus_devices *d, const char *args)
{
	if (!args) {
		struct ic_kvp_state st;
		ic_kvp_get_state(d->kvp, &st);
		return g_strdup_printf("ok state=%s requests=%" PRIu64 " answers=%" PRIu64 " sweeps=%" PRIu64
				       " entries=%" PRIu64 " sets_done=%" PRIu64 " failed=%" PRIu64
				       " timeouts=%" PRIu64 " queued=%" PRIu64 " bad=%" PRIu64,
				       ic_state_name(st.state), st.requests, st.answers, st.sweeps, st.entries,
				       st.sets_done, st.failed, st.timeouts, st.queued, st.bad);
	}
	g_auto(GStrv) w = g_strsplit(args, " ", 3);
	guint n = g_strv_length(w);
	if (g_str_equal(w[0], "list") && n == 1) {
		g_auto(GStrv) all = ic_kvp_list(d->kvp);
		GString *s = g_string_new("ok");
		for (char **e = all; e[0] && e[1]; e += 2) {
			g_string_append_c(s, ' ');
			vd_append_escaped(s, e[0], false);
			g_string_append(s, "=\"");
			vd_append_escaped(s, e[1], true);
			g_string_append_c(s, '"');
		}
		return g_string_free(s, FALSE);
	}
	if (g_str_equal(w[0], "get") && n == 2) {
		char value[KVP_VALUE_UTF8_MAX];
		int r = ic_kvp_get(d->kvp, w[1], value, sizeof(value));
		if (r < 0)
			return vd_kvp_error(r, w[1]);
		GString *s = g_string_new("ok ");
		vd_append_escaped(s, value, false);
		return g_string_free(s, FALSE);
	}
	if (g_str_equal(w[0], "set") && n == 3) {
		int r = ic_kvp_set(d->kvp, w[1], w[2]);
		return r < 0 ? vd_kvp_error(r, w[1]) : g_strdup("ok queued");
	}
	if (g_str_equal(w[0], "delete") && n == 2) {
		int r = ic_kvp_delete(d->kvp, w[1]);
		return r < 0 ? vd_kvp_error(r, w[1]) : g_strdup("ok queued");
	}
	return g_strdup("error usage: kvp [get KEY | set KEY VALUE | delete KEY | list]");
}

/* One line: the synthetic video device's state and counters. */
static char *vd_video(struct vmbus_devices *d)
{
	struct synthvid_state st;
	synthvid_get_state(d->video, &st);
	GString *s = g_string_new(NULL);
	g_string_printf(s, "ok state=%s", synthvid_phase_name(st.phase));
	if (st.version)
		g_string_append_printf(s, " version=%u.%u", SYNTHVID_VERSION_MAJOR(st.version),
				       SYNTHVID_VERSION_MINOR(st.version));
	else
		g_string_append(s, " version=none");
	g_string_append_printf(s, " resolution=%ux%u vram_mb=%u vram=%s vram_gpa=0x%" PRIx64, st.width, st.height,
			       st.vram_mb, synthvid_vram_kind_name(st.vram_kind), st.vram_gpa);
	if (d->video_pci) {
		bool on;
		uint64_t bar0 = hyperv_video_pci_bar0(d->video_pci, &on);
		g_string_append_printf(s, " bar0=0x%" PRIx64 ",%s", bar0, on ? "on" : "off");
	}
	if (st.phase == SYNTHVID_RUNNING)
		g_string_append_printf(s, " surface=%ux%u stride=%u", st.surface_width, st.surface_height,
				       st.surface_stride);
	else
		g_string_append(s, " surface=none");
	g_string_append_printf(s, " last_dirt=%u,%u,%u,%u opens=%" PRIu64 " situations=%" PRIu64 " dirt=%" PRIu64
			       " dirt_rects=%" PRIu64 " pointer=%" PRIu64 " shapes=%" PRIu64
			       " vram_refused=%" PRIu64 " unsupported=%" PRIu64 " tx_dropped=%" PRIu64
			       " bad=%" PRIu64,
			       st.last_dirt.x, st.last_dirt.y, st.last_dirt.w, st.last_dirt.h, st.opens, st.situations,
			       st.dirt, st.dirt_rects, st.pointer, st.shapes, st.vram_refused, st.unsupported,
			       st.tx_dropped, st.bad);
	return g_string_free(s, FALSE);
}

/* screenshot PATH: the picture the display has now, as a PNG. */
static char *vd_screenshot(struct vmbus_devices *d, const char *path)
{
	if (!path || !*path)
		return g_strdup("error usage: screenshot PATH");
	uint32_t w = 0, h = 0;
	int r = screenshot_save(d->screenshot, path, &w, &h);
	if (r == -ENODATA)
		return g_strdup("error no picture yet: the guest's video driver has not set a mode");
	if (r < 0)
		return g_strdup_printf("error writing %s: %s", path, g_strerror(-r));
	return g_strdup_printf("ok %ux%u %s", w, h, path);
}

char *vmbus_devices_control(struct vmbus_devices *d, const char *command)
{
	const char *sp = strchr(command, ' ');
	g_autofree char *verb = sp ? g_strndup(command, (gsize)(sp - command)) : g_strdup(command);
	const char *args = sp ? sp + 1 : NULL;
	if (g_str_equal(verb, "heartbeat") && !args)
		return vd_heartbeat(d);
	if (g_str_equal(verb, "shutdown"))
		return vd_shutdown(d, args);
	if (g_str_equal(verb, "timesync") && !args)
		return vd_timesync(d);
	if (g_str_equal(verb, "kvp"))
		return vd_kvp(d, args);
	if (g_str_equal(verb, "vmbus") && !args)
		return vd_vmbus(d);
	if (g_str_equal(verb, "video") && !args)
		return vd_video(d);
	if (g_str_equal(verb, "screenshot"))
		return vd_screenshot(d, args);
	return vmbus_input_control(d->kbd, d->mouse, command);
}

void vmbus_devices_freeze(struct vmbus_devices *d)
{
	vsp_bus_freeze(d->bus);
}

void vmbus_devices_thaw(struct vmbus_devices *d)
{
	vsp_bus_thaw(d->bus);
}

GVariant *vmbus_devices_save(struct vmbus_devices *d)
{
	return vsp_bus_save(d->bus);
}

int vmbus_devices_restore(struct vmbus_devices *d, GVariant *v, GError **error)
{
	return vsp_bus_restore(d->bus, v, error);
}

struct synthvid *vmbus_devices_video(struct vmbus_devices *d)
{
	return d->video;
}
