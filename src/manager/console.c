/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.c - the manager's web console (see console.h): serves the
 * embedded page and files, logs in and out, guards session-borne API calls
 * against cross-site requests, and samples the charts' history.
 *
 * Paths (all on the API listener):
 *   GET  /                      the page (strict CSP: only its own files)
 *   GET  /console/<file>        its script, style and uPlot
 *   POST /console/login         {"token": ADMIN-TOKEN} -> session cookie + {"csrf": ...}
 *   POST /console/logout        ends the session (CSRF token required)
 *   GET  /console/session       {"csrf": ..., "expiresMs": ...} for a live session, else 401
 *   GET  /console/history       the last hour of viewers, bandwidth and CPU (session or token)
 */
#include "manager/console.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/http_auth.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/ratelimit.h"
#include "manager/console_assets.h"
#include "manager/console_history.h"
#include "manager/console_session.h"
#include "manager/manager.h"

/* Login attempts, all addresses together: a guessing client gets a handful a second. */
#define CONSOLE_LOGIN_PER_SEC 5
#define CONSOLE_LOGIN_BURST 20
/* The login body is {"token": "..."}: anything larger is not a login. */
#define CONSOLE_LOGIN_BODY_MAX 1024

/*
 * The page runs only its own scripts and styles and talks only to this manager; it frames
 * nodes' watch pages (other origins, http or https) on a stream's page and may itself be
 * framed by nobody.
 */
#define CONSOLE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
                    "img-src 'self' data:; connect-src 'self'; frame-src http: https:; " \
                    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

struct console {
	struct manager *m;
	uv_timer_t sampler;
	struct console_sessions sessions;
	struct console_history history;
	struct token_bucket login_bucket;
	struct log_throttle refuse_log;
	uint64_t logins, logins_failed, logins_limited, csrf_refused;
};

static int path_is(const struct http_request *r, const char *p)
{
	return r->path_len == strlen(p) && memcmp(r->path, p, r->path_len) == 0;
}

static int path_has_prefix(const struct http_request *r, const char *p)
{
	size_t n = strlen(p);
	return r->path_len >= n && memcmp(r->path, p, n) == 0;
}

/* ---- history ---- */

static int live(const struct mnode *nd)
{
	return nd->state == NS_ALIVE || nd->state == NS_DRAINING;
}

static void sample(struct console *con)
{
	struct manager *m = con->m;
	struct console_history *h = &con->history;
	console_history_tick(h, clock_wall_ms());
	struct list_node *li;
	size_t it = 0;
	void *v;
	/* A group: its live nodes' viewers and bandwidth summed, their CPU averaged; 0 (not a
	 * gap) while it has none, so its line goes on. */
	while (strmap_next(&m->groups, &it, NULL, &v)) {
		const char *g = ((struct mgroup *)v)->g.name;
		double viewers = 0, bw = 0, cpu = 0;
		unsigned n = 0;
		list_for_each(li, &m->nodes) {
			struct mnode *nd = list_entry(li, struct mnode, link);
			if (!live(nd) || strcmp(nd->group, g) != 0)
				continue;
			viewers += (double)nd->rep.viewers;
			bw += (double)nd->rep.bw_out_bps;
			cpu += nd->rep.cpu_percent;
			n++;
		}
		console_history_put(h, CS_GROUP, g, viewers, bw, n ? cpu / n : 0, 0);
	}
	list_for_each(li, &m->nodes) {
		struct mnode *nd = list_entry(li, struct mnode, link);
		if (!live(nd))
			continue;
		const struct node_report *r = &nd->rep;
		console_history_put(h, CS_NODE, nd->id, (double)r->viewers, (double)r->bw_out_bps,
		                    r->cpu_percent, 0);
		/* A stream's viewers on every node that carries it, summed. */
		for (unsigned i = 0; i < r->nstreams; i++) {
			char key[CONSOLE_SERIES_NAME_MAX + 1];
			snprintf(key, sizeof(key), "%s/%s", r->streams[i].app, r->streams[i].name);
			console_history_put(h, CS_STREAM, key, (double)r->streams[i].viewers, -1, -1, 1);
		}
	}
}

static void sample_cb(uv_timer_t *t)
{
	sample(t->data);
}

struct console *console_new(struct manager *m)
{
	struct console *con = xcalloc(1, sizeof(*con));
	con->m = m;
	console_sessions_init(&con->sessions, (unsigned)m->cfg->console_max_sessions,
	                      m->cfg->console_session_ttl);
	console_history_init(&con->history, m->cfg->console_sample_interval);
	uv_timer_init(m->loop, &con->sampler);
	con->sampler.data = con;
	uv_timer_start(&con->sampler, sample_cb, 0, m->cfg->console_sample_interval);
	return con;
}

static void closed_cb(uv_handle_t *h)
{
	struct console *con = h->data;
	console_sessions_free(&con->sessions);
	console_history_free(&con->history);
	free(con);
}

