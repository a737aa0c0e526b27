/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hls_stream.c - the HLS segmenter and its playlists: segments cut on
 * keyframes at the target, parts at the part target, a segment's bytes are
 * its parts', the window slides with EXT-X-MEDIA-SEQUENCE, discontinuities
 * on timestamp jumps and new publishers, and the LL-HLS tags.
 *
 * Media is synthetic (25 fps video with a keyframe every 2 s, AAC frames
 * every 23 ms) around the real sequence headers of the e2e fixture (x264
 * avcC and FFmpeg's AAC-LC 44.1 kHz stereo config); the segmenter never
 * decodes pictures, so slice bytes can be placeholders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "hls/hls_playlist.h"
#include "hls/hls_stream.h"

static const uint8_t video_header[] = {
	0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67,
	0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
	0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68,
	0xef, 0xbc, 0xb0, 0xfd, 0xf8, 0xf8, 0x00,
};
static const uint8_t audio_header[] = { 0xaf, 0x00, 0x12, 0x10, 0x56, 0xe5, 0x00 };
static const uint8_t key_frame[] = { 0x17, 0x01, 0, 0, 40, 0, 0, 0, 3, 0x65, 0x88, 0x84 };
static const uint8_t inter_frame[] = { 0x27, 0x01, 0, 0, 40, 0, 0, 0, 2, 0x41, 0x9a };
static const uint8_t audio_frame[] = { 0xaf, 0x01, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c };

static const struct hls_config ll_cfg = { .segment_ms = 2000, .part_ms = 500, .window = 3 };

static void headers(struct hls_stream *h)
{
	assert_int_equal(hls_stream_feed(h, 9, 0, video_header, sizeof(video_header), 0), 0);
	assert_int_equal(hls_stream_feed(h, 8, 0, audio_header, sizeof(audio_header), 0), 0);
}

/* Feeds [from, to) ms of media: video every 40 ms (key every 2 s), audio every 23 ms. */
static void media(struct hls_stream *h, uint32_t base, uint32_t from, uint32_t to)
{
	uint32_t a = from + (23 - from % 23) % 23;
	for (uint32_t v = from; v < to; v += 40) {
		for (; a < v; a += 23)
			hls_stream_feed(h, 8, base + a, audio_frame, sizeof(audio_frame), 1000);
		if (v % 2000 == 0)
			hls_stream_feed(h, 9, base + v, key_frame, sizeof(key_frame), 1000);
		else
			hls_stream_feed(h, 9, base + v, inter_frame, sizeof(inter_frame), 1000);
	}
}

static void test_waits_for_config_and_keyframe(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 100);
	/* No sequence headers yet: nothing is packaged. */
	hls_stream_feed(&h, 9, 0, key_frame, sizeof(key_frame), 0);
	assert_null(hls_stream_open_segment(&h));
	headers(&h);
	hls_stream_feed(&h, 9, 40, inter_frame, sizeof(inter_frame), 0);
	assert_null(hls_stream_open_segment(&h));
	hls_stream_feed(&h, 9, 2000, key_frame, sizeof(key_frame), 0);
	const struct hls_segment *s = hls_stream_open_segment(&h);
	assert_non_null(s);
	assert_int_equal(s->msn, 100);
	assert_int_equal(s->start_ms, 2000);
	hls_stream_free(&h);
}

