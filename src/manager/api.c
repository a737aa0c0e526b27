/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - the manager's REST API under /api/v1 (docs/api.md): launch
 * configurations, scale policies, node groups, nodes, routing, streams,
 * events; plus /healthz and the signed node calls.  Errors are
 * {"error": "..."} with a message that says what was wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/http_auth.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/manager.h"
#include "core/name.h"

#define MAX_SEGS 6
#define SEG_MAX 160

struct segs {
	char s[MAX_SEGS][SEG_MAX];
	int n;
};

/* Splits the path after prefix into decoded segments; -1 if too many, too long or bad. */
static int split_path(const struct http_request *req, size_t prefix_len, struct segs *out)
{
	out->n = 0;
	const char *p = req->path + prefix_len, *end = req->path + req->path_len;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		if (e > p) {
			if (out->n == MAX_SEGS)
				return -1;
			if (http_url_decode(p, (size_t)(e - p), out->s[out->n], SEG_MAX, 0) < 0)
				return -1;
			out->n++;
		}
		p = slash ? slash + 1 : end;
	}
	return 0;
}

/* The admin token; with none set, nothing is authorized (the manager refuses to start). */
int mgr_authorized(struct manager *m, const struct http_request *req)
{
	return http_bearer_ok(req, m->cfg->admin_token) || console_authorized(m->console, req);
}

static int query(const struct http_request *req, const char *name, char *out, size_t n)
{
	out[0] = '\0';
	if (!req->query)
		return -1;
	return http_query_get(req->query, req->query_len, name, out, n);
}

/* ---- launch configurations and scale policies ---- */

static const char *used_by(struct manager *m, int policy, const char *name)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&m->groups, &it, NULL, &v)) {
		struct mgroup *g = v;
		if (strcmp(policy ? g->g.scale_policy : g->g.launch_config, name) == 0)
			return g->g.name;
	}
	return NULL;
}

static json_t *config_json(void *obj, int policy, int wrap)
{
	json_t *o = policy ? sp_to_json(obj) : lc_to_json(obj);
	if (policy ? ((struct scale_policy *)obj)->transcoder.present
	           : ((struct launch_config *)obj)->transcoder.present)
		json_object_set_new(o, "note", json_string("the transcoder target is kept, but sluice "
		                    "launches no transcoder nodes until it transcodes (docs/api.md)"));
	return wrap ? json_pack("{s:o}", policy ? "policy" : "launchconfig", o) : o;
}

static void free_config(void *obj, int policy)
{
	if (!policy)
		lc_free(obj);
	free(obj);
}

/* Red5's paths (wrap) answer errors in Red5's shape. */
static void cfg_error(struct http_conn *c, int wrap, int status, const char *message)
{
	if (wrap)
		mgr_red5_error(c, status, message);
	else
		http_respond_error(c, status, message);
}

