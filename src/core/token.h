/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token.h - signed, expiring access tokens for publish and play.
 *
 *   token = EXPIRY "." base64url(HMAC-SHA256(secret, "sluice-token-v1\n" ACTION "\n"
 *                                            APP "\n" STREAM "\n" EXPIRY))
 *
 * EXPIRY is Unix seconds.  Any node holding the secret checks a token with
 * no database on the path; a token is bound to one action on one stream.
 */
#ifndef SLUICE_CORE_TOKEN_H
#define SLUICE_CORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX 80

enum token_result {
	TOKEN_OK = 0,
	TOKEN_MISSING,
	TOKEN_MALFORMED,
	TOKEN_EXPIRED,
	TOKEN_BAD_SIGNATURE,
};

/* Writes a token into out (TOKEN_MAX bytes). */
void token_make(const char *secret, const char *action, const char *app, const char *stream,
                uint64_t expiry_unix, char out[TOKEN_MAX]);

enum token_result token_check(const char *secret, const char *action, const char *app,
                              const char *stream, const char *token, uint64_t now_unix);

const char *token_result_name(enum token_result r);

#endif
