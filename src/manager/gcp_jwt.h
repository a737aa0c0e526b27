/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gcp_jwt.h - the signed assertion a Google service account exchanges for
 * an access token (RFC 7523 JWT bearer grant; RS256 = RSASSA-PKCS1-v1_5
 * with SHA-256, RFC 7518 section 3.3), and the service-account key file it
 * is made from.  Pure: bytes in, text out; the clock is the caller's.
 */
#ifndef SLUICE_MANAGER_GCP_JWT_H
#define SLUICE_MANAGER_GCP_JWT_H

#include <stddef.h>
#include <stdint.h>

#define GCP_JWT_LIFETIME_S 3600     /* Google's maximum */
#define GCP_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GCP_SCOPE_COMPUTE "https://www.googleapis.com/auth/compute"

struct gcp_sa_key {
	char client_email[256];
	char private_key_id[128];
	char token_uri[256];
	char project_id[128];
	char *private_key_pem;          /* owned */
};

/* Reads a service-account JSON key (type "service_account"); 0, or SL_EINVAL with err. */
int gcp_sa_key_parse(const char *json, size_t len, struct gcp_sa_key *out, char *err,
                     size_t err_size);
void gcp_sa_key_free(struct gcp_sa_key *k);

/* header.claims.signature (base64url), claims {iss, scope, aud, iat, exp=iat+3600}; a
 * malloc'd string, or NULL with err (a key that is not an RSA private key). */
char *gcp_jwt_assertion(const struct gcp_sa_key *k, const char *scope, uint64_t iat_s,
                        char *err, size_t err_size);

#endif
