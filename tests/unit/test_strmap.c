/* SPDX-License-Identifier: Apache-2.0 */
/* test_strmap.c - the string-keyed hash map, including deletion inside probe runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/strmap.h"

/* FNV-1a, the map's hash before it was keyed: used here only to choose hostile names. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

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

/*
 * Hash flooding: 2,000 names a peer chose so that an unkeyed FNV-1a puts them all in one
 * slot of a 4,096-slot table. Under a fixed hash they formed one probe run 2,000 long (every
 * lookup walked it); keyed, no name sits far from its home slot.
 */
static void test_chosen_names_do_not_collide(void **state)
{
	(void)state;
	struct strmap m;
	strmap_init(&m);
	char key[32];
	unsigned long n = 0;
	for (int found = 0; found < 2000; n++) {
		snprintf(key, sizeof(key), "live/f%lu", n);
		if ((fnv1a(key) & 0xfff) == 0) {
			strmap_put(&m, key, (void *)1);
			found++;
		}
	}
	assert_int_equal(m.cap, 4096);
	size_t mask = m.cap - 1, worst = 0;
	for (size_t i = 0; i < m.cap; i++) {
		if (!m.slots[i].key)
			continue;
		size_t displacement = (i - (m.slots[i].hash & mask)) & mask;
		if (displacement > worst)
			worst = displacement;
	}
	/* Random keys at this load (0.49) give a longest displacement in the tens. */
	assert_true(worst < 200);
	strmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_many_keys_and_deletes),
		cmocka_unit_test(test_chosen_names_do_not_collide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
