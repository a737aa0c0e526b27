/* SPDX-License-Identifier: Apache-2.0 */
/* aac_rtp.c - RFC 3640 AAC-hbr packetizer and depacketizer (see aac_rtp.h). */
#include "proto/aac_rtp.h"

#include <string.h>

#include "core/err.h"

#define HBR_HEADER 4   /* AU-headers-length (2) + one 16-bit AU header */

void aac_rtp_params_hbr(struct aac_rtp_params *p)
{
	p->size_length = 13;
	p->index_length = 3;
	p->index_delta_length = 3;
}

int aac_rtp_pack(const uint8_t *au, size_t n, unsigned frag, uint8_t *out, size_t cap, int *last)
{
	if (cap < HBR_HEADER + 1 || n > 8191)
		return SL_EINVAL;
	size_t room = cap - HBR_HEADER;
	size_t off = (size_t)frag * room;
	if (off >= n && !(n == 0 && frag == 0))
		return 0;
	size_t take = n - off < room ? n - off : room;
	out[0] = 0;
	out[1] = 16;                           /* one 16-bit AU header */
	out[2] = (uint8_t)(n >> 5);            /* size: 13 bits, index 0: 3 bits */
	out[3] = (uint8_t)((n & 0x1f) << 3);
	memcpy(out + HBR_HEADER, au + off, take);
	*last = off + take == n;
	return (int)(HBR_HEADER + take);
}

void aac_rtp_depack_init(struct aac_rtp_depack *d, const struct aac_rtp_params *p, uint8_t *buf,
                         size_t cap)
{
	memset(d, 0, sizeof(*d));
	d->params = *p;
	d->buf = buf;
	d->cap = cap;
	d->frame_samples = 1024;
}

/* Reads nbits (<= 16) at bit position *pos of p (caller checked the bounds). */
static unsigned read_bits(const uint8_t *p, size_t *pos, unsigned nbits)
{
	unsigned v = 0;
	for (unsigned i = 0; i < nbits; i++, (*pos)++)
		v = (v << 1) | ((p[*pos >> 3] >> (7 - (*pos & 7))) & 1u);
	return v;
}

int aac_rtp_depack_push(struct aac_rtp_depack *d, const uint8_t *p, size_t n, uint16_t seq,
                        uint32_t ts, int marker, aac_rtp_frame_cb cb, void *arg)
{
	int gap = d->have_seq && seq != d->next_seq;
	d->have_seq = 1;
	d->next_seq = (uint16_t)(seq + 1);
	if (gap && d->want) {
		/* A fragment was lost: the AU being joined cannot be completed. */
		d->dropped++;
		d->want = d->len = 0;
	}
	const struct aac_rtp_params *pr = &d->params;
	unsigned hbits = (unsigned)pr->size_length + pr->index_length;
	if (n < 2 || pr->size_length == 0 || pr->size_length > 16 || pr->index_length > 16 ||
	    pr->index_delta_length > 16) {
		d->bad_payloads++;
		return SL_EPROTO;
	}
	size_t hlen_bits = ((size_t)p[0] << 8) | p[1];
	size_t hbytes = (hlen_bits + 7) / 8;
	if (hlen_bits < hbits || 2 + hbytes > n) {
		d->bad_payloads++;
		return SL_EPROTO;
	}
	const uint8_t *h = p + 2;
	const uint8_t *data = p + 2 + hbytes;
	size_t dlen = n - 2 - hbytes;
	/* The AU headers: the first with an index, the rest with index deltas. */
	unsigned sizes[AAC_RTP_MAX_AU_HEADERS];
	unsigned nau = 0;
	size_t pos = 0;
	while (pos + pr->size_length + (nau ? pr->index_delta_length : pr->index_length) <=
	       hlen_bits) {
		if (nau == AAC_RTP_MAX_AU_HEADERS) {
			d->bad_payloads++;
			return SL_EPROTO;
		}
		sizes[nau] = read_bits(h, &pos, pr->size_length);
		pos += nau ? pr->index_delta_length : pr->index_length;
		nau++;
	}
	if (nau == 0) {
		d->bad_payloads++;
		return SL_EPROTO;
	}
	if (nau == 1 && sizes[0] > dlen) {
		/* A fragment of a large AU (RFC 3640 3.2.3). */
		if (d->want && (d->want != sizes[0] || d->ts != ts)) {
			d->dropped++;
			d->want = d->len = 0;
		}
		if (!d->want) {
			if (gap || sizes[0] > d->cap) {
				/* We missed its start, or it cannot fit: drop it (and its later parts). */
				d->dropped++;
				return sizes[0] > d->cap ? SL_ELIMIT : 0;
			}
			d->want = sizes[0];
			d->ts = ts;
			d->len = 0;
		}
		if (d->len + dlen > d->want) {
			d->dropped++;
			d->want = d->len = 0;
			d->bad_payloads++;
			return SL_EPROTO;
		}
		memcpy(d->buf + d->len, data, dlen);
		d->len += dlen;
		if (d->len == d->want && marker) {
			d->frames++;
			cb(arg, d->buf, d->len, d->ts);
			d->want = d->len = 0;
		}
		return 0;
	}
	if (d->want) {
		/* A whole-AU payload arrived while a fragmented one was unfinished. */
		d->dropped++;
		d->want = d->len = 0;
	}
	size_t off = 0;
	for (unsigned i = 0; i < nau; i++) {
		if (sizes[i] > dlen - off) {
			d->bad_payloads++;
			return SL_EPROTO;
		}
		d->frames++;
		cb(arg, data + off, sizes[i], ts + i * d->frame_samples);
		off += sizes[i];
	}
	return 0;
}
