/* SPDX-License-Identifier: Apache-2.0 */
/*
 * leader.c - one manager leads (ha.h): it alone runs the autoscaler,
 * launches and terminates nodes and declares them dead.  The lease is a row
 * in the shared store, renewed every sync-interval and lost after `lease`
 * without renewal; each time it changes hands its token grows.
 *
 * A leader does not trust its own memory or clock to know it still leads: a
 * manager frozen (SIGSTOP, a long GC-like stall, a VM pause) past its lease
 * wakes up believing it does.  So every action asks the store first
 * (store_fence) with the token it was elected with; a stale token refuses the
 * action and the manager steps down.  The check and the action are two steps:
 * an action can still start up to one database round trip after the lease
 * lapsed, which the lease's length (seconds) dwarfs.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "manager/manager.h"

static void step_down(struct manager *m, const char *why)
{
	if (!m->leader.is_leader)
		return;
	m->leader.is_leader = 0;
	mgr_event(m, "leader_stepped_down", NULL, NULL, "%s no longer leads (token %lld): %s",
	          m->name, (long long)m->leader.token, why);
}

void mgr_leader_tick(struct manager *m)
{
	struct mgr_leader *l = &m->leader;
	struct store_lease ls;
	if (store_lease(m->store, m->holder, m->api_url, m->cfg->lease, &ls) < 0) {
		/* Nobody can be elected while the database is away; this manager keeps its belief,
		 * but every action it tries is refused by the fence until it returns. */
		if (!l->store_down) {
			l->store_down_ms = clock_mono_ms();
			/* Recorded in the store too: queued, it is written when the database returns. */
			mgr_event(m, "store_unreachable", NULL, NULL, "%s cannot reach the database: "
			          "routing and heartbeats go on from memory, API writes are refused, no "
			          "leader action runs", m->name);
		}
		l->store_down = 1;
		return;
	}
	if (l->store_down)
		mgr_event(m, "store_reachable", NULL, NULL, "%s reaches the database again after "
		          "%llu ms", m->name, (unsigned long long)(clock_mono_ms() - l->store_down_ms));
	l->store_down = 0;
	/* Shown without the process's suffix (name#random, manager.c). */
	snprintf(l->holder, sizeof(l->holder), "%.*s", (int)strcspn(ls.holder, "#"), ls.holder);
	snprintf(l->holder_url, sizeof(l->holder_url), "%s", ls.url);
	l->since_ms = ls.since_ms;
	if (ls.held) {
		if (!l->is_leader || l->token != ls.token) {
			l->is_leader = 1;
			l->token = ls.token;
			l->terms++;
			l->passes = 0;
			l->first_pass_ms = 0;
			/* Heartbeats this manager did not see itself arrived through the store; any
			 * node late now gets one more dead-after to show up before it is judged. */
			uint64_t now = clock_wall_ms();
			/* The scaling clocks were the old leader's: a full cooldown passes before a
			 * load-based decision here (minLimit launches count the shared node table and
			 * need no clock). */
			size_t gi = 0;
			void *v;
			while (store_shared(m->store) && strmap_next(&m->groups, &gi, NULL, &v)) {
				struct mgroup *g = v;
				for (int r = 0; r < MROLE_COUNT; r++)
					g->last_out_ms[r] = g->last_in_ms[r] = now;
			}
			struct list_node *it;
			list_for_each(it, &m->nodes) {
				struct mnode *nd = list_entry(it, struct mnode, link);
				if (nd->last_seen_ms && nd->last_seen_ms + m->cfg->dead_after < now &&
				    store_shared(m->store))
					nd->last_seen_ms = now - m->cfg->dead_after / 2;
			}
			if (store_shared(m->store))
				mgr_event(m, "leader_elected", NULL, NULL, "%s leads with token %lld",
				          m->name, (long long)ls.token);
		}
		return;
	}
	if (l->is_leader) {
		char why[200];
		snprintf(why, sizeof(why), "the lease is held by %s (token %lld)", l->holder,
		         (long long)ls.token);
		step_down(m, why);
	}
}

