/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rtp.c - RTP header parsing and building (RFC 3550 5.1, 5.3.1).
 *
 * The reference packet is built by hand from the RFC's figure: every field
 * set to a distinct value, two CSRCs, a one-word RFC 8285 extension and
 * three bytes of padding, so a field read from the wrong offset shows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/rtp.h"

static const uint8_t full[] = {
	0xb2, 0xe0, 0x12, 0x34,             /* V2 P X CC=2 | M PT=96 | seq 0x1234 */
	0xde, 0xad, 0xbe, 0xef,             /* timestamp */
	0x01, 0x02, 0x03, 0x04,             /* SSRC */
	0x11, 0x11, 0x11, 0x11,             /* CSRC 1 */
	0x22, 0x22, 0x22, 0x22,             /* CSRC 2 */
	0xbe, 0xde, 0x00, 0x01,             /* extension profile, 1 word */
	0x10, 0xaa, 0x00, 0x00,             /* one-byte element id 1 len 1, padding */
	'p', 'a', 'y', 'l', 'o', 'a', 'd',  /* payload */
	0x00, 0x00, 0x03,                   /* 3 bytes of RTP padding */
};

static void test_parse_every_field(void **state)
{
	struct rtp_header h;
	assert_int_equal(rtp_parse(full, sizeof(full), &h), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.padding, 1);
	assert_int_equal(h.extension, 1);
	assert_int_equal(h.csrc_count, 2);
	assert_int_equal(h.marker, 1);
	assert_int_equal(h.payload_type, 96);
	assert_int_equal(h.seq, 0x1234);
	assert_int_equal(h.timestamp, 0xdeadbeef);
	assert_int_equal(h.ssrc, 0x01020304);
	assert_int_equal(h.csrc[0], 0x11111111);
	assert_int_equal(h.csrc[1], 0x22222222);
	assert_int_equal(h.ext_profile, 0xbede);
	assert_int_equal(h.ext_len, 4);
	assert_ptr_equal(h.ext, full + 24);
	assert_int_equal(h.header_len, 28);
	assert_int_equal(h.payload_len, 7);
	assert_memory_equal(h.payload, "payload", 7);
	assert_int_equal(h.pad_len, 3);
}

static void test_truncated_headers_refused(void **state)
{
	struct rtp_header h;
	/* Anything cut inside the header (CSRCs, extension) is malformed. */
	for (size_t n = 0; n < 28; n++)
		assert_int_equal(rtp_parse(full, n, &h), SL_EPROTO);
}

static void test_bad_version_and_padding(void **state)
{
	uint8_t p[sizeof(full)];
	struct rtp_header h;

	memcpy(p, full, sizeof(p));
	p[0] = (p[0] & 0x3f) | 0x40;                  /* version 1 */
	assert_int_equal(rtp_parse(p, sizeof(p), &h), SL_EPROTO);

	memcpy(p, full, sizeof(p));
	p[sizeof(p) - 1] = 0;                          /* padding count 0 */
	assert_int_equal(rtp_parse(p, sizeof(p), &h), SL_EPROTO);

	memcpy(p, full, sizeof(p));
	p[sizeof(p) - 1] = 11;                         /* eats into the header */
	assert_int_equal(rtp_parse(p, sizeof(p), &h), SL_EPROTO);

	p[sizeof(p) - 1] = 10;                         /* exactly the payload + padding: empty payload */
	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.payload_len, 0);

	memcpy(p, full, sizeof(p));
	p[23] = 0x40;                                  /* extension longer than the packet */
	assert_int_equal(rtp_parse(p, sizeof(p), &h), SL_EPROTO);
}

static void test_write_round_trip(void **state)
{
	struct rtp_header h;
	uint8_t out[64];
	assert_int_equal(rtp_parse(full, sizeof(full), &h), 0);
	int n = rtp_write_header(out, sizeof(out), &h);
	assert_int_equal(n, 28);
	assert_memory_equal(out, full, 28);
	/* Too small a buffer, a bad extension length, a PT over 127. */
	assert_int_equal(rtp_write_header(out, 27, &h), SL_EINVAL);
	h.ext_len = 3;
	assert_int_equal(rtp_write_header(out, sizeof(out), &h), SL_EINVAL);
	h.ext_len = 4;
	h.payload_type = 128;
	assert_int_equal(rtp_write_header(out, sizeof(out), &h), SL_EINVAL);
}

