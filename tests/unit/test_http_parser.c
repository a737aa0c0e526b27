/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_parser.c - HTTP/1.x request heads, limits, malformed input, and
 * the URL helpers.
 *
 * The request heads marked "captured" are the exact bytes real clients sent
 * to a throwaway Python socket listener on 127.0.0.1 (Debian 12: curl 7.88.1,
 * ffmpeg/ffprobe 5.1 "Lavf/59.27.100", Wget 1.21.3, GStreamer 1.22 souphttpsrc,
 * Python 3.11 urllib).  The port numbers in Host are that listener's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/http_parser.h"
#include "core/mem.h"

/* captured: curl http://127.0.0.1:18081/live/x.flv */
static const char curl_get[] =
	"GET /live/x.flv HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nUser-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n\r\n";

/* captured: ffmpeg -i http://127.0.0.1:18082/live/x.flv -f null - */
static const char ffmpeg_get[] =
	"GET /live/x.flv HTTP/1.1\r\nUser-Agent: Lavf/59.27.100\r\nAccept: */*\r\n"
	"Range: bytes=0-\r\nConnection: close\r\nHost: 127.0.0.1:18082\r\nIcy-MetaData: 1\r\n\r\n";

/* captured: ffprobe http://127.0.0.1:18083/live/x.m3u8 */
static const char ffprobe_get[] =
	"GET /live/x.m3u8 HTTP/1.1\r\nUser-Agent: Lavf/59.27.100\r\nAccept: */*\r\n"
	"Range: bytes=0-\r\nConnection: close\r\nHost: 127.0.0.1:18083\r\nIcy-MetaData: 1\r\n\r\n";

/* captured: curl -X POST -H 'Content-Type: application/json' -d '{...}' (with its body) */
static const char curl_post[] =
	"POST /api/v1/streams?app=live&name=a%20b HTTP/1.1\r\nHost: 127.0.0.1:18084\r\n"
	"User-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Type: application/json\r\n"
	"Content-Length: 28\r\n\r\n{\"stream\":\"x\",\"token\":\"abc\"}";

/* captured: curl -x http://127.0.0.1:18085 'http://example.com/live/x.flv?token=a+b' */
static const char curl_proxy[] =
	"GET http://example.com/live/x.flv?token=a+b HTTP/1.1\r\nHost: example.com\r\n"
	"User-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n";

/* captured: curl -0 http://127.0.0.1:18086/live/x/index.m3u8 */
static const char curl_http10[] =
	"GET /live/x/index.m3u8 HTTP/1.0\r\nHost: 127.0.0.1:18086\r\nUser-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n\r\n";

/* captured: wget http://127.0.0.1:18087/live/x.flv */
static const char wget_get[] =
	"GET /live/x.flv HTTP/1.1\r\nHost: 127.0.0.1:18087\r\nUser-Agent: Wget/1.21.3\r\n"
	"Accept: */*\r\nAccept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n";

/* captured: gst-launch-1.0 souphttpsrc location=http://127.0.0.1:18088/live/x.flv ! fakesink */
static const char gst_get[] =
	"GET /live/x.flv HTTP/1.1\r\nUser-Agent: GStreamer souphttpsrc 1.22.0 libsoup/3.2.3\r\n"
	"Accept-Encoding: identity\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:18088\r\n"
	"icy-metadata: 1\r\n\r\n";

/* captured: curl -I http://127.0.0.1:18089/live/x.flv */
static const char curl_head[] =
	"HEAD /live/x.flv HTTP/1.1\r\nHost: 127.0.0.1:18089\r\nUser-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n\r\n";

/* captured: curl -X OPTIONS --request-target '*' http://127.0.0.1:18090/ */
static const char curl_options[] =
	"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:18090\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

