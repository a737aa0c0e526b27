/* SPDX-License-Identifier: Apache-2.0 */
/* test_rtp_dts.c - decode times from presentation times: rising, never after them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/rtp_dts.h"

/* Feeds pts[] (decode order); checks decode times rise; returns how many frames' decode
 * time came after their presentation time. */
static unsigned run(unsigned depth, const uint32_t *pts, size_t n, uint32_t *dts)
{
	struct rtp_dts d;
	rtp_dts_init(&d, depth);
	unsigned late = 0;
	for (size_t i = 0; i < n; i++) {
		dts[i] = rtp_dts_next(&d, pts[i]);
		if (i)
			assert_true(dts[i] > dts[i - 1]);
		if (dts[i] > pts[i])
			late++;
	}
	return late;
}

static void test_b_frames(void **state)
{
	(void)state;
	/* x264 with B-pyramid at 25 fps: I0 P4 B2 b1 b3 P8 B6 b5 b7 ..., 4 ms in. */
	uint32_t order[] = { 0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11 };
	uint32_t pts[13], dts[13];
	for (int i = 0; i < 13; i++)
		pts[i] = 4 + 40 * order[i];
	assert_int_equal(run(2, pts, 13, dts), 0);
	/* Once started, frame n (decode order) decodes when frame n - 2 of display order shows. */
	assert_int_equal(dts[4], 4 + 40 * 2);
	assert_int_equal(dts[5], 4 + 40 * 3);
	assert_int_equal(dts[12], 4 + 40 * 10);
}

static void test_no_b_frames(void **state)
{
	(void)state;
	uint32_t pts[10], dts[10];
	for (int i = 0; i < 10; i++)
		pts[i] = 4 + 33 * (uint32_t)i;
	assert_int_equal(run(2, pts, 10, dts), 0);
	/* A constant offset of two frames once started. */
	assert_int_equal(pts[9] - dts[9], 66);
	assert_int_equal(pts[5] - dts[5], 66);
}

static void test_deeper_than_assumed(void **state)
{
	(void)state;
	/* Reordered 3 deep with depth 1 assumed: a frame or two decode late, then none. */
	uint32_t order[] = { 0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13 };
	uint32_t pts[17], dts[17];
	for (int i = 0; i < 17; i++)
		pts[i] = 4 + 40 * order[i];
	unsigned late = run(1, pts, 17, dts);
	assert_true(late >= 1 && late <= 4);
	struct rtp_dts d;
	rtp_dts_init(&d, 1);
	for (int i = 0; i < 17; i++)
		rtp_dts_next(&d, pts[i]);
	assert_true(d.depth >= 3 && d.depth <= RTP_DTS_MAX_DEPTH);
	/* Past the start nothing decodes after it is shown. */
	for (int i = 9; i < 17; i++)
		assert_true(dts[i] <= pts[i]);
}

static void test_depth_capped(void **state)
{
	(void)state;
	struct rtp_dts d;
	rtp_dts_init(&d, 99);
	assert_int_equal(d.depth, RTP_DTS_MAX_DEPTH);
	/* Timestamps that only go back: decode times still rise. */
	uint32_t last = 0;
	for (int i = 0; i < 50; i++) {
		uint32_t t = rtp_dts_next(&d, 10000 - (uint32_t)i * 10);
		if (i)
			assert_true(t > last);
		last = t;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b_frames),
		cmocka_unit_test(test_no_b_frames),
		cmocka_unit_test(test_deeper_than_assumed),
		cmocka_unit_test(test_depth_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
