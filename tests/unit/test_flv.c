/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_flv.c - FLV framing, legacy audio/video tag headers and Enhanced RTMP
 * video headers.
 *
 * Real bytes come from FFmpeg 5.1 (Debian 12, libx264, native aac):
 *   ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 2 \
 *          -c:v libx264 -profile:v high -c:a aac high.flv
 * and audio-only / video-only variants (flags byte 0x04 / 0x01), and
 *   ffmpeg -f lavfi -i sine=sample_rate=22050 -t 0.5 -c:a libmp3lame mp3.flv
 * This FFmpeg cannot write Enhanced RTMP ("Video codec hevc not compatible
 * with flv"; E-RTMP muxing arrived in 6.1), so the E-RTMP tags are built by
 * hand from veovera enhanced-rtmp v2, wrapping real hvcC/av1C records that
 * FFmpeg wrote into MP4 (libx265 / libaom-av1, 64x64).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/flv.h"

/* high.flv bytes 0..12: "FLV", version 1, audio+video, DataOffset 9, PreviousTagSize0. */
static const uint8_t high_file_header[] = {
	0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
};

/*
 * high.flv bytes 321..408: the AVC sequence header tag (51-byte body holding
 * the avcC) and the AAC sequence header tag (7 bytes), each with its
 * PreviousTagSize (0x3e = 62, 0x12 = 18).
 */
static const uint8_t high_seq_tags[] = {
	0x09, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d,
	0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00,
	0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb,
	0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x3e, 0x08, 0x00, 0x00, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaf, 0x00, 0x12, 0x08, 0x56, 0xe5, 0x00,
	0x00, 0x00, 0x00, 0x12,
};
#define VIDEO_TAG_LEN 66 /* 11 + 51 + 4 */

/* high.flv tag 4 header: video, 2482 bytes, ts 40 ms. */
static const uint8_t high_tag4_header[] = {
	0x09, 0x00, 0x09, 0xb2, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00,
};

/* First bytes of high.flv tag 3 (keyframe, cts 80) and tag 4 (inter, cts 200). */
static const uint8_t high_key_frame[] = { 0x17, 0x01, 0x00, 0x00, 0x50, 0x00, 0x00, 0x02, 0xae };
static const uint8_t high_inter_frame[] = { 0x27, 0x01, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x09, 0xa9 };

/* mp3.flv first audio body bytes: MP3, 22 kHz, 16-bit, mono, then the MPEG frame. */
static const uint8_t mp3_audio[] = { 0x2a, 0xff, 0xf3, 0x40, 0xc4 };

/*
 * hvcC written by FFmpeg (libx265 3.5, 64x64, Main) into MP4, cut after its
 * VPS/SPS/PPS arrays (numOfArrays 4 -> 3, the x265 info SEI array dropped).
 */
static const uint8_t hvcc[] = {
	0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0,
	0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18,
	0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
	0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x95, 0x98, 0x09, 0x21, 0x00, 0x01, 0x00,
	0x28, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
	0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0, 0x20, 0x81, 0x05, 0x96, 0x56, 0x69, 0x24, 0xca,
	0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0c, 0x84, 0x22,
	0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40,
};

/* av1C written by FFmpeg (libaom-av1, 64x64) into MP4: header + sequence header OBU. */
static const uint8_t av1c[] = {
	0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9b, 0x5f,
	0x20, 0x08,
};

/* Builds an E-RTMP video body: header byte, FourCC, optional bytes, payload. */
static size_t ex_video(uint8_t *out, uint8_t b0, const char *fourcc, const uint8_t *extra,
                       size_t extra_len, const uint8_t *payload, size_t payload_len)
{
	size_t n = 0;

	out[n++] = b0;
	memcpy(out + n, fourcc, 4);
	n += 4;
	if (extra_len)
		memcpy(out + n, extra, extra_len);
	n += extra_len;
	if (payload_len)
		memcpy(out + n, payload, payload_len);
	return n + payload_len;
}

static void test_file_header_write_matches_ffmpeg(void **state)
{
	(void)state;
	uint8_t out[FLV_FILE_HEADER_SIZE];

	flv_write_file_header(out, 1, 1);
	assert_memory_equal(out, high_file_header, sizeof(high_file_header));
	flv_write_file_header(out, 1, 0);
	assert_int_equal(out[4], 0x04); /* sine-only files from ffmpeg */
	flv_write_file_header(out, 0, 1);
	assert_int_equal(out[4], 0x01); /* testsrc2-only files from ffmpeg */
}

static void test_file_header_parse(void **state)
{
	(void)state;
	int a = -1, v = -1;

	assert_int_equal(flv_parse_file_header(high_file_header, sizeof(high_file_header), &a, &v),
	                 13);
	assert_int_equal(a, 1);
	assert_int_equal(v, 1);

	uint8_t hdr[FLV_FILE_HEADER_SIZE];
	flv_write_file_header(hdr, 0, 1);
	assert_int_equal(flv_parse_file_header(hdr, sizeof(hdr), &a, &v), 13);
	assert_int_equal(a, 0);
	assert_int_equal(v, 1);
}

static void test_file_header_truncated_and_bad(void **state)
{
	(void)state;
	int a, v;

	for (size_t n = 0; n < sizeof(high_file_header); n++)
		assert_int_equal(flv_parse_file_header(high_file_header, n, &a, &v), SL_EAGAIN);

	uint8_t bad[FLV_FILE_HEADER_SIZE];
	memcpy(bad, high_file_header, sizeof(bad));
	bad[2] = 'X'; /* refused as soon as the signature byte is there */
	assert_int_equal(flv_parse_file_header(bad, 3, &a, &v), SL_EPROTO);
	assert_int_equal(flv_parse_file_header((const uint8_t *)"G", 1, &a, &v), SL_EPROTO);

	memcpy(bad, high_file_header, sizeof(bad));
	bad[3] = 2; /* version */
	assert_int_equal(flv_parse_file_header(bad, sizeof(bad), &a, &v), SL_EPROTO);

	memcpy(bad, high_file_header, sizeof(bad));
	bad[8] = 8; /* DataOffset shorter than the header itself */
	assert_int_equal(flv_parse_file_header(bad, sizeof(bad), &a, &v), SL_EPROTO);

	memcpy(bad, high_file_header, sizeof(bad));
	bad[12] = 1; /* PreviousTagSize0 must be 0 */
	assert_int_equal(flv_parse_file_header(bad, sizeof(bad), &a, &v), SL_EPROTO);
}

static void test_file_header_longer_data_offset(void **state)
{
	(void)state;
	/* DataOffset 12: three extra header bytes, then PreviousTagSize0. */
	static const uint8_t hdr[] = {
		'F', 'L', 'V', 1, 0x05, 0, 0, 0, 12, 0xaa, 0xbb, 0xcc, 0, 0, 0, 0,
	};
	int a, v;

	assert_int_equal(flv_parse_file_header(hdr, sizeof(hdr) - 1, &a, &v), SL_EAGAIN);
	assert_int_equal(flv_parse_file_header(hdr, sizeof(hdr), &a, &v), 16);
}

static void test_parse_real_tags(void **state)
{
	(void)state;
	struct flv_tag t;
	int rc = flv_parse_tag(high_seq_tags, sizeof(high_seq_tags), 1 << 20, &t);

	assert_int_equal(rc, VIDEO_TAG_LEN);
	assert_int_equal(t.type, FLV_TAG_VIDEO);
	assert_int_equal(t.ts, 0);
	assert_int_equal(t.size, 51);
	assert_ptr_equal(t.body, high_seq_tags + 11);

	rc = flv_parse_tag(high_seq_tags + VIDEO_TAG_LEN, sizeof(high_seq_tags) - VIDEO_TAG_LEN,
	                   1 << 20, &t);
	assert_int_equal(rc, 22);
	assert_int_equal(t.type, FLV_TAG_AUDIO);
	assert_int_equal(t.size, 7);
	assert_int_equal(t.body[0], 0xaf);
}

static void test_tag_truncated_every_length(void **state)
{
	(void)state;
	struct flv_tag t;

	for (size_t n = 0; n < VIDEO_TAG_LEN; n++)
		assert_int_equal(flv_parse_tag(high_seq_tags, n, 1 << 20, &t), SL_EAGAIN);
	assert_int_equal(flv_parse_tag(high_seq_tags, VIDEO_TAG_LEN, 1 << 20, &t), VIDEO_TAG_LEN);
}

static void test_tag_previous_size_mismatch(void **state)
{
	(void)state;
	uint8_t buf[VIDEO_TAG_LEN];
	struct flv_tag t;

	memcpy(buf, high_seq_tags, sizeof(buf));
	buf[VIDEO_TAG_LEN - 1] = 0x3f; /* 63 instead of 11 + 51 */
	assert_int_equal(flv_parse_tag(buf, sizeof(buf), 1 << 20, &t), SL_EPROTO);
	buf[VIDEO_TAG_LEN - 1] = 0x33; /* the body size alone, a common writer bug */
	assert_int_equal(flv_parse_tag(buf, sizeof(buf), 1 << 20, &t), SL_EPROTO);
}

static void test_tag_max_size(void **state)
{
	(void)state;
	struct flv_tag t;

	assert_int_equal(flv_parse_tag(high_seq_tags, VIDEO_TAG_LEN, 51, &t), VIDEO_TAG_LEN);
	assert_int_equal(flv_parse_tag(high_seq_tags, VIDEO_TAG_LEN, 50, &t), SL_ELIMIT);
	/* Over the limit is known from the header alone: no waiting for the body. */
	assert_int_equal(flv_parse_tag(high_seq_tags, FLV_TAG_HEADER_SIZE, 50, &t), SL_ELIMIT);

	uint8_t huge[FLV_TAG_HEADER_SIZE];
	flv_write_tag_header(huge, FLV_TAG_VIDEO, 0xffffff, 0);
	assert_int_equal(flv_parse_tag(huge, sizeof(huge), 1 << 20, &t), SL_ELIMIT);
}

static void test_tag_header_write_and_extended_timestamp(void **state)
{
	(void)state;
	uint8_t out[FLV_TAG_HEADER_SIZE];

	flv_write_tag_header(out, FLV_TAG_VIDEO, 2482, 40);
	assert_memory_equal(out, high_tag4_header, sizeof(out));

	/* Low 24 bits big-endian, then bits 24-31 in the extension byte. */
	flv_write_tag_header(out, FLV_TAG_AUDIO, 7, 0x12345678);
	static const uint8_t want[] = { 0x08, 0x00, 0x00, 0x07, 0x34, 0x56, 0x78, 0x12, 0, 0, 0 };
	assert_memory_equal(out, want, sizeof(want));

	uint8_t tag[FLV_TAG_HEADER_SIZE + 7 + 4];
	memcpy(tag, out, sizeof(out));
	memcpy(tag + 11, high_seq_tags + VIDEO_TAG_LEN + 11, 7);
	tag[18] = 0;
	tag[19] = 0;
	tag[20] = 0;
	tag[21] = 18;
	struct flv_tag t;
	assert_int_equal(flv_parse_tag(tag, sizeof(tag), 1 << 20, &t), 22);
	assert_int_equal(t.ts, 0x12345678);
}

static void test_tag_type_bits(void **state)
{
	(void)state;
	uint8_t buf[VIDEO_TAG_LEN];
	struct flv_tag t;

	memcpy(buf, high_seq_tags, sizeof(buf));
	buf[0] = 0xc9; /* reserved bits set: ignored */
	assert_int_equal(flv_parse_tag(buf, sizeof(buf), 1 << 20, &t), VIDEO_TAG_LEN);
	assert_int_equal(t.type, FLV_TAG_VIDEO);
	buf[0] = 0x29; /* Filter bit: encrypted body */
	assert_int_equal(flv_parse_tag(buf, sizeof(buf), 1 << 20, &t), SL_EUNSUPP);
	assert_int_equal(flv_parse_tag(buf, FLV_TAG_HEADER_SIZE, 1 << 20, &t), SL_EUNSUPP);
}

static void test_video_avc_sequence_header(void **state)
{
	(void)state;
	struct flv_video v;

	assert_int_equal(flv_parse_video(high_seq_tags + 11, 51, &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_H264);
	assert_int_equal(v.codec_id, 7);
	assert_int_equal(v.frame_type, FLV_FRAME_KEY);
	assert_false(v.enhanced);
	assert_true(v.is_seq_header);
	assert_false(v.is_frame);
	assert_int_equal(v.packet_type, 0);
	assert_int_equal(v.fourcc, 0);
	assert_int_equal(v.cts, 0);
	assert_ptr_equal(v.data, high_seq_tags + 16);
	assert_int_equal(v.len, 46);
	assert_int_equal(v.data[0], 1); /* configurationVersion */
}

static void test_video_avc_frames(void **state)
{
	(void)state;
	struct flv_video v;

	assert_int_equal(flv_parse_video(high_key_frame, sizeof(high_key_frame), &v), 0);
	assert_int_equal(v.frame_type, FLV_FRAME_KEY);
	assert_true(v.is_frame);
	assert_false(v.is_seq_header);
	assert_int_equal(v.cts, 80);
	assert_int_equal(v.len, 4);

	assert_int_equal(flv_parse_video(high_inter_frame, sizeof(high_inter_frame), &v), 0);
	assert_int_equal(v.frame_type, FLV_FRAME_INTER);
	assert_true(v.is_frame);
	assert_int_equal(v.cts, 200);

	static const uint8_t neg[] = { 0x27, 0x01, 0xff, 0xff, 0xd8, 0x00 };
	assert_int_equal(flv_parse_video(neg, sizeof(neg), &v), 0);
	assert_int_equal(v.cts, -40);

	static const uint8_t eos[] = { 0x17, 0x02, 0x00, 0x00, 0x00 };
	assert_int_equal(flv_parse_video(eos, sizeof(eos), &v), 0);
	assert_true(v.is_seq_end);
	assert_false(v.is_frame);
	assert_int_equal(v.len, 0);
}

static void test_video_avc_truncated_and_bad(void **state)
{
	(void)state;
	struct flv_video v;

	for (size_t n = 0; n < 5; n++)
		assert_int_equal(flv_parse_video(high_key_frame, n, &v), SL_EPROTO);

	uint8_t bad[sizeof(high_key_frame)];
	memcpy(bad, high_key_frame, sizeof(bad));
	bad[1] = 3; /* AVCPacketType */
	assert_int_equal(flv_parse_video(bad, sizeof(bad), &v), SL_EPROTO);
	bad[0] = 0x07; /* frame type 0 */
	assert_int_equal(flv_parse_video(bad, sizeof(bad), &v), SL_EPROTO);
	bad[0] = 0x67; /* frame type 6 */
	assert_int_equal(flv_parse_video(bad, sizeof(bad), &v), SL_EPROTO);
}

static void test_video_legacy_hevc_id_12(void **state)
{
	(void)state;
	uint8_t body[5 + sizeof(hvcc)];
	struct flv_video v;

	body[0] = 0x1c; /* key frame, codec id 12 */
	body[1] = 0;
	body[2] = body[3] = body[4] = 0;
	memcpy(body + 5, hvcc, sizeof(hvcc));
	assert_int_equal(flv_parse_video(body, sizeof(body), &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_HEVC);
	assert_int_equal(v.codec_id, 12);
	assert_false(v.enhanced);
	assert_true(v.is_seq_header);
	assert_int_equal(v.len, sizeof(hvcc));
	assert_memory_equal(v.data, hvcc, sizeof(hvcc));

	static const uint8_t frame[] = { 0x2c, 0x01, 0x00, 0x00, 0x28, 0, 0, 0, 1, 0x02 };
	assert_int_equal(flv_parse_video(frame, sizeof(frame), &v), 0);
	assert_true(v.is_frame);
	assert_int_equal(v.cts, 40);
	assert_int_equal(v.len, 5);
}

static void test_video_other_legacy_codecs(void **state)
{
	(void)state;
	struct flv_video v;
	static const uint8_t vp6[] = { 0x14, 0x00, 0x12 };     /* key frame, On2 VP6 */
	static const uint8_t h263[] = { 0x22, 0x00, 0x00, 0x84 }; /* inter, Sorenson */

	assert_int_equal(flv_parse_video(vp6, sizeof(vp6), &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_OTHER_VIDEO);
	assert_int_equal(v.codec_id, 4);
	assert_true(v.is_frame);
	assert_ptr_equal(v.data, vp6 + 1);
	assert_int_equal(v.len, 2);

	assert_int_equal(flv_parse_video(h263, sizeof(h263), &v), 0);
	assert_int_equal(v.codec_id, 2);
	assert_int_equal(v.frame_type, FLV_FRAME_INTER);
	assert_int_equal(v.len, 3);
}

static void test_video_command_frames(void **state)
{
	(void)state;
	struct flv_video v;
	static const uint8_t legacy[] = { 0x57, 0x01 }; /* info frame, AVC, EndSeek */
	static const uint8_t ex[] = { 0xd1, 0x00 };     /* E-RTMP Command, no FourCC */

	assert_int_equal(flv_parse_video(legacy, sizeof(legacy), &v), 0);
	assert_int_equal(v.frame_type, FLV_FRAME_INFO);
	assert_false(v.is_frame);
	assert_false(v.is_seq_header);
	assert_int_equal(v.len, 1);
	assert_int_equal(v.data[0], 1);
	assert_int_equal(flv_parse_video(legacy, 1, &v), SL_EPROTO);

	assert_int_equal(flv_parse_video(ex, sizeof(ex), &v), 0);
	assert_true(v.enhanced);
	assert_int_equal(v.frame_type, FLV_FRAME_INFO);
	assert_false(v.is_frame);
	assert_int_equal(v.fourcc, 0);
	assert_int_equal(v.data[0], 0);
	assert_int_equal(flv_parse_video(ex, 1, &v), SL_EPROTO);
}

static void test_ex_video_hevc_sequence_start(void **state)
{
	(void)state;
	uint8_t body[5 + sizeof(hvcc)];
	struct flv_video v;
	/* IsExHeader | KeyFrame << 4 | SequenceStart, 'hvc1', HEVCDecoderConfigurationRecord */
	size_t n = ex_video(body, 0x90, "hvc1", NULL, 0, hvcc, sizeof(hvcc));

	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_true(v.enhanced);
	assert_int_equal(v.codec, FLV_CODEC_HEVC);
	assert_int_equal(v.fourcc, 0x68766331);
	assert_int_equal(v.codec_id, 0);
	assert_int_equal(v.frame_type, FLV_FRAME_KEY);
	assert_int_equal(v.packet_type, 0);
	assert_true(v.is_seq_header);
	assert_false(v.is_frame);
	assert_ptr_equal(v.data, body + 5);
	assert_int_equal(v.len, sizeof(hvcc));
}

static void test_ex_video_hevc_coded_frames(void **state)
{
	(void)state;
	static const uint8_t cts[] = { 0xff, 0xff, 0xd8 }; /* SI24 -40 */
	static const uint8_t nalu[] = { 0, 0, 0, 3, 0x02, 0x01, 0xd0 };
	uint8_t body[32];
	struct flv_video v;

	/* InterFrame, CodedFrames: SI24 composition time after the FourCC. */
	size_t n = ex_video(body, 0xa1, "hvc1", cts, sizeof(cts), nalu, sizeof(nalu));
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.frame_type, FLV_FRAME_INTER);
	assert_true(v.is_frame);
	assert_int_equal(v.cts, -40);
	assert_ptr_equal(v.data, body + 8);
	assert_int_equal(v.len, sizeof(nalu));
	for (size_t k = 0; k < 8; k++)
		assert_int_equal(flv_parse_video(body, k, &v), SL_EPROTO);

	/* KeyFrame, CodedFramesX: composition time implicitly zero, no SI24. */
	n = ex_video(body, 0x93, "hvc1", NULL, 0, nalu, sizeof(nalu));
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.frame_type, FLV_FRAME_KEY);
	assert_true(v.is_frame);
	assert_int_equal(v.cts, 0);
	assert_ptr_equal(v.data, body + 5);
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(flv_parse_video(body, k, &v), SL_EPROTO);
}

static void test_ex_video_av1(void **state)
{
	(void)state;
	/* A temporal delimiter OBU then a padding OBU: stand-ins for picture data. */
	static const uint8_t obus[] = { 0x12, 0x00, 0x7a, 0x01, 0x00 };
	uint8_t body[32];
	struct flv_video v;

	size_t n = ex_video(body, 0x90, "av01", NULL, 0, av1c, sizeof(av1c));
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_AV1);
	assert_true(v.is_seq_header);
	assert_int_equal(v.len, sizeof(av1c));
	assert_memory_equal(v.data, av1c, sizeof(av1c));

	/* CodedFrames for av01 carries no composition time. */
	n = ex_video(body, 0x91, "av01", NULL, 0, obus, sizeof(obus));
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_true(v.is_frame);
	assert_int_equal(v.cts, 0);
	assert_ptr_equal(v.data, body + 5);
	assert_int_equal(v.len, sizeof(obus));
	/* Five bytes is a complete (empty) av01 CodedFrames header. */
	assert_int_equal(flv_parse_video(body, 5, &v), 0);
	assert_int_equal(v.len, 0);
}

static void test_ex_video_other_fourccs(void **state)
{
	(void)state;
	static const uint8_t cts[] = { 0x00, 0x00, 0x50 };
	static const uint8_t payload[] = { 0xaa };
	uint8_t body[16];
	struct flv_video v;

	size_t n = ex_video(body, 0x91, "avc1", cts, sizeof(cts), payload, 1);
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_H264);
	assert_int_equal(v.cts, 80);
	assert_int_equal(v.len, 1);

	n = ex_video(body, 0xa1, "vp09", NULL, 0, payload, 1);
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_VP9);
	assert_int_equal(v.len, 1);

	n = ex_video(body, 0x91, "vp08", NULL, 0, payload, 1);
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.codec, FLV_CODEC_OTHER_VIDEO);
	assert_int_equal(v.fourcc, 0x76703038);
}