/* captured: python3 urllib.request.urlopen('http://127.0.0.1:18091/live/x.flv?token=a%2Bb&x') */
static const char urllib_get[] =
	"GET /live/x.flv?token=a%2Bb&x HTTP/1.1\r\nAccept-Encoding: identity\r\n"
	"Host: 127.0.0.1:18091\r\nUser-Agent: Python-urllib/3.11\r\nConnection: close\r\n\r\n";

/* captured: curl http://127.0.0.1:18092/live/a.m3u8 http://127.0.0.1:18092/live/a-0.ts
 * (two requests on one kept-alive connection, as one buffer) */
static const char curl_keepalive[] =
	"GET /live/a.m3u8 HTTP/1.1\r\nHost: 127.0.0.1:18092\r\nUser-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n\r\n"
	"GET /live/a-0.ts HTTP/1.1\r\nHost: 127.0.0.1:18092\r\nUser-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n\r\n";

static const char *const captured[] = {
	curl_get, ffmpeg_get, ffprobe_get, curl_post, curl_proxy, curl_http10, wget_get,
	gst_get, curl_head, curl_options, urllib_get, curl_keepalive,
};

/* Parses p[0..n) from an exact-size heap copy, so ASan sees any over-read. */
static int parse_n(const char *p, size_t n, const struct http_limits *lim,
                   struct http_request *r)
{
	/* An exact-size copy lets ASan catch any read past n; the request's
	 * spans point into it, so it lives until the next call. */
	static uint8_t *copy;
	free(copy);
	copy = xmalloc(n ? n : 1);
	memcpy(copy, p, n);
	return http_parse_request(copy, n, lim, r);
}

static int parse(const char *s, struct http_request *r)
{
	return http_parse_request((const uint8_t *)s, strlen(s), NULL, r);
}

static size_t head_end(const char *s)
{
	return (size_t)(strstr(s, "\r\n\r\n") - s) + 4;
}

static void assert_span(const char *p, size_t n, const char *want)
{
	assert_non_null(p);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

static void assert_header(const struct http_request *r, size_t i, const char *name,
                          const char *value)
{
	assert_true(i < r->nheaders);
	assert_span(r->headers[i].name, r->headers[i].name_len, name);
	assert_span(r->headers[i].value, r->headers[i].value_len, value);
}

static void test_curl_get(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(curl_get, &r), strlen(curl_get));
	assert_int_equal(r.head_len, strlen(curl_get));
	assert_int_equal(r.method, HTTP_GET);
	assert_span(r.target, r.target_len, "/live/x.flv");
	assert_span(r.path, r.path_len, "/live/x.flv");
	assert_null(r.query);
	assert_int_equal(r.version_minor, 1);
	assert_int_equal(r.nheaders, 3);
	assert_header(&r, 0, "Host", "127.0.0.1:18081");
	assert_header(&r, 1, "User-Agent", "curl/7.88.1");
	assert_header(&r, 2, "Accept", "*/*");
	assert_int_equal(r.content_length, -1);
	assert_true(r.keep_alive);
}

static void test_ffmpeg_and_ffprobe(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(ffmpeg_get, &r), strlen(ffmpeg_get));
	assert_int_equal(r.nheaders, 6);
	assert_header(&r, 0, "User-Agent", "Lavf/59.27.100");
	assert_header(&r, 2, "Range", "bytes=0-");
	assert_header(&r, 3, "Connection", "close");
	assert_header(&r, 5, "Icy-MetaData", "1");
	assert_false(r.keep_alive);

	assert_int_equal(parse(ffprobe_get, &r), strlen(ffprobe_get));
	assert_span(r.path, r.path_len, "/live/x.m3u8");
	assert_false(r.keep_alive);
}

