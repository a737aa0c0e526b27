/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_request.c - libFuzzer target for the HTTP/1.x request-head
 * parser and the URL helpers.
 *
 * Parses through the input as the server would on a kept-alive connection:
 * one head, skip its Content-Length body, the next head from there.  Each
 * result is checked: pointers inside the input, path and query inside the
 * target, the same answer from the head alone as from the head with bytes
 * behind it, and SL_EAGAIN one byte short of a complete head.  Each input is
 * parsed twice, with the default limits and with tight ones derived from it.
 * The parsed target also goes through http_url_decode and http_query_get,
 * and each head through the bearer-token and cross-site checks (http_auth).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/http_auth.h"
#include "core/http_parser.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int inside(const void *ptr, size_t len, const uint8_t *p, size_t n)
{
	const uint8_t *q = ptr;
	return q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len;
}

static void check_decode(const char *s, size_t n, int plus)
{
	static char out[16384];
	int r = http_url_decode(s, n, out, sizeof(out), plus);
	if (r >= 0) {
		CHECK((size_t)r <= n);
		CHECK(strlen(out) == (size_t)r);
	} else {
		CHECK(out[0] == '\0');
	}
	/* a tiny buffer either fits the result or refuses it */
	char small[4];
	r = http_url_decode(s, n, small, sizeof(small), plus);
	CHECK(r < (int)sizeof(small));
	if (r >= 0)
		CHECK(strlen(small) == (size_t)r);
}

static void check_query(const struct http_request *r)
{
	static const char *const names[] = { "token", "a", "", "x=y", "t%6Fken" };
	char out[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int v = http_query_get(r->query, r->query_len, names[i], out, sizeof(out));
		CHECK(v >= -1 && v < (int)sizeof(out));
		if (v >= 0) {
			CHECK(r->query != NULL);
			CHECK(strlen(out) == (size_t)v);
			CHECK((size_t)v <= r->query_len);
		}
	}
}

static void check_head(const uint8_t *p, size_t n, const struct http_limits *lim,
                       const struct http_request *r, int rc)
{
	size_t max_headers = lim->max_headers && lim->max_headers < HTTP_MAX_HEADERS
	                     ? lim->max_headers : HTTP_MAX_HEADERS;
	size_t max_bytes = lim->max_head_bytes ? lim->max_head_bytes : 8192;

	CHECK(r->head_len == (size_t)rc && r->head_len <= n && r->head_len <= max_bytes);
	CHECK(r->method >= HTTP_GET && r->method <= HTTP_OTHER);
	CHECK(r->version_minor == 0 || r->version_minor == 1);
	CHECK(r->keep_alive == 0 || r->keep_alive == 1);
	CHECK(r->content_length >= -1 && r->content_length <= ((int64_t)1 << 62));
	CHECK(r->target_len > 0 && inside(r->target, r->target_len, p, r->head_len));
	CHECK(inside(r->path, r->path_len, (const uint8_t *)r->target, r->target_len));
	if (r->query) {
		CHECK(inside(r->query, r->query_len, (const uint8_t *)r->target, r->target_len));
		CHECK(r->query[-1] == '?' && r->path + r->path_len == r->query - 1);
	} else {
		CHECK(r->path + r->path_len == r->target + r->target_len);
	}
	CHECK(r->nheaders <= max_headers);
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];
		CHECK(h->name_len > 0 && inside(h->name, h->name_len, p, r->head_len));
		CHECK(inside(h->value, h->value_len, p, r->head_len));
		CHECK(h->value >= h->name + h->name_len);
		for (size_t j = 0; j < h->value_len; j++)
			CHECK(h->value[j] != '\r' && h->value[j] != '\n' && h->value[j] != '\0');
		if (h->value_len) {
			CHECK(h->value[0] != ' ' && h->value[0] != '\t');
			CHECK(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
		}
	}
	const struct http_header *host = http_find_header(r, "host");
	CHECK(host == NULL || (host >= r->headers && host < r->headers + r->nheaders));
	if (r->version_minor == 1)
		CHECK(http_find_header(r, "Host") != NULL);
	CHECK(http_find_header(r, "transfer-encoding") == NULL);
}

/* The head alone parses the same; one byte short of it needs more input. */
static void check_stable(const uint8_t *p, const struct http_limits *lim,
                         const struct http_request *r, int rc)
{
	struct http_request again;
	uint8_t *copy = malloc((size_t)rc);
	CHECK(copy != NULL);
	memcpy(copy, p, (size_t)rc);
	CHECK(http_parse_request(copy, (size_t)rc, lim, &again) == rc);
	CHECK(again.method == r->method && again.nheaders == r->nheaders);
	CHECK(again.target - (const char *)copy == r->target - (const char *)p);
	CHECK(again.content_length == r->content_length && again.keep_alive == r->keep_alive);
	CHECK(http_parse_request(copy, (size_t)rc - 1, lim, &again) == SL_EAGAIN);
	free(copy);
}

static void run(const uint8_t *data, size_t size, const struct http_limits *lim)
{
	static struct http_request r;
	size_t off = 0;

	while (off < size) {
		const uint8_t *p = data + off;
		size_t n = size - off;
		int rc = http_parse_request(p, n, lim, &r);
		if (rc <= 0) {
			CHECK(rc == SL_EAGAIN || rc == SL_EPROTO || rc == SL_ELIMIT
			      || rc == SL_EUNSUPP);
			return;
		}
		check_head(p, n, lim, &r, rc);
		check_stable(p, lim, &r, rc);
		check_decode(r.path, r.path_len, 0);
		check_decode(r.target, r.target_len, 1);
		check_query(&r);
		/* Never accepts an empty token; a verdict on any head, without reading past it. */
		CHECK(!http_bearer_ok(&r, ""));
		(void)http_bearer_ok(&r, "s3cret-t0ken");
		(void)http_cross_site_refusal(&r);
		off += (size_t)rc;
		if (r.content_length > 0)
			off += (uint64_t)r.content_length < size - off ? (size_t)r.content_length
			                                                : size - off;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim = { 0, 0 };
	run(data, size, &lim);
	/* tight limits, so the byte and count limits are hit mid-head */
	lim.max_head_bytes = size / 2 + 1;
	lim.max_headers = 1 + size % 8;
	run(data, size, &lim);
	check_decode((const char *)data, size, (int)(size & 1));
	return 0;
}
