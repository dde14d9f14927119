// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The console socket. Output is state, not a queue: each viewer has what
 * it still has to hear (a new surface, the VM state, the cursor, the
 * clipboard, damage merged into a few rectangles) and one encoded message
 * at most on its way out. A message is encoded from that state only when
 * the previous one has left, so a viewer that stops reading holds one
 * message and a fixed-size record, whatever the guest draws meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "console_server.h"
#include "fdpass.h"
#include "unixsock.h"

#define CONSOLE_SERVER_CAPS (CONSOLE_CAP_INLINE_PIXELS | CONSOLE_CAP_FRAME_ACK)
/* File descriptors a recvmsg can see at once: any number is refused, this only sizes the buffer. */
#define CONSOLE_SERVER_FDS_SEEN 8

_Static_assert(CONSOLE_BUTTON_LEFT == INPUT_BUTTON_LEFT && CONSOLE_BUTTON_RIGHT == INPUT_BUTTON_RIGHT &&
		       CONSOLE_BUTTON_MIDDLE == INPUT_BUTTON_MIDDLE && CONSOLE_BUTTON_SIDE == INPUT_BUTTON_SIDE &&
		       CONSOLE_BUTTON_EXTRA == INPUT_BUTTON_EXTRA,
	       "the protocol's buttons are input.h's");
_Static_assert(CONSOLE_SIDE_MAX == DISPLAY_MAX_SIDE, "surface limits agree");
_Static_assert(CONSOLE_FORMAT_XRGB8888 == DISPLAY_FORMAT_XRGB8888, "formats agree");

struct console_client;

struct console_source {
	GSource base;
	struct console_client *cl;
	gpointer tag;
};

struct console_client {
	struct console_server *cs;
	int fd;
	struct console_source *source;
	GSource *hello_timer;
	struct console_reader reader;
	bool hello_sent, hello_done;
	uint32_t caps;

	uint8_t *out;
	size_t out_len, out_pos, out_cap;
	int out_fd;                   /* rides on the first byte of out */

	bool want_surface, want_vm_state, want_cursor, want_shape, want_clipboard;
	struct display_rect damage[DISPLAY_DAMAGE_RECTS];
	size_t ndamage;
	/* Inline pixels: the frame being sent, band by band. */
	struct console_rect flight[DISPLAY_DAMAGE_RECTS];
	size_t nflight, flight_i;
	uint32_t flight_row;
	uint32_t frame_sent, frame_acked;
	/* Keys this viewer holds down: let go when it leaves. */
	uint8_t keys_down[CONSOLE_KEY_CODE_MAX / 8 + 1];
	bool leaving;                 /* hung up: only its last words are read */
};

struct console_server {
	GMainContext *ctx;
	int listen_fd;
	GSource *listen_source;
	char *path;
	struct display *display;
	const struct input_sink *input;
	char name[CONSOLE_NAME_MAX + 1];
	console_server_clipboard_fn clipboard;
	void *clipboard_opaque;
	unsigned hello_timeout_ms;
	GPtrArray *clients;
	GSource *kick;                    /* a flush of every viewer, scheduled */

	bool have_surface;
	struct display_surface surface;   /* pixels valid until the display's next surface call */
	int surface_fd;                   /* a read-only open of the surface's memfd, for viewers */
	bool cursor_known, cursor_visible;
	int32_t cursor_x, cursor_y;
	struct display_cursor cursor_shape;   /* argb owned; w == 0: none */
	uint32_t vm_state;
	char vm_reason[CONSOLE_TEXT_MAX + 1];
	GBytes *host_clipboard, *guest_clipboard;
	struct console_server_stats stats;
};

bool console_server_peer_allowed(const struct ucred *peer, uid_t self)
{
	return peer->uid == self;
}

/* UTF-8 src cut to at most max bytes on a character boundary. */
static void console_copy_text(char *dst, size_t max, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n > max)
		n = max;
	while (n > 0 && !console_text_valid(src, n))
		n--;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void console_client_release_keys(struct console_client *cl)
{
	const struct input_sink *in = cl->cs->input;
	for (unsigned code = 0; code <= CONSOLE_KEY_CODE_MAX; code++) {
		if (!(cl->keys_down[code / 8] & (1u << (code % 8))))
			continue;
		if (in && in->ops && in->ops->key)
			(void)in->ops->key(in->opaque, (uint16_t)code, false);
	}
	memset(cl->keys_down, 0, sizeof(cl->keys_down));
}

