/* SPDX-License-Identifier: Apache-2.0 */
/* test_bytes.c - the growable byte vector and big-endian helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/rbuf.h"

static void test_put_big_endian(void **state)
{
	(void)state;
	struct bytes b;
	bytes_init(&b);
	bytes_put_u8(&b, 0x01);
	bytes_put_u16be(&b, 0x0203);
	bytes_put_u24be(&b, 0x040506);
	bytes_put_u32be(&b, 0x0708090a);
	bytes_put_u32le(&b, 0x0e0d0c0b);
	static const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(rd_u16be(b.data + 1), 0x0203);
	assert_int_equal(rd_u24be(b.data + 3), 0x040506);
	assert_int_equal(rd_u32be(b.data + 6), 0x0708090a);
	assert_int_equal(rd_u32le(b.data + 10), 0x0e0d0c0b);
	bytes_free(&b);
}

static void test_grows_past_initial_capacity(void **state)
{
	(void)state;
	struct bytes b;
	bytes_init(&b);
	for (int i = 0; i < 10000; i++)
		bytes_put_u8(&b, (uint8_t)i);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	bytes_printf(&b, "%d-%s", 42, "x");
	assert_memory_equal(b.data + 10000, "42-x", 4);
	bytes_free(&b);
	assert_null(b.data);
}

static void test_rbuf_refcount(void **state)
{
	(void)state;
	struct rbuf *r = rbuf_from("abc", 3);
	assert_int_equal(r->refs, 1);
	assert_int_equal(r->len, 3);
	rbuf_ref(r);
	assert_int_equal(r->refs, 2);
	rbuf_unref(r);
	assert_int_equal(r->refs, 1);
	r = rbuf_grow(r, 4096);
	assert_true(r->cap >= 4096);
	assert_memory_equal(r->data, "abc", 3);
	rbuf_unref(r); /* frees; ASan reports a leak otherwise */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_big_endian),
		cmocka_unit_test(test_grows_past_initial_capacity),
		cmocka_unit_test(test_rbuf_refcount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
