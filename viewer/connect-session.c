// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "connect-session.h"

#define SESSION_RECV_CHUNK (256u * 1024)
#define SESSION_WHY_MAX 320

struct connect_session {
	const struct connect_session_ops *ops;
	void *opaque;
	bool want_inline;
	int fd;
	struct console_reader reader;
	int fds[CONNECT_SESSION_FDS_MAX];
	size_t nfds;
	bool hello;
	uint32_t caps;                 /* the session's: offered and asked for */

	bool have_surface;
	struct connect_surface surf;
	uint8_t *map;                  /* shared: the mapping; inline: our copy */
	size_t map_len;

	bool frame_pending;
	uint32_t frame;                /* the latest DAMAGE's number */

	struct connect_cursor cursor;
	uint8_t *cursor_img;

	enum console_vm_state vm_state;
	uint8_t *out;                  /* encoded input the socket did not take yet */
	size_t out_len;
	uint8_t *rbuf;

	struct connect_session_stats stats;
	int end_err;                   /* set while a read ends the session */
	char end_why[SESSION_WHY_MAX];
};

struct connect_session *connect_session_new(const struct connect_session_ops *ops, void *opaque, bool inline_pixels)
{
	struct connect_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ops = ops;
	s->opaque = opaque;
	s->want_inline = inline_pixels;
	s->fd = -1;
	console_reader_init(&s->reader, CONSOLE_FROM_WORKER);
	return s;
}

static void session_drop_surface(struct connect_session *s)
{
	if (s->map) {
		if (s->surf.shared)
			munmap(s->map, s->map_len);
		else
			free(s->map);
	}
	s->map = NULL;
	s->map_len = 0;
	s->have_surface = false;
	s->surf = (struct connect_surface){ 0 };
}

