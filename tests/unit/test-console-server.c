// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker's console socket (backend/worker/console_server.c) with the
 * display driven by the test as the producer, and viewers written here
 * from the protocol: the surface memfd received and mapped, inline pixels,
 * damage merged for a viewer that reads slowly, bounded memory for one
 * that never reads, input to the sink, hostile viewers dropped or their
 * messages counted, peer credentials.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "console_server.h"

/* Hang guard only: every wait ends as soon as what it waits for is there. */
#define WAIT_LIMIT_US (5 * G_USEC_PER_SEC)

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	return (x * 2654435761u) ^ (y * 40503u) ^ seed;
}

/* A memfd of stride * h bytes at offset, pixel (x, y) = pattern(x, y, seed). */
static int make_fb(uint32_t w, uint32_t h, uint32_t stride, uint64_t offset, uint32_t seed)
{
	int fd = memfd_create("test-fb", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	size_t len = offset + (size_t)stride * h;
	g_assert_cmpint(ftruncate(fd, (off_t)len), ==, 0);
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	g_assert_true(p != MAP_FAILED);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pattern(x, y, seed);
			memcpy(p + offset + (size_t)y * stride + 4 * x, &v, 4);
		}
	munmap(p, len);
	return fd;
}

static void set_surface(struct display *d, uint32_t w, uint32_t h, uint32_t stride, uint64_t offset, uint32_t seed)
{
	int fd = make_fb(w, h, stride, offset, seed);
	struct display_surface s = { .memfd = fd, .offset = offset, .width = w, .height = h, .stride = stride,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	g_assert_cmpint(display_set_surface(d, &s), ==, 0);
	close(fd);
}

/* A viewer: received frames kept raw, fds in arrival order. */
struct viewer {
	int fd;
	struct console_reader reader;
	GPtrArray *frames;           /* GBytes: header + body */
	GQueue fds;
	size_t next;                 /* first frame not taken by viewer_take */
	bool closed;
	int fatal;
};

static int viewer_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct viewer *v = opaque;
	/* The worker sends nothing a viewer would refuse. */
	g_assert_cmpint(status, ==, 0);
	g_ptr_array_add(v->frames, g_bytes_new(v->reader.buf, CONSOLE_HEADER_SIZE + f->length));
	return 0;
}

static struct viewer *viewer_new(int fd)
{
	struct viewer *v = g_new0(struct viewer, 1);
	v->fd = fd;
	console_reader_init(&v->reader, CONSOLE_FROM_WORKER);
	v->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_queue_init(&v->fds);
	return v;
}

static void viewer_free(struct viewer *v)
{
	if (v->fd >= 0)
		close(v->fd);
	console_reader_clear(&v->reader);
	g_ptr_array_unref(v->frames);
	int fd;
	while ((fd = GPOINTER_TO_INT(g_queue_pop_head(&v->fds))) > 0)
		close(fd - 1);
	g_free(v);
}

/* Reads what is there without waiting. */
static void viewer_pump(struct viewer *v)
{
	for (;;) {
		uint8_t buf[65536];
		union {
			struct cmsghdr align;
			char b[CMSG_SPACE(sizeof(int) * 4)];
		} ctrl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.b,
				     .msg_controllen = sizeof(ctrl.b) };
		ssize_t n = recvmsg(v->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c)) {
			g_assert_cmpint(c->cmsg_type, ==, SCM_RIGHTS);
			g_assert_cmpuint(c->cmsg_len, ==, CMSG_LEN(sizeof(int)));
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			g_queue_push_tail(&v->fds, GINT_TO_POINTER(fd + 1));
		}
		if (n <= 0) {
			v->closed = true;
			return;
		}
		int r = console_reader_feed(&v->reader, buf, (size_t)n, viewer_on_msg, v);
		g_assert_cmpint(r, ==, 0);
	}
}

static void viewer_send(struct viewer *v, const struct console_msg *m)
{
	uint8_t buf[CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX];
	long n = console_msg_encode(m, buf, sizeof(buf));
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(send(v->fd, buf, (size_t)n, MSG_NOSIGNAL), ==, n);
}

static void viewer_send_raw(struct viewer *v, const void *p, size_t n)
{
	g_assert_cmpint(send(v->fd, p, n, MSG_NOSIGNAL), ==, (ssize_t)n);
}

static void viewer_hello(struct viewer *v, uint16_t major, uint32_t caps)
{
	struct console_msg m = { .type = CONSOLE_MSG_HELLO };
	m.hello.major = major;
	m.hello.caps = caps;
	m.hello.name = "test";
	m.hello.name_len = 4;
	viewer_send(v, &m);
}

/* The next frame received, decoded (pointers into v's copy), waiting for it. */
static bool viewer_take(struct viewer *v, struct console_msg *m)
{
	gint64 end = g_get_monotonic_time() + WAIT_LIMIT_US;
	while (v->next >= v->frames->len && !v->closed && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		viewer_pump(v);
		if (v->next >= v->frames->len)
			g_usleep(200);
	}
	if (v->next >= v->frames->len)
		return false;
	GBytes *b = g_ptr_array_index(v->frames, v->next++);
	gsize len;
	const uint8_t *p = g_bytes_get_data(b, &len);
	struct console_frame f;
	g_assert_cmpint(console_frame_parse(p, len, CONSOLE_FROM_WORKER, &f), ==, 0);
	g_assert_cmpint(console_msg_decode(&f, p + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_WORKER, m), ==, 0);
	return true;
}

