// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VNC export (backend/worker/vnc.c) read by a real VNC client,
 * libvncclient, in a thread of the test: the exact pixels of the display's
 * surface after connect, after damage and after a resize, over raw and
 * ZRLE; keys (keysyms through the XKB table) and pointer back to the input
 * sink; password authentication; the address rules; a unix socket. The
 * keysym table on its own: letters, digits, punctuation, function and
 * keypad keys, modifiers, multimedia keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <rfb/keysym.h>
#include <rfb/rfbclient.h>

#include "keysym_evdev.h"
#include "vnc.h"

#define WAIT_LIMIT_US (10 * G_USEC_PER_SEC)   /* hang guard only */

/* evdev codes (linux/input-event-codes.h), written out here. */
enum {
	EV_KEY_ESC = 1, EV_KEY_1 = 2, EV_KEY_MINUS = 12, EV_KEY_BACKSPACE = 14, EV_KEY_TAB = 15, EV_KEY_Q = 16,
	EV_KEY_Y = 21, EV_KEY_ENTER = 28, EV_KEY_LEFTCTRL = 29, EV_KEY_A = 30, EV_KEY_APOSTROPHE = 40,
	EV_KEY_GRAVE = 41, EV_KEY_LEFTSHIFT = 42, EV_KEY_BACKSLASH = 43, EV_KEY_Z = 44, EV_KEY_COMMA = 51,
	EV_KEY_DOT = 52, EV_KEY_SLASH = 53, EV_KEY_KPASTERISK = 55, EV_KEY_SPACE = 57, EV_KEY_CAPSLOCK = 58,
	EV_KEY_F1 = 59, EV_KEY_NUMLOCK = 69, EV_KEY_KP1 = 79, EV_KEY_KPDOT = 83, EV_KEY_F12 = 88,
	EV_KEY_KPENTER = 96, EV_KEY_RIGHTCTRL = 97, EV_KEY_SYSRQ = 99, EV_KEY_RIGHTALT = 100, EV_KEY_HOME = 102,
	EV_KEY_UP = 103, EV_KEY_DELETE = 111, EV_KEY_MUTE = 113, EV_KEY_VOLUMEUP = 115, EV_KEY_PAUSE = 119,
	EV_KEY_LEFTMETA = 125, EV_KEY_COMPOSE = 127, EV_KEY_PLAYPAUSE = 164,
};

