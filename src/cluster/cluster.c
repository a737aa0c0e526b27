/* SPDX-License-Identifier: Apache-2.0 */
/* cluster.c - roles, upstreams, the control links and the members they gossip (see cluster.h). */
#include "cluster/cluster.h"

#include <stdio.h>
#include <string.h>

#include "cluster/pull.h"
#include "cluster/rtmp_client.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

/* A member whose heartbeat has not risen for this long is forgotten. */
#define MEMBER_EXPIRE_MS 5000
/* pull_refused lines a second; the rest are counted in the next line's suppressed=N. */
#define PULL_REFUSED_LOGS_PER_SEC 5

static const char *const role_names[] = { "standalone", "origin", "edge", "relay" };

const char *cluster_role_name(enum cluster_role r)
{
	return role_names[r];
}

int cluster_serves_peers(const struct cluster *cl)
{
	return cl->enabled && (cl->role == ROLE_ORIGIN || cl->role == ROLE_RELAY);
}

int cluster_takes_publishers(const struct cluster *cl)
{
	return !cl->enabled || cl->role == ROLE_ORIGIN;
}

struct upstream_addr {
	char host[sizeof(((struct upstream *)0)->host)];
	int port;
};

/* "host[:port],..." into at most CLUSTER_MAX_UPSTREAMS addresses; -1 with why in err. */
static int parse_upstream_list(const char *list, struct upstream_addr *out, unsigned *n,
                               char *err, size_t err_size)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	char *save = NULL;
	*n = 0;
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (*n == CLUSTER_MAX_UPSTREAMS) {
			snprintf(err, err_size, "origins: at most %d upstreams", CLUSTER_MAX_UPSTREAMS);
			return -1;
		}
		struct upstream_addr *a = &out[*n];
		if (net_split_hostport(tok, a->host, sizeof(a->host), &a->port, 1935) < 0 ||
		    !a->host[0] || a->port < 1 || a->port > 65535) {
			snprintf(err, err_size, "origins: '%s' is not host[:port]", tok);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static int parse_upstreams(struct cluster *cl, const char *list, char *err, size_t err_size)
{
	struct upstream_addr a[CLUSTER_MAX_UPSTREAMS];
	unsigned n;
	if (parse_upstream_list(list, a, &n, err, err_size) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		struct upstream *u = &cl->up[cl->nup++];
		u->cl = cl;
		memcpy(u->host, a[i].host, sizeof(u->host));
		u->port = a[i].port;
	}
	return 0;
}

void cluster_set_origin_hints(struct cluster *cl, json_t *hints)
{
	if (cl->origin_hints)
		json_decref(cl->origin_hints);
	cl->origin_hints = hints && json_is_object(hints) ? hints : NULL;
	if (hints && !cl->origin_hints)
		json_decref(hints);
}

int cluster_origin_hint(const struct cluster *cl, const char *app, const char *name)
{
	if (!cl->origin_hints)
		return -1;
	char key[300];
	snprintf(key, sizeof(key), "%s/%s", app, name);
	const char *place = json_string_value(json_object_get(cl->origin_hints, key));
	char host[256];
	int port;
	if (!place || net_split_hostport(place, host, sizeof(host), &port, 1935) < 0)
		return -1;
	for (unsigned i = 0; i < cl->nup; i++)
		if (cl->up[i].port == port && strcmp(cl->up[i].host, host) == 0)
			return (int)i;
	return -1;
}

int cluster_set_upstreams(struct cluster *cl, const char *list)
{
	if (cl->role != ROLE_EDGE && cl->role != ROLE_RELAY)
		return 0;
	struct upstream_addr a[CLUSTER_MAX_UPSTREAMS];
	unsigned n;
	char err[300];
	if (parse_upstream_list(list, a, &n, err, sizeof(err)) < 0 || n == 0) {
		log_warn("cluster_upstreams_refused", "list=\"%s\" reason=\"%s\"", list,
		         n == 0 ? "empty" : err);
		return SL_EINVAL;
	}
	int same = n == cl->nup;
	for (unsigned i = 0; same && i < n; i++)
		same = strcmp(a[i].host, cl->up[i].host) == 0 && a[i].port == cl->up[i].port;
	if (same)
		return 0;
	/* Keep the links of upstreams that stay (they move to their new place); close the rest. */
	struct upstream next[CLUSTER_MAX_UPSTREAMS];
	int kept[CLUSTER_MAX_UPSTREAMS] = { 0 };
	memset(next, 0, sizeof(next));
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < cl->nup; j++) {
			if (!kept[j] && strcmp(a[i].host, cl->up[j].host) == 0 &&
			    a[i].port == cl->up[j].port) {
				next[i] = cl->up[j];
				kept[j] = 1;
				break;
			}
		}
		next[i].cl = cl;
		memcpy(next[i].host, a[i].host, sizeof(next[i].host));
		next[i].port = a[i].port;
	}
	for (unsigned j = 0; j < cl->nup; j++) {
		struct rtmp_client *c = cl->up[j].control;
		if (!kept[j] && c) {
			rtmp_client_set_owner(c, NULL);
			rtmp_client_close(c, "no longer an upstream");
		}
	}
	char before[512] = "";
	for (unsigned j = 0; j < cl->nup; j++) {
		size_t len = strlen(before);
		snprintf(before + len, sizeof(before) - len, "%s%s:%d", j ? "," : "", cl->up[j].host,
		         cl->up[j].port);
	}
	memcpy(cl->up, next, sizeof(next));
	cl->nup = n;
	for (unsigned i = 0; i < n; i++)
		if (cl->up[i].control)
			rtmp_client_set_owner(cl->up[i].control, &cl->up[i]);
	log_info("cluster_upstreams_changed", "from=\"%s\" to=\"%s\"", before, list);
	return 1;
}

