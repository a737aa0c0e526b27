/* SPDX-License-Identifier: Apache-2.0 */
/* test_rtmp_chunk.c - chunk reassembly and chunking: headers, sizes, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/rtmp.h"
#include "proto/rtmp_chunk.h"

/* Feeds all of p (in pieces of `step` bytes) and collects up to max messages. */
static int feed_all(struct rtmp_reader *r, const uint8_t *p, size_t n, size_t step,
                    struct rtmp_msg *out, int max)
{
	int got = 0;
	size_t off = 0;
	while (off < n) {
		size_t len = n - off < step ? n - off : step;
		size_t pos = 0;
		while (pos < len) {
			size_t used = 0;
			int rc = rtmp_reader_feed(r, p + off + pos, len - pos, &used, &out[got]);
			pos += used;
			if (rc == SL_EAGAIN)
				break;
			if (rc < 0)
				return rc;
			assert_int_equal(rc, 1);
			got++;
			if (got == max)
				return got;
		}
		off += len;
	}
	return got;
}

static void free_msgs(struct rtmp_msg *m, int n)
{
	for (int i = 0; i < n; i++)
		rbuf_unref(m[i].body);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_round_trip_any_chunk_size(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 1, 2, 127, 128, 129, 4096, 65536 };
	uint8_t body[10000];
	fill(body, sizeof(body), 3);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct bytes wire;
		bytes_init(&wire);
		struct rtmp_reader r;
		rtmp_reader_init(&r, NULL);
		/* Tell the reader our chunk size first, as a real sender must. */
		uint8_t cs[4];
		wr_u32be(cs, sizes[s]);
		rtmp_chunk_append(&wire, 2, RTMP_MSG_SET_CHUNK_SIZE, 0, 0, cs, 4, 128);
		rtmp_chunk_append(&wire, RTMP_CSID_VIDEO, 9, 1, 40, body, sizeof(body), sizes[s]);
		rtmp_chunk_append(&wire, RTMP_CSID_AUDIO, 8, 1, 41, body, 17, sizes[s]);
		struct rtmp_msg m[3];
		assert_int_equal(feed_all(&r, wire.data, wire.len, wire.len, m, 3), 3);
		assert_int_equal(r.chunk_size, sizes[s]);
		assert_int_equal(m[1].type, 9);
		assert_int_equal(m[1].ts, 40);
		assert_int_equal(m[1].msid, 1);
		assert_int_equal(m[1].csid, RTMP_CSID_VIDEO);
		assert_int_equal(m[1].body->len, sizeof(body));
		assert_memory_equal(m[1].body->data, body, sizeof(body));
		assert_int_equal(m[2].type, 8);
		assert_int_equal(m[2].ts, 41);
		assert_int_equal(m[2].body->len, 17);
		free_msgs(m, 3);
		rtmp_reader_free(&r);
		bytes_free(&wire);
	}
}

static void test_byte_by_byte_equals_whole(void **state)
{
	(void)state;
	uint8_t body[700];
	fill(body, sizeof(body), 9);
	struct bytes wire;
	bytes_init(&wire);
	for (int i = 0; i < 5; i++)
		rtmp_chunk_append(&wire, 4 + (uint32_t)i, 9, 1, (uint32_t)(i * 33), body,
		                  sizeof(body) - (size_t)i * 100, 128);
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m[5];
	assert_int_equal(feed_all(&r, wire.data, wire.len, 1, m, 5), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(m[i].ts, (uint32_t)(i * 33));
		assert_int_equal(m[i].body->len, sizeof(body) - (size_t)i * 100);
		assert_memory_equal(m[i].body->data, body, m[i].body->len);
	}
	assert_int_equal(r.bytes_in, wire.len);
	free_msgs(m, 5);
	rtmp_reader_free(&r);
	bytes_free(&wire);
}

