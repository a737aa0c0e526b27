/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_red5.c - Red5 Pro Stream Manager 1's REST paths, answered in its
 * shapes, so existing players, encoders and operators' scripts switch by
 * changing a host name (docs/api.md has the full table):
 *
 *   GET  /streammanager/api/{2.0,3.0,3.1,4.0}/event/{scope...}/{stream}?action=broadcast|subscribe
 *        [&region=R [&strict=true] | &geozone=G] [&transcode=true]
 *        -> {"name", "scope", "serverAddress", "region"}
 *   GET  event/list, event/{scope...}/{stream}/stats
 *   admin/nodegroup[/{name}[/node[/{role}]]], admin/node/{ip}, admin/node/sunset,
 *   admin/alarm/scaleout/default, admin/configurations/{launchconfig,scalepolicy}[/{name}[/clone|copy]],
 *   admin/event/meta/{scope...}/{stream}, admin/proxy/clients, admin/debug/{cloudcontroller,logaccess}
 *
 * Admin calls take the token as ?accessToken= (or a Bearer header).  Errors are
 * {"errorMessage", "timestamp"} as Red5 clients test for (plus "error" and "status").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/name.h"
#include "manager/manager.h"

#define RED5_DEFAULT_RTMP_PORT 1935
#define RED5_MAX_SEGS 12
#define RED5_PROVISIONS_MAX 1000      /* admin/event/meta entries kept */
#define RED5_PROVISION_BYTES 16384    /* one provision's JSON */
#define RED5_LOG_EVENTS 500           /* lines admin/debug/logaccess answers */

static const char *const versions[] = { "2.0", "3.0", "3.1", "4.0", NULL };

struct parts {
	char s[RED5_MAX_SEGS][160];
	int n;
};

static int split(const char *p, size_t len, struct parts *out)
{
	out->n = 0;
	const char *end = p + len;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		if (e > p) {
			if (out->n == RED5_MAX_SEGS ||
			    http_url_decode(p, (size_t)(e - p), out->s[out->n], sizeof(out->s[0]), 0) < 0)
				return -1;
			out->n++;
		}
		p = slash ? slash + 1 : end;
	}
	return 0;
}

void mgr_red5_error(struct http_conn *c, int status, const char *message)
{
	http_respond_json(c, status, json_pack("{s:s, s:I, s:s, s:i}", "errorMessage", message,
	                  "timestamp", (json_int_t)clock_wall_ms(), "error", message,
	                  "status", status));
}

static int qget(const struct http_request *req, const char *name, char *out, size_t n)
{
	out[0] = '\0';
	return req->query ? http_query_get(req->query, req->query_len, name, out, n) : -1;
}

/* Red5's alarm types: our roles, plus transcoder (kept, not acted on). */
#define RED5_ALARM_TYPES (MROLE_COUNT + 1)
static int alarm_type(const char *s)
{
	int r = mrole_parse(s);
	return r >= 0 ? r : strcmp(s, "transcoder") == 0 ? MROLE_COUNT : -1;
}

static void load_alarms(struct manager *m)
{
	if (m->red5_alarm_loaded)
		return;
	m->red5_alarm_loaded = 1;
	for (int r = 0; r < MROLE_COUNT; r++) {
		char name[64];
		snprintf(name, sizeof(name), "red5.alarm.scaleout.%s", mrole_name((enum mrole)r));
		char *v = store_setting_get(m->store, name);
		m->red5_alarm[r] = v ? strtoll(v, NULL, 10) : 0;
		free(v);
	}
}

void mgr_red5_apply_default_alarms(struct manager *m, struct mgroup *g)
{
	load_alarms(m);
	for (int r = 0; r < MROLE_COUNT; r++) {
		struct thresholds *th = &g->g.th[r];
		if (m->red5_alarm[r] <= 0)
			continue;
		th->out_pct = m->red5_alarm[r];
		if (th->in_pct >= th->out_pct)
			th->in_pct = th->out_pct / 3;
	}
}

/* A stable number for a group (Red5 ids are numeric): FNV-1a of its name, 31 bits. */
static json_int_t group_id(const char *name)
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (json_int_t)(h & 0x7fffffff);
}

