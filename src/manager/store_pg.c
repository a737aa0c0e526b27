/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg.c - the store on PostgreSQL (store.h), shared by any number of
 * managers (docs/operations.md):
 *
 *  - the schema is versioned in sluice_schema and migrated by whichever
 *    manager gets there first, in one transaction under an advisory lock;
 *  - every object row carries a revision from one sequence, so a manager
 *    notices another's writes by reading max(rev) and count(*) per table;
 *  - hot node state (last heartbeat, its report) is written in batches,
 *    one statement per sync for all the nodes that beat meanwhile;
 *  - the leader lease is one row; its token grows by one whenever the lease
 *    changes hands, and a fenced action asks for it first;
 *  - while the database is unreachable, writes the manager makes on its own
 *    (node states, events) are queued in memory (bounded) and written when it
 *    returns; operator writes are refused before they get here (503).
 *
 * libpq is used synchronously on the loop: a refused connection fails at once;
 * a database that hangs holds the loop for at most db-timeout (see
 * docs/operations.md, "What is not done yet").
 */
#include "manager/store.h"

#include <libpq-fe.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#define EVENTS_KEPT 20000
/* Writes held while the database is unreachable; more are dropped (and counted). */
#define PG_QUEUE_MAX 10000
/* How often a lost connection is tried again. */
#define PG_RECONNECT_MS 500
/* Rows per batched hot-state statement (libpq allows 65535 parameters). */
#define PG_HOT_BATCH 1000
/* Hot rows read per sync; the rest come at the next. */
#define PG_HOT_READ_MAX 20000
/* The advisory lock migrations run under (any fixed number, the same in every manager). */
#define PG_MIGRATION_LOCK 0x736c7569LL

static char *pg_password;
static unsigned pg_timeout_ms = 2000;

void store_set_password(const char *password)
{
	if (pg_password) {
		memset(pg_password, 0, strlen(pg_password));
		free(pg_password);
	}
	pg_password = password ? xstrdup(password) : NULL;
}

void store_set_timeout_ms(unsigned ms)
{
	pg_timeout_ms = ms ? ms : 2000;
}

/* A write held while the database is away: an object (json NULL: a delete) or an event. */
struct pg_queued {
	int is_event;
	enum store_table t;
	char *key, *json;
	int64_t ts_ms;
	char *kind, *group, *node, *message;
};

struct pg_store {
	struct store base;             /* first: the handle store.c dispatches on */
	PGconn *conn;
	char url[512];
	int version;
	int up;                        /* the last call reached the database */
	uint64_t next_connect_ms;
	struct pg_queued *q;
	size_t nq;
	uint64_t dropped;
	unsigned events_since_trim;
};

static const char *const table_names[ST_COUNT] = {
	"launch_configs", "scale_policies", "node_groups", "nodes",
};

