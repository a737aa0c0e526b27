/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sync.c - keeping several managers' memory in step through the shared store
 * (ha.h, docs/operations.md).  Each sync-interval a manager:
 *
 *  1. writes what it queued while the database was away (store_flush);
 *  2. writes, in one batched statement, the hot state of the nodes that
 *     heartbeated to it since the last sync (time, sequence number, report):
 *     N nodes beating once a second cost each manager one statement per
 *     interval, not N writes a second;
 *  3. reads the tables' change marks and reloads any table another manager
 *     changed (objects keep their runtime state: a group its scaling clocks,
 *     a node its heartbeat and reservations);
 *  4. reads the hot rows other managers wrote since, keeping the newest;
 *  5. renews or takes the leader lease (leader.c).
 *
 * On SQLite the store answers "nothing changed" and the manager always leads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/manager.h"

/* Node rows read on demand per second (an unknown node's heartbeat asks for one). */
#define NODE_REFRESH_PER_SEC 50

void mgr_hot_touch(struct manager *m, struct mnode *nd, const uint8_t *body, size_t len)
{
	if (!store_shared(m->store))
		return;
	free(nd->hot_body);
	nd->hot_body = xmalloc(len + 1);
	memcpy(nd->hot_body, body, len);
	nd->hot_body[len] = '\0';
	nd->hot_dirty = 1;
}

static void hot_flush(struct manager *m)
{
	size_t n = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes)
		n += list_entry(it, struct mnode, link)->hot_dirty != 0;
	if (!n)
		return;
	struct store_hot *rows = xcalloc(n, sizeof(*rows));
	size_t k = 0;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (!nd->hot_dirty)
			continue;
		rows[k++] = (struct store_hot){ .node = nd->id, .last_seen_ms = (int64_t)nd->last_seen_ms,
		                                .seq = (int64_t)nd->last_seq, .report = nd->hot_body };
	}
	/* Sent, or refused by a database that answers (a row it will never take must not hold
	 * back every later batch): either way done.  Unreachable: kept for the next sync. */
	int rc = store_hot_put(m->store, rows, k);
	if (rc < 0 && store_healthy(m->store))
		log_throttled(LOG_ERROR, "hot_state_dropped", "nodes=%zu reason=\"the database "
		              "refused the batch\"", k);
	if (rc == 0 || store_healthy(m->store)) {
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			nd->hot_dirty = 0;
			free(nd->hot_body);
			nd->hot_body = NULL;
		}
		if (rc == 0)
			m->sync.hot_out += k;
	}
	free(rows);
}

static void hot_row(void *arg, const struct store_hot *h)
{
	struct manager *m = arg;
	struct mnode *nd = mgr_node_find(m, h->node);
	if (!nd)
		return;
	/* A manager that has just started knows its nodes from the store with a grace time of
	 * now, so their rows look older: their reports are still the only ones it has (without
	 * them routing says no stream is live), but their times are not taken. */
	int newer = h->last_seen_ms > (int64_t)nd->last_seen_ms;
	if (!newer && (nd->rep.id[0] || !h->report))
		return;
	if (newer) {
		m->sync.hot_in++;
		nd->last_seen_ms = (uint64_t)h->last_seen_ms;
		nd->probe_ok_ms = 0;
		if ((uint64_t)h->seq > nd->last_seq)
			nd->last_seq = (uint64_t)h->seq;
	}
	if (!h->report)
		return;
	/* The body was signature-checked by the manager that accepted it; still parsed by the
	 * same pure parser, and only taken if it names this node. */
	struct node_report rep;
	char err[128];
	if (node_report_parse(h->report, strlen(h->report), &rep, err, sizeof(err)) < 0)
		return;
	if (strcmp(rep.id, nd->id) != 0) {
		node_report_free(&rep);
		return;
	}
	int64_t grew = (rep.publishers + rep.viewers) - (nd->rep.publishers + nd->rep.viewers);
	route_pending_settle(&nd->pending, clock_wall_ms(), grew > 0 ? grew : 0);
	node_report_free(&nd->rep);
	nd->rep = rep;
}

/* ---- reloading a table another manager changed ---- */

