/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_red5_sm2.c - Red5 Pro Stream Manager 2's paths (/as/v1), answered in
 * its shapes (docs/api.md, "Red5 Pro Stream Manager 2"):
 *
 *   PUT  /as/v1/auth/login                 Basic (any user, the admin token as password)
 *                                          -> {"token": JWT HS256, expiring}
 *   GET  /as/v1/admin/healthz
 *   POST/GET /as/v1/admin/nodegroup, GET/DELETE /as/v1/admin/nodegroup/{name},
 *   GET  /as/v1/admin/nodegroup/status/{name}
 *   GET  /as/v1/streams/stream/{group}[/publish|subscribe/{streamGuid}]
 *   POST/GET/DELETE /as/v1/streams/provision/{group}/{streamGuid}   kept, not applied
 *   *    /as/v1/proxy/{whip,whep}/{streamGuid}   307 to the chosen node's /APP/STREAM/whip|whep
 *
 * A NodeGroupConfig becomes a launch configuration, a scale policy and a
 * node group of its name (roles' capacity, the first sub-group's rulesByRole,
 * sub-group names as regions); the config itself is kept in the launch
 * configuration's metadata and answered back as given.
 *
 * Tokens are signed with a key derived from the admin token (HMAC of it), so
 * changing the admin token revokes every token handed out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/http_auth.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/name.h"
#include "manager/manager.h"

#define SM2_TOKEN_TTL_S (800 * 60)   /* Red5's R5AS_AUTH_JWT_TTL_MINUTES default */
#define SM2_MAX_SEGS 10
#define SM2_DEFAULT_SCOPE "live"     /* a streamGuid without a scope */
#define SM2_KEY_LABEL "sluice-sm2-jwt"
#define SM2_PROVISIONS_MAX 1000      /* stream provisions kept */
#define SM2_PROVISION_BYTES 16384    /* one provision's JSON */

struct segs {
	char s[SM2_MAX_SEGS][300];
	int n;
};

static int split(const struct http_request *req, struct segs *out)
{
	out->n = 0;
	const char *p = req->path, *end = req->path + req->path_len;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		if (e > p) {
			if (out->n == SM2_MAX_SEGS ||
			    http_url_decode(p, (size_t)(e - p), out->s[out->n], sizeof(out->s[0]), 0) < 0)
				return -1;
			out->n++;
		}
		p = slash ? slash + 1 : end;
	}
	return 0;
}

static void sm2_key(struct manager *m, uint8_t key[SHA256_LEN])
{
	const char *t = m->cfg->admin_token ? m->cfg->admin_token : "";
	hmac_sha256(t, strlen(t), SM2_KEY_LABEL, strlen(SM2_KEY_LABEL), key);
}

static void sm2_error(struct http_conn *c, int status, const char *msg)
{
	http_respond_json(c, status, json_pack("{s:s, s:i, s:I}", "error", msg, "status", status,
	                  "timestamp", (json_int_t)clock_wall_ms()));
}

/* Bearer JWT (or the admin token itself); 0 when accepted, else answered 401. */
static int sm2_authorized(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	if (mgr_authorized(m, req))
		return 0;
	const struct http_header *h = http_find_header(req, "Authorization");
	const char *why = "missing token (PUT /as/v1/auth/login first)";
	if (h && h->value_len > 7 && strncasecmp(h->value, "Bearer ", 7) == 0) {
		uint8_t key[SHA256_LEN];
		char sub[JWT_SUB_MAX + 1];
		sm2_key(m, key);
		if (jwt_verify_hs256(h->value + 7, h->value_len - 7, key, sizeof(key),
		                     (int64_t)(clock_wall_ms() / 1000), sub, NULL, &why) == 0)
			return 0;
	}
	char msg[160];
	m->sm2_refused++;
	snprintf(msg, sizeof(msg), "unauthorized: %s", why);
	log_throttled(LOG_WARN, "sm2_refused", "peer=%s reason=\"%s\"", http_conn_base(c)->peer,
	              why);
	http_add_header(c, "WWW-Authenticate", "Bearer");
	sm2_error(c, 401, msg);
	return -1;
}

