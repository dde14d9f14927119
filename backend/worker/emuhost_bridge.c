// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emuhost_bridge.h"

void emuhost_bridge_init(struct emuhost_bridge *b)
{
	*b = (struct emuhost_bridge){ .memfd = -1 };
}

static void bridge_drop_surface(struct emuhost_bridge *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	if (b->memfd >= 0)
		close(b->memfd);
	b->map = NULL;
	b->map_len = 0;
	b->memfd = -1;
	b->width = b->height = b->stride = 0;
}

void emuhost_bridge_clear(struct emuhost_bridge *b)
{
	bridge_drop_surface(b);
	for (unsigned i = 0; i < b->nfds; i++)
		close(b->fds[i].fd);
	b->nfds = 0;
	emuhost_buf_free(&b->to_worker);
	emuhost_buf_free(&b->to_viewer);
	emuhost_buf_free(&b->frame);
}

static int bridge_fail(struct emuhost_bridge *b, int e)
{
	if (!b->error)
		b->error = e;
	return b->error;
}

static int bridge_to_worker(struct emuhost_bridge *b, const void *data, size_t len)
{
	return emuhost_buf_append(&b->to_worker, data, len) < 0 ? bridge_fail(b, -ENOMEM) : 0;
}

static int bridge_to_viewer(struct emuhost_bridge *b, const void *data, size_t len)
{
	return emuhost_buf_append(&b->to_viewer, data, len) < 0 ? bridge_fail(b, -ENOMEM) : 0;
}

static void bridge_worker_pump(struct emuhost_bridge *b);

/* The viewer's first frame: a HELLO leaves with INLINE_PIXELS added. */
static int bridge_viewer_hello(struct emuhost_bridge *b)
{
	struct console_frame f;
	int e = console_frame_parse(b->hello, b->hello_len, CONSOLE_FROM_VIEWER, &f);
	if (e == -EAGAIN)
		return 0;
	size_t whole = CONSOLE_HEADER_SIZE + (e == 0 ? f.length : 0);
	if (e == 0 && f.type == CONSOLE_MSG_HELLO && b->hello_len < whole)
		return 0;
	b->hello_seen = true;
	struct console_msg m;
	if (e == 0 && f.type == CONSOLE_MSG_HELLO &&
	    console_msg_decode(&f, b->hello + CONSOLE_HEADER_SIZE, f.length, CONSOLE_FROM_VIEWER, &m) == 0) {
		b->reshare = !(m.hello.caps & CONSOLE_CAP_INLINE_PIXELS);
		m.hello.caps |= CONSOLE_CAP_INLINE_PIXELS;
		uint8_t out[EMUHOST_BRIDGE_HELLO_MAX];
		long n = console_msg_encode(&m, out, sizeof(out));
		if (n < 0)
			return bridge_fail(b, (int)n);
		if (bridge_to_worker(b, out, (size_t)n) < 0 ||
		    bridge_to_worker(b, b->hello + whole, b->hello_len - whole) < 0)
			return b->error;
	} else {
		/* Not a HELLO the worker would take: it says so itself. */
		if (bridge_to_worker(b, b->hello, b->hello_len) < 0)
			return b->error;
	}
	b->hello_len = 0;
	bridge_worker_pump(b);
	return b->error;
}

int emuhost_bridge_from_viewer(struct emuhost_bridge *b, const uint8_t *data, size_t len)
{
	if (b->error)
		return b->error;
	if (!b->hello_seen) {
		size_t n = sizeof(b->hello) - b->hello_len;
		if (n > len)
			n = len;
		memcpy(b->hello + b->hello_len, data, n);
		b->hello_len += n;
		data += n;
		len -= n;
		if (bridge_viewer_hello(b) < 0)
			return b->error;
		if (!b->hello_seen)
			return 0;
	}
	return bridge_to_worker(b, data, len);
}

