/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - where the manager keeps what must survive a restart: launch
 * configurations, scale policies, node groups, nodes, and the event log.
 *
 * One small interface (struct store_ops) with two backends: store_sqlite.c,
 * the embedded default for one manager, and store_pg.c (PostgreSQL, shared
 * by several managers; docs/operations.md).  Objects are stored as
 * the JSON their model_json.c functions write, keyed by name, so the schema
 * rarely changes; when it does, a numbered migration moves it forward.
 */
#ifndef SLUICE_MANAGER_STORE_H
#define SLUICE_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum store_table { ST_LAUNCH_CONFIGS, ST_SCALE_POLICIES, ST_GROUPS, ST_NODES, ST_COUNT };

/* url: "sqlite:PATH" (or a bare PATH), or "postgresql://USER@HOST:PORT/DB" (no password in
 * it: store_set_password first).  Creates or migrates the schema.
 * Returns 0, or a negative SL_E* with err set. */
int store_open(const char *url, struct store **out, char *err, size_t err_size);
void store_close(struct store *s);
/* The schema version now in use. */
int store_schema_version(struct store *s);

int store_put(struct store *s, enum store_table t, const char *key, const char *json);
int store_delete(struct store *s, enum store_table t, const char *key);
typedef void (*store_row_fn)(void *arg, const char *key, const char *json);
int store_each(struct store *s, enum store_table t, store_row_fn fn, void *arg);

struct store_event {
	int64_t id;
	int64_t ts_ms;
	const char *kind, *group, *node, *message;
};
int store_event_add(struct store *s, int64_t ts_ms, const char *kind, const char *group,
                    const char *node, const char *message);
typedef void (*store_event_fn)(void *arg, const struct store_event *ev);
/* The newest `limit` events, oldest first. */
int store_events(struct store *s, int limit, store_event_fn fn, void *arg);

/* Settings: small named values that are not objects (Red5's default scale-out alarms,
 * stream provisions), in their own table.  get returns a malloc'd copy or NULL. */
int store_setting_put(struct store *s, const char *name, const char *value);
char *store_setting_get(struct store *s, const char *name);
int store_setting_delete(struct store *s, const char *name);
/* How many settings have names starting with prefix (-1 on error). */
long store_setting_count(struct store *s, const char *prefix);

/* ---- added for several managers on one shared store (docs/operations.md) ---- */

enum store_kind { STORE_SQLITE, STORE_PG };

/* What a store URL names (store_url_parse; pure). */
struct store_url {
	enum store_kind kind;
	char target[512];              /* SQLite: the path; PostgreSQL: the URL as given */
};
/* 0, or SL_EINVAL / SL_EUNSUPP with err saying why (a password in the URL is refused:
 * it would show in `ps` and in logs). */
int store_url_parse(const char *url, struct store_url *out, char *err, size_t err_size);

/* Which migrations to run: from `have` (the database's version) to `known` (this
 * binary's).  0 with first and last set (nothing to do when first > last), or SL_EUNSUPP with
 * err saying the database is newer than this sluice (pure). */
int store_schema_plan(int have, int known, int *first, int *last, char *err, size_t err_size);

/* The password the next store_open of a PostgreSQL URL uses (NULL: libpq's PGPASSWORD or
 * ~/.pgpass).  Copied; never logged. */
void store_set_password(const char *password);
/* Connection and statement timeout of a PostgreSQL store, in ms (default 2000). */
void store_set_timeout_ms(unsigned ms);

/* "sqlite" or "postgresql". */
const char *store_backend(struct store *s);
/* 1 when several managers may share this store (PostgreSQL). */
int store_shared(struct store *s);
/* 1 when the store takes writes now; 0 while its database is unreachable. */
int store_healthy(struct store *s);
/* Reconnects if needed and writes what was queued while the database was unreachable;
 * 0 when nothing is left queued. */
int store_flush(struct store *s);
/* One row by key: fn called once if present; 0 (found or not), or SL_EIO. */
int store_get(struct store *s, enum store_table t, const char *key, store_row_fn fn, void *arg);

/* A change marker per table: differs from the last one read when any row was written or
 * deleted since (by any manager).  0, or SL_EIO. */
struct store_marks {
	int64_t rev[ST_COUNT], count[ST_COUNT];
};
int store_marks(struct store *s, struct store_marks *out);

/* Hot node state, shared between managers in batches (not one write per heartbeat). */
struct store_hot {
	const char *node;
	int64_t last_seen_ms;          /* wall clock of the newest heartbeat accepted */
	int64_t seq;                   /* its sequence number (the replay guard) */
	const char *report;            /* the heartbeat's body (signature checked), or NULL */
};
int store_hot_put(struct store *s, const struct store_hot *rows, size_t n);
typedef void (*store_hot_fn)(void *arg, const struct store_hot *row);
/* Rows changed after *since (by anyone); *since moves to the newest seen. */
int store_hot_since(struct store *s, int64_t *since, store_hot_fn fn, void *arg);

/* The leader lease (one row): taken when free or expired, renewed by its holder.  The
 * token grows by one each time the lease changes hands, never otherwise. */
struct store_lease {
	int held;                      /* 1: `me` holds it now */
	int64_t token;
	int64_t since_ms;              /* when its holder took it (database clock) */
	int64_t expires_ms;
	char holder[128], url[256];
};
int store_lease(struct store *s, const char *me, const char *url, uint64_t lease_ms,
                struct store_lease *out);
/* 0 if `me` holds the lease with `token` and it has not expired; SL_EAUTH if not (a stale
 * leader); SL_EIO when the database cannot say. */
int store_fence(struct store *s, const char *me, int64_t token);
/* Gives the lease up at once (a clean stop), so another manager need not wait it out. */
int store_lease_release(struct store *s, const char *me, int64_t token);

/* The vtable each backend fills; the functions above dispatch through it.  The optional
 * ones (NULL) are those a store for one manager does not need. */
struct store_ops {
	const char *name;
	int (*open)(const struct store_url *u, struct store **out, char *err, size_t err_size);
	void (*close)(struct store *s);
	int (*schema_version)(struct store *s);
	int (*put)(struct store *s, enum store_table t, const char *key, const char *json);
	int (*del)(struct store *s, enum store_table t, const char *key);
	int (*each)(struct store *s, enum store_table t, store_row_fn fn, void *arg);
	int (*get)(struct store *s, enum store_table t, const char *key, store_row_fn fn,
	           void *arg);
	int (*event_add)(struct store *s, int64_t ts_ms, const char *kind, const char *group,
	                 const char *node, const char *message);
	int (*events)(struct store *s, int limit, store_event_fn fn, void *arg);
	int (*healthy)(struct store *s);
	int (*flush)(struct store *s);
	int (*marks)(struct store *s, struct store_marks *out);
	int (*hot_put)(struct store *s, const struct store_hot *rows, size_t n);
	int (*hot_since)(struct store *s, int64_t *since, store_hot_fn fn, void *arg);
	int (*lease)(struct store *s, const char *me, const char *url, uint64_t lease_ms,
	             struct store_lease *out);
	int (*fence)(struct store *s, const char *me, int64_t token);
	int (*release)(struct store *s, const char *me, int64_t token);
	/* settings (store_setting_*) */
	int (*setting_put)(struct store *s, const char *name, const char *value);
	char *(*setting_get)(struct store *s, const char *name);
	int (*setting_delete)(struct store *s, const char *name);
	long (*setting_count)(struct store *s, const char *prefix);
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
