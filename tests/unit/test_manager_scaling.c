/* SPDX-License-Identifier: Apache-2.0 */
/* test_manager_scaling.c - routing picks, routing reservations and autoscaler decisions,
 * from node snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "manager/autoscaler.h"
#include "manager/routing.h"

static struct route_node nd(const char *id, enum mrole role, enum node_state st, int64_t load,
                            int64_t cap, int publishing, const char *region)
{
	struct route_node n = { id, role, st, region, load, cap, publishing, 0 };
	return n;
}

static void test_broadcast(void **state)
{
	(void)state;
	char why[128];
	struct route_node n[] = {
		nd("o1", MROLE_ORIGIN, NS_ALIVE, 8, 10, 0, "us"),
		nd("o2", MROLE_ORIGIN, NS_ALIVE, 3, 10, 0, "eu"),
		nd("o3", MROLE_ORIGIN, NS_DRAINING, 0, 10, 0, "us"),
		nd("e1", MROLE_EDGE, NS_ALIVE, 0, 10, 0, "us"),
	};
	/* Least loaded alive origin; draining ones and edges never. */
	assert_int_equal(routing_pick(n, 4, ROUTE_BROADCAST, NULL, why, sizeof(why)), 1);
	/* The requested region first, even when more loaded. */
	assert_int_equal(routing_pick(n, 4, ROUTE_BROADCAST, "us", why, sizeof(why)), 0);
	/* The stream is already published on o1: the same origin again. */
	n[0].publishing = 1;
	assert_int_equal(routing_pick(n, 4, ROUTE_BROADCAST, "eu", why, sizeof(why)), 0);
	n[0].publishing = 0;
	/* Full origins: 503 with a reason. */
	n[0].load = 10;
	n[1].load = 11;
	assert_int_equal(routing_pick(n, 4, ROUTE_BROADCAST, NULL, why, sizeof(why)), SL_EFULL);
	assert_non_null(strstr(why, "every origin is at capacity (2 alive)"));
	n[0].state = n[1].state = NS_DEAD;
	assert_int_equal(routing_pick(n, 4, ROUTE_BROADCAST, NULL, why, sizeof(why)), SL_EFULL);
	assert_string_equal(why, "no alive origin");
}

static void test_subscribe(void **state)
{
	(void)state;
	char why[128];
	struct route_node n[] = {
		nd("o1", MROLE_ORIGIN, NS_ALIVE, 1, 10, 0, "us"),
		nd("e1", MROLE_EDGE, NS_ALIVE, 2, 4, 0, "us"),
		nd("e2", MROLE_EDGE, NS_ALIVE, 1, 4, 0, "eu"),
		nd("e3", MROLE_EDGE, NS_DRAINING, 0, 4, 0, "us"),
		nd("e4", MROLE_EDGE, NS_STARTING, 0, 4, 0, "us"),
	};
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), SL_ENOTFOUND);
	assert_string_equal(why, "the stream is not live");
	n[0].publishing = 1;
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), 2);
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, "us", why, sizeof(why)), 1);
	/* Full edges: 503, never the draining or starting ones. */
	n[1].load = n[2].load = 4;
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), SL_EFULL);
	assert_non_null(strstr(why, "every edge is at capacity (2 alive)"));
	/* No alive edge: the origin serves viewers itself. */
	n[1].state = n[2].state = NS_DEAD;
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), 0);
	/* A stream on a draining origin is still found (its viewers' source is there). */
	n[0].state = NS_DRAINING;
	n[1].state = NS_ALIVE;
	n[1].load = 0;
	assert_int_equal(routing_pick(n, 5, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), 1);
}

static struct scale_input base_input(void)
{
	struct scale_input in = {
		.role = MROLE_EDGE,
		.lim = { 1, 1, 3, 1, 2000, 1000 },
		.capacity = 2,
		.th = { 60, 20, 0 },
		.alive = 1,
		.now_ms = 100000,
	};
	return in;
}

