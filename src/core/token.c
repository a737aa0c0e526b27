/* SPDX-License-Identifier: Apache-2.0 */
/* token.c - signed access tokens (see token.h). */
#include "core/token.h"

#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crypto.h"

static void sign(const char *secret, const char *action, const char *app, const char *stream,
                 const char *expiry, char out[48])
{
	struct bytes msg;
	bytes_init(&msg);
	bytes_printf(&msg, "sluice-token-v1\n%s\n%s\n%s\n%s", action, app, stream, expiry);
	uint8_t mac[SHA256_LEN];
	hmac_sha256(secret, strlen(secret), msg.data, msg.len, mac);
	bytes_free(&msg);
	base64url_encode(mac, sizeof(mac), out);
}

void token_make(const char *secret, const char *action, const char *app, const char *stream,
                uint64_t expiry_unix, char out[TOKEN_MAX])
{
	char expiry[24], mac[48];
	snprintf(expiry, sizeof(expiry), "%llu", (unsigned long long)expiry_unix);
	sign(secret, action, app, stream, expiry, mac);
	snprintf(out, TOKEN_MAX, "%s.%s", expiry, mac);
}

enum token_result token_check(const char *secret, const char *action, const char *app,
                              const char *stream, const char *token, uint64_t now_unix)
{
	if (!token || !*token)
		return TOKEN_MISSING;
	const char *dot = strchr(token, '.');
	size_t elen = dot ? (size_t)(dot - token) : 0;
	if (!dot || elen == 0 || elen > 20)
		return TOKEN_MALFORMED;
	uint64_t expiry = 0;
	for (size_t i = 0; i < elen; i++) {
		if (token[i] < '0' || token[i] > '9')
			return TOKEN_MALFORMED;
		expiry = expiry * 10 + (uint64_t)(token[i] - '0');
	}
	char exp_text[24], want[48];
	memcpy(exp_text, token, elen);
	exp_text[elen] = '\0';
	sign(secret, action, app, stream, exp_text, want);
	size_t wlen = strlen(want);
	if (strlen(dot + 1) != wlen || !ct_equal(dot + 1, want, wlen))
		return TOKEN_BAD_SIGNATURE;
	if (expiry <= now_unix)
		return TOKEN_EXPIRED;
	return TOKEN_OK;
}

const char *token_result_name(enum token_result r)
{
	switch (r) {
	case TOKEN_OK: return "ok";
	case TOKEN_MISSING: return "missing";
	case TOKEN_MALFORMED: return "malformed";
	case TOKEN_EXPIRED: return "expired";
	case TOKEN_BAD_SIGNATURE: return "bad_signature";
	}
	return "?";
}
