/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_k8s_json.c - libFuzzer target for the Kubernetes answers the
 * kubernetes controller reads (manager/cloud_json.c): a PodList page, a
 * created Pod's IP and a Status.
 *
 * Invariants: nothing is read outside the input; a list never returns more
 * pods than it was allowed items, each with a node id and a name, every field
 * NUL-terminated within its array; the continue token fits its buffer; a
 * status message is one safe line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/cloud_json.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct ctl_instance *v = NULL;
	char next[64];
	int n = k8s_parse_pod_list(body, size, 8, &v, next, sizeof(next));
	CHECK(n >= -1 && n <= 8);
	CHECK(n >= 0 || v == NULL);
	CHECK(strlen(next) < sizeof(next));
	for (int i = 0; i < n; i++) {
		CHECK(v[i].id[0] && v[i].instance[0]);
		CHECK(strlen(v[i].id) < sizeof(v[i].id) && strlen(v[i].host) < sizeof(v[i].host));
	}
	free(v);
	char ip[16];
	k8s_parse_pod_ip(body, size, ip, sizeof(ip));
	CHECK(strlen(ip) < sizeof(ip));
	char msg[128];
	k8s_parse_status(body, size, msg, sizeof(msg));
	CHECK(msg[0] && strlen(msg) < sizeof(msg));
	for (const char *p = msg; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\');
	return 0;
}