static void test_curl_post_with_body(void **state)
{
	(void)state;
	struct http_request r;
	int n = parse(curl_post, &r);
	assert_int_equal(n, head_end(curl_post));
	assert_int_equal(r.method, HTTP_POST);
	assert_int_equal(r.content_length, 28);
	assert_memory_equal(curl_post + n, "{\"stream\"", 9);
	assert_int_equal(strlen(curl_post) - (size_t)n, 28);
	assert_span(r.path, r.path_len, "/api/v1/streams");
	assert_span(r.query, r.query_len, "app=live&name=a%20b");
	char v[32];
	assert_int_equal(http_query_get(r.query, r.query_len, "name", v, sizeof(v)), 3);
	assert_string_equal(v, "a b");
	assert_int_equal(http_query_get(r.query, r.query_len, "app", v, sizeof(v)), 4);
	assert_string_equal(v, "live");
}

static void test_absolute_form(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(curl_proxy, &r), strlen(curl_proxy));
	assert_span(r.target, r.target_len, "http://example.com/live/x.flv?token=a+b");
	assert_span(r.path, r.path_len, "/live/x.flv");
	assert_span(r.query, r.query_len, "token=a+b");
	char v[16];
	assert_int_equal(http_query_get(r.query, r.query_len, "token", v, sizeof(v)), 3);
	assert_string_equal(v, "a b");
	/* Proxy-Connection is not Connection */
	assert_true(r.keep_alive);

	assert_true(parse("GET HTTPS://h:8443/a/b HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_span(r.path, r.path_len, "/a/b");
	assert_null(r.query);
	/* no path at all: the path is empty, the query still found */
	assert_true(parse("GET http://h?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_int_equal(r.path_len, 0);
	assert_span(r.query, r.query_len, "x=1");
	assert_true(parse("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_int_equal(r.path_len, 0);
	assert_null(r.query);
	assert_int_equal(parse("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET http:/h/x HTTP/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
}

static void test_http10_and_keep_alive(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(curl_http10, &r), strlen(curl_http10));
	assert_int_equal(r.version_minor, 0);
	assert_false(r.keep_alive);

	assert_int_equal(parse(wget_get, &r), strlen(wget_get));
	assert_true(r.keep_alive);
	assert_int_equal(parse(gst_get, &r), strlen(gst_get));
	assert_true(r.keep_alive);
	assert_int_equal(parse(urllib_get, &r), strlen(urllib_get));
	assert_false(r.keep_alive);

	static const struct {
		const char *head;
		int keep_alive;
	} cases[] = {
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade ,\t close \r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: ,,Upgrade,\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].head, &r), strlen(cases[i].head));
		assert_int_equal(r.keep_alive, cases[i].keep_alive);
	}
}

static void test_methods(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		enum http_method m;
	} cases[] = {
		{ "GET / HTTP/1.0\r\n\r\n", HTTP_GET },
		{ "HEAD / HTTP/1.0\r\n\r\n", HTTP_HEAD },
		{ "POST / HTTP/1.0\r\n\r\n", HTTP_POST },
		{ "PUT / HTTP/1.0\r\n\r\n", HTTP_PUT },
		{ "DELETE / HTTP/1.0\r\n\r\n", HTTP_DELETE },
		{ "OPTIONS / HTTP/1.0\r\n\r\n", HTTP_OPTIONS },
		{ "PATCH / HTTP/1.0\r\n\r\n", HTTP_PATCH },
		{ "get / HTTP/1.0\r\n\r\n", HTTP_OTHER },
		{ "PROPFIND / HTTP/1.0\r\n\r\n", HTTP_OTHER },
		{ "GETS / HTTP/1.0\r\n\r\n", HTTP_OTHER },
		{ "M-SEARCH / HTTP/1.0\r\n\r\n", HTTP_OTHER },
	};
	struct http_request r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].head, &r), strlen(cases[i].head));
		assert_int_equal(r.method, cases[i].m);
	}
	assert_int_equal(parse(curl_head, &r), strlen(curl_head));
	assert_int_equal(r.method, HTTP_HEAD);
}

