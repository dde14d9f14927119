// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: a hostile guest against the VMBus channel-management server
 * with two channels, plus the host side doing its part at random moments
 * (rescinds, re-adds, resets, a SynIC that refuses messages, a device that
 * holds GPADLs or refuses opens). The input is a series of operations;
 * guest messages are either raw bytes or built at Linux's offsets with
 * fields folded into small ranges, so that valid sequences (connect, offers,
 * GPADLs, open) are reached often and then broken.
 *
 * Checked: every hypercall status is one of the documented ones; every reply
 * is a host->guest type of its exact size to an existing VP; opens and closes
 * alternate per channel; channels are removed once and never while open;
 * the server's counters agree with what the device saw; nothing leaks
 * (ASan) once the server is freed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/gpadl.h"
#include "hv/vmbus_proto.h"
#include "hv/vmbus_server.h"
#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NVPS      3u
#define FUZZ_CHANNELS  2u
#define FUZZ_HELD_MAX  8u
#define FUZZ_MAX_OPS   2048u

#define CHECK(x) do { if (!(x)) abort(); } while (0)

struct fuzz_chan {
	struct vmbus_channel *ch;        /* NULL once removed */
	bool open;
	struct gpadl *held[FUZZ_HELD_MAX];   /* the device's GPADL references */
	unsigned nheld;
};

struct fuzz {
	struct vmbus_server *s;
	struct fuzz_chan chan[FUZZ_CHANNELS];
	int post_result;
	int open_status;
	unsigned opens, closes, removes;
};

static struct fuzz_chan *chan_of(struct fuzz *f, struct vmbus_channel *ch)
{
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++)
		if (f->chan[i].ch == ch)
			return &f->chan[i];
	abort();
}

static void put_all(struct fuzz *f, struct fuzz_chan *c)
{
	while (c->nheld)
		vmbus_server_gpadl_put(f->s, c->held[--c->nheld]);
}

static size_t reply_size(uint32_t type)
{
	switch (type) {
	case VMBUS_MSG_OFFERCHANNEL: return sizeof(struct vmbus_msg_offer_channel);
	case VMBUS_MSG_RESCIND_CHANNELOFFER: return sizeof(struct vmbus_msg_rescind_offer);
	case VMBUS_MSG_ALLOFFERS_DELIVERED: return sizeof(struct vmbus_msg_header);
	case VMBUS_MSG_OPENCHANNEL_RESULT: return sizeof(struct vmbus_msg_open_result);
	case VMBUS_MSG_GPADL_CREATED: return sizeof(struct vmbus_msg_gpadl_created);
	case VMBUS_MSG_GPADL_TORNDOWN: return sizeof(struct vmbus_msg_gpadl_torndown);
	case VMBUS_MSG_VERSION_RESPONSE: return sizeof(struct vmbus_msg_version_response);
	case VMBUS_MSG_UNLOAD_RESPONSE: return sizeof(struct vmbus_msg_header);
	case VMBUS_MSG_TL_CONNECT_RESULT: return sizeof(struct vmbus_msg_tl_connect_result);
	case VMBUS_MSG_MODIFYCHANNEL_RESPONSE: return sizeof(struct vmbus_msg_modify_channel_response);
	default: return 0;
	}
}

static int fz_post(void *opaque, unsigned vp, const void *msg, size_t len)
{
	struct fuzz *f = opaque;
	uint32_t type;
	CHECK(vp < FUZZ_NVPS);
	CHECK(len >= sizeof(struct vmbus_msg_header) && len <= VMBUS_MSG_PAYLOAD_MAX);
	memcpy(&type, msg, sizeof(type));
	CHECK(reply_size(type) == len);
	return f->post_result;
}

static int fz_open(void *opaque, struct vmbus_channel *ch)
{
	struct fuzz *f = opaque;
	struct fuzz_chan *c = chan_of(f, ch);
	struct vmbus_channel_info info;
	CHECK(!c->open);
	CHECK(vmbus_server_channel_info(f->s, ch, &info) == 0);
	CHECK(info.state == VMBUS_CHANNEL_OPEN && info.ring && !info.rescinded);
	CHECK(info.target_vp < FUZZ_NVPS);
	CHECK(gpadl_whole_pages(info.ring));
	CHECK(info.downstream_offset >= 2 && info.downstream_offset + 2 <= gpadl_pfn_count(info.ring));
	uint64_t pfns[2];
	CHECK(gpadl_pages(info.ring, info.downstream_offset - 2, 2, pfns) == 0);
	if (f->open_status == 0) {
		c->open = true;
		f->opens++;
	}
	return f->open_status;
}

