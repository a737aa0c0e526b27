/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cluster.c - the cluster's pure parts: the challenge-response, the
 * gossiped member table, and events (parsing, signing, targeting, payload).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster/cluster_auth.h"
#include "cluster/cluster_events.h"
#include "cluster/members.h"
#include "cluster/pull_gate.h"
#include "core/err.h"

static void test_proof_round_trip_and_refusals(void **state)
{
	(void)state;
	char sn[CLUSTER_NONCE_HEX + 1], cn[CLUSTER_NONCE_HEX + 1], sn2[CLUSTER_NONCE_HEX + 1];
	cluster_nonce(sn);
	cluster_nonce(cn);
	cluster_nonce(sn2);
	assert_int_equal(strlen(sn), 32);
	assert_string_not_equal(sn, sn2); /* fresh every time */
	char proof[CLUSTER_PROOF_HEX + 1];
	cluster_proof("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1", proof);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1",
	                                     proof), 0);
	/* wrong secret, another nonce (a replay on a new connection), another name, the
	 * other side's proof: all refused */
	assert_int_equal(cluster_proof_check("other-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1",
	                                     proof), SL_EAUTH);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn2, cn, "edge-1",
	                                     proof), SL_EAUTH);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-2",
	                                     proof), SL_EAUTH);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_UPSTREAM, sn, cn, "edge-1",
	                                     proof), SL_EAUTH);
	/* malformed fields */
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, "xyz", "edge-1",
	                                     proof), SL_EINVAL);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1",
	                                     "abc"), SL_EINVAL);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, NULL, "edge-1",
	                                     proof), SL_EINVAL);
	assert_null(strstr(proof, "s3cret"));
}

/* A proof bound to one TLS session's exporter value fails for another session and for a
 * plain link, and a plain proof fails on a TLS one: a relay cannot pass proofs on. */
static void test_proof_bound_to_tls_session(void **state)
{
	(void)state;
	char sn[CLUSTER_NONCE_HEX + 1], cn[CLUSTER_NONCE_HEX + 1];
	cluster_nonce(sn);
	cluster_nonce(cn);
	const char *a = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *b = "2222222222222222222222222222222222222222222222222222222222222222";
	char bound[CLUSTER_PROOF_HEX + 1], plain[CLUSTER_PROOF_HEX + 1];
	cluster_proof_bound("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1", a, bound);
	cluster_proof("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1", plain);
	assert_int_equal(cluster_proof_check_bound("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn,
	                                           "edge-1", a, bound), 0);
	assert_int_equal(cluster_proof_check_bound("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn,
	                                           "edge-1", b, bound), SL_EAUTH);
	assert_int_equal(cluster_proof_check("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn, "edge-1",
	                                     bound), SL_EAUTH);
	assert_int_equal(cluster_proof_check_bound("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn,
	                                           "edge-1", a, plain), SL_EAUTH);
	/* An empty binding is a plain link: the same proof as cluster_proof's. */
	assert_int_equal(cluster_proof_check_bound("s3cret-key", CLUSTER_DOWNSTREAM, sn, cn,
	                                           "edge-1", "", plain), 0);
}

static struct member mk(const char *name, const char *role, int priv, uint64_t beat)
{
	struct member m;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.role, sizeof(m.role), "%s", role);
	snprintf(m.host, sizeof(m.host), "h-%s", name);
	m.rtmp_port = 1935;
	m.http_port = 5080;
	m.private_node = priv;
	m.beat = beat;
	return m;
}

