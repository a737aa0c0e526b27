/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_chunk.c - RTMP chunk reassembly and chunking (see rtmp_chunk.h).
 *
 * Timestamp rules follow what ffmpeg and librtmp do on the wire, which is
 * what every publisher we meet was tested against: a type-3 header that
 * starts a new message adds the last timestamp field of its chunk stream
 * (the absolute value after a type 0, the delta after a type 1 or 2), and
 * chunks of a message whose header used the extended timestamp repeat it.
 */
#include "proto/rtmp_chunk.h"

#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "proto/rtmp.h"

struct rtmp_chunk_stream {
	uint32_t id;
	uint32_t ts;          /* absolute timestamp of the current/last message */
	uint32_t ts_field;    /* last timestamp field as sent (extended applied) */
	uint32_t len;
	uint32_t msid;
	uint8_t type;
	uint8_t ext;          /* the last header carried an extended timestamp */
	struct rbuf *partial; /* message being reassembled, or NULL */
	uint32_t got;
};

/*
 * A partial message's buffer starts empty and grows with the bytes that
 * arrive (doubling, never past the declared length): a peer that opens
 * many chunk streams with a byte each costs bytes, not 64 KiB apiece.
 */

static const uint8_t msg_header_len[4] = { 11, 7, 3, 0 };

void rtmp_reader_init(struct rtmp_reader *r, const struct rtmp_reader_limits *lim)
{
	memset(r, 0, sizeof(*r));
	if (lim)
		r->lim = *lim;
	if (!r->lim.max_chunk_size)
		r->lim.max_chunk_size = 0xffffff;
	if (!r->lim.max_message_size)
		r->lim.max_message_size = 8u << 20;
	if (!r->lim.max_chunk_streams)
		r->lim.max_chunk_streams = 64;
	if (!r->lim.max_pending_bytes)
		r->lim.max_pending_bytes = 2 * r->lim.max_message_size;
	r->chunk_size = RTMP_DEFAULT_CHUNK_SIZE;
}

void rtmp_reader_free(struct rtmp_reader *r)
{
	for (uint32_t i = 0; i < r->ncs; i++)
		rbuf_unref(r->cs[i].partial);
	r->partial_alloc = 0;
	free(r->cs);
	r->cs = NULL;
	r->ncs = r->cs_cap = 0;
	r->cur = NULL;
}

static struct rtmp_chunk_stream *find_cs(struct rtmp_reader *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->ncs; i++)
		if (r->cs[i].id == id)
			return &r->cs[i];
	return NULL;
}

static int add_cs(struct rtmp_reader *r, uint32_t id, struct rtmp_chunk_stream **out)
{
	if (r->ncs >= r->lim.max_chunk_streams)
		return SL_ELIMIT;
	if (r->ncs == r->cs_cap) {
		r->cs_cap = r->cs_cap ? r->cs_cap * 2 : 8;
		r->cs = xrealloc(r->cs, r->cs_cap * sizeof(*r->cs));
	}
	struct rtmp_chunk_stream *cs = &r->cs[r->ncs++];
	memset(cs, 0, sizeof(*cs));
	cs->id = id;
	*out = cs;
	return 0;
}

static size_t basic_header_len(uint8_t first)
{
	switch (first & 0x3f) {
	case 0: return 2;
	case 1: return 3;
	default: return 1;
	}
}

static uint32_t basic_header_csid(const uint8_t *h)
{
	switch (h[0] & 0x3f) {
	case 0: return 64u + h[1];
	case 1: return 64u + h[1] + 256u * h[2];
	default: return h[0] & 0x3fu;
	}
}

/*
 * How many header bytes this chunk has, as far as r->hdr tells so far.
 * Returns SL_EPROTO for a type-3 header on a chunk stream never seen.
 */
static int header_need(struct rtmp_reader *r, size_t *need)
{
	if (r->hdr_have < 1) {
		*need = 1;
		return 0;
	}
	size_t basic = basic_header_len(r->hdr[0]);
	if (r->hdr_have < basic) {
		*need = basic;
		return 0;
	}
	unsigned fmt = r->hdr[0] >> 6;
	size_t mh = msg_header_len[fmt];
	if (r->hdr_have < basic + mh) {
		*need = basic + mh;
		return 0;
	}
	int ext;
	if (fmt < 3) {
		ext = rd_u24be(r->hdr + basic) == RTMP_MAX_TIMESTAMP_FIELD;
	} else {
		struct rtmp_chunk_stream *cs = find_cs(r, basic_header_csid(r->hdr));
		if (!cs)
			return SL_EPROTO;
		ext = cs->ext;
	}
	*need = basic + mh + (ext ? 4 : 0);
	return 0;
}

