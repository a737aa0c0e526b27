/* SPDX-License-Identifier: Apache-2.0 */
/* test_ratelimit.c - per-address connection limits, the token bucket, the log throttle,
 * and their use by the connection table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/conn.h"
#include "core/err.h"
#include "core/ratelimit.h"

static void key_is(const char *peer, const char *want)
{
	char key[IPLIMIT_KEY_MAX];
	iplimit_key(peer, key, sizeof(key));
	assert_string_equal(key, want);
}

/* Peers as net_peer_name() writes them; IPv6 collapses to its /64. */
static void test_keys(void **state)
{
	(void)state;
	key_is("127.0.0.1:53124", "127.0.0.1");
	key_is("10.1.2.3", "10.1.2.3");
	key_is("[2001:db8:1:2:3:4:5:6]:1935", "2001:db8:1:2::/64");
	key_is("[2001:db8:1:2:ffff::9]:1", "2001:db8:1:2::/64");
	key_is("[::1]:80", "::/64");
	key_is("[::ffff:192.0.2.7]:5000", "192.0.2.7");
	key_is("2001:db8::1", "2001:db8::/64");
	key_is("?:0", "?");
}

static void test_concurrent_limit(void **state)
{
	(void)state;
	struct iplimit l;
	iplimit_init(&l, 3, 0, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(iplimit_admit(&l, "1.1.1.1", 0), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 0), SL_ELIMIT);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 5), SL_ELIMIT);
	assert_int_equal(l.refused_conns, 2);
	assert_int_equal(iplimit_held(&l, "1.1.1.1"), 3);
	/* Another address has its own share. */
	assert_int_equal(iplimit_admit(&l, "2.2.2.2", 0), 0);
	iplimit_release(&l, "1.1.1.1", 10);
	assert_int_equal(iplimit_held(&l, "1.1.1.1"), 2);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 10), 0);
	assert_int_equal(l.refused_rate, 0);
	iplimit_free(&l);
}

/* 10/s with a burst of 5: five at once, then one per 100 ms. */
/* One connection's command bucket: burst at once, then rate a second, never over burst. */
static void test_own_token_bucket(void **state)
{
	(void)state;
	struct token_bucket b = { 0 };
	for (int i = 0; i < 5; i++)
		assert_int_equal(token_bucket_take(&b, 1000, 10, 5), 1);
	assert_int_equal(token_bucket_take(&b, 1000, 10, 5), 0);
	assert_int_equal(token_bucket_take(&b, 1099, 10, 5), 0);
	assert_int_equal(token_bucket_take(&b, 1100, 10, 5), 1);
	assert_int_equal(token_bucket_take(&b, 1100, 10, 5), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(token_bucket_take(&b, 500000000, 10, 5), 1);
	assert_int_equal(token_bucket_take(&b, 500000000, 10, 5), 0);
}

/* Amounts per address: entries exist only while not zero. */
static void test_ipcount(void **state)
{
	(void)state;
	struct ipcount t;
	ipcount_init(&t);
	assert_int_equal(ipcount_add(&t, "1.1.1.1", 100), 100);
	assert_int_equal(ipcount_add(&t, "1.1.1.1", 50), 150);
	assert_int_equal(ipcount_add(&t, "2.2.2.2", 7), 7);
	assert_int_equal(ipcount_get(&t, "1.1.1.1"), 150);
	assert_int_equal(ipcount_add(&t, "1.1.1.1", -150), 0);
	assert_int_equal(t.map.count, 1);
	assert_int_equal(ipcount_add(&t, "2.2.2.2", -70), 0);   /* never under 0 */
	assert_int_equal(ipcount_add(&t, "3.3.3.3", -5), 0);    /* nothing added for nothing */
	assert_int_equal(t.map.count, 0);
	assert_int_equal(ipcount_get(&t, "2.2.2.2"), 0);
	ipcount_free(&t);
}

static void test_token_bucket(void **state)
{
	(void)state;
	struct iplimit l;
	iplimit_init(&l, 0, 10, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1000), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1000), SL_EAGAIN);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1099), SL_EAGAIN);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1100), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1100), SL_EAGAIN);
	assert_int_equal(l.refused_rate, 3);
	/* Refusals used no tokens: 200 ms later exactly two more pass. */
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1300), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1300), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 1300), SL_EAGAIN);
	/* The bucket never holds more than the burst, however long the pause. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(iplimit_admit(&l, "1.1.1.1", 100000000), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 100000000), SL_EAGAIN);
	/* Another address is not affected by this one's flood. */
	assert_int_equal(iplimit_admit(&l, "2.2.2.2", 100000000), 0);
	iplimit_free(&l);
}

/* A clock that steps back refills nothing and breaks nothing. */
static void test_clock_backwards(void **state)
{
	(void)state;
	struct iplimit l;
	iplimit_init(&l, 0, 10, 1);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 5000), 0);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 100), SL_EAGAIN);
	assert_int_equal(iplimit_admit(&l, "1.1.1.1", 5100), 0);
	iplimit_free(&l);
}