static void fz_close(void *opaque, struct vmbus_channel *ch)
{
	struct fuzz *f = opaque;
	struct fuzz_chan *c = chan_of(f, ch);
	CHECK(c->open);
	c->open = false;
	f->closes++;
	put_all(f, c);                       /* the device contract; re-enters the server */
}

static void fz_removed(void *opaque, struct vmbus_channel *ch)
{
	struct fuzz *f = opaque;
	struct fuzz_chan *c = chan_of(f, ch);
	CHECK(!c->open);
	put_all(f, c);
	c->ch = NULL;
	f->removes++;
}

static void fz_signal(void *opaque, struct vmbus_channel *ch)
{
	struct fuzz *f = opaque;
	CHECK(chan_of(f, ch)->open);
}

static int fz_tl_connect(void *opaque, const struct vmbus_guid *ep, const struct vmbus_guid *svc)
{
	(void)opaque;
	return ep->b[0] == svc->b[0] ? 0 : -ECONNREFUSED;
}

static const struct vmbus_server_ops fz_ops = {
	.post_to_guest = fz_post,
	.channel_open = fz_open,
	.channel_close = fz_close,
	.channel_removed = fz_removed,
	.channel_signal = fz_signal,
	.tl_connect = fz_tl_connect,
};

static void add_channel(struct fuzz *f, unsigned i)
{
	struct vmbus_channel_desc d = {
		.type = VMBUS_GUID_INIT(0xda0a7802, 0xe377, 0x4aac, 0x8e, 0x77, 0x05, 0x58, 0xeb, 0x10, 0x73, 0xf8),
		.flags = i ? VMBUS_CHANNEL_NAMED_PIPE_MODE : 0,
		.pipe_mode = VMBUS_PIPE_TYPE_MESSAGE,
	};
	d.instance.b[0] = (uint8_t)i;
	struct vmbus_channel *ch = NULL;
	CHECK(vmbus_server_add_channel(f->s, &d, &ch) == 0);
	f->chan[i] = (struct fuzz_chan){ .ch = ch };
}

static const uint32_t fz_versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2, VMBUS_VERSION_WIN10_V5_1,
	VMBUS_VERSION_WIN10_V5, VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10,
	VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8, 0x10001,
};

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

/* Small folded values: relids and GPADL ids the server actually knows, often. */
static uint32_t fold_relid(uint8_t x)
{
	return x < 200 ? x % 4u : x * 0x01010101u;
}

static uint32_t fold_gpadl(uint8_t x)
{
	return x < 200 ? 0xE1E10u + x % 6u : x * 0x01000193u;
}

static void post(struct fuzz *f, uint32_t conn, uint32_t hvtype, const uint8_t *buf, size_t len)
{
	unsigned st = vmbus_server_handle_post(f->s, conn, hvtype, buf, len);
	CHECK(st == 0 || st == 3 || st == 5 || st == 18 || st == 19);
}