int cluster_init(struct cluster *cl, const struct cluster_host *host, char *err,
                 size_t err_size)
{
	const struct cluster_settings *cfg = host->cfg;
	memset(cl, 0, sizeof(*cl));
	cl->host = *host;
	list_init(&cl->pulls);
	list_init(&cl->downlinks);
	pull_gate_init(&cl->gate, cfg->max_pulls, cfg->pull_rate, cfg->pull_miss_hold_ms,
	               cfg->pull_miss_hold_max_ms);
	for (int r = 0; r < 4; r++)
		if (strcmp(cfg->role, role_names[r]) == 0)
			cl->role = (enum cluster_role)r;
	cl->enabled = cl->role != ROLE_STANDALONE && cfg->clustering;
	if (parse_upstreams(cl, cfg->origins, err, err_size) < 0)
		return -1;
	if (cl->enabled) {
		if (!cfg->secret || strlen(cfg->secret) < 8) {
			snprintf(err, err_size, "cluster-secret: role %s needs a cluster secret of at "
			         "least 8 characters", cfg->role);
			return -1;
		}
		if ((cl->role == ROLE_EDGE || cl->role == ROLE_RELAY) && cl->nup == 0) {
			snprintf(err, err_size, "origins: role %s needs at least one upstream "
			         "(host[:port],...)", cfg->role);
			return -1;
		}
	}
	struct member self;
	memset(&self, 0, sizeof(self));
	snprintf(self.name, sizeof(self.name), "%s", host->name);
	snprintf(self.role, sizeof(self.role), "%s", cl->role == ROLE_STANDALONE ? "origin" :
	         role_names[cl->role]);
	const char *h = cfg->public_host && *cfg->public_host ? cfg->public_host : cfg->bind;
	if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0)
		h = host->name; /* the best guess without a public-host */
	snprintf(self.host, sizeof(self.host), "%s", h);
	self.rtmp_port = cfg->rtmp_port;
	self.http_port = cfg->http_port;
	self.private_node = cfg->private_node;
	self.beat = clock_wall_ms(); /* above any beat of an earlier run of this node */
	members_init(&cl->members, &self, MEMBER_EXPIRE_MS);
	return 0;
}

