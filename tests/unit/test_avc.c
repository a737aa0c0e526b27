/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_avc.c - AVCDecoderConfigurationRecord and SPS parsing.
 *
 * The avcC records are the AVC sequence headers of FLV files written by
 * FFmpeg 5.1 with libx264 (Debian 12), all from lavfi testsrc2 at 25 fps:
 *   high:   320x240 -c:v libx264 -profile:v high
 *   base:   176x144 -profile:v baseline
 *   crop:   1280x720 -vf scale=1278:718 (crop right/bottom by one chroma unit)
 *   yuv444: 320x240 -pix_fmt yuv444p; odd444: -vf scale=317:239 -pix_fmt yuv444p
 *   yuv422: -vf scale=318:238 -pix_fmt yuv422p10le (High 4:2:2, 10-bit)
 *   gray:   -vf scale=175:143 -pix_fmt gray (chroma_format_idc 0)
 *   intl:   1920x1080 -flags +ildct+ilme -x264opts interlaced=1 (field coding)
 * Expected size/profile/level are what ffprobe reports for each file; the
 * chroma format, bit depth and the bit position where the SPS can be cut
 * (just before vui_parameters_present_flag) come from FFmpeg's
 * trace_headers bitstream filter.  x264 never writes SPS scaling lists or
 * POC type 1, so those SPSs are hand-built; each was checked field by field
 * with `ffmpeg -f h264 -i sps.h264 -c copy -bsf:v trace_headers -f null -`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/avc.h"

static const uint8_t avcc_high[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0,
	0xfd, 0xf8, 0xf8, 0x00,
};
static const uint8_t avcc_base[] = {
	0x01, 0x42, 0xc0, 0x0b, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0b, 0xd9, 0x02,
	0xc4, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc5,
	0x0a, 0x92, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20,
};
static const uint8_t avcc_crop[] = {
	0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1f, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9,
	0x40, 0x50, 0x05, 0xbe, 0xab, 0xff, 0x06, 0x69, 0x06, 0x6b, 0x10, 0x00, 0x00, 0x03,
	0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x83, 0x19, 0x60, 0x01, 0x00, 0x06,
	0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};
static const uint8_t avcc_yuv444[] = {
	0x01, 0xf4, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0xf4, 0x00, 0x0d, 0x91, 0x9b,
	0x28, 0x28, 0x3f, 0x60, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00,
	0x64, 0x1e, 0x28, 0x53, 0x2c, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xc4, 0x48, 0x44,
	0xff, 0xf8, 0xf8, 0x00,
};
static const uint8_t avcc_odd444[] = {
	0x01, 0xf4, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x1d, 0x67, 0xf4, 0x00, 0x0d, 0x91, 0x9b,
	0x28, 0x28, 0x3f, 0xc9, 0x5f, 0xf8, 0x1d, 0xe0, 0x1d, 0xb8, 0x80, 0x00, 0x00, 0x03,
	0x00, 0x80, 0x00, 0x00, 0x19, 0x07, 0x8a, 0x14, 0xcb, 0x01, 0x00, 0x06, 0x68, 0xeb,
	0xe3, 0xc4, 0x48, 0x44, 0xff, 0xf8, 0xf8, 0x00,
};
static const uint8_t avcc_yuv422[] = {
	0x01, 0x7a, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x1e, 0x67, 0x7a, 0x00, 0x0d, 0xb6, 0xcd,
	0x94, 0x14, 0x1f, 0xea, 0xff, 0xf0, 0x1d, 0xc0, 0x1d, 0xd1, 0x00, 0x00, 0x03, 0x00,
	0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x14, 0x29, 0x96, 0x01, 0x00, 0x06, 0x68,
	0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfe, 0xfa, 0xfa, 0x00,
};
static const uint8_t avcc_gray[] = {
	0x01, 0x64, 0x00, 0x0b, 0xff, 0xe1, 0x00, 0x1e, 0x67, 0x64, 0x00, 0x0b, 0xf3, 0x65,
	0x0b, 0x13, 0xea, 0xbf, 0xf0, 0x23, 0xc0, 0x20, 0xd6, 0xc8, 0x00, 0x00, 0x03, 0x00,
	0x08, 0x00, 0x00, 0x03, 0x01, 0x90, 0x78, 0xa1, 0x4c, 0xb0, 0x01, 0x00, 0x06, 0x68,
	0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfc, 0xf8, 0xf8, 0x00,
};
static const uint8_t avcc_intl[] = {
	0x01, 0x4d, 0x40, 0x28, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x4d, 0x40, 0x28, 0xf4, 0x03,
	0xc0, 0x22, 0x7e, 0xf0, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00,
	0x32, 0x1f, 0x16, 0x2e, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xde, 0x0f, 0xc8,
};

