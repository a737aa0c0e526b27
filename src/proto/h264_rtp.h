/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h264_rtp.h - H.264 over RTP, RFC 6184 packetization mode 1 (non-interleaved).
 *
 * Packetizer: one access unit as FLV/RTMP carries it (AVCC: NAL units each
 * behind a big-endian length of the avcC's nal_length_size) becomes RTP
 * payloads no longer than a given size:
 *   - a NAL that fits goes as a single NAL unit packet;
 *   - a larger one is cut into FU-A fragments (RFC 6184 5.8);
 *   - before the first NAL of an access unit that holds an IDR slice, the
 *     SPS and PPS of the stream's avcC go in one STAP-A (5.7.1), or each as
 *     its own packet when together they do not fit, so a viewer joining on
 *     any keyframe can decode it;
 *   - access unit delimiters (type 9) are dropped: RTP's marker bit carries
 *     the same fact; the marker is set on the last payload of the unit;
 *   - so are NALs no receiver could take: the forbidden bit set, or a type
 *     H.264 leaves unspecified (0, 24..31), which RTP reuses for STAP/FU.
 * It is an iterator writing into caller buffers and never allocates: the
 * sender packetizes once per stream, writing each payload right behind the
 * RTP header of a new shared packet (struct rbuf), and every viewer sends
 * those same packets.
 *
 * Depacketizer: RTP payloads of one SSRC in sequence order (single NAL,
 * STAP-A, FU-A) become AVCC access units with 4-byte lengths, ready for
 * FLV.  The access unit is built in a buffer the caller provides, which
 * bounds it; a lost FU-A fragment drops that NAL, never the stream.
 */
#ifndef SLUICE_PROTO_H264_RTP_H
#define SLUICE_PROTO_H264_RTP_H

#include <stddef.h>
#include <stdint.h>

struct avc_config;

/* Smallest payload size the packetizer accepts (an FU-A needs 2 + 1). */
#define H264_RTP_MIN_PAYLOAD 16
/* A typical payload size: a 1200-byte UDP datagram less RTP and SRTP overhead. */
#define H264_RTP_DEFAULT_PAYLOAD 1160

enum {
	H264_NAL_SLICE = 1,
	H264_NAL_IDR = 5,
	H264_NAL_SEI = 6,
	H264_NAL_SPS = 7,
	H264_NAL_PPS = 8,
	H264_NAL_AUD = 9,
	H264_NAL_STAP_A = 24,
	H264_NAL_FU_A = 28,
};

/* Packetizer state: caller-owned, fill with h264_pack_init(). Do not poke. */
struct h264_packer {
	const uint8_t *au;
	size_t au_len;
	size_t pos;              /* next NAL's length prefix in au */
	size_t max_payload;
	uint8_t len_size;
	const struct avc_config *params;
	int params_state;        /* 0: none due, 1: STAP-A due, 2: sent, 3: one per packet */
	size_t param_idx;        /* when params go one per packet */
	const uint8_t *nal;      /* NAL being fragmented, or NULL */
	size_t nal_len;
	size_t nal_off;          /* bytes of nal already sent (after its header) */
	int error;
};

/*
 * Prepares to packetize the access unit au[0..n) whose NAL lengths take
 * nal_length_size (1, 2 or 4) bytes.  params (borrowed until the last
 * h264_pack_next call; NULL for none) supplies the SPS/PPS sent before IDR
 * access units.  max_payload (>= H264_RTP_MIN_PAYLOAD) bounds every payload.
 */
void h264_pack_init(struct h264_packer *pk, const uint8_t *au, size_t n,
                    uint8_t nal_length_size, const struct avc_config *params,
                    size_t max_payload);

/*
 * Writes the next RTP payload into out[0..cap) (cap >= max_payload) and
 * sets *marker (1 on the last payload of the access unit).  Returns its
 * length, 0 when the unit is done, or SL_EPROTO when the AVCC framing is
 * broken (a length past the end, a zero-length NAL: h264_pack_init checks
 * the whole unit, so then no payload at all is produced) or SL_EINVAL for
 * bad arguments.
 */
int h264_pack_next(struct h264_packer *pk, uint8_t *out, size_t cap, int *marker);

/* 1 when the AVCC access unit au holds an IDR slice (so its packets start with SPS/PPS). */
int h264_au_is_idr(const uint8_t *au, size_t n, uint8_t nal_length_size);

/* Depacketizer state: caller-owned; the AU is built in buf. */
struct h264_depack {
	uint8_t *buf;
	size_t cap;
	size_t len;              /* bytes of the access unit so far */
	uint32_t ts;             /* RTP timestamp of the unit being built */
	int have_ts;
	int keyframe;            /* the unit holds an IDR slice */
	size_t fu_start;         /* where the NAL being reassembled starts in buf */
	int in_fu;
	uint16_t next_seq;       /* expected sequence number */
	int have_seq;
	int broken;              /* a fragment or packet of this unit was lost/refused */
	int complete;            /* buf holds a finished unit, cleared by the next push */
	/* Counters for the caller's /metrics. */
	uint64_t units;          /* access units completed */
	uint64_t dropped_units;  /* access units discarded (loss, over cap) */
	uint64_t bad_payloads;   /* payloads refused as malformed */
};

/* Uses buf[0..cap) to build access units: cap bounds an access unit. */
void h264_depack_init(struct h264_depack *d, uint8_t *buf, size_t cap);

/*
 * Feeds one RTP payload with its header's sequence number, timestamp and
 * marker.  Returns 1 when an access unit is complete: buf[0..len) holds it
 * (AVCC, 4-byte lengths), keyframe tells if it holds an IDR, and it stays
 * there until the next call.  Returns 0 when more is needed, SL_EPROTO for
 * a malformed payload, SL_ELIMIT when the unit outgrows cap (the unit is
 * dropped either way; the next unit starts clean).  A unit whose
 * packets were lost (sequence gap) is dropped whole and counted: a decoder
 * is better served by a clean gap followed by a PLI than by a torn picture.
 */
int h264_depack_push(struct h264_depack *d, const uint8_t *payload, size_t n,
                     uint16_t seq, uint32_t ts, int marker);

#endif
