/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rtcp.c - RTCP compound parsing into callbacks, and the builders.
 *
 * What the builders write is parsed back; the hand-made packets (SDES, BYE,
 * FIR, REMB) follow the figures of RFC 3550 6.5-6.6, RFC 5104 4.3.1 and
 * draft-alvestrand-rmcat-remb, which is what browsers send.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/rtcp.h"

struct seen {
	int srs, blocks, byes, plis, firs, nacks;
	struct rtcp_sender_info si;
	struct rtcp_report_block rb[4];
	uint32_t reporters[4];
	uint32_t bye_ssrc;
	uint16_t seqs[1024];
	size_t nseqs;
	uint32_t fir_target;
	uint8_t fir_seq;
	uint32_t fb_sender, fb_media;
};

static void on_sr(void *ud, const struct rtcp_sender_info *si)
{
	struct seen *s = ud;
	s->srs++;
	s->si = *si;
}

static void on_block(void *ud, uint32_t reporter, const struct rtcp_report_block *rb)
{
	struct seen *s = ud;
	if (s->blocks < 4) {
		s->rb[s->blocks] = *rb;
		s->reporters[s->blocks] = reporter;
	}
	s->blocks++;
}

static void on_bye(void *ud, uint32_t ssrc)
{
	struct seen *s = ud;
	s->byes++;
	s->bye_ssrc = ssrc;
}

static void on_nack(void *ud, uint32_t sender, uint32_t media, const uint16_t *seqs, size_t n)
{
	struct seen *s = ud;
	s->nacks++;
	s->fb_sender = sender;
	s->fb_media = media;
	for (size_t i = 0; i < n && s->nseqs < 1024; i++)
		s->seqs[s->nseqs++] = seqs[i];
}

static void on_pli(void *ud, uint32_t sender, uint32_t media)
{
	struct seen *s = ud;
	s->plis++;
	s->fb_sender = sender;
	s->fb_media = media;
}

static void on_fir(void *ud, uint32_t sender, uint32_t target, uint8_t seq_nr)
{
	struct seen *s = ud;
	s->firs++;
	s->fb_sender = sender;
	s->fir_target = target;
	s->fir_seq = seq_nr;
}

static const struct rtcp_handler handler = {
	.sender_report = on_sr, .report_block = on_block, .bye = on_bye,
	.nack = on_nack, .pli = on_pli, .fir = on_fir,
};

static const uint8_t sdes[] = {
	0x81, 202, 0x00, 0x03,              /* SDES, 1 chunk, 4 words */
	0x00, 0x00, 0x00, 0x07,             /* SSRC */
	0x01, 0x04, 'a', 'b', 'c', 'd',     /* CNAME "abcd" */
	0x00, 0x00,                         /* end + pad */
};

static const uint8_t remb[] = {
	0x8f, 206, 0x00, 0x05,              /* PSFB FMT 15 (AFB), 6 words */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	'R', 'E', 'M', 'B', 0x01, 0x0a, 0x12, 0x34, 0x00, 0x00, 0x00, 0x09,
};