struct real_case {
	const char *name;
	const uint8_t *rec;
	size_t len;
	uint8_t profile, constraint, level;
	uint32_t width, height;
	uint8_t chroma, depth, frame_mbs_only;
	uint16_t sps_len, pps_len;
	size_t framed_len;   /* bytes up to the end of the last PPS */
	size_t sps_min;      /* shortest SPS prefix that reaches frame cropping */
};

#define REC(a) avcc_##a, sizeof(avcc_##a)
static const struct real_case real[] = {
	{ "high", REC(high), 100, 0x00, 13, 320, 240, 1, 8, 1, 25, 6, 42, 9 },
	{ "base", REC(base), 66, 0xc0, 11, 176, 144, 1, 8, 1, 22, 5, 38, 8 },
	{ "crop", REC(crop), 100, 0x00, 31, 1278, 718, 1, 8, 1, 31, 6, 48, 11 },
	{ "yuv444", REC(yuv444), 244, 0x00, 13, 320, 240, 3, 8, 1, 25, 6, 42, 10 },
	{ "odd444", REC(odd444), 244, 0x00, 13, 317, 239, 3, 8, 1, 29, 6, 46, 11 },
	{ "yuv422", REC(yuv422), 122, 0x00, 13, 318, 238, 2, 10, 1, 30, 6, 47, 11 },
	{ "gray", REC(gray), 100, 0x00, 11, 175, 143, 0, 8, 1, 30, 6, 47, 10 },
	{ "intl", REC(intl), 77, 0x40, 40, 1920, 1080, 1, 8, 0, 25, 4, 40, 10 },
};

/*
 * Hand-built SPS A: High, 4:2:0, seq_scaling_matrix_present with list 0
 * (4x4, x264's cqm4iy values), list 2 "use default" (delta -8) and list 6
 * (8x8, cqm8iy); POC type 1 with a 3-entry cycle {4194304, -2097152, 5}
 * whose long codes force three emulation prevention bytes; 40x23 MBs with
 * frame_crop_bottom_offset 4: 640x360.
 */
static const uint8_t sps_a[] = {
	0x67, 0x64, 0x00, 0x1e, 0xad, 0x94, 0x70, 0xe0, 0x80, 0x7c, 0x70, 0x40, 0x40, 0x64,
	0x20, 0x20, 0x50, 0x4c, 0x40, 0xa1, 0x48, 0x44, 0x4a, 0x20, 0xc6, 0x20, 0xa2, 0x10,
	0x11, 0xa1, 0x44, 0x14, 0x42, 0x10, 0x10, 0x98, 0x82, 0x88, 0x42, 0x10, 0x3e, 0x41,
	0x44, 0x21, 0x08, 0x40, 0xf8, 0xa2, 0x10, 0x84, 0x21, 0x83, 0x64, 0x21, 0x08, 0x43,
	0x10, 0x36, 0x42, 0x10, 0x86, 0x21, 0x03, 0x64, 0x21, 0x0c, 0x42, 0x11, 0x42, 0xa2,
	0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x02, 0x00, 0x00,
	0x08, 0xa2, 0x81, 0x40, 0x5f, 0xf2, 0xa0,
};

/*
 * Hand-built SPS B: High 4:4:4 with separate_colour_plane_flag (ChromaArrayType
 * 0, crop units 1 x 2 for fields), 10-bit, 12 scaling-list flags with list 11
 * explicit, frame_mbs_only 0, 48x10 map units, crop 1/2/0/3: 765x314.
 */
