/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmp4_mux.h - a fragmented-MP4 (CMAF, ISO/IEC 14496-12) packager for
 * H.264 + AAC, written for LL-HLS: one initialization segment per stream
 * configuration, then one moof + mdat per part.
 *
 * Timescales: video is 90 kHz (FMP4_VIDEO_TIMESCALE, the RTMP/TS clock
 * times 90); audio uses the AAC sample rate, so an AAC frame lasts 1024
 * ticks.  The movie header uses 1000.  Track IDs are fixed: video 1, audio 2,
 * whichever are present.
 *
 * Initialization segment:
 *   ftyp  major iso6, compatible iso6 cmfc mp41
 *   moov  mvhd
 *         trak  tkhd  mdia  mdhd hdlr(vide) minf  vmhd dinf(dref(url ))
 *                                stbl  stsd(avc1(avcC)) stts stsc stsz stco (all empty)
 *         trak  tkhd  mdia  mdhd hdlr(soun) minf  smhd dinf(dref(url ))
 *                                stbl  stsd(mp4a(esds)) stts stsc stsz stco (all empty)
 *         mvex  trex(1) trex(2)
 * The avcC box holds the AVCDecoderConfigurationRecord exactly as RTMP/FLV
 * carries it; the esds holds the AudioSpecificConfig as its
 * DecoderSpecificInfo (objectTypeIndication 0x40).
 *
 * Fragment:
 *   moof  mfhd(sequence_number)
 *         traf(video)  tfhd(default-base-is-moof) tfdt(v1) trun(v1)
 *         traf(audio)  tfhd(default-base-is-moof) tfdt(v1) trun(v0)
 *   mdat  video samples, then audio samples
 * A traf is written only for a track with samples.  Every trun carries a
 * data offset (from the start of the moof) and per-sample duration, size and
 * flags; the video one also signed composition time offsets.
 *
 * H.264 samples stay in the AVCC form RTMP/FLV delivers (length-prefixed NAL
 * units), which is what avc1 stores.  They are neither rejected nor rewritten
 * when the length size is not 4: the avcC is written unchanged, and its
 * lengthSizeMinusOne is what tells a reader the size of each prefix.
 *
 * Pure: bytes in, bytes appended to a struct bytes out; no I/O, no globals.
 */
#ifndef SLUICE_HLS_FMP4_MUX_H
#define SLUICE_HLS_FMP4_MUX_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "proto/aac.h"
#include "proto/avc.h"

#define FMP4_TRACK_VIDEO 1   /* track_ID 1 */
#define FMP4_TRACK_AUDIO 2   /* track_ID 2 */
#define FMP4_VIDEO_TIMESCALE 90000
#define FMP4_MOVIE_TIMESCALE 1000

/* Durations of a track's only sample when nothing says better. */
#define FMP4_DEFAULT_VIDEO_DURATION 3000   /* 1/30 s at 90 kHz */
#define FMP4_DEFAULT_AUDIO_DURATION 1024   /* one AAC frame */

/* Limits of one fragment, both tracks together (fmp4_frag_add: SL_ELIMIT). */
#define FMP4_FRAG_MAX_BYTES (256u << 20)
#define FMP4_FRAG_MAX_SAMPLES 65536u

/* Largest avcC or AudioSpecificConfig accepted by fmp4_write_init. */
#define FMP4_MAX_CONFIG_LEN 65535u

/* Sample flags (ISO/IEC 14496-12 8.8.3.1). */
#define FMP4_FLAGS_SYNC 0x02000000u       /* depends on no other sample */
#define FMP4_FLAGS_NON_SYNC 0x01010000u   /* depends on others, not a sync sample */

struct fmp4_tracks {
	int has_video, has_audio;
	const uint8_t *avcc;          /* AVCDecoderConfigurationRecord as RTMP/FLV carries it; borrowed */
	size_t avcc_len;
	const struct avc_config *avc; /* parsed from avcc: width/height from first_sps; borrowed */
	const uint8_t *asc;           /* AudioSpecificConfig as RTMP/FLV carries it; borrowed */
	size_t asc_len;
	const struct aac_config *aac; /* parsed from asc: sample_rate (the audio timescale), channels */
};