static void test_keysyms(void)
{
	struct keysym_map *m = keysym_map_new(NULL, NULL);
	g_assert_nonnull(m);
	g_assert_cmpuint(keysym_map_size(m), >, 300);
	struct {
		uint32_t keysym;
		int code;
	} want[] = {
		{ XK_a, EV_KEY_A }, { XK_A, EV_KEY_A }, { XK_z, EV_KEY_Z }, { XK_1, EV_KEY_1 },
		{ XK_exclam, EV_KEY_1 }, { XK_minus, EV_KEY_MINUS }, { XK_underscore, EV_KEY_MINUS },
		{ XK_apostrophe, EV_KEY_APOSTROPHE }, { XK_quotedbl, EV_KEY_APOSTROPHE }, { XK_grave, EV_KEY_GRAVE },
		{ XK_asciitilde, EV_KEY_GRAVE }, { XK_backslash, EV_KEY_BACKSLASH }, { XK_bar, EV_KEY_BACKSLASH },
		/* The US key, not the extra ISO key (KEY_102ND) that also has them. */
		{ XK_less, EV_KEY_COMMA }, { XK_greater, EV_KEY_DOT }, { XK_question, EV_KEY_SLASH },
		{ XK_space, EV_KEY_SPACE }, { XK_Return, EV_KEY_ENTER }, { XK_BackSpace, EV_KEY_BACKSPACE },
		{ XK_Tab, EV_KEY_TAB }, { XK_ISO_Left_Tab, EV_KEY_TAB }, { XK_Escape, EV_KEY_ESC },
		{ XK_F1, EV_KEY_F1 }, { XK_F12, EV_KEY_F12 }, { XK_KP_Enter, EV_KEY_KPENTER },
		{ XK_KP_1, EV_KEY_KP1 }, { XK_KP_End, EV_KEY_KP1 }, { XK_KP_Decimal, EV_KEY_KPDOT },
		{ XK_KP_Multiply, EV_KEY_KPASTERISK }, { XK_Num_Lock, EV_KEY_NUMLOCK }, { XK_Caps_Lock, EV_KEY_CAPSLOCK },
		{ XK_Shift_L, EV_KEY_LEFTSHIFT }, { XK_Control_L, EV_KEY_LEFTCTRL }, { XK_Control_R, EV_KEY_RIGHTCTRL },
		{ XK_Alt_R, EV_KEY_RIGHTALT }, { XK_Super_L, EV_KEY_LEFTMETA }, { XK_Menu, EV_KEY_COMPOSE },
		{ XK_Home, EV_KEY_HOME }, { XK_Up, EV_KEY_UP }, { XK_Delete, EV_KEY_DELETE }, { XK_Print, EV_KEY_SYSRQ },
		{ XK_Pause, EV_KEY_PAUSE },
		{ 0x1008ff12 /* XF86AudioMute */, EV_KEY_MUTE }, { 0x1008ff13 /* XF86AudioRaiseVolume */, EV_KEY_VOLUMEUP },
		{ 0x1008ff14 /* XF86AudioPlay */, EV_KEY_PLAYPAUSE },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (keysym_map_lookup(m, want[i].keysym) != want[i].code)
			g_error("keysym 0x%x maps to %d, not %d", want[i].keysym, keysym_map_lookup(m, want[i].keysym),
				want[i].code);
	/* Not on a US keyboard; not a keysym at all. */
	g_assert_cmpint(keysym_map_lookup(m, XK_eacute), ==, -ENOENT);
	g_assert_cmpint(keysym_map_lookup(m, 0), ==, -ENOENT);
	g_assert_cmpint(keysym_map_lookup(m, 0xffffffff), ==, -ENOENT);
	/* The built-in default is what XKB makes of "us" here and now. */
	struct keysym_map *xkb_us = keysym_map_new("us", NULL);
	g_assert_nonnull(xkb_us);
	g_assert_true(keysym_map_equal(m, xkb_us));
	keysym_map_free(xkb_us);
	keysym_map_free(m);

	/* Another layout moves keysyms: German z and y trade places, é is there in French. */
	m = keysym_map_new("de", NULL);
	g_assert_nonnull(m);
	g_assert_cmpint(keysym_map_lookup(m, XK_z), ==, EV_KEY_Y);
	g_assert_cmpint(keysym_map_lookup(m, XK_y), ==, EV_KEY_Z);
	keysym_map_free(m);
	m = keysym_map_new("fr", NULL);
	g_assert_nonnull(m);
	g_assert_cmpint(keysym_map_lookup(m, XK_a), ==, EV_KEY_Q);
	g_assert_cmpint(keysym_map_lookup(m, XK_eacute), >, 0);
	keysym_map_free(m);
	g_assert_null(keysym_map_new("no-such-layout", NULL));
}

static void test_parse_listen(void)
{
	struct vnc_listen l;
	const char *why = NULL;
	g_assert_cmpint(vnc_parse_listen("127.0.0.1:5901", &l, &why), ==, 0);
	g_assert_cmpint(l.kind, ==, VNC_LISTEN_TCP);
	g_assert_true(l.loopback);
	g_assert_cmpint(vnc_parse_listen(":5900", &l, &why), ==, 0);
	g_assert_true(l.loopback);
	g_assert_cmpint(vnc_parse_listen("localhost:0", &l, &why), ==, 0);
	g_assert_true(l.loopback);
	g_assert_cmpint(vnc_parse_listen("127.9.8.7:1", &l, &why), ==, 0);
	g_assert_true(l.loopback);
	g_assert_cmpint(vnc_parse_listen("[::1]:5900", &l, &why), ==, 0);
	g_assert_true(l.loopback);
	g_assert_cmpint(vnc_parse_listen("0.0.0.0:5900", &l, &why), ==, 0);
	g_assert_false(l.loopback);
	g_assert_cmpint(vnc_parse_listen("192.168.1.2:5900", &l, &why), ==, 0);
	g_assert_false(l.loopback);
	g_assert_cmpint(vnc_parse_listen("[::]:5900", &l, &why), ==, 0);
	g_assert_false(l.loopback);
	g_assert_cmpint(vnc_parse_listen("unix:/run/x/vnc", &l, &why), ==, 0);
	g_assert_cmpint(l.kind, ==, VNC_LISTEN_UNIX);
	g_assert_cmpstr(l.path, ==, "/run/x/vnc");
	const char *bad[] = { "5900", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:59x",
			      "example.org:5900", "[::1:5900", "[nope]:1", "unix:", "127.0.0.1:1234567" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		why = NULL;
		g_assert_cmpint(vnc_parse_listen(bad[i], &l, &why), ==, -EINVAL);
		g_assert_nonnull(why);
	}
	char longp[200] = "unix:";
	memset(longp + 5, 'p', 150);
	g_assert_cmpint(vnc_parse_listen(longp, &l, &why), ==, -EINVAL);
}

/* The producer's surface: a memfd the test writes into. */
struct fb {
	int fd;
	uint8_t *map;
	size_t len;
	uint32_t w, h, stride;
	uint64_t offset;
};

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	return ((x * 2654435761u) ^ (y * 40503u) ^ seed) & 0x00ffffffu;
}