static void test_segments_and_parts(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 7);
	headers(&h);
	media(&h, 0, 0, 4040);
	assert_int_equal(hls_stream_complete_count(&h), 2);
	for (uint64_t m = 7; m <= 8; m++) {
		const struct hls_segment *s = hls_stream_segment(&h, m);
		assert_true(s->complete);
		assert_int_equal(s->dur_ms, 2000);
		assert_int_equal(s->start_ms, (m - 7) * 2000);
		/* 25 fps: a 500 ms part holds 12 frames (480 ms); the last part is what is left. */
		assert_int_equal(s->nparts, 5);
		uint32_t sum = 0;
		size_t bytes = 0;
		for (unsigned i = 0; i < s->nparts; i++) {
			assert_true(s->parts[i].dur_ms <= 500);
			assert_int_equal(s->parts[i].independent, i == 0);
			sum += s->parts[i].dur_ms;
			bytes += s->parts[i].data->len;
			/* Every part starts with PAT and PMT, and is whole TS packets. */
			assert_int_equal(s->parts[i].data->len % TS_PACKET_SIZE, 0);
			assert_int_equal(s->parts[i].data->data[0], 0x47);
			assert_int_equal(s->parts[i].data->data[1], 0x40);
			assert_int_equal(s->parts[i].data->data[TS_PACKET_SIZE + 1], 0x50);
		}
		assert_int_equal(sum, 2000);
		assert_int_equal(bytes, s->bytes);
	}
	assert_int_equal(hls_stream_open_segment(&h)->msn, 9);
	hls_stream_free(&h);
}

static void test_window_slides(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 0);
	headers(&h);
	media(&h, 0, 0, 20600);     /* 10 complete segments, one part of the 11th */
	/* window 3 + 2 behind + the open one are held. */
	assert_int_equal(h.first_msn, 5);
	assert_int_equal(h.next_msn, 11);
	assert_null(hls_stream_segment(&h, 4));
	uint64_t first, last;
	assert_int_equal(hls_playlist_window(&h, &first, &last), 1);
	assert_int_equal(first, 7);
	assert_int_equal(last, 9);
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(hls_playlist_build(&h, "", &b), 3);
	bytes_put_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "#EXT-X-MEDIA-SEQUENCE:7\n"));
	assert_non_null(strstr(t, "#EXT-X-TARGETDURATION:2\n"));
	assert_null(strstr(t, "seg-6.ts"));
	assert_non_null(strstr(t, "#EXTINF:2.000,\nseg-7.ts\n"));
	assert_non_null(strstr(t, "#EXTINF:2.000,\nseg-9.ts\n"));
	/* Parts of the newest two segments and the open one, then the hint. */
	assert_null(strstr(t, "part-7."));
	assert_non_null(strstr(t, "#EXT-X-PART:DURATION=0.480,URI=\"part-8.0.ts\",INDEPENDENT=YES\n"));
	assert_non_null(strstr(t, "URI=\"part-10.0.ts\""));
	assert_non_null(strstr(t, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-10.1.ts\"\n"));
	assert_non_null(strstr(t, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n"));
	assert_non_null(strstr(t, "#EXT-X-PART-INF:PART-TARGET=0.500\n"));
	assert_null(strstr(t, "#EXT-X-DISCONTINUITY\n"));
	bytes_free(&b);
	hls_stream_free(&h);
}

static void test_plain_playlist_and_token_query(void **state)
{
	(void)state;
	const struct hls_config cfg = { .segment_ms = 2000, .part_ms = 0, .window = 6 };
	struct hls_stream h;
	hls_stream_init(&h, &cfg, 0);
	headers(&h);
	media(&h, 0, 0, 4040);
	assert_int_equal(hls_stream_segment(&h, 0)->nparts, 1);
	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&h, "?token=1.x", &b);
	bytes_put_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "seg-1.ts?token=1.x\n"));
	assert_null(strstr(t, "EXT-X-PART"));
	assert_null(strstr(t, "PRELOAD-HINT"));
	assert_null(strstr(t, "SERVER-CONTROL"));
	bytes_free(&b);
	hls_stream_free(&h);
}

