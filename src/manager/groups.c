/* SPDX-License-Identifier: Apache-2.0 */
/*
 * groups.c - node groups and their nodes: launching, draining, removing,
 * noticing death, and running the autoscaler's decisions (see
 * autoscaler.h for the rules).  Every change is written to the store and
 * recorded as an event with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/manager.h"
#include "manager/node_bootstrap.h"

/* The autoscaler's pause after a failed launch: doubles with each failure in a row. */
#define LAUNCH_FAIL_HOLD_MS 5000
#define LAUNCH_FAIL_HOLD_MAX_MS 300000

/* Every heartbeat finds its node by id: with 10,000 nodes a walk of the list was most of
 * the manager's time (docs/benchmarks.md, Manager tier). */
struct mnode *mgr_node_find(struct manager *m, const char *id)
{
	return strmap_get(&m->node_index, id);
}

void mgr_node_link(struct manager *m, struct mnode *nd)
{
	list_add_tail(&m->nodes, &nd->link);
	m->nnodes++;
	strmap_put(&m->node_index, nd->id, nd);
}

void mgr_node_unlink(struct manager *m, struct mnode *nd)
{
	list_del(&nd->link);
	m->nnodes--;
	/* Only if it is this node the index holds (ids are unique; this keeps it so). */
	if (strmap_get(&m->node_index, nd->id) == nd)
		strmap_del(&m->node_index, nd->id);
}

struct mgroup *mgr_group_find(struct manager *m, const char *name)
{
	return strmap_get(&m->groups, name);
}

static json_t *node_persist_json(const struct mnode *nd)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:b, s:s, s:I, s:I, s:s}",
	                 "id", nd->id, "group", nd->group, "role", mrole_name(nd->role),
	                 "state", node_state_name(nd->state), "region", nd->region,
	                 "host", nd->place.host, "rtmpPort", nd->place.rtmp_port,
	                 "httpPort", nd->place.http_port, "pid", nd->place.pid,
	                 "managed", nd->managed, "origins", nd->origins,
	                 "launchedMs", (json_int_t)nd->launched_ms,
	                 "stateSinceMs", (json_int_t)nd->state_since_ms,
	                 "keyNonce", nd->nonce);
	/* The controller's handle on it (a script's or a cloud's instance id). */
	if (o && nd->place.instance[0])
		json_object_set_new(o, "instance", json_string(nd->place.instance));
	return o;
}

static void save_json(struct manager *m, enum store_table t, const char *key, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s && store_put(m->store, t, key, s) < 0)
		log_error("store_write_failed", "key=%s", key);
	free(s);
}

void mgr_save_node(struct manager *m, struct mnode *nd)
{
	save_json(m, ST_NODES, nd->id, node_persist_json(nd));
}

void mgr_save_group(struct manager *m, struct mgroup *g)
{
	save_json(m, ST_GROUPS, g->g.name, group_to_json(&g->g));
}

int64_t mgr_capacity(struct manager *m, const char *group, enum mrole role)
{
	struct mgroup *g = mgr_group_find(m, group);
	struct launch_config *lc = g ? strmap_get(&m->lcs, g->g.launch_config) : NULL;
	return lc && lc->t[role].present ? lc->t[role].capacity : 0;
}

int64_t mgr_node_load(const struct mnode *nd)
{
	return nd->rep.publishers + nd->rep.viewers + nd->pending.n;
}

