/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_srtp_cm.c - our SRTP sender (AES_CM_128_HMAC_SHA1_80) against libsrtp2.
 *
 * libsrtp2 is the reference: every packet protected by srtp_cm must be the
 * very bytes libsrtp2's srtp_protect makes with the same master key and salt
 * (so the key derivation, the IV, the encryption and the tag all agree), and
 * libsrtp2's receiving side must accept it and give the packet back.  The
 * sequence covers a sequence-number wrap (the rollover counter), a NACK
 * retransmission from before the wrap, two SSRCs in one context, a header
 * with CSRCs and an extension, an empty payload, and the refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <srtp2/srtp.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/rtp.h"
#include "proto/srtp_cm.h"

static const uint8_t master[30] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
	0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};

struct pair {
	struct srtp_cm ours;
	srtp_t ref_out, ref_in;
};

static void setup_pair(struct pair *p)
{
	assert_int_equal(srtp_cm_init(&p->ours, master, master + 16), 0);
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	uint8_t key[30];
	memcpy(key, master, sizeof(key));
	pol.key = key;
	pol.window_size = 1024;
	pol.allow_repeat_tx = 1;
	pol.ssrc.type = ssrc_any_outbound;
	assert_int_equal(srtp_create(&p->ref_out, &pol), srtp_err_status_ok);
	pol.ssrc.type = ssrc_any_inbound;
	assert_int_equal(srtp_create(&p->ref_in, &pol), srtp_err_status_ok);
}

static void free_pair(struct pair *p)
{
	srtp_cm_free(&p->ours);
	srtp_dealloc(p->ref_out);
	srtp_dealloc(p->ref_in);
}

/* Protects one packet both ways and checks the bytes agree and libsrtp2 reads ours back.
 * in_order: libsrtp2's receiver takes it (a retransmission it has seen it would refuse). */
static void same(struct pair *p, const uint8_t *pkt, size_t n, int in_order)
{
	uint8_t a[1600], b[1600], c[1600];
	memcpy(a, pkt, n);
	memcpy(b, pkt, n);
	int la = srtp_cm_protect(&p->ours, a, n, sizeof(a));
	int lb = (int)n;
	assert_int_equal(srtp_protect(p->ref_out, b, &lb), srtp_err_status_ok);
	assert_int_equal(la, lb);
	assert_int_equal(la, (int)n + SRTP_CM_TAG_LEN);
	assert_memory_equal(a, b, (size_t)la);
	if (!in_order)
		return;
	memcpy(c, a, (size_t)la);
	int lc = la;
	assert_int_equal(srtp_unprotect(p->ref_in, c, &lc), srtp_err_status_ok);
	assert_int_equal(lc, (int)n);
	assert_memory_equal(c, pkt, n);
}

static size_t packet(uint8_t *out, uint16_t seq, uint32_t ssrc, size_t payload)
{
	rtp_write_simple(out, 102, 0, seq, 90000u + seq * 3000u, ssrc);
	for (size_t i = 0; i < payload; i++)
		out[RTP_HEADER_SIZE + i] = (uint8_t)(i * 7 + seq);
	return RTP_HEADER_SIZE + payload;
}

static void test_matches_libsrtp_across_a_wrap(void **state)
{
	(void)state;
	struct pair p;
	setup_pair(&p);
	uint8_t pkt[1600];
	/* Sizes from a single byte to a full datagram, through the 16-bit wrap. */
	static const size_t sizes[] = { 1, 15, 16, 17, 100, 1160, 1188 };
	uint16_t seq = 65530;
	for (int i = 0; i < 14; i++, seq++)
		same(&p, pkt, packet(pkt, seq, 0x11223344, sizes[i % 7]), 1);
	/* A NACK asks for 65533 again, from before the wrap: the old rollover counter. */
	same(&p, pkt, packet(pkt, 65533, 0x11223344, 500), 0);
	/* And the newest goes on with the new one. */
	same(&p, pkt, packet(pkt, seq, 0x11223344, 500), 1);
	free_pair(&p);
}

static void test_two_ssrcs_and_a_long_header(void **state)
{
	(void)state;
	struct pair p;
	setup_pair(&p);
	uint8_t pkt[1600];
	for (uint16_t i = 0; i < 5; i++) {
		same(&p, pkt, packet(pkt, (uint16_t)(100 + i), 0xaaaa0001, 1100), 1);
		same(&p, pkt, packet(pkt, (uint16_t)(65533 + i), 0xbbbb0002, 160), 1);
	}
	/* CSRCs and an RFC 8285 extension are header: authenticated, not encrypted. */
	static const uint8_t full[] = {
		0x92, 0xe6, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xaa, 0x00, 0x01,
		0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00,
		'p', 'a', 'y', 'l', 'o', 'a', 'd',
	};
	same(&p, full, sizeof(full), 1);
	/* No payload at all: only the tag. */
	same(&p, pkt, packet(pkt, 0x1235, 0xaaaa0001, 0), 1);
	free_pair(&p);
}

/* The receiving half: libsrtp2's packets (through a wrap, and with a packet lost at the
 * wrap) decrypt to what was sent; a changed byte or the wrong key is refused. */
