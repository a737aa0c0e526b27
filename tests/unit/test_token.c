/* SPDX-License-Identifier: Apache-2.0 */
/* test_token.c - signed access tokens: valid, expired, tampered, wrong scope. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/token.h"

static void test_valid_token(void **state)
{
	(void)state;
	char t[TOKEN_MAX];
	token_make("s3cret", "publish", "live", "cam1", 2000000000, t);
	assert_non_null(strchr(t, '.'));
	assert_int_equal(strncmp(t, "2000000000.", 11), 0);
	assert_int_equal(strlen(t), 11 + 43); /* base64url of 32 bytes */
	assert_int_equal(token_check("s3cret", "publish", "live", "cam1", t, 1999999999), TOKEN_OK);
}

static void test_refusals(void **state)
{
	(void)state;
	char t[TOKEN_MAX];
	token_make("s3cret", "play", "live", "cam1", 1000, t);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", t, 1000), TOKEN_EXPIRED);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", NULL, 0), TOKEN_MISSING);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", "", 0), TOKEN_MISSING);
	assert_int_equal(token_check("other", "play", "live", "cam1", t, 0), TOKEN_BAD_SIGNATURE);
	assert_int_equal(token_check("s3cret", "publish", "live", "cam1", t, 0),
	                 TOKEN_BAD_SIGNATURE);
	assert_int_equal(token_check("s3cret", "play", "live", "cam2", t, 0), TOKEN_BAD_SIGNATURE);
	assert_int_equal(token_check("s3cret", "play", "vod", "cam1", t, 0), TOKEN_BAD_SIGNATURE);
	/* A later expiry with the old signature does not pass. */
	char forged[TOKEN_MAX];
	strcpy(forged, t);
	forged[0] = '9';
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", forged, 0),
	                 TOKEN_BAD_SIGNATURE);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", "abc", 0), TOKEN_MALFORMED);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", "12x.abc", 0),
	                 TOKEN_MALFORMED);
	assert_int_equal(token_check("s3cret", "play", "live", "cam1", ".abc", 0), TOKEN_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_token),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
