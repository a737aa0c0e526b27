/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn.h - the table of a process's client connections.
 *
 * Every accepted connection, whatever its protocol, is registered here: it
 * gets an id, counts against the connection limit, shows in the clients
 * API, and can be kicked by id.  The table only lists; each protocol owns
 * its connection's memory and closes it through conn_ops.
 */
#ifndef SLUICE_CORE_CONN_H
#define SLUICE_CORE_CONN_H

#include <jansson.h>
#include <stdint.h>

#include "core/list.h"
#include "core/ratelimit.h"

struct conn;

struct conn_ops {
	/* Closes the connection (possibly later); must tolerate repeated calls. */
	void (*kick)(struct conn *c, const char *reason);
	/* Adds protocol-specific fields to a JSON description; may be NULL. */
	void (*describe)(struct conn *c, json_t *obj);
};

struct conn {
	uint64_t id;
	const char *kind;        /* static: "rtmp", "http" */
	char peer[64];           /* "ip:port" */
	uint64_t created_ms;     /* wall clock */
	uint64_t bytes_in, bytes_out;
	const struct conn_ops *ops;
	struct list_node link;
};

struct conn_table {
	struct list_node all;
	uint32_t count;
	uint32_t max;            /* 0: no limit */
	uint64_t next_id;
	uint64_t accepted;       /* ever */
	uint64_t refused;        /* refused for the limit */
	uint64_t bytes_in_closed, bytes_out_closed; /* totals of connections gone */
	struct iplimit ip;       /* per-address share; refusals counted there */
	struct log_throttle refusal_log;
};

void conn_table_init(struct conn_table *t, uint32_t max);
/* Per-address limits (see ratelimit.h); 0 turns each off.  Off until called. */
void conn_table_set_ip_limits(struct conn_table *t, uint32_t max_per_ip, uint32_t rate_per_ip,
                              uint32_t burst_per_ip);
/* Frees what the per-address limits hold. */
void conn_table_free(struct conn_table *t);
/*
 * Registers c; returns 0, or a refusal: SL_EFULL (the table is at max),
 * SL_ELIMIT (c's address holds max_per_ip), SL_EAGAIN (c's address opens
 * connections faster than rate_per_ip).  Each is counted.
 */
int conn_table_add(struct conn_table *t, struct conn *c, const char *kind,
                   const char *peer, const struct conn_ops *ops);
/* Why conn_table_add refused (rc 0: "shutting down", for a stopping server). */
const char *conn_refusal_reason(int rc);
/*
 * Logs a refused connection as event connection_refused with the reason and
 * the limit it hit; rc is conn_table_add's, or 0 for a stopping server.  At
 * most 10 lines a second per table pass, so a flood cannot flood the log;
 * the next line that passes says how many were held back (suppressed=N).
 */
void conn_table_log_refusal(struct conn_table *t, const char *protocol, const char *peer,
                            int rc);
void conn_table_remove(struct conn_table *t, struct conn *c);
struct conn *conn_table_find(struct conn_table *t, uint64_t id);
/* Totals including closed connections. */
uint64_t conn_table_bytes_in(const struct conn_table *t);
uint64_t conn_table_bytes_out(const struct conn_table *t);
/* A JSON object describing c (id, kind, peer, since, bytes, + describe()). */
json_t *conn_to_json(struct conn *c);

#endif
