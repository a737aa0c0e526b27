/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_h264_rtp.c - RFC 6184 packetization mode 1, both ways.
 *
 * Access units are built as FLV carries them (AVCC); the packetizer's
 * output is checked packet by packet for what a receiver relies on (size
 * bound, STAP-A of SPS+PPS before IDR, FU-A start/end bits, marker on the
 * last packet only), then fed to the depacketizer, whose output must be
 * the input again (plus the SPS/PPS the packetizer put in front of an IDR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/avc.h"
#include "proto/h264_rtp.h"

#define MAXPKT 1024
#define MTU 1200

static const uint8_t sps[] = { 0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0 };
static const uint8_t pps[] = { 0x68, 0xce, 0x3c, 0x80 };

struct pkts {
	uint8_t data[MAXPKT][MTU];
	size_t len[MAXPKT];
	int marker[MAXPKT];
	size_t n;
};

static void params(struct avc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->nal_length_size = 4;
	c->nsps = 1;
	c->npps = 1;
	c->sps[0] = sps;
	c->sps_len[0] = sizeof(sps);
	c->pps[0] = pps;
	c->pps_len[0] = sizeof(pps);
}

/* Appends a NAL of type `type`, len bytes, with a recognisable body, behind an ls-byte length. */
static void add_nal(struct bytes *au, uint8_t ls, uint8_t type, size_t len)
{
	if (ls == 4)
		bytes_put_u32be(au, (uint32_t)len);
	else if (ls == 2)
		bytes_put_u16be(au, (uint16_t)len);
	else
		bytes_put_u8(au, (uint8_t)len);
	bytes_put_u8(au, (uint8_t)(0x60 | type));
	for (size_t i = 1; i < len; i++)
		bytes_put_u8(au, (uint8_t)(i * 7 + type));
}

static int packetize(const struct bytes *au, uint8_t ls, const struct avc_config *c,
                     size_t mtu, struct pkts *out)
{
	struct h264_packer pk;
	h264_pack_init(&pk, au->data, au->len, ls, c, mtu);
	out->n = 0;
	for (;;) {
		assert_true(out->n < MAXPKT);
		int marker = -1;
		int r = h264_pack_next(&pk, out->data[out->n], MTU, &marker);
		if (r <= 0)
			return r;
		assert_true((size_t)r <= mtu);
		out->len[out->n] = (size_t)r;
		out->marker[out->n] = marker;
		out->n++;
	}
}

/* Feeds every packet (seq from seq0); returns the depacketizer's last result. */
static int depacketize(const struct pkts *p, struct h264_depack *d, uint16_t seq0, uint32_t ts,
                       size_t skip)
{
	int r = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (i == skip)
			continue;
		r = h264_depack_push(d, p->data[i], p->len[i], (uint16_t)(seq0 + i), ts, p->marker[i]);
		if (i + 1 < p->n)
			assert_true(r <= 0);
	}
	return r;
}

static void check_markers(const struct pkts *p)
{
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(p->marker[i], i + 1 == p->n);
}

static void test_small_idr_gets_stap_a_first(void **state)
{
	struct avc_config c;
	struct bytes au, want;
	static struct pkts p;
	params(&c);
	bytes_init(&au);
	bytes_init(&want);
	add_nal(&au, 4, H264_NAL_AUD, 2);            /* dropped on the wire */
	add_nal(&au, 4, H264_NAL_SEI, 20);
	add_nal(&au, 4, H264_NAL_IDR, 300);
	assert_true(h264_au_is_idr(au.data, au.len, 4));
	assert_int_equal(packetize(&au, 4, &c, MTU, &p), 0);
	assert_int_equal(p.n, 3);
	/* STAP-A: header with the highest NRI (SPS's 3), then size+NAL pairs. */
	assert_int_equal(p.data[0][0], 0x60 | H264_NAL_STAP_A);
	assert_int_equal(rd_u16be(p.data[0] + 1), sizeof(sps));
	assert_memory_equal(p.data[0] + 3, sps, sizeof(sps));
	assert_int_equal(rd_u16be(p.data[0] + 3 + sizeof(sps)), sizeof(pps));
	assert_int_equal(p.len[0], 1 + 2 + sizeof(sps) + 2 + sizeof(pps));
	assert_int_equal(p.data[1][0] & 0x1f, H264_NAL_SEI);
	assert_int_equal(p.len[1], 20);
	assert_int_equal(p.data[2][0] & 0x1f, H264_NAL_IDR);
	check_markers(&p);

	uint8_t buf[8192];
	struct h264_depack d;
	h264_depack_init(&d, buf, sizeof(buf));
	assert_int_equal(depacketize(&p, &d, 100, 9000, (size_t)-1), 1);
	assert_true(d.keyframe);
	/* What comes out: SPS, PPS, then the unit without its AUD. */
	bytes_put_u32be(&want, sizeof(sps));
	bytes_append(&want, sps, sizeof(sps));
	bytes_put_u32be(&want, sizeof(pps));
	bytes_append(&want, pps, sizeof(pps));
	bytes_append(&want, au.data + 6, au.len - 6);
	assert_int_equal(d.len, want.len);
	assert_memory_equal(d.buf, want.data, want.len);
	assert_int_equal(d.units, 1);
	bytes_free(&au);
	bytes_free(&want);
}

