// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-emuhost's connections (backend/worker/emuhost_conn.c) between a
 * client socket and a mux channel, with an agent end of the link wired to
 * the host end: a half-close answered in full, a client that sends and
 * goes away while output was waiting for it (what it sent still reaches
 * the worker), a viewer's memfd on its SURFACE's byte, a control client's
 * pid rewritten, the credit that keeps a slow client from holding
 * anything but its own channel, a picture taken on a channel of our own
 * (screenshot PATH), a control client's end held back while an answer
 * of ours is owed to it, and the commands answered on this host
 * (emuhost_hooks.c): screenshot PATH and save DIR, in order with the
 * worker's replies, their files written here, and what L1 can get wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "emuhost_conn.h"
#include "emuhost_hooks.h"
#include "emuhost_l1.h"

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
	struct emuhost_hooks *hooks;
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

static void h_file(void *o, const struct emux_msg *m)
{
	struct host *h = o;
	g_assert_nonnull(h->hooks);
	emuhost_hooks_file(h->hooks, m);
}

static const struct emuhost_link_ops host_ops = { .data = h_data, .eof = h_eof, .closed = h_closed,
						  .writable = h_writable, .file = h_file };

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

/* The worker's first bytes on a console connection: HELLO and an inline 4x2 SURFACE. */
static size_t worker_start(uint8_t *w, size_t size)
{
	size_t n = 0;
	struct console_msg wh = { .type = CONSOLE_MSG_HELLO, .hello = { 1, 0, CONSOLE_CAP_INLINE_PIXELS, "vm", 2 } };
	n += (size_t)console_msg_encode(&wh, w, size);
	struct console_msg s = { .type = CONSOLE_MSG_SURFACE };
	s.surface.width = 4;
	s.surface.height = 2;
	s.surface.stride = 16;
	s.surface.format = CONSOLE_FORMAT_XRGB8888;
	s.surface.size = 32;
	n += (size_t)console_msg_encode(&s, w + n, size - n);
	return n;
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
	size_t n = worker_start(w, sizeof(w));
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

struct shot_log {
	unsigned calls;
	enum emuhost_shot_state state;
	uint32_t w, h, px0;
};

static void on_shot(void *opaque, struct emuhost_conn *c)
{
	struct shot_log *l = opaque;
	l->calls++;
	l->state = c->shot.state;
	l->w = c->shot.width;
	l->h = c->shot.height;
	if (c->shot.pixels)
		memcpy(&l->px0, c->shot.pixels, 4);
}

/* ... then the PIXELS of the whole surface and the DAMAGE that lists them. */
static size_t worker_frame(uint8_t *w, size_t size)
{
	size_t n = worker_start(w, size);
	uint32_t px[8];
	for (unsigned i = 0; i < 8; i++)
		px[i] = 0x00102030u + i;
	struct console_msg p = { .type = CONSOLE_MSG_PIXELS };
	p.pixels.r = (struct console_rect){ 0, 0, 4, 2 };
	p.pixels.data = (const uint8_t *)px;
	p.pixels.stride = 16;
	n += (size_t)console_msg_encode(&p, w + n, size - n);
	struct console_msg d = { .type = CONSOLE_MSG_DAMAGE };
	d.damage.frame = 1;
	d.damage.count = 1;
	d.damage.rects[0] = (struct console_rect){ 0, 0, 4, 2 };
	n += (size_t)console_msg_encode(&d, w + n, size - n);
	return n;
}

static void test_shot(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct shot_log log = { 0 };
	int ch = emuhost_link_open(&h.link, EMUX_EP_CONSOLE);
	g_assert_cmpint(ch, >, 0);
	struct emuhost_conn *c = emuhost_conn_new_shot(&h.link, &h.conns[ch], (unsigned)ch, on_shot, &log);
	g_assert_nonnull(c);
	g_assert_true(emuhost_conn_pump_up(c));
	pump_both(&h, &a);
	/* Our HELLO went in: a viewer's, inline pixels. */
	g_assert_cmpuint(a.opens, ==, 1);
	g_assert_cmpuint(a.data[ch]->len, >, CONSOLE_HEADER_SIZE + 8);
	g_assert_cmpuint(a.data[ch]->str[12] & CONSOLE_CAP_INLINE_PIXELS, ==, CONSOLE_CAP_INLINE_PIXELS);
	uint8_t w[512];
	size_t n = worker_frame(w, sizeof(w));
	/* All but the last byte: no picture yet. */
	g_assert_cmpuint(emuhost_link_send(&a.link, (unsigned)ch, w, n - 1), ==, n - 1);
	pump_both(&h, &a);
	g_assert_cmpuint(log.calls, ==, 0);
	g_assert_cmpuint(emuhost_link_send(&a.link, (unsigned)ch, w + n - 1, 1), ==, 1);
	pump_both(&h, &a);
	/* The picture is in: reported once, and the channel closed on both ends. */
	g_assert_cmpuint(log.calls, ==, 1);
	g_assert_cmpint(log.state, ==, EMUHOST_SHOT_DONE);
	g_assert_cmpuint(log.w, ==, 4);
	g_assert_cmpuint(log.h, ==, 2);
	g_assert_cmpuint(log.px0, ==, 0x00102030u);
	g_assert_null(h.conns[ch]);
	g_assert_cmpuint(a.closes, ==, 1);
	g_assert_false(emuhost_link_chan_open(&h.link, (unsigned)ch));

	/* The worker's end before the picture: reported once, still waiting. */
	memset(&log, 0, sizeof(log));
	ch = emuhost_link_open(&h.link, EMUX_EP_CONSOLE);
	c = emuhost_conn_new_shot(&h.link, &h.conns[ch], (unsigned)ch, on_shot, &log);
	(void)emuhost_conn_pump_up(c);
	pump_both(&h, &a);
	g_assert_cmpint(emuhost_link_close(&a.link, (unsigned)ch, ECONNRESET), ==, 0);
	pump_both(&h, &a);
	g_assert_cmpuint(log.calls, ==, 1);
	g_assert_cmpint(log.state, ==, EMUHOST_SHOT_WAITING);
	g_assert_null(h.conns[ch]);
	teardown(&h, &a);
}

static enum emuhost_ctl_route later_command(void *opaque, struct emuhost_ctl *c, uint32_t ticket, const char *line,
					    char **text)
{
	*(uint32_t *)opaque = ticket;
	return EMUHOST_CTL_LATER;
}

static const struct emuhost_ctl_hooks later_hooks = { .command = later_command };

static void test_control_owed(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_conn *c;
	int cl = client_pair(&h, EMUX_EP_CONTROL, EMUHOST_CONN_CONTROL, &c);
	unsigned ch = c->ch;
	uint32_t ticket = 0;
	emuhost_ctl_set_hooks(&c->ctl, &later_hooks, &ticket);
	/* "echo screenshot /x | nc -U": our answer is owed, so the worker does not hear the end yet. */
	g_assert_cmpint(write(cl, "screenshot /x\n", 14), ==, 14);
	shutdown(cl, SHUT_WR);
	emuhost_conn_read(c);
	emuhost_conn_read(c);
	pump_both(&h, &a);
	g_assert_cmpuint(ticket, !=, 0);
	g_assert_null(a.data[ch]);
	g_assert_cmpuint(a.eofs, ==, 0);
	g_assert_nonnull(h.conns[ch]);
	g_assert_cmpint(emuhost_ctl_answer(&c->ctl, ticket, "ok 4x2 /x"), ==, 0);
	g_assert_true(emuhost_conn_pump_up(c));
	g_assert_true(emuhost_conn_pump_down(c));
	pump_both(&h, &a);
	g_assert_cmpuint(a.eofs, ==, 1);
	/* The worker ends too: the client has its answer, then the end. */
	g_assert_cmpint(emuhost_link_eof(&a.link, ch), ==, 0);
	pump_both(&h, &a);
	g_autofree char *got = client_read(cl);
	g_assert_cmpstr(got, ==, "ok 4x2 /x\n");
	g_assert_null(h.conns[ch]);
	close(cl);
	teardown(&h, &a);
}

/* A control client whose commands go through the hooks. */
static int hooks_client(struct host *h, struct emuhost_hooks *hk, struct emuhost_conn **c)
{
	emuhost_hooks_init(hk, &h->link, h->conns, 1u << 20);
	h->hooks = hk;
	int cl = client_pair(h, EMUX_EP_CONTROL, EMUHOST_CONN_CONTROL, c);
	emuhost_ctl_set_hooks(&(*c)->ctl, &emuhost_hooks_ctl, hk);
	return cl;
}

static void client_say(struct emuhost_conn *c, int cl, const char *text)
{
	g_assert_cmpint(write(cl, text, strlen(text)), ==, (ssize_t)strlen(text));
	emuhost_conn_read(c);
}

static void test_hooks_screenshot(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_hooks hk;
	struct emuhost_conn *c;
	int cl = hooks_client(&h, &hk, &c);
	unsigned ch = c->ch;
	g_autofree char *dir = g_dir_make_tmp("emuhost-hooks-XXXXXX", NULL);
	g_autofree char *png = g_build_filename(dir, "shot.png", NULL);
	g_autofree char *cmd = g_strdup_printf("screenshot %s\nstatus\n", png);
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	/* The worker hears only "status"; a console channel of ours opened beside. */
	g_assert_cmpstr(a.data[ch]->str, ==, "status\n");
	g_assert_cmpuint(a.opens, ==, 2);
	unsigned shot = 0;
	for (unsigned i = 1; i <= EMUX_CHANNELS_MAX; i++)
		if (h.conns[i] && h.conns[i]->kind == EMUHOST_CONN_SHOT)
			shot = i;
	g_assert_cmpuint(shot, !=, 0);
	g_assert_cmpint(emuhost_hooks_deadline(&hk), <, INT64_MAX);
	/* The worker's reply to "status" waits for the picture's. */
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)"ok state=running\n", 17), ==, 17);
	pump_both(&h, &a);
	g_autofree char *none = client_read(cl);
	g_assert_cmpstr(none, ==, "");
	uint8_t w[512];
	size_t n = worker_frame(w, sizeof(w));
	g_assert_cmpuint(emuhost_link_send(&a.link, shot, w, n), ==, n);
	pump_both(&h, &a);
	g_autofree char *got = client_read(cl);
	g_autofree char *want = g_strdup_printf("ok 4x2 %s\nok state=running\n", png);
	g_assert_cmpstr(got, ==, want);
	g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
	g_assert_null(h.conns[shot]);
	g_assert_cmpuint(hk.shots, ==, 1);
	g_assert_cmpint(emuhost_hooks_deadline(&hk), ==, INT64_MAX);

	/* A picture that does not come: the deadline answers. */
	g_autofree char *cmd2 = g_strdup_printf("screenshot %s\n", png);
	client_say(c, cl, cmd2);
	pump_both(&h, &a);
	emuhost_hooks_expire(&hk, INT64_MAX - 1);
	pump_both(&h, &a);
	g_autofree char *late = client_read(cl);
	g_assert_true(g_str_has_prefix(late, "error no complete picture came out of the emulated host within "));
	/* Nothing more once the worker ended; without a path, the usage. */
	emuhost_hooks_worker_ended(&hk);
	client_say(c, cl, "screenshot /x.png\nscreenshot\n");
	pump_both(&h, &a);
	g_autofree char *after = client_read(cl);
	g_assert_cmpstr(after, ==, "error the emulated host cannot take a picture now: Cannot send after transport "
				   "endpoint shutdown\nerror usage: screenshot PATH\n");
	g_assert_cmpint(g_unlink(png), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	close(cl);
	teardown(&h, &a);
	emuhost_hooks_clear(&hk);
}

