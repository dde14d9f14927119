// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VNC export; the threading is explained in vnc.h. libvncserver does
 * not listen itself (its ports are 0): we accept on our own socket, TCP
 * or unix, and hand each connection to rfbNewClient, so that the address
 * is ours to check and a unix socket works with a libvncserver that has
 * none of its own (Debian 12's 0.9.14).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <rfb/rfb.h>

#include "keysym_evdev.h"
#include "unixsock.h"
#include "vnc.h"

#define VNC_BACKLOG 4
#define VNC_KEY_CODE_MAX 0x2ffu   /* evdev KEY_MAX */

/* A mapping of a surface (or of zeros), read-only. */
struct vnc_fb {
	void *base;
	size_t len;
	const uint8_t *pixels;
	uint32_t width, height, stride;
	bool blank;
};

enum vnc_event_kind { VNC_EVENT_KEY, VNC_EVENT_POINTER };

struct vnc_event {
	enum vnc_event_kind kind;
	uint16_t code;
	bool down;
	uint32_t x, y, buttons;
	int32_t wheel, hwheel;
};

struct vnc_client {
	struct vnc *v;
	int prev_mask;
	uint8_t keys_down[VNC_KEY_CODE_MAX / 8 + 1];   /* let go when the client leaves */
};

struct vnc {
	GMainContext *ctx;
	struct display *display;
	const struct input_sink *input;
	struct keysym_map *keys;
	rfbScreenInfoPtr screen;
	char *desktop_name;
	char *passwords[2];
	int listen_fd;
	char *unix_path;
	int port;
	int wake_fd;
	GThread *thread;

	GMutex lock;                  /* what the main context hands the thread, and back */
	bool stop;
	bool fb_changed;
	struct vnc_fb next_fb;        /* base NULL: nothing to switch to */
	struct display_rect damage[DISPLAY_DAMAGE_RECTS];
	size_t ndamage;
	GQueue events;                /* struct vnc_event *, to the main context */
	GSource *input_source;
	struct vnc_stats stats;

	struct vnc_fb fb;             /* VNC thread: what libvncserver reads */
	uint32_t last_width, last_height;   /* main context: for the blank picture */
};

static void vnc_log(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_logv("vireo-vnc", G_LOG_LEVEL_DEBUG, format, ap);
	va_end(ap);
}

static bool vnc_addr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a);
	}
	return false;
}

int vnc_parse_listen(const char *spec, struct vnc_listen *out, const char **why)
{
	struct vnc_listen l = { 0 };
	if (g_str_has_prefix(spec, "unix:")) {
		const char *path = spec + 5;
		if (!*path || strlen(path) >= sizeof(l.path)) {
			*why = "unix:PATH needs a path of at most 107 bytes";
			return -EINVAL;
		}
		l.kind = VNC_LISTEN_UNIX;
		l.loopback = true;
		g_strlcpy(l.path, path, sizeof(l.path));
		*out = l;
		return 0;
	}
	const char *colon = strrchr(spec, ':');
	if (!colon) {
		*why = "expected HOST:PORT or unix:PATH";
		return -EINVAL;
	}
	g_autofree char *host = g_strndup(spec, (gsize)(colon - spec));
	const char *port_s = colon + 1;
	if (!*port_s || strlen(port_s) > 5 || strspn(port_s, "0123456789") != strlen(port_s) || atoi(port_s) > 65535) {
		*why = "the port is a number from 0 to 65535";
		return -EINVAL;
	}
	uint16_t port = (uint16_t)atoi(port_s);
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&l.addr;
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
			*why = "not an IPv6 address";
			return -EINVAL;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		l.addr_len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&l.addr;
		const char *h = !*host || g_ascii_strcasecmp(host, "localhost") == 0 ? "127.0.0.1" : host;
		if (inet_pton(AF_INET, h, &a4->sin_addr) != 1) {
			*why = "the host is a numeric address ([...] for IPv6) or localhost";
			return -EINVAL;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		l.addr_len = sizeof(*a4);
	}
	l.kind = VNC_LISTEN_TCP;
	l.loopback = vnc_addr_loopback(&l.addr);
	*out = l;
	return 0;
}

static void vnc_fb_unmap(struct vnc_fb *fb)
{
	if (fb->base)
		munmap(fb->base, fb->len);
	*fb = (struct vnc_fb){ 0 };
}

