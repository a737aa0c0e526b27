/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_manager_reply.c - libFuzzer target for the stream manager's answers
 * to a node's registration and heartbeats (raw HTTP/1.1 responses; the
 * signature is read here, checked by manager_reply_verify).
 *
 * Invariants: only 0 or -1; on 0 a status of 100..599; strings fit and are
 * terminated; hints, when kept, are at most MANAGER_REPLY_HINTS_MAX entries
 * of "app/stream" -> host[:port] strings; and nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/manager_reply.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manager_reply r;
	int rc = manager_reply_parse((const char *)data, size, &r);
	CHECK(rc == 0 || rc == -1);
	if (rc < 0)
		return 0;
	CHECK(r.status >= 100 && r.status <= 599);
	CHECK(memchr(r.state, '\0', sizeof(r.state)) && memchr(r.origins, '\0', sizeof(r.origins)) &&
	      memchr(r.error, '\0', sizeof(r.error)));
	CHECK(r.drain == 0 || r.drain == 1);
	/* The signature and nonce are kept only when well formed; the body is inside the input
	 * (what manager_reply_verify signs over), and verifying never accepts a forged answer
	 * without the key. */
	CHECK(!r.sig[0] || strlen(r.sig) == NODE_SIGN_HEX - 1);
	CHECK(!r.nonce[0] || node_nonce_valid(r.nonce));
	CHECK(r.body_off + r.body_len == size);
	CHECK(!manager_reply_verify((const char *)data, size, &r, "fuzz-key-not-in-corpus", ""));
	if (r.hints) {
		CHECK(r.status == 200 && json_is_object(r.hints));
		CHECK(json_object_size(r.hints) >= 1 &&
		      json_object_size(r.hints) <= MANAGER_REPLY_HINTS_MAX);
		const char *key;
		json_t *v;
		json_object_foreach(r.hints, key, v) {
			CHECK(json_is_string(v) && strchr(key, '/'));
		}
	}
	manager_reply_free(&r);
	return 0;
}
