/* test_strmap.c - the string-keyed hash map, including deletion inside probe runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/strmap.h"

static void test_put_get_del(void **state)
{
	(void)state;
	struct strmap m;
	strmap_init(&m);
	assert_null(strmap_get(&m, "live/a"));
	assert_null(strmap_put(&m, "live/a", (void *)1));
	assert_ptr_equal(strmap_put(&m, "live/a", (void *)2), (void *)1);
	assert_ptr_equal(strmap_get(&m, "live/a"), (void *)2);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(strmap_del(&m, "live/a"), (void *)2);
	assert_null(strmap_get(&m, "live/a"));
	assert_null(strmap_del(&m, "live/a"));
	assert_int_equal(m.count, 0);
	strmap_free(&m);
}

/* Thousands of keys through growth; deleting every other one keeps the rest findable. */
static void test_many_keys_and_deletes(void **state)
{
	(void)state;
	struct strmap m;
	strmap_init(&m);
	char key[32];
	for (uintptr_t i = 1; i <= 5000; i++) {
		snprintf(key, sizeof(key), "app/stream%lu", (unsigned long)i);
		strmap_put(&m, key, (void *)i);
	}
	assert_int_equal(m.count, 5000);
	for (uintptr_t i = 1; i <= 5000; i += 2) {
		snprintf(key, sizeof(key), "app/stream%lu", (unsigned long)i);
		assert_ptr_equal(strmap_del(&m, key), (void *)i);
	}
	for (uintptr_t i = 1; i <= 5000; i++) {
		snprintf(key, sizeof(key), "app/stream%lu", (unsigned long)i);
		if (i % 2)
			assert_null(strmap_get(&m, key));
		else
			assert_ptr_equal(strmap_get(&m, key), (void *)i);
	}
	size_t it = 0, seen = 0;
	const char *k;
	void *v;
	while (strmap_next(&m, &it, &k, &v))
		seen++;
	assert_int_equal(seen, 2500);
	strmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_many_keys_and_deletes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