static const uint8_t sps_b[] = {
	0x67, 0xf4, 0x00, 0x28, 0x21, 0x2d, 0xa0, 0x02, 0x51, 0x06, 0x31, 0x05, 0x10, 0x80,
	0x8d, 0x0a, 0x20, 0xa2, 0x10, 0x80, 0x84, 0xc4, 0x14, 0x42, 0x10, 0x81, 0xf2, 0x0a,
	0x21, 0x08, 0x42, 0x07, 0xc5, 0x10, 0x84, 0x21, 0x0c, 0x1b, 0x21, 0x08, 0x42, 0x18,
	0x81, 0xb2, 0x10, 0x84, 0x31, 0x08, 0x1b, 0x21, 0x08, 0x62, 0x10, 0x8e, 0x76, 0x06,
	0x02, 0x9d, 0x39, 0x10,
};

/* Hand-built SPS C: Main, POC type 2, field coding, 45x23 map units, crop 1/0/1/2: 718x724. */
static const uint8_t sps_c[] = {
	0x67, 0x4d, 0x40, 0x1f, 0xa6, 0x80, 0xb4, 0x2e, 0x6a, 0x9a,
};

/* Variants of SPS C (Main, POC type 2) with one field changed, built the same way. */
static const uint8_t sps_max_width[] = { /* pic_width_in_mbs_minus1 1023: 16384 */
	0x67, 0x4d, 0x00, 0x1f, 0xda, 0x00, 0x10, 0x00, 0x2f, 0x90,
};
static const uint8_t sps_too_wide[] = { /* 1024: 16400 */
	0x67, 0x4d, 0x00, 0x1f, 0xda, 0x00, 0x10, 0x04, 0x2f, 0x90,
};
static const uint8_t sps_too_tall[] = { /* fields, 513 map units: 16416 */
	0x67, 0x4d, 0x00, 0x1f, 0xda, 0x02, 0xd0, 0x04, 0x02, 0x48,
};
static const uint8_t sps_crop_all[] = { /* crop_right 360 x 2 = the whole 720 */
	0x67, 0x4d, 0x00, 0x1f, 0xda, 0x02, 0xd0, 0xbf, 0x80, 0x5a, 0x74,
};
static const uint8_t sps_crop_2[] = { /* crop_right 359: 2 pixels left */
	0x67, 0x4d, 0x00, 0x1f, 0xda, 0x02, 0xd0, 0xbf, 0x80, 0x5a, 0x34,
};
static const uint8_t sps_poc3[] = {
	0x67, 0x4d, 0x00, 0x1f, 0xc8, 0x80, 0xb4, 0x2f, 0x90,
};
static const uint8_t sps_cycle255[] = { /* POC type 1, 255 offsets of 0 */
	0x67, 0x4d, 0x00, 0x1f, 0xd3, 0x00, 0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40, 0x5a, 0x17,
	0xc8,
};
static const uint8_t sps_cycle256[] = {
	0x67, 0x4d, 0x00, 0x1f, 0xd3, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0, 0x2d, 0x0b,
	0xe4,
};
static const uint8_t sps_refs17[] = { /* max_num_ref_frames 17 */
	0x67, 0x4d, 0x00, 0x1f, 0xd8, 0x48, 0x0b, 0x42, 0xf9,
};
static const uint8_t sps_id32[] = { /* seq_parameter_set_id 32 */
	0x67, 0x4d, 0x00, 0x1f, 0x04, 0x36, 0x80, 0xb4, 0x2f, 0x90,
};
/* High-profile variants: one scaling list whose first delta_scale is given. */
static const uint8_t sps_chroma4[] = { /* chroma_format_idc 4 */
	0x67, 0x64, 0x00, 0x1f, 0x97, 0x2d, 0x01, 0x68, 0x5f, 0x20,
};
static const uint8_t sps_depth15[] = { /* bit_depth_luma_minus8 7 */
	0x67, 0x64, 0x00, 0x1f, 0xa1, 0x12, 0xd0, 0x16, 0x85, 0xf2,
};
static const uint8_t sps_delta128[] = { /* delta_scale +128: outside -128..127 */
	0x67, 0x64, 0x00, 0x1f, 0xad, 0x80, 0x40, 0x3f, 0xff, 0x80, 0xb4, 0x05, 0xa1, 0x7c,
	0x80,
};
static const uint8_t sps_delta_m128[] = { /* delta_scale -128: allowed */
	0x67, 0x64, 0x00, 0x1f, 0xad, 0x80, 0x40, 0x7f, 0xff, 0x80, 0xb4, 0x05, 0xa1, 0x7c,
	0x80,
};

