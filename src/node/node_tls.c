/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_tls.c - HTTPS and RTMPS on the node.
 *
 * With tls-cert and tls-key set, the node serves what its HTTP port serves
 * (API, HLS/LL-HLS, DASH, HTTP-FLV, the watch page, WHEP signalling) again
 * on https-port, and RTMP again on rtmps-port, each through the TLS layer
 * (core/tls.h) under the same protocol code.  Off without a certificate:
 * there is no safe default certificate, and a self-signed one made up at
 * start would only teach users to click through warnings.
 */
#include <stdio.h>

#include "core/bytes.h"
#include "core/log.h"
#include "core/tls.h"
#include "node/node.h"

static int configured(const struct node_config *cfg)
{
	return cfg->tls_cert && *cfg->tls_cert;
}

int node_tls_start(struct node *n, const struct http_server_config *hcfg)
{
	const struct node_config *cfg = n->cfg;
	if (!configured(cfg))
		return 0;
	if (!cfg->tls_key || !*cfg->tls_key) {
		log_error("tls_failed", "error=\"tls-cert is set but tls-key is not\"");
		return -1;
	}
	char err[300];
	n->tls = tls_server_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err));
	if (!n->tls) {
		log_error("tls_failed", "error=\"%s\"", err);
		return -1;
	}
	char fp[65];
	tls_server_fingerprint(n->tls, fp);
	log_info("tls_loaded", "cert=%s sha256=%s", cfg->tls_cert, fp);
	if (cfg->https_port) {
		if (cfg->https_port == cfg->http_port || cfg->https_port == cfg->rtmp_port) {
			log_error("tls_failed", "error=\"https-port %lld is taken by another listener\"",
			          (long long)cfg->https_port);
			return -1;
		}
		struct http_server_config h = *hcfg;
		h.port = (int)cfg->https_port;
		h.tls = n->tls;
		if (http_server_start(n->loop, &h, &n->https) < 0) {
			n->https = NULL;
			return -1;
		}
	}
	if (cfg->rtmps_port && rtmps_server_start(n) < 0)
		return -1;
	return 0;
}

void node_tls_stop(struct node *n)
{
	if (n->https)
		http_server_stop(n->https);
	n->https = NULL;
	/* The RTMPS listener closes with the RTMP one (rtmp_server_stop).  n->tls is freed
	 * by node_main after the loop: open connections hold their own reference. */
}

void node_tls_reload(struct node *n)
{
	const struct node_config *c = n->cfg;
	if (n->https)
		http_server_set_timeouts(n->https, c->http_request_timeout, c->idle_timeout,
		                         c->send_timeout);
	if (!n->tls) {
		if (configured(c))
			log_warn("tls_reload_failed", "error=\"tls-cert was not set at start: restart the "
			         "node to open https-port and rtmps-port\"");
		return; /* listeners are not started by a reload */
	}
	if (!configured(c) || !c->tls_key || !*c->tls_key) {
		log_warn("tls_reload_failed", "error=\"tls-cert and tls-key cannot be removed by a "
		         "reload; keeping the certificate served now\"");
		tls_stats.reload_failures++;
		return;
	}
	char err[300];
	if (tls_server_reload(n->tls, c->tls_cert, c->tls_key, err, sizeof(err)) < 0) {
		log_warn("tls_reload_failed", "error=\"%s\" kept=old certificate", err);
		return;
	}
	char fp[65];
	tls_server_fingerprint(n->tls, fp);
	log_info("tls_reloaded", "cert=%s sha256=%s", c->tls_cert, fp);
}

static void metric(struct bytes *b, const char *name, const char *help, uint64_t v)
{
	bytes_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	             (unsigned long long)v);
}

void node_tls_metrics(struct node *n, struct bytes *b)
{
	(void)n;
	metric(b, "sluice_tls_handshakes_total", "TLS handshakes completed (HTTPS, RTMPS, "
	       "outgoing).", tls_stats.handshakes);
	metric(b, "sluice_tls_handshake_failures_total", "TLS handshakes that failed (a peer "
	       "that spoke no TLS, no common cipher, a certificate that did not verify).",
	       tls_stats.handshake_failures);
	metric(b, "sluice_tls_reloads_total", "Certificate reloads (SIGHUP) that took effect.",
	       tls_stats.reloads);
	metric(b, "sluice_tls_reload_failures_total", "Certificate reloads refused (unreadable "
	       "or mismatched files); the old certificate stays.", tls_stats.reload_failures);
	metric(b, "sluice_tls_read_pauses_total", "Times a TLS peer left 256 KiB of what OpenSSL "
	       "answered on its own (alerts, key updates) unread, and reading it stopped until it read.",
	       tls_stats.read_pauses);
}

int node_cluster_tls_init(struct node *n, char *err, size_t err_size)
{
	const struct node_config *cfg = n->cfg;
	if (!cfg->cluster_tls || n->cluster_tls)
		return 0;
	char terr[300];
	n->cluster_tls = tls_client_new(cfg->cluster_ca_file, NULL, NULL, terr, sizeof(terr));
	if (!n->cluster_tls) {
		snprintf(err, err_size, "cluster-ca-file: %s", terr);
		return -1;
	}
	return 0;
}

json_t *node_tls_json(struct node *n)
{
	if (!n->tls)
		return json_null();
	char fp[65];
	tls_server_fingerprint(n->tls, fp);
	json_int_t https = n->https ? (json_int_t)n->cfg->https_port : 0;
	json_int_t rtmps = n->rtmps_on ? (json_int_t)n->cfg->rtmps_port : 0;
	return json_pack("{s:I, s:I, s:s}", "https_port", https, "rtmps_port", rtmps,
	                 "cert_sha256", fp);
}
