/* SPDX-License-Identifier: Apache-2.0 */
/* jwt.c - HS256 JSON Web Tokens (see jwt.h). */
#include "core/jwt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

long base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size)
{
	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64val(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == out_size)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; /* {"alg":"HS256","typ":"JWT"} */

size_t jwt_sign_hs256(const uint8_t *key, size_t key_len, const char *sub, int64_t iat_s,
                      int64_t exp_s, char *out, size_t out_size)
{
	if (strlen(sub) > JWT_SUB_MAX)
		return 0;
	json_t *p = json_pack("{s:s, s:I, s:I}", "sub", sub, "iat", (json_int_t)iat_s,
	                      "exp", (json_int_t)exp_s);
	char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!payload)
		return 0;
	size_t plen = strlen(payload);
	char body[512];
	size_t hlen = sizeof(header_b64) - 1;
	if (hlen + 1 + (plen + 2) / 3 * 4 + 1 > sizeof(body)) {
		free(payload);
		return 0;
	}
	memcpy(body, header_b64, hlen);
	body[hlen] = '.';
	size_t n = hlen + 1 + base64url_encode((const uint8_t *)payload, plen, body + hlen + 1);
	free(payload);
	uint8_t mac[SHA256_LEN];
	hmac_sha256(key, key_len, body, n, mac);
	char sig[48];
	size_t slen = base64url_encode(mac, sizeof(mac), sig);
	if (n + 1 + slen + 1 > out_size)
		return 0;
	memcpy(out, body, n);
	out[n] = '.';
	memcpy(out + n + 1, sig, slen);
	out[n + 1 + slen] = '\0';
	return n + 1 + slen;
}

static int bad(const char **why, const char *msg, int rc)
{
	if (why)
		*why = msg;
	return rc;
}

int jwt_verify_hs256(const char *tok, size_t len, const uint8_t *key, size_t key_len,
                     int64_t now_s, char sub[JWT_SUB_MAX + 1], int64_t *exp_s,
                     const char **why)
{
	sub[0] = '\0';
	if (len == 0 || len > JWT_MAX_LEN)
		return bad(why, "token missing or too long", SL_EPROTO);
	const char *d1 = memchr(tok, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return bad(why, "not three dot-separated parts", SL_EPROTO);
	uint8_t hdr[JWT_MAX_LEN], pl[JWT_MAX_LEN], sig[JWT_MAX_LEN];
	long hn = base64url_decode(tok, (size_t)(d1 - tok), hdr, sizeof(hdr));
	long pn = base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), pl, sizeof(pl));
	long sn = base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), sig, sizeof(sig));
	if (hn <= 0 || pn <= 0 || sn < 0)
		return bad(why, "a part is not base64url", SL_EPROTO);
	json_t *h = json_loadb((const char *)hdr, (size_t)hn, JSON_REJECT_DUPLICATES, NULL);
	const char *alg = json_string_value(json_object_get(h, "alg"));
	int alg_ok = alg && strcmp(alg, "HS256") == 0;
	json_decref(h);
	if (!alg_ok)
		return bad(why, "alg is not HS256", SL_EPROTO);
	uint8_t mac[SHA256_LEN];
	hmac_sha256(key, key_len, tok, (size_t)(d2 - tok), mac);
	if (sn != SHA256_LEN || !ct_equal(mac, sig, SHA256_LEN))
		return bad(why, "bad signature", SL_EAUTH);
	json_t *p = json_loadb((const char *)pl, (size_t)pn, JSON_REJECT_DUPLICATES, NULL);
	json_t *jexp = json_object_get(p, "exp");
	const char *s = json_string_value(json_object_get(p, "sub"));
	int rc = 0;
	if (!json_is_integer(jexp) || !s || strlen(s) > JWT_SUB_MAX) {
		rc = bad(why, "payload lacks exp or sub", SL_EPROTO);
	} else if ((int64_t)json_integer_value(jexp) <= now_s) {
		rc = bad(why, "expired", SL_EAUTH);
	} else {
		snprintf(sub, JWT_SUB_MAX + 1, "%s", s);
		if (exp_s)
			*exp_s = (int64_t)json_integer_value(jexp);
	}
	json_decref(p);
	return rc;
}