static void login(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	const struct http_header *h = http_find_header(req, "Authorization");
	char user[HTTP_BASIC_MAX], pass[HTTP_BASIC_MAX];
	const char *want = m->cfg->admin_token ? m->cfg->admin_token : "";
	int ok = h && http_basic_parse(h->value, h->value_len, user, sizeof(user), pass,
	                               sizeof(pass)) == 0;
	size_t plen = ok ? strlen(pass) : 0;
	ok = ok && *want && plen == strlen(want) && ct_equal(pass, want, plen);
	explicit_bzero(pass, sizeof(pass));
	if (!ok) {
		m->sm2_refused++;
		log_throttled(LOG_WARN, "sm2_login_refused", "peer=%s", http_conn_base(c)->peer);
		http_add_header(c, "WWW-Authenticate", "Basic realm=\"sluice\"");
		sm2_error(c, 401, "wrong user or password (Basic credentials: any user, the "
		          "manager's admin token as the password)");
		return;
	}
	user[JWT_SUB_MAX] = '\0';       /* the token's subject: its first JWT_SUB_MAX bytes */
	uint8_t key[SHA256_LEN];
	sm2_key(m, key);
	int64_t now = (int64_t)(clock_wall_ms() / 1000);
	char tok[1024];
	if (!jwt_sign_hs256(key, sizeof(key), user, now, now + SM2_TOKEN_TTL_S, tok, sizeof(tok))) {
		sm2_error(c, 500, "cannot make a token");
		return;
	}
	http_respond_json(c, 200, json_pack("{s:s, s:I}", "token", tok, "expiresAt",
	                  (json_int_t)(now + SM2_TOKEN_TTL_S) * 1000));
}

/* ---- node group configurations ---- */

static json_t *first_rules(json_t *cfg)
{
	const char *k;
	json_t *g;
	json_object_foreach(json_object_get(cfg, "groups"), k, g) {
		json_t *r = json_object_get(g, "rulesByRole");
		if (json_is_object(r))
			return r;
	}
	return NULL;
}

/* The NodeGroupConfig as our launch configuration, scale policy and group bodies. */
static int translate(json_t *cfg, const char *name, json_t **lc, json_t **sp, json_t **grp,
                     char *err, size_t n)
{
	json_t *roles = json_object_get(cfg, "roles");
	json_t *rules = first_rules(cfg);
	if (!json_is_object(roles) || json_object_size(roles) == 0) {
		snprintf(err, n, "roles: required: {\"origin\": {\"capacity\": N}, ...}");
		return -1;
	}
	if (!rules) {
		snprintf(err, n, "groups: required: a sub-group with rulesByRole "
		         "({\"origin\": {\"min\", \"max\", \"increment\"}, ...})");
		return -1;
	}
	json_t *lt = json_array(), *st = json_array(), *regions = json_array();
	const char *role;
	json_t *v;
	json_object_foreach(roles, role, v) {
		json_t *cap = json_object_get(v, "capacity");
		json_array_append_new(lt, json_pack("{s:s, s:s, s:O}", "role", role, "instanceType",
		                      "sm2", "connectionCapacity", cap ? cap : json_null()));
	}
	json_object_foreach(rules, role, v) {
		json_t *inc = json_object_get(v, "increment");
		json_t *min = json_object_get(v, "min"), *max = json_object_get(v, "max");
		json_array_append_new(st, json_pack("{s:s, s:o, s:o, s:o}", "role", role,
		                      "minLimit", min ? json_incref(min) : json_null(),
		                      "maxLimit", max ? json_incref(max) : json_null(),
		                      "scaleAdjustment", inc ? json_incref(inc) : json_integer(1)));
	}
	const char *k;
	json_object_foreach(json_object_get(cfg, "groups"), k, v) {
		const char *sub = json_string_value(json_object_get(v, "subGroupName"));
		if (json_array_size(regions) < MGR_MAX_REGIONS)
			json_array_append_new(regions, json_string(sub ? sub : k));
	}
	*lc = json_pack("{s:s, s:s, s:s, s:{s:o}, s:{s:O}}", "name", name, "image", "sluice",
	                "version", "sm2", "targets", "target", lt, "metadata", "nodeGroupConfig",
	                cfg);
	*sp = json_pack("{s:s, s:s, s:s, s:{s:o}}", "name", name, "version", "sm2", "type",
	                "sm2", "targets", "target", st);
	*grp = json_pack("{s:s, s:o, s:s, s:s}", "name", name, "regions", regions,
	                 "launchConfig", name, "scalePolicy", name);
	return 0;
}