/* Zeros, read-only: what VNC shows while the guest shows nothing. */
static int vnc_fb_blank(uint32_t w, uint32_t h, struct vnc_fb *out)
{
	size_t len = (size_t)w * h * 4u;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = (struct vnc_fb){ p, len, p, w, h, w * 4u, true };
	return 0;
}

static int vnc_fb_map(const struct display_surface *s, struct vnc_fb *out)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = s->offset & ~(uint64_t)(page - 1);
	size_t len = (size_t)(s->offset - start) + (size_t)s->stride * s->height;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, s->memfd, (off_t)start);
	if (p == MAP_FAILED)
		return -errno;
	*out = (struct vnc_fb){ p, len, (const uint8_t *)p + (s->offset - start), s->width, s->height, s->stride, false };
	return 0;
}

static void vnc_wake(struct vnc *v)
{
	uint64_t one = 1;
	(void)!write(v->wake_fd, &one, sizeof(one));
}

/* libvncserver's pixel format for XRGB8888 in memory (B, G, R, X bytes). */
static void vnc_set_format(rfbScreenInfoPtr s)
{
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

/* VNC thread. */
static void vnc_switch_fb(struct vnc *v, struct vnc_fb *nf)
{
	struct vnc_fb old = v->fb;
	v->fb = *nf;
	rfbScreenInfoPtr s = v->screen;
	rfbNewFramebuffer(s, (char *)nf->pixels, (int)nf->width, (int)nf->height, 8, 3, 4);
	/* rfbNewFramebuffer assumes R, G, B in memory and rows of width * 4
	 * bytes: set ours, and the clients' translation from it again. */
	vnc_set_format(s);
	s->paddedWidthInBytes = (int)nf->stride;
	rfbClientIteratorPtr it = rfbGetClientIterator(s);
	rfbClientPtr cl;
	while ((cl = rfbClientIteratorNext(it)))
		rfbSetTranslateFunction(cl);
	rfbReleaseClientIterator(it);
	rfbMarkRectAsModified(s, 0, 0, (int)nf->width, (int)nf->height);
	vnc_fb_unmap(&old);
}

static gboolean vnc_on_input(gpointer data)
{
	struct vnc *v = data;
	g_mutex_lock(&v->lock);
	g_clear_pointer(&v->input_source, g_source_unref);
	GQueue events = v->events;
	g_queue_init(&v->events);
	g_mutex_unlock(&v->lock);

	uint64_t dropped = 0;
	struct vnc_event *e;
	while ((e = g_queue_pop_head(&events))) {
		const struct input_sink_ops *ops = v->input ? v->input->ops : NULL;
		int r = -ENOTCONN;
		if (ops && e->kind == VNC_EVENT_KEY && ops->key)
			r = ops->key(v->input->opaque, e->code, e->down);
		else if (ops && e->kind == VNC_EVENT_POINTER && ops->pointer)
			r = ops->pointer(v->input->opaque, e->x, e->y, e->buttons, e->wheel, e->hwheel);
		if (r < 0)
			dropped++;
		g_free(e);
	}
	g_mutex_lock(&v->lock);
	v->stats.input_dropped += dropped;
	g_mutex_unlock(&v->lock);
	return G_SOURCE_REMOVE;
}

/* VNC thread: an event for the main context. */
static void vnc_queue_event(struct vnc *v, const struct vnc_event *e)
{
	g_mutex_lock(&v->lock);
	struct vnc_event *last = g_queue_peek_tail(&v->events);
	if (e->kind == VNC_EVENT_POINTER && last && last->kind == VNC_EVENT_POINTER && last->buttons == e->buttons &&
	    !last->wheel && !last->hwheel && !e->wheel && !e->hwheel) {
		/* Motion the main context has not seen yet: only the latest position counts. */
		*last = *e;
	} else if (g_queue_get_length(&v->events) >= VNC_INPUT_QUEUE_MAX) {
		v->stats.input_dropped++;
	} else {
		g_queue_push_tail(&v->events, g_memdup2(e, sizeof(*e)));
	}
	if (!v->input_source && !g_queue_is_empty(&v->events)) {
		v->input_source = g_idle_source_new();
		g_source_set_priority(v->input_source, G_PRIORITY_DEFAULT);
		g_source_set_callback(v->input_source, vnc_on_input, v, NULL);
		g_source_attach(v->input_source, v->ctx);
	}
	g_mutex_unlock(&v->lock);
}

static void vnc_on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	int code = keysym_map_lookup(v->keys, (uint32_t)keysym);
	if (code < 0) {
		g_mutex_lock(&v->lock);
		v->stats.keys_unmapped++;
		g_mutex_unlock(&v->lock);
		return;
	}
	struct vnc_client *vc = cl->clientData;
	if (down)
		vc->keys_down[code / 8] |= (uint8_t)(1u << (code % 8));
	else
		vc->keys_down[code / 8] &= (uint8_t)~(1u << (code % 8));
	struct vnc_event e = { .kind = VNC_EVENT_KEY, .code = (uint16_t)code, .down = down };
	vnc_queue_event(v, &e);
}

