/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audio_rx.c - Opus -> PCM (libopus) -> AAC-LC (libavcodec), see audio_rx.h.
 *
 * Decoded PCM waits, planar, in one frame-sized buffer until 1024 samples
 * are there; each full frame goes to the encoder at once, so what a stream
 * holds is constant.  Built without libavcodec only the stub at the bottom
 * is compiled.
 */
#include "media/audio_rx.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#ifdef SLUICE_HAVE_AVCODEC

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <opus/opus.h>

#include "core/mem.h"

#define MAX_OPUS_SAMPLES 5760    /* 120 ms at 48 kHz: the longest Opus packet */

struct audio_rx {
	OpusDecoder *dec;
	AVCodecContext *enc;
	AVFrame *frame;
	AVPacket *pkt;
	audio_rx_emit_fn emit;
	void *ud;
	float pcm[MAX_OPUS_SAMPLES * 2];
	size_t nframe;           /* samples per channel in frame so far */
	uint64_t samples_in;     /* decoded so far */
	uint64_t frames_sent;    /* to the encoder */
	uint64_t anchor_sample;  /* samples_in at the anchor */
	uint32_t anchor_ms;
	uint32_t last_ms;
	int started, config_sent;
	struct audio_rx_stats stats;
};

int audio_rx_available(void)
{
	return 1;
}

void audio_rx_free(struct audio_rx *a)
{
	if (!a)
		return;
	if (a->dec)
		opus_decoder_destroy(a->dec);
	avcodec_free_context(&a->enc);
	av_frame_free(&a->frame);
	av_packet_free(&a->pkt);
	free(a);
}

struct audio_rx *audio_rx_new(audio_rx_emit_fn emit, void *ud, char *err, size_t errlen)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
	if (!codec) {
		snprintf(err, errlen, "this libavcodec has no AAC encoder");
		return NULL;
	}
	/* libavcodec writes its own lines to stderr (the AAC encoder's statistics at close):
	 * only its errors belong next to our structured log. */
	av_log_set_level(AV_LOG_ERROR);
	struct audio_rx *a = xcalloc(1, sizeof(*a));
	a->emit = emit;
	a->ud = ud;
	int oe = 0;
	a->dec = opus_decoder_create(AUDIO_RX_RATE, 2, &oe);
	a->enc = avcodec_alloc_context3(codec);
	a->frame = av_frame_alloc();
	a->pkt = av_packet_alloc();
	if (!a->dec || oe != OPUS_OK || !a->enc || !a->frame || !a->pkt) {
		snprintf(err, errlen, "out of memory for the Opus decoder or AAC encoder");
		audio_rx_free(a);
		return NULL;
	}
	a->enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	a->enc->sample_rate = AUDIO_RX_RATE;
	a->enc->bit_rate = AUDIO_RX_BITRATE;
	a->enc->time_base = (AVRational){ 1, AUDIO_RX_RATE };
	a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* the AudioSpecificConfig in extradata */
	av_channel_layout_default(&a->enc->ch_layout, 2);
	int rc = avcodec_open2(a->enc, codec, NULL);
	if (rc < 0 || a->enc->frame_size != AUDIO_RX_AAC_FRAME || a->enc->extradata_size < 2) {
		snprintf(err, errlen, "the AAC encoder did not open (%d)", rc);
		audio_rx_free(a);
		return NULL;
	}
	a->frame->format = AV_SAMPLE_FMT_FLTP;
	a->frame->sample_rate = AUDIO_RX_RATE;
	a->frame->nb_samples = AUDIO_RX_AAC_FRAME;
	av_channel_layout_copy(&a->frame->ch_layout, &a->enc->ch_layout);
	if (av_frame_get_buffer(a->frame, 0) < 0) {
		snprintf(err, errlen, "out of memory for the AAC frame");
		audio_rx_free(a);
		return NULL;
	}
	return a;
}

/* The time of sample number i (counted from the start of the input). */
static uint32_t sample_ms(const struct audio_rx *a, uint64_t i)
{
	int64_t d = (int64_t)i - (int64_t)a->anchor_sample;
	return (uint32_t)((int64_t)a->anchor_ms + d * 1000 / AUDIO_RX_RATE);
}

