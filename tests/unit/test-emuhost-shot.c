// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "screenshot PATH" on vireo-emuhost's side: the picture taken as a console
 * viewer of its own (backend/worker/emuhost_shot.c) from a worker stream
 * that comes out of L1, whole and in pieces of any size, and every way
 * that stream can be wrong (short, oversized, unknown and out-of-order
 * messages, pixels outside the surface, a broken frame); then the control
 * line it answers (emuhost_screenshot.c) and its reply, with the PNG read
 * back pixel by pixel.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>

#include "emuhost_screenshot.h"
#include "emuhost_shot.h"

#define W 40
#define H 30

struct stream {
	GByteArray *b;
};

static void put(struct stream *s, const struct console_msg *m)
{
	size_t n = console_msg_size(m);
	g_assert_cmpuint(n, >, 0);
	guint at = s->b->len;
	g_byte_array_set_size(s->b, at + (guint)n);
	g_assert_cmpint(console_msg_encode(m, s->b->data + at, n), ==, (long)n);
}

/* A raw frame, for bodies the encoder would refuse. */
static void put_raw(struct stream *s, uint16_t type, uint16_t flags, const void *body, uint32_t len)
{
	uint8_t h[CONSOLE_HEADER_SIZE] = { (uint8_t)type, (uint8_t)(type >> 8), (uint8_t)flags, (uint8_t)(flags >> 8),
					   (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
	g_byte_array_append(s->b, h, sizeof(h));
	if (len)
		g_byte_array_append(s->b, body, len);
}

static void put_hello(struct stream *s, uint16_t major)
{
	struct console_msg m = { .type = CONSOLE_MSG_HELLO };
	m.hello.major = major;
	m.hello.caps = CONSOLE_CAP_INLINE_PIXELS | CONSOLE_CAP_FRAME_ACK;
	m.hello.name = "vm";
	m.hello.name_len = 2;
	put(s, &m);
}

static void put_surface(struct stream *s, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE };
	m.surface.width = w;
	m.surface.height = h;
	m.surface.stride = w * 4;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	m.surface.size = (uint64_t)w * h * 4;
	put(s, &m);
}

static void put_damage(struct stream *s, uint32_t frame, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct console_msg m = { .type = CONSOLE_MSG_DAMAGE };
	m.damage.frame = frame;
	m.damage.count = 1;
	m.damage.rects[0] = (struct console_rect){ x, y, w, h };
	put(s, &m);
}

static uint32_t pattern(uint32_t x, uint32_t y)
{
	return (x * 7u) << 16 | (y * 5u) << 8 | ((x ^ y) & 0xffu);
}

/* PIXELS of the pattern for a rectangle of rows [y, y + h) across the surface. */
static void put_band(struct stream *s, uint32_t y, uint32_t h)
{
	g_autofree uint32_t *px = g_new(uint32_t, (gsize)W * h);
	for (uint32_t r = 0; r < h; r++)
		for (uint32_t x = 0; x < W; x++)
			px[r * W + x] = GUINT32_TO_LE(pattern(x, y + r));
	struct console_msg m = { .type = CONSOLE_MSG_PIXELS };
	m.pixels.r = (struct console_rect){ 0, y, W, h };
	m.pixels.data = (const uint8_t *)px;
	m.pixels.stride = W * 4;
	put(s, &m);
}

static void put_state(struct stream *s)
{
	struct console_msg m = { .type = CONSOLE_MSG_VM_STATE };
	m.vm_state.state = CONSOLE_VM_RUNNING;
	m.vm_state.reason = "started";
	m.vm_state.reason_len = 7;
	put(s, &m);
}

/* What the worker sends a new viewer of a running guest. */
static void put_handshake(struct stream *s)
{
	put_hello(s, CONSOLE_VERSION_MAJOR);
	put_surface(s, W, H);
	put_state(s);
	put_band(s, 0, 11);
	put_band(s, 11, H - 11);
	put_damage(s, 1, 0, 0, W, H);
}

static void assert_pattern(const struct emuhost_shot *s)
{
	g_assert_cmpuint(s->width, ==, W);
	g_assert_cmpuint(s->height, ==, H);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint32_t v;
			memcpy(&v, s->pixels + ((size_t)y * W + x) * 4, 4);
			g_assert_cmpuint(GUINT32_FROM_LE(v), ==, pattern(x, y));
		}
}