json_t *mgr_node_json(struct manager *m, const struct mnode *nd)
{
	json_t *o = node_persist_json(nd);
	json_object_del(o, "keyNonce");  /* with the cluster secret it makes the node's key */
	uint64_t now = clock_wall_ms();
	int64_t cap = mgr_capacity(m, nd->group, nd->role);
	int64_t load = mgr_node_load(nd);
	json_object_set_new(o, "lastHeartbeatMs", json_integer((json_int_t)nd->last_seen_ms));
	json_object_set_new(o, "heartbeatAgeMs", nd->last_seen_ms ?
	                    json_integer((json_int_t)(now - nd->last_seen_ms)) : json_null());
	/* Heartbeats late but the node answered /healthz: kept, and said so. */
	json_object_set_new(o, "heartbeatsMissing", json_boolean(nd->probe_ok_ms != 0));
	json_object_set_new(o, "load", json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:f, s:I}",
	                    "connections", (json_int_t)nd->rep.connections,
	                    "publishers", (json_int_t)nd->rep.publishers,
	                    "viewers", (json_int_t)nd->rep.viewers,
	                    "routedPending", (json_int_t)nd->pending.n,
	                    "capacity", (json_int_t)cap,
	                    "loadPercent", cap > 0 ? (double)load * 100.0 / (double)cap : 0.0,
	                    "bandwidthInBps", (json_int_t)nd->rep.bw_in_bps,
	                    "bandwidthOutBps", (json_int_t)nd->rep.bw_out_bps,
	                    "cpuPercent", nd->rep.cpu_percent,
	                    "memoryRssBytes", (json_int_t)nd->rep.rss_bytes));
	json_t *streams = json_array();
	for (unsigned i = 0; i < nd->rep.nstreams; i++)
		json_array_append_new(streams, json_pack("{s:s, s:s, s:b, s:I}",
		                      "app", nd->rep.streams[i].app, "name", nd->rep.streams[i].name,
		                      "publishing", nd->rep.streams[i].publishing,
		                      "viewers", (json_int_t)nd->rep.streams[i].viewers));
	json_object_set_new(o, "streams", streams);
	json_object_set_new(o, "machine", json_pack("{s:f, s:f, s:s}", "cpuPercent",
	                    nd->rep.sys_cpu_percent, "memoryPercent", nd->rep.mem_percent,
	                    "overloaded", nd->rep.overloaded));
	json_object_set_new(o, "controller", json_string(nd->managed ? m->ctl->ops->name : "none"));
	return o;
}

void mgr_set_state(struct manager *m, struct mnode *nd, enum node_state s, const char *why)
{
	if (nd->state == s)
		return;
	enum node_state old = nd->state;
	nd->state = s;
	if (s != NS_LAUNCHING)  /* a bootstrap token is for a launching node only */
		explicit_bzero(nd->boot_token, sizeof(nd->boot_token));
	nd->state_since_ms = clock_wall_ms();
	mgr_save_node(m, nd);
	mgr_event(m, s == NS_DEAD ? "node_dead" : "node_state", nd->group, nd->id,
	          "%s -> %s: %s", node_state_name(old), node_state_name(s), why);
}

static unsigned count_role(struct manager *m, const char *group, enum mrole role, int include_drain)
{
	unsigned n = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->group, group) != 0 || nd->role != role)
			continue;
		if (nd->state == NS_LAUNCHING || nd->state == NS_STARTING || nd->state == NS_ALIVE ||
		    (include_drain && nd->state == NS_DRAINING))
			n++;
	}
	return n;
}

/* The region of the group with the fewest nodes of the role. */
static const char *pick_region(struct manager *m, struct mgroup *g, enum mrole role)
{
	unsigned best = 0, best_n = ~0u;
	for (unsigned i = 0; i < g->g.nregions; i++) {
		unsigned n = 0;
		struct list_node *it;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (strcmp(nd->group, g->g.name) == 0 && nd->role == role &&
			    strcmp(nd->region, g->g.regions[i]) == 0 && nd->state != NS_DEAD)
				n++;
		}
		if (n < best_n) {
			best_n = n;
			best = i;
		}
	}
	return g->g.regions[best];
}

void mgr_group_origins(struct manager *m, const char *group, const struct mnode *except,
                       char *out, size_t n)
{
	out[0] = '\0';
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->role == MROLE_ORIGIN && strcmp(nd->group, group) == 0 &&
		    nd->state != NS_DEAD && nd != except && nd->place.host[0]) {
			size_t len = strlen(out);
			snprintf(out + len, n - len, "%s%s:%d", len ? "," : "", nd->place.host,
			         nd->place.rtmp_port);
		}
	}
}

