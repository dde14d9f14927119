// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The viewer's protocol client (viewer/connect-session.c) against the
 * worker's real console server (backend/worker/console_server.c) in this
 * process, over a socketpair: the picture through the shared memfd and
 * inline, damage, a new resolution, the cursor, the VM state, keys and
 * pointer into the server's input sink, frame acknowledgements the server
 * accepts, and the worker going away. Then a worker written here that
 * breaks the protocol every way the session must survive: each broken
 * stream ends the session with the right error, each bad message is
 * counted and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "console_server.h"
#include "connect-session.h"

/* Hang guard only: each wait ends as soon as what it waits for is there. */
#define WAIT_LIMIT_US (10 * G_USEC_PER_SEC)

static uint32_t px(uint32_t x, uint32_t y, uint32_t seed)
{
	return ((x * 7 + seed) & 255) << 16 | ((y * 5 + seed * 3) & 255) << 8 | ((x ^ y) & 255);
}

/* What the session told its owner. */
struct rec {
	char name[80];
	unsigned surfaces, nulls, damages, states, cursors, closed;
	struct connect_surface surf;
	bool have;
	struct console_rect last_damage;
	enum console_vm_state state;
	char reason[300];
	struct connect_cursor cursor;
	int err;
	char why[400];
	/* what the server's input sink got */
	GArray *keys;        /* uint32_t: code << 1 | down */
	unsigned pointers;
	uint32_t px, py, buttons;
};

static void on_hello(void *o, const char *name)
{
	struct rec *r = o;
	g_strlcpy(r->name, name, sizeof(r->name));
}

static void on_surface(void *o, const struct connect_surface *s)
{
	struct rec *r = o;
	r->have = s != NULL;
	if (s) {
		r->surf = *s;
		r->surfaces++;
	} else {
		r->nulls++;
	}
}

static void on_damage(void *o, const struct console_rect *rects, size_t n)
{
	struct rec *r = o;
	r->damages++;
	r->last_damage = rects[n - 1];
}

static void on_vm_state(void *o, enum console_vm_state st, const char *reason)
{
	struct rec *r = o;
	r->states++;
	r->state = st;
	g_strlcpy(r->reason, reason, sizeof(r->reason));
}

static void on_cursor(void *o, const struct connect_cursor *c)
{
	struct rec *r = o;
	r->cursors++;
	r->cursor = *c;
}

static void on_closed(void *o, int err, const char *why)
{
	struct rec *r = o;
	r->closed++;
	r->err = err;
	r->have = false;
	g_strlcpy(r->why, why, sizeof(r->why));
}

static const struct connect_session_ops rec_ops = {
	.hello = on_hello, .surface = on_surface, .damage = on_damage,
	.vm_state = on_vm_state, .cursor = on_cursor, .closed = on_closed,
};

static int sink_key(void *o, uint16_t code, bool down)
{
	struct rec *r = o;
	uint32_t v = (uint32_t)code << 1 | down;
	g_array_append_val(r->keys, v);
	return 0;
}

static int sink_pointer(void *o, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	struct rec *r = o;
	r->pointers++;
	r->px = x;
	r->py = y;
	r->buttons = buttons;
	return 0;
}

static const struct input_sink_ops sink_ops = { .key = sink_key, .pointer = sink_pointer };

/* A worker: the real server and display, fed a pattern by the test. */
struct worker {
	struct display *d;
	struct console_server *cs;
	struct input_sink sink;
	int fb;
	uint8_t *map;
	uint32_t w, h;
};

