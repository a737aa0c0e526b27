/* SPDX-License-Identifier: Apache-2.0 */
/* test_jwt.c - HS256 tokens: signed ones verify; expired, tampered, wrong-key, alg "none"
 * and malformed ones are refused with the right code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/jwt.h"

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";

static void test_round_trip(void **state)
{
	(void)state;
	char tok[1024], sub[JWT_SUB_MAX + 1];
	int64_t exp = 0;
	const char *why = NULL;
	size_t n = jwt_sign_hs256(key, 32, "admin", 1000, 2000, tok, sizeof(tok));
	assert_true(n > 0 && n == strlen(tok));
	assert_int_equal(jwt_verify_hs256(tok, n, key, 32, 1999, sub, &exp, &why), 0);
	assert_string_equal(sub, "admin");
	assert_int_equal(exp, 2000);
	/* RFC 7519's header for HS256 */
	assert_memory_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
}

static void test_expired_and_wrong_key(void **state)
{
	(void)state;
	char tok[1024], sub[JWT_SUB_MAX + 1];
	const char *why = NULL;
	size_t n = jwt_sign_hs256(key, 32, "admin", 1000, 2000, tok, sizeof(tok));
	assert_int_equal(jwt_verify_hs256(tok, n, key, 32, 2000, sub, NULL, &why), SL_EAUTH);
	assert_string_equal(why, "expired");
	assert_string_equal(sub, "");
	assert_int_equal(jwt_verify_hs256(tok, n, (const uint8_t *)"other", 5, 1500, sub, NULL,
	                                  &why), SL_EAUTH);
	assert_string_equal(why, "bad signature");
}

static void test_tampered(void **state)
{
	(void)state;
	char tok[1024], sub[JWT_SUB_MAX + 1];
	const char *why;
	size_t n = jwt_sign_hs256(key, 32, "admin", 1000, 2000, tok, sizeof(tok));
	/* A later exp in the payload, signature unchanged. */
	char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
	char forged[1024], pl[200];
	size_t pn = base64url_encode((const uint8_t *)"{\"sub\":\"admin\",\"iat\":1000,\"exp\":9000}",
	                             37, pl);
	int len = snprintf(forged, sizeof(forged), "%.*s.%.*s%s", (int)(d1 - tok), tok, (int)pn, pl,
	                   d2);
	assert_int_equal(jwt_verify_hs256(forged, (size_t)len, key, 32, 1500, sub, NULL, &why),
	                 SL_EAUTH);
	/* Last signature character flipped. */
	tok[n - 1] = tok[n - 1] == 'A' ? 'B' : 'A';
	assert_true(jwt_verify_hs256(tok, n, key, 32, 1500, sub, NULL, &why) < 0);
}

static void test_alg_none_and_malformed(void **state)
{
	(void)state;
	char sub[JWT_SUB_MAX + 1];
	const char *why;
	/* {"alg":"none"}.{"sub":"admin","exp":9999999999}. */
	const char *none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.";
	assert_int_equal(jwt_verify_hs256(none, strlen(none), key, 32, 1, sub, NULL, &why),
	                 SL_EPROTO);
	const char *bad[] = { "", "a", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.", NULL };
	for (int i = 0; bad[i]; i++)
		assert_true(jwt_verify_hs256(bad[i], strlen(bad[i]), key, 32, 1, sub, NULL, &why) < 0);
	char huge[JWT_MAX_LEN + 10];
	memset(huge, 'a', sizeof(huge));
	assert_int_equal(jwt_verify_hs256(huge, sizeof(huge), key, 32, 1, sub, NULL, &why),
	                 SL_EPROTO);
}

static void test_base64(void **state)
{
	(void)state;
	uint8_t out[16];
	/* "admin:secret" in the standard alphabet, padded, as HTTP Basic sends it */
	assert_int_equal(base64url_decode("YWRtaW46c2VjcmV0", 16, out, sizeof(out)), 12);
	assert_memory_equal(out, "admin:secret", 12);
	assert_int_equal(base64url_decode("Pz8/", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "???", 3);
	assert_int_equal(base64url_decode("YQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(base64url_decode("Y", 1, out, sizeof(out)), -1);
	assert_int_equal(base64url_decode("YWJj", 4, out, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_expired_and_wrong_key),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_alg_none_and_malformed),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