static void console_client_free(gpointer data)
{
	struct console_client *cl = data;
	console_client_release_keys(cl);
	if (cl->source) {
		g_source_destroy(&cl->source->base);
		g_source_unref(&cl->source->base);
	}
	if (cl->hello_timer) {
		g_source_destroy(cl->hello_timer);
		g_source_unref(cl->hello_timer);
	}
	if (cl->out_fd >= 0)
		close(cl->out_fd);
	close(cl->fd);
	console_reader_clear(&cl->reader);
	g_free(cl->out);
	g_free(cl);
}

static void console_client_drop(struct console_client *cl)
{
	g_ptr_array_remove_fast(cl->cs->clients, cl);
}

/* An ERROR if it can go out at once, then the end of the viewer. */
static void console_client_fail(struct console_client *cl, enum console_error code, const char *text)
{
	if (code == CONSOLE_ERROR_PROTOCOL || code == CONSOLE_ERROR_VERSION || code == CONSOLE_ERROR_TIMEOUT)
		cl->cs->stats.protocol_errors++;
	if (cl->out_pos == cl->out_len) {
		struct console_msg m = { .type = CONSOLE_MSG_ERROR };
		m.error.code = code;
		m.error.text = text;
		m.error.text_len = strlen(text);
		uint8_t buf[CONSOLE_HEADER_SIZE + sizeof(struct console_wire_error) + CONSOLE_TEXT_MAX];
		long n = console_msg_encode(&m, buf, sizeof(buf));
		if (n > 0)
			(void)send(cl->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	console_client_drop(cl);
}

static void console_client_poll(struct console_client *cl)
{
	GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;
	if (cl->out_pos < cl->out_len)
		want |= G_IO_OUT;
	g_source_modify_unix_fd(&cl->source->base, cl->source->tag, want);
}

static bool console_client_put(struct console_client *cl, const struct console_msg *m)
{
	size_t size = console_msg_size(m);
	if (size == 0)
		return false;
	if (cl->out_cap < size) {
		g_free(cl->out);
		cl->out = g_malloc(size);
		cl->out_cap = size;
	}
	long n = console_msg_encode(m, cl->out, cl->out_cap);
	if (n < 0)
		return false;
	cl->out_len = (size_t)n;
	cl->out_pos = 0;
	return true;
}

static bool console_client_frame_allowed(const struct console_client *cl)
{
	return !(cl->caps & CONSOLE_CAP_FRAME_ACK) || cl->frame_sent - cl->frame_acked < CONSOLE_FRAMES_IN_FLIGHT;
}

static bool console_client_put_damage(struct console_client *cl, const struct console_rect *rects, size_t n)
{
	struct console_msg m = { .type = CONSOLE_MSG_DAMAGE };
	m.damage.frame = cl->frame_sent + 1;
	m.damage.count = (uint32_t)n;
	memcpy(m.damage.rects, rects, n * sizeof(rects[0]));
	if (!console_client_put(cl, &m))
		return false;
	cl->frame_sent++;
	cl->cs->stats.frames++;
	return true;
}

/* The next band of the inline frame in flight; its DAMAGE after the last. */
static bool console_client_put_band(struct console_client *cl)
{
	struct console_server *cs = cl->cs;
	if (cl->flight_i == cl->nflight) {
		size_t n = cl->nflight;
		cl->nflight = 0;
		return console_client_put_damage(cl, cl->flight, n);
	}
	const struct console_rect *r = &cl->flight[cl->flight_i];
	uint32_t rows = CONSOLE_PIXELS_MAX / (r->w * 4u);
	if (rows > r->h - cl->flight_row)
		rows = r->h - cl->flight_row;
	struct console_msg m = { .type = CONSOLE_MSG_PIXELS };
	m.pixels.r = (struct console_rect){ r->x, r->y + cl->flight_row, r->w, rows };
	m.pixels.stride = cs->surface.stride;
	m.pixels.data = cs->surface.pixels + (size_t)m.pixels.r.y * cs->surface.stride + (size_t)r->x * 4u;
	cl->flight_row += rows;
	if (cl->flight_row == r->h) {
		cl->flight_i++;
		cl->flight_row = 0;
	}
	return console_client_put(cl, &m);
}

static bool console_client_put_surface(struct console_client *cl)
{
	struct console_server *cs = cl->cs;
	cl->ndamage = 0;
	cl->nflight = 0;
	if (!cs->have_surface) {
		struct console_msg m = { .type = CONSOLE_MSG_NO_SURFACE };
		return console_client_put(cl, &m);
	}
	bool inline_px = cl->caps & CONSOLE_CAP_INLINE_PIXELS;
	struct console_msg m = { .type = CONSOLE_MSG_SURFACE, .flags = inline_px ? 0 : CONSOLE_FLAG_FD };
	m.surface.width = cs->surface.width;
	m.surface.height = cs->surface.height;
	m.surface.format = CONSOLE_FORMAT_XRGB8888;
	if (inline_px) {
		m.surface.stride = cs->surface.width * 4u;
		m.surface.size = (uint64_t)m.surface.stride * cs->surface.height;
	} else {
		m.surface.stride = cs->surface.stride;
		m.surface.offset = cs->surface.offset;
		m.surface.size = cs->surface.offset + (uint64_t)cs->surface.stride * cs->surface.height;
		cl->out_fd = fcntl(cs->surface_fd, F_DUPFD_CLOEXEC, 3);
		if (cl->out_fd < 0)
			return false;
	}
	if (!console_client_put(cl, &m))
		return false;
	struct display_rect all = { 0, 0, cs->surface.width, cs->surface.height };
	display_rect_add(cl->damage, &cl->ndamage, DISPLAY_DAMAGE_RECTS, &all);
	return true;
}

static bool console_client_put_cursor(struct console_client *cl)
{
	struct console_server *cs = cl->cs;
	struct console_msg m = { .type = CONSOLE_MSG_CURSOR };
	m.cursor.flags = cs->cursor_visible ? CONSOLE_CURSOR_VISIBLE : 0;
	m.cursor.x = CLAMP(cs->cursor_x, -(int32_t)CONSOLE_SIDE_MAX, (int32_t)CONSOLE_SIDE_MAX);
	m.cursor.y = CLAMP(cs->cursor_y, -(int32_t)CONSOLE_SIDE_MAX, (int32_t)CONSOLE_SIDE_MAX);
	if (cl->want_shape && cs->cursor_shape.w) {
		m.cursor.flags |= CONSOLE_CURSOR_SHAPE;
		m.cursor.w = cs->cursor_shape.w;
		m.cursor.h = cs->cursor_shape.h;
		m.cursor.hot_x = cs->cursor_shape.hot_x;
		m.cursor.hot_y = cs->cursor_shape.hot_y;
		m.cursor.argb = cs->cursor_shape.argb;
	}
	cl->want_shape = false;
	return console_client_put(cl, &m);
}

/* Encodes the most urgent thing the viewer has not heard yet; false when
 * there is nothing (or nothing allowed before a FRAME_DONE). */
static bool console_client_next(struct console_client *cl)
{
	struct console_server *cs = cl->cs;
	if (!cl->hello_sent) {
		cl->hello_sent = true;
		struct console_msg m;
		console_msg_hello(&m, CONSOLE_SERVER_CAPS, cs->name);
		return console_client_put(cl, &m);
	}
	if (!cl->hello_done)
		return false;
	if (cl->want_surface) {
		cl->want_surface = false;
		return console_client_put_surface(cl);
	}
	if (cl->want_vm_state) {
		cl->want_vm_state = false;
		struct console_msg m = { .type = CONSOLE_MSG_VM_STATE };
		m.vm_state.state = cs->vm_state;
		m.vm_state.reason = cs->vm_reason;
		m.vm_state.reason_len = strlen(cs->vm_reason);
		return console_client_put(cl, &m);
	}
	if (cl->want_cursor) {
		cl->want_cursor = false;
		return console_client_put_cursor(cl);
	}
	if (cl->want_clipboard && cs->guest_clipboard) {
		cl->want_clipboard = false;
		struct console_msg m = { .type = CONSOLE_MSG_CLIPBOARD };
		m.clipboard.format = CONSOLE_CLIPBOARD_TEXT;
		m.clipboard.text = g_bytes_get_data(cs->guest_clipboard, &m.clipboard.len);
		return console_client_put(cl, &m);
	}
	if (!cs->have_surface)
		return false;
	if (cl->nflight)
		return console_client_put_band(cl);
	if (cl->ndamage == 0 || !console_client_frame_allowed(cl))
		return false;
	struct console_rect rects[DISPLAY_DAMAGE_RECTS];
	size_t n = cl->ndamage;
	for (size_t i = 0; i < n; i++)
		rects[i] = (struct console_rect){ cl->damage[i].x, cl->damage[i].y, cl->damage[i].w, cl->damage[i].h };
	cl->ndamage = 0;
	if (!(cl->caps & CONSOLE_CAP_INLINE_PIXELS))
		return console_client_put_damage(cl, rects, n);
	memcpy(cl->flight, rects, n * sizeof(rects[0]));
	cl->nflight = n;
	cl->flight_i = 0;
	cl->flight_row = 0;
	return console_client_put_band(cl);
}

static void console_client_update_stats(struct console_client *cl)
{
	size_t held = cl->out_cap + cl->reader.cap;
	if (held > cl->cs->stats.buffered_max)
		cl->cs->stats.buffered_max = held;
}

static bool console_client_read(struct console_client *cl);

/* The viewer hung up while we wrote to it: what it sent before it went
 * (keys typed just before it left) still counts, so that is read first.
 * A write can see the hangup before the main loop sees the bytes. */
static void console_client_gone(struct console_client *cl)
{
	cl->leaving = true;
	if (console_client_read(cl))
		console_client_drop(cl);
}

/* Writes until the socket is full or nothing is left to say; false when
 * the viewer is gone (and freed), or going. */
static bool console_client_flush(struct console_client *cl)
{
	if (cl->leaving)
		return false;
	for (;;) {
		if (cl->out_pos == cl->out_len) {
			cl->out_pos = cl->out_len = 0;
			if (!console_client_next(cl))
				break;
			console_client_update_stats(cl);
		}
		bool with_fd = cl->out_fd >= 0 && cl->out_pos == 0;
		ssize_t n = fdpass_send(cl->fd, cl->out + cl->out_pos, cl->out_len - cl->out_pos, with_fd ? cl->out_fd : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			console_client_gone(cl);
			return false;
		}
		if (with_fd) {
			close(cl->out_fd);
			cl->out_fd = -1;
		}
		cl->out_pos += (size_t)n;
	}
	console_client_poll(cl);
	return true;
}

static int console_client_on_hello(struct console_client *cl, const struct console_msg *m)
{
	if (m->hello.major != CONSOLE_VERSION_MAJOR) {
		char text[128];
		snprintf(text, sizeof(text), "this worker speaks console protocol %u.%u, not major %u",
			 CONSOLE_VERSION_MAJOR, CONSOLE_VERSION_MINOR, m->hello.major);
		console_client_fail(cl, CONSOLE_ERROR_VERSION, text);
		return -ECONNRESET;
	}
	cl->hello_done = true;
	cl->caps = m->hello.caps & CONSOLE_SERVER_CAPS;
	if (cl->hello_timer) {
		g_source_destroy(cl->hello_timer);
		g_clear_pointer(&cl->hello_timer, g_source_unref);
	}
	cl->want_surface = true;
	cl->want_vm_state = cl->cs->vm_state != 0;
	cl->want_cursor = cl->cs->cursor_known;
	cl->want_shape = cl->cs->cursor_shape.w != 0;
	cl->want_clipboard = cl->cs->guest_clipboard != NULL;
	return 0;
}

static void console_client_on_pointer(struct console_client *cl, const struct console_msg *m)
{
	struct console_server *cs = cl->cs;
	if (!cs->have_surface || !cs->input || !cs->input->ops || !cs->input->ops->pointer) {
		cs->stats.input_dropped++;
		return;
	}
	uint32_t x = MIN(m->pointer.x, cs->surface.width - 1), y = MIN(m->pointer.y, cs->surface.height - 1);
	if (cs->input->ops->pointer(cs->input->opaque, x, y, m->pointer.buttons, m->pointer.wheel,
				    m->pointer.hwheel) < 0)
		cs->stats.input_dropped++;
}

static void console_client_on_clipboard(struct console_client *cl, const struct console_msg *m)
{
	struct console_server *cs = cl->cs;
	g_clear_pointer(&cs->host_clipboard, g_bytes_unref);
	cs->host_clipboard = g_bytes_new(m->clipboard.text, m->clipboard.len);
	if (cs->clipboard)
		cs->clipboard(cs->clipboard_opaque, m->clipboard.text, m->clipboard.len);
}

static void console_client_on_frame_done(struct console_client *cl, const struct console_msg *m)
{
	/* Frame numbers wrap: compare by distance. */
	uint32_t ahead = m->frame_done.frame - cl->frame_acked;
	uint32_t sent = cl->frame_sent - cl->frame_acked;
	if (!(cl->caps & CONSOLE_CAP_FRAME_ACK) || ahead == 0 || ahead > sent) {
		cl->cs->stats.bad_messages++;
		return;
	}
	cl->frame_acked = m->frame_done.frame;
}

static int console_client_on_msg(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	struct console_client *cl = opaque;
	struct console_server *cs = cl->cs;
	if (!cl->hello_done && (status != 0 || m->type != CONSOLE_MSG_HELLO)) {
		console_client_fail(cl, CONSOLE_ERROR_PROTOCOL, "a viewer's first message is a valid HELLO");
		return -ECONNRESET;
	}
	if (status != 0) {
		cs->stats.bad_messages++;
		return 0;
	}
	switch (m->type) {
	case CONSOLE_MSG_HELLO:
		if (cl->hello_done) {
			cs->stats.bad_messages++;
			return 0;
		}
		return console_client_on_hello(cl, m);
	case CONSOLE_MSG_KEY:
		if (!cs->input || !cs->input->ops || !cs->input->ops->key ||
		    cs->input->ops->key(cs->input->opaque, m->key.code, m->key.down) < 0) {
			cs->stats.input_dropped++;
			return 0;
		}
		if (m->key.down)
			cl->keys_down[m->key.code / 8] |= (uint8_t)(1u << (m->key.code % 8));
		else
			cl->keys_down[m->key.code / 8] &= (uint8_t)~(1u << (m->key.code % 8));
		return 0;
	case CONSOLE_MSG_POINTER:
		console_client_on_pointer(cl, m);
		return 0;
	case CONSOLE_MSG_CLIPBOARD:
		console_client_on_clipboard(cl, m);
		return 0;
	case CONSOLE_MSG_FRAME_DONE:
		console_client_on_frame_done(cl, m);
		return 0;
	case CONSOLE_MSG_ERROR:
		/* The viewer says why it leaves. */
		console_client_drop(cl);
		return -ECONNRESET;
	default:
		cs->stats.bad_messages++;
		return 0;
	}
}

/* Closes what a control message passed; true when there was anything. */
static bool console_close_passed_fds(struct msghdr *mh)
{
	bool any = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
		any = true;
	}
	return any;
}

/* false when the viewer is gone. */
static bool console_client_read(struct console_client *cl)
{
	size_t budget = CONSOLE_SERVER_READ_BUDGET;
	while (budget > 0) {
		uint8_t buf[16384];
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * CONSOLE_SERVER_FDS_SEEN)];
		} ctrl;
		struct iovec iov = { buf, MIN(sizeof(buf), budget) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
				     .msg_controllen = sizeof(ctrl.buf) };
		ssize_t n = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		/* A failed recvmsg leaves msg_controllen as it was: nothing came. */
		if (n > 0 || (n == 0 && mh.msg_controllen)) {
			bool fds = console_close_passed_fds(&mh) || (mh.msg_flags & MSG_CTRUNC);
			if (fds) {
				cl->cs->stats.fds_refused++;
				console_client_fail(cl, CONSOLE_ERROR_FD, "viewers do not pass file descriptors");
				return false;
			}
		}
		if (n <= 0) {
			console_client_drop(cl);
			return false;
		}
		int r = console_reader_feed(&cl->reader, buf, (size_t)n, console_client_on_msg, cl);
		if (r == -ECONNRESET)
			return false;
		if (r < 0) {
			console_client_fail(cl, CONSOLE_ERROR_PROTOCOL,
					    r == -EMSGSIZE ? "a message longer than its type allows" : "a broken frame");
			return false;
		}
		console_client_update_stats(cl);
		budget -= (size_t)n;
	}
	return true;
}