/* A guest message built like Linux builds it, from folded input. */
static void smart_post(struct fuzz *f, struct fuzz_input *in)
{
	uint8_t b[VMBUS_MSG_PAYLOAD_MAX + 16];
	memset(b, 0, sizeof(b));
	uint8_t kind = in_u8(in) % 10;
	size_t len = 8;
	uint32_t conn = VMBUS_MESSAGE_CONNECTION_ID;
	switch (kind) {
	case 0: {                                /* INITIATE_CONTACT */
		uint32_t v = fz_versions[in_u8(in) % (sizeof(fz_versions) / sizeof(fz_versions[0]))];
		put32(b, 0, VMBUS_MSG_INITIATE_CONTACT);
		put32(b, 8, v);
		put32(b, 12, in_u8(in) % (FUZZ_NVPS + 1));
		b[16] = (uint8_t)(in_u8(in) < 240 ? VMBUS_MESSAGE_SINT : 3);
		len = 40;
		if (v >= VMBUS_VERSION_WIN10_V5)
			conn = VMBUS_MESSAGE_CONNECTION_ID_4;
		break;
	}
	case 1:
		put32(b, 0, VMBUS_MSG_REQUESTOFFERS);
		break;
	case 2: {                                /* GPADL_HEADER, Linux-shaped or slightly off */
		uint8_t shape = in_u8(in);
		uint32_t pages = 1 + in_u8(in) % 40;
		uint32_t inhdr = pages < 26 ? pages : 26;
		put32(b, 0, VMBUS_MSG_GPADL_HEADER);
		put32(b, 8, fold_relid(in_u8(in)));
		put32(b, 12, fold_gpadl(in_u8(in)));
		uint16_t buflen = (uint16_t)(8 + 8 * pages);
		if (shape % 8 == 0)
			buflen = in_u16(in);
		memcpy(b + 16, &buflen, 2);
		uint16_t rc = shape % 8 == 1 ? in_u8(in) % 3 : 1;
		memcpy(b + 18, &rc, 2);
		put32(b, 20, shape % 8 == 2 ? in_u32(in) : pages * 4096u);
		put32(b, 24, shape % 8 == 3 ? in_u16(in) : 0);
		uint64_t pfn0 = in_u8(in) < 250 ? 0x1000u * in_u8(in) : (uint64_t)in_u32(in) << 20;
		for (uint32_t i = 0; i < inhdr; i++)
			put64(b, 28 + 8 * i, pfn0 + i);
		len = 28 + 8 * inhdr;
		break;
	}
	case 3: {                                /* GPADL_BODY */
		uint32_t n = in_u8(in) % 30;
		put32(b, 0, VMBUS_MSG_GPADL_BODY);
		put32(b, 12, fold_gpadl(in_u8(in)));
		uint64_t pfn0 = 0x1000u * in_u8(in);
		for (uint32_t i = 0; i < n; i++)
			put64(b, 16 + 8 * i, pfn0 + i);
		len = 16 + 8 * n;
		break;
	}
	case 4:                                  /* OPENCHANNEL */
		put32(b, 0, VMBUS_MSG_OPENCHANNEL);
		put32(b, 8, fold_relid(in_u8(in)));
		put32(b, 12, in_u32(in));
		put32(b, 16, fold_gpadl(in_u8(in)));
		put32(b, 20, in_u8(in) % (FUZZ_NVPS + 1));
		put32(b, 24, in_u8(in) % 42);
		len = 148;
		break;
	case 5:
		put32(b, 0, VMBUS_MSG_CLOSECHANNEL);
		put32(b, 8, fold_relid(in_u8(in)));
		len = 12;
		break;
	case 6:
		put32(b, 0, VMBUS_MSG_GPADL_TEARDOWN);
		put32(b, 8, fold_relid(in_u8(in)));
		put32(b, 12, fold_gpadl(in_u8(in)));
		len = 16;
		break;
	case 7:
		put32(b, 0, in_u8(in) & 1 ? VMBUS_MSG_RELID_RELEASED : VMBUS_MSG_UNLOAD);
		put32(b, 8, fold_relid(in_u8(in)));
		len = 12;
		break;
	case 8:
		put32(b, 0, VMBUS_MSG_MODIFYCHANNEL);
		put32(b, 8, fold_relid(in_u8(in)));
		put32(b, 12, in_u8(in) % (FUZZ_NVPS + 1));
		len = 16;
		break;
	case 9:
		put32(b, 0, VMBUS_MSG_TL_CONNECT_REQUEST);
		b[8] = in_u8(in);
		b[24] = in_u8(in);
		len = 40;
		break;
	}
	/* Now and then one byte short or with trailing bytes. */
	uint8_t tweak = in_u8(in);
	if (tweak == 0xff && len)
		len--;
	else if (tweak == 0xfe)
		len = VMBUS_MSG_PAYLOAD_MAX;
	if (len > VMBUS_MSG_PAYLOAD_MAX)
		len = VMBUS_MSG_PAYLOAD_MAX;
	post(f, conn, VMBUS_HV_MESSAGE_TYPE, b, len);
}