static void test_asterisk_form(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(curl_options, &r), strlen(curl_options));
	assert_int_equal(r.method, HTTP_OPTIONS);
	assert_span(r.target, r.target_len, "*");
	assert_span(r.path, r.path_len, "*");
	assert_null(r.query);
	assert_int_equal(parse("GET * HTTP/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
}

static void test_pipelined(void **state)
{
	(void)state;
	struct http_request r;
	const uint8_t *p = (const uint8_t *)curl_keepalive;
	size_t n = strlen(curl_keepalive);
	int first = http_parse_request(p, n, NULL, &r);
	assert_int_equal(first, head_end(curl_keepalive));
	assert_span(r.path, r.path_len, "/live/a.m3u8");
	int second = http_parse_request(p + first, n - (size_t)first, NULL, &r);
	assert_int_equal((size_t)first + (size_t)second, n);
	assert_span(r.path, r.path_len, "/live/a-0.ts");
	assert_header(&r, 0, "Host", "127.0.0.1:18092");
	/* pointers refer to the buffer handed in, not to a copy */
	assert_ptr_equal(r.target, curl_keepalive + first + 4);

	/* a POST with its body, then a GET: the caller skips content_length */
	char buf[1024];
	size_t pl = strlen(curl_post), gl = strlen(curl_get);
	memcpy(buf, curl_post, pl);
	memcpy(buf + pl, curl_get, gl);
	int h = http_parse_request((const uint8_t *)buf, pl + gl, NULL, &r);
	assert_int_equal(r.content_length, 28);
	size_t next = (size_t)h + (size_t)r.content_length;
	assert_int_equal(next, pl);
	assert_int_equal(http_parse_request((const uint8_t *)buf + next, gl, NULL, &r), gl);
	assert_int_equal(r.method, HTTP_GET);
}

/* Every prefix of a good head needs more input; the whole head parses. */
static void check_truncations(const char *head, size_t len)
{
	struct http_request r;
	for (size_t k = 0; k < len; k++)
		assert_int_equal(parse_n(head, k, NULL, &r), SL_EAGAIN);
	assert_int_equal(parse_n(head, len, NULL, &r), len);
}

static void test_every_truncation(void **state)
{
	(void)state;
	char lf[1024];
	for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
		const char *s = captured[i];
		check_truncations(s, head_end(s));
		/* the same with bare LF line ends */
		size_t n = 0;
		for (size_t j = 0; j < head_end(s); j++)
			if (s[j] != '\r')
				lf[n++] = s[j];
		check_truncations(lf, n);
	}
}

