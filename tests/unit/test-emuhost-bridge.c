// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A console connection through the emulated host (backend/worker/
 * emuhost_bridge.c): the viewer's HELLO gains INLINE_PIXELS; for a viewer
 * that expects shared memory the worker's inline surface becomes a
 * read-only memfd holding exactly the pixels sent, PIXELS are not
 * forwarded, everything else is, byte for byte; a viewer that asked for
 * inline pixels gets the stream as it is. Hostile worker streams: PIXELS
 * outside the surface, a surface too big, an fd claimed, broken framing;
 * and a viewer that does not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_bridge.h"

static GByteArray *enc(GByteArray *a, const struct console_msg *m)
{
	size_t n = console_msg_size(m);
	g_assert_cmpuint(n, >, 0);
	guint at = a->len;
	g_byte_array_set_size(a, at + (guint)n);
	g_assert_cmpint(console_msg_encode(m, a->data + at, n), ==, (long)n);
	return a;
}

static void hello(GByteArray *a, uint32_t caps, const char *name)
{
	struct console_msg m = { .type = CONSOLE_MSG_HELLO };
	m.hello.major = CONSOLE_VERSION_MAJOR;
	m.hello.caps = caps;
	m.hello.name = name;
	m.hello.name_len = strlen(name);
	enc(a, &m);
}

static void surface(GByteArray *a, uint32_t w, uint32_t h, uint16_t flags)
{
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE, .flags = flags };
	m.surface.width = w;
	m.surface.height = h;
	m.surface.stride = w * 4;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	m.surface.size = (uint64_t)w * 4 * h;
	enc(a, &m);
}

static uint32_t px(uint32_t x, uint32_t y, uint32_t seed)
{
	return (x * 7 + seed) | (y * 5 + seed) << 8 | (x ^ y) << 16;
}

static void pixels(GByteArray *a, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t seed)
{
	g_autofree uint32_t *data = g_new(uint32_t, (gsize)w * h);
	for (uint32_t j = 0; j < h; j++)
		for (uint32_t i = 0; i < w; i++)
			data[j * w + i] = px(x + i, y + j, seed);
	struct console_msg m = { .type = CONSOLE_MSG_PIXELS };
	m.pixels.r = (struct console_rect){ x, y, w, h };
	m.pixels.data = (const uint8_t *)data;
	m.pixels.stride = w * 4;
	enc(a, &m);
}

static void damage(GByteArray *a, uint32_t frame, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_DAMAGE };
	m.damage.frame = frame;
	m.damage.count = 1;
	m.damage.rects[0] = (struct console_rect){ 0, 0, w, h };
	enc(a, &m);
}

static void vm_state(GByteArray *a)
{
	struct console_msg m = { .type = CONSOLE_MSG_VM_STATE };
	m.vm_state.state = CONSOLE_VM_RUNNING;
	m.vm_state.reason = "started";
	m.vm_state.reason_len = 7;
	enc(a, &m);
}

struct seen {
	uint16_t types[32];
	uint16_t flags[32];
	unsigned n;
	struct console_msg hello;
	uint32_t caps;
};

static int seen_fn(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct seen *s = opaque;
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpuint(s->n, <, G_N_ELEMENTS(s->types));
	s->flags[s->n] = f->flags;
	s->types[s->n++] = m->type;
	if (m->type == CONSOLE_MSG_HELLO)
		s->caps = m->hello.caps;
	return 0;
}

static void decode_all(const struct emuhost_buf *b, enum console_sender from, struct seen *s)
{
	struct console_reader r;
	console_reader_init(&r, from);
	g_assert_cmpint(console_reader_feed(&r, b->data, b->len, seen_fn, s), ==, 0);
	g_assert_cmpuint(r.len, ==, 0);
	console_reader_clear(&r);
}

/* Feed a's bytes in chunks of `chunk` (0: all at once); all must be taken. */
static void from_worker(struct emuhost_bridge *b, GByteArray *a, size_t chunk)
{
	size_t off = 0;
	while (off < a->len) {
		size_t n = chunk ? MIN(chunk, a->len - off) : a->len - off;
		long t = emuhost_bridge_from_worker(b, a->data + off, n);
		g_assert_cmpint(t, ==, (long)n);
		off += n;
	}
}