static void worker_surface(struct worker *wk, uint32_t w, uint32_t h, uint32_t seed)
{
	if (wk->map)
		munmap(wk->map, (size_t)wk->w * wk->h * 4);
	if (wk->fb >= 0)
		close(wk->fb);
	wk->w = w;
	wk->h = h;
	wk->fb = memfd_create("test-connect-fb", MFD_CLOEXEC);
	g_assert_cmpint(ftruncate(wk->fb, (off_t)w * h * 4), ==, 0);
	wk->map = mmap(NULL, (size_t)w * h * 4, PROT_READ | PROT_WRITE, MAP_SHARED, wk->fb, 0);
	g_assert_true(wk->map != MAP_FAILED);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = px(x, y, seed);
			memcpy(wk->map + ((size_t)y * w + x) * 4, &v, 4);
		}
	struct display_surface s = { .memfd = wk->fb, .width = w, .height = h, .stride = w * 4,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(wk->d, &s), ==, 0);
}

static void worker_init(struct worker *wk, struct rec *r)
{
	*wk = (struct worker){ .fb = -1 };
	wk->d = display_new(NULL);
	wk->sink = (struct input_sink){ &sink_ops, r };
	struct console_server_config cfg = { .display = wk->d, .input = &wk->sink, .name = "test-vm" };
	g_autoptr(GError) e = NULL;
	wk->cs = console_server_new(&cfg, &e);
	g_assert_no_error(e);
	worker_surface(wk, 320, 200, 5);
	console_server_set_vm_state(wk->cs, CONSOLE_VM_RUNNING, "started");
}

static struct connect_session *connect_pair(struct worker *wk, struct rec *r, bool inline_px)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(console_server_add_client_fd(wk->cs, sv[0]), ==, 0);
	struct connect_session *s = connect_session_new(&rec_ops, r, inline_px);
	g_assert_cmpint(connect_session_open_fd(s, sv[1]), ==, 0);
	return s;
}

/* Runs the server and the session until cond holds. */
#define PUMP_UNTIL(s, cond)                                                             \
	do {                                                                            \
		gint64 end_ = g_get_monotonic_time() + WAIT_LIMIT_US;                   \
		while (!(cond)) {                                                       \
			g_assert_cmpint(g_get_monotonic_time(), <, end_);               \
			g_main_context_iteration(NULL, FALSE);                          \
			if (connect_session_is_open(s))                                 \
				connect_session_read(s);                                \
			g_usleep(200);                                                  \
		}                                                                       \
	} while (0)

static void assert_pixels(const struct connect_surface *s, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
			  uint32_t seed)
{
	for (uint32_t y = y0; y < y0 + h; y++)
		for (uint32_t x = x0; x < x0 + w; x++) {
			uint32_t v;
			memcpy(&v, s->pixels + (size_t)y * s->stride + x * 4, 4);
			if ((v & 0xffffff) != px(x, y, seed))
				g_error("pixel %u,%u is %06x, the pattern %u has %06x", x, y, v & 0xffffff, seed,
					px(x, y, seed));
		}
}

