/* SPDX-License-Identifier: Apache-2.0 */
/* test_json_get.c - reading fields of untrusted JSON objects, and what a refusal says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json_get.h"

static json_t *obj(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	assert_non_null(o);
	return o;
}

static void test_int_forms(void **state)
{
	(void)state;
	json_t *o = obj("{\"a\": 40, \"b\": 40.0, \"c\": \"2000\", \"d\": -3, \"e\": null}");
	char err[200];
	int64_t v = 0;
	assert_int_equal(jfield_int(o, "a", NULL, 0, 100, 1, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 40);
	assert_int_equal(jfield_int(o, "b", NULL, 0, 100, 1, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 40);
	assert_int_equal(jfield_int(o, "c", NULL, 0, 5000, 1, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(jfield_int(o, "d", NULL, -5, 5, 1, &v, err, sizeof(err)), 0);
	assert_int_equal(v, -3);
	v = 7; /* absent or null and not required: left as it was */
	assert_int_equal(jfield_int(o, "e", NULL, 0, 9, 0, &v, err, sizeof(err)), 0);
	assert_int_equal(jfield_int(o, "zz", NULL, 0, 9, 0, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 7);
	json_decref(o);
}

static void test_int_refusals_name_the_field(void **state)
{
	(void)state;
	json_t *o = obj("{\"half\": 1.5, \"big\": 101, \"word\": \"lots\", \"arr\": [1],"
	                " \"huge\": 1e300, \"digits\": \"12x\"}");
	char err[200];
	int64_t v = 0;
	assert_int_equal(jfield_int(o, "half", "group", 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_string_equal(err, "group.half: expected an integer from 0 to 100, got 1.5");
	assert_int_equal(jfield_int(o, "big", NULL, 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_string_equal(err, "big: 101 is out of range (0 to 100)");
	assert_int_equal(jfield_int(o, "word", NULL, 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "got \"lots\""));
	assert_int_equal(jfield_int(o, "arr", NULL, 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_int_equal(jfield_int(o, "huge", NULL, 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_int_equal(jfield_int(o, "digits", NULL, 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_int_equal(jfield_int(o, "missing", "p", 0, 100, 1, &v, err, sizeof(err)), SL_EINVAL);
	assert_string_equal(err, "p.missing: required (an integer from 0 to 100)");
	assert_int_equal(v, 0);
	json_decref(o);
}

static void test_str(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:s, s:s#, s:i}", "ok", "edge-1", "nul", "a\0b", (size_t)3, "num", 3);
	char out[8], err[200];
	assert_int_equal(jfield_str(o, "ok", NULL, 7, 1, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "edge-1");
	assert_int_equal(jfield_str(o, "ok", NULL, 3, 1, out, sizeof(out), err, sizeof(err)),
	                 SL_EINVAL);
	assert_string_equal(err, "ok: longer than 3 characters");
	assert_int_equal(jfield_str(o, "nul", NULL, 7, 1, out, sizeof(out), err, sizeof(err)),
	                 SL_EINVAL);
	assert_string_equal(err, "nul: contains a NUL character");
	assert_int_equal(jfield_str(o, "num", NULL, 7, 1, out, sizeof(out), err, sizeof(err)),
	                 SL_EINVAL);
	assert_string_equal(err, "num: expected a string, got 3");
	assert_int_equal(jfield_str(o, "none", NULL, 7, 1, out, sizeof(out), err, sizeof(err)),
	                 SL_EINVAL);
	assert_string_equal(err, "none: required");
	json_decref(o);
}

static void test_bool_and_describe(void **state)
{
	(void)state;
	json_t *o = obj("{\"t\": true, \"f\": \"false\", \"s\": \"yes\"}");
	char err[200];
	int b = -1;
	assert_int_equal(jfield_bool(o, "t", NULL, &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(jfield_bool(o, "f", NULL, &b, err, sizeof(err)), 0);
	assert_int_equal(b, 0);
	assert_int_equal(jfield_bool(o, "s", "x", &b, err, sizeof(err)), SL_EINVAL);
	assert_string_equal(err, "x.s: expected true or false, got \"yes\"");
	json_t *long_str = json_string("0123456789012345678901234567890123456789abcdef");
	char got[48];
	jfield_describe(long_str, got, sizeof(got));
	assert_int_equal(strlen(got), 40);
	assert_string_equal(got + 37, "...");
	json_decref(long_str);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_forms),
		cmocka_unit_test(test_int_refusals_name_the_field),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_bool_and_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
