/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_parser.c - HTTP/1.x request head parsing (RFC 9112), and URL helpers.
 *
 * The server calls http_parse_request() again from the start each time more
 * bytes arrive, so the parser keeps no state between calls and does one pass
 * over at most max_head_bytes: O(n) per call, no allocation.  Each line is
 * found with memchr and checked byte by byte against a class table.  Bytes
 * are checked as they arrive, even in a line that is not complete yet, so a
 * peer that sends garbage (a TLS hello, a binary protocol) is refused at
 * once instead of after the head limit or a timeout.
 *
 * Strictness follows the smuggling-relevant MUSTs of RFC 9112/9110: no
 * whitespace before the colon, no obs-fold, no bare CR, no CTL in values,
 * one Host at most (and one required in HTTP/1.1), a single Content-Length
 * value, and Transfer-Encoding refused (we never take chunked requests).
 * A lone LF is accepted as a line end, which RFC 9112 section 2.2 allows.
 */
#include "core/http_parser.h"

#include <limits.h>
#include <string.h>

#include "core/err.h"

#define HEAD_BYTES_DEFAULT 8192
/* Far above any body we take; low enough that nothing downstream overflows. */
#define CONTENT_LENGTH_MAX ((int64_t)1 << 62)

/* Byte classes: RFC 9110 tchar, field-vchar / SP / HTAB, request-target byte. */
#define C_TCHAR 1
#define C_FIELD 2
#define C_TARGET 4

static const uint8_t byte_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
	6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
};

/* What the framing-relevant header fields said, gathered line by line. */
struct head_facts {
	int hosts;
	int conn_close;
	int conn_keep_alive;
};

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* a[0..n) equals the lowercase b[0..n), ignoring ASCII case (no locale). */
static int eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((uint8_t)a[i]) != (uint8_t)b[i])
			return 0;
	return 1;
}

static int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * Finds the line that starts at p[start] within the window p[0..m).  Returns
 * 1 for a complete line, with *end at the end of its content (before LF or
 * CRLF) and *next after the LF.  Returns 0 if the window ends first, with
 * *end at the window's end less a final CR (the LF may still come).
 */
static int find_line(const uint8_t *p, size_t start, size_t m, size_t *end, size_t *next)
{
	const uint8_t *lf = start < m ? memchr(p + start, '\n', m - start) : NULL;
	size_t e = lf ? (size_t)(lf - p) : m;

	if (lf)
		*next = e + 1;
	if (e > start && p[e - 1] == '\r')
		e--;
	*end = e;
	return lf != NULL;
}

/* "HTTP/" DIGIT "." DIGIT, checked as a prefix while the line is incomplete. */
static int check_version(const uint8_t *v, size_t len, int complete, int *minor)
{
	static const char prefix[] = "HTTP/";

	if (len > 8)
		return SL_EPROTO;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = v[i];
		int ok = i < 5 ? c == (uint8_t)prefix[i]
		       : i == 6 ? c == '.' : c >= '0' && c <= '9';
		if (!ok)
			return SL_EPROTO;
	}
	if (!complete)
		return SL_EAGAIN;
	if (len != 8)
		return SL_EPROTO;
	if (v[5] != '1' || v[7] > '1')
		return SL_EUNSUPP; /* HTTP/0.9, HTTP/2.0 (the h2 preface), 1.2+ */
	*minor = v[7] - '0';
	return 0;
}

static enum http_method method_of(const uint8_t *m, size_t len)
{
	switch (len) {
	case 3:
		if (!memcmp(m, "GET", 3))
			return HTTP_GET;
		if (!memcmp(m, "PUT", 3))
			return HTTP_PUT;
		break;
	case 4:
		if (!memcmp(m, "HEAD", 4))
			return HTTP_HEAD;
		if (!memcmp(m, "POST", 4))
			return HTTP_POST;
		break;
	case 5:
		if (!memcmp(m, "PATCH", 5))
			return HTTP_PATCH;
		break;
	case 6:
		if (!memcmp(m, "DELETE", 6))
			return HTTP_DELETE;
		break;
	case 7:
		if (!memcmp(m, "OPTIONS", 7))
			return HTTP_OPTIONS;
		break;
	}
	return HTTP_OTHER; /* methods are case-sensitive: "get" is another token */
}

/* Length of an "http://" or "https://" prefix (any case), else 0. */
static size_t scheme_len(const char *t, size_t n)
{
	if (n >= 7 && eq_nocase(t, "http://", 7))
		return 7;
	if (n >= 8 && eq_nocase(t, "https://", 8))
		return 8;
	return 0;
}

/*
 * Sets path and query from the target: origin-form, "*" for OPTIONS, or
 * absolute-form, whose path may be empty ("http://host?x").  Authority-form
 * (CONNECT) is refused: we are not a proxy.
 */