void console_stop(struct console *con)
{
	if (!con)
		return;
	uv_timer_stop(&con->sampler);
	uv_close((uv_handle_t *)&con->sampler, closed_cb);
}

json_t *console_stats_json(const struct console *con)
{
	if (!con)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	                 "sessions", (json_int_t)con->sessions.count,
	                 "maxSessions", (json_int_t)con->sessions.max,
	                 "sessionsEvicted", (json_int_t)con->sessions.evicted,
	                 "logins", (json_int_t)con->logins,
	                 "loginsFailed", (json_int_t)con->logins_failed,
	                 "loginsRateLimited", (json_int_t)con->logins_limited,
	                 "csrfRefused", (json_int_t)con->csrf_refused,
	                 "historyDropped", (json_int_t)con->history.dropped);
}

void console_protocols_add(json_t *obj, const struct report_stream *rs)
{
	if (!rs->nprotocols)
		return;
	json_t *p = json_object_get(obj, "protocols");
	if (!p) {
		p = json_object();
		json_object_set_new(obj, "protocols", p);
	}
	for (unsigned i = 0; i < rs->nprotocols && i < HEARTBEAT_MAX_PROTOCOLS; i++) {
		const struct report_protocol *rp = &rs->protocols[i];
		json_int_t v = json_integer_value(json_object_get(p, rp->name)) + rp->viewers;
		json_object_set_new(p, rp->name, json_integer(v));
	}
}

/* ---- sessions ---- */

static struct console_session *session_of(struct console *con, const struct http_request *req)
{
	const struct http_header *h = http_find_header(req, "Cookie");
	const char *v;
	int n = h ? console_cookie_get(h->value, h->value_len, CONSOLE_COOKIE, &v) : -1;
	if (n < 0)
		return NULL;
	return console_session_find(&con->sessions, v, (size_t)n, clock_wall_ms());
}

static int mutating(const struct http_request *req)
{
	return req->method != HTTP_GET && req->method != HTTP_HEAD &&
	       req->method != HTTP_OPTIONS;
}

/* Why a session-borne call that changes state must be refused, or NULL. */
static const char *csrf_refusal(const struct console_session *s, const struct http_request *req)
{
	const char *why = http_cross_site_refusal(req);
	if (why)
		return why;
	const struct http_header *t = http_find_header(req, "X-CSRF-Token");
	if (!t || t->value_len != CONSOLE_ID_HEX || !ct_equal(t->value, s->csrf, CONSOLE_ID_HEX))
		return "missing or wrong X-CSRF-Token (a console session's calls that change state "
		       "carry the token /console/session gives)";
	return NULL;
}

int console_authorized(struct console *con, const struct http_request *req)
{
	if (!con)
		return 0;
	struct console_session *s = session_of(con, req);
	if (!s)
		return 0;
	return !mutating(req) || !csrf_refusal(s, req);
}

static void refuse(struct console *con, struct http_conn *c, const struct http_request *req,
                   int status, const char *why)
{
	char raw[96], path[160];
	snprintf(raw, sizeof(raw), "%.*s", (int)(req->path_len < 95 ? req->path_len : 95),
	         req->path);
	log_limited(&con->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "console_refused",
	            "peer=%s status=%d path=%s reason=\"%s\"", http_conn_base(c)->peer, status,
	            log_escape(raw, path, sizeof(path)), why);
	http_respond_error(c, status, why);
}

static void set_cookie(struct http_conn *c, const char *id, uint64_t max_age_s)
{
	char v[256];
	snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%llu",
	         CONSOLE_COOKIE, id, (unsigned long long)max_age_s);
	http_add_header(c, "Set-Cookie", v);
}

static void session_reply(struct http_conn *c, int status, const struct console_session *s)
{
	http_add_header(c, "Cache-Control", "no-store");
	http_respond_json(c, status, json_pack("{s:s, s:I}", "csrf", s->csrf, "expiresMs",
	                                       (json_int_t)s->expires_ms));
}

static void login(struct console *con, struct http_conn *c, const struct http_request *req,
                  const uint8_t *body, size_t len)
{
	const char *why = http_cross_site_refusal(req);
	if (why) {
		con->csrf_refused++;
		refuse(con, c, req, 403, why);
		return;
	}
	if (!token_bucket_take(&con->login_bucket, clock_mono_ms(), CONSOLE_LOGIN_PER_SEC,
	                       CONSOLE_LOGIN_BURST)) {
		con->logins_limited++;
		refuse(con, c, req, 429, "too many login attempts: try again in a second");
		return;
	}
	const char *want = con->m->cfg->admin_token;
	json_t *o = len <= CONSOLE_LOGIN_BODY_MAX ? json_loadb((const char *)body, len, 0, NULL)
	                                          : NULL;
	const char *tok = o ? json_string_value(json_object_get(o, "token")) : NULL;
	int ok = tok && want && *want && strlen(tok) == strlen(want) &&
	         ct_equal(tok, want, strlen(want));
	json_decref(o);
	if (!ok) {
		con->logins_failed++;
		refuse(con, c, req, 401, "wrong admin token");
		return;
	}
	uint64_t now = clock_wall_ms();
	unsigned evicted = (unsigned)con->sessions.evicted;
	struct console_session *s = console_session_new(&con->sessions, now);
	con->logins++;
	log_info("console_login", "peer=%s sessions=%u evicted=%s", http_conn_base(c)->peer,
	         con->sessions.count, con->sessions.evicted != evicted ? "yes" : "no");
	set_cookie(c, s->id, con->sessions.ttl_ms / 1000);
	session_reply(c, 200, s);
}

