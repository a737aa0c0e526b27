/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aac.c - AudioSpecificConfig parsing and ADTS header writing.
 *
 * The AAC-LC configs are the FLV AAC sequence headers FFmpeg 5.1's native
 * encoder wrote (Debian 12), each ending in the explicit backward-compatible
 * "no SBR" sync extension (0x2b7) that encoder appends:
 *   ffmpeg -f lavfi -i sine -t 2 -c:a aac high.flv                      (44.1k mono)
 *   ffmpeg -f lavfi -i sine=sample_rate=48000 ... -ac 2 -ar 48000       (48k stereo)
 *   ffmpeg -f lavfi -i sine=sample_rate=44100 -c:a aac -ac 2 st44.flv
 *   ffmpeg -f lavfi -i sine=sample_rate=48000 -c:a aac -ac 1 mono48.flv
 * ffprobe reports "aac, LC" with those rates and channel counts.  The ADTS
 * headers to match are the first 7 bytes of `ffmpeg -i X.flv -c:a copy -f adts`
 * for st44 and mono48, whose first raw frames are 338 and 212 bytes.
 * Debian's FFmpeg has no HE-AAC encoder, so the SBR/PS configs are built by
 * hand from ISO/IEC 14496-3 1.6.2.1 (2B 11 88 00 and EB 09 88 00 are the
 * canonical HE-AAC v1/v2 24/48 kHz configs that other test suites use too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/aac.h"

struct asc_case {
	const char *name;
	uint8_t bytes[8];
	size_t len;
	size_t min_len;      /* shortest prefix that parses */
	uint8_t object_type, core_object_type, rate_index, channel_config, channels;
	uint32_t sample_rate, ext_sample_rate;
};

static const struct asc_case cases[] = {
	{ "ffmpeg 44.1k mono", { 0x12, 0x08, 0x56, 0xe5, 0x00 }, 5, 2, 2, 2, 4, 1, 1, 44100, 0 },
	{ "ffmpeg 48k stereo", { 0x11, 0x90, 0x56, 0xe5, 0x00 }, 5, 2, 2, 2, 3, 2, 2, 48000, 0 },
	{ "ffmpeg 44.1k stereo", { 0x12, 0x10, 0x56, 0xe5, 0x00 }, 5, 2, 2, 2, 4, 2, 2, 44100, 0 },
	{ "ffmpeg 48k mono", { 0x11, 0x88, 0x56, 0xe5, 0x00 }, 5, 2, 2, 2, 3, 1, 1, 48000, 0 },
	/* SBR: 24 kHz core (index 6), stereo, 48 kHz extension (index 3), core AAC-LC. */
	{ "he-aac v1", { 0x2b, 0x11, 0x88, 0x00 }, 4, 3, 5, 2, 6, 2, 2, 24000, 48000 },
	/* PS: 24 kHz core, mono core channel, 48 kHz extension, core AAC-LC. */
	{ "he-aac v2", { 0xeb, 0x09, 0x88, 0x00 }, 4, 3, 29, 2, 6, 1, 1, 24000, 48000 },
	/* SBR: 22.05 kHz core (index 7), mono, 44.1 kHz extension (index 4). */
	{ "he-aac mono", { 0x2b, 0x8a, 0x08, 0x00 }, 4, 3, 5, 2, 7, 1, 1, 22050, 44100 },
	/* SBR with an explicit 24-bit extension rate (44000). */
	{ "sbr explicit ext", { 0x2b, 0x17, 0x80, 0x55, 0xf0, 0x08, 0x00 }, 7, 6,
	  5, 2, 6, 2, 2, 24000, 44000 },
	/* SBR over ER BSAC (22): extensionChannelConfiguration follows. */
	{ "sbr over bsac", { 0x2b, 0x11, 0xd8, 0x80 }, 4, 4, 5, 22, 6, 2, 2, 24000, 48000 },
	/* SBR whose core object type uses the escape: 31 then 6 bits (1) = 33. */
	{ "sbr escaped core", { 0x2b, 0x11, 0xfc, 0x10 }, 4, 4, 5, 33, 6, 2, 2, 24000, 48000 },
	/* AAC-LC, explicit rate 22000 (index 15 then 24 bits), stereo. */
	{ "explicit rate", { 0x17, 0x80, 0x2a, 0xf8, 0x10 }, 5, 5, 2, 2, 15, 2, 2, 22000, 0 },
	/* Object type 42 (USAC) through the escape: 31 then 6 bits (10). */
	{ "escaped type", { 0xf9, 0x48, 0x40 }, 3, 3, 42, 42, 4, 2, 2, 44100, 0 },
	/* channelConfiguration 11 (6.1) and 0 (program config element in the payload). */
	{ "6.1", { 0x12, 0x58 }, 2, 2, 2, 2, 4, 11, 7, 44100, 0 },
	{ "pce", { 0x12, 0x00 }, 2, 2, 2, 2, 4, 0, 0, 44100, 0 },
};

static void test_parse_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct asc_case *c = &cases[i];
		struct aac_config cfg;

		print_message("%s\n", c->name);
		assert_int_equal(aac_parse_asc(c->bytes, c->len, &cfg), 0);
		assert_int_equal(cfg.object_type, c->object_type);
		assert_int_equal(cfg.core_object_type, c->core_object_type);
		assert_int_equal(cfg.rate_index, c->rate_index);
		assert_int_equal(cfg.sample_rate, c->sample_rate);
		assert_int_equal(cfg.ext_sample_rate, c->ext_sample_rate);
		assert_int_equal(cfg.channel_config, c->channel_config);
		assert_int_equal(cfg.channels, c->channels);
	}
}