static void lc_row(void *arg, const char *key, const char *json)
{
	struct strmap *map = arg;
	struct launch_config *x = xcalloc(1, sizeof(*x));
	char err[256];
	if (lc_parse(json, strlen(json), x, err, sizeof(err)) == 0 && !strmap_get(map, x->name)) {
		strmap_put(map, x->name, x);
		return;
	}
	lc_free(x);
	free(x);
	log_throttled(LOG_WARN, "store_bad_row", "table=launch_configs key=%s", key);
}

static void sp_row(void *arg, const char *key, const char *json)
{
	struct strmap *map = arg;
	struct scale_policy *x = xcalloc(1, sizeof(*x));
	char err[256];
	if (sp_parse(json, strlen(json), x, err, sizeof(err)) == 0 && !strmap_get(map, x->name)) {
		strmap_put(map, x->name, x);
		return;
	}
	free(x);
	log_throttled(LOG_WARN, "store_bad_row", "table=scale_policies key=%s", key);
}

static void group_row(void *arg, const char *key, const char *json)
{
	struct strmap *map = arg;
	struct mgroup *x = xcalloc(1, sizeof(*x));
	char err[256];
	if (group_parse(json, strlen(json), &x->g, err, sizeof(err)) == 0 && x->g.name[0] &&
	    !strmap_get(map, x->g.name)) {
		strmap_put(map, x->g.name, x);
		return;
	}
	free(x);
	log_throttled(LOG_WARN, "store_bad_row", "table=node_groups key=%s", key);
}

static void free_map(struct strmap *map, int t)
{
	size_t it = 0;
	void *v;
	while (strmap_next(map, &it, NULL, &v)) {
		if (t == ST_LAUNCH_CONFIGS)
			lc_free(v);
		free(v);
	}
	strmap_free(map);
}

static int reload_objects(struct manager *m, int t)
{
	struct strmap fresh;
	strmap_init(&fresh);
	store_row_fn fn = t == ST_LAUNCH_CONFIGS ? lc_row : t == ST_SCALE_POLICIES ? sp_row : group_row;
	if (store_each(m->store, (enum store_table)t, fn, &fresh) < 0) {
		free_map(&fresh, t);
		return SL_EIO;
	}
	struct strmap *cur = t == ST_LAUNCH_CONFIGS ? &m->lcs : t == ST_SCALE_POLICIES ? &m->sps
	                                                                             : &m->groups;
	if (t == ST_GROUPS) {
		/* A group keeps its scaling clocks, the holds it logged and its launch back-off. */
		size_t it = 0;
		const char *name;
		void *v;
		while (strmap_next(&fresh, &it, &name, &v)) {
			struct mgroup *old = strmap_get(cur, name), *g = v;
			if (!old)
				continue;
			memcpy(g->st, old->st, sizeof(g->st));
			memcpy(g->last_out_ms, old->last_out_ms, sizeof(g->last_out_ms));
			memcpy(g->last_in_ms, old->last_in_ms, sizeof(g->last_in_ms));
			memcpy(g->last_hold, old->last_hold, sizeof(g->last_hold));
			/* And a failing cloud's back-off (groups.c), so a reload does not lift it. */
			memcpy(g->launch_hold_until_ms, old->launch_hold_until_ms,
			       sizeof(g->launch_hold_until_ms));
			memcpy(g->launch_fail_streak, old->launch_fail_streak,
			       sizeof(g->launch_fail_streak));
			g->launch_failures = old->launch_failures;
		}
	}
	free_map(cur, t);
	*cur = fresh;
	return 0;
}

struct node_reload {
	struct manager *m;
	struct strmap seen;
};

/* Applies one stored node: what the record says, keeping what only memory has. */
static void node_apply(struct manager *m, const struct mnode *rec)
{
	struct mnode *nd = mgr_node_find(m, rec->id);
	if (!nd) {
		nd = xcalloc(1, sizeof(*nd));
		*nd = *rec;
		memset(&nd->link, 0, sizeof(nd->link));
		/* New to this manager: one dead-after of grace, as at a restart; the hot state
		 * that follows says when it really beat. */
		nd->last_seen_ms = rec->state == NS_DEAD ? 0 : clock_wall_ms();
		mgr_node_link(m, nd);
		return;
	}
	if (strcmp(nd->nonce, rec->nonce) != 0) {
		if (rec->nonce[0])
			mgr_node_set_nonce(m, nd, rec->nonce);
		else
			nd->nonce[0] = nd->key[0] = '\0';
	}
	snprintf(nd->group, sizeof(nd->group), "%s", rec->group);
	snprintf(nd->region, sizeof(nd->region), "%s", rec->region);
	snprintf(nd->origins, sizeof(nd->origins), "%s", rec->origins);
	nd->role = rec->role;
	if (nd->state != rec->state)
		nd->state_since_ms = rec->state_since_ms;
	/* It registered through another manager: it is judged from now on, not from 0. */
	if (!nd->last_seen_ms && rec->state != NS_LAUNCHING && rec->state != NS_DEAD)
		nd->last_seen_ms = clock_wall_ms();
	nd->state = rec->state;
	nd->place = rec->place;
	nd->managed = rec->managed;
	nd->launched_ms = rec->launched_ms;
}