static int split_target(struct http_request *req)
{
	const char *t = req->target;
	size_t n = req->target_len;
	size_t ps = 0;

	if (t[0] == '*' && n == 1) {
		if (req->method != HTTP_OPTIONS)
			return SL_EPROTO;
		req->path = t;
		req->path_len = 1;
		return 0;
	}
	if (t[0] != '/') {
		size_t sl = scheme_len(t, n);
		if (sl == 0)
			return SL_EPROTO;
		ps = sl;
		while (ps < n && t[ps] != '/' && t[ps] != '?')
			ps++;
		if (ps == sl)
			return SL_EPROTO; /* no authority */
	}
	const char *q = memchr(t + ps, '?', n - ps);
	req->path = t + ps;
	req->path_len = q ? (size_t)(q - req->path) : n - ps;
	if (q) {
		req->query = q + 1;
		req->query_len = (size_t)(t + n - req->query);
	}
	return 0;
}

/* method SP request-target SP HTTP-version, from s[0..len) (no line end). */
static int parse_request_line(const uint8_t *s, size_t len, int complete,
                              struct http_request *req)
{
	size_t i = 0;

	while (i < len && (byte_class[s[i]] & C_TCHAR))
		i++;
	if (i == len)
		return complete ? SL_EPROTO : SL_EAGAIN;
	if (s[i] != ' ' || i == 0)
		return SL_EPROTO;
	size_t method_len = i++;

	size_t ts = i;
	while (i < len && (byte_class[s[i]] & C_TARGET))
		i++;
	size_t target_len = i - ts;
	if (i == len) {
		if (!complete)
			return SL_EAGAIN;
		/* "GET /path" alone is an HTTP/0.9 simple request */
		return target_len ? SL_EUNSUPP : SL_EPROTO;
	}
	if (s[i] != ' ' || target_len == 0)
		return SL_EPROTO;
	i++;

	int r = check_version(s + i, len - i, complete, &req->version_minor);
	if (r != 0)
		return r;
	req->method = method_of(s, method_len);
	req->target = (const char *)s + ts;
	req->target_len = target_len;
	return split_target(req);
}

/* field-name ":" OWS field-value OWS, from s[0..len) (no line end). */
static int parse_header_line(const uint8_t *s, size_t len, int complete,
                             struct http_header *h)
{
	size_t i = 0;

	while (i < len && (byte_class[s[i]] & C_TCHAR))
		i++;
	if (i == len)
		return complete ? SL_EPROTO : SL_EAGAIN;
	/* also refuses obs-fold (i == 0 at SP/HTAB) and "Name : value" */
	if (s[i] != ':' || i == 0)
		return SL_EPROTO;
	size_t name_len = i++;

	while (i < len && is_ows(s[i]))
		i++;
	size_t vs = i;
	for (; i < len; i++)
		if (!(byte_class[s[i]] & C_FIELD))
			return SL_EPROTO;
	if (!complete)
		return SL_EAGAIN;
	size_t ve = len;
	while (ve > vs && is_ows(s[ve - 1]))
		ve--;
	h->name = (const char *)s;
	h->name_len = name_len;
	h->value = (const char *)s + vs;
	h->value_len = ve - vs;
	return 0;
}

static int parse_content_length(const struct http_header *h, int64_t *cl)
{
	int64_t v = 0;

	if (h->value_len == 0)
		return SL_EPROTO;
	for (size_t i = 0; i < h->value_len; i++) {
		uint8_t c = (uint8_t)h->value[i];
		if (c < '0' || c > '9')
			return SL_EPROTO; /* also "42, 42" and "+42" */
		if (v > (CONTENT_LENGTH_MAX - (c - '0')) / 10)
			return SL_EPROTO;
		v = v * 10 + (c - '0');
	}
	/* repeats must agree, or the body's end is ambiguous (smuggling) */
	if (*cl >= 0 && *cl != v)
		return SL_EPROTO;
	*cl = v;
	return 0;
}

/* Connection is a comma list of case-insensitive tokens. */
static void parse_connection(const struct http_header *h, struct head_facts *f)
{
	const char *v = h->value;
	size_t n = h->value_len;
	size_t i = 0;

	while (i < n) {
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i++;
		while (s < e && is_ows((uint8_t)v[s]))
			s++;
		while (e > s && is_ows((uint8_t)v[e - 1]))
			e--;
		if (e - s == 5 && eq_nocase(v + s, "close", 5))
			f->conn_close = 1;
		else if (e - s == 10 && eq_nocase(v + s, "keep-alive", 10))
			f->conn_keep_alive = 1;
	}
}

static int note_header(const struct http_header *h, struct http_request *req,
                       struct head_facts *f)
{
	switch (h->name_len) {
	case 4:
		if (eq_nocase(h->name, "host", 4) && ++f->hosts > 1)
			return SL_EPROTO;
		break;
	case 10:
		if (eq_nocase(h->name, "connection", 10))
			parse_connection(h, f);
		break;
	case 14:
		if (eq_nocase(h->name, "content-length", 14))
			return parse_content_length(h, &req->content_length);
		break;
	case 17:
		if (eq_nocase(h->name, "transfer-encoding", 17))
			return SL_EUNSUPP;
		break;
	}
	return 0;
}