static void run_with_server(bool inline_px)
{
	struct rec r = { .keys = g_array_new(FALSE, FALSE, sizeof(uint32_t)) };
	struct worker wk;
	worker_init(&wk, &r);
	struct connect_session *s = connect_pair(&wk, &r, inline_px);
	struct connect_session_stats st;

	/* the handshake: HELLO, the surface, the state, the whole picture */
	PUMP_UNTIL(s, r.damages >= 1 && r.states >= 1);
	g_assert_cmpstr(r.name, ==, "test-vm");
	g_assert_cmpuint(r.surfaces, ==, 1);
	g_assert_cmpuint(r.surf.width, ==, 320);
	g_assert_cmpuint(r.surf.height, ==, 200);
	g_assert_cmpint(r.surf.shared, ==, !inline_px);
	g_assert_true(connect_session_surface(s) != NULL);
	g_assert_cmpint(r.state, ==, CONSOLE_VM_RUNNING);
	g_assert_cmpint(connect_session_vm_state(s), ==, CONSOLE_VM_RUNNING);
	g_assert_cmpstr(r.reason, ==, "started");
	g_assert_cmpuint(r.last_damage.w, ==, 320);
	assert_pixels(&r.surf, 0, 0, 320, 200, 5);
	g_assert_cmpint(connect_session_frame_done(s), ==, 0);

	/* the guest draws into a rectangle: damage, and those pixels */
	for (uint32_t y = 50; y < 80; y++)
		for (uint32_t x = 100; x < 140; x++) {
			uint32_t v = px(x, y, 77);
			memcpy(wk.map + ((size_t)y * 320 + x) * 4, &v, 4);
		}
	unsigned d0 = r.damages;
	display_damage(wk.d, &(struct display_rect){ 100, 50, 40, 30 }, 1);
	PUMP_UNTIL(s, r.damages > d0);
	g_assert_cmpuint(r.last_damage.x, ==, 100);
	g_assert_cmpuint(r.last_damage.y, ==, 50);
	g_assert_cmpuint(r.last_damage.w, ==, 40);
	g_assert_cmpuint(r.last_damage.h, ==, 30);
	assert_pixels(&r.surf, 100, 50, 40, 30, 77);
	assert_pixels(&r.surf, 0, 0, 100, 50, 5);
	g_assert_cmpint(connect_session_frame_done(s), ==, 0);

	/* input into the server's sink */
	g_assert_cmpint(connect_session_send_key(s, 30, true), ==, 0);
	g_assert_cmpint(connect_session_send_key(s, 30, false), ==, 0);
	g_assert_cmpint(connect_session_send_key(s, 0, true), ==, -EINVAL);
	g_assert_cmpint(connect_session_send_key(s, CONSOLE_KEY_CODE_MAX + 1, true), ==, -EINVAL);
	/* beyond the surface: clamped to its last pixel; wheel limited */
	g_assert_cmpint(connect_session_send_pointer(s, 5000, 150, CONSOLE_BUTTON_LEFT | 0x100, 1000, 0), ==, 0);
	PUMP_UNTIL(s, r.keys->len == 2 && r.pointers == 1);
	g_assert_cmpuint(g_array_index(r.keys, uint32_t, 0), ==, 30u << 1 | 1);
	g_assert_cmpuint(g_array_index(r.keys, uint32_t, 1), ==, 30u << 1);
	g_assert_cmpuint(r.px, ==, 319);
	g_assert_cmpuint(r.py, ==, 150);
	g_assert_cmpuint(r.buttons, ==, CONSOLE_BUTTON_LEFT);

	/* a new resolution */
	unsigned s0 = r.surfaces;
	worker_surface(&wk, 640, 480, 9);
	PUMP_UNTIL(s, r.surfaces > s0 && r.damages > d0 + 1 && r.last_damage.w == 640);
	g_assert_cmpuint(r.surf.width, ==, 640);
	g_assert_cmpuint(r.surf.height, ==, 480);
	assert_pixels(&r.surf, 0, 0, 640, 480, 9);
	g_assert_cmpint(connect_session_frame_done(s), ==, 0);

	/* the cursor, with its shape */
	uint8_t argb[8 * 4 * 4];
	memset(argb, 0xab, sizeof(argb));
	display_set_cursor(wk.d, true, 33, 44, &(struct display_cursor){ 8, 4, 1, 2, argb });
	PUMP_UNTIL(s, r.cursors >= 1 && r.cursor.w == 8);
	g_assert_true(r.cursor.visible);
	g_assert_cmpint(r.cursor.x, ==, 33);
	g_assert_cmpint(r.cursor.y, ==, 44);
	g_assert_cmpuint(r.cursor.h, ==, 4);
	g_assert_cmpuint(r.cursor.hot_y, ==, 2);
	g_assert_cmpint(memcmp(r.cursor.argb, argb, sizeof(argb)), ==, 0);

	/* the VM state */
	console_server_set_vm_state(wk.cs, CONSOLE_VM_OFF, "rebooting");
	PUMP_UNTIL(s, r.state == CONSOLE_VM_OFF);
	g_assert_cmpstr(r.reason, ==, "rebooting");

	/* the server counted nothing bad from us */
	struct console_server_stats ss;
	console_server_get_stats(wk.cs, &ss);
	g_assert_cmpuint(ss.bad_messages, ==, 0);
	g_assert_cmpuint(ss.protocol_errors, ==, 0);
	connect_session_get_stats(s, &st);
	g_assert_cmpuint(st.bad_messages, ==, 0);
	g_assert_cmpuint(st.surfaces, ==, 2);

	/* the worker goes away: a state, not a crash */
	console_server_free(wk.cs);
	wk.cs = NULL;
	PUMP_UNTIL(s, r.closed == 1);
	g_assert_cmpint(r.err, ==, -ECONNRESET);
	g_assert_false(connect_session_is_open(s));
	g_assert_cmpint(connect_session_fd(s), ==, -1);
	g_assert_null(connect_session_surface(s));
	g_assert_cmpint(connect_session_send_key(s, 30, true), ==, -ENOTCONN);
	g_assert_cmpint(connect_session_read(s), ==, -ENOTCONN);
	g_assert_cmpint(connect_session_send_pointer(s, 1, 1, 0, 0, 0), ==, -ENOTCONN);

	connect_session_free(s);
	display_free(wk.d);
	munmap(wk.map, (size_t)wk.w * wk.h * 4);
	close(wk.fb);
	g_array_unref(r.keys);
}