static void node_row(void *arg, const char *key, const char *json)
{
	struct node_reload *r = arg;
	struct mnode rec;
	memset(&rec, 0, sizeof(rec));
	if (mgr_node_parse(r->m, json, &rec) < 0) {
		log_throttled(LOG_WARN, "store_bad_row", "table=nodes key=%s", key);
		return;
	}
	node_apply(r->m, &rec);
	strmap_put(&r->seen, rec.id, r);
}

static void node_free(struct manager *m, struct mnode *nd)
{
	mgr_node_unlink(m, nd);
	node_report_free(&nd->rep);
	free(nd->hot_body);
	free(nd);
}

static int reload_nodes(struct manager *m)
{
	struct node_reload r = { .m = m };
	strmap_init(&r.seen);
	int rc = store_each(m->store, ST_NODES, node_row, &r);
	if (rc == 0) {
		/* Gone from the store: another manager removed it (and stopped it if it was
		 * ours to stop); forget it here, stop nothing. */
		struct list_node *it, *next;
		for (it = m->nodes.next; it != &m->nodes; it = next) {
			next = it->next;
			struct mnode *nd = list_entry(it, struct mnode, link);
			/* A probe in flight finds its node by id, and finds none. */
			if (!strmap_get(&r.seen, nd->id))
				node_free(m, nd);
		}
	}
	strmap_free(&r.seen);
	return rc;
}

static void single_node_row(void *arg, const char *key, const char *json)
{
	struct node_reload *r = arg;
	struct mnode rec;
	memset(&rec, 0, sizeof(rec));
	(void)key;
	if (mgr_node_parse(r->m, json, &rec) == 0)
		node_apply(r->m, &rec);
}

int mgr_node_refresh(struct manager *m, const char *id)
{
	if (!store_shared(m->store) || !store_healthy(m->store))
		return mgr_node_find(m, id) != NULL;
	uint64_t now = clock_mono_ms();
	if (now >= m->sync.refresh_window_ms + 1000) {
		m->sync.refresh_window_ms = now;
		m->sync.refreshes = 0;
	}
	if (m->sync.refreshes >= NODE_REFRESH_PER_SEC)
		return mgr_node_find(m, id) != NULL;
	m->sync.refreshes++;
	m->sync.refreshed++;
	struct node_reload r = { .m = m };
	store_get(m->store, ST_NODES, id, single_node_row, &r);
	return mgr_node_find(m, id) != NULL;
}

void mgr_sync_tick(struct manager *m)
{
	uint64_t now = clock_mono_ms();
	if (now < m->sync.next_ms)
		return;
	m->sync.next_ms = now + m->cfg->sync_interval;
	if (!store_shared(m->store)) {
		if (!m->leader.is_leader)
			mgr_leader_tick(m);
		return;
	}
	/* Nothing is read back while this manager's own writes wait: they are newer. */
	if (store_flush(m->store) == 0) {
		hot_flush(m);
		struct store_marks mk;
		if (store_marks(m->store, &mk) == 0) {
			for (int t = 0; t < ST_COUNT; t++) {
				if (m->sync.have_marks && mk.rev[t] == m->sync.marks.rev[t] &&
				    mk.count[t] == m->sync.marks.count[t])
					continue;
				int rc = t == ST_NODES ? reload_nodes(m) : reload_objects(m, t);
				if (rc < 0) {
					/* Read again next time. */
					mk.rev[t] = -1;
					continue;
				}
				m->sync.reloads++;
			}
			m->sync.marks = mk;
			m->sync.have_marks = 1;
		}
		store_hot_since(m->store, &m->sync.hot_since, hot_row, m);
	}
	mgr_leader_tick(m);
}