/* Migration N takes the schema from version N-1 to N.  Append only. */
static const char *const migrations[] = {
	/* 1: objects as JSON keyed by name, each with a revision; the event log; hot node
	 * state; the leader lease */
	"CREATE SEQUENCE sluice_rev;"
	"CREATE TABLE launch_configs (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms BIGINT NOT NULL, rev BIGINT NOT NULL DEFAULT nextval('sluice_rev'));"
	"CREATE TABLE scale_policies (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms BIGINT NOT NULL, rev BIGINT NOT NULL DEFAULT nextval('sluice_rev'));"
	"CREATE TABLE node_groups (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms BIGINT NOT NULL, rev BIGINT NOT NULL DEFAULT nextval('sluice_rev'));"
	"CREATE TABLE nodes (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms BIGINT NOT NULL, rev BIGINT NOT NULL DEFAULT nextval('sluice_rev'));"
	"CREATE TABLE events (id BIGSERIAL PRIMARY KEY, ts_ms BIGINT NOT NULL,"
	"  kind TEXT NOT NULL, group_name TEXT, node TEXT, message TEXT NOT NULL);"
	"CREATE INDEX events_ts ON events (ts_ms);"
	"CREATE TABLE node_hot (name TEXT PRIMARY KEY, last_seen_ms BIGINT NOT NULL,"
	"  seq BIGINT NOT NULL, report TEXT,"
	"  rev BIGINT NOT NULL DEFAULT nextval('sluice_rev'));"
	"CREATE INDEX node_hot_rev ON node_hot (rev);"
	"CREATE TABLE sluice_leader (id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  holder TEXT NOT NULL, url TEXT NOT NULL, token BIGINT NOT NULL,"
	"  since TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL);"
	"INSERT INTO sluice_leader VALUES (1, '', '', 0, now(), now());",
	/* 2: settings that are not objects (store_setting_*) */
	"CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL,"
	"  updated_ms BIGINT NOT NULL);",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int connect_now(struct pg_store *s, char *err, size_t n)
{
	char timeout_s[16], options[96];
	unsigned secs = (pg_timeout_ms + 999) / 1000;
	snprintf(timeout_s, sizeof(timeout_s), "%u", secs < 2 ? 2 : secs);
	snprintf(options, sizeof(options), "-c statement_timeout=%u -c client_min_messages=warning",
	         pg_timeout_ms);
	const char *const keys[] = { "dbname", "connect_timeout", "options", "application_name",
	                             pg_password ? "password" : NULL, NULL };
	const char *const vals[] = { s->url, timeout_s, options, "sluice-manager", pg_password,
	                             NULL };
	if (s->conn)
		PQfinish(s->conn);
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		snprintf(err, n, "%s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
		size_t l = strlen(err);
		while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = '\0';
		s->up = 0;
		return SL_EIO;
	}
	s->up = 1;
	return 0;
}

/* A connection, reconnecting at most every PG_RECONNECT_MS; 0 or SL_EIO. */
static int ensure(struct pg_store *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	uint64_t now = clock_mono_ms();
	if (now < s->next_connect_ms)
		return SL_EIO;
	s->next_connect_ms = now + PG_RECONNECT_MS;
	char err[256];
	int was_up = s->up;
	if (connect_now(s, err, sizeof(err)) < 0) {
		log_throttled(LOG_WARN, "store_unreachable", "backend=postgresql error=\"%s\"", err);
		return SL_EIO;
	}
	if (!was_up)
		log_info("store_reconnected", "backend=postgresql queued=%zu", s->nq);
	return 0;
}

/* Runs one statement; the result (PGRES_COMMAND_OK or TUPLES_OK), or NULL (logged; the
 * connection marked down if it was lost). */
static PGresult *run(struct pg_store *s, const char *what, const char *sql, int nparams,
                     const char *const *params)
{
	if (ensure(s) < 0)
		return NULL;
	PGresult *r = nparams ? PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0)
	                      : PQexec(s->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		s->up = 1;
		return r;
	}
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", s->conn ? PQerrorMessage(s->conn) : "no connection");
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '"')
			*p = ' ';
	PQclear(r);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		if (s->up)
			log_warn("store_unreachable", "backend=postgresql what=%s error=\"%s\"", what, msg);
		s->up = 0;
	} else {
		log_throttled(LOG_ERROR, "store_error", "backend=postgresql what=%s error=\"%s\"", what,
		              msg);
	}
	return NULL;
}

static int lost(struct pg_store *s)
{
	return !s->conn || PQstatus(s->conn) != CONNECTION_OK;
}

