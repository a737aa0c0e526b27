/* SPDX-License-Identifier: Apache-2.0 */
/* srt_streamid.c - the SRT stream id parser (see srt_streamid.h). */
#include <string.h>

#include "core/err.h"
#include "proto/srt_streamid.h"

static int eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static int copy(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap || memchr(p, 0, n))
		return SL_EPROTO;
	memcpy(dst, p, n);
	dst[n] = 0;
	return 0;
}

/* "APP/STREAM": exactly one slash, both names valid. */
static int resource(const char *p, size_t n, struct srt_streamid *out)
{
	const char *slash = memchr(p, '/', n);
	if (!slash)
		return SL_EPROTO;
	size_t alen = (size_t)(slash - p);
	if (copy(out->app, sizeof(out->app), p, alen) < 0 ||
	    copy(out->name, sizeof(out->name), slash + 1, n - alen - 1) < 0)
		return SL_EPROTO;
	if (!stream_name_valid(out->app) || !stream_name_valid(out->name))
		return SL_EPROTO;
	return 0;
}

static int convention(const char *s, size_t n, struct srt_streamid *out)
{
	int have_r = 0;
	size_t i = 0;
	while (i < n) {
		const char *kv = s + i;
		const char *comma = memchr(kv, ',', n - i);
		size_t len = comma ? (size_t)(comma - kv) : n - i;
		i += len + 1;
		if (len == 0)
			continue;
		const char *eqs = memchr(kv, '=', len);
		if (!eqs)
			return SL_EPROTO;
		size_t klen = (size_t)(eqs - kv);
		const char *v = eqs + 1;
		size_t vlen = len - klen - 1;
		if (eq(kv, klen, "r")) {
			if (resource(v, vlen, out) < 0)
				return SL_EPROTO;
			have_r = 1;
		} else if (eq(kv, klen, "m")) {
			if (eq(v, vlen, "publish"))
				out->publish = 1;
			else if (eq(v, vlen, "request"))
				out->publish = 0;
			else if (eq(v, vlen, "bidirectional"))
				return SL_EUNSUPP;
			else
				return SL_EPROTO;
		} else if (eq(kv, klen, "t")) {
			if (eq(v, vlen, "file") || eq(v, vlen, "auth"))
				return SL_EUNSUPP;
			if (!eq(v, vlen, "stream") &&
			    copy(out->token, sizeof(out->token), v, vlen) < 0)
				return SL_EPROTO;
		} else if (eq(kv, klen, "token")) {
			if (copy(out->token, sizeof(out->token), v, vlen) < 0)
				return SL_EPROTO;
		}
	}
	return have_r ? 0 : SL_EPROTO;
}

int srt_streamid_parse(const char *s, size_t n, struct srt_streamid *out)
{
	memset(out, 0, sizeof(*out));
	if (n > SRT_STREAMID_MAX)
		return SL_EPROTO;
	if (n >= 4 && memcmp(s, "#!::", 4) == 0) {
		int rc = convention(s + 4, n - 4, out);
		out->mode_set = 1;
		if (rc < 0)
			memset(out, 0, sizeof(*out));
		return rc;
	}
	/* Plain form: APP/STREAM, optionally ?token=... (the only query key we read). */
	const char *q = memchr(s, '?', n);
	size_t rlen = q ? (size_t)(q - s) : n;
	int rc = resource(s, rlen, out);
	if (rc == 0 && q) {
		const char *v = q + 1;
		size_t vlen = n - rlen - 1;
		if (vlen < 6 || memcmp(v, "token=", 6) != 0)
			rc = SL_EPROTO;
		else
			rc = copy(out->token, sizeof(out->token), v + 6, vlen - 6);
	}
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
