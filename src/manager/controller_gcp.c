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
 * sluice-role; list filters on sluice-cluster and follows nextPageToken
 * (up to CLOUD_LIST_PAGES_MAX pages).  Retries, back-off and the calls
 * waiting for a token are cloud_op.c's.  An insert's requestId is a
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
#include "core/log.h"
#include "core/mem.h"
#include "manager/aws_sigv4.h"
#include "manager/cloud_json.h"
#include "manager/cloud_op.h"
#include "manager/gcp_jwt.h"
#include "manager/http_client.h"

#define GCP_TOKEN_EARLY_S 300       /* refreshed this long before it expires */
#define GCP_LIST_MAX 500            /* instances one list answer (one page) is read for */
#define GCP_PAGE_TOKEN_MAX 1024     /* a nextPageToken longer than this is refused */
#define GCP_TOKEN_TIMEOUT_MS 10000  /* the token exchange */
#define GCP_METADATA_TIMEOUT_MS 5000 /* the metadata server's token */
#define GCP_TOKEN_MAX_ANSWER 65536
#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080


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
	struct cloud_ops calls;
};

static void op_send(struct cloud_op *op);

/* ---- access token ---- */

static void token_answer(void *arg, int rc, long status, const char *body, size_t len,
                         const char *err)
{
	struct gcp_controller *gc = arg;
	char msg[500], reason[64];
	if (rc < 0 || status != 200) {
		if (rc < 0)
			snprintf(msg, sizeof(msg), "%s", err);
		else
			gcp_parse_error(body, len, msg, sizeof(msg), reason, sizeof(reason));
		char e[600];
		snprintf(e, sizeof(e), "no access token (%s): %s", gc->use_metadata ?
		         "metadata server" : "service-account token exchange", msg);
		cloud_ops_creds_done(&gc->calls, e);
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
		cloud_ops_creds_done(&gc->calls, "no access token: the answer is not "
		                     "{access_token, expires_in}");
		return;
	}
	snprintf(gc->access_token, sizeof(gc->access_token), "%s", tok);
	gc->token_expires_ms = clock_wall_ms() + (uint64_t)expires * 1000;
	json_decref(o);
	log_info("gcp_token", "source=%s expires_in=%llds", gc->use_metadata ? "metadata" :
	         gc->key.client_email, (long long)expires);
	cloud_ops_creds_done(&gc->calls, NULL);
}

static void token_fetch(struct gcp_controller *gc)
{
	char url[600], err[256];
	if (gc->use_metadata) {
		snprintf(url, sizeof(url), "%s/computeMetadata/v1/instance/service-accounts/default/"
		         "token", gc->cfg.metadata_url);
		const char *headers[] = { "Metadata-Flavor: Google", NULL };
		struct http_client_req r = { .method = "GET", .url = url, .headers = headers,
		                             .timeout_ms = GCP_METADATA_TIMEOUT_MS,
		                             .max_response = GCP_TOKEN_MAX_ANSWER };
		if (http_client_send(gc->http, &r, token_answer, gc) < 0)
			cloud_ops_creds_done(&gc->calls, "no access token: cannot ask the metadata "
			                     "server");
		return;
	}
	char *jwt = gcp_jwt_assertion(&gc->key, GCP_SCOPE_COMPUTE, clock_wall_ms() / 1000, err,
	                              sizeof(err));
	if (!jwt) {
		char e[400];
		snprintf(e, sizeof(e), "no access token: %s", err);
		cloud_ops_creds_done(&gc->calls, e);
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
		cloud_ops_creds_done(&gc->calls, "no access token: cannot start the token exchange");
	}
}

/* ---- calls ---- */

/* A label value: lower-case letters, digits, '-' and '_', at most 63. */
static void label_value(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (; *s && o + 1 < n && o < 63; s++)
		out[o++] = (isalnum((unsigned char)*s) || *s == '_' || *s == '-') ?
		           (char)tolower((unsigned char)*s) : '-';
	out[o] = '\0';
}

/* The list's URL: the filter on our cluster label, and the page after page_token. */
static void list_url(struct gcp_controller *gc, const char *page_token, char *out, size_t n)
{
	char lc[64], filter[200], enc[400], tq[GCP_PAGE_TOKEN_MAX * 3 + 16] = "";
	label_value(gc->cfg.cluster_label, lc, sizeof(lc));
	snprintf(filter, sizeof(filter), "labels.sluice-cluster = \"%s\"", lc);
	sigv4_uri_encode(filter, strlen(filter), 0, enc, sizeof(enc));
	if (page_token && *page_token) {
		char te[GCP_PAGE_TOKEN_MAX * 3 + 1];
		sigv4_uri_encode(page_token, strlen(page_token), 0, te, sizeof(te));
		snprintf(tq, sizeof(tq), "&pageToken=%s", te);
	}
	snprintf(out, n, "%s/instances?filter=%s&maxResults=%d%s", gc->base_url, enc, GCP_LIST_MAX,
	         tq);
}

