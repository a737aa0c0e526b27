/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_k8s.c - the `kubernetes` controller: each node is a Pod,
 * created, deleted and listed through the Kubernetes API (core/v1) with a
 * bearer token (the in-cluster service account's by default), over libcurl
 * on the manager's loop.
 *
 * Why bare Pods and not a StatefulSet per group and role: the manager
 * already decides which node goes (the least loaded, after draining it),
 * and a StatefulSet scales in by removing the highest ordinal, whatever its
 * viewers; a Pod per node keeps that choice ours.  restartPolicy Never: a
 * node that dies is dead for the manager, which replaces it (a restarted
 * container would come back as a stranger with the same name).
 *
 * Pods carry the labels sluice/cluster (k8s-cluster-label), sluice/node,
 * sluice/group and sluice/role; list selects on sluice/cluster, a page of
 * K8S_LIST_MAX at a time, following metadata.continue.  The
 * cluster secret reaches a node from a Secret (k8s-secret) through
 * secretKeyRef: it is never in the pod spec.  The container writes its
 * config from its environment (POD_IP from the downward API as its public
 * host) and runs `sluice node`.  Retries and back-off are cloud_op.c's.
 */
#include "manager/controller.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/aws_sigv4.h"   /* sigv4_uri_encode: RFC 3986 percent-encoding */
#include "manager/cloud_json.h"
#include "manager/cloud_op.h"
#include "manager/http_client.h"

#define K8S_TOKEN_REREAD_MS 60000   /* the token file is read again after this */
#define K8S_TOKEN_MAX 8192
#define K8S_LIST_MAX 500            /* pods one list page is asked for (limit) and read for */
#define K8S_CONTINUE_MAX 1024       /* a longer continue token is refused */
#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080


struct k8s_controller {
	struct controller base;
	uv_loop_t *loop;
	struct k8s_controller_config cfg;
	char api[300], ns[80], ca[300];   /* owned copies (the caller's may be on its stack) */
	struct http_client *http;
	char token[K8S_TOKEN_MAX];
	uint64_t token_read_ms;
	struct cloud_ops calls;
};

static void op_send(struct cloud_op *op);

/* The token, read again every K8S_TOKEN_REREAD_MS (a small local file). */
static int token_load(struct k8s_controller *kc, char *err, size_t err_size)
{
	uint64_t now = clock_wall_ms();
	if (kc->token[0] && now < kc->token_read_ms + K8S_TOKEN_REREAD_MS)
		return 0;
	FILE *f = fopen(kc->cfg.token_file, "r");
	if (!f) {
		snprintf(err, err_size, "cannot read the token file %s: %s", kc->cfg.token_file,
		         strerror(errno));
		return SL_EIO;
	}
	size_t n = fread(kc->token, 1, sizeof(kc->token) - 1, f);
	fclose(f);
	while (n && (kc->token[n - 1] == '\n' || kc->token[n - 1] == '\r' || kc->token[n - 1] == ' '))
		n--;
	kc->token[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)kc->token[i] <= ' ' || kc->token[i] == 0x7f) {
			kc->token[0] = '\0';
			snprintf(err, err_size, "the token file %s holds more than one token",
			         kc->cfg.token_file);
			return SL_EINVAL;
		}
	if (!n) {
		snprintf(err, err_size, "the token file %s is empty", kc->cfg.token_file);
		return SL_EINVAL;
	}
	kc->token_read_ms = now;
	return 0;
}

/* The list's URL: our cluster's pods, from the page after continue_token. */
static void list_url(struct k8s_controller *kc, const char *continue_token, char *out, size_t n)
{
	char tq[K8S_CONTINUE_MAX * 3 + 16] = "";
	if (continue_token && *continue_token) {
		char te[K8S_CONTINUE_MAX * 3 + 1];
		sigv4_uri_encode(continue_token, strlen(continue_token), 0, te, sizeof(te));
		snprintf(tq, sizeof(tq), "&continue=%s", te);
	}
	snprintf(out, n, "%s/api/v1/namespaces/%s/pods?labelSelector=sluice%%2Fcluster%%3D%s"
	         "&limit=%d%s", kc->cfg.api, kc->cfg.namespace_, kc->cfg.cluster_label, K8S_LIST_MAX,
	         tq);
}

static void list_next(struct cloud_op *op, const char *token)
{
	list_url((struct k8s_controller *)op->set->c, token, op->url, sizeof(op->url));
}

