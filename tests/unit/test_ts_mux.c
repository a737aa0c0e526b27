/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ts_mux.c - the MPEG-TS packager: PAT/PMT bytes and CRC, TS packet
 * headers, PES framing with PTS/DTS, PCR, stuffing, continuity counters,
 * and AVCC -> Annex B conversion.
 *
 * The PAT and PMT to match are the first two packets FFmpeg 5.1 (Debian 12)
 * writes for an H.264 + AAC stream:
 *   ffmpeg -i fixture.flv -t 0.5 -c copy -f mpegts ff.ts
 * (PMT PID 0x1000, video 0x100, audio 0x101, PCR on video): our PIDs and
 * table layout are FFmpeg's, so the bytes are identical.
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
#include "proto/mpegts.h"
#include "proto/avc.h"

static const uint8_t ffmpeg_pat[21] = {
	0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00,
	0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2,
};
static const uint8_t ffmpeg_pmt[31] = {
	0x47, 0x50, 0x00, 0x10, 0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00,
	0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0,
	0x00, 0x2f, 0x44, 0xb9, 0x9b,
};

/* The x264 avcC of the e2e fixture (320x240 High@1.3), from its FLV sequence header. */
static const uint8_t fixture_avcc[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0, 0xfd, 0xf8,
	0xf8, 0x00,
};

static void test_psi_matches_ffmpeg(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes b;
	bytes_init(&b);
	ts_mux_init(&m, 1, 1);
	ts_mux_write_psi(&m, &b);
	assert_int_equal(b.len, 2 * TS_PACKET_SIZE);
	assert_memory_equal(b.data, ffmpeg_pat, sizeof(ffmpeg_pat));
	for (size_t i = sizeof(ffmpeg_pat); i < TS_PACKET_SIZE; i++)
		assert_int_equal(b.data[i], 0xff);
	assert_memory_equal(b.data + TS_PACKET_SIZE, ffmpeg_pmt, sizeof(ffmpeg_pmt));
	/* The second PSI pair counts on: continuity counter 1. */
	bytes_clear(&b);
	ts_mux_write_psi(&m, &b);
	assert_int_equal(b.data[3], 0x11);
	assert_int_equal(b.data[TS_PACKET_SIZE + 3], 0x11);
	bytes_free(&b);
}

static void test_crc32_known_values(void **state)
{
	(void)state;
	/* CRC-32/MPEG-2 check value of "123456789". */
	assert_int_equal(mpegts_crc32((const uint8_t *)"123456789", 9), 0x0376e6e7);
	/* A section followed by its own CRC leaves a zero remainder. */
	assert_int_equal(mpegts_crc32(ffmpeg_pat + 5, 16), 0);
	assert_int_equal(mpegts_crc32(ffmpeg_pmt + 5, 26), 0);
}

static void test_audio_only_pmt(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes b;
	bytes_init(&b);
	ts_mux_init(&m, 0, 1);
	ts_mux_write_psi(&m, &b);
	const uint8_t *pmt = b.data + TS_PACKET_SIZE + 5;
	assert_int_equal(pmt[2], 18);                 /* section length: one stream */
	assert_int_equal(rd_u16be(pmt + 8) & 0x1fff, TS_PID_AUDIO);   /* PCR PID */
	assert_int_equal(pmt[12], TS_STREAM_AAC_ADTS);
	assert_int_equal(mpegts_crc32(pmt, 3 + 18), 0);
	bytes_free(&b);
}

static uint64_t read_ts(const uint8_t *p)
{
	return ((uint64_t)(p[0] & 0x0e) << 29) | ((uint64_t)p[1] << 22) |
	       ((uint64_t)(p[2] & 0xfe) << 14) | ((uint64_t)p[3] << 7) | (p[4] >> 1);
}

static void test_video_pes_packets(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes b;
	uint8_t es[500];
	for (size_t i = 0; i < sizeof(es); i++)
		es[i] = (uint8_t)i;
	bytes_init(&b);
	ts_mux_init(&m, 1, 1);
	uint64_t dts = 90000, pts = 93600;
	ts_mux_write_pes(&m, &b, 1, es, sizeof(es), pts, dts, 1);
	/* 19 PES header bytes + 500: 176 after an 8-byte PCR field, then 184, then the rest. */
	assert_int_equal(b.len, 3 * TS_PACKET_SIZE);
	const uint8_t *p = b.data;
	assert_int_equal(p[0], 0x47);
	assert_int_equal(p[1], 0x41);                  /* payload unit start, PID 0x100 */
	assert_int_equal(p[2], 0x00);
	assert_int_equal(p[3], 0x30);                  /* adaptation + payload, cc 0 */
	assert_int_equal(p[4], 7);                     /* adaptation field length */
	assert_int_equal(p[5], 0x50);                  /* random access + PCR */
	uint64_t pcr = ((uint64_t)rd_u32be(p + 6) << 1) | (p[10] >> 7);
	assert_int_equal(pcr, dts - 9000);
	const uint8_t *pes = p + 12;
	assert_memory_equal(pes, "\x00\x00\x01\xe0\x00\x00\x80\xc0\x0a", 9);
	assert_int_equal(pes[9] >> 4, 3);
	assert_int_equal(read_ts(pes + 9), pts);
	assert_int_equal(pes[14] >> 4, 1);
	assert_int_equal(read_ts(pes + 14), dts);
	assert_memory_equal(pes + 19, es, TS_PACKET_SIZE - 12 - 19);
	/* Second packet: payload only, cc 1. */
	assert_int_equal(b.data[TS_PACKET_SIZE + 1], 0x01);
	assert_int_equal(b.data[TS_PACKET_SIZE + 3], 0x11);
	/* Last packet: stuffed through its adaptation field, ending with the last ES byte. */
	const uint8_t *last = b.data + 2 * TS_PACKET_SIZE;
	assert_int_equal(last[3], 0x32);
	size_t left = sizeof(es) - (TS_PACKET_SIZE - 12 - 19) - 184;
	assert_int_equal(last[4], 183 - left);
	assert_int_equal(last[5], 0x00);
	assert_int_equal(last[6], 0xff);
	assert_memory_equal(last + TS_PACKET_SIZE - left, es + sizeof(es) - left, left);
	bytes_free(&b);
}

