/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rtp_jitter.c - the receive reorder buffer: in-order delivery of
 * shuffled packets, across the 16-bit wrap; a gap waited for, NACKed a
 * bounded number of times, then given up; duplicates and late packets;
 * the packet bound; a restart of the sender's numbering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "media/rtp_jitter.h"

static void push(struct rtp_jitter *j, uint16_t seq, uint64_t now)
{
	uint8_t p[4] = { (uint8_t)(seq >> 8), (uint8_t)seq, 0xab, 0xcd };
	assert_int_equal(rtp_jitter_push(j, seq, (uint32_t)seq * 3000u, seq & 1, p, sizeof(p), now), 0);
}

/* Pops everything due now; returns how many, checking each carries its own seq. */
static int pop_all(struct rtp_jitter *j, uint64_t now, uint16_t *seqs, unsigned *lost)
{
	struct rtp_jitter_pkt pk;
	int n = 0;
	while (rtp_jitter_pop(j, now, &pk, lost) == 1) {
		assert_int_equal(pk.len, 4);
		assert_int_equal(pk.payload[0], (uint8_t)(pk.seq >> 8));
		assert_int_equal(pk.payload[1], (uint8_t)pk.seq);
		assert_int_equal(pk.ts, (uint32_t)pk.seq * 3000u);
		if (seqs)
			seqs[n] = pk.seq;
		n++;
		free(pk.payload);
	}
	return n;
}

static void test_reorders_across_wrap(void **state)
{
	(void)state;
	struct rtp_jitter j;
	rtp_jitter_init(&j, 64, 100);
	/* 65530..65535, 0..9 arriving in pairs swapped */
	uint16_t order[16];
	for (int i = 0; i < 16; i++)
		order[i] = (uint16_t)(65530 + i);
	for (int i = 0; i + 1 < 16; i += 2) {
		uint16_t t = order[i];
		order[i] = order[i + 1];
		order[i + 1] = t;
	}
	/* The first packet defines where delivery starts: give the lowest first. */
	uint16_t got[16];
	int n = 0;
	unsigned lost = 0;
	push(&j, 65530, 0);
	for (int i = 0; i < 16; i++) {
		if (order[i] != 65530)
			push(&j, order[i], 0);
		n += pop_all(&j, 0, got + n, &lost);
	}
	assert_int_equal(n, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(got[i], (uint16_t)(65530 + i));
	assert_int_equal(lost, 0);
	assert_true(j.reordered > 0);
	assert_int_equal(j.held, 0);
	rtp_jitter_free(&j);
}

static void test_gap_nacked_then_given_up(void **state)
{
	(void)state;
	struct rtp_jitter j;
	rtp_jitter_init(&j, 64, 100);
	unsigned lost = 0;
	push(&j, 10, 0);
	push(&j, 11, 0);
	push(&j, 14, 5);              /* 12 and 13 missing */
	assert_int_equal(pop_all(&j, 5, NULL, &lost), 2);
	uint16_t miss[8];
	assert_int_equal(rtp_jitter_missing(&j, 5, miss, 8), 2);
	assert_int_equal(miss[0], 12);
	assert_int_equal(miss[1], 13);
	/* Not again before the retry interval; at most RTP_JITTER_MAX_NACKS times in all. */
	assert_int_equal(rtp_jitter_missing(&j, 6, miss, 8), 0);
	assert_int_equal(rtp_jitter_missing(&j, 5 + RTP_JITTER_NACK_RETRY_MS, miss, 8), 2);
	assert_int_equal(rtp_jitter_missing(&j, 5 + 2 * RTP_JITTER_NACK_RETRY_MS, miss, 8), 2);
	assert_int_equal(rtp_jitter_missing(&j, 5 + 3 * RTP_JITTER_NACK_RETRY_MS, miss, 8), 0);
	/* The retransmission of 12 arrives: delivered; 13 still awaited until 100 ms after 14 came. */
	push(&j, 12, 50);
	uint16_t got[4];
	assert_int_equal(pop_all(&j, 50, got, &lost), 1);
	assert_int_equal(got[0], 12);
	assert_int_equal(pop_all(&j, 104, NULL, &lost), 0);
	assert_int_equal(lost, 0);
	assert_int_equal(pop_all(&j, 105, got, &lost), 1);
	assert_int_equal(got[0], 14);
	assert_int_equal(lost, 1);
	assert_int_equal(j.lost, 1);
	/* 13 arriving now is too late; 14 again is too. */
	uint8_t p[4] = { 0 };
	assert_int_equal(rtp_jitter_push(&j, 13, 0, 0, p, 4, 106), 1);
	assert_int_equal(rtp_jitter_push(&j, 14, 0, 0, p, 4, 106), 1);
	assert_int_equal(j.late, 2);
	rtp_jitter_free(&j);
}

static void test_duplicates_and_limits(void **state)
{
	(void)state;
	struct rtp_jitter j;
	rtp_jitter_init(&j, 20, 100);  /* rounds up to 32 */
	assert_int_equal(j.cap, 32);
	push(&j, 100, 0);
	push(&j, 102, 0);
	uint8_t p[4] = { 0 };
	assert_int_equal(rtp_jitter_push(&j, 102, 0, 0, p, 4, 0), 1);
	assert_int_equal(j.duplicates, 1);
	static uint8_t big[RTP_JITTER_MAX_PAYLOAD + 1];
	assert_int_equal(rtp_jitter_push(&j, 103, 0, 0, big, sizeof(big), 0), SL_ELIMIT);
	/* 101 never comes; a packet a whole window ahead pushes the start along. */
	push(&j, 100 + 40, 1);
	assert_true(j.held <= j.cap);
	unsigned lost = 0;
	uint16_t got[64];
	int n = pop_all(&j, 1000, got, &lost);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 140);
	assert_int_equal(j.lost, 40);  /* 100..139: the held 100 and 102 were pushed out unread too */
	rtp_jitter_free(&j);
}

static void test_restart(void **state)
{
	(void)state;
	struct rtp_jitter j;
	rtp_jitter_init(&j, 0, 0);
	assert_int_equal(j.cap, RTP_JITTER_DEFAULT_PACKETS);
	unsigned lost = 0;
	push(&j, 1000, 0);
	push(&j, 1001, 0);
	assert_int_equal(pop_all(&j, 0, NULL, &lost), 2);
	push(&j, 40000, 1);            /* the sender started over elsewhere */
	assert_int_equal(j.resets, 1);
	uint16_t got[2];
	assert_int_equal(pop_all(&j, 1, got, &lost), 1);
	assert_int_equal(got[0], 40000);
	assert_int_equal(lost, 0);
	push(&j, 40002, 2);
	rtp_jitter_free(&j);           /* frees what it still holds (ASan would tell) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reorders_across_wrap),
		cmocka_unit_test(test_gap_nacked_then_given_up),
		cmocka_unit_test(test_duplicates_and_limits),
		cmocka_unit_test(test_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
