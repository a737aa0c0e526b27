/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_handshake.c - the RTMP handshake, server and client side.
 *
 * The published spec describes only the simple handshake (S2 echoes C1).
 * Flash Player and the clients that imitate it (librtmp with SWF
 * verification, ffmpeg, OBS) send a C1 signed with an HMAC-SHA256 digest
 * and check that S1 and S2 are signed back; ffmpeg drops the connection on
 * a server that merely echoes.  So a server recognises the digest in C1 and,
 * if it is there, answers in kind; otherwise it echoes.
 *
 * Layout of a signed C1/S1: time(4) version(4) then 1528 bytes in which a
 * 32-byte digest sits at an offset derived from four bytes just before its
 * 764-byte half: scheme 0 sums bytes 8..11 (digest at sum % 728 + 12),
 * scheme 1 sums bytes 772..775 (digest at sum % 728 + 776).  The digest is
 * the HMAC of the other 1504 bytes.  A signed S2 is 1504 random bytes and
 * an HMAC of them keyed by HMAC(full server key, client digest).
 *
 * The random bytes here protect nothing (the keys are public); they only
 * have to look like what Flash sends.
 */
#include "proto/rtmp_handshake.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/clock.h"
#include "core/err.h"

#define DIGEST_LEN 32
#define C0C1_LEN (1 + RTMP_HS_SIZE)
#define S0S1S2_LEN (1 + 2 * RTMP_HS_SIZE)
#define RTMP_VERSION 3
#define RTMPE_VERSION 6
#define SERVER_VERSION 0x0d0e0a0du

/*
 * "Genuine Adobe Flash Media Server 001" followed by 32 constant bytes.
 * The first 36 bytes key S1's digest, all 68 key the S2 signature key.
 * The client key is "Genuine Adobe Flash Player 001" (30 bytes) and is
 * only ever used without the tail.
 */
static const uint8_t fms_key[68] = {
	'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
	'F', 'l', 'a', 's', 'h', ' ', 'M', 'e', 'd', 'i', 'a', ' ',
	'S', 'e', 'r', 'v', 'e', 'r', ' ', '0', '0', '1',
	0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8,
	0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
	0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab,
	0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};
#define FMS_KEY_TEXT_LEN 36

static const uint8_t fp_key[30] = {
	'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
	'F', 'l', 'a', 's', 'h', ' ', 'P', 'l', 'a', 'y', 'e', 'r', ' ',
	'0', '0', '1',
};

static void random_fill(uint8_t *p, size_t n)
{
	if (RAND_bytes(p, (int)n) == 1)
		return;
	/* Only reachable with a broken RNG; any filler will do (see top). */
	uint64_t x = clock_mono_us() | 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
                        size_t len, uint8_t out[DIGEST_LEN])
{
	unsigned int out_len = DIGEST_LEN;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &out_len))
		memset(out, 0, DIGEST_LEN);
}

/* Where the digest of a 1536-byte C1/S1 sits under scheme 0 or 1. */
static size_t digest_offset(const uint8_t *sig, int scheme)
{
	size_t base = scheme ? 772 : 8;
	size_t sum = (size_t)sig[base] + sig[base + 1] + sig[base + 2] + sig[base + 3];
	return sum % 728 + base + 4;
}

/* HMAC of sig without the 32 bytes at off. */
static void sig_digest(const uint8_t *sig, size_t off, const uint8_t *key,
                       size_t key_len, uint8_t out[DIGEST_LEN])
{
	uint8_t msg[RTMP_HS_SIZE - DIGEST_LEN];
	memcpy(msg, sig, off);
	memcpy(msg + off, sig + off + DIGEST_LEN, RTMP_HS_SIZE - off - DIGEST_LEN);
	hmac_sha256(key, key_len, msg, sizeof(msg), out);
}

/* Returns the scheme (0 or 1) under which c1 carries a valid digest, or -1. */
static int find_client_digest(const uint8_t *c1)
{
	if (rd_u32be(c1 + 4) == 0)
		return -1;
	for (int scheme = 0; scheme < 2; scheme++) {
		size_t off = digest_offset(c1, scheme);
		uint8_t want[DIGEST_LEN];
		sig_digest(c1, off, fp_key, sizeof(fp_key), want);
		if (CRYPTO_memcmp(want, c1 + off, DIGEST_LEN) == 0)
			return scheme;
	}
	return -1;
}

static uint32_t uptime_ms(void)
{
	return (uint32_t)clock_mono_ms();
}

