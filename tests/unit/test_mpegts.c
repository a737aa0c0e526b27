/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mpegts.c - the transport stream demuxer: what the HLS TS packager
 * writes comes back out as the AVCC frames, configs and raw AAC frames that
 * went in, with their timestamps; splits at every byte, lost packets,
 * garbage, the 33-bit wrap, over-long PES packets and HEVC refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "hls/ts_mux.h"
#include "proto/aac.h"
#include "proto/avc.h"
#include "proto/mpegts.h"

/* The x264 avcC of the e2e fixture (320x240 High@1.3). */
static const uint8_t fixture_avcc[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0,
};

#define MAXF 64
struct got {
	int n;
	enum mpegts_frame_kind kind[MAXF];
	uint32_t dts[MAXF];
	int32_t cts[MAXF];
	int key[MAXF];
	size_t len[MAXF];
	uint8_t data[MAXF][256];
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
	g->len[g->n] = f->len;
	memcpy(g->data[g->n], f->data, f->len < 256 ? f->len : 256);
	g->n++;
}

/* One AVCC frame: a single NAL unit of type `type` and `len` bytes. */
static void avcc_frame(struct bytes *b, unsigned type, size_t len)
{
	bytes_put_u32be(b, (uint32_t)len);
	bytes_put_u8(b, (uint8_t)(0x60 | type));
	for (size_t i = 1; i < len; i++)
		bytes_put_u8(b, (uint8_t)(i * 7 + 1));
}

/* A transport stream: PSI, then video frames at 40 ms and audio at ~23 ms, from base90. */
static void make_stream(struct bytes *ts, uint64_t base90, int frames)
{
	struct avc_config cfg;
	assert_int_equal(avc_parse_config(fixture_avcc, sizeof(fixture_avcc), &cfg), 0);
	struct aac_config ac;
	const uint8_t asc[2] = { 0x12, 0x10 };   /* AAC-LC 44.1 kHz stereo */
	assert_int_equal(aac_parse_asc(asc, 2, &ac), 0);
	struct ts_mux m;
	ts_mux_init(&m, 1, 1);
	ts_mux_write_psi(&m, ts);
	for (int i = 0; i < frames; i++) {
		struct bytes f, es;
		bytes_init(&f);
		bytes_init(&es);
		int key = i % 5 == 0;
		avcc_frame(&f, key ? 5 : 1, 300 + (size_t)i * 50);
		assert_int_equal(ts_avcc_to_annexb(f.data, f.len, 4, &cfg, key, &es), 0);
		uint64_t dts = base90 + (uint64_t)i * 3600;
		ts_mux_write_pes(&m, ts, 1, es.data, es.len, dts + 3600, dts, key);
		bytes_clear(&es);
		uint8_t adts[AAC_ADTS_HEADER_SIZE];
		assert_int_equal(aac_write_adts(adts, &ac, 20), 0);
		bytes_append(&es, adts, sizeof(adts));
		for (int k = 0; k < 20; k++)
			bytes_put_u8(&es, (uint8_t)(0x21 + i));
		ts_mux_write_pes(&m, ts, 0, es.data, es.len, dts, dts, 0);
		bytes_free(&f);
		bytes_free(&es);
	}
}

static int count_kind(const struct got *g, enum mpegts_frame_kind k)
{
	int c = 0;
	for (int i = 0; i < g->n; i++)
		c += g->kind[i] == k;
	return c;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct bytes ts;
	bytes_init(&ts);
	make_stream(&ts, 900000, 10);
	struct got g = { 0 };
	struct mpegts_demux d;
	mpegts_demux_init(&d, 0, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, ts.data, ts.len), 0);
	mpegts_demux_flush(&d);
	assert_int_equal(count_kind(&g, MPEGTS_AVC_CONFIG), 1);
	assert_int_equal(count_kind(&g, MPEGTS_AVC_FRAME), 10);
	assert_int_equal(count_kind(&g, MPEGTS_AAC_CONFIG), 1);
	assert_int_equal(count_kind(&g, MPEGTS_AAC_FRAME), 10);
	int vf = 0;
	for (int i = 0; i < g.n; i++) {
		if (g.kind[i] == MPEGTS_AVC_CONFIG) {
			/* The same SPS and PPS as the avcC that went in (4-byte lengths). */
			assert_int_equal(g.len[i], sizeof(fixture_avcc));
			assert_memory_equal(g.data[i], fixture_avcc, 5);
			assert_memory_equal(g.data[i] + 5, fixture_avcc + 5, sizeof(fixture_avcc) - 5);
		} else if (g.kind[i] == MPEGTS_AVC_FRAME) {
			/* AUD, SPS and PPS the packager added are gone: one NAL unit as sent. */
			size_t len = 300 + (size_t)vf * 50;
			assert_int_equal(g.len[i], 4 + len);
			assert_int_equal(g.data[i][3], len & 0xff);
			assert_int_equal(g.data[i][4] & 0x1f, vf % 5 == 0 ? 5 : 1);
			assert_int_equal(g.key[i], vf % 5 == 0);
			assert_int_equal(g.dts[i], (uint32_t)vf * 40);
			assert_int_equal(g.cts[i], 40);
			vf++;
		} else if (g.kind[i] == MPEGTS_AAC_CONFIG) {
			assert_int_equal(g.len[i], 2);
			assert_int_equal(g.data[i][0], 0x12);
			assert_int_equal(g.data[i][1], 0x10);
		} else {
			assert_int_equal(g.len[i], 20);
		}
	}
	assert_int_equal(d.stats.cc_errors, 0);
	assert_int_equal(d.stats.pes_dropped, 0);
	mpegts_demux_free(&d);
	bytes_free(&ts);
}