struct stream *cluster_pull_stream(struct cluster *cl, const char *app, const char *name)
{
	return cluster_pull_stream_via(cl, app, name, NULL);
}

struct stream *cluster_pull_stream_via(struct cluster *cl, const char *app, const char *name,
                                       const char *via)
{
	if (!cl->enabled || (cl->role != ROLE_EDGE && cl->role != ROLE_RELAY) ||
	    cl->host.ops->stopping(cl->host.ctx))
		return NULL;
	uint64_t now = uv_now(cl->host.loop);
	if (cluster_origin_hint(cl, app, name) >= 0)
		pull_gate_found(&cl->gate, app, name); /* the manager says it is published now */
	enum pull_gate_verdict v = pull_gate_admit(&cl->gate, app, name, cl->npulls, now);
	if (v != PULL_GATE_OPEN) {
		/* A name the upstreams lack, or too many pulls: refused here, not upstream. */
		uint64_t held_back;
		if (log_throttle_pass(&cl->refused_log, now, PULL_REFUSED_LOGS_PER_SEC, &held_back))
			log_info("pull_refused", "app=%s stream=%s reason=%s max_pulls=%u pull_rate=%u "
			         "pulls=%u suppressed=%llu", app, name, pull_gate_verdict_name(v),
			         cl->host.cfg->max_pulls, cl->host.cfg->pull_rate, cl->npulls,
			         (unsigned long long)held_back);
		return NULL;
	}
	struct stream *s;
	if (stream_publish(cl->host.streams, app, name, 0, "pulling", &s) < 0)
		return NULL;
	struct pull *p = pull_open(cl, app, name, s, via);
	(void)p;
	return s;
}

/* ---- control links: members and events, upstream and downstream ---- */

static void put_members_command(struct cluster *cl, const char *name, struct bytes *out,
                                uint32_t chunk)
{
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, name);
	amf0_put_number(&amf, 0);
	amf0_put_null(&amf);
	members_put_amf(&cl->members, &amf);
	rtmp_put_command(out, chunk, 0, &amf);
	bytes_free(&amf);
}

static void control_ready(struct rtmp_client *c)
{
	struct upstream *u = rtmp_client_owner(c);
	u->up = 1;
	u->failures = 0;
	log_info("cluster_link_up", "upstream=%s", rtmp_client_peer(c));
}

/* A command on any cluster link, either direction. Returns 1 if it was one of ours. */
static int control_command(struct cluster *cl, const struct rtmp_command *cmd, const void *link)
{
	uint64_t now = uv_now(cl->host.loop);
	if (strcmp(cmd->name, "clusterHello") == 0 || strcmp(cmd->name, "clusterView") == 0) {
		if (cmd->nargs)
			members_merge_amf(&cl->members, cmd->args[0], now);
		return 1;
	}
	if (strcmp(cmd->name, "clusterEvent") == 0) {
		if (cmd->nargs)
			cluster_event_receive(cl, cmd->args[0], link);
		return 1;
	}
	return 0;
}

static void control_message(struct rtmp_client *c, struct rtmp_msg *m)
{
	if (m->type != RTMP_MSG_COMMAND_AMF0 && m->type != RTMP_MSG_COMMAND_AMF3)
		return;
	struct rtmp_command cmd;
	static const struct amf0_limits lim = { 16, 65536 };
	if (rtmp_command_decode(m->type, m->body->data, m->body->len, &lim, &cmd) < 0)
		return;
	struct upstream *u = rtmp_client_owner(c);
	control_command(u->cl, &cmd, c);
	rtmp_command_free(&cmd);
}

static void control_closed(struct rtmp_client *c, const char *reason)
{
	struct upstream *u = rtmp_client_owner(c);
	if (!u)
		return;
	/* Said when it goes down and on the first failed retry, then every 60th: a node
	 * whose upstream is away for hours does not fill the log. */
	if (u->up || u->failures % 60 == 0)
		log_info("cluster_link_down", "upstream=%s:%d reason=\"%s\" failures=%d", u->host,
		         u->port, reason, u->failures);
	if (!u->up)
		u->failures++;
	u->up = 0;
	u->control = NULL;
	u->next_try_ms = uv_now(u->cl->host.loop) + u->cl->host.cfg->retry_interval_ms;
}

