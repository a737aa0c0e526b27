/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_parser.h - HTTP/1.x request head parsing, and URL helpers.
 *
 * Strict and bounded: one call parses the request line and headers of one
 * request from a buffer, without copying; the header block may not exceed a
 * limit; obsolete line folding, bare CR, NUL and control bytes, conflicting
 * Content-Length values, and Transfer-Encoding on requests are refused.
 * Bodies are the caller's business (Content-Length only).
 */
#ifndef SLUICE_CORE_HTTP_PARSER_H
#define SLUICE_CORE_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_PATCH,
	HTTP_OTHER,   /* a token we do not serve: answer 405/501 */
};

struct http_header {
	const char *name;   /* points into the parsed buffer; not NUL-terminated */
	size_t name_len;
	const char *value;  /* leading and trailing whitespace trimmed */
	size_t value_len;
};

struct http_request {
	enum http_method method;
	const char *target;     /* request-target as sent */
	size_t target_len;
	const char *path;       /* target up to '?' */
	size_t path_len;
	const char *query;      /* after '?', or NULL */
	size_t query_len;
	int version_minor;      /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	int64_t content_length; /* -1 when absent */
	int keep_alive;         /* after Connection: and the version's default */
	size_t head_len;        /* bytes of request line + headers + blank line */
};

struct http_limits {
	size_t max_head_bytes;  /* 0 means 8192 */
	size_t max_headers;     /* 0 means HTTP_MAX_HEADERS; never more */
};

/*
 * Parses one request head from p[0..n).  Returns the head's length (> 0),
 * SL_EAGAIN if it is incomplete and still within the limit, SL_ELIMIT if
 * it is over the byte or header-count limit, SL_EPROTO if malformed,
 * SL_EUNSUPP for a request body framing we refuse (Transfer-Encoding) or a
 * version other than HTTP/1.0 and 1.1.  Leading empty lines (CRLF) before
 * the request line are skipped, as RFC 9112 allows.
 */
int http_parse_request(const uint8_t *p, size_t n, const struct http_limits *lim,
                       struct http_request *req);

/* Case-insensitive header lookup; the first match, or NULL. */
const struct http_header *http_find_header(const struct http_request *r,
                                           const char *name);

/*
 * Percent-decodes s[0..n) into out (size out_size, NUL-terminated).  With
 * plus_is_space, '+' becomes ' ' (query strings).  Returns the decoded
 * length, or -1 for a bad escape, an encoded NUL, or no room.
 */
int http_url_decode(const char *s, size_t n, char *out, size_t out_size,
                    int plus_is_space);

/*
 * Finds parameter name in a query string (a=b&c=d) and percent-decodes its
 * value into out.  Returns the value's length, or -1 if absent or bad.
 */
int http_query_get(const char *query, size_t query_len, const char *name,
                   char *out, size_t out_size);

/* The reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_status_text(int status);

#endif
