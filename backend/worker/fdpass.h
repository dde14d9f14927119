/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One non-blocking sendmsg with an fd beside the bytes (SCM_RIGHTS), as
 * the console protocol passes its framebuffer memfd. Header-only: the
 * console server and the emulated host's bridge are in libraries of
 * their own, and libFuzzer builds compile their sources one by one.
 */
#pragma once

#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* data[0..len) on sock, with fd when fd >= 0: bytes sent, or -1 and errno. */
static inline ssize_t fdpass_send(int sock, const void *data, size_t len, int fd)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	if (fd >= 0) {
		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}