static void session_reset(struct connect_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	for (size_t i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	s->nfds = 0;
	console_reader_clear(&s->reader);
	session_drop_surface(s);
	free(s->cursor_img);
	s->cursor_img = NULL;
	s->cursor = (struct connect_cursor){ 0 };
	free(s->out);
	s->out = NULL;
	s->out_len = 0;
	s->hello = false;
	s->caps = 0;
	s->frame_pending = false;
	s->vm_state = 0;
}

void connect_session_close(struct connect_session *s)
{
	session_reset(s);
}

void connect_session_free(struct connect_session *s)
{
	if (!s)
		return;
	session_reset(s);
	free(s->rbuf);
	free(s);
}

bool connect_session_is_open(const struct connect_session *s)
{
	return s->fd >= 0;
}

int connect_session_fd(const struct connect_session *s)
{
	return s->fd;
}

const struct connect_surface *connect_session_surface(const struct connect_session *s)
{
	return s->have_surface ? &s->surf : NULL;
}

enum console_vm_state connect_session_vm_state(const struct connect_session *s)
{
	return s->vm_state;
}

void connect_session_get_stats(const struct connect_session *s, struct connect_session_stats *st)
{
	*st = s->stats;
}

/* Writes what is queued, without blocking: 0, or -errno of a dead socket. */
static int session_flush(struct connect_session *s)
{
	while (s->out_len) {
		ssize_t n = send(s->fd, s->out, s->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		memmove(s->out, s->out + n, s->out_len - (size_t)n);
		s->out_len -= (size_t)n;
	}
	return 0;
}

static int session_send(struct connect_session *s, const struct console_msg *m)
{
	if (s->fd < 0)
		return -ENOTCONN;
	size_t size = console_msg_size(m);
	if (size == 0)
		return -EINVAL;
	if (s->out_len + size > CONNECT_SESSION_OUT_MAX) {
		/* The worker stopped reading: input is state, not history. */
		s->stats.input_dropped++;
		return -ENOBUFS;
	}
	if (!s->out) {
		s->out = malloc(CONNECT_SESSION_OUT_MAX);
		if (!s->out)
			return -ENOMEM;
	}
	long n = console_msg_encode(m, s->out + s->out_len, CONNECT_SESSION_OUT_MAX - s->out_len);
	if (n < 0)
		return (int)n;
	s->out_len += (size_t)n;
	return session_flush(s);
}

int connect_session_open_fd(struct connect_session *s, int fd)
{
	session_reset(s);
	s->fd = fd;
	s->end_err = 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	struct console_msg hello;
	console_msg_hello(&hello, CONSOLE_CAP_FRAME_ACK | (s->want_inline ? CONSOLE_CAP_INLINE_PIXELS : 0),
			  CONNECT_SESSION_NAME);
	int e = session_send(s, &hello);
	if (e < 0)
		session_reset(s);
	return e;
}

int connect_session_open(struct connect_session *s, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return connect_session_open_fd(s, fd);
}

static int session_fail(struct connect_session *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int session_fail(struct connect_session *s, int err, const char *fmt, ...)
{
	if (s->end_err)
		return s->end_err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->end_why, sizeof(s->end_why), fmt, ap);
	va_end(ap);
	s->end_err = err;
	return err;
}

static bool session_rect_clip(const struct connect_session *s, struct console_rect *r)
{
	if (r->x >= s->surf.width || r->y >= s->surf.height)
		return false;
	if (r->w > s->surf.width - r->x)
		r->w = s->surf.width - r->x;
	if (r->h > s->surf.height - r->y)
		r->h = s->surf.height - r->y;
	return true;
}

static int session_on_surface(struct connect_session *s, const struct console_msg *m)
{
	session_drop_surface(s);
	uint32_t w = m->surface.width, h = m->surface.height, stride = m->surface.stride;
	if (m->flags & CONSOLE_FLAG_FD) {
		if (s->nfds == 0)
			return session_fail(s, -EPROTO, "the worker announced a shared surface without its file");
		int fd = s->fds[0];
		memmove(s->fds, s->fds + 1, --s->nfds * sizeof(int));
		struct stat st;
		/* Mapping past the file's end would fault on the first read. */
		if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size < m->surface.size ||
		    m->surface.size > SIZE_MAX) {
			close(fd);
			return session_fail(s, -EPROTO, "the worker's surface file is shorter than it said");
		}
		void *p = mmap(NULL, (size_t)m->surface.size, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return session_fail(s, -errno, "cannot map the worker's surface: %s", strerror(errno));
		s->map = p;
		s->map_len = (size_t)m->surface.size;
		s->surf = (struct connect_surface){ w, h, stride, s->map + m->surface.offset, true };
	} else {
		if (!(s->caps & CONSOLE_CAP_INLINE_PIXELS))
			return session_fail(s, -EPROTO, "the worker sent a surface without its file");
		s->map_len = (size_t)stride * h;
		s->map = calloc(1, s->map_len);
		if (!s->map)
			return session_fail(s, -ENOMEM, "no memory for a %ux%u picture", w, h);
		s->surf = (struct connect_surface){ w, h, stride, s->map, false };
	}
	s->have_surface = true;
	s->stats.surfaces++;
	if (s->ops->surface)
		s->ops->surface(s->opaque, &s->surf);
	return 0;
}

static void session_on_pixels(struct connect_session *s, const struct console_msg *m)
{
	struct console_rect r = m->pixels.r;
	if (!s->have_surface || s->surf.shared || (uint64_t)r.x + r.w > s->surf.width ||
	    (uint64_t)r.y + r.h > s->surf.height) {
		s->stats.bad_messages++;
		return;
	}
	for (uint32_t y = 0; y < r.h; y++)
		memcpy(s->map + (size_t)(r.y + y) * s->surf.stride + (size_t)r.x * 4,
		       m->pixels.data + (size_t)y * m->pixels.stride, (size_t)r.w * 4);
}

static void session_on_damage(struct connect_session *s, const struct console_msg *m)
{
	if (!s->have_surface) {
		s->stats.bad_messages++;
		return;
	}
	struct console_rect rects[CONSOLE_DAMAGE_RECTS_MAX];
	size_t n = 0;
	for (uint32_t i = 0; i < m->damage.count; i++) {
		struct console_rect r = m->damage.rects[i];
		if (session_rect_clip(s, &r))
			rects[n++] = r;
		else
			s->stats.bad_messages++;
	}
	s->stats.frames++;
	s->frame = m->damage.frame;
	s->frame_pending = true;
	if (n && s->ops->damage)
		s->ops->damage(s->opaque, rects, n);
}

static int session_on_cursor(struct connect_session *s, const struct console_msg *m)
{
	struct connect_cursor *c = &s->cursor;
	c->shape_changed = false;
	if (m->cursor.flags & CONSOLE_CURSOR_SHAPE) {
		size_t len = (size_t)m->cursor.w * m->cursor.h * 4;
		uint8_t *img = realloc(s->cursor_img, len);
		if (!img)
			return session_fail(s, -ENOMEM, "no memory for the cursor");
		memcpy(img, m->cursor.argb, len);
		s->cursor_img = img;
		c->argb = img;
		c->w = m->cursor.w;
		c->h = m->cursor.h;
		c->hot_x = m->cursor.hot_x;
		c->hot_y = m->cursor.hot_y;
		c->shape_changed = true;
	}
	c->visible = m->cursor.flags & CONSOLE_CURSOR_VISIBLE;
	c->x = m->cursor.x;
	c->y = m->cursor.y;
	if (s->ops->cursor)
		s->ops->cursor(s->opaque, c);
	return 0;
}

static int session_on_error(struct connect_session *s, const struct console_msg *m)
{
	static const char *const names[] = {
		[CONSOLE_ERROR_VERSION] = "it does not speak our protocol version",
		[CONSOLE_ERROR_PROTOCOL] = "protocol error",
		[CONSOLE_ERROR_BUSY] = "too many viewers are connected",
		[CONSOLE_ERROR_FD] = "file descriptor refused",
		[CONSOLE_ERROR_TIMEOUT] = "timeout",
	};
	const char *what = m->error.code < sizeof(names) / sizeof(names[0]) && names[m->error.code]
				   ? names[m->error.code] : "error";
	int err = m->error.code == CONSOLE_ERROR_BUSY ? -EBUSY : -ECONNABORTED;
	return session_fail(s, err, "the worker refused the viewer: %s (%.*s)", what, (int)m->error.text_len,
			    m->error.text);
}

static int session_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct connect_session *s = opaque;
	if (status == -ENOMSG) {
		s->stats.unknown++;
		return 0;
	}
	if (status < 0) {
		s->stats.bad_messages++;
		/* Without a valid HELLO first, nothing else can be trusted. */
		return s->hello ? 0 : session_fail(s, -EPROTO, "the worker's first message is not a valid HELLO");
	}
	if (!s->hello && m->type != CONSOLE_MSG_HELLO)
		return session_fail(s, -EPROTO, "the worker's first message is not HELLO (type 0x%04x)", f->type);
	switch (m->type) {
	case CONSOLE_MSG_HELLO: {
		if (s->hello) {
			s->stats.bad_messages++;
			return 0;
		}
		if (m->hello.major != CONSOLE_VERSION_MAJOR)
			return session_fail(s, -EPROTONOSUPPORT, "the worker speaks console protocol %u.%u, not %u.x",
					    m->hello.major, m->hello.minor, CONSOLE_VERSION_MAJOR);
		s->hello = true;
		s->caps = m->hello.caps & (CONSOLE_CAP_FRAME_ACK | (s->want_inline ? CONSOLE_CAP_INLINE_PIXELS : 0));
		char name[CONSOLE_NAME_MAX + 1];
		memcpy(name, m->hello.name, m->hello.name_len);
		name[m->hello.name_len] = 0;
		if (s->ops->hello)
			s->ops->hello(s->opaque, name);
		return 0;
	}
	case CONSOLE_MSG_SURFACE:
		return session_on_surface(s, m);
	case CONSOLE_MSG_NO_SURFACE:
		session_drop_surface(s);
		if (s->ops->surface)
			s->ops->surface(s->opaque, NULL);
		return 0;
	case CONSOLE_MSG_PIXELS:
		session_on_pixels(s, m);
		return 0;
	case CONSOLE_MSG_DAMAGE:
		session_on_damage(s, m);
		return 0;
	case CONSOLE_MSG_CURSOR:
		return session_on_cursor(s, m);
	case CONSOLE_MSG_VM_STATE: {
		char reason[CONSOLE_TEXT_MAX + 1];
		memcpy(reason, m->vm_state.reason, m->vm_state.reason_len);
		reason[m->vm_state.reason_len] = 0;
		s->vm_state = (enum console_vm_state)m->vm_state.state;
		if (s->ops->vm_state)
			s->ops->vm_state(s->opaque, s->vm_state, reason);
		return 0;
	}
	case CONSOLE_MSG_ERROR:
		return session_on_error(s, m);
	case CONSOLE_MSG_CLIPBOARD:
		/* The guest's clipboard: the enhanced session's (not this viewer's yet). */
		return 0;
	default:
		s->stats.unknown++;
		return 0;
	}
}

/* Ends the session if a read decided so: closed() runs last, on a closed session. */
static int session_finish(struct connect_session *s)
{
	if (!s->end_err)
		return 0;
	int err = s->end_err;
	char why[SESSION_WHY_MAX];
	memcpy(why, s->end_why, sizeof(why));
	session_reset(s);
	s->end_err = 0;
	if (s->ops->closed)
		s->ops->closed(s->opaque, err, why);
	return err;
}

static void session_take_fds(struct connect_session *s, const int *fds, size_t nfds)
{
	for (size_t i = 0; i < nfds; i++) {
		if (s->nfds < CONNECT_SESSION_FDS_MAX && !s->end_err) {
			s->fds[s->nfds++] = fds[i];
			continue;
		}
		close(fds[i]);
		session_fail(s, -EPROTO, "the worker passed more files than it announced surfaces");
	}
}

static int session_feed_bytes(struct connect_session *s, const uint8_t *data, size_t len)
{
	int e = console_reader_feed(&s->reader, data, len, session_on_msg, s);
	if (e < 0 && !s->end_err)
		session_fail(s, e, "the worker's stream broke the protocol's framing (%s)", strerror(-e));
	return e;
}

int connect_session_feed(struct connect_session *s, const uint8_t *data, size_t len, const int *fds, size_t nfds)
{
	session_take_fds(s, fds, nfds);
	if (!s->end_err && len)
		session_feed_bytes(s, data, len);
	return session_finish(s);
}

static void session_take_cmsg(struct connect_session *s, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[CONNECT_SESSION_FDS_MAX * 2];
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (i < sizeof(fds) / sizeof(fds[0]))
				fds[i] = fd;
			else
				close(fd);
		}
		session_take_fds(s, fds, k < sizeof(fds) / sizeof(fds[0]) ? k : sizeof(fds) / sizeof(fds[0]));
	}
	if (mh->msg_flags & MSG_CTRUNC)
		session_fail(s, -EPROTO, "the worker passed more files than a message carries");
}

