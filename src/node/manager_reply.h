/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_reply.h - what the stream manager answered a node's registration
 * or heartbeat, parsed from the raw HTTP/1.1 response: the status, and for
 * a 200 the node's state, the origins an edge pulls from, where streams are
 * published, and whether it is draining; for an error, the manager's
 * message.
 *
 * Pure parsing of bytes from the network: no I/O; bounded (at most
 * MANAGER_REPLY_HINTS_MAX stream hints, each checked).  Every answer is
 * signed (proto/node_sign.h): manager_reply_verify says whether it is, and
 * the node acts on none that is not.
 */
#ifndef SLUICE_NODE_MANAGER_REPLY_H
#define SLUICE_NODE_MANAGER_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "proto/node_sign.h"

#define MANAGER_REPLY_HINTS_MAX 1024
#define MANAGER_REPLY_ORIGINS_MAX 4096

struct manager_reply {
	int status;                      /* HTTP status, 100..599 */
	char state[32];                  /* 200: the node's state as the manager sees it ("" if absent) */
	char origins[MANAGER_REPLY_ORIGINS_MAX];  /* 200: "host:port,..." or "" */
	json_t *hints;                   /* 200: {"app/stream": "host:port"} (owned) or NULL */
	int drain;                       /* 200: drain: true */
	char error[200];                 /* not 200: the manager's message, or "" */
	char nonce[NODE_KEY_NONCE_HEX];  /* 200 to a registration: keyNonce, or "" if absent/bad */
	char sig[NODE_SIGN_HEX];         /* X-Sluice-Signature, or "" if absent/malformed */
	size_t body_off, body_len;       /* where the body is in the bytes parsed */
};

/*
 * Parses a whole response.  Returns 0 (free with manager_reply_free), or
 * -1 when it is not an HTTP/1.x response with a status.  A 200 whose body
 * is not a JSON object, or fields of the wrong type or too long, leave
 * those fields empty: the node keeps what it had.
 */
int manager_reply_parse(const char *p, size_t n, struct manager_reply *out);
void manager_reply_free(struct manager_reply *r);

/*
 * 1 when r (parsed from p, n) carries key's signature over its status, its
 * body and req_sig (the signature of the request it answers), else 0.
 */
int manager_reply_verify(const char *p, size_t n, const struct manager_reply *r,
                         const char *key, const char *req_sig);

#endif