static void viewer_expect(struct viewer *v, uint16_t type, struct console_msg *m)
{
	g_assert_true(viewer_take(v, m));
	g_assert_cmpuint(m->type, ==, type);
}

/* Runs the main loop and reads, then says whether anything new came. */
static bool viewer_quiet(struct viewer *v)
{
	for (int i = 0; i < 20; i++) {
		g_main_context_iteration(NULL, FALSE);
		viewer_pump(v);
	}
	return v->next == v->frames->len;
}

static void drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* The input sink. */
struct input_rec {
	GArray *keys;                /* uint32: code << 1 | down */
	uint32_t px, py, buttons;
	int32_t wheel, hwheel;
	unsigned pointers;
	int key_result;
};

static int rec_key(void *opaque, uint16_t code, bool down)
{
	struct input_rec *r = opaque;
	uint32_t v = (uint32_t)code << 1 | down;
	g_array_append_val(r->keys, v);
	return r->key_result;
}

static int rec_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel, int32_t hwheel)
{
	struct input_rec *r = opaque;
	r->px = x, r->py = y, r->buttons = buttons, r->wheel = wheel, r->hwheel = hwheel;
	r->pointers++;
	return 0;
}

static const struct input_sink_ops rec_ops = { .key = rec_key, .pointer = rec_pointer };

struct fixture {
	struct display *d;
	struct console_server *cs;
	struct input_rec in;
	struct input_sink sink;
	GString *clip;
};

static void on_clipboard(void *opaque, const char *text, size_t len)
{
	struct fixture *fx = opaque;
	g_string_assign(fx->clip, "");
	g_string_append_len(fx->clip, text, (gssize)len);
}

static void fixture_init(struct fixture *fx, const char *path, unsigned hello_ms)
{
	fx->d = display_new(NULL);
	fx->in.keys = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	fx->sink = (struct input_sink){ &rec_ops, &fx->in };
	fx->clip = g_string_new(NULL);
	struct console_server_config cfg = { .path = path, .display = fx->d, .input = &fx->sink, .name = "test-vm",
					     .clipboard = on_clipboard, .clipboard_opaque = fx,
					     .hello_timeout_ms = hello_ms };
	GError *error = NULL;
	fx->cs = console_server_new(&cfg, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->cs);
}

static void fixture_clear(struct fixture *fx)
{
	console_server_free(fx->cs);
	display_free(fx->d);
	g_array_unref(fx->in.keys);
	g_string_free(fx->clip, TRUE);
}

static struct viewer *fixture_connect(struct fixture *fx)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(console_server_add_client_fd(fx->cs, sv[0]), ==, 0);
	return viewer_new(sv[1]);
}

static struct console_server_stats stats(struct fixture *fx)
{
	struct console_server_stats st;
	console_server_get_stats(fx->cs, &st);
	return st;
}

static uint32_t px_at(const uint8_t *base, uint32_t stride, uint32_t x, uint32_t y)
{
	uint32_t v;
	memcpy(&v, base + (size_t)y * stride + 4u * x, 4);
	return v;
}

