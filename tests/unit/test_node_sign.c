/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_node_sign.c - signed node <-> manager calls: a request checks only
 * with its key, path, time, sequence number and body; stale times are
 * refused; node keys differ per node and per registration; answers are
 * bound to the request they answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/node_sign.h"

#define HB "/api/v1/cluster/heartbeat"

static void test_request(void **state)
{
	(void)state;
	const char *body = "{\"id\":\"n\"}";
	char sig[NODE_SIGN_HEX], ts[32];
	uint64_t now = 1767225600123ull, t, seq;
	const char *why;
	node_sign("secret-123", HB, now, 7, body, strlen(body), sig);
	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)now);
	assert_int_equal(node_sign_check("secret-123", HB, ts, "7", sig, body, strlen(body),
	                                 now + 1000, &t, &seq, &why), 0);
	assert_true(t == now && seq == 7);
	/* Another key, path, sequence number, body; a stale or future time: refused. */
	assert_int_not_equal(node_sign_check("secret-124", HB, ts, "7", sig, body, strlen(body), now,
	                                     &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", "/api/v1/cluster/register", ts, "7", sig,
	                                     body, strlen(body), now, &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "8", sig, body, strlen(body), now,
	                                     &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "7", sig, "{}", 2, now, &t, &seq,
	                                     &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "7", sig, body, strlen(body),
	                                     now + NODE_SIGN_SKEW_MS + 1, &t, &seq, &why), 0);
	assert_non_null(strstr(why, "stale"));
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "7", sig, body, strlen(body),
	                                     now - NODE_SIGN_SKEW_MS - 1, &t, &seq, &why), 0);
	assert_non_null(strstr(why, "stale"));
	assert_int_not_equal(node_sign_check("secret-123", HB, NULL, NULL, NULL, body, strlen(body),
	                                     now, &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, "12a", "7", sig, body, strlen(body),
	                                     now, &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "", sig, body, strlen(body), now,
	                                     &t, &seq, &why), 0);
	assert_int_not_equal(node_sign_check("secret-123", HB, ts, "-1", sig, body, strlen(body), now,
	                                     &t, &seq, &why), 0);
}

static void test_node_keys(void **state)
{
	(void)state;
	char a[NODE_SIGN_HEX], b[NODE_SIGN_HEX], c[NODE_SIGN_HEX], a2[NODE_SIGN_HEX];
	const char *n1 = "00112233445566778899aabbccddeeff", *n2 = "00112233445566778899aabbccddeefe";
	node_key_derive("secret-123", "edge-1", n1, a);
	node_key_derive("secret-123", "edge-2", n1, b);
	node_key_derive("secret-123", "edge-1", n2, c);
	node_key_derive("secret-123", "edge-1", n1, a2);
	assert_string_equal(a, a2);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), NODE_SIGN_HEX - 1);
	assert_true(node_nonce_valid(n1));
	assert_false(node_nonce_valid("0011"));
	assert_false(node_nonce_valid("00112233445566778899AABBCCDDEEFF"));
	assert_false(node_nonce_valid("00112233445566778899aabbccddeeff0"));
}

static void test_answers(void **state)
{
	(void)state;
	const char *body = "{\"state\":\"alive\"}\n";
	const char *req = "aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55";
	char sig[NODE_SIGN_HEX];
	node_answer_sign("key-1", 200, req, body, strlen(body), sig);
	assert_true(node_answer_check("key-1", 200, req, body, strlen(body), sig));
	assert_false(node_answer_check("key-2", 200, req, body, strlen(body), sig));
	assert_false(node_answer_check("key-1", 404, req, body, strlen(body), sig));
	assert_false(node_answer_check("key-1", 200, "bb", body, strlen(body), sig));
	assert_false(node_answer_check("key-1", 200, req, "{\"state\":\"dead\"}\n", 17, sig));
	assert_false(node_answer_check("key-1", 200, req, body, strlen(body), NULL));
	assert_false(node_answer_check("key-1", 200, req, body, strlen(body), "abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_node_keys),
		cmocka_unit_test(test_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