static void fb_new(struct fb *f, uint32_t w, uint32_t h, uint32_t stride, uint64_t offset, uint32_t seed)
{
	*f = (struct fb){ .w = w, .h = h, .stride = stride, .offset = offset };
	f->fd = memfd_create("vnc-test-fb", MFD_CLOEXEC);
	f->len = offset + (size_t)stride * h;
	g_assert_cmpint(ftruncate(f->fd, (off_t)f->len), ==, 0);
	f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	g_assert_true(f->map != MAP_FAILED);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pattern(x, y, seed);
			memcpy(f->map + offset + (size_t)y * stride + 4 * x, &v, 4);
		}
}

static void fb_show(struct fb *f, struct display *d)
{
	struct display_surface s = { .memfd = f->fd, .offset = f->offset, .width = f->w, .height = f->h,
				     .stride = f->stride, .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(d, &s), ==, 0);
}

static uint32_t fb_px(const struct fb *f, uint32_t x, uint32_t y)
{
	uint32_t v;
	memcpy(&v, f->map + f->offset + (size_t)y * f->stride + 4 * x, 4);
	return v & 0x00ffffffu;
}

static void fb_free(struct fb *f)
{
	munmap(f->map, f->len);
	close(f->fd);
}

/* A libvncclient in a thread: it handles the server's messages; the test
 * looks at its framebuffer and sends through it under the lock. */
struct peer {
	rfbClient *client;
	GThread *thread;
	GMutex lock;
	gint stop;
	gint failed;
	const char *password;
};

static void quiet_log(const char *format, ...)
{
}

static char *peer_password(rfbClient *client)
{
	struct peer *p = rfbClientGetClientData(client, peer_password);
	return strdup(p->password ? p->password : "");
}

static gpointer peer_run(gpointer data)
{
	struct peer *p = data;
	while (!g_atomic_int_get(&p->stop)) {
		int n = WaitForMessage(p->client, 20000);
		if (n < 0) {
			g_atomic_int_set(&p->failed, 1);
			break;
		}
		if (n == 0)
			continue;
		g_mutex_lock(&p->lock);
		rfbBool ok = HandleRFBServerMessage(p->client);
		g_mutex_unlock(&p->lock);
		if (!ok) {
			g_atomic_int_set(&p->failed, 1);
			break;
		}
	}
	return NULL;
}

