/* SPDX-License-Identifier: Apache-2.0 */
/* stun.c - STUN parse and build for ICE-lite (see stun.h). */
#include "proto/stun.h"

#include <netinet/in.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/bytes.h"
#include "core/err.h"

#define FINGERPRINT_XOR 0x5354554eu
#define HMAC_SHA1_LEN 20

int stun_is_stun(const uint8_t *p, size_t n)
{
	/* RFC 7983: first byte 0..3 is STUN; the two top bits of the type are zero. */
	return n >= STUN_HEADER_LEN && p[0] < 4 && rd_u32be(p + 4) == STUN_MAGIC &&
	       (rd_u16be(p + 2) & 3) == 0;
}

uint32_t stun_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static int parse_xor_addr(const uint8_t *v, size_t len, const uint8_t *hdr, struct stun_msg *m)
{
	if (len < 8 || v[0] != 0)
		return SL_EPROTO;
	uint16_t port = rd_u16be(v + 2) ^ (uint16_t)(STUN_MAGIC >> 16);
	memset(&m->mapped, 0, sizeof(m->mapped));
	if (v[1] == 1 && len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&m->mapped;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		uint32_t a = rd_u32be(v + 4) ^ STUN_MAGIC;
		sin->sin_addr.s_addr = htonl(a);
	} else if (v[1] == 2 && len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->mapped;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ hdr[4 + i]; /* cookie then tid */
	} else {
		return SL_EPROTO;
	}
	m->has_mapped = 1;
	return 0;
}