static void list_page(struct cloud_op *op, const char *body, size_t len)
{
	struct ctl_instance *v;
	char next[K8S_CONTINUE_MAX];
	int n = k8s_parse_pod_list(body, len, K8S_LIST_MAX, &v, next, sizeof(next));
	cloud_op_page(op, n, v, next, "a PodList", list_next);
}

static void op_answer(void *arg, int rc, long status, const char *body, size_t len,
                      const char *err)
{
	struct cloud_op *op = arg;
	/* A create retried after a lost answer finds its pod made: that is success. */
	if (rc == 0 && (status == 200 || status == 201 || status == 202 ||
	                (status == 409 && op->kind == CLOUD_LAUNCH && op->attempt > 0) ||
	                (status == 404 && op->kind == CLOUD_TERMINATE))) {
		if (op->kind == CLOUD_LAUNCH) {
			struct node_place p;
			memset(&p, 0, sizeof(p));
			/* The pod's IP comes once it is scheduled: the node says it when it registers. */
			k8s_parse_pod_ip(body, len, p.host, sizeof(p.host));
			log_info("k8s_pod_created", "node=%s tries=%u", op->id, op->attempt + 1);
			cloud_op_launched(op, &p);
		} else if (op->kind == CLOUD_LIST) {
			list_page(op, body, len);
		} else {
			log_info("k8s_pod_deleted", "node=%s", op->id);
			cloud_op_done(op);
		}
		return;
	}
	char why[512];
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", err);
	} else {
		char m[400];
		k8s_parse_status(body, len, m, sizeof(m));
		snprintf(why, sizeof(why), "HTTP %ld: %s", status, m);
	}
	if ((rc < 0 || status == 429 || status >= 500) && cloud_op_retry(op, why))
		return;
	cloud_op_fail(op, why);
}

static void op_send(struct cloud_op *op)
{
	struct k8s_controller *kc = (struct k8s_controller *)op->set->c;
	char err[400];
	if (token_load(kc, err, sizeof(err)) < 0) {
		cloud_op_fail(op, err);
		return;
	}
	char auth[K8S_TOKEN_MAX + 32];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", kc->token);
	const char *headers[] = { auth, "Accept: application/json",
	                          op->body ? "Content-Type: application/json" : NULL, NULL };
	struct http_client_req r = {
		.method = op->kind == CLOUD_LAUNCH ? "POST" : op->kind == CLOUD_TERMINATE ? "DELETE" :
		          "GET",
		.url = op->url, .headers = headers, .body = op->body,
		.body_len = op->body ? strlen(op->body) : 0, .timeout_ms = (long)kc->cfg.timeout_ms,
		.ca_file = kc->cfg.ca_file,
	};
	if (http_client_send(kc->http, &r, op_answer, op) < 0)
		cloud_op_fail(op, "cannot start the HTTP request");
}

static const struct cloud_api k8s_api = {
	.what = "kubernetes",
	.log_failed = "k8s_call_failed",
	.log_abandoned = "k8s_call_abandoned",
	.kind_names = { "create pod", "delete pod", "list pods" },
	.send = op_send,
};

/* ---- the controller ---- */

static const char *const k8s_props[] = { "image", "cpu", "memory", "imagePullPolicy",
	"serviceAccountName", "rtmpPort", "httpPort", NULL };

int controller_k8s_check(const json_t *props, char *err, size_t err_size)
{
	const char *s;
	long long v;
	if (ctl_prop_only(props, k8s_props, err, err_size) < 0 ||
	    ctl_prop_int(props, "rtmpPort", 1, 65535, 1, &v, err, err_size) < 0 ||
	    ctl_prop_int(props, "httpPort", 1, 65535, 1, &v, err, err_size) < 0)
		return SL_EINVAL;
	for (size_t i = 0; i < 5; i++)
		if (ctl_prop_str(props, k8s_props[i], 255, NULL, &s, err, err_size) < 0)
			return SL_EINVAL;
	ctl_prop_str(props, "imagePullPolicy", 255, NULL, &s, err, err_size);
	if (s && strcmp(s, "Always") != 0 && strcmp(s, "IfNotPresent") != 0 &&
	    strcmp(s, "Never") != 0) {
		snprintf(err, err_size, "properties.imagePullPolicy: Always, IfNotPresent or Never");
		return SL_EINVAL;
	}
	return 0;
}