static void round_trip_large(uint8_t ls, size_t mtu)
{
	struct bytes au;
	static struct pkts p;
	bytes_init(&au);
	add_nal(&au, ls, H264_NAL_SLICE, ls == 1 ? 255 : 5000);
	add_nal(&au, ls, H264_NAL_SLICE, 1);       /* a header-only NAL */
	add_nal(&au, ls, H264_NAL_SLICE, ls == 1 ? 200 : 3000);
	assert_false(h264_au_is_idr(au.data, au.len, ls));
	assert_int_equal(packetize(&au, ls, NULL, mtu, &p), 0);
	check_markers(&p);
	/* FU-A start/end bits frame each fragmented NAL. */
	int in_fu = 0;
	for (size_t i = 0; i < p.n; i++) {
		if ((p.data[i][0] & 0x1f) != H264_NAL_FU_A) {
			assert_false(in_fu);
			continue;
		}
		assert_int_equal(p.data[i][0] & 0x60, 0x60);         /* NRI carried */
		assert_int_equal(p.data[i][1] & 0x1f, H264_NAL_SLICE);
		assert_int_equal((p.data[i][1] & 0x80) != 0, !in_fu);
		in_fu = !(p.data[i][1] & 0x40);
	}
	assert_false(in_fu);

	static uint8_t buf[16384];
	struct h264_depack d;
	h264_depack_init(&d, buf, sizeof(buf));
	assert_int_equal(depacketize(&p, &d, 65530, 1, (size_t)-1), 1);   /* seq wraps */
	assert_false(d.keyframe);
	/* Same NALs, now behind 4-byte lengths. */
	struct bytes want;
	bytes_init(&want);
	size_t pos = 0;
	while (pos < au.len) {
		size_t l = ls == 4 ? rd_u32be(au.data + pos) : ls == 2 ? rd_u16be(au.data + pos) : au.data[pos];
		bytes_put_u32be(&want, (uint32_t)l);
		bytes_append(&want, au.data + pos + ls, l);
		pos += ls + l;
	}
	assert_int_equal(d.len, want.len);
	assert_memory_equal(d.buf, want.data, want.len);
	bytes_free(&want);
	bytes_free(&au);
}

static void test_large_nals_fu_a_round_trip(void **state)
{
	round_trip_large(4, MTU);
	round_trip_large(2, MTU);
	round_trip_large(1, H264_RTP_MIN_PAYLOAD);
	round_trip_large(4, H264_RTP_MIN_PAYLOAD);
}

static void test_params_too_big_for_one_stap(void **state)
{
	struct avc_config c;
	struct bytes au;
	static struct pkts p;
	params(&c);
	bytes_init(&au);
	add_nal(&au, 4, H264_NAL_IDR, 40);
	/* 16 bytes: SPS (10) + PPS (4) + 5 header bytes do not fit; each goes alone, SPS as FU-A. */
	assert_int_equal(packetize(&au, 4, &c, H264_RTP_MIN_PAYLOAD, &p), 0);
	check_markers(&p);
	uint8_t buf[1024];
	struct h264_depack d;
	h264_depack_init(&d, buf, sizeof(buf));
	assert_int_equal(depacketize(&p, &d, 7, 7, (size_t)-1), 1);
	assert_int_equal(d.len, 4 + sizeof(sps) + 4 + sizeof(pps) + au.len);
	assert_memory_equal(d.buf + 4, sps, sizeof(sps));
	assert_memory_equal(d.buf + 8 + sizeof(sps), pps, sizeof(pps));
	bytes_free(&au);
}