static void test_shared_surface(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	const uint32_t W = 320, H = 200, STRIDE = 320 * 4 + 128;
	const uint64_t OFFSET = 4096 * 3 + 256;
	set_surface(fx.d, W, H, STRIDE, OFFSET, 7);
	drain();

	struct viewer *v = fixture_connect(&fx);
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	g_assert_cmpuint(m.hello.major, ==, CONSOLE_VERSION_MAJOR);
	g_assert_cmpuint(m.hello.caps, ==, CONSOLE_CAP_INLINE_PIXELS | CONSOLE_CAP_FRAME_ACK);
	g_assert_cmpmem(m.hello.name, m.hello.name_len, "test-vm", 7);
	/* Nothing but HELLO before the viewer's HELLO. */
	g_assert_true(viewer_quiet(v));
	viewer_hello(v, 1, 0);

	viewer_expect(v, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.flags, ==, CONSOLE_FLAG_FD);
	g_assert_cmpuint(m.surface.width, ==, W);
	g_assert_cmpuint(m.surface.height, ==, H);
	g_assert_cmpuint(m.surface.stride, ==, STRIDE);
	g_assert_cmpuint(m.surface.offset, ==, OFFSET);
	g_assert_cmpuint(m.surface.size, ==, OFFSET + (uint64_t)STRIDE * H);
	g_assert_cmpuint(g_queue_get_length(&v->fds), ==, 1);
	int fd = GPOINTER_TO_INT(g_queue_pop_head(&v->fds)) - 1;
	/* The viewer's fd reads the pixels and cannot write them. */
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
	g_assert_true(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	g_assert_cmpint(errno, ==, EACCES);
	struct stat st;
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_cmpuint((uint64_t)st.st_size, >=, m.surface.size);
	size_t map_len = m.surface.size;
	uint8_t *map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, 0);
	g_assert_true(map != MAP_FAILED);
	const uint8_t *px = map + m.surface.offset;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			if (px_at(px, STRIDE, x, y) != pattern(x, y, 7))
				g_error("pixel %u,%u is %08x, not %08x", x, y, px_at(px, STRIDE, x, y), pattern(x, y, 7));

	/* The whole surface is damaged for a new viewer. */
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);
	g_assert_cmpuint(m.damage.frame, ==, 1);
	g_assert_cmpuint(m.damage.count, ==, 1);
	g_assert_cmpuint(m.damage.rects[0].w, ==, W);
	g_assert_cmpuint(m.damage.rects[0].h, ==, H);
	g_assert_true(viewer_quiet(v));

	/* Damage from the producer reaches the viewer, clipped. */
	display_damage(fx.d, &(struct display_rect){ 300, 190, 100, 100 }, 1);
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);
	g_assert_cmpuint(m.damage.frame, ==, 2);
	g_assert_cmpuint(m.damage.count, ==, 1);
	g_assert_cmpuint(m.damage.rects[0].x, ==, 300);
	g_assert_cmpuint(m.damage.rects[0].w, ==, 20);
	g_assert_cmpuint(m.damage.rects[0].h, ==, 10);

	/* A resize: a new SURFACE with a new fd, then damage all over. */
	set_surface(fx.d, 64, 48, 256, 0, 9);
	viewer_expect(v, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.surface.width, ==, 64);
	g_assert_cmpuint(g_queue_get_length(&v->fds), ==, 1);
	int fd2 = GPOINTER_TO_INT(g_queue_pop_head(&v->fds)) - 1;
	size_t map2_len = m.surface.size;
	g_assert_cmpuint(map2_len, ==, 256 * 48);
	uint8_t *map2 = mmap(NULL, map2_len, PROT_READ, MAP_SHARED, fd2, 0);
	g_assert_true(map2 != MAP_FAILED);
	g_assert_cmpuint(px_at(map2, 256, 63, 47), ==, pattern(63, 47, 9));
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);
	g_assert_cmpuint(m.damage.rects[0].w, ==, 64);

	/* No picture: NO_SURFACE, and damage stops. */
	g_assert_cmpint(display_set_surface(fx.d, NULL), ==, 0);
	viewer_expect(v, CONSOLE_MSG_NO_SURFACE, &m);
	display_damage(fx.d, &(struct display_rect){ 0, 0, 1, 1 }, 1);
	g_assert_true(viewer_quiet(v));

	munmap(map, map_len);
	munmap(map2, map2_len);
	close(fd);
	close(fd2);
	viewer_free(v);
	fixture_clear(&fx);
}

static void test_before_surface_and_many_viewers(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	console_server_set_vm_state(fx.cs, CONSOLE_VM_RUNNING, "booting");
	struct viewer *a = fixture_connect(&fx), *b = fixture_connect(&fx);
	struct console_msg m;
	viewer_hello(a, 1, 0);
	viewer_hello(b, 1, CONSOLE_CAP_INLINE_PIXELS);
	viewer_expect(a, CONSOLE_MSG_HELLO, &m);
	viewer_expect(a, CONSOLE_MSG_NO_SURFACE, &m);
	viewer_expect(a, CONSOLE_MSG_VM_STATE, &m);
	g_assert_cmpuint(m.vm_state.state, ==, CONSOLE_VM_RUNNING);
	g_assert_cmpmem(m.vm_state.reason, m.vm_state.reason_len, "booting", 7);
	viewer_expect(b, CONSOLE_MSG_HELLO, &m);
	viewer_expect(b, CONSOLE_MSG_NO_SURFACE, &m);
	viewer_expect(b, CONSOLE_MSG_VM_STATE, &m);

	/* The guest draws later: both hear it, each in its own transport. */
	set_surface(fx.d, 16, 16, 64, 0, 3);
	viewer_expect(a, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.flags, ==, CONSOLE_FLAG_FD);
	viewer_expect(b, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.flags, ==, 0);
	g_assert_cmpuint(g_queue_get_length(&b->fds), ==, 0);
	viewer_expect(a, CONSOLE_MSG_DAMAGE, &m);
	viewer_expect(b, CONSOLE_MSG_PIXELS, &m);
	viewer_expect(b, CONSOLE_MSG_DAMAGE, &m);

	/* The machine goes away and a new boot draws again: viewers stay. */
	console_server_set_vm_state(fx.cs, CONSOLE_VM_OFF, "rebooting");
	g_assert_cmpint(display_set_surface(fx.d, NULL), ==, 0);
	drain();
	viewer_expect(a, CONSOLE_MSG_VM_STATE, &m);
	g_assert_cmpuint(m.vm_state.state, ==, CONSOLE_VM_OFF);
	viewer_expect(a, CONSOLE_MSG_NO_SURFACE, &m);
	set_surface(fx.d, 32, 8, 128, 0, 4);
	console_server_set_vm_state(fx.cs, CONSOLE_VM_RUNNING, "restarted");
	viewer_expect(a, CONSOLE_MSG_VM_STATE, &m);
	viewer_expect(a, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.surface.width, ==, 32);
	g_assert_cmpuint(stats(&fx).clients, ==, 2);

	/* One leaves; the other goes on. */
	viewer_free(a);
	display_damage(fx.d, &(struct display_rect){ 0, 0, 2, 2 }, 1);
	drain();
	g_assert_cmpuint(stats(&fx).clients, ==, 1);
	viewer_free(b);
	fixture_clear(&fx);
}

