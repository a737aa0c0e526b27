/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtcp.c - RTCP compound packets: SR, RR, BYE (RFC 3550 6.4, 6.6), generic
 * NACK and PLI (RFC 4585 6.2.1, 6.3.1), FIR (RFC 5104 4.3.1).
 *
 * rtcp_parse() walks the compound twice: the first pass checks every
 * packet's framing and the minimum size of the types we read, the second
 * hands out events.  The work is linear in the input and the NACK expansion
 * is capped by RTCP_MAX_NACK_SEQS per compound.
 */
#include "proto/rtcp.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"

enum {
	FMT_NACK = 1,
	FMT_PLI = 1,
	FMT_FIR = 4,
};

#define FB_HEADER_SIZE 12        /* header + sender SSRC + media SSRC */
#define FIR_FCI_SIZE 8

/* One packet of the compound: its type, count/FMT field and body. */
struct pkt {
	uint8_t type;
	uint8_t count;
	const uint8_t *p;        /* the packet, header included */
	size_t len;              /* padding removed */
};

/* Reads the packet at p[0..n); returns its full length (padding included) or SL_EPROTO. */
static int next_packet(const uint8_t *p, size_t n, int last_allowed_pad, struct pkt *out)
{
	if (n < RTCP_HEADER_SIZE || (p[0] >> 6) != 2)
		return SL_EPROTO;
	size_t len = ((size_t)rd_u16be(p + 2) + 1) * 4;
	if (len > n)
		return SL_EPROTO;
	out->type = p[1];
	out->count = p[0] & 0x1f;
	out->p = p;
	out->len = len;
	if (p[0] & 0x20) {
		/* RFC 3550 6.4.1: only the last packet of a compound may be padded. */
		if (!last_allowed_pad || len != n)
			return SL_EPROTO;
		uint8_t pad = p[len - 1];
		if (pad == 0 || pad > len - RTCP_HEADER_SIZE)
			return SL_EPROTO;
		out->len = len - pad;
	}
	size_t need = RTCP_HEADER_SIZE;
	switch (out->type) {
	case RTCP_SR:
		need = RTCP_SR_SIZE + (size_t)out->count * RTCP_REPORT_BLOCK_SIZE;
		break;
	case RTCP_RR:
		need = RTCP_RR_SIZE + (size_t)out->count * RTCP_REPORT_BLOCK_SIZE;
		break;
	case RTCP_BYE:
		need = RTCP_HEADER_SIZE + (size_t)out->count * 4;
		break;
	case RTCP_RTPFB:
	case RTCP_PSFB:
		need = FB_HEADER_SIZE;
		break;
	default:
		break;
	}
	if (out->len < need)
		return SL_EPROTO;
	return (int)len;
}

static void read_block(const uint8_t *b, struct rtcp_report_block *rb)
{
	rb->ssrc = rd_u32be(b);
	rb->fraction_lost = b[4];
	uint32_t lost = rd_u24be(b + 5);
	/* 24-bit two's complement: sign-extend. */
	rb->cumulative_lost = (lost & 0x800000) ? (int32_t)(lost | 0xff000000u) : (int32_t)lost;
	rb->highest_seq = rd_u32be(b + 8);
	rb->jitter = rd_u32be(b + 12);
	rb->lsr = rd_u32be(b + 16);
	rb->dlsr = rd_u32be(b + 20);
}

static void deliver_blocks(const struct pkt *k, size_t off, uint32_t reporter,
                           const struct rtcp_handler *h, void *ud)
{
	if (!h->report_block)
		return;
	for (unsigned i = 0; i < k->count; i++) {
		struct rtcp_report_block rb;
		read_block(k->p + off + (size_t)i * RTCP_REPORT_BLOCK_SIZE, &rb);
		h->report_block(ud, reporter, &rb);
	}
}