static int bridge_new_surface(struct emuhost_bridge *b, const struct console_msg *m)
{
	bridge_drop_surface(b);
	uint64_t size = (uint64_t)m->surface.stride * m->surface.height;
	if (size > EMUHOST_BRIDGE_SURFACE_MAX) {
		b->stats.bad++;
		static const uint8_t none[CONSOLE_HEADER_SIZE] = { CONSOLE_MSG_NO_SURFACE, 0 };
		return bridge_to_viewer(b, none, sizeof(none));
	}
	int fd = memfd_create("vireo-emuhost-surface", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return bridge_fail(b, -errno);
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = -errno;
		close(fd);
		return bridge_fail(b, e);
	}
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;
		close(fd);
		return bridge_fail(b, e);
	}
	/* The viewer gets a read-only open of it, as from the worker itself. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0) {
		int e = -errno;
		munmap(p, (size_t)size);
		close(fd);
		return bridge_fail(b, e);
	}
	b->memfd = fd;
	b->map = p;
	b->map_len = (size_t)size;
	b->width = m->surface.width;
	b->height = m->surface.height;
	b->stride = m->surface.stride;
	struct console_msg s = *m;
	s.flags = CONSOLE_FLAG_FD;
	s.surface.offset = 0;
	s.surface.size = size;
	uint8_t out[CONSOLE_HEADER_SIZE + sizeof(struct console_wire_surface)];
	long n = console_msg_encode(&s, out, sizeof(out));
	if (n < 0) {
		close(ro);
		return bridge_fail(b, (int)n);
	}
	b->fds[b->nfds].fd = ro;
	b->fds[b->nfds].at = b->to_viewer.len;
	b->nfds++;
	b->stats.surfaces++;
	return bridge_to_viewer(b, out, (size_t)n);
}

static void bridge_put_pixels(struct emuhost_bridge *b, const struct console_msg *m)
{
	const struct console_rect *r = &m->pixels.r;
	if (!b->map || (uint64_t)r->x + r->w > b->width || (uint64_t)r->y + r->h > b->height) {
		b->stats.bad++;
		return;
	}
	for (uint32_t y = 0; y < r->h; y++)
		memcpy(b->map + (size_t)(r->y + y) * b->stride + (size_t)r->x * 4,
		       m->pixels.data + (size_t)y * m->pixels.stride, (size_t)r->w * 4);
	b->stats.pixels++;
}

/* One complete frame of the worker's. */
static void bridge_worker_frame(struct emuhost_bridge *b, const struct console_frame *f, const uint8_t *raw)
{
	size_t whole = CONSOLE_HEADER_SIZE + f->length;
	if (!b->worker_hello_seen || !b->reshare) {
		b->worker_hello_seen = true;
		(void)bridge_to_viewer(b, raw, whole);
		return;
	}
	if (f->type != CONSOLE_MSG_SURFACE && f->type != CONSOLE_MSG_PIXELS) {
		if (f->type == CONSOLE_MSG_NO_SURFACE)
			bridge_drop_surface(b);
		(void)bridge_to_viewer(b, raw, whole);
		return;
	}
	struct console_msg m;
	if (console_msg_decode(f, raw + CONSOLE_HEADER_SIZE, f->length, CONSOLE_FROM_WORKER, &m) < 0 ||
	    (m.flags & CONSOLE_FLAG_FD)) {
		/* No fd crosses the emulated host: a SURFACE claiming one is broken. */
		b->stats.bad++;
		return;
	}
	if (f->type == CONSOLE_MSG_SURFACE)
		(void)bridge_new_surface(b, &m);
	else
		bridge_put_pixels(b, &m);
}

static bool bridge_worker_blocked(const struct emuhost_bridge *b)
{
	return b->error || b->to_viewer.len >= EMUHOST_BRIDGE_OUT_MAX || b->nfds >= EMUHOST_BRIDGE_FDS_MAX;
}

/* The frame held, if it is complete and may go now. */
static void bridge_worker_pump(struct emuhost_bridge *b)
{
	if (b->frame.len < CONSOLE_HEADER_SIZE || bridge_worker_blocked(b))
		return;
	/* After its HELLO, the worker's stream waits for the viewer's: only then
	 * is it known whether the surface is to be reshared. */
	if (b->worker_hello_seen && !b->hello_seen)
		return;
	struct console_frame f;
	if (console_frame_parse(b->frame.data, b->frame.len, CONSOLE_FROM_WORKER, &f) < 0 ||
	    b->frame.len < CONSOLE_HEADER_SIZE + f.length)
		return;
	bridge_worker_frame(b, &f, b->frame.data);
	b->frame.len = 0;
}

long emuhost_bridge_from_worker(struct emuhost_bridge *b, const uint8_t *data, size_t len)
{
	size_t taken = 0;
	bridge_worker_pump(b);
	while (!b->error && taken < len) {
		if (bridge_worker_blocked(b))
			break;
		size_t want = CONSOLE_HEADER_SIZE;
		struct console_frame f;
		if (b->frame.len >= CONSOLE_HEADER_SIZE) {
			int e = console_frame_parse(b->frame.data, b->frame.len, CONSOLE_FROM_WORKER, &f);
			if (e < 0)
				return bridge_fail(b, -EPROTO);
			want += f.length;
			if (b->frame.len == want)
				break;   /* complete, waiting for the viewer's HELLO */
		}
		size_t n = want - b->frame.len;
		if (n > len - taken)
			n = len - taken;
		if (emuhost_buf_append(&b->frame, data + taken, n) < 0)
			return bridge_fail(b, -ENOMEM);
		taken += n;
		if (b->frame.len == CONSOLE_HEADER_SIZE &&
		    console_frame_parse(b->frame.data, b->frame.len, CONSOLE_FROM_WORKER, &f) < 0)
			return bridge_fail(b, -EPROTO);
		bridge_worker_pump(b);
	}
	return b->error ? b->error : (long)taken;
}

void emuhost_bridge_next(const struct emuhost_bridge *b, size_t *len, int *fd)
{
	*fd = -1;
	*len = b->to_viewer.len;
	/* Each fd goes with its own SURFACE's first byte: a chunk ends before the next one's. */
	unsigned next = 0;
	if (b->nfds && b->fds[0].at == 0) {
		*fd = b->fds[0].fd;
		next = 1;
	}
	if (next < b->nfds && b->fds[next].at < *len)
		*len = b->fds[next].at;
}

void emuhost_bridge_sent(struct emuhost_bridge *b, size_t n)
{
	if (n == 0)
		return;
	if (b->nfds && b->fds[0].at == 0) {
		close(b->fds[0].fd);
		memmove(b->fds, b->fds + 1, (b->nfds - 1) * sizeof(b->fds[0]));
		b->nfds--;
	}
	emuhost_buf_consume(&b->to_viewer, n);
	for (unsigned i = 0; i < b->nfds; i++)
		b->fds[i].at = b->fds[i].at > n ? b->fds[i].at - n : 0;
}