static void test_inline_pixels(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	/* 1024 x 300 is 1.2 MB: several PIXELS messages per frame. */
	const uint32_t W = 1024, H = 300, STRIDE = 1024 * 4 + 64;
	set_surface(fx.d, W, H, STRIDE, 8192, 11);
	drain();
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, CONSOLE_CAP_INLINE_PIXELS);
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	viewer_expect(v, CONSOLE_MSG_SURFACE, &m);
	g_assert_cmpuint(m.flags, ==, 0);
	g_assert_cmpuint(m.surface.stride, ==, W * 4);
	g_assert_cmpuint(m.surface.offset, ==, 0);

	uint32_t *img = g_new0(uint32_t, (size_t)W * H);
	unsigned bands = 0;
	for (;;) {
		g_assert_true(viewer_take(v, &m));
		if (m.type == CONSOLE_MSG_DAMAGE)
			break;
		g_assert_cmpuint(m.type, ==, CONSOLE_MSG_PIXELS);
		bands++;
		for (uint32_t y = 0; y < m.pixels.r.h; y++)
			memcpy(img + (size_t)(m.pixels.r.y + y) * W + m.pixels.r.x, m.pixels.data + (size_t)y * m.pixels.stride,
			       (size_t)m.pixels.r.w * 4);
	}
	g_assert_cmpuint(bands, ==, (W * H * 4 + CONSOLE_PIXELS_MAX - 1) / CONSOLE_PIXELS_MAX);
	g_assert_cmpuint(m.damage.count, ==, 1);
	g_assert_cmpuint(m.damage.rects[0].w, ==, W);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			if (img[(size_t)y * W + x] != pattern(x, y, 11))
				g_error("inline pixel %u,%u wrong", x, y);

	/* A small change sends only its rectangle. */
	display_damage(fx.d, &(struct display_rect){ 10, 20, 3, 2 }, 1);
	viewer_expect(v, CONSOLE_MSG_PIXELS, &m);
	g_assert_cmpuint(m.pixels.r.x, ==, 10);
	g_assert_cmpuint(m.pixels.r.y, ==, 20);
	g_assert_cmpuint(m.pixels.r.w, ==, 3);
	g_assert_cmpuint(m.pixels.r.h, ==, 2);
	g_assert_cmpuint(px_at(m.pixels.data, m.pixels.stride, 2, 1), ==, pattern(12, 21, 11));
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);
	g_free(img);
	viewer_free(v);
	fixture_clear(&fx);
}

/* A viewer that acks frames: no more than CONSOLE_FRAMES_IN_FLIGHT
 * unacked, the rest merged and sent after the ack. */
static void test_frame_ack_merges(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	set_surface(fx.d, 200, 100, 800, 0, 1);
	drain();
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, CONSOLE_CAP_FRAME_ACK);
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	viewer_expect(v, CONSOLE_MSG_SURFACE, &m);
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);          /* frame 1 */
	display_damage(fx.d, &(struct display_rect){ 0, 0, 1, 1 }, 1);
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);          /* frame 2 */
	g_assert_cmpuint(m.damage.frame, ==, 2);
	/* Two in flight: the next 50 updates wait and merge. */
	for (uint32_t i = 0; i < 50; i++) {
		display_damage(fx.d, &(struct display_rect){ i * 4, i * 2, 2, 2 }, 1);
		drain();
	}
	g_assert_true(viewer_quiet(v));
	/* An ack of a frame never sent is counted and changes nothing. */
	struct console_msg ack = { .type = CONSOLE_MSG_FRAME_DONE };
	ack.frame_done.frame = 9;
	viewer_send(v, &ack);
	g_assert_true(viewer_quiet(v));
	g_assert_cmpuint(stats(&fx).bad_messages, ==, 1);
	ack.frame_done.frame = 1;
	viewer_send(v, &ack);
	viewer_expect(v, CONSOLE_MSG_DAMAGE, &m);
	g_assert_cmpuint(m.damage.frame, ==, 3);
	g_assert_cmpuint(m.damage.count, >=, 1);
	g_assert_cmpuint(m.damage.count, <=, DISPLAY_DAMAGE_RECTS);
	/* All 50 are covered. */
	for (uint32_t i = 0; i < 50; i++) {
		bool covered = false;
		for (uint32_t k = 0; k < m.damage.count; k++) {
			const struct console_rect *r = &m.damage.rects[k];
			covered = covered || (r->x <= i * 4 && r->x + r->w >= i * 4 + 2 && r->y <= i * 2 &&
					      r->y + r->h >= MIN(i * 2 + 2, 100u));
		}
		g_assert_true(covered);
	}
	g_assert_true(viewer_quiet(v));
	viewer_free(v);
	fixture_clear(&fx);
}

