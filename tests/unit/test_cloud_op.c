/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cloud_op.c - a cloud controller's calls (manager/cloud_op.c) with a
 * fake cloud: a call starts on the next loop turn, a failed try is tried
 * again with an event and then fails as the manager expects, calls wait for
 * one credentials fetch, a list gathers its pages up to its bound, and
 * closing drops what is in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "manager/cloud_op.h"

/* What the fake cloud does with a send. */
enum plan { P_OK, P_FAIL_ONCE, P_FAIL_ALWAYS, P_NEED_CREDS, P_PAGES, P_NOT_A_PAGE };

static struct {
	struct controller base;   /* first: the ops find the fake from it */
	struct cloud_ops calls;
	enum plan plan;
	int sends, fetches, have_creds, pages_to_serve;
	int launched, launch_rc, listed, list_rc, events;
	size_t nlisted;
	char last_event[1000], last_err[1000];
} f;

static void on_launched(struct controller *c, const char *id, int rc,
                        const struct node_place *place, const char *err)
{
	(void)c;
	(void)id;
	f.launched++;
	f.launch_rc = rc;
	if (rc == 0)
		assert_int_equal(place->rtmp_port, 1935);
	snprintf(f.last_err, sizeof(f.last_err), "%s", err ? err : "");
}

static void on_listed(struct controller *c, int rc, const struct ctl_instance *v, size_t n,
                      const char *err)
{
	(void)c;
	f.listed++;
	f.list_rc = rc;
	f.nlisted = n;
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].id, i == 0 ? "n0" : i == 1 ? "n1" : v[i].id);
	snprintf(f.last_err, sizeof(f.last_err), "%s", err ? err : "");
}

static void on_event(struct controller *c, const char *kind, const char *node, const char *msg)
{
	(void)c;
	(void)node;
	f.events++;
	snprintf(f.last_event, sizeof(f.last_event), "%s %s", kind, msg);
}

static char next_asked[16];

static void set_next_page(struct cloud_op *op, const char *token)
{
	(void)op;
	snprintf(next_asked, sizeof(next_asked), "%s", token);
}

static void fake_send(struct cloud_op *op)
{
	f.sends++;
	if (f.plan == P_NEED_CREDS && !f.have_creds) {
		if (cloud_op_wait(op))
			f.fetches++;
		return;
	}
	if (f.plan == P_PAGES) {
		struct ctl_instance *one = calloc(1, sizeof(*one));
		snprintf(one->id, sizeof(one->id), "n%u", op->pages);
		char next[16] = "";
		if ((int)op->pages + 1 < f.pages_to_serve)
			snprintf(next, sizeof(next), "p%u", op->pages + 1);
		cloud_op_page(op, 1, one, next, "a page", set_next_page);
		return;
	}
	if (f.plan == P_NOT_A_PAGE) {
		cloud_op_page(op, -1, NULL, "", "a page", set_next_page);
		return;
	}
	if (f.plan == P_FAIL_ALWAYS || (f.plan == P_FAIL_ONCE && f.sends == 1)) {
		if (!cloud_op_retry(op, "HTTP 503: busy"))
			cloud_op_fail(op, "HTTP 503: busy");
		return;
	}
	struct node_place p;
	memset(&p, 0, sizeof(p));
	if (op->kind == CLOUD_LAUNCH)
		cloud_op_launched(op, &p);
	else
		cloud_op_done(op);
}

static const struct cloud_api fake_api = {
	.what = "Fake",
	.log_failed = "fake_call_failed",
	.log_abandoned = "fake_call_abandoned",
	.kind_names = { "Make", "Unmake", "Enumerate" },
	.send = fake_send,
};

static uv_loop_t loop;

static void setup_fake(enum plan plan, unsigned retries)
{
	memset(&f, 0, sizeof(f));
	f.plan = plan;
	f.base.launched = on_launched;
	f.base.listed = on_listed;
	f.base.event = on_event;
	ctl_seen_init(&f.base);
	uv_loop_init(&loop);
	cloud_ops_init(&f.calls, &f.base, &loop, &fake_api, retries);
}

static void teardown_fake(void)
{
	cloud_ops_close(&f.calls);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);   /* every op's timer closed, op freed */
	ctl_seen_free(&f.base);
}

static struct cloud_op *launch(const char *id)
{
	struct cloud_op *op = cloud_op_new(&f.calls, CLOUD_LAUNCH, id);
	op->rtmp_port = 1935;
	cloud_op_start(op);
	return op;
}