static void check_memfd(int fd, uint32_t w, uint32_t h, uint32_t seed)
{
	struct stat st;
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, (off_t)w * 4 * h);
	/* Read-only for the viewer. */
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
	g_assert_true(mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	const uint32_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	g_assert_true(p != MAP_FAILED);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (p[y * w + x] != px(x, y, seed))
				g_error("pixel %u,%u is %08x, want %08x", x, y, p[y * w + x], px(x, y, seed));
	munmap((void *)p, (size_t)st.st_size);
}

static void run_reshare(size_t chunk)
{
	struct emuhost_bridge b;
	emuhost_bridge_init(&b);
	g_autoptr(GByteArray) v = g_byte_array_new();
	hello(v, CONSOLE_CAP_FRAME_ACK, "a viewer");
	/* The viewer's HELLO, one byte at a time: nothing goes on before it is whole. */
	for (guint i = 0; i < v->len; i++) {
		g_assert_cmpint(emuhost_bridge_from_viewer(&b, v->data + i, 1), ==, 0);
		g_assert_cmpuint(b.to_worker.len, ==, i + 1 < v->len ? 0 : v->len);
	}
	g_assert_true(b.reshare);
	struct seen sw = { 0 };
	decode_all(&b.to_worker, CONSOLE_FROM_VIEWER, &sw);
	g_assert_cmpuint(sw.n, ==, 1);
	g_assert_cmpuint(sw.caps, ==, CONSOLE_CAP_FRAME_ACK | CONSOLE_CAP_INLINE_PIXELS);

	g_autoptr(GByteArray) w = g_byte_array_new();
	hello(w, CONSOLE_CAP_FRAME_ACK | CONSOLE_CAP_INLINE_PIXELS, "vm");
	surface(w, 64, 32, 0);
	pixels(w, 0, 0, 64, 16, 3);
	pixels(w, 0, 16, 64, 16, 3);
	damage(w, 1, 64, 32);
	vm_state(w);
	from_worker(&b, w, chunk);
	struct seen s = { 0 };
	decode_all(&b.to_viewer, CONSOLE_FROM_WORKER, &s);
	static const uint16_t want[] = { CONSOLE_MSG_HELLO, CONSOLE_MSG_SURFACE, CONSOLE_MSG_DAMAGE, CONSOLE_MSG_VM_STATE };
	g_assert_cmpuint(s.n, ==, G_N_ELEMENTS(want));
	for (unsigned i = 0; i < s.n; i++)
		g_assert_cmpuint(s.types[i], ==, want[i]);
	g_assert_cmpuint(s.flags[1], ==, CONSOLE_FLAG_FD);
	g_assert_cmpuint(b.stats.surfaces, ==, 1);
	g_assert_cmpuint(b.stats.pixels, ==, 2);
	g_assert_cmpuint(b.stats.bad, ==, 0);

	/* The fd rides on the SURFACE's first byte: the HELLO goes before it without one. */
	size_t len;
	int fd;
	emuhost_bridge_next(&b, &len, &fd);
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpuint(len, ==, CONSOLE_HEADER_SIZE + 8 + 2);
	emuhost_bridge_sent(&b, len);
	emuhost_bridge_next(&b, &len, &fd);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(len, ==, b.to_viewer.len);
	check_memfd(fd, 64, 32, 3);
	int keep = dup(fd);
	emuhost_bridge_sent(&b, 1);
	emuhost_bridge_next(&b, &len, &fd);
	g_assert_cmpint(fd, ==, -1);
	emuhost_bridge_sent(&b, len);
	g_assert_cmpuint(b.to_viewer.len, ==, 0);

	/* A new frame's pixels land in the same memory: the viewer's mapping sees them. */
	g_byte_array_set_size(w, 0);
	pixels(w, 0, 0, 64, 32, 9);
	damage(w, 2, 64, 32);
	from_worker(&b, w, chunk);
	check_memfd(keep, 64, 32, 9);
	close(keep);
	emuhost_bridge_clear(&b);
}

static void test_reshare(void)
{
	run_reshare(0);
	run_reshare(1);
	run_reshare(333);
}

