/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_srt_streamid.c - libFuzzer target for the SRT stream id parser: an
 * accepted id names a stream that stream_name_valid() accepts, with a token
 * that fits; a refusal leaves nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/name.h"
#include "proto/srt_streamid.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srt_streamid id;
	int rc = srt_streamid_parse((const char *)data, size, &id);
	CHECK(rc == 0 || rc == SL_EPROTO || rc == SL_EUNSUPP);
	if (rc < 0) {
		CHECK(!id.app[0] && !id.name[0] && !id.token[0] && !id.publish);
		return 0;
	}
	CHECK(stream_name_valid(id.app) && stream_name_valid(id.name));
	CHECK(strlen(id.token) < sizeof(id.token));
	CHECK(id.publish == 0 || id.publish == 1);
	return 0;
}