int mgr_leader_act(struct manager *m, const char *what)
{
	struct mgr_leader *l = &m->leader;
	if (!l->is_leader)
		return 0;
	int rc = store_fence(m->store, m->holder, l->token);
	if (rc == 0)
		return 1;
	if (rc == SL_EAUTH) {
		l->fenced++;
		log_warn("leader_fenced", "name=%s token=%lld action=%s reason=\"a newer leader holds "
		         "the lease: the action is refused\" fenced=%llu", m->name,
		         (long long)l->token, what, (unsigned long long)l->fenced);
		char why[160];
		snprintf(why, sizeof(why), "its %s was refused: token %lld is stale", what,
		         (long long)l->token);
		step_down(m, why);
		return 0;
	}
	l->deferred++;
	log_throttled(LOG_WARN, "leader_action_deferred", "name=%s action=%s reason=\"the database "
	              "cannot confirm the lease\" deferred=%llu", m->name, what,
	              (unsigned long long)l->deferred);
	return 0;
}

void mgr_leader_release(struct manager *m)
{
	if (m->leader.is_leader && store_shared(m->store)) {
		store_lease_release(m->store, m->holder, m->leader.token);
		log_info("leader_released", "name=%s token=%lld", m->name, (long long)m->leader.token);
	}
	m->leader.is_leader = 0;
}

json_t *mgr_leader_json(struct manager *m)
{
	struct mgr_leader *l = &m->leader;
	const struct mgr_sync *y = &m->sync;
	return json_pack("{s:s, s:b, s:s, s:s, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I,"
	                 " s:{s:s, s:b}, s:{s:I, s:I, s:I, s:I}}",
	                 "name", m->name, "isLeader", l->is_leader, "leader", l->holder,
	                 "leaderUrl", l->holder_url, "leaderSinceMs", (json_int_t)l->since_ms,
	                 "token", (json_int_t)l->token, "leaseUnknown", l->store_down,
	                 "terms", (json_int_t)l->terms, "fencedActions", (json_int_t)l->fenced,
	                 "deferredActions", (json_int_t)l->deferred,
	                 "writesRefused", (json_int_t)l->writes_refused,
	                 "leaderPasses", (json_int_t)l->passes,
	                 "firstPassMs", (json_int_t)l->first_pass_ms,
	                 "store", "backend", store_backend(m->store), "healthy",
	                 store_healthy(m->store),
	                 "sync", "tableReloads", (json_int_t)y->reloads,
	                 "hotRowsWritten", (json_int_t)y->hot_out,
	                 "hotRowsApplied", (json_int_t)y->hot_in,
	                 "nodeRowsRead", (json_int_t)y->refreshed);
}

int mgr_ha_leader_health(struct manager *m, struct http_conn *c)
{
	static const char yes[] = "leader\n", no[] = "not the leader\n";
	int lead = m->leader.is_leader && !m->stopping;
	http_respond(c, lead ? 200 : 503, "text/plain", lead ? yes : no,
	             lead ? sizeof(yes) - 1 : sizeof(no) - 1);
	return 1;
}

int mgr_ha_gate(struct manager *m, struct http_conn *c, const char *seg0, int get)
{
	if (get)
		return 0;
	if (!store_healthy(m->store)) {
		m->leader.writes_refused++;
		log_throttled(LOG_WARN, "api_write_refused", "reason=\"the database is unreachable\" "
		              "refused=%llu", (unsigned long long)m->leader.writes_refused);
		http_add_header(c, "Retry-After", "2");
		http_respond_error(c, 503, "the database is unreachable: writes are refused until it "
		                   "returns (routing and reads go on from memory)");
		return 1;
	}
	/* Node and group actions start and stop nodes: only the leader does that. */
	if (!m->leader.is_leader && (strcmp(seg0, "groups") == 0 || strcmp(seg0, "nodes") == 0)) {
		char msg[512];
		m->leader.writes_refused++;
		snprintf(msg, sizeof(msg), "this manager (%s) does not lead: send node and group "
		         "actions to the leader%s%s (a load balancer does, checking /healthz/leader)",
		         m->name, m->leader.holder[0] ? ", " : "", m->leader.holder_url);
		log_throttled(LOG_INFO, "api_write_refused", "reason=\"not the leader\" leader=%s",
		              m->leader.holder[0] ? m->leader.holder : "-");
		http_add_header(c, "Retry-After", "1");
		http_respond_error(c, 503, msg);
		return 1;
	}
	return 0;
}
