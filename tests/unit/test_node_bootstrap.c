/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_node_bootstrap.c - a launched node's one-time bootstrap: the proof
 * depends on token, id and time; the sealed secret opens only with its
 * token and untouched, and the seal has the documented shape (hex IV,
 * base64 AES-256-CBC, hex MAC over "IV.SEALED").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "manager/node_bootstrap.h"

#define TOK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TOK2 "f0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_proof(void **state)
{
	(void)state;
	char a[65], b[65];
	bootstrap_proof(TOK, "edge-1", 1000, a);
	assert_int_equal(strlen(a), 64);
	bootstrap_proof(TOK, "edge-1", 1000, b);
	assert_string_equal(a, b);
	bootstrap_proof(TOK, "edge-2", 1000, b);
	assert_string_not_equal(a, b);
	bootstrap_proof(TOK, "edge-1", 1001, b);
	assert_string_not_equal(a, b);
	bootstrap_proof(TOK2, "edge-1", 1000, b);
	assert_string_not_equal(a, b);
}

static void test_seal_open(void **state)
{
	(void)state;
	const uint8_t iv[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	char ivh[33], sealed[BOOTSTRAP_SEALED_MAX], mac[65], out[300];
	const char *secret = "e2e \"cluster\" secret\\0123";
	assert_int_equal(bootstrap_seal(TOK, secret, iv, ivh, sealed, mac), 0);
	assert_string_equal(ivh, "0102030405060708090a0b0c0d0e0f10");
	assert_int_equal(strlen(sealed) % 4, 0);
	assert_int_equal(strlen(mac), 64);
	assert_null(strstr(sealed, "cluster"));
	assert_int_equal(bootstrap_open(TOK, ivh, sealed, mac, out, sizeof(out)), 0);
	assert_string_equal(out, secret);
	/* Another token, a changed byte, a changed IV: nothing opens. */
	assert_int_equal(bootstrap_open(TOK2, ivh, sealed, mac, out, sizeof(out)), -1);
	sealed[2] = sealed[2] == 'A' ? 'B' : 'A';
	assert_int_equal(bootstrap_open(TOK, ivh, sealed, mac, out, sizeof(out)), -1);
	sealed[2] = sealed[2] == 'A' ? 'B' : 'A';
	ivh[0] = '1';
	assert_int_equal(bootstrap_open(TOK, ivh, sealed, mac, out, sizeof(out)), -1);
	/* Limits: a short token, a secret over 256 bytes, an answer buffer too small. */
	assert_int_equal(bootstrap_seal("abcd", secret, iv, ivh, sealed, mac), -1);
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(bootstrap_seal(TOK, big, iv, ivh, sealed, mac), -1);
	assert_int_equal(bootstrap_seal(TOK, secret, iv, ivh, sealed, mac), 0);
	assert_int_equal(bootstrap_open(TOK, ivh, sealed, mac, out, 5), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proof),
		cmocka_unit_test(test_seal_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