/* Fills the viewer's socket until the server has to wait (the viewer reads nothing). */
static void fill_socket(struct fixture *fx, struct viewer *v)
{
	char *text = g_malloc(CONSOLE_CLIPBOARD_MAX);
	memset(text, 'c', CONSOLE_CLIPBOARD_MAX);
	for (int i = 0; i < 8; i++) {
		g_assert_cmpint(console_server_set_guest_clipboard(fx->cs, text, CONSOLE_CLIPBOARD_MAX), ==, 0);
		drain();
	}
	g_free(text);
}

static void test_slow_viewer_merges(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	set_surface(fx.d, 640, 480, 2560, 0, 5);
	drain();
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	drain();
	fill_socket(&fx, v);
	/* The viewer reads nothing while the guest draws 2000 times. */
	for (uint32_t i = 0; i < 2000; i++) {
		display_damage(fx.d, &(struct display_rect){ (i * 37) % 600, (i * 13) % 460, 8, 8 }, 1);
		drain();
	}
	struct console_server_stats st = stats(&fx);
	uint64_t frames_before = st.frames;
	/* Everything it holds: one clipboard message on its way, the reader's buffer. */
	g_assert_cmpuint(st.buffered_max, <=, CONSOLE_HEADER_SIZE + 4 + CONSOLE_CLIPBOARD_MAX + 256);

	/* It reads again: the clipboard, then the damage merged into at most
	 * DISPLAY_DAMAGE_RECTS rectangles in very few frames. */
	unsigned damages = 0, clips = 0;
	struct console_msg m;
	while (viewer_take(v, &m)) {
		if (m.type == CONSOLE_MSG_CLIPBOARD)
			clips++;
		if (m.type == CONSOLE_MSG_DAMAGE) {
			damages++;
			g_assert_cmpuint(m.damage.count, <=, DISPLAY_DAMAGE_RECTS);
		}
		if (viewer_quiet(v) && v->next == v->frames->len)
			break;
	}
	g_assert_cmpuint(clips, >=, 1);
	g_assert_cmpuint(clips, <=, 8);
	/* The first DAMAGE (the full new surface) went out before the socket filled. */
	g_assert_cmpuint(damages, >=, 1);
	g_assert_cmpuint(damages, <=, 3);
	g_assert_cmpuint(stats(&fx).frames, <=, frames_before + 2);
	viewer_free(v);
	fixture_clear(&fx);
}

static void test_stuck_viewer_bounded(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	set_surface(fx.d, 1024, 768, 4096, 0, 6);
	drain();
	/* Inline pixels: the costliest viewer to feed. It never reads. */
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, CONSOLE_CAP_INLINE_PIXELS);
	uint8_t shape[32 * 32 * 4] = { 0 };
	size_t max_seen = 0;
	for (uint32_t round = 0; round < 300; round++) {
		display_damage(fx.d, &(struct display_rect){ 0, 0, 1024, 768 }, 1);
		display_set_cursor(fx.d, true, (int32_t)round, 5,
				   &(struct display_cursor){ 32, 32, 1, 1, shape });
		char text[32];
		int n = snprintf(text, sizeof(text), "clip %u", round);
		g_assert_cmpint(console_server_set_guest_clipboard(fx.cs, text, (size_t)n), ==, 0);
		console_server_set_vm_state(fx.cs, CONSOLE_VM_RUNNING, "running");
		drain();
		struct console_server_stats st = stats(&fx);
		max_seen = MAX(max_seen, st.buffered_max);
		/* One message in the output buffer at most: a band of pixels. */
		g_assert_cmpuint(st.buffered_max, <=, CONSOLE_HEADER_SIZE + sizeof(struct console_wire_pixels) +
							      CONSOLE_PIXELS_MAX + 256);
	}
	g_assert_cmpuint(max_seen, >, 0);
	/* A second viewer is served meanwhile. */
	struct viewer *w = fixture_connect(&fx);
	viewer_hello(w, 1, 0);
	struct console_msg m;
	viewer_expect(w, CONSOLE_MSG_HELLO, &m);
	viewer_expect(w, CONSOLE_MSG_SURFACE, &m);
	viewer_expect(w, CONSOLE_MSG_VM_STATE, &m);
	viewer_expect(w, CONSOLE_MSG_CURSOR, &m);
	g_assert_cmpint(m.cursor.x, ==, 299);
	g_assert_cmpuint(m.cursor.flags, ==, CONSOLE_CURSOR_VISIBLE | CONSOLE_CURSOR_SHAPE);
	g_assert_cmpuint(m.cursor.w, ==, 32);
	viewer_expect(w, CONSOLE_MSG_CLIPBOARD, &m);
	g_assert_cmpmem(m.clipboard.text, m.clipboard.len, "clip 299", 8);
	viewer_expect(w, CONSOLE_MSG_DAMAGE, &m);
	viewer_free(w);
	viewer_free(v);
	fixture_clear(&fx);
}