int stun_parse(const uint8_t *p, size_t n, struct stun_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (!stun_is_stun(p, n) || n > STUN_MAX_MSG)
		return SL_EPROTO;
	m->type = rd_u16be(p);
	m->length = rd_u16be(p + 2);
	if ((size_t)m->length + STUN_HEADER_LEN != n)
		return SL_EPROTO;
	memcpy(m->tid, p + 8, STUN_TID_LEN);
	size_t off = STUN_HEADER_LEN;
	while (off < n) {
		if (n - off < 4)
			return SL_EPROTO;
		uint16_t type = rd_u16be(p + off), len = rd_u16be(p + off + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if (padded > n - off - 4)
			return SL_EPROTO;
		const uint8_t *v = p + off + 4;
		if (m->fingerprint_at)
			return SL_EPROTO; /* nothing may follow FINGERPRINT */
		if (m->integrity_at && type != STUN_ATTR_FINGERPRINT) {
			off += 4 + padded; /* after MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 8489 14.5) */
			continue;
		}
		switch (type) {
		case STUN_ATTR_USERNAME:
			if (len >= STUN_MAX_USERNAME)
				return SL_EPROTO;
			m->username = v;
			m->username_len = len;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (len != HMAC_SHA1_LEN)
				return SL_EPROTO;
			m->integrity_at = off;
			break;
		case STUN_ATTR_FINGERPRINT:
			if (len != 4)
				return SL_EPROTO;
			m->fingerprint_at = off;
			break;
		case STUN_ATTR_PRIORITY:
			if (len != 4)
				return SL_EPROTO;
			m->priority = rd_u32be(v);
			m->has_priority = 1;
			break;
		case STUN_ATTR_USE_CANDIDATE:
			if (len != 0)
				return SL_EPROTO;
			m->use_candidate = 1;
			break;
		case STUN_ATTR_ICE_CONTROLLING:
		case STUN_ATTR_ICE_CONTROLLED:
			if (len != 8)
				return SL_EPROTO;
			m->tiebreaker = rd_u64be(v);
			if (type == STUN_ATTR_ICE_CONTROLLING)
				m->ice_controlling = 1;
			else
				m->ice_controlled = 1;
			break;
		case STUN_ATTR_ERROR_CODE:
			if (len < 4)
				return SL_EPROTO;
			m->error_code = (v[2] & 7) * 100 + v[3];
			break;
		case STUN_ATTR_XOR_MAPPED_ADDRESS:
			if (parse_xor_addr(v, len, p, m) != 0)
				return SL_EPROTO;
			break;
		default:
			if (type < 0x8000 && !m->unknown_required)
				m->unknown_required = type;
			break;
		}
		off += 4 + padded;
	}
	return 0;
}

static void hmac_sha1(const void *key, size_t keylen, const uint8_t *msg, size_t n,
                      uint8_t out[HMAC_SHA1_LEN])
{
	unsigned int outlen = HMAC_SHA1_LEN;
	HMAC(EVP_sha1(), key, (int)keylen, msg, n, out, &outlen);
}

int stun_check_integrity(const uint8_t *p, size_t n, const struct stun_msg *m,
                         const void *key, size_t keylen)
{
	if (!m->integrity_at || m->integrity_at + 24 > n || n > STUN_MAX_MSG)
		return 0;
	/* The HMAC covers the header with its length set to end just after
	 * MESSAGE-INTEGRITY, then every attribute before it. */
	uint8_t buf[STUN_MAX_MSG];
	memcpy(buf, p, m->integrity_at);
	wr_u16be(buf + 2, (uint16_t)(m->integrity_at + 24 - STUN_HEADER_LEN));
	uint8_t mac[HMAC_SHA1_LEN];
	hmac_sha1(key, keylen, buf, m->integrity_at, mac);
	/* Constant time: a peer must not learn the MAC byte by byte. */
	uint8_t diff = 0;
	for (int i = 0; i < HMAC_SHA1_LEN; i++)
		diff |= mac[i] ^ p[m->integrity_at + 4 + i];
	return diff == 0;
}

int stun_check_fingerprint(const uint8_t *p, size_t n, const struct stun_msg *m)
{
	if (!m->fingerprint_at || m->fingerprint_at + 8 != n)
		return 0;
	uint32_t crc = stun_crc32(p, m->fingerprint_at) ^ FINGERPRINT_XOR;
	return crc == rd_u32be(p + m->fingerprint_at + 4);
}

/* A small bounded writer: any overflow marks it failed and the builder returns 0. */
struct wr {
	uint8_t *p;
	size_t cap, len;
	int bad;
};

static uint8_t *attr(struct wr *w, uint16_t type, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	if (w->bad || len > 0xffff || w->cap - w->len < 4 + padded) {
		w->bad = 1;
		return NULL;
	}
	uint8_t *a = w->p + w->len;
	wr_u16be(a, type);
	wr_u16be(a + 2, (uint16_t)len);
	memset(a + 4, 0, padded);
	w->len += 4 + padded;
	return a + 4;
}

static void begin(struct wr *w, uint8_t *out, size_t cap, uint16_t type, const uint8_t *tid)
{
	w->p = out;
	w->cap = cap;
	w->len = 0;
	w->bad = cap < STUN_HEADER_LEN;
	if (w->bad)
		return;
	wr_u16be(out, type);
	wr_u16be(out + 2, 0);
	wr_u32be(out + 4, STUN_MAGIC);
	memcpy(out + 8, tid, STUN_TID_LEN);
	w->len = STUN_HEADER_LEN;
}

/* Appends MESSAGE-INTEGRITY (if key) and FINGERPRINT; returns the length or 0. */
static size_t finish(struct wr *w, const void *key, size_t keylen)
{
	if (key) {
		size_t at = w->len;
		uint8_t *v = attr(w, STUN_ATTR_MESSAGE_INTEGRITY, HMAC_SHA1_LEN);
		if (!v)
			return 0;
		wr_u16be(w->p + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
		hmac_sha1(key, keylen, w->p, at, v);
	}
	size_t at = w->len;
	uint8_t *v = attr(w, STUN_ATTR_FINGERPRINT, 4);
	if (!v)
		return 0;
	wr_u16be(w->p + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
	wr_u32be(v, stun_crc32(w->p, at) ^ FINGERPRINT_XOR);
	return w->len;
}

size_t stun_build_success(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                          const struct sockaddr *peer, const void *key, size_t keylen)
{
	struct wr w;
	begin(&w, out, cap, STUN_BINDING_SUCCESS, tid);
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
		uint8_t *v = attr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, 8);
		if (!v)
			return 0;
		v[1] = 1;
		wr_u16be(v + 2, ntohs(sin->sin_port) ^ (uint16_t)(STUN_MAGIC >> 16));
		wr_u32be(v + 4, ntohl(sin->sin_addr.s_addr) ^ STUN_MAGIC);
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)peer;
		uint8_t *v = attr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, 20);
		if (!v)
			return 0;
		v[1] = 2;
		wr_u16be(v + 2, ntohs(sin6->sin6_port) ^ (uint16_t)(STUN_MAGIC >> 16));
		for (int i = 0; i < 16; i++)
			v[4 + i] = sin6->sin6_addr.s6_addr[i] ^ out[4 + i];
	} else {
		return 0;
	}
	return finish(&w, key, keylen);
}

size_t stun_build_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN], int code,
                        const char *reason, const void *key, size_t keylen)
{
	if (code < 300 || code > 699)
		return 0;
	struct wr w;
	begin(&w, out, cap, STUN_BINDING_ERROR, tid);
	size_t rlen = reason ? strlen(reason) : 0;
	if (rlen > 127)
		rlen = 127;
	uint8_t *v = attr(&w, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (!v)
		return 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(v + 4, reason, rlen);
	return finish(&w, key, keylen);
}

size_t stun_build_request(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                          const char *username, uint32_t priority, int controlling,
                          uint64_t tiebreaker, int use_candidate, const void *key, size_t keylen)
{
	struct wr w;
	begin(&w, out, cap, STUN_BINDING_REQUEST, tid);
	size_t ulen = strlen(username);
	if (ulen >= STUN_MAX_USERNAME)
		return 0;
	uint8_t *v = attr(&w, STUN_ATTR_USERNAME, ulen);
	if (!v)
		return 0;
	memcpy(v, username, ulen);
	if ((v = attr(&w, STUN_ATTR_PRIORITY, 4)) == NULL)
		return 0;
	wr_u32be(v, priority);
	if ((v = attr(&w, controlling ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED, 8)) == NULL)
		return 0;
	wr_u64be(v, tiebreaker);
	if (use_candidate && attr(&w, STUN_ATTR_USE_CANDIDATE, 0) == NULL)
		return 0;
	return finish(&w, key, keylen);
}