static void test_ex_video_packet_types(void **state)
{
	(void)state;
	uint8_t body[16];
	struct flv_video v;

	size_t n = ex_video(body, 0x92, "hvc1", NULL, 0, NULL, 0);
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_true(v.is_seq_end);
	assert_false(v.is_frame);

	/* Metadata ignores the frame type, even the reserved 0. */
	static const uint8_t amf[] = { 0x02, 0x00, 0x09 };
	n = ex_video(body, 0x84, "hvc1", NULL, 0, amf, sizeof(amf));
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.packet_type, 4);
	assert_false(v.is_frame);
	assert_false(v.is_seq_header);
	assert_int_equal(v.len, sizeof(amf));

	n = ex_video(body, 0x95, "av01", NULL, 0, NULL, 0);
	assert_int_equal(flv_parse_video(body, n, &v), 0);
	assert_int_equal(v.packet_type, 5);
	assert_false(v.is_seq_header);

	n = ex_video(body, 0x96, "hvc1", NULL, 0, NULL, 0); /* Multitrack */
	assert_int_equal(flv_parse_video(body, n, &v), SL_EUNSUPP);
	n = ex_video(body, 0x97, "hvc1", NULL, 0, NULL, 0); /* ModEx */
	assert_int_equal(flv_parse_video(body, n, &v), SL_EUNSUPP);
	n = ex_video(body, 0x98, "hvc1", NULL, 0, NULL, 0); /* reserved */
	assert_int_equal(flv_parse_video(body, n, &v), SL_EUNSUPP);

	n = ex_video(body, 0x83, "hvc1", NULL, 0, NULL, 0); /* frame type 0 */
	assert_int_equal(flv_parse_video(body, n, &v), SL_EPROTO);
	n = ex_video(body, 0xe3, "hvc1", NULL, 0, NULL, 0); /* frame type 6 */
	assert_int_equal(flv_parse_video(body, n, &v), SL_EPROTO);
}