static void test_start_next_turn(void **state)
{
	(void)state;
	setup_fake(P_OK, 3);
	launch("n0");
	assert_int_equal(f.sends, 0);           /* never inside the call that made it */
	assert_true(cloud_ops_busy(&f.calls));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.launched, 1);
	assert_int_equal(f.launch_rc, 0);
	assert_false(cloud_ops_busy(&f.calls));
	teardown_fake();
}

static void test_retry_then_fail(void **state)
{
	(void)state;
	setup_fake(P_FAIL_ONCE, 3);
	launch("n0");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.sends, 2);
	assert_int_equal(f.launched, 1);
	assert_int_equal(f.launch_rc, 0);
	assert_non_null(strstr(f.last_event, "cloud_retry Fake Make for n0: HTTP 503: busy; try 2 "
	                                     "of 4 in "));
	teardown_fake();

	setup_fake(P_FAIL_ALWAYS, 1);
	launch("n1");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.sends, 2);           /* one try and one retry */
	assert_int_equal(f.events, 1);
	assert_int_equal(f.launched, 1);
	assert_int_equal(f.launch_rc, SL_EIO);
	assert_string_equal(f.last_err, "Fake Make: HTTP 503: busy");
	/* A terminate that fails is an event, not a launch result. */
	cloud_op_start(cloud_op_new(&f.calls, CLOUD_TERMINATE, "n1"));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_non_null(strstr(f.last_event, "terminate_failed Fake Unmake: HTTP 503: busy"));
	teardown_fake();
}

static void test_wait_for_credentials(void **state)
{
	(void)state;
	setup_fake(P_NEED_CREDS, 3);
	launch("n0");
	launch("n1");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.fetches, 1);         /* one fetch for both */
	assert_true(cloud_ops_busy(&f.calls));  /* parked calls count */
	f.have_creds = 1;
	cloud_ops_creds_done(&f.calls, NULL);
	assert_int_equal(f.launched, 2);
	/* A fetch that fails fails the calls waiting for it, with its reason. */
	f.have_creds = 0;
	launch("n2");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.fetches, 2);
	cloud_ops_creds_done(&f.calls, "no credentials: refused");
	assert_int_equal(f.launched, 3);
	assert_int_equal(f.launch_rc, SL_EIO);
	assert_string_equal(f.last_err, "Fake Make: no credentials: refused");
	assert_false(cloud_ops_busy(&f.calls));
	teardown_fake();
}

static void test_list_pages(void **state)
{
	(void)state;
	setup_fake(P_PAGES, 3);
	f.pages_to_serve = 3;
	ctl_seen_list_started(&f.base);
	cloud_op_start(cloud_op_new(&f.calls, CLOUD_LIST, NULL));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.listed, 1);
	assert_int_equal(f.list_rc, 0);
	assert_int_equal(f.nlisted, 3);          /* every page's instance */
	assert_int_equal(ctl_seen_running(&f.base, "n2"), 1);
	assert_int_equal(ctl_seen_running(&f.base, "gone"), 0);
	/* A cloud that pages on and on: the list fails at the bound, never cut short. */
	f.pages_to_serve = 1000;
	cloud_op_start(cloud_op_new(&f.calls, CLOUD_LIST, NULL));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.listed, 2);
	assert_int_equal(f.list_rc, SL_EIO);
	assert_string_equal(f.last_err, "Fake Enumerate: more than 20 pages of a page");
	assert_int_equal(f.sends, 3 + CLOUD_LIST_PAGES_MAX);
	assert_string_equal(next_asked, "p19");
	/* An answer that is not a page fails the list with what it should have been. */
	cloud_op_start(cloud_op_new(&f.calls, CLOUD_LIST, NULL));
	f.plan = P_NOT_A_PAGE;
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.list_rc, SL_EIO);
	assert_string_equal(f.last_err, "Fake Enumerate: the answer is not a page");
	teardown_fake();
}

static void test_close_drops_calls(void **state)
{
	(void)state;
	setup_fake(P_FAIL_ALWAYS, 5);
	launch("n0");                            /* in its backoff when closed */
	uv_run(&loop, UV_RUN_NOWAIT);
	launch("n1");                            /* not even sent */
	assert_true(cloud_ops_busy(&f.calls));
	cloud_ops_close(&f.calls);
	assert_false(cloud_ops_busy(&f.calls));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(f.launched, 0);         /* no callback after close */
	teardown_fake();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_next_turn),
		cmocka_unit_test(test_retry_then_fail),
		cmocka_unit_test(test_wait_for_credentials),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_close_drops_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
