/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ts_flv.h - FLV-bodied media messages (H.264 and AAC, as RTMP carries them)
 * into MPEG-TS with ts_mux: what an SRT viewer gets from the node
 * (node/srt_conn.c) and what the load client publishes over SRT
 * (bench/lc_srt.c).  Pure: bytes in, TS packets appended to a buffer.
 */
#ifndef SLUICE_HLS_TS_FLV_H
#define SLUICE_HLS_TS_FLV_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "hls/ts_mux.h"
#include "proto/aac.h"
#include "proto/avc.h"

#define TS_FLV_OFFSET_MS 1000   /* added to every PTS/DTS so PTS (DTS + CTS) and the PCR
                                 * (DTS - 100 ms) never go negative */

struct ts_flv {
	struct ts_mux ts;
	struct bytes avc_rec;       /* copy of the avcC the config points into */
	struct avc_config avc;
	int has_avc;
	struct aac_config aac;
	int has_aac;
	int psi_sent;               /* a PAT/PMT went out: audio may follow */
};

void ts_flv_init(struct ts_flv *m);
void ts_flv_free(struct ts_flv *m);

/*
 * Muxes one message (FLV tag type and body, timestamp in ms) and appends its
 * TS packets to out.  Sequence headers are kept, not written; frames before
 * the first H.264 configuration are dropped (a player could not decode them);
 * PAT and PMT go before every keyframe so a player can join anywhere.  Other
 * codecs and tag types are ignored.
 */
void ts_flv_tag(struct ts_flv *m, struct bytes *out, uint8_t type, uint32_t ts,
                const uint8_t *body, size_t len);

#endif