static json_t *red5_group(struct manager *m, struct mgroup *g)
{
	unsigned origins = 0, edges = 0;
	int64_t origin_conns = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->group, g->g.name) != 0 || nd->state == NS_DEAD)
			continue;
		if (nd->role == MROLE_ORIGIN) {
			origins++;
			origin_conns += mgr_node_load(nd);
		} else if (nd->role == MROLE_EDGE) {
			edges++;
		}
	}
	json_t *regions = json_array();
	for (unsigned i = 0; i < g->g.nregions; i++)
		json_array_append_new(regions, json_string(g->g.regions[i]));
	return json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:I, s:i, s:i, s:I}",
	                 "id", group_id(g->g.name), "name", g->g.name,
	                 "state", g->g.active ? "active" : "inactive", "regions", regions,
	                 "launchConfig", g->g.launch_config, "scalePolicy", g->g.scale_policy,
	                 "originConnections", (json_int_t)origin_conns, "origins", origins,
	                 "edges", edges, "timestamp", (json_int_t)g->g.created_ms);
}

/* Red5's serverAddress: a bare address where the node uses the default RTMP port. */
static void server_address(const struct mnode *nd, char *out, size_t n)
{
	if (nd->place.rtmp_port == RED5_DEFAULT_RTMP_PORT)
		snprintf(out, n, "%s", nd->place.host);
	else
		snprintf(out, n, "%s:%d", nd->place.host, nd->place.rtmp_port);
}

static const char *red5_state(enum node_state s)
{
	switch (s) {
	case NS_ALIVE: return "inservice";
	case NS_DRAINING: return "sunset";
	case NS_DEAD: return "terminated";
	default: return "pending";
	}
}

static json_t *red5_node(struct manager *m, const struct mnode *nd)
{
	struct mgroup *g = mgr_group_find(m, nd->group);
	char addr[96];
	server_address(nd, addr, sizeof(addr));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:i, s:I}",
	                 "identifier", nd->id, "role", mrole_name(nd->role),
	                 "availabilityZone", nd->region, "address", nd->place.host,
	                 "serverAddress", addr, "state", red5_state(nd->state),
	                 "launchConfig", g ? g->g.launch_config : "",
	                 "capacity", (json_int_t)mgr_capacity(m, nd->group, nd->role),
	                 "group", nd->group, "rtmpPort", nd->place.rtmp_port,
	                 "httpPort", nd->place.http_port,
	                 "connections", (json_int_t)mgr_node_load(nd));
}

static struct mnode *node_by_address(struct manager *m, const char *addr)
{
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->place.host, addr) == 0 || strcmp(nd->id, addr) == 0)
			return nd;
	}
	return NULL;
}

/* The scope is every segment between "event" and the stream (Red5 scopes nest). */
static void join_scope(const struct parts *p, int from, int to, char *out, size_t n)
{
	out[0] = '\0';
	for (int i = from; i < to; i++) {
		size_t len = strlen(out);
		snprintf(out + len, n - len, "%s%s", len ? "/" : "", p->s[i]);
	}
}

static int region_known(struct manager *m, const char *region)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&m->groups, &it, NULL, &v)) {
		struct mgroup *g = v;
		for (unsigned i = 0; i < g->g.nregions; i++)
			if (strcmp(g->g.regions[i], region) == 0)
				return 1;
	}
	struct list_node *li;
	list_for_each(li, &m->nodes)
		if (strcmp(list_entry(li, struct mnode, link)->region, region) == 0)
			return 1;
	return 0;
}