static void test_lf_line_ends_and_leading_empty_lines(void **state)
{
	(void)state;
	struct http_request r;
	const char *s = "GET /a HTTP/1.1\nHost: h\r\nX: y\n\n";
	assert_int_equal(parse(s, &r), strlen(s));
	assert_header(&r, 0, "Host", "h");
	assert_header(&r, 1, "X", "y");

	s = "\r\n\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n";
	assert_int_equal(parse(s, &r), strlen(s));
	assert_int_equal(r.head_len, strlen(s));
	assert_span(r.path, r.path_len, "/a");
	assert_int_equal(parse("\r\n\r\n", &r), SL_EAGAIN);
	assert_int_equal(parse("\r", &r), SL_EAGAIN);
	assert_int_equal(parse("\rGET / HTTP/1.0\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("\r\rGET / HTTP/1.0\r\n\r\n", &r), SL_EPROTO);
}

static void test_header_values(void **state)
{
	(void)state;
	struct http_request r;
	const char *s = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t v  a \t \r\nX-B:\r\nX-C:   \r\n"
	                "X-D: caf\xc3\xa9\r\nX-E: a\tb\r\n\r\n";
	assert_int_equal(parse(s, &r), strlen(s));
	assert_header(&r, 0, "Host", "h");
	assert_header(&r, 1, "X-A", "v  a");
	assert_header(&r, 2, "X-B", "");
	assert_header(&r, 3, "X-C", "");
	assert_header(&r, 4, "X-D", "caf\xc3\xa9"); /* obs-text is opaque, not refused */
	assert_header(&r, 5, "X-E", "a\tb");
}

static void test_find_header(void **state)
{
	(void)state;
	struct http_request r;
	assert_int_equal(parse(gst_get, &r), strlen(gst_get));
	const struct http_header *h = http_find_header(&r, "ICY-METADATA");
	assert_non_null(h);
	assert_ptr_equal(h, &r.headers[4]);
	h = http_find_header(&r, "host");
	assert_span(h->value, h->value_len, "127.0.0.1:18088");
	assert_null(http_find_header(&r, "Accept"));
	assert_null(http_find_header(&r, "Hos"));
	assert_null(http_find_header(&r, "Hostx"));
	assert_null(http_find_header(&r, ""));

	const char *s = "GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\nx: 2\r\n\r\n";
	assert_int_equal(parse(s, &r), strlen(s));
	h = http_find_header(&r, "x");
	assert_span(h->value, h->value_len, "1");
}

static void test_versions(void **state)
{
	(void)state;
	struct http_request r;
	/* the HTTP/2 connection preface (RFC 9113 3.4) */
	static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	assert_int_equal(parse_n(h2, sizeof(h2) - 1, NULL, &r), SL_EUNSUPP);
	assert_int_equal(parse_n(h2, 16, NULL, &r), SL_EUNSUPP);
	assert_int_equal(parse("GET /\r\n", &r), SL_EUNSUPP); /* HTTP/0.9 */
	assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n", &r), SL_EUNSUPP);
	assert_int_equal(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n", &r), SL_EUNSUPP);
	assert_int_equal(parse("GET / HTTP/3.0\r\nHost: h\r\n\r\n", &r), SL_EUNSUPP);
	assert_int_equal(parse("GET / http/1.1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.10\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.x\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/11\r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / \r\nHost: h\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET\r\n\r\n", &r), SL_EPROTO);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		int err;
	} cases[] = {
		/* request line */
		{ "GET  /x HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x  HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x HTTP/1.1 \r\nHost: h\r\n\r\n", SL_EPROTO },
		{ " GET /x HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET\t/x HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x\tHTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "G(T /x HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /a\x01" "b HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /a\x7f" "b HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET x HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x HTTP/1.1\rHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x\r HTTP/1.1\r\nHost: h\r\n\r\n", SL_EPROTO },
		{ "GET /x HTTP/1.1\r\r\nHost: h\r\n\r\n", SL_EPROTO },
		/* header fields */
		{ "GET / HTTP/1.1\r\nHost : h\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tfolded\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\n Host: h\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\r\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX(y: z\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX\x80: z\r\n\r\n", SL_EPROTO },
		/* Host: required in 1.1, at most one in any version */
		{ "GET / HTTP/1.1\r\nX: y\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", SL_EPROTO },
		{ "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", SL_EPROTO },
		/* body framing */
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", SL_EUNSUPP },
		{ "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: identity\r\n\r\n", SL_EUNSUPP },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", SL_EUNSUPP },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", SL_EUNSUPP },
	};
	struct http_request r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].head;
		int rc = parse_n(s, strlen(s), NULL, &r);
		if (rc != cases[i].err)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].err);
	}
}

static void test_nul_in_value(void **state)
{
	(void)state;
	static const char s[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	struct http_request r;
	assert_int_equal(parse_n(s, sizeof(s) - 1, NULL, &r), SL_EPROTO);
	assert_int_equal(parse_n(s, 29, NULL, &r), SL_EAGAIN); /* up to the NUL */
	assert_int_equal(parse_n(s, 30, NULL, &r), SL_EPROTO);
}

/* Bad bytes are refused when they arrive, not after the head is complete. */
static void test_refused_before_complete(void **state)
{
	(void)state;
	struct http_request r;
	/* the first bytes of a TLS ClientHello sent to the HTTP port */
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	assert_int_equal(parse_n(tls, sizeof(tls) - 1, NULL, &r), SL_EPROTO);
	assert_int_equal(parse("GET /a\x01", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTQ", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nX : ", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\x02", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n folded", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x\r\n", &r),
	                 SL_EUNSUPP);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n", &r), SL_EPROTO);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n", &r),
	                 SL_EPROTO);
	/* a CR at the very end may still be followed by its LF */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r", &r), SL_EAGAIN);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\rX", &r), SL_EPROTO);
}

