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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
