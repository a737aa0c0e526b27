/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_fmp4_split.c - libFuzzer target for cutting one track out of fMP4
 * fragments and inits (hls/fmp4_split.c).  The first byte picks the input
 * kind ('h' or 'i': init, else fragments) and the track (its low bit: 0 video, 1 audio).
 * A refusal appends nothing; an accepted cut is itself well formed: cutting
 * the same track out of it again gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "hls/fmp4_split.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int init = (data[0] & 0xfe) == 'h';
	uint32_t track = (data[0] & 1) + 1;
	struct bytes a, b;
	bytes_init(&a);
	bytes_init(&b);
	int rc = init ? fmp4_split_init(data + 1, size - 1, track, &a)
	              : fmp4_split_fragments(data + 1, size - 1, track, &a);
	CHECK(rc == 0 || rc == SL_EPROTO || rc == SL_ENOTFOUND);
	if (rc != 0) {
		CHECK(a.len == 0);
	} else {
		rc = init ? fmp4_split_init(a.data, a.len, track, &b)
		          : fmp4_split_fragments(a.data, a.len, track, &b);
		CHECK(rc == 0);
		CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	}
	bytes_free(&a);
	bytes_free(&b);
	return 0;
}
