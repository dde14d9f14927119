// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost's connections (backend/worker/emuhost_conn.c) between a
 * client socket and a mux channel, with an agent end of the link wired to
 * the host end: a half-close answered in full, a client that sends and
 * goes away while output was waiting for it (what it sent still reaches
 * the worker), a viewer's memfd on its SURFACE's byte, a control client's
 * pid rewritten, and the credit that keeps a slow client from holding
 * anything but its own channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "emuhost_conn.h"

struct agent {
	struct emuhost_link link;
	GString *data[EMUX_CHANNELS_MAX + 1];
	unsigned eofs, closes, opens;
};

static void a_open(void *o, unsigned ch, uint32_t ep) { ((struct agent *)o)->opens++; }
static void a_data(void *o, unsigned ch, const uint8_t *d, size_t len)
{
	struct agent *a = o;
	if (!a->data[ch])
		a->data[ch] = g_string_new(NULL);
	g_string_append_len(a->data[ch], (const char *)d, (gssize)len);
	emuhost_link_consumed(&a->link, ch, len);
}
static void a_eof(void *o, unsigned ch) { ((struct agent *)o)->eofs++; }
static void a_closed(void *o, unsigned ch, uint32_t e) { ((struct agent *)o)->closes++; }

static const struct emuhost_link_ops agent_ops = { .open = a_open, .data = a_data, .eof = a_eof, .closed = a_closed };

struct host {
	struct emuhost_link link;
	struct emuhost_conn *conns[EMUX_CHANNELS_MAX + 1];
};

static void h_data(void *o, unsigned ch, const uint8_t *d, size_t len)
{
	struct host *h = o;
	struct emuhost_conn *c = h->conns[ch];
	g_assert_nonnull(c);
	g_assert_cmpint(emuhost_buf_append(&c->from_agent, d, len), ==, 0);
	(void)emuhost_conn_pump_down(c);
}
static void h_eof(void *o, unsigned ch)
{
	struct host *h = o;
	if (h->conns[ch]) {
		h->conns[ch]->eof_out = true;
		(void)emuhost_conn_pump_down(h->conns[ch]);
	}
}
static void h_closed(void *o, unsigned ch, uint32_t e)
{
	struct host *h = o;
	struct emuhost_conn *c = h->conns[ch];
	if (c) {
		c->eof_out = true;
		if (emuhost_conn_pump_down(c) && h->conns[ch] == c)
			emuhost_conn_free(c);
	}
}
static void h_writable(void *o, unsigned ch)
{
	struct host *h = o;
	if (h->conns[ch])
		(void)emuhost_conn_pump_up(h->conns[ch]);
}

static const struct emuhost_link_ops host_ops = { .data = h_data, .eof = h_eof, .closed = h_closed,
						  .writable = h_writable };

static void pump(struct emuhost_link *from, struct emuhost_link *to)
{
	while (from->out_len) {
		size_t n = from->out_len;
		g_autofree uint8_t *copy = g_memdup2(from->out, n);
		emuhost_link_written(from, n);
		g_assert_cmpint(emuhost_link_feed(to, copy, n), ==, 0);
	}
}

static void pump_both(struct host *h, struct agent *a)
{
	while (h->link.out_len || a->link.out_len) {
		pump(&h->link, &a->link);
		pump(&a->link, &h->link);
	}
}

static char *local(void *opaque, const char *args)
{
	return g_strdup("ok local");
}

static int client_pair(struct host *h, unsigned ep, enum emuhost_conn_kind kind, struct emuhost_conn **out)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), ==, 0);
	int ch = emuhost_link_open(&h->link, ep);
	g_assert_cmpint(ch, >, 0);
	*out = emuhost_conn_new(&h->link, &h->conns[ch], (unsigned)ch, kind, sv[0], sv[0], true, local, NULL);
	return sv[1];
}

static char *client_read(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, n);
	return g_string_free(s, FALSE);
}

