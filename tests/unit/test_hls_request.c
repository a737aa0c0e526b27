/* SPDX-License-Identifier: Apache-2.0 */
/* test_hls_request.c - HLS request paths and blocking-reload query parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "hls/hls_request.h"

static int parse(const char *p, struct hls_request *r)
{
	return hls_parse_path(p, strlen(p), r);
}

static void test_paths(void **state)
{
	(void)state;
	struct hls_request r;
	assert_int_equal(parse("/live/show/index.m3u8", &r), 0);
	assert_int_equal(r.file, HLS_PLAYLIST);
	assert_string_equal(r.app, "live");
	assert_string_equal(r.name, "show");
	assert_int_equal(parse("/live/show/", &r), 0);
	assert_int_equal(r.file, HLS_PAGE);
	assert_int_equal(parse("/a/b/seg-1795391726.ts", &r), 0);
	assert_int_equal(r.file, HLS_SEGMENT);
	assert_int_equal(r.msn, 1795391726ull);
	assert_int_equal(parse("/a/b/part-12.3.ts", &r), 0);
	assert_int_equal(r.file, HLS_PART);
	assert_int_equal(r.msn, 12);
	assert_int_equal(r.part, 3);
	assert_int_equal(parse("/a/b/seg-18446744073709551615.ts", &r), SL_EPROTO); /* 20 digits */
	assert_int_equal(parse("/a/b/seg-9999999999999999999.ts", &r), 0);
	assert_int_equal(r.container, HLS_TS);
	/* fMP4: .m4s segments and parts, init-I.mp4 */
	assert_int_equal(parse("/a/b/seg-77.m4s", &r), 0);
	assert_int_equal(r.file, HLS_SEGMENT);
	assert_int_equal(r.container, HLS_FMP4);
	assert_int_equal(r.msn, 77);
	assert_int_equal(parse("/a/b/part-12.63.m4s", &r), 0);
	assert_int_equal(r.file, HLS_PART);
	assert_int_equal(r.container, HLS_FMP4);
	assert_int_equal(r.part, 63);
	assert_int_equal(parse("/a/b/init-3.mp4", &r), 0);
	assert_int_equal(r.file, HLS_INIT);
	assert_int_equal(r.msn, 3);
	assert_int_equal(parse("/a/b/init-.mp4", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/init-12345678901.mp4", &r), SL_EPROTO); /* 11 digits */
	assert_int_equal(parse("/a/b/seg-.m4s", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/part-1.m4s", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/seg-1.mp4", &r), SL_ENOTFOUND);
	assert_int_equal(r.track, 0);
	/* DASH: the manifest, one track of an init or of a segment named by its start time */
	assert_int_equal(parse("/a/b/manifest.mpd", &r), 0);
	assert_int_equal(r.file, HLS_MPD);
	assert_int_equal(parse("/a/b/init-3-v.mp4", &r), 0);
	assert_int_equal(r.file, HLS_INIT);
	assert_int_equal(r.msn, 3);
	assert_int_equal(r.track, 1);
	assert_int_equal(parse("/a/b/seg-t12000-a.m4s", &r), 0);
	assert_int_equal(r.file, HLS_SEGMENT);
	assert_int_equal(r.by_time, 1);
	assert_int_equal(r.msn, 12000);
	assert_int_equal(r.track, 2);
	assert_int_equal(parse("/a/b/seg-77-v.m4s", &r), 0);
	assert_int_equal(r.by_time, 0);
	assert_int_equal(r.track, 1);
	assert_int_equal(parse("/a/b/seg-t12000.m4s", &r), SL_EPROTO);   /* by time: one track */
	assert_int_equal(parse("/a/b/seg-t-v.m4s", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/seg--v.m4s", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/init--a.mp4", &r), SL_EPROTO);
	assert_int_equal(parse("/a/b/seg-1-v.ts", &r), SL_EPROTO);         /* TS: no tracks */
	assert_int_equal(parse("/a/b/seg-1-x.m4s", &r), SL_EPROTO);
}

static void test_not_hls(void **state)
{
	(void)state;
	struct hls_request r;
	const char *paths[] = { "", "/", "/live", "/live/show.flv", "/live/show", "//x/index.m3u8",
	                        "/a//index.m3u8", "/a/b/other.txt", "//a/b/index.m3u8", "/a//b/c/index.m3u8",
	                        "/a/b/index.m3u", "live/show/index.m3u8" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(parse(paths[i], &r), SL_ENOTFOUND);
}

/* Red5's nested scopes: the app is everything before the stream. */
static void test_app_levels(void **state)
{
	(void)state;
	struct hls_request r;
	assert_int_equal(parse("/a/b/c/index.m3u8", &r), 0);
	assert_string_equal(r.app, "a/b");
	assert_string_equal(r.name, "c");
	assert_int_equal(parse("/live/room1/s1/", &r), 0);
	assert_string_equal(r.app, "live/room1");
	assert_int_equal(r.file, HLS_PAGE);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	struct hls_request r;
	const char *paths[] = { "/a/b/seg-.ts", "/a/b/seg-x.ts", "/a/b/seg--1.ts", "/a/b/seg-+1.ts",
	                        "/a/b/part-1.ts", "/a/b/part-1..ts", "/a/b/part-.1.ts",
	                        "/a/b/part-1.1000.ts", "/a/b/part-1.2.3.ts", "/a/b/seg-1 .ts" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(parse(paths[i], &r), SL_EPROTO);
}

static void test_names_bounded(void **state)
{
	(void)state;
	struct hls_request r;
	char p[400];
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[129] = '/';                       /* app of 128 */
	memcpy(p + 130, "b/index.m3u8", 13);
	assert_int_equal(parse(p, &r), 0);
	assert_int_equal(strlen(r.app), 128);
	p[129] = 'a';
	p[130] = '/';                       /* app of 129 */
	assert_int_equal(parse(p, &r), SL_ENOTFOUND);
	/* A NUL inside a name is refused, not truncated. */
	const char nul[] = "/a\0b/c/index.m3u8";
	assert_int_equal(hls_parse_path(nul, sizeof(nul) - 1, &r), SL_EPROTO);
}

static void test_queries(void **state)
{
	(void)state;
	struct hls_request r;
	memset(&r, 0, sizeof(r));
	const char *q = "_HLS_msn=42&_HLS_part=3";
	assert_int_equal(hls_parse_query(q, strlen(q), &r), 0);
	assert_true(r.block && r.block_part_given);
	assert_int_equal(r.block_msn, 42);
	assert_int_equal(r.block_part, 3);
	q = "token=1.abc&_HLS_msn=7";
	assert_int_equal(hls_parse_query(q, strlen(q), &r), 0);
	assert_true(r.block && !r.block_part_given);
	q = "token=1.abc";
	assert_int_equal(hls_parse_query(q, strlen(q), &r), 0);
	assert_false(r.block);
	const char *bad[] = { "_HLS_part=1", "_HLS_msn=", "_HLS_msn=-1", "_HLS_msn=1x",
	                      "_HLS_msn=1&_HLS_part=1000", "_HLS_msn=99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hls_parse_query(bad[i], strlen(bad[i]), &r), SL_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_not_hls),
		cmocka_unit_test(test_app_levels),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_names_bounded),
		cmocka_unit_test(test_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