/* Connects (in a thread: the server's thread answers, the main loop runs). */
struct connect_job {
	rfbClient *client;
	rfbBool ok;
	gint done;
};

static gpointer connect_run(gpointer data)
{
	struct connect_job *j = data;
	j->ok = rfbInitClient(j->client, NULL, NULL);
	g_atomic_int_set(&j->done, 1);
	return NULL;
}

static bool peer_connect(struct peer *p, const char *host, int port, const char *encodings, const char *password)
{
	*p = (struct peer){ .password = password };
	g_mutex_init(&p->lock);
	rfbClientLog = quiet_log;
	rfbClientErr = quiet_log;
	rfbClient *c = rfbGetClient(8, 3, 4);
	/* Ask for the server's own layout, B, G, R, X in memory. */
	c->format.redShift = 16;
	c->format.greenShift = 8;
	c->format.blueShift = 0;
	c->appData.encodingsString = encodings;
	c->appData.compressLevel = 1;
	c->appData.enableJPEG = FALSE;
	free(c->serverHost);   /* rfbGetClient's default */
	c->serverHost = strdup(host);
	c->serverPort = port;
	c->GetPassword = peer_password;
	rfbClientSetClientData(c, peer_password, p);
	struct connect_job job = { .client = c };
	GThread *t = g_thread_new("vnc-connect", connect_run, &job);
	gint64 end = g_get_monotonic_time() + WAIT_LIMIT_US;
	while (!g_atomic_int_get(&job.done) && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(500);
	}
	g_thread_join(t);
	if (!job.ok) {
		/* rfbInitClient has cleaned up after itself. */
		g_mutex_clear(&p->lock);
		return false;
	}
	p->client = c;
	p->thread = g_thread_new("vnc-peer", peer_run, p);
	return true;
}

static void peer_close(struct peer *p)
{
	g_atomic_int_set(&p->stop, 1);
	g_thread_join(p->thread);
	free(p->client->frameBuffer);
	p->client->frameBuffer = NULL;
	rfbClientCleanup(p->client);
	g_mutex_clear(&p->lock);
}

/* Whether the client's picture is f's, exactly. */
static bool peer_shows(struct peer *p, const struct fb *f)
{
	g_mutex_lock(&p->lock);
	rfbClient *c = p->client;
	bool same = c->width == (int)f->w && c->height == (int)f->h && c->frameBuffer;
	for (uint32_t y = 0; same && y < f->h; y++)
		for (uint32_t x = 0; same && x < f->w; x++) {
			uint32_t v;
			memcpy(&v, c->frameBuffer + ((size_t)y * f->w + x) * 4, 4);
			same = (v & 0x00ffffffu) == fb_px(f, x, y);
		}
	g_mutex_unlock(&p->lock);
	return same;
}

static bool peer_shows_black(struct peer *p, uint32_t w, uint32_t h)
{
	g_mutex_lock(&p->lock);
	rfbClient *c = p->client;
	bool same = c->width == (int)w && c->height == (int)h && c->frameBuffer;
	for (size_t i = 0; same && i < (size_t)w * h; i++) {
		uint32_t v;
		memcpy(&v, c->frameBuffer + i * 4, 4);
		same = (v & 0x00ffffffu) == 0;
	}
	g_mutex_unlock(&p->lock);
	return same;
}

#define WAIT_UNTIL(cond)                                                                  \
	do {                                                                              \
		gint64 end_ = g_get_monotonic_time() + WAIT_LIMIT_US;                     \
		while (!(cond) && g_get_monotonic_time() < end_) {                        \
			g_main_context_iteration(NULL, FALSE);                            \
			g_usleep(1000);                                                   \
		}                                                                         \
		g_assert_true(cond);                                                      \
	} while (0)

/* Called on the main context, where the test looks at it. */
struct input_rec {
	GArray *keys;                /* code << 1 | down */
	GArray *pointers;            /* x, y, buttons, wheel, hwheel as 5 int32 */
};

