/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ha.h - several managers on one shared store (docs/operations.md): the
 * leader lease with its fencing token (leader.c), and keeping each
 * manager's memory in step with the others' writes (sync.c).  On SQLite a
 * manager is alone: it always leads and there is nothing to sync.
 */
#ifndef SLUICE_MANAGER_HA_H
#define SLUICE_MANAGER_HA_H

#include <jansson.h>
#include <stdint.h>

#include "core/http_server.h"
#include "manager/store.h"

struct manager;
struct mnode;

struct mgr_leader {
	int is_leader;                 /* this manager holds the lease (as last seen) */
	int64_t token;                 /* the fencing token it holds it with */
	int64_t since_ms;              /* when the current leader took the lease */
	char holder[128], holder_url[256];
	int store_down;                /* the last renewal could not reach the database */
	uint64_t store_down_ms;        /* since when (monotonic) */
	uint64_t terms;                /* times this manager became leader */
	uint64_t fenced;               /* actions refused: the token was stale */
	uint64_t deferred;             /* actions put off: the database could not say */
	uint64_t writes_refused;       /* API writes answered 503 */
	/* This term's leader passes (liveness, drains, autoscaler: manager.c's tick) and the
	 * wall time of its first, so a failover can be timed to the moment the new leader acts
	 * (bench/ha_bench.py), not only to its election. */
	uint64_t passes;
	int64_t first_pass_ms;
};

struct mgr_sync {
	uint64_t next_ms;              /* monotonic: when the next sync runs */
	struct store_marks marks;
	int have_marks;
	int64_t hot_since;             /* newest hot-state revision read */
	uint64_t refresh_window_ms;    /* on-demand node refreshes: this second's count */
	unsigned refreshes;
	uint64_t reloads, hot_out, hot_in, refreshed;
};

/* leader.c */
/* Renews or takes the lease; steps down when another holds it. */
void mgr_leader_tick(struct manager *m);
/* 1 if this manager may act now: it leads and the store confirms its token (one round trip
 * on PostgreSQL).  0: refused and counted (logged with `what`); a stale token steps down. */
int mgr_leader_act(struct manager *m, const char *what);
/* Gives the lease up on a clean stop. */
void mgr_leader_release(struct manager *m);
json_t *mgr_leader_json(struct manager *m);
/* /healthz/leader, and the gate in front of API writes: 503 while the database is
 * unreachable, 503 with the leader's address for node and group actions on a manager that
 * does not lead.  Returns 1 if it answered. */
int mgr_ha_gate(struct manager *m, struct http_conn *c, const char *seg0, int get);
int mgr_ha_leader_health(struct manager *m, struct http_conn *c);

/* sync.c */
/* Every sync-interval: writes the hot state batched since, reloads tables another manager
 * changed, reads others' hot state, renews the lease. */
void mgr_sync_tick(struct manager *m);
/* A heartbeat accepted here: its time, sequence number and body go out with the next batch. */
void mgr_hot_touch(struct manager *m, struct mnode *nd, const uint8_t *body, size_t len);
/* Reads one node's row now (a node registered through another manager heartbeats here
 * before the next reload); throttled.  1 if the node is known afterwards. */
int mgr_node_refresh(struct manager *m, const char *id);

#endif
