/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aac_rtp.h - AAC over RTP as RFC 3640 carries it (mpeg4-generic), the way
 * RTSP cameras, ffmpeg and GStreamer send it: mode AAC-hbr, sizelength 13,
 * indexlength 3, indexdeltalength 3 by default (other lengths as the SDP's
 * fmtp says).
 *
 * A payload is a 16-bit AU-headers-length (in bits), the AU headers (an AU
 * size and an index each), padding to a byte, then the access units one
 * after another.  An access unit larger than a packet is cut into
 * fragments, each with the one AU header that gives the whole unit's size;
 * the marker bit is set on the last (RFC 3640 3.2.3).
 *
 * Pure: the packetizer writes into a caller buffer; the depacketizer hands
 * each raw AAC frame (as FLV carries it after its two-byte header) to a
 * callback and reassembles fragments in a caller buffer that bounds them.
 */
#ifndef SLUICE_PROTO_AAC_RTP_H
#define SLUICE_PROTO_AAC_RTP_H

#include <stddef.h>
#include <stdint.h>

#define AAC_RTP_MAX_AU_HEADERS 64     /* AU headers in one payload we accept */

/* The fmtp parameters that shape a payload. */
struct aac_rtp_params {
	uint8_t size_length;          /* bits of an AU size: 13 for AAC-hbr */
	uint8_t index_length;         /* bits of the first AU's index: 3 */
	uint8_t index_delta_length;   /* bits of each later AU's index delta: 3 */
};

/* AAC-hbr's: 13, 3, 3. */
void aac_rtp_params_hbr(struct aac_rtp_params *p);

/*
 * Writes payload number frag of the frame au[0..n) into out[0..cap)
 * (AAC-hbr: one AU per payload): returns its length and sets *last when it
 * is the frame's last fragment (the marker), 0 when frag is past the end,
 * SL_EINVAL when cap cannot hold a header and one byte or n is over 8191.
 */
int aac_rtp_pack(const uint8_t *au, size_t n, unsigned frag, uint8_t *out, size_t cap, int *last);

typedef void (*aac_rtp_frame_cb)(void *arg, const uint8_t *frame, size_t n, uint32_t rtp_ts);

struct aac_rtp_depack {
	struct aac_rtp_params params;
	uint8_t *buf;                 /* fragments of one AU being joined (caller's) */
	size_t cap;
	size_t len, want;             /* bytes so far, whole AU size (0: none in progress) */
	uint32_t ts;
	uint16_t next_seq;
	int have_seq;
	uint32_t frame_samples;       /* 1024 (AAC-LC); later AUs of a payload are this far apart */
	uint64_t frames, dropped, bad_payloads;
};

void aac_rtp_depack_init(struct aac_rtp_depack *d, const struct aac_rtp_params *p, uint8_t *buf,
                         size_t cap);

/*
 * Feeds one payload with its sequence number, timestamp and marker; cb gets
 * each complete frame.  Returns 0, or SL_EPROTO for a malformed payload,
 * SL_ELIMIT for a fragmented AU over cap (dropped; the next starts clean).
 */
int aac_rtp_depack_push(struct aac_rtp_depack *d, const uint8_t *p, size_t n, uint16_t seq,
                        uint32_t ts, int marker, aac_rtp_frame_cb cb, void *arg);

#endif