int connect_session_read(struct connect_session *s)
{
	if (s->fd < 0)
		return -ENOTCONN;
	if (!s->rbuf && !(s->rbuf = malloc(SESSION_RECV_CHUNK)))
		return -ENOMEM;
	int e = session_flush(s);
	if (e < 0)
		session_fail(s, -ECONNRESET, "the worker is gone (%s)", strerror(-e));
	for (size_t total = 0; !s->end_err && total < CONNECT_SESSION_READ_MAX;) {
		union {
			struct cmsghdr align;
			char b[CMSG_SPACE(sizeof(int) * CONNECT_SESSION_FDS_MAX * 2)];
		} ctrl;
		struct iovec iov = { s->rbuf, SESSION_RECV_CHUNK };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.b,
				     .msg_controllen = sizeof(ctrl.b) };
		ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			session_fail(s, -ECONNRESET, "the worker is gone (%s)", strerror(errno));
			break;
		}
		session_take_cmsg(s, &mh);
		if (n == 0) {
			session_fail(s, -ECONNRESET, "the worker closed the connection");
			break;
		}
		if (!s->end_err)
			session_feed_bytes(s, s->rbuf, (size_t)n);
		total += (size_t)n;
	}
	return session_finish(s);
}

int connect_session_send_key(struct connect_session *s, uint16_t evdev_code, bool down)
{
	if (evdev_code == 0 || evdev_code > CONSOLE_KEY_CODE_MAX)
		return -EINVAL;
	struct console_msg m = { .type = CONSOLE_MSG_KEY };
	m.key.code = evdev_code;
	m.key.down = down;
	return session_send(s, &m);
}

