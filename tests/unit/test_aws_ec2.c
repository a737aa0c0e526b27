/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_aws_ec2.c - the EC2 Query API's bytes: form bodies encoded the way
 * SigV4 signs them, and the documented XML answers read back (RunInstances,
 * DescribeInstances with our tags, errors), with bounds and entities.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "manager/aws_ec2.h"

static void test_form(void **state)
{
	(void)state;
	struct ec2_form f;
	ec2_form_init(&f, "RunInstances");
	ec2_form_add(&f, "TagSpecification.1.Tag.1.Key", "sluice:node");
	ec2_form_add(&f, "UserData", "IyEv+w==");
	assert_string_equal(f.p, "Action=RunInstances&Version=2016-11-15&"
	                    "TagSpecification.1.Tag.1.Key=sluice%3Anode&UserData=IyEv%2Bw%3D%3D");
	ec2_form_free(&f);
}

static const char RUN[] =
	"<RunInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	"<requestId>r</requestId><reservationId>r-1</reservationId><instancesSet><item>"
	"<instanceId>i-0abc</instanceId><imageId>ami-1</imageId><instanceState><code>0</code>"
	"<name>pending</name></instanceState><privateIpAddress>10.0.0.5</privateIpAddress>"
	"<tagSet><item><key>Name</key><value>x</value></item><item><key>sluice:node</key>"
	"<value>edge-01</value></item></tagSet></item></instancesSet></RunInstancesResponse>";

static void test_run(void **state)
{
	(void)state;
	struct ec2_instance in;
	assert_int_equal(ec2_parse_run(RUN, strlen(RUN), &in), 0);
	assert_string_equal(in.instance_id, "i-0abc");
	assert_string_equal(in.private_ip, "10.0.0.5");
	assert_string_equal(in.state, "pending");
	assert_string_equal(in.node, "edge-01");
	assert_int_equal(ec2_parse_run("<x/>", 4, &in), -1);
	/* Cut in the middle of the id: no instance. */
	assert_int_equal(ec2_parse_run(RUN, 170, &in), -1);
}

static void test_describe(void **state)
{
	(void)state;
	const char *x =
		"<DescribeInstancesResponse><reservationSet><item><instancesSet>"
		"<item><instanceId>i-1</instanceId><privateIpAddress>10.0.0.1</privateIpAddress>"
		"<networkInterfaceSet><item><privateIpAddress>10.0.0.1</privateIpAddress></item>"
		"</networkInterfaceSet><tagSet><item><key>sluice:node</key><value>origin-a</value>"
		"</item></tagSet></item>"
		"<item><instanceId>i-2</instanceId><tagSet><item><key>sluice:node</key>"
		"<value>edge-b</value></item></tagSet></item>"
		"<item><instanceId>i-3</instanceId></item>"
		"</instancesSet></item></reservationSet></DescribeInstancesResponse>";
	struct ec2_instance v[8];
	assert_int_equal(ec2_parse_describe(x, strlen(x), v, 8), 3);
	assert_string_equal(v[0].node, "origin-a");
	assert_string_equal(v[0].private_ip, "10.0.0.1");
	assert_string_equal(v[1].instance_id, "i-2");
	assert_string_equal(v[1].node, "edge-b");
	assert_string_equal(v[1].private_ip, "");
	assert_string_equal(v[2].node, "");
	/* Room for two: two. */
	assert_int_equal(ec2_parse_describe(x, strlen(x), v, 2), 2);
	/* Not a describe answer at all. */
	assert_int_equal(ec2_parse_describe(RUN, strlen(RUN), v, 8), -1);
	/* Pages: the last has no nextToken; one that does not fit is refused. */
	char tok[16];
	assert_int_equal(ec2_parse_next_token(x, strlen(x), tok, sizeof(tok)), 0);
	assert_string_equal(tok, "");
	const char *p = "<DescribeInstancesResponse><reservationSet/><nextToken>a&amp;b"
	                "</nextToken></DescribeInstancesResponse>";
	assert_int_equal(ec2_parse_next_token(p, strlen(p), tok, sizeof(tok)), 0);
	assert_string_equal(tok, "a&b");
	assert_int_equal(ec2_parse_next_token(p, strlen(p), tok, 3), -1);
}

static void test_error(void **state)
{
	(void)state;
	const char *x = "<?xml version=\"1.0\"?><Response><Errors><Error><Code>RequestLimitExceeded"
	                "</Code><Message>Rate &lt;exceeded&gt; &amp; try later</Message></Error>"
	                "</Errors><RequestID>a</RequestID></Response>";
	char code[64], msg[128];
	assert_int_equal(ec2_parse_error(x, strlen(x), code, sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "RequestLimitExceeded");
	assert_string_equal(msg, "Rate <exceeded> & try later");
	/* A code longer than the room: refused, not cut. */
	char small[8];
	assert_int_equal(ec2_parse_error(x, strlen(x), small, sizeof(small), msg, sizeof(msg)), -1);
	assert_int_equal(ec2_parse_error("oops", 4, code, sizeof(code), msg, sizeof(msg)), -1);
	assert_string_equal(code, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