static void test_content_length(void **state)
{
	(void)state;
	static const struct {
		const char *fields;
		int rc_ok;      /* 1: parses */
		int64_t cl;     /* when it parses */
		int err;        /* when it does not */
	} cases[] = {
		{ "Content-Length: 0\r\n", 1, 0, 0 },
		{ "content-length: 1234\r\n", 1, 1234, 0 },
		{ "Content-Length: 007\r\n", 1, 7, 0 },
		{ "Content-Length:  5 \r\n", 1, 5, 0 },
		{ "Content-Length: 5\r\nContent-Length: 5\r\n", 1, 5, 0 },
		{ "Content-Length: 4611686018427387904\r\n", 1, INT64_C(4611686018427387904), 0 },
		{ "Content-Length: 00000000000000000000000000000042\r\n", 1, 42, 0 },
		{ "Content-Length: 4611686018427387905\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 9223372036854775807\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 9223372036854775808\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 99999999999999999999999999\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 5\r\nContent-Length: 6\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 5, 5\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: -1\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: +1\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 0x10\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length: 1 2\r\n", 0, 0, SL_EPROTO },
		{ "Content-Length:\r\n", 0, 0, SL_EPROTO },
	};
	struct http_request r;
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char pre[] = "POST / HTTP/1.1\r\nHost: h\r\n";
		size_t fl = strlen(cases[i].fields);
		memcpy(buf, pre, sizeof(pre) - 1);
		memcpy(buf + sizeof(pre) - 1, cases[i].fields, fl);
		memcpy(buf + sizeof(pre) - 1 + fl, "\r\n", 3);
		int rc = parse(buf, &r);
		if (cases[i].rc_ok) {
			assert_int_equal(rc, strlen(buf));
			assert_int_equal(r.content_length, cases[i].cl);
		} else if (rc != cases[i].err) {
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].err);
		}
	}
}

/* A head of exactly len bytes with nfields extra fields, padded in X-Pad. */
static size_t build_head(char *buf, size_t len, size_t nfields)
{
	static const char pre[] = "GET /p HTTP/1.1\r\nHost: h\r\n";
	size_t n = sizeof(pre) - 1;
	memcpy(buf, pre, n);
	for (size_t i = 0; i < nfields; i++) {
		memcpy(buf + n, "F: v\r\n", 6);
		n += 6;
	}
	memcpy(buf + n, "X-Pad: ", 7);
	n += 7;
	assert_true(len >= n + 4);
	memset(buf + n, 'a', len - n - 4);
	memcpy(buf + len - 4, "\r\n\r\n", 4);
	return len;
}

