/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_stun.c - libFuzzer target for STUN (proto/stun.c).
 *
 * Invariants: parse never reads past the datagram; on success the username
 * lies inside it and the integrity/fingerprint offsets too; a success built
 * for a parsed mapped address parses back with the same tid.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m, back;
	if (stun_parse(data, size, &m) != 0)
		return 0;
	CHECK(size >= STUN_HEADER_LEN);
	if (m.username)
		CHECK(m.username >= data && m.username + m.username_len <= data + size);
	CHECK(m.integrity_at + (m.integrity_at ? 24 : 0) <= size);
	(void)stun_check_integrity(data, size, &m, "key", 3);
	(void)stun_check_fingerprint(data, size, &m);
	if (m.has_mapped) {
		uint8_t out[256];
		size_t n = stun_build_success(out, sizeof(out), m.tid, (struct sockaddr *)&m.mapped, "k", 1);
		CHECK(n > 0);
		CHECK(stun_parse(out, n, &back) == 0 && memcmp(back.tid, m.tid, STUN_TID_LEN) == 0);
		CHECK(stun_check_integrity(out, n, &back, "k", 1) && stun_check_fingerprint(out, n, &back));
	}
	return 0;
}
