/* SPDX-License-Identifier: Apache-2.0 */
/* test_name.c - the name rule every part applies to apps, streams and node names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/name.h"

static void test_accepts(void **state)
{
	(void)state;
	assert_true(stream_name_valid("live"));
	assert_true(stream_name_valid("a"));
	assert_true(stream_name_valid("Cam_1.main~x@y+z=w-v"));
	char longest[STREAM_NAME_MAX + 1];
	memset(longest, 'a', STREAM_NAME_MAX);
	longest[STREAM_NAME_MAX] = '\0';
	assert_true(stream_name_valid(longest));
}

static void test_refuses(void **state)
{
	(void)state;
	assert_false(stream_name_valid(""));
	assert_false(stream_name_valid(".hidden"));
	assert_false(stream_name_valid(".."));
	assert_false(stream_name_valid("a/b"));
	assert_false(stream_name_valid("a b"));
	assert_false(stream_name_valid("a\"b"));
	assert_false(stream_name_valid("a\nb"));
	assert_false(stream_name_valid("a%2e"));
	assert_false(stream_name_valid("caf\xc3\xa9"));
	char too_long[STREAM_NAME_MAX + 2];
	memset(too_long, 'a', STREAM_NAME_MAX + 1);
	too_long[STREAM_NAME_MAX + 1] = '\0';
	assert_false(stream_name_valid(too_long));
}

/* Apps may have levels (Red5 scopes): each level follows the stream rule. */
static void test_app_levels(void **state)
{
	(void)state;
	assert_true(app_name_valid("live"));
	assert_true(app_name_valid("live/room1"));
	assert_true(app_name_valid("a/b/c"));
	assert_false(app_name_valid(""));
	assert_false(app_name_valid("/live"));
	assert_false(app_name_valid("live/"));
	assert_false(app_name_valid("live//room1"));
	assert_false(app_name_valid("live/../etc"));
	assert_false(app_name_valid("live/.hidden"));
	assert_false(app_name_valid("live/room 1"));
	char longest[STREAM_NAME_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	longest[60] = '/';
	longest[STREAM_NAME_MAX] = '\0';
	assert_true(app_name_valid(longest));
	longest[STREAM_NAME_MAX] = 'a';
	longest[STREAM_NAME_MAX + 1] = '\0';
	assert_false(app_name_valid(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_app_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