static void test_real_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		const struct real_case *c = &real[i];
		struct avc_config cfg;

		print_message("%s\n", c->name);
		assert_int_equal(avc_parse_config(c->rec, c->len, &cfg), 0);
		assert_int_equal(cfg.profile, c->profile);
		assert_int_equal(cfg.compat, c->constraint);
		assert_int_equal(cfg.level, c->level);
		assert_int_equal(cfg.nal_length_size, 4);
		assert_int_equal(cfg.nsps, 1);
		assert_int_equal(cfg.npps, 1);
		assert_ptr_equal(cfg.sps[0], c->rec + 8);
		assert_int_equal(cfg.sps_len[0], c->sps_len);
		assert_ptr_equal(cfg.pps[0], c->rec + 11 + c->sps_len);
		assert_int_equal(cfg.pps_len[0], c->pps_len);
		assert_int_equal(cfg.pps[0][0] & 0x1f, 8);

		assert_true(cfg.has_sps_info);
		const struct avc_sps *s = &cfg.first_sps;
		assert_int_equal(s->profile_idc, c->profile);
		assert_int_equal(s->constraint_flags, c->constraint);
		assert_int_equal(s->level_idc, c->level);
		assert_int_equal(s->width, c->width);
		assert_int_equal(s->height, c->height);
		assert_int_equal(s->chroma_format_idc, c->chroma);
		assert_int_equal(s->bit_depth_luma, c->depth);
		assert_int_equal(s->bit_depth_chroma, c->depth);
		assert_int_equal(s->frame_mbs_only, c->frame_mbs_only);
	}
}

/* avc_write_config (WHIP's sequence header from SPS and PPS) gives the real records back. */
static void test_write_config_real(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		const struct real_case *c = &real[i];
		struct avc_config cfg;
		assert_int_equal(avc_parse_config(c->rec, c->len, &cfg), 0);
		uint8_t out[1024];
		const uint8_t *sps = cfg.sps[0], *pps = cfg.pps[0];
		size_t sps_len = cfg.sps_len[0], pps_len = cfg.pps_len[0], short_len = 3;
		int n = avc_write_config(out, sizeof(out), &sps, &sps_len, 1, &pps, &pps_len, 1);
		assert_int_equal(n, 11 + c->sps_len + c->pps_len);
		struct avc_config back;
		assert_int_equal(avc_parse_config(out, (size_t)n, &back), 0);
		assert_int_equal(back.profile, c->profile);
		assert_int_equal(back.level, c->level);
		assert_int_equal(back.nal_length_size, 4);
		assert_memory_equal(back.sps[0], cfg.sps[0], cfg.sps_len[0]);
		assert_memory_equal(back.pps[0], cfg.pps[0], cfg.pps_len[0]);
		assert_int_equal(back.first_sps.width, c->width);
		/* Too small a buffer, or no SPS worth the name: refused. */
		assert_int_equal(avc_write_config(out, (size_t)n - 1, &sps, &sps_len, 1, &pps, &pps_len,
		                                  1), SL_ELIMIT);
		assert_int_equal(avc_write_config(out, sizeof(out), &sps, &short_len, 1, &pps, &pps_len,
		                                  1), SL_EINVAL);
	}
}

