/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_ctl.c - the manager's side of its controller: builds the one
 * --controller names, hears its answers, and reconciles what the
 * controller's list says exists with what the store says should.
 *
 * Reconciling: every reconcile-interval the controller lists the instances
 * it marks as sluice's.  One no node record names in two lists in a row is
 * reported (an event, once; one list is not enough: a list answered after a
 * node was removed may have been taken before its termination, and clouds
 * list eventually): it costs money and nobody routes to it, but it is the operator's
 * to remove, since it may be another manager's.  A node whose instance is
 * no longer listed is gone for running(), so the next missed heartbeat
 * makes it dead at once (and replaced) instead of after a /healthz probe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/manager.h"

struct reconcile {
	uint64_t last_ms;
	int inflight;
	struct strmap reported;        /* instance ids reported as unknown (not again) */
	struct strmap suspect;         /* unknown in the last list: reported if again in this one */
};

static struct reconcile rec;

static void on_event(struct controller *c, const char *kind, const char *node, const char *msg)
{
	struct manager *m = c->owner;
	struct mnode *nd = node ? mgr_node_find(m, node) : NULL;
	mgr_event(m, kind, nd ? nd->group : NULL, node, "%s", msg);
}

static void on_listed(struct controller *c, int rc, const struct ctl_instance *v, size_t n,
                      const char *err)
{
	struct manager *m = c->owner;
	rec.inflight = 0;
	if (rc < 0) {
		log_throttled(LOG_WARN, "controller_list_failed", "controller=%s error=\"%s\"",
		            c->ops->name, err ? err : "");
		return;
	}
	unsigned unknown = 0, vanished = 0;
	struct strmap next;            /* this list's unknown instances */
	strmap_init(&next);
	for (size_t i = 0; i < n; i++) {
		struct mnode *known = mgr_node_find(m, v[i].id);
		if (known) {
			/* A launch whose answer was lost (the manager restarted meanwhile): the list
			 * names its instance, so it can still be terminated. */
			if (known->managed && !known->place.instance[0] && v[i].instance[0]) {
				snprintf(known->place.instance, sizeof(known->place.instance), "%s",
				         v[i].instance);
				if (!known->place.host[0])
					snprintf(known->place.host, sizeof(known->place.host), "%s", v[i].host);
				mgr_save_node(m, known);
			}
			continue;
		}
		unknown++;
		if (!strmap_get(&rec.suspect, v[i].instance)) {
			if (next.count < 4096)
				strmap_put(&next, v[i].instance, (void *)1);
			continue;
		}
		strmap_put(&next, v[i].instance, (void *)1);
		if (strmap_get(&rec.reported, v[i].instance) || rec.reported.count >= 4096)
			continue;
		strmap_put(&rec.reported, v[i].instance, (void *)1);
		mgr_event(m, "instance_unknown", NULL, v[i].id, "the %s controller lists instance %s "
		          "(node %s at %s) that no node record names: not routed to, still running "
		          "(remove it, or it costs)", c->ops->name, v[i].instance, v[i].id,
		          v[i].host[0] ? v[i].host : "?");
	}
	strmap_free(&rec.suspect);
	rec.suspect = next;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (!nd->managed || nd->state == NS_DEAD || c->ops->running(c, nd->id, &nd->place))
			continue;
		vanished++;
		mgr_event(m, "instance_vanished", nd->group, nd->id, "the %s controller no longer "
		          "lists %s (instance %s): dead at its next missed heartbeat", c->ops->name,
		          nd->id, nd->place.instance[0] ? nd->place.instance : "-");
	}
	log_debug("controller_listed", "controller=%s instances=%zu unknown=%u vanished=%u",
	          c->ops->name, n, unknown, vanished);
}

void mgr_reconcile_tick(struct manager *m)
{
	struct controller *c = m->ctl;
	if (!c || !c->ops->list || rec.inflight || m->stopping)
		return;
	uint64_t now = clock_wall_ms();
	if (rec.last_ms && now < rec.last_ms + m->cfg->reconcile_interval)
		return;
	rec.last_ms = now;
	char err[256];
	rec.inflight = 1;
	if (c->ops->list(c, err, sizeof(err)) < 0) {
		rec.inflight = 0;
		log_throttled(LOG_WARN, "controller_list_failed", "controller=%s error=\"%s\"",
		            c->ops->name, err);
	}
}

#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The kubernetes controller, with the in-cluster defaults filled in. */
static struct controller *k8s_new(struct manager *m, char *err, size_t err_size)
{
	struct manager_config *cfg = m->cfg;
	char api[300], ns[80] = "default";
	if (cfg->k8s_api && *cfg->k8s_api) {
		snprintf(api, sizeof(api), "%s", cfg->k8s_api);
	} else {
		const char *h = getenv("KUBERNETES_SERVICE_HOST"), *p = getenv("KUBERNETES_SERVICE_PORT");
		if (!h || !*h) {
			snprintf(err, err_size, "k8s-api: not set, and not in a cluster "
			         "(no KUBERNETES_SERVICE_HOST)");
			return NULL;
		}
		snprintf(api, sizeof(api), strchr(h, ':') ? "https://[%s]:%s" : "https://%s:%s", h,
		         p && *p ? p : "443");
	}
	if (cfg->k8s_namespace && *cfg->k8s_namespace) {
		snprintf(ns, sizeof(ns), "%s", cfg->k8s_namespace);
	} else {
		FILE *f = fopen(K8S_SA_DIR "/namespace", "r");
		if (f) {
			if (fgets(ns, sizeof(ns), f))
				ns[strcspn(ns, "\r\n")] = '\0';
			fclose(f);
		}
	}
	const char *ca = cfg->k8s_ca_file;
	if ((!ca || !*ca) && access(K8S_SA_DIR "/ca.crt", R_OK) == 0)
		ca = K8S_SA_DIR "/ca.crt";
	struct k8s_controller_config kc = {
		.api = api, .namespace_ = ns, .token_file = cfg->k8s_token_file, .ca_file = ca,
		.cluster_label = cfg->k8s_cluster_label, .secret_name = cfg->k8s_secret,
		.manager_url = m->advertise, .timeout_ms = cfg->aws_timeout,
		.retries = (unsigned)cfg->controller_retries,
	};
	return controller_k8s_new(m->loop, &kc, err, err_size);
}