/* The container's command: writes the node's config from its environment, runs it. */
static char *node_script(const struct node_spec *spec, const char *manager_url, int rtmp_port,
                         int http_port)
{
	char *s = xmalloc(4096);
	snprintf(s, 4096,
	         "set -eu\n"
	         "umask 077\n"
	         "conf=${SLUICE_NODE_CONF:-/tmp/sluice-node.conf}\n"
	         "esc=$(printf '%%s' \"$SLUICE_CLUSTER_SECRET\" | sed 's/[\\\\\"]/\\\\&/g')\n"
	         "cat > \"$conf\" <<SLUICE_NODE_CONF_END\n"
	         "name = %s\nrole = %s\ngroup = %s\nmanager = %s\nbind = ${SLUICE_BIND:-0.0.0.0}\n"
	         "public-host = $POD_IP\nrtmp-port = %d\nhttp-port = %d\n%s%s%s"
	         "cluster-secret = \"$esc\"\n"
	         "SLUICE_NODE_CONF_END\n"
	         "exec \"${SLUICE_BIN:-sluice}\" node --config \"$conf\" --name %s\n",
	         spec->id, spec->role, spec->group, manager_url, rtmp_port, http_port,
	         spec->origins && *spec->origins ? "origins = " : "",
	         spec->origins && *spec->origins ? spec->origins : "",
	         spec->origins && *spec->origins ? "\n" : "", spec->id);
	return s;
}

static int k8s_launch(struct controller *c, const struct node_spec *spec,
                      struct node_place *now, char *err, size_t err_size)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	(void)now;
	const json_t *p = spec->properties;
	const char *image = NULL, *cpu = NULL, *mem = NULL, *pull = NULL, *sa = NULL;
	long long rport, hport;
	if (controller_k8s_check(p, err, err_size) < 0 ||
	    ctl_prop_int(p, "rtmpPort", 1, 65535, DEFAULT_RTMP_PORT, &rport, err, err_size) < 0 ||
	    ctl_prop_int(p, "httpPort", 1, 65535, DEFAULT_HTTP_PORT, &hport, err, err_size) < 0)
		return SL_EINVAL;
	ctl_prop_str(p, "image", 255, spec->image, &image, err, err_size);
	ctl_prop_str(p, "cpu", 255, NULL, &cpu, err, err_size);
	ctl_prop_str(p, "memory", 255, NULL, &mem, err, err_size);
	ctl_prop_str(p, "imagePullPolicy", 255, NULL, &pull, err, err_size);
	ctl_prop_str(p, "serviceAccountName", 255, NULL, &sa, err, err_size);
	if (!image) {
		snprintf(err, err_size, "properties.image (or the launch configuration's image): the "
		         "container image of sluice");
		return SL_EINVAL;
	}
	char *script = node_script(spec, kc->cfg.manager_url, (int)rport, (int)hport);
	json_t *labels = json_pack("{s:s, s:s, s:s, s:s, s:s}", "app.kubernetes.io/name",
	                           "sluice-node", "sluice/cluster", kc->cfg.cluster_label,
	                           "sluice/node", spec->id, "sluice/group", spec->group,
	                           "sluice/role", spec->role);
	json_t *env = json_pack("[{s:s, s:{s:{s:s}}}, {s:s, s:{s:{s:s, s:s}}}]",
	                        "name", "POD_IP", "valueFrom", "fieldRef", "fieldPath", "status.podIP",
	                        "name", "SLUICE_CLUSTER_SECRET", "valueFrom", "secretKeyRef",
	                        "name", kc->cfg.secret_name, "key", "cluster-secret");
	json_t *container = json_pack("{s:s, s:s, s:[s, s, s], s:o, s:[{s:s, s:i}, {s:s, s:i}]}",
	                              "name", "node", "image", image, "command", "/bin/sh", "-c",
	                              script, "env", env, "ports", "name", "rtmp",
	                              "containerPort", (int)rport, "name", "http", "containerPort",
	                              (int)hport);
	free(script);
	if (pull)
		json_object_set_new(container, "imagePullPolicy", json_string(pull));
	if (cpu || mem) {
		json_t *req = json_object();
		if (cpu)
			json_object_set_new(req, "cpu", json_string(cpu));
		if (mem)
			json_object_set_new(req, "memory", json_string(mem));
		/* Requests = limits: a node's capacity is only what it is sure to get. */
		json_object_set_new(container, "resources", json_pack("{s:O, s:o}", "requests", req,
		                                                      "limits", req));
	}
	json_t *podspec = json_pack("{s:s, s:[o], s:i}", "restartPolicy", "Never", "containers",
	                            container, "terminationGracePeriodSeconds", 30);
	if (sa)
		json_object_set_new(podspec, "serviceAccountName", json_string(sa));
	json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:o}, s:o}", "apiVersion", "v1", "kind", "Pod",
	                        "metadata", "name", spec->id, "labels", labels, "spec", podspec);
	struct cloud_op *op = cloud_op_new(&kc->calls, CLOUD_LAUNCH, spec->id);
	op->body = json_dumps(pod, JSON_COMPACT);
	json_decref(pod);
	op->rtmp_port = (int)rport;
	op->http_port = (int)hport;
	snprintf(op->url, sizeof(op->url), "%s/api/v1/namespaces/%s/pods", kc->cfg.api,
	         kc->cfg.namespace_);
	ctl_seen_launching(c, spec->id);
	cloud_op_start(op);
	return 0;
}