static int migrate(struct pg_store *s, char *err, size_t n)
{
	PGresult *r = PQexec(s->conn, "BEGIN");
	PQclear(r);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", (long long)PG_MIGRATION_LOCK);
	const char *steps[] = {
		sql,
		"CREATE TABLE IF NOT EXISTS sluice_schema (version INTEGER NOT NULL)",
		"INSERT INTO sluice_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM sluice_schema)",
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = PQexec(s->conn, steps[i]);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			snprintf(err, n, "cannot set up the schema: %s", PQerrorMessage(s->conn));
			goto fail;
		}
		PQclear(r);
	}
	r = PQexec(s->conn, "SELECT version FROM sluice_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		snprintf(err, n, "cannot read the schema version: %s", PQerrorMessage(s->conn));
		goto fail;
	}
	int have = atoi(PQgetvalue(r, 0, 0)), first, last;
	PQclear(r);
	r = NULL;
	if (store_schema_plan(have, NMIGRATIONS, &first, &last, err, n) < 0) {
		r = PQexec(s->conn, "ROLLBACK");
		PQclear(r);
		return SL_EUNSUPP;
	}
	for (int v = first; v <= last; v++) {
		r = PQexec(s->conn, migrations[v - 1]);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, n, "schema migration %d failed: %s", v, PQerrorMessage(s->conn));
			goto fail;
		}
		PQclear(r);
		log_info("store_migrated", "backend=postgresql version=%d", v);
	}
	snprintf(sql, sizeof(sql), "UPDATE sluice_schema SET version = %d", last);
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, n, "cannot record the schema version: %s", PQerrorMessage(s->conn));
		goto fail;
	}
	PQclear(r);
	r = PQexec(s->conn, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, n, "schema migration failed at commit: %s", PQerrorMessage(s->conn));
		goto fail;
	}
	PQclear(r);
	s->version = last;
	return 0;
fail:
	PQclear(r);
	r = PQexec(s->conn, "ROLLBACK");
	PQclear(r);
	size_t l = strlen(err);
	while (l && err[l - 1] == '\n')
		err[--l] = '\0';
	return SL_EIO;
}

static int pg_open(const struct store_url *u, struct store **out, char *err, size_t err_size)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));
	snprintf(s->url, sizeof(s->url), "%s", u->target);
	int rc = connect_now(s, err, err_size);
	if (rc == 0)
		rc = migrate(s, err, err_size);
	if (rc < 0) {
		PQfinish(s->conn);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void queued_free(struct pg_queued *e)
{
	free(e->key);
	free(e->json);
	free(e->kind);
	free(e->group);
	free(e->node);
	free(e->message);
}

static void pg_close(struct store *st_)
{
	struct pg_store *s = (struct pg_store *)st_;
	if (s->nq)
		log_warn("store_queue_lost", "backend=postgresql writes=%zu reason=\"the database "
		         "was unreachable until the manager stopped\"", s->nq);
	for (size_t i = 0; i < s->nq; i++)
		queued_free(&s->q[i]);
	free(s->q);
	PQfinish(s->conn);
	free(s);
}

static int pg_schema_version(struct store *st_)
{
	return ((struct pg_store *)st_)->version;
}

static int enqueue(struct pg_store *s, const struct pg_queued *e)
{
	if (!e->is_event) {
		/* A later write of the same row replaces the earlier one. */
		for (size_t i = 0; i < s->nq; i++) {
			struct pg_queued *o = &s->q[i];
			if (!o->is_event && o->t == e->t && strcmp(o->key, e->key) == 0) {
				queued_free(o);
				memmove(o, o + 1, (s->nq - i - 1) * sizeof(*o));
				s->nq--;
				break;
			}
		}
	}
	if (s->nq >= PG_QUEUE_MAX) {
		s->dropped++;
		log_throttled(LOG_ERROR, "store_queue_full", "backend=postgresql max=%d dropped=%" PRIu64,
		              PG_QUEUE_MAX, s->dropped);
		return SL_EFULL;
	}
	if (s->nq % 64 == 0)
		s->q = xrealloc(s->q, (s->nq + 64) * sizeof(*s->q));
	struct pg_queued *n = &s->q[s->nq++];
	*n = (struct pg_queued){ .is_event = e->is_event, .t = e->t, .ts_ms = e->ts_ms };
#define DUP(f) n->f = e->f ? xstrdup(e->f) : NULL
	DUP(key);
	DUP(json);
	DUP(kind);
	DUP(group);
	DUP(node);
	DUP(message);
#undef DUP
	return 0;
}

static int put_now(struct pg_store *s, enum store_table t, const char *key, const char *json)
{
	char sql[256], ms[24];
	snprintf(ms, sizeof(ms), "%" PRIu64, clock_wall_ms());
	snprintf(sql, sizeof(sql), "INSERT INTO %s (name, body, updated_ms, rev) VALUES "
	         "($1, $2, $3, nextval('sluice_rev')) ON CONFLICT (name) DO UPDATE SET "
	         "body = EXCLUDED.body, updated_ms = EXCLUDED.updated_ms, rev = EXCLUDED.rev",
	         table_names[t]);
	const char *p[] = { key, json, ms };
	PGresult *r = run(s, "put", sql, 3, p);
	PQclear(r);
	return r ? 0 : SL_EIO;
}

static int del_now(struct pg_store *s, enum store_table t, const char *key)
{
	char sql[128];
	const char *p[] = { key };
	if (t == ST_NODES) {
		PGresult *h = run(s, "delete", "DELETE FROM node_hot WHERE name = $1", 1, p);
		if (!h)
			return SL_EIO;
		PQclear(h);
	}
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE name = $1", table_names[t]);
	PGresult *r = run(s, "delete", sql, 1, p);
	PQclear(r);
	return r ? 0 : SL_EIO;
}

static int event_now(struct pg_store *s, int64_t ts_ms, const char *kind, const char *group,
                     const char *node, const char *message)
{
	char ts[24];
	snprintf(ts, sizeof(ts), "%" PRId64, ts_ms);
	const char *p[] = { ts, kind, group, node, message };
	PGresult *r = run(s, "event", "INSERT INTO events (ts_ms, kind, group_name, node, message) "
	                  "VALUES ($1, $2, $3, $4, $5)", 5, p);
	if (!r)
		return SL_EIO;
	PQclear(r);
	if (++s->events_since_trim >= 1000) {
		s->events_since_trim = 0;
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id <= "
		         "(SELECT MAX(id) FROM events) - %d", EVENTS_KEPT);
		PQclear(run(s, "trim", sql, 0, NULL));
	}
	return 0;
}