static void list_next(struct cloud_op *op, const char *token)
{
	list_url((struct gcp_controller *)op->set->c, token, op->url, sizeof(op->url));
}

static void list_page(struct cloud_op *op, const char *body, size_t len)
{
	struct ctl_instance *v;
	char next[GCP_PAGE_TOKEN_MAX];
	int n = gcp_parse_instance_list(body, len, GCP_LIST_MAX, &v, next, sizeof(next));
	cloud_op_page(op, n, v, next, "an InstanceList", list_next);
}

static void op_answer(void *arg, int rc, long status, const char *body, size_t len,
                      const char *err)
{
	struct cloud_op *op = arg;
	struct gcp_controller *gc = (struct gcp_controller *)op->set->c;
	if (rc == 0 && (status == 200 || (status == 404 && op->kind == CLOUD_TERMINATE))) {
		if (op->kind == CLOUD_LAUNCH) {
			struct node_place p;
			memset(&p, 0, sizeof(p));
			log_info("gcp_inserted", "node=%s tries=%u", op->id, op->attempt + 1);
			cloud_op_launched(op, &p);
		} else if (op->kind == CLOUD_LIST) {
			list_page(op, body, len);
		} else {
			log_info("gcp_deleted", "node=%s", op->id);
			cloud_op_done(op);
		}
		return;
	}
	char why[600], msg[500], reason[64] = "";
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", err);
	} else {
		gcp_parse_error(body, len, msg, sizeof(msg), reason, sizeof(reason));
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
	if (again && cloud_op_retry(op, why))
		return;
	cloud_op_fail(op, why);
}

static void op_send(struct cloud_op *op)
{
	struct gcp_controller *gc = (struct gcp_controller *)op->set->c;
	if (!gc->access_token[0] || clock_wall_ms() + GCP_TOKEN_EARLY_S * 1000 > gc->token_expires_ms) {
		if (cloud_op_wait(op))
			token_fetch(gc);
		return;
	}
	char auth[4200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", gc->access_token);
	const char *headers[] = { auth, op->body ? "Content-Type: application/json" : NULL, NULL };
	struct http_client_req r = {
		.method = op->kind == CLOUD_LAUNCH ? "POST" : op->kind == CLOUD_TERMINATE ? "DELETE" :
		          "GET",
		.url = op->url, .headers = headers, .body = op->body,
		.body_len = op->body ? strlen(op->body) : 0, .timeout_ms = (long)gc->cfg.timeout_ms,
	};
	if (http_client_send(gc->http, &r, op_answer, op) < 0)
		cloud_op_fail(op, "cannot start the HTTP request");
}

static const struct cloud_api gcp_api = {
	.what = "Compute Engine",
	.log_failed = "gcp_call_failed",
	.log_abandoned = "gcp_call_abandoned",
	.kind_names = { "instances.insert", "instances.delete", "instances.list" },
	.send = op_send,
};

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
	struct cloud_op *op = cloud_op_new(&gc->calls, CLOUD_LAUNCH, spec->id);
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
	cloud_op_start(op);
	return 0;
}

static int gcp_terminate(struct controller *c, const char *id, const struct node_place *p,
                         int force)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	(void)force;
	if (!p->instance[0])
		return SL_ENOTFOUND;
	struct cloud_op *op = cloud_op_new(&gc->calls, CLOUD_TERMINATE, id);
	snprintf(op->url, sizeof(op->url), "%s/instances/%s", gc->base_url, p->instance);
	ctl_seen_forget(c, id);
	cloud_op_start(op);
	return 0;
}

static int gcp_list(struct controller *c, char *err, size_t err_size)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	(void)err;
	(void)err_size;
	struct cloud_op *op = cloud_op_new(&gc->calls, CLOUD_LIST, NULL);
	list_url(gc, NULL, op->url, sizeof(op->url));
	ctl_seen_list_started(c);
	cloud_op_start(op);
	return 0;
}

static void gcp_close(struct controller *c)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	cloud_ops_close(&gc->calls);
	http_client_free(gc->http);
	gcp_sa_key_free(&gc->key);
	explicit_bzero(gc->access_token, sizeof(gc->access_token));
	ctl_seen_free(c);
	free(gc);
}

static int gcp_busy(struct controller *c)
{
	struct gcp_controller *gc = (struct gcp_controller *)c;
	return cloud_ops_busy(&gc->calls);
}

static const struct controller_ops gcp_ops = {
	.name = "gcp",
	.check_properties = controller_gcp_check,
	.launch = gcp_launch,
	.terminate = gcp_terminate,
	.running = ctl_list_running,
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
	cloud_ops_init(&gc->calls, &gc->base, loop, &gcp_api, cfg->retries);
	ctl_seen_init(&gc->base);
	log_info("gcp_controller", "project=%s zone=%s credentials=%s cluster_label=%s", project,
	         cfg->zone, gc->use_metadata ? "metadata server" : gc->key.client_email,
	         cfg->cluster_label);
	return &gc->base;
}