static void test_members_gossip_and_expiry(void **state)
{
	(void)state;
	struct members ms;
	struct member self = mk("o1", "origin", 0, 0);
	members_init(&ms, &self, 5000);
	struct member e1 = mk("e1", "edge", 0, 3);
	assert_int_equal(members_merge(&ms, &e1, 1000), 1);
	assert_int_equal(members_merge(&ms, &e1, 2000), 0);   /* an echo: same beat */
	e1.beat = 2;
	assert_int_equal(members_merge(&ms, &e1, 2000), 0);   /* stale */
	struct member me = mk("o1", "edge", 0, 99);
	assert_int_equal(members_merge(&ms, &me, 2000), 0);   /* never about ourselves */
	assert_int_equal(ms.n, 2);
	/* e1 stops beating: echoes keep arriving but it expires */
	members_expire(&ms, 5900);
	assert_int_equal(ms.n, 2);
	e1.beat = 3;
	members_merge(&ms, &e1, 6000);
	members_expire(&ms, 6100);
	assert_int_equal(ms.n, 1);
	assert_string_equal(ms.m[0].name, "o1");
	/* an echo from a node that has not expired it yet cannot bring it back... */
	assert_int_equal(members_merge(&ms, &e1, 6200), 0);
	assert_int_equal(ms.n, 1);
	/* ...but a beat above the buried one (it restarted) does */
	e1.beat = 4;
	assert_int_equal(members_merge(&ms, &e1, 6300), 1);
	assert_int_equal(ms.n, 2);
	members_expire(&ms, 12000);
	assert_int_equal(ms.n, 1);

	/* the AMF0 form round-trips */
	struct members other;
	struct member oself = mk("e9", "edge", 0, 0);
	members_init(&other, &oself, 5000);
	struct member r = mk("r1", "relay", 1, 5);
	members_merge(&ms, &r, 7000);
	members_beat(&ms, 7000);
	struct bytes amf;
	bytes_init(&amf);
	members_put_amf(&ms, &amf);
	struct amf0_list l;
	assert_int_equal(amf0_decode(amf.data, amf.len, NULL, &l), 0);
	members_merge_amf(&other, amf0_at(&l, 0), 7000);
	amf0_list_free(&l);
	bytes_free(&amf);
	assert_int_equal(other.n, 3);
	const struct member *got = members_find(&other, "r1");
	assert_non_null(got);
	assert_int_equal(got->private_node, 1);
	assert_string_equal(got->host, "h-r1");
	assert_int_equal(members_find(&other, "o1")->beat, 1);
}

static void test_round_robin_public_only(void **state)
{
	(void)state;
	struct members ms;
	struct member self = mk("b-edge", "edge", 0, 0);
	members_init(&ms, &self, 5000);
	struct member a = mk("a-origin", "origin", 0, 1), p = mk("c-origin", "origin", 1, 1),
	              rl = mk("d-relay", "relay", 0, 1);
	members_merge(&ms, &a, 0);
	members_merge(&ms, &p, 0);
	members_merge(&ms, &rl, 0);
	uint64_t rr = 0;
	const char *seen[4];
	for (int i = 0; i < 4; i++)
		seen[i] = members_next_public(&ms, &rr)->name;
	assert_string_equal(seen[0], "a-origin");
	assert_string_equal(seen[1], "b-edge");
	assert_string_equal(seen[2], "a-origin");
	assert_string_equal(seen[3], "b-edge");
}

static void test_event_requests(void **state)
{
	(void)state;
	struct event_msg ev;
	char err[200];
	const char *ok = "{\"target\":\"except\",\"nodes\":[\"e1\",\"e2\"],\"app\":\"live\","
	                 "\"payload\":{\"cue\":\"x\",\"list\":[1,true,null]}}";
	assert_int_equal(event_parse_request(ok, strlen(ok), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.target, "except");
	assert_string_equal(ev.nodes, "e1,e2");
	assert_string_equal(ev.payload, "{\"cue\":\"x\",\"list\":[1,true,null]}");
	assert_false(event_targets(&ev, "edge", "e1"));
	assert_true(event_targets(&ev, "edge", "e3"));
	snprintf(ev.id, sizeof(ev.id), "%s", "00112233445566778899aabbccddeeff");
	snprintf(ev.from, sizeof(ev.from), "o1");
	event_sign("k3y-k3y-k3y", &ev, ev.sig);
	assert_true(event_sig_ok("k3y-k3y-k3y", &ev));
	assert_false(event_sig_ok("another-key", &ev));
	ev.target[0] = 'a'; /* tampered */
	assert_false(event_sig_ok("k3y-k3y-k3y", &ev));
	event_msg_free(&ev);

	static const char *const bad[] = {
		"", "[]", "{\"target\":\"mars\",\"app\":\"live\",\"payload\":1}",
		"{\"target\":\"all\",\"app\":\"../x\",\"payload\":1}",
		"{\"target\":\"node\",\"app\":\"live\",\"payload\":1}",
		"{\"target\":\"all\",\"app\":\"live\"}",
		"{\"target\":\"all\",\"app\":\"live\",\"payload\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(event_parse_request(bad[i], strlen(bad[i]), &ev, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

static void test_event_payload_becomes_amf0(void **state)
{
	(void)state;
	struct event_msg ev;
	char err[200];
	const char *body = "{\"target\":\"all\",\"app\":\"live\",\"payload\":{\"cue\":\"ad\",\"n\":3}}";
	assert_int_equal(event_parse_request(body, strlen(body), &ev, err, sizeof(err)), 0);
	snprintf(ev.id, sizeof(ev.id), "%s", "00112233445566778899aabbccddeeff");
	snprintf(ev.from, sizeof(ev.from), "o1");
	struct bytes out;
	bytes_init(&out);
	assert_int_equal(event_data_body(&ev, &out), 0);
	struct amf0_list l;
	assert_int_equal(amf0_decode(out.data, out.len, NULL, &l), 0);
	assert_string_equal(amf0_str(amf0_at(&l, 0)), "onClusterEvent");
	const struct amf0_value *o = amf0_at(&l, 1);
	assert_string_equal(amf0_str(amf0_get(o, "from")), "o1");
	const struct amf0_value *data = amf0_get(o, "data");
	assert_string_equal(amf0_str(amf0_get(data, "cue")), "ad");
	double d;
	assert_int_equal(amf0_num(amf0_get(data, "n"), &d), 0);
	assert_true(d == 3.0);
	amf0_list_free(&l);
	bytes_free(&out);
	event_msg_free(&ev);
}

/* A name every upstream lacks is held off, twice as long each miss in a row, up to the
 * maximum; found, it is forgotten; long gone, it starts again from the first hold. */
static void test_pull_gate_missing_backoff(void **state)
{
	(void)state;
	struct pull_gate g;
	pull_gate_init(&g, 0, 0, 1000, 4000);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 0), PULL_GATE_OPEN);
	pull_gate_missing(&g, "live", "x", 100);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 1099), PULL_GATE_MISSING);
	assert_int_equal(pull_gate_admit(&g, "live", "y", 0, 1099), PULL_GATE_OPEN);
	assert_int_equal(pull_gate_held(&g, 1099), 1);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 1100), PULL_GATE_OPEN);
	pull_gate_missing(&g, "live", "x", 1200);           /* 2 s */
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 3199), PULL_GATE_MISSING);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 3200), PULL_GATE_OPEN);
	pull_gate_missing(&g, "live", "x", 3300);           /* 4 s */
	pull_gate_missing(&g, "live", "x", 7300);           /* capped at 4 s */
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 11299), PULL_GATE_MISSING);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 11300), PULL_GATE_OPEN);
	assert_int_equal(g.refused[PULL_GATE_MISSING], 3);
	/* long after its hold ended, a miss starts over at 1 s */
	pull_gate_missing(&g, "live", "x", 11300 + 4000 + 10);
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 15310 + 1000), PULL_GATE_OPEN);
	/* found: forgotten at once */
	pull_gate_missing(&g, "live", "x", 20000);
	pull_gate_found(&g, "live", "x");
	assert_int_equal(pull_gate_admit(&g, "live", "x", 0, 20001), PULL_GATE_OPEN);
	pull_gate_free(&g);
}