/* Returns 1 when the packet was understood, 0 when skipped. */
static int deliver(const struct pkt *k, const struct rtcp_handler *h, void *ud,
                   struct rtcp_stats *st)
{
	const uint8_t *p = k->p;
	switch (k->type) {
	case RTCP_SR: {
		struct rtcp_sender_info si = {
			.ssrc = rd_u32be(p + 4), .ntp = rd_u64be(p + 8), .rtp_ts = rd_u32be(p + 16),
			.packets = rd_u32be(p + 20), .octets = rd_u32be(p + 24),
		};
		if (h->sender_report)
			h->sender_report(ud, &si);
		deliver_blocks(k, RTCP_SR_SIZE, si.ssrc, h, ud);
		return 1;
	}
	case RTCP_RR:
		deliver_blocks(k, RTCP_RR_SIZE, rd_u32be(p + 4), h, ud);
		return 1;
	case RTCP_BYE:
		for (unsigned i = 0; i < k->count; i++)
			if (h->bye)
				h->bye(ud, rd_u32be(p + 4 + (size_t)i * 4));
		return 1;
	case RTCP_RTPFB: {
		if (k->count != FMT_NACK)
			return 0;
		uint32_t sender = rd_u32be(p + 4), media = rd_u32be(p + 8);
		for (size_t off = FB_HEADER_SIZE; off + 4 <= k->len; off += 4) {
			uint16_t pid = rd_u16be(p + off), blp = rd_u16be(p + off + 2);
			uint16_t seqs[RTCP_NACK_FCI_SEQS];
			size_t n = 0;
			seqs[n++] = pid;
			for (unsigned b = 0; b < 16; b++)
				if (blp & (1u << b))
					seqs[n++] = (uint16_t)(pid + b + 1);
			if (st->nack_seqs + n > RTCP_MAX_NACK_SEQS) {
				st->nacks_dropped += (uint32_t)n;
				continue;
			}
			st->nack_seqs += (uint32_t)n;
			if (h->nack)
				h->nack(ud, sender, media, seqs, n);
		}
		return 1;
	}
	case RTCP_PSFB: {
		uint32_t sender = rd_u32be(p + 4), media = rd_u32be(p + 8);
		if (k->count == FMT_PLI) {
			if (h->pli)
				h->pli(ud, sender, media);
			return 1;
		}
		if (k->count == FMT_FIR) {
			for (size_t off = FB_HEADER_SIZE; off + FIR_FCI_SIZE <= k->len; off += FIR_FCI_SIZE)
				if (h->fir)
					h->fir(ud, sender, rd_u32be(p + off), p[off + 4]);
			return 1;
		}
		return 0;   /* REMB (FMT 15 "AFB"), SLI, RPSI, ... */
	}
	default:
		return 0;   /* SDES, APP, XR, transport-wide CC, unknown */
	}
}

int rtcp_parse(const uint8_t *p, size_t n, const struct rtcp_handler *h, void *ud,
               struct rtcp_stats *stats)
{
	struct rtcp_stats st = { 0 };
	struct pkt k;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (n == 0)
		return SL_EPROTO;
	for (size_t off = 0; off < n;) {
		int len = next_packet(p + off, n - off, 1, &k);
		if (len < 0)
			return len;
		off += (size_t)len;
	}
	for (size_t off = 0; off < n;) {
		int len = next_packet(p + off, n - off, 1, &k);
		st.packets++;
		if (!deliver(&k, h, ud, &st))
			st.skipped++;
		off += (size_t)len;
	}
	if (stats)
		*stats = st;
	return 0;
}

static void write_header(uint8_t *out, uint8_t count, uint8_t type, size_t len)
{
	out[0] = (uint8_t)(0x80 | (count & 0x1f));
	out[1] = type;
	wr_u16be(out + 2, (uint16_t)(len / 4 - 1));
}

static void write_block(uint8_t *b, const struct rtcp_report_block *rb)
{
	wr_u32be(b, rb->ssrc);
	b[4] = rb->fraction_lost;
	int32_t lost = rb->cumulative_lost;
	/* Clamp to the 24-bit signed range, as RFC 3550 A.3 does. */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	wr_u24be(b + 5, (uint32_t)lost & 0xffffff);
	wr_u32be(b + 8, rb->highest_seq);
	wr_u32be(b + 12, rb->jitter);
	wr_u32be(b + 16, rb->lsr);
	wr_u32be(b + 20, rb->dlsr);
}

