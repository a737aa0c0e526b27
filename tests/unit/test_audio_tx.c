/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_audio_tx.c - AAC in, Opus out, and the tone must survive.
 *
 * tests/data/tone440-48k-stereo.aac is one second of a 440 Hz sine
 * (amplitude 1/8, upmixed from mono at -3 dB a side, so an RMS of 0.0625)
 * that FFmpeg 5.1's native encoder wrote as 48 ADTS frames:
 *   ffmpeg -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 \
 *          -ac 2 -c:a aac -b:a 48k -f adts tone440-48k-stereo.aac
 * The test strips the ADTS headers (FLV carries raw frames), builds the
 * AudioSpecificConfig from the first header, feeds the frames with the
 * millisecond timestamps FLV would give them, decodes the Opus packets with
 * libopus and checks what a listener would: a 440 Hz tone (880 zero
 * crossings a second) at about the right level, on a clock advancing
 * exactly 960 per packet.  Built without libavcodec, it checks the refusal.
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
#include "media/audio_tx.h"

#define MAX_PACKETS 200

struct out {
	OpusDecoder *dec;
	float pcm[MAX_PACKETS * AUDIO_TX_FRAME_SAMPLES * 2];
	size_t samples;          /* per channel */
	uint32_t ts[MAX_PACKETS];
	size_t n;
	int channels;
};

static void on_opus(void *ud, const uint8_t *p, size_t n, uint32_t ts)
{
	struct out *o = ud;
	assert_true(n > 0 && n <= AUDIO_TX_MAX_PACKET);
	assert_true(o->n < MAX_PACKETS);
	o->ts[o->n++] = ts;
	int got = opus_decode_float(o->dec, p, (opus_int32)n,
	                            o->pcm + o->samples * (size_t)o->channels,
	                            AUDIO_TX_FRAME_SAMPLES, 0);
	assert_int_equal(got, AUDIO_TX_FRAME_SAMPLES);
	o->samples += (size_t)got;
}

