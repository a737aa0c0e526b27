/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_avc.c - libFuzzer target for the AVCDecoderConfigurationRecord and
 * SPS parsers.
 *
 * The whole input goes to both avc_parse_config and avc_parse_sps (records
 * start with 0x01, SPS NAL units with 0x67, so each seed drives one).
 * Checked: parameter sets lie inside the input with their NAL types, the
 * record's SPS facts are what avc_parse_sps says about sps[0], and parsed
 * SPS values stay inside the ranges the parser promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/avc.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int inside(const void *ptr, size_t len, const uint8_t *p, size_t n)
{
	const uint8_t *q = ptr;
	return q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len;
}

static void check_sps(const struct avc_sps *s)
{
	CHECK(s->width >= 1 && s->width <= 16384);
	CHECK(s->height >= 1 && s->height <= 16384);
	CHECK(s->chroma_format_idc <= 3);
	CHECK(s->bit_depth_luma >= 8 && s->bit_depth_luma <= 14);
	CHECK(s->bit_depth_chroma >= 8 && s->bit_depth_chroma <= 14);
	CHECK(s->frame_mbs_only <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct avc_config c;
	struct avc_sps s;

	int rc = avc_parse_config(data, size, &c);
	CHECK(rc == 0 || rc == SL_EPROTO || rc == SL_ELIMIT);
	if (rc == 0) {
		CHECK(c.nal_length_size == 1 || c.nal_length_size == 2 ||
		      c.nal_length_size == 4);
		CHECK(c.nsps <= AVC_MAX_PARAM_SETS && c.npps <= AVC_MAX_PARAM_SETS);
		for (unsigned i = 0; i < c.nsps; i++) {
			CHECK(c.sps_len[i] > 0 && inside(c.sps[i], c.sps_len[i], data, size));
			CHECK((c.sps[i][0] & 0x1f) == 7);
		}
		for (unsigned i = 0; i < c.npps; i++) {
			CHECK(c.pps_len[i] > 0 && inside(c.pps[i], c.pps_len[i], data, size));
			CHECK((c.pps[i][0] & 0x1f) == 8);
		}
		CHECK(c.nsps > 0 || !c.has_sps_info);
		if (c.nsps > 0) {
			int src = avc_parse_sps(c.sps[0], c.sps_len[0], &s);
			CHECK((src == 0) == (c.has_sps_info != 0));
			if (src == 0)
				CHECK(memcmp(&s, &c.first_sps, sizeof(s)) == 0);
		}
	}

	rc = avc_parse_sps(data, size, &s);
	CHECK(rc == 0 || rc == SL_EPROTO);
	if (rc == 0) {
		check_sps(&s);
		/* Bytes after the fields we read (VUI and beyond) change nothing. */
		struct avc_sps t;
		if (size > 1) {
			uint8_t *copy = malloc(size + 1);
			CHECK(copy != NULL);
			memcpy(copy, data, size);
			copy[size] = 0x80;
			CHECK(avc_parse_sps(copy, size + 1, &t) == 0);
			CHECK(memcmp(&s, &t, sizeof(s)) == 0);
			free(copy);
		}
	}
	return 0;
}