int mgr_launch(struct manager *m, struct mgroup *g, enum mrole role, const char *why,
               const struct mnode *replacing, char *err, size_t err_size)
{
	if (!mgr_leader_act(m, "launch")) {
		snprintf(err, err_size, "this manager does not lead now (only the leader launches)");
		return SL_EAUTH;
	}
	if (mgr_capacity(m, g->g.name, role) <= 0) {
		snprintf(err, err_size, "launch config %s has no target for role %s",
		         g->g.launch_config, mrole_name(role));
		return SL_EINVAL;
	}
	char origins[512] = "";
	struct launch_config *lc = strmap_get(&m->lcs, g->g.launch_config);
	const char **hosts = xcalloc(m->nnodes + 1, sizeof(*hosts));
	size_t nhosts = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd != replacing)
			hosts[nhosts++] = nd->place.host;
	}
	if (role != MROLE_ORIGIN)
		mgr_group_origins(m, g->g.name, replacing, origins, sizeof(origins));
	if (role != MROLE_ORIGIN && replacing == NULL && !origins[0]) {
		free(hosts);
		/* An origin whose controller has not said where it runs yet (a script, a
		 * cloud): the autoscaler brings the edges up once it has. */
		if (count_role(m, g->g.name, MROLE_ORIGIN, 1) > 0) {
			snprintf(err, err_size, "group %s: waiting for its origin's address before "
			         "a %s can be launched", g->g.name, mrole_name(role));
			return SL_EAGAIN;
		}
		snprintf(err, err_size, "group %s has no origin for a new %s to pull from",
		         g->g.name, mrole_name(role));
		return SL_EINVAL;
	}
	if (role != MROLE_ORIGIN && replacing && replacing->origins[0] && !origins[0])
		snprintf(origins, sizeof(origins), "%s", replacing->origins);
	struct mnode *nd = xcalloc(1, sizeof(*nd));
	uint8_t rnd[4];
	char hex[9];
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(nd->id, sizeof(nd->id), "%s-%s", mrole_name(role), hex);
	snprintf(nd->group, sizeof(nd->group), "%s", g->g.name);
	snprintf(nd->region, sizeof(nd->region), "%s", pick_region(m, g, role));
	snprintf(nd->origins, sizeof(nd->origins), "%s", origins);
	nd->role = role;
	uint8_t tok[BOOTSTRAP_TOKEN_BYTES];
	random_bytes(tok, sizeof(tok));
	hex_encode(tok, sizeof(tok), nd->boot_token);
	struct node_spec spec = {
		.bootstrap_token = nd->boot_token,
		.id = nd->id, .group = nd->group, .role = mrole_name(role), .region = nd->region,
		.origins = origins[0] ? origins : NULL,
		.prefer_host = replacing ? replacing->place.host : NULL,
		.hosts_in_use = hosts, .nhosts_in_use = nhosts,
		.image = lc && lc->image[0] ? lc->image : NULL,
		.instance_type = lc && lc->t[role].instance_type[0] ? lc->t[role].instance_type : NULL,
		.properties = lc ? lc->properties : NULL,
	};
	/* In the list (launching) before the controller answers: its answer finds it by id,
	 * and the autoscaler counts it meanwhile. */
	nd->managed = 1;
	nd->state = NS_LAUNCHING;
	nd->launched_ms = nd->state_since_ms = clock_wall_ms();
	mgr_node_link(m, nd);
	int rc = m->ctl->ops->launch(m->ctl, &spec, &nd->place, err, err_size);
	free(hosts);
	if (rc < 0) {
		mgr_event(m, "launch_failed", g->g.name, nd->id, "%s: %s", why, err);
		mgr_node_unlink(m, nd);
		free(nd);
		return rc;
	}
	mgr_save_node(m, nd);
	mgr_event(m, "node_launching", g->g.name, nd->id, "%s %s with the %s controller: %s",
	          mrole_name(role), nd->id, m->ctl->ops->name, why);
	return 0;
}

