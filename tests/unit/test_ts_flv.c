/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ts_flv.c - FLV-bodied messages into MPEG-TS: what goes in comes back
 * out of the node's own TS demuxer (configs, frames, keyframes, timestamps,
 * composition offsets); nothing before the H.264 configuration; PAT/PMT
 * before every keyframe; other codecs ignored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "hls/ts_flv.h"
#include "proto/flv.h"
#include "proto/mpegts.h"

/* The x264 avcC of the e2e fixture (320x240 High@1.3). */
static const uint8_t avcc[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0,
};

#define MAXF 16
struct got {
	int n;
	enum mpegts_frame_kind kind[MAXF];
	uint32_t dts[MAXF];
	int32_t cts[MAXF];
	int key[MAXF];
	struct bytes data[MAXF];
};

static void on_frame(void *arg, const struct mpegts_frame *f)
{
	struct got *g = arg;
	if (g->n >= MAXF)
		return;
	g->kind[g->n] = f->kind;
	g->dts[g->n] = f->dts_ms;
	g->cts[g->n] = f->cts_ms;
	g->key[g->n] = f->key;
	bytes_init(&g->data[g->n]);
	bytes_append(&g->data[g->n], f->data, f->len);
	g->n++;
}

/* An FLV video body: AVC frame (or sequence header) with one NAL unit of type nal. */
static size_t video(uint8_t *b, int key, int seq, int32_t cts, unsigned nal, size_t n)
{
	b[0] = (uint8_t)((key ? 0x10 : 0x20) | 7);
	b[1] = seq ? 0 : 1;
	b[2] = (uint8_t)(cts >> 16);
	b[3] = (uint8_t)(cts >> 8);
	b[4] = (uint8_t)cts;
	if (seq) {
		memcpy(b + 5, avcc, sizeof(avcc));
		return 5 + sizeof(avcc);
	}
	b[5] = b[6] = 0;
	b[7] = (uint8_t)(n >> 8);
	b[8] = (uint8_t)n;
	b[9] = (uint8_t)(0x60 | nal);
	for (size_t i = 1; i < n; i++)
		b[9 + i] = (uint8_t)(i * 7 + 1);
	return 9 + n;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct ts_flv m;
	struct bytes out;
	bytes_init(&out);
	ts_flv_init(&m);
	uint8_t b[600];
	/* Before the configuration: nothing. */
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 0, b, video(b, 1, 0, 0, 5, 100));
	assert_int_equal(out.len, 0);
	/* Not H.264, not AAC, script data: ignored. */
	const uint8_t vp6[] = { 0x14, 0x00, 0x01 }, mp3[] = { 0x2f, 0x01, 0x02 };
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 0, vp6, sizeof(vp6));
	ts_flv_tag(&m, &out, FLV_TAG_AUDIO, 0, mp3, sizeof(mp3));
	ts_flv_tag(&m, &out, FLV_TAG_SCRIPT, 0, mp3, sizeof(mp3));
	assert_int_equal(out.len, 0);

	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 0, b, video(b, 1, 1, 0, 0, 0));
	const uint8_t aseq[] = { 0xaf, 0x00, 0x12, 0x10 };   /* AAC-LC 44.1 kHz stereo */
	ts_flv_tag(&m, &out, FLV_TAG_AUDIO, 0, aseq, sizeof(aseq));
	assert_int_equal(out.len, 0);
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 1000, b, video(b, 1, 0, 80, 5, 300));
	/* Audio after the second picture: a video PES ends only where the next begins, so the
	 * first picture is delivered (and sets the demuxer's origin) before this audio. */
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 1040, b, video(b, 0, 0, 40, 1, 200));
	const uint8_t aac[] = { 0xaf, 0x01, 0x21, 0x10, 0x05, 0x00 };
	ts_flv_tag(&m, &out, FLV_TAG_AUDIO, 1050, aac, sizeof(aac));
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 1080, b, video(b, 1, 0, 0, 5, 250));
	ts_flv_tag(&m, &out, FLV_TAG_VIDEO, 1120, b, video(b, 0, 0, 0, 1, 90));
	assert_int_equal(out.len % MPEGTS_PACKET_SIZE, 0);

	/* PAT/PMT before each of the two keyframes. */
	int pats = 0;
	for (size_t i = 0; i < out.len; i += MPEGTS_PACKET_SIZE)
		pats += out.data[i + 1] == 0x40 && out.data[i + 2] == 0x00;
	assert_int_equal(pats, 2);

	struct got g;
	memset(&g, 0, sizeof(g));
	struct mpegts_demux d;
	mpegts_demux_init(&d, 0, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, out.data, out.len), 0);
	mpegts_demux_flush(&d);
	assert_int_equal(d.stats.cc_errors, 0);
	/* Two configs, four pictures, one AAC frame. */
	int vid = 0, aud = 0, cfg = 0;
	uint32_t vdts[4];
	int32_t vcts[4];
	int vkey[4];
	for (int i = 0; i < g.n; i++) {
		if (g.kind[i] == MPEGTS_AVC_CONFIG) {
			cfg++;
			assert_memory_equal(g.data[i].data + 1, avcc + 1, 3);   /* profile, level */
		} else if (g.kind[i] == MPEGTS_AVC_FRAME) {
			assert_true(vid < 4);
			vdts[vid] = g.dts[i];
			vcts[vid] = g.cts[i];
			vkey[vid] = g.key[i];
			vid++;
		} else if (g.kind[i] == MPEGTS_AAC_FRAME) {
			assert_int_equal(g.data[i].len, 4);
			assert_memory_equal(g.data[i].data, aac + 2, 4);
			aud++;
		} else if (g.kind[i] == MPEGTS_AAC_CONFIG) {
			assert_memory_equal(g.data[i].data, aseq + 2, 2);
			cfg++;
		}
		bytes_free(&g.data[i]);
	}
	assert_int_equal(vid, 4);
	assert_int_equal(aud, 1);
	assert_int_equal(cfg, 2);
	/* The timeline starts at the first timestamp; steps and offsets as sent. */
	assert_int_equal(vdts[1] - vdts[0], 40);
	assert_int_equal(vdts[2] - vdts[0], 80);
	assert_int_equal(vdts[3] - vdts[0], 120);
	assert_int_equal(vcts[0], 80);
	assert_int_equal(vcts[1], 40);
	assert_int_equal(vkey[0], 1);
	assert_int_equal(vkey[1], 0);
	assert_int_equal(vkey[2], 1);
	mpegts_demux_free(&d);
	ts_flv_free(&m);
	bytes_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