/* Called with a complete chunk header in r->hdr. */
static int start_chunk(struct rtmp_reader *r)
{
	const uint8_t *h = r->hdr;
	size_t basic = basic_header_len(h[0]);
	unsigned fmt = h[0] >> 6;
	uint32_t id = basic_header_csid(h);
	const uint8_t *mh = h + basic;
	struct rtmp_chunk_stream *cs = find_cs(r, id);
	int rc;

	if (!cs) {
		if (fmt != 0)
			return SL_EPROTO; /* deltas and continuations need a prior header */
		if ((rc = add_cs(r, id, &cs)) < 0)
			return rc;
	}

	if (cs->partial) {
		if (fmt != 3)
			return SL_EPROTO; /* a new header in the middle of a message */
	} else {
		uint32_t field = 0;
		int ext = 0;
		if (fmt < 3) {
			field = rd_u24be(mh);
			if (field == RTMP_MAX_TIMESTAMP_FIELD) {
				field = rd_u32be(mh + msg_header_len[fmt]);
				ext = 1;
			}
		}
		switch (fmt) {
		case 0:
			cs->len = rd_u24be(mh + 3);
			cs->type = mh[6];
			cs->msid = rd_u32le(mh + 7);
			cs->ts = field;
			cs->ts_field = field;
			cs->ext = (uint8_t)ext;
			break;
		case 1:
			cs->len = rd_u24be(mh + 3);
			cs->type = mh[6];
			cs->ts += field;
			cs->ts_field = field;
			cs->ext = (uint8_t)ext;
			break;
		case 2:
			cs->ts += field;
			cs->ts_field = field;
			cs->ext = (uint8_t)ext;
			break;
		default:
			cs->ts += cs->ts_field;
			break;
		}
		if (cs->len > r->lim.max_message_size)
			return SL_ELIMIT;
		cs->partial = rbuf_new(0);
		cs->got = 0;
	}
	uint32_t left = cs->len - cs->got;
	r->chunk_left = left < r->chunk_size ? left : r->chunk_size;
	r->cur = cs;
	r->hdr_have = 0;
	return 0;
}

static int apply_control(struct rtmp_reader *r, const struct rtmp_msg *m)
{
	if (m->type == RTMP_MSG_SET_CHUNK_SIZE) {
		if (m->body->len < 4)
			return SL_EPROTO;
		uint32_t size = rd_u32be(m->body->data) & 0x7fffffffu;
		if (size == 0)
			return SL_EPROTO;
		if (size > r->lim.max_chunk_size)
			return SL_ELIMIT;
		r->chunk_size = size;
	} else if (m->type == RTMP_MSG_ABORT) {
		if (m->body->len < 4)
			return SL_EPROTO;
		struct rtmp_chunk_stream *cs = find_cs(r, rd_u32be(m->body->data));
		if (cs && cs->partial) {
			r->pending_bytes -= cs->got;
			r->partial_alloc -= cs->partial->cap;
			rbuf_unref(cs->partial);
			cs->partial = NULL;
			cs->got = 0;
		}
	}
	return 0;
}

/* Finishes the current message into *out. */
static int complete(struct rtmp_reader *r, struct rtmp_msg *out)
{
	struct rtmp_chunk_stream *cs = r->cur;
	out->type = cs->type;
	out->ts = cs->ts;
	out->msid = cs->msid;
	out->csid = cs->id;
	out->body = cs->partial;
	out->body->len = cs->got;
	r->pending_bytes -= cs->got;
	r->partial_alloc -= cs->partial->cap;
	cs->partial = NULL;
	cs->got = 0;
	r->cur = NULL;
	int rc = apply_control(r, out);
	if (rc < 0) {
		rbuf_unref(out->body);
		out->body = NULL;
	}
	return rc < 0 ? rc : 1;
}