static void test_any_split(void **state)
{
	(void)state;
	struct bytes ts;
	bytes_init(&ts);
	make_stream(&ts, 0, 6);
	for (size_t step = 1; step < 400; step += 37) {
		struct got g = { 0 };
		struct mpegts_demux d;
		mpegts_demux_init(&d, 0, on_frame, &g);
		for (size_t off = 0; off < ts.len; off += step) {
			size_t n = ts.len - off < step ? ts.len - off : step;
			assert_int_equal(mpegts_demux_feed(&d, ts.data + off, n), 0);
		}
		mpegts_demux_flush(&d);
		assert_int_equal(count_kind(&g, MPEGTS_AVC_FRAME), 6);
		assert_int_equal(count_kind(&g, MPEGTS_AAC_FRAME), 6);
		mpegts_demux_free(&d);
	}
	bytes_free(&ts);
}

static void test_lost_packet_drops_that_frame_only(void **state)
{
	(void)state;
	struct bytes ts;
	bytes_init(&ts);
	make_stream(&ts, 0, 6);
	/* Find the second video PES start (PID 0x100, PUSI) and cut the packet after it. */
	size_t starts = 0, cut = 0;
	for (size_t off = 0; off + 188 <= ts.len; off += 188) {
		const uint8_t *p = ts.data + off;
		if ((rd_u16be(p + 1) & 0x1fff) == TS_PID_VIDEO && (p[1] & 0x40) && ++starts == 2) {
			cut = off + 188;
			break;
		}
	}
	assert_true(cut > 0);
	struct got g = { 0 };
	struct mpegts_demux d;
	mpegts_demux_init(&d, 0, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, ts.data, cut), 0);
	/* Some garbage where the packet was: resynchronised on the next 0x47. */
	static const uint8_t junk[50] = { 1, 2, 3 };
	assert_int_equal(mpegts_demux_feed(&d, junk, sizeof(junk)), 0);
	assert_int_equal(mpegts_demux_feed(&d, ts.data + cut + 188, ts.len - cut - 188), 0);
	mpegts_demux_flush(&d);
	assert_int_equal(count_kind(&g, MPEGTS_AVC_FRAME), 5);
	assert_true(d.stats.cc_errors >= 1);
	assert_true(d.stats.pes_dropped >= 1);
	assert_true(d.stats.sync_losses >= 50);
	mpegts_demux_free(&d);
	bytes_free(&ts);
}

static void test_clock_wrap(void **state)
{
	(void)state;
	struct bytes ts;
	bytes_init(&ts);
	/* Starts 3 frames before the 33-bit clock wraps: the timeline runs on. */
	make_stream(&ts, (1ull << 33) - 3 * 3600, 8);
	struct got g = { 0 };
	struct mpegts_demux d;
	mpegts_demux_init(&d, 0, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, ts.data, ts.len), 0);
	mpegts_demux_flush(&d);
	int vf = 0;
	for (int i = 0; i < g.n; i++)
		if (g.kind[i] == MPEGTS_AVC_FRAME) {
			assert_int_equal(g.dts[i], (uint32_t)vf * 40);
			vf++;
		}
	assert_int_equal(vf, 8);
	mpegts_demux_free(&d);
	bytes_free(&ts);
}

static void test_pes_limit(void **state)
{
	(void)state;
	struct bytes ts;
	bytes_init(&ts);
	make_stream(&ts, 0, 6);
	struct got g = { 0 };
	struct mpegts_demux d;
	/* Frames are 300..550 bytes plus headers: a 500-byte cap drops the big ones. */
	mpegts_demux_init(&d, 500, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, ts.data, ts.len), 0);
	mpegts_demux_flush(&d);
	assert_true(count_kind(&g, MPEGTS_AVC_FRAME) < 6);
	assert_true(d.stats.pes_dropped > 0);
	assert_int_equal(count_kind(&g, MPEGTS_AAC_FRAME), 6);
	mpegts_demux_free(&d);
	bytes_free(&ts);
}

static void test_hevc_refused(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes ts;
	bytes_init(&ts);
	ts_mux_init(&m, 1, 0);
	ts_mux_write_psi(&m, &ts);
	/* Rewrite the PMT's stream type to HEVC (0x24) and fix its CRC. */
	uint8_t *pmt = ts.data + 188;
	uint8_t *sec = pmt + 5;
	size_t slen = 3 + (rd_u16be(sec + 1) & 0x0fff);
	assert_int_equal(sec[12], 0x1b);
	sec[12] = 0x24;
	uint32_t crc = mpegts_crc32(sec, slen - 4);
	sec[slen - 4] = (uint8_t)(crc >> 24);
	sec[slen - 3] = (uint8_t)(crc >> 16);
	sec[slen - 2] = (uint8_t)(crc >> 8);
	sec[slen - 1] = (uint8_t)crc;
	struct got g = { 0 };
	struct mpegts_demux d;
	mpegts_demux_init(&d, 0, on_frame, &g);
	assert_int_equal(mpegts_demux_feed(&d, ts.data, ts.len), SL_EUNSUPP);
	mpegts_demux_free(&d);
	bytes_free(&ts);
}

static void test_crc(void **state)
{
	(void)state;
	assert_int_equal(mpegts_crc32((const uint8_t *)"123456789", 9), 0x0376e6e7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_any_split),
		cmocka_unit_test(test_lost_packet_drops_that_frame_only),
		cmocka_unit_test(test_clock_wrap),
		cmocka_unit_test(test_pes_limit),
		cmocka_unit_test(test_hevc_refused),
		cmocka_unit_test(test_crc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