static void event_route(struct manager *m, struct http_conn *c, const struct http_request *req,
                        const char *scope, const char *stream)
{
	char action[32], region[64], geozone[64], strict[8], transcode[8], reason[300];
	qget(req, "action", action, sizeof(action));
	qget(req, "region", region, sizeof(region));
	qget(req, "geozone", geozone, sizeof(geozone));
	qget(req, "strict", strict, sizeof(strict));
	qget(req, "transcode", transcode, sizeof(transcode));
	enum route_action a;
	if (strncmp(action, "broadcast", 9) == 0) {
		a = ROUTE_BROADCAST;
	} else if (strncmp(action, "subscribe", 9) == 0) {
		a = ROUTE_SUBSCRIBE;
	} else {
		mgr_red5_error(c, 400, "action: expected broadcast or subscribe");
		return;
	}
	if (region[0] && geozone[0]) {
		mgr_red5_error(c, 400, "region and geozone are mutually exclusive");
		return;
	}
	if (geozone[0]) {
		mgr_red5_error(c, 400, "geozone: sluice has no geozones; name a region instead "
		               "(docs/api.md)");
		return;
	}
	if (strcmp(transcode, "true") == 0) {
		mgr_red5_error(c, 400, "transcode=true: sluice has no transcoder nodes yet, so no "
		               "rendition ladder can be routed (docs/api.md)");
		return;
	}
	if (region[0] && !region_known(m, region)) {
		snprintf(reason, sizeof(reason), "region %s: no node group has this region", region);
		mgr_red5_error(c, 404, reason);
		return;
	}
	struct route_opts o = { .strict_region = strcmp(strict, "true") == 0, .hold = 1 };
	struct mnode *nd = NULL;
	int status = mgr_route_opts(m, scope, stream, a, region, NULL, http_conn_base(c)->peer, &o,
	                            &nd, reason, sizeof(reason));
	if (status) {
		char msg[800];
		snprintf(msg, sizeof(msg), "%s/%s: %s%s%s%s", scope, stream, reason,
		         o.strict_region ? " (strict: region " : "", o.strict_region ? region : "",
		         o.strict_region ? " only)" : "");
		mgr_red5_error(c, status, msg);
		return;
	}
	char addr[96];
	server_address(nd, addr, sizeof(addr));
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:s}", "name", stream, "scope", scope,
	                                    "serverAddress", addr, "region", nd->region));
}

static void stream_rows(struct manager *m, const char *scope, const char *stream, json_t *arr)
{
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->state == NS_DEAD)
			continue;
		for (unsigned i = 0; i < nd->rep.nstreams; i++) {
			const struct report_stream *rs = &nd->rep.streams[i];
			if (scope && (strcmp(rs->app, scope) != 0 || strcmp(rs->name, stream) != 0))
				continue;
			char addr[96];
			server_address(nd, addr, sizeof(addr));
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}",
			                      "name", rs->name, "scope", rs->app, "serverAddress", addr,
			                      "region", nd->region, "type", mrole_name(nd->role),
			                      "group", nd->group, "subscriberCount",
			                      (json_int_t)rs->viewers, "publishing", rs->publishing));
		}
	}
}

static void event_stats(struct manager *m, struct http_conn *c, const char *scope,
                        const char *stream)
{
	json_t *rows = json_array();
	stream_rows(m, scope, stream, rows);
	json_t *origin = NULL;
	json_int_t subs = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		subs += json_integer_value(json_object_get(r, "subscriberCount"));
		if (json_is_true(json_object_get(r, "publishing")))
			origin = r;
	}
	if (!origin) {
		json_decref(rows);
		char msg[400];
		snprintf(msg, sizeof(msg), "%s/%s: the stream is not live", scope, stream);
		mgr_red5_error(c, 404, msg);
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:O, s:O, s:I, s:I, s:o}", "name", stream, "scope", scope,
	                      "serverAddress", json_object_get(origin, "serverAddress"),
	                      "region", json_object_get(origin, "region"), "subscriberCount", subs,
	                      "publisherCount", (json_int_t)1, "nodes", rows);
	http_respond_json(c, 200, o);
}

