/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jwt.h - JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 ("HS256",
 * RFC 7518 3.2), the one kind sluice issues: Red5 Pro Stream Manager 2's
 * `PUT /as/v1/auth/login` hands one out and every /as/v1 admin call checks it.
 *
 * Verification is pure (token bytes, key and clock in; subject or an error
 * out) and strict: the header must say alg HS256 (no "none", no other
 * algorithm), the signature must match in constant time, and "exp" must be
 * present and in the future.
 */
#ifndef SLUICE_CORE_JWT_H
#define SLUICE_CORE_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_LEN 2048       /* longer tokens are refused unread */
#define JWT_SUB_MAX 64

/* Writes header.payload.signature for {"sub", "iat", "exp"} into out; returns its
 * length, or 0 when out is too small or sub too long. */
size_t jwt_sign_hs256(const uint8_t *key, size_t key_len, const char *sub, int64_t iat_s,
                      int64_t exp_s, char *out, size_t out_size);

/* 0 with the subject (and expiry) copied out; SL_EAUTH for a bad signature or an
 * expired token; SL_EPROTO for anything malformed.  why says which, for logs. */
int jwt_verify_hs256(const char *tok, size_t len, const uint8_t *key, size_t key_len,
                     int64_t now_s, char sub[JWT_SUB_MAX + 1], int64_t *exp_s,
                     const char **why);

/* Unpadded (or padded) base64url decode, the standard alphabet's + and / accepted too
 * (HTTP Basic credentials use it); returns the length or -1. out needs 3*len/4+3. */
long base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

#endif
