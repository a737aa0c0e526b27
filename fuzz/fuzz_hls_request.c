/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_hls_request.c - libFuzzer target for HLS request paths (MPEG-TS and fMP4) and the
 * blocking-reload query (_HLS_msn, _HLS_part).
 *
 * The input is split at the first '?' into path and query, as the HTTP
 * parser would.  Invariants: only the documented results; on success the
 * names are non-empty, NUL-free, at most 128 bytes and copied from the
 * path, and numbers printed back give the path again; a part index and a
 * blocking part never exceed their limits, and _HLS_part never comes
 * without _HLS_msn.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "hls/hls_request.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *qm = memchr(in, '?', size);
	size_t plen = qm ? (size_t)(qm - in) : size;
	struct hls_request r;

	int rc = hls_parse_path(in, plen, &r);
	CHECK(rc == 0 || rc == SL_ENOTFOUND || rc == SL_EPROTO);
	if (rc == 0) {
		size_t al = strlen(r.app), nl = strlen(r.name);
		CHECK(al >= 1 && al <= HLS_NAME_MAX && nl >= 1 && nl <= HLS_NAME_MAX);
		CHECK(r.app[0] != '/' && r.app[al - 1] != '/' && !strstr(r.app, "//") &&
		      !strchr(r.name, '/'));
		char want[400];
		int n;
		const char *ext = r.container == HLS_FMP4 ? "m4s" : "ts";
		CHECK(r.container == HLS_TS || r.container == HLS_FMP4);
		/* DASH's one-track files (-v, -a) are fMP4 segments and inits only; a segment named
		 * by its start time (seg-tT) has one track. */
		CHECK(r.track <= 2);
		CHECK(!r.track || (r.container == HLS_FMP4 &&
		                   (r.file == HLS_SEGMENT || r.file == HLS_INIT)));
		CHECK(!r.by_time || (r.file == HLS_SEGMENT && r.track));
		const char *tr = r.track == 1 ? "-v" : r.track == 2 ? "-a" : "";
		switch (r.file) {
		case HLS_PAGE:
			n = snprintf(want, sizeof(want), "/%s/%s/", r.app, r.name);
			break;
		case HLS_PLAYLIST:
			n = snprintf(want, sizeof(want), "/%s/%s/index.m3u8", r.app, r.name);
			break;
		case HLS_SEGMENT:
			n = snprintf(want, sizeof(want), "/%s/%s/seg-%s%llu%s.%s", r.app, r.name,
			             r.by_time ? "t" : "", (unsigned long long)r.msn, tr, ext);
			break;
		case HLS_PART:
			CHECK(r.part <= HLS_PART_INDEX_MAX);
			n = snprintf(want, sizeof(want), "/%s/%s/part-%llu.%u.%s", r.app, r.name,
			             (unsigned long long)r.msn, r.part, ext);
			break;
		case HLS_INIT:
			CHECK(r.container == HLS_FMP4 && r.msn <= 9999999999ull);
			n = snprintf(want, sizeof(want), "/%s/%s/init-%llu%s.mp4", r.app, r.name,
			             (unsigned long long)r.msn, tr);
			break;
		case HLS_MPD:
			CHECK(r.container == HLS_FMP4);
			n = snprintf(want, sizeof(want), "/%s/%s/manifest.mpd", r.app, r.name);
			break;
		default:
			abort();
		}
		/* Leading zeros are accepted, so compare only when the input has none. */
		CHECK(n > 0 && (size_t)n <= plen);
		if ((size_t)n == plen)
			CHECK(memcmp(want, in, plen) == 0);
	}
	if (qm) {
		memset(&r, 0, sizeof(r));
		rc = hls_parse_query(qm + 1, size - plen - 1, &r);
		CHECK(rc == 0 || rc == SL_EPROTO);
		if (rc == 0) {
			CHECK(!r.block_part_given || r.block);
			CHECK(r.block_part <= HLS_PART_INDEX_MAX);
		}
	}
	return 0;
}
