/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_aws_ec2.c - libFuzzer target for the EC2 answers the aws controller
 * reads (manager/aws_ec2.c): error Code/Message, RunInstances,
 * DescribeInstances and its nextToken.
 *
 * Invariants: nothing is read outside the input, every field is
 * NUL-terminated within its array, a describe never returns more than the
 * room it was given, and an instance it returns has an id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/aws_ec2.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	char code[64], msg[256];
	if (ec2_parse_error(xml, size, code, sizeof(code), msg, sizeof(msg)) == 0)
		CHECK(code[0]);
	CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
	struct ec2_instance one;
	if (ec2_parse_run(xml, size, &one) == 0)
		CHECK(one.instance_id[0] && strlen(one.private_ip) < sizeof(one.private_ip) &&
		      strlen(one.node) < sizeof(one.node) && strlen(one.state) < sizeof(one.state));
	struct ec2_instance v[4];
	int n = ec2_parse_describe(xml, size, v, 4);
	CHECK(n >= -1 && n <= 4);
	for (int i = 0; i < n; i++)
		CHECK(v[i].instance_id[0] && strlen(v[i].instance_id) < sizeof(v[i].instance_id));
	char tok[32];
	if (ec2_parse_next_token(xml, size, tok, sizeof(tok)) == 0)
		CHECK(strlen(tok) < sizeof(tok));
	return 0;
}