/* The controller's answer to a launch (controller.h): where the node runs, or why not. */
void mgr_launched(struct controller *c, const char *id, int rc, const struct node_place *p,
                  const char *err)
{
	struct manager *m = c->owner;
	struct mnode *nd = mgr_node_find(m, id);
	if (!nd || !nd->managed || nd->state == NS_DEAD) {
		/* Forgotten meanwhile (its group deleted, the manager stopping): nothing may run
		 * that nobody knows of. */
		if (rc == 0 && p && (!m->stopping || m->cfg->stop_nodes_on_exit)) {
			log_warn("launch_orphan", "node=%s instance=%s (forgotten while launching): "
			         "terminated", id, p->instance);
			c->ops->terminate(c, id, p, 1);
		}
		return;
	}
	if (rc < 0) {
		struct mgroup *g = mgr_group_find(m, nd->group);
		uint64_t hold = 0;
		if (g) {
			unsigned k = g->launch_fail_streak[nd->role]++;
			hold = (uint64_t)LAUNCH_FAIL_HOLD_MS << (k < 6 ? k : 6);
			if (hold > LAUNCH_FAIL_HOLD_MAX_MS)
				hold = LAUNCH_FAIL_HOLD_MAX_MS;
			g->launch_failures++;
			g->launch_hold_until_ms[nd->role] = clock_wall_ms() + hold;
		}
		mgr_event(m, "launch_failed", nd->group, nd->id, "%s %s: %s (launches of the role "
		          "held for %llu ms)", mrole_name(nd->role), nd->id,
		          err && *err ? err : "the controller gave no reason", (unsigned long long)hold);
		nd->managed = 0;  /* nothing to terminate */
		mgr_remove(m, nd, 1, "its launch failed");
		return;
	}
	/* A node that registered already told us its address itself. */
	if (!nd->place.host[0] || nd->state == NS_LAUNCHING) {
		if (p->host[0])
			snprintf(nd->place.host, sizeof(nd->place.host), "%s", p->host);
		if (p->rtmp_port)
			nd->place.rtmp_port = p->rtmp_port;
		if (p->http_port)
			nd->place.http_port = p->http_port;
	}
	struct mgroup *g = mgr_group_find(m, nd->group);
	if (g)
		g->launch_fail_streak[nd->role] = 0;
	nd->place.pid = p->pid;
	snprintf(nd->place.instance, sizeof(nd->place.instance), "%s", p->instance);
	mgr_save_node(m, nd);
	mgr_event(m, "node_launched", nd->group, nd->id, "%s %s at %s (pid %d, instance %s)",
	          mrole_name(nd->role), nd->id, nd->place.host[0] ? nd->place.host : "(not yet known)",
	          nd->place.pid, nd->place.instance[0] ? nd->place.instance : "-");
}

int mgr_add_origin(struct manager *m, struct mgroup *g, char *err, size_t err_size)
{
	struct scale_policy *sp = strmap_get(&m->sps, g->g.scale_policy);
	if (!sp) {
		snprintf(err, err_size, "scale policy %s no longer exists", g->g.scale_policy);
		return SL_EINVAL;
	}
	struct sp_target lim = sp_effective(sp, MROLE_ORIGIN);
	unsigned have = count_role(m, g->g.name, MROLE_ORIGIN, 0);
	if ((int64_t)have >= lim.max) {
		snprintf(err, err_size, "the group has %u origin(s): the policy's origin maxLimit is %lld",
		         have, (long long)lim.max);
		return SL_EFULL;
	}
	int rc = mgr_launch(m, g, MROLE_ORIGIN, "origin added through the API", NULL, err, err_size);
	if (rc < 0)
		return rc;
	if (!g->g.active) {
		g->g.active = 1;
		mgr_save_group(m, g);
	}
	/* The policy's minimum of every other role comes up with the first origin. */
	for (int r = 0; r < MROLE_COUNT; r++) {
		if (r == MROLE_ORIGIN || mgr_capacity(m, g->g.name, (enum mrole)r) <= 0)
			continue;
		struct sp_target t = sp_effective(sp, (enum mrole)r);
		unsigned n = count_role(m, g->g.name, (enum mrole)r, 0);
		char e[256];
		for (; (int64_t)n < t.min; n++)
			if (mgr_launch(m, g, (enum mrole)r, "the policy's minLimit, with the origin", NULL,
			               e, sizeof(e)) < 0)
				break;
	}
	return 0;
}