int http_parse_request(const uint8_t *p, size_t n, const struct http_limits *lim,
                       struct http_request *req)
{
	size_t max_bytes = lim && lim->max_head_bytes ? lim->max_head_bytes : HEAD_BYTES_DEFAULT;
	size_t max_headers = lim && lim->max_headers && lim->max_headers < HTTP_MAX_HEADERS
	                     ? lim->max_headers : HTTP_MAX_HEADERS;
	if (max_bytes > INT_MAX)
		max_bytes = INT_MAX;
	/* Never look past the limit: a head that does not end inside it is refused. */
	size_t m = n < max_bytes ? n : max_bytes;
	int short_result = n > max_bytes ? SL_ELIMIT : SL_EAGAIN;
	struct head_facts facts = { 0 };
	size_t pos = 0, end, next = 0;
	int r;

	req->method = 0;
	req->target = req->path = req->query = NULL;
	req->target_len = req->path_len = req->query_len = 0;
	req->version_minor = 0;
	req->nheaders = 0;
	req->content_length = -1;
	req->keep_alive = 0;
	req->head_len = 0;

	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	for (;;) {
		if (pos == m || (p[pos] == '\r' && pos + 1 == m))
			return short_result;
		if (p[pos] == '\n')
			pos++;
		else if (p[pos] == '\r' && p[pos + 1] == '\n')
			pos += 2;
		else if (p[pos] == '\r')
			return SL_EPROTO;
		else
			break;
	}

	int complete = find_line(p, pos, m, &end, &next);
	r = parse_request_line(p + pos, end - pos, complete, req);
	if (r != 0)
		return r == SL_EAGAIN ? short_result : r;
	pos = next;

	for (;;) {
		struct http_header h;

		if (pos < m && p[pos] != '\r' && p[pos] != '\n' && req->nheaders == max_headers)
			return SL_ELIMIT;
		complete = find_line(p, pos, m, &end, &next);
		if (complete && end == pos)
			break; /* the empty line that ends the head */
		r = parse_header_line(p + pos, end - pos, complete, &h);
		if (r != 0)
			return r == SL_EAGAIN ? short_result : r;
		req->headers[req->nheaders++] = h;
		r = note_header(&h, req, &facts);
		if (r != 0)
			return r;
		pos = next;
	}

	/* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400 */
	if (req->version_minor == 1 && facts.hosts == 0)
		return SL_EPROTO;
	if (req->version_minor == 1)
		req->keep_alive = !facts.conn_close;
	else
		req->keep_alive = facts.conn_keep_alive && !facts.conn_close;
	req->head_len = next;
	return (int)next;
}

const struct http_header *http_find_header(const struct http_request *r, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];
		if (h->name_len != len)
			continue;
		size_t j = 0;
		while (j < len && ascii_lower((uint8_t)h->name[j]) == ascii_lower((uint8_t)name[j]))
			j++;
		if (j == len)
			return h;
	}
	return NULL;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes the character at s[*i] and advances *i.  Returns it (1..255), or
 * -1 for a bad or truncated escape or a NUL (raw or encoded), which would
 * cut a C string short where the caller does not expect it.
 */
static int decode_one(const char *s, size_t n, size_t *i, int plus_is_space)
{
	uint8_t c = (uint8_t)s[*i];

	if (c == '%') {
		if (n - *i < 3)
			return -1;
		int hi = hex_value((uint8_t)s[*i + 1]);
		int lo = hex_value((uint8_t)s[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		c = (uint8_t)(hi << 4 | lo);
		*i += 3;
	} else {
		if (c == '+' && plus_is_space)
			c = ' ';
		*i += 1;
	}
	return c == 0 ? -1 : c;
}

int http_url_decode(const char *s, size_t n, char *out, size_t out_size, int plus_is_space)
{
	size_t o = 0, i = 0;

	if (out_size == 0)
		return -1;
	while (i < n) {
		int c = decode_one(s, n, &i, plus_is_space);
		if (c < 0 || o + 1 >= out_size || o >= INT_MAX) {
			out[0] = '\0';
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

/* Whether the encoded key k[0..n) decodes to exactly name. */
static int key_is(const char *k, size_t n, const char *name)
{
	size_t i = 0, j = 0;

	while (i < n) {
		int c = decode_one(k, n, &i, 1);
		if (c < 0 || name[j] == '\0' || (uint8_t)name[j] != c)
			return 0;
		j++;
	}
	return name[j] == '\0';
}

int http_query_get(const char *query, size_t query_len, const char *name,
                   char *out, size_t out_size)
{
	size_t i = 0;

	if (query == NULL || name == NULL)
		return -1;
	while (i < query_len) {
		const char *amp = memchr(query + i, '&', query_len - i);
		size_t end = amp ? (size_t)(amp - query) : query_len;
		const char *eq = memchr(query + i, '=', end - i);
		size_t key_end = eq ? (size_t)(eq - query) : end;

		if (end > i && key_is(query + i, key_end - i, name)) {
			if (!eq)
				return http_url_decode("", 0, out, out_size, 1);
			return http_url_decode(eq + 1, end - key_end - 1, out, out_size, 1);
		}
		i = end + 1;
	}
	return -1;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}
