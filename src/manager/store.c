/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - the store's public functions (store.h): the URL picks a backend,
 * and every call goes through its const vtable.  The optional calls a store
 * for one manager leaves out answer as a lone manager would: always
 * healthy, nothing changed elsewhere, and the lease always its own.
 */
#include "manager/store.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

int store_url_parse(const char *url, struct store_url *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (!url || !*url) {
		snprintf(err, err_size, "empty database URL");
		return SL_EINVAL;
	}
	const char *rest;
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		rest = strchr(url, ':') + 3;
		/* user:password@ would show in `ps`, in the config and in logs. */
		const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
		if (at && (!slash || at < slash) && memchr(rest, ':', (size_t)(at - rest))) {
			snprintf(err, err_size, "a password in the database URL is refused (it would "
			         "show in ps and logs): use db-password-file or PGPASSWORD");
			return SL_EINVAL;
		}
		if (strstr(url, "password=")) {
			snprintf(err, err_size, "a password in the database URL is refused: use "
			         "db-password-file or PGPASSWORD");
			return SL_EINVAL;
		}
		if (!*rest || *rest == '/') {
			snprintf(err, err_size, "no host in database URL (postgresql://USER@HOST:PORT/DB)");
			return SL_EINVAL;
		}
		out->kind = STORE_PG;
		rest = url;
	} else if (strncmp(url, "sqlite:", 7) == 0) {
		out->kind = STORE_SQLITE;
		rest = url + 7;
	} else if (strstr(url, "://")) {
		snprintf(err, err_size, "unsupported database URL scheme (sqlite:PATH or "
		         "postgresql://USER@HOST:PORT/DB)");
		return SL_EUNSUPP;
	} else {
		out->kind = STORE_SQLITE;
		rest = url;
	}
	if (!*rest) {
		snprintf(err, err_size, "empty database path");
		return SL_EINVAL;
	}
	if (strlen(rest) >= sizeof(out->target)) {
		snprintf(err, err_size, "database URL too long (at most %zu bytes)",
		         sizeof(out->target) - 1);
		return SL_EINVAL;
	}
	snprintf(out->target, sizeof(out->target), "%s", rest);
	return 0;
}

int store_schema_plan(int have, int known, int *first, int *last, char *err, size_t err_size)
{
	if (have < 0) {
		snprintf(err, err_size, "the database has no readable schema version (%d)", have);
		return SL_EINVAL;
	}
	if (have > known) {
		snprintf(err, err_size, "the database has schema version %d, newer than this sluice "
		         "knows (%d): upgrade sluice (managers are upgraded one at a time, "
		         "docs/operations.md)", have, known);
		return SL_EUNSUPP;
	}
	*first = have + 1;
	*last = known;
	return 0;
}

int store_open(const char *url, struct store **out, char *err, size_t err_size)
{
	struct store_url u;
	int rc = store_url_parse(url, &u, err, err_size);
	if (rc < 0)
		return rc;
	const struct store_ops *ops = u.kind == STORE_PG ? &store_pg_ops : &store_sqlite_ops;
	rc = ops->open(&u, out, err, err_size);
	if (rc == 0)
		(*out)->ops = ops;
	return rc;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_schema_version(struct store *s) { return s->ops->schema_version(s); }

int store_put(struct store *s, enum store_table t, const char *key, const char *json)
{
	return s->ops->put(s, t, key, json);
}

int store_delete(struct store *s, enum store_table t, const char *key)
{
	return s->ops->del(s, t, key);
}

int store_each(struct store *s, enum store_table t, store_row_fn fn, void *arg)
{
	return s->ops->each(s, t, fn, arg);
}

int store_get(struct store *s, enum store_table t, const char *key, store_row_fn fn, void *arg)
{
	return s->ops->get(s, t, key, fn, arg);
}

int store_event_add(struct store *s, int64_t ts_ms, const char *kind, const char *group,
                    const char *node, const char *message)
{
	return s->ops->event_add(s, ts_ms, kind, group, node, message);
}

int store_events(struct store *s, int limit, store_event_fn fn, void *arg)
{
	return s->ops->events(s, limit, fn, arg);
}

int store_setting_put(struct store *s, const char *name, const char *value)
{
	return s->ops->setting_put(s, name, value);
}

char *store_setting_get(struct store *s, const char *name)
{
	return s->ops->setting_get(s, name);
}

int store_setting_delete(struct store *s, const char *name)
{
	return s->ops->setting_delete(s, name);
}

long store_setting_count(struct store *s, const char *prefix)
{
	return s->ops->setting_count(s, prefix);
}

const char *store_backend(struct store *s) { return s->ops->name; }

int store_shared(struct store *s) { return s->ops->lease != NULL; }

int store_healthy(struct store *s) { return s->ops->healthy ? s->ops->healthy(s) : 1; }

int store_flush(struct store *s) { return s->ops->flush ? s->ops->flush(s) : 0; }

int store_marks(struct store *s, struct store_marks *out)
{
	if (!s->ops->marks) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return s->ops->marks(s, out);
}

int store_hot_put(struct store *s, const struct store_hot *rows, size_t n)
{
	return s->ops->hot_put ? s->ops->hot_put(s, rows, n) : 0;
}

int store_hot_since(struct store *s, int64_t *since, store_hot_fn fn, void *arg)
{
	return s->ops->hot_since ? s->ops->hot_since(s, since, fn, arg) : 0;
}

int store_lease(struct store *s, const char *me, const char *url, uint64_t lease_ms,
                struct store_lease *out)
{
	if (!s->ops->lease) {
		/* One manager on its own file: it always leads, with a token that never changes. */
		memset(out, 0, sizeof(*out));
		out->held = 1;
		out->token = 1;
		snprintf(out->holder, sizeof(out->holder), "%s", me);
		snprintf(out->url, sizeof(out->url), "%s", url);
		return 0;
	}
	return s->ops->lease(s, me, url, lease_ms, out);
}

int store_fence(struct store *s, const char *me, int64_t token)
{
	return s->ops->fence ? s->ops->fence(s, me, token) : 0;
}

int store_lease_release(struct store *s, const char *me, int64_t token)
{
	return s->ops->release ? s->ops->release(s, me, token) : 0;
}