static void test_truncated_every_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct asc_case *c = &cases[i];
		struct aac_config cfg;

		for (size_t n = 0; n < c->min_len; n++)
			assert_int_equal(aac_parse_asc(c->bytes, n, &cfg), SL_EPROTO);
		for (size_t n = c->min_len; n <= c->len; n++) {
			assert_int_equal(aac_parse_asc(c->bytes, n, &cfg), 0);
			assert_int_equal(cfg.sample_rate, c->sample_rate);
		}
	}
}

static void test_bad_configs(void **state)
{
	(void)state;
	struct aac_config cfg;
	static const uint8_t aot0[] = { 0x02, 0x10 };          /* object type 0 */
	static const uint8_t idx13[] = { 0x16, 0x90 };         /* reserved rate index */
	static const uint8_t rate0[] = { 0x17, 0x80, 0x00, 0x00, 0x10 }; /* explicit 0 Hz */
	static const uint8_t ch8[] = { 0x12, 0x40 };           /* reserved channel config */
	static const uint8_t core5[] = { 0x2b, 0x11, 0x94 };   /* SBR over SBR */
	static const uint8_t ext14[] = { 0x2b, 0x17, 0x08 };   /* reserved extension index */

	assert_int_equal(aac_parse_asc(aot0, sizeof(aot0), &cfg), SL_EPROTO);
	assert_int_equal(aac_parse_asc(idx13, sizeof(idx13), &cfg), SL_EPROTO);
	assert_int_equal(aac_parse_asc(rate0, sizeof(rate0), &cfg), SL_EPROTO);
	assert_int_equal(aac_parse_asc(ch8, sizeof(ch8), &cfg), SL_EPROTO);
	assert_int_equal(aac_parse_asc(core5, sizeof(core5), &cfg), SL_EPROTO);
	assert_int_equal(aac_parse_asc(ext14, sizeof(ext14), &cfg), SL_EPROTO);
}