/* How long a stopping manager waits for its controller's calls (terminations above all). */
#define CTL_STOP_WAIT_MS 10000

static uv_timer_t stop_timer;
static uint64_t stop_deadline_ms;

static void stop_check(uv_timer_t *t)
{
	struct manager *m = t->data;
	struct controller *c = m->ctl;
	int busy = c && c->ops->busy && c->ops->busy(c);
	if (busy && clock_wall_ms() < stop_deadline_ms)
		return;
	if (busy)
		log_warn("controller_calls_abandoned", "controller=%s waited=%d ms (see the log for "
		         "which calls)", c->ops->name, CTL_STOP_WAIT_MS);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
	mgr_controller_close(m);
}

void mgr_controller_stop(struct manager *m)
{
	struct controller *c = m->ctl;
	if (!c || !c->ops->busy || !c->ops->busy(c)) {
		mgr_controller_close(m);
		return;
	}
	log_info("controller_finishing", "controller=%s (waiting up to %d ms for its calls)",
	         c->ops->name, CTL_STOP_WAIT_MS);
	stop_deadline_ms = clock_wall_ms() + CTL_STOP_WAIT_MS;
	uv_timer_init(m->loop, &stop_timer);
	stop_timer.data = m;
	uv_timer_start(&stop_timer, stop_check, 50, 50);
}

void mgr_controller_close(struct manager *m)
{
	if (m->ctl)
		m->ctl->ops->close(m->ctl);
	m->ctl = NULL;
	strmap_free(&rec.reported);
	strmap_free(&rec.suspect);
}

struct controller *mgr_controller_new(struct manager *m, const char *exe, char *err,
                                      size_t err_size)
{
	struct manager_config *cfg = m->cfg;
	struct controller *c = NULL;
	strmap_init(&rec.reported);
	strmap_init(&rec.suspect);
	if (strcmp(cfg->controller, "exec") == 0) {
		if (!cfg->exec_dir || !*cfg->exec_dir) {
			snprintf(err, err_size, "exec-dir: required with --controller exec (the directory "
			         "of the launch, terminate and list scripts)");
			return NULL;
		}
		struct exec_controller_config ec = {
			.dir = cfg->exec_dir, .manager_url = m->advertise,
			.cluster_secret = cfg->cluster_secret, .timeout_ms = cfg->exec_timeout,
			.retries = (unsigned)cfg->controller_retries,
		};
		c = controller_exec_new(m->loop, &ec, err, err_size);
	} else if (strcmp(cfg->controller, "aws") == 0) {
		struct aws_controller_config ac = {
			.region = cfg->aws_region, .endpoint = cfg->aws_endpoint,
			.imds_endpoint = cfg->aws_imds_endpoint, .cluster_tag = cfg->aws_cluster_tag,
			.manager_url = m->advertise, .cluster_secret = cfg->cluster_secret,
			.timeout_ms = cfg->aws_timeout, .retries = (unsigned)cfg->controller_retries,
		};
		c = controller_aws_new(m->loop, &ac, err, err_size);
	} else if (strcmp(cfg->controller, "gcp") == 0) {
		struct gcp_controller_config gc = {
			.project = cfg->gcp_project, .zone = cfg->gcp_zone,
			.credentials_file = cfg->gcp_credentials_file, .endpoint = cfg->gcp_endpoint,
			.token_uri = cfg->gcp_token_uri, .metadata_url = cfg->gcp_metadata_url,
			.cluster_label = cfg->gcp_cluster_label, .manager_url = m->advertise,
			.cluster_secret = cfg->cluster_secret, .timeout_ms = cfg->aws_timeout,
			.retries = (unsigned)cfg->controller_retries,
		};
		c = controller_gcp_new(m->loop, &gc, err, err_size);
	} else if (strcmp(cfg->controller, "kubernetes") == 0) {
		c = k8s_new(m, err, err_size);
	} else {
		struct local_controller_config lcc = {
			.exe = exe, .addr_base = cfg->local_addr_base, .manager_url = m->advertise,
			.cluster_secret = cfg->cluster_secret, .dir = cfg->node_dir,
			.log_level = cfg->node_log_level,
			/* Its nodes trust the certificate it serves (a leaf may anchor trust);
			 * manager_tls_start fills the path in before any launch. */
			.manager_ca_file = cfg->tls_cert && *cfg->tls_cert ? m->tls_cert_path : NULL,
		};
		c = controller_local_new(m->loop, &lcc, err, err_size);
	}
	if (!c)
		return NULL;
	c->owner = m;
	c->launched = mgr_launched;
	c->listed = on_listed;
	c->event = on_event;
	return c;
}
