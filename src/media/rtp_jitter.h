/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp_jitter.h - a receive-side reorder buffer for one RTP stream.
 *
 * Packets arrive out of order or not at all; a depacketizer wants them in
 * sequence.  The buffer holds packets (copies of their payloads) in slots
 * by sequence number and hands them out in order.  When the next packet is
 * missing it waits, but only so long: past max_delay_ms since the packet
 * after the gap arrived, or when max_packets are held, the gap is given up
 * (counted as lost) and delivery goes on after it.  While it waits, the
 * caller asks which sequence numbers are missing, to NACK them; each is
 * named at most RTP_JITTER_MAX_NACKS times, RTP_JITTER_NACK_RETRY_MS apart.
 *
 * Pure: no I/O, the caller supplies the clock.  Memory is bounded by
 * max_packets slots, each with at most RTP_JITTER_MAX_PAYLOAD bytes.
 * Used by the WHIP ingest (src/webrtc/rtc_ingest.c); an RTSP-over-UDP
 * receiver can use it as it is.
 */
#ifndef SLUICE_MEDIA_RTP_JITTER_H
#define SLUICE_MEDIA_RTP_JITTER_H

#include <stddef.h>
#include <stdint.h>

#define RTP_JITTER_DEFAULT_PACKETS 512   /* rounded up to a power of two, at most 4096 */
#define RTP_JITTER_MAX_PACKETS 4096
#define RTP_JITTER_DEFAULT_DELAY_MS 150  /* longest wait for a missing packet */
#define RTP_JITTER_MAX_PAYLOAD 1500      /* larger payloads are refused */
#define RTP_JITTER_MAX_NACKS 3           /* times one sequence number is asked for */
#define RTP_JITTER_NACK_RETRY_MS 40      /* between two asks for the same number */
/* A packet this far before the delivery point, or ahead of it, restarts the buffer. */
#define RTP_JITTER_RESET_DISTANCE 3000

struct rtp_jitter_pkt {
	uint16_t seq;
	uint32_t ts;
	uint8_t marker;
	uint8_t *payload;        /* owned by the buffer until handed out */
	size_t len;
};

struct rtp_jitter_slot {
	int used;
	uint16_t seq;
	uint32_t ts;
	uint8_t marker;
	uint64_t arrived_ms;
	uint8_t *payload;
	size_t len;
	/* For a missing number (not used): when it was last NACKed and how often. */
	uint64_t nack_ms;
	uint8_t nacks;
};

struct rtp_jitter {
	struct rtp_jitter_slot *slot;
	size_t cap;              /* power of two */
	uint64_t max_delay_ms;
	int started;
	uint16_t next;           /* the next sequence number to hand out */
	uint16_t highest;        /* highest received */
	size_t held;
	/* Counters for /metrics. */
	uint64_t received, delivered, lost, duplicates, late, reordered, resets, refused;
};

/* max_packets 0: the default; max_delay_ms 0: the default. */
void rtp_jitter_init(struct rtp_jitter *j, size_t max_packets, uint64_t max_delay_ms);
void rtp_jitter_free(struct rtp_jitter *j);

/*
 * Takes a copy of one packet's payload.  Returns 0, 1 when it was a
 * duplicate or too late (already handed out or given up; dropped), or
 * SL_ELIMIT when the payload is too large.
 */
int rtp_jitter_push(struct rtp_jitter *j, uint16_t seq, uint32_t ts, int marker,
                    const uint8_t *payload, size_t len, uint64_t now_ms);

/*
 * The next packet in order, if one may be handed out now: returns 1 and
 * fills *out (out->payload is the caller's to free()), 0 when none.  A gap
 * older than max_delay_ms (or a full buffer) is skipped first: *lost is
 * incremented by the numbers given up, so the caller can ask for a keyframe.
 */
int rtp_jitter_pop(struct rtp_jitter *j, uint64_t now_ms, struct rtp_jitter_pkt *out,
                   unsigned *lost);

/*
 * Missing sequence numbers, between the delivery point and the highest
 * received, due to be NACKed now (each at most RTP_JITTER_MAX_NACKS times,
 * RTP_JITTER_NACK_RETRY_MS apart); marks them asked.  Returns how many were
 * written to seqs (at most max).
 */
size_t rtp_jitter_missing(struct rtp_jitter *j, uint64_t now_ms, uint16_t *seqs, size_t max);

/* The extended highest sequence number and how many packets were lost, for a receiver report. */
static inline uint16_t rtp_jitter_highest(const struct rtp_jitter *j)
{
	return j->highest;
}

#endif