/* Every prefix of every real record: short of the last PPS byte is malformed. */
static void test_record_truncated_every_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		const struct real_case *c = &real[i];
		struct avc_config cfg;

		for (size_t n = 0; n < c->framed_len; n++)
			assert_int_equal(avc_parse_config(c->rec, n, &cfg), SL_EPROTO);
		/* What follows the PPSs (high-profile fields) is optional. */
		for (size_t n = c->framed_len; n <= c->len; n++) {
			assert_int_equal(avc_parse_config(c->rec, n, &cfg), 0);
			assert_int_equal(cfg.first_sps.width, c->width);
		}
	}
}

/* Every prefix of every real SPS: fails until frame cropping is in, then agrees. */
static void test_sps_truncated_every_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		const struct real_case *c = &real[i];
		const uint8_t *nal = c->rec + 8;
		struct avc_sps s;

		for (size_t n = 0; n < c->sps_min; n++)
			assert_int_equal(avc_parse_sps(nal, n, &s), SL_EPROTO);
		for (size_t n = c->sps_min; n <= c->sps_len; n++) {
			assert_int_equal(avc_parse_sps(nal, n, &s), 0);
			assert_int_equal(s.width, c->width);
			assert_int_equal(s.height, c->height);
		}
	}
}

static void test_sps_scaling_lists_poc1_emulation(void **state)
{
	(void)state;
	struct avc_sps s;

	assert_int_equal(avc_parse_sps(sps_a, sizeof(sps_a), &s), 0);
	assert_int_equal(s.profile_idc, 100);
	assert_int_equal(s.level_idc, 30);
	assert_int_equal(s.chroma_format_idc, 1);
	assert_int_equal(s.width, 640);
	assert_int_equal(s.height, 360);

	/*
	 * The vector really carries three 00 00 03 sequences before the picture
	 * size; reading them as data would shift every later field.
	 */
	size_t epb = 0;
	for (size_t i = 2; i < sizeof(sps_a); i++)
		if (sps_a[i] == 3 && sps_a[i - 1] == 0 && sps_a[i - 2] == 0)
			epb++;
	assert_int_equal(epb, 3);
}

static void test_sps_separate_colour_planes(void **state)
{
	(void)state;
	struct avc_sps s;

	assert_int_equal(avc_parse_sps(sps_b, sizeof(sps_b), &s), 0);
	assert_int_equal(s.profile_idc, 244);
	assert_int_equal(s.chroma_format_idc, 3);
	assert_int_equal(s.bit_depth_luma, 10);
	assert_int_equal(s.frame_mbs_only, 0);
	assert_int_equal(s.width, 765);  /* 768 - (1 + 2) * 1 */
	assert_int_equal(s.height, 314); /* 320 - (0 + 3) * 2 */
}

static void test_sps_poc2_fields(void **state)
{
	(void)state;
	struct avc_sps s;

	assert_int_equal(avc_parse_sps(sps_c, sizeof(sps_c), &s), 0);
	assert_int_equal(s.profile_idc, 77);
	assert_int_equal(s.constraint_flags, 0x40);
	assert_int_equal(s.chroma_format_idc, 1); /* inferred */
	assert_int_equal(s.bit_depth_luma, 8);
	assert_int_equal(s.width, 718);  /* 720 - 1 * 2 */
	assert_int_equal(s.height, 724); /* 736 - (1 + 2) * 4 */
}

static void test_sps_limits(void **state)
{
	(void)state;
	struct avc_sps s;

	assert_int_equal(avc_parse_sps(sps_max_width, sizeof(sps_max_width), &s), 0);
	assert_int_equal(s.width, 16384);
	assert_int_equal(avc_parse_sps(sps_too_wide, sizeof(sps_too_wide), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_too_tall, sizeof(sps_too_tall), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_crop_all, sizeof(sps_crop_all), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_crop_2, sizeof(sps_crop_2), &s), 0);
	assert_int_equal(s.width, 2);
	assert_int_equal(avc_parse_sps(sps_poc3, sizeof(sps_poc3), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_cycle255, sizeof(sps_cycle255), &s), 0);
	assert_int_equal(s.width, 720);
	assert_int_equal(s.height, 368);
	assert_int_equal(avc_parse_sps(sps_cycle256, sizeof(sps_cycle256), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_refs17, sizeof(sps_refs17), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_id32, sizeof(sps_id32), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_chroma4, sizeof(sps_chroma4), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_depth15, sizeof(sps_depth15), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_delta128, sizeof(sps_delta128), &s), SL_EPROTO);
	assert_int_equal(avc_parse_sps(sps_delta_m128, sizeof(sps_delta_m128), &s), 0);
	assert_int_equal(s.width, 720);
}