int mgr_drain(struct manager *m, struct mnode *nd, const char *why)
{
	if (nd->state != NS_ALIVE && nd->state != NS_STARTING && nd->state != NS_LAUNCHING)
		return SL_EINVAL;
	if (!mgr_leader_act(m, "drain"))
		return SL_EAUTH;
	mgr_set_state(m, nd, NS_DRAINING, why);
	return 0;
}

void mgr_remove(struct manager *m, struct mnode *nd, int force, const char *why)
{
	if (!mgr_leader_act(m, "remove"))
		return;
	if (nd->managed)
		m->ctl->ops->terminate(m->ctl, nd->id, &nd->place, force);
	mgr_event(m, "node_removed", nd->group, nd->id, "%s %s at %s: %s", mrole_name(nd->role),
	          nd->id, nd->place.host, why);
	store_delete(m->store, ST_NODES, nd->id);
	name_hold_forget_node(&m->holds, nd->id);
	mgr_node_unlink(m, nd);
	node_report_free(&nd->rep);
	free(nd->hot_body);
	free(nd);
}

int mgr_delete_group(struct manager *m, struct mgroup *g)
{
	/* Its nodes go with it: only the leader stops nodes (and a follower must not leave them
	 * running with no group). */
	if (!mgr_leader_act(m, "group deletion"))
		return -1;
	struct list_node *it, *next;
	for (it = m->nodes.next; it != &m->nodes; it = next) {
		next = it->next;
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->group, g->g.name) == 0)
			mgr_remove(m, nd, 0, "its group was deleted");
	}
	mgr_event(m, "group_deleted", g->g.name, NULL, "group %s deleted", g->g.name);
	store_delete(m->store, ST_GROUPS, g->g.name);
	strmap_del(&m->groups, g->g.name);
	free(g);
	return 0;
}

/* A node stopped answering: stop what is left of it, replace it, forget it. */
static void handle_dead(struct manager *m, struct mnode *nd, const char *why)
{
	if (!mgr_leader_act(m, "dead-node handling"))
		return;
	mgr_set_state(m, nd, NS_DEAD, why);
	if (nd->managed)
		m->ctl->ops->terminate(m->ctl, nd->id, &nd->place, 1);
	struct mgroup *g = mgr_group_find(m, nd->group);
	if (g && g->g.replace_dead) {
		char err[256], reason[160];
		snprintf(reason, sizeof(reason), "replaces dead %s", nd->id);
		if (mgr_launch(m, g, nd->role, reason, nd, err, sizeof(err)) < 0)
			log_warn("replace_failed", "node=%s error=\"%s\"", nd->id, err);
	}
	if (!g || g->g.delete_dead)
		mgr_remove(m, nd, 1, "dead (deleteDeadNodes)");
}

static void probe_done(struct manager *m, const char *node_id, int healthy, const char *detail)
{
	struct mnode *nd = mgr_node_find(m, node_id);
	if (!nd)
		return;
	nd->probing = 0;
	uint64_t now = clock_wall_ms();
	if (m->stopping || now <= nd->last_seen_ms + m->cfg->dead_after ||
	    (nd->state != NS_STARTING && nd->state != NS_ALIVE && nd->state != NS_DRAINING))
		return;  /* a heartbeat came meanwhile, or it is no longer ours to judge */
	if (healthy) {
		m->probes_healthy++;
		if (!nd->probe_ok_ms)
			mgr_event(m, "node_heartbeats_missing", nd->group, nd->id, "no heartbeat for "
			          "%llu ms, but %s: kept (heartbeats may be lost on the way; asked "
			          "again every %llu ms)", (unsigned long long)(now - nd->last_seen_ms),
			          detail, (unsigned long long)m->cfg->dead_after);
		nd->probe_ok_ms = now;
		return;
	}
	m->probes_failed++;
	char why[200];
	snprintf(why, sizeof(why), "no heartbeat for %llu ms, and %s",
	         (unsigned long long)(now - nd->last_seen_ms), detail);
	handle_dead(m, nd, why);
}

/* No heartbeat for dead-after: a managed node whose process is gone is dead now; any other
 * is asked for /healthz (probe.c) and dead only if it does not answer.  One that answered
 * is asked again after dead-after. */
