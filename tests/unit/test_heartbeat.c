/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_heartbeat.c - a node's report to the manager: what the node builds
 * is what the manager parses back; refusals name the field; bounds hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/heartbeat.h"

static void test_parse(void **state)
{
	(void)state;
	const char *body = "{\"id\":\"edge-1\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"127.0.1.3\","
	                   "\"rtmpPort\":1935,\"httpPort\":\"5080\",\"connections\":4,\"publishers\":0,"
	                   "\"viewers\":3,\"cpuPercent\":1.5,\"streams\":[{\"app\":\"live\","
	                   "\"name\":\"demo\",\"publishing\":false,\"viewers\":3}]}";
	struct node_report r;
	char err[256];
	assert_int_equal(node_report_parse(body, strlen(body), &r, err, sizeof(err)), 0);
	assert_int_equal(r.viewers, 3);
	assert_int_equal(r.http_port, 5080);
	assert_int_equal(r.nstreams, 1);
	assert_string_equal(r.streams[0].name, "demo");
	assert_false(r.streams[0].publishing);
	node_report_free(&r);
}

static void test_build_then_parse(void **state)
{
	(void)state;
	struct report_stream st[2] = {
		{ .app = "live", .name = "a", .publishing = 1, .viewers = 0 },
		{ .app = "live", .name = "b", .publishing = 0, .viewers = 7, .nprotocols = 2,
		  .protocols = { { "rtmp", 5 }, { "hls", 2 } } },
	};
	struct node_report r = {
		.id = "origin-1", .group = "g1", .role = "origin", .host = "10.0.0.5",
		.rtmp_port = 1935, .http_port = 5080, .srt_port = 9710, .rtsp_port = 8554,
		.rtmps_port = 1936, .https_port = 5443,
		.connections = 9, .publishers = 1,
		.viewers = 7, .bw_in_bps = 123, .bw_out_bps = 456, .cpu_percent = 2.5,
		.rss_bytes = 1 << 20, .nstreams = 2, .streams = st,
	};
	char *s = node_report_build(&r);
	assert_non_null(s);
	struct node_report back;
	char err[256];
	assert_int_equal(node_report_parse(s, strlen(s), &back, err, sizeof(err)), 0);
	assert_string_equal(back.id, "origin-1");
	assert_string_equal(back.host, "10.0.0.5");
	assert_int_equal(back.bw_out_bps, 456);
	assert_int_equal(back.srt_port, 9710);
	assert_int_equal(back.rtsp_port, 8554);
	assert_int_equal(back.rtmps_port, 1936);
	assert_int_equal(back.https_port, 5443);
	assert_int_equal(back.nstreams, 2);
	assert_memory_equal(&back.streams[1], &st[1], sizeof(st[1]));
	assert_true(back.cpu_percent == 2.5);
	node_report_free(&back);
	free(s);
	/* A node without SRT sends no srtPort, and a report without one parses as 0. */
	r.srt_port = 0;
	r.rtsp_port = 0;
	s = node_report_build(&r);
	assert_null(strstr(s, "srtPort"));
	assert_null(strstr(s, "rtspPort"));
	r.rtmps_port = r.https_port = 0;
	free(s);
	s = node_report_build(&r);
	assert_null(strstr(s, "rtmpsPort"));
	assert_null(strstr(s, "httpsPort"));
	assert_int_equal(node_report_parse(s, strlen(s), &back, err, sizeof(err)), 0);
	assert_int_equal(back.srt_port, 0);
	node_report_free(&back);
	free(s);
}

static void test_refusals(void **state)
{
	(void)state;
	struct node_report r;
	char err[256];
	const struct { const char *body, *field; } bad[] = {
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":70000,"
		  "\"httpPort\":5080}", "rtmpPort" },
		{ "{\"id\":\"../x\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1}", "id" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"boss\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1}", "role" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1,\"cpuPercent\":-1}", "cpuPercent" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1,\"streams\":[{\"app\":\"\",\"name\":\"x\"}]}", "streams[0]" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1,\"streams\":[{\"app\":\"a\",\"name\":\"x\",\"protocols\":"
		  "{\"RTMP\":1}}]}", "streams[0].protocols" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1,\"streams\":[{\"app\":\"a\",\"name\":\"x\",\"protocols\":"
		  "{\"hls\":-1}}]}", "streams[0].protocols.hls" },
		{ "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\",\"host\":\"h\",\"rtmpPort\":1,"
		  "\"httpPort\":1,\"streams\":[{\"app\":\"a\",\"name\":\"x\",\"protocols\":"
		  "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1}}]}",
		  "at most 8" },
		{ "[1]", "object" },
		{ "{\"id\":", "malformed" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(node_report_parse(bad[i].body, strlen(bad[i].body), &r, err,
		                                       sizeof(err)), 0);
		assert_non_null(strstr(err, bad[i].field));
		assert_null(r.streams);
	}
}

static void test_streams_bounded(void **state)
{
	(void)state;
	size_t cap = 64 + 40 * (HEARTBEAT_MAX_STREAMS + 10);
	char *body = malloc(cap);
	size_t n = (size_t)snprintf(body, cap, "{\"id\":\"e\",\"group\":\"g\",\"role\":\"edge\","
	                            "\"host\":\"h\",\"rtmpPort\":1,\"httpPort\":1,\"streams\":[");
	for (int i = 0; i < HEARTBEAT_MAX_STREAMS + 10; i++)
		n += (size_t)snprintf(body + n, cap - n, "%s{\"app\":\"a\",\"name\":\"s%d\"}",
		                      i ? "," : "", i);
	n += (size_t)snprintf(body + n, cap - n, "]}");
	struct node_report r;
	char err[256];
	assert_int_equal(node_report_parse(body, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nstreams, HEARTBEAT_MAX_STREAMS);
	node_report_free(&r);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_build_then_parse),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_streams_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