static uint8_t *load(size_t *n)
{
	const char *dir = getenv("SLUICE_TEST_DATA");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tone440-48k-stereo.aac", dir ? dir : "tests/data");
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static uint8_t buf[65536];
	*n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

/* The ADTS header's fields as a 2-byte AudioSpecificConfig. */
static void asc_from_adts(const uint8_t *h, uint8_t asc[2])
{
	unsigned aot = (h[2] >> 6) + 1, idx = (h[2] >> 2) & 0x0f;
	unsigned ch = ((h[2] & 1u) << 2) | (h[3] >> 6);
	unsigned v = (aot << 11) | (idx << 7) | (ch << 3);
	asc[0] = (uint8_t)(v >> 8);
	asc[1] = (uint8_t)v;
}

static struct out out;

static void feed_file(struct audio_tx *t, uint32_t ts0)
{
	size_t n, pos = 0, frame = 0;
	const uint8_t *p = load(&n);
	while (pos + 7 <= n) {
		assert_int_equal(p[pos], 0xff);
		size_t hl = (p[pos + 1] & 1) ? 7 : 9;
		size_t fl = ((size_t)(p[pos + 3] & 3) << 11) | ((size_t)p[pos + 4] << 3) | (p[pos + 5] >> 5);
		assert_true(fl > hl && pos + fl <= n);
		uint32_t ms = ts0 + (uint32_t)(frame * 1024 * 1000 / 48000);
		assert_int_equal(audio_tx_feed(t, p + pos + hl, fl - hl, ms), 0);
		pos += fl;
		frame++;
	}
	assert_int_equal(pos, n);
}

static void test_tone_survives(void **state)
{
	size_t n;
	const uint8_t *p = load(&n);
	uint8_t asc[2];
	char err[160] = "";
	asc_from_adts(p, asc);
	struct audio_tx *t = audio_tx_new(asc, 2, 0, on_opus, &out, err, sizeof(err));
	if (!audio_tx_available()) {
		assert_null(t);
		assert_string_equal(err, "built without libavcodec: no AAC decoding, WebRTC audio is off");
		skip();
	}
	assert_non_null(t);
	assert_int_equal(audio_tx_channels(t), 2);
	int e;
	out.channels = 2;
	out.dec = opus_decoder_create(48000, 2, &e);
	assert_int_equal(e, OPUS_OK);

	feed_file(t, 1000);
	/* 48 frames of 1024 samples: 49152 samples, 51 whole Opus frames at most. */
	assert_true(out.n >= 45 && out.n <= 51);
	assert_int_equal(out.ts[0], 1000 * 48);
	for (size_t i = 1; i < out.n; i++)
		assert_int_equal(out.ts[i] - out.ts[i - 1], AUDIO_TX_FRAME_SAMPLES);

	/* Skip 100 ms of codec priming, then count sign changes on the left channel. */
	size_t from = 4800, to = out.samples - 2400, crossings = 0;
	double sq = 0;
	for (size_t i = from; i < to; i++) {
		float a = out.pcm[(i - 1) * 2], b = out.pcm[i * 2];
		if ((a < 0) != (b < 0))
			crossings++;
		sq += (double)b * b + (double)out.pcm[i * 2 + 1] * out.pcm[i * 2 + 1];
	}
	double secs = (double)(to - from) / 48000.0;
	double rate = (double)crossings / secs;
	double rms = sqrt(sq / (2.0 * (double)(to - from)));
	print_message("opus packets %zu, zero crossings %.1f/s, rms %.4f\n", out.n, rate, rms);
	assert_true(rate > 860 && rate < 900);
	assert_true(rms > 0.05 && rms < 0.075);      /* 0.0625 went in */

	struct audio_tx_stats st;
	audio_tx_get_stats(t, &st);
	assert_int_equal(st.frames_in, 48);
	assert_int_equal(st.frames_bad, 0);
	assert_int_equal(st.packets_out, out.n);
	assert_int_equal(st.resyncs, 0);

	/* The publisher's clock jumps 10 s: the RTP clock restarts there. */
	size_t before = out.n;
	feed_file(t, 11000);
	audio_tx_get_stats(t, &st);
	assert_int_equal(st.resyncs, 1);
	assert_true(out.n > before);
	assert_int_equal(out.ts[before], 11000 * 48);

	/* Garbage is refused frame by frame; the transcoder stays usable. */
	const uint8_t junk[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11 };
	int rc = audio_tx_feed(t, junk, sizeof(junk), 12100);
	assert_true(rc == 0 || rc == SL_EPROTO);
	assert_int_equal(audio_tx_feed(t, junk, 0, 12100), SL_EPROTO);
	audio_tx_free(t);
	opus_decoder_destroy(out.dec);
}

static void test_configs(void **state)
{
	char err[160] = "";
	const uint8_t mono48[] = { 0x11, 0x88 };
	const uint8_t main_profile[] = { 0x09, 0x90 };   /* object type 1 (AAC Main) */
	const uint8_t pce[] = { 0x11, 0x80 };            /* channel configuration 0 */
	const uint8_t ssr[] = { 0x19, 0x90 };            /* object type 3 (SSR) */
	struct audio_tx *t = audio_tx_new(mono48, 2, 0, on_opus, &out, err, sizeof(err));
	if (!audio_tx_available()) {
		assert_null(t);
		skip();
	}
	assert_non_null(t);
	assert_int_equal(audio_tx_channels(t), 1);
	audio_tx_free(t);
	t = audio_tx_new(main_profile, 2, 0, on_opus, &out, err, sizeof(err));
	assert_non_null(t);
	audio_tx_free(t);
	assert_null(audio_tx_new(pce, 2, 0, on_opus, &out, err, sizeof(err)));
	assert_non_null(strstr(err, "channel configuration 0"));
	assert_null(audio_tx_new(ssr, 2, 0, on_opus, &out, err, sizeof(err)));
	assert_non_null(strstr(err, "object type 3"));
	assert_null(audio_tx_new(mono48, 1, 0, on_opus, &out, err, sizeof(err)));
	assert_string_equal(err, "bad AAC AudioSpecificConfig");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_survives),
		cmocka_unit_test(test_configs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