/*
 * Appends the initialization segment (layout above).  Returns 0, or
 * SL_EINVAL (nothing appended) for an unusable input: no track, a video
 * track without an avcC, with one that is not version 1 or longer than
 * FMP4_MAX_CONFIG_LEN, or without a parsed SPS giving the picture size; an
 * audio track without an ASC, with an empty or too long one, or with sample
 * rate 0.  A sample rate over 65535 Hz is written as 0 in the mp4a entry
 * (it has 16 integer bits); the mdhd timescale still carries it.
 */
int fmp4_write_init(const struct fmp4_tracks *t, struct bytes *out);

struct fmp4_sample {
	uint64_t dts;
	uint32_t size;
	int32_t cts;
	uint8_t key;
};

/* One track's part of a fragment: sample bytes back to back, and their facts. */
struct fmp4_track_buf {
	struct bytes data;
	struct fmp4_sample *samples;
	size_t n, cap;
};

/*
 * One fragment being gathered: the samples of one LL-HLS part, both tracks.
 * Owns copies of the sample bytes; bounded by FMP4_FRAG_MAX_BYTES and
 * FMP4_FRAG_MAX_SAMPLES.
 */
struct fmp4_frag {
	struct fmp4_track_buf video, audio;
	/*
	 * Size of the NAL unit length prefixes video samples are checked
	 * against (1, 2 or 4): 4 after fmp4_frag_init; set it to the avcC's
	 * nal_length_size when that differs.
	 */
	uint8_t nal_length_size;
};

void fmp4_frag_init(struct fmp4_frag *f);
void fmp4_frag_free(struct fmp4_frag *f);
/* Empties it, keeping allocations (and nal_length_size). */
void fmp4_frag_reset(struct fmp4_frag *f);

/*
 * Adds one sample (copied).  Video (FMP4_TRACK_VIDEO): data is one AVCC
 * access unit exactly as FLV carries it (length-prefixed NAL units, kept
 * so), dts in 90 kHz, cts the composition offset in 90 kHz (may be
 * negative), key set for an IDR.  Audio (FMP4_TRACK_AUDIO): one raw AAC
 * frame (no ADTS), dts in the audio timescale, cts 0; key is ignored (every
 * AAC frame is a sync sample).
 *
 * Returns 0; SL_EINVAL (nothing added) for an unknown track, an empty
 * sample, audio with a cts, a dts before the track's previous one or more
 * than 2^32 - 1 ticks after it; SL_EPROTO for a video access unit whose NAL
 * unit lengths are zero or run past its end; SL_ELIMIT when the fragment
 * would exceed FMP4_FRAG_MAX_BYTES or FMP4_FRAG_MAX_SAMPLES.
 */
int fmp4_frag_add(struct fmp4_frag *f, int track, const uint8_t *data, size_t len,
                  uint64_t dts, int32_t cts, int key);

/* Number of samples gathered (both tracks). */
size_t fmp4_frag_samples(const struct fmp4_frag *f);

/*
 * Appends moof + mdat for what was gathered (layout above), with
 * mfhd.sequence_number = seq and each tfdt the track's first dts, then
 * resets the fragment.  Does nothing and returns 0 when there are no
 * samples.
 *
 * A sample lasts until the next one's dts.  The last one of a track lasts
 * until video_end_dts / audio_end_dts (in that track's timescale: the dts of
 * whatever comes next, when the caller knows it); when that is not after
 * the sample, or 2^32 or more ticks after it, it lasts as long as the one
 * before it, or FMP4_DEFAULT_VIDEO_DURATION / FMP4_DEFAULT_AUDIO_DURATION
 * when it is alone.  Returns 0.
 */
int fmp4_frag_write(struct fmp4_frag *f, uint32_t seq, uint64_t video_end_dts,
                    uint64_t audio_end_dts, struct bytes *out);

#endif