static void test_adts_matches_ffmpeg(void **state)
{
	(void)state;
	static const uint8_t st44_asc[] = { 0x12, 0x10, 0x56, 0xe5, 0x00 };
	static const uint8_t st44_adts[] = { 0xff, 0xf1, 0x50, 0x80, 0x2b, 0x3f, 0xfc };
	static const uint8_t mono48_asc[] = { 0x11, 0x88, 0x56, 0xe5, 0x00 };
	static const uint8_t mono48_adts[] = { 0xff, 0xf1, 0x4c, 0x40, 0x1b, 0x7f, 0xfc };
	struct aac_config cfg;
	uint8_t out[AAC_ADTS_HEADER_SIZE];

	assert_int_equal(aac_parse_asc(st44_asc, sizeof(st44_asc), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 338), 0);
	assert_memory_equal(out, st44_adts, sizeof(out));

	assert_int_equal(aac_parse_asc(mono48_asc, sizeof(mono48_asc), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 212), 0);
	assert_memory_equal(out, mono48_adts, sizeof(out));
}

static void test_adts_he_aac_as_lc_core(void **state)
{
	(void)state;
	static const uint8_t he[] = { 0x2b, 0x11, 0x88, 0x00 };
	/* Profile 1 (LC), index 6 (24 kHz), 2 channels, frame length 107. */
	static const uint8_t want[] = { 0xff, 0xf1, 0x58, 0x80, 0x0d, 0x7f, 0xfc };
	struct aac_config cfg;
	uint8_t out[AAC_ADTS_HEADER_SIZE];

	assert_int_equal(aac_parse_asc(he, sizeof(he), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 100), 0);
	assert_memory_equal(out, want, sizeof(out));
}

static void test_adts_profiles_and_frame_length(void **state)
{
	(void)state;
	/* A config built by hand, without core_object_type: object_type is used. */
	struct aac_config cfg = { .object_type = 4, .rate_index = 3, .channel_config = 2 };
	uint8_t out[AAC_ADTS_HEADER_SIZE];

	assert_int_equal(aac_write_adts(out, &cfg, 8184), 0); /* 8191: the 13-bit maximum */
	static const uint8_t want_ltp_max[] = { 0xff, 0xf1, 0xcc, 0x83, 0xff, 0xff, 0xfc };
	assert_memory_equal(out, want_ltp_max, sizeof(out));
	assert_int_equal(aac_write_adts(out, &cfg, 8185), SL_EINVAL);
	assert_int_equal(aac_write_adts(out, &cfg, (size_t)1 << 40), SL_EINVAL);

	cfg.object_type = 1; /* Main */
	assert_int_equal(aac_write_adts(out, &cfg, 0), 0);
	assert_int_equal(out[2] >> 6, 0);
	assert_int_equal((out[3] & 3) << 11 | out[4] << 3 | out[5] >> 5, 7);
}

static void test_adts_refuses_what_it_cannot_express(void **state)
{
	(void)state;
	struct aac_config cfg;
	uint8_t out[AAC_ADTS_HEADER_SIZE];
	static const uint8_t usac[] = { 0xf9, 0x48, 0x40 };
	static const uint8_t explicit_rate[] = { 0x17, 0x80, 0x2a, 0xf8, 0x10 };
	static const uint8_t pce[] = { 0x12, 0x00 };
	static const uint8_t six1[] = { 0x12, 0x58 };

	assert_int_equal(aac_parse_asc(usac, sizeof(usac), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 10), SL_EINVAL); /* profile 41 */
	assert_int_equal(aac_parse_asc(explicit_rate, sizeof(explicit_rate), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 10), SL_EINVAL);
	assert_int_equal(aac_parse_asc(pce, sizeof(pce), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 10), SL_EINVAL);
	assert_int_equal(aac_parse_asc(six1, sizeof(six1), &cfg), 0);
	assert_int_equal(aac_write_adts(out, &cfg, 10), SL_EINVAL);

	memset(&cfg, 0, sizeof(cfg)); /* object type 0 */
	cfg.rate_index = 4;
	cfg.channel_config = 2;
	assert_int_equal(aac_write_adts(out, &cfg, 10), SL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_configs),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_adts_matches_ffmpeg),
		cmocka_unit_test(test_adts_he_aac_as_lc_core),
		cmocka_unit_test(test_adts_profiles_and_frame_length),
		cmocka_unit_test(test_adts_refuses_what_it_cannot_express),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
