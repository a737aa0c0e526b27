/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_gcp.c - the `gcp` controller: nodes are Compute Engine
 * instances, made with instances.insert, stopped with instances.delete and
 * listed with instances.list (compute/v1 REST, JSON), over libcurl on the
 * manager's loop.
 *
 * Access tokens: with a service-account key file (gcp-credentials-file or
 * GOOGLE_APPLICATION_CREDENTIALS), a JWT signed RS256 with its key
 * (gcp_jwt.c) is exchanged at its token_uri for an access token (RFC 7523),
 * refreshed 5 minutes before it expires; without one, the metadata server's
 * default service account gives the token.
 *
 * Instances carry the labels sluice-cluster, sluice-node, sluice-group,
 * sluice-role; list filters on sluice-cluster.  An insert's requestId is a
 * UUID made from the node id, so a retry after a lost answer is the same
 * request to Compute Engine (it makes one instance).  The node starts from
 * its startup-script metadata (docs/operations.md, "Controllers").
 *
 * What is not done: the insert's Operation is not followed, so an error
 * Compute Engine reports later (ZONE_RESOURCE_POOL_EXHAUSTED) shows as a
 * node that never registers (dead after launch-timeout, replaced).
 */
#include "manager/controller.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/aws_sigv4.h"
#include "manager/gcp_jwt.h"
#include "manager/http_client.h"

#define GCP_BACKOFF_MS 500
#define GCP_BACKOFF_MAX_MS 20000
#define GCP_TOKEN_EARLY_S 300       /* refreshed this long before it expires */
#define GCP_LIST_MAX 500            /* instances one list answer is read for (one page) */
#define GCP_TOKEN_TIMEOUT_MS 10000  /* the token exchange */
#define GCP_METADATA_TIMEOUT_MS 5000 /* the metadata server's token */
#define GCP_TOKEN_MAX_ANSWER 65536
#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080

enum gcp_kind { G_INSERT, G_DELETE, G_LIST };
static const char *const kind_names[] = { "instances.insert", "instances.delete",
	                                  "instances.list" };

struct gcp_controller {
	struct controller base;
	uv_loop_t *loop;
	struct gcp_controller_config cfg;
	char base_url[700];             /* ENDPOINT/projects/P/zones/Z */
	char token_uri[300];
	struct gcp_sa_key key;
	int use_metadata;
	struct http_client *http;
	char access_token[4096];
	uint64_t token_expires_ms;
	int token_busy;
	struct list_node ops, waiting;
};

struct gcp_op {
	struct list_node link;
	struct gcp_controller *gc;
	enum gcp_kind kind;
	char id[80];
	char url[2048];
	char *body;
	unsigned attempt;
	int rtmp_port, http_port;
	uv_timer_t timer;
	int timer_used;
};

static void op_send(struct gcp_op *op);

static void op_timer_closed(uv_handle_t *h)
{
	struct gcp_op *op = h->data;
	free(op->body);
	free(op);
}

static void op_free(struct gcp_op *op)
{
	list_del(&op->link);
	if (op->timer_used) {
		uv_close((uv_handle_t *)&op->timer, op_timer_closed);
	} else {
		free(op->body);
		free(op);
	}
}

static void op_fail(struct gcp_op *op, const char *msg)
{
	struct controller *c = &op->gc->base;
	char err[700];
	snprintf(err, sizeof(err), "Compute Engine %s: %s", kind_names[op->kind], msg);
	log_warn("gcp_call_failed", "call=%s node=%s tries=%u error=\"%s\"", kind_names[op->kind],
	         op->id[0] ? op->id : "-", op->attempt + 1, msg);
	if (op->kind == G_INSERT) {
		ctl_seen_launched(c, op->id);
		c->launched(c, op->id, SL_EIO, NULL, err);
	} else if (op->kind == G_LIST) {
		c->listed(c, SL_EIO, NULL, 0, err);
	} else {
		c->event(c, "terminate_failed", op->id, err);
	}
	op_free(op);
}

/* ---- access token ---- */

static void waiters_go(struct gcp_controller *gc, const char *err)
{
	/* Only those waiting now: an op that finds the new credentials already stale goes
	 * back to waiting for the next fetch, and must not be taken again in this loop. */
	struct list_node now;
	list_init(&now);
	while (!list_empty(&gc->waiting)) {
		struct list_node *it = gc->waiting.next;
		list_del(it);
		list_add_tail(&now, it);
	}
	while (!list_empty(&now)) {
		struct gcp_op *op = list_entry(now.next, struct gcp_op, link);
		list_del(&op->link);
		list_add_tail(&gc->ops, &op->link);
		if (err)
			op_fail(op, err);
		else
			op_send(op);
	}
}

