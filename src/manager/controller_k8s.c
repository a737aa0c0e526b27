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
 * sluice/group and sluice/role; list selects on sluice/cluster.  The
 * cluster secret reaches a node from a Secret (k8s-secret) through
 * secretKeyRef: it is never in the pod spec.  The container writes its
 * config from its environment (POD_IP from the downward API as its public
 * host) and runs `sluice node`.
 */
#include "manager/controller.h"

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
#include "manager/http_client.h"

#define K8S_BACKOFF_MS 500
#define K8S_BACKOFF_MAX_MS 20000
#define K8S_TOKEN_REREAD_MS 60000   /* the token file is read again after this */
#define K8S_TOKEN_MAX 8192
#define K8S_LIST_MAX 10000
#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080

enum k8s_kind { K_CREATE, K_DELETE, K_LIST };
static const char *const kind_names[] = { "create pod", "delete pod", "list pods" };

struct k8s_controller {
	struct controller base;
	uv_loop_t *loop;
	struct k8s_controller_config cfg;
	char api[300], ns[80], ca[300];   /* owned copies (the caller's may be on its stack) */
	struct http_client *http;
	char token[K8S_TOKEN_MAX];
	uint64_t token_read_ms;
	struct list_node ops;
};

struct k8s_op {
	struct list_node link;
	struct k8s_controller *kc;
	enum k8s_kind kind;
	char id[80];
	char url[768];
	char *body;                    /* JSON, or NULL */
	unsigned attempt;
	int rtmp_port, http_port;
	uv_timer_t timer;
	int timer_used;
};

static void op_send(struct k8s_op *op);

static void op_timer_closed(uv_handle_t *h)
{
	struct k8s_op *op = h->data;
	free(op->body);
	free(op);
}

static void op_free(struct k8s_op *op)
{
	list_del(&op->link);
	if (op->timer_used) {
		uv_close((uv_handle_t *)&op->timer, op_timer_closed);
	} else {
		free(op->body);
		free(op);
	}
}

static void op_fail(struct k8s_op *op, const char *msg)
{
	struct controller *c = &op->kc->base;
	char err[700];
	snprintf(err, sizeof(err), "kubernetes %s: %s", kind_names[op->kind], msg);
	log_warn("k8s_call_failed", "call=%s node=%s tries=%u error=\"%s\"", kind_names[op->kind],
	         op->id[0] ? op->id : "-", op->attempt + 1, msg);
	if (op->kind == K_CREATE) {
		ctl_seen_launched(c, op->id);
		c->launched(c, op->id, SL_EIO, NULL, err);
	} else if (op->kind == K_LIST) {
		c->listed(c, SL_EIO, NULL, 0, err);
	} else {
		c->event(c, "terminate_failed", op->id, err);
	}
	op_free(op);
}

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

static void retry_fire(uv_timer_t *t)
{
	op_send(t->data);
}

/* Starts a call on the next loop turn: its answer (even a failure found before anything is
 * sent) never comes inside the launch, terminate or list that asked for it. */
static void op_start(struct k8s_op *op)
{
	op->timer_used = 1;
	uv_timer_init(op->kc->loop, &op->timer);
	op->timer.data = op;
	uv_timer_start(&op->timer, retry_fire, 0, 0);
}

/* A Status object's message, made safe for a log line. */
static void status_message(const char *body, size_t len, char *out, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	const char *msg = o ? json_string_value(json_object_get(o, "message")) : NULL;
	const char *reason = o ? json_string_value(json_object_get(o, "reason")) : NULL;
	snprintf(out, n, "%s%s%s", reason ? reason : "", reason && msg ? ": " : "",
	         msg ? msg : (reason ? "" : "no message"));
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = '?';
	json_decref(o);
}

