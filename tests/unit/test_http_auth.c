/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_auth.c - the one bearer-token check (node api-token and
 * metrics-token, manager admin-token) and the cross-site refusal of
 * state-changing calls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/http_auth.h"

static struct http_request req;

static char buf[4096];

/* Parses head, given without Host: HTTP/1.1 needs one, so "Host: h:1" is added. */
static const struct http_request *parse(const char *head)
{
	struct http_limits lim = { 8192, 0 };
	const char *eol = strstr(head, "\r\n");
	assert_non_null(eol);
	int n = snprintf(buf, sizeof(buf), "%.*s\r\nHost: h:1%s", (int)(eol - head), head, eol);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	int rc = http_parse_request((const uint8_t *)buf, (size_t)n, &lim, &req);
	assert_true(rc > 0);
	return &req;
}

static void test_bearer_header(void **state)
{
	(void)state;
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n"
	                                      "\r\n"), "s3cret"), 1);
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nauthorization: bearer s3cret\r\n"
	                                      "\r\n"), "s3cret"), 1);
	/* Wrong, longer, shorter, other scheme. */
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nAuthorization: Bearer s3creT\r\n"
	                                      "\r\n"), "s3cret"), 0);
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nAuthorization: Bearer s3cretx\r\n"
	                                      "\r\n"), "s3cret"), 0);
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nAuthorization: Bearer s3cre\r\n"
	                                      "\r\n"), "s3cret"), 0);
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\nAuthorization: Basic s3cret\r\n"
	                                      "\r\n"), "s3cret"), 0);
	assert_int_equal(http_bearer_ok(parse("GET / HTTP/1.1\r\n\r\n"), "s3cret"), 0);
}

static void test_bearer_query(void **state)
{
	(void)state;
	assert_int_equal(http_bearer_ok(parse("GET /x?accessToken=s3cret HTTP/1.1\r\n\r\n"),
	                                "s3cret"), 1);
	assert_int_equal(http_bearer_ok(parse("GET /x?a=1&accessToken=s%33cret HTTP/1.1\r\n\r\n"),
	                                "s3cret"), 1);
	assert_int_equal(http_bearer_ok(parse("GET /x?accessToken=s3cre HTTP/1.1\r\n\r\n"),
	                                "s3cret"), 0);
	assert_int_equal(http_bearer_ok(parse("GET /x?token=s3cret HTTP/1.1\r\n\r\n"),
	                                "s3cret"), 0);
}

static void test_no_token_never_matches(void **state)
{
	(void)state;
	/* An empty token in the request must not match an unset or empty one. */
	assert_int_equal(http_bearer_ok(parse("GET /x?accessToken= HTTP/1.1\r\n"
	                                      "Authorization: Bearer \r\n\r\n"), ""), 0);
	assert_int_equal(http_bearer_ok(parse("GET /x?accessToken= HTTP/1.1\r\n\r\n"), NULL), 0);
}

static void test_cross_site(void **state)
{
	(void)state;
	/* What curl and sluice ctl send. */
	assert_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	            "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n")));
	assert_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	            "Content-Type: application/json; charset=utf-8\r\n\r\n")));
	assert_null(http_cross_site_refusal(parse("DELETE /a/1 HTTP/1.1\r\n\r\n")));
	/* A same-origin page. */
	assert_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	            "Content-Type: application/json\r\nOrigin: http://h:1\r\n"
	            "Sec-Fetch-Site: same-origin\r\n\r\n")));
	/* What a form or fetch() from another site can send without a preflight. */
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: text/plain\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: application/x-www-form-urlencoded\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: application/jsonp\r\n\r\n")));
	/* JSON, but from another site (after a preflight, or a DELETE). */
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: application/json\r\nOrigin: http://evil.example\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("DELETE /a/1 HTTP/1.1\r\n"
	                "Origin: https://h:1.evil\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: application/json\r\nSec-Fetch-Site: cross-site\r\n\r\n")));
	assert_non_null(http_cross_site_refusal(parse("POST /a HTTP/1.1\r\n"
	                "Content-Type: application/json\r\nOrigin: null\r\n\r\n")));
}

/* The SM2 login's Basic credentials. */
static void test_basic(void **state)
{
	(void)state;
	char u[16], p[16];
	const char *ok = "Basic YWRtaW46czNjcmV0OnRvaw==";     /* admin:s3cret:tok */
	assert_int_equal(http_basic_parse(ok, strlen(ok), u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(u, "admin");
	assert_string_equal(p, "s3cret:tok");
	const char *lower = "basic dTo=";                      /* "u:" : an empty password */
	assert_int_equal(http_basic_parse(lower, strlen(lower), u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(u, "u");
	assert_string_equal(p, "");
	const char *bad[] = {
		"Basic OnB3",                /* ":pw": no user */
		"Basic bm8tY29sb24",         /* "no-colon" */
		"Basic !!!!",                /* not base64 */
		"Basic dQB2OnA=",            /* "u\0v:p": a NUL byte */
		"Bearer YWRtaW46cHc=",
		"Basic ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http_basic_parse(bad[i], strlen(bad[i]), u, sizeof(u), p, sizeof(p)),
		                 -1);
		assert_string_equal(u, "");
		assert_string_equal(p, "");
	}
	/* A password longer than its buffer is refused, never cut. */
	assert_int_equal(http_basic_parse(ok, strlen(ok), u, sizeof(u), p, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer_header),
		cmocka_unit_test(test_bearer_query),
		cmocka_unit_test(test_no_token_never_matches),
		cmocka_unit_test(test_cross_site),
		cmocka_unit_test(test_basic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
