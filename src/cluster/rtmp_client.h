/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_client.h - an outbound RTMP connection from this node to another
 * cluster node: resolve, connect, handshake, `connect` to an app, and the
 * cluster challenge-response (cluster_auth.h), after which its owner (a
 * pull, or the control link) sends commands and gets every message.
 *
 * Lifetime: the owner opens it and may close it at any time; closed() is
 * called exactly once, from the loop, after which the client is freed and
 * the owner must forget it.  Silence longer than the timeout (at any stage:
 * a peer that is frozen, not closed) closes it.
 */
#ifndef SLUICE_CLUSTER_RTMP_CLIENT_H
#define SLUICE_CLUSTER_RTMP_CLIENT_H

#include <stdint.h>
#include <uv.h>

#include "core/bytes.h"
#include "proto/rtmp_chunk.h"

#define RTMP_CLIENT_CHUNK_SIZE 4096

struct rtmp_client;
struct tls_client;

struct rtmp_client_ops {
	/* Connected and both sides proved they hold the secret. */
	void (*ready)(struct rtmp_client *c);
	/* Any message after ready; the owner may take m->body (set it to NULL). */
	void (*message)(struct rtmp_client *c, struct rtmp_msg *m);
	/* The last call: reason says why (logged by the owner). */
	void (*closed)(struct rtmp_client *c, const char *reason);
};

struct rtmp_client_config {
	const char *host;
	int port;
	const char *app;
	const char *secret;
	const char *name;            /* this node's name, bound into the proof */
	const char *via;             /* nodes the request passed through, this one last; or NULL */
	uint64_t timeout_ms;         /* silence that closes the link */
	const struct rtmp_reader_limits *limits;
	struct tls_client *tls;      /* RTMPS to the peer, the proof bound to it; NULL: plain */
};

/* Starts connecting; never NULL (a failure arrives as closed()). */
struct rtmp_client *rtmp_client_open(uv_loop_t *loop, const struct rtmp_client_config *cfg,
                                     const struct rtmp_client_ops *ops, void *owner);
/* Queues bytes (takes the contents of *b). */
void rtmp_client_send(struct rtmp_client *c, struct bytes *b);
/* Closes; closed() follows from the loop.  Harmless after closed() was scheduled. */
void rtmp_client_close(struct rtmp_client *c, const char *reason);
/* Once a second or more: enforces the timeout. */
void rtmp_client_tick(struct rtmp_client *c, uint64_t now_ms);

void *rtmp_client_owner(const struct rtmp_client *c);
/* An owner that goes away first sets NULL: callbacks then find no owner. */
void rtmp_client_set_owner(struct rtmp_client *c, void *owner);
/* "host:port" as configured. */
const char *rtmp_client_peer(const struct rtmp_client *c);

#endif
