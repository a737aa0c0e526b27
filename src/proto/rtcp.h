/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtcp.h - RTCP compound packets (RFC 3550 6, RFC 4585 6, RFC 5104 4.3.1):
 * parse into callbacks, build the few a sender needs.
 *
 * Parsing is pure and two-pass: the whole compound packet's framing is
 * checked first and, only when all of it is sound, its events are handed to
 * the callbacks, so a malformed packet yields no events at all.  Reduced
 * size RTCP (RFC 5506, what browsers send) is accepted: a compound need not
 * start with SR or RR.  SDES, APP, REMB, transport-wide feedback and
 * unknown types are skipped.
 *
 * Builders write one RTCP packet into a caller buffer (append them for a
 * compound) and return its length or SL_EINVAL when it does not fit.  They
 * produce the plain packet; SRTCP protection is the caller's.
 */
#ifndef SLUICE_PROTO_RTCP_H
#define SLUICE_PROTO_RTCP_H

#include <stddef.h>
#include <stdint.h>

enum {
	RTCP_SR = 200,
	RTCP_RR = 201,
	RTCP_SDES = 202,
	RTCP_BYE = 203,
	RTCP_APP = 204,
	RTCP_RTPFB = 205,        /* FMT 1: generic NACK */
	RTCP_PSFB = 206,         /* FMT 1: PLI, FMT 4: FIR, FMT 15: REMB (skipped) */
};

#define RTCP_HEADER_SIZE 4
#define RTCP_SR_SIZE 28          /* header + sender info, no report blocks */
#define RTCP_RR_SIZE 8           /* header + reporter SSRC, no report blocks */
#define RTCP_REPORT_BLOCK_SIZE 24
#define RTCP_MAX_REPORT_BLOCKS 31
#define RTCP_PLI_SIZE 12
/* One generic NACK FCI (PID + 16-bit BLP) names at most 17 packets. */
#define RTCP_NACK_FCI_SEQS 17
/*
 * The most sequence numbers one compound packet's NACKs may name in all;
 * FCIs past it are skipped (and counted in rtcp_stats.nacks_dropped), so a
 * hostile 64 KB packet cannot make the sender look up thousands of packets.
 */
#define RTCP_MAX_NACK_SEQS 512

struct rtcp_report_block {
	uint32_t ssrc;           /* the source reported on */
	uint8_t fraction_lost;   /* fixed point /256 */
	int32_t cumulative_lost; /* 24-bit signed */
	uint32_t highest_seq;    /* extended highest sequence number received */
	uint32_t jitter;
	uint32_t lsr;            /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;           /* delay since it, 1/65536 s */
};

struct rtcp_sender_info {
	uint32_t ssrc;
	uint64_t ntp;            /* NTP timestamp, 32.32 fixed point */
	uint32_t rtp_ts;
	uint32_t packets;
	uint32_t octets;
};

/*
 * Callbacks, each may be NULL.  Pointers are borrowed for the call only.
 * For NACK, seqs lists the packets one FCI names, in increasing order.
 */
struct rtcp_handler {
	void (*sender_report)(void *ud, const struct rtcp_sender_info *si);
	void (*report_block)(void *ud, uint32_t reporter_ssrc,
	                     const struct rtcp_report_block *rb);
	void (*bye)(void *ud, uint32_t ssrc);
	void (*nack)(void *ud, uint32_t sender_ssrc, uint32_t media_ssrc,
	             const uint16_t *seqs, size_t n);
	void (*pli)(void *ud, uint32_t sender_ssrc, uint32_t media_ssrc);
	/* One per FIR FCI: the SSRC asked to send a keyframe and its request number. */
	void (*fir)(void *ud, uint32_t sender_ssrc, uint32_t target_ssrc, uint8_t seq_nr);
};

/* What one rtcp_parse call saw, for counters. */
struct rtcp_stats {
	uint32_t packets;        /* RTCP packets in the compound */
	uint32_t skipped;        /* of which not understood (SDES, APP, REMB, ...) */
	uint32_t nack_seqs;      /* sequence numbers delivered to nack() */
	uint32_t nacks_dropped;  /* sequence numbers over RTCP_MAX_NACK_SEQS */
};

/*
 * Parses the compound RTCP packet p[0..n) (already unprotected) and calls h
 * for each event, in order.  Returns 0, or SL_EPROTO (no callback made) for
 * a packet shorter than its length field, a version other than 2, padding
 * anywhere but in the last packet, or a packet too short for its type.
 * stats may be NULL.
 */
int rtcp_parse(const uint8_t *p, size_t n, const struct rtcp_handler *h, void *ud,
               struct rtcp_stats *stats);

/* Sender report with nblocks (<= RTCP_MAX_REPORT_BLOCKS) report blocks. */
int rtcp_write_sr(uint8_t *out, size_t cap, const struct rtcp_sender_info *si,
                  const struct rtcp_report_block *blocks, size_t nblocks);
/* Receiver report from reporter_ssrc with nblocks report blocks. */
int rtcp_write_rr(uint8_t *out, size_t cap, uint32_t reporter_ssrc,
                  const struct rtcp_report_block *blocks, size_t nblocks);
/*
 * Generic NACK for the n sequence numbers seqs (any order, duplicates
 * allowed; wrap-around handled), packed into as few PID+BLP FCIs as they
 * need.  n must be 1..RTCP_MAX_NACK_SEQS.
 */
int rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n);
/* Picture loss indication: RTCP_PLI_SIZE bytes. */
int rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* NTP 32.32 time from Unix microseconds (for SR), and its middle 32 bits (for LSR). */
uint64_t rtcp_ntp_from_unix_us(uint64_t unix_us);
static inline uint32_t rtcp_ntp_middle(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

#endif