static void test_input(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	drain();
	struct console_msg k = { .type = CONSOLE_MSG_KEY };
	k.key.code = 30;
	k.key.down = true;
	viewer_send(v, &k);
	k.key.down = false;
	viewer_send(v, &k);
	k.key.code = 0x2ff;
	k.key.down = true;
	viewer_send(v, &k);
	/* No surface yet: the pointer has nothing to be relative to. */
	struct console_msg p = { .type = CONSOLE_MSG_POINTER };
	p.pointer.x = 10;
	viewer_send(v, &p);
	viewer_quiet(v);
	g_assert_cmpuint(fx.in.keys->len, ==, 3);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, 0), ==, 30u << 1 | 1);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, 1), ==, 30u << 1);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, 2), ==, 0x2ffu << 1 | 1);
	g_assert_cmpuint(fx.in.pointers, ==, 0);
	g_assert_cmpuint(stats(&fx).input_dropped, ==, 1);

	set_surface(fx.d, 640, 480, 2560, 0, 1);
	drain();
	p.pointer.x = 5000;   /* in the protocol's range, off this surface: clamped */
	p.pointer.y = 17;
	p.pointer.buttons = CONSOLE_BUTTON_LEFT | CONSOLE_BUTTON_MIDDLE;
	p.pointer.wheel = -2;
	p.pointer.hwheel = 1;
	viewer_send(v, &p);
	viewer_quiet(v);
	g_assert_cmpuint(fx.in.pointers, ==, 1);
	g_assert_cmpuint(fx.in.px, ==, 639);
	g_assert_cmpuint(fx.in.py, ==, 17);
	g_assert_cmpuint(fx.in.buttons, ==, INPUT_BUTTON_LEFT | INPUT_BUTTON_MIDDLE);
	g_assert_cmpint(fx.in.wheel, ==, -2);
	g_assert_cmpint(fx.in.hwheel, ==, 1);

	/* A keyboard that is not there yet: counted, the viewer stays. */
	fx.in.key_result = -ENOTCONN;
	k.key.code = 31;
	viewer_send(v, &k);
	viewer_quiet(v);
	g_assert_cmpuint(stats(&fx).input_dropped, ==, 2);
	g_assert_false(v->closed);
	/* The viewer leaves with 0x2ff held: the worker lets go of it, and only of it. */
	fx.in.key_result = 0;
	g_assert_cmpuint(fx.in.keys->len, ==, 4);
	viewer_free(v);
	for (int i = 0; i < 100 && stats(&fx).clients; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(fx.in.keys->len, ==, 5);
	g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, 4), ==, 0x2ffu << 1);
	fixture_clear(&fx);
}

/* A viewer that types and hangs up at once, while the worker has something
 * to write to it: the write fails first, and what the viewer sent before
 * it went still reaches the keyboard (vireo-console-client --keys does
 * this; through the emulated host the hangup can overtake the keys). */