/* Writes what was queued, oldest first; 0 when nothing is left. */
static int pg_flush(struct store *st_)
{
	struct pg_store *s = (struct pg_store *)st_;
	if (ensure(s) < 0)
		return SL_EIO;
	size_t done = 0;
	for (; done < s->nq; done++) {
		struct pg_queued *e = &s->q[done];
		int rc = e->is_event ? event_now(s, e->ts_ms, e->kind, e->group, e->node, e->message)
		       : e->json ? put_now(s, e->t, e->key, e->json) : del_now(s, e->t, e->key);
		if (rc < 0 && lost(s))
			break;
		/* A row the database refuses for another reason would block the queue forever:
		 * it was logged by run(), and is dropped. */
		queued_free(e);
	}
	if (done) {
		memmove(s->q, s->q + done, (s->nq - done) * sizeof(*s->q));
		s->nq -= done;
		if (!s->nq)
			log_info("store_caught_up", "backend=postgresql writes=%zu", done);
	}
	return s->nq ? SL_EIO : 0;
}

static int pg_put(struct store *st_, enum store_table t, const char *key, const char *json)
{
	struct pg_store *s = (struct pg_store *)st_;
	struct pg_queued e = { .t = t, .key = (char *)key, .json = (char *)json };
	if (s->nq && pg_flush(st_) < 0)
		return enqueue(s, &e);
	int rc = put_now(s, t, key, json);
	return rc < 0 && lost(s) ? enqueue(s, &e) : rc;
}

static int pg_del(struct store *st_, enum store_table t, const char *key)
{
	struct pg_store *s = (struct pg_store *)st_;
	struct pg_queued e = { .t = t, .key = (char *)key };
	if (s->nq && pg_flush(st_) < 0)
		return enqueue(s, &e);
	int rc = del_now(s, t, key);
	return rc < 0 && lost(s) ? enqueue(s, &e) : rc;
}

