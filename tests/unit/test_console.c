/* SPDX-License-Identifier: Apache-2.0 */
/* test_console.c - the console's session table, Cookie parsing and chart history rings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "manager/console_history.h"
#include "manager/console_session.h"

static void test_sessions_random_expire_and_evict(void **state)
{
	(void)state;
	struct console_sessions t;
	console_sessions_init(&t, 2, 1000);
	struct console_session *a = console_session_new(&t, 100);
	char aid[CONSOLE_ID_HEX + 1], acsrf[CONSOLE_ID_HEX + 1];
	strcpy(aid, a->id);
	strcpy(acsrf, a->csrf);
	assert_int_equal(strlen(aid), CONSOLE_ID_HEX);
	assert_string_not_equal(aid, acsrf);
	assert_ptr_equal(console_session_find(&t, aid, CONSOLE_ID_HEX, 200), a);
	/* A prefix, a wrong byte or a wrong length is no session. */
	assert_null(console_session_find(&t, aid, CONSOLE_ID_HEX - 1, 200));
	char bad[CONSOLE_ID_HEX + 1];
	strcpy(bad, aid);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_null(console_session_find(&t, bad, CONSOLE_ID_HEX, 200));

	struct console_session *b = console_session_new(&t, 300);
	char bid[CONSOLE_ID_HEX + 1];
	strcpy(bid, b->id);
	assert_string_not_equal(aid, bid);
	assert_int_equal(t.count, 2);
	/* a used at 400, b not since 300: a third login evicts b. */
	assert_non_null(console_session_find(&t, aid, CONSOLE_ID_HEX, 400));
	console_session_new(&t, 500);
	assert_int_equal(t.evicted, 1);
	assert_int_equal(t.count, 2);
	assert_null(console_session_find(&t, bid, CONSOLE_ID_HEX, 500));
	assert_non_null(console_session_find(&t, aid, CONSOLE_ID_HEX, 500));
	/* a was made at 100 with a 1000 ms life: gone at 1100 even though it was used. */
	assert_null(console_session_find(&t, aid, CONSOLE_ID_HEX, 1100));
	assert_int_equal(t.count, 1);
	assert_int_equal(console_sessions_expire(&t, 5000), 1);
	assert_int_equal(t.count, 0);
	console_sessions_free(&t);
}

static void test_session_end(void **state)
{
	(void)state;
	struct console_sessions t;
	console_sessions_init(&t, 4, 60000);
	struct console_session *s = console_session_new(&t, 0);
	char id[CONSOLE_ID_HEX + 1];
	strcpy(id, s->id);
	console_session_end(&t, s);
	assert_null(console_session_find(&t, id, CONSOLE_ID_HEX, 1));
	assert_int_equal(t.count, 0);
	console_sessions_free(&t);
}

static void test_cookie_get(void **state)
{
	(void)state;
	const char *v;
	const char *h = "a=1; sluice_session=abc ;other=\"q\"; x_sluice_session=no";
	int n = console_cookie_get(h, strlen(h), "sluice_session", &v);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "abc", 3);
	n = console_cookie_get(h, strlen(h), "other", &v);
	assert_int_equal(n, 1);
	assert_memory_equal(v, "q", 1);
	assert_int_equal(console_cookie_get(h, strlen(h), "session", &v), -1);
	assert_int_equal(console_cookie_get("", 0, "a", &v), -1);
	assert_int_equal(console_cookie_get("a", 1, "a", &v), -1);
	n = console_cookie_get("a=", 2, "a", &v);
	assert_int_equal(n, 0);
	/* Only the header's bytes are read, not what follows them. */
	n = console_cookie_get("a=12345", 4, "a", &v);
	assert_int_equal(n, 2);
}

static int nvalues(json_t *arr)
{
	int n = 0;
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		n += !json_is_null(x);
	return n;
}

static json_t *series(json_t *o, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(o, "series"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	return NULL;
}

static void test_history_ring_and_bounds(void **state)
{
	(void)state;
	struct console_history h;
	/* 20 minutes a point: 3 points an hour. */
	console_history_init(&h, 1200000);
	assert_int_equal(h.npoints, 3);
	assert_int_equal(console_history_put(&h, CS_NODE, "n1", 1, 1, 1, 0), -1);  /* no point */
	for (int i = 0; i < 5; i++) {
		console_history_tick(&h, 1000 + (uint64_t)i);
		if (i != 3)
			assert_int_equal(console_history_put(&h, CS_NODE, "n1", i, 10.0 * i, 5, 0), 0);
		console_history_put(&h, CS_GROUP, "g", 2, 0, -1, 0);
		console_history_put(&h, CS_GROUP, "g", 3, 0, -1, 1);
	}
	json_t *o = console_history_json(&h);
	json_t *t = json_object_get(o, "t");
	assert_int_equal(json_array_size(t), 3);
	assert_int_equal(json_integer_value(json_array_get(t, 0)), 1002);
	assert_int_equal(json_integer_value(json_array_get(t, 2)), 1004);
	json_t *n1 = series(o, "n1");
	assert_non_null(n1);
	json_t *v = json_object_get(n1, "viewers");
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 2);
	assert_true(json_is_null(json_array_get(v, 1)));      /* not seen at sample 4 */
	assert_int_equal(json_integer_value(json_array_get(v, 2)), 4);
	/* CPU to a hundredth. */
	console_history_put(&h, CS_NODE, "n1", 4, 40, 12.3456, 0);
	json_decref(o);
	o = console_history_json(&h);
	n1 = series(o, "n1");
	assert_true(json_real_value(json_array_get(json_object_get(n1, "cpu"), 2)) == 12.35);
	json_t *g = series(o, "g");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(g, "viewers"), 2)), 5);
	assert_int_equal(nvalues(json_object_get(g, "cpu")), 0);  /* cpu < 0: never set */
	json_decref(o);
	/* Unseen for a whole window: the slot is freed. */
	for (int i = 0; i < 3; i++)
		console_history_tick(&h, 2000 + (uint64_t)i);
	o = console_history_json(&h);
	assert_null(series(o, "n1"));
	json_decref(o);
	/* Only CONSOLE_SERIES_MAX series; the rest are counted as dropped. */
	char name[32];
	for (int i = 0; i < CONSOLE_SERIES_MAX + 5; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		console_history_put(&h, CS_STREAM, name, 1, -1, -1, 0);
	}
	assert_int_equal(h.dropped, 5);
	console_history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions_random_expire_and_evict),
		cmocka_unit_test(test_session_end),
		cmocka_unit_test(test_cookie_get),
		cmocka_unit_test(test_history_ring_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