static void test_keys_before_hangup(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	set_surface(fx.d, 640, 480, 2560, 0, 1);
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	struct console_msg m = { 0 };
	while (m.type != CONSOLE_MSG_SURFACE)
		g_assert_true(viewer_take(v, &m));
	drain();
	struct console_msg k = { .type = CONSOLE_MSG_KEY };
	for (uint16_t code = 30; code < 33; code++) {
		k.key.code = code;
		k.key.down = true;
		viewer_send(v, &k);
		k.key.down = false;
		viewer_send(v, &k);
	}
	viewer_free(v);
	/* News for the viewer before the main loop looks at its socket: the
	 * worker writes to a viewer that is gone. */
	console_server_set_vm_state(fx.cs, CONSOLE_VM_RUNNING, "restored");
	for (int i = 0; i < 100 && stats(&fx).clients; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(stats(&fx).clients, ==, 0);
	g_assert_cmpuint(fx.in.keys->len, ==, 6);
	for (guint i = 0; i < 6; i++)
		g_assert_cmpuint(g_array_index(fx.in.keys, uint32_t, i), ==, (30u + i / 2) << 1 | (i % 2 == 0));
	g_assert_cmpuint(stats(&fx).input_dropped, ==, 0);
	fixture_clear(&fx);
}

static void test_clipboard(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	viewer_expect(v, CONSOLE_MSG_NO_SURFACE, &m);
	g_assert_null(console_server_host_clipboard(fx.cs, NULL));
	struct console_msg c = { .type = CONSOLE_MSG_CLIPBOARD };
	c.clipboard.format = CONSOLE_CLIPBOARD_TEXT;
	c.clipboard.text = "host text \xe2\x9c\x93";
	c.clipboard.len = strlen(c.clipboard.text);
	viewer_send(v, &c);
	viewer_quiet(v);
	size_t len = 0;
	const char *t = console_server_host_clipboard(fx.cs, &len);
	g_assert_cmpmem(t, len, "host text \xe2\x9c\x93", 13);
	g_assert_cmpstr(fx.clip->str, ==, "host text \xe2\x9c\x93");

	/* Not UTF-8: counted, dropped, the last good text stays. */
	uint8_t bad[] = { 0x02, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 'a', 0xff };
	viewer_send_raw(v, bad, sizeof(bad));
	viewer_quiet(v);
	g_assert_cmpuint(stats(&fx).bad_messages, ==, 1);
	t = console_server_host_clipboard(fx.cs, &len);
	g_assert_cmpmem(t, len, "host text \xe2\x9c\x93", 13);
	g_assert_false(v->closed);

	/* The guest's clipboard reaches the viewer. */
	g_assert_cmpint(console_server_set_guest_clipboard(fx.cs, "from guest", 10), ==, 0);
	viewer_expect(v, CONSOLE_MSG_CLIPBOARD, &m);
	g_assert_cmpmem(m.clipboard.text, m.clipboard.len, "from guest", 10);
	g_assert_cmpint(console_server_set_guest_clipboard(fx.cs, "\xc0\xaf", 2), ==, -EINVAL);
	g_assert_true(viewer_quiet(v));
	viewer_free(v);
	fixture_clear(&fx);
}

/* Sends bytes, expects an ERROR with code, then the end of the connection. */
static void expect_dropped(struct fixture *fx, struct viewer *v, uint32_t code)
{
	struct console_msg m;
	bool got_error = false;
	while (viewer_take(v, &m)) {
		if (m.type == CONSOLE_MSG_ERROR) {
			g_assert_cmpuint(m.error.code, ==, code);
			got_error = true;
		}
	}
	g_assert_true(got_error);
	g_assert_true(v->closed);
}

static void test_hostile_viewers(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);

	/* Bad content in good frames: counted and dropped, the session goes on. */
	struct viewer *v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	uint8_t bad_key[] = { 0x20, 0, 0, 0, 4, 0, 0, 0, 0x00, 0x04, 1, 0 };      /* code 0x400 */
	uint8_t unknown[] = { 0x77, 0x07, 0, 0, 2, 0, 0, 0, 'h', 'i' };
	uint8_t damage[] = { 0x12, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };  /* a worker's message */
	uint8_t hello_again[] = { 0x01, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	viewer_send_raw(v, bad_key, sizeof(bad_key));
	viewer_send_raw(v, unknown, sizeof(unknown));
	viewer_send_raw(v, damage, sizeof(damage));
	viewer_send_raw(v, hello_again, sizeof(hello_again));
	struct console_msg k = { .type = CONSOLE_MSG_KEY };
	k.key.code = 44;
	k.key.down = true;
	viewer_send(v, &k);
	viewer_quiet(v);
	g_assert_cmpuint(stats(&fx).bad_messages, ==, 4);
	g_assert_cmpuint(fx.in.keys->len, ==, 1);
	g_assert_false(v->closed);

	/* A frame longer than its type allows: the viewer is dropped. */
	uint8_t long_key[] = { 0x20, 0, 0, 0, 5, 0, 0, 0 };
	viewer_send_raw(v, long_key, sizeof(long_key));
	expect_dropped(&fx, v, CONSOLE_ERROR_PROTOCOL);
	viewer_free(v);
	g_assert_cmpuint(stats(&fx).clients, ==, 0);

	/* An oversized length in the header: dropped before a byte of body is kept. */
	v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	uint8_t huge[] = { 0x02, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	viewer_send_raw(v, huge, sizeof(huge));
	expect_dropped(&fx, v, CONSOLE_ERROR_PROTOCOL);
	viewer_free(v);

	/* Reserved header flags. */
	v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	uint8_t flags[] = { 0x20, 0, 0x80, 0, 4, 0, 0, 0, 30, 0, 1, 0 };
	viewer_send_raw(v, flags, sizeof(flags));
	expect_dropped(&fx, v, CONSOLE_ERROR_PROTOCOL);
	viewer_free(v);

	/* Something else than HELLO first. */
	v = fixture_connect(&fx);
	viewer_send(v, &k);
	expect_dropped(&fx, v, CONSOLE_ERROR_PROTOCOL);
	viewer_free(v);

	/* A major version we do not speak. */
	v = fixture_connect(&fx);
	viewer_hello(v, 2, 0);
	expect_dropped(&fx, v, CONSOLE_ERROR_VERSION);
	viewer_free(v);

	/* A viewer passing a file descriptor: dropped, and the fd closed on our side. */
	v = fixture_connect(&fx);
	viewer_hello(v, 1, 0);
	int pfd[2];
	g_assert_cmpint(pipe2(pfd, O_CLOEXEC), ==, 0);
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctrl = { 0 };
	uint8_t key_bytes[CONSOLE_HEADER_SIZE + 4];
	g_assert_cmpint(console_msg_encode(&k, key_bytes, sizeof(key_bytes)), ==, sizeof(key_bytes));
	struct iovec iov = { key_bytes, sizeof(key_bytes) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[1], sizeof(int));
	g_assert_cmpint(sendmsg(v->fd, &mh, MSG_NOSIGNAL), ==, sizeof(key_bytes));
	close(pfd[1]);
	unsigned keys_before = fx.in.keys->len;
	expect_dropped(&fx, v, CONSOLE_ERROR_FD);
	g_assert_cmpuint(fx.in.keys->len, ==, keys_before);
	g_assert_cmpuint(stats(&fx).fds_refused, ==, 1);
	/* Every write end is closed: the read end sees the end of the pipe. */
	char byte;
	g_assert_cmpint(read(pfd[0], &byte, 1), ==, 0);
	close(pfd[0]);
	viewer_free(v);

	/* A viewer that sends half a header and nothing more, before its HELLO,
	 * is dropped by the hello timeout; bytes in pieces are fine otherwise. */
	v = fixture_connect(&fx);
	uint8_t hello_bytes[64];
	struct console_msg h = { .type = CONSOLE_MSG_HELLO };
	h.hello.major = 1;
	long hn = console_msg_encode(&h, hello_bytes, sizeof(hello_bytes));
	for (long i = 0; i < hn; i++) {
		viewer_send_raw(v, hello_bytes + i, 1);
		drain();
	}
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	viewer_expect(v, CONSOLE_MSG_NO_SURFACE, &m);
	viewer_free(v);
	for (int i = 0; i < 100 && stats(&fx).clients; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(stats(&fx).clients, ==, 0);
	fixture_clear(&fx);

	fixture_init(&fx, NULL, 50);
	v = fixture_connect(&fx);
	viewer_send_raw(v, hello_bytes, 3);
	expect_dropped(&fx, v, CONSOLE_ERROR_TIMEOUT);
	viewer_free(v);
	fixture_clear(&fx);
}

static void test_too_many_viewers(void)
{
	struct fixture fx = { 0 };
	fixture_init(&fx, NULL, 0);
	struct viewer *v[CONSOLE_SERVER_CLIENTS_MAX];
	for (int i = 0; i < CONSOLE_SERVER_CLIENTS_MAX; i++)
		v[i] = fixture_connect(&fx);
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(console_server_add_client_fd(fx.cs, sv[0]), ==, -EBUSY);
	struct viewer *late = viewer_new(sv[1]);
	expect_dropped(&fx, late, CONSOLE_ERROR_BUSY);
	viewer_free(late);
	g_assert_cmpuint(stats(&fx).refused_busy, ==, 1);
	for (int i = 0; i < CONSOLE_SERVER_CLIENTS_MAX; i++)
		viewer_free(v[i]);
	fixture_clear(&fx);
}

static int connect_path(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void test_socket_and_credentials(void)
{
	struct ucred me = { .pid = 1, .uid = 1000, .gid = 1000 };
	g_assert_true(console_server_peer_allowed(&me, 1000));
	g_assert_false(console_server_peer_allowed(&me, 1001));
	me.uid = 0;
	g_assert_false(console_server_peer_allowed(&me, 1000));

	g_autofree char *dir = g_dir_make_tmp("vireo-console-XXXXXX", NULL);
	g_assert_nonnull(dir);
	g_autofree char *path = g_build_filename(dir, "console", NULL);
	struct fixture fx = { 0 };
	fixture_init(&fx, path, 0);
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);

	/* The same user gets in through the path. */
	int fd = connect_path(path);
	g_assert_cmpint(fd, >=, 0);
	struct viewer *v = viewer_new(fd);
	viewer_hello(v, 1, 0);
	struct console_msg m;
	viewer_expect(v, CONSOLE_MSG_HELLO, &m);
	viewer_expect(v, CONSOLE_MSG_NO_SURFACE, &m);
	g_assert_cmpuint(stats(&fx).accepted, ==, 1);
	viewer_free(v);

	/* Another user: with the socket opened up by mistake (0666), the
	 * credential check still refuses it. Changing uid needs root. */
	if (geteuid() != 0) {
		g_test_skip("another uid needs root");
	} else {
		g_assert_cmpint(chmod(dir, 0755), ==, 0);
		g_assert_cmpint(chmod(path, 0666), ==, 0);
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(2);
			int c = connect_path(path);
			if (c < 0)
				_exit(3);
			/* Refused: the worker closes without a HELLO. */
			char b;
			struct timeval tv = { 5, 0 };
			setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			_exit(read(c, &b, 1) == 0 ? 0 : 4);
		}
		int status = 0;
		gint64 end = g_get_monotonic_time() + WAIT_LIMIT_US;
		pid_t done = 0;
		while ((done = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < end) {
			g_main_context_iteration(NULL, FALSE);
			g_usleep(1000);
		}
		g_assert_cmpint(done, ==, pid);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
		g_assert_cmpuint(stats(&fx).refused_peer, ==, 1);
		g_assert_cmpuint(stats(&fx).accepted, ==, 1);
	}
	fixture_clear(&fx);
	/* The server removes its socket. */
	g_assert_cmpint(stat(path, &st), ==, -1);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/console-server/shared-surface", test_shared_surface);
	g_test_add_func("/console-server/before-surface-and-many-viewers", test_before_surface_and_many_viewers);
	g_test_add_func("/console-server/inline-pixels", test_inline_pixels);
	g_test_add_func("/console-server/frame-ack-merges", test_frame_ack_merges);
	g_test_add_func("/console-server/slow-viewer-merges", test_slow_viewer_merges);
	g_test_add_func("/console-server/stuck-viewer-bounded", test_stuck_viewer_bounded);
	g_test_add_func("/console-server/input", test_input);
	g_test_add_func("/console-server/keys-before-hangup", test_keys_before_hangup);
	g_test_add_func("/console-server/clipboard", test_clipboard);
	g_test_add_func("/console-server/hostile-viewers", test_hostile_viewers);
	g_test_add_func("/console-server/too-many-viewers", test_too_many_viewers);
	g_test_add_func("/console-server/socket-and-credentials", test_socket_and_credentials);
	return g_test_run();
}