/* {"error": {"code", "message", "errors": [{"reason"}]}} or {"error": "x",
 * "error_description": "y"} (the token endpoint): a safe one-line message. */
static void error_message(const char *body, size_t len, char *out, size_t n, char *reason,
                          size_t rn)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *e = o ? json_object_get(o, "error") : NULL;
	const char *msg = NULL, *rsn = NULL;
	if (json_is_object(e)) {
		msg = json_string_value(json_object_get(e, "message"));
		rsn = json_string_value(json_object_get(json_array_get(json_object_get(e, "errors"), 0),
		                                        "reason"));
		if (!rsn)
			rsn = json_string_value(json_object_get(e, "status"));
	} else if (json_is_string(e)) {
		rsn = json_string_value(e);
		msg = json_string_value(json_object_get(o, "error_description"));
	}
	snprintf(out, n, "%s%s%s", rsn ? rsn : "", rsn && msg ? ": " : "",
	         msg ? msg : (rsn ? "" : "no message"));
	snprintf(reason, rn, "%s", rsn ? rsn : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = '?';
	json_decref(o);
}

static void token_answer(void *arg, int rc, long status, const char *body, size_t len,
                         const char *err)
{
	struct gcp_controller *gc = arg;
	gc->token_busy = 0;
	char msg[500], reason[64];
	if (rc < 0 || status != 200) {
		if (rc < 0)
			snprintf(msg, sizeof(msg), "%s", err);
		else
			error_message(body, len, msg, sizeof(msg), reason, sizeof(reason));
		char e[600];
		snprintf(e, sizeof(e), "no access token (%s): %s", gc->use_metadata ?
		         "metadata server" : "service-account token exchange", msg);
		waiters_go(gc, e);
		return;
	}
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	const char *tok = NULL;
	json_int_t expires = 0;
	if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:I}", "access_token", &tok, "expires_in",
	                         &expires) < 0 || strlen(tok) >= sizeof(gc->access_token) ||
	    expires <= 0) {
		json_decref(o);
		waiters_go(gc, "no access token: the answer is not {access_token, expires_in}");
		return;
	}
	snprintf(gc->access_token, sizeof(gc->access_token), "%s", tok);
	gc->token_expires_ms = clock_wall_ms() + (uint64_t)expires * 1000;
	json_decref(o);
	log_info("gcp_token", "source=%s expires_in=%llds", gc->use_metadata ? "metadata" :
	         gc->key.client_email, (long long)expires);
	waiters_go(gc, NULL);
}

static void token_fetch(struct gcp_controller *gc)
{
	gc->token_busy = 1;
	char url[600], err[256];
	if (gc->use_metadata) {
		snprintf(url, sizeof(url), "%s/computeMetadata/v1/instance/service-accounts/default/"
		         "token", gc->cfg.metadata_url);
		const char *headers[] = { "Metadata-Flavor: Google", NULL };
		struct http_client_req r = { .method = "GET", .url = url, .headers = headers,
		                             .timeout_ms = GCP_METADATA_TIMEOUT_MS,
		                             .max_response = GCP_TOKEN_MAX_ANSWER };
		if (http_client_send(gc->http, &r, token_answer, gc) < 0) {
			gc->token_busy = 0;
			waiters_go(gc, "no access token: cannot ask the metadata server");
		}
		return;
	}
	char *jwt = gcp_jwt_assertion(&gc->key, GCP_SCOPE_COMPUTE, clock_wall_ms() / 1000, err,
	                              sizeof(err));
	if (!jwt) {
		gc->token_busy = 0;
		char e[400];
		snprintf(e, sizeof(e), "no access token: %s", err);
		waiters_go(gc, e);
		return;
	}
	size_t n = strlen(jwt);
	char *body = xmalloc(n + 128);
	snprintf(body, n + 128, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
	         "&assertion=%s", jwt);
	free(jwt);
	const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct http_client_req r = { .method = "POST", .url = gc->token_uri, .headers = headers,
	                             .body = body, .body_len = strlen(body),
	                             .timeout_ms = GCP_TOKEN_TIMEOUT_MS,
	                             .max_response = GCP_TOKEN_MAX_ANSWER };
	int rc = http_client_send(gc->http, &r, token_answer, gc);
	free(body);
	if (rc < 0) {
		gc->token_busy = 0;
		waiters_go(gc, "no access token: cannot start the token exchange");
	}
}

