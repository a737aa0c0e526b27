/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_gcp_json.c - libFuzzer target for the Compute Engine answers the gcp
 * controller reads (manager/cloud_json.c): an InstanceList page and an
 * error object.
 *
 * Invariants: nothing is read outside the input; a list never returns more
 * instances than it was allowed items, each with a node id and a name, every
 * field NUL-terminated within its array; the page token fits its buffer; an
 * error message is one safe line (no control bytes, quotes or backslashes).
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
	int n = gcp_parse_instance_list(body, size, 8, &v, next, sizeof(next));
	CHECK(n >= -1 && n <= 8);
	CHECK(n >= 0 || v == NULL);
	CHECK(strlen(next) < sizeof(next));
	for (int i = 0; i < n; i++) {
		CHECK(v[i].id[0] && v[i].instance[0]);
		CHECK(strlen(v[i].id) < sizeof(v[i].id) && strlen(v[i].host) < sizeof(v[i].host));
	}
	free(v);
	char msg[128], reason[32];
	gcp_parse_error(body, size, msg, sizeof(msg), reason, sizeof(reason));
	CHECK(msg[0] && strlen(msg) < sizeof(msg) && strlen(reason) < sizeof(reason));
	for (const char *p = msg; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\');
	return 0;
}
