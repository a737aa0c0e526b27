/*
 * api_red5.c - Red5 Pro Stream Manager's REST paths, answered in its shapes,
 * so existing players, encoders and scripts switch by changing a host name:
 *
 *   GET  /streammanager/api/{2.0,3.0,3.1,4.0}/event/{scope}/{stream}?action=broadcast|subscribe
 *        -> {"name", "scope", "serverAddress", "region"}
 *   POST/GET /admin/nodegroup, GET/DELETE /admin/nodegroup/{name},
 *   POST /admin/nodegroup/{name}/node/origin, GET/POST /admin/alarm/scaleout/default,
 *   GET /admin/debug/cloudcontroller, /admin/configurations/{launchconfig,scalepolicy}
 *
 * Admin calls take the token as ?accessToken= (or a Bearer header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "manager/manager.h"

static const char *const versions[] = { "2.0", "3.0", "3.1", "4.0", NULL };

struct parts {
	char s[8][160];
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
			if (out->n == 8 || http_url_decode(p, (size_t)(e - p), out->s[out->n],
			                                   sizeof(out->s[0]), 0) < 0)
				return -1;
			out->n++;
		}
		p = slash ? slash + 1 : end;
	}
	return 0;
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
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:I, s:i, s:i}", "name", g->g.name,
	                 "state", g->g.active ? "active" : "inactive", "regions", regions,
	                 "launchConfig", g->g.launch_config, "scalePolicy", g->g.scale_policy,
	                 "originConnections", (json_int_t)origin_conns, "origins", origins,
	                 "edges", edges);
}

static void event_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                       const struct parts *p)
{
	/* event/{scope...}/{stream}: the scope may have several levels; our app is one. */
	char scope[256] = "", action[32] = "", region[64] = "", reason[256];
	for (int i = 4; i < p->n - 1; i++) {
		size_t len = strlen(scope);
		snprintf(scope + len, sizeof(scope) - len, "%s%s", len ? "/" : "", p->s[i]);
	}
	const char *stream = p->s[p->n - 1];
	if (req->query) {
		http_query_get(req->query, req->query_len, "action", action, sizeof(action));
		http_query_get(req->query, req->query_len, "region", region, sizeof(region));
	}
	enum route_action a;
	if (strncmp(action, "broadcast", 9) == 0)
		a = ROUTE_BROADCAST;
	else if (strncmp(action, "subscribe", 9) == 0)
		a = ROUTE_SUBSCRIBE;
	else {
		http_respond_error(c, 400, "action: expected broadcast or subscribe");
		return;
	}
	struct mnode *nd = NULL;
	int status = mgr_route(m, scope, stream, a, region, NULL, http_conn_base(c)->peer, &nd,
	                       reason, sizeof(reason));
	if (status) {
		http_respond_error(c, status, reason);
		return;
	}
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:s}", "name", stream, "scope", scope,
	                                    "serverAddress", nd->place.host, "region", nd->region));
}

static void alarm_call(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	char type[16] = "edge", thr[16] = "";
	if (req->query) {
		http_query_get(req->query, req->query_len, "type", type, sizeof(type));
		http_query_get(req->query, req->query_len, "threshold", thr, sizeof(thr));
	}
	int role = mrole_parse(type);
	if (role < 0) {
		http_respond_error(c, 400, "type: expected origin, edge or relay");
		return;
	}
	int64_t value = DEFAULT_SCALE_OUT_PCT;
	size_t it = 0;
	void *v;
	if (req->method == HTTP_POST) {
		char *end;
		long t = strtol(thr, &end, 10);
		if (!thr[0] || *end || t < 1 || t > 1000) {
			http_respond_error(c, 400, "threshold: expected a percentage from 1 to 1000");
			return;
		}
		while (strmap_next(&m->groups, &it, NULL, &v)) {
			struct mgroup *g = v;
			g->g.th[role].out_pct = t;
			if (g->g.th[role].in_pct >= t)
				g->g.th[role].in_pct = t / 3;
			mgr_save_group(m, g);
		}
		mgr_event(m, "thresholds_set", NULL, NULL, "%s scale-out alarm set to %ld%% on every "
		          "group", type, t);
		value = t;
	} else if (strmap_next(&m->groups, &it, NULL, &v)) {
		value = ((struct mgroup *)v)->g.th[role].out_pct;
	}
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
	                  "type", "SCALEOUTALARM", "metric", "CONNECTIONS", "unit", "PERCENTAGE",
	                  "threshold", (json_int_t)value, "comparator", "GREATERTHAN",
	                  "targetType", "GROUP", "role", type));
}

static void nodegroup_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                           const struct parts *p, const uint8_t *body, size_t len)
{
	char err[300];
	/* p: streammanager api VER admin nodegroup [name [node origin]] */
	if (p->n == 5) {
		if (req->method == HTTP_POST) {
			struct mgroup *g;
			int rc = mgr_create_group(m, (const char *)body, len, &g, err, sizeof(err));
			if (rc < 0)
				http_respond_error(c, rc == SL_EEXIST ? 409 : 400, err);
			else
				http_respond_json(c, 200, red5_group(m, g));
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
		http_respond_error(c, 404, err);
		return;
	}
	if (p->n == 6 && req->method == HTTP_DELETE) {
		json_t *o = red5_group(m, g);
		mgr_delete_group(m, g);
		http_respond_json(c, 200, o);
	} else if (p->n == 6) {
		http_respond_json(c, 200, red5_group(m, g));
	} else if (p->n == 8 && strcmp(p->s[6], "node") == 0 && strcmp(p->s[7], "origin") == 0 &&
	           req->method == HTTP_POST) {
		int rc = mgr_add_origin(m, g, err, sizeof(err));
		if (rc < 0)
			http_respond_error(c, rc == SL_EFULL ? 409 : 400, err);
		else
			http_respond_json(c, 200, red5_group(m, g));
	} else {
		http_respond_error(c, 404, "no such Stream Manager endpoint");
	}
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
	if (strcmp(p.s[3], "event") == 0 && p.n >= 6) {
		if (!m->cfg->public_routing && !mgr_authorized(m, req)) {
			http_respond_error(c, 401, "missing or wrong accessToken");
			return 1;
		}
		event_call(m, c, req, &p);
		return 1;
	}
	if (strcmp(p.s[3], "admin") != 0 || p.n < 5)
		return 0;
	if (!mgr_authorized(m, req)) {
		http_respond_error(c, 401, "missing or wrong accessToken");
		return 1;
	}
	const char *what = p.s[4];
	if (strcmp(what, "nodegroup") == 0) {
		nodegroup_call(m, c, req, &p, body, body_len);
	} else if (strcmp(what, "alarm") == 0 && p.n == 7 && strcmp(p.s[5], "scaleout") == 0) {
		alarm_call(m, c, req);
	} else if (strcmp(what, "debug") == 0 && p.n == 6 && strcmp(p.s[5], "cloudcontroller") == 0) {
		const char *name = m->ctl->ops->name;
		http_respond(c, 200, "text/plain", name, strlen(name));
	} else if (strcmp(what, "configurations") == 0 && p.n >= 6 && p.n <= 7 &&
	           (strcmp(p.s[5], "launchconfig") == 0 || strcmp(p.s[5], "scalepolicy") == 0)) {
		mgr_config_call(m, c, strcmp(p.s[5], "scalepolicy") == 0, p.n == 7 ? p.s[6] : NULL,
		                req->method, body, body_len, 1);
	} else {
		return 0;
	}
	return 1;
}
