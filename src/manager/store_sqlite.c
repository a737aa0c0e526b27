/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_sqlite.c - the store on SQLite (see store.h): WAL journal so reads
 * never wait for the writer, synchronous=NORMAL (a power cut may lose the
 * last heartbeat's worth of changes, never corrupt the file), and numbered
 * migrations recorded in PRAGMA user_version, each in its own transaction.
 */
#include "manager/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#define EVENTS_KEPT 20000

struct sqlite_store {
	struct store base;             /* first: the handle store.c dispatches on */
	sqlite3 *db;
	int version;
	unsigned events_since_trim;
};

static const char *const table_names[ST_COUNT] = {
	"launch_configs", "scale_policies", "node_groups", "nodes",
};

/* Migration N takes the schema from version N-1 to N.  Append only. */
static const char *const migrations[] = {
	/* 1: objects as JSON keyed by name; the event log */
	"CREATE TABLE launch_configs (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE scale_policies (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE node_groups (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE nodes (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, group_name TEXT, node TEXT, message TEXT NOT NULL);",
	/* 2: events are read newest first */
	"CREATE INDEX events_ts ON events (ts_ms);",
	/* 3: settings that are not objects (store_setting_*) */
	("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL,"
	 "  updated_ms INTEGER NOT NULL);"),
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int exec(struct sqlite_store *s, const char *sql, char *err, size_t n)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (err)
			snprintf(err, n, "%s", msg ? msg : "sqlite error");
		else
			log_error("store_error", "what=exec error=\"%s\"", msg ? msg : "?");
		sqlite3_free(msg);
		return SL_EIO;
	}
	return 0;
}

static int user_version(struct sqlite_store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct sqlite_store *s, char *err, size_t n)
{
	int v = user_version(s), first, last;
	if (v < 0) {
		snprintf(err, n, "cannot read the schema version: %s", sqlite3_errmsg(s->db));
		return SL_EIO;
	}
	int rc = store_schema_plan(v, NMIGRATIONS, &first, &last, err, n);
	if (rc < 0)
		return rc;
	for (v = first - 1; v < last; v++) {
		char sql[64], e[256];
		if (exec(s, "BEGIN IMMEDIATE", e, sizeof(e)) < 0 ||
		    exec(s, migrations[v], e, sizeof(e)) < 0) {
			exec(s, "ROLLBACK", NULL, 0);
			snprintf(err, n, "schema migration %d failed: %s", v + 1, e);
			return SL_EIO;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(s, sql, e, sizeof(e)) < 0 || exec(s, "COMMIT", e, sizeof(e)) < 0) {
			exec(s, "ROLLBACK", NULL, 0);
			snprintf(err, n, "schema migration %d failed: %s", v + 1, e);
			return SL_EIO;
		}
		log_info("store_migrated", "version=%d", v + 1);
	}
	s->version = v;
	return 0;
}

static int sqlite_open(const struct store_url *u, struct store **out, char *err, size_t err_size)
{
	const char *path = u->target;
	struct sqlite_store *s = xcalloc(1, sizeof(*s));
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, err_size, "cannot open %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return SL_EIO;
	}
	sqlite3_busy_timeout(s->db, 2000);
	char e[256];
	int rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	              "PRAGMA foreign_keys=ON;", e, sizeof(e));
	if (rc < 0)
		snprintf(err, err_size, "cannot set up %s: %s", path, e);
	else
		rc = migrate(s, err, err_size);
	if (rc < 0) {
		sqlite3_close(s->db);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void sqlite_close(struct store *st_)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static int sqlite_schema_version(struct store *st_)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	return s->version;
}

static sqlite3_stmt *prepare(struct sqlite_store *s, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store_error", "what=prepare error=\"%s\"", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

static int finish(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("store_error", "what=%s error=\"%s\"", what, sqlite3_errmsg(s->db));
		return SL_EIO;
	}
	return 0;
}

