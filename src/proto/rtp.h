/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp.h - the RTP fixed header (RFC 3550 5.1): parse and build.
 *
 * Pure: bytes in, a header or an error out; builders write into a caller's
 * buffer and never allocate.  Parsed pointers (CSRC list aside, which is
 * copied) point into the input and live as long as it does.
 */
#ifndef SLUICE_PROTO_RTP_H
#define SLUICE_PROTO_RTP_H

#include <stddef.h>
#include <stdint.h>

#define RTP_VERSION 2
#define RTP_HEADER_SIZE 12       /* fixed header, no CSRCs, no extension */
#define RTP_MAX_CSRC 15

struct rtp_header {
	uint8_t version;         /* always 2 after a successful parse */
	uint8_t padding;         /* P bit */
	uint8_t extension;       /* X bit */
	uint8_t csrc_count;
	uint8_t marker;
	uint8_t payload_type;    /* 0..127 */
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	uint32_t csrc[RTP_MAX_CSRC];
	/* Header extension (when extension): its 16-bit profile ("defined by
	 * profile", 0xBEDE for RFC 8285 one-byte) and its data, a multiple of 4
	 * bytes, after the 4-byte extension header. */
	uint16_t ext_profile;
	const uint8_t *ext;
	size_t ext_len;
	size_t header_len;       /* bytes before the payload */
	const uint8_t *payload;  /* into the input */
	size_t payload_len;      /* padding removed */
	uint8_t pad_len;         /* padding bytes removed (0 when !padding) */
};

/*
 * Parses one RTP packet p[0..n).  Returns 0, or SL_EPROTO when it is
 * shorter than its header says, not version 2, or its padding count is 0
 * or runs into the header.  Does not tell RTP from RTCP: see rtp_is_rtcp().
 */
int rtp_parse(const uint8_t *p, size_t n, struct rtp_header *out);

/*
 * Writes h's header (fixed part, h->csrc_count CSRCs, and the extension
 * when h->extension, whose ext_len must be a multiple of 4) into out[0..cap).
 * The padding bit is written as given; the caller appends payload and
 * padding.  Returns the header length, or SL_EINVAL (cap too small, a field
 * out of range).
 */
int rtp_write_header(uint8_t *out, size_t cap, const struct rtp_header *h);

/*
 * The common case: a 12-byte header with no CSRC or extension.  out must
 * hold RTP_HEADER_SIZE bytes.
 */
void rtp_write_simple(uint8_t out[RTP_HEADER_SIZE], uint8_t pt, int marker,
                      uint16_t seq, uint32_t timestamp, uint32_t ssrc);

/*
 * RTP and RTCP multiplexed on one port (RFC 5761 4): a packet whose second
 * byte is 192..223 is RTCP (RTP payload types 64..95 are not used then).
 */
static inline int rtp_is_rtcp(const uint8_t *p, size_t n)
{
	return n >= 2 && p[1] >= 192 && p[1] <= 223;
}

/* a - b in sequence-number space, wrap-around safe: > 0 when a is newer. */
static inline int rtp_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

/* A step of RTP time past this many seconds of the clock is a discontinuity (a sender's
 * restart, a forged packet), not stream time: it would move a stream hours at once. */
#define RTP_TIME_MAX_STEP_S 10

/*
 * Extends RTP time ts (of a clock-Hz clock) into *ext, the time since the first packet, from
 * *prev, the last packet's.  A step of more than RTP_TIME_MAX_STEP_S is not added: time goes
 * on from ts (a rebase).  Returns 1 on such a rebase, else 0.
 */
int rtp_time_extend(int64_t *ext, uint32_t *prev, uint32_t ts, uint32_t clock);

/* Whether seq lies in first..last (wrap-around safe): a retransmission is answered only for
 * what was sent under the current numbering, never for a sequence not sent yet. */
static inline int rtp_seq_in_range(uint16_t seq, uint16_t first, uint16_t last)
{
	return (uint16_t)(seq - first) <= (uint16_t)(last - first);
}

#endif
