/* SPDX-License-Identifier: Apache-2.0 */
/* test_name_hold.c - a broadcast name stays on its origin while held, lapses, is dropped
 * with its node, and the table stays bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "manager/name_hold.h"

static void test_hold_and_lapse(void **state)
{
	(void)state;
	struct name_hold h;
	name_hold_init(&h);
	assert_null(name_hold_get(&h, "live/a", 0));
	assert_int_equal(name_hold_put(&h, "live/a", "origin-1", 1000, NAME_HOLD_MS), 0);
	assert_string_equal(name_hold_get(&h, "live/a", 1000 + NAME_HOLD_MS - 1), "origin-1");
	/* renewed by a second answer */
	assert_int_equal(name_hold_put(&h, "live/a", "origin-1", 5000, NAME_HOLD_MS), 0);
	assert_non_null(name_hold_get(&h, "live/a", 1000 + NAME_HOLD_MS + 1));
	assert_null(name_hold_get(&h, "live/a", 5000 + NAME_HOLD_MS));
	assert_int_equal(name_hold_count(&h), 0);
	name_hold_free(&h);
}

static void test_forget_node(void **state)
{
	(void)state;
	struct name_hold h;
	name_hold_init(&h);
	name_hold_put(&h, "live/a", "o1", 0, 1000);
	name_hold_put(&h, "live/b", "o2", 0, 1000);
	name_hold_put(&h, "live/c", "o1", 0, 1000);
	name_hold_forget_node(&h, "o1");
	assert_null(name_hold_get(&h, "live/a", 1));
	assert_null(name_hold_get(&h, "live/c", 1));
	assert_string_equal(name_hold_get(&h, "live/b", 1), "o2");
	name_hold_free(&h);
}

static void test_bounded(void **state)
{
	(void)state;
	struct name_hold h;
	name_hold_init(&h);
	char key[32];
	for (int i = 0; i < NAME_HOLD_MAX; i++) {
		snprintf(key, sizeof(key), "live/s%d", i);
		assert_int_equal(name_hold_put(&h, key, "o1", 0, 1000), 0);
	}
	/* Full of live holds: a new name is refused, an existing one still renews. */
	assert_int_equal(name_hold_put(&h, "live/new", "o1", 10, 1000), -1);
	assert_int_equal(h.refused, 1);
	assert_int_equal(name_hold_put(&h, "live/s7", "o2", 10, 1000), 0);
	/* Once they lapse, the sweep makes room. */
	assert_int_equal(name_hold_put(&h, "live/new", "o1", 1000, 1000), 0);
	assert_true(name_hold_count(&h) <= 2);
	assert_string_equal(name_hold_get(&h, "live/new", 1001), "o1");
	name_hold_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_and_lapse),
		cmocka_unit_test(test_forget_node),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
