/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dtls_cert.c - the node's DTLS identity does what WebRTC needs: a
 * DTLS 1.2 handshake in memory with a client that has a certificate of its
 * own agrees on SRTP_AES128_CM_SHA1_80, both sides export the same keying
 * material, the fingerprint we advertise is the certificate's, and the
 * peer check accepts the client's fingerprint and refuses any other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "webrtc/dtls_cert.h"

/* Moves every pending datagram from one side's write BIO to the other's read BIO. */
static int pump(BIO *from, BIO *to)
{
	char buf[16384];
	int moved = 0, n;
	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
		moved += n;
	}
	return moved;
}

static void test_handshake_and_keys(void **state)
{
	(void)state;
	struct dtls_identity srv_id, cli_id;
	char err[200];
	assert_int_equal(dtls_identity_init(&srv_id, err, sizeof(err)), 0);
	assert_int_equal(dtls_identity_init(&cli_id, err, sizeof(err)), 0);
	/* Two identities are two keys: their fingerprints differ. */
	assert_memory_not_equal(srv_id.fingerprint, cli_id.fingerprint, DTLS_FP_LEN);

	/* The advertised fingerprint is the certificate's. */
	uint8_t fp[DTLS_FP_LEN];
	unsigned int n = sizeof(fp);
	X509_digest(SSL_CTX_get0_certificate(srv_id.ctx), EVP_sha256(), fp, &n);
	assert_memory_equal(fp, srv_id.fingerprint, DTLS_FP_LEN);

	/* A browser-like client: its own certificate, the SRTP profile offered. */
	SSL_CTX *cctx = SSL_CTX_new(DTLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(cctx, SSL_CTX_get0_certificate(cli_id.ctx)), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(cctx, SSL_CTX_get0_privatekey(cli_id.ctx)), 1);
	assert_int_equal(SSL_CTX_set_tlsext_use_srtp(cctx, "SRTP_AES128_CM_SHA1_80"), 0);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);

	SSL *s = SSL_new(srv_id.ctx), *c = SSL_new(cctx);
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(s_in, -1);
	BIO_set_mem_eof_return(c_in, -1);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_bio(c, c_in, c_out);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	/* As the transport does: memory BIOs know no MTU. */
	SSL_set_options(c, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(s, 1200);
	DTLS_set_link_mtu(c, 1200);
	int s_done = 0, c_done = 0;
	for (int round = 0; round < 20 && !(s_done && c_done); round++) {
		if (!c_done)
			c_done = SSL_do_handshake(c) == 1;
		pump(c_out, s_in);
		if (!s_done)
			s_done = SSL_do_handshake(s) == 1;
		pump(s_out, c_in);
	}
	assert_true(s_done && c_done);

	const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(s);
	assert_non_null(prof);
	assert_int_equal(prof->id, SRTP_AES128_CM_SHA1_80);
	uint8_t ks[60], kc[60];
	assert_int_equal(SSL_export_keying_material(s, ks, sizeof(ks), "EXTRACTOR-dtls_srtp", 19,
	                                            NULL, 0, 0), 1);
	assert_int_equal(SSL_export_keying_material(c, kc, sizeof(kc), "EXTRACTOR-dtls_srtp", 19,
	                                            NULL, 0, 0), 1);
	assert_memory_equal(ks, kc, sizeof(ks));

	/* The client's certificate matches its fingerprint, and no other. */
	assert_true(dtls_peer_fp_ok(s, cli_id.fingerprint));
	assert_false(dtls_peer_fp_ok(s, srv_id.fingerprint));

	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
	dtls_identity_free(&srv_id);
	dtls_identity_free(&cli_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