/* Interleaved chunks of two chunk streams, as publishers send audio between video chunks. */
static void test_interleaved_chunk_streams(void **state)
{
	(void)state;
	uint8_t v[300], a[200];
	fill(v, sizeof(v), 1);
	fill(a, sizeof(a), 2);
	uint8_t wire[1024];
	size_t n = 0;
	/* video chunk 1: fmt 0, csid 7, ts 100, len 300, type 9, msid 1 */
	uint8_t h0[] = { 0x07, 0, 0, 100, 0, 0x01, 0x2c, 9, 1, 0, 0, 0 };
	memcpy(wire + n, h0, sizeof(h0)); n += sizeof(h0);
	memcpy(wire + n, v, 128); n += 128;
	/* audio chunk 1: fmt 0, csid 6, ts 90, len 200, type 8 */
	uint8_t a0[] = { 0x06, 0, 0, 90, 0, 0, 200, 8, 1, 0, 0, 0 };
	memcpy(wire + n, a0, sizeof(a0)); n += sizeof(a0);
	memcpy(wire + n, a, 128); n += 128;
	/* video chunk 2, 3 (fmt 3) then audio chunk 2 */
	wire[n++] = 0xc7;
	memcpy(wire + n, v + 128, 128); n += 128;
	wire[n++] = 0xc6;
	memcpy(wire + n, a + 128, 72); n += 72;
	wire[n++] = 0xc7;
	memcpy(wire + n, v + 256, 44); n += 44;

	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m[2];
	assert_int_equal(feed_all(&r, wire, n, n, m, 2), 2);
	assert_int_equal(m[0].type, 8);
	assert_int_equal(m[0].ts, 90);
	assert_memory_equal(m[0].body->data, a, sizeof(a));
	assert_int_equal(m[1].type, 9);
	assert_int_equal(m[1].ts, 100);
	assert_memory_equal(m[1].body->data, v, sizeof(v));
	free_msgs(m, 2);
	rtmp_reader_free(&r);
}

/* fmt 1 and 2 carry deltas; fmt 3 starting a message repeats the last field. */
static void test_timestamp_deltas(void **state)
{
	(void)state;
	uint8_t wire[] = {
		0x08, 0, 0x03, 0xe8, 0, 0, 2, 8, 1, 0, 0, 0, 0xaf, 0x01,  /* fmt0 ts=1000 len=2 */
		0x48, 0, 0, 23, 0, 0, 3, 8, 0xaf, 0x01, 0x02,             /* fmt1 +23 len=3 */
		0x88, 0, 0, 21, 0xaf, 0x01, 0x03,                         /* fmt2 +21, len 3 kept */
		0xc8, 0xaf, 0x01, 0x04,                                   /* fmt3 new msg: +21 again */
	};
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m[4];
	assert_int_equal(feed_all(&r, wire, sizeof(wire), sizeof(wire), m, 4), 4);
	assert_int_equal(m[0].ts, 1000);
	assert_int_equal(m[1].ts, 1023);
	assert_int_equal(m[1].body->len, 3);
	assert_int_equal(m[2].ts, 1044);
	assert_int_equal(m[3].ts, 1065);
	assert_int_equal(m[3].body->data[2], 0x04);
	assert_int_equal(m[3].msid, 1);
	free_msgs(m, 4);
	rtmp_reader_free(&r);
}

/* Extended timestamps, repeated on continuation chunks (the ffmpeg/librtmp convention). */
static void test_extended_timestamp(void **state)
{
	(void)state;
	uint8_t body[300];
	fill(body, sizeof(body), 5);
	struct bytes wire;
	bytes_init(&wire);
	rtmp_chunk_append(&wire, 5, 18, 1, 0x12345678, body, sizeof(body), 128);
	/* first header: 1 + 11 + 4; each continuation: 1 + 4 */
	assert_int_equal(wire.len, 16 + 300 + 2 * 5);
	assert_int_equal(wire.data[1], 0xff);
	assert_int_equal(rd_u32be(wire.data + 12), 0x12345678);
	assert_int_equal(wire.data[16 + 128], 0xc5);
	assert_int_equal(rd_u32be(wire.data + 16 + 129), 0x12345678);
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m;
	assert_int_equal(feed_all(&r, wire.data, wire.len, 3, &m, 1), 1);
	assert_int_equal(m.ts, 0x12345678);
	assert_memory_equal(m.body->data, body, sizeof(body));
	rbuf_unref(m.body);
	rtmp_reader_free(&r);
	bytes_free(&wire);
}