static void test_head_byte_limit(void **state)
{
	(void)state;
	struct http_request r;
	char *buf = xmalloc(20000);

	/* default 8192: exactly at the limit parses, one more byte is refused */
	build_head(buf, 8192, 0);
	assert_int_equal(parse_n(buf, 8192, NULL, &r), 8192);
	build_head(buf, 8193, 0);
	assert_int_equal(parse_n(buf, 8192, NULL, &r), SL_EAGAIN);
	assert_int_equal(parse_n(buf, 8193, NULL, &r), SL_ELIMIT);
	/* refused as soon as n exceeds the limit, without waiting for the end */
	build_head(buf, 20000, 0);
	assert_int_equal(parse_n(buf, 8193, NULL, &r), SL_ELIMIT);
	assert_int_equal(parse_n(buf, 20000, NULL, &r), SL_ELIMIT);

	/* a complete head within the limit is fine with more bytes behind it */
	struct http_limits lim = { .max_head_bytes = 100, .max_headers = 0 };
	build_head(buf, 100, 0);
	memcpy(buf + 100, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(parse_n(buf, 116, &lim, &r), 100);
	build_head(buf, 101, 0);
	assert_int_equal(parse_n(buf, 100, &lim, &r), SL_EAGAIN);
	assert_int_equal(parse_n(buf, 101, &lim, &r), SL_ELIMIT);
	assert_int_equal(parse_n(buf, 150, &lim, &r), SL_ELIMIT);
	/* a huge configured limit is clamped, not overflowed into the int result */
	lim.max_head_bytes = SIZE_MAX;
	assert_int_equal(parse_n(curl_get, strlen(curl_get), &lim, &r), strlen(curl_get));
	/* leading empty lines count too */
	assert_int_equal(parse_n("\r\n\r\n\r\n\r\n\r\n\r\n", 12, &(struct http_limits){ 10, 0 }, &r),
	                 SL_ELIMIT);
	free(buf);
}

static void test_header_count_limit(void **state)
{
	(void)state;
	struct http_request r;
	char buf[2048];

	/* Host + 1 + X-Pad = 3 fields */
	struct http_limits lim = { .max_head_bytes = 0, .max_headers = 3 };
	build_head(buf, 200, 1);
	assert_int_equal(parse_n(buf, 200, &lim, &r), 200);
	assert_int_equal(r.nheaders, 3);
	build_head(buf, 200, 2);
	assert_int_equal(parse_n(buf, 200, &lim, &r), SL_ELIMIT);
	/* refused when the extra field starts, not when the head ends */
	assert_int_equal(parse_n(buf, 38, &lim, &r), SL_EAGAIN); /* X-Pad starts at 38 */
	assert_int_equal(parse_n(buf, 39, &lim, &r), SL_ELIMIT);

	/* more than HTTP_MAX_HEADERS is never allowed, whatever the limit says */
	lim.max_headers = 1000;
	build_head(buf, 2000, HTTP_MAX_HEADERS - 2);
	assert_int_equal(parse_n(buf, 2000, &lim, &r), 2000);
	assert_int_equal(r.nheaders, HTTP_MAX_HEADERS);
	assert_header(&r, HTTP_MAX_HEADERS - 2, "F", "v");
	build_head(buf, 2000, HTTP_MAX_HEADERS - 1);
	assert_int_equal(parse_n(buf, 2000, &lim, &r), SL_ELIMIT);
	assert_int_equal(parse_n(buf, 2000, NULL, &r), SL_ELIMIT);
}

static void test_url_decode(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(http_url_decode("a%41b", 5, out, sizeof(out), 0), 3);
	assert_string_equal(out, "aAb");
	assert_int_equal(http_url_decode("%e2%82%AC", 9, out, sizeof(out), 0), 3);
	assert_string_equal(out, "\xe2\x82\xac");
	assert_int_equal(http_url_decode("a+b%2B", 6, out, sizeof(out), 0), 4);
	assert_string_equal(out, "a+b+");
	assert_int_equal(http_url_decode("a+b%2B", 6, out, sizeof(out), 1), 4);
	assert_string_equal(out, "a b+");
	assert_int_equal(http_url_decode("", 0, out, sizeof(out), 1), 0);
	assert_string_equal(out, "");
	/* only n bytes are read, not up to a NUL */
	assert_int_equal(http_url_decode("abcdef", 2, out, sizeof(out), 0), 2);
	assert_string_equal(out, "ab");

	assert_int_equal(http_url_decode("%zz", 3, out, sizeof(out), 0), -1);
	assert_string_equal(out, "");
	assert_int_equal(http_url_decode("%4g", 3, out, sizeof(out), 0), -1);
	assert_int_equal(http_url_decode("%00", 3, out, sizeof(out), 0), -1);
	assert_int_equal(http_url_decode("a\0b", 3, out, sizeof(out), 0), -1);
	assert_int_equal(http_url_decode("ab%", 3, out, sizeof(out), 0), -1);
	assert_int_equal(http_url_decode("ab%4", 4, out, sizeof(out), 0), -1);
	/* "%41" cut to "%4" by n, even though the string goes on */
	assert_int_equal(http_url_decode("%41", 2, out, sizeof(out), 0), -1);

	/* room: the decoded length plus the NUL */
	assert_int_equal(http_url_decode("abc", 3, out, 4, 0), 3);
	assert_int_equal(http_url_decode("abc", 3, out, 3, 0), -1);
	assert_string_equal(out, "");
	assert_int_equal(http_url_decode("%41%42", 6, out, 3, 0), 2);
	assert_int_equal(http_url_decode("", 0, out, 1, 0), 0);
	assert_int_equal(http_url_decode("a", 1, out, 0, 0), -1);
}

static void test_query_get(void **state)
{
	(void)state;
	char out[32];
	static const char q[] = "a=1&bb=two%20words&c&d=&e=x=y&na%6De=v&&f=%zz&a=2&g=p+q";
	size_t n = sizeof(q) - 1;
	assert_int_equal(http_query_get(q, n, "a", out, sizeof(out)), 1);
	assert_string_equal(out, "1"); /* the first of two */
	assert_int_equal(http_query_get(q, n, "bb", out, sizeof(out)), 9);
	assert_string_equal(out, "two words");
	assert_int_equal(http_query_get(q, n, "c", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(http_query_get(q, n, "d", out, sizeof(out)), 0);
	assert_int_equal(http_query_get(q, n, "e", out, sizeof(out)), 3);
	assert_string_equal(out, "x=y");
	assert_int_equal(http_query_get(q, n, "name", out, sizeof(out)), 1);
	assert_string_equal(out, "v");
	assert_int_equal(http_query_get(q, n, "f", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(q, n, "g", out, sizeof(out)), 3);
	assert_string_equal(out, "p q");
	assert_int_equal(http_query_get(q, n, "b", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(q, n, "bbb", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(q, n, "z", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(q, n, "", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(q, n, "bb", out, 5), -1); /* no room */
	/* query_len bounds the search */
	assert_int_equal(http_query_get(q, 3, "a", out, sizeof(out)), 1);
	assert_int_equal(http_query_get(q, 3, "bb", out, sizeof(out)), -1);
	assert_int_equal(http_query_get(NULL, 0, "a", out, sizeof(out)), -1);
	assert_int_equal(http_query_get("", 0, "a", out, sizeof(out)), -1);

	struct http_request r;
	assert_int_equal(parse(urllib_get, &r), strlen(urllib_get));
	assert_int_equal(http_query_get(r.query, r.query_len, "token", out, sizeof(out)), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(http_query_get(r.query, r.query_len, "x", out, sizeof(out)), 0);
}

static void test_status_text(void **state)
{
	(void)state;
	static const int codes[] = {
		101, 200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 411,
		413, 414, 415, 416, 422, 429, 431, 500, 501, 502, 503, 504, 505,
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_string_not_equal(http_status_text(codes[i]), "Unknown");
	assert_string_equal(http_status_text(200), "OK");
	assert_string_equal(http_status_text(404), "Not Found");
	assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_text(505), "HTTP Version Not Supported");
	assert_string_equal(http_status_text(299), "Unknown");
	assert_string_equal(http_status_text(-1), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curl_get),
		cmocka_unit_test(test_ffmpeg_and_ffprobe),
		cmocka_unit_test(test_curl_post_with_body),
		cmocka_unit_test(test_absolute_form),
		cmocka_unit_test(test_http10_and_keep_alive),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_asterisk_form),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_lf_line_ends_and_leading_empty_lines),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_find_header),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_in_value),
		cmocka_unit_test(test_refused_before_complete),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_head_byte_limit),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_status_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