static void late_heartbeats(struct manager *m, struct mnode *nd, uint64_t now)
{
	char why[160];
	if (nd->managed && !m->ctl->ops->running(m->ctl, nd->id, &nd->place)) {
		snprintf(why, sizeof(why), "no heartbeat for %llu ms, and its process is gone",
		         (unsigned long long)(now - nd->last_seen_ms));
		handle_dead(m, nd, why);
		return;
	}
	if (nd->probing || (nd->probe_ok_ms && now < nd->probe_ok_ms + m->cfg->dead_after))
		return;
	nd->probing = 1;
	/* The callback may run before this returns (a refused connect): nd may be gone then. */
	if (mgr_probe_start(m, nd->id, nd->place.host, nd->place.http_port, probe_done) < 0) {
		nd->probing = 0;
		snprintf(why, sizeof(why), "no heartbeat for %llu ms (no address to ask /healthz at)",
		         (unsigned long long)(now - nd->last_seen_ms));
		handle_dead(m, nd, why);
	}
}

static void autoscale_group(struct manager *m, struct mgroup *g, uint64_t now)
{
	struct scale_policy *sp = strmap_get(&m->sps, g->g.scale_policy);
	if (!sp || !g->g.active)
		return;
	for (int ri = 0; ri < MROLE_COUNT; ri++) {
		enum mrole r = (enum mrole)ri;
		int64_t cap = mgr_capacity(m, g->g.name, r);
		if (cap <= 0)
			continue;
		struct scale_input in = {
			.role = r, .lim = sp_effective(sp, r), .capacity = cap, .th = g->g.th[r],
			.now_ms = now, .last_out_ms = g->last_out_ms[r], .last_in_ms = g->last_in_ms[r],
		};
		struct list_node *it;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (strcmp(nd->group, g->g.name) != 0 || nd->role != r)
				continue;
			if (nd->state == NS_LAUNCHING || nd->state == NS_STARTING) {
				in.launching++;
				if (nd->launched_ms > in.newest_launch_ms)
					in.newest_launch_ms = nd->launched_ms;
			} else if (nd->state == NS_ALIVE) {
				in.alive++;
				in.connections += mgr_node_load(nd);
				in.cpu_pct += nd->rep.sys_cpu_percent;  /* summed; the mean below */
			} else if (nd->state == NS_DRAINING) {
				in.draining++;
			}
		}
		if (in.alive)
			in.cpu_pct /= in.alive;
		/* Edges need an origin to pull from: nothing to scale until one runs. */
		if (r != MROLE_ORIGIN && count_role(m, g->g.name, MROLE_ORIGIN, 1) == 0)
			continue;
		/* ...and that origin's address (a cloud says it some time after the launch). */
		char ors[512];
		if (r != MROLE_ORIGIN && (mgr_group_origins(m, g->g.name, NULL, ors, sizeof(ors)),
		                          !ors[0]))
			continue;
		struct scale_decision d;
		autoscale_decide(&in, &g->st[r], &d);
		if (d.action == SCALE_NONE) {
			/* A hold is logged when its kind changes, not every tick. */
			if (d.reason[0] && strncmp(d.reason, g->last_hold[r], 24) != 0) {
				mgr_event(m, "scale_hold", g->g.name, NULL, "%s", d.reason);
				snprintf(g->last_hold[r], sizeof(g->last_hold[r]), "%s", d.reason);
			}
			continue;
		}
		if (d.action == SCALE_OUT && now < g->launch_hold_until_ms[r]) {
			snprintf(d.reason, sizeof(d.reason), "%s: launches held for %llu ms after a "
			         "failed launch", mrole_name(r),
			         (unsigned long long)(g->launch_hold_until_ms[r] - now));
			if (strncmp(d.reason, g->last_hold[r], 24) != 0) {
				mgr_event(m, "scale_hold", g->g.name, NULL, "%s", d.reason);
				snprintf(g->last_hold[r], sizeof(g->last_hold[r]), "%s", d.reason);
			}
			continue;
		}
		g->last_hold[r][0] = '\0';
		if (d.action == SCALE_OUT) {
			mgr_event(m, "scale_out", g->g.name, NULL, "%s", d.reason);
			g->last_out_ms[r] = now;
			char err[256];
			for (unsigned i = 0; i < d.count; i++)
				if (mgr_launch(m, g, r, d.reason, NULL, err, sizeof(err)) < 0)
					break;
			continue;
		}
		/* Scale in: drain the least-loaded alive node of the role. */
		struct route_node *rn = xcalloc(m->nnodes + 1, sizeof(*rn));
		struct mnode **map = xcalloc(m->nnodes + 1, sizeof(*map));
		int *pubs = xcalloc(m->nnodes + 1, sizeof(*pubs));
		size_t n = 0;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (strcmp(nd->group, g->g.name) != 0)
				continue;
			rn[n] = (struct route_node){ .id = nd->id, .role = nd->role, .state = nd->state,
			                             .region = nd->region, .load = mgr_node_load(nd),
			                             .capacity = cap };
			pubs[n] = nd->rep.publishers > 0;
			map[n++] = nd;
		}
		int pick = autoscale_pick_drain(rn, n, r, pubs);
		if (pick >= 0) {
			mgr_event(m, "scale_in", g->g.name, map[pick]->id, "%s", d.reason);
			g->last_in_ms[r] = now;
			mgr_drain(m, map[pick], d.reason);
		}
		free(rn);
		free(map);
		free(pubs);
	}
}