static void test_two_and_three_byte_basic_headers(void **state)
{
	(void)state;
	static const uint32_t ids[] = { 2, 63, 64, 319, 320, 65599 };
	static const size_t hdr[] = { 1, 1, 2, 2, 3, 3 };
	uint8_t body[200];
	fill(body, sizeof(body), 7);
	for (size_t i = 0; i < 6; i++) {
		struct bytes wire;
		bytes_init(&wire);
		rtmp_chunk_append(&wire, ids[i], 9, 1, 5, body, sizeof(body), 128);
		assert_int_equal(wire.len, hdr[i] + 11 + 200 + hdr[i]);
		assert_int_equal(rtmp_chunk_encoded_size(ids[i], 5, 200, 128), wire.len);
		struct rtmp_reader r;
		rtmp_reader_init(&r, NULL);
		struct rtmp_msg m;
		assert_int_equal(feed_all(&r, wire.data, wire.len, 1, &m, 1), 1);
		assert_int_equal(m.csid, ids[i]);
		assert_memory_equal(m.body->data, body, sizeof(body));
		rbuf_unref(m.body);
		rtmp_reader_free(&r);
		bytes_free(&wire);
	}
}

static void test_zero_length_message(void **state)
{
	(void)state;
	uint8_t wire[] = { 0x03, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 20,
	                   0, 0, 0, 0 };
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m[2];
	assert_int_equal(feed_all(&r, wire, sizeof(wire), sizeof(wire), m, 2), 2);
	assert_int_equal(m[0].body->len, 0);
	free_msgs(m, 2);
	rtmp_reader_free(&r);
}