static void setup(struct host *h, struct agent *a)
{
	memset(h, 0, sizeof(*h));
	memset(a, 0, sizeof(*a));
	emuhost_link_init(&h->link, EMUHOST_LINK_HOST, &host_ops, h);
	emuhost_link_init(&a->link, EMUHOST_LINK_AGENT, &agent_ops, a);
}

static void teardown(struct host *h, struct agent *a)
{
	for (unsigned i = 0; i <= EMUX_CHANNELS_MAX; i++) {
		if (h->conns[i])
			emuhost_conn_free(h->conns[i]);
		if (a->data[i])
			g_string_free(a->data[i], TRUE);
	}
	emuhost_link_clear(&h->link);
	emuhost_link_clear(&a->link);
}

static void test_half_close(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_conn *c;
	int cl = client_pair(&h, EMUX_EP_CONTROL, EMUHOST_CONN_CONTROL, &c);
	unsigned ch = c->ch;
	/* "echo status | nc -U": the command, then end of file; the reply must still come. */
	g_assert_cmpint(write(cl, "status\n", 7), ==, 7);
	shutdown(cl, SHUT_WR);
	emuhost_conn_read(c);
	emuhost_conn_read(c);
	pump_both(&h, &a);
	g_assert_cmpstr(a.data[ch]->str, ==, "status\n");
	g_assert_cmpuint(a.eofs, ==, 1);
	g_assert_nonnull(h.conns[ch]);
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)"ok state=running pid=12\n", 24), ==, 24);
	g_assert_cmpint(emuhost_link_eof(&a.link, ch), ==, 0);
	pump_both(&h, &a);
	g_autofree char *got = client_read(cl);
	g_autofree char *want = g_strdup_printf("ok state=running pid=%d\n", (int)getpid());
	g_assert_cmpstr(got, ==, want);
	/* Both ends said EOF: the connection is gone, its channel closed on both ends. */
	g_assert_null(h.conns[ch]);
	g_assert_cmpuint(a.closes, ==, 1);
	g_assert_false(emuhost_link_chan_open(&h.link, ch));
	close(cl);
	teardown(&h, &a);
}

static void test_client_gone(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_conn *c;
	int cl = client_pair(&h, EMUX_EP_SERIAL, EMUHOST_CONN_RAW, &c);
	unsigned ch = c->ch;
	pump_both(&h, &a);
	/* The client types and is gone before we read it; then output for it comes. */
	g_assert_cmpint(write(cl, "keys", 4), ==, 4);
	close(cl);
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)"console output", 14), ==, 14);
	pump_both(&h, &a);
	/* What it typed reached the agent, then EOF and CLOSE; the output was dropped and credited. */
	g_assert_nonnull(a.data[ch]);
	g_assert_cmpstr(a.data[ch]->str, ==, "keys");
	g_assert_cmpuint(a.eofs, ==, 1);
	g_assert_null(h.conns[ch]);
	g_assert_cmpuint(a.closes, ==, 1);
	g_assert_cmpuint(a.link.chans[ch].state, ==, EMUHOST_CHAN_FREE);
	teardown(&h, &a);
}