static void test_audio_aac(void **state)
{
	(void)state;
	struct flv_audio a;
	const uint8_t *seq = high_seq_tags + VIDEO_TAG_LEN + 11;

	assert_int_equal(flv_parse_audio(seq, 7, &a), 0);
	assert_int_equal(a.codec, FLV_CODEC_AAC);
	assert_int_equal(a.sound_format, 10);
	/* AAC in FLV always claims 44 kHz 16-bit stereo; the ASC is the truth. */
	assert_int_equal(a.rate_index, 3);
	assert_int_equal(a.sample_size, 1);
	assert_int_equal(a.stereo, 1);
	assert_true(a.is_seq_header);
	assert_ptr_equal(a.data, seq + 2);
	assert_int_equal(a.len, 5);

	static const uint8_t raw[] = { 0xaf, 0x01, 0x21, 0x4c };
	assert_int_equal(flv_parse_audio(raw, sizeof(raw), &a), 0);
	assert_false(a.is_seq_header);
	assert_int_equal(a.len, 2);

	assert_int_equal(flv_parse_audio(seq, 0, &a), SL_EPROTO);
	assert_int_equal(flv_parse_audio(seq, 1, &a), SL_EPROTO);
	assert_int_equal(flv_parse_audio(seq, 2, &a), 0); /* empty config: the ASC parser's call */
	static const uint8_t bad[] = { 0xaf, 0x02, 0x00 };
	assert_int_equal(flv_parse_audio(bad, sizeof(bad), &a), SL_EPROTO);
}

