/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srtp_cm.c - SRTP AES_CM_128_HMAC_SHA1_80 protection of RTP (see srtp_cm.h).
 *
 * RFC 3711: the keystream of a packet is AES-128 in counter mode from
 * IV = (k_s << 16) ^ (SSRC << 64) ^ (index << 16), index = ROC << 16 | SEQ
 * (4.1.1); the tag is the first 80 bits of HMAC-SHA1(k_a, header | encrypted
 * payload | ROC) (4.2).  Session keys come from the master key with the
 * AES-CM PRF, labels 0 (k_e), 1 (k_a), 2 (k_s), key derivation rate 0 (4.3).
 */
#include "proto/srtp_cm.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/rtp.h"

#define SHA1_BLOCK 64
#define SHA1_LEN 20
#define AUTH_KEY_LEN 20

/* The AES-CM PRF: n bytes of keystream for label under the master key and salt. */
static int derive(const uint8_t key[SRTP_CM_KEY_LEN], const uint8_t salt[SRTP_CM_SALT_LEN],
                  uint8_t label, uint8_t *out, int n)
{
	uint8_t iv[16] = { 0 };
	memcpy(iv, salt, SRTP_CM_SALT_LEN);
	iv[7] ^= label;          /* key_id = label || r (r = 0, 48 bits), XORed into the salt */
	uint8_t zero[32] = { 0 };
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int len = 0;
	int ok = x && n <= (int)sizeof(zero) &&
	         EVP_EncryptInit_ex(x, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
	         EVP_EncryptUpdate(x, out, &len, zero, n) == 1 && len == n;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : SL_EIO;
}

/* One SHA-1 state that has absorbed (auth key ^ pad), for the HMAC's inner or outer hash. */
static EVP_MD_CTX *hmac_half(const uint8_t k[AUTH_KEY_LEN], uint8_t pad)
{
	uint8_t block[SHA1_BLOCK];
	memset(block, pad, sizeof(block));
	for (int i = 0; i < AUTH_KEY_LEN; i++)
		block[i] ^= k[i];
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (m && (EVP_DigestInit_ex(m, EVP_sha1(), NULL) != 1 ||
	          EVP_DigestUpdate(m, block, sizeof(block)) != 1)) {
		EVP_MD_CTX_free(m);
		m = NULL;
	}
	memset(block, 0, sizeof(block));
	return m;
}

int srtp_cm_init(struct srtp_cm *c, const uint8_t key[SRTP_CM_KEY_LEN],
                 const uint8_t salt[SRTP_CM_SALT_LEN])
{
	memset(c, 0, sizeof(*c));
	uint8_t ke[SRTP_CM_KEY_LEN], ka[AUTH_KEY_LEN];
	if (derive(key, salt, 0, ke, sizeof(ke)) != 0 || derive(key, salt, 1, ka, sizeof(ka)) != 0 ||
	    derive(key, salt, 2, c->salt, sizeof(c->salt)) != 0)
		return SL_EIO;
	EVP_CIPHER_CTX *aes = EVP_CIPHER_CTX_new();
	c->aes = aes;
	c->inner = hmac_half(ka, 0x36);
	c->outer = hmac_half(ka, 0x5c);
	c->work = EVP_MD_CTX_new();
	int ok = aes && EVP_EncryptInit_ex(aes, EVP_aes_128_ctr(), NULL, ke, NULL) == 1 &&
	         c->inner && c->outer && c->work;
	memset(ke, 0, sizeof(ke));
	memset(ka, 0, sizeof(ka));
	if (!ok) {
		srtp_cm_free(c);
		return SL_EIO;
	}
	return 0;
}

void srtp_cm_free(struct srtp_cm *c)
{
	EVP_CIPHER_CTX_free(c->aes);
	EVP_MD_CTX_free(c->inner);
	EVP_MD_CTX_free(c->outer);
	EVP_MD_CTX_free(c->work);
	memset(c, 0, sizeof(*c));
}

static struct srtp_cm_sender *find_sender(struct srtp_cm *c, uint32_t ssrc)
{
	for (unsigned i = 0; i < SRTP_CM_MAX_SSRC; i++)
		if (c->snd[i].used && c->snd[i].ssrc == ssrc)
			return &c->snd[i];
	return NULL;
}

/* A slot for a new ssrc with seq as its highest, ROC 0: a free one, else the next in turn. */
static struct srtp_cm_sender *claim_sender(struct srtp_cm *c, uint32_t ssrc, uint16_t seq)
{
	struct srtp_cm_sender *s = NULL;
	for (unsigned i = 0; i < SRTP_CM_MAX_SSRC && !s; i++)
		if (!c->snd[i].used)
			s = &c->snd[i];
	if (!s)
		s = &c->snd[c->next_slot++ % SRTP_CM_MAX_SSRC];
	s->used = 1;
	s->ssrc = ssrc;
	s->roc = 0;
	s->max_seq = seq;
	return s;
}

/* The numbering of ssrc; a new one claims a slot. */
static struct srtp_cm_sender *numbering(struct srtp_cm *c, uint32_t ssrc, uint16_t seq, int *fresh)
{
	struct srtp_cm_sender *s = find_sender(c, ssrc);
	*fresh = !s;
	return s ? s : claim_sender(c, ssrc, seq);
}

/* The rollover counter for seq of ssrc when sending, keeping the highest sent. */
static uint32_t roc_for(struct srtp_cm *c, uint32_t ssrc, uint16_t seq)
{
	int fresh;
	struct srtp_cm_sender *s = numbering(c, ssrc, seq, &fresh);
	if (fresh)
		return 0;
	int d = rtp_seq_diff(seq, s->max_seq);
	if (d > 0) {
		if (seq < s->max_seq)
			s->roc++;        /* wrapped going forward */
		s->max_seq = seq;
		return s->roc;
	}
	/* An older one (a retransmission): before the last wrap if it sits numerically above. */
	return seq > s->max_seq && s->roc > 0 ? s->roc - 1 : s->roc;
}

/* The packet's IV: (k_s << 16) ^ (SSRC << 64) ^ (index << 16). */
static void packet_iv(const struct srtp_cm *c, uint32_t ssrc, uint32_t roc, uint16_t seq,
                      uint8_t iv[16])
{
	memset(iv, 0, 16);
	memcpy(iv, c->salt, SRTP_CM_SALT_LEN);
	uint8_t idx[6];
	wr_u32be(idx, roc);
	wr_u16be(idx + 4, seq);
	for (int i = 0; i < 4; i++)
		iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= idx[i];
}

/* The full HMAC-SHA1 of p[0..n) followed by roc. */
static int tag(struct srtp_cm *c, const uint8_t *p, size_t n, uint32_t roc, uint8_t mac[SHA1_LEN])
{
	uint8_t rocb[4];
	unsigned ml = 0;
	wr_u32be(rocb, roc);
	EVP_MD_CTX *w = c->work;
	return EVP_MD_CTX_copy_ex(w, c->inner) == 1 && EVP_DigestUpdate(w, p, n) == 1 &&
	       EVP_DigestUpdate(w, rocb, 4) == 1 && EVP_DigestFinal_ex(w, mac, &ml) == 1 &&
	       EVP_MD_CTX_copy_ex(w, c->outer) == 1 && EVP_DigestUpdate(w, mac, SHA1_LEN) == 1 &&
	       EVP_DigestFinal_ex(w, mac, &ml) == 1 ? 0 : SL_EIO;
}

static int keystream_xor(struct srtp_cm *c, const uint8_t iv[16], uint8_t *p, int n)
{
	int out = 0;
	if (EVP_EncryptInit_ex(c->aes, NULL, NULL, NULL, iv) != 1 ||
	    (n > 0 && EVP_EncryptUpdate(c->aes, p, &out, p, n) != 1))
		return SL_EIO;
	return 0;
}

int srtp_cm_protect(struct srtp_cm *c, uint8_t *p, size_t n, size_t cap)
{
	struct rtp_header h;
	if (!c->aes || cap < n + SRTP_CM_TAG_LEN || n > 0x7fffffff || rtp_parse(p, n, &h) != 0)
		return SL_EINVAL;
	uint32_t roc = roc_for(c, h.ssrc, h.seq);
	uint8_t iv[16], mac[SHA1_LEN];
	packet_iv(c, h.ssrc, roc, h.seq, iv);
	if (keystream_xor(c, iv, p + h.header_len, (int)(n - h.header_len)) != 0 ||
	    tag(c, p, n, roc, mac) != 0)
		return SL_EIO;
	memcpy(p + n, mac, SRTP_CM_TAG_LEN);
	return (int)(n + SRTP_CM_TAG_LEN);
}

int srtp_cm_unprotect(struct srtp_cm *c, uint8_t *p, size_t n)
{
	struct rtp_header h;
	if (!c->aes || n < RTP_HEADER_SIZE + SRTP_CM_TAG_LEN || n > 0x7fffffff)
		return SL_EPROTO;
	size_t len = n - SRTP_CM_TAG_LEN;
	/* Padding is encrypted, so only the header can be read before decrypting: parse it
	 * with the padding bit masked. */
	uint8_t b0 = p[0];
	p[0] &= (uint8_t)~0x20;
	int rc = rtp_parse(p, len, &h);
	p[0] = b0;
	if (rc != 0)
		return SL_EPROTO;
	/* Looked up only: a slot is claimed once the tag holds, so a forged packet of a new SSRC
	 * cannot evict a live sender's numbering. */
	struct srtp_cm_sender *s = find_sender(c, h.ssrc);
	/* RFC 3711 3.3.1: the ROC that puts seq nearest the highest authenticated. */
	uint32_t v = s ? s->roc : 0;
	if (s) {
		if (s->max_seq < 0x8000) {
			if (h.seq > s->max_seq && h.seq - s->max_seq > 0x8000 && s->roc > 0)
				v = s->roc - 1;
		} else if (h.seq < s->max_seq - 0x8000) {
			v = s->roc + 1;
		}
	}
	uint8_t mac[SHA1_LEN], iv[16];
	if (tag(c, p, len, v, mac) != 0)
		return SL_EIO;
	if (CRYPTO_memcmp(mac, p + len, SRTP_CM_TAG_LEN) != 0)
		return SL_EAUTH;
	packet_iv(c, h.ssrc, v, h.seq, iv);
	if (keystream_xor(c, iv, p + h.header_len, (int)(len - h.header_len)) != 0)
		return SL_EIO;
	if (!s) {
		claim_sender(c, h.ssrc, h.seq);
	} else if (v == s->roc + 1 || (v == s->roc && rtp_seq_diff(h.seq, s->max_seq) > 0)) {
		s->roc = v;
		s->max_seq = h.seq;
	}
	return (int)len;
}