void mgr_config_call(struct manager *m, struct http_conn *c, int policy, const char *name,
                     enum http_method method, const uint8_t *body, size_t len, int wrap)
{
	struct strmap *map = policy ? &m->sps : &m->lcs;
	const char *what = policy ? "scale policy" : "launch configuration";
	enum store_table table = policy ? ST_SCALE_POLICIES : ST_LAUNCH_CONFIGS;
	char err[300];
	if (!name && (method == HTTP_GET || method == HTTP_HEAD)) {
		json_t *arr = json_array();
		size_t it = 0;
		void *v;
		while (strmap_next(map, &it, NULL, &v))
			json_array_append_new(arr, config_json(v, policy, wrap));
		http_respond_json(c, 200, json_pack("{s:o}", policy ? "scalePolicies" :
		                                    "launchConfigs", arr));
		return;
	}
	if (name && (method == HTTP_GET || method == HTTP_HEAD)) {
		void *v = strmap_get(map, name);
		if (!v) {
			snprintf(err, sizeof(err), "no %s named %s", what, name);
			cfg_error(c, wrap, 404, err);
			return;
		}
		http_respond_json(c, 200, config_json(v, policy, wrap));
		return;
	}
	if (name && method == HTTP_DELETE) {
		void *v = strmap_get(map, name);
		const char *g = used_by(m, policy, name);
		if (!v) {
			snprintf(err, sizeof(err), "no %s named %s", what, name);
			cfg_error(c, wrap, 404, err);
			return;
		}
		if (g) {
			snprintf(err, sizeof(err), "%s %s is used by node group %s", what, name, g);
			cfg_error(c, wrap, 409, err);
			return;
		}
		strmap_del(map, name);
		free_config(v, policy);
		store_delete(m->store, table, name);
		mgr_event(m, policy ? "scale_policy_deleted" : "launch_config_deleted", NULL, NULL,
		          "%s %s deleted", what, name);
		http_respond(c, 204, NULL, NULL, 0);
		return;
	}
	if ((!name && method == HTTP_POST) || (name && method == HTTP_PUT)) {
		void *obj = xcalloc(1, policy ? sizeof(struct scale_policy) :
		                       sizeof(struct launch_config));
		int rc = policy ? sp_parse((const char *)body, len, obj, err, sizeof(err))
		                : lc_parse((const char *)body, len, obj, err, sizeof(err));
		/* What the controller needs (image, ports, network, ...) is checked now, not
		 * at the first launch. */
		if (rc == 0 && !policy && m->ctl && m->ctl->ops->check_properties) {
			rc = m->ctl->ops->check_properties(((struct launch_config *)obj)->properties,
			                                   err, sizeof(err));
			if (rc < 0)
				lc_free(obj);
		}
		if (rc < 0) {
			free(obj);
			cfg_error(c, wrap, 400, err);
			return;
		}
		const char *oname = policy ? ((struct scale_policy *)obj)->name
		                           : ((struct launch_config *)obj)->name;
		if (name && strcmp(name, oname) != 0) {
			snprintf(err, sizeof(err), "name: '%s' does not match the URL's '%s'", oname, name);
			free_config(obj, policy);
			cfg_error(c, wrap, 400, err);
			return;
		}
		void *old = strmap_get(map, oname);
		if (!name && old) {
			snprintf(err, sizeof(err), "a %s named %s already exists (PUT replaces it)", what,
			         oname);
			free_config(obj, policy);
			cfg_error(c, wrap, 409, err);
			return;
		}
		json_t *j = config_json(obj, policy, 0);
		char *s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (!s || store_put(m->store, table, oname, s) < 0) {
			free(s);
			free_config(obj, policy);
			cfg_error(c, wrap, 500, "cannot write to the store");
			return;
		}
		free(s);
		strmap_put(map, oname, obj);
		if (old)
			free_config(old, policy);
		mgr_event(m, policy ? "scale_policy_saved" : "launch_config_saved", NULL, NULL,
		          "%s %s %s", what, oname, old ? "replaced" : "created");
		http_respond_json(c, old ? 200 : 201, config_json(obj, policy, wrap));
		return;
	}
	cfg_error(c, wrap, 405, "method not allowed here");
}

/* ---- groups ---- */

int mgr_create_group(struct manager *m, const char *body, size_t len, struct mgroup **out,
                     char *err, size_t err_size)
{
	struct mgroup *g = xcalloc(1, sizeof(*g));
	if (group_parse(body, len, &g->g, err, err_size) < 0) {
		free(g);
		return SL_EINVAL;
	}
	struct launch_config *lc = strmap_get(&m->lcs, g->g.launch_config);
	struct scale_policy *sp = strmap_get(&m->sps, g->g.scale_policy);
	int rc = 0;
	if (!lc) {
		snprintf(err, err_size, "launchConfig: no launch configuration named %s",
		         g->g.launch_config);
		rc = SL_EINVAL;
	} else if (!sp) {
		snprintf(err, err_size, "scalePolicy: no scale policy named %s", g->g.scale_policy);
		rc = SL_EINVAL;
	}
	for (int r = 0; !rc && r < MROLE_COUNT; r++) {
		struct sp_target t = sp_effective(sp, (enum mrole)r);
		if (t.max > 0 && !lc->t[r].present) {
			snprintf(err, err_size, "launchConfig: %s has no target for role %s, which scale "
			         "policy %s asks for", lc->name, mrole_name((enum mrole)r), sp->name);
			rc = SL_EINVAL;
		}
	}
	if (!rc && !g->g.name[0]) {
		uint8_t rnd[4];
		char hex[9];
		random_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(g->g.name, sizeof(g->g.name), "group-%s", hex);
	}
	if (!rc && mgr_group_find(m, g->g.name)) {
		snprintf(err, err_size, "name: a node group named %s already exists", g->g.name);
		rc = SL_EEXIST;
	}
	if (rc) {
		free(g);
		return rc;
	}
	g->g.active = 0;
	g->g.created_ms = (int64_t)clock_wall_ms();
	/* Red5's stored default alarms start a group that names no thresholds of its own. */
	json_t *peek = json_loadb(body, len, 0, NULL);
	if (!json_object_get(peek, "thresholds"))
		mgr_red5_apply_default_alarms(m, g);
	json_decref(peek);
	strmap_put(&m->groups, g->g.name, g);
	mgr_save_group(m, g);
	mgr_event(m, "group_created", g->g.name, NULL, "launch config %s, scale policy %s, "
	          "%u region(s), replaceDeadNodes=%s", g->g.launch_config, g->g.scale_policy,
	          g->g.nregions, g->g.replace_dead ? "true" : "false");
	*out = g;
	return 0;
}

