// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the emulated host (L1, which runs the worker a guest talks to)
 * sends vireo-emuhost: the mux stream into the host end of the link
 * (backend/worker/emuhost_link.c, protocols/emuhost_mux.c), and each
 * channel's bytes through the relay's connections (emuhost_conn.c) with
 * their filters, the console bridge for a viewer that wants shared memory
 * (emuhost_bridge.c), the control filter (emuhost_ctl.c) and a picture
 * taken for "screenshot PATH" (emuhost_shot.c, on a channel of its own), to client
 * sockets this target reads like viewers would. Whatever the bytes and
 * however they are split: no read outside them, windows and queues within
 * their limits, what a viewer receives well framed, no fd leaked.
 *
 * Input: byte 0 picks the chunk size; the rest is the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emuhost_conn.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_CHANNELS 6
#define FUZZ_SHOT_CHANNEL (FUZZ_CHANNELS + 1)

struct fuzz {
	struct emuhost_link link;
	unsigned shots_done;
	struct emuhost_conn *conns[EMUX_CHANNELS_MAX + 1];
	int client[FUZZ_CHANNELS + 1];              /* the viewers' and clients' ends */
	struct console_reader viewer[FUZZ_CHANNELS + 1];
};

static enum emuhost_conn_kind fuzz_kind(unsigned ch)
{
	return ch % 3 == 1 ? EMUHOST_CONN_CONSOLE : ch % 3 == 2 ? EMUHOST_CONN_CONTROL : EMUHOST_CONN_RAW;
}

/* The picture's end: once, in a state it can end in. */
static void fuzz_shot_done(void *opaque, struct emuhost_conn *c)
{
	struct fuzz *z = opaque;
	z->shots_done++;
	CHECK(z->shots_done == 1);
	CHECK(c->kind == EMUHOST_CONN_SHOT);
	if (c->shot.state == EMUHOST_SHOT_DONE)
		CHECK(c->shot.pixels && (uint64_t)c->shot.width * c->shot.height * 4u <= EMUHOST_SHOT_SURFACE_MAX);
}

static char *fuzz_local(void *opaque, const char *args)
{
	return strdup("ok local");
}

static int viewer_check(void *opaque, int status, const struct console_frame *f, const struct console_msg *m)
{
	CHECK(f->length <= CONSOLE_BODY_MAX);
	return 0;
}