static int pg_event_add(struct store *st_, int64_t ts_ms, const char *kind, const char *group,
                        const char *node, const char *message)
{
	struct pg_store *s = (struct pg_store *)st_;
	struct pg_queued e = { .is_event = 1, .ts_ms = ts_ms, .kind = (char *)kind,
	                       .group = (char *)group, .node = (char *)node,
	                       .message = (char *)message };
	if (s->nq && pg_flush(st_) < 0)
		return enqueue(s, &e);
	int rc = event_now(s, ts_ms, kind, group, node, message);
	return rc < 0 && lost(s) ? enqueue(s, &e) : rc;
}

static int rows(struct pg_store *s, const char *sql, int np, const char *const *p,
                store_row_fn fn, void *arg)
{
	PGresult *r = run(s, "read", sql, np, p);
	if (!r)
		return SL_EIO;
	for (int i = 0; i < PQntuples(r); i++)
		fn(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return 0;
}

static int pg_each(struct store *st_, enum store_table t, store_row_fn fn, void *arg)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT name, body FROM %s ORDER BY name", table_names[t]);
	return rows((struct pg_store *)st_, sql, 0, NULL, fn, arg);
}

static int pg_get(struct store *st_, enum store_table t, const char *key, store_row_fn fn,
                  void *arg)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT name, body FROM %s WHERE name = $1", table_names[t]);
	const char *p[] = { key };
	return rows((struct pg_store *)st_, sql, 1, p, fn, arg);
}

static int pg_events(struct store *st_, int limit, store_event_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)st_;
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", limit);
	const char *p[] = { lim };
	PGresult *r = run(s, "events", "SELECT id, ts_ms, kind, group_name, node, message FROM "
	                  "(SELECT * FROM events ORDER BY id DESC LIMIT $1) e ORDER BY id", 1, p);
	if (!r)
		return SL_EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_event ev = {
			.id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
			.ts_ms = strtoll(PQgetvalue(r, i, 1), NULL, 10),
			.kind = PQgetvalue(r, i, 2),
			.group = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
			.node = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4),
			.message = PQgetvalue(r, i, 5),
		};
		fn(arg, &ev);
	}
	PQclear(r);
	return 0;
}

static int pg_healthy(struct store *st_)
{
	struct pg_store *s = (struct pg_store *)st_;
	return s->up && !lost(s) && s->nq == 0;
}

static int pg_marks(struct store *st_, struct store_marks *out)
{
	struct pg_store *s = (struct pg_store *)st_;
	char sql[1024];
	size_t len = 0;
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, "SELECT");
	for (int t = 0; t < ST_COUNT; t++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s (SELECT coalesce(max(rev), 0) "
		                        "FROM %s), (SELECT count(*) FROM %s)", t ? "," : "",
		                        table_names[t], table_names[t]);
	PGresult *r = run(s, "marks", sql, 0, NULL);
	if (!r)
		return SL_EIO;
	for (int t = 0; t < ST_COUNT; t++) {
		out->rev[t] = strtoll(PQgetvalue(r, 0, 2 * t), NULL, 10);
		out->count[t] = strtoll(PQgetvalue(r, 0, 2 * t + 1), NULL, 10);
	}
	PQclear(r);
	return 0;
}

