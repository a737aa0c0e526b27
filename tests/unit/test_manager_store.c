/* SPDX-License-Identifier: Apache-2.0 */
/* test_manager_store.c - the store's URL and schema-version rules (pure), and the SQLite
 * backend through the store vtable: rows, single reads, events, the lone manager's lease,
 * and a database newer than this binary refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "core/err.h"
#include "manager/store.h"

static void test_url(void **state)
{
	(void)state;
	struct store_url u;
	char err[256];
	assert_int_equal(store_url_parse("sqlite:/tmp/x.db", &u, err, sizeof(err)), 0);
	assert_int_equal(u.kind, STORE_SQLITE);
	assert_string_equal(u.target, "/tmp/x.db");
	assert_int_equal(store_url_parse("plain.db", &u, err, sizeof(err)), 0);
	assert_int_equal(u.kind, STORE_SQLITE);
	assert_string_equal(u.target, "plain.db");
	assert_int_equal(store_url_parse("postgresql://sluice@127.0.0.1:5432/sluice", &u, err,
	                                 sizeof(err)), 0);
	assert_int_equal(u.kind, STORE_PG);
	assert_string_equal(u.target, "postgresql://sluice@127.0.0.1:5432/sluice");
	assert_int_equal(store_url_parse("postgres://db/x", &u, err, sizeof(err)), 0);
	assert_int_equal(u.kind, STORE_PG);
	/* A password in the URL would show in ps and logs. */
	assert_int_equal(store_url_parse("postgresql://u:secret@h:5432/d", &u, err, sizeof(err)),
	                 SL_EINVAL);
	assert_non_null(strstr(err, "password"));
	assert_null(strstr(err, "secret"));
	assert_int_equal(store_url_parse("postgresql://h/d?password=secret", &u, err, sizeof(err)),
	                 SL_EINVAL);
	assert_int_equal(store_url_parse("postgresql:///d", &u, err, sizeof(err)), SL_EINVAL);
	assert_int_equal(store_url_parse("mysql://h/d", &u, err, sizeof(err)), SL_EUNSUPP);
	assert_int_equal(store_url_parse("sqlite:", &u, err, sizeof(err)), SL_EINVAL);
	assert_int_equal(store_url_parse("", &u, err, sizeof(err)), SL_EINVAL);
	char big[700];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_url_parse(big, &u, err, sizeof(err)), SL_EINVAL);
}

static void test_schema_plan(void **state)
{
	(void)state;
	int first, last;
	char err[256];
	assert_int_equal(store_schema_plan(0, 2, &first, &last, err, sizeof(err)), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 2);
	assert_int_equal(store_schema_plan(2, 2, &first, &last, err, sizeof(err)), 0);
	assert_true(first > last);  /* nothing to do */
	assert_int_equal(store_schema_plan(3, 2, &first, &last, err, sizeof(err)), SL_EUNSUPP);
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(store_schema_plan(-1, 2, &first, &last, err, sizeof(err)), SL_EINVAL);
}

static void count_row(void *arg, const char *key, const char *json)
{
	(void)key;
	(void)json;
	(*(int *)arg)++;
}

static void copy_row(void *arg, const char *key, const char *json)
{
	(void)key;
	snprintf(arg, 64, "%s", json);
}

static void count_event(void *arg, const struct store_event *ev)
{
	(void)ev;
	(*(int *)arg)++;
}

static void temp_path(char *out, size_t n)
{
	snprintf(out, n, "%s/sluice-store-test-%d.db", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	         (int)getpid());
	unlink(out);
}

static void drop(const char *path)
{
	char p[600];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void test_sqlite_backend(void **state)
{
	(void)state;
	char path[512], url[600], err[256], got[64] = "";
	temp_path(path, sizeof(path));
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct store *s;
	assert_int_equal(store_open(url, &s, err, sizeof(err)), 0);
	assert_string_equal(store_backend(s), "sqlite");
	assert_int_equal(store_shared(s), 0);
	assert_int_equal(store_healthy(s), 1);
	assert_true(store_schema_version(s) >= 2);
	assert_int_equal(store_put(s, ST_GROUPS, "g1", "{\"a\":1}"), 0);
	assert_int_equal(store_put(s, ST_GROUPS, "g1", "{\"a\":2}"), 0);
	assert_int_equal(store_put(s, ST_GROUPS, "g2", "{}"), 0);
	int n = 0;
	assert_int_equal(store_each(s, ST_GROUPS, count_row, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_get(s, ST_GROUPS, "g1", copy_row, got), 0);
	assert_string_equal(got, "{\"a\":2}");
	n = 0;
	assert_int_equal(store_get(s, ST_GROUPS, "nope", count_row, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_delete(s, ST_GROUPS, "g1"), 0);
	n = 0;
	store_each(s, ST_GROUPS, count_row, &n);
	assert_int_equal(n, 1);
	assert_int_equal(store_event_add(s, 1, "k", NULL, "n", "m1"), 0);
	assert_int_equal(store_event_add(s, 2, "k", "g", NULL, "m2"), 0);
	n = 0;
	assert_int_equal(store_events(s, 10, count_event, &n), 0);
	assert_int_equal(n, 2);
	/* Alone: it always leads, with a token that never changes, and nothing to sync. */
	struct store_lease ls;
	assert_int_equal(store_lease(s, "me", "http://x", 2000, &ls), 0);
	assert_int_equal(ls.held, 1);
	assert_int_equal(ls.token, 1);
	assert_int_equal(store_fence(s, "me", 1), 0);
	struct store_marks mk;
	assert_int_equal(store_marks(s, &mk), 0);
	assert_int_equal(store_flush(s), 0);
	store_close(s);
	/* Reopened: the rows are there, no migration runs again. */
	assert_int_equal(store_open(url, &s, err, sizeof(err)), 0);
	n = 0;
	store_each(s, ST_GROUPS, count_row, &n);
	assert_int_equal(n, 1);
	store_close(s);
	drop(path);
}

static void test_sqlite_newer_schema_refused(void **state)
{
	(void)state;
	char path[512], err[256];
	temp_path(path, sizeof(path));
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct store *s = NULL;
	assert_int_equal(store_open(path, &s, err, sizeof(err)), SL_EUNSUPP);
	assert_non_null(strstr(err, "schema version 99"));
	assert_non_null(strstr(err, "upgrade sluice"));
	drop(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_schema_plan),
		cmocka_unit_test(test_sqlite_backend),
		cmocka_unit_test(test_sqlite_newer_schema_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
