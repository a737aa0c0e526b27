/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audio_tx.h - AAC to Opus for one stream, for WebRTC viewers.
 *
 * RTMP publishers send AAC; browsers play Opus.  A stream with WebRTC
 * viewers gets one audio_tx (never one per viewer): fed the raw AAC frames
 * as FLV carries them with their millisecond timestamps, it decodes them
 * (libavcodec), resamples to 48 kHz (libswresample) and encodes 20 ms Opus
 * packets (libopus), handing each to a callback with its RTP timestamp on
 * the 48 kHz clock.  Mono sources give mono Opus; everything else stereo.
 *
 * libavcodec and libswresample are optional (meson feature `aac`): without
 * them audio_tx_new() always fails with the reason in err and
 * audio_tx_available() says 0, so WebRTC plays video only.
 *
 * Buffering is bounded: at most AUDIO_TX_MAX_PENDING_MS of resampled PCM
 * waits for a whole 20 ms frame.  A jump in the input timestamps of more
 * than AUDIO_TX_RESYNC_MS from what the samples imply (a publisher gap or
 * a clock reset) discards pending PCM and restarts the RTP clock from the
 * new timestamp, so audio never drifts from video by more than that.
 */
#ifndef SLUICE_MEDIA_AUDIO_TX_H
#define SLUICE_MEDIA_AUDIO_TX_H

#include <stddef.h>
#include <stdint.h>

#define AUDIO_TX_RATE 48000
#define AUDIO_TX_FRAME_SAMPLES 960          /* 20 ms at 48 kHz */
#define AUDIO_TX_MAX_PENDING_MS 200
#define AUDIO_TX_RESYNC_MS 200
#define AUDIO_TX_DEFAULT_BITRATE 64000      /* stereo; mono gets half */
/* The largest Opus packet we ask the encoder for (RFC 6716 allows 1275 per frame). */
#define AUDIO_TX_MAX_PACKET 1276

struct audio_tx;

/*
 * Called once per Opus packet: opus[0..n) (borrowed for the call) with its
 * RTP timestamp on the 48 kHz clock (starting at the first frame's
 * millisecond timestamp * 48, wrapping as RTP timestamps do).
 */
typedef void (*audio_tx_emit_fn)(void *ud, const uint8_t *opus, size_t n, uint32_t rtp_ts);

/* 1 when this build can transcode (libavcodec present), else 0. */
int audio_tx_available(void);

/*
 * A transcoder for the AAC stream whose AudioSpecificConfig is asc[0..n).
 * bitrate 0 means AUDIO_TX_DEFAULT_BITRATE.  Returns NULL with a reason in
 * err[0..errlen) when the config is refused (an object type other than
 * AAC Main/LC/LTP or HE-AAC on an LC core; channel configuration 0 or over
 * 8 channels) or the build has no AAC decoder ("built without libavcodec:
 * no AAC decoding, WebRTC audio is off").
 */
struct audio_tx *audio_tx_new(const uint8_t *asc, size_t n, int bitrate,
                              audio_tx_emit_fn emit, void *ud, char *err, size_t errlen);

/*
 * Feeds one raw AAC frame (no ADTS header) with its FLV timestamp in ms.
 * Emits zero or more Opus packets before returning.  Returns 0, or
 * SL_EPROTO when the decoder refuses the frame (it is skipped; the stream
 * goes on), SL_EIO when the encoder fails.
 */
int audio_tx_feed(struct audio_tx *t, const uint8_t *frame, size_t n, uint32_t ts_ms);

/* Opus channel count (1 or 2). */
int audio_tx_channels(const struct audio_tx *t);

/* Counters for /metrics. */
struct audio_tx_stats {
	uint64_t frames_in;      /* AAC frames fed */
	uint64_t frames_bad;     /* refused by the decoder */
	uint64_t packets_out;    /* Opus packets emitted */
	uint64_t resyncs;        /* timestamp jumps that restarted the clock */
	uint64_t samples_dropped; /* PCM samples discarded (bound or resync) */
};
void audio_tx_get_stats(const struct audio_tx *t, struct audio_tx_stats *out);

void audio_tx_free(struct audio_tx *t);

#endif
