/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection on this host to an endpoint of the worker inside the
 * emulated host: a client socket (or our own stdio, or nothing for a
 * request of ours) tied to a mux channel. Bytes go through the endpoint's
 * filter (consoles: emuhost_bridge, control: emuhost_ctl, others as they
 * are); what waits in either direction is bounded, and credit goes back to
 * the agent only for what left toward the client.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "emuhost_bridge.h"
#include "emuhost_buf.h"
#include "emuhost_ctl.h"
#include "emuhost_link.h"
#include "emuhost_shot.h"

/* What a connection may have waiting in either direction before reading from it stops. */
#define EMUHOST_CONN_BUF_MAX (256u * 1024u)

enum emuhost_conn_kind {
	EMUHOST_CONN_RAW,
	EMUHOST_CONN_CONSOLE,
	EMUHOST_CONN_CONTROL,
	EMUHOST_CONN_SHOT,           /* ours: one picture from the console (emuhost_shot) */
};

struct emuhost_conn;

/* A SHOT connection's end, called once: its picture is in (shot->state is
 * not WAITING), or the connection goes without one (still WAITING). */
typedef void (*emuhost_conn_shot_fn)(void *opaque, struct emuhost_conn *c);

struct emuhost_conn {
	struct emuhost_link *link;
	struct emuhost_conn **slot;  /* where the relay keeps it: cleared when it goes */
	unsigned ch;
	enum emuhost_conn_kind kind;
	int in_fd, out_fd;           /* the client's socket twice; stdio 0 and 1; -1: none */
	bool socket;
	bool internal;               /* ours (turn-off, the serial relay): never sends EOF */
	bool eof_in;                 /* the client said EOF */
	bool eof_out;                /* the agent said EOF */
	bool shut;                   /* we shut the client's write side */
	struct emuhost_buf from_agent;   /* DATA not yet processed */
	struct emuhost_buf to_agent;     /* raw connections: bytes not yet sent */
	struct emuhost_bridge bridge;
	struct emuhost_ctl ctl;
	uint64_t id;                 /* unique in this process: names it after its slot is reused */
	struct emuhost_shot shot;
	emuhost_conn_shot_fn shot_done;
	void *shot_opaque;
};

struct emuhost_conn *emuhost_conn_new(struct emuhost_link *link, struct emuhost_conn **slot, unsigned ch,
				     enum emuhost_conn_kind kind, int in_fd, int out_fd, bool socket,
				     emuhost_ctl_local_fn local, void *opaque);
/* A SHOT connection (internal, no fds) with its HELLO queued: NULL when
 * memory ran out (the channel is closed then). */
struct emuhost_conn *emuhost_conn_new_shot(struct emuhost_link *link, struct emuhost_conn **slot, unsigned ch,
					  emuhost_conn_shot_fn done, void *opaque);
/* Gone without a word to the agent (its channel is closed already). */
void emuhost_conn_free(struct emuhost_conn *c);
/* Gone, and the channel closed with err. */
void emuhost_conn_close(struct emuhost_conn *c, int err);

/* Toward the agent, toward the client: the queues the poll loop waits on. */
struct emuhost_buf *emuhost_conn_up(struct emuhost_conn *c);
struct emuhost_buf *emuhost_conn_down(struct emuhost_conn *c);

/* The client can be read. */
void emuhost_conn_read(struct emuhost_conn *c);
/* Toward the agent as its window allows: false when c is gone (all sent after the client's end). */
bool emuhost_conn_pump_up(struct emuhost_conn *c);
/* The agent's bytes on through the filter to the client: false when c is gone. */
bool emuhost_conn_pump_down(struct emuhost_conn *c);
