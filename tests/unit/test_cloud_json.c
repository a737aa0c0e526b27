/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cloud_json.c - what the gcp and kubernetes controllers read from
 * their clouds' answers: which instances and pods count as running nodes,
 * the page token, and error messages made safe for a log line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manager/cloud_json.h"

#define S(x) x, strlen(x)

static void test_gcp_list(void **state)
{
	(void)state;
	const char *page =
		"{\"kind\": \"compute#instanceList\", \"items\": ["
		"{\"name\": \"e1\", \"status\": \"RUNNING\", \"labels\": {\"sluice-node\": \"edge-1\"},"
		" \"networkInterfaces\": [{\"networkIP\": \"10.0.0.5\"}]},"
		"{\"name\": \"e2\", \"status\": \"STAGING\", \"labels\": {\"sluice-node\": \"edge-2\"}},"
		"{\"name\": \"o1\", \"status\": \"TERMINATED\", \"labels\": {\"sluice-node\": \"o\"}},"
		"{\"name\": \"x\", \"status\": \"RUNNING\", \"labels\": {}},"
		"{\"name\": \"\", \"status\": \"RUNNING\", \"labels\": {\"sluice-node\": \"e\"}}],"
		" \"nextPageToken\": \"tok-2\"}";
	struct ctl_instance *v;
	char next[32];
	assert_int_equal(gcp_parse_instance_list(S(page), 10, &v, next, sizeof(next)), 2);
	assert_string_equal(v[0].id, "edge-1");
	assert_string_equal(v[0].instance, "e1");
	assert_string_equal(v[0].host, "10.0.0.5");
	assert_string_equal(v[1].id, "edge-2");
	assert_string_equal(v[1].host, "");
	assert_string_equal(next, "tok-2");
	free(v);
	/* The last page: no token; an empty list has no items at all. */
	assert_int_equal(gcp_parse_instance_list(S("{\"kind\": \"compute#instanceList\"}"), 10, &v,
	                                         next, sizeof(next)), 0);
	assert_null(v);
	assert_string_equal(next, "");
	/* Too many items, a token too long, not an object: refused. */
	assert_int_equal(gcp_parse_instance_list(S(page), 3, &v, next, sizeof(next)), -1);
	assert_int_equal(gcp_parse_instance_list(S(page), 10, &v, next, 4), -1);
	assert_int_equal(gcp_parse_instance_list(S("[1]"), 10, &v, next, sizeof(next)), -1);
	assert_int_equal(gcp_parse_instance_list(S("{\"items\": 3}"), 10, &v, next, sizeof(next)),
	                 -1);
}

static void test_gcp_error(void **state)
{
	(void)state;
	char msg[128], reason[32];
	gcp_parse_error(S("{\"error\": {\"code\": 429, \"message\": \"Rate \\\"Limit\\\"\\n\", "
	                  "\"errors\": [{\"reason\": \"rateLimitExceeded\"}]}}"), msg, sizeof(msg),
	                reason, sizeof(reason));
	assert_string_equal(msg, "rateLimitExceeded: Rate ?Limit??");
	assert_string_equal(reason, "rateLimitExceeded");
	gcp_parse_error(S("{\"error\": \"invalid_grant\", \"error_description\": \"bad\"}"), msg,
	                sizeof(msg), reason, sizeof(reason));
	assert_string_equal(msg, "invalid_grant: bad");
	/* Empty fields say nothing (the fuzzer's find: an empty message line). */
	gcp_parse_error(S("{\"error\": \"\"}"), msg, sizeof(msg), reason, sizeof(reason));
	assert_string_equal(msg, "no message");
	gcp_parse_error(S("<html>"), msg, sizeof(msg), reason, sizeof(reason));
	assert_string_equal(msg, "no message");
	assert_string_equal(reason, "");
}

static void test_k8s(void **state)
{
	(void)state;
	const char *list =
		"{\"kind\": \"PodList\", \"items\": ["
		"{\"metadata\": {\"name\": \"p1\", \"labels\": {\"sluice/node\": \"edge-1\"}},"
		" \"status\": {\"phase\": \"Running\", \"podIP\": \"10.1.0.7\"}},"
		"{\"metadata\": {\"name\": \"p2\", \"labels\": {\"sluice/node\": \"edge-2\"},"
		" \"deletionTimestamp\": \"2026-01-01T00:00:00Z\"}},"
		"{\"metadata\": {\"name\": \"p3\", \"labels\": {\"sluice/node\": \"o\"}},"
		" \"status\": {\"phase\": \"Succeeded\"}},"
		"{\"metadata\": {\"name\": \"p4\", \"labels\": {\"sluice/node\": \"edge-4\"}}}],"
		" \"metadata\": {\"continue\": \"c-2\"}}";
	struct ctl_instance *v;
	char next[16];
	assert_int_equal(k8s_parse_pod_list(S(list), 10, &v, next, sizeof(next)), 2);
	assert_string_equal(next, "c-2");
	assert_string_equal(v[0].id, "edge-1");
	assert_string_equal(v[0].host, "10.1.0.7");
	assert_string_equal(v[1].id, "edge-4");      /* pending: no phase, no IP yet */
	assert_string_equal(v[1].instance, "p4");
	free(v);
	assert_int_equal(k8s_parse_pod_list(S(list), 3, &v, next, sizeof(next)), -1);
	assert_int_equal(k8s_parse_pod_list(S(list), 10, &v, next, 3), -1);   /* token too long */
	assert_int_equal(k8s_parse_pod_list(S("{\"kind\": \"Status\"}"), 10, &v, next,
	                                    sizeof(next)), -1);
	assert_int_equal(k8s_parse_pod_list(S("{\"items\": []}"), 10, &v, next, sizeof(next)), 0);
	assert_string_equal(next, "");                 /* the last page */
	char ip[16], msg[64];
	k8s_parse_pod_ip(S("{\"status\": {\"podIP\": \"10.1.0.9\"}}"), ip, sizeof(ip));
	assert_string_equal(ip, "10.1.0.9");
	k8s_parse_pod_ip(S("{\"status\": {\"phase\": \"Pending\"}}"), ip, sizeof(ip));
	assert_string_equal(ip, "");
	k8s_parse_status(S("{\"kind\": \"Status\", \"reason\": \"AlreadyExists\", \"message\": "
	                   "\"pods \\\"e\\\" already exists\"}"), msg, sizeof(msg));
	assert_string_equal(msg, "AlreadyExists: pods ?e? already exists");
	k8s_parse_status(S("{\"reason\": \"\", \"message\": \"\"}"), msg, sizeof(msg));
	assert_string_equal(msg, "no message");
	k8s_parse_status(S(""), msg, sizeof(msg));
	assert_string_equal(msg, "no message");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcp_list),
		cmocka_unit_test(test_gcp_error),
		cmocka_unit_test(test_k8s),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