static void logout(struct console *con, struct http_conn *c, const struct http_request *req)
{
	struct console_session *s = session_of(con, req);
	if (!s) {
		refuse(con, c, req, 401, "no console session");
		return;
	}
	const char *why = csrf_refusal(s, req);
	if (why) {
		con->csrf_refused++;
		refuse(con, c, req, 403, why);
		return;
	}
	console_session_end(&con->sessions, s);
	log_info("console_logout", "peer=%s sessions=%u", http_conn_base(c)->peer,
	         con->sessions.count);
	set_cookie(c, "", 0);
	http_respond(c, 204, NULL, NULL, 0);
}

/* ---- files ---- */

static const struct console_asset *find_asset(const char *url, size_t len)
{
	for (const struct console_asset *a = console_assets; a->url; a++)
		if (strlen(a->url) == len && memcmp(a->url, url, len) == 0)
			return a;
	return NULL;
}

static void send_asset(struct http_conn *c, const struct console_asset *a, const char *cache)
{
	if (!a->present) {
		http_respond_error(c, 503, "the console was not built into this binary: build with "
		                           "`make` (it installs uPlot from npm into web/)");
		return;
	}
	http_add_header(c, "Cache-Control", cache);
	http_add_header(c, "X-Content-Type-Options", "nosniff");
	struct http_body_ref b = { a->data, a->len, NULL };
	http_respond_refs(c, 200, a->content_type, &b, 1);
}

static void serve_page(struct http_conn *c)
{
	http_add_header(c, "Content-Security-Policy", CONSOLE_CSP);
	http_add_header(c, "X-Frame-Options", "DENY");
	http_add_header(c, "Referrer-Policy", "no-referrer");
	send_asset(c, find_asset("page", 4), "no-cache");
}

/* ---- the hook ---- */

int console_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                   const uint8_t *body, size_t body_len)
{
	struct console *con = m->console;
	if (!con)
		return 0;
	int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	if (path_has_prefix(req, "/api/")) {
		/* A bearer token is the API's own way in; a cookie alone must pass the CSRF check. */
		if (!mutating(req) || http_bearer_ok(req, m->cfg->admin_token))
			return 0;
		struct console_session *s = session_of(con, req);
		const char *why = s ? csrf_refusal(s, req) : NULL;
		if (!why)
			return 0;
		con->csrf_refused++;
		refuse(con, c, req, 403, why);
		return 1;
	}
	if (path_is(req, "/") || path_is(req, "/index.html")) {
		if (!get)
			http_respond_error(c, 405, "use GET");
		else
			serve_page(c);
		return 1;
	}
	if (!path_has_prefix(req, "/console/"))
		return 0;
	if (path_is(req, "/console/login")) {
		if (req->method != HTTP_POST)
			http_respond_error(c, 405, "use POST");
		else
			login(con, c, req, body, body_len);
	} else if (path_is(req, "/console/logout")) {
		if (req->method != HTTP_POST)
			http_respond_error(c, 405, "use POST");
		else
			logout(con, c, req);
	} else if (path_is(req, "/console/session")) {
		struct console_session *s = get ? session_of(con, req) : NULL;
		if (!get)
			http_respond_error(c, 405, "use GET");
		else if (!s)
			refuse(con, c, req, 401, "no console session: log in");
		else
			session_reply(c, 200, s);
	} else if (path_is(req, "/console/history")) {
		if (!get)
			http_respond_error(c, 405, "use GET");
		else if (!mgr_authorized(m, req))
			refuse(con, c, req, 401, "no console session or admin token");
		else {
			json_t *o = console_history_json(&con->history);
			json_object_set_new(o, "intervalMs",
			                    json_integer((json_int_t)m->cfg->console_sample_interval));
			http_respond_json(c, 200, o);
		}
	} else {
		const struct console_asset *a = find_asset(req->path, req->path_len);
		if (!a)
			http_respond_error(c, 404, "no such console file");
		else if (!get)
			http_respond_error(c, 405, "use GET");
		else
			send_asset(c, a, "no-cache");
	}
	return 1;
}