static void test_scale_out_steps(void **state)
{
	(void)state;
	struct scale_state st = { 0 };
	struct scale_decision d;
	struct scale_input in = base_input();
	in.connections = 1; /* 50% */
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	in.connections = 2; /* 100% > 60% */
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_OUT);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.reason, "load 100.0% = 2 connections / (1 alive x 2 capacity)"));
	/* The new node is warming up: hold. */
	in.launching = 1;
	in.newest_launch_ms = in.now_ms;
	in.last_out_ms = in.now_ms;
	in.now_ms += 500;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	assert_non_null(strstr(d.reason, "warming up"));
	/* Alive now, still hot, but the cool-down has not run. */
	in.launching = 0;
	in.alive = 2;
	in.connections = 4;
	autoscale_decide(&in, &st, &d);
	assert_non_null(strstr(d.reason, "cooling down"));
	in.now_ms += 2000;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_OUT);
	/* At maxLimit: never beyond. */
	in.alive = 3;
	in.connections = 6;
	in.now_ms += 10000;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	assert_non_null(strstr(d.reason, "hold at maxLimit 3"));
	/* A big adjustment is cut to what maxLimit allows. */
	in.alive = 1;
	in.connections = 2;
	in.lim.adjust = 5;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_OUT);
	assert_int_equal(d.count, 2);
}

/* Ant Media's way: the mean machine CPU over a per-role threshold scales out too, and
 * holds off scale-in while above half of it; off (0) it changes nothing. */
static void test_scale_out_on_cpu(void **state)
{
	(void)state;
	struct scale_state st = { 0 };
	struct scale_decision d;
	struct scale_input in = base_input();
	in.connections = 0;
	in.cpu_pct = 90;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);      /* no CPU threshold set */
	in.th.cpu_out_pct = 70;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_OUT);
	assert_non_null(strstr(d.reason, "CPU 90% (scale-out 70%)"));
	in.cpu_pct = 50;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	/* Idle by connections but CPU above half the threshold: no scale-in, ever. */
	in.alive = 2;
	in.lim.min = 1;
	for (int i = 0; i < 5; i++) {
		in.now_ms += 100000;
		autoscale_decide(&in, &st, &d);
		assert_int_equal(d.action, SCALE_NONE);
	}
	in.cpu_pct = 10;
	for (int i = 0; i < 5 && d.action == SCALE_NONE; i++) {
		in.now_ms += 100000;
		autoscale_decide(&in, &st, &d);
	}
	assert_int_equal(d.action, SCALE_IN);
}

static void test_overloaded_nodes_skipped(void **state)
{
	(void)state;
	char why[160];
	struct route_node n[] = {
		nd("o1", MROLE_ORIGIN, NS_ALIVE, 0, 10, 1, "eu"),
		nd("e1", MROLE_EDGE, NS_ALIVE, 0, 10, 0, "eu"),
		nd("e2", MROLE_EDGE, NS_ALIVE, 5, 10, 0, "eu"),
	};
	n[1].overloaded = 1;   /* the less loaded edge, but above its CPU or memory limit */
	assert_int_equal(routing_pick(n, 3, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), 2);
	n[2].overloaded = 1;
	assert_int_equal(routing_pick(n, 3, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), SL_EFULL);
	assert_non_null(strstr(why, "2 of them above their CPU or memory limit"));
	/* No edge alive: the origin itself, unless it is overloaded too. */
	n[1].state = n[2].state = NS_DEAD;
	assert_int_equal(routing_pick(n, 3, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), 0);
	n[0].overloaded = 1;
	assert_int_equal(routing_pick(n, 3, ROUTE_SUBSCRIBE, NULL, why, sizeof(why)), SL_EFULL);
	n[0].publishing = 0;
	assert_int_equal(routing_pick(n, 3, ROUTE_BROADCAST, NULL, why, sizeof(why)), SL_EFULL);
	assert_non_null(strstr(why, "1 of them above"));
}

static void test_min_limit(void **state)
{
	(void)state;
	struct scale_state st = { 0 };
	struct scale_decision d;
	struct scale_input in = base_input();
	in.alive = 0;
	in.lim.min = 2;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_OUT);
	assert_int_equal(d.count, 2);
	assert_non_null(strstr(d.reason, "below minLimit 2"));
	in.launching = 2;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
}

