/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_bootstrap.h - how a node a cloud controller launched gets the
 * cluster secret without the secret being in its user data or metadata.
 *
 * At launch the manager draws a one-time bootstrap token T (32 random
 * bytes, hex) for the node and puts T, not the secret, in the boot script.
 * At boot the script proves it holds T and asks for the secret:
 *
 *   POST /api/v1/cluster/bootstrap  (the node listener)
 *   {"id": ID, "time": MS, "proof": hex(HMAC-SHA256(T, "sluice-bootstrap-v1\n" ID "\n" MS))}
 *
 * T never crosses the wire.  The answer carries the secret sealed with keys
 * derived from T (encrypt-then-MAC, shaped so that a shell script with the
 * openssl tool alone can open it; T is the HMAC key as its hex text):
 *
 *   kenc = HMAC-SHA256(T, "sluice-bootstrap-enc"), kmac = HMAC-SHA256(T, "sluice-bootstrap-mac")
 *   IV = hex(16 random bytes), SEALED = base64(AES-256-CBC(kenc, IV, secret), PKCS#7 padding)
 *   {"iv": IV, "sealed": SEALED, "mac": hex(HMAC-SHA256(kmac, IV "." SEALED))}
 *
 * The manager answers once per token, only while the node is launching and
 * only within the time skew; a spent token opens nothing, so user data read
 * later (DescribeInstanceAttribute, the metadata server) gives nothing away.
 * Pure functions here; the handler is in node_bootstrap.c too.
 */
#ifndef SLUICE_MANAGER_NODE_BOOTSTRAP_H
#define SLUICE_MANAGER_NODE_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#define BOOTSTRAP_TOKEN_BYTES 32
#define BOOTSTRAP_TOKEN_HEX (2 * BOOTSTRAP_TOKEN_BYTES + 1)
#define BOOTSTRAP_SECRET_MAX 256      /* bytes of cluster secret sealed */

/* hex(HMAC(T, "sluice-bootstrap-v1\n" ID "\n" MS)) into out (65 bytes). */
void bootstrap_proof(const char *token_hex, const char *id, uint64_t time_ms, char out[65]);
#define BOOTSTRAP_SEALED_MAX (4 * ((BOOTSTRAP_SECRET_MAX + 16 + 2) / 3) + 1)
/* Seals secret under T with iv (16 bytes) into iv_hex (33), sealed_b64
 * (BOOTSTRAP_SEALED_MAX) and mac_hex (65).  0, or -1 if the secret is too long or the
 * token not of BOOTSTRAP_TOKEN_HEX - 1 characters. */
int bootstrap_seal(const char *token_hex, const char *secret, const uint8_t iv[16],
                   char *iv_hex, char *sealed_b64, char *mac_hex);
/* The reverse, for tests and for a node in C: 0 with the secret in out, or -1 (bad MAC,
 * bad padding, too long). */
int bootstrap_open(const char *token_hex, const char *iv_hex, const char *sealed_b64,
                   const char *mac_hex, char *out, size_t out_size);

#endif