static json_t *group_full_json(struct manager *m, struct mgroup *g)
{
	json_t *o = group_to_json(&g->g);
	json_t *nodes = json_array();
	json_t *counts = json_object();
	unsigned cnt[MROLE_COUNT][NS_COUNT];
	memset(cnt, 0, sizeof(cnt));
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->group, g->g.name) != 0)
			continue;
		cnt[nd->role][nd->state]++;
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:s}", "id", nd->id,
		                      "role", mrole_name(nd->role), "state", node_state_name(nd->state),
		                      "host", nd->place.host));
	}
	for (int r = 0; r < MROLE_COUNT; r++) {
		json_t *rc = json_object();
		for (int s = 0; s < NS_COUNT; s++)
			json_object_set_new(rc, node_state_name((enum node_state)s),
			                    json_integer(cnt[r][s]));
		json_object_set_new(counts, mrole_name((enum mrole)r), rc);
	}
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(o, "counts", counts);
	/* Launches the controller answered with an error (since this manager started). */
	json_object_set_new(o, "launchFailures", json_integer((json_int_t)g->launch_failures));
	return o;
}

static void api_groups(struct manager *m, struct http_conn *c, const struct http_request *req,
                       const struct segs *sg, const uint8_t *body, size_t len)
{
	char err[300];
	if (sg->n == 1) {
		if (req->method == HTTP_GET || req->method == HTTP_HEAD) {
			json_t *arr = json_array();
			size_t it = 0;
			void *v;
			while (strmap_next(&m->groups, &it, NULL, &v))
				json_array_append_new(arr, group_full_json(m, v));
			http_respond_json(c, 200, json_pack("{s:o}", "groups", arr));
		} else if (req->method == HTTP_POST) {
			struct mgroup *g;
			int rc = mgr_create_group(m, (const char *)body, len, &g, err, sizeof(err));
			if (rc < 0)
				http_respond_error(c, rc == SL_EEXIST ? 409 : 400, err);
			else
				http_respond_json(c, 201, group_full_json(m, g));
		} else {
			http_respond_error(c, 405, "use GET or POST");
		}
		return;
	}
	struct mgroup *g = mgr_group_find(m, sg->s[1]);
	if (!g) {
		snprintf(err, sizeof(err), "no node group named %s", sg->s[1]);
		http_respond_error(c, 404, err);
		return;
	}
	if (sg->n == 2) {
		if (req->method == HTTP_GET || req->method == HTTP_HEAD) {
			http_respond_json(c, 200, group_full_json(m, g));
		} else if (req->method == HTTP_DELETE) {
			if (mgr_delete_group(m, g) < 0)
				http_respond_error(c, 503, "this manager cannot act as the leader now: the "
				                   "group is kept (try again, or ask the leader)");
			else
				http_respond(c, 204, NULL, NULL, 0);
		} else {
			http_respond_error(c, 405, "use GET or DELETE");
		}
		return;
	}
	if (sg->n == 3 && strcmp(sg->s[2], "origins") == 0) {
		if (req->method != HTTP_POST) {
			http_respond_error(c, 405, "use POST");
			return;
		}
		int rc = mgr_add_origin(m, g, err, sizeof(err));
		if (rc < 0)
			http_respond_error(c, rc == SL_EFULL ? 409 : 400, err);
		else
			http_respond_json(c, 201, group_full_json(m, g));
		return;
	}
	if (sg->n == 3 && strcmp(sg->s[2], "thresholds") == 0) {
		if (req->method == HTTP_PUT || req->method == HTTP_POST) {
			int role = -1;
			char rs[16];
			/* The role's current values are the defaults for keys the body omits. */
			json_t *peek = json_loadb((const char *)body, len, 0, NULL);
			const char *prole = peek ? json_string_value(json_object_get(peek, "role")) : NULL;
			snprintf(rs, sizeof(rs), "%s", prole ? prole : "");
			json_decref(peek);
			int r0 = mrole_parse(rs);
			struct thresholds th = g->g.th[r0 >= 0 ? r0 : MROLE_EDGE];
			if (thresholds_parse((const char *)body, len, &role, &th, err, sizeof(err)) < 0) {
				http_respond_error(c, 400, err);
				return;
			}
			g->g.th[role] = th;
			mgr_save_group(m, g);
			mgr_event(m, "thresholds_set", g->g.name, NULL, "%s: scale out above %lld%%, "
			          "scale in below %lld%%", mrole_name((enum mrole)role),
			          (long long)th.out_pct, (long long)th.in_pct);
		} else if (req->method != HTTP_GET) {
			http_respond_error(c, 405, "use GET or PUT");
			return;
		}
		json_t *o = group_to_json(&g->g);
		json_t *th = json_incref(json_object_get(o, "thresholds"));
		json_decref(o);
		http_respond_json(c, 200, th);
		return;
	}
	http_respond_error(c, 404, "no such API endpoint");
}