static void test_scale_in_after_cooldown(void **state)
{
	(void)state;
	struct scale_state st = { 0 };
	struct scale_decision d;
	struct scale_input in = base_input();
	in.alive = 3;
	in.connections = 1; /* 16.7% < 20% */
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE); /* low, but not for a cool-down yet */
	in.now_ms += 1999;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	in.now_ms += 1;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_IN);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.reason, "< scale-in 20% for 2000 ms"));
	/* One draining: wait for it before another. */
	in.alive = 2;
	in.draining = 1;
	in.now_ms += 5000;
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	/* Never below minLimit. */
	in.alive = 1;
	in.draining = 0;
	in.connections = 0;
	in.now_ms += 5000;
	autoscale_decide(&in, &st, &d);
	autoscale_decide(&in, &st, &d);
	assert_int_equal(d.action, SCALE_NONE);
	/* No flapping: a drain that would push the rest over scale-out is not made. */
	struct scale_state st2 = { 0 };
	struct scale_input f = base_input();
	f.th.in_pct = 50;
	f.alive = 2;
	f.connections = 1;  /* 25% now; 50% on one node: under 60%, allowed */
	autoscale_decide(&f, &st2, &d);
	f.now_ms += 3000;
	autoscale_decide(&f, &st2, &d);
	assert_int_equal(d.action, SCALE_IN);
	f.th.out_pct = 40;  /* now the one left would be at 50% > 40% */
	f.th.in_pct = 30;
	struct scale_state st3 = { 0 };
	autoscale_decide(&f, &st3, &d);
	f.now_ms += 3000;
	autoscale_decide(&f, &st3, &d);
	assert_int_equal(d.action, SCALE_NONE);
}

static void test_pick_drain(void **state)
{
	(void)state;
	struct route_node n[] = {
		nd("e1", MROLE_EDGE, NS_ALIVE, 3, 4, 0, NULL),
		nd("e2", MROLE_EDGE, NS_ALIVE, 1, 4, 0, NULL),
		nd("e3", MROLE_EDGE, NS_DRAINING, 0, 4, 0, NULL),
		nd("o1", MROLE_ORIGIN, NS_ALIVE, 0, 4, 0, NULL),
	};
	assert_int_equal(autoscale_pick_drain(n, 4, MROLE_EDGE, NULL), 1);
	int pubs[] = { 0, 1, 0, 0 };
	assert_int_equal(autoscale_pick_drain(n, 4, MROLE_EDGE, pubs), 0);
	assert_int_equal(autoscale_pick_drain(n, 2, MROLE_RELAY, NULL), -1);
}

/* Reservations expire, settle oldest first, count per caller, and stay bounded. */
static void test_route_pending(void **state)
{
	(void)state;
	static struct route_pending p;
	memset(&p, 0, sizeof(p));
	route_pending_add(&p, 1000, "10.0.0.1");
	route_pending_add(&p, 1500, "10.0.0.2");
	route_pending_add(&p, 2000, "10.0.0.1");
	assert_int_equal(p.n, 3);
	assert_int_equal(route_pending_count(&p, "10.0.0.1"), 2);
	assert_int_equal(route_pending_count(&p, "10.0.0.3"), 0);
	/* The node reports one new client: the oldest reservation is settled. */
	route_pending_settle(&p, 2100, 1);
	assert_int_equal(p.n, 2);
	assert_int_equal(route_pending_count(&p, "10.0.0.1"), 1);
	assert_string_equal(p.by[0], "10.0.0.2");
	/* ROUTE_PENDING_MS after it was made, a reservation lapses. */
	route_pending_settle(&p, 1500 + ROUTE_PENDING_MS + 1, 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.by[0], "10.0.0.1");
	/* Full: the oldest is replaced. */
	for (int i = 0; i < ROUTE_PENDING_MAX + 5; i++)
		route_pending_add(&p, 3000 + (uint64_t)i, "10.0.0.9");
	assert_int_equal(p.n, ROUTE_PENDING_MAX);
	assert_int_equal(route_pending_count(&p, "10.0.0.9"), ROUTE_PENDING_MAX);
	assert_true(p.ms[0] == 3005);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_subscribe),
		cmocka_unit_test(test_scale_out_steps),
		cmocka_unit_test(test_scale_out_on_cpu),
		cmocka_unit_test(test_overloaded_nodes_skipped),
		cmocka_unit_test(test_min_limit),
		cmocka_unit_test(test_scale_in_after_cooldown),
		cmocka_unit_test(test_pick_drain),
		cmocka_unit_test(test_route_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