static struct stream stream_new(void)
{
	return (struct stream){ g_byte_array_new() };
}

static enum emuhost_shot_state feed(struct emuhost_shot *s, const struct stream *st, size_t chunk)
{
	enum emuhost_shot_state r = s->state;
	for (size_t i = 0; i < st->b->len; i += chunk)
		r = emuhost_shot_from_worker(s, st->b->data + i, MIN(chunk, st->b->len - i));
	return r;
}

static void test_hello(void)
{
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	/* What we send is a viewer's HELLO asking for inline pixels, and nothing else. */
	struct console_frame f;
	g_assert_cmpint(console_frame_parse(s.to_worker.data, s.to_worker.len, CONSOLE_FROM_VIEWER, &f), ==, 0);
	g_assert_cmpuint(CONSOLE_HEADER_SIZE + f.length, ==, s.to_worker.len);
	struct console_msg m;
	g_assert_cmpint(console_msg_decode(&f, s.to_worker.data + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m),
			==, 0);
	g_assert_cmpuint(m.type, ==, CONSOLE_MSG_HELLO);
	g_assert_cmpuint(m.hello.major, ==, CONSOLE_VERSION_MAJOR);
	g_assert_cmpuint(m.hello.caps, ==, CONSOLE_CAP_INLINE_PIXELS);
	emuhost_shot_clear(&s);
}

