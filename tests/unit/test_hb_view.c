/* SPDX-License-Identifier: Apache-2.0 */
/* test_hb_view.c - what a heartbeat answer tells an edge about its group (hb_view.h): the
 * group's origins that are not dead, in list order, and where its streams are published
 * (alive or draining origins only), each group apart; node lookup by id through the index;
 * a view is rebuilt only when it is HB_VIEW_MS old. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/mem.h"
#include "manager/hb_view.h"
#include "manager/manager.h"

static struct mnode *add(struct manager *m, const char *id, const char *group, enum mrole role,
                         enum node_state st, const char *host, const char *stream)
{
	struct mnode *nd = xcalloc(1, sizeof(*nd));
	snprintf(nd->id, sizeof(nd->id), "%s", id);
	snprintf(nd->group, sizeof(nd->group), "%s", group);
	snprintf(nd->place.host, sizeof(nd->place.host), "%s", host);
	nd->place.rtmp_port = 1935;
	nd->role = role;
	nd->state = st;
	if (stream) {
		nd->rep.streams = xcalloc(1, sizeof(*nd->rep.streams));
		snprintf(nd->rep.streams[0].app, sizeof(nd->rep.streams[0].app), "live");
		snprintf(nd->rep.streams[0].name, sizeof(nd->rep.streams[0].name), "%s", stream);
		nd->rep.streams[0].publishing = 1;
		nd->rep.nstreams = 1;
	}
	mgr_node_link(m, nd);
	return nd;
}

static void setup(struct manager *m)
{
	memset(m, 0, sizeof(*m));
	list_init(&m->nodes);
	strmap_init(&m->node_index);
	strmap_init(&m->hb_views);
}

static void teardown(struct manager *m)
{
	while (!list_empty(&m->nodes)) {
		struct mnode *nd = list_entry(m->nodes.next, struct mnode, link);
		mgr_node_unlink(m, nd);
		node_report_free(&nd->rep);
		free(nd);
	}
	strmap_free(&m->node_index);
	hb_view_free(m);
}

static void test_origins_and_hints_per_group(void **state)
{
	(void)state;
	struct manager m;
	setup(&m);
	add(&m, "o1", "g1", MROLE_ORIGIN, NS_ALIVE, "10.0.0.1", "a");
	add(&m, "e1", "g1", MROLE_EDGE, NS_ALIVE, "10.0.0.2", "x");      /* an edge: neither */
	add(&m, "o2", "g1", MROLE_ORIGIN, NS_STARTING, "10.0.0.3", "b"); /* listed, no hints */
	add(&m, "o3", "g1", MROLE_ORIGIN, NS_DEAD, "10.0.0.4", "c");     /* left out */
	add(&m, "o4", "g1", MROLE_ORIGIN, NS_DRAINING, "10.0.0.5", "d");
	add(&m, "p1", "g2", MROLE_ORIGIN, NS_ALIVE, "10.0.1.1", "z");
	const struct hb_view *v = hb_view_get(&m, "g1");
	assert_string_equal(v->origins, "10.0.0.1:1935,10.0.0.3:1935,10.0.0.5:1935");
	assert_int_equal(json_object_size(v->hints), 2);
	assert_string_equal(json_string_value(json_object_get(v->hints, "live/a")),
	                    "10.0.0.1:1935");
	assert_string_equal(json_string_value(json_object_get(v->hints, "live/d")),
	                    "10.0.0.5:1935");
	v = hb_view_get(&m, "g2");
	assert_string_equal(v->origins, "10.0.1.1:1935");
	assert_int_equal(json_object_size(v->hints), 1);
	/* A group with no origin (or none at all) gets an empty view. */
	v = hb_view_get(&m, "nothing");
	assert_string_equal(v->origins, "");
	assert_int_equal(json_object_size(v->hints), 0);
	teardown(&m);
}

static void test_index_and_rebuild_after_ttl(void **state)
{
	(void)state;
	struct manager m;
	setup(&m);
	struct mnode *o1 = add(&m, "o1", "g1", MROLE_ORIGIN, NS_ALIVE, "10.0.0.1", NULL);
	assert_ptr_equal(mgr_node_find(&m, "o1"), o1);
	assert_null(mgr_node_find(&m, "o2"));
	assert_string_equal(hb_view_get(&m, "g1")->origins, "10.0.0.1:1935");
	/* A change within HB_VIEW_MS is not seen yet; after it, it is. */
	struct mnode *o2 = add(&m, "o2", "g1", MROLE_ORIGIN, NS_ALIVE, "10.0.0.2", NULL);
	assert_ptr_equal(mgr_node_find(&m, "o2"), o2);
	assert_string_equal(hb_view_get(&m, "g1")->origins, "10.0.0.1:1935");
	m.hb_views_ms -= HB_VIEW_MS;
	assert_string_equal(hb_view_get(&m, "g1")->origins, "10.0.0.1:1935,10.0.0.2:1935");
	/* Unlinked: gone from the index too. */
	mgr_node_unlink(&m, o1);
	node_report_free(&o1->rep);
	free(o1);
	assert_null(mgr_node_find(&m, "o1"));
	assert_int_equal(m.nnodes, 1);
	teardown(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origins_and_hints_per_group),
		cmocka_unit_test(test_index_and_rebuild_after_ttl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