static void test_shared(void)
{
	run_with_server(false);
}

static void test_inline(void)
{
	run_with_server(true);
}

/* A viewer whose worker left before the viewer came. */
static void test_no_worker(void)
{
	struct rec r = { 0 };
	struct connect_session *s = connect_session_new(&rec_ops, &r, false);
	g_assert_cmpint(connect_session_open(s, "/nonexistent/vireo-console"), ==, -ENOENT);
	g_assert_cmpint(connect_session_open(s, ""), ==, -EINVAL);
	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	g_assert_cmpint(connect_session_open(s, longp), ==, -ENAMETOOLONG);
	g_assert_false(connect_session_is_open(s));
	g_assert_cmpuint(r.closed, ==, 0);
	connect_session_free(s);
	/* the worker closes right after accepting */
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	s = connect_session_new(&rec_ops, &r, false);
	g_assert_cmpint(connect_session_open_fd(s, sv[1]), ==, 0);
	close(sv[0]);
	g_assert_cmpint(connect_session_read(s), ==, -ECONNRESET);
	g_assert_cmpuint(r.closed, ==, 1);
	connect_session_free(s);
}

/* ---- a worker that breaks the rules ---- */

static void put(GByteArray *b, const struct console_msg *m)
{
	uint8_t buf[CONSOLE_HEADER_SIZE + 4096];
	long n = console_msg_encode(m, buf, sizeof(buf));
	g_assert_cmpint(n, >, 0);
	g_byte_array_append(b, buf, (guint)n);
}

static void put_raw(GByteArray *b, uint16_t type, uint16_t flags, const void *body, uint32_t len)
{
	struct console_wire_header h = { GUINT16_TO_LE(type), GUINT16_TO_LE(flags), GUINT32_TO_LE(len) };
	g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
	if (len)
		g_byte_array_append(b, body, len);
}

static void put_hello(GByteArray *b, uint16_t major)
{
	struct console_msg m = { .type = CONSOLE_MSG_HELLO };
	m.hello.major = major;
	m.hello.caps = CONSOLE_CAPS_KNOWN;
	m.hello.name = "evil";
	m.hello.name_len = 4;
	if (major == CONSOLE_VERSION_MAJOR) {
		put(b, &m);
		return;
	}
	struct console_wire_hello w = { GUINT16_TO_LE(major), 0, GUINT32_TO_LE(CONSOLE_CAPS_KNOWN) };
	put_raw(b, CONSOLE_MSG_HELLO, 0, &w, sizeof(w));
}

