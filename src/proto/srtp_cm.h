/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srtp_cm.h - the sending half of SRTP (RFC 3711) for the one profile
 * DTLS-SRTP negotiates with every browser, AES_CM_128_HMAC_SHA1_80, on
 * OpenSSL's AES-CTR and SHA-1.
 *
 * Why not libsrtp2 for this: Debian builds libsrtp2 on NSS, whose AES and
 * HMAC set up and tear down a PKCS#11 context (allocations, a mutex) for
 * every packet; measured on the node, that was half of the CPU a WebRTC
 * viewer costs (docs/benchmarks.md, "WebRTC").  Here the session keys are
 * derived once, the cipher context and the HMAC's inner and outer SHA-1
 * states are kept, and a packet costs one AES-CTR pass and two SHA-1
 * finishes.  libsrtp2 still does everything else in the node (SRTCP, the
 * receiving side); the unit test checks this against it byte for byte.
 * srtp_cm_unprotect is the receiving half for the load client (bench/),
 * whose WebRTC viewers would otherwise spend more CPU than the node.
 *
 * Pure: bytes and keys in, bytes out; no I/O, no allocation per packet.
 */
#ifndef SLUICE_PROTO_SRTP_CM_H
#define SLUICE_PROTO_SRTP_CM_H

#include <stddef.h>
#include <stdint.h>

#define SRTP_CM_KEY_LEN 16
#define SRTP_CM_SALT_LEN 14
#define SRTP_CM_TAG_LEN 10
/* Senders (SSRCs) one context numbers: a WebRTC session sends two (video, audio). */
#define SRTP_CM_MAX_SSRC 4

/* One context either sends or receives: the numbering of each SSRC it met. */
struct srtp_cm_sender {
	uint32_t ssrc;
	uint32_t roc;            /* rollover counter of the highest sequence number */
	uint16_t max_seq;
	int used;
};

/* Opaque to callers: fill with srtp_cm_init(), release with srtp_cm_free(). */
struct srtp_cm {
	void *aes;               /* EVP_CIPHER_CTX, AES-128-CTR with the session key */
	void *inner, *outer;     /* EVP_MD_CTX: SHA-1 after the HMAC's ipad / opad block */
	void *work;              /* EVP_MD_CTX scratch */
	uint8_t salt[SRTP_CM_SALT_LEN];
	struct srtp_cm_sender snd[SRTP_CM_MAX_SSRC];
	unsigned next_slot;      /* the slot a new SSRC takes when all are used */
};

/* Derives the session keys from the master key and salt (RFC 3711 4.3, kdr 0).  0 or SL_EIO. */
int srtp_cm_init(struct srtp_cm *c, const uint8_t key[SRTP_CM_KEY_LEN],
                 const uint8_t salt[SRTP_CM_SALT_LEN]);
void srtp_cm_free(struct srtp_cm *c);

/*
 * Protects the RTP packet p[0..n) in place: encrypts its payload and
 * appends the 10-byte tag, so cap must be >= n + SRTP_CM_TAG_LEN.  A
 * sequence number older than the highest sent for its SSRC (a NACK
 * retransmission) is protected with its own rollover counter.  Returns the
 * new length, or SL_EINVAL (no room, not an RTP header) or SL_EIO.
 */
int srtp_cm_protect(struct srtp_cm *c, uint8_t *p, size_t n, size_t cap);

/*
 * Checks the tag of the SRTP packet p[0..n) and decrypts its payload in
 * place; the rollover counter is estimated from the highest sequence
 * number authenticated so far (RFC 3711 3.3.1).  Returns the RTP packet's
 * length (n less the tag), SL_EPROTO when it is not an SRTP packet, or
 * SL_EAUTH when the tag is wrong (p is left as it was).  There is no replay
 * window: a repeated packet is accepted again (the load client counts
 * repeats itself; the node does not receive RTP).
 */
int srtp_cm_unprotect(struct srtp_cm *c, uint8_t *p, size_t n);

#endif
