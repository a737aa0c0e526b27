/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_auth.h - how two nodes prove to each other that they hold the
 * cluster secret without sending it.
 *
 * The upstream node (the one being pulled from) sends a fresh random nonce
 * in its reply to connect.  The downstream node answers with its own nonce
 * and HMAC-SHA256(secret, "sluice-cluster-v1\nedge\n" sn "\n" cn "\n" name);
 * the upstream checks it once (the nonce is spent whatever the outcome, so a
 * recorded answer is worthless on any other connection) and answers with
 * the same HMAC over "...\nupstream\n...", so the downstream node knows it
 * is talking to a member too.  Only nonces and HMACs cross the wire.
 */
#ifndef SLUICE_CLUSTER_CLUSTER_AUTH_H
#define SLUICE_CLUSTER_CLUSTER_AUTH_H

#define CLUSTER_NONCE_HEX 32   /* 16 random bytes */
#define CLUSTER_PROOF_HEX 64   /* an HMAC-SHA256 */

enum cluster_side { CLUSTER_DOWNSTREAM, CLUSTER_UPSTREAM };

/* A fresh nonce, as hex. */
void cluster_nonce(char out[CLUSTER_NONCE_HEX + 1]);

/* The proof one side sends: hex HMAC over the side, both nonces and the downstream's name. */
void cluster_proof(const char *secret, enum cluster_side side, const char *server_nonce,
                   const char *client_nonce, const char *name, char out[CLUSTER_PROOF_HEX + 1]);
/*
 * The same, bound to the TLS session the link runs over: binding is the
 * session's exporter value (RFC 5705, core/tls.h) as hex, which each end
 * derives alike and a relay that terminates TLS cannot make equal on its
 * two sides; so a proof relayed from one TLS session to another fails.
 * NULL or "": a plain link (the proof is cluster_proof's).
 */
void cluster_proof_bound(const char *secret, enum cluster_side side, const char *server_nonce,
                         const char *client_nonce, const char *name, const char *binding,
                         char out[CLUSTER_PROOF_HEX + 1]);

/*
 * Checks a proof received from the other side, in constant time.  Returns 0,
 * or SL_EAUTH when it is wrong, SL_EINVAL when a field is missing or not of
 * the expected form (a nonce of 16..64 hex digits, a name of 1..128 bytes).
 */
int cluster_proof_check(const char *secret, enum cluster_side side, const char *server_nonce,
                        const char *client_nonce, const char *name, const char *proof);
/* cluster_proof_check for a proof bound to a TLS session (cluster_proof_bound). */
int cluster_proof_check_bound(const char *secret, enum cluster_side side,
                              const char *server_nonce, const char *client_nonce,
                              const char *name, const char *binding, const char *proof);

#endif
