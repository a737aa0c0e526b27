/* SPDX-License-Identifier: Apache-2.0 */
/* dtls_cert.c - the node's self-signed DTLS certificate and context (see dtls_cert.h). */
#include "webrtc/dtls_cert.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/crypto.h"
#include "core/err.h"

static int ossl_fail(char *err, size_t errlen, const char *what)
{
	char reason[160];
	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	snprintf(err, errlen, "%s: %s", what, reason);
	return SL_EIO;
}

/* The peer's certificate is checked against its SDP fingerprint after the handshake. */
static int accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

int dtls_identity_init(struct dtls_identity *id, char *err, size_t errlen)
{
	memset(id, 0, sizeof(*id));
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (!key)
		return ossl_fail(err, errlen, "ECDSA key");
	X509 *x = X509_new();
	uint8_t serial[8];
	random_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)DTLS_CERT_DAYS * 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sluice", -1, -1, 0);
	X509_set_issuer_name(x, name);
	int rc = SL_EIO;
	if (!X509_sign(x, key, EVP_sha256())) {
		rc = ossl_fail(err, errlen, "self-signing");
		goto out;
	}
	unsigned int fplen = DTLS_FP_LEN;
	X509_digest(x, EVP_sha256(), id->fingerprint, &fplen);
	id->ctx = SSL_CTX_new(DTLS_server_method());
	if (!id->ctx) {
		rc = ossl_fail(err, errlen, "DTLS context");
		goto out;
	}
	SSL_CTX_set_min_proto_version(id->ctx, DTLS1_2_VERSION);
	if (SSL_CTX_use_certificate(id->ctx, x) != 1 || SSL_CTX_use_PrivateKey(id->ctx, key) != 1) {
		rc = ossl_fail(err, errlen, "DTLS certificate");
		goto out;
	}
	/* libsrtp2 keys: the profile every browser offers.  set_tlsext returns 0 on success. */
	if (SSL_CTX_set_tlsext_use_srtp(id->ctx, "SRTP_AES128_CM_SHA1_80") != 0) {
		rc = ossl_fail(err, errlen, "DTLS-SRTP profile");
		goto out;
	}
	SSL_CTX_set_verify(id->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	/* Memory BIOs cannot tell an MTU: we set it per connection. */
	SSL_CTX_set_options(id->ctx, SSL_OP_NO_QUERY_MTU);
	SSL_CTX_set_read_ahead(id->ctx, 1);
	rc = 0;
out:
	if (rc && id->ctx) {
		SSL_CTX_free(id->ctx);
		id->ctx = NULL;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

void dtls_identity_free(struct dtls_identity *id)
{
	if (id->ctx)
		SSL_CTX_free(id->ctx);
	id->ctx = NULL;
}

int dtls_peer_fp_ok(SSL *ssl, const uint8_t fp[DTLS_FP_LEN])
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	if (!peer)
		return 0;
	uint8_t got[DTLS_FP_LEN];
	unsigned int n = sizeof(got);
	int ok = X509_digest(peer, EVP_sha256(), got, &n) == 1 && n == DTLS_FP_LEN &&
	         ct_equal(got, fp, DTLS_FP_LEN);
	X509_free(peer);
	return ok;
}