/* ---- calls ---- */

static void retry_fire(uv_timer_t *t)
{
	op_send(t->data);
}

/* Starts a call on the next loop turn: its answer (even a failure found before anything is
 * sent) never comes inside the launch, terminate or list that asked for it. */
static void op_start(struct gcp_op *op)
{
	op->timer_used = 1;
	uv_timer_init(op->gc->loop, &op->timer);
	op->timer.data = op;
	uv_timer_start(&op->timer, retry_fire, 0, 0);
}

static void list_done(struct gcp_op *op, const char *body, size_t len)
{
	struct controller *c = &op->gc->base;
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *items = o ? json_object_get(o, "items") : NULL;
	if (!o || (items && (!json_is_array(items) || json_array_size(items) > GCP_LIST_MAX))) {
		json_decref(o);
		op_fail(op, "the answer is not an InstanceList");
		return;
	}
	size_t n = json_array_size(items), k = 0;
	struct ctl_instance *v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *st = json_string_value(json_object_get(it, "status"));
		const char *node = json_string_value(json_object_get(json_object_get(it, "labels"),
		                                                     "sluice-node"));
		const char *ip = json_string_value(json_object_get(json_array_get(
			json_object_get(it, "networkInterfaces"), 0), "networkIP"));
		if (!name || !node || !st || (strcmp(st, "PROVISIONING") != 0 &&
		                              strcmp(st, "STAGING") != 0 && strcmp(st, "RUNNING") != 0))
			continue;
		if (strlen(node) >= sizeof(v[k].id) || strlen(name) >= sizeof(v[k].instance) ||
		    (ip && strlen(ip) >= sizeof(v[k].host)))
			continue;
		snprintf(v[k].id, sizeof(v[k].id), "%s", node);
		snprintf(v[k].instance, sizeof(v[k].instance), "%s", name);
		snprintf(v[k].host, sizeof(v[k].host), "%s", ip ? ip : "");
		k++;
	}
	json_decref(o);
	ctl_seen_update(c, v, k);
	c->listed(c, 0, v, k, NULL);
	free(v);
	op_free(op);
}

static void op_answer(void *arg, int rc, long status, const char *body, size_t len,
                      const char *err)
{
	struct gcp_op *op = arg;
	struct gcp_controller *gc = op->gc;
	struct controller *c = &gc->base;
	if (rc == 0 && (status == 200 || (status == 404 && op->kind == G_DELETE))) {
		if (op->kind == G_INSERT) {
			struct node_place p;
			memset(&p, 0, sizeof(p));
			snprintf(p.instance, sizeof(p.instance), "%s", op->id);
			p.rtmp_port = op->rtmp_port;
			p.http_port = op->http_port;
			log_info("gcp_inserted", "node=%s tries=%u", op->id, op->attempt + 1);
			ctl_seen_launched(c, op->id);
			c->launched(c, op->id, 0, &p, NULL);
		} else if (op->kind == G_LIST) {
			list_done(op, body, len);
			return;
		} else {
			log_info("gcp_deleted", "node=%s", op->id);
		}
		op_free(op);
		return;
	}
	char why[600], msg[500], reason[64] = "";
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", err);
	} else {
		error_message(body, len, msg, sizeof(msg), reason, sizeof(reason));
		snprintf(why, sizeof(why), "HTTP %ld: %s", status, msg);
	}
	/* An expired token: fetch another, once. */
	if (rc == 0 && status == 401 && op->attempt == 0) {
		gc->token_expires_ms = 0;
		op->attempt++;
		op_send(op);
		return;
	}
	int again = rc < 0 || status == 429 || status >= 500 ||
	            strcmp(reason, "rateLimitExceeded") == 0 ||
	            strcmp(reason, "userRateLimitExceeded") == 0;
	if (again && op->attempt < gc->cfg.retries) {
		uint64_t wait = (uint64_t)GCP_BACKOFF_MS << op->attempt;
		if (wait > GCP_BACKOFF_MAX_MS)
			wait = GCP_BACKOFF_MAX_MS;
		uint8_t r;
		random_bytes(&r, 1);
		wait += wait * r / 512;
		char m[800];
		snprintf(m, sizeof(m), "Compute Engine %s for %s: %s; try %u of %u in %llu ms",
		         kind_names[op->kind], op->id[0] ? op->id : "-", why, op->attempt + 2,
		         gc->cfg.retries + 1, (unsigned long long)wait);
		c->event(c, "cloud_retry", op->id[0] ? op->id : NULL, m);
		op->attempt++;
		if (!op->timer_used) {
			uv_timer_init(gc->loop, &op->timer);
			op->timer.data = op;
			op->timer_used = 1;
		}
		uv_timer_start(&op->timer, retry_fire, wait, 0);
		return;
	}
	op_fail(op, why);
}

