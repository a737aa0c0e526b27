/*
 * store.h - where the manager keeps what must survive a restart: launch
 * configurations, scale policies, node groups, nodes, and the event log.
 *
 * One small interface so another backend (PostgreSQL, for several managers)
 * can follow; store_sqlite.c is the one there is.  Objects are stored as
 * the JSON their model_json.c functions write, keyed by name, so the schema
 * rarely changes; when it does, a numbered migration moves it forward.
 */
#ifndef SLUICE_MANAGER_STORE_H
#define SLUICE_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum store_table { ST_LAUNCH_CONFIGS, ST_SCALE_POLICIES, ST_GROUPS, ST_NODES, ST_COUNT };

/* url: "sqlite:PATH" (or a bare PATH).  Creates or migrates the schema.
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

#endif
