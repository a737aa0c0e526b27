/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_ec2.h - the EC2 Query API's bytes (pure: no I/O): form bodies for
 * RunInstances / TerminateInstances / DescribeInstances, and parsers of the
 * XML answers (the instance a launch made, the instances a describe lists,
 * an error's Code and Message).  The parsers look for the documented
 * elements only, bound every copy, and refuse what does not fit; fuzzed
 * (fuzz/fuzz_aws_ec2.c).
 */
#ifndef SLUICE_MANAGER_AWS_EC2_H
#define SLUICE_MANAGER_AWS_EC2_H

#include <stddef.h>

#define EC2_API_VERSION "2016-11-15"
#define EC2_TAG_NODE "sluice:node"
#define EC2_TAG_CLUSTER "sluice:cluster"

/* A form body being built: "Action=...&Version=...&K=V...". */
struct ec2_form {
	char *p;
	size_t len, cap;
};
void ec2_form_init(struct ec2_form *f, const char *action);
/* Adds KEY=VALUE, both encoded the way SigV4 expects. */
void ec2_form_add(struct ec2_form *f, const char *key, const char *value);
void ec2_form_free(struct ec2_form *f);

struct ec2_instance {
	char instance_id[32];
	char private_ip[48];
	char state[24];            /* pending, running, shutting-down, terminated, ... */
	char node[80];             /* the sluice:node tag */
};

/* An error answer's first Code and Message (both "" if absent); 0 if it has a Code. */
int ec2_parse_error(const char *xml, size_t len, char *code, size_t code_size, char *msg,
                    size_t msg_size);
/* RunInstances: the first instance; 0, or -1 if there is none. */
int ec2_parse_run(const char *xml, size_t len, struct ec2_instance *out);
/* DescribeInstances: up to max instances into out; returns how many (or -1 if the answer
 * is not a DescribeInstancesResponse). */
int ec2_parse_describe(const char *xml, size_t len, struct ec2_instance *out, size_t max);
/* DescribeInstances: the nextToken of a page that has more after it into out ("" on the
 * last page); 0, or -1 if it does not fit. */
int ec2_parse_next_token(const char *xml, size_t len, char *out, size_t out_size);

#endif