static void op_send(struct gcp_op *op)
{
	struct gcp_controller *gc = op->gc;
	if (!gc->access_token[0] || clock_wall_ms() + GCP_TOKEN_EARLY_S * 1000 > gc->token_expires_ms) {
		list_del(&op->link);
		list_add_tail(&gc->waiting, &op->link);
		if (!gc->token_busy)
			token_fetch(gc);
		return;
	}
	char auth[4200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", gc->access_token);
	const char *headers[] = { auth, op->body ? "Content-Type: application/json" : NULL, NULL };
	struct http_client_req r = {
		.method = op->kind == G_INSERT ? "POST" : op->kind == G_DELETE ? "DELETE" : "GET",
		.url = op->url, .headers = headers, .body = op->body,
		.body_len = op->body ? strlen(op->body) : 0, .timeout_ms = (long)gc->cfg.timeout_ms,
	};
	if (http_client_send(gc->http, &r, op_answer, op) < 0)
		op_fail(op, "cannot start the HTTP request");
}

static struct gcp_op *op_new(struct gcp_controller *gc, enum gcp_kind kind, const char *id)
{
	struct gcp_op *op = xcalloc(1, sizeof(*op));
	op->gc = gc;
	op->kind = kind;
	snprintf(op->id, sizeof(op->id), "%s", id ? id : "");
	list_add_tail(&gc->ops, &op->link);
	return op;
}

/* ---- the controller ---- */

static const char *const gcp_props[] = { "sourceImage", "instanceTemplate", "machineType",
	"network", "subnetwork", "serviceAccountEmail", "rtmpPort", "httpPort", NULL };

int controller_gcp_check(const json_t *props, char *err, size_t err_size)
{
	const char *s;
	long long v;
	if (ctl_prop_only(props, gcp_props, err, err_size) < 0 ||
	    ctl_prop_int(props, "rtmpPort", 1, 65535, 1, &v, err, err_size) < 0 ||
	    ctl_prop_int(props, "httpPort", 1, 65535, 1, &v, err, err_size) < 0)
		return SL_EINVAL;
	for (size_t i = 0; i < 6; i++)
		if (ctl_prop_str(props, gcp_props[i], 255, NULL, &s, err, err_size) < 0)
			return SL_EINVAL;
	const char *img = NULL, *tpl = NULL;
	ctl_prop_str(props, "sourceImage", 255, NULL, &img, err, err_size);
	ctl_prop_str(props, "instanceTemplate", 255, NULL, &tpl, err, err_size);
	if (!img && !tpl) {
		snprintf(err, err_size, "properties: the gcp controller needs sourceImage "
		         "(projects/P/global/images/NAME) or instanceTemplate");
		return SL_EINVAL;
	}
	return 0;
}

/* A label value: lower-case letters, digits, '-' and '_', at most 63. */
static void label_value(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (; *s && o + 1 < n && o < 63; s++)
		out[o++] = (isalnum((unsigned char)*s) || *s == '_' || *s == '-') ?
		           (char)tolower((unsigned char)*s) : '-';
	out[o] = '\0';
}

/* A version-4-shaped UUID from the node id, so a retried insert is the same request. */
static void request_id(const char *id, char out[37])
{
	uint8_t h[32];
	hmac_sha256("sluice-gcp-request-id", 21, id, strlen(id), h);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x40);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	char hex[65];
	hex_encode(h, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static char *startup_script(struct gcp_controller *gc, const struct node_spec *spec, int rp,
                            int hp)
{
	return ctl_boot_script(spec, "gcp", gc->cfg.manager_url, rp, hp,
	                       "curl -sf -H 'Metadata-Flavor: Google' http://metadata.google."
	                       "internal/computeMetadata/v1/instance/network-interfaces/0/ip");
}

static int gcp_launch(struct controller *c, const struct node_spec *spec,
                      struct node_place *now, char *err, size_t err_size)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	(void)now;
	const json_t *p = spec->properties;
	const char *img = NULL, *tpl = NULL, *mt = NULL, *net = NULL, *sub = NULL, *sa = NULL;
	long long rp, hp;
	if (controller_gcp_check(p, err, err_size) < 0 ||
	    ctl_prop_int(p, "rtmpPort", 1, 65535, DEFAULT_RTMP_PORT, &rp, err, err_size) < 0 ||
	    ctl_prop_int(p, "httpPort", 1, 65535, DEFAULT_HTTP_PORT, &hp, err, err_size) < 0)
		return SL_EINVAL;
	ctl_prop_str(p, "sourceImage", 255, NULL, &img, err, err_size);
	ctl_prop_str(p, "instanceTemplate", 255, NULL, &tpl, err, err_size);
	ctl_prop_str(p, "machineType", 255, spec->instance_type, &mt, err, err_size);
	ctl_prop_str(p, "network", 255, "global/networks/default", &net, err, err_size);
	ctl_prop_str(p, "subnetwork", 255, NULL, &sub, err, err_size);
	ctl_prop_str(p, "serviceAccountEmail", 255, NULL, &sa, err, err_size);
	char lg[64], lr[64], lc[64], mtype[320];
	label_value(spec->group, lg, sizeof(lg));
	label_value(spec->role, lr, sizeof(lr));
	label_value(gc->cfg.cluster_label, lc, sizeof(lc));
	char *script = startup_script(gc, spec, (int)rp, (int)hp);
	json_t *inst = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:[{s:s, s:s}]}}",
	                         "name", spec->id, "labels", "sluice-cluster", lc, "sluice-node",
	                         spec->id, "sluice-group", lg, "sluice-role", lr,
	                         "metadata", "items", "key", "startup-script", "value", script);
	explicit_bzero(script, strlen(script));
	free(script);
	if (mt && strcmp(mt, "local") != 0) {
		snprintf(mtype, sizeof(mtype), "zones/%s/machineTypes/%s", gc->cfg.zone, mt);
		json_object_set_new(inst, "machineType", json_string(mtype));
	}
	if (img)
		json_object_set_new(inst, "disks", json_pack("[{s:b, s:b, s:{s:s}}]", "boot", 1,
		                    "autoDelete", 1, "initializeParams", "sourceImage", img));
	if (!tpl) {
		json_t *nic = json_pack("{s:s}", "network", net);
		if (sub)
			json_object_set_new(nic, "subnetwork", json_string(sub));
		json_object_set_new(inst, "networkInterfaces", json_pack("[o]", nic));
	}
	if (sa)
		json_object_set_new(inst, "serviceAccounts", json_pack("[{s:s, s:[s]}]", "email", sa,
		                    "scopes", "https://www.googleapis.com/auth/cloud-platform"));
	struct gcp_op *op = op_new(gc, G_INSERT, spec->id);
	op->body = json_dumps(inst, JSON_COMPACT);
	json_decref(inst);
	op->rtmp_port = (int)rp;
	op->http_port = (int)hp;
	char rid[37];
	request_id(spec->id, rid);
	char tq[480] = "";
	if (tpl) {
		char enc[400];
		sigv4_uri_encode(tpl, strlen(tpl), 0, enc, sizeof(enc));
		snprintf(tq, sizeof(tq), "&sourceInstanceTemplate=%s", enc);
	}
	snprintf(op->url, sizeof(op->url), "%s/instances?requestId=%s%s", gc->base_url, rid, tq);
	ctl_seen_launching(c, spec->id);
	op_start(op);
	return 0;
}

