/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.h - the few primitives sluice needs, over OpenSSL's libcrypto. */
#ifndef SLUICE_CORE_CRYPTO_H
#define SLUICE_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 uint8_t out[SHA256_LEN]);
/* Constant-time comparison; 1 when equal. */
int ct_equal(const void *a, const void *b, size_t n);
/* Fills buf with cryptographically random bytes; aborts if the system cannot. */
void random_bytes(void *buf, size_t n);
/* Lowercase hex of p[0..n) into out (2n+1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* A hex digit's value (either case), or -1. */
int hex_digit(int c);
/* Unpadded base64url of p[0..n) into out (4*ceil(n/3)+1 bytes suffice). Returns length. */
size_t base64url_encode(const uint8_t *p, size_t n, char *out);

#endif
