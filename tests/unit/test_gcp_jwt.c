/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_gcp_jwt.c - the service-account JWT: the key file's fields are read
 * and checked; the assertion has RFC 7515's three base64url parts, the
 * claims Google's token endpoint requires (iss, scope, aud, iat, exp =
 * iat + 3600), and an RS256 signature that the key's public half verifies
 * (and that fails for any other bytes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/err.h"
#include "manager/gcp_jwt.h"

static EVP_PKEY *pkey;
static char *pem;

static int setup(void **state)
{
	(void)state;
	pkey = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	pem = strndup(p, (size_t)n);
	BIO_free(b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(pkey);
	free(pem);
	return 0;
}

static size_t b64url_decode(const char *s, size_t n, unsigned char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(tbl, s[i]);
		assert_non_null(c);
		acc = acc << 6 | (uint32_t)(c - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

static void test_key_file(void **state)
{
	(void)state;
	struct gcp_sa_key k;
	char err[256];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "service_account", "client_email",
	                      "sluice@p.iam.gserviceaccount.com", "private_key", pem,
	                      "private_key_id", "abc123", "project_id", "p");
	char *text = json_dumps(o, 0);
	assert_int_equal(gcp_sa_key_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	assert_string_equal(k.token_uri, GCP_TOKEN_URI);   /* the default */
	assert_string_equal(k.project_id, "p");
	gcp_sa_key_free(&k);
	free(text);
	json_object_set_new(o, "type", json_string("authorized_user"));
	text = json_dumps(o, 0);
	assert_int_equal(gcp_sa_key_parse(text, strlen(text), &k, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "service_account"));
	free(text);
	json_decref(o);
	assert_int_equal(gcp_sa_key_parse("{}", 2, &k, err, sizeof(err)), SL_EINVAL);
}

static void test_assertion(void **state)
{
	(void)state;
	struct gcp_sa_key k;
	memset(&k, 0, sizeof(k));
	snprintf(k.client_email, sizeof(k.client_email), "sluice@p.iam.gserviceaccount.com");
	snprintf(k.private_key_id, sizeof(k.private_key_id), "kid-1");
	snprintf(k.token_uri, sizeof(k.token_uri), "%s", GCP_TOKEN_URI);
	k.private_key_pem = pem;
	char err[256];
	char *jwt = gcp_jwt_assertion(&k, GCP_SCOPE_COMPUTE, 1767225600, err, sizeof(err));
	assert_non_null(jwt);
	char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	unsigned char buf[2048];
	size_t n = b64url_decode(jwt, (size_t)(d1 - jwt), buf);
	json_error_t je;
	json_t *h = json_loadb((char *)buf, n, 0, &je);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
	assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
	assert_string_equal(json_string_value(json_object_get(h, "kid")), "kid-1");
	json_decref(h);
	n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf);
	json_t *c = json_loadb((char *)buf, n, 0, &je);
	assert_string_equal(json_string_value(json_object_get(c, "iss")), k.client_email);
	assert_string_equal(json_string_value(json_object_get(c, "scope")), GCP_SCOPE_COMPUTE);
	assert_string_equal(json_string_value(json_object_get(c, "aud")), GCP_TOKEN_URI);
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1767225600);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1767225600 + 3600);
	json_decref(c);
	/* RS256: the public key verifies header.claims; one changed byte does not. */
	n = b64url_decode(d2 + 1, strlen(d2 + 1), buf);
	assert_int_equal(n, 256);
	for (int flip = 0; flip < 2; flip++) {
		if (flip)
			jwt[3] ^= 1;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
		int ok = EVP_DigestVerify(md, buf, n, (unsigned char *)jwt, (size_t)(d2 - jwt));
		EVP_MD_CTX_free(md);
		assert_int_equal(ok, flip ? 0 : 1);
	}
	free(jwt);
	/* Not a private key: refused, named. */
	k.private_key_pem = (char *)"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	assert_null(gcp_jwt_assertion(&k, GCP_SCOPE_COMPUTE, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "private_key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_assertion),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
