/* SPDX-License-Identifier: Apache-2.0 */
/* http_auth.c - bearer tokens and cross-site refusals (see http_auth.h). */
#include "core/http_auth.h"

#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/jwt.h"

int http_bearer_ok(const struct http_request *req, const char *want)
{
	if (!want || !*want)
		return 0;
	size_t wlen = strlen(want);
	const struct http_header *h = http_find_header(req, "Authorization");
	if (h && h->value_len == 7 + wlen && strncasecmp(h->value, "Bearer ", 7) == 0 &&
	    ct_equal(h->value + 7, want, wlen))
		return 1;
	char q[HTTP_AUTH_TOKEN_MAX + 1];
	int qlen = req->query ? http_query_get(req->query, req->query_len, "accessToken", q,
	                                       sizeof(q)) : -1;
	return qlen >= 0 && (size_t)qlen == wlen && ct_equal(q, want, wlen);
}

static int value_is(const struct http_header *h, const char *v)
{
	size_t n = strlen(v);
	return h->value_len == n && strncasecmp(h->value, v, n) == 0;
}

/* Origin "http://HOST" or "https://HOST" where HOST is the request's Host: the same site. */
static int origin_is_host(const struct http_header *origin, const struct http_header *host)
{
	if (!host)
		return 0;
	const char *v = origin->value;
	size_t n = origin->value_len, skip;
	if (n > 7 && strncasecmp(v, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(v, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	return n - skip == host->value_len && strncasecmp(v + skip, host->value, n - skip) == 0;
}

const char *http_cross_site_refusal(const struct http_request *req)
{
	if (req->method != HTTP_DELETE) {
		/* "application/json", optionally with parameters ("; charset=utf-8"). */
		static const char json[] = "application/json";
		size_t jl = sizeof(json) - 1;
		const struct http_header *ct = http_find_header(req, "Content-Type");
		if (!ct || ct->value_len < jl || strncasecmp(ct->value, json, jl) != 0 ||
		    (ct->value_len > jl && ct->value[jl] != ';' && ct->value[jl] != ' '))
			return "state-changing calls need Content-Type: application/json";
	}
	const struct http_header *site = http_find_header(req, "Sec-Fetch-Site");
	if (site && !value_is(site, "same-origin") && !value_is(site, "none"))
		return "cross-site requests are refused (Sec-Fetch-Site)";
	const struct http_header *origin = http_find_header(req, "Origin");
	if (origin && !origin_is_host(origin, http_find_header(req, "Host")))
		return "requests from another site are refused (Origin is not this host)";
	return NULL;
}

int http_basic_parse(const char *value, size_t len, char *user, size_t user_size, char *pass,
                     size_t pass_size)
{
	uint8_t dec[HTTP_BASIC_MAX];
	if (user_size)
		user[0] = '\0';
	if (pass_size)
		pass[0] = '\0';
	if (len <= 6 || len >= HTTP_BASIC_MAX || strncasecmp(value, "Basic ", 6) != 0)
		return -1;
	long n = base64url_decode(value + 6, len - 6, dec, sizeof(dec));
	const uint8_t *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
	if (!colon || colon == dec || memchr(dec, 0, (size_t)n))
		return -1;
	size_t ulen = (size_t)(colon - dec), plen = (size_t)n - ulen - 1;
	if (ulen >= user_size || plen >= pass_size)
		return -1;
	memcpy(user, dec, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, plen);
	pass[plen] = '\0';
	explicit_bzero(dec, sizeof(dec));
	return 0;
}