static int gcp_terminate(struct controller *c, const char *id, const struct node_place *p,
                         int force)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	(void)force;
	if (!p->instance[0])
		return SL_ENOTFOUND;
	struct gcp_op *op = op_new(gc, G_DELETE, id);
	snprintf(op->url, sizeof(op->url), "%s/instances/%s", gc->base_url, p->instance);
	ctl_seen_forget(c, id);
	op_start(op);
	return 0;
}

static int gcp_running(struct controller *c, const char *id, const struct node_place *p)
{
	(void)p;
	return ctl_seen_running(c, id);
}

static int gcp_list(struct controller *c, char *err, size_t err_size)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	(void)err;
	(void)err_size;
	char lc[64], filter[200], enc[400];
	label_value(gc->cfg.cluster_label, lc, sizeof(lc));
	snprintf(filter, sizeof(filter), "labels.sluice-cluster = \"%s\"", lc);
	sigv4_uri_encode(filter, strlen(filter), 0, enc, sizeof(enc));
	struct gcp_op *op = op_new(gc, G_LIST, NULL);
	snprintf(op->url, sizeof(op->url), "%s/instances?filter=%s&maxResults=%d", gc->base_url, enc,
	         GCP_LIST_MAX);
	ctl_seen_list_started(c);
	op_start(op);
	return 0;
}

