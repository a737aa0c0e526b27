/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audio_tx.c - AAC -> PCM (libavcodec) -> 48 kHz float (libswresample) ->
 * 20 ms Opus packets (libopus), for one stream.
 *
 * PCM waits in one fixed buffer until a whole 960-sample frame is there;
 * the buffer is sized for AUDIO_TX_MAX_PENDING_MS, and a decoded frame that
 * would overflow it is cut (counted), so memory per stream is constant.
 * The RTP clock follows the samples actually produced; the input's
 * millisecond timestamps only anchor it at the start and after a jump.
 *
 * Built without libavcodec (meson -Daac=disabled, or the library absent),
 * only the stub at the bottom is compiled.
 */
#include "media/audio_tx.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#ifdef SLUICE_HAVE_AVCODEC

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <opus/opus.h>

#include "core/mem.h"
#include "proto/aac.h"

/* The largest raw AAC frame: 6144 bits per channel (ISO/IEC 14496-3 4.5.3.2), 8 channels. */
#define AUDIO_TX_MAX_FRAME 6144
#define AUDIO_TX_MAX_CHANNELS 8
#define PENDING_SAMPLES (AUDIO_TX_RATE / 1000 * AUDIO_TX_MAX_PENDING_MS)

struct audio_tx {
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	SwrContext *swr;
	/* What swr was set up for; a change (an SBR stream's first frame) rebuilds it. */
	int swr_rate, swr_format, swr_channels;
	OpusEncoder *enc;
	int channels;            /* Opus output: 1 or 2 */
	audio_tx_emit_fn emit;
	void *ud;
	float pending[PENDING_SAMPLES * 2];
	size_t npending;         /* samples per channel in pending */
	uint32_t rtp_ts;         /* RTP timestamp of pending[0] */
	int started;
	uint8_t in[AUDIO_TX_MAX_FRAME + AV_INPUT_BUFFER_PADDING_SIZE];
	uint8_t out[AUDIO_TX_MAX_PACKET];
	struct audio_tx_stats stats;
};

int audio_tx_available(void)
{
	return 1;
}

void audio_tx_free(struct audio_tx *t)
{
	if (!t)
		return;
	avcodec_free_context(&t->dec);
	av_packet_free(&t->pkt);
	av_frame_free(&t->frame);
	swr_free(&t->swr);
	if (t->enc)
		opus_encoder_destroy(t->enc);
	free(t);
}

struct audio_tx *audio_tx_new(const uint8_t *asc, size_t n, int bitrate,
                              audio_tx_emit_fn emit, void *ud, char *err, size_t errlen)
{
	struct aac_config c;
	if (aac_parse_asc(asc, n, &c) != 0) {
		snprintf(err, errlen, "bad AAC AudioSpecificConfig");
		return NULL;
	}
	if (c.core_object_type != 2 && c.core_object_type != 1 && c.core_object_type != 4) {
		snprintf(err, errlen, "AAC object type %u is not decoded (AAC-LC, HE-AAC are)",
		         c.object_type);
		return NULL;
	}
	if (c.channels == 0 || c.channels > AUDIO_TX_MAX_CHANNELS) {
		snprintf(err, errlen, "AAC channel configuration %u is not decoded (1..8 channels are)",
		         c.channel_config);
		return NULL;
	}
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_AAC);
	if (!codec) {
		snprintf(err, errlen, "libavcodec has no AAC decoder: WebRTC audio is off");
		return NULL;
	}
	struct audio_tx *t = xcalloc(1, sizeof(*t));
	t->emit = emit;
	t->ud = ud;
	t->channels = c.channels == 1 ? 1 : 2;
	t->dec = avcodec_alloc_context3(codec);
	t->pkt = av_packet_alloc();
	t->frame = av_frame_alloc();
	if (!t->dec || !t->pkt || !t->frame) {
		snprintf(err, errlen, "out of memory setting up the AAC decoder");
		goto fail;
	}
	t->dec->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!t->dec->extradata) {
		snprintf(err, errlen, "out of memory setting up the AAC decoder");
		goto fail;
	}
	memcpy(t->dec->extradata, asc, n);
	t->dec->extradata_size = (int)n;
	if (avcodec_open2(t->dec, codec, NULL) < 0) {
		snprintf(err, errlen, "the AAC decoder refused the AudioSpecificConfig");
		goto fail;
	}
	int oerr = 0;
	t->enc = opus_encoder_create(AUDIO_TX_RATE, t->channels, OPUS_APPLICATION_AUDIO, &oerr);
	if (!t->enc || oerr != OPUS_OK) {
		snprintf(err, errlen, "opus encoder: %s", opus_strerror(oerr));
		goto fail;
	}
	if (bitrate <= 0)
		bitrate = AUDIO_TX_DEFAULT_BITRATE / (t->channels == 1 ? 2 : 1);
	opus_encoder_ctl(t->enc, OPUS_SET_BITRATE(bitrate));
	return t;
fail:
	audio_tx_free(t);
	return NULL;
}