static void agent_file_msg(struct agent *a, struct emux_msg m)
{
	g_assert_cmpint(emuhost_link_send_file_msg(&a->link, &m), ==, 0);
}

static void agent_save_set(struct agent *a, const char *text, uint32_t claimed_files)
{
	size_t len = strlen(text);
	agent_file_msg(a, (struct emux_msg){ .type = EMUX_MSG_FILE, .file = { len, "state", 5 } });
	agent_file_msg(a, (struct emux_msg){ .type = EMUX_MSG_FILE_DATA,
					     .file_data = { 0, (const uint8_t *)text, len } });
	agent_file_msg(a, (struct emux_msg){ .type = EMUX_MSG_FILE_END, .file_end = { len } });
	agent_file_msg(a, (struct emux_msg){ .type = EMUX_MSG_FILES_END, .files_end = { claimed_files, 0 } });
}

static void test_hooks_save(void)
{
	struct host h;
	struct agent a;
	setup(&h, &a);
	struct emuhost_hooks hk;
	struct emuhost_conn *c;
	int cl = hooks_client(&h, &hk, &c);
	unsigned ch = c->ch;
	g_autofree char *root = g_dir_make_tmp("emuhost-hooks-XXXXXX", NULL);
	g_autofree char *dir = g_build_filename(root, "saved", NULL);
	/* Files nobody asked for are dropped and counted. */
	agent_save_set(&a, "stray", 1);
	pump_both(&h, &a);
	g_assert_cmpuint(h.link.stats.bad, ==, 4);

	g_autofree char *cmd = g_strdup_printf("save %s\n", dir);
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	/* The worker saves inside L1. */
	g_assert_cmpstr(a.data[ch]->str, ==, "save " EMUHOST_L1_SAVEDIR "\n");
	/* A second save meanwhile is refused at once. */
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	const char *reply = "ok saved " EMUHOST_L1_SAVEDIR " ram_mib=1 written_mib=0 ms=5\n";
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)reply, strlen(reply)), ==, strlen(reply));
	pump_both(&h, &a);
	/* The reply waits for the files. */
	g_autofree char *none = client_read(cl);
	g_assert_cmpstr(none, ==, "");
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	agent_save_set(&a, "the state", 1);
	pump_both(&h, &a);
	g_autofree char *got = client_read(cl);
	g_autofree char *want = g_strdup_printf("ok saved %s ram_mib=1 written_mib=0 ms=5\n"
						"error a save is under way already\n", dir);
	g_assert_cmpstr(got, ==, want);
	g_autofree char *state = g_build_filename(dir, "state", NULL);
	g_autofree char *content = NULL;
	g_assert_true(g_file_get_contents(state, &content, NULL, NULL));
	g_assert_cmpstr(content, ==, "the state");
	g_assert_false(hk.saving);
	g_assert_cmpuint(hk.saves, ==, 1);

	/* DIR holds a state now: the next save is refused before the worker hears of it. */
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	g_autofree char *refused = client_read(cl);
	g_autofree char *want2 = g_strdup_printf("error saving to %s: %s\n", dir, g_strerror(ENOTEMPTY));
	g_assert_cmpstr(refused, ==, want2);
	g_assert_cmpint(g_unlink(state), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);

	/* A set that is not whole (its count disagrees): an error, and no DIR. */
	g_string_truncate(a.data[ch], 0);
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	const char *reply2 = "ok saved " EMUHOST_L1_SAVEDIR "\n";
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)reply2, strlen(reply2)), ==, strlen(reply2));
	agent_save_set(&a, "x", 2);
	pump_both(&h, &a);
	g_autofree char *bad = client_read(cl);
	g_autofree char *want3 = g_strdup_printf("error the state was saved inside the emulated host, but not to %s: %s\n",
						 dir, g_strerror(EPROTO));
	g_assert_cmpstr(bad, ==, want3);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	/* The worker refuses: its words, DIR named, nothing left. */
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	const char *reply3 = "error cannot save to " EMUHOST_L1_SAVEDIR ": No space left on device\n";
	g_assert_cmpuint(emuhost_link_send(&a.link, ch, (const uint8_t *)reply3, strlen(reply3)), ==, strlen(reply3));
	pump_both(&h, &a);
	g_autofree char *no = client_read(cl);
	g_autofree char *want4 = g_strdup_printf("error cannot save to %s: No space left on device\n", dir);
	g_assert_cmpstr(no, ==, want4);
	g_assert_false(hk.saving);

	/* The worker ends before the files came: an error, nothing left. */
	client_say(c, cl, cmd);
	pump_both(&h, &a);
	emuhost_hooks_worker_ended(&hk);
	pump_both(&h, &a);
	g_autofree char *gone = client_read(cl);
	g_autofree char *want5 = g_strdup_printf("error the state was saved inside the emulated host, but not to %s: %s\n",
						 dir, g_strerror(ECONNRESET));
	g_assert_cmpstr(gone, ==, want5);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
	g_assert_null(g_dir_read_name(d));
	g_assert_cmpint(g_rmdir(root), ==, 0);
	close(cl);
	teardown(&h, &a);
	emuhost_hooks_clear(&hk);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emuhost-conn/half-close", test_half_close);
	g_test_add_func("/emuhost-conn/client-gone", test_client_gone);
	g_test_add_func("/emuhost-conn/console-fd", test_console_fd);
	g_test_add_func("/emuhost-conn/slow-client", test_slow_client);
	g_test_add_func("/emuhost-conn/shot", test_shot);
	g_test_add_func("/emuhost-conn/control-owed", test_control_owed);
	g_test_add_func("/emuhost-conn/hooks-screenshot", test_hooks_screenshot);
	g_test_add_func("/emuhost-conn/hooks-save", test_hooks_save);
	return g_test_run();
}