static void gcp_close(struct controller *c)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	while (!list_empty(&gc->waiting))
		op_free(list_entry(gc->waiting.next, struct gcp_op, link));
	while (!list_empty(&gc->ops)) {
		struct gcp_op *op = list_entry(gc->ops.next, struct gcp_op, link);
		log_warn("gcp_call_abandoned", "call=%s node=%s (the manager is stopping)",
		         kind_names[op->kind], op->id[0] ? op->id : "-");
		op_free(op);
	}
	http_client_free(gc->http);
	gcp_sa_key_free(&gc->key);
	explicit_bzero(gc->access_token, sizeof(gc->access_token));
	ctl_seen_free(c);
	free(gc);
}

static int gcp_busy(struct controller *c)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	return !list_empty(&gc->ops) || !list_empty(&gc->waiting);
}

static const struct controller_ops gcp_ops = {
	.name = "gcp",
	.check_properties = controller_gcp_check,
	.launch = gcp_launch,
	.terminate = gcp_terminate,
	.running = gcp_running,
	.list = gcp_list,
	.busy = gcp_busy,
	.close = gcp_close,
};

struct controller *controller_gcp_new(uv_loop_t *loop, const struct gcp_controller_config *cfg,
                                      char *err, size_t err_size)
{
	struct gcp_controller *gc = xcalloc(1, sizeof(*gc));
	gc->base.ops = &gcp_ops;
	gc->loop = loop;
	gc->cfg = *cfg;
	const char *file = cfg->credentials_file && *cfg->credentials_file ? cfg->credentials_file :
	                   getenv("GOOGLE_APPLICATION_CREDENTIALS");
	if (file && *file) {
		FILE *f = fopen(file, "r");
		char *buf = xmalloc(65536);
		size_t n = f ? fread(buf, 1, 65535, f) : 0;
		if (f)
			fclose(f);
		int rc = f ? gcp_sa_key_parse(buf, n, &gc->key, err, err_size) : SL_EIO;
		explicit_bzero(buf, 65536);
		free(buf);
		if (!f)
			snprintf(err, err_size, "gcp-credentials-file %s: %s", file, strerror(errno));
		if (rc < 0) {
			if (f) {
				char e[300];
				snprintf(e, sizeof(e), "%s", err);
				snprintf(err, err_size, "gcp-credentials-file %s: %s", file, e);
			}
			free(gc);
			return NULL;
		}
		snprintf(gc->token_uri, sizeof(gc->token_uri), "%s", cfg->token_uri && *cfg->token_uri ?
		         cfg->token_uri : gc->key.token_uri);
	} else {
		gc->use_metadata = 1;
	}
	const char *project = cfg->project && *cfg->project ? cfg->project : gc->key.project_id;
	if (!project[0]) {
		snprintf(err, err_size, "gcp-project: required (the key file names none)");
		gcp_sa_key_free(&gc->key);
		free(gc);
		return NULL;
	}
	snprintf(gc->base_url, sizeof(gc->base_url), "%s/projects/%s/zones/%s", cfg->endpoint,
	         project, cfg->zone);
	gc->http = http_client_new(loop);
	if (!gc->http) {
		snprintf(err, err_size, "cannot start libcurl");
		gcp_sa_key_free(&gc->key);
		free(gc);
		return NULL;
	}
	list_init(&gc->ops);
	list_init(&gc->waiting);
	ctl_seen_init(&gc->base);
	log_info("gcp_controller", "project=%s zone=%s credentials=%s cluster_label=%s", project,
	         cfg->zone, gc->use_metadata ? "metadata server" : gc->key.client_email,
	         cfg->cluster_label);
	return &gc->base;
}