static void nodegroup_create(struct manager *m, struct http_conn *c, const uint8_t *body,
                             size_t len)
{
	char err[300];
	json_t *cfg = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(cfg, "name"));
	if (!json_is_object(cfg) || !name || !mgr_name_valid(name)) {
		json_decref(cfg);
		sm2_error(c, 400, "name: required, 1-64 characters of A-Z a-z 0-9 . _ -");
		return;
	}
	if (mgr_group_find(m, name) || strmap_get(&m->lcs, name) || strmap_get(&m->sps, name)) {
		snprintf(err, sizeof(err), "a node group, launch configuration or scale policy named "
		         "%s already exists", name);
		json_decref(cfg);
		sm2_error(c, 409, err);
		return;
	}
	json_t *lcj, *spj, *gj;
	if (translate(cfg, name, &lcj, &spj, &gj, err, sizeof(err)) < 0) {
		json_decref(cfg);
		sm2_error(c, 400, err);
		return;
	}
	struct launch_config *lc = xcalloc(1, sizeof(*lc));
	struct scale_policy *sp = xcalloc(1, sizeof(*sp));
	char *ls = json_dumps(lcj, JSON_COMPACT), *ss = json_dumps(spj, JSON_COMPACT),
	     *gs = json_dumps(gj, JSON_COMPACT);
	json_decref(lcj);
	json_decref(spj);
	json_decref(gj);
	int rc = lc_parse(ls, strlen(ls), lc, err, sizeof(err));
	if (rc == 0 && (rc = sp_parse(ss, strlen(ss), sp, err, sizeof(err))) < 0)
		lc_free(lc);
	if (rc < 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "roles/rulesByRole: %s", err);
		sm2_error(c, 400, msg);
		free(lc);
		free(sp);
		goto out;
	}
	store_put(m->store, ST_LAUNCH_CONFIGS, name, ls);
	store_put(m->store, ST_SCALE_POLICIES, name, ss);
	strmap_put(&m->lcs, name, lc);
	strmap_put(&m->sps, name, sp);
	struct mgroup *g;
	rc = mgr_create_group(m, gs, strlen(gs), &g, err, sizeof(err));
	if (rc < 0) {
		strmap_del(&m->lcs, name);
		strmap_del(&m->sps, name);
		store_delete(m->store, ST_LAUNCH_CONFIGS, name);
		store_delete(m->store, ST_SCALE_POLICIES, name);
		lc_free(lc);
		free(lc);
		free(sp);
		sm2_error(c, rc == SL_EEXIST ? 409 : 400, err);
		goto out;
	}
	/* SM2 starts a group's nodes at once: the origin and the rules' minimum of the rest. */
	char lerr[300] = "";
	if (sp_effective(sp, MROLE_ORIGIN).min > 0)
		mgr_add_origin(m, g, lerr, sizeof(lerr));
	json_t *o = json_deep_copy(cfg);
	if (lerr[0])
		json_object_set_new(o, "launchError", json_string(lerr));
	if (sp->transcoder.present)
		json_object_set_new(o, "note", json_string("the transcoder role is kept, but sluice "
		                    "launches no transcoder nodes until it transcodes (docs/api.md)"));
	http_respond_json(c, 201, o);
out:
	free(ls);
	free(ss);
	free(gs);
	json_decref(cfg);
}

static const char *sm2_state(enum node_state s)
{
	switch (s) {
	case NS_ALIVE: return "INSERVICE";
	case NS_DRAINING: return "DRAINING";
	case NS_DEAD: return "TERMINATED";
	default: return "PROVISIONING";
	}
}

static json_t *sm2_node(struct manager *m, const struct mnode *nd)
{
	(void)m;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:f}", "nodeId", nd->id,
	                 "nodeRole", mrole_name(nd->role), "state", sm2_state(nd->state),
	                 "subGroup", nd->region, "publicIp", nd->place.host, "privateIp",
	                 nd->place.host, "rtmpPort", nd->place.rtmp_port, "httpPort",
	                 nd->place.http_port, "connections", (json_int_t)mgr_node_load(nd),
	                 "cpuPercent", nd->rep.cpu_percent);
}

