/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h264_rtp.c - RFC 6184 packetization mode 1: single NAL unit packets,
 * STAP-A (5.7.1) and FU-A (5.8), both directions.
 *
 * The packetizer checks the access unit's AVCC framing once, up front, so
 * it never emits half a unit; it then walks the NALs with a cursor and
 * writes each payload straight into the caller's buffer.  The depacketizer
 * appends into a caller buffer whose size bounds an access unit, and drops
 * a unit whole when a packet of it is missing or malformed.
 */
#include "proto/h264_rtp.h"

#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/avc.h"

#define FU_A_HEADER 2            /* FU indicator + FU header */
#define FU_START 0x80
#define FU_END 0x40

static size_t read_len(const uint8_t *p, uint8_t size)
{
	switch (size) {
	case 1: return p[0];
	case 2: return rd_u16be(p);
	default: return rd_u32be(p);
	}
}

/* The NAL at *pos in au (advancing *pos), or 0 at the end / -1 on broken framing. */
static int take_nal(const uint8_t *au, size_t n, uint8_t ls, size_t *pos,
                    const uint8_t **nal, size_t *len)
{
	if (*pos >= n)
		return 0;
	if (n - *pos < ls)
		return -1;
	size_t l = read_len(au + *pos, ls);
	if (l == 0 || l > n - *pos - ls)
		return -1;
	*nal = au + *pos + ls;
	*len = l;
	*pos += ls + l;
	return 1;
}

/*
 * Whether a NAL of the access unit goes on the wire.  AUDs are dropped (the
 * marker bit says the same); so are NALs with the forbidden bit or a type
 * H.264 leaves unspecified (0, 24..31), which RTP uses for its own
 * aggregation and fragmentation units and a receiver would misread.
 */
static int nal_sendable(uint8_t h)
{
	uint8_t type = h & 0x1f;
	return !(h & 0x80) && type >= 1 && type <= 23 && type != H264_NAL_AUD;
}

static int valid_len_size(uint8_t ls)
{
	return ls == 1 || ls == 2 || ls == 4;
}

int h264_au_is_idr(const uint8_t *au, size_t n, uint8_t nal_length_size)
{
	if (!valid_len_size(nal_length_size))
		return 0;
	size_t pos = 0;
	const uint8_t *nal;
	size_t len;
	while (take_nal(au, n, nal_length_size, &pos, &nal, &len) > 0)
		if (nal_sendable(nal[0]) && (nal[0] & 0x1f) == H264_NAL_IDR)
			return 1;
	return 0;
}

static size_t param_count(const struct avc_config *c)
{
	return c ? (size_t)c->nsps + c->npps : 0;
}

static void param_at(const struct avc_config *c, size_t i, const uint8_t **nal, size_t *len)
{
	if (i < c->nsps) {
		*nal = c->sps[i];
		*len = c->sps_len[i];
	} else {
		*nal = c->pps[i - c->nsps];
		*len = c->pps_len[i - c->nsps];
	}
}

void h264_pack_init(struct h264_packer *pk, const uint8_t *au, size_t n,
                    uint8_t nal_length_size, const struct avc_config *params,
                    size_t max_payload)
{
	memset(pk, 0, sizeof(*pk));
	pk->au = au;
	pk->au_len = n;
	pk->len_size = nal_length_size;
	pk->max_payload = max_payload;
	pk->params = params;
	if (!valid_len_size(nal_length_size) || max_payload < H264_RTP_MIN_PAYLOAD ||
	    (n && !au)) {
		pk->error = SL_EINVAL;
		return;
	}
	size_t pos = 0;
	const uint8_t *nal;
	size_t len;
	int rc, idr = 0;
	while ((rc = take_nal(au, n, nal_length_size, &pos, &nal, &len)) > 0)
		if (nal_sendable(nal[0]) && (nal[0] & 0x1f) == H264_NAL_IDR)
			idr = 1;
	if (rc < 0) {
		pk->error = SL_EPROTO;
		return;
	}
	size_t np = param_count(params);
	for (size_t i = 0; i < np; i++) {
		param_at(params, i, &nal, &len);
		if (len == 0) {
			pk->error = SL_EINVAL;
			return;
		}
	}
	if (idr && np > 0)
		pk->params_state = 1;
}