static void test_loss_drops_the_unit_not_the_stream(void **state)
{
	struct bytes au;
	static struct pkts p;
	bytes_init(&au);
	add_nal(&au, 4, H264_NAL_SLICE, 4000);
	assert_int_equal(packetize(&au, 4, NULL, MTU, &p), 0);
	assert_true(p.n >= 4);
	uint8_t buf[8192];
	struct h264_depack d;
	h264_depack_init(&d, buf, sizeof(buf));
	/* The second fragment is lost: nothing comes out of that unit. */
	assert_int_equal(depacketize(&p, &d, 0, 3000, 1), 0);
	assert_int_equal(d.units, 0);
	assert_int_equal(d.dropped_units, 1);
	/* The next unit (new timestamp, sequence continues) comes out whole. */
	assert_int_equal(depacketize(&p, &d, (uint16_t)p.n, 6000, (size_t)-1), 1);
	assert_int_equal(d.len, au.len);
	assert_memory_equal(d.buf, au.data, au.len);
	/* A lost marker packet: the unit is dropped when the next timestamp starts. */
	for (size_t i = 0; i + 1 < p.n; i++)
		assert_int_equal(h264_depack_push(&d, p.data[i], p.len[i], (uint16_t)(100 + i), 9000, 0), 0);
	assert_int_equal(depacketize(&p, &d, 200, 12000, (size_t)-1), 0);  /* seq gap: dropped too */
	assert_int_equal(depacketize(&p, &d, (uint16_t)(200 + p.n), 15000, (size_t)-1), 1);
	assert_int_equal(d.dropped_units, 3);
	assert_int_equal(d.units, 2);
	bytes_free(&au);
}

static void test_depack_limits_and_garbage(void **state)
{
	struct bytes au;
	static struct pkts p;
	bytes_init(&au);
	add_nal(&au, 4, H264_NAL_SLICE, 3000);
	assert_int_equal(packetize(&au, 4, NULL, MTU, &p), 0);
	uint8_t buf[2048];
	struct h264_depack d;
	h264_depack_init(&d, buf, sizeof(buf));
	int r = 0;
	for (size_t i = 0; i < p.n && r == 0; i++)
		r = h264_depack_push(&d, p.data[i], p.len[i], (uint16_t)i, 1, p.marker[i]);
	assert_int_equal(r, SL_ELIMIT);
	assert_true(d.len <= sizeof(buf));

	h264_depack_init(&d, buf, sizeof(buf));
	const uint8_t stap_short[] = { 24, 0x00, 0x09, 0x65, 0x00 };   /* size past the end */
	const uint8_t fu_both[] = { 28, 0xc5, 0x00 };                  /* start and end at once */
	const uint8_t stap_b[] = { 25, 0, 0 };
	const uint8_t forbidden[] = { 0x81 };
	assert_int_equal(h264_depack_push(&d, stap_short, sizeof(stap_short), 1, 1, 1), SL_EPROTO);
	assert_int_equal(h264_depack_push(&d, fu_both, sizeof(fu_both), 2, 2, 1), SL_EPROTO);
	assert_int_equal(h264_depack_push(&d, stap_b, sizeof(stap_b), 3, 3, 1), SL_EPROTO);
	assert_int_equal(h264_depack_push(&d, forbidden, sizeof(forbidden), 4, 4, 1), SL_EPROTO);
	assert_int_equal(h264_depack_push(&d, forbidden, 0, 5, 5, 1), SL_EPROTO);
	assert_int_equal(d.bad_payloads, 5);
	/* And a good STAP-A after all that. */
	const uint8_t stap[] = { 24, 0x00, 0x02, 0x67, 0x01, 0x00, 0x01, 0x68 };
	assert_int_equal(h264_depack_push(&d, stap, sizeof(stap), 6, 6, 1), 1);
	const uint8_t want[] = { 0, 0, 0, 2, 0x67, 0x01, 0, 0, 0, 1, 0x68 };
	assert_int_equal(d.len, sizeof(want));
	assert_memory_equal(d.buf, want, sizeof(want));
	bytes_free(&au);
}

static void test_pack_refuses_broken_framing(void **state)
{
	struct h264_packer pk;
	uint8_t out[MTU];
	int marker;
	const uint8_t past_end[] = { 0, 0, 0, 9, 0x65, 1, 2 };
	const uint8_t zero_len[] = { 0, 0, 0, 1, 0x65, 0, 0, 0, 0 };
	h264_pack_init(&pk, past_end, sizeof(past_end), 4, NULL, MTU);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), SL_EPROTO);
	h264_pack_init(&pk, zero_len, sizeof(zero_len), 4, NULL, MTU);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), SL_EPROTO);
	h264_pack_init(&pk, zero_len, 5, 3, NULL, MTU);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), SL_EINVAL);
	h264_pack_init(&pk, zero_len, 5, 4, NULL, 8);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), SL_EINVAL);
	h264_pack_init(&pk, zero_len, 5, 4, NULL, MTU);
	assert_int_equal(h264_pack_next(&pk, out, 100, &marker), SL_EINVAL);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), 1);
	assert_int_equal(marker, 1);
	assert_int_equal(h264_pack_next(&pk, out, sizeof(out), &marker), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_idr_gets_stap_a_first),
		cmocka_unit_test(test_large_nals_fu_a_round_trip),
		cmocka_unit_test(test_params_too_big_for_one_stap),
		cmocka_unit_test(test_loss_drops_the_unit_not_the_stream),
		cmocka_unit_test(test_depack_limits_and_garbage),
		cmocka_unit_test(test_pack_refuses_broken_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