/* Entries go once their address holds nothing and its bucket is full again. */
static void test_idle_entries_are_swept(void **state)
{
	(void)state;
	struct iplimit l;
	iplimit_init(&l, 100, 10, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(iplimit_admit(&l, "1.1.1.1", 10000), 0);
	for (int i = 0; i < 5; i++)
		iplimit_release(&l, "1.1.1.1", 10000);
	assert_int_equal(l.map.count, 1); /* bucket empty: remembered */
	assert_int_equal(iplimit_admit(&l, "2.2.2.2", 10400), 0);
	assert_int_equal(l.map.count, 2); /* no sweep within a second of the last */
	assert_int_equal(iplimit_admit(&l, "3.3.3.3", 11000), 0);
	assert_int_equal(l.map.count, 2); /* 1.1.1.1 refilled by 10500 and went */
	assert_null(strmap_get(&l.map, "1.1.1.1"));
	/* Without a rate an entry goes with its last connection. */
	struct iplimit u;
	iplimit_init(&u, 2, 0, 0);
	assert_int_equal(iplimit_admit(&u, "1.1.1.1", 0), 0);
	assert_int_equal(u.map.count, 1);
	iplimit_release(&u, "1.1.1.1", 0);
	assert_int_equal(u.map.count, 0);
	iplimit_release(&u, "9.9.9.9", 0); /* unknown: ignored */
	iplimit_free(&u);
	iplimit_free(&l);
}

static void test_no_limits_store_nothing(void **state)
{
	(void)state;
	struct iplimit l;
	iplimit_init(&l, 0, 0, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(iplimit_admit(&l, "1.1.1.1", 0), 0);
	assert_int_equal(l.map.count, 0);
	iplimit_free(&l);
}

/* Ten lines a second pass; the next to pass says how many did not. */
static void test_log_throttle(void **state)
{
	(void)state;
	struct log_throttle t;
	memset(&t, 0, sizeof(t));
	uint64_t sup = 99;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(log_throttle_pass(&t, 5000, 10, &sup), 1);
		assert_int_equal(sup, 0);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(log_throttle_pass(&t, 5999, 10, &sup), 0);
	assert_int_equal(log_throttle_pass(&t, 6000, 10, &sup), 1);
	assert_int_equal(sup, 7);
	assert_int_equal(log_throttle_pass(&t, 6001, 10, &sup), 1);
	assert_int_equal(sup, 0);
}

static const struct conn_ops no_ops = { NULL, NULL };

/* The connection table applies the share of an address after its own limit. */
static void test_conn_table_per_ip(void **state)
{
	(void)state;
	struct conn_table t;
	struct conn c[5];
	memset(c, 0, sizeof(c));
	conn_table_init(&t, 4);
	conn_table_set_ip_limits(&t, 2, 0, 0);
	assert_int_equal(conn_table_add(&t, &c[0], "rtmp", "10.0.0.1:1000", &no_ops), 0);
	assert_int_equal(conn_table_add(&t, &c[1], "http", "10.0.0.1:1001", &no_ops), 0);
	assert_int_equal(conn_table_add(&t, &c[2], "rtmp", "10.0.0.1:1002", &no_ops), SL_ELIMIT);
	assert_false(list_linked(&c[2].link));
	assert_int_equal(t.count, 2);
	assert_int_equal(t.ip.refused_conns, 1);
	assert_int_equal(conn_table_add(&t, &c[2], "rtmp", "10.0.0.2:1000", &no_ops), 0);
	assert_int_equal(conn_table_add(&t, &c[3], "rtmp", "10.0.0.3:1000", &no_ops), 0);
	/* The table's own limit first. */
	assert_int_equal(conn_table_add(&t, &c[4], "rtmp", "10.0.0.4:1000", &no_ops), SL_EFULL);
	assert_int_equal(t.refused, 1);
	/* Closing one of 10.0.0.1's connections gives its address a slot back. */
	conn_table_remove(&t, &c[0]);
	assert_int_equal(conn_table_add(&t, &c[4], "rtmp", "10.0.0.1:1003", &no_ops), 0);
	assert_int_equal(iplimit_held(&t.ip, "10.0.0.1"), 2);
	for (int i = 1; i < 5; i++)
		conn_table_remove(&t, &c[i]);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.ip.map.count, 0);
	assert_string_equal(conn_refusal_reason(SL_EFULL), "connection limit");
	assert_string_equal(conn_refusal_reason(SL_ELIMIT), "per-ip connection limit");
	assert_string_equal(conn_refusal_reason(SL_EAGAIN), "per-ip connection rate");
	assert_string_equal(conn_refusal_reason(0), "shutting down");
	conn_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_concurrent_limit),
		cmocka_unit_test(test_token_bucket),
		cmocka_unit_test(test_own_token_bucket),
		cmocka_unit_test(test_ipcount),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_idle_entries_are_swept),
		cmocka_unit_test(test_no_limits_store_nothing),
		cmocka_unit_test(test_log_throttle),
		cmocka_unit_test(test_conn_table_per_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