static void alarm_call(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	char type[16], thr[16];
	qget(req, "type", type, sizeof(type));
	qget(req, "threshold", thr, sizeof(thr));
	if (!type[0])
		snprintf(type, sizeof(type), "edge");
	int role = alarm_type(type);
	if (role < 0) {
		mgr_red5_error(c, 400, "type: expected origin, edge, relay or transcoder");
		return;
	}
	load_alarms(m);
	int64_t value = role < MROLE_COUNT && m->red5_alarm[role] > 0 ? m->red5_alarm[role]
	                                                            : DEFAULT_SCALE_OUT_PCT;
	size_t it = 0;
	void *v;
	if (req->method == HTTP_POST) {
		char *end;
		long t = strtol(thr, &end, 10);
		if (!thr[0] || *end || t < 1 || t > 1000) {
			mgr_red5_error(c, 400, "threshold: expected a percentage from 1 to 1000");
			return;
		}
		if (role == MROLE_COUNT) {
			/* No transcoder nodes run yet: nothing to scale; said so, not stored. */
			http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
			                  "type", "SCALEOUTALARM", "metric", "CONNECTIONS", "unit",
			                  "PERCENTAGE", "threshold", (json_int_t)t, "comparator",
			                  "GREATERTHAN", "targetType", "GROUP", "role", type, "note",
			                  "sluice runs no transcoder nodes yet; this alarm has no effect"));
			return;
		}
		char name[64], val[24];
		snprintf(name, sizeof(name), "red5.alarm.scaleout.%s", type);
		snprintf(val, sizeof(val), "%ld", t);
		if (store_setting_put(m->store, name, val) < 0) {
			mgr_red5_error(c, 500, "cannot write to the store");
			return;
		}
		m->red5_alarm[role] = t;
		unsigned groups = 0;
		while (strmap_next(&m->groups, &it, NULL, &v)) {
			struct mgroup *g = v;
			g->g.th[role].out_pct = t;
			if (g->g.th[role].in_pct >= t)
				g->g.th[role].in_pct = t / 3;
			mgr_save_group(m, g);
			groups++;
		}
		mgr_event(m, "thresholds_set", NULL, NULL, "%s scale-out alarm set to %ld%%: the "
		          "default for groups created later, and set on the %u existing", type, t,
		          groups);
		value = t;
	}
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
	                  "type", "SCALEOUTALARM", "metric", "CONNECTIONS", "unit", "PERCENTAGE",
	                  "threshold", (json_int_t)value, "comparator", "GREATERTHAN",
	                  "targetType", "GROUP", "role", type));
}

static void node_list(struct manager *m, struct http_conn *c, const struct mgroup *g, int role)
{
	json_t *arr = json_array();
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if ((!g || strcmp(nd->group, g->g.name) == 0) && (role < 0 || (int)nd->role == role))
			json_array_append_new(arr, red5_node(m, nd));
	}
	http_respond_json(c, 200, arr);
}

static void nodegroup_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                           const struct parts *p, const uint8_t *body, size_t len)
{
	char err[300];
	/* p: streammanager api VER admin nodegroup [name [node [role]]] */
	if (p->n == 5) {
		if (req->method == HTTP_POST) {
			struct mgroup *g;
			int rc = mgr_create_group(m, (const char *)body, len, &g, err, sizeof(err));
			if (rc < 0)
				mgr_red5_error(c, rc == SL_EEXIST ? 409 : 400, err);
			else
				http_respond_json(c, 201, red5_group(m, g));
			return;
		}
		json_t *arr = json_array();
		size_t it = 0;
		void *v;
		while (strmap_next(&m->groups, &it, NULL, &v))
			json_array_append_new(arr, red5_group(m, v));
		http_respond_json(c, 200, arr);
		return;
	}
	struct mgroup *g = mgr_group_find(m, p->s[5]);
	if (!g) {
		snprintf(err, sizeof(err), "no node group named %s", p->s[5]);
		mgr_red5_error(c, 404, err);
		return;
	}
	int role = p->n == 8 ? mrole_parse(p->s[7]) : -1;
	if (p->n == 6 && req->method == HTTP_DELETE) {
		json_t *o = red5_group(m, g);
		if (mgr_delete_group(m, g) < 0) {
			json_decref(o);
			mgr_red5_error(c, 503, "this manager cannot act as the leader now: the group is "
			               "kept");
		} else {
			http_respond_json(c, 200, o);
		}
	} else if (p->n == 6) {
		http_respond_json(c, 200, red5_group(m, g));
	} else if (p->n == 7 && strcmp(p->s[6], "node") == 0 && req->method == HTTP_GET) {
		node_list(m, c, g, -1);
	} else if (p->n == 8 && strcmp(p->s[6], "node") == 0 && role >= 0 &&
	           req->method == HTTP_GET) {
		node_list(m, c, g, role);
	} else if (p->n == 8 && strcmp(p->s[6], "node") == 0 && role == MROLE_ORIGIN &&
	           req->method == HTTP_POST) {
		int rc = mgr_add_origin(m, g, err, sizeof(err));
		if (rc < 0)
			mgr_red5_error(c, rc == SL_EFULL ? 409 : 400, err);
		else
			http_respond_json(c, 201, red5_group(m, g));
	} else if (p->n == 8 && strcmp(p->s[6], "node") == 0 && strcmp(p->s[7], "transcoder") == 0) {
		mgr_red5_error(c, 501, "sluice runs no transcoder nodes yet (docs/api.md)");
	} else {
		mgr_red5_error(c, 404, "no such Stream Manager endpoint");
	}
}