/* ---- nodes ---- */

static void api_nodes(struct manager *m, struct http_conn *c, const struct http_request *req,
                      const struct segs *sg)
{
	char err[300];
	if (sg->n == 1) {
		if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
			http_respond_error(c, 405, "use GET");
			return;
		}
		char group[MGR_NAME_MAX + 1];
		query(req, "group", group, sizeof(group));
		json_t *arr = json_array();
		struct list_node *it;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (!group[0] || strcmp(group, nd->group) == 0)
				json_array_append_new(arr, mgr_node_json(m, nd));
		}
		http_respond_json(c, 200, json_pack("{s:o}", "nodes", arr));
		return;
	}
	struct mnode *nd = mgr_node_find(m, sg->s[1]);
	if (!nd) {
		snprintf(err, sizeof(err), "no node named %s", sg->s[1]);
		http_respond_error(c, 404, err);
		return;
	}
	if (sg->n == 2 && (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		http_respond_json(c, 200, mgr_node_json(m, nd));
	} else if (sg->n == 2 && req->method == HTTP_DELETE) {
		char force[8];
		query(req, "force", force, sizeof(force));
		mgr_remove(m, nd, strcmp(force, "true") == 0, "removed through the API");
		http_respond(c, 204, NULL, NULL, 0);
	} else if (sg->n == 3 && strcmp(sg->s[2], "drain") == 0 && req->method == HTTP_POST) {
		if (mgr_drain(m, nd, "drained through the API") < 0) {
			snprintf(err, sizeof(err), "node %s is %s: only a live node can drain", nd->id,
			         node_state_name(nd->state));
			http_respond_error(c, 409, err);
			return;
		}
		http_respond_json(c, 200, mgr_node_json(m, nd));
	} else if (sg->n <= 3) {
		http_respond_error(c, 405, "method not allowed here");
	} else {
		http_respond_error(c, 404, "no such API endpoint");
	}
}

/* ---- routing and streams ---- */

static int node_publishes(const struct mnode *nd, const char *app, const char *stream)
{
	for (unsigned i = 0; i < nd->rep.nstreams; i++)
		if (nd->rep.streams[i].publishing && strcmp(nd->rep.streams[i].app, app) == 0 &&
		    strcmp(nd->rep.streams[i].name, stream) == 0)
			return 1;
	return 0;
}

/* Reservations the caller (an address key) holds now, on every node. */
static unsigned caller_reservations(struct manager *m, const char *key, uint64_t now)
{
	unsigned n = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		route_pending_settle(&nd->pending, now, 0);
		n += route_pending_count(&nd->pending, key);
	}
	return n;
}

/* Counts a client routed to nd against its capacity until its report shows it, unless the
 * caller already holds its share: anonymous routing calls are cheap, and without a bound
 * per address one caller could reserve every node's room and starve real clients. */
static void reserve(struct manager *m, struct mnode *nd, const char *caller)
{
	uint64_t now = clock_wall_ms();
	char key[IPLIMIT_KEY_MAX];
	iplimit_key(caller ? caller : "", key, sizeof(key));
	uint32_t per_ip = (uint32_t)m->cfg->route_reservations_per_ip;
	if (per_ip == 0 || caller_reservations(m, key, now) >= per_ip) {
		m->routes_unreserved++;
		return;
	}
	route_pending_add(&nd->pending, now, key);
}

int mgr_scope_valid(const char *app)
{
	return app_name_valid(app);
}

int mgr_route(struct manager *m, const char *app, const char *stream, enum route_action a,
              const char *region, const char *group, const char *caller, struct mnode **out,
              char *reason, size_t reason_size)
{
	return mgr_route_opts(m, app, stream, a, region, group, caller, NULL, out, reason,
	                      reason_size);
}

/* The origin a broadcast of app/stream was sent to lately, if it can still take it. */
static struct mnode *held_origin(struct manager *m, const char *key, const char *scope)
{
	const char *id = name_hold_get(&m->holds, key, clock_wall_ms());
	struct mnode *nd = id ? mgr_node_find(m, id) : NULL;
	if (!nd || nd->state != NS_ALIVE || nd->role != MROLE_ORIGIN ||
	    (scope && strcmp(scope, nd->group) != 0))
		return NULL;
	return nd;
}

