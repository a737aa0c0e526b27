/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster.h - this node's part in a static cluster: its role, its upstreams,
 * the streams it pulls from them, the members it knows of, and the events
 * it has delivered.  See docs/clustering.md.
 *
 *   origin  takes publishers; serves pulls to members that prove the secret
 *   edge    serves viewers; pulls each stream it lacks from an upstream
 *   relay   pulls like an edge and serves pulls like an origin
 */
#ifndef SLUICE_CLUSTER_CLUSTER_H
#define SLUICE_CLUSTER_CLUSTER_H

#include <jansson.h>
#include <stdint.h>

#include "cluster/cluster_events.h"
#include "cluster/cluster_host.h"
#include "cluster/members.h"
#include "cluster/pull_gate.h"
#include "core/bytes.h"
#include "core/list.h"
#include "core/ratelimit.h"
#include "media/stream.h"
#include "proto/amf0.h"

struct rtmp_client;

enum cluster_role { ROLE_STANDALONE, ROLE_ORIGIN, ROLE_EDGE, ROLE_RELAY };

#define CLUSTER_MAX_UPSTREAMS 16
#define CLUSTER_EVENTS_KEPT 64

struct upstream {
	struct cluster *cl;
	char host[256];
	int port;
	struct rtmp_client *control;     /* the membership/event link; NULL while down */
	int up;                          /* the link is authenticated */
	int failures;                    /* connection attempts failed in a row */
	uint64_t next_try_ms;
};

struct cluster_event {
	struct event_msg ev;
	uint64_t received_ms;            /* wall clock */
	unsigned streams;                /* live streams it was delivered into */
};

/* A link another node opened to us and said hello on (its membership/event link). */
struct cluster_downlink {
	struct list_node link;           /* cluster->downlinks */
	void *peer;                      /* the node's handle, for host.ops->send */
};

struct cluster {
	struct cluster_host host;        /* what the node lends (cluster_host.h) */
	enum cluster_role role;
	int enabled;                     /* a role other than standalone, and clustering on */
	struct upstream up[CLUSTER_MAX_UPSTREAMS];
	unsigned nup;
	struct list_node pulls;          /* struct pull */
	unsigned npulls;
	struct pull_gate gate;           /* checked before each new pull (pull_gate.h) */
	struct log_throttle refused_log;
	struct list_node downlinks;      /* struct cluster_downlink */
	unsigned ndownlinks;
	struct members members;
	uv_timer_t timer;
	unsigned ticks;
	uint64_t rr_next;                /* /cluster round-robin position */
	json_t *origin_hints;            /* {"app/stream": "host:port"} from the manager, or NULL */
	/* events this node was targeted by (newest last), and every id seen, for dedupe */
	struct cluster_event events[CLUSTER_EVENTS_KEPT];
	unsigned nevents, events_head;
	char seen_ids[1024][33];
	unsigned seen_next;
	/* counters */
	uint64_t pulls_started, failovers, auth_refused, auth_accepted, events_received;
};

/* Reads the settings the host lends (copied; what it points to must outlive the cluster);
 * on a bad one writes why to err, returns -1. */
int cluster_init(struct cluster *cl, const struct cluster_host *host, char *err,
                 size_t err_size);
/*
 * An edge or relay gets a new upstream list ("host[:port],...", e.g. from the stream
 * manager as origins come and go): links to upstreams that stay are kept, the others
 * closed; pulls go on, and their next tries use the new list.  Returns 1 if it changed,
 * 0 if not (or this node is not an edge or relay), SL_EINVAL for a bad or empty list.
 */
int cluster_set_upstreams(struct cluster *cl, const char *list);
/*
 * Where streams are published, as the stream manager knows it ({"app/stream":
 * "host:port"}; takes the caller's reference, NULL forgets): a pull starts each round
 * of tries at that upstream.
 */
void cluster_set_origin_hints(struct cluster *cl, json_t *hints);
/* The index of the upstream the hints name for app/stream, or -1. */
int cluster_origin_hint(const struct cluster *cl, const char *app, const char *name);
/* Starts the cluster's timer: pulls and links are looked after four times a second. */
void cluster_start(struct cluster *cl);
/* The host changed its settings (a reload): limits kept elsewhere follow them. */
void cluster_settings_changed(struct cluster *cl);
/* Drops every pull and link (node shutdown). */
void cluster_stop(struct cluster *cl);

/* A viewer asked for a stream that is not live here: on an edge or relay, start pulling it.
 * Returns the (live, maybe not yet flowing) stream, or NULL. Borrowed. */
struct stream *cluster_pull_stream(struct cluster *cl, const char *app, const char *name);
/* The same for another node's pull: via lists the nodes the request came through, so a
 * node finding itself there (relays that list each other) answers "not found". */
struct stream *cluster_pull_stream_via(struct cluster *cl, const char *app, const char *name,
                                       const char *via);
/* Whether this node serves cluster pulls and links (origin or relay with a secret). */
int cluster_serves_peers(const struct cluster *cl);
int cluster_takes_publishers(const struct cluster *cl);

const char *cluster_role_name(enum cluster_role r);
/* {role, upstreams, pulls:[...], members:[...], failovers, ...} */
json_t *cluster_to_json(struct cluster *cl);

struct rtmp_command;
/*
 * A command from a downstream node on its authenticated link (link: the node's handle for
 * it).  Returns 0 if it was not a cluster command, CLUSTER_CMD_HANDLED, or
 * CLUSTER_CMD_CONTROL when the link just became a membership/event link: the cluster now
 * floods events along it, until the node calls cluster_link_gone().
 */
#define CLUSTER_CMD_HANDLED 1
#define CLUSTER_CMD_CONTROL 2
int cluster_peer_command(struct cluster *cl, void *link, const struct rtmp_command *cmd);
/* A downstream link is going away: forget it (harmless for one never registered). */
void cluster_link_gone(struct cluster *cl, void *link);

/* Events (cluster_events.c). */
/* Validates a JSON body from POST /api/v1/cluster/events, then delivers and floods it.
 * Returns 0 with the new event's id, or -1 with a message for a 400. */
int cluster_event_post(struct cluster *cl, const char *body, size_t len, char id[33],
                       char *err, size_t err_size);
/* An event from a peer link (already authenticated); from_link is excluded when flooding. */
void cluster_event_receive(struct cluster *cl, const struct amf0_value *ev, const void *from_link);
json_t *cluster_events_json(struct cluster *cl);
/* Sends an event to every link but one (the link it came from, or NULL). */
void cluster_event_flood(struct cluster *cl, const struct bytes *amf_event, const void *except);

#endif
