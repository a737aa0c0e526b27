/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_aac.c - libFuzzer target for AudioSpecificConfig parsing and ADTS
 * header writing.
 *
 * Each parsed config is written as ADTS for a payload length taken from the
 * input (both sides of the 13-bit frame length limit get exercised) and the
 * header is read back field by field: sync word, profile = core object
 * type - 1, rate index, channel configuration and frame length must be
 * exactly what went in, and a refusal must be for a reason ADTS has.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "proto/aac.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aac_config c;
	uint8_t h[AAC_ADTS_HEADER_SIZE];

	int rc = aac_parse_asc(data, size, &c);
	CHECK(rc == 0 || rc == SL_EPROTO);
	if (rc != 0)
		return 0;
	CHECK(c.object_type > 0 && c.core_object_type > 0);
	CHECK(c.sample_rate > 0 && c.sample_rate < (1u << 24));
	CHECK(c.rate_index <= 12 || c.rate_index == 15);
	CHECK((c.channel_config == 0) == (c.channels == 0));
	CHECK((c.object_type == 5 || c.object_type == 29) ?
	      c.ext_sample_rate > 0 : c.ext_sample_rate == 0 && c.core_object_type == c.object_type);

	size_t payload = size > 0 ? ((size_t)data[size - 1] << 5) | (size & 31) : 0;
	rc = aac_write_adts(h, &c, payload);
	unsigned aot = c.core_object_type;
	int expressible = aot >= 1 && aot <= 4 && c.rate_index <= 12 &&
	                  c.channel_config >= 1 && c.channel_config <= 7 &&
	                  payload + AAC_ADTS_HEADER_SIZE <= 0x1fff;
	CHECK((rc == 0) == expressible);
	if (rc != 0) {
		CHECK(rc == SL_EINVAL);
		return 0;
	}
	CHECK(h[0] == 0xff && h[1] == 0xf1);
	CHECK((unsigned)(h[2] >> 6) == aot - 1);
	CHECK(((h[2] >> 2) & 0x0f) == c.rate_index);
	CHECK((h[2] & 0x02) == 0);
	CHECK((((h[2] & 1) << 2) | (h[3] >> 6)) == c.channel_config);
	size_t len = ((size_t)(h[3] & 3) << 11) | ((size_t)h[4] << 3) | (h[5] >> 5);
	CHECK(len == payload + AAC_ADTS_HEADER_SIZE);
	CHECK((h[5] & 0x1f) == 0x1f && h[6] == 0xfc);
	return 0;
}