static void nodegroup_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                           const struct segs *sg, const uint8_t *body, size_t len)
{
	/* sg: as v1 admin nodegroup [status] [name] */
	char err[300];
	if (sg->n == 4) {
		if (req->method == HTTP_POST) {
			nodegroup_create(m, c, body, len);
			return;
		}
		json_t *arr = json_array();
		size_t it = 0;
		void *v;
		while (strmap_next(&m->groups, &it, NULL, &v))
			json_array_append_new(arr, json_string(((struct mgroup *)v)->g.name));
		http_respond_json(c, 200, arr);
		return;
	}
	int status = sg->n == 6 && strcmp(sg->s[4], "status") == 0;
	const char *name = status ? sg->s[5] : sg->s[4];
	struct mgroup *g = (sg->n == 5 || status) ? mgr_group_find(m, name) : NULL;
	if (!g) {
		snprintf(err, sizeof(err), "no node group named %.64s", name);
		sm2_error(c, 404, err);
		return;
	}
	if (status) {
		json_t *nodes = json_array();
		struct list_node *it;
		list_for_each(it, &m->nodes) {
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (strcmp(nd->group, g->g.name) == 0)
				json_array_append_new(nodes, sm2_node(m, nd));
		}
		http_respond_json(c, 200, json_pack("{s:s, s:s, s:b, s:o}", "name", g->g.name,
		                  "state", g->g.active ? "ACTIVE" : "INACTIVE", "isScalingPaused", 0,
		                  "nodes", nodes));
		return;
	}
	struct launch_config *lc = strmap_get(&m->lcs, g->g.launch_config);
	json_t *cfg = lc && lc->metadata ? json_object_get(lc->metadata, "nodeGroupConfig") : NULL;
	if (req->method == HTTP_DELETE) {
		int ours = cfg != NULL;
		char lcn[MGR_NAME_MAX + 1], spn[MGR_NAME_MAX + 1];
		snprintf(lcn, sizeof(lcn), "%s", g->g.launch_config);
		snprintf(spn, sizeof(spn), "%s", g->g.scale_policy);
		if (mgr_delete_group(m, g) < 0) {
			sm2_error(c, 503, "this manager cannot act as the leader now: the group is kept");
			return;
		}
		if (ours) {
			/* The launch configuration and policy were made for this group alone. */
			struct launch_config *l = strmap_del(&m->lcs, lcn);
			struct scale_policy *s = strmap_del(&m->sps, spn);
			if (l) {
				lc_free(l);
				free(l);
			}
			free(s);
			store_delete(m->store, ST_LAUNCH_CONFIGS, lcn);
			store_delete(m->store, ST_SCALE_POLICIES, spn);
		}
		http_respond(c, 204, NULL, NULL, 0);
		return;
	}
	if (cfg) {
		http_respond_json(c, 200, json_incref(cfg));
		return;
	}
	/* A group made through another API: its shape as a NodeGroupConfig. */
	json_t *regions = json_array();
	for (unsigned i = 0; i < g->g.nregions; i++)
		json_array_append_new(regions, json_string(g->g.regions[i]));
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:o, s:s, s:s}", "name", g->g.name,
	                  "cloudPlatform", m->ctl->ops->name, "regions", regions,
	                  "launchConfig", g->g.launch_config, "scalePolicy", g->g.scale_policy));
}

/* streamGuid "live/room1/s1" (one %2F-encoded segment or several) -> app, stream. */
static int guid_split(const struct segs *sg, int from, char *app, size_t an, char *stream,
                      size_t sn)
{
	char guid[600] = "";
	for (int i = from; i < sg->n; i++) {
		size_t len = strlen(guid);
		snprintf(guid + len, sizeof(guid) - len, "%s%s", len ? "/" : "", sg->s[i]);
	}
	char *slash = strrchr(guid, '/');
	if (slash) {
		*slash = '\0';
		snprintf(app, an, "%s", guid);
		snprintf(stream, sn, "%s", slash + 1);
	} else {
		snprintf(app, an, "%s", SM2_DEFAULT_SCOPE);
		snprintf(stream, sn, "%s", guid);
	}
	return guid[0] ? 0 : -1;
}