static int rec_key(void *opaque, uint16_t code, bool down)
{
	struct input_rec *r = opaque;
	uint32_t v = (uint32_t)code << 1 | down;
	g_array_append_val(r->keys, v);
	return 0;
}

static int rec_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	struct input_rec *r = opaque;
	int32_t v[5] = { (int32_t)x, (int32_t)y, (int32_t)buttons, wheel, hwheel };
	g_array_append_vals(r->pointers, v, 5);
	return 0;
}

static const struct input_sink_ops rec_ops = { .key = rec_key, .pointer = rec_pointer };

struct fixture {
	struct display *d;
	struct vnc *v;
	struct input_rec in;
	struct input_sink sink;
};

static void fixture_init(struct fixture *fx, const char *listen, const char *password_file)
{
	fx->d = display_new(NULL);
	fx->in.keys = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	fx->in.pointers = g_array_new(FALSE, FALSE, sizeof(int32_t));
	fx->sink = (struct input_sink){ &rec_ops, &fx->in };
	struct vnc_config cfg = { .listen = listen, .password_file = password_file, .display = fx->d,
				  .input = &fx->sink, .name = "test-vm" };
	GError *error = NULL;
	fx->v = vnc_new(&cfg, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->v);
}

static void fixture_clear(struct fixture *fx)
{
	vnc_free(fx->v);
	display_free(fx->d);
	g_array_unref(fx->in.keys);
	g_array_unref(fx->in.pointers);
}

static void run_framebuffer(const char *encodings)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, "127.0.0.1:0", NULL);
	g_assert_cmpint(vnc_port(fx.v), >, 0);
	struct peer p;
	g_assert_true(peer_connect(&p, "127.0.0.1", vnc_port(fx.v), encodings, NULL));
	/* No surface yet: a black screen of the default size. */
	WAIT_UNTIL(peer_shows_black(&p, VNC_BLANK_WIDTH, VNC_BLANK_HEIGHT));

	/* The guest's surface, with a padded stride at an offset: every pixel. */
	struct fb f;
	fb_new(&f, 400, 300, 400 * 4 + 192, 4096 + 512, 1);
	fb_show(&f, fx.d);
	WAIT_UNTIL(peer_shows(&p, &f));

	/* The guest draws into part of it; only the damage tells VNC. */
	for (uint32_t y = 100; y < 140; y++)
		for (uint32_t x = 50; x < 90; x++) {
			uint32_t v = pattern(x, y, 2);
			memcpy(f.map + f.offset + (size_t)y * f.stride + 4 * x, &v, 4);
		}
	g_assert_false(peer_shows(&p, &f));
	display_damage(fx.d, &(struct display_rect){ 50, 100, 40, 40 }, 1);
	WAIT_UNTIL(peer_shows(&p, &f));
	/* The partial damage was counted as an update (whether the first
	 * surface's full damage is counted apart depends on whether the two
	 * arrived in one batch). */
	struct vnc_stats st;
	WAIT_UNTIL((vnc_get_stats(fx.v, &st), st.updates >= 1));
	g_assert_cmpuint(st.clients, ==, 1);

	/* A resize. */
	struct fb g;
	fb_new(&g, 256, 96, 256 * 4, 0, 3);
	fb_show(&g, fx.d);
	WAIT_UNTIL(peer_shows(&p, &g));
	/* No picture again: black, of the last size. */
	g_assert_cmpint(display_set_surface(fx.d, NULL), ==, 0);
	WAIT_UNTIL(peer_shows_black(&p, 256, 96));
	g_assert_cmpint(g_atomic_int_get(&p.failed), ==, 0);

	peer_close(&p);
	fixture_clear(&fx);
	fb_free(&f);
	fb_free(&g);
}

static void test_framebuffer_raw(void)
{
	run_framebuffer("raw");
}

static void test_framebuffer_zrle(void)
{
	run_framebuffer("zrle hextile copyrect");
}

static void peer_send_key(struct peer *p, uint32_t keysym, bool down)
{
	g_mutex_lock(&p->lock);
	g_assert_true(SendKeyEvent(p->client, keysym, down));
	g_mutex_unlock(&p->lock);
}