static void test_sr_rr_sdes_bye_compound(void **state)
{
	uint8_t buf[512];
	size_t n = 0;
	struct rtcp_sender_info si = { 0x11223344, 0x0102030405060708ull, 90000, 1234, 567890 };
	struct rtcp_report_block blocks[2] = {
		{ 0xaaaa0001, 25, -3, 0x00015000, 17, 0xdeadbeef, 65536 },
		{ 0xaaaa0002, 0, 0x7fffff, 99, 0, 0, 0 },
	};
	int r = rtcp_write_sr(buf, sizeof(buf), &si, blocks, 2);
	assert_int_equal(r, RTCP_SR_SIZE + 2 * RTCP_REPORT_BLOCK_SIZE);
	n += (size_t)r;
	r = rtcp_write_rr(buf + n, sizeof(buf) - n, 0x55667788, blocks, 1);
	assert_int_equal(r, RTCP_RR_SIZE + RTCP_REPORT_BLOCK_SIZE);
	n += (size_t)r;
	memcpy(buf + n, sdes, sizeof(sdes));
	n += sizeof(sdes);
	const uint8_t bye[] = { 0x81, 203, 0x00, 0x01, 0x99, 0x88, 0x77, 0x66 };
	memcpy(buf + n, bye, sizeof(bye));
	n += sizeof(bye);

	struct seen s = { 0 };
	struct rtcp_stats st;
	assert_int_equal(rtcp_parse(buf, n, &handler, &s, &st), 0);
	assert_int_equal(st.packets, 4);
	assert_int_equal(st.skipped, 1);         /* the SDES */
	assert_int_equal(s.srs, 1);
	assert_int_equal(s.si.ssrc, si.ssrc);
	assert_true(s.si.ntp == si.ntp);
	assert_int_equal(s.si.rtp_ts, 90000);
	assert_int_equal(s.si.packets, 1234);
	assert_int_equal(s.si.octets, 567890);
	assert_int_equal(s.blocks, 3);
	assert_int_equal(s.reporters[0], 0x11223344);
	assert_int_equal(s.rb[0].ssrc, 0xaaaa0001);
	assert_int_equal(s.rb[0].fraction_lost, 25);
	assert_int_equal(s.rb[0].cumulative_lost, -3);   /* 24-bit sign kept */
	assert_int_equal(s.rb[0].highest_seq, 0x00015000);
	assert_int_equal(s.rb[0].jitter, 17);
	assert_int_equal(s.rb[0].lsr, 0xdeadbeef);
	assert_int_equal(s.rb[0].dlsr, 65536);
	assert_int_equal(s.rb[1].cumulative_lost, 0x7fffff);
	assert_int_equal(s.reporters[2], 0x55667788);
	assert_int_equal(s.byes, 1);
	assert_int_equal(s.bye_ssrc, 0x99887766);
}

static int seq_seen(const struct seen *s, uint16_t q)
{
	for (size_t i = 0; i < s->nseqs; i++)
		if (s->seqs[i] == q)
			return 1;
	return 0;
}

static void test_nack_round_trip_across_wrap(void **state)
{
	const uint16_t want[] = { 0, 65534, 5, 65535, 40, 5, 16, 17 };
	uint8_t buf[128];
	int n = rtcp_write_nack(buf, sizeof(buf), 1, 2, want, 8);
	/* PID 65534 with its mask covers 65535, 0 and 5 (up to 14); PID 16 covers 17;
	 * 40 goes alone: three FCIs. */
	assert_int_equal(n, 12 + 3 * 4);
	struct seen s = { 0 };
	assert_int_equal(rtcp_parse(buf, (size_t)n, &handler, &s, NULL), 0);
	assert_int_equal(s.fb_sender, 1);
	assert_int_equal(s.fb_media, 2);
	assert_int_equal(s.nseqs, 7);            /* the duplicate 5 once */
	for (size_t i = 0; i < 8; i++)
		assert_true(seq_seen(&s, want[i]));
	/* Every seq it named was asked for. */
	for (size_t i = 0; i < s.nseqs; i++) {
		int asked = 0;
		for (size_t j = 0; j < 8; j++)
			asked |= want[j] == s.seqs[i];
		assert_true(asked);
	}
	assert_int_equal(rtcp_write_nack(buf, 15, 1, 2, want, 8), SL_EINVAL);
	assert_int_equal(rtcp_write_nack(buf, sizeof(buf), 1, 2, want, 0), SL_EINVAL);
}

static void test_nack_expansion_is_capped(void **state)
{
	/* 40 FCIs each naming 17 packets = 680 > RTCP_MAX_NACK_SEQS. */
	uint8_t buf[12 + 40 * 4];
	buf[0] = 0x81;
	buf[1] = RTCP_RTPFB;
	wr_u16be(buf + 2, (uint16_t)(sizeof(buf) / 4 - 1));
	wr_u32be(buf + 4, 1);
	wr_u32be(buf + 8, 2);
	for (int i = 0; i < 40; i++) {
		wr_u16be(buf + 12 + i * 4, (uint16_t)(i * 17));
		wr_u16be(buf + 14 + i * 4, 0xffff);
	}
	struct seen s = { 0 };
	struct rtcp_stats st;
	assert_int_equal(rtcp_parse(buf, sizeof(buf), &handler, &s, &st), 0);
	assert_true(s.nseqs <= RTCP_MAX_NACK_SEQS);
	assert_int_equal(s.nseqs, (RTCP_MAX_NACK_SEQS / 17) * 17);
	assert_int_equal(st.nack_seqs, s.nseqs);
	assert_int_equal(st.nacks_dropped, 680 - s.nseqs);
}

