/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_sign.h - how a node and the stream manager prove their calls to each
 * other (pure: bytes in, hex out; no I/O, no clock).
 *
 * Registration is signed with the cluster secret.  The manager's answer to
 * it carries a fresh random nonce; from then on both sides use the node's
 * own key,
 *
 *   key_node = hex(HMAC-SHA256(secret, "sluice-node-key-v1\n" NODE_ID "\n" NONCE))
 *
 * which never crosses the wire, so another member of the cluster (it has
 * the secret, not the nonce) cannot heartbeat as this node.  A request is
 * sent with three headers:
 *
 *   X-Sluice-Time: 1767225600123        (milliseconds, wall clock)
 *   X-Sluice-Seq: 42                    (per node key, strictly increasing)
 *   X-Sluice-Signature: hex(HMAC-SHA256(key,
 *                       "sluice-node-v2\n" PATH "\n" TIME "\n" SEQ "\n" BODY))
 *
 * The manager refuses a time more than NODE_SIGN_SKEW_MS from its own clock
 * (stale), and a sequence number not above the last one it accepted for
 * that key (replayed).  Replay protection is by counter, not by the newest
 * time seen, so a request stamped in the future cannot lock the real node
 * out.  Every answer to a node is signed too, bound to the request it
 * answers:
 *
 *   X-Sluice-Signature: hex(HMAC-SHA256(key,
 *                       "sluice-manager-v1\n" STATUS "\n" REQUEST_SIG "\n" BODY))
 *
 * with the node's key once it has one, else the cluster secret.
 */
#ifndef SLUICE_PROTO_NODE_SIGN_H
#define SLUICE_PROTO_NODE_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* How far a request's time may be from the manager's clock, either way. */
#define NODE_SIGN_SKEW_MS 5000
/* Hex HMAC-SHA256 plus its terminating NUL (signatures and node keys). */
#define NODE_SIGN_HEX 65
/* Random bytes of a registration nonce (sent as hex). */
#define NODE_KEY_NONCE_BYTES 16
#define NODE_KEY_NONCE_HEX (2 * NODE_KEY_NONCE_BYTES + 1)

/* Signs a request with key (the cluster secret, or a node key as hex text). */
void node_sign(const char *key, const char *path, uint64_t time_ms, uint64_t seq,
               const void *body, size_t len, char out[NODE_SIGN_HEX]);

/*
 * Checks a request: time_text, seq_text and sig_hex as received (any may be
 * NULL).  Returns 0 with *time_ms and *seq set, or SL_EAUTH with why set
 * (missing, malformed, stale, bad signature).  Replays are the caller's
 * check (per node key, on *seq).
 */
int node_sign_check(const char *key, const char *path, const char *time_text,
                    const char *seq_text, const char *sig_hex, const void *body, size_t len,
                    uint64_t now_ms, uint64_t *time_ms, uint64_t *seq, const char **why);

/* The node's key for a registration (see above); nonce_hex as the manager sent it. */
void node_key_derive(const char *secret, const char *node_id, const char *nonce_hex,
                     char out[NODE_SIGN_HEX]);
/* 1 if s is NODE_KEY_NONCE_HEX - 1 lowercase hex digits. */
int node_nonce_valid(const char *s);

/* Signs an answer (status, the request's signature it answers, the body). */
void node_answer_sign(const char *key, int status, const char *request_sig, const void *body,
                      size_t len, char out[NODE_SIGN_HEX]);
/* 1 if sig_hex is key's signature of that answer (constant-time compare), else 0. */
int node_answer_check(const char *key, int status, const char *request_sig, const void *body,
                      size_t len, const char *sig_hex);

#endif