static void list_done(struct k8s_op *op, const char *body, size_t len)
{
	struct controller *c = &op->kc->base;
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *items = o ? json_object_get(o, "items") : NULL;
	if (!json_is_array(items) || json_array_size(items) > K8S_LIST_MAX) {
		json_decref(o);
		op_fail(op, "the answer is not a PodList");
		return;
	}
	size_t n = json_array_size(items), k = 0;
	struct ctl_instance *v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		const char *name = NULL, *node = NULL, *phase = "", *ip = "";
		json_t *md = json_object_get(it, "metadata");
		json_t *st = json_object_get(it, "status");
		name = json_string_value(json_object_get(md, "name"));
		node = json_string_value(json_object_get(json_object_get(md, "labels"), "sluice/node"));
		if (json_is_string(json_object_get(st, "phase")))
			phase = json_string_value(json_object_get(st, "phase"));
		if (json_is_string(json_object_get(st, "podIP")))
			ip = json_string_value(json_object_get(st, "podIP"));
		/* A pod that ended (or is being deleted) is not running. */
		if (!name || !node || strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
		    json_object_get(md, "deletionTimestamp") || strlen(node) >= sizeof(v[k].id) ||
		    strlen(name) >= sizeof(v[k].instance) || strlen(ip) >= sizeof(v[k].host))
			continue;
		snprintf(v[k].id, sizeof(v[k].id), "%s", node);
		snprintf(v[k].instance, sizeof(v[k].instance), "%s", name);
		snprintf(v[k].host, sizeof(v[k].host), "%s", ip);
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
	struct k8s_op *op = arg;
	struct k8s_controller *kc = op->kc;
	struct controller *c = &kc->base;
	/* A create retried after a lost answer finds its pod made: that is success. */
	if (rc == 0 && (status == 200 || status == 201 || status == 202 ||
	                (status == 409 && op->kind == K_CREATE && op->attempt > 0) ||
	                (status == 404 && op->kind == K_DELETE))) {
		if (op->kind == K_CREATE) {
			struct node_place p;
			memset(&p, 0, sizeof(p));
			snprintf(p.instance, sizeof(p.instance), "%s", op->id);
			p.rtmp_port = op->rtmp_port;
			p.http_port = op->http_port;
			/* The pod's IP comes once it is scheduled: the node says it when it registers. */
			json_error_t je;
			json_t *o = json_loadb(body, len, 0, &je);
			const char *ip = o ? json_string_value(json_object_get(json_object_get(o, "status"),
			                                                     "podIP")) : NULL;
			if (ip && strlen(ip) < sizeof(p.host))
				snprintf(p.host, sizeof(p.host), "%s", ip);
			json_decref(o);
			log_info("k8s_pod_created", "node=%s tries=%u", op->id, op->attempt + 1);
			ctl_seen_launched(c, op->id);
			c->launched(c, op->id, 0, &p, NULL);
		} else if (op->kind == K_LIST) {
			list_done(op, body, len);
			return;
		} else {
			log_info("k8s_pod_deleted", "node=%s", op->id);
		}
		op_free(op);
		return;
	}
	char why[512];
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", err);
	} else {
		char m[400];
		status_message(body, len, m, sizeof(m));
		snprintf(why, sizeof(why), "HTTP %ld: %s", status, m);
	}
	if ((rc < 0 || status == 429 || status >= 500) && op->attempt < kc->cfg.retries) {
		uint64_t wait = (uint64_t)K8S_BACKOFF_MS << op->attempt;
		if (wait > K8S_BACKOFF_MAX_MS)
			wait = K8S_BACKOFF_MAX_MS;
		uint8_t r;
		random_bytes(&r, 1);
		wait += wait * r / 512;
		char m[700];
		snprintf(m, sizeof(m), "kubernetes %s for %s: %s; try %u of %u in %llu ms",
		         kind_names[op->kind], op->id[0] ? op->id : "-", why, op->attempt + 2,
		         kc->cfg.retries + 1, (unsigned long long)wait);
		c->event(c, "cloud_retry", op->id[0] ? op->id : NULL, m);
		op->attempt++;
		if (!op->timer_used) {
			uv_timer_init(kc->loop, &op->timer);
			op->timer.data = op;
			op->timer_used = 1;
		}
		uv_timer_start(&op->timer, retry_fire, wait, 0);
		return;
	}
	op_fail(op, why);
}