/* What Linux does at boot, in one step, so that the fuzzer starts from open
 * channels: connect, ask for offers, a ring GPADL (header and bodies as
 * create_gpadl_header splits them) and OPENCHANNEL, with folded parameters. */
static void linux_bringup(struct fuzz *f, struct fuzz_input *in)
{
	uint8_t b[VMBUS_MSG_PAYLOAD_MAX];
	uint32_t v = fz_versions[in_u8(in) % 8];
	uint32_t conn = v >= VMBUS_VERSION_WIN10_V5 ? VMBUS_MESSAGE_CONNECTION_ID_4 : VMBUS_MESSAGE_CONNECTION_ID;
	memset(b, 0, sizeof(b));
	put32(b, 0, VMBUS_MSG_INITIATE_CONTACT);
	put32(b, 8, v);
	put32(b, 12, in_u8(in) % FUZZ_NVPS);
	b[16] = VMBUS_MESSAGE_SINT;
	post(f, conn, VMBUS_HV_MESSAGE_TYPE, b, 40);
	memset(b, 0, sizeof(b));
	put32(b, 0, VMBUS_MSG_REQUESTOFFERS);
	post(f, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_HV_MESSAGE_TYPE, b, 8);

	uint32_t relid = 1 + in_u8(in) % FUZZ_CHANNELS, id = fold_gpadl(in_u8(in) % 6);
	uint32_t pages = 4 + in_u8(in) % 61, first = pages < 26 ? pages : 26;
	memset(b, 0, sizeof(b));
	put32(b, 0, VMBUS_MSG_GPADL_HEADER);
	put32(b, 8, relid);
	put32(b, 12, id);
	uint16_t buflen = (uint16_t)(8 + 8 * pages), rc = 1;
	memcpy(b + 16, &buflen, 2);
	memcpy(b + 18, &rc, 2);
	put32(b, 20, pages * 4096u);
	for (uint32_t i = 0; i < first; i++)
		put64(b, 28 + 8 * i, 0x100 + i);
	post(f, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_HV_MESSAGE_TYPE, b, 28 + 8 * first);
	for (uint32_t done = first; done < pages;) {
		uint32_t n = pages - done < 28 ? pages - done : 28;
		memset(b, 0, sizeof(b));
		put32(b, 0, VMBUS_MSG_GPADL_BODY);
		put32(b, 12, id);
		for (uint32_t i = 0; i < n; i++)
			put64(b, 16 + 8 * i, 0x100 + done + i);
		post(f, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_HV_MESSAGE_TYPE, b, 16 + 8 * n);
		done += n;
	}
	memset(b, 0, sizeof(b));
	put32(b, 0, VMBUS_MSG_OPENCHANNEL);
	put32(b, 8, relid);
	put32(b, 12, relid);
	put32(b, 16, id);
	put32(b, 20, in_u8(in) % FUZZ_NVPS);
	put32(b, 24, pages / 2);
	post(f, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_HV_MESSAGE_TYPE, b, 148);
}

static void raw_post(struct fuzz *f, struct fuzz_input *in)
{
	uint8_t b[256];
	uint8_t sel = in_u8(in);
	uint32_t conn = sel % 4 == 0 ? 1 : sel % 4 == 1 ? 4 : sel % 4 == 2 ? in_u32(in) : 0x2001;
	uint32_t hvtype = sel & 0x80 ? in_u32(in) : VMBUS_HV_MESSAGE_TYPE;
	size_t len = in_u8(in);
	if (len > in->n)
		len = in->n;
	memcpy(b, in->p, len);
	in->p += len;
	in->n -= len;
	post(f, conn, hvtype, len ? b : NULL, len);
}