int mgr_route_opts(struct manager *m, const char *app, const char *stream, enum route_action a,
                   const char *region, const char *group, const char *caller,
                   const struct route_opts *o, struct mnode **out, char *reason,
                   size_t reason_size)
{
	static const struct route_opts none;
	if (!o)
		o = &none;
	if (!mgr_scope_valid(app) || !stream_name_valid(stream)) {
		snprintf(reason, reason_size, "app and stream names are 1-128 characters of "
		         "A-Z a-z 0-9 _ . ~ @ + = - (an app may have several levels: live/room1)");
		return 400;
	}
	if (group && *group && !mgr_group_find(m, group)) {
		snprintf(reason, reason_size, "no node group named %s", group);
		return 404;
	}
	/* A subscriber goes to the group where the stream is published. */
	const char *scope = group && *group ? group : NULL;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if ((!scope || strcmp(scope, nd->group) == 0) && node_publishes(nd, app, stream) &&
		    (nd->state == NS_ALIVE || nd->state == NS_DRAINING)) {
			scope = nd->group;
			break;
		}
	}
	char key[300];
	snprintf(key, sizeof(key), "%s/%s", app, stream);
	if (a == ROUTE_BROADCAST && o->hold) {
		struct mnode *held = held_origin(m, key, scope);
		int elsewhere = 0;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			elsewhere |= nd != held && node_publishes(nd, app, stream) &&
			             (nd->state == NS_ALIVE || nd->state == NS_DRAINING);
		}
		if (held && !elsewhere) {
			*out = held;
			reserve(m, held, caller);
			name_hold_put(&m->holds, key, held->id, clock_wall_ms(), NAME_HOLD_MS);
			return 0;
		}
	}
	struct route_node *rn = xcalloc(m->nnodes + 1, sizeof(*rn));
	struct mnode **map = xcalloc(m->nnodes + 1, sizeof(*map));
	size_t n = 0;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (scope && strcmp(scope, nd->group) != 0)
			continue;
		if (o->strict_region && region && *region && strcmp(region, nd->region) != 0)
			continue;
		rn[n] = (struct route_node){
			.id = nd->id, .role = nd->role, .state = nd->state, .region = nd->region,
			.load = mgr_node_load(nd), .capacity = mgr_capacity(m, nd->group, nd->role),
			.publishing = node_publishes(nd, app, stream),
			.overloaded = nd->rep.overloaded[0] != 0,
		};
		m->routes_overloaded += nd->rep.overloaded[0] != 0 && nd->state == NS_ALIVE;
		map[n++] = nd;
	}
	int i = routing_pick(rn, n, a, region, reason, reason_size);
	int status = 0;
	if (i >= 0) {
		struct mnode *nd = map[i];
		*out = nd;
		reserve(m, nd, caller);
		if (a == ROUTE_BROADCAST && o->hold && nd->role == MROLE_ORIGIN &&
		    name_hold_put(&m->holds, key, nd->id, clock_wall_ms(), NAME_HOLD_MS) < 0)
			log_throttled(LOG_WARN, "route_hold_full", "names=%d: a broadcast name is not "
			            "held (the table is full)", NAME_HOLD_MAX);
	} else {
		status = i == SL_ENOTFOUND ? 404 : 503;
	}
	free(rn);
	free(map);
	return status;
}

/* The same URLs over the node's TLS listeners, where it has them (docs/security.md#tls). */
static json_t *secure_urls(const struct mnode *nd, const char *app, const char *stream,
                           enum route_action a)
{
	json_t *o = json_object();
	char u[600];
	if (nd->place.rtmps_port > 0) {
		snprintf(u, sizeof(u), "rtmps://%s:%d/%s/%s", nd->place.host, nd->place.rtmps_port,
		         app, stream);
		json_object_set_new(o, "rtmp", json_string(u));
	}
	if (nd->place.https_port > 0 && a != ROUTE_BROADCAST) {
		static const char *const keys[] = { "flv", "hls", "watch", "whep" };
		static const char *const tails[] = { ".flv", "/index.m3u8", "/", "/whep" };
		for (int i = 0; i < 4; i++) {
			snprintf(u, sizeof(u), "https://%s:%d/%s/%s%s", nd->place.host,
			         nd->place.https_port, app, stream, tails[i]);
			json_object_set_new(o, keys[i], json_string(u));
		}
	}
	return o;
}

