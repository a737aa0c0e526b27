/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ts_mux.h - an MPEG-2 transport stream packager for H.264 + AAC (ISO/IEC
 * 13818-1), written for HLS segments: PAT/PMT, PES packets with PTS/DTS,
 * PCR on the video PID, continuity counters, and the conversions from the
 * RTMP/FLV forms (AVCC length-prefixed NAL units, raw AAC frames) to the
 * forms a transport stream carries (Annex B with AUD and parameter sets
 * before each IDR, ADTS).
 *
 * Pure: bytes in, bytes appended to a struct bytes out; no I/O.
 */
#ifndef SLUICE_HLS_TS_MUX_H
#define SLUICE_HLS_TS_MUX_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "proto/aac.h"
#include "proto/avc.h"

#define TS_PACKET_SIZE 188
#define TS_PID_PAT 0x0000
#define TS_PID_PMT 0x1000     /* what FFmpeg uses, so captures compare easily */
#define TS_PID_VIDEO 0x0100
#define TS_PID_AUDIO 0x0101
#define TS_STREAM_H264 0x1b
#define TS_STREAM_AAC_ADTS 0x0f
#define TS_CLOCK_MASK ((1ull << 33) - 1)

struct ts_mux {
	int has_video, has_audio;
	uint8_t cc_pat, cc_pmt, cc_video, cc_audio;   /* continuity counters, 4 bits */
};

void ts_mux_init(struct ts_mux *m, int has_video, int has_audio);

/* Appends a PAT and a PMT packet (at the start of every segment and part). */
void ts_mux_write_psi(struct ts_mux *m, struct bytes *out);

/*
 * Appends one PES packet of elementary stream bytes split into TS packets.
 * pts and dts are 90 kHz (masked to 33 bits here).  The first packet of a
 * video PES carries the PCR (dts minus 100 ms) and, for a keyframe, the
 * random access indicator; an audio-only stream carries the PCR on audio.
 */
void ts_mux_write_pes(struct ts_mux *m, struct bytes *out, int video, const uint8_t *es,
                      size_t n, uint64_t pts, uint64_t dts, int key);

/*
 * Converts one AVCC access unit (NAL units with nal_length_size-byte length
 * prefixes) to Annex B: an access unit delimiter first, the publisher's own
 * AUDs dropped, and on a keyframe the configuration's SPS/PPS ahead of the
 * first NAL unit unless the frame brings its own SPS.  Returns 0, or
 * SL_EPROTO if a length runs past the input (nothing is appended then).
 */
int ts_avcc_to_annexb(const uint8_t *p, size_t n, unsigned nal_length_size,
                      const struct avc_config *cfg, int key, struct bytes *out);

#endif