static int pg_hot_put(struct store *st_, const struct store_hot *hot, size_t n)
{
	struct pg_store *s = (struct pg_store *)st_;
	for (size_t off = 0; off < n; off += PG_HOT_BATCH) {
		size_t k = n - off < PG_HOT_BATCH ? n - off : PG_HOT_BATCH;
		size_t cap = 512 + k * 48;
		char *sql = xmalloc(cap);
		const char **p = xcalloc(k * 4, sizeof(*p));
		char (*nums)[24] = xcalloc(k * 2, sizeof(*nums));
		size_t len = (size_t)snprintf(sql, cap, "INSERT INTO node_hot (name, last_seen_ms, "
		                              "seq, report) VALUES ");
		for (size_t i = 0; i < k; i++) {
			const struct store_hot *h = &hot[off + i];
			snprintf(nums[2 * i], sizeof(nums[0]), "%" PRId64, h->last_seen_ms);
			snprintf(nums[2 * i + 1], sizeof(nums[0]), "%" PRId64, h->seq);
			p[4 * i] = h->node;
			p[4 * i + 1] = nums[2 * i];
			p[4 * i + 2] = nums[2 * i + 1];
			p[4 * i + 3] = h->report;
			len += (size_t)snprintf(sql + len, cap - len, "%s($%zu, $%zu, $%zu, $%zu)",
			                        i ? "," : "", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4);
		}
		/* Only a newer heartbeat replaces what another manager wrote. */
		snprintf(sql + len, cap - len, " ON CONFLICT (name) DO UPDATE SET last_seen_ms = "
		         "EXCLUDED.last_seen_ms, seq = EXCLUDED.seq, report = coalesce(EXCLUDED.report, "
		         "node_hot.report), rev = nextval('sluice_rev') WHERE EXCLUDED.last_seen_ms > "
		         "node_hot.last_seen_ms");
		PGresult *r = run(s, "hot", sql, (int)(k * 4), p);
		PQclear(r);
		free(sql);
		free(p);
		free(nums);
		if (!r)
			return SL_EIO;
	}
	return 0;
}

static int pg_hot_since(struct store *st_, int64_t *since, store_hot_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)st_;
	char from[24], sql[192];
	snprintf(from, sizeof(from), "%" PRId64, *since);
	snprintf(sql, sizeof(sql), "SELECT name, last_seen_ms, seq, report, rev FROM node_hot "
	         "WHERE rev > $1 ORDER BY rev LIMIT %d", PG_HOT_READ_MAX);
	const char *p[] = { from };
	PGresult *r = run(s, "hot_read", sql, 1, p);
	if (!r)
		return SL_EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_hot h = {
			.node = PQgetvalue(r, i, 0),
			.last_seen_ms = strtoll(PQgetvalue(r, i, 1), NULL, 10),
			.seq = strtoll(PQgetvalue(r, i, 2), NULL, 10),
			.report = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
		};
		fn(arg, &h);
		int64_t rev = strtoll(PQgetvalue(r, i, 4), NULL, 10);
		if (rev > *since)
			*since = rev;
	}
	PQclear(r);
	return 0;
}

static void lease_row(PGresult *r, int off, struct store_lease *out)
{
	out->token = strtoll(PQgetvalue(r, 0, off), NULL, 10);
	out->since_ms = strtoll(PQgetvalue(r, 0, off + 1), NULL, 10);
	out->expires_ms = strtoll(PQgetvalue(r, 0, off + 2), NULL, 10);
	snprintf(out->holder, sizeof(out->holder), "%s", PQgetvalue(r, 0, off + 3));
	snprintf(out->url, sizeof(out->url), "%s", PQgetvalue(r, 0, off + 4));
}

static int pg_lease(struct store *st_, const char *me, const char *url, uint64_t lease_ms,
                    struct store_lease *out)
{
	struct pg_store *s = (struct pg_store *)st_;
	char ms[24];
	snprintf(ms, sizeof(ms), "%" PRIu64, lease_ms);
	const char *p[] = { me, url, ms };
	memset(out, 0, sizeof(*out));
	/* The database's clock decides expiry, so managers' clocks need not agree.  Renewed by
	 * its holder while live, the token stays; taken over (or retaken after it lapsed), it
	 * grows: anything decided under the old one is refused by store_fence. */
	PGresult *r = run(s, "lease", "UPDATE sluice_leader SET "
	    "token = CASE WHEN holder = $1 AND expires_at > now() THEN token ELSE token + 1 END, "
	    "since = CASE WHEN holder = $1 AND expires_at > now() THEN since ELSE now() END, "
	    "holder = $1, url = $2, expires_at = now() + ($3 || ' milliseconds')::interval "
	    "WHERE id = 1 AND (holder = $1 OR expires_at <= now()) RETURNING token, "
	    "(extract(epoch FROM since) * 1000)::bigint, "
	    "(extract(epoch FROM expires_at) * 1000)::bigint, holder, url", 3, p);
	if (!r)
		return SL_EIO;
	if (PQntuples(r) == 1) {
		out->held = 1;
		lease_row(r, 0, out);
		PQclear(r);
		return 0;
	}
	PQclear(r);
	r = run(s, "lease", "SELECT token, (extract(epoch FROM since) * 1000)::bigint, "
	        "(extract(epoch FROM expires_at) * 1000)::bigint, holder, url FROM sluice_leader "
	        "WHERE id = 1", 0, NULL);
	if (!r)
		return SL_EIO;
	if (PQntuples(r) == 1)
		lease_row(r, 0, out);
	PQclear(r);
	return 0;
}