static void test_picture(void)
{
	/* In one piece, byte by byte, and in odd pieces: the same picture. */
	static const size_t chunks[] = { 1u << 20, 1, 7, 4096 };
	for (size_t i = 0; i < G_N_ELEMENTS(chunks); i++) {
		struct stream st = stream_new();
		put_handshake(&st);
		struct emuhost_shot s;
		g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
		g_assert_cmpint(feed(&s, &st, chunks[i]), ==, EMUHOST_SHOT_DONE);
		assert_pattern(&s);
		g_assert_cmpuint(s.bad, ==, 0);
		/* Whatever comes after is not looked at. */
		g_assert_cmpint(emuhost_shot_from_worker(&s, (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff", 8), ==,
				EMUHOST_SHOT_DONE);
		emuhost_shot_clear(&s);
		g_byte_array_unref(st.b);
	}
}

static void test_resize_and_partial(void)
{
	/* A surface replaced before its first frame; then a frame that lists
	 * only part of it: the picture waits for one that names all of it. */
	struct stream st = stream_new();
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	put_surface(&st, 8, 8);
	put_surface(&st, W, H);
	put_band(&st, 0, H);
	put_damage(&st, 1, 0, 0, W, 10);
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_assert_cmpint(feed(&s, &st, 1u << 20), ==, EMUHOST_SHOT_WAITING);
	g_byte_array_set_size(st.b, 0);
	put_damage(&st, 2, 0, 0, W, H);
	g_assert_cmpint(feed(&s, &st, 1u << 20), ==, EMUHOST_SHOT_DONE);
	assert_pattern(&s);
	emuhost_shot_clear(&s);
	g_byte_array_unref(st.b);
}

static void test_no_picture(void)
{
	struct stream st = stream_new();
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	struct console_msg m = { .type = CONSOLE_MSG_NO_SURFACE };
	put(&st, &m);
	put_state(&st);
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_assert_cmpint(feed(&s, &st, 3), ==, EMUHOST_SHOT_NO_PICTURE);
	g_autofree char *r = emuhost_screenshot_reply(&s, 0, "/x.png");
	g_assert_cmpstr(r, ==, "error no picture yet: the guest's video driver has not set a mode");
	emuhost_shot_clear(&s);
	g_byte_array_unref(st.b);
}

/* A stream that ends the picture with an error. */
static void assert_fails(const struct stream *st, int error)
{
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_assert_cmpint(feed(&s, st, 5), ==, EMUHOST_SHOT_FAILED);
	g_assert_cmpint(s.error, ==, error);
	g_autofree char *r = emuhost_screenshot_reply(&s, 0, "/x.png");
	g_assert_true(g_str_has_prefix(r, "error "));
	emuhost_shot_clear(&s);
}

static void test_failures(void)
{
	struct stream st = stream_new();
	/* Another major version. */
	put_hello(&st, CONSOLE_VERSION_MAJOR + 1);
	assert_fails(&st, -EPROTONOSUPPORT);
	/* The worker refuses us: busy. */
	g_byte_array_set_size(st.b, 0);
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	struct console_msg e = { .type = CONSOLE_MSG_ERROR };
	e.error.code = CONSOLE_ERROR_BUSY;
	e.error.text = "busy";
	e.error.text_len = 4;
	put(&st, &e);
	assert_fails(&st, -ECONNREFUSED);
	/* A surface beyond the limit: 8192 x 8192 x 4 bytes is 256 MiB. */
	g_byte_array_set_size(st.b, 0);
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	put_surface(&st, CONSOLE_SIDE_MAX, CONSOLE_SIDE_MAX);
	assert_fails(&st, -EFBIG);
	/* A SURFACE that claims an fd: there is none through the mux. */
	g_byte_array_set_size(st.b, 0);
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	uint8_t body[32] = { 0 };
	body[0] = W, body[4] = H, body[8] = W * 4;
	memcpy(body + 12, "XR24", 4);
	body[24] = (W * H * 4) & 0xff, body[25] = (W * H * 4) >> 8;
	put_raw(&st, CONSOLE_MSG_SURFACE, CONSOLE_FLAG_FD, body, sizeof(body));
	assert_fails(&st, -EPROTO);
	/* A frame longer than its type allows breaks the framing. */
	g_byte_array_set_size(st.b, 0);
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	put_raw(&st, CONSOLE_MSG_DAMAGE, 0, NULL, 0);
	g_byte_array_set_size(st.b, st.b->len - 4);
	uint8_t huge[4] = { 0xff, 0xff, 0xff, 0x7f };
	g_byte_array_append(st.b, huge, 4);
	assert_fails(&st, -EPROTO);
	/* A reserved flag bit too. */
	g_byte_array_set_size(st.b, 0);
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	put_raw(&st, CONSOLE_MSG_NO_SURFACE, 0x8000, NULL, 0);
	assert_fails(&st, -EPROTO);
	g_byte_array_unref(st.b);
}

static void test_dropped(void)
{
	/* Wrong messages are counted and dropped; the picture still comes. */
	struct stream st = stream_new();
	put_surface(&st, 4, 4);               /* before the worker's HELLO */
	put_hello(&st, CONSOLE_VERSION_MAJOR);
	put_damage(&st, 1, 0, 0, W, H);       /* before any SURFACE */
	uint8_t shortb[12] = { 0 };
	put_raw(&st, CONSOLE_MSG_SURFACE, 0, shortb, sizeof(shortb));   /* short */
	put_raw(&st, 0x00ee, 0, "??", 2);     /* a type not known */
	put_raw(&st, CONSOLE_MSG_KEY, 0, "\x1e\x00\x01\x00", 4);      /* a viewer's message */
	put_surface(&st, W, H);
	/* PIXELS outside the surface. */
	uint32_t px[4] = { 0 };
	struct console_msg m = { .type = CONSOLE_MSG_PIXELS };
	m.pixels.r = (struct console_rect){ W - 1, 0, 2, 2 };
	m.pixels.data = (const uint8_t *)px;
	m.pixels.stride = 8;
	put(&st, &m);
	m.pixels.r = (struct console_rect){ 0, H, 1, 1 };
	put(&st, &m);
	/* A DAMAGE whose count disagrees with its body. */
	uint8_t dmg[8 + 16] = { 1, 0, 0, 0, 2, 0, 0, 0 };
	put_raw(&st, CONSOLE_MSG_DAMAGE, 0, dmg, sizeof(dmg));
	put_band(&st, 0, H);
	put_damage(&st, 1, 0, 0, W, H);
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_assert_cmpint(feed(&s, &st, 9), ==, EMUHOST_SHOT_DONE);
	assert_pattern(&s);
	g_assert_cmpuint(s.bad, ==, 8);
	emuhost_shot_clear(&s);
	g_byte_array_unref(st.b);
}

static void test_command(void)
{
	g_assert_cmpstr(emuhost_screenshot_path("screenshot /tmp/a.png"), ==, "/tmp/a.png");
	g_assert_cmpstr(emuhost_screenshot_path("  screenshot /tmp/a b.png"), ==, "/tmp/a b.png");
	g_assert_cmpstr(emuhost_screenshot_path("screenshot"), ==, "");
	g_assert_null(emuhost_screenshot_path("screenshots /tmp/a.png"));
	g_assert_null(emuhost_screenshot_path("screenshot\t/tmp/a.png"));
	g_assert_null(emuhost_screenshot_path("status"));
	g_assert_null(emuhost_screenshot_path("video"));
	g_assert_null(emuhost_screenshot_path(""));
}

static void test_reply_png(void)
{
	struct stream st = stream_new();
	put_handshake(&st);
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_assert_cmpint(feed(&s, &st, 1u << 20), ==, EMUHOST_SHOT_DONE);
	g_autofree char *dir = g_dir_make_tmp("emuhost-shot-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "shot.png", NULL);
	g_autofree char *r = emuhost_screenshot_reply(&s, 0, path);
	g_autofree char *want = g_strdup_printf("ok %ux%u %s", W, H, path);
	g_assert_cmpstr(r, ==, want);
	png_image img = { .version = PNG_IMAGE_VERSION };
	g_assert_true(png_image_begin_read_from_file(&img, path));
	g_assert_cmpuint(img.width, ==, W);
	g_assert_cmpuint(img.height, ==, H);
	img.format = PNG_FORMAT_RGB;
	g_autofree uint8_t *rgb = g_malloc(PNG_IMAGE_SIZE(img));
	g_assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			const uint8_t *p = rgb + ((size_t)y * W + x) * 3;
			g_assert_cmpuint((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2], ==, pattern(x, y) & 0xffffff);
		}
	png_image_free(&img);
	/* Where it cannot be written: the worker's words. */
	g_autofree char *bad = g_build_filename(dir, "missing", "shot.png", NULL);
	g_autofree char *r2 = emuhost_screenshot_reply(&s, 0, bad);
	g_autofree char *want2 = g_strdup_printf("error writing %s: %s", bad, g_strerror(ENOENT));
	g_assert_cmpstr(r2, ==, want2);
	g_autofree char *r3 = emuhost_screenshot_reply(&s, 0, "");
	g_assert_cmpstr(r3, ==, "error usage: screenshot PATH");
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	emuhost_shot_clear(&s);
	g_byte_array_unref(st.b);
}

static void test_reply_unfinished(void)
{
	struct emuhost_shot s;
	g_assert_cmpint(emuhost_shot_init(&s), ==, 0);
	g_autofree char *t = emuhost_screenshot_reply(&s, -ETIMEDOUT, "/x.png");
	g_autofree char *want = g_strdup_printf("error no complete picture came out of the emulated host within %d s",
						EMUHOST_SCREENSHOT_TIMEOUT_MS / 1000);
	g_assert_cmpstr(t, ==, want);
	g_autofree char *c = emuhost_screenshot_reply(&s, -ECONNRESET, "/x.png");
	g_assert_cmpstr(c, ==, "error the emulated host's console closed before the picture was complete");
	g_assert_false(g_file_test("/x.png", G_FILE_TEST_EXISTS));
	emuhost_shot_clear(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-shot/hello", test_hello);
	g_test_add_func("/emuhost-shot/picture", test_picture);
	g_test_add_func("/emuhost-shot/resize-and-partial", test_resize_and_partial);
	g_test_add_func("/emuhost-shot/no-picture", test_no_picture);
	g_test_add_func("/emuhost-shot/failures", test_failures);
	g_test_add_func("/emuhost-shot/dropped", test_dropped);
	g_test_add_func("/emuhost-shot/command", test_command);
	g_test_add_func("/emuhost-shot/reply-png", test_reply_png);
	g_test_add_func("/emuhost-shot/reply-unfinished", test_reply_unfinished);
	return g_test_run();
}