/* Whether an AU NAL worth sending follows pos. */
static int au_has_more(const struct h264_packer *pk)
{
	size_t pos = pk->pos;
	const uint8_t *nal;
	size_t len;
	while (take_nal(pk->au, pk->au_len, pk->len_size, &pos, &nal, &len) > 0)
		if (nal_sendable(nal[0]))
			return 1;
	return 0;
}

static int load_next_nal(struct h264_packer *pk)
{
	if (pk->params_state == 3) {
		if (pk->param_idx < param_count(pk->params)) {
			param_at(pk->params, pk->param_idx++, &pk->nal, &pk->nal_len);
			pk->nal_off = 0;
			return 1;
		}
		pk->params_state = 2;
	}
	const uint8_t *nal;
	size_t len;
	while (take_nal(pk->au, pk->au_len, pk->len_size, &pk->pos, &nal, &len) > 0) {
		if (!nal_sendable(nal[0]))
			continue;
		pk->nal = nal;
		pk->nal_len = len;
		pk->nal_off = 0;
		return 1;
	}
	return 0;
}

/* STAP-A of every SPS and PPS, or 0 when it does not fit in max. */
static size_t write_param_stap(const struct avc_config *c, uint8_t *out, size_t max)
{
	size_t np = param_count(c), need = 1;
	uint8_t nri = 0;
	for (size_t i = 0; i < np; i++) {
		const uint8_t *nal;
		size_t len;
		param_at(c, i, &nal, &len);
		need += 2 + len;
		if ((nal[0] & 0x60) > nri)
			nri = nal[0] & 0x60;
	}
	if (need > max)
		return 0;
	/* 5.7.1: the STAP's NRI is the highest of the units it carries. */
	out[0] = (uint8_t)(nri | H264_NAL_STAP_A);
	size_t off = 1;
	for (size_t i = 0; i < np; i++) {
		const uint8_t *nal;
		size_t len;
		param_at(c, i, &nal, &len);
		wr_u16be(out + off, (uint16_t)len);
		memcpy(out + off + 2, nal, len);
		off += 2 + len;
	}
	return off;
}

int h264_pack_next(struct h264_packer *pk, uint8_t *out, size_t cap, int *marker)
{
	*marker = 0;
	if (pk->error)
		return pk->error;
	if (!out || cap < pk->max_payload)
		return SL_EINVAL;
	size_t written = 0;
	if (pk->params_state == 1) {
		written = write_param_stap(pk->params, out, pk->max_payload);
		pk->params_state = written ? 2 : 3;
	}
	if (!written) {
		if (!pk->nal && !load_next_nal(pk))
			return 0;
		size_t body = pk->nal_len - 1;   /* after the NAL header byte */
		if (pk->nal_off == 0 && pk->nal_len <= pk->max_payload) {
			memcpy(out, pk->nal, pk->nal_len);
			written = pk->nal_len;
			pk->nal = NULL;
		} else {
			size_t chunk = body - pk->nal_off;
			if (chunk > pk->max_payload - FU_A_HEADER)
				chunk = pk->max_payload - FU_A_HEADER;
			uint8_t h = pk->nal[0];
			out[0] = (uint8_t)((h & 0xe0) | H264_NAL_FU_A);
			out[1] = (uint8_t)(h & 0x1f);
			if (pk->nal_off == 0)
				out[1] |= FU_START;
			memcpy(out + FU_A_HEADER, pk->nal + 1 + pk->nal_off, chunk);
			pk->nal_off += chunk;
			if (pk->nal_off == body) {
				out[1] |= FU_END;
				pk->nal = NULL;
			}
			written = FU_A_HEADER + chunk;
		}
	}
	int more = pk->nal != NULL || pk->params_state == 3 || au_has_more(pk);
	*marker = !more;
	return (int)written;
}

void h264_depack_init(struct h264_depack *d, uint8_t *buf, size_t cap)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap;
}

static void reset_unit(struct h264_depack *d)
{
	d->len = 0;
	d->keyframe = 0;
	d->in_fu = 0;
	d->broken = 0;
	d->complete = 0;
	d->have_ts = 0;
}

/* Ends the unit being built: counts it as dropped when it had anything. */
static void drop_unit(struct h264_depack *d)
{
	if (d->len > 0 || d->broken)
		d->dropped_units++;
	reset_unit(d);
}