int rtmp_reader_feed(struct rtmp_reader *r, const uint8_t *p, size_t n,
                     size_t *used, struct rtmp_msg *out)
{
	size_t i = 0;
	int rc = SL_EAGAIN;

	for (;;) {
		if (!r->cur) {
			size_t need;
			int e = header_need(r, &need);
			if (e < 0) {
				rc = e;
				goto done;
			}
			if (r->hdr_have < need) {
				if (i == n)
					break;
				size_t take = need - r->hdr_have;
				if (take > n - i)
					take = n - i;
				memcpy(r->hdr + r->hdr_have, p + i, take);
				r->hdr_have = (uint8_t)(r->hdr_have + take);
				i += take;
				continue; /* recompute: the header may be longer than we knew */
			}
			e = start_chunk(r);
			if (e < 0) {
				rc = e;
				goto done;
			}
			if (r->cur->len == 0) {
				rc = complete(r, out);
				goto done;
			}
			continue;
		}
		if (i == n)
			break;

		struct rtmp_chunk_stream *cs = r->cur;
		size_t take = r->chunk_left;
		if (take > n - i)
			take = n - i;
		if (r->pending_bytes + take > r->lim.max_pending_bytes) {
			rc = SL_ELIMIT;
			goto done;
		}
		if (cs->got + take > cs->partial->cap) {
			size_t cap = (size_t)cs->partial->cap * 2;
			if (cap < cs->got + take)
				cap = cs->got + take;
			if (cap > cs->len)
				cap = cs->len;
			r->partial_alloc += cap - cs->partial->cap;
			cs->partial = rbuf_grow(cs->partial, cap);
		}
		memcpy(cs->partial->data + cs->got, p + i, take);
		cs->got += (uint32_t)take;
		r->pending_bytes += take;
		r->chunk_left -= (uint32_t)take;
		i += take;
		if (cs->got == cs->len) {
			rc = complete(r, out);
			goto done;
		}
		if (r->chunk_left == 0)
			r->cur = NULL;
	}
done:
	r->bytes_in += i;
	*used = i;
	return rc;
}

static size_t basic_len_for(uint32_t csid)
{
	return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

static uint8_t *put_basic(uint8_t *d, unsigned fmt, uint32_t csid)
{
	if (csid < 64) {
		*d++ = (uint8_t)(fmt << 6 | csid);
	} else if (csid < 320) {
		*d++ = (uint8_t)(fmt << 6);
		*d++ = (uint8_t)(csid - 64);
	} else {
		*d++ = (uint8_t)(fmt << 6 | 1);
		*d++ = (uint8_t)((csid - 64) & 0xff);
		*d++ = (uint8_t)((csid - 64) >> 8);
	}
	return d;
}

size_t rtmp_chunk_encoded_size(uint32_t csid, uint32_t ts, size_t len, uint32_t chunk_size)
{
	size_t basic = basic_len_for(csid);
	size_t ext = ts >= RTMP_MAX_TIMESTAMP_FIELD ? 4 : 0;
	size_t chunks = len ? (len + chunk_size - 1) / chunk_size : 1;
	return basic + 11 + ext + len + (chunks - 1) * (basic + ext);
}

size_t rtmp_chunk_encode(uint8_t *dst, uint32_t csid, uint8_t type, uint32_t msid,
                         uint32_t ts, const uint8_t *body, size_t len,
                         uint32_t chunk_size)
{
	uint8_t *d = put_basic(dst, 0, csid);
	int ext = ts >= RTMP_MAX_TIMESTAMP_FIELD;
	wr_u24be(d, ext ? RTMP_MAX_TIMESTAMP_FIELD : ts);
	wr_u24be(d + 3, (uint32_t)len);
	d[6] = type;
	wr_u32le(d + 7, msid);
	d += 11;
	if (ext) {
		wr_u32be(d, ts);
		d += 4;
	}
	size_t off = 0;
	for (;;) {
		size_t take = len - off < chunk_size ? len - off : chunk_size;
		if (take)
			memcpy(d, body + off, take);
		d += take;
		off += take;
		if (off >= len)
			break;
		d = put_basic(d, 3, csid);
		if (ext) {
			wr_u32be(d, ts);
			d += 4;
		}
	}
	return (size_t)(d - dst);
}

void rtmp_chunk_append(struct bytes *out, uint32_t csid, uint8_t type, uint32_t msid,
                       uint32_t ts, const uint8_t *body, size_t len, uint32_t chunk_size)
{
	size_t n = rtmp_chunk_encoded_size(csid, ts, len, chunk_size);
	rtmp_chunk_encode(bytes_extend(out, n), csid, type, msid, ts, body, len, chunk_size);
}