static void route_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                       const char *group, enum route_action a, const char *app,
                       const char *stream, const char *proxy_kind)
{
	char sub[64] = "", reason[300];
	if (req->query)
		http_query_get(req->query, req->query_len, "subgroup", sub, sizeof(sub));
	struct route_opts o = { .strict_region = sub[0] != 0, .hold = 1 };
	struct mnode *nd = NULL;
	int status = mgr_route_opts(m, app, stream, a, sub, group, http_conn_base(c)->peer, &o,
	                            &nd, reason, sizeof(reason));
	if (status) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s/%s: %s", app, stream, reason);
		sm2_error(c, status, msg);
		return;
	}
	if (proxy_kind) {
		char loc[700];
		snprintf(loc, sizeof(loc), "http://%s:%d/%s/%s/%s", nd->place.host, nd->place.http_port,
		         app, stream, proxy_kind);
		http_add_header(c, "Location", loc);
		http_respond_json(c, 307, json_pack("{s:s}", "location", loc));
		return;
	}
	char guid[300], addr[96];
	snprintf(guid, sizeof(guid), "%s/%s", app, stream);
	snprintf(addr, sizeof(addr), "%s", nd->place.host);
	http_respond_json(c, 200, json_pack("[{s:s, s:s, s:s, s:s, s:s, s:i, s:i}]", "streamGuid",
	                  guid, "serverAddress", addr, "nodeRole", mrole_name(nd->role),
	                  "subGroup", nd->region, "nodeState", sm2_state(nd->state),
	                  "rtmpPort", nd->place.rtmp_port, "httpPort", nd->place.http_port));
}

static void stream_list(struct manager *m, struct http_conn *c, const char *group)
{
	json_t *arr = json_array();
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (strcmp(nd->group, group) != 0 || nd->state == NS_DEAD)
			continue;
		for (unsigned i = 0; i < nd->rep.nstreams; i++) {
			const struct report_stream *rs = &nd->rep.streams[i];
			char guid[300];
			snprintf(guid, sizeof(guid), "%s/%s", rs->app, rs->name);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}",
			                      "streamGuid", guid, "serverAddress", nd->place.host,
			                      "nodeRole", mrole_name(nd->role), "subGroup", nd->region,
			                      "nodeState", sm2_state(nd->state), "subscribers",
			                      (json_int_t)rs->viewers, "publishing", rs->publishing));
		}
	}
	http_respond_json(c, 200, arr);
}

/* /as/v1/streams/provision/{group}/{streamGuid}: kept and answered back; not applied (no
 * ABR ladder, per-stream credentials or recording yet). */
static void provision_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                           const char *group, const char *app, const char *stream,
                           const uint8_t *body, size_t len)
{
	char key[400];
	snprintf(key, sizeof(key), "sm2.provision.%.64s/%.128s/%.128s", group, app, stream);
	char *old = store_setting_get(m->store, key);
	if (req->method == HTTP_GET || req->method == HTTP_DELETE) {
		if (!old) {
			sm2_error(c, 404, "no provision for this stream");
			return;
		}
		if (req->method == HTTP_DELETE)
			store_setting_delete(m->store, key);
		http_respond(c, 200, "application/json", old, strlen(old));
		free(old);
		return;
	}
	if (req->method != HTTP_POST && req->method != HTTP_PUT) {
		free(old);
		sm2_error(c, 405, "use GET, POST, PUT or DELETE");
		return;
	}
	json_t *b = len <= SM2_PROVISION_BYTES ? json_loadb((const char *)body, len, 0, NULL) : NULL;
	if (!json_is_object(b) && !json_is_array(b)) {
		free(old);
		json_decref(b);
		sm2_error(c, 400, "body: expected a JSON object or array of at most 16384 bytes");
		return;
	}
	if (!old && store_setting_count(m->store, "sm2.provision.") >= SM2_PROVISIONS_MAX) {
		json_decref(b);
		sm2_error(c, 409, "at most 1000 stream provisions are kept");
		return;
	}
	free(old);
	char *text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (!text || store_setting_put(m->store, key, text) < 0)
		sm2_error(c, 500, "cannot write to the store");
	else
		http_respond(c, 201, "application/json", text, strlen(text));
	free(text);
}

