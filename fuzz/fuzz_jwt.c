/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_jwt.c - libFuzzer target for HS256 token verification (core/jwt.c), the
 * check every Red5 SM2 admin call runs on a peer-supplied token.
 *
 * Invariants: never accepts a token it did not sign (the key is fixed, the
 * input cannot carry a valid MAC but by chance); a token it signs verifies
 * with the same subject; nothing leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwt.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = "fuzz-key-0123456789";
	char sub[JWT_SUB_MAX + 1];
	const char *why = NULL;
	int rc = jwt_verify_hs256((const char *)data, size, key, sizeof(key) - 1, 1, sub, NULL,
	                          &why);
	CHECK(rc != 0 || why == NULL);
	/* The input as a subject: what is signed verifies back. */
	char s[JWT_SUB_MAX + 1], tok[1024], back[JWT_SUB_MAX + 1];
	size_t n = size < JWT_SUB_MAX ? size : JWT_SUB_MAX;
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(data[i] >= 0x20 && data[i] < 0x7f ? data[i] : 'x');
	s[n] = '\0';
	size_t tn = jwt_sign_hs256(key, sizeof(key) - 1, s, 0, 100, tok, sizeof(tok));
	if (tn) {
		CHECK(jwt_verify_hs256(tok, tn, key, sizeof(key) - 1, 50, back, NULL, &why) == 0);
		CHECK(strcmp(back, s) == 0);
	}
	return 0;
}