static void test_write_simple(void **state)
{
	uint8_t out[RTP_HEADER_SIZE];
	struct rtp_header h;
	rtp_write_simple(out, 111, 1, 65535, 0x80000001u, 0xcafebabe);
	assert_int_equal(rtp_parse(out, sizeof(out), &h), 0);
	assert_int_equal(h.payload_type, 111);
	assert_int_equal(h.marker, 1);
	assert_int_equal(h.seq, 65535);
	assert_int_equal(h.timestamp, 0x80000001u);
	assert_int_equal(h.ssrc, 0xcafebabe);
	assert_int_equal(h.csrc_count, 0);
	assert_int_equal(h.payload_len, 0);
}

static void test_demux_and_seq_diff(void **state)
{
	const uint8_t sr[] = { 0x80, 200 }, rr[] = { 0x80, 201 }, rtp96[] = { 0x80, 96 },
	              rtp_marker111[] = { 0x80, 0x80 | 111 };
	assert_true(rtp_is_rtcp(sr, 2));
	assert_true(rtp_is_rtcp(rr, 2));
	assert_false(rtp_is_rtcp(rtp96, 2));
	assert_false(rtp_is_rtcp(rtp_marker111, 2));
	assert_false(rtp_is_rtcp(sr, 1));
	assert_int_equal(rtp_seq_diff(1, 65535), 2);
	assert_int_equal(rtp_seq_diff(65535, 1), -2);
	assert_int_equal(rtp_seq_diff(100, 100), 0);
}

static void test_time_extend(void **state)
{
	(void)state;
	int64_t ext = 0;
	uint32_t prev = 4294967000u;
	assert_int_equal(rtp_time_extend(&ext, &prev, 4294967000u + 3000u, 90000), 0); /* wraps */
	assert_int_equal(ext, 3000);
	assert_int_equal(rtp_time_extend(&ext, &prev, prev - 1500, 90000), 0);  /* B-frame */
	assert_int_equal(ext, 1500);
	/* A jump of 2^31 (or of 11 s) is a rebase: time goes on from there, unmoved. */
	assert_int_equal(rtp_time_extend(&ext, &prev, prev + 0x80000000u, 90000), 1);
	assert_int_equal(ext, 1500);
	assert_int_equal(rtp_time_extend(&ext, &prev, prev + 11u * 90000, 90000), 1);
	assert_int_equal(rtp_time_extend(&ext, &prev, prev - 11u * 48000, 48000), 1);
	assert_int_equal(ext, 1500);
	assert_int_equal(rtp_time_extend(&ext, &prev, prev + 9u * 90000, 90000), 0);
	assert_int_equal(ext, 1500 + 9 * 90000);
}

static void test_seq_in_range(void **state)
{
	(void)state;
	assert_true(rtp_seq_in_range(100, 100, 100));
	assert_true(rtp_seq_in_range(150, 100, 200));
	assert_false(rtp_seq_in_range(99, 100, 200));   /* before a renumbering */
	assert_false(rtp_seq_in_range(201, 100, 200));  /* not sent yet */
	assert_true(rtp_seq_in_range(2, 65530, 10));     /* across the wrap */
	assert_true(rtp_seq_in_range(65535, 65530, 10));
	assert_false(rtp_seq_in_range(65529, 65530, 10));
	assert_false(rtp_seq_in_range(11, 65530, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_field),
		cmocka_unit_test(test_truncated_headers_refused),
		cmocka_unit_test(test_bad_version_and_padding),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_write_simple),
		cmocka_unit_test(test_demux_and_seq_diff),
		cmocka_unit_test(test_seq_in_range),
		cmocka_unit_test(test_time_extend),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
