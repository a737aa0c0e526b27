/*
 * test_manager_reply.c - the node's reading of the stream manager's answers:
 * status, state, origins, stream hints (bad ones dropped), drain, error
 * messages; what is not a response.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/manager_reply.h"

static int parse(const char *text, struct manager_reply *r)
{
	return manager_reply_parse(text, strlen(text), r);
}

static void test_heartbeat_answer(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
	                       "{\"state\":\"alive\",\"drain\":false,\"origins\":\"10.0.0.1:1935,"
	                       "10.0.0.2:1936\",\"streamOrigins\":{\"live/a\":\"10.0.0.2:1936\","
	                       "\"live/b\":\"10.0.0.1\"}}", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.state, "alive");
	assert_string_equal(r.origins, "10.0.0.1:1935,10.0.0.2:1936");
	assert_int_equal(r.drain, 0);
	assert_non_null(r.hints);
	assert_int_equal(json_object_size(r.hints), 2);
	assert_string_equal(json_string_value(json_object_get(r.hints, "live/a")), "10.0.0.2:1936");
	manager_reply_free(&r);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n{\"state\":\"draining\",\"drain\":true}", &r),
	                 0);
	assert_int_equal(r.drain, 1);
	assert_null(r.hints);
	assert_string_equal(r.origins, "");
	manager_reply_free(&r);
}

static void test_bad_fields_are_left_out(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n{\"origins\":7,\"state\":[],\"drain\":\"yes\","
	                       "\"streamOrigins\":{\"a/b\":\"h:0\",\"/c\":\"h:1\",\"d/\":\"h:1\","
	                       "\"e/f/g\":\"h:1\",\"n/m\":5,\"ok/s\":\"h:99999\",\"good/one\":\"h:2\"}}",
	                       &r), 0);
	assert_string_equal(r.origins, "");
	assert_string_equal(r.state, "");
	assert_int_equal(r.drain, 0);
	assert_non_null(r.hints);
	assert_int_equal(json_object_size(r.hints), 1);
	assert_non_null(json_object_get(r.hints, "good/one"));
	manager_reply_free(&r);
	/* Not JSON, or JSON but not an object: a status and nothing else. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n[1,2]", &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(r.hints);
	manager_reply_free(&r);
}

static void test_errors_and_garbage(void **state)
{
	(void)state;
	struct manager_reply r;
	assert_int_equal(parse("HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":\"replayed request\"}",
	                       &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.error, "replayed request");
	manager_reply_free(&r);
	const char *bad[] = { "", "HTTP/1.1", "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
	                      "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 600 x\r\n\r\n",
	                      "http/1.1 200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_answer),
		cmocka_unit_test(test_bad_fields_are_left_out),
		cmocka_unit_test(test_errors_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