/* POST admin/node/sunset ["ip", ...]: drain each (routing stops at once, the node is
 * removed when empty) and launch a replacement of the same role where the policy allows. */
static void sunset(struct manager *m, struct http_conn *c, const uint8_t *body, size_t len)
{
	json_t *arr = json_loadb((const char *)body, len, 0, NULL);
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 100) {
		json_decref(arr);
		mgr_red5_error(c, 400, "body: expected a JSON array of 1 to 100 node addresses");
		return;
	}
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *addr = json_string_value(v);
		struct mnode *nd = addr ? node_by_address(m, addr) : NULL;
		char msg[300] = "";
		if (!nd) {
			json_array_append_new(out, json_pack("{s:s?, s:s}", "address", addr, "result",
			                      "no such node"));
			continue;
		}
		if (mgr_drain(m, nd, "sunset through the Red5 API") < 0) {
			snprintf(msg, sizeof(msg), "node is %s: only a live node can be sunset",
			         node_state_name(nd->state));
		} else {
			struct mgroup *g = mgr_group_find(m, nd->group);
			char err[300] = "";
			if (g && nd->managed &&
			    mgr_launch(m, g, nd->role, "replacing a sunset node", NULL, err,
			               sizeof(err)) < 0)
				snprintf(msg, sizeof(msg), "draining; no replacement: %s", err);
			else
				snprintf(msg, sizeof(msg), "draining%s", g && nd->managed ?
				         "; a replacement is launching" : "");
		}
		json_t *o = red5_node(m, nd);
		json_object_set_new(o, "result", json_string(msg));
		json_array_append_new(out, o);
	}
	json_decref(arr);
	http_respond_json(c, 200, out);
}

static void node_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                      const struct parts *p, const uint8_t *body, size_t len)
{
	if (p->n == 6 && strcmp(p->s[5], "sunset") == 0 && req->method == HTTP_POST) {
		sunset(m, c, body, len);
		return;
	}
	if (p->n != 6) {
		mgr_red5_error(c, 404, "no such Stream Manager endpoint");
		return;
	}
	struct mnode *nd = node_by_address(m, p->s[5]);
	if (!nd) {
		char err[300];
		snprintf(err, sizeof(err), "no node with address %s", p->s[5]);
		mgr_red5_error(c, 404, err);
		return;
	}
	if (req->method == HTTP_DELETE) {
		json_t *o = red5_node(m, nd);
		mgr_remove(m, nd, 1, "terminated through the Red5 API");
		http_respond_json(c, 200, o);
	} else {
		http_respond_json(c, 200, red5_node(m, nd));
	}
}

/* admin/configurations/{launchconfig,scalepolicy}/{name}/{clone,copy}?name=NEW (or a body
 * {"name": NEW}): the object under a new name. */
static void config_clone(struct manager *m, struct http_conn *c, const struct http_request *req,
                         int policy, const char *src, const uint8_t *body, size_t len)
{
	char to[MGR_NAME_MAX + 1], err[300];
	qget(req, "name", to, sizeof(to));
	if (!to[0] && len) {
		json_t *b = json_loadb((const char *)body, len, 0, NULL);
		const char *s = json_string_value(json_object_get(b, "name"));
		snprintf(to, sizeof(to), "%s", s ? s : "");
		json_decref(b);
	}
	void *obj = strmap_get(policy ? &m->sps : &m->lcs, src);
	if (!obj) {
		snprintf(err, sizeof(err), "no %s named %s", policy ? "scale policy" :
		         "launch configuration", src);
		mgr_red5_error(c, 404, err);
		return;
	}
	if (!mgr_name_valid(to)) {
		mgr_red5_error(c, 400, "name: the new name (?name= or {\"name\"}) must be 1-64 "
		               "characters of A-Z a-z 0-9 . _ -");
		return;
	}
	json_t *j = policy ? sp_to_json(obj) : lc_to_json(obj);
	json_object_set_new(j, "name", json_string(to));
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	mgr_config_call(m, c, policy, NULL, HTTP_POST, (const uint8_t *)s, s ? strlen(s) : 0, 1);
	free(s);
}

