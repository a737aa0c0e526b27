/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_manager_reply.c - the node's reading of the stream manager's answers:
 * status, state, origins, stream hints (bad ones dropped), drain, error
 * messages; what is not a response; signed answers, and tampered or unsigned
 * ones refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "node/manager_reply.h"

static int parse(const char *text, struct manager_reply *r)
{
	return manager_reply_parse(text, strlen(text), r);
}

static void test_heartbeat_answer(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
	                       "{\"state\":\"alive\",\"drain\":false,\"origins\":\"10.0.0.1:1935,"
	                       "10.0.0.2:1936\",\"streamOrigins\":{\"live/a\":\"10.0.0.2:1936\","
	                       "\"live/b\":\"10.0.0.1\"}}", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.state, "alive");
	assert_string_equal(r.origins, "10.0.0.1:1935,10.0.0.2:1936");
	assert_int_equal(r.drain, 0);
	assert_non_null(r.hints);
	assert_int_equal(json_object_size(r.hints), 2);
	assert_string_equal(json_string_value(json_object_get(r.hints, "live/a")), "10.0.0.2:1936");
	manager_reply_free(&r);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n{\"state\":\"draining\",\"drain\":true}", &r),
	                 0);
	assert_int_equal(r.drain, 1);
	assert_null(r.hints);
	assert_string_equal(r.origins, "");
	manager_reply_free(&r);
}

static void test_bad_fields_are_left_out(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n{\"origins\":7,\"state\":[],\"drain\":\"yes\","
	                       "\"streamOrigins\":{\"a/b\":\"h:0\",\"/c\":\"h:1\",\"d/\":\"h:1\","
	                       "\"e/f/g\":\"h:1\",\"n/m\":5,\"ok/s\":\"h:99999\",\"good/one\":\"h:2\"}}",
	                       &r), 0);
	assert_string_equal(r.origins, "");
	assert_string_equal(r.state, "");
	assert_int_equal(r.drain, 0);
	assert_non_null(r.hints);
	assert_int_equal(json_object_size(r.hints), 1);
	assert_non_null(json_object_get(r.hints, "good/one"));
	manager_reply_free(&r);
	/* Not JSON, or JSON but not an object: a status and nothing else. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n[1,2]", &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(r.hints);
	manager_reply_free(&r);
}

static void test_errors_and_garbage(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":\"replayed request\"}",
	                       &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.error, "replayed request");
	manager_reply_free(&r);
	const char *bad[] = { "", "HTTP/1.1", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
	                      "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 600 x\r\n\r\n",
	                      "http/1.1 200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &r), -1);
}

/* A signed answer: status line, the signature header, the body. */
static size_t signed_answer(char *out, size_t n, int status, const char *key, const char *req_sig,
                            const char *body)
{
	char sig[NODE_SIGN_HEX];
	node_answer_sign(key, status, req_sig, body, strlen(body), sig);
	return (size_t)snprintf(out, n, "HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n"
	                        "X-Sluice-Signature: %s\r\nConnection: close\r\n\r\n%s", status,
	                        sig, body);
}

static void test_signed_answers(void **state)
{
	(void)state;
	const char *key = "node-key-0123", *req = "0123456789abcdef0123456789abcdef"
	                                           "0123456789abcdef0123456789abcdef";
	const char *body = "{\"state\":\"alive\",\"drain\":false,\"origins\":\"10.0.0.1:1935\","
	                   "\"keyNonce\":\"00112233445566778899aabbccddeeff\"}\n";
	char raw[1024];
	size_t n = signed_answer(raw, sizeof(raw), 200, key, req, body);
	struct manager_reply r;
	assert_int_equal(manager_reply_parse(raw, n, &r), 0);
	assert_int_equal(strlen(r.sig), NODE_SIGN_HEX - 1);
	assert_string_equal(r.nonce, "00112233445566778899aabbccddeeff");
	assert_true(manager_reply_verify(raw, n, &r, key, req));
	/* Another key, or an answer to another request: not ours. */
	assert_false(manager_reply_verify(raw, n, &r, "node-key-0124", req));
	assert_false(manager_reply_verify(raw, n, &r, key, "ff"));
	manager_reply_free(&r);

	/* One byte of the body changed (origins pointed elsewhere): refused. */
	char *at = strstr(raw, "10.0.0.1");
	at[7] = '9';
	assert_int_equal(manager_reply_parse(raw, n, &r), 0);
	assert_string_equal(r.origins, "10.0.0.9:1935");
	assert_false(manager_reply_verify(raw, n, &r, key, req));
	manager_reply_free(&r);
	at[7] = '1';

	/* The status changed (a 200 turned into a 404 "register again"): refused. */
	raw[9] = '4';
	raw[11] = '4';
	assert_int_equal(manager_reply_parse(raw, n, &r), 0);
	assert_int_equal(r.status, 404);
	assert_false(manager_reply_verify(raw, n, &r, key, req));
	manager_reply_free(&r);

	/* Unsigned, or a malformed signature: refused. */
	const char *plain = "HTTP/1.1 200 OK\r\n\r\n{\"state\":\"alive\"}";
	assert_int_equal(manager_reply_parse(plain, strlen(plain), &r), 0);
	assert_string_equal(r.sig, "");
	assert_false(manager_reply_verify(plain, strlen(plain), &r, key, req));
	manager_reply_free(&r);
	const char *shortsig = "HTTP/1.1 200 OK\r\nX-Sluice-Signature: abc\r\n\r\n{}";
	assert_int_equal(manager_reply_parse(shortsig, strlen(shortsig), &r), 0);
	assert_string_equal(r.sig, "");
	manager_reply_free(&r);
	/* A bad keyNonce is left out (the node cannot derive a key from it). */
	const char *badnonce = "HTTP/1.1 200 OK\r\n\r\n{\"keyNonce\":\"XYZ\"}";
	assert_int_equal(manager_reply_parse(badnonce, strlen(badnonce), &r), 0);
	assert_string_equal(r.nonce, "");
	manager_reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_answer),
		cmocka_unit_test(test_bad_fields_are_left_out),
		cmocka_unit_test(test_errors_and_garbage),
		cmocka_unit_test(test_signed_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