static void test_sps_bad_nal_and_codes(void **state)
{
	(void)state;
	struct avc_sps s;
	uint8_t buf[sizeof(sps_c)];

	assert_int_equal(avc_parse_sps(sps_c, 0, &s), SL_EPROTO);
	memcpy(buf, sps_c, sizeof(buf));
	buf[0] = 0x68; /* a PPS */
	assert_int_equal(avc_parse_sps(buf, sizeof(buf), &s), SL_EPROTO);
	buf[0] = 0xe7; /* forbidden_zero_bit set */
	assert_int_equal(avc_parse_sps(buf, sizeof(buf), &s), SL_EPROTO);

	/* 40 zero bits where seq_parameter_set_id starts: an exp-Golomb code over 32 bits. */
	static const uint8_t zeros[] = { 0x67, 0x4d, 0x00, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff };
	assert_int_equal(avc_parse_sps(zeros, sizeof(zeros), &s), SL_EPROTO);
	/*
	 * All ones after the level: every ue(v) is 0 and every flag 1, which is
	 * a complete 16x16 SPS in 15 bits; one byte of it is not enough.
	 */
	static const uint8_t ones[] = { 0x67, 0x4d, 0x00, 0x1f, 0xff, 0xff };
	assert_int_equal(avc_parse_sps(ones, sizeof(ones), &s), 0);
	assert_int_equal(s.width, 16);
	assert_int_equal(s.height, 16);
	assert_int_equal(avc_parse_sps(ones, sizeof(ones) - 1, &s), SL_EPROTO);
}

static void test_record_nal_length_sizes(void **state)
{
	(void)state;
	uint8_t rec[sizeof(avcc_high)];
	struct avc_config cfg;

	memcpy(rec, avcc_high, sizeof(rec));
	rec[4] = 0xfc;
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), 0);
	assert_int_equal(cfg.nal_length_size, 1);
	rec[4] = 0xfd;
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), 0);
	assert_int_equal(cfg.nal_length_size, 2);
	rec[4] = 0xfe; /* a 3-byte length is not allowed */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);
	rec[4] = 0x03; /* reserved bits written as zeros: tolerated */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), 0);
	assert_int_equal(cfg.nal_length_size, 4);
}

static void test_record_bad_framing(void **state)
{
	(void)state;
	uint8_t rec[sizeof(avcc_high)];
	struct avc_config cfg;

	memcpy(rec, avcc_high, sizeof(rec));
	rec[0] = 0; /* configurationVersion */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[5] = 0xe9; /* 9 SPSs */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_ELIMIT);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[33] = 9; /* 9 PPSs */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_ELIMIT);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[6] = 0;
	rec[7] = 0; /* zero-length SPS */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[7] = 0xff; /* SPS length past the end */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[8] = 0x68; /* a PPS where the SPS belongs */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);

	memcpy(rec, avcc_high, sizeof(rec));
	rec[36] = 0x67; /* an SPS where the PPS belongs */
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), SL_EPROTO);
}

static void test_record_without_or_with_bad_sps(void **state)
{
	(void)state;
	struct avc_config cfg;
	/* No parameter sets at all: legal (they may come in-band). */
	static const uint8_t empty[] = { 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe0, 0x00 };

	assert_int_equal(avc_parse_config(empty, sizeof(empty), &cfg), 0);
	assert_int_equal(cfg.nsps, 0);
	assert_int_equal(cfg.npps, 0);
	assert_false(cfg.has_sps_info);

	/* Well framed, but the SPS itself is garbage: the record stands, no SPS facts. */
	uint8_t rec[sizeof(avcc_high)];
	memcpy(rec, avcc_high, sizeof(rec));
	memset(rec + 12, 0, 8);
	assert_int_equal(avc_parse_config(rec, sizeof(rec), &cfg), 0);
	assert_int_equal(cfg.nsps, 1);
	assert_false(cfg.has_sps_info);
	assert_int_equal(cfg.first_sps.width, 0);
}