static const struct rtmp_client_ops control_ops = { control_ready, control_message,
                                                    control_closed };

static void control_tick(struct cluster *cl, uint64_t now)
{
	const struct cluster_settings *cfg = cl->host.cfg;
	for (unsigned i = 0; i < cl->nup; i++) {
		struct upstream *u = &cl->up[i];
		if (!u->control) {
			if (now < u->next_try_ms)
				continue;
			struct rtmp_client_config cc = {
				.host = u->host, .port = u->port, .app = "_cluster",
				.secret = cfg->secret, .name = cl->host.name,
				.timeout_ms = cfg->upstream_timeout_ms, .limits = cfg->rtmp_limits,
				.tls = cfg->tls,
			};
			u->control = rtmp_client_open(cl->host.loop, &cc, &control_ops, u);
			continue;
		}
		rtmp_client_tick(u->control, now);
		if (!u->up)
			continue; /* not set up yet: nothing may be sent */
		struct bytes b;
		bytes_init(&b);
		put_members_command(cl, "clusterHello", &b, RTMP_CLIENT_CHUNK_SIZE);
		rtmp_client_send(u->control, &b);
	}
}

static struct cluster_downlink *downlink_find(struct cluster *cl, const void *peer)
{
	struct list_node *it;
	list_for_each(it, &cl->downlinks) {
		struct cluster_downlink *d = list_entry(it, struct cluster_downlink, link);
		if (d->peer == peer)
			return d;
	}
	return NULL;
}

/* A downstream node's command on its link to us (rtmp_commands.c hands them here). */
int cluster_peer_command(struct cluster *cl, void *link, const struct rtmp_command *cmd)
{
	if (!control_command(cl, cmd, link))
		return 0;
	if (strcmp(cmd->name, "clusterHello") != 0)
		return CLUSTER_CMD_HANDLED;
	if (!downlink_find(cl, link)) {
		struct cluster_downlink *d = xcalloc(1, sizeof(*d));
		d->peer = link;
		list_add_tail(&cl->downlinks, &d->link);
		cl->ndownlinks++;
	}
	struct bytes b;
	bytes_init(&b);
	put_members_command(cl, "clusterView", &b, cl->host.ops->chunk_size(cl->host.ctx));
	cl->host.ops->send(cl->host.ctx, link, &b);
	return CLUSTER_CMD_CONTROL;
}

void cluster_link_gone(struct cluster *cl, void *link)
{
	struct cluster_downlink *d = downlink_find(cl, link);
	if (!d)
		return;
	list_del(&d->link);
	cl->ndownlinks--;
	free(d);
}

void cluster_event_flood(struct cluster *cl, const struct bytes *amf_event, const void *except)
{
	for (unsigned i = 0; i < cl->nup; i++) {
		struct rtmp_client *u = cl->up[i].control;
		if (!u || !cl->up[i].up || (const void *)u == except)
			continue;
		struct bytes b;
		bytes_init(&b);
		rtmp_put_command(&b, RTMP_CLIENT_CHUNK_SIZE, 0, amf_event);
		rtmp_client_send(u, &b);
	}
	uint32_t chunk = cl->host.ops->chunk_size(cl->host.ctx);
	struct list_node *it;
	list_for_each(it, &cl->downlinks) {
		struct cluster_downlink *d = list_entry(it, struct cluster_downlink, link);
		if ((const void *)d->peer == except)
			continue;
		struct bytes b;
		bytes_init(&b);
		rtmp_put_command(&b, chunk, 0, amf_event);
		cl->host.ops->send(cl->host.ctx, d->peer, &b);
	}
}