void mgr_respond_route(struct manager *m, struct http_conn *c, const struct mnode *nd,
                       const char *app, const char *stream, enum route_action a)
{
	(void)m;
	char rtmp[512], flv[512], hls[560], watch[512], whep[560];
	snprintf(rtmp, sizeof(rtmp), "rtmp://%s:%d/%s/%s", nd->place.host, nd->place.rtmp_port, app,
	         stream);
	snprintf(flv, sizeof(flv), "http://%s:%d/%s/%s.flv", nd->place.host, nd->place.http_port,
	         app, stream);
	snprintf(watch, sizeof(watch), "http://%s:%d/%s/%s/", nd->place.host, nd->place.http_port,
	         app, stream);
	snprintf(hls, sizeof(hls), "%sindex.m3u8", watch);
	snprintf(whep, sizeof(whep), "%swhep", watch); /* WebRTC playback (docs/webrtc.md) */
	char whip[560];
	snprintf(whip, sizeof(whip), "%swhip", watch); /* WebRTC publishing (docs/webrtc.md) */
	json_t *urls = a == ROUTE_BROADCAST ? json_pack("{s:s, s:s}", "rtmp", rtmp, "whip", whip)
	                                    : json_pack("{s:s, s:s, s:s, s:s, s:s}", "rtmp", rtmp,
	                                                "flv", flv, "hls", hls, "watch", watch,
	                                                "whep", whep);
	if (nd->place.rtmps_port > 0 || nd->place.https_port > 0)
		json_object_set_new(urls, "secure", secure_urls(nd, app, stream, a));
	if (nd->place.srt_port > 0) {
		/* SRT's access-control stream id says what the caller wants (docs/srt.md). */
		char srt[640];
		snprintf(srt, sizeof(srt), "srt://%s:%d?streamid=#!::r=%s/%s,m=%s", nd->place.host,
		         nd->place.srt_port, app, stream, a == ROUTE_BROADCAST ? "publish" : "request");
		json_object_set_new(urls, "srt", json_string(srt));
	}
	if (nd->place.rtsp_port > 0) {
		/* RTSP: ANNOUNCE/RECORD to publish, DESCRIBE/PLAY to watch, the same URL (docs/rtsp.md). */
		char rtsp[560];
		snprintf(rtsp, sizeof(rtsp), "rtsp://%s:%d/%s/%s", nd->place.host, nd->place.rtsp_port,
		         app, stream);
		json_object_set_new(urls, "rtsp", json_string(rtsp));
	}
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}",
	                  "action", a == ROUTE_BROADCAST ? "broadcast" : "subscribe",
	                  "app", app, "stream", stream, "node", nd->id,
	                  "role", mrole_name(nd->role), "group", nd->group, "region", nd->region,
	                  "host", nd->place.host, "rtmpPort", nd->place.rtmp_port,
	                  "httpPort", nd->place.http_port, "urls", urls));
}

static void api_route(struct manager *m, struct http_conn *c, const struct http_request *req,
                      const char *app, const char *stream)
{
	char action[32], region[64], group[MGR_NAME_MAX + 1];
	query(req, "action", action, sizeof(action));
	query(req, "region", region, sizeof(region));
	query(req, "group", group, sizeof(group));
	enum route_action a;
	if (strcmp(action, "broadcast") == 0 || strcmp(action, "publish") == 0) {
		a = ROUTE_BROADCAST;
	} else if (strcmp(action, "subscribe") == 0 || strcmp(action, "play") == 0 || !action[0]) {
		a = ROUTE_SUBSCRIBE;
	} else {
		http_respond_error(c, 400, "action: expected broadcast or subscribe");
		return;
	}
	struct mnode *nd = mgr_route_or_refuse(m, c, app, stream, a, region, group);
	if (nd)
		mgr_respond_route(m, c, nd, app, stream, a);
}

struct mnode *mgr_route_or_refuse(struct manager *m, struct http_conn *c, const char *app,
                                  const char *stream, enum route_action a, const char *region,
                                  const char *group)
{
	struct mnode *nd = NULL;
	char reason[256];
	/* A retried broadcast of a name not yet live goes to the same origin (name_hold.h). */
	struct route_opts o = { .hold = 1 };
	int status = mgr_route_opts(m, app, stream, a, region, group, http_conn_base(c)->peer, &o,
	                            &nd, reason, sizeof(reason));
	if (status) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s/%s: %s", app, stream, reason);
		http_respond_error(c, status, msg);
		return NULL;
	}
	return nd;
}

