/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routing.h - where a client should publish or watch, decided from a
 * snapshot of the nodes (pure: no I/O, no clock), so every rule is tested
 * without a cluster.
 *
 *   broadcast  the origin already holding the stream's publisher; otherwise
 *              the least-loaded alive origin with room (requested region first)
 *   subscribe  404 unless an origin has the stream's publisher; then the
 *              least-loaded alive edge with room (requested region first); the
 *              publishing origin when the group has no alive edge
 *
 * Overloaded nodes (above their CPU or memory limit) are skipped like full ones.
 * Draining nodes take no new clients, but a stream already published on a
 * draining origin is still routed there (its viewers' source is there).
 */
#ifndef SLUICE_MANAGER_ROUTING_H
#define SLUICE_MANAGER_ROUTING_H

#include <stddef.h>
#include <stdint.h>

#include "manager/model.h"

enum node_state { NS_LAUNCHING, NS_STARTING, NS_ALIVE, NS_DRAINING, NS_DEAD, NS_COUNT };

const char *node_state_name(enum node_state s);
int node_state_parse(const char *s);

struct route_node {
	const char *id;
	enum mrole role;
	enum node_state state;
	const char *region;
	int64_t load;          /* connections counted against capacity (incl. routed, not yet seen) */
	int64_t capacity;      /* from the launch configuration; > 0 */
	int publishing;        /* a publisher of the requested stream is on this node */
	int overloaded;        /* above its CPU or memory limit: takes no new clients */
};

enum route_action { ROUTE_BROADCAST, ROUTE_SUBSCRIBE };

/*
 * Picks a node for the action.  region may be NULL (no preference).
 * Returns the index of the node, or SL_ENOTFOUND (subscribe: stream not
 * live) or SL_EFULL (nothing alive with room) with reason set.
 */
int routing_pick(const struct route_node *nodes, size_t n, enum route_action action,
                 const char *region, char *reason, size_t reason_size);

/*
 * Reservations: a client routed to a node counts against its capacity
 * until the node's report shows it, or for ROUTE_PENDING_MS (some never
 * come); at most ROUTE_PENDING_MAX per node, the oldest replaced.  Each
 * remembers its caller (an address key, core/ratelimit.h), so that the
 * manager can bound what one caller holds: routing calls are anonymous and
 * cheap, and unbounded reservations let one caller fill every node.
 */
#define ROUTE_PENDING_MAX 32
#define ROUTE_PENDING_MS 3000
#define ROUTE_CALLER_MAX 64

struct route_pending {
	int64_t n;
	uint64_t ms[ROUTE_PENDING_MAX];           /* when each was made (oldest first) */
	char by[ROUTE_PENDING_MAX][ROUTE_CALLER_MAX];
};

/* Forgets reservations older than ROUTE_PENDING_MS, then the oldest `settled` of the rest
 * (clients the node's report now shows). */
void route_pending_settle(struct route_pending *p, uint64_t now_ms, int64_t settled);
/* Reservations caller holds (after a settle). */
unsigned route_pending_count(const struct route_pending *p, const char *caller);
/* Adds one for caller, replacing the oldest when full. */
void route_pending_add(struct route_pending *p, uint64_t now_ms, const char *caller);

#endif