/* Builds S0S1S2 in out for the C1 in hs->buf + 1. */
static void server_respond(struct rtmp_hs *hs, struct bytes *out)
{
	const uint8_t *c1 = hs->buf + 1;
	uint8_t *s = bytes_extend(out, S0S1S2_LEN);
	uint8_t *s1 = s + 1;
	uint8_t *s2 = s1 + RTMP_HS_SIZE;
	int scheme = find_client_digest(c1);

	s[0] = RTMP_VERSION;
	wr_u32be(s1, uptime_ms());
	random_fill(s1 + 8, RTMP_HS_SIZE - 8);
	hs->complex = scheme >= 0;
	if (!hs->complex) {
		wr_u32be(s1 + 4, 0);
		memcpy(s2, c1, RTMP_HS_SIZE);
		return;
	}

	wr_u32be(s1 + 4, SERVER_VERSION);
	size_t off = digest_offset(s1, scheme);
	sig_digest(s1, off, fms_key, FMS_KEY_TEXT_LEN, s1 + off);

	uint8_t key[DIGEST_LEN];
	hmac_sha256(fms_key, sizeof(fms_key), c1 + digest_offset(c1, scheme),
	            DIGEST_LEN, key);
	random_fill(s2, RTMP_HS_SIZE - DIGEST_LEN);
	hmac_sha256(key, sizeof(key), s2, RTMP_HS_SIZE - DIGEST_LEN,
	            s2 + RTMP_HS_SIZE - DIGEST_LEN);
}

void rtmp_hs_server_init(struct rtmp_hs *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->state = RTMP_HS_SERVER_WAIT_C0C1;
}

void rtmp_hs_client_init(struct rtmp_hs *hs, struct bytes *out)
{
	memset(hs, 0, sizeof(*hs));
	hs->state = RTMP_HS_CLIENT_WAIT_S0S1S2;
	wr_u32be(hs->c1, uptime_ms());
	wr_u32be(hs->c1 + 4, 0);
	random_fill(hs->c1 + 8, RTMP_HS_SIZE - 8);
	bytes_put_u8(out, RTMP_VERSION);
	bytes_append(out, hs->c1, RTMP_HS_SIZE);
}

static int fail(struct rtmp_hs *hs, int err)
{
	hs->state = RTMP_HS_FAILED;
	hs->err = err;
	return err;
}

/* Moves input from p[*off] on into hs->buf until it holds want bytes. */
static void collect(struct rtmp_hs *hs, const uint8_t *p, size_t n, size_t *off,
                    size_t want)
{
	size_t take = want - hs->have;
	if (take > n - *off)
		take = n - *off;
	if (take) {
		memcpy(hs->buf + hs->have, p + *off, take);
		hs->have += take;
		*off += take;
	}
}

int rtmp_hs_feed(struct rtmp_hs *hs, const uint8_t *p, size_t n, size_t *used,
                 struct bytes *out)
{
	size_t off = 0;

	*used = 0;
	for (;;) {
		switch (hs->state) {
		case RTMP_HS_SERVER_WAIT_C0C1:
			if (hs->have == 0 && off < n && p[off] != RTMP_VERSION) {
				*used = off + 1;
				return fail(hs, p[off] == RTMPE_VERSION ?
				                SL_EUNSUPP : SL_EPROTO);
			}
			collect(hs, p, n, &off, C0C1_LEN);
			*used = off;
			if (hs->have < C0C1_LEN)
				return SL_EAGAIN;
			server_respond(hs, out);
			hs->state = RTMP_HS_SERVER_WAIT_C2;
			hs->have = 0;
			break;
		case RTMP_HS_SERVER_WAIT_C2: {
			/* C2 is not checked (many clients send junk): count it only. */
			size_t take = RTMP_HS_SIZE - hs->have;
			if (take > n - off)
				take = n - off;
			off += take;
			hs->have += take;
			*used = off;
			if (hs->have < RTMP_HS_SIZE)
				return SL_EAGAIN;
			hs->state = RTMP_HS_DONE;
			return 0;
		}
		case RTMP_HS_CLIENT_WAIT_S0S1S2:
			if (hs->have == 0 && off < n && p[off] != RTMP_VERSION) {
				*used = off + 1;
				return fail(hs, SL_EPROTO);
			}
			collect(hs, p, n, &off, S0S1S2_LEN);
			*used = off;
			if (hs->have < S0S1S2_LEN)
				return SL_EAGAIN;
			bytes_append(out, hs->buf + 1, RTMP_HS_SIZE);
			hs->state = RTMP_HS_DONE;
			return 0;
		case RTMP_HS_FAILED:
			return hs->err;
		case RTMP_HS_DONE:
		default:
			return SL_EINVAL;
		}
	}
}