static void test_inline_viewer(void)
{
	struct emuhost_bridge b;
	emuhost_bridge_init(&b);
	g_autoptr(GByteArray) v = g_byte_array_new();
	hello(v, CONSOLE_CAP_INLINE_PIXELS, "inline");
	struct console_msg key = { .type = CONSOLE_MSG_KEY, .key = { 30, true } };
	enc(v, &key);
	g_assert_cmpint(emuhost_bridge_from_viewer(&b, v->data, v->len), ==, 0);
	g_assert_false(b.reshare);
	g_assert_cmpmem(b.to_worker.data, b.to_worker.len, v->data, v->len);
	g_autoptr(GByteArray) w = g_byte_array_new();
	hello(w, CONSOLE_CAP_FRAME_ACK | CONSOLE_CAP_INLINE_PIXELS, "vm");
	surface(w, 16, 16, 0);
	pixels(w, 0, 0, 16, 16, 1);
	damage(w, 1, 16, 16);
	from_worker(&b, w, 0);
	/* The worker's stream exactly, and no fd. */
	g_assert_cmpmem(b.to_viewer.data, b.to_viewer.len, w->data, w->len);
	g_assert_cmpuint(b.nfds, ==, 0);
	emuhost_bridge_clear(&b);
}

static void test_waits_for_viewer(void)
{
	struct emuhost_bridge b;
	emuhost_bridge_init(&b);
	g_autoptr(GByteArray) w = g_byte_array_new();
	hello(w, CONSOLE_CAP_INLINE_PIXELS, "vm");
	guint hello_len = w->len;
	surface(w, 8, 8, 0);
	/* The worker's HELLO goes out; its SURFACE waits until the viewer's HELLO says how. */
	long t = emuhost_bridge_from_worker(&b, w->data, w->len);
	g_assert_cmpint(t, ==, (long)w->len);
	g_assert_cmpuint(b.to_viewer.len, ==, hello_len);
	g_assert_cmpint(emuhost_bridge_from_worker(&b, w->data, w->len), ==, 0);
	g_autoptr(GByteArray) v = g_byte_array_new();
	hello(v, 0, "shared");
	g_assert_cmpint(emuhost_bridge_from_viewer(&b, v->data, v->len), ==, 0);
	g_assert_cmpuint(b.nfds, ==, 1);
	g_assert_cmpuint(b.stats.surfaces, ==, 1);
	emuhost_bridge_clear(&b);

	/* A first frame that is not a HELLO goes on as it is: the worker refuses it. */
	emuhost_bridge_init(&b);
	g_byte_array_set_size(v, 0);
	struct console_msg key = { .type = CONSOLE_MSG_KEY, .key = { 30, true } };
	enc(v, &key);
	g_assert_cmpint(emuhost_bridge_from_viewer(&b, v->data, v->len), ==, 0);
	g_assert_true(b.hello_seen);
	g_assert_false(b.reshare);
	g_assert_cmpmem(b.to_worker.data, b.to_worker.len, v->data, v->len);
	emuhost_bridge_clear(&b);

	/* Nor does a header that breaks the framing wait for more. */
	emuhost_bridge_init(&b);
	uint8_t bad[8] = { CONSOLE_MSG_HELLO, 0, 0, 0, 0xff, 0xff, 0, 0 };
	g_assert_cmpint(emuhost_bridge_from_viewer(&b, bad, sizeof(bad)), ==, 0);
	g_assert_true(b.hello_seen);
	g_assert_cmpmem(b.to_worker.data, b.to_worker.len, bad, sizeof(bad));
	emuhost_bridge_clear(&b);
}

static struct emuhost_bridge *reshared(void)
{
	struct emuhost_bridge *b = g_new(struct emuhost_bridge, 1);
	emuhost_bridge_init(b);
	g_autoptr(GByteArray) v = g_byte_array_new();
	hello(v, 0, "shared");
	g_assert_cmpint(emuhost_bridge_from_viewer(b, v->data, v->len), ==, 0);
	g_autoptr(GByteArray) w = g_byte_array_new();
	hello(w, CONSOLE_CAP_INLINE_PIXELS, "vm");
	from_worker(b, w, 0);
	emuhost_bridge_sent(b, b->to_viewer.len);
	return b;
}

