// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a worker sends vireo-connect (viewer/connect-session.c on top of the
 * shared codec): whatever the bytes, the fds that come with them and
 * however the stream is split, the session never reads or writes outside
 * what it holds, every surface it reports can be read whole, every
 * rectangle it reports lies inside it, and after it ended it stays ended.
 *
 * Input: byte 0 (bit 0: ask for inline pixels; bits 1-2: how many memfds
 * come first; bit 7: no valid HELLO in front), byte 1 (the memfds' size in
 * 4 KiB pages), byte 2 (where the stream is split), then the stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "connect-session.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_PAGE 4096u

struct fuzz_state {
	const struct connect_surface *surf;
	uint32_t w, h;
	unsigned closed;
	volatile uint8_t sink;
};

static void fz_surface(void *o, const struct connect_surface *s)
{
	struct fuzz_state *f = o;
	f->surf = s;
	if (!s)
		return;
	CHECK(s->width >= 1 && s->width <= CONSOLE_SIDE_MAX && s->height >= 1 && s->height <= CONSOLE_SIDE_MAX);
	CHECK(s->stride >= s->width * 4);
	f->w = s->width;
	f->h = s->height;
	/* Every pixel is readable: the first and last byte of each row. */
	for (uint32_t y = 0; y < s->height; y++)
		f->sink ^= s->pixels[(size_t)y * s->stride] ^ s->pixels[(size_t)y * s->stride + s->width * 4 - 1];
}

static void fz_damage(void *o, const struct console_rect *r, size_t n)
{
	struct fuzz_state *f = o;
	CHECK(f->surf && n >= 1 && n <= CONSOLE_DAMAGE_RECTS_MAX);
	for (size_t i = 0; i < n; i++) {
		CHECK(r[i].w >= 1 && r[i].h >= 1);
		CHECK((uint64_t)r[i].x + r[i].w <= f->w && (uint64_t)r[i].y + r[i].h <= f->h);
		f->sink ^= f->surf->pixels[(size_t)(r[i].y + r[i].h - 1) * f->surf->stride + (r[i].x + r[i].w - 1) * 4];
	}
}

static void fz_vm_state(void *o, enum console_vm_state st, const char *reason)
{
	CHECK(st >= CONSOLE_VM_RUNNING && st <= CONSOLE_VM_OFF);
	CHECK(strlen(reason) <= CONSOLE_TEXT_MAX);
}

static void fz_cursor(void *o, const struct connect_cursor *c)
{
	struct fuzz_state *f = o;
	if (c->w && c->h) {
		CHECK(c->w <= CONSOLE_CURSOR_SIDE_MAX && c->h <= CONSOLE_CURSOR_SIDE_MAX);
		CHECK(c->hot_x < c->w && c->hot_y < c->h);
		f->sink ^= c->argb[(size_t)c->w * c->h * 4 - 1];
	}
}

static void fz_hello(void *o, const char *name)
{
	CHECK(strlen(name) <= CONSOLE_NAME_MAX);
}

static void fz_closed(void *o, int err, const char *why)
{
	struct fuzz_state *f = o;
	CHECK(err < 0 && why && *why);
	f->closed++;
	f->surf = NULL;
}

static const struct connect_session_ops fz_ops = {
	.hello = fz_hello, .surface = fz_surface, .damage = fz_damage,
	.vm_state = fz_vm_state, .cursor = fz_cursor, .closed = fz_closed,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	bool inline_px = data[0] & 1, raw = data[0] & 0x80;
	size_t nfds = (data[0] >> 1) & 3, pages = 1 + data[1] % 64;
	size_t split = data[2];
	data += 3;
	size -= 3;

	int fds[3];
	for (size_t i = 0; i < nfds; i++) {
		fds[i] = memfd_create("fuzz-connect", MFD_CLOEXEC);
		CHECK(fds[i] >= 0 && ftruncate(fds[i], (off_t)(pages * FUZZ_PAGE)) == 0);
	}
	struct fuzz_state f = { 0 };
	struct connect_session *s = connect_session_new(&fz_ops, &f, inline_px);
	CHECK(s);
	if (!raw) {
		struct console_msg hello = { .type = CONSOLE_MSG_HELLO };
		hello.hello.major = CONSOLE_VERSION_MAJOR;
		hello.hello.caps = CONSOLE_CAPS_KNOWN;
		uint8_t buf[64];
		long n = console_msg_encode(&hello, buf, sizeof(buf));
		CHECK(n > 0);
		CHECK(connect_session_feed(s, buf, (size_t)n, fds, nfds) == 0);
	} else {
		connect_session_feed(s, NULL, 0, fds, nfds);
	}
	split = split < size ? split : size;
	int e = connect_session_feed(s, data, split, NULL, 0);
	if (e == 0)
		e = connect_session_feed(s, data + split, size - split, NULL, 0);
	CHECK(f.closed <= 1);
	CHECK((e != 0) == (f.closed == 1));
	if (e == 0) {
		const struct connect_surface *cs = connect_session_surface(s);
		CHECK(cs == f.surf);
		connect_session_frame_done(s);
	} else {
		CHECK(connect_session_surface(s) == NULL);
	}
	/* Never connected to a socket: input has nowhere to go. */
	CHECK(connect_session_send_key(s, 30, true) == -ENOTCONN);
	connect_session_free(s);
	return 0;
}