static void check_state(struct fuzz *f)
{
	struct vmbus_server_state st;
	vmbus_server_get_state(f->s, &st);
	unsigned open = 0, alive = 0;
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++) {
		open += f->chan[i].open;
		alive += f->chan[i].ch != NULL;
	}
	CHECK(st.open_channels == open);
	CHECK(st.channels == alive);
	CHECK(st.queued <= VMBUS_SERVER_OUTBOX_MAX + FUZZ_CHANNELS + 1);
	CHECK(st.gpadls <= GPADL_TABLE_MAX);
	CHECK(st.connected == (st.version != 0));
	CHECK(st.target_vp < FUZZ_NVPS);
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++) {
		struct vmbus_channel *ch = f->chan[i].ch;
		if (!ch)
			continue;
		struct vmbus_channel_info info;
		CHECK(vmbus_server_channel_info(f->s, ch, &info) == 0);
		CHECK((info.state == VMBUS_CHANNEL_OPEN) == f->chan[i].open);
		CHECK(vmbus_server_channel_target_vp(ch) < FUZZ_NVPS);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct fuzz f = { 0 };
	struct vmbus_server_config cfg = {
		.nvps = FUZZ_NVPS,
		.max_version = fz_versions[in_u8(&in) % 8],
		.gpadl = { .max_pfns = 64, .max_gpadls = 16, .max_total_pfns = 256 },
	};
	f.s = vmbus_server_new(&cfg, &fz_ops, &f);
	CHECK(f.s);
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++)
		add_channel(&f, i);

	for (unsigned op = 0; op < FUZZ_MAX_OPS && in.n; op++) {
		uint8_t k = in_u8(&in);
		switch (k % 16) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			smart_post(&f, &in);
			break;
		case 6:
			if (k & 0x80)
				linux_bringup(&f, &in);
			else
				smart_post(&f, &in);
			break;
		case 7: case 8:
			raw_post(&f, &in);
			break;
		case 9: {                        /* the host withdraws or re-offers a device */
			unsigned i = in_u8(&in) % FUZZ_CHANNELS;
			if (f.chan[i].ch) {
				int r = vmbus_server_rescind(f.s, f.chan[i].ch);
				CHECK(r == 0 || r == -EALREADY);
			} else {
				add_channel(&f, i);
			}
			break;
		}
		case 10:
			vmbus_server_reset(f.s);
			break;
		case 11: {
			uint8_t m = in_u8(&in) % 4;
			f.post_result = m == 0 ? 0 : m == 1 ? -ENOBUFS : m == 2 ? -EAGAIN : -EINVAL;
			if (m == 0)
				vmbus_server_flush(f.s);
			break;
		}
		case 12: {
			uint32_t id = in_u8(&in) < 128 ? VMBUS_CHANNEL_CONNECTION_BASE + in_u8(&in) % 4 : in_u32(&in);
			unsigned st = vmbus_server_handle_signal(f.s, id);
			CHECK(st == 0 || st == 18);
			break;
		}
		case 13: {                       /* the device takes a GPADL of its channel */
			struct fuzz_chan *c = &f.chan[in_u8(&in) % FUZZ_CHANNELS];
			uint32_t id = fold_gpadl(in_u8(&in));
			struct gpadl *g;
			if (c->ch && c->nheld < FUZZ_HELD_MAX && vmbus_server_gpadl_get(f.s, c->ch, id, &g) == 0) {
				CHECK(gpadl_id(g) == id);
				struct gpadl_iter it;
				uint64_t gpa;
				uint32_t len, n = 0;
				CHECK(gpadl_iter_init(&it, g, 0, gpadl_size(g)) == 0);
				while (gpadl_iter_next(&it, &gpa, &len))
					n++;
				CHECK(n == gpadl_pfn_count(g));   /* one piece per page of each range */
				c->held[c->nheld++] = g;
			}
			break;
		}
		case 14: {                       /* ... and lets one go */
			struct fuzz_chan *c = &f.chan[in_u8(&in) % FUZZ_CHANNELS];
			if (c->nheld)
				vmbus_server_gpadl_put(f.s, c->held[--c->nheld]);
			break;
		}
		case 15: {
			uint8_t m = in_u8(&in) % 4;
			f.open_status = m < 2 ? 0 : m == 2 ? -EIO : 0x4711;
			break;
		}
		}
		check_state(&f);
	}

	unsigned alive = 0;
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++)
		alive += f.chan[i].ch != NULL;
	unsigned removes = f.removes;
	vmbus_server_free(f.s);
	CHECK(f.removes == removes + alive);
	CHECK(f.opens == f.closes);
	for (unsigned i = 0; i < FUZZ_CHANNELS; i++)
		CHECK(!f.chan[i].ch && !f.chan[i].open && !f.chan[i].nheld);
	return 0;
}
