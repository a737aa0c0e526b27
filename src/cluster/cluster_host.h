/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_host.h - what the node lends its cluster half: the loop, the
 * settings, the stream registry, and a small table of operations for the
 * links other nodes opened to this one (downstream links: they are the
 * node's RTMP connections, which the cluster never looks inside).
 *
 * This is the whole boundary: the cluster includes nothing from src/node,
 * and the node reaches the cluster only through cluster.h.  A downstream
 * link is an opaque pointer the node hands in (cluster_peer_command) and
 * takes back (cluster_link_gone) before it is freed.
 */
#ifndef SLUICE_CLUSTER_CLUSTER_HOST_H
#define SLUICE_CLUSTER_CLUSTER_HOST_H

#include <stdint.h>
#include <uv.h>

#include "proto/rtmp_chunk.h"

struct bytes;
struct stream_registry;

/* The node's settings the cluster reads (docs/clustering.md); filled by the node. */
struct tls_client;

struct cluster_settings {
	const char *role;                /* standalone, origin, edge, relay */
	int clustering;
	const char *origins;             /* "host[:port],..." */
	const char *secret;
	const char *public_host;         /* NULL or "": the bind address */
	const char *bind;
	int rtmp_port, http_port;        /* as clients are sent to (public ports resolved) */
	int private_node;
	uint64_t retry_interval_ms;
	uint64_t upstream_timeout_ms;
	uint64_t linger_ms;
	uint64_t pull_idle_ms;
	unsigned max_pulls;              /* pulls at once; 0: no limit */
	unsigned pull_rate;              /* new pulls a second; 0: no limit */
	uint64_t pull_miss_hold_ms;      /* first hold-off for a name no upstream has; 0: none */
	uint64_t pull_miss_hold_max_ms;  /* the hold-off doubles up to this */
	const struct rtmp_reader_limits *rtmp_limits;
	struct tls_client *tls;          /* links to upstreams over RTMPS (core/tls.h); NULL: plain */
};

/* Sending on a downstream link; link is what the node passed to cluster_peer_command(). */
struct cluster_link_ops {
	/* Queues bytes (takes the contents of *b); dropped if the link is closing. */
	void (*send)(void *ctx, void *link, struct bytes *b);
	/* The chunk size the node sends with on its RTMP connections. */
	uint32_t (*chunk_size)(void *ctx);
	/* The node is shutting down: start nothing new. */
	int (*stopping)(void *ctx);
};

struct cluster_host {
	uv_loop_t *loop;
	const char *name;                /* this node's identity in the cluster */
	const struct cluster_settings *cfg;
	struct stream_registry *streams;
	const struct cluster_link_ops *ops;
	void *ctx;                       /* passed to every op */
};

#endif