int connect_session_send_pointer(struct connect_session *s, uint32_t x, uint32_t y, uint32_t buttons, int32_t wheel,
				 int32_t hwheel)
{
	if (!s->have_surface)
		return -ENOTCONN;
	struct console_msg m = { .type = CONSOLE_MSG_POINTER };
	m.pointer.x = x < s->surf.width ? x : s->surf.width - 1;
	m.pointer.y = y < s->surf.height ? y : s->surf.height - 1;
	m.pointer.buttons = buttons & CONSOLE_BUTTONS_ALL;
	m.pointer.wheel = wheel < -CONSOLE_WHEEL_MAX ? -CONSOLE_WHEEL_MAX : wheel > CONSOLE_WHEEL_MAX ? CONSOLE_WHEEL_MAX : wheel;
	m.pointer.hwheel = hwheel < -CONSOLE_WHEEL_MAX ? -CONSOLE_WHEEL_MAX
			   : hwheel > CONSOLE_WHEEL_MAX ? CONSOLE_WHEEL_MAX : hwheel;
	return session_send(s, &m);
}

int connect_session_frame_done(struct connect_session *s)
{
	if (!s->frame_pending || !(s->caps & CONSOLE_CAP_FRAME_ACK))
		return 0;
	struct console_msg m = { .type = CONSOLE_MSG_FRAME_DONE };
	m.frame_done.frame = s->frame;
	int e = session_send(s, &m);
	if (e == 0)
		s->frame_pending = false;
	return e;
}
