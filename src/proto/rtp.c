/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp.c - RTP fixed header (RFC 3550 5.1, extension 5.3.1).
 *
 * Every length comes from the packet, so each is checked against what is
 * left before it is used: CSRC count, extension length (in 32-bit words),
 * and the padding count in the last byte.
 */
#include "proto/rtp.h"

#include <string.h>

#include "core/bytes.h"
#include "core/err.h"

int rtp_parse(const uint8_t *p, size_t n, struct rtp_header *out)
{
	memset(out, 0, sizeof(*out));
	if (n < RTP_HEADER_SIZE)
		return SL_EPROTO;
	out->version = p[0] >> 6;
	if (out->version != RTP_VERSION)
		return SL_EPROTO;
	out->padding = (p[0] >> 5) & 1;
	out->extension = (p[0] >> 4) & 1;
	out->csrc_count = p[0] & 0x0f;
	out->marker = p[1] >> 7;
	out->payload_type = p[1] & 0x7f;
	out->seq = rd_u16be(p + 2);
	out->timestamp = rd_u32be(p + 4);
	out->ssrc = rd_u32be(p + 8);

	size_t off = RTP_HEADER_SIZE;
	if (n - off < (size_t)out->csrc_count * 4)
		return SL_EPROTO;
	for (unsigned i = 0; i < out->csrc_count; i++, off += 4)
		out->csrc[i] = rd_u32be(p + off);

	if (out->extension) {
		if (n - off < 4)
			return SL_EPROTO;
		out->ext_profile = rd_u16be(p + off);
		size_t words = rd_u16be(p + off + 2);
		off += 4;
		if (n - off < words * 4)
			return SL_EPROTO;
		out->ext = p + off;
		out->ext_len = words * 4;
		off += words * 4;
	}
	out->header_len = off;

	size_t end = n;
	if (out->padding) {
		uint8_t pad = p[n - 1];
		/* The count includes itself, so 0 is malformed; it may not eat the header. */
		if (pad == 0 || pad > n - off)
			return SL_EPROTO;
		out->pad_len = pad;
		end -= pad;
	}
	out->payload = p + off;
	out->payload_len = end - off;
	return 0;
}

int rtp_write_header(uint8_t *out, size_t cap, const struct rtp_header *h)
{
	if (h->csrc_count > RTP_MAX_CSRC || h->payload_type > 127)
		return SL_EINVAL;
	size_t need = RTP_HEADER_SIZE + (size_t)h->csrc_count * 4;
	if (h->extension) {
		if (h->ext_len % 4 != 0 || h->ext_len / 4 > 0xffff || (h->ext_len && !h->ext))
			return SL_EINVAL;
		need += 4 + h->ext_len;
	}
	if (cap < need)
		return SL_EINVAL;
	out[0] = (uint8_t)((RTP_VERSION << 6) | ((h->padding & 1) << 5) |
	                   ((h->extension & 1) << 4) | h->csrc_count);
	out[1] = (uint8_t)(((h->marker & 1) << 7) | h->payload_type);
	wr_u16be(out + 2, h->seq);
	wr_u32be(out + 4, h->timestamp);
	wr_u32be(out + 8, h->ssrc);
	size_t off = RTP_HEADER_SIZE;
	for (unsigned i = 0; i < h->csrc_count; i++, off += 4)
		wr_u32be(out + off, h->csrc[i]);
	if (h->extension) {
		wr_u16be(out + off, h->ext_profile);
		wr_u16be(out + off + 2, (uint16_t)(h->ext_len / 4));
		off += 4;
		if (h->ext_len)
			memcpy(out + off, h->ext, h->ext_len);
		off += h->ext_len;
	}
	return (int)off;
}

int rtp_time_extend(int64_t *ext, uint32_t *prev, uint32_t ts, uint32_t clock)
{
	int64_t d = (int32_t)(ts - *prev);
	int64_t max = (int64_t)clock * RTP_TIME_MAX_STEP_S;
	*prev = ts;
	if (d > max || d < -max)
		return 1;
	*ext += d;
	return 0;
}

void rtp_write_simple(uint8_t out[RTP_HEADER_SIZE], uint8_t pt, int marker,
                      uint16_t seq, uint32_t timestamp, uint32_t ssrc)
{
	out[0] = RTP_VERSION << 6;
	out[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	wr_u16be(out + 2, seq);
	wr_u32be(out + 4, timestamp);
	wr_u32be(out + 8, ssrc);
}
