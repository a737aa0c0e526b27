/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audio_rx.h - Opus (from a WHIP publisher) to AAC, once per stream, so
 * that RTMP, HTTP-FLV and HLS viewers hear a browser's microphone.
 *
 * Opus packets are decoded with libopus to 48 kHz stereo, and encoded
 * with libavcodec's AAC-LC encoder (1024-sample frames, 48 kHz, stereo).
 * The output is what an RTMP publisher would send: one AudioSpecificConfig
 * first (the AAC sequence header), then raw AAC frames, each with a
 * millisecond timestamp.  Timestamps follow the samples: anchored at the
 * first packet's time and re-anchored when the input jumps by more than
 * AUDIO_RX_RESYNC_MS (a gap in the publisher's audio).
 *
 * The AAC encoder is libavcodec's, behind the `aac` build feature (as
 * audio_tx.c's decoder): without it audio_rx_new() fails with a reason and
 * the stream is video-only for those protocols.
 */
#ifndef SLUICE_MEDIA_AUDIO_RX_H
#define SLUICE_MEDIA_AUDIO_RX_H

#include <stddef.h>
#include <stdint.h>

#define AUDIO_RX_RATE 48000
#define AUDIO_RX_AAC_FRAME 1024            /* samples per AAC-LC frame */
#define AUDIO_RX_BITRATE 128000            /* stereo AAC */
#define AUDIO_RX_RESYNC_MS 200
#define AUDIO_RX_MAX_OPUS 1500             /* a larger packet is refused */

struct audio_rx;

/* config: 1 for the AudioSpecificConfig, 0 for a raw AAC frame. */
typedef void (*audio_rx_emit_fn)(void *ud, int config, const uint8_t *p, size_t n, uint32_t ms);

struct audio_rx_stats {
	uint64_t packets_in, frames_out, bad_packets, resyncs;
};

/* 1 when this build can encode AAC (libavcodec present). */
int audio_rx_available(void);

/* A transcoder; NULL with a reason in err. */
struct audio_rx *audio_rx_new(audio_rx_emit_fn emit, void *ud, char *err, size_t errlen);
void audio_rx_free(struct audio_rx *a);

/* One Opus packet whose first sample is at ms.  0, or SL_EPROTO for one libopus refuses. */
int audio_rx_push(struct audio_rx *a, const uint8_t *opus, size_t n, uint32_t ms);

const struct audio_rx_stats *audio_rx_stats(const struct audio_rx *a);

#endif