/* The table of missing names stays bounded under a flood of names. */
static void test_pull_gate_bounded(void **state)
{
	(void)state;
	struct pull_gate g;
	pull_gate_init(&g, 0, 0, 1000, 30000);
	char name[32];
	for (int i = 0; i < 3 * PULL_GATE_MISSES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		pull_gate_missing(&g, "live", name, (uint64_t)i);
		assert_true(g.misses.count <= PULL_GATE_MISSES);
	}
	/* the newest are still held off */
	assert_int_equal(pull_gate_admit(&g, "live", name, 0, 3 * PULL_GATE_MISSES),
	                 PULL_GATE_MISSING);
	pull_gate_free(&g);
}

/* New pulls a second, and pulls at once. */
static void test_pull_gate_rate_and_max(void **state)
{
	(void)state;
	struct pull_gate g;
	pull_gate_init(&g, 3, 10, 1000, 1000);
	unsigned opened = 0;
	char name[32];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		opened += pull_gate_admit(&g, "live", name, 0, 1000) == PULL_GATE_OPEN;
	}
	assert_int_equal(opened, 10);                        /* the bucket */
	assert_int_equal(g.refused[PULL_GATE_RATE], 90);
	assert_int_equal(pull_gate_admit(&g, "live", "a", 0, 1050), PULL_GATE_RATE);
	assert_int_equal(pull_gate_admit(&g, "live", "a", 0, 1100), PULL_GATE_OPEN);
	/* refilled, but three pulls already run */
	assert_int_equal(pull_gate_admit(&g, "live", "b", 3, 5000), PULL_GATE_FULL);
	assert_int_equal(pull_gate_admit(&g, "live", "b", 2, 5000), PULL_GATE_OPEN);
	pull_gate_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proof_round_trip_and_refusals),
		cmocka_unit_test(test_proof_bound_to_tls_session),
		cmocka_unit_test(test_pull_gate_missing_backoff),
		cmocka_unit_test(test_pull_gate_bounded),
		cmocka_unit_test(test_pull_gate_rate_and_max),
		cmocka_unit_test(test_members_gossip_and_expiry),
		cmocka_unit_test(test_round_robin_public_only),
		cmocka_unit_test(test_event_requests),
		cmocka_unit_test(test_event_payload_becomes_amf0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
