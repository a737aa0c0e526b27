/* SPDX-License-Identifier: Apache-2.0 */
/* gcp_jwt.c - service-account key and RS256 JWT assertion (see gcp_jwt.h). */
#include "manager/gcp_jwt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"

int gcp_sa_key_parse(const char *json, size_t len, struct gcp_sa_key *out, char *err,
                     size_t err_size)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *o = json_loadb(json, len, 0, &je);
	const char *type = NULL, *email = NULL, *pem = NULL, *kid = "", *uri = GCP_TOKEN_URI,
	           *project = "";
	if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:s, s:s, s?s, s?s, s?s}", "type", &type,
	                         "client_email", &email, "private_key", &pem, "private_key_id",
	                         &kid, "token_uri", &uri, "project_id", &project) < 0) {
		snprintf(err, err_size, "not a service-account key (type, client_email, private_key "
		         "are required)");
		json_decref(o);
		return SL_EINVAL;
	}
	if (strcmp(type, "service_account") != 0 || strlen(email) >= sizeof(out->client_email) ||
	    strlen(kid) >= sizeof(out->private_key_id) || strlen(uri) >= sizeof(out->token_uri) ||
	    strlen(project) >= sizeof(out->project_id) || strlen(pem) > 16384 ||
	    (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0)) {
		snprintf(err, err_size, "not a service-account key (type must be service_account, "
		         "fields within bounds, token_uri an http(s) URL)");
		json_decref(o);
		return SL_EINVAL;
	}
	snprintf(out->client_email, sizeof(out->client_email), "%s", email);
	snprintf(out->private_key_id, sizeof(out->private_key_id), "%s", kid);
	snprintf(out->token_uri, sizeof(out->token_uri), "%s", uri);
	snprintf(out->project_id, sizeof(out->project_id), "%s", project);
	out->private_key_pem = xstrdup(pem);
	json_decref(o);
	return 0;
}

void gcp_sa_key_free(struct gcp_sa_key *k)
{
	if (k->private_key_pem) {
		explicit_bzero(k->private_key_pem, strlen(k->private_key_pem));
		free(k->private_key_pem);
	}
	memset(k, 0, sizeof(*k));
}

static char *b64url_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	base64url_encode((const uint8_t *)s, n, out);
	free(s);
	return out;
}

char *gcp_jwt_assertion(const struct gcp_sa_key *k, const char *scope, uint64_t iat_s,
                        char *err, size_t err_size)
{
	BIO *bio = BIO_new_mem_buf(k->private_key_pem, -1);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
		snprintf(err, err_size, "private_key: not an RSA private key in PEM");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	if (k->private_key_id[0])
		json_object_set_new(hdr, "kid", json_string(k->private_key_id));
	json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", k->client_email,
	                           "scope", scope, "aud", k->token_uri, "iat", (json_int_t)iat_s,
	                           "exp", (json_int_t)(iat_s + GCP_JWT_LIFETIME_S));
	char *h = b64url_json(hdr), *c = b64url_json(claims);
	size_t signing_len = strlen(h) + 1 + strlen(c);
	char *signing = xmalloc(signing_len + 1);
	snprintf(signing, signing_len + 1, "%s.%s", h, c);
	free(h);
	free(c);
	uint8_t sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	         EVP_DigestSign(md, sig, &siglen, (const uint8_t *)signing, signing_len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	if (!ok) {
		snprintf(err, err_size, "cannot sign with the private key (RSA larger than 8192 bits?)");
		free(signing);
		return NULL;
	}
	char *out = xmalloc(signing_len + 1 + 4 * ((siglen + 2) / 3) + 1);
	memcpy(out, signing, signing_len);
	out[signing_len] = '.';
	base64url_encode(sig, siglen, out + signing_len + 1);
	free(signing);
	return out;
}