int mgr_red5_sm2_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                        const uint8_t *body, size_t body_len)
{
	struct segs sg;
	if (split(req, &sg) < 0 || sg.n < 3 || strcmp(sg.s[0], "as") != 0 ||
	    strcmp(sg.s[1], "v1") != 0)
		return 0;
	const char *area = sg.s[2];
	if (strcmp(area, "auth") == 0 && sg.n == 4 && strcmp(sg.s[3], "login") == 0) {
		if (req->method != HTTP_PUT && req->method != HTTP_POST)
			sm2_error(c, 405, "use PUT");
		else
			login(m, c, req);
		return 1;
	}
	if (strcmp(area, "admin") == 0 && sg.n == 4 && strcmp(sg.s[3], "healthz") == 0) {
		http_respond_json(c, m->stopping ? 503 : 200, json_pack("{s:s}", "status",
		                  m->stopping ? "stopping" : "ok"));
		return 1;
	}
	int routing = strcmp(area, "streams") == 0 || strcmp(area, "proxy") == 0;
	if (!(routing && m->cfg->public_routing) && sm2_authorized(m, c, req) < 0)
		return 1;
	/* Writes change groups and nodes: the leader's, as on /api/v1 (routing and the
	 * WHIP/WHEP redirects are not writes). */
	if (!routing && mgr_ha_gate(m, c, "groups", req->method == HTTP_GET ||
	                                             req->method == HTTP_HEAD))
		return 1;
	if (strcmp(area, "admin") == 0 && sg.n >= 4 && strcmp(sg.s[3], "nodegroup") == 0 &&
	    sg.n <= 6) {
		nodegroup_call(m, c, req, &sg, body, body_len);
		return 1;
	}
	char app[300], stream[300];
	if (strcmp(area, "streams") == 0 && sg.n >= 6 && strcmp(sg.s[3], "provision") == 0) {
		if (routing && m->cfg->public_routing && sm2_authorized(m, c, req) < 0)
			return 1;  /* provisions are admin data even where routing is public */
		if (!mgr_group_find(m, sg.s[4])) {
			char msg[400];
			snprintf(msg, sizeof(msg), "no node group named %.64s", sg.s[4]);
			sm2_error(c, 404, msg);
		} else if (guid_split(&sg, 5, app, sizeof(app), stream, sizeof(stream)) < 0 ||
		           !app_name_valid(app) || !stream_name_valid(stream)) {
			sm2_error(c, 400, "streamGuid: scope/stream, 1-128 characters of A-Z a-z 0-9 "
			          "_ . ~ @ + = -");
		} else {
			provision_call(m, c, req, sg.s[4], app, stream, body, body_len);
		}
		return 1;
	}
	if (strcmp(area, "streams") == 0 && sg.n >= 5 && strcmp(sg.s[3], "stream") == 0) {
		const char *group = sg.s[4];
		if (!mgr_group_find(m, group)) {
			char msg[400];
			snprintf(msg, sizeof(msg), "no node group named %s", group);
			sm2_error(c, 404, msg);
		} else if (sg.n == 5) {
			stream_list(m, c, group);
		} else if (sg.n >= 7 && (strcmp(sg.s[5], "publish") == 0 ||
		                         strcmp(sg.s[5], "subscribe") == 0) &&
		           guid_split(&sg, 6, app, sizeof(app), stream, sizeof(stream)) == 0) {
			route_call(m, c, req, group, strcmp(sg.s[5], "publish") == 0 ? ROUTE_BROADCAST
			           : ROUTE_SUBSCRIBE, app, stream, NULL);
		} else {
			sm2_error(c, 404, "expected /as/v1/streams/stream/{group}/publish|subscribe/"
			          "{streamGuid}");
		}
		return 1;
	}
	if (strcmp(area, "proxy") == 0 && sg.n >= 5 && (strcmp(sg.s[3], "whip") == 0 ||
	                                               strcmp(sg.s[3], "whep") == 0)) {
		char group[MGR_NAME_MAX + 1] = "";
		if (req->query)
			http_query_get(req->query, req->query_len, "nodeGroup", group, sizeof(group));
		if (guid_split(&sg, 4, app, sizeof(app), stream, sizeof(stream)) < 0) {
			sm2_error(c, 400, "streamGuid: required");
			return 1;
		}
		int whip = strcmp(sg.s[3], "whip") == 0;
		route_call(m, c, req, group[0] ? group : NULL, whip ? ROUTE_BROADCAST : ROUTE_SUBSCRIBE,
		           app, stream, whip ? "whip" : "whep");
		return 1;
	}
	return 0;
}