static void api_streams(struct manager *m, struct http_conn *c)
{
	json_t *byname = json_object();
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		for (unsigned i = 0; i < nd->rep.nstreams; i++) {
			const struct report_stream *rs = &nd->rep.streams[i];
			char key[300];
			snprintf(key, sizeof(key), "%s/%s", rs->app, rs->name);
			json_t *s = json_object_get(byname, key);
			if (!s) {
				s = json_pack("{s:s, s:s, s:n, s:n, s:I, s:[]}", "app", rs->app, "name",
				              rs->name, "origin", "group", "viewers", (json_int_t)0, "nodes");
				json_object_set_new(byname, key, s);
			}
			if (rs->publishing) {
				json_object_set_new(s, "origin", json_string(nd->id));
				json_object_set_new(s, "group", json_string(nd->group));
			}
			json_int_t v = json_integer_value(json_object_get(s, "viewers")) + rs->viewers;
			json_object_set_new(s, "viewers", json_integer(v));
			json_t *on = json_pack("{s:s, s:s, s:b, s:I}", "id", nd->id, "role",
			                       mrole_name(nd->role), "publishing", rs->publishing,
			                       "viewers", (json_int_t)rs->viewers);
			console_protocols_add(s, rs);
			console_protocols_add(on, rs);
			json_array_append_new(json_object_get(s, "nodes"), on);
		}
	}
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(byname, k, v)
		json_array_append(arr, v);
	json_decref(byname);
	http_respond_json(c, 200, json_pack("{s:o}", "streams", arr));
}

static void event_row(void *arg, const struct store_event *ev)
{
	json_array_append_new(arg, json_pack("{s:I, s:I, s:s, s:s?, s:s?, s:s}", "id",
	                      (json_int_t)ev->id, "ts", (json_int_t)ev->ts_ms, "kind", ev->kind,
	                      "group", ev->group, "node", ev->node, "message", ev->message));
}

static void api_events(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	char lim[16];
	int limit = 100;
	if (query(req, "limit", lim, sizeof(lim)) > 0) {
		char *end;
		long v = strtol(lim, &end, 10);
		if (*end || v < 1 || v > 10000) {
			http_respond_error(c, 400, "limit: expected 1 to 10000");
			return;
		}
		limit = (int)v;
	}
	json_t *arr = json_array();
	store_events(m->store, limit, event_row, arr);
	http_respond_json(c, 200, json_pack("{s:o}", "events", arr));
}

static json_t *conn_counts(const struct conn_table *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "open", (json_int_t)t->count,
	                 "max", (json_int_t)t->max, "refusedFull", (json_int_t)t->refused,
	                 "refusedPerIp", (json_int_t)t->ip.refused_conns,
	                 "refusedRate", (json_int_t)t->ip.refused_rate);
}

static void api_manager(struct manager *m, struct http_conn *c)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:s, s:I, s:I, s:I, s:i}",
	                      "version", SLUICE_VERSION, "controller", m->ctl->ops->name,
	                      "uptimeS", (json_int_t)((clock_wall_ms() - m->started_ms) / 1000),
	                      "schemaVersion", store_schema_version(m->store),
	                      "advertiseUrl", m->advertise,
	                      "launchConfigs", (json_int_t)m->lcs.count,
	                      "scalePolicies", (json_int_t)m->sps.count,
	                      "groups", (json_int_t)m->groups.count, "nodes", m->nnodes);
	/* What the limits refused or held back (docs/security.md, Manager). */
	json_object_set_new(o, "connections", json_pack("{s:o, s:o}", "api",
	                    conn_counts(&m->conns), "node", conn_counts(&m->node_conns)));
	json_object_set_new(o, "leadership", mgr_leader_json(m));
	json_object_set_new(o, "routesUnreserved", json_integer((json_int_t)m->routes_unreserved));
	json_object_set_new(o, "routesSkippedOverloaded",
	                    json_integer((json_int_t)m->routes_overloaded));
	json_object_set_new(o, "sm2Refused", json_integer((json_int_t)m->sm2_refused));
	json_object_set_new(o, "nodeCallsRefused", json_integer((json_int_t)m->node_calls_refused));
	json_object_set_new(o, "console", console_stats_json(m->console));
	json_object_set_new(o, "probes", json_pack("{s:I, s:I, s:I}", "sent",
	                    (json_int_t)m->probes, "healthy", (json_int_t)m->probes_healthy,
	                    "failed", (json_int_t)m->probes_failed));
	http_respond_json(c, 200, o);
}

static int path_is(const struct http_request *r, const char *p)
{
	return r->path_len == strlen(p) && memcmp(r->path, p, r->path_len) == 0;
}

void mgr_node_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                          const uint8_t *body, size_t body_len)
{
	struct manager *m = ctx;
	if (path_is(req, "/healthz")) {
		static const char ok[] = "ok\n";
		http_respond(c, m->stopping ? 503 : 200, "text/plain", ok, sizeof(ok) - 1);
	} else if (path_is(req, "/api/v1/cluster/register") ||
	           path_is(req, "/api/v1/cluster/heartbeat")) {
		if (req->method != HTTP_POST)
			http_respond_error(c, 405, "use POST");
		else
			mgr_node_call(m, c, req, body, body_len,
			              path_is(req, "/api/v1/cluster/register"));
	} else if (path_is(req, "/api/v1/cluster/bootstrap")) {
		if (req->method != HTTP_POST)
			http_respond_error(c, 405, "use POST");
		else
			mgr_bootstrap_call(m, c, body, body_len);
	} else {
		http_respond_error(c, 404, "the node listener takes only register and heartbeat "
		                   "(the REST API is on listen)");
	}
}