static void test_pli_fir_and_remb_skipped(void **state)
{
	uint8_t buf[128];
	int n = rtcp_write_pli(buf, sizeof(buf), 0x01010101, 0x02020202);
	assert_int_equal(n, RTCP_PLI_SIZE);
	const uint8_t fir[] = {
		0x84, 206, 0x00, 0x04, 0, 0, 0, 9, 0, 0, 0, 0,
		0x0b, 0x0b, 0x0b, 0x0b, 42, 0, 0, 0,
	};
	memcpy(buf + n, fir, sizeof(fir));
	memcpy(buf + n + sizeof(fir), remb, sizeof(remb));
	struct seen s = { 0 };
	struct rtcp_stats st;
	assert_int_equal(rtcp_parse(buf, (size_t)n + sizeof(fir) + sizeof(remb), &handler, &s, &st), 0);
	assert_int_equal(s.plis, 1);
	assert_int_equal(s.firs, 1);
	assert_int_equal(s.fir_target, 0x0b0b0b0b);
	assert_int_equal(s.fir_seq, 42);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(rtcp_write_pli(buf, RTCP_PLI_SIZE - 1, 1, 2), SL_EINVAL);
}

static void test_malformed_compound_gives_no_events(void **state)
{
	uint8_t buf[64];
	int n = rtcp_write_pli(buf, sizeof(buf), 1, 2);
	struct seen s = { 0 };

	/* A second packet with version 1: the PLI before it must not be delivered. */
	memcpy(buf + n, buf, (size_t)n);
	buf[n] = 0x41;
	assert_int_equal(rtcp_parse(buf, 2 * (size_t)n, &handler, &s, NULL), SL_EPROTO);
	assert_int_equal(s.plis, 0);

	/* Length field past the end. */
	n = rtcp_write_pli(buf, sizeof(buf), 1, 2);
	assert_int_equal(rtcp_parse(buf, (size_t)n - 4, &handler, &s, NULL), SL_EPROTO);

	/* Padding on a packet that is not the last. */
	memcpy(buf + n, buf, (size_t)n);
	buf[0] |= 0x20;
	assert_int_equal(rtcp_parse(buf, 2 * (size_t)n, &handler, &s, NULL), SL_EPROTO);

	/* An SR whose count promises a report block it does not have. */
	struct rtcp_sender_info si = { 0 };
	n = rtcp_write_sr(buf, sizeof(buf), &si, NULL, 0);
	buf[0] |= 1;
	assert_int_equal(rtcp_parse(buf, (size_t)n, &handler, &s, NULL), SL_EPROTO);
	assert_int_equal(rtcp_parse(buf, 0, &handler, &s, NULL), SL_EPROTO);
	assert_int_equal(s.srs + s.blocks + s.plis, 0);

	/* Padding on the last packet is fine, and removed. */
	n = rtcp_write_pli(buf, sizeof(buf), 1, 2);
	buf[0] |= 0x20;
	buf[3] = 3;                                   /* 16 bytes */
	memset(buf + 12, 0, 4);
	buf[15] = 4;
	assert_int_equal(rtcp_parse(buf, 16, &handler, &s, NULL), 0);
	assert_int_equal(s.plis, 1);
}

static void test_ntp_time(void **state)
{
	assert_true(rtcp_ntp_from_unix_us(0) == (2208988800ull << 32));
	assert_true(rtcp_ntp_from_unix_us(1500000) == ((2208988801ull << 32) | 0x80000000ull));
	assert_int_equal(rtcp_ntp_middle(0x1122334455667788ull), 0x33445566);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sr_rr_sdes_bye_compound),
		cmocka_unit_test(test_nack_round_trip_across_wrap),
		cmocka_unit_test(test_nack_expansion_is_capped),
		cmocka_unit_test(test_pli_fir_and_remb_skipped),
		cmocka_unit_test(test_malformed_compound_gives_no_events),
		cmocka_unit_test(test_ntp_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