static void meta_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                      const struct parts *p, const uint8_t *body, size_t len)
{
	/* p: streammanager api VER admin event meta {scope...} {stream} */
	char scope[300], key[500];
	if (p->n < 8) {
		mgr_red5_error(c, 404, "expected admin/event/meta/{scope}/{stream}");
		return;
	}
	join_scope(p, 6, p->n - 1, scope, sizeof(scope));
	if (!mgr_scope_valid(scope) || !stream_name_valid(p->s[p->n - 1])) {
		mgr_red5_error(c, 400, "scope and stream: 1-128 characters of A-Z a-z 0-9 _ . ~ @ + = -");
		return;
	}
	snprintf(key, sizeof(key), "red5.meta.%s/%s", scope, p->s[p->n - 1]);
	if (req->method == HTTP_GET) {
		char *v = store_setting_get(m->store, key);
		if (!v) {
			mgr_red5_error(c, 404, "no provision for this stream");
			return;
		}
		http_respond(c, 200, "application/json", v, strlen(v));
		free(v);
	} else if (req->method == HTTP_DELETE) {
		char *v = store_setting_get(m->store, key);
		if (!v) {
			mgr_red5_error(c, 404, "no provision for this stream");
			return;
		}
		store_setting_delete(m->store, key);
		http_respond(c, 200, "application/json", v, strlen(v));
		free(v);
	} else if (req->method == HTTP_POST || req->method == HTTP_PUT) {
		json_t *b = len <= RED5_PROVISION_BYTES ? json_loadb((const char *)body, len, 0, NULL)
		                                        : NULL;
		if (!json_is_object(json_object_get(b, "meta"))) {
			json_decref(b);
			mgr_red5_error(c, 400, "body: expected {\"meta\": {...}} of at most 16384 bytes");
			return;
		}
		char *old = store_setting_get(m->store, key);
		if (!old && store_setting_count(m->store, "red5.meta.") >= RED5_PROVISIONS_MAX) {
			json_decref(b);
			mgr_red5_error(c, 409, "at most 1000 stream provisions are kept");
			return;
		}
		free(old);
		char *s = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		int rc = s ? store_setting_put(m->store, key, s) : SL_EIO;
		if (rc < 0)
			mgr_red5_error(c, 500, "cannot write to the store");
		else
			http_respond(c, 201, "application/json", s, strlen(s));
		free(s);
	} else {
		mgr_red5_error(c, 405, "use GET, POST or DELETE");
	}
}

static void log_line(void *arg, const struct store_event *ev)
{
	char line[800];
	int n = snprintf(line, sizeof(line), "%lld %s group=%s node=%s %s\n", (long long)ev->ts_ms,
	                 ev->kind, ev->group ? ev->group : "-", ev->node ? ev->node : "-",
	                 ev->message);
	if (n > 0)
		json_array_append_new(arg, json_stringn(line, (size_t)n < sizeof(line) ? (size_t)n
		                                                                       : sizeof(line) - 1));
}

static void logaccess(struct manager *m, struct http_conn *c)
{
	json_t *lines = json_array();
	store_events(m->store, RED5_LOG_EVENTS, log_line, lines);
	size_t total = 0, i;
	json_t *v;
	json_array_foreach(lines, i, v)
		total += json_string_length(v);
	char *text = xcalloc(1, total + 1);
	size_t off = 0;
	json_array_foreach(lines, i, v) {
		memcpy(text + off, json_string_value(v), json_string_length(v));
		off += json_string_length(v);
	}
	json_decref(lines);
	http_respond(c, 200, "text/plain", text, off);
	free(text);
}