static void timer_cb(uv_timer_t *t)
{
	struct cluster *cl = t->data;
	uint64_t now = uv_now(cl->host.loop);
	if (cl->host.ops->stopping(cl->host.ctx))
		return;
	if (cl->ticks++ % 4 == 0) {
		members_beat(&cl->members, now);
		members_expire(&cl->members, now);
		control_tick(cl, now);
	}
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &cl->pulls)
		pull_tick(list_entry(it, struct pull, link), now);
}

void cluster_settings_changed(struct cluster *cl)
{
	const struct cluster_settings *cfg = cl->host.cfg;
	pull_gate_set_limits(&cl->gate, cfg->max_pulls, cfg->pull_rate, cfg->pull_miss_hold_ms,
	                     cfg->pull_miss_hold_max_ms);
}

void cluster_start(struct cluster *cl)
{
	if (!cl->enabled)
		return;
	uv_timer_init(cl->host.loop, &cl->timer);
	cl->timer.data = cl;
	uv_timer_start(&cl->timer, timer_cb, 250, 250);
}

void cluster_stop(struct cluster *cl)
{
	if (cl->enabled && !uv_is_closing((uv_handle_t *)&cl->timer))
		uv_close((uv_handle_t *)&cl->timer, NULL);
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &cl->pulls)
		pull_free(list_entry(it, struct pull, link), "node stopping");
	for (unsigned i = 0; i < cl->nup; i++) {
		struct rtmp_client *c = cl->up[i].control;
		if (c) {
			cl->up[i].control = NULL;
			rtmp_client_set_owner(c, NULL);
			rtmp_client_close(c, "node stopping");
		}
	}
	while (!list_empty(&cl->downlinks))
		cluster_link_gone(cl, list_entry(cl->downlinks.next, struct cluster_downlink,
		                                 link)->peer);
	for (unsigned i = 0; i < cl->nevents; i++)
		event_msg_free(&cl->events[i].ev);
	cl->nevents = 0;
	cluster_set_origin_hints(cl, NULL);
	pull_gate_free(&cl->gate);
}

json_t *cluster_to_json(struct cluster *cl)
{
	json_t *ups = json_array(), *pulls = json_array(), *members = json_array();
	for (unsigned i = 0; i < cl->nup; i++)
		json_array_append_new(ups, json_pack("{s:s, s:i, s:b}", "host", cl->up[i].host,
		                                     "port", cl->up[i].port, "linked", cl->up[i].up));
	struct list_node *it;
	list_for_each(it, &cl->pulls)
		json_array_append_new(pulls, pull_to_json(list_entry(it, struct pull, link)));
	for (unsigned i = 0; i < cl->members.n; i++) {
		const struct member *m = &cl->members.m[i];
		json_array_append_new(members, json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}",
		                      "name", m->name, "role", m->role, "host", m->host,
		                      "rtmp_port", m->rtmp_port, "http_port", m->http_port,
		                      "private", m->private_node));
	}
	const struct pull_gate *g = &cl->gate;
	json_t *refused = json_pack("{s:I, s:I, s:I}",
	                            "missing", (json_int_t)g->refused[PULL_GATE_MISSING],
	                            "rate", (json_int_t)g->refused[PULL_GATE_RATE],
	                            "full", (json_int_t)g->refused[PULL_GATE_FULL]);
	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:I, s:o, s:i, s:I, s:I, s:I, s:I}",
	                 "role", role_names[cl->role], "enabled", cl->enabled,
	                 "upstreams", ups, "pulls", pulls, "members", members,
	                 "pulls_started", (json_int_t)cl->pulls_started,
	                 "pulls_refused", refused,
	                 "names_held_off", (int)pull_gate_held(g, uv_now(cl->host.loop)),
	                 "failovers", (json_int_t)cl->failovers,
	                 "peers_refused", (json_int_t)cl->auth_refused,
	                 "events_received", (json_int_t)cl->events_received,
	                 "stream_origins_known",
	                 (json_int_t)(cl->origin_hints ? json_object_size(cl->origin_hints) : 0));
}