/* (Re)builds the resampler for the decoder's actual output. */
static int setup_swr(struct audio_tx *t, const AVFrame *f)
{
	if (t->swr && t->swr_rate == f->sample_rate && t->swr_format == f->format &&
	    t->swr_channels == f->ch_layout.nb_channels)
		return 0;
	swr_free(&t->swr);
	AVChannelLayout out, in = { 0 };
	av_channel_layout_default(&out, t->channels);
	/* FFmpeg 5.1 takes the input layout by non-const pointer: hand it a copy. */
	if (av_channel_layout_copy(&in, &f->ch_layout) < 0)
		return SL_EIO;
	int rc = swr_alloc_set_opts2(&t->swr, &out, AV_SAMPLE_FMT_FLT, AUDIO_TX_RATE,
	                             &in, f->format, f->sample_rate, 0, NULL);
	av_channel_layout_uninit(&out);
	av_channel_layout_uninit(&in);
	if (rc < 0 || swr_init(t->swr) < 0) {
		swr_free(&t->swr);
		return SL_EIO;
	}
	t->swr_rate = f->sample_rate;
	t->swr_format = f->format;
	t->swr_channels = f->ch_layout.nb_channels;
	return 0;
}

static int encode_pending(struct audio_tx *t)
{
	size_t ch = (size_t)t->channels, done = 0;
	while (t->npending - done >= AUDIO_TX_FRAME_SAMPLES) {
		int n = opus_encode_float(t->enc, t->pending + done * ch, AUDIO_TX_FRAME_SAMPLES,
		                          t->out, sizeof(t->out));
		if (n < 0)
			return SL_EIO;
		done += AUDIO_TX_FRAME_SAMPLES;
		t->stats.packets_out++;
		t->emit(t->ud, t->out, (size_t)n, t->rtp_ts);
		t->rtp_ts += AUDIO_TX_FRAME_SAMPLES;
	}
	if (done) {
		memmove(t->pending, t->pending + done * ch, (t->npending - done) * ch * sizeof(float));
		t->npending -= done;
	}
	return 0;
}

static int convert_frame(struct audio_tx *t, const AVFrame *f)
{
	if (setup_swr(t, f) < 0)
		return SL_EIO;
	size_t room = PENDING_SAMPLES - t->npending;
	int want = swr_get_out_samples(t->swr, f->nb_samples);
	if (want > 0 && (size_t)want > room)
		t->stats.samples_dropped += (size_t)want - room;
	uint8_t *dst = (uint8_t *)(t->pending + t->npending * (size_t)t->channels);
	int got = swr_convert(t->swr, &dst, (int)room, (const uint8_t **)f->extended_data,
	                      f->nb_samples);
	if (got < 0)
		return SL_EIO;
	/* What did not fit stays inside swr: drop it there too, so nothing grows. */
	if (want > 0 && (size_t)want > room)
		swr_drop_output(t->swr, (int)((size_t)want - room));
	t->npending += (size_t)got;
	return encode_pending(t);
}

int audio_tx_feed(struct audio_tx *t, const uint8_t *frame, size_t n, uint32_t ts_ms)
{
	t->stats.frames_in++;
	if (n == 0 || n > AUDIO_TX_MAX_FRAME) {
		t->stats.frames_bad++;
		return SL_EPROTO;
	}
	uint32_t want_ts = ts_ms * (AUDIO_TX_RATE / 1000);
	uint32_t at = t->rtp_ts + (uint32_t)t->npending;
	int32_t off = (int32_t)(want_ts - at);
	if (!t->started) {
		t->started = 1;
		t->rtp_ts = want_ts;
	} else if (off > AUDIO_TX_RESYNC_MS * (AUDIO_TX_RATE / 1000) ||
	           off < -AUDIO_TX_RESYNC_MS * (AUDIO_TX_RATE / 1000)) {
		/* The publisher's clock jumped: restart ours there rather than drift. */
		t->stats.resyncs++;
		t->stats.samples_dropped += t->npending;
		t->npending = 0;
		t->rtp_ts = want_ts;
	}
	memcpy(t->in, frame, n);
	memset(t->in + n, 0, AV_INPUT_BUFFER_PADDING_SIZE);
	t->pkt->data = t->in;
	t->pkt->size = (int)n;
	int rc = avcodec_send_packet(t->dec, t->pkt);
	if (rc < 0) {
		t->stats.frames_bad++;
		return SL_EPROTO;
	}
	for (;;) {
		rc = avcodec_receive_frame(t->dec, t->frame);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return 0;
		if (rc < 0) {
			t->stats.frames_bad++;
			return SL_EPROTO;
		}
		rc = convert_frame(t, t->frame);
		av_frame_unref(t->frame);
		if (rc < 0)
			return rc;
	}
}

int audio_tx_channels(const struct audio_tx *t)
{
	return t->channels;
}

void audio_tx_get_stats(const struct audio_tx *t, struct audio_tx_stats *out)
{
	*out = t->stats;
}

#else /* !SLUICE_HAVE_AVCODEC */

int audio_tx_available(void)
{
	return 0;
}

struct audio_tx *audio_tx_new(const uint8_t *asc, size_t n, int bitrate,
                              audio_tx_emit_fn emit, void *ud, char *err, size_t errlen)
{
	snprintf(err, errlen, "built without libavcodec: no AAC decoding, WebRTC audio is off");
	return NULL;
}

int audio_tx_feed(struct audio_tx *t, const uint8_t *frame, size_t n, uint32_t ts_ms)
{
	return SL_EUNSUPP;
}

int audio_tx_channels(const struct audio_tx *t)
{
	return 0;
}

void audio_tx_get_stats(const struct audio_tx *t, struct audio_tx_stats *out)
{
	memset(out, 0, sizeof(*out));
}

void audio_tx_free(struct audio_tx *t)
{
}

#endif