static void test_hostile_worker(void)
{
	struct emuhost_bridge *b = reshared();
	g_autoptr(GByteArray) w = g_byte_array_new();
	/* PIXELS without a surface, then outside it. */
	pixels(w, 0, 0, 4, 4, 1);
	surface(w, 32, 32, 0);
	pixels(w, 30, 0, 4, 4, 1);
	pixels(w, 0, 31, 1, 2, 1);
	/* A SURFACE claiming an fd: none can come through L1. */
	surface(w, 16, 16, CONSOLE_FLAG_FD);
	from_worker(b, w, 0);
	g_assert_cmpuint(b->stats.bad, ==, 4);
	g_assert_cmpuint(b->stats.pixels, ==, 0);
	g_assert_cmpuint(b->stats.surfaces, ==, 1);
	g_assert_cmpuint(b->width, ==, 32);
	/* Too big to map here: the viewer is told there is no surface, and PIXELS go nowhere. */
	g_byte_array_set_size(w, 0);
	surface(w, 8192, 8192, 0);
	pixels(w, 0, 0, 8192, 8, 1);
	from_worker(b, w, 0);
	g_assert_cmpuint(b->stats.bad, ==, 6);
	g_assert_null(b->map);
	struct seen s = { 0 };
	decode_all(&b->to_viewer, CONSOLE_FROM_WORKER, &s);
	g_assert_cmpuint(s.n, ==, 2);
	g_assert_cmpuint(s.types[0], ==, CONSOLE_MSG_SURFACE);
	g_assert_cmpuint(s.types[1], ==, CONSOLE_MSG_NO_SURFACE);
	/* A frame longer than its type allows: the connection is over. */
	uint8_t bad[8] = { CONSOLE_MSG_DAMAGE, 0, 0, 0, 0, 0, 0x10, 0 };
	g_assert_cmpint(emuhost_bridge_from_worker(b, bad, sizeof(bad)), ==, -EPROTO);
	g_assert_cmpint(emuhost_bridge_from_worker(b, bad, sizeof(bad)), ==, -EPROTO);
	g_assert_cmpint(emuhost_bridge_from_viewer(b, bad, 1), ==, -EPROTO);
	emuhost_bridge_clear(b);
	g_free(b);
}

static void test_slow_viewer(void)
{
	struct emuhost_bridge *b = reshared();
	g_autoptr(GByteArray) w = g_byte_array_new();
	for (uint32_t i = 1; i <= 20000; i++)
		vm_state(w);
	/* The bridge stops taking the worker's bytes while the viewer's queue is full. */
	long t = emuhost_bridge_from_worker(b, w->data, w->len);
	g_assert_cmpint(t, >, 0);
	g_assert_cmpint(t, <, (long)w->len);
	g_assert_cmpuint(b->to_viewer.len, >=, EMUHOST_BRIDGE_OUT_MAX);
	g_assert_cmpuint(b->to_viewer.len, <, EMUHOST_BRIDGE_OUT_MAX + 64);
	g_assert_cmpint(emuhost_bridge_from_worker(b, w->data + t, w->len - (size_t)t), ==, 0);
	/* Once it read, the rest goes. */
	size_t off = (size_t)t;
	while (off < w->len) {
		emuhost_bridge_sent(b, b->to_viewer.len);
		long n = emuhost_bridge_from_worker(b, w->data + off, w->len - off);
		g_assert_cmpint(n, >, 0);
		off += (size_t)n;
	}
	emuhost_bridge_clear(b);
	g_free(b);

	/* Surfaces whose fds the viewer never takes: at most EMUHOST_BRIDGE_FDS_MAX wait. */
	b = reshared();
	g_byte_array_set_size(w, 0);
	for (int i = 0; i < 10; i++)
		surface(w, 8, 8, 0);
	t = emuhost_bridge_from_worker(b, w->data, w->len);
	g_assert_cmpuint(b->nfds, ==, EMUHOST_BRIDGE_FDS_MAX);
	g_assert_cmpint(t, <, (long)w->len);
	/* Surfaces back to back: each fd on its own SURFACE's first byte, none left over. */
	unsigned with_fd = 0;
	while (b->to_viewer.len) {
		size_t len;
		int fd;
		emuhost_bridge_next(b, &len, &fd);
		g_assert_cmpuint(len, ==, CONSOLE_HEADER_SIZE + sizeof(struct console_wire_surface));
		with_fd += fd >= 0;
		emuhost_bridge_sent(b, len);
	}
	g_assert_cmpuint(with_fd, ==, EMUHOST_BRIDGE_FDS_MAX);
	g_assert_cmpuint(b->nfds, ==, 0);
	emuhost_bridge_clear(b);
	g_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-bridge/reshare", test_reshare);
	g_test_add_func("/emuhost-bridge/inline-viewer", test_inline_viewer);
	g_test_add_func("/emuhost-bridge/waits-for-viewer", test_waits_for_viewer);
	g_test_add_func("/emuhost-bridge/hostile-worker", test_hostile_worker);
	g_test_add_func("/emuhost-bridge/slow-viewer", test_slow_viewer);
	return g_test_run();
}
