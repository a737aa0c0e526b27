/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aws_sigv4.c - AWS Signature Version 4 against the published test
 * suite (the "aws-sig-v4-test-suite" vectors: AKIDEXAMPLE, 20150830T123600Z,
 * us-east-1, service "service"), each case's Authorization value as
 * published, plus the EC2 request shape the aws controller sends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "manager/aws_sigv4.h"

static const struct sigv4_key KEY = {
	.access_key = "AKIDEXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	.region = "us-east-1", .service = "service",
};
#define DATE "20150830T123600Z"
#define CRED "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

static void expect(const char *method, const char *path, const char *query,
                   const struct sigv4_header *h, size_t nh, const char *body, const char *want)
{
	struct sigv4_request r = { .method = method, .path = path, .query = query, .headers = h,
	                           .nheaders = nh, .body = body, .body_len = body ? strlen(body) : 0 };
	char out[512], canon[2048];
	assert_int_equal(sigv4_authorization(&r, &KEY, DATE, out, sizeof(out), canon,
	                                     sizeof(canon)), 0);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "canonical request:\n%s\n", canon);
	assert_string_equal(out, want);
}

static const struct sigv4_header VANILLA[] = {
	{ "Host", "example.amazonaws.com" }, { "X-Amz-Date", DATE },
};

static void test_get_vanilla(void **state)
{
	(void)state;
	expect("GET", "/", NULL, VANILLA, 2, NULL, CRED "SignedHeaders=host;x-amz-date, "
	       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static void test_post_vanilla(void **state)
{
	(void)state;
	expect("POST", "/", NULL, VANILLA, 2, NULL, CRED "SignedHeaders=host;x-amz-date, "
	       "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

static void test_query_order_key_case(void **state)
{
	(void)state;
	expect("GET", "/", "Param2=value2&Param1=value1", VANILLA, 2, NULL,
	       CRED "SignedHeaders=host;x-amz-date, "
	       "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

static void test_query_unreserved(void **state)
{
	(void)state;
	expect("GET", "/", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
	       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", VANILLA, 2, NULL,
	       CRED "SignedHeaders=host;x-amz-date, "
	       "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

static void test_utf8_path(void **state)
{
	(void)state;
	expect("GET", "/\xe1\x88\xb4", NULL, VANILLA, 2, NULL, CRED "SignedHeaders=host;x-amz-date, "
	       "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

static void test_header_value_trim(void **state)
{
	(void)state;
	const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" }, { "My-Header1", " value1" },
		{ "My-Header2", " \"a   b   c\"" }, { "X-Amz-Date", DATE },
	};
	expect("GET", "/", NULL, h, 4, NULL, CRED "SignedHeaders=host;my-header1;my-header2;"
	       "x-amz-date, "
	       "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

static void test_session_token(void **state)
{
	(void)state;
	const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" }, { "X-Amz-Date", DATE },
		{ "X-Amz-Security-Token",
		  "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267" },
	};
	expect("GET", "/", NULL, h, 3, NULL, CRED "SignedHeaders=host;x-amz-date;"
	       "x-amz-security-token, "
	       "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

/* The form-encoded POST the EC2 Query API uses, body hash signed as a header too. */
static void test_post_form(void **state)
{
	(void)state;
	const struct sigv4_header h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded" },
		{ "Host", "example.amazonaws.com" }, { "Content-Length", "13" },
		{ "x-amz-content-sha256",
		  "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e" },
		{ "X-Amz-Date", DATE },
	};
	expect("POST", "/", NULL, h, 5, "Param1=value1", CRED "SignedHeaders=content-length;"
	       "content-type;host;x-amz-content-sha256;x-amz-date, "
	       "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
	const struct sigv4_header h2[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "example.amazonaws.com" }, { "Content-Length", "13" },
		{ "x-amz-content-sha256",
		  "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e" },
		{ "X-Amz-Date", DATE },
	};
	expect("POST", "/", NULL, h2, 5, "Param1=value1", CRED "SignedHeaders=content-length;"
	       "content-type;host;x-amz-content-sha256;x-amz-date, "
	       "Signature=328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422");
}

static void test_encode_and_limits(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(sigv4_uri_encode("a b/c~", 6, 1, out, sizeof(out)), 8);
	assert_string_equal(out, "a%20b/c~");
	assert_int_equal(sigv4_uri_encode("a/b", 3, 0, out, sizeof(out)), 5);
	assert_string_equal(out, "a%2Fb");
	assert_int_equal(sigv4_uri_encode("abcdef", 6, 0, out, 4), -1);
	struct sigv4_request r = { .method = "GET", .path = "/", .headers = VANILLA, .nheaders = 2 };
	char auth[512];
	/* A malformed date is refused, as is an answer buffer too small. */
	assert_int_equal(sigv4_authorization(&r, &KEY, "2015-08-30", auth, sizeof(auth), NULL, 0),
	                 -1);
	assert_int_equal(sigv4_authorization(&r, &KEY, DATE, auth, 20, NULL, 0), -1);
	/* Another secret, another signature. */
	struct sigv4_key other = KEY;
	other.secret_key = "another-secret";
	char a2[512];
	assert_int_equal(sigv4_authorization(&r, &KEY, DATE, auth, sizeof(auth), NULL, 0), 0);
	assert_int_equal(sigv4_authorization(&r, &other, DATE, a2, sizeof(a2), NULL, 0), 0);
	assert_string_not_equal(auth, a2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_vanilla),
		cmocka_unit_test(test_post_vanilla),
		cmocka_unit_test(test_query_order_key_case),
		cmocka_unit_test(test_query_unreserved),
		cmocka_unit_test(test_utf8_path),
		cmocka_unit_test(test_header_value_trim),
		cmocka_unit_test(test_session_token),
		cmocka_unit_test(test_post_form),
		cmocka_unit_test(test_encode_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