static void put_surface(GByteArray *b, uint32_t w, uint32_t h, bool fd)
{
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE, .flags = fd ? CONSOLE_FLAG_FD : 0 };
	m.surface.width = w;
	m.surface.height = h;
	m.surface.stride = w * 4;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	m.surface.size = (uint64_t)w * h * 4;
	put(b, &m);
}

static void put_damage(GByteArray *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_DAMAGE };
	m.damage.frame = 1;
	m.damage.count = 1;
	m.damage.rects[0] = (struct console_rect){ x, y, w, h };
	put(b, &m);
}

static int memfd_of(size_t len)
{
	int fd = memfd_create("test-connect-evil", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)len), ==, 0);
	return fd;
}

/* Feeds b to a fresh session: what feed returned. */
static int feed(struct rec *r, bool inline_px, GByteArray *b, const int *fds, size_t nfds,
		struct connect_session_stats *st)
{
	*r = (struct rec){ 0 };
	struct connect_session *s = connect_session_new(&rec_ops, r, inline_px);
	int e = connect_session_feed(s, b->data, b->len, fds, nfds);
	connect_session_get_stats(s, st);
	connect_session_free(s);
	g_byte_array_set_size(b, 0);
	return e;
}

static void test_hostile_worker(void)
{
	GByteArray *b = g_byte_array_new();
	struct rec r;
	struct connect_session_stats st;

	/* anything before HELLO */
	put_surface(b, 64, 64, false);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EPROTO);
	g_assert_cmpuint(r.closed, ==, 1);
	g_assert_cmpuint(r.surfaces, ==, 0);
	/* a HELLO that does not decode */
	put_raw(b, CONSOLE_MSG_HELLO, 0, "ab", 2);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EPROTO);
	/* another major version */
	put_hello(b, 2);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EPROTONOSUPPORT);
	g_assert_nonnull(strstr(r.why, "2.0"));
	/* broken framing: a reserved flag; a length above the type's */
	put_hello(b, 1);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, 0x8000, NULL, 0);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EPROTO);
	put_hello(b, 1);
	struct console_wire_header h = { GUINT16_TO_LE(CONSOLE_MSG_KEY), 0, GUINT32_TO_LE(CONSOLE_BODY_MAX + 1) };
	g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EMSGSIZE);
	/* a body where none belongs is longer than the type allows */
	put_hello(b, 1);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, 0, "x", 1);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EMSGSIZE);
	/* FD on something else than a SURFACE */
	put_hello(b, 1);
	put_raw(b, CONSOLE_MSG_NO_SURFACE, CONSOLE_FLAG_FD, NULL, 0);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EPROTO);
	/* a shared surface whose file did not come */
	put_hello(b, 1);
	put_surface(b, 64, 64, true);
	g_assert_cmpint(feed(&r, false, b, NULL, 0, &st), ==, -EPROTO);
	g_assert_nonnull(strstr(r.why, "without its file"));
	/* a file shorter than the surface */
	int fd = memfd_of(100);
	put_hello(b, 1);
	put_surface(b, 64, 64, true);
	g_assert_cmpint(feed(&r, false, b, &fd, 1, &st), ==, -EPROTO);
	g_assert_nonnull(strstr(r.why, "shorter"));
	/* inline pixels the viewer did not ask for */
	put_hello(b, 1);
	put_surface(b, 64, 64, false);
	g_assert_cmpint(feed(&r, false, b, NULL, 0, &st), ==, -EPROTO);
	/* more files than surfaces to claim them */
	int many[CONNECT_SESSION_FDS_MAX + 1];
	for (size_t i = 0; i < G_N_ELEMENTS(many); i++)
		many[i] = memfd_of(16);
	put_hello(b, 1);
	g_assert_cmpint(feed(&r, false, b, many, G_N_ELEMENTS(many), &st), ==, -EPROTO);
	/* the worker refuses the viewer */
	put_hello(b, 1);
	struct console_msg err = { .type = CONSOLE_MSG_ERROR };
	err.error.code = CONSOLE_ERROR_BUSY;
	err.error.text = "16 viewers";
	err.error.text_len = 10;
	put(b, &err);
	g_assert_cmpint(feed(&r, true, b, NULL, 0, &st), ==, -EBUSY);
	g_assert_nonnull(strstr(r.why, "too many viewers"));

	/* well framed but wrong: counted, dropped, the session goes on */
	put_hello(b, 1);
	put_damage(b, 0, 0, 8, 8);                             /* no surface yet */
	put_raw(b, CONSOLE_MSG_VM_STATE, 0, "\x09\0\0\0", 4);  /* no such state */
	put_raw(b, 0x7f, 0, "future", 6);                      /* a newer minor version's message */
	put_raw(b, CONSOLE_MSG_KEY, 0, "\x1e\0\1\0", 4);       /* a viewer's message */
	put_hello(b, 1);                                       /* a second HELLO */
	put_surface(b, 64, 32, false);
	put_damage(b, 100, 0, 8, 8);                           /* outside the surface */
	put_damage(b, 60, 30, 8, 8);                           /* partly: clipped */
	struct console_msg pm = { .type = CONSOLE_MSG_PIXELS };
	uint8_t pix[16 * 4 * 4] = { 0 };
	pm.pixels.r = (struct console_rect){ 60, 0, 16, 4 };   /* beyond the right edge */
	pm.pixels.data = pix;
	put(b, &pm);
	pm.pixels.r = (struct console_rect){ 0, 0, 16, 4 };
	memset(pix, 0x5a, sizeof(pix));
	put(b, &pm);
	put_damage(b, 0, 0, 16, 4);
	*(&r) = (struct rec){ 0 };
	struct connect_session *s = connect_session_new(&rec_ops, &r, true);
	g_assert_cmpint(connect_session_feed(s, b->data, b->len, NULL, 0), ==, 0);
	connect_session_get_stats(s, &st);
	g_assert_cmpuint(r.closed, ==, 0);
	g_assert_cmpuint(st.bad_messages, ==, 5);
	g_assert_cmpuint(st.unknown, ==, 2);
	g_assert_cmpuint(r.surfaces, ==, 1);
	g_assert_cmpuint(r.damages, ==, 2);
	g_assert_cmpuint(r.last_damage.w, ==, 16);
	const struct connect_surface *cs = connect_session_surface(s);
	g_assert_nonnull(cs);
	g_assert_cmpuint(cs->pixels[0], ==, 0x5a);
	g_assert_cmpuint(cs->pixels[16 * 4], ==, 0);
	connect_session_free(s);
	g_byte_array_set_size(b, 0);

	/* a shared surface done right, for contrast: mapped, read-only */
	fd = memfd_of(64 * 32 * 4);
	put_hello(b, 1);
	put_surface(b, 64, 32, true);
	g_assert_cmpint(feed(&r, false, b, &fd, 1, &st), ==, 0);
	g_assert_cmpuint(r.surfaces, ==, 1);
	g_assert_true(r.surf.shared);
	g_assert_cmpuint(r.closed, ==, 0);

	/* a stream split at every byte decodes the same */
	put_hello(b, 1);
	put_surface(b, 8, 8, false);
	put_damage(b, 0, 0, 8, 8);
	r = (struct rec){ 0 };
	s = connect_session_new(&rec_ops, &r, true);
	for (guint i = 0; i < b->len; i++)
		g_assert_cmpint(connect_session_feed(s, b->data + i, 1, NULL, 0), ==, 0);
	g_assert_cmpuint(r.damages, ==, 1);
	g_assert_cmpstr(r.name, ==, "evil");
	connect_session_free(s);
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/connect-session/shared", test_shared);
	g_test_add_func("/connect-session/inline", test_inline);
	g_test_add_func("/connect-session/no-worker", test_no_worker);
	g_test_add_func("/connect-session/hostile-worker", test_hostile_worker);
	return g_test_run();
}
