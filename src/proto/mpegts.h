/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpegts.h - an MPEG-2 transport stream demuxer (ISO/IEC 13818-1) for
 * ingest (SRT): PAT and PMT, PES reassembly bounded in bytes, and the
 * conversions from what a transport stream carries to what RTMP carries:
 * H.264 Annex B access units to AVCC (4-byte lengths) with the SPS/PPS
 * gathered into an AVCDecoderConfigurationRecord, AAC ADTS frames to raw
 * frames with an AudioSpecificConfig, and 33-bit 90 kHz PTS/DTS to a
 * millisecond timeline that survives the 26.5-hour wrap.
 *
 * Pure: bytes in, frames out through a callback; no I/O, no clock.  The
 * callback's data pointers are borrowed for the duration of the call.
 *
 * Only the first program of the PAT is followed, and only its first H.264
 * and first AAC (ADTS) elementary streams.  PSI sections must fit in one
 * TS packet (every muxer we know writes them so).  HEVC is recognised and
 * refused (SL_EUNSUPP): the TS and fMP4 packagers only carry H.264.
 */
#ifndef SLUICE_PROTO_MPEGTS_H
#define SLUICE_PROTO_MPEGTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#define MPEGTS_PACKET_SIZE 188
#define MPEGTS_PES_MAX_DEFAULT (4u << 20)   /* one access unit, bytes */
#define MPEGTS_PARAM_SET_MAX 512            /* one SPS or PPS, bytes */

enum mpegts_frame_kind {
	MPEGTS_AVC_CONFIG,    /* data: AVCDecoderConfigurationRecord */
	MPEGTS_AVC_FRAME,     /* data: AVCC NAL units, 4-byte lengths */
	MPEGTS_AAC_CONFIG,    /* data: AudioSpecificConfig */
	MPEGTS_AAC_FRAME,     /* data: one raw AAC frame */
};

struct mpegts_frame {
	enum mpegts_frame_kind kind;
	const uint8_t *data;  /* borrowed until the callback returns */
	size_t len;
	uint32_t dts_ms;      /* on the stream's timeline: 0 at the first timestamp seen */
	int32_t cts_ms;       /* pts - dts, video only */
	int key;              /* video: an IDR access unit */
};

typedef void (*mpegts_frame_cb)(void *arg, const struct mpegts_frame *f);

struct mpegts_pes {
	uint16_t pid;         /* 0: none */
	uint8_t cc;           /* last continuity counter */
	int cc_valid;
	int started;          /* a PES is being gathered */
	int corrupt;          /* lost a packet of it: dropped at its end */
	uint32_t expect;      /* PES_packet_length + 6, 0: unbounded (ends at the next start) */
	struct bytes buf;     /* the PES packet, header included */
};

struct mpegts_stats {
	uint64_t packets;
	uint64_t sync_losses;     /* bytes skipped looking for 0x47 */
	uint64_t cc_errors;       /* packets lost in transit (continuity counter jumps) */
	uint64_t pes_dropped;     /* incomplete, corrupt or over max_pes */
	uint64_t frames;          /* frames delivered */
};

struct mpegts_demux {
	size_t max_pes;
	mpegts_frame_cb cb;
	void *arg;

	uint8_t carry[MPEGTS_PACKET_SIZE];   /* a packet split across feeds */
	size_t ncarry;

	uint16_t pmt_pid;                    /* 0: no PAT yet */
	uint8_t video_type, audio_type;      /* stream_type of the chosen PIDs */
	int hevc;                            /* the program's only video is HEVC */
	struct mpegts_pes video, audio;

	/* H.264 parameter sets as last seen, and whether the config went out. */
	uint8_t sps[MPEGTS_PARAM_SET_MAX], pps[MPEGTS_PARAM_SET_MAX];
	size_t sps_len, pps_len;
	int avc_config_sent;
	uint8_t asc[2];
	int aac_config_sent;

	/* Timeline: the last 33-bit clock seen, unwrapped, and the origin. */
	uint64_t last_raw;
	int64_t ext;
	int64_t origin;
	int have_clock;

	struct bytes scratch;                /* AVCC output */
	struct mpegts_stats stats;
};

/* max_pes 0: MPEGTS_PES_MAX_DEFAULT. */
void mpegts_demux_init(struct mpegts_demux *d, size_t max_pes, mpegts_frame_cb cb, void *arg);
void mpegts_demux_free(struct mpegts_demux *d);

/*
 * Feeds transport stream bytes (any split).  Frames are delivered as their
 * PES packets complete.  Returns 0, or SL_EUNSUPP once the program's video
 * is HEVC (or another codec we cannot carry) and it has no H.264: the
 * caller should refuse the stream.  Damage (lost packets, garbage, over-long
 * PES packets) is counted in stats and skipped, never fatal.
 */
int mpegts_demux_feed(struct mpegts_demux *d, const uint8_t *p, size_t n);

/* Delivers the PES packets still being gathered (end of input). */
void mpegts_demux_flush(struct mpegts_demux *d);

/* The MPEG-2 CRC-32 of PSI sections. */
uint32_t mpegts_crc32(const uint8_t *p, size_t n);

#endif