static int k8s_terminate(struct controller *c, const char *id, const struct node_place *p,
                         int force)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	if (!p->instance[0])
		return SL_ENOTFOUND;
	struct cloud_op *op = cloud_op_new(&kc->calls, CLOUD_TERMINATE, id);
	/* Graceful: the node gets SIGTERM and terminationGracePeriodSeconds; force: at once. */
	snprintf(op->url, sizeof(op->url), "%s/api/v1/namespaces/%s/pods/%s%s", kc->cfg.api,
	         kc->cfg.namespace_, p->instance, force ? "?gracePeriodSeconds=0" : "");
	ctl_seen_forget(c, id);
	cloud_op_start(op);
	return 0;
}

static int k8s_list(struct controller *c, char *err, size_t err_size)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	(void)err;
	(void)err_size;
	struct cloud_op *op = cloud_op_new(&kc->calls, CLOUD_LIST, NULL);
	list_url(kc, NULL, op->url, sizeof(op->url));
	ctl_seen_list_started(c);
	cloud_op_start(op);
	return 0;
}

static void k8s_close(struct controller *c)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	cloud_ops_close(&kc->calls);
	http_client_free(kc->http);
	explicit_bzero(kc->token, sizeof(kc->token));
	ctl_seen_free(c);
	free(kc);
}

static int k8s_busy(struct controller *c)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	return cloud_ops_busy(&kc->calls);
}

static const struct controller_ops k8s_ops = {
	.name = "kubernetes",
	.check_properties = controller_k8s_check,
	.launch = k8s_launch,
	.terminate = k8s_terminate,
	.running = ctl_list_running,
	.list = k8s_list,
	.busy = k8s_busy,
	.close = k8s_close,
};

/* DNS-1123 label: what a namespace and a label value we put in a URL must be. */
static int dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return s[0] != '-' && s[n - 1] != '-';
}

struct controller *controller_k8s_new(uv_loop_t *loop, const struct k8s_controller_config *cfg,
                                      char *err, size_t err_size)
{
	if (strncmp(cfg->api, "https://", 8) != 0 && strncmp(cfg->api, "http://", 7) != 0) {
		snprintf(err, err_size, "k8s-api: expected https://HOST:PORT, got '%s'", cfg->api);
		return NULL;
	}
	if (!dns_label(cfg->namespace_) || !dns_label(cfg->cluster_label)) {
		snprintf(err, err_size, "k8s-namespace and k8s-cluster-label: lower-case letters, "
		         "digits and '-', at most 63");
		return NULL;
	}
	struct k8s_controller *kc = xcalloc(1, sizeof(*kc));
	kc->base.ops = &k8s_ops;
	kc->loop = loop;
	kc->cfg = *cfg;
	snprintf(kc->api, sizeof(kc->api), "%s", cfg->api);
	snprintf(kc->ns, sizeof(kc->ns), "%s", cfg->namespace_);
	snprintf(kc->ca, sizeof(kc->ca), "%s", cfg->ca_file ? cfg->ca_file : "");
	kc->cfg.api = kc->api;
	kc->cfg.namespace_ = kc->ns;
	kc->cfg.ca_file = kc->ca[0] ? kc->ca : NULL;
	if (token_load(kc, err, err_size) < 0) {
		free(kc);
		return NULL;
	}
	kc->http = http_client_new(loop);
	if (!kc->http) {
		snprintf(err, err_size, "cannot start libcurl");
		free(kc);
		return NULL;
	}
	cloud_ops_init(&kc->calls, &kc->base, loop, &k8s_api, cfg->retries);
	ctl_seen_init(&kc->base);
	log_info("k8s_controller", "api=%s namespace=%s cluster_label=%s secret=%s", cfg->api,
	         cfg->namespace_, cfg->cluster_label, cfg->secret_name);
	return &kc->base;
}
