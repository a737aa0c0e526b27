/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cloud_json.c - libFuzzer target for the JSON answers the gcp and
 * kubernetes controllers read (manager/cloud_json.c): a Compute Engine
 * InstanceList page and error, a Kubernetes PodList page, a created Pod's
 * IP and a Status.  Every input goes to each of them.
 *
 * Invariants: nothing is read outside the input; a list never returns more
 * instances than it was allowed items, each with a node id and a name, every
 * field NUL-terminated within its array; a page token fits its buffer; an
 * error or status message is one non-empty safe line (no control bytes,
 * quotes or backslashes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/cloud_json.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(int n, struct ctl_instance *v, const char *next, size_t next_size)
{
	CHECK(n >= -1 && n <= 8);
	CHECK(n >= 0 || v == NULL);
	CHECK(strlen(next) < next_size);
	for (int i = 0; i < n; i++) {
		CHECK(v[i].id[0] && v[i].instance[0]);
		CHECK(strlen(v[i].id) < sizeof(v[i].id) && strlen(v[i].host) < sizeof(v[i].host));
	}
	free(v);
}

static void check_line(const char *msg, size_t size)
{
	CHECK(msg[0] && strlen(msg) < size);
	for (const char *p = msg; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct ctl_instance *v = NULL;
	char next[64], msg[128], reason[32], ip[16];
	int n = gcp_parse_instance_list(body, size, 8, &v, next, sizeof(next));
	check_list(n, v, next, sizeof(next));
	n = k8s_parse_pod_list(body, size, 8, &v, next, sizeof(next));
	check_list(n, v, next, sizeof(next));
	gcp_parse_error(body, size, msg, sizeof(msg), reason, sizeof(reason));
	check_line(msg, sizeof(msg));
	CHECK(strlen(reason) < sizeof(reason));
	k8s_parse_status(body, size, msg, sizeof(msg));
	check_line(msg, sizeof(msg));
	k8s_parse_pod_ip(body, size, ip, sizeof(ip));
	CHECK(strlen(ip) < sizeof(ip));
	return 0;
}
