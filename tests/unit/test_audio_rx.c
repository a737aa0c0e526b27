/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_audio_rx.c - Opus in, AAC out, and the tone must survive.
 *
 * One second of a 440 Hz sine (amplitude 1/4, stereo) is encoded by libopus
 * into 20 ms packets, as a browser sends them, and pushed with the
 * millisecond times the WHIP ingest gives them.  What comes out must be what
 * an RTMP publisher sends: an AudioSpecificConfig first (AAC-LC, 48 kHz,
 * stereo), then raw AAC frames 1024 samples (21.33 ms) apart.  Decoded with
 * libavcodec, the tone is 440 Hz (880 zero crossings a second, within 3 %)
 * at about its level.  A gap in the input re-anchors the clock; garbage is
 * refused and counted.  Built without libavcodec, it checks the refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <opus/opus.h>

#include "core/err.h"
#include "media/audio_rx.h"
#include "proto/aac.h"

#ifdef SLUICE_HAVE_AVCODEC
#include <libavcodec/avcodec.h>

#define MAX_FRAMES 200

struct out {
	uint8_t asc[64];
	size_t asc_len;
	int configs;
	uint8_t *frame[MAX_FRAMES];
	size_t len[MAX_FRAMES];
	uint32_t ms[MAX_FRAMES];
	size_t n;
};

static void emit(void *ud, int config, const uint8_t *p, size_t n, uint32_t ms)
{
	struct out *o = ud;
	if (config) {
		assert_true(n <= sizeof(o->asc));
		memcpy(o->asc, p, n);
		o->asc_len = n;
		o->configs++;
		assert_int_equal(o->n, 0); /* before any frame */
		return;
	}
	assert_true(o->n < MAX_FRAMES);
	o->frame[o->n] = malloc(n);
	memcpy(o->frame[o->n], p, n);
	o->len[o->n] = n;
	o->ms[o->n++] = ms;
}

/* Pushes secs seconds of the tone, starting at start_ms. */
static void push_tone(struct audio_rx *rx, OpusEncoder *enc, double secs, uint32_t start_ms,
                      size_t *phase)
{
	float pcm[960 * 2];
	uint8_t pkt[1500];
	for (int k = 0; k < (int)(secs * 50); k++) {
		for (int i = 0; i < 960; i++, (*phase)++) {
			float v = 0.25f * (float)sin(2 * M_PI * 440.0 * (double)*phase / 48000.0);
			pcm[2 * i] = pcm[2 * i + 1] = v;
		}
		int n = opus_encode_float(enc, pcm, 960, pkt, sizeof(pkt));
		assert_true(n > 0);
		assert_int_equal(audio_rx_push(rx, pkt, (size_t)n, start_ms + (uint32_t)k * 20), 0);
	}
}

static void test_tone_round_trip(void **state)
{
	(void)state;
	static struct out o;
	memset(&o, 0, sizeof(o));
	char err[200];
	struct audio_rx *rx = audio_rx_new(emit, &o, err, sizeof(err));
	assert_non_null(rx);
	int oe;
	OpusEncoder *enc = opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &oe);
	assert_non_null(enc);
	size_t phase = 0;
	push_tone(rx, enc, 1.0, 5000, &phase);

	assert_int_equal(o.configs, 1);
	struct aac_config c;
	assert_int_equal(aac_parse_asc(o.asc, o.asc_len, &c), 0);
	assert_int_equal(c.object_type, 2);
	assert_int_equal(c.sample_rate, 48000);
	assert_int_equal(c.channels, 2);
	/* 48000 samples in, 1024 a frame, less what the encoder holds back. */
	assert_true(o.n >= 44 && o.n <= 47);
	assert_int_equal(o.ms[0], 5000);
	for (size_t i = 1; i < o.n; i++) {
		uint32_t d = o.ms[i] - o.ms[i - 1];
		assert_true(d == 21 || d == 22);
	}

	/* Decoded, a listener hears the tone. */
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_AAC);
	AVCodecContext *dec = avcodec_alloc_context3(codec);
	dec->extradata = av_mallocz(o.asc_len + AV_INPUT_BUFFER_PADDING_SIZE);
	memcpy(dec->extradata, o.asc, o.asc_len);
	dec->extradata_size = (int)o.asc_len;
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	AVPacket *pk = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	static float left[MAX_FRAMES * 1024];
	size_t got = 0;
	for (size_t i = 0; i < o.n; i++) {
		assert_int_equal(av_new_packet(pk, (int)o.len[i]), 0);
		memcpy(pk->data, o.frame[i], o.len[i]);
		assert_int_equal(avcodec_send_packet(dec, pk), 0);
		av_packet_unref(pk);
		while (avcodec_receive_frame(dec, fr) == 0) {
			assert_int_equal(fr->format, AV_SAMPLE_FMT_FLTP);
			memcpy(left + got, fr->data[0], (size_t)fr->nb_samples * sizeof(float));
			got += (size_t)fr->nb_samples;
		}
		free(o.frame[i]);
	}
	/* Skip the codecs' start-up (priming, ramp): count over the middle half second. */
	size_t from = 12000, to = 36000, crossings = 0;
	double sq = 0;
	assert_true(got >= to);
	for (size_t i = from; i < to; i++) {
		crossings += (left[i - 1] < 0) != (left[i] < 0);
		sq += (double)left[i] * left[i];
	}
	double per_sec = (double)crossings * 48000.0 / (double)(to - from);
	double rms = sqrt(sq / (double)(to - from));
	assert_true(fabs(per_sec - 880.0) <= 880.0 * 0.03);
	assert_true(fabs(rms - 0.25 / sqrt(2.0)) <= 0.25 / sqrt(2.0) * 0.25);

	/* A gap of a second in the input: the clock re-anchors at the new time. */
	size_t before = o.n;
	push_tone(rx, enc, 0.5, 7000, &phase);
	assert_int_equal(audio_rx_stats(rx)->resyncs, 1);
	assert_true(o.n > before);
	assert_true(o.ms[o.n - 1] >= 7000 && o.ms[o.n - 1] <= 7500);
	for (size_t i = before; i < o.n; i++)
		free(o.frame[i]);

	/* Garbage is refused and counted; an empty packet too. */
	static uint8_t junk[2000];
	assert_int_equal(audio_rx_push(rx, junk, sizeof(junk), 8000), SL_EPROTO);
	assert_int_equal(audio_rx_push(rx, junk, 0, 8000), SL_EPROTO);
	assert_true(audio_rx_stats(rx)->bad_packets >= 2);

	av_frame_free(&fr);
	av_packet_free(&pk);
	avcodec_free_context(&dec);
	opus_encoder_destroy(enc);
	audio_rx_free(rx);
}

#else

static void test_tone_round_trip(void **state)
{
	(void)state;
	char err[200];
	assert_int_equal(audio_rx_available(), 0);
	assert_null(audio_rx_new(NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "built without libavcodec"));
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