/* Everything the clients were sent: read as they would, fds closed. */
static void fuzz_drain_clients(struct fuzz *z)
{
	for (unsigned ch = 1; ch <= FUZZ_CHANNELS; ch++) {
		if (z->client[ch] < 0)
			continue;
		for (;;) {
			uint8_t buf[65536];
			union { struct cmsghdr h; char b[CMSG_SPACE(8 * sizeof(int))]; } u;
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
					     .msg_controllen = sizeof(u.b) };
			ssize_t n = recvmsg(z->client[ch], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
			if (n <= 0)
				break;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				CHECK(fuzz_kind(ch) == EMUHOST_CONN_CONSOLE && c->cmsg_type == SCM_RIGHTS);
				int fds[8];
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				CHECK(nfd == 1);
				memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
				/* A read-only view of the surface. */
				CHECK((fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
				close(fds[0]);
			}
			if (fuzz_kind(ch) == EMUHOST_CONN_CONSOLE)
				CHECK(console_reader_feed(&z->viewer[ch], buf, (size_t)n, viewer_check, NULL) == 0);
		}
	}
}

static void on_data(void *opaque, unsigned ch, const uint8_t *data, size_t len)
{
	struct fuzz *z = opaque;
	CHECK(len >= 1 && len <= EMUX_DATA_MAX);
	struct emuhost_conn *c = z->conns[ch];
	if (!c) {
		emuhost_link_consumed(&z->link, ch, len);
		return;
	}
	CHECK(emuhost_buf_append(&c->from_agent, data, len) == 0);
	CHECK(c->from_agent.len <= EMUX_WINDOW);
	(void)emuhost_conn_pump_down(c);
	fuzz_drain_clients(z);
	if (z->conns[ch])
		(void)emuhost_conn_pump_down(z->conns[ch]);
}

static void on_eof(void *opaque, unsigned ch)
{
	struct fuzz *z = opaque;
	if (z->conns[ch]) {
		z->conns[ch]->eof_out = true;
		(void)emuhost_conn_pump_down(z->conns[ch]);
	}
}

static void on_closed(void *opaque, unsigned ch, uint32_t err)
{
	struct fuzz *z = opaque;
	CHECK(err <= 4095);
	struct emuhost_conn *c = z->conns[ch];
	if (c) {
		c->eof_out = true;
		if (emuhost_conn_pump_down(c) && z->conns[ch] == c)
			emuhost_conn_free(c);
	}
}

static void on_writable(void *opaque, unsigned ch)
{
	struct fuzz *z = opaque;
	if (z->conns[ch])
		(void)emuhost_conn_pump_up(z->conns[ch]);
}

static void on_exit_msg(void *opaque, uint32_t how, uint32_t code, const char *text, size_t len)
{
	CHECK(len <= EMUX_TEXT_MAX);
	CHECK(how >= EMUX_EXIT_STATUS && how <= EMUX_EXIT_NO_WORKER);
}

static void on_log(void *opaque, const uint8_t *data, size_t len)
{
	CHECK(len >= 1 && len <= EMUX_LOG_MAX);
}

static void on_ready(void *opaque, uint32_t endpoints)
{
	CHECK(!(endpoints & ~EMUX_EP_ALL));
}

static const struct emuhost_link_ops fuzz_ops = {
	.ready = on_ready,
	.exit = on_exit_msg,
	.log = on_log,
	.data = on_data,
	.eof = on_eof,
	.closed = on_closed,
	.writable = on_writable,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static struct fuzz z;
	memset(&z, 0, sizeof(z));
	emuhost_link_init(&z.link, EMUHOST_LINK_HOST, &fuzz_ops, &z);
	/* The viewer says HELLO (shared memory); the control client asks three things. */
	static const uint8_t viewer_hello[] = { 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
						0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 'v' };
	static const char ask[] = "status\nemuhost status\nheartbeat\n";
	for (unsigned ch = 1; ch <= FUZZ_CHANNELS; ch++) {
		int sv[2];
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
		CHECK(emuhost_link_open(&z.link, fuzz_kind(ch) == EMUHOST_CONN_CONSOLE ? EMUX_EP_CONSOLE
							: fuzz_kind(ch) == EMUHOST_CONN_CONTROL ? EMUX_EP_CONTROL
							: EMUX_EP_SERIAL) == (int)ch);
		(void)emuhost_conn_new(&z.link, &z.conns[ch], ch, fuzz_kind(ch), sv[0], sv[0], true, fuzz_local, NULL);
		z.client[ch] = sv[1];
		console_reader_init(&z.viewer[ch], CONSOLE_FROM_WORKER);
		if (fuzz_kind(ch) == EMUHOST_CONN_CONSOLE)
			CHECK(write(sv[1], viewer_hello, sizeof(viewer_hello)) == (ssize_t)sizeof(viewer_hello));
		else if (fuzz_kind(ch) == EMUHOST_CONN_CONTROL)
			CHECK(write(sv[1], ask, sizeof(ask) - 1) == (ssize_t)sizeof(ask) - 1);
		emuhost_conn_read(z.conns[ch]);
	}
	/* And a picture of our own, as "screenshot PATH" takes one. */
	CHECK(emuhost_link_open(&z.link, EMUX_EP_CONSOLE) == FUZZ_SHOT_CHANNEL);
	CHECK(emuhost_conn_new_shot(&z.link, &z.conns[FUZZ_SHOT_CHANNEL], FUZZ_SHOT_CHANNEL, fuzz_shot_done, &z));
	(void)emuhost_conn_pump_up(z.conns[FUZZ_SHOT_CHANNEL]);
	size_t chunk = (size_t)data[0] * 97 + 1;
	data++;
	size--;
	int err = 0;
	for (size_t off = 0; off < size && !err; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		err = emuhost_link_feed(&z.link, data + off, n);
		CHECK(err == 0 || err == -EMSGSIZE || err == -ENOBUFS);
		CHECK(z.link.out_len <= EMUHOST_LINK_OUT_MAX);
		for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
			const struct emuhost_link_chan *c = &z.link.chans[ch];
			CHECK(c->send_window <= EMUX_WINDOW);
			CHECK((uint64_t)c->recv_window + c->unacked <= EMUX_WINDOW);
			if (ch <= FUZZ_SHOT_CHANNEL && z.conns[ch] && z.conns[ch]->kind != EMUHOST_CONN_SHOT) {
				CHECK(z.conns[ch]->bridge.nfds <= EMUHOST_BRIDGE_FDS_MAX);
				CHECK(emuhost_conn_down(z.conns[ch])->len <=
				      EMUHOST_BRIDGE_OUT_MAX + CONSOLE_HEADER_SIZE + CONSOLE_BODY_MAX + EMUX_WINDOW);
			}
		}
		/* Now and then the port drains, and a client goes away. */
		if (n & 1)
			emuhost_link_written(&z.link, z.link.out_len);
		if ((n & 6) == 6 && z.client[1 + n % FUZZ_CHANNELS] >= 0) {
			close(z.client[1 + n % FUZZ_CHANNELS]);
			z.client[1 + n % FUZZ_CHANNELS] = -1;
		}
		fuzz_drain_clients(&z);
		for (unsigned ch = 1; ch <= FUZZ_CHANNELS; ch++)
			if (z.conns[ch])
				emuhost_conn_read(z.conns[ch]);
	}
	if (z.conns[FUZZ_SHOT_CHANNEL])
		emuhost_conn_free(z.conns[FUZZ_SHOT_CHANNEL]);
	CHECK(z.shots_done == 1);
	for (unsigned ch = 1; ch <= FUZZ_CHANNELS; ch++) {
		if (z.conns[ch])
			emuhost_conn_free(z.conns[ch]);
		if (z.client[ch] >= 0)
			close(z.client[ch]);
		console_reader_clear(&z.viewer[ch]);
	}
	emuhost_link_clear(&z.link);
	return 0;
}