static void op_send(struct k8s_op *op)
{
	struct k8s_controller *kc = op->kc;
	char err[400];
	if (token_load(kc, err, sizeof(err)) < 0) {
		op_fail(op, err);
		return;
	}
	char auth[K8S_TOKEN_MAX + 32];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", kc->token);
	const char *headers[] = { auth, "Accept: application/json",
	                          op->body ? "Content-Type: application/json" : NULL, NULL };
	struct http_client_req r = {
		.method = op->kind == K_CREATE ? "POST" : op->kind == K_DELETE ? "DELETE" : "GET",
		.url = op->url, .headers = headers, .body = op->body,
		.body_len = op->body ? strlen(op->body) : 0, .timeout_ms = (long)kc->cfg.timeout_ms,
		.ca_file = kc->cfg.ca_file,
	};
	if (http_client_send(kc->http, &r, op_answer, op) < 0)
		op_fail(op, "cannot start the HTTP request");
}

static struct k8s_op *op_new(struct k8s_controller *kc, enum k8s_kind kind, const char *id)
{
	struct k8s_op *op = xcalloc(1, sizeof(*op));
	op->kc = kc;
	op->kind = kind;
	snprintf(op->id, sizeof(op->id), "%s", id ? id : "");
	list_add_tail(&kc->ops, &op->link);
	return op;
}

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
	struct k8s_op *op = op_new(kc, K_CREATE, spec->id);
	op->body = json_dumps(pod, JSON_COMPACT);
	json_decref(pod);
	op->rtmp_port = (int)rport;
	op->http_port = (int)hport;
	snprintf(op->url, sizeof(op->url), "%s/api/v1/namespaces/%s/pods", kc->cfg.api,
	         kc->cfg.namespace_);
	ctl_seen_launching(c, spec->id);
	op_start(op);
	return 0;
}

static int k8s_terminate(struct controller *c, const char *id, const struct node_place *p,
                         int force)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	if (!p->instance[0])
		return SL_ENOTFOUND;
	struct k8s_op *op = op_new(kc, K_DELETE, id);
	/* Graceful: the node gets SIGTERM and terminationGracePeriodSeconds; force: at once. */
	snprintf(op->url, sizeof(op->url), "%s/api/v1/namespaces/%s/pods/%s%s", kc->cfg.api,
	         kc->cfg.namespace_, p->instance, force ? "?gracePeriodSeconds=0" : "");
	ctl_seen_forget(c, id);
	op_start(op);
	return 0;
}

static int k8s_running(struct controller *c, const char *id, const struct node_place *p)
{
	(void)p;
	return ctl_seen_running(c, id);
}

static int k8s_list(struct controller *c, char *err, size_t err_size)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	(void)err;
	(void)err_size;
	struct k8s_op *op = op_new(kc, K_LIST, NULL);
	snprintf(op->url, sizeof(op->url), "%s/api/v1/namespaces/%s/pods?labelSelector=sluice%%2F"
	         "cluster%%3D%s", kc->cfg.api, kc->cfg.namespace_, kc->cfg.cluster_label);
	ctl_seen_list_started(c);
	op_start(op);
	return 0;
}

static void k8s_close(struct controller *c)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	while (!list_empty(&kc->ops)) {
		struct k8s_op *op = list_entry(kc->ops.next, struct k8s_op, link);
		log_warn("k8s_call_abandoned", "call=%s node=%s (the manager is stopping)",
		         kind_names[op->kind], op->id[0] ? op->id : "-");
		op_free(op);
	}
	http_client_free(kc->http);
	explicit_bzero(kc->token, sizeof(kc->token));
	ctl_seen_free(c);
	free(kc);
}

static int k8s_busy(struct controller *c)
{
	struct k8s_controller *kc = (struct k8s_controller *)c;
	return !list_empty(&kc->ops);
}

static const struct controller_ops k8s_ops = {
	.name = "kubernetes",
	.check_properties = controller_k8s_check,
	.launch = k8s_launch,
	.terminate = k8s_terminate,
	.running = k8s_running,
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
	list_init(&kc->ops);
	ctl_seen_init(&kc->base);
	log_info("k8s_controller", "api=%s namespace=%s cluster_label=%s secret=%s", cfg->api,
	         cfg->namespace_, cfg->cluster_label, cfg->secret_name);
	return &kc->base;
}