static gboolean console_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	struct console_source *s = (struct console_source *)source;
	struct console_client *cl = s->cl;
	GIOCondition rev = g_source_query_unix_fd(source, s->tag);
	if ((rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !console_client_read(cl))
		return G_SOURCE_REMOVE;
	return console_client_flush(cl) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GSourceFuncs console_source_funcs = {
	.dispatch = console_source_dispatch,
};

static gboolean console_client_hello_timeout(gpointer data)
{
	struct console_client *cl = data;
	g_clear_pointer(&cl->hello_timer, g_source_unref);
	console_client_fail(cl, CONSOLE_ERROR_TIMEOUT, "no HELLO in time");
	return G_SOURCE_REMOVE;
}

int console_server_add_client_fd(struct console_server *cs, int fd)
{
	if (cs->clients->len >= CONSOLE_SERVER_CLIENTS_MAX) {
		cs->stats.refused_busy++;
		struct console_msg m = { .type = CONSOLE_MSG_ERROR };
		m.error.code = CONSOLE_ERROR_BUSY;
		m.error.text = "too many viewers";
		m.error.text_len = strlen(m.error.text);
		uint8_t buf[64];
		long n = console_msg_encode(&m, buf, sizeof(buf));
		if (n > 0)
			(void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return -EBUSY;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	struct console_client *cl = g_new0(struct console_client, 1);
	cl->cs = cs;
	cl->fd = fd;
	cl->out_fd = -1;
	console_reader_init(&cl->reader, CONSOLE_FROM_VIEWER);
	cl->source = (struct console_source *)g_source_new(&console_source_funcs, sizeof(struct console_source));
	cl->source->cl = cl;
	cl->source->tag = g_source_add_unix_fd(&cl->source->base, fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_name(&cl->source->base, "console viewer");
	g_source_attach(&cl->source->base, cs->ctx);
	cl->hello_timer = g_timeout_source_new(cs->hello_timeout_ms);
	g_source_set_callback(cl->hello_timer, console_client_hello_timeout, cl, NULL);
	g_source_attach(cl->hello_timer, cs->ctx);
	g_ptr_array_add(cs->clients, cl);
	cs->stats.accepted++;
	console_client_flush(cl);
	return 0;
}

static gboolean console_server_on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct console_server *cs = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return G_SOURCE_CONTINUE;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || !console_server_peer_allowed(&cred, getuid())) {
		cs->stats.refused_peer++;
		close(c);
		return G_SOURCE_CONTINUE;
	}
	(void)console_server_add_client_fd(cs, c);
	return G_SOURCE_CONTINUE;
}

/* Calls fn for every viewer that said HELLO; fn may drop the viewer. */
static void console_server_each(struct console_server *cs, void (*fn)(struct console_client *cl, void *arg), void *arg)
{
	for (guint i = cs->clients->len; i-- > 0;) {
		if (i >= cs->clients->len)
			continue;
		struct console_client *cl = g_ptr_array_index(cs->clients, i);
		if (cl->hello_done)
			fn(cl, arg);
	}
}

static void console_each_flush(struct console_client *cl, void *arg)
{
	console_client_flush(cl);
}

static gboolean console_server_on_kick(gpointer data)
{
	struct console_server *cs = data;
	g_clear_pointer(&cs->kick, g_source_unref);
	console_server_each(cs, console_each_flush, NULL);
	return G_SOURCE_REMOVE;
}

static void console_each_surface(struct console_client *cl, void *arg)
{
	cl->want_surface = true;
	cl->ndamage = 0;
	cl->nflight = 0;
}

/* A read-only open of the surface's memfd: viewers can map the pixels, not write them. */
static int console_reopen_read_only(int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	return ro >= 0 ? ro : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void console_sink_surface(void *opaque, const struct display_surface *s)
{
	struct console_server *cs = opaque;
	if (cs->surface_fd >= 0)
		close(cs->surface_fd);
	cs->surface_fd = -1;
	cs->have_surface = false;
	if (s) {
		cs->surface = *s;
		cs->surface_fd = console_reopen_read_only(s->memfd);
		cs->have_surface = cs->surface_fd >= 0;
	}
	console_server_each(cs, console_each_surface, NULL);
	/* The display's damage for the new surface comes right after: send
	 * the SURFACE with it, once the display is done with this turn. */
	if (!cs->kick) {
		cs->kick = g_idle_source_new();
		g_source_set_priority(cs->kick, G_PRIORITY_DEFAULT);
		g_source_set_callback(cs->kick, console_server_on_kick, cs, NULL);
		g_source_attach(cs->kick, cs->ctx);
	}
}

struct console_damage_arg {
	const struct display_rect *rects;
	size_t n;
};

static void console_each_damage(struct console_client *cl, void *arg)
{
	const struct console_damage_arg *d = arg;
	for (size_t i = 0; i < d->n; i++) {
		struct display_rect r = d->rects[i];
		if (display_rect_clip(&r, cl->cs->surface.width, cl->cs->surface.height))
			display_rect_add(cl->damage, &cl->ndamage, DISPLAY_DAMAGE_RECTS, &r);
	}
	console_client_flush(cl);
}

static void console_sink_damage(void *opaque, const struct display_rect *rects, size_t n)
{
	struct console_server *cs = opaque;
	if (!cs->have_surface)
		return;
	struct console_damage_arg d = { rects, n };
	console_server_each(cs, console_each_damage, &d);
}

static void console_each_cursor(struct console_client *cl, void *arg)
{
	cl->want_cursor = true;
	if (arg)
		cl->want_shape = true;
	console_client_flush(cl);
}

static void console_sink_cursor(void *opaque, bool visible, int32_t x, int32_t y, const struct display_cursor *shape)
{
	struct console_server *cs = opaque;
	cs->cursor_known = true;
	cs->cursor_visible = visible;
	cs->cursor_x = x;
	cs->cursor_y = y;
	bool new_shape = shape && shape->w && shape->h && shape->w <= CONSOLE_CURSOR_SIDE_MAX &&
			 shape->h <= CONSOLE_CURSOR_SIDE_MAX && shape->argb;
	if (new_shape) {
		g_free((void *)cs->cursor_shape.argb);
		cs->cursor_shape = *shape;
		cs->cursor_shape.hot_x = MIN(shape->hot_x, shape->w - 1);
		cs->cursor_shape.hot_y = MIN(shape->hot_y, shape->h - 1);
		cs->cursor_shape.argb = g_memdup2(shape->argb, (size_t)shape->w * shape->h * 4u);
	}
	console_server_each(cs, console_each_cursor, new_shape ? cs : NULL);
}

static const struct display_sink_ops console_sink_ops = {
	.surface = console_sink_surface,
	.damage = console_sink_damage,
	.cursor = console_sink_cursor,
};

struct console_server *console_server_new(const struct console_server_config *cfg, GError **error)
{
	struct console_server *cs = g_new0(struct console_server, 1);
	cs->listen_fd = -1;
	cs->surface_fd = -1;
	if (cfg->path) {
		cs->listen_fd = unixsock_listen(cfg->path, "console socket", CONSOLE_SERVER_BACKLOG, error);
		if (cs->listen_fd < 0) {
			g_free(cs);
			return NULL;
		}
		cs->path = g_strdup(cfg->path);
	}
	cs->ctx = cfg->ctx ? g_main_context_ref(cfg->ctx) : g_main_context_ref_thread_default();
	cs->display = cfg->display;
	cs->input = cfg->input;
	cs->clipboard = cfg->clipboard;
	cs->clipboard_opaque = cfg->clipboard_opaque;
	cs->hello_timeout_ms = cfg->hello_timeout_ms ? cfg->hello_timeout_ms : CONSOLE_SERVER_HELLO_TIMEOUT_MS;
	console_copy_text(cs->name, CONSOLE_NAME_MAX, cfg->name);
	cs->clients = g_ptr_array_new_with_free_func(console_client_free);
	if (cs->listen_fd >= 0) {
		cs->listen_source = g_unix_fd_source_new(cs->listen_fd, G_IO_IN);
		g_source_set_callback(cs->listen_source, G_SOURCE_FUNC(console_server_on_accept), cs, NULL);
		g_source_attach(cs->listen_source, cs->ctx);
	}
	if (cs->display)
		display_add_sink(cs->display, &console_sink_ops, cs);
	return cs;
}

void console_server_free(struct console_server *cs)
{
	if (!cs)
		return;
	if (cs->display)
		display_remove_sink(cs->display, &console_sink_ops, cs);
	if (cs->kick) {
		g_source_destroy(cs->kick);
		g_source_unref(cs->kick);
	}
	g_ptr_array_unref(cs->clients);
	if (cs->listen_source) {
		g_source_destroy(cs->listen_source);
		g_source_unref(cs->listen_source);
	}
	if (cs->listen_fd >= 0) {
		close(cs->listen_fd);
		unlink(cs->path);
	}
	if (cs->surface_fd >= 0)
		close(cs->surface_fd);
	g_free((void *)cs->cursor_shape.argb);
	g_clear_pointer(&cs->host_clipboard, g_bytes_unref);
	g_clear_pointer(&cs->guest_clipboard, g_bytes_unref);
	g_main_context_unref(cs->ctx);
	g_free(cs->path);
	g_free(cs);
}

static void console_each_vm_state(struct console_client *cl, void *arg)
{
	cl->want_vm_state = true;
	console_client_flush(cl);
}

void console_server_set_vm_state(struct console_server *cs, enum console_vm_state state, const char *reason)
{
	cs->vm_state = state;
	console_copy_text(cs->vm_reason, CONSOLE_TEXT_MAX, reason);
	console_server_each(cs, console_each_vm_state, NULL);
}

static void console_each_clipboard(struct console_client *cl, void *arg)
{
	cl->want_clipboard = true;
	console_client_flush(cl);
}

int console_server_set_guest_clipboard(struct console_server *cs, const char *text, size_t len)
{
	if (len > CONSOLE_CLIPBOARD_MAX || (len && !text) || !console_text_valid(text, len))
		return -EINVAL;
	g_clear_pointer(&cs->guest_clipboard, g_bytes_unref);
	cs->guest_clipboard = g_bytes_new(text, len);
	console_server_each(cs, console_each_clipboard, NULL);
	return 0;
}

const char *console_server_host_clipboard(struct console_server *cs, size_t *len)
{
	if (!cs->host_clipboard)
		return NULL;
	return g_bytes_get_data(cs->host_clipboard, len);
}

void console_server_get_stats(struct console_server *cs, struct console_server_stats *st)
{
	*st = cs->stats;
	st->clients = cs->clients->len;
	st->buffered_max = 0;
	for (guint i = 0; i < cs->clients->len; i++) {
		struct console_client *cl = g_ptr_array_index(cs->clients, i);
		st->buffered_max = MAX(st->buffered_max, cl->out_cap + cl->reader.cap);
	}
}

char *console_server_describe(struct console_server *cs)
{
	struct console_server_stats st;
	console_server_get_stats(cs, &st);
	return g_strdup_printf("clients=%u accepted=%" G_GUINT64_FORMAT " refused_peer=%" G_GUINT64_FORMAT
			       " refused_busy=%" G_GUINT64_FORMAT " bad_messages=%" G_GUINT64_FORMAT
			       " protocol_errors=%" G_GUINT64_FORMAT " fds_refused=%" G_GUINT64_FORMAT
			       " input_dropped=%" G_GUINT64_FORMAT " frames=%" G_GUINT64_FORMAT " surface=%s",
			       st.clients, st.accepted, st.refused_peer, st.refused_busy, st.bad_messages,
			       st.protocol_errors, st.fds_refused, st.input_dropped, st.frames,
			       cs->have_surface ? "yes" : "no");
}
