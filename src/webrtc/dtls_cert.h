/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dtls_cert.h - the node's DTLS identity for WebRTC: a self-generated ECDSA
 * P-256 certificate, made once at start, whose sha-256 fingerprint every SDP
 * answer carries (RFC 8122), and the DTLS server context built on it with
 * DTLS-SRTP (RFC 5764) offering AES_CM_128_HMAC_SHA1_80.
 *
 * The browser checks our fingerprint; we check the browser's certificate
 * against the fingerprint of its offer after the handshake (peer_fp_ok).
 */
#ifndef SLUICE_WEBRTC_DTLS_CERT_H
#define SLUICE_WEBRTC_DTLS_CERT_H

#include <stdint.h>

#include <openssl/ssl.h>

#define DTLS_FP_LEN 32
#define DTLS_CERT_DAYS 30        /* a browser does not check the validity, only the fingerprint */

struct dtls_identity {
	SSL_CTX *ctx;
	uint8_t fingerprint[DTLS_FP_LEN];
};

/* 0, or SL_EIO with the OpenSSL reason in err. */
int dtls_identity_init(struct dtls_identity *id, char *err, size_t errlen);
void dtls_identity_free(struct dtls_identity *id);

/* 1 when ssl's peer certificate has the sha-256 fingerprint fp. */
int dtls_peer_fp_ok(SSL *ssl, const uint8_t fp[DTLS_FP_LEN]);

#endif