static void test_long_gop_raises_target_duration(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 0);
	headers(&h);
	/* Keyframes every 2 s, but only every other one counts for this feed: 4 s GOPs. */
	for (uint32_t v = 0; v <= 8000; v += 40) {
		if (v % 4000 == 0)
			hls_stream_feed(&h, 9, v, key_frame, sizeof(key_frame), 0);
		else
			hls_stream_feed(&h, 9, v, inter_frame, sizeof(inter_frame), 0);
	}
	assert_int_equal(hls_stream_segment(&h, 0)->dur_ms, 4000);
	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&h, "", &b);
	bytes_put_u8(&b, 0);
	assert_non_null(strstr((const char *)b.data, "#EXT-X-TARGETDURATION:4\n"));
	bytes_free(&b);
	hls_stream_free(&h);

	/* RFC 8216: EXTINF rounded to the nearest integer is at most the target, so 2.48 s
	 * segments keep a target of 2, and 2.52 s ones need 3. */
	static const uint32_t gops[2] = { 2480, 2520 };
	static const char *const want[2] = { "#EXT-X-TARGETDURATION:2\n",
		                             "#EXT-X-TARGETDURATION:3\n" };
	for (int i = 0; i < 2; i++) {
		hls_stream_init(&h, &ll_cfg, 0);
		headers(&h);
		for (uint32_t v = 0; v <= 3 * gops[i]; v += 40)
			hls_stream_feed(&h, 9, v, v % gops[i] == 0 ? key_frame : inter_frame,
			                v % gops[i] == 0 ? sizeof(key_frame) : sizeof(inter_frame), 0);
		assert_int_equal(hls_stream_segment(&h, 0)->dur_ms, gops[i]);
		bytes_init(&b);
		hls_playlist_build(&h, "", &b);
		bytes_put_u8(&b, 0);
		assert_non_null(strstr((const char *)b.data, want[i]));
		bytes_free(&b);
		hls_stream_free(&h);
	}
}

static void test_timestamp_jump_is_a_discontinuity(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 0);
	headers(&h);
	media(&h, 0, 0, 3000);
	/* The timeline jumps back 60 s: the open segment closes, the next is marked. */
	media(&h, 0, 40000, 44040);
	const struct hls_segment *s1 = hls_stream_segment(&h, 1);
	assert_true(s1->complete);
	assert_int_equal(s1->discontinuity, 0);
	const struct hls_segment *s2 = hls_stream_segment(&h, 2);
	assert_int_equal(s2->discontinuity, 1);
	assert_int_equal(s2->start_ms, 40000);
	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&h, "", &b);
	bytes_put_u8(&b, 0);
	assert_non_null(strstr((const char *)b.data, "#EXT-X-DISCONTINUITY\n"));
	bytes_free(&b);
	hls_stream_free(&h);
}