static void test_bad_chunk_sizes(void **state)
{
	(void)state;
	struct rtmp_reader_limits lim = { .max_chunk_size = 65536 };
	uint8_t zero[] = { 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t huge[] = { 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff };
	struct rtmp_reader r;
	struct rtmp_msg m;
	size_t used;
	rtmp_reader_init(&r, &lim);
	assert_int_equal(rtmp_reader_feed(&r, zero, sizeof(zero), &used, &m), SL_EPROTO);
	rtmp_reader_free(&r);
	rtmp_reader_init(&r, &lim);
	assert_int_equal(rtmp_reader_feed(&r, huge, sizeof(huge), &used, &m), SL_ELIMIT);
	rtmp_reader_free(&r);
	/* 2^31-1 is legal when the limit allows it; the top bit is ignored. */
	rtmp_reader_init(&r, &(struct rtmp_reader_limits){ .max_chunk_size = 0x7fffffff });
	huge[12] = 0xff;
	assert_int_equal(rtmp_reader_feed(&r, huge, sizeof(huge), &used, &m), 1);
	assert_int_equal(r.chunk_size, 0x7fffffff);
	rbuf_unref(m.body);
	rtmp_reader_free(&r);
}

static void test_message_size_limit(void **state)
{
	(void)state;
	struct rtmp_reader_limits lim = { .max_message_size = 1000 };
	uint8_t over[] = { 0x04, 0, 0, 0, 0, 0x03, 0xe9, 9, 1, 0, 0, 0 }; /* len 1001 */
	struct rtmp_reader r;
	struct rtmp_msg m;
	size_t used;
	rtmp_reader_init(&r, &lim);
	assert_int_equal(rtmp_reader_feed(&r, over, sizeof(over), &used, &m), SL_ELIMIT);
	rtmp_reader_free(&r);
}

static void test_chunk_stream_limit(void **state)
{
	(void)state;
	struct rtmp_reader_limits lim = { .max_chunk_streams = 4 };
	struct rtmp_reader r;
	rtmp_reader_init(&r, &lim);
	int rc = SL_EAGAIN;
	for (uint32_t id = 2; id < 10 && rc == SL_EAGAIN; id++) {
		/* a whole first chunk of a 200-byte message: the message stays partial */
		uint8_t h[12 + 128] = { (uint8_t)id, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0 };
		struct rtmp_msg m;
		size_t used;
		rc = rtmp_reader_feed(&r, h, sizeof(h), &used, &m);
		if (id < 6)
			assert_int_equal(rc, SL_EAGAIN); /* partial message held */
	}
	assert_int_equal(rc, SL_ELIMIT);
	rtmp_reader_free(&r);
}

/* A declared 16 MB message holds memory only as its bytes arrive. */
static void test_declared_length_not_trusted(void **state)
{
	(void)state;
	struct rtmp_reader_limits lim = { .max_message_size = 0xffffff,
	                                  .max_pending_bytes = 1000 };
	struct rtmp_reader r;
	rtmp_reader_init(&r, &lim);
	uint8_t h[12 + 128] = { 0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0 };
	struct rtmp_msg m;
	size_t used;
	assert_int_equal(rtmp_reader_feed(&r, h, sizeof(h), &used, &m), SL_EAGAIN);
	assert_int_equal(r.pending_bytes, 128);
	/* Seven more full chunks go over the pending limit of 1000 bytes. */
	uint8_t c[129];
	memset(c, 0, sizeof(c));
	c[0] = 0xc4;
	int rc = SL_EAGAIN;
	for (int i = 0; i < 8 && rc == SL_EAGAIN; i++)
		rc = rtmp_reader_feed(&r, c, sizeof(c), &used, &m);
	assert_int_equal(rc, SL_ELIMIT);
	rtmp_reader_free(&r);
}

/*
 * 60 chunk streams each declaring a 60,000-byte message and sending one byte:
 * the partial buffers hold what arrived (60 bytes in all, not 60 x 60,000).
 */
static void test_partial_buffers_grow_with_bytes(void **state)
{
	(void)state;
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	/* Chunk size 1, so every chunk stream can be left one byte into a message. */
	uint8_t scs[16] = { 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct rtmp_msg sm;
	size_t sused;
	assert_int_equal(rtmp_reader_feed(&r, scs, sizeof(scs), &sused, &sm), 1);
	rbuf_unref(sm.body);
	for (uint32_t id = 3; id < 63; id++) {
		uint8_t h[13] = { (uint8_t)id, 0, 0, 0, 0, 0xea, 0x60, 9, 1, 0, 0, 0, 0x17 };
		struct rtmp_msg m;
		size_t used;
		assert_int_equal(rtmp_reader_feed(&r, h, sizeof(h), &used, &m), SL_EAGAIN);
		assert_int_equal(used, sizeof(h));
	}
	assert_int_equal(r.pending_bytes, 60);
	assert_int_equal(r.partial_alloc, 60);
	rtmp_reader_free(&r);
	assert_int_equal(r.partial_alloc, 0);
	rtmp_reader_init(&r, NULL);
	/* A message that arrives whole is allocated at most twice what came, never past its length. */
	uint8_t big[12 + 128] = { 0x3f, 0, 0, 0, 0, 0x01, 0x2c, 9, 1, 0, 0, 0 };
	uint8_t cont[1 + 128];
	memset(cont, 0, sizeof(cont));
	cont[0] = 0xff;
	struct rtmp_msg m;
	size_t used;
	assert_int_equal(rtmp_reader_feed(&r, big, sizeof(big), &used, &m), SL_EAGAIN);
	assert_int_equal(r.partial_alloc, 128);
	assert_int_equal(rtmp_reader_feed(&r, cont, sizeof(cont), &used, &m), SL_EAGAIN);
	assert_int_equal(r.partial_alloc, 256);
	assert_int_equal(rtmp_reader_feed(&r, cont, 1 + 44, &used, &m), 1);
	assert_int_equal(m.body->len, 300);
	assert_true(m.body->cap <= 300);
	rbuf_unref(m.body);
	assert_int_equal(r.partial_alloc, 0);
	rtmp_reader_free(&r);
}

static void test_continuation_without_header_is_refused(void **state)
{
	(void)state;
	uint8_t fmt1[] = { 0x45, 0, 0, 1, 0, 0, 2, 9, 0, 0 };
	uint8_t fmt3[] = { 0xc5, 0, 0 };
	struct rtmp_reader r;
	struct rtmp_msg m;
	size_t used;
	rtmp_reader_init(&r, NULL);
	assert_int_equal(rtmp_reader_feed(&r, fmt1, sizeof(fmt1), &used, &m), SL_EPROTO);
	rtmp_reader_free(&r);
	rtmp_reader_init(&r, NULL);
	assert_int_equal(rtmp_reader_feed(&r, fmt3, sizeof(fmt3), &used, &m), SL_EPROTO);
	rtmp_reader_free(&r);
}

static void test_abort_discards_partial(void **state)
{
	(void)state;
	uint8_t body[200];
	fill(body, sizeof(body), 1);
	struct bytes wire;
	bytes_init(&wire);
	rtmp_chunk_append(&wire, 6, 9, 1, 0, body, sizeof(body), 128);
	wire.len = 12 + 128; /* only the first chunk */
	uint8_t abort_body[4];
	wr_u32be(abort_body, 6);
	rtmp_chunk_append(&wire, 2, RTMP_MSG_ABORT, 0, 0, abort_body, 4, 128);
	rtmp_chunk_append(&wire, 6, 9, 1, 7, body, 50, 128);
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m[2];
	assert_int_equal(feed_all(&r, wire.data, wire.len, wire.len, m, 2), 2);
	assert_int_equal(m[0].type, RTMP_MSG_ABORT);
	assert_int_equal(m[1].ts, 7);
	assert_int_equal(m[1].body->len, 50);
	assert_int_equal(r.pending_bytes, 0);
	free_msgs(m, 2);
	rtmp_reader_free(&r);
	bytes_free(&wire);
}

/* A new header in the middle of a message is a protocol error. */
static void test_new_header_mid_message(void **state)
{
	(void)state;
	uint8_t wire[12 + 128 + 12];
	uint8_t h[] = { 0x06, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0 };
	memcpy(wire, h, 12);
	memset(wire + 12, 0, 128);
	memcpy(wire + 140, h, 12);
	struct rtmp_reader r;
	rtmp_reader_init(&r, NULL);
	struct rtmp_msg m;
	assert_int_equal(feed_all(&r, wire, sizeof(wire), sizeof(wire), &m, 1), SL_EPROTO);
	rtmp_reader_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_any_chunk_size),
		cmocka_unit_test(test_byte_by_byte_equals_whole),
		cmocka_unit_test(test_interleaved_chunk_streams),
		cmocka_unit_test(test_timestamp_deltas),
		cmocka_unit_test(test_extended_timestamp),
		cmocka_unit_test(test_two_and_three_byte_basic_headers),
		cmocka_unit_test(test_zero_length_message),
		cmocka_unit_test(test_bad_chunk_sizes),
		cmocka_unit_test(test_message_size_limit),
		cmocka_unit_test(test_chunk_stream_limit),
		cmocka_unit_test(test_declared_length_not_trusted),
		cmocka_unit_test(test_partial_buffers_grow_with_bytes),
		cmocka_unit_test(test_continuation_without_header_is_refused),
		cmocka_unit_test(test_abort_discards_partial),
		cmocka_unit_test(test_new_header_mid_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