static void test_audio_mp3_and_others(void **state)
{
	(void)state;
	struct flv_audio a;

	assert_int_equal(flv_parse_audio(mp3_audio, sizeof(mp3_audio), &a), 0);
	assert_int_equal(a.codec, FLV_CODEC_MP3);
	assert_int_equal(a.sound_format, 2);
	assert_int_equal(a.rate_index, 2);
	assert_int_equal(a.sample_size, 1);
	assert_int_equal(a.stereo, 0);
	assert_false(a.is_seq_header);
	assert_ptr_equal(a.data, mp3_audio + 1);
	assert_int_equal(a.len, 4);

	static const uint8_t speex[] = { 0xb2, 0x00 };
	assert_int_equal(flv_parse_audio(speex, sizeof(speex), &a), 0);
	assert_int_equal(a.codec, FLV_CODEC_OTHER_AUDIO);
	assert_int_equal(a.sound_format, 11);

	static const uint8_t ex_audio[] = { 0x90, 'O', 'p', 'u', 's' }; /* E-RTMP audio */
	assert_int_equal(flv_parse_audio(ex_audio, sizeof(ex_audio), &a), SL_EUNSUPP);
}

static void test_codec_names(void **state)
{
	(void)state;
	assert_string_equal(flv_codec_name(FLV_CODEC_H264), "h264");
	assert_string_equal(flv_codec_name(FLV_CODEC_HEVC), "hevc");
	assert_string_equal(flv_codec_name(FLV_CODEC_AV1), "av1");
	assert_string_equal(flv_codec_name(FLV_CODEC_VP9), "vp9");
	assert_string_equal(flv_codec_name(FLV_CODEC_AAC), "aac");
	assert_string_equal(flv_codec_name(FLV_CODEC_MP3), "mp3");
	assert_string_equal(flv_codec_name(FLV_CODEC_UNKNOWN), "unknown");
	assert_string_equal(flv_codec_name((enum flv_codec)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_header_write_matches_ffmpeg),
		cmocka_unit_test(test_file_header_parse),
		cmocka_unit_test(test_file_header_truncated_and_bad),
		cmocka_unit_test(test_file_header_longer_data_offset),
		cmocka_unit_test(test_parse_real_tags),
		cmocka_unit_test(test_tag_truncated_every_length),
		cmocka_unit_test(test_tag_previous_size_mismatch),
		cmocka_unit_test(test_tag_max_size),
		cmocka_unit_test(test_tag_header_write_and_extended_timestamp),
		cmocka_unit_test(test_tag_type_bits),
		cmocka_unit_test(test_video_avc_sequence_header),
		cmocka_unit_test(test_video_avc_frames),
		cmocka_unit_test(test_video_avc_truncated_and_bad),
		cmocka_unit_test(test_video_legacy_hevc_id_12),
		cmocka_unit_test(test_video_other_legacy_codecs),
		cmocka_unit_test(test_video_command_frames),
		cmocka_unit_test(test_ex_video_hevc_sequence_start),
		cmocka_unit_test(test_ex_video_hevc_coded_frames),
		cmocka_unit_test(test_ex_video_av1),
		cmocka_unit_test(test_ex_video_other_fourccs),
		cmocka_unit_test(test_ex_video_packet_types),
		cmocka_unit_test(test_audio_aac),
		cmocka_unit_test(test_audio_mp3_and_others),
		cmocka_unit_test(test_codec_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
