/* SPDX-License-Identifier: Apache-2.0 */
/* test_srt_streamid.c - the SRT stream id forms we accept and those we refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/srt_streamid.h"

static int parse(const char *s, struct srt_streamid *id)
{
	return srt_streamid_parse(s, strlen(s), id);
}

static void test_plain(void **state)
{
	(void)state;
	struct srt_streamid id;
	assert_int_equal(parse("live/cam1", &id), 0);
	assert_string_equal(id.app, "live");
	assert_string_equal(id.name, "cam1");
	assert_int_equal(id.publish, 0);
	assert_int_equal(id.mode_set, 0);
	assert_string_equal(id.token, "");
	assert_int_equal(parse("live/cam1?token=a.b-c", &id), 0);
	assert_string_equal(id.token, "a.b-c");
}

static void test_convention(void **state)
{
	(void)state;
	struct srt_streamid id;
	assert_int_equal(parse("#!::r=live/cam1,m=publish", &id), 0);
	assert_string_equal(id.app, "live");
	assert_string_equal(id.name, "cam1");
	assert_int_equal(id.publish, 1);
	assert_int_equal(id.mode_set, 1);
	assert_int_equal(parse("#!::m=request,t=tok,r=app/s", &id), 0);
	assert_int_equal(id.publish, 0);
	assert_string_equal(id.token, "tok");
	/* t=stream is the convention's type, not a token; unknown keys are ignored. */
	assert_int_equal(parse("#!::t=stream,u=bob,s=x,r=a/b,token=T", &id), 0);
	assert_string_equal(id.token, "T");
	assert_int_equal(parse("#!::r=a/b,,", &id), 0);
}

static void test_refused(void **state)
{
	(void)state;
	struct srt_streamid id;
	assert_int_equal(parse("", &id), SL_EPROTO);
	assert_int_equal(parse("cam1", &id), SL_EPROTO);
	assert_int_equal(parse("a/b/c", &id), SL_EPROTO);
	assert_int_equal(parse("../b", &id), SL_EPROTO);
	assert_int_equal(parse("a/b?x=1", &id), SL_EPROTO);
	assert_int_equal(parse("#!::m=publish", &id), SL_EPROTO);
	assert_int_equal(parse("#!::r=a/b,m=push", &id), SL_EPROTO);
	assert_int_equal(parse("#!::r=a/b,novalue", &id), SL_EPROTO);
	assert_int_equal(parse("#!::r=a/b,m=bidirectional", &id), SL_EUNSUPP);
	assert_int_equal(parse("#!::r=a/b,t=file", &id), SL_EUNSUPP);
	assert_string_equal(id.app, "");
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "#!::r=a/b,t=", 12);
	assert_int_equal(parse(big, &id), SL_EPROTO);
	/* A NUL inside is refused, not truncated. */
	assert_int_equal(srt_streamid_parse("a/b\0c", 5, &id), SL_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_convention),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