static void test_new_publisher_needs_headers_again(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 0);
	headers(&h);
	media(&h, 0, 0, 2500);
	assert_int_equal(hls_stream_discontinuity(&h, 1), 1);
	assert_null(hls_stream_open_segment(&h));
	/* Frames without the new publisher's headers are not packaged. */
	media(&h, 0, 0, 2040);
	assert_null(hls_stream_open_segment(&h));
	headers(&h);
	media(&h, 0, 0, 2040);
	assert_non_null(hls_stream_open_segment(&h));
	const struct hls_segment *s = hls_stream_segment(&h, 2);   /* the first after it */
	assert_int_equal(s->start_ms, 0);
	assert_int_equal(s->discontinuity, 1);
	assert_int_equal(hls_stream_segment(&h, 3)->discontinuity, 0);
	/* Disconts counted once they leave memory: slide everything out. */
	media(&h, 0, 2040, 20040);
	assert_int_equal(h.disc_seq, 1);
	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&h, "", &b);
	bytes_put_u8(&b, 0);
	assert_non_null(strstr((const char *)b.data, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
	bytes_free(&b);
	hls_stream_free(&h);
}

/* fMP4: every part is one moof + mdat; segments name their init, which changes only when the
 * codec configuration does; the playlist carries EXT-X-MAP and .m4s URIs. */
static void test_fmp4_parts_and_inits(void **state)
{
	(void)state;
	struct hls_config cfg = ll_cfg;
	cfg.fmp4 = 1;
	struct hls_stream h;
	hls_stream_init(&h, &cfg, 50);
	headers(&h);
	media(&h, 0, 0, 4040);
	const struct hls_segment *s = hls_stream_segment(&h, 50);
	assert_non_null(s);
	assert_true(s->complete);
	assert_int_equal(s->init_id, 1);
	assert_true(s->nparts >= 4);
	for (unsigned i = 0; i < s->nparts; i++) {
		const struct rbuf *p = s->parts[i].data;
		assert_true(p->len > 16);
		assert_memory_equal(p->data + 4, "moof", 4);
		uint32_t moof = rd_u32be(p->data);
		assert_memory_equal(p->data + moof + 4, "mdat", 4);
		assert_int_equal(moof + rd_u32be(p->data + moof), p->len);
	}
	const struct rbuf *init = hls_stream_init_segment(&h, 1);
	assert_non_null(init);
	assert_memory_equal(init->data + 4, "ftyp", 4);
	assert_null(hls_stream_init_segment(&h, 2));

	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&h, "", &b);
	bytes_put_u8(&b, 0);
	const char *text = (const char *)b.data;
	assert_non_null(strstr(text, "#EXT-X-MAP:URI=\"init-1.mp4\"\n"));
	assert_null(strstr(strstr(text, "#EXT-X-MAP") + 1, "#EXT-X-MAP"));   /* listed once */
	assert_non_null(strstr(text, "seg-50.m4s"));
	assert_non_null(strstr(text, "part-51.0.m4s"));
	assert_null(strstr(text, ".ts"));
	bytes_free(&b);

	/* A new publisher with the same configuration keeps the init; another one gets a new. */
	hls_stream_discontinuity(&h, 1);
	headers(&h);
	media(&h, 10000, 0, 2040);
	assert_int_equal(hls_stream_open_segment(&h)->init_id, 1);
	hls_stream_discontinuity(&h, 1);
	static const uint8_t mono_header[] = { 0xaf, 0x00, 0x12, 0x08 };   /* AAC-LC 44.1 kHz mono */
	hls_stream_feed(&h, 9, 0, video_header, sizeof(video_header), 0);
	hls_stream_feed(&h, 8, 0, mono_header, sizeof(mono_header), 0);
	media(&h, 20000, 0, 2040);
	const struct hls_segment *open = hls_stream_open_segment(&h);
	assert_int_equal(open->init_id, 2);
	assert_non_null(hls_stream_init_segment(&h, 1));
	bytes_init(&b);
	hls_playlist_build(&h, "?token=t", &b);
	bytes_put_u8(&b, 0);
	text = (const char *)b.data;
	const char *map2 = strstr(text, "#EXT-X-MAP:URI=\"init-2.mp4?token=t\"\n");
	assert_non_null(map2);
	assert_true(map2 > strstr(text, "#EXT-X-DISCONTINUITY\n"));
	bytes_free(&b);
	hls_stream_free(&h);
}

static void test_audio_only(void **state)
{
	(void)state;
	struct hls_stream h;
	hls_stream_init(&h, &ll_cfg, 0);
	hls_stream_feed(&h, 8, 0, audio_header, sizeof(audio_header), 0);
	for (uint32_t a = 0; a < 4100; a += 23)
		hls_stream_feed(&h, 8, a, audio_frame, sizeof(audio_frame), 0);
	assert_int_equal(hls_stream_complete_count(&h), 2);
	const struct hls_segment *s = hls_stream_segment(&h, 0);
	assert_true(s->dur_ms >= 1900 && s->dur_ms <= 2100);
	/* The PMT lists audio only. */
	assert_int_equal(s->parts[0].data->data[TS_PACKET_SIZE + 7], 18);
	hls_stream_free(&h);
}

/* What cannot be packaged is counted, in both containers, and good media is not. */
/* An inter frame of n bytes: FLV video header, one NAL unit (length-prefixed). */
static uint8_t *big_frame(size_t n, int key)
{
	uint8_t *f = calloc(1, n);
	assert_non_null(f);
	f[0] = key ? 0x17 : 0x27;
	f[1] = 1;
	f[4] = 40;
	uint32_t nal = (uint32_t)(n - 9);
	f[5] = (uint8_t)(nal >> 24);
	f[6] = (uint8_t)(nal >> 16);
	f[7] = (uint8_t)(nal >> 8);
	f[8] = (uint8_t)nal;
	f[9] = key ? 0x65 : 0x41;
	return f;
}

/*
 * A GOP that never ends, of 50 KB frames, with max_bytes 1 MB: the segment is
 * cut at a quarter of it, frames are dropped until the next keyframe, which
 * opens a segment after a discontinuity; with keyframes, old segments go so
 * the whole stays under max_bytes.  Both formats.
 */
