/* SPDX-License-Identifier: Apache-2.0 */
/* hls_request.c - HLS request paths and blocking-reload queries (see hls_request.h). */
#include "hls/hls_request.h"

#include <string.h>

#include "core/err.h"
#include "core/http_parser.h"

/* A decimal number of 1..max_digits digits, nothing else. */
static int parse_num(const char *p, size_t n, unsigned max_digits, uint64_t *out)
{
	if (n == 0 || n > max_digits)
		return SL_EPROTO;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SL_EPROTO;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static int has_prefix(const char *p, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n >= k && memcmp(p, pre, k) == 0;
}

static int has_suffix(const char *p, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && memcmp(p + n - k, suf, k) == 0;
}

/* ".ts" or ".m4s" at the end of f[0..n): the container, and the length of the extension. */
static size_t media_ext(const char *f, size_t n, enum hls_container *c)
{
	if (has_suffix(f, n, ".ts")) {
		*c = HLS_TS;
		return 3;
	}
	if (has_suffix(f, n, ".m4s")) {
		*c = HLS_FMP4;
		return 4;
	}
	return 0;
}

/* A "-v" or "-a" before the extension (ext bytes): the track, and the name shortened. */
static size_t track_suffix(const char *f, size_t n, size_t ext, unsigned *track)
{
	if (n >= ext + 2 && f[n - ext - 2] == '-' && (f[n - ext - 1] == 'v' || f[n - ext - 1] == 'a')) {
		*track = f[n - ext - 1] == 'v' ? 1 : 2;
		return 2;
	}
	return 0;
}

static int parse_file(const char *f, size_t n, struct hls_request *out)
{
	uint64_t v;
	size_t ext;
	if (n == 0) {
		out->file = HLS_PAGE;
		return 0;
	}
	if (n == 10 && memcmp(f, "index.m3u8", 10) == 0) {
		out->file = HLS_PLAYLIST;
		return 0;
	}
	if (n == 12 && memcmp(f, "manifest.mpd", 12) == 0) {
		out->file = HLS_MPD;
		out->container = HLS_FMP4;
		return 0;
	}
	if (has_prefix(f, n, "init-") && has_suffix(f, n, ".mp4") && n >= 9) {
		size_t t = track_suffix(f, n, 4, &out->track);
		if (n < 9 + t || parse_num(f + 5, n - 9 - t, 10, &out->msn) < 0)
			return SL_EPROTO;
		out->file = HLS_INIT;
		out->container = HLS_FMP4;
		return 0;
	}
	if (has_prefix(f, n, "seg-") && (ext = media_ext(f, n, &out->container)) &&
	    n >= 4 + ext) {
		size_t t = out->container == HLS_FMP4 ? track_suffix(f, n, ext, &out->track) : 0;
		/* DASH names segments by start time (seg-tT-v.m4s): one track only. */
		size_t tp = t && n > 4 + ext + t && f[4] == 't' ? 1 : 0;
		out->by_time = (int)tp;
		if (n < 4 + tp + ext + t || parse_num(f + 4 + tp, n - 4 - tp - ext - t, 19, &out->msn) < 0)
			return SL_EPROTO;
		out->file = HLS_SEGMENT;
		return 0;
	}
	if (has_prefix(f, n, "part-") && (ext = media_ext(f, n, &out->container)) &&
	    n >= 5 + ext) {
		const char *num = f + 5;
		size_t len = n - 5 - ext;
		const char *dot = memchr(num, '.', len);
		if (!dot)
			return SL_EPROTO;
		size_t mlen = (size_t)(dot - num);
		if (parse_num(num, mlen, 19, &out->msn) < 0 ||
		    parse_num(dot + 1, len - mlen - 1, 3, &v) < 0)
			return SL_EPROTO;
		out->part = (unsigned)v;
		out->file = HLS_PART;
		return 0;
	}
	return SL_ENOTFOUND;
}

int hls_parse_path(const char *path, size_t len, struct hls_request *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1 || path[0] != '/')
		return SL_ENOTFOUND;
	const char *p = path + 1, *end = path + len;
	/* The last two slashes: /APP/STREAM/FILE, where APP may have levels (live/room1). */
	const char *s2 = memrchr(p, '/', (size_t)(end - p));
	const char *s1 = s2 && s2 > p ? memrchr(p, '/', (size_t)(s2 - p)) : NULL;
	if (!s1)
		return SL_ENOTFOUND;
	const char *file = s2 + 1;
	size_t alen = (size_t)(s1 - p), nlen = (size_t)(s2 - s1 - 1);
	if (alen == 0 || alen > HLS_NAME_MAX || nlen == 0 || nlen > HLS_NAME_MAX ||
	    p[0] == '/' || s1[-1] == '/' || memmem(p, alen, "//", 2))
		return SL_ENOTFOUND;
	int rc = parse_file(file, (size_t)(end - file), out);
	if (rc < 0)
		return rc;
	memcpy(out->app, p, alen);
	out->app[alen] = '\0';
	memcpy(out->name, s1 + 1, nlen);
	out->name[nlen] = '\0';
	if (memchr(out->app, '\0', alen) || memchr(out->name, '\0', nlen))
		return SL_EPROTO;
	return 0;
}

int hls_parse_query(const char *query, size_t len, struct hls_request *out)
{
	char v[32];
	uint64_t n;
	out->block = out->block_part_given = 0;
	int l = http_query_get(query, len, "_HLS_msn", v, sizeof(v));
	if (l >= 0) {
		if (parse_num(v, (size_t)l, 19, &n) < 0)
			return SL_EPROTO;
		out->block = 1;
		out->block_msn = n;
	}
	l = http_query_get(query, len, "_HLS_part", v, sizeof(v));
	if (l >= 0) {
		if (!out->block || parse_num(v, (size_t)l, 3, &n) < 0)
			return SL_EPROTO;
		out->block_part_given = 1;
		out->block_part = (unsigned)n;
	}
	return 0;
}
