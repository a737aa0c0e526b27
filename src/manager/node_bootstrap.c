/* SPDX-License-Identifier: Apache-2.0 */
/* node_bootstrap.c - a launched node's one-time bootstrap (see node_bootstrap.h). */
#include "manager/node_bootstrap.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/crypto.h"

static int unhex(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static void derive(const char *token_hex, const char *label, uint8_t out[32])
{
	/* The token is used as the HMAC key in its hex form: the same bytes a shell has. */
	hmac_sha256(token_hex, strlen(token_hex), label, strlen(label), out);
}

void bootstrap_proof(const char *token_hex, const char *id, uint64_t time_ms, char out[65])
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "sluice-bootstrap-v1\n%s\n%llu", id,
	                 (unsigned long long)time_ms);
	uint8_t mac[32];
	hmac_sha256(token_hex, strlen(token_hex), msg, (size_t)(n < (int)sizeof(msg) ? n :
	            (int)sizeof(msg) - 1), mac);
	hex_encode(mac, 32, out);
}

static void seal_mac(const uint8_t kmac[32], const char *iv_hex, const char *sealed_b64,
                     char mac_hex[65])
{
	char in[40 + BOOTSTRAP_SEALED_MAX];
	int n = snprintf(in, sizeof(in), "%s.%s", iv_hex, sealed_b64);
	uint8_t mac[32];
	hmac_sha256(kmac, 32, in, (size_t)n, mac);
	hex_encode(mac, 32, mac_hex);
}

int bootstrap_seal(const char *token_hex, const char *secret, const uint8_t iv[16],
                   char *iv_hex, char *sealed_b64, char *mac_hex)
{
	size_t len = strlen(secret);
	if (len > BOOTSTRAP_SECRET_MAX || strlen(token_hex) != BOOTSTRAP_TOKEN_HEX - 1)
		return -1;
	uint8_t kenc[32], kmac[32], ct[BOOTSTRAP_SECRET_MAX + 32];
	derive(token_hex, "sluice-bootstrap-enc", kenc);
	derive(token_hex, "sluice-bootstrap-mac", kmac);
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;
	int ok = cx && EVP_EncryptInit_ex(cx, EVP_aes_256_cbc(), NULL, kenc, iv) == 1 &&
	         EVP_EncryptUpdate(cx, ct, &a, (const uint8_t *)secret, (int)len) == 1 &&
	         EVP_EncryptFinal_ex(cx, ct + a, &b) == 1;
	EVP_CIPHER_CTX_free(cx);
	explicit_bzero(kenc, sizeof(kenc));
	if (!ok)
		return -1;
	hex_encode(iv, 16, iv_hex);
	EVP_EncodeBlock((unsigned char *)sealed_b64, ct, a + b);
	seal_mac(kmac, iv_hex, sealed_b64, mac_hex);
	return 0;
}

int bootstrap_open(const char *token_hex, const char *iv_hex, const char *sealed_b64,
                   const char *mac_hex, char *out, size_t out_size)
{
	uint8_t iv[16], ct[BOOTSTRAP_SECRET_MAX + 48], kenc[32], kmac[32];
	size_t ivn, b64n = strlen(sealed_b64);
	if (unhex(iv_hex, iv, sizeof(iv), &ivn) < 0 || ivn != 16 || strlen(mac_hex) != 64 ||
	    b64n == 0 || b64n % 4 || b64n >= BOOTSTRAP_SEALED_MAX)
		return -1;
	derive(token_hex, "sluice-bootstrap-enc", kenc);
	derive(token_hex, "sluice-bootstrap-mac", kmac);
	char want[65];
	seal_mac(kmac, iv_hex, sealed_b64, want);
	if (!ct_equal(want, mac_hex, 64))
		return -1;
	int ctn = EVP_DecodeBlock(ct, (const unsigned char *)sealed_b64, (int)b64n);
	if (ctn < 0)
		return -1;
	ctn -= (sealed_b64[b64n - 1] == '=') + (sealed_b64[b64n - 2] == '=');
	if (ctn <= 0 || ctn % 16)
		return -1;
	uint8_t pt[sizeof(ct)];
	int a = 0, b = 0;
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	int ok = cx && EVP_DecryptInit_ex(cx, EVP_aes_256_cbc(), NULL, kenc, iv) == 1 &&
	         EVP_DecryptUpdate(cx, pt, &a, ct, ctn) == 1 &&
	         EVP_DecryptFinal_ex(cx, pt + a, &b) == 1;
	EVP_CIPHER_CTX_free(cx);
	if (!ok || (size_t)(a + b) >= out_size)
		return -1;
	memcpy(out, pt, (size_t)(a + b));
	out[a + b] = '\0';
	return 0;
}
