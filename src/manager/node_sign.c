/* node_sign.c - signed node-to-manager requests (see node_sign.h). */
#include "manager/node_sign.h"

#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/err.h"

void node_sign(const char *secret, const char *path, uint64_t time_ms, const void *body,
               size_t len, char out[NODE_SIGN_HEX])
{
	struct bytes m;
	bytes_init(&m);
	bytes_printf(&m, "sluice-node-v1\n%s\n%llu\n", path, (unsigned long long)time_ms);
	if (len)
		bytes_append(&m, body, len);
	uint8_t mac[SHA256_LEN];
	hmac_sha256(secret, strlen(secret), m.data, m.len, mac);
	hex_encode(mac, sizeof(mac), out);
	bytes_free(&m);
}

int node_sign_check(const char *secret, const char *path, const char *time_text,
                    const char *sig_hex, const void *body, size_t len, uint64_t now_ms,
                    uint64_t *time_ms, const char **why)
{
	if (!time_text || !sig_hex || !*time_text) {
		*why = "unsigned request (X-Sluice-Time and X-Sluice-Signature required)";
		return SL_EAUTH;
	}
	uint64_t t = 0;
	size_t i;
	for (i = 0; time_text[i]; i++) {
		if (time_text[i] < '0' || time_text[i] > '9' || i >= 15) {
			*why = "bad X-Sluice-Time";
			return SL_EAUTH;
		}
		t = t * 10 + (uint64_t)(time_text[i] - '0');
	}
	if (t + NODE_SIGN_SKEW_MS < now_ms || t > now_ms + NODE_SIGN_SKEW_MS) {
		*why = "stale timestamp (clocks more than 30 s apart, or a replay)";
		return SL_EAUTH;
	}
	char want[NODE_SIGN_HEX];
	node_sign(secret, path, t, body, len, want);
	if (strlen(sig_hex) != NODE_SIGN_HEX - 1 || !ct_equal(want, sig_hex, NODE_SIGN_HEX - 1)) {
		*why = "bad signature (different cluster secret?)";
		return SL_EAUTH;
	}
	*time_ms = t;
	return 0;
}