void mgr_lifecycle_tick(struct manager *m)
{
	uint64_t now = clock_wall_ms();
	struct list_node *it, *next;
	for (it = m->nodes.next; it != &m->nodes; it = next) {
		next = it->next;
		struct mnode *nd = list_entry(it, struct mnode, link);
		char why[160];
		switch (nd->state) {
		case NS_LAUNCHING:
			if (nd->managed && !m->ctl->ops->running(m->ctl, nd->id, &nd->place)) {
				handle_dead(m, nd, "its process exited before it registered");
				break;
			}
			if (now > nd->launched_ms + m->cfg->launch_timeout) {
				snprintf(why, sizeof(why), "did not register within %llu ms",
				         (unsigned long long)m->cfg->launch_timeout);
				handle_dead(m, nd, why);
			}
			break;
		case NS_STARTING:
		case NS_ALIVE:
		case NS_DRAINING:
			if (now > nd->last_seen_ms + m->cfg->dead_after) {
				late_heartbeats(m, nd, now);
				break;
			}
			if (nd->state != NS_DRAINING)
				break;
			if (nd->last_seen_ms > nd->state_since_ms + 500 &&
			    nd->rep.publishers + nd->rep.viewers == 0) {
				mgr_remove(m, nd, 0, "drained: no clients left");
			} else if (now > nd->state_since_ms + m->cfg->drain_timeout) {
				snprintf(why, sizeof(why), "drain timeout (%llu ms) with %lld client(s) left",
				         (unsigned long long)m->cfg->drain_timeout,
				         (long long)(nd->rep.publishers + nd->rep.viewers));
				mgr_remove(m, nd, 0, why);
			}
			break;
		default:
			break;
		}
	}
	size_t gi = 0;
	void *v;
	while (strmap_next(&m->groups, &gi, NULL, &v))
		autoscale_group(m, v, now);
}

/* ---- loading the store at start ---- */

