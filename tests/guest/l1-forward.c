// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-l1-forward: the nested test host's end of a forwarded Unix socket
 * (nested-host.py's Forwarder is the other end, on the real host). One
 * virtio-serial port carries any number of connections, multiplexed:
 *
 *   frame = le32 id, u8 op, u8 0, u8 0, u8 0, le32 length, then length bytes
 *   op 1 OPEN   the host accepted a client: connect to TARGET for it
 *   op 2 DATA   bytes of connection id (either way)
 *   op 3 CLOSE  connection id ended (either way)
 *
 * A connection TARGET refuses is answered with CLOSE at once, so the
 * host's client sees the socket hang up, as it would with no server
 * there. File descriptors cannot cross: a console viewer asks for its
 * pixels inline.
 *
 *   vireo-l1-forward PORT TARGET     (PORT: /dev/vportNpM)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FWD_CONNS_MAX 32
#define FWD_DATA_MAX (64 * 1024)
#define FWD_HEADER 12

enum { FWD_OPEN = 1, FWD_DATA = 2, FWD_CLOSE = 3 };

struct fwd_conn {
	uint32_t id;
	int fd;
};

static struct fwd_conn conns[FWD_CONNS_MAX];
static int port = -1;
static const char *target;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void fwd_send(uint32_t id, uint8_t op, const uint8_t *data, uint32_t len)
{
	uint8_t h[FWD_HEADER] = { 0 };
	put32(h, id);
	h[4] = op;
	put32(h + 8, len);
	if (write_all(port, h, sizeof(h)) < 0 || (len && write_all(port, data, len) < 0)) {
		fprintf(stderr, "vireo-l1-forward: the port is gone\n");
		exit(1);
	}
}

static struct fwd_conn *fwd_find(uint32_t id)
{
	for (int i = 0; i < FWD_CONNS_MAX; i++)
		if (conns[i].fd >= 0 && conns[i].id == id)
			return &conns[i];
	return NULL;
}

static void fwd_drop(struct fwd_conn *c, bool tell)
{
	if (tell)
		fwd_send(c->id, FWD_CLOSE, NULL, 0);
	close(c->fd);
	c->fd = -1;
}

static void fwd_open(uint32_t id)
{
	struct fwd_conn *slot = NULL;
	for (int i = 0; i < FWD_CONNS_MAX && !slot; i++)
		if (conns[i].fd < 0)
			slot = &conns[i];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = slot && strlen(target) < sizeof(a.sun_path) ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
	if (fd >= 0) {
		memcpy(a.sun_path, target, strlen(target) + 1);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		fwd_send(id, FWD_CLOSE, NULL, 0);
		return;
	}
	slot->id = id;
	slot->fd = fd;
}

/* One frame from the host; false when the host end is not connected
 * (yet, or for a moment): the port reads as end of file then. */
static bool fwd_from_port(void)
{
	static uint8_t buf[FWD_DATA_MAX];
	uint8_t h[FWD_HEADER];
	ssize_t first;
	do
		first = read(port, h, 1);
	while (first < 0 && errno == EINTR);
	if (first <= 0)
		return false;
	if (read_all(port, h + 1, sizeof(h) - 1) < 0) {
		fprintf(stderr, "vireo-l1-forward: the port closed inside a frame\n");
		exit(1);
	}
	uint32_t id = get32(h), len = get32(h + 8);
	if (len > FWD_DATA_MAX) {
		fprintf(stderr, "vireo-l1-forward: a frame of %u bytes: the stream is broken\n", len);
		exit(1);
	}
	if (len && read_all(port, buf, len) < 0) {
		fprintf(stderr, "vireo-l1-forward: the port closed inside a frame\n");
		exit(1);
	}
	struct fwd_conn *c = fwd_find(id);
	switch (h[4]) {
	case FWD_OPEN:
		if (!c)
			fwd_open(id);
		break;
	case FWD_DATA:
		if (c && write_all(c->fd, buf, len) < 0)
			fwd_drop(c, true);
		break;
	case FWD_CLOSE:
		if (c)
			fwd_drop(c, false);
		break;
	default:
		break;
	}
	return true;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vireo-l1-forward PORT TARGET\n");
		return 2;
	}
	target = argv[2];
	port = open(argv[1], O_RDWR | O_CLOEXEC);
	if (port < 0) {
		fprintf(stderr, "vireo-l1-forward: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 0; i < FWD_CONNS_MAX; i++)
		conns[i].fd = -1;
	static uint8_t buf[FWD_DATA_MAX];
	for (;;) {
		struct pollfd p[FWD_CONNS_MAX + 1];
		int map[FWD_CONNS_MAX + 1], n = 0;
		p[n] = (struct pollfd){ port, POLLIN, 0 };
		map[n++] = -1;
		for (int i = 0; i < FWD_CONNS_MAX; i++)
			if (conns[i].fd >= 0) {
				p[n] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
				map[n++] = i;
			}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !fwd_from_port())
			usleep(200 * 1000);   /* the host end is away: it comes back, or L1 ends */
		for (int k = 1; k < n; k++) {
			struct fwd_conn *c = &conns[map[k]];
			if (c->fd < 0 || !(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(c->fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				fwd_drop(c, true);
			else
				fwd_send(c->id, FWD_DATA, buf, (uint32_t)r);
		}
	}
}