static void test_unprotect_what_libsrtp_protects(void **state)
{
	(void)state;
	struct pair p;
	setup_pair(&p);
	struct srtp_cm rx;
	assert_int_equal(srtp_cm_init(&rx, master, master + 16), 0);
	uint8_t pkt[1600], b[1600];
	uint16_t seq = 65000;
	for (int i = 0; i < 40; i++, seq = (uint16_t)(seq + 37)) {  /* through the wrap */
		size_t n = packet(pkt, seq, 0x5eed0001, (size_t)(seq % 1200));
		memcpy(b, pkt, n);
		int lb = (int)n;
		assert_int_equal(srtp_protect(p.ref_out, b, &lb), srtp_err_status_ok);
		assert_int_equal(srtp_cm_unprotect(&rx, b, (size_t)lb), (int)n);
		assert_memory_equal(b, pkt, n);
	}
	/* One bit changed anywhere: refused, the packet left as it was. */
	size_t n = packet(pkt, 800, 0x5eed0001, 300);
	int lb = (int)n;
	assert_int_equal(srtp_protect(p.ref_out, pkt, &lb), srtp_err_status_ok);
	memcpy(b, pkt, (size_t)lb);
	b[100] ^= 1;
	assert_int_equal(srtp_cm_unprotect(&rx, b, (size_t)lb), SL_EAUTH);
	b[100] ^= 1;
	assert_memory_equal(b, pkt, (size_t)lb);
	/* Too short to hold a header and a tag. */
	assert_int_equal(srtp_cm_unprotect(&rx, b, RTP_HEADER_SIZE + SRTP_CM_TAG_LEN - 1),
	                 SL_EPROTO);
	/* Another key: refused. */
	struct srtp_cm other;
	uint8_t key2[30];
	memcpy(key2, master, sizeof(key2));
	key2[0] ^= 0x80;
	assert_int_equal(srtp_cm_init(&other, key2, key2 + 16), 0);
	assert_int_equal(srtp_cm_unprotect(&other, b, (size_t)lb), SL_EAUTH);
	/* And ours round trips through ours. */
	n = packet(pkt, 900, 0x5eed0002, 1000);
	memcpy(b, pkt, n);
	int la = srtp_cm_protect(&p.ours, b, n, sizeof(b));
	assert_int_equal(srtp_cm_unprotect(&rx, b, (size_t)la), (int)n);
	assert_memory_equal(b, pkt, n);
	srtp_cm_free(&other);
	srtp_cm_free(&rx);
	free_pair(&p);
}

/* A forged packet of a new SSRC (bad tag) while every slot is taken must not evict a live
 * sender: its next packet, past a wrap (ROC 1), still authenticates. */
static void test_forged_ssrc_evicts_nobody(void **state)
{
	(void)state;
	struct srtp_cm tx, rx;
	assert_int_equal(srtp_cm_init(&tx, master, master + 16), 0);
	assert_int_equal(srtp_cm_init(&rx, master, master + 16), 0);
	uint8_t pkt[200];
	static const uint16_t seqs[] = { 65535, 0 };
	for (int i = 0; i < 2; i++) {
		int n = srtp_cm_protect(&tx, pkt, packet(pkt, seqs[i], 7, 40), sizeof(pkt));
		assert_int_equal(srtp_cm_unprotect(&rx, pkt, (size_t)n), n - SRTP_CM_TAG_LEN);
	}
	for (uint32_t ssrc = 8; ssrc < 8 + SRTP_CM_MAX_SSRC - 1; ssrc++) {
		int n = srtp_cm_protect(&tx, pkt, packet(pkt, 1, ssrc, 40), sizeof(pkt));
		assert_int_equal(srtp_cm_unprotect(&rx, pkt, (size_t)n), n - SRTP_CM_TAG_LEN);
	}
	/* The forger's own sender (tx has no room for a fifth SSRC either). */
	struct srtp_cm forger;
	assert_int_equal(srtp_cm_init(&forger, master, master + 16), 0);
	for (int i = 0; i < SRTP_CM_MAX_SSRC; i++) {
		int n = srtp_cm_protect(&forger, pkt, packet(pkt, 1, 100, 40), sizeof(pkt));
		pkt[n - 1] ^= 1;
		assert_int_equal(srtp_cm_unprotect(&rx, pkt, (size_t)n), SL_EAUTH);
	}
	int n = srtp_cm_protect(&tx, pkt, packet(pkt, 1, 7, 40), sizeof(pkt));
	assert_int_equal(srtp_cm_unprotect(&rx, pkt, (size_t)n), n - SRTP_CM_TAG_LEN);
	uint8_t want[200];
	packet(want, 1, 7, 40);
	assert_memory_equal(pkt, want, RTP_HEADER_SIZE + 40);
	srtp_cm_free(&forger);
	srtp_cm_free(&tx);
	srtp_cm_free(&rx);
}

static void test_refusals(void **state)
{
	(void)state;
	struct srtp_cm c;
	assert_int_equal(srtp_cm_init(&c, master, master + 16), 0);
	uint8_t pkt[64];
	size_t n = packet(pkt, 1, 5, 20);
	/* No room for the tag. */
	assert_int_equal(srtp_cm_protect(&c, pkt, n, n + SRTP_CM_TAG_LEN - 1), SL_EINVAL);
	/* Not RTP (version 1). */
	pkt[0] = 0x40;
	assert_int_equal(srtp_cm_protect(&c, pkt, n, sizeof(pkt)), SL_EINVAL);
	/* Shorter than a header. */
	assert_int_equal(srtp_cm_protect(&c, pkt, 8, sizeof(pkt)), SL_EINVAL);
	srtp_cm_free(&c);
	/* A freed context refuses rather than crashes. */
	n = packet(pkt, 1, 5, 20);
	assert_int_equal(srtp_cm_protect(&c, pkt, n, sizeof(pkt)), SL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_libsrtp_across_a_wrap),
		cmocka_unit_test(test_two_ssrcs_and_a_long_header),
		cmocka_unit_test(test_unprotect_what_libsrtp_protects),
		cmocka_unit_test(test_forged_ssrc_evicts_nobody),
		cmocka_unit_test(test_refusals),
	};
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