static void test_record_two_of_each(void **state)
{
	(void)state;
	/* high's avcC with its SPS and PPS each listed twice. */
	uint8_t rec[128];
	size_t n = 0;
	const uint8_t *sps = avcc_high + 6; /* length + NAL */
	const uint8_t *pps = avcc_high + 34;

	memcpy(rec, avcc_high, 5);
	n = 5;
	rec[n++] = 0xe2;
	memcpy(rec + n, sps, 27);
	n += 27;
	memcpy(rec + n, sps, 27);
	n += 27;
	rec[n++] = 2;
	memcpy(rec + n, pps, 8);
	n += 8;
	memcpy(rec + n, pps, 8);
	n += 8;

	struct avc_config cfg;
	assert_int_equal(avc_parse_config(rec, n, &cfg), 0);
	assert_int_equal(cfg.nsps, 2);
	assert_int_equal(cfg.npps, 2);
	assert_ptr_equal(cfg.sps[1], rec + 8 + 27);
	assert_int_equal(cfg.sps_len[1], 25);
	assert_ptr_equal(cfg.pps[1], rec + 5 + 1 + 54 + 1 + 8 + 2);
	assert_int_equal(cfg.pps_len[1], 6);
	assert_int_equal(cfg.first_sps.width, 320);
	assert_int_equal(avc_parse_config(rec, n - 1, &cfg), SL_EPROTO);
}

/* The record we write parses back to the same parameter sets; bad inputs are refused. */
static void test_write_config(void **state)
{
	(void)state;
	static const uint8_t sps[] = { 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9 };
	static const uint8_t pps1[] = { 0x68, 0xeb }, pps2[] = { 0x68, 0xee, 0x3c };
	const uint8_t *s[1] = { sps }, *p[2] = { pps1, pps2 };
	size_t sl[1] = { sizeof(sps) }, pl[2] = { sizeof(pps1), sizeof(pps2) };
	uint8_t rec[64];
	int n = avc_write_config(rec, sizeof(rec), s, sl, 1, p, pl, 2);
	assert_int_equal(n, 7 + 2 + 6 + 2 + 2 + 2 + 3);
	struct avc_config c;
	assert_int_equal(avc_parse_config(rec, (size_t)n, &c), 0);
	assert_int_equal(c.profile, 0x64);
	assert_int_equal(c.level, 0x1f);
	assert_int_equal(c.nal_length_size, 4);
	assert_int_equal(c.nsps, 1);
	assert_int_equal(c.npps, 2);
	assert_memory_equal(c.pps[1], pps2, sizeof(pps2));
	assert_int_equal(avc_write_config(rec, 20, s, sl, 1, p, pl, 2), SL_ELIMIT);
	assert_int_equal(avc_write_config(rec, sizeof(rec), s, sl, 1, p, pl, 0), SL_EINVAL);
	size_t short_len[1] = { 3 };
	assert_int_equal(avc_write_config(rec, sizeof(rec), s, short_len, 1, p, pl, 1), SL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_config_real),
		cmocka_unit_test(test_real_records),
		cmocka_unit_test(test_record_truncated_every_length),
		cmocka_unit_test(test_sps_truncated_every_length),
		cmocka_unit_test(test_sps_scaling_lists_poc1_emulation),
		cmocka_unit_test(test_sps_separate_colour_planes),
		cmocka_unit_test(test_sps_poc2_fields),
		cmocka_unit_test(test_sps_limits),
		cmocka_unit_test(test_sps_bad_nal_and_codes),
		cmocka_unit_test(test_record_nal_length_sizes),
		cmocka_unit_test(test_record_bad_framing),
		cmocka_unit_test(test_record_without_or_with_bad_sps),
		cmocka_unit_test(test_record_two_of_each),
		cmocka_unit_test(test_write_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