static void peer_send_pointer(struct peer *p, int x, int y, int mask)
{
	g_mutex_lock(&p->lock);
	g_assert_true(SendPointerEvent(p->client, x, y, mask));
	g_mutex_unlock(&p->lock);
}

static const int32_t *pointer_at(struct input_rec *r, guint i)
{
	return &g_array_index(r->pointers, int32_t, i * 5);
}

static void test_input(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, "127.0.0.1:0", NULL);
	struct fb f;
	fb_new(&f, 320, 240, 320 * 4, 0, 4);
	fb_show(&f, fx.d);
	struct peer p;
	g_assert_true(peer_connect(&p, "127.0.0.1", vnc_port(fx.v), "raw", NULL));
	WAIT_UNTIL(peer_shows(&p, &f));

	/* Shift+a as a VNC client types "A": Shift_L, then the keysym A. */
	peer_send_key(&p, XK_Shift_L, true);
	peer_send_key(&p, XK_A, true);
	peer_send_key(&p, XK_A, false);
	peer_send_key(&p, XK_Shift_L, false);
	peer_send_key(&p, XK_eacute, true);   /* no key for it in "us": dropped */
	peer_send_key(&p, XK_KP_Enter, true);
	WAIT_UNTIL(fx.in.keys->len == 5);
	uint32_t want[] = { EV_KEY_LEFTSHIFT << 1 | 1, EV_KEY_A << 1 | 1, EV_KEY_A << 1, EV_KEY_LEFTSHIFT << 1,
			    EV_KEY_KPENTER << 1 | 1 };
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, i), ==, want[i]);

	/* Buttons 1/2/4 are left/middle/right; 8/16 one wheel step up/down. */
	peer_send_pointer(&p, 10, 20, 1);
	WAIT_UNTIL(fx.in.pointers->len == 5);
	peer_send_pointer(&p, 11, 21, 1 | 4);
	WAIT_UNTIL(fx.in.pointers->len == 10);
	peer_send_pointer(&p, 11, 21, 8);
	WAIT_UNTIL(fx.in.pointers->len == 15);
	peer_send_pointer(&p, 11, 21, 0);
	WAIT_UNTIL(fx.in.pointers->len == 20);
	peer_send_pointer(&p, 11, 21, 16);
	WAIT_UNTIL(fx.in.pointers->len == 25);
	peer_send_pointer(&p, 5000, 5000, 2);   /* beyond the surface: clamped */
	WAIT_UNTIL(fx.in.pointers->len >= 30);
	const int32_t *e = pointer_at(&fx.in, 0);
	g_assert_cmpint(e[0], ==, 10);
	g_assert_cmpint(e[1], ==, 20);
	g_assert_cmpint(e[2], ==, INPUT_BUTTON_LEFT);
	e = pointer_at(&fx.in, 1);
	g_assert_cmpint(e[2], ==, INPUT_BUTTON_LEFT | INPUT_BUTTON_RIGHT);
	e = pointer_at(&fx.in, 2);
	g_assert_cmpint(e[2], ==, 0);
	g_assert_cmpint(e[3], ==, 1);
	e = pointer_at(&fx.in, 3);
	g_assert_cmpint(e[3], ==, 0);
	e = pointer_at(&fx.in, 4);
	g_assert_cmpint(e[3], ==, -1);
	e = pointer_at(&fx.in, fx.in.pointers->len / 5 - 1);
	g_assert_cmpint(e[0], ==, 319);
	g_assert_cmpint(e[1], ==, 239);
	g_assert_cmpint(e[2], ==, INPUT_BUTTON_MIDDLE);
	struct vnc_stats st;
	vnc_get_stats(fx.v, &st);
	g_assert_cmpuint(st.keys_unmapped, ==, 1);

	/* libvncserver never wrote into the guest's framebuffer. */
	struct fb ref;
	fb_new(&ref, 320, 240, 320 * 4, 0, 4);
	g_assert_cmpmem(f.map, f.len, ref.map, ref.len);
	fb_free(&ref);
	/* A client that leaves with keys held (KP_Enter above, b): the worker
	 * lets go of them, and only of them. */
	guint before = fx.in.keys->len;
	peer_send_key(&p, XK_b, true);
	WAIT_UNTIL(fx.in.keys->len == before + 1);
	peer_close(&p);
	WAIT_UNTIL(fx.in.keys->len >= before + 3);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, before + 1), ==, 48u << 1);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, before + 2), ==, (uint32_t)EV_KEY_KPENTER << 1);
	for (int i = 0; i < 50; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(fx.in.keys->len, ==, before + 3);
	fixture_clear(&fx);
	fb_free(&f);
}