static int admin_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                      const struct parts *p, const uint8_t *body, size_t body_len)
{
	const char *what = p->s[4];
	if (strcmp(what, "nodegroup") == 0) {
		nodegroup_call(m, c, req, p, body, body_len);
	} else if (strcmp(what, "node") == 0) {
		node_call(m, c, req, p, body, body_len);
	} else if (strcmp(what, "alarm") == 0 && p->n == 7 && strcmp(p->s[5], "scaleout") == 0) {
		alarm_call(m, c, req);
	} else if (strcmp(what, "debug") == 0 && p->n == 6 && strcmp(p->s[5], "cloudcontroller") == 0) {
		const char *name = m->ctl->ops->name;
		http_respond(c, 200, "text/plain", name, strlen(name));
	} else if (strcmp(what, "debug") == 0 && p->n == 6 && (strcmp(p->s[5], "logaccess") == 0 ||
	                                                       strcmp(p->s[5], "logs") == 0)) {
		logaccess(m, c);
	} else if (strcmp(what, "configurations") == 0 && p->n >= 6 && p->n <= 8 &&
	           (strcmp(p->s[5], "launchconfig") == 0 || strcmp(p->s[5], "scalepolicy") == 0)) {
		int policy = strcmp(p->s[5], "scalepolicy") == 0;
		if (p->n == 8 && (strcmp(p->s[7], "clone") == 0 || strcmp(p->s[7], "copy") == 0) &&
		    (req->method == HTTP_POST || req->method == HTTP_PUT))
			config_clone(m, c, req, policy, p->s[6], body, body_len);
		else if (p->n == 8)
			mgr_red5_error(c, 404, "no such Stream Manager endpoint");
		else
			mgr_config_call(m, c, policy, p->n == 7 ? p->s[6] : NULL, req->method, body,
			                body_len, 1);
	} else if (strcmp(what, "event") == 0 && p->n >= 6 && strcmp(p->s[5], "meta") == 0) {
		meta_call(m, c, req, p, body, body_len);
	} else if (strcmp(what, "proxy") == 0 && p->n >= 6 && strcmp(p->s[5], "clients") == 0) {
		/* sluice has no WebSocket proxy: WHIP/WHEP go straight to nodes by redirect. */
		char count[8];
		qget(req, "count", count, sizeof(count));
		if (strcmp(count, "true") == 0)
			http_respond_json(c, 200, json_pack("{s:i}", "count", 0));
		else if (p->n == 7)
			mgr_red5_error(c, 404, "no such proxy client (sluice has no proxy)");
		else
			http_respond_json(c, 200, json_array());
	} else {
		return 0;
	}
	return 1;
}

int mgr_red5_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                    const uint8_t *body, size_t body_len)
{
	struct parts p;
	if (split(req->path, req->path_len, &p) < 0 || p.n < 4 ||
	    strcmp(p.s[0], "streammanager") != 0 || strcmp(p.s[1], "api") != 0)
		return 0;
	int known = 0;
	for (int i = 0; versions[i]; i++)
		known |= strcmp(p.s[2], versions[i]) == 0;
	if (!known)
		return 0;
	if (strcmp(p.s[3], "event") == 0 && p.n >= 5) {
		char action[32];
		qget(req, "action", action, sizeof(action));
		int list = p.n == 5 && strcmp(p.s[4], "list") == 0;
		int stats = !action[0] && p.n >= 7 && strcmp(p.s[p.n - 1], "stats") == 0;
		int admin = list || stats;
		if (!admin && p.n < 6)
			return 0;
		if ((admin || !m->cfg->public_routing) && !mgr_authorized(m, req)) {
			mgr_red5_error(c, 401, "missing or wrong accessToken");
			return 1;
		}
		char scope[300];
		if (list) {
			json_t *arr = json_array();
			stream_rows(m, NULL, NULL, arr);
			http_respond_json(c, 200, arr);
		} else if (stats) {
			join_scope(&p, 4, p.n - 2, scope, sizeof(scope));
			event_stats(m, c, scope, p.s[p.n - 2]);
		} else {
			join_scope(&p, 4, p.n - 1, scope, sizeof(scope));
			event_route(m, c, req, scope, p.s[p.n - 1]);
		}
		return 1;
	}
	if (strcmp(p.s[3], "admin") != 0 || p.n < 5)
		return 0;
	if (!mgr_authorized(m, req)) {
		mgr_red5_error(c, 401, "missing or wrong accessToken");
		return 1;
	}
	return admin_call(m, c, req, &p, body, body_len);
}