int rtcp_write_sr(uint8_t *out, size_t cap, const struct rtcp_sender_info *si,
                  const struct rtcp_report_block *blocks, size_t nblocks)
{
	size_t len = RTCP_SR_SIZE + nblocks * RTCP_REPORT_BLOCK_SIZE;
	if (nblocks > RTCP_MAX_REPORT_BLOCKS || cap < len || (nblocks && !blocks))
		return SL_EINVAL;
	write_header(out, (uint8_t)nblocks, RTCP_SR, len);
	wr_u32be(out + 4, si->ssrc);
	wr_u64be(out + 8, si->ntp);
	wr_u32be(out + 16, si->rtp_ts);
	wr_u32be(out + 20, si->packets);
	wr_u32be(out + 24, si->octets);
	for (size_t i = 0; i < nblocks; i++)
		write_block(out + RTCP_SR_SIZE + i * RTCP_REPORT_BLOCK_SIZE, &blocks[i]);
	return (int)len;
}

int rtcp_write_rr(uint8_t *out, size_t cap, uint32_t reporter_ssrc,
                  const struct rtcp_report_block *blocks, size_t nblocks)
{
	size_t len = RTCP_RR_SIZE + nblocks * RTCP_REPORT_BLOCK_SIZE;
	if (nblocks > RTCP_MAX_REPORT_BLOCKS || cap < len || (nblocks && !blocks))
		return SL_EINVAL;
	write_header(out, (uint8_t)nblocks, RTCP_RR, len);
	wr_u32be(out + 4, reporter_ssrc);
	for (size_t i = 0; i < nblocks; i++)
		write_block(out + RTCP_RR_SIZE + i * RTCP_REPORT_BLOCK_SIZE, &blocks[i]);
	return (int)len;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n)
{
	if (n == 0 || n > RTCP_MAX_NACK_SEQS || !seqs)
		return SL_EINVAL;
	/*
	 * Sort by signed distance from the first number asked for, so a list
	 * that crosses 65535 -> 0 stays in order; then greedily cover the run
	 * with PID + 16-bit bitmask FCIs.
	 */
	int keys[RTCP_MAX_NACK_SEQS];
	for (size_t i = 0; i < n; i++)
		keys[i] = (int16_t)(uint16_t)(seqs[i] - seqs[0]);
	qsort(keys, n, sizeof(keys[0]), cmp_int);

	size_t len = FB_HEADER_SIZE;
	size_t i = 0;
	while (i < n) {
		int pid = keys[i];
		uint16_t blp = 0;
		for (i++; i < n && keys[i] - pid <= 16; i++)
			if (keys[i] != pid)
				blp |= (uint16_t)(1u << (keys[i] - pid - 1));
		if (cap < len + 4)
			return SL_EINVAL;
		wr_u16be(out + len, (uint16_t)(seqs[0] + pid));
		wr_u16be(out + len + 2, blp);
		len += 4;
	}
	write_header(out, FMT_NACK, RTCP_RTPFB, len);
	wr_u32be(out + 4, sender_ssrc);
	wr_u32be(out + 8, media_ssrc);
	return (int)len;
}

int rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	if (cap < RTCP_PLI_SIZE)
		return SL_EINVAL;
	write_header(out, FMT_PLI, RTCP_PSFB, RTCP_PLI_SIZE);
	wr_u32be(out + 4, sender_ssrc);
	wr_u32be(out + 8, media_ssrc);
	return RTCP_PLI_SIZE;
}

/* Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
#define NTP_UNIX_OFFSET 2208988800ull

uint64_t rtcp_ntp_from_unix_us(uint64_t unix_us)
{
	uint64_t secs = unix_us / 1000000 + NTP_UNIX_OFFSET;
	uint64_t frac = ((unix_us % 1000000) << 32) / 1000000;
	return (secs << 32) | frac;
}