static void drain(struct audio_rx *a)
{
	while (avcodec_receive_packet(a->enc, a->pkt) == 0) {
		/* Frame k is stamped as input sample k * 1024: the encoder's priming frame (its
		 * pts is negative) takes the first slot, so every frame's time sits ~21 ms later
		 * than the samples it holds, a constant lip sync does not notice, and times stay
		 * strictly rising. */
		uint64_t first = a->stats.frames_out * AUDIO_RX_AAC_FRAME;
		uint32_t ms = sample_ms(a, first);
		if ((int32_t)(ms - a->last_ms) < 0)
			ms = a->last_ms;  /* a re-anchor never sends time backwards */
		a->last_ms = ms;
		a->emit(a->ud, 0, a->pkt->data, (size_t)a->pkt->size, ms);
		a->stats.frames_out++;
		av_packet_unref(a->pkt);
	}
}

int audio_rx_push(struct audio_rx *a, const uint8_t *opus, size_t n, uint32_t ms)
{
	a->stats.packets_in++;
	if (n == 0 || n > AUDIO_RX_MAX_OPUS) {
		a->stats.bad_packets++;
		return SL_EPROTO;
	}
	int got = opus_decode_float(a->dec, opus, (opus_int32)n, a->pcm, MAX_OPUS_SAMPLES, 0);
	if (got <= 0) {
		a->stats.bad_packets++;
		return SL_EPROTO;
	}
	if (!a->started) {
		a->started = 1;
		a->anchor_ms = a->last_ms = ms;
		a->anchor_sample = 0;
	} else {
		int32_t off = (int32_t)(ms - sample_ms(a, a->samples_in));
		if (off > AUDIO_RX_RESYNC_MS || off < -AUDIO_RX_RESYNC_MS) {
			a->anchor_ms = ms;
			a->anchor_sample = a->samples_in;
			a->stats.resyncs++;
		}
	}
	if (!a->config_sent) {
		a->config_sent = 1;
		a->emit(a->ud, 1, a->enc->extradata, (size_t)a->enc->extradata_size, ms);
	}
	for (int i = 0; i < got; i++) {
		if (a->nframe == 0 && av_frame_make_writable(a->frame) < 0)
			return SL_EIO;
		float *l = (float *)a->frame->data[0], *r = (float *)a->frame->data[1];
		l[a->nframe] = a->pcm[2 * i];
		r[a->nframe] = a->pcm[2 * i + 1];
		if (++a->nframe == AUDIO_RX_AAC_FRAME) {
			a->frame->pts = (int64_t)(a->frames_sent * AUDIO_RX_AAC_FRAME);
			a->frames_sent++;
			a->nframe = 0;
			if (avcodec_send_frame(a->enc, a->frame) == 0)
				drain(a);
		}
	}
	a->samples_in += (uint64_t)got;
	return 0;
}

const struct audio_rx_stats *audio_rx_stats(const struct audio_rx *a)
{
	return &a->stats;
}

#else /* !SLUICE_HAVE_AVCODEC */

int audio_rx_available(void)
{
	return 0;
}

struct audio_rx *audio_rx_new(audio_rx_emit_fn emit, void *ud, char *err, size_t errlen)
{
	(void)emit;
	(void)ud;
	snprintf(err, errlen, "built without libavcodec: no AAC encoder, so a WHIP stream is "
	                      "video-only for RTMP, HTTP-FLV and HLS viewers");
	return NULL;
}

void audio_rx_free(struct audio_rx *a)
{
	(void)a;
}

int audio_rx_push(struct audio_rx *a, const uint8_t *opus, size_t n, uint32_t ms)
{
	(void)a;
	(void)opus;
	(void)n;
	(void)ms;
	return SL_EUNSUPP;
}

const struct audio_rx_stats *audio_rx_stats(const struct audio_rx *a)
{
	(void)a;
	return NULL;
}

#endif
