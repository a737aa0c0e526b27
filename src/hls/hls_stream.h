/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hls_stream.h - the per-stream HLS segmenter: fed a stream's media
 * messages (FLV/RTMP bodies), it packages them once into MPEG-TS or fMP4
 * (CMAF) parts and segments held in memory.
 *
 * fMP4: each part is one moof + mdat fragment; the initialization segment
 * (ftyp + moov) is made when a segment opens with a codec configuration
 * unlike the last one, and each segment names its init by id.  The last
 * HLS_INITS_HELD inits are kept.
 *
 * Segments start on a keyframe once the open one has lasted the target
 * duration; with LL-HLS parts (part_ms > 0) each segment is cut into parts
 * of about part_ms at frame boundaries, and a segment's bytes are exactly
 * its parts' bytes in order, so both are served from the same memory.  A
 * sliding window of `window` complete segments (plus two behind it, for
 * clients still fetching, and the open one) bounds memory.
 *
 * A timestamp jump or a new publisher (hls_stream_discontinuity) closes
 * the open segment and marks the next with EXT-X-DISCONTINUITY.
 *
 * Memory is bounded in bytes too (max_bytes: complete segments, the open
 * one, the part being gathered), whatever the publisher sends: a segment
 * whose bytes pass a quarter of max_bytes (a GOP that never ends, huge
 * frames) is cut there, and the frames after it are dropped (counted in
 * frames_dropped) until the next keyframe opens a new segment marked
 * EXT-X-DISCONTINUITY; past max_bytes in all, the oldest segments go (the
 * playlist lists fewer).  Players cope with both: a shorter segment and a
 * gap at a discontinuity, or a shorter window.
 */
#ifndef SLUICE_HLS_HLS_STREAM_H
#define SLUICE_HLS_HLS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/rbuf.h"
#include "hls/fmp4_mux.h"
#include "hls/ts_mux.h"
#include "proto/aac.h"
#include "proto/avc.h"

#define HLS_MAX_PARTS 64          /* parts per segment; the last one grows past that */
#define HLS_WINDOW_MAX 30
#define HLS_SEGMENTS_BEHIND 2     /* kept after leaving the playlist */
#define HLS_TS_OFFSET_MS 1000     /* added to every PTS/DTS so PCR never goes negative */
#define HLS_INITS_HELD 4          /* fMP4 initialization segments kept */
#define HLS_BYTES_DEFAULT (64u << 20)  /* max_bytes when the config says 0 */
#define HLS_SEGMENT_SHARE 4       /* one segment may hold max_bytes / this */

struct hls_config {
	uint32_t segment_ms;          /* target segment duration */
	uint32_t part_ms;             /* LL-HLS part target; 0: no parts */
	unsigned window;              /* complete segments in the playlist, 1..HLS_WINDOW_MAX */
	int fmp4;                     /* 1: fMP4 (CMAF) parts and segments; 0: MPEG-TS */
	uint64_t max_bytes;           /* packaged bytes held; 0: HLS_BYTES_DEFAULT */
};

struct hls_init {
	uint32_t id;                  /* 0: empty slot */
	struct rbuf *data;            /* ftyp + moov */
};

struct hls_part {
	struct rbuf *data;
	uint32_t dur_ms;
	uint8_t independent;          /* starts with a keyframe */
};

struct hls_segment {
	uint64_t msn;
	uint64_t start_ms;            /* on the unwrapped stream timeline */
	uint64_t wall_ms;             /* wall clock when it started (EXT-X-PROGRAM-DATE-TIME) */
	uint32_t dur_ms;              /* set when complete */
	uint32_t init_id;             /* fMP4: its initialization segment (0: none could be made) */
	uint8_t discontinuity;
	uint8_t complete;
	unsigned nparts;              /* complete parts */
	struct hls_part parts[HLS_MAX_PARTS];
	size_t bytes;
};

struct hls_stream {
	struct hls_config cfg;
	struct hls_segment *ring;     /* window + HLS_SEGMENTS_BEHIND + 1 slots */
	unsigned nslots;
	uint64_t first_msn, next_msn; /* segments [first_msn, next_msn) are held */
	int open;                     /* segment next_msn - 1 is being written */
	uint64_t disc_seq;            /* EXT-X-DISCONTINUITY-SEQUENCE */

	struct bytes cur;             /* the open part */
	uint64_t part_start_ms;
	uint8_t part_independent;
	struct ts_mux ts;
	struct fmp4_frag frag;        /* fMP4: the open part's samples */
	uint32_t frag_seq;
	struct hls_init inits[HLS_INITS_HELD];
	uint32_t init_id;             /* the newest init (0: none yet) */
	struct rbuf *asc_body;        /* the AudioSpecificConfig aac was parsed from */

	struct rbuf *avc_body;        /* the video sequence header avc points into */
	struct avc_config avc;
	int have_avc;
	struct aac_config aac;
	int have_aac;
	int has_video;                /* the stream has sent video (video clocks the cuts) */

	int have_ts;
	uint32_t last_raw_ts;
	uint64_t last_ms;             /* unwrapped */
	uint32_t frame_ms;            /* last interval between video frames */
	uint64_t last_video_ms;
	uint64_t max_dur_ms;          /* longest segment held */
	int pending_disc;
	uint64_t changes;             /* bumped when a part or segment completes */
	uint64_t bytes_held;          /* in complete parts */
	uint64_t segments_cut;        /* closed early at max_bytes / HLS_SEGMENT_SHARE */
	uint64_t segments_evicted;    /* dropped early at max_bytes */
	int skip_to_key;              /* after a cut: drop frames until a keyframe */
	/* What could not be packaged, for the node's metrics: frames (broken NAL lengths, AAC
	 * that ADTS cannot say, over a fragment's limits) and sequence headers (unparsable, or
	 * no fMP4 init segment could be built from them, so segments go without EXT-X-MAP). */
	uint64_t frames_dropped;
	uint64_t configs_refused;
	int init_refused;             /* the current configuration made no init (counted once) */
};

void hls_stream_init(struct hls_stream *h, const struct hls_config *cfg, uint64_t first_msn);
void hls_stream_free(struct hls_stream *h);

/*
 * Feeds one message: type 8/9/18 with its FLV tag body and timestamp;
 * wall_ms is the wall clock now.  Returns 1 when a part or segment
 * completed (waiting requests may be answerable), else 0.
 */
int hls_stream_feed(struct hls_stream *h, uint8_t type, uint32_t ts, const uint8_t *body,
                    size_t len, uint64_t wall_ms);

/*
 * The timeline broke (new_source 0) or a new publisher took over (1: its
 * codec configuration is forgotten until its sequence headers are fed):
 * closes what is open and marks the next segment with a discontinuity.
 * Returns 1 when a segment completed.
 */
int hls_stream_discontinuity(struct hls_stream *h, int new_source);

/* The segment with this MSN if held, else NULL. */
const struct hls_segment *hls_stream_segment(const struct hls_stream *h, uint64_t msn);
/* The open segment, or NULL. */
const struct hls_segment *hls_stream_open_segment(const struct hls_stream *h);
/* fMP4 initialization segment id if still held, else NULL. */
const struct rbuf *hls_stream_init_segment(const struct hls_stream *h, uint32_t id);
/* Complete segments held (the newest `window` of them are in the playlist). */
unsigned hls_stream_complete_count(const struct hls_stream *h);
/* Bytes the packager holds now: complete parts, the open part, samples gathered. */
uint64_t hls_stream_bytes(const struct hls_stream *h);

#endif
