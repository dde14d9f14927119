/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One end of the emulated-host multiplexer (protocols/emuhost-mux.md):
 * channel states, credit windows and the outgoing byte queue, without any
 * I/O. vireo-emuhost (the host end) and vireo-emuhost-agent (the L1 end)
 * feed it what they read from the virtio-serial port, get callbacks for
 * what arrived, and write out what it queued.
 *
 * The host end takes nothing on trust: a message that breaks a rule of a
 * channel (data beyond the window, too much credit, data after EOF) closes
 * that channel with EPROTO and is counted; a message for a channel that is
 * not open is counted and dropped; only a frame that breaks the framing
 * ends the link.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emuhost_mux.h"

/* Data waits in the output queue up to this; link messages may go beyond
 * it up to EMUHOST_LINK_OUT_MAX (they are few per channel). */
#define EMUHOST_LINK_OUT_DATA_MAX (512u * 1024u)
#define EMUHOST_LINK_OUT_MAX      (EMUHOST_LINK_OUT_DATA_MAX + 256u * 1024u)
/* Credit goes back once this much was consumed (or the channel drains). */
#define EMUHOST_LINK_CREDIT_BATCH (EMUX_WINDOW / 4u)

enum emuhost_link_role {
	EMUHOST_LINK_HOST,      /* reads what the agent sends */
	EMUHOST_LINK_AGENT,     /* reads what the host sends */
};

struct emuhost_link_ops {
	void (*hello)(void *opaque, uint16_t major, uint16_t minor);
	void (*ready)(void *opaque, uint32_t endpoints);                                 /* host end */
	void (*exit)(void *opaque, uint32_t how, uint32_t code, const char *text, size_t len); /* host end */
	void (*log)(void *opaque, const uint8_t *data, size_t len);                      /* host end */
	void (*signal)(void *opaque, uint32_t signo);                                    /* agent end */
	void (*open)(void *opaque, unsigned ch, uint32_t endpoint);                      /* agent end */
	/* len bytes for the channel's connection; emuhost_link_consumed once written. */
	void (*data)(void *opaque, unsigned ch, const uint8_t *data, size_t len);
	/* The peer sends no more on ch (after all its data). */
	void (*eof)(void *opaque, unsigned ch);
	/* The channel is gone (the peer closed it, or it broke a rule:
	 * error EPROTO): drop its connection. */
	void (*closed)(void *opaque, unsigned ch, uint32_t error);
	/* Credit arrived: more may be sent on ch. */
	void (*writable)(void *opaque, unsigned ch);
	/* FILE, FILE_DATA, FILE_END or FILES_END: a saved state's files (host end). */
	void (*file)(void *opaque, const struct emux_msg *m);
};

enum emuhost_link_chan_state {
	EMUHOST_CHAN_FREE,
	EMUHOST_CHAN_OPEN,
	EMUHOST_CHAN_CLOSING,   /* we sent CLOSE; the peer's has not come yet */
};

struct emuhost_link_chan {
	enum emuhost_link_chan_state state;
	bool eof_sent, eof_received;
	uint32_t send_window;   /* we may send this much more */
	uint32_t recv_window;   /* the peer may send this much more */
	uint32_t unacked;       /* consumed, not yet credited */
};

struct emuhost_link_stats {
	uint64_t messages;      /* well-formed messages taken */
	uint64_t bad;           /* well-framed but wrong: dropped */
	uint64_t unknown;       /* types not known here or not for this end */
	uint64_t stray;         /* for a channel that is not open */
	uint64_t violations;    /* channel rules broken: the channel was closed */
};

struct emuhost_link {
	enum emuhost_link_role role;
	const struct emuhost_link_ops *ops;
	void *opaque;
	struct emux_reader reader;
	struct emuhost_link_chan chans[EMUX_CHANNELS_MAX + 1];   /* [0] unused */
	uint8_t *out;
	size_t out_len, out_cap;
	int error;              /* the link is lost: -EMSGSIZE, -ENOBUFS, -ENOMEM */
	struct emuhost_link_stats stats;
};

void emuhost_link_init(struct emuhost_link *l, enum emuhost_link_role role, const struct emuhost_link_ops *ops,
		       void *opaque);
void emuhost_link_clear(struct emuhost_link *l);

/* Bytes read from the port. 0, or the link's error (it is lost). */
int emuhost_link_feed(struct emuhost_link *l, const uint8_t *data, size_t len);

/* The output queue: write out[0..out_len), then say how much left. */
void emuhost_link_written(struct emuhost_link *l, size_t n);

/* Link messages; 0 or a negative errno (-EINVAL for an invalid one). */
int emuhost_link_send_hello(struct emuhost_link *l);
int emuhost_link_send_ready(struct emuhost_link *l, uint32_t endpoints);
int emuhost_link_send_exit(struct emuhost_link *l, uint32_t how, uint32_t code, const char *text);
int emuhost_link_send_signal(struct emuhost_link *l, uint32_t signo);
/* FILE, FILE_DATA, FILE_END or FILES_END (agent end): 0; -ENOBUFS while
 * the queue is full of data (again once it drained); -EINVAL. */
int emuhost_link_send_file_msg(struct emuhost_link *l, const struct emux_msg *m);
/* Log bytes: how many were queued (0 when the queue is full). */
size_t emuhost_link_send_log(struct emuhost_link *l, const uint8_t *data, size_t len);

/* Host end: a free channel opened to endpoint: its number, or -EBUSY. */
int emuhost_link_open(struct emuhost_link *l, uint32_t endpoint);
/* How many bytes emuhost_link_send would take on ch now. */
size_t emuhost_link_send_room(const struct emuhost_link *l, unsigned ch);
/* Queue up to len bytes on ch: how many were taken. */
size_t emuhost_link_send(struct emuhost_link *l, unsigned ch, const uint8_t *data, size_t len);
/* Our side of ch sends no more. */
int emuhost_link_eof(struct emuhost_link *l, unsigned ch);
/* We are done with ch (error 0, or why): no more callbacks for it. */
int emuhost_link_close(struct emuhost_link *l, unsigned ch, uint32_t error);
/* n bytes of ch's data were written to its connection: credit them back. */
void emuhost_link_consumed(struct emuhost_link *l, unsigned ch, size_t n);

bool emuhost_link_chan_open(const struct emuhost_link *l, unsigned ch);