/* VNC button mask bits: 1 left, 2 middle, 4 right, 8/16 wheel up/down,
 * 32/64 wheel left/right (a press and a release per step). */
static void vnc_on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *vc = cl->clientData;
	int pressed = mask & ~vc->prev_mask;
	vc->prev_mask = mask;
	if (v->fb.blank)
		return;   /* no guest surface for the position to be on */
	struct vnc_event e = {
		.kind = VNC_EVENT_POINTER,
		.x = (uint32_t)CLAMP(x, 0, (int)v->fb.width - 1),
		.y = (uint32_t)CLAMP(y, 0, (int)v->fb.height - 1),
		.buttons = ((mask & 1) ? INPUT_BUTTON_LEFT : 0) | ((mask & 2) ? INPUT_BUTTON_MIDDLE : 0) |
			   ((mask & 4) ? INPUT_BUTTON_RIGHT : 0),
		.wheel = ((pressed & 8) ? 1 : 0) - ((pressed & 16) ? 1 : 0),
		.hwheel = ((pressed & 64) ? 1 : 0) - ((pressed & 32) ? 1 : 0),
	};
	vnc_queue_event(v, &e);
}

static void vnc_client_gone(rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	for (unsigned code = 0; code <= VNC_KEY_CODE_MAX; code++) {
		if (vc->keys_down[code / 8] & (1u << (code % 8))) {
			struct vnc_event e = { .kind = VNC_EVENT_KEY, .code = (uint16_t)code, .down = false };
			vnc_queue_event(vc->v, &e);
		}
	}
	g_mutex_lock(&vc->v->lock);
	vc->v->stats.clients--;
	g_mutex_unlock(&vc->v->lock);
	g_free(vc);
	cl->clientData = NULL;
}

static enum rfbNewClientAction vnc_new_client(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *vc = g_new0(struct vnc_client, 1);
	vc->v = v;
	cl->clientData = vc;
	cl->clientGoneHook = vnc_client_gone;
	g_mutex_lock(&v->lock);
	v->stats.clients++;
	v->stats.accepted++;
	g_mutex_unlock(&v->lock);
	return RFB_CLIENT_ACCEPT;
}

/* VNC thread. */
static void vnc_accept(struct vnc *v)
{
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	bool ok = true;
	if (v->unix_path) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		ok = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
	}
	g_mutex_lock(&v->lock);
	ok = ok && v->stats.clients < VNC_CLIENTS_MAX;
	if (!ok)
		v->stats.refused++;
	g_mutex_unlock(&v->lock);
	if (!ok) {
		close(fd);
		return;
	}
	/* On failure libvncserver closes fd itself. */
	(void)rfbNewClient(v->screen, fd);
}

static gpointer vnc_thread(gpointer data)
{
	struct vnc *v = data;
	for (;;) {
		struct pollfd pfd[2 + VNC_CLIENTS_MAX];
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = v->wake_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = v->listen_fd, .events = POLLIN };
		rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
		rfbClientPtr cl;
		while ((cl = rfbClientIteratorNext(it)) && n < G_N_ELEMENTS(pfd))
			if (cl->sock != RFB_INVALID_SOCKET)
				pfd[n++] = (struct pollfd){ .fd = cl->sock, .events = POLLIN };
		rfbReleaseClientIterator(it);
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			uint64_t count;
			(void)!read(v->wake_fd, &count, sizeof(count));
		}
		g_mutex_lock(&v->lock);
		bool stop = v->stop;
		bool fb_changed = v->fb_changed;
		struct vnc_fb nf = v->next_fb;
		struct display_rect rects[DISPLAY_DAMAGE_RECTS];
		size_t nd = v->ndamage;
		memcpy(rects, v->damage, nd * sizeof(rects[0]));
		v->fb_changed = false;
		v->next_fb = (struct vnc_fb){ 0 };
		v->ndamage = 0;
		v->stats.updates += nd;
		g_mutex_unlock(&v->lock);
		if (stop) {
			vnc_fb_unmap(&nf);
			break;
		}
		if (fb_changed)
			vnc_switch_fb(v, &nf);
		for (size_t i = 0; i < nd; i++) {
			struct display_rect r = rects[i];
			if (display_rect_clip(&r, v->fb.width, v->fb.height))
				rfbMarkRectAsModified(v->screen, (int)r.x, (int)r.y, (int)(r.x + r.w), (int)(r.y + r.h));
		}
		if (pfd[1].revents & POLLIN)
			vnc_accept(v);
		rfbProcessEvents(v->screen, 0);
	}
	return NULL;
}