static void test_password(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-vnc-XXXXXX", NULL);
	g_autofree char *pw = g_build_filename(dir, "pw", NULL);
	g_assert_true(g_file_set_contents(pw, "s3cret\nignored second line\n", -1, NULL));

	struct fixture fx = { 0 };
	fixture_init(&fx, "127.0.0.1:0", pw);
	struct fb f;
	fb_new(&f, 64, 64, 256, 0, 5);
	fb_show(&f, fx.d);
	struct peer p;
	g_assert_false(peer_connect(&p, "127.0.0.1", vnc_port(fx.v), "raw", "wrong"));
	g_assert_false(peer_connect(&p, "127.0.0.1", vnc_port(fx.v), "raw", "s3cre"));
	g_assert_true(peer_connect(&p, "127.0.0.1", vnc_port(fx.v), "raw", "s3cret"));
	WAIT_UNTIL(peer_shows(&p, &f));
	peer_close(&p);
	fixture_clear(&fx);
	fb_free(&f);

	/* Reachable from other hosts: only with a password. */
	struct display *d = display_new(NULL);
	GError *error = NULL;
	struct vnc_config cfg = { .listen = "0.0.0.0:0", .display = d };
	g_assert_null(vnc_new(&cfg, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
	g_clear_error(&error);
	cfg.password_file = pw;
	struct vnc *v = vnc_new(&cfg, &error);
	g_assert_no_error(error);
	vnc_free(v);
	/* An empty password, a missing file, a bad keymap. */
	g_assert_true(g_file_set_contents(pw, "\nx\n", -1, NULL));
	g_assert_null(vnc_new(&cfg, &error));
	g_clear_error(&error);
	g_unlink(pw);
	g_assert_null(vnc_new(&cfg, &error));
	g_clear_error(&error);
	cfg = (struct vnc_config){ .listen = "127.0.0.1:0", .display = d, .keymap_layout = "nope" };
	g_assert_null(vnc_new(&cfg, &error));
	g_clear_error(&error);
	display_free(d);
	g_rmdir(dir);
}

static void test_unix_socket(void)
{
	g_autofree char *dir = g_dir_make_tmp("vireo-vnc-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vnc", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	struct fixture fx = { 0 };
	fixture_init(&fx, spec, NULL);
	g_assert_cmpint(vnc_port(fx.v), ==, -1);
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	struct fb f;
	fb_new(&f, 128, 32, 512, 0, 6);
	fb_show(&f, fx.d);
	struct peer p;
	g_assert_true(peer_connect(&p, path, 0, "raw", NULL));
	WAIT_UNTIL(peer_shows(&p, &f));
	peer_close(&p);
	fixture_clear(&fx);
	g_assert_cmpint(g_stat(path, &st), ==, -1);
	fb_free(&f);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vnc/keysyms", test_keysyms);
	g_test_add_func("/vnc/parse-listen", test_parse_listen);
	g_test_add_func("/vnc/framebuffer-raw", test_framebuffer_raw);
	g_test_add_func("/vnc/framebuffer-zrle", test_framebuffer_zrle);
	g_test_add_func("/vnc/input", test_input);
	g_test_add_func("/vnc/password", test_password);
	g_test_add_func("/vnc/unix-socket", test_unix_socket);
	return g_test_run();
}
