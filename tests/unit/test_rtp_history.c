/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rtp_history.c - the NACK history: bounds by count and bytes,
 * lookups across the 16-bit wrap, and that every reference it takes it
 * gives back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/rbuf.h"
#include "media/rtp_history.h"

static struct rbuf *packet(size_t len, uint16_t seq)
{
	struct rbuf *b = rbuf_new(len);
	memset(b->data, 0, len);
	b->data[2] = (uint8_t)(seq >> 8);
	b->data[3] = (uint8_t)seq;
	b->len = (uint32_t)len;
	return b;
}

static void test_count_bound_and_lookup(void **state)
{
	struct rtp_history *h = rtp_history_new(1000, 0);   /* rounds up to 1024 slots */
	static struct rbuf *pk[3000];
	for (unsigned i = 0; i < 3000; i++) {
		pk[i] = packet(100, (uint16_t)i);
		rtp_history_put(h, (uint16_t)i, pk[i]);
	}
	assert_int_equal(rtp_history_count(h), 1024);
	assert_int_equal(rtp_history_bytes(h), 1024 * 100);
	assert_ptr_equal(rtp_history_get(h, 2999), pk[2999]);
	assert_ptr_equal(rtp_history_get(h, 3000 - 1024), pk[3000 - 1024]);
	assert_null(rtp_history_get(h, 3000 - 1025));
	assert_null(rtp_history_get(h, 3000));               /* not sent yet, same slot as 1976 */
	/* The history holds its own reference; ours is still there. */
	assert_int_equal(pk[2999]->refs, 2);
	assert_int_equal(pk[0]->refs, 1);
	rtp_history_free(h);
	for (unsigned i = 0; i < 3000; i++) {
		assert_int_equal(pk[i]->refs, 1);
		rbuf_unref(pk[i]);
	}
}

static void test_wrap_around(void **state)
{
	struct rtp_history *h = rtp_history_new(64, 0);
	static struct rbuf *pk[100];
	for (unsigned i = 0; i < 100; i++) {
		uint16_t seq = (uint16_t)(65500 + i);            /* 65500 .. 65535, 0 .. 63 */
		pk[i] = packet(50, seq);
		rtp_history_put(h, seq, pk[i]);
		rbuf_unref(pk[i]);                               /* the history's reference keeps it */
	}
	assert_int_equal(rtp_history_count(h), 64);
	for (unsigned i = 36; i < 100; i++) {
		struct rbuf *b = rtp_history_get(h, (uint16_t)(65500 + i));
		assert_non_null(b);
		assert_int_equal((b->data[2] << 8) | b->data[3], (uint16_t)(65500 + i));
	}
	assert_null(rtp_history_get(h, 65535));              /* evicted */
	assert_non_null(rtp_history_get(h, 0));
	rtp_history_free(h);
}

static void test_byte_bound_and_gaps(void **state)
{
	struct rtp_history *h = rtp_history_new(256, 10000);
	for (unsigned i = 0; i < 50; i++) {
		struct rbuf *b = packet(1000, (uint16_t)(i * 2));   /* every other seq: gaps */
		rtp_history_put(h, (uint16_t)(i * 2), b);
		rbuf_unref(b);
		assert_true(rtp_history_bytes(h) <= 10000);
	}
	assert_int_equal(rtp_history_count(h), 10);
	assert_non_null(rtp_history_get(h, 98));
	assert_non_null(rtp_history_get(h, 80));
	assert_null(rtp_history_get(h, 78));
	assert_null(rtp_history_get(h, 97));
	/* A packet over the byte bound on its own is not kept. */
	struct rbuf *big = packet(20000, 100);
	rtp_history_put(h, 100, big);
	assert_null(rtp_history_get(h, 100));
	assert_int_equal(big->refs, 1);
	rbuf_unref(big);
	rtp_history_free(h);
}

static void test_restart_and_jump_clear(void **state)
{
	struct rtp_history *h = rtp_history_new(16, 0);
	struct rbuf *b = packet(10, 0);
	for (uint16_t s = 500; s < 510; s++)
		rtp_history_put(h, s, b);
	assert_int_equal(rtp_history_count(h), 10);
	rtp_history_put(h, 3, b);                 /* backwards: a sender restart */
	assert_int_equal(rtp_history_count(h), 1);
	assert_null(rtp_history_get(h, 505));
	rtp_history_put(h, 3 + 20, b);            /* past the whole ring */
	assert_int_equal(rtp_history_count(h), 1);
	assert_null(rtp_history_get(h, 3));
	assert_non_null(rtp_history_get(h, 23));
	assert_int_equal(b->refs, 2);
	rtp_history_free(h);
	assert_int_equal(b->refs, 1);
	rbuf_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_bound_and_lookup),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_byte_bound_and_gaps),
		cmocka_unit_test(test_restart_and_jump_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