/* Main context: a new picture for the thread to switch to. */
static void vnc_hand_fb(struct vnc *v, struct vnc_fb *fb)
{
	g_mutex_lock(&v->lock);
	vnc_fb_unmap(&v->next_fb);
	v->next_fb = *fb;
	v->fb_changed = true;
	v->ndamage = 0;
	g_mutex_unlock(&v->lock);
	vnc_wake(v);
}

static void vnc_sink_surface(void *opaque, const struct display_surface *s)
{
	struct vnc *v = opaque;
	struct vnc_fb fb;
	if (s && vnc_fb_map(s, &fb) == 0) {
		v->last_width = s->width;
		v->last_height = s->height;
	} else if (vnc_fb_blank(v->last_width, v->last_height, &fb) < 0) {
		return;
	}
	vnc_hand_fb(v, &fb);
}

static void vnc_sink_damage(void *opaque, const struct display_rect *rects, size_t n)
{
	struct vnc *v = opaque;
	g_mutex_lock(&v->lock);
	for (size_t i = 0; i < n; i++)
		display_rect_add(v->damage, &v->ndamage, DISPLAY_DAMAGE_RECTS, &rects[i]);
	g_mutex_unlock(&v->lock);
	vnc_wake(v);
}

static const struct display_sink_ops vnc_sink_ops = {
	.surface = vnc_sink_surface,
	.damage = vnc_sink_damage,
};

static char *vnc_read_password(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &text, &len, error))
		return NULL;
	if (len > VNC_PASSWORD_FILE_MAX) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "VNC password file %s: longer than %u bytes", path,
			    VNC_PASSWORD_FILE_MAX);
		return NULL;
	}
	text[strcspn(text, "\r\n")] = '\0';
	if (!*text) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "VNC password file %s: the first line is empty",
			    path);
		return NULL;
	}
	return g_steal_pointer(&text);
}

static int vnc_listen_on(struct vnc *v, const struct vnc_listen *l, GError **error)
{
	if (l->kind == VNC_LISTEN_UNIX) {
		v->listen_fd = unixsock_listen(l->path, "VNC socket", VNC_BACKLOG, error);
		if (v->listen_fd < 0)
			return -1;
		v->unix_path = g_strdup(l->path);
		v->port = -1;
		return 0;
	}
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (l->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0 || listen(fd, VNC_BACKLOG) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "VNC: cannot listen: %s", g_strerror(e));
		return -1;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	getsockname(fd, (struct sockaddr *)&bound, &blen);
	v->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						     : ((struct sockaddr_in *)&bound)->sin_port);
	v->listen_fd = fd;
	return 0;
}