static void test_console_fd(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_conn *c;
	int cl = client_pair(&h, EMUX_EP_CONSOLE, EMUHOST_CONN_CONSOLE, &c);
	unsigned ch = c->ch;
	/* The viewer's HELLO, without inline pixels. */
	uint8_t hello[CONSOLE_HEADER_SIZE + 9];
	struct console_msg m = { .type = CONSOLE_MSG_HELLO, .hello = { 1, 0, CONSOLE_CAP_FRAME_ACK, "v", 1 } };
	g_assert_cmpint(console_msg_encode(&m, hello, sizeof(hello)), ==, (long)sizeof(hello));
	g_assert_cmpint(write(cl, hello, sizeof(hello)), ==, (ssize_t)sizeof(hello));
	emuhost_conn_read(c);
	pump_both(&h, &a);
	g_assert_cmpuint(a.data[ch]->len, ==, sizeof(hello));
	g_assert_cmpuint(a.data[ch]->str[12] & CONSOLE_CAP_INLINE_PIXELS, ==, CONSOLE_CAP_INLINE_PIXELS);
	/* The worker's HELLO and an inline SURFACE: the viewer gets a memfd on the SURFACE. */
	uint8_t w[256];
	size_t n = 0;
	struct console_msg wh = { .type = CONSOLE_MSG_HELLO, .hello = { 1, 0, CONSOLE_CAP_INLINE_PIXELS, "vm", 2 } };
	n += (size_t)console_msg_encode(&wh, w, sizeof(w));
	struct console_msg s = { .type = CONSOLE_MSG_SURFACE };
	s.surface.width = 4;
	s.surface.height = 2;
	s.surface.stride = 16;
	s.surface.format = CONSOLE_FORMAT_XRGB8888;
	s.surface.size = 32;
	n += (size_t)console_msg_encode(&s, w + n, sizeof(w) - n);
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, w, n), ==, n);
	pump_both(&h, &a);
	uint8_t buf[512];
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
	int fds = 0;
	size_t total = 0;
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t r = recvmsg(cl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r <= 0)
			break;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm) {
			/* With the SURFACE's first byte (after the worker's HELLO), no later. */
			g_assert_cmpuint(total, <=, CONSOLE_HEADER_SIZE + 8 + 2);
			g_assert_cmpuint(total + (size_t)r, >, CONSOLE_HEADER_SIZE + 8 + 2);
			int fd;
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			g_assert_cmpint(fcntl(fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
			close(fd);
			fds++;
		}
		total += (size_t)r;
	}
	g_assert_cmpint(fds, ==, 1);
	g_assert_cmpuint(total, ==, n);
	close(cl);
	teardown(&h, &a);
}

static void test_slow_client(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_conn *slow, *other;
	int cs = client_pair(&h, EMUX_EP_SERIAL, EMUHOST_CONN_RAW, &slow);
	int co = client_pair(&h, EMUX_EP_SERIAL, EMUHOST_CONN_RAW, &other);
	pump_both(&h, &a);
	/* The agent sends on the slow client's channel until its window closes. */
	g_autofree uint8_t *blob = g_malloc0(EMUX_DATA_MAX);
	size_t sent = 0;
	for (int i = 0; i < 64; i++) {
		size_t k = emuhost_link_send(&a.link, slow->ch, blob, EMUX_DATA_MAX);
		sent += k;
		pump_both(&h, &a);
	}
	/* It got what its socket holds plus a window, no more. */
	g_assert_cmpuint(sent, >=, EMUX_WINDOW);
	g_assert_cmpuint(emuhost_link_send_room(&a.link, slow->ch), ==, 0);
	g_assert_cmpuint(slow->from_agent.len, <=, EMUX_WINDOW);
	/* The other channel is not held up. */
	g_assert_cmpuint(emuhost_link_send(&a.link, other->ch, (const uint8_t *)"hi", 2), ==, 2);
	pump_both(&h, &a);
	g_autofree char *got = client_read(co);
	g_assert_cmpstr(got, ==, "hi");
	/* Once the slow one reads, its window opens again. */
	g_autofree char *drained = client_read(cs);
	(void)emuhost_conn_pump_down(slow);
	pump_both(&h, &a);
	g_assert_cmpuint(emuhost_link_send_room(&a.link, slow->ch), >, 0);
	close(cs);
	close(co);
	teardown(&h, &a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-conn/half-close", test_half_close);
	g_test_add_func("/emuhost-conn/client-gone", test_client_gone);
	g_test_add_func("/emuhost-conn/console-fd", test_console_fd);
	g_test_add_func("/emuhost-conn/slow-client", test_slow_client);
	return g_test_run();
}
