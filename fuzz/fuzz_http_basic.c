/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_basic.c - libFuzzer target for the Basic credentials parse
 * (core/http_auth.c) that the Red5 SM2 login runs on a peer's
 * Authorization header.
 *
 * Invariants: nothing is read outside the input; an accepted value gives a
 * non-empty user without ':' and both parts NUL-terminated within their
 * buffers; a refused one leaves both empty; the credentials a client would
 * send for the input's bytes parse back to them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/http_auth.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[128], pass[128];
	if (http_basic_parse((const char *)data, size, user, sizeof(user), pass, sizeof(pass)) == 0)
		CHECK(user[0] && !strchr(user, ':') && strlen(user) < sizeof(user) &&
		      strlen(pass) < sizeof(pass));
	else
		CHECK(!user[0] && !pass[0]);
	/* The input as "user:password" (no NUL; a non-empty user): what a client sends. */
	uint8_t cred[120];
	size_t n = size < sizeof(cred) - 2 ? size : sizeof(cred) - 2;
	cred[0] = 'u';
	for (size_t i = 0; i < n; i++)
		cred[i + 1] = data[i] ? data[i] : 'x';
	const uint8_t *colon = memchr(cred, ':', n + 1);
	if (!colon) {
		cred[n + 1] = ':';
		n++;
		colon = cred + n;
	}
	char hdr[6 + 4 * (sizeof(cred) + 2) / 3 + 1] = "Basic ";
	int hl = EVP_EncodeBlock((unsigned char *)hdr + 6, cred, (int)n + 1);
	CHECK(http_basic_parse(hdr, 6 + (size_t)hl, user, sizeof(user), pass, sizeof(pass)) == 0);
	size_t ul = (size_t)(colon - cred);
	CHECK(strlen(user) == ul && memcmp(user, cred, ul) == 0);
	CHECK(strlen(pass) == n - ul && memcmp(pass, colon + 1, n - ul) == 0);
	return 0;
}
