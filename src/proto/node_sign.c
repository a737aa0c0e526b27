/* SPDX-License-Identifier: Apache-2.0 */
/* node_sign.c - signed node <-> manager calls (see node_sign.h). */
#include "proto/node_sign.h"

#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/err.h"

static void mac_hex(const char *key, const struct bytes *msg, char out[NODE_SIGN_HEX])
{
	uint8_t mac[SHA256_LEN];
	hmac_sha256(key, strlen(key), msg->data, msg->len, mac);
	hex_encode(mac, sizeof(mac), out);
}

void node_sign(const char *key, const char *path, uint64_t time_ms, uint64_t seq,
               const void *body, size_t len, char out[NODE_SIGN_HEX])
{
	struct bytes m;
	bytes_init(&m);
	bytes_printf(&m, "sluice-node-v2\n%s\n%llu\n%llu\n", path, (unsigned long long)time_ms,
	             (unsigned long long)seq);
	if (len)
		bytes_append(&m, body, len);
	mac_hex(key, &m, out);
	bytes_free(&m);
}

/* Up to 15 decimal digits (no sign, no spaces); -1 otherwise. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 15)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	*out = v;
	return 0;
}

int node_sign_check(const char *key, const char *path, const char *time_text,
                    const char *seq_text, const char *sig_hex, const void *body, size_t len,
                    uint64_t now_ms, uint64_t *time_ms, uint64_t *seq, const char **why)
{
	if (!time_text || !seq_text || !sig_hex || !*time_text) {
		*why = "unsigned request (X-Sluice-Time, X-Sluice-Seq and X-Sluice-Signature required)";
		return SL_EAUTH;
	}
	uint64_t t = 0, s = 0;
	if (parse_u64(time_text, &t) < 0) {
		*why = "bad X-Sluice-Time";
		return SL_EAUTH;
	}
	if (parse_u64(seq_text, &s) < 0) {
		*why = "bad X-Sluice-Seq";
		return SL_EAUTH;
	}
	if (t + NODE_SIGN_SKEW_MS < now_ms || t > now_ms + NODE_SIGN_SKEW_MS) {
		*why = "stale timestamp (clocks more than 5 s apart, or a replay)";
		return SL_EAUTH;
	}
	char want[NODE_SIGN_HEX];
	node_sign(key, path, t, s, body, len, want);
	if (strlen(sig_hex) != NODE_SIGN_HEX - 1 || !ct_equal(want, sig_hex, NODE_SIGN_HEX - 1)) {
		*why = "bad signature (wrong key: a heartbeat is signed with the node's own key)";
		return SL_EAUTH;
	}
	*time_ms = t;
	*seq = s;
	return 0;
}

void node_key_derive(const char *secret, const char *node_id, const char *nonce_hex,
                     char out[NODE_SIGN_HEX])
{
	struct bytes m;
	bytes_init(&m);
	bytes_printf(&m, "sluice-node-key-v1\n%s\n%s", node_id, nonce_hex);
	mac_hex(secret, &m, out);
	bytes_free(&m);
}

int node_nonce_valid(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == NODE_KEY_NONCE_HEX - 1;
}

void node_answer_sign(const char *key, int status, const char *request_sig, const void *body,
                      size_t len, char out[NODE_SIGN_HEX])
{
	struct bytes m;
	bytes_init(&m);
	bytes_printf(&m, "sluice-manager-v1\n%d\n%s\n", status, request_sig);
	if (len)
		bytes_append(&m, body, len);
	mac_hex(key, &m, out);
	bytes_free(&m);
}

int node_answer_check(const char *key, int status, const char *request_sig, const void *body,
                      size_t len, const char *sig_hex)
{
	char want[NODE_SIGN_HEX];
	node_answer_sign(key, status, request_sig, body, len, want);
	return sig_hex && strlen(sig_hex) == NODE_SIGN_HEX - 1 &&
	       ct_equal(want, sig_hex, NODE_SIGN_HEX - 1);
}
