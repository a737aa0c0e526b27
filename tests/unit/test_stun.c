/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_stun.c - the RFC 5769 test vectors parse and verify (integrity with
 * the vector's password, fingerprint), a wrong key or a flipped byte fails,
 * and what we build parses back with the peer's address.  The vectors are
 * also the fuzz seeds (fuzz/corpora/stun/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/stun.h"

/* RFC 5769 2.1: sample request. */
static const uint8_t req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: sample IPv4 response. */
static const uint8_t resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void test_rfc5769_request(void **state)
{
	(void)state;
	struct stun_msg m;
	assert_true(stun_is_stun(req, sizeof(req)));
	assert_int_equal(stun_parse(req, sizeof(req), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_int_equal(m.username_len, 9);
	assert_memory_equal(m.username, "evtj:h6vY", 9);
	assert_true(m.has_priority);
	assert_int_equal(m.priority, 0x6e0001ff);
	assert_true(m.ice_controlled);
	assert_true(m.tiebreaker == 0x932ff9b151263b36ull);
	assert_true(stun_check_fingerprint(req, sizeof(req), &m));
	assert_true(stun_check_integrity(req, sizeof(req), &m, pwd, strlen(pwd)));
	assert_false(stun_check_integrity(req, sizeof(req), &m, "wrong", 5));
	uint8_t bad[sizeof(req)];
	memcpy(bad, req, sizeof(req));
	bad[47] ^= 1; /* the priority */
	assert_int_equal(stun_parse(bad, sizeof(bad), &m), 0);
	assert_false(stun_check_integrity(bad, sizeof(bad), &m, pwd, strlen(pwd)));
	assert_false(stun_check_fingerprint(bad, sizeof(bad), &m));
}

static void test_rfc5769_response(void **state)
{
	(void)state;
	struct stun_msg m;
	assert_int_equal(stun_parse(resp4, sizeof(resp4), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(m.has_mapped);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&m.mapped;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 32853);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201); /* 192.0.2.1 */
	assert_true(stun_check_integrity(resp4, sizeof(resp4), &m, pwd, strlen(pwd)));
	assert_true(stun_check_fingerprint(resp4, sizeof(resp4), &m));
}

static void test_build_roundtrip(void **state)
{
	(void)state;
	uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t buf[256];
	size_t n = stun_build_request(buf, sizeof(buf), tid, "ours:theirs", 12345, 1, 77, 1, "k", 1);
	assert_true(n > 0);
	struct stun_msg m;
	assert_int_equal(stun_parse(buf, n, &m), 0);
	assert_true(m.use_candidate && m.ice_controlling && m.tiebreaker == 77);
	assert_true(stun_check_integrity(buf, n, &m, "k", 1));
	assert_true(stun_check_fingerprint(buf, n, &m));

	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000) };
	inet_pton(AF_INET, "10.1.2.3", &peer.sin_addr);
	n = stun_build_success(buf, sizeof(buf), tid, (struct sockaddr *)&peer, "pw", 2);
	assert_true(n > 0);
	assert_int_equal(stun_parse(buf, n, &m), 0);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_true(m.has_mapped);
	assert_memory_equal(&((struct sockaddr_in *)&m.mapped)->sin_addr, &peer.sin_addr, 4);
	assert_true(stun_check_integrity(buf, n, &m, "pw", 2));
	assert_true(stun_check_fingerprint(buf, n, &m));

	struct sockaddr_in6 p6 = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };
	inet_pton(AF_INET6, "2001:db8::1", &p6.sin6_addr);
	n = stun_build_success(buf, sizeof(buf), tid, (struct sockaddr *)&p6, NULL, 0);
	assert_int_equal(stun_parse(buf, n, &m), 0);
	assert_memory_equal(&((struct sockaddr_in6 *)&m.mapped)->sin6_addr, &p6.sin6_addr, 16);

	n = stun_build_error(buf, sizeof(buf), tid, 401, "Unauthorized", NULL, 0);
	assert_int_equal(stun_parse(buf, n, &m), 0);
	assert_int_equal(m.error_code, 401);
	/* Too small a buffer: 0, never a short message. */
	assert_int_equal(stun_build_success(buf, 30, tid, (struct sockaddr *)&peer, "pw", 2), 0);
}

static void test_malformed(void **state)
{
	(void)state;
	struct stun_msg m;
	uint8_t b[sizeof(req)];
	memcpy(b, req, sizeof(req));
	/* length field disagreeing with the datagram */
	assert_int_equal(stun_parse(b, sizeof(b) - 4, &m), SL_EPROTO);
	/* an attribute running past the end */
	b[22] = 0x7f;
	assert_int_equal(stun_parse(b, sizeof(b), &m), SL_EPROTO);
	/* RTP or DTLS is not STUN */
	uint8_t rtp[24] = { 0x80, 0x60 };
	assert_false(stun_is_stun(rtp, sizeof(rtp)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_response),
		cmocka_unit_test(test_build_roundtrip),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