void mgr_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len)
{
	struct manager *m = ctx;
	int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	if (mgr_webrtc_handle(m, c, req))
		return; /* /whip/APP/STREAM, /whep/APP/STREAM: 307 to a node (api_webrtc.c) */
	if (req->method == HTTP_OPTIONS) {
		http_add_header(c, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
		http_add_header(c, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		http_respond(c, 204, NULL, NULL, 0);
		return;
	}
	if (path_is(req, "/healthz")) {
		static const char ok[] = "ok\n";
		http_respond(c, m->stopping ? 503 : 200, "text/plain", ok, sizeof(ok) - 1);
		return;
	}
	if (path_is(req, "/healthz/leader") && mgr_ha_leader_health(m, c))
		return;
	if (path_is(req, "/api/v1/cluster/register") || path_is(req, "/api/v1/cluster/heartbeat")) {
		if (req->method != HTTP_POST)
			http_respond_error(c, 405, "use POST");
		else
			mgr_node_call(m, c, req, body, body_len, path_is(req, "/api/v1/cluster/register"));
		return;
	}
	if (console_handle(m, c, req, body, body_len))
		return;
	if (req->path_len >= 15 && memcmp(req->path, "/streammanager/", 15) == 0) {
		/* Red5's admin writes change groups and nodes: the leader's, as on /api/v1. */
		if (mgr_ha_gate(m, c, "groups", req->method == HTTP_GET || req->method == HTTP_HEAD))
			return;
		if (!mgr_red5_handle(m, c, req, body, body_len))
			mgr_red5_error(c, 404, "no such Stream Manager endpoint");
		return;
	}
	if (req->path_len >= 7 && memcmp(req->path, "/as/v1/", 7) == 0) {
		if (!mgr_red5_sm2_handle(m, c, req, body, body_len))
			http_respond_error(c, 404, "no such Stream Manager 2 endpoint");
		return;
	}
	if (req->path_len >= 9 && memcmp(req->path, "/rest/v2/", 9) == 0) {
		if (!mgr_antmedia_handle(m, c, req))
			http_respond_error(c, 404, "no such Ant Media endpoint");
		return;
	}
	if (req->path_len < 8 || memcmp(req->path, "/api/v1/", 8) != 0) {
		http_respond_error(c, 404, "not found");
		return;
	}
	struct segs sg;
	if (split_path(req, 8, &sg) < 0 || sg.n == 0) {
		http_respond_error(c, 404, "no such API endpoint");
		return;
	}
	int routing = sg.n == 3 && strcmp(sg.s[0], "streams") == 0;
	if (!(routing && m->cfg->public_routing) && !mgr_authorized(m, req)) {
		http_add_header(c, "WWW-Authenticate", "Bearer");
		http_respond_error(c, 401, "missing or wrong admin token");
		return;
	}
	const char *seg0 = sg.s[0];
	if (!routing && mgr_ha_gate(m, c, seg0, get))
		return;
	if (routing) {
		if (!get)
			http_respond_error(c, 405, "use GET");
		else
			api_route(m, c, req, sg.s[1], sg.s[2]);
	} else if (strcmp(seg0, "launchconfigs") == 0 && sg.n <= 2) {
		mgr_config_call(m, c, 0, sg.n == 2 ? sg.s[1] : NULL, req->method, body, body_len, 0);
	} else if (strcmp(seg0, "scalepolicies") == 0 && sg.n <= 2) {
		mgr_config_call(m, c, 1, sg.n == 2 ? sg.s[1] : NULL, req->method, body, body_len, 0);
	} else if (strcmp(seg0, "groups") == 0) {
		api_groups(m, c, req, &sg, body, body_len);
	} else if (strcmp(seg0, "nodes") == 0) {
		api_nodes(m, c, req, &sg);
	} else if (strcmp(seg0, "streams") == 0 && sg.n == 1 && get) {
		api_streams(m, c);
	} else if (strcmp(seg0, "events") == 0 && sg.n == 1 && get) {
		api_events(m, c, req);
	} else if (strcmp(seg0, "manager") == 0 && sg.n == 1 && get) {
		api_manager(m, c);
	} else if (strcmp(seg0, "controller") == 0 && sg.n == 1 && get) {
		http_respond_json(c, 200, json_pack("{s:s}", "controller", m->ctl->ops->name));
	} else {
		http_respond_error(c, 404, "no such API endpoint");
	}
}