static int sqlite_put(struct store *st_, enum store_table t, const char *key, const char *json)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	char sql[160];
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s (name, body, updated_ms) "
	         "VALUES (?, ?, ?)", table_names[t]);
	sqlite3_stmt *st = prepare(s, sql);
	if (!st)
		return SL_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)clock_wall_ms());
	return finish(s, st, "put");
}

static int sqlite_del(struct store *st_, enum store_table t, const char *key)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	char sql[96];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE name = ?", table_names[t]);
	sqlite3_stmt *st = prepare(s, sql);
	if (!st)
		return SL_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	return finish(s, st, "delete");
}

static int sqlite_each(struct store *st_, enum store_table t, store_row_fn fn, void *arg)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT name, body FROM %s ORDER BY name", table_names[t]);
	sqlite3_stmt *st = prepare(s, sql);
	if (!st)
		return SL_EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : SL_EIO;
}

static int sqlite_event_add(struct store *st_, int64_t ts_ms, const char *kind, const char *group,
                    const char *node, const char *message)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "INSERT INTO events (ts_ms, kind, group_name, node, message) "
	                              "VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return SL_EIO;
	sqlite3_bind_int64(st, 1, ts_ms);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
	if (group)
		sqlite3_bind_text(st, 3, group, -1, SQLITE_TRANSIENT);
	if (node)
		sqlite3_bind_text(st, 4, node, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, message, -1, SQLITE_TRANSIENT);
	int rc = finish(s, st, "event");
	if (rc == 0 && ++s->events_since_trim >= 1000) {
		s->events_since_trim = 0;
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id <= "
		         "(SELECT MAX(id) FROM events) - %d", EVENTS_KEPT);
		exec(s, sql, NULL, 0);
	}
	return rc;
}

static int sqlite_events(struct store *st_, int limit, store_event_fn fn, void *arg)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "SELECT id, ts_ms, kind, group_name, node, message FROM "
	                              "(SELECT * FROM events ORDER BY id DESC LIMIT ?) ORDER BY id");
	if (!st)
		return SL_EIO;
	sqlite3_bind_int(st, 1, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event ev = {
			.id = sqlite3_column_int64(st, 0),
			.ts_ms = sqlite3_column_int64(st, 1),
			.kind = (const char *)sqlite3_column_text(st, 2),
			.group = (const char *)sqlite3_column_text(st, 3),
			.node = (const char *)sqlite3_column_text(st, 4),
			.message = (const char *)sqlite3_column_text(st, 5),
		};
		fn(arg, &ev);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : SL_EIO;
}

static int sqlite_get(struct store *st_, enum store_table t, const char *key, store_row_fn fn,
                      void *arg)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT name, body FROM %s WHERE name = ?", table_names[t]);
	sqlite3_stmt *st = prepare(s, sql);
	if (!st)
		return SL_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SL_EIO;
}

static int sqlite_setting_put(struct store *st_, const char *name, const char *value)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO settings (name, value, updated_ms) "
	                              "VALUES (?, ?, ?)");
	if (!st)
		return SL_EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)clock_wall_ms());
	return finish(s, st, "setting_put");
}

static char *sqlite_setting_get(struct store *st_, const char *name)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "SELECT value FROM settings WHERE name = ?");
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int sqlite_setting_delete(struct store *st_, const char *name)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "DELETE FROM settings WHERE name = ?");
	if (!st)
		return SL_EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	return finish(s, st, "setting_delete");
}

static long sqlite_setting_count(struct store *st_, const char *prefix)
{
	struct sqlite_store *s = (struct sqlite_store *)st_;
	sqlite3_stmt *st = prepare(s, "SELECT COUNT(*) FROM settings WHERE substr(name, 1, ?) = ?");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, (int)strlen(prefix));
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_TRANSIENT);
	long n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* One manager on its file: no lease, no shared hot state (store.c answers for them). */
const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.put = sqlite_put,
	.del = sqlite_del,
	.each = sqlite_each,
	.get = sqlite_get,
	.event_add = sqlite_event_add,
	.events = sqlite_events,
	.setting_put = sqlite_setting_put,
	.setting_get = sqlite_setting_get,
	.setting_delete = sqlite_setting_delete,
	.setting_count = sqlite_setting_count,
};