static void test_bytes_bounded(void **state)
{
	(void)state;
	for (int fmp4 = 0; fmp4 <= 1; fmp4++) {
		struct hls_config cfg = { .segment_ms = 2000, .part_ms = 500, .window = 6,
		                          .fmp4 = fmp4, .max_bytes = 1u << 20 };
		size_t n = 50000;
		uint8_t *inter = big_frame(n, 0), *key = big_frame(n, 1);
		struct hls_stream h;
		hls_stream_init(&h, &cfg, 1);
		headers(&h);
		hls_stream_feed(&h, 9, 0, key, n, 0);
		uint64_t most = 0;
		for (uint32_t t = 40; t < 8000; t += 40) {
			hls_stream_feed(&h, 9, t, inter, n, 0);
			if (hls_stream_bytes(&h) > most)
				most = hls_stream_bytes(&h);
		}
		assert_true(most <= (1u << 20) / HLS_SEGMENT_SHARE + 4 * n);
		assert_int_equal(h.segments_cut, 1);
		assert_true(h.frames_dropped > 100);
		assert_null(hls_stream_open_segment(&h));
		assert_int_equal(hls_stream_complete_count(&h), 1);
		hls_stream_feed(&h, 9, 8000, key, n, 0);
		const struct hls_segment *s = hls_stream_open_segment(&h);
		assert_non_null(s);
		assert_int_equal(s->discontinuity, 1);
		/* Now with a keyframe every 2 s: segments of ~2.5 MB are cut, old ones go. */
		most = 0;
		for (uint32_t t = 8040; t < 30000; t += 40) {
			hls_stream_feed(&h, 9, t, t % 2000 ? inter : key, n, 0);
			if (hls_stream_bytes(&h) > most)
				most = hls_stream_bytes(&h);
		}
		assert_true(most <= (1u << 20) + 4 * n);
		assert_true(h.segments_evicted > 0);
		assert_true(hls_stream_complete_count(&h) >= 1);
		hls_stream_free(&h);
		free(inter);
		free(key);
	}
}

static void test_refused_media_is_counted(void **state)
{
	(void)state;
	/* NAL length 99 where 1 byte follows; a video sequence header cut short. */
	static const uint8_t broken_frame[] = { 0x27, 0x01, 0, 0, 40, 0, 0, 0, 99, 0x41 };
	static const uint8_t short_header[] = { 0x17, 0x00, 0, 0, 0, 0x01, 0x64 };
	for (int fmp4 = 0; fmp4 <= 1; fmp4++) {
		struct hls_config cfg = ll_cfg;
		cfg.fmp4 = fmp4;
		struct hls_stream h;
		hls_stream_init(&h, &cfg, 0);
		headers(&h);
		media(&h, 0, 0, 3000);
		assert_int_equal(h.frames_dropped, 0);
		assert_int_equal(h.configs_refused, 0);
		hls_stream_feed(&h, 9, 3000, broken_frame, sizeof(broken_frame), 1000);
		assert_int_equal(h.frames_dropped, 1);
		hls_stream_feed(&h, 9, 3040, short_header, sizeof(short_header), 1000);
		assert_int_equal(h.configs_refused, 1);
		media(&h, 0, 3080, 5000);          /* the old configuration goes on */
		assert_int_equal(h.frames_dropped, 1);
		assert_true(hls_stream_complete_count(&h) >= 2);
		hls_stream_free(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_for_config_and_keyframe),
		cmocka_unit_test(test_segments_and_parts),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_plain_playlist_and_token_query),
		cmocka_unit_test(test_long_gop_raises_target_duration),
		cmocka_unit_test(test_timestamp_jump_is_a_discontinuity),
		cmocka_unit_test(test_new_publisher_needs_headers_again),
		cmocka_unit_test(test_audio_only),
		cmocka_unit_test(test_fmp4_parts_and_inits),
		cmocka_unit_test(test_refused_media_is_counted),
		cmocka_unit_test(test_bytes_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