struct vnc *vnc_new(const struct vnc_config *cfg, GError **error)
{
	struct vnc_listen l;
	const char *why = NULL;
	if (vnc_parse_listen(cfg->listen, &l, &why) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--vnc %s: %s", cfg->listen, why);
		return NULL;
	}
	if (!l.loopback && !cfg->password_file) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "--vnc %s: an address other hosts can reach needs --vnc-password-file", cfg->listen);
		return NULL;
	}
	g_autofree char *password = NULL;
	if (cfg->password_file && !(password = vnc_read_password(cfg->password_file, error)))
		return NULL;
	struct keysym_map *keys = keysym_map_new(cfg->keymap_layout, cfg->keymap_variant);
	if (!keys) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "VNC keymap %s%s%s: XKB cannot compile it",
			    cfg->keymap_layout ? cfg->keymap_layout : KEYSYM_EVDEV_DEFAULT_LAYOUT,
			    cfg->keymap_variant ? "(" : "", cfg->keymap_variant ? cfg->keymap_variant : "");
		return NULL;
	}

	struct vnc *v = g_new0(struct vnc, 1);
	v->keys = keys;
	v->listen_fd = -1;
	g_mutex_init(&v->lock);
	g_queue_init(&v->events);
	if (vnc_listen_on(v, &l, error) < 0) {
		keysym_map_free(keys);
		g_mutex_clear(&v->lock);
		g_free(v);
		return NULL;
	}
	v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->ctx = cfg->ctx ? g_main_context_ref(cfg->ctx) : g_main_context_ref_thread_default();
	v->display = cfg->display;
	v->input = cfg->input;
	v->last_width = VNC_BLANK_WIDTH;
	v->last_height = VNC_BLANK_HEIGHT;
	v->desktop_name = g_strdup(cfg->name ? cfg->name : "vireo");

	rfbLog = vnc_log;
	rfbErr = vnc_log;
	vnc_fb_blank(VNC_BLANK_WIDTH, VNC_BLANK_HEIGHT, &v->fb);
	int argc = 0;
	rfbScreenInfoPtr s = rfbGetScreen(&argc, NULL, VNC_BLANK_WIDTH, VNC_BLANK_HEIGHT, 8, 3, 4);
	v->screen = s;
	vnc_set_format(s);
	s->frameBuffer = (char *)v->fb.pixels;
	s->screenData = v;
	s->desktopName = v->desktop_name;
	s->port = 0;                  /* we listen, not libvncserver */
	s->ipv6port = 0;
	s->httpPort = 0;
	s->autoPort = FALSE;
	s->alwaysShared = TRUE;       /* several viewers at once */
	s->deferUpdateTime = 0;       /* damage is merged already; send as soon as asked */
	s->maxClientWait = VNC_CLIENT_WAIT_MS;
	s->cursor = NULL;             /* never drawn into the (read-only) framebuffer */
	s->kbdAddEvent = vnc_on_key;
	s->ptrAddEvent = vnc_on_pointer;
	s->newClientHook = vnc_new_client;
	if (password) {
		/* VNC authentication takes 8 bytes of the password; the rest is not checked. */
		v->passwords[0] = g_steal_pointer(&password);
		s->authPasswdData = v->passwords;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	rfbInitServer(s);

	if (v->display)
		display_add_sink(v->display, &vnc_sink_ops, v);
	v->thread = g_thread_new("vnc", vnc_thread, v);
	return v;
}

void vnc_free(struct vnc *v)
{
	if (!v)
		return;
	if (v->display)
		display_remove_sink(v->display, &vnc_sink_ops, v);
	g_mutex_lock(&v->lock);
	v->stop = true;
	g_mutex_unlock(&v->lock);
	vnc_wake(v);
	g_thread_join(v->thread);
	/* The thread is gone: libvncserver is ours alone again. */
	rfbShutdownServer(v->screen, TRUE);
	rfbScreenCleanup(v->screen);
	vnc_fb_unmap(&v->fb);
	vnc_fb_unmap(&v->next_fb);
	if (v->input_source) {
		g_source_destroy(v->input_source);
		g_source_unref(v->input_source);
	}
	g_queue_clear_full(&v->events, g_free);
	close(v->listen_fd);
	if (v->unix_path)
		unlink(v->unix_path);
	close(v->wake_fd);
	keysym_map_free(v->keys);
	g_main_context_unref(v->ctx);
	g_free(v->passwords[0]);
	g_free(v->unix_path);
	g_free(v->desktop_name);
	g_mutex_clear(&v->lock);
	g_free(v);
}

int vnc_port(struct vnc *v)
{
	return v->port;
}

void vnc_get_stats(struct vnc *v, struct vnc_stats *st)
{
	g_mutex_lock(&v->lock);
	*st = v->stats;
	g_mutex_unlock(&v->lock);
}

char *vnc_describe(struct vnc *v)
{
	struct vnc_stats st;
	vnc_get_stats(v, &st);
	return g_strdup_printf("clients=%u accepted=%" G_GUINT64_FORMAT " refused=%" G_GUINT64_FORMAT
			       " keys_unmapped=%" G_GUINT64_FORMAT " input_dropped=%" G_GUINT64_FORMAT
			       " updates=%" G_GUINT64_FORMAT " port=%d",
			       st.clients, st.accepted, st.refused, st.keys_unmapped, st.input_dropped, st.updates,
			       v->port);
}