static int pg_fence(struct store *st_, const char *me, int64_t token)
{
	struct pg_store *s = (struct pg_store *)st_;
	char tok[24];
	snprintf(tok, sizeof(tok), "%" PRId64, token);
	const char *p[] = { me, tok };
	PGresult *r = run(s, "fence", "SELECT 1 FROM sluice_leader WHERE id = 1 AND holder = $1 "
	                  "AND token = $2 AND expires_at > now()", 2, p);
	if (!r)
		return SL_EIO;
	int ok = PQntuples(r) == 1;
	PQclear(r);
	return ok ? 0 : SL_EAUTH;
}

static int pg_release(struct store *st_, const char *me, int64_t token)
{
	struct pg_store *s = (struct pg_store *)st_;
	char tok[24];
	snprintf(tok, sizeof(tok), "%" PRId64, token);
	const char *p[] = { me, tok };
	PGresult *r = run(s, "release", "UPDATE sluice_leader SET expires_at = now() WHERE id = 1 "
	                  "AND holder = $1 AND token = $2", 2, p);
	PQclear(r);
	return r ? 0 : SL_EIO;
}

/* Settings are read and written at once, not queued: an operator's write while the
 * database is away gets the 503 every other write gets. */
static int pg_setting_put(struct store *st_, const char *name, const char *value)
{
	char ms[24];
	snprintf(ms, sizeof(ms), "%" PRIu64, clock_wall_ms());
	const char *p[] = { name, value, ms };
	PGresult *r = run((struct pg_store *)st_, "setting_put", "INSERT INTO settings (name, "
	                  "value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
	                  "value = EXCLUDED.value, updated_ms = EXCLUDED.updated_ms", 3, p);
	PQclear(r);
	return r ? 0 : SL_EIO;
}

static char *pg_setting_get(struct store *st_, const char *name)
{
	const char *p[] = { name };
	PGresult *r = run((struct pg_store *)st_, "setting_get",
	                  "SELECT value FROM settings WHERE name = $1", 1, p);
	char *out = r && PQntuples(r) == 1 ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	return out;
}

static int pg_setting_delete(struct store *st_, const char *name)
{
	const char *p[] = { name };
	PGresult *r = run((struct pg_store *)st_, "setting_delete",
	                  "DELETE FROM settings WHERE name = $1", 1, p);
	PQclear(r);
	return r ? 0 : SL_EIO;
}

static long pg_setting_count(struct store *st_, const char *prefix)
{
	char len[24];
	snprintf(len, sizeof(len), "%zu", strlen(prefix));
	const char *p[] = { len, prefix };
	PGresult *r = run((struct pg_store *)st_, "setting_count", "SELECT COUNT(*) FROM settings "
	                  "WHERE substr(name, 1, $1::int) = $2", 2, p);
	long n = r && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return n;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.put = pg_put,
	.del = pg_del,
	.each = pg_each,
	.get = pg_get,
	.event_add = pg_event_add,
	.events = pg_events,
	.healthy = pg_healthy,
	.flush = pg_flush,
	.marks = pg_marks,
	.hot_put = pg_hot_put,
	.hot_since = pg_hot_since,
	.lease = pg_lease,
	.fence = pg_fence,
	.release = pg_release,
	.setting_put = pg_setting_put,
	.setting_get = pg_setting_get,
	.setting_delete = pg_setting_delete,
	.setting_count = pg_setting_count,
};
