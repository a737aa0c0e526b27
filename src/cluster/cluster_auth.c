/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_auth.c - the cluster challenge-response (see cluster_auth.h). */
#include "cluster/cluster_auth.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"

void cluster_nonce(char out[CLUSTER_NONCE_HEX + 1])
{
	uint8_t raw[CLUSTER_NONCE_HEX / 2];
	random_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), out);
}

static int hex_nonce_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 16 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void cluster_proof_bound(const char *secret, enum cluster_side side, const char *server_nonce,
                         const char *client_nonce, const char *name, const char *binding,
                         char out[CLUSTER_PROOF_HEX + 1])
{
	char msg[512];
	int bound = binding && *binding;
	int len = snprintf(msg, sizeof(msg), "sluice-cluster-v1\n%s\n%s\n%s\n%s%s%.128s",
	                   side == CLUSTER_DOWNSTREAM ? "edge" : "upstream", server_nonce,
	                   client_nonce, name, bound ? "\ntls-exporter\n" : "",
	                   bound ? binding : "");
	if (len < 0 || (size_t)len >= sizeof(msg))
		len = (int)sizeof(msg) - 1; /* fields are bounded by the checks; never reached */
	uint8_t mac[SHA256_LEN];
	hmac_sha256(secret, strlen(secret), msg, (size_t)len, mac);
	hex_encode(mac, sizeof(mac), out);
}

void cluster_proof(const char *secret, enum cluster_side side, const char *server_nonce,
                   const char *client_nonce, const char *name, char out[CLUSTER_PROOF_HEX + 1])
{
	cluster_proof_bound(secret, side, server_nonce, client_nonce, name, NULL, out);
}

int cluster_proof_check(const char *secret, enum cluster_side side, const char *server_nonce,
                        const char *client_nonce, const char *name, const char *proof)
{
	return cluster_proof_check_bound(secret, side, server_nonce, client_nonce, name, NULL,
	                                 proof);
}

int cluster_proof_check_bound(const char *secret, enum cluster_side side,
                              const char *server_nonce, const char *client_nonce,
                              const char *name, const char *binding, const char *proof)
{
	if (!secret || !*secret || !hex_nonce_ok(server_nonce) || !hex_nonce_ok(client_nonce) ||
	    !name || !*name || strlen(name) > 128 || !proof || strlen(proof) != CLUSTER_PROOF_HEX)
		return SL_EINVAL;
	char want[CLUSTER_PROOF_HEX + 1];
	cluster_proof_bound(secret, side, server_nonce, client_nonce, name, binding, want);
	return ct_equal(want, proof, CLUSTER_PROOF_HEX) ? 0 : SL_EAUTH;
}