static int append(struct h264_depack *d, const uint8_t *p, size_t n)
{
	if (n > d->cap - d->len)
		return SL_ELIMIT;
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

static int append_nal(struct h264_depack *d, const uint8_t *nal, size_t n)
{
	uint8_t len[4];
	if (n == 0)
		return SL_EPROTO;
	if (d->in_fu)
		return SL_EPROTO;        /* an FU-A lost its end */
	if (4 > d->cap - d->len || n > d->cap - d->len - 4)
		return SL_ELIMIT;
	wr_u32be(len, (uint32_t)n);
	append(d, len, 4);
	append(d, nal, n);
	if ((nal[0] & 0x1f) == H264_NAL_IDR)
		d->keyframe = 1;
	return 0;
}

static int depack_payload(struct h264_depack *d, const uint8_t *p, size_t n)
{
	if (n == 0 || (p[0] & 0x80))     /* forbidden_zero_bit */
		return SL_EPROTO;
	uint8_t type = p[0] & 0x1f;
	if (type >= 1 && type <= 23)
		return append_nal(d, p, n);
	if (type == H264_NAL_STAP_A) {
		/* Check the whole aggregate before taking any of it. */
		size_t off = 1;
		if (n < 4)
			return SL_EPROTO;
		while (off < n) {
			if (n - off < 2)
				return SL_EPROTO;
			size_t l = rd_u16be(p + off);
			if (l == 0 || l > n - off - 2)
				return SL_EPROTO;
			off += 2 + l;
		}
		for (off = 1; off < n;) {
			size_t l = rd_u16be(p + off);
			int rc = append_nal(d, p + off + 2, l);
			if (rc < 0)
				return rc;
			off += 2 + l;
		}
		return 0;
	}
	if (type == H264_NAL_FU_A) {
		if (n < FU_A_HEADER + 1)
			return SL_EPROTO;
		uint8_t fu = p[1];
		int start = (fu & FU_START) != 0, end = (fu & FU_END) != 0;
		if ((start && end) || (fu & 0x1f) == 0 || (fu & 0x20))
			return SL_EPROTO;
		if (start) {
			if (d->in_fu)
				return SL_EPROTO;   /* the previous FU lost its end */
			if (5 > d->cap - d->len)
				return SL_ELIMIT;
			d->fu_start = d->len;
			uint8_t head[5] = { 0, 0, 0, 0, (uint8_t)((p[0] & 0xe0) | (fu & 0x1f)) };
			append(d, head, 5);
			d->in_fu = 1;
			if ((fu & 0x1f) == H264_NAL_IDR)
				d->keyframe = 1;
		} else if (!d->in_fu) {
			return SL_EPROTO;           /* its start was lost */
		} else if ((d->buf[d->fu_start + 4] & 0x1f) != (fu & 0x1f)) {
			return SL_EPROTO;
		}
		int rc = append(d, p + FU_A_HEADER, n - FU_A_HEADER);
		if (rc < 0)
			return rc;
		if (end) {
			wr_u32be(d->buf + d->fu_start, (uint32_t)(d->len - d->fu_start - 4));
			d->in_fu = 0;
		}
		return 0;
	}
	return SL_EPROTO;   /* STAP-B, MTAP, FU-B: not in packetization mode 1; 0, 30, 31 reserved */
}

int h264_depack_push(struct h264_depack *d, const uint8_t *payload, size_t n,
                     uint16_t seq, uint32_t ts, int marker)
{
	if (d->complete)
		reset_unit(d);
	/* A missing (or reordered: same result) packet; which unit it belonged to is
	 * unknown, so the unit this packet is part of is dropped too. */
	int gap = d->have_seq && seq != d->next_seq;
	d->have_seq = 1;
	d->next_seq = (uint16_t)(seq + 1);
	if (d->have_ts && ts != d->ts)
		drop_unit(d);            /* a new unit began without the last one's marker */
	if (gap)
		d->broken = 1;
	if (!d->have_ts) {
		d->have_ts = 1;
		d->ts = ts;
	}
	int rc = 0;
	if (!d->broken) {
		rc = depack_payload(d, payload, n);
		if (rc < 0) {
			if (rc == SL_EPROTO)
				d->bad_payloads++;
			d->broken = 1;
		}
	}
	if (marker) {
		if (d->broken || d->in_fu || d->len == 0) {
			drop_unit(d);
			return rc;
		}
		d->units++;
		d->complete = 1;
		return 1;
	}
	return rc;
}
