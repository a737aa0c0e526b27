/*
 * node_sign.h - how a node proves a request to the manager comes from a
 * member of the cluster: an HMAC with the cluster secret over the path, a
 * millisecond timestamp and the body, sent as two headers:
 *
 *   X-Sluice-Time: 1767225600123
 *   X-Sluice-Signature: hex(HMAC-SHA256(secret, "sluice-node-v1\n" PATH "\n" TIME "\n" BODY))
 *
 * The manager refuses a time more than NODE_SIGN_SKEW_MS away from its own
 * clock (stale) and, per node, a time not after the last one it accepted
 * (replayed), so a recorded request is worthless.
 */
#ifndef SLUICE_MANAGER_NODE_SIGN_H
#define SLUICE_MANAGER_NODE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define NODE_SIGN_SKEW_MS 30000
#define NODE_SIGN_HEX 65

void node_sign(const char *secret, const char *path, uint64_t time_ms, const void *body,
               size_t len, char out[NODE_SIGN_HEX]);

/*
 * Checks a request: time_text and sig_hex as received (may be NULL).
 * Returns 0 with *time_ms set, or SL_EAUTH with why set (missing, stale,
 * bad signature).  Replays are the caller's check (per node, on *time_ms).
 */
int node_sign_check(const char *secret, const char *path, const char *time_text,
                    const char *sig_hex, const void *body, size_t len, uint64_t now_ms,
                    uint64_t *time_ms, const char **why);

#endif