static void test_audio_pes_has_length_and_pts_only(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes b;
	uint8_t es[183 - 14];
	memset(es, 0xaa, sizeof(es));
	bytes_init(&b);
	ts_mux_init(&m, 1, 1);
	/* Exactly one byte short of filling a packet: a 1-byte adaptation field (length 0). */
	ts_mux_write_pes(&m, &b, 0, es, sizeof(es), 180000, 180000, 0);
	assert_int_equal(b.len, TS_PACKET_SIZE);
	const uint8_t *p = b.data;
	assert_int_equal(rd_u16be(p + 1) & 0x1fff, TS_PID_AUDIO);
	assert_int_equal(p[3], 0x30);
	assert_int_equal(p[4], 0);
	const uint8_t *pes = p + 5;
	assert_memory_equal(pes, "\x00\x00\x01\xc0", 4);
	assert_int_equal(rd_u16be(pes + 4), 3 + 5 + sizeof(es));
	assert_int_equal(pes[7], 0x80);
	assert_int_equal(pes[8], 5);
	assert_int_equal(pes[9] >> 4, 2);
	assert_int_equal(read_ts(pes + 9), 180000);
	bytes_free(&b);
}

static void test_continuity_wraps(void **state)
{
	(void)state;
	struct ts_mux m;
	struct bytes b;
	uint8_t es[10] = { 0 };
	bytes_init(&b);
	ts_mux_init(&m, 1, 1);
	for (int i = 0; i < 17; i++)
		ts_mux_write_pes(&m, &b, 0, es, sizeof(es), 0, 0, 0);
	assert_int_equal(b.data[15 * TS_PACKET_SIZE + 3] & 0x0f, 15);
	assert_int_equal(b.data[16 * TS_PACKET_SIZE + 3] & 0x0f, 0);
	bytes_free(&b);
}

static void test_annexb_adds_aud_and_params_on_key(void **state)
{
	(void)state;
	struct avc_config cfg;
	assert_int_equal(avc_parse_config(fixture_avcc, sizeof(fixture_avcc), &cfg), 0);
	/* An AUD of the publisher's (dropped), an IDR slice of 3 bytes. */
	const uint8_t au[] = { 0, 0, 0, 2, 0x09, 0x10, 0, 0, 0, 3, 0x65, 0x88, 0x84 };
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(ts_avcc_to_annexb(au, sizeof(au), 4, &cfg, 1, &b), 0);
	size_t want = 6 + 4 + 25 + 4 + 4 + 4 + 3;
	assert_int_equal(b.len, want);
	assert_memory_equal(b.data, "\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01\x67", 11);
	assert_memory_equal(b.data + 10, fixture_avcc + 8, 25);
	assert_memory_equal(b.data + 35, "\x00\x00\x00\x01\x68", 5);
	assert_memory_equal(b.data + want - 7, "\x00\x00\x00\x01\x65\x88\x84", 7);
	/* Not a keyframe: no parameter sets. */
	bytes_clear(&b);
	assert_int_equal(ts_avcc_to_annexb(au + 6, 7, 4, &cfg, 0, &b), 0);
	assert_int_equal(b.len, 6 + 7);
	bytes_free(&b);
}

static void test_annexb_rejects_bad_lengths(void **state)
{
	(void)state;
	const uint8_t au[] = { 0, 0, 0, 3, 0x65, 0x88, 0x84 };
	struct bytes b;
	bytes_init(&b);
	/* Every truncation fails and appends nothing. */
	for (size_t n = 1; n < sizeof(au); n++) {
		assert_int_equal(ts_avcc_to_annexb(au, n, 4, NULL, 0, &b), SL_EPROTO);
		assert_int_equal(b.len, 0);
	}
	const uint8_t zero[] = { 0, 0, 0, 0 };
	assert_int_equal(ts_avcc_to_annexb(zero, sizeof(zero), 4, NULL, 0, &b), SL_EPROTO);
	assert_int_equal(ts_avcc_to_annexb(au, sizeof(au), 3, NULL, 0, &b), SL_EPROTO);
	assert_int_equal(b.len, 0);
	/* Two-byte lengths work. */
	const uint8_t two[] = { 0, 2, 0x41, 0x9a };
	assert_int_equal(ts_avcc_to_annexb(two, sizeof(two), 2, NULL, 0, &b), 0);
	assert_int_equal(b.len, 6 + 6);
	bytes_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psi_matches_ffmpeg),
		cmocka_unit_test(test_crc32_known_values),
		cmocka_unit_test(test_audio_only_pmt),
		cmocka_unit_test(test_video_pes_packets),
		cmocka_unit_test(test_audio_pes_has_length_and_pts_only),
		cmocka_unit_test(test_continuity_wraps),
		cmocka_unit_test(test_annexb_adds_aud_and_params_on_key),
		cmocka_unit_test(test_annexb_rejects_bad_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