/* A node's stored record into *nd (zeroed by the caller); 0, or SL_EINVAL. */
int mgr_node_parse(struct manager *m, const char *json, struct mnode *nd)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	const char *id = NULL, *group = NULL, *role = NULL, *state = NULL, *region = "",
	           *host = NULL, *origins = "", *nonce = "", *instance = "";
	json_int_t rport = 0, hport = 0, pid = 0, launched = 0, since = 0;
	int managed = 0;
	if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:s, s:s, s:s, s?s, s:s, s:I, s:I, s:I, s:b,"
	                         " s?s, s:I, s:I, s?s, s?s}", "id", &id, "group", &group,
	                         "role", &role, "state", &state, "region", &region, "host", &host,
	                         "rtmpPort", &rport, "httpPort", &hport, "pid", &pid,
	                         "managed", &managed, "origins", &origins, "launchedMs",
	                         &launched, "stateSinceMs", &since, "keyNonce", &nonce,
	                         "instance", &instance) != 0 ||
	    mrole_parse(role) < 0 || node_state_parse(state) < 0 || !mgr_name_valid(id)) {
		json_decref(o);
		return SL_EINVAL;
	}
	snprintf(nd->id, sizeof(nd->id), "%s", id);
	snprintf(nd->group, sizeof(nd->group), "%s", group);
	snprintf(nd->region, sizeof(nd->region), "%s", region);
	snprintf(nd->place.host, sizeof(nd->place.host), "%s", host);
	snprintf(nd->origins, sizeof(nd->origins), "%s", origins);
	snprintf(nd->place.instance, sizeof(nd->place.instance), "%s", instance);
	nd->role = (enum mrole)mrole_parse(role);
	nd->state = (enum node_state)node_state_parse(state);
	nd->place.rtmp_port = (int)rport;
	nd->place.http_port = (int)hport;
	nd->place.pid = (int)pid;
	nd->managed = managed;
	nd->launched_ms = (uint64_t)launched;
	nd->state_since_ms = (uint64_t)since;
	/* Its key lives on across the restart: heartbeats go on without re-registering. */
	if (node_nonce_valid(nonce))
		mgr_node_set_nonce(m, nd, nonce);
	json_decref(o);
	return 0;
}


struct load_ctx {
	struct manager *m;
	enum store_table t;
	int bad;
};

static void load_row(void *arg, const char *key, const char *json)
{
	struct load_ctx *lc = arg;
	struct manager *m = lc->m;
	char err[256];
	size_t len = strlen(json);
	if (lc->t == ST_LAUNCH_CONFIGS) {
		struct launch_config *x = xcalloc(1, sizeof(*x));
		if (lc_parse(json, len, x, err, sizeof(err)) == 0) {
			strmap_put(&m->lcs, x->name, x);
			return;
		}
		free(x);
	} else if (lc->t == ST_SCALE_POLICIES) {
		struct scale_policy *x = xcalloc(1, sizeof(*x));
		if (sp_parse(json, len, x, err, sizeof(err)) == 0) {
			strmap_put(&m->sps, x->name, x);
			return;
		}
		free(x);
	} else if (lc->t == ST_GROUPS) {
		struct mgroup *x = xcalloc(1, sizeof(*x));
		if (group_parse(json, len, &x->g, err, sizeof(err)) == 0 && x->g.name[0]) {
			strmap_put(&m->groups, x->g.name, x);
			return;
		}
		free(x);
	} else {
		struct mnode *nd = xcalloc(1, sizeof(*nd));
		if (mgr_node_parse(m, json, nd) == 0) {
			mgr_node_link(m, nd);
			return;
		}
		free(nd);
		snprintf(err, sizeof(err), "bad node record");
	}
	lc->bad++;
	log_warn("store_bad_row", "table=%d key=%s error=\"%s\"", (int)lc->t, key, err);
}

int mgr_load(struct manager *m, char *err, size_t err_size)
{
	for (int t = 0; t < ST_COUNT; t++) {
		struct load_ctx lc = { m, (enum store_table)t, 0 };
		if (store_each(m->store, (enum store_table)t, load_row, &lc) < 0) {
			snprintf(err, err_size, "cannot read the store");
			return SL_EIO;
		}
	}
	uint64_t now = clock_wall_ms();
	unsigned adopted = 0, lost = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->state == NS_DEAD)
			continue;
		/* A running node gets a heartbeat's grace; one whose process is gone is dead at
		 * the first tick. */
		int running = !nd->managed || m->ctl->ops->running(m->ctl, nd->id, &nd->place);
		nd->last_seen_ms = running ? now : 0;
		if (nd->state == NS_LAUNCHING && running)
			nd->launched_ms = now;
		if (running)
			adopted++;
		else
			lost++;
	}
	log_info("manager_loaded", "launch_configs=%zu scale_policies=%zu groups=%zu nodes=%u "
	         "adopted=%u gone=%u", m->lcs.count, m->sps.count, m->groups.count, m->nnodes,
	         adopted, lost);
	return 0;
}
