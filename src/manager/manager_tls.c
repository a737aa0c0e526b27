/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_tls.c - HTTPS on the manager's two listeners.
 *
 * With tls-cert and tls-key, the REST API (listen) and the node listener
 * (node-listen) speak HTTPS only: the admin token and the nodes' signed
 * heartbeats no longer cross the network in clear.  Each listener has its
 * own context so that node-listen alone can ask nodes for a client
 * certificate (tls-client-ca-file).  SIGHUP re-reads the files; open
 * connections keep the certificate they started with.
 */
#include "manager/manager_tls.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/tls.h"

int manager_tls_start(struct manager *m, struct http_server_config *api,
                      struct http_server_config *nodes, char *err, size_t err_size)
{
	const struct manager_config *cfg = m->cfg;
	if (!cfg->tls_cert || !*cfg->tls_cert)
		return 0;
	if (!cfg->tls_key || !*cfg->tls_key) {
		snprintf(err, err_size, "tls-key: required with tls-cert");
		return -1;
	}
	m->tls = tls_server_new(cfg->tls_cert, cfg->tls_key, err, err_size);
	if (!m->tls)
		return -1;
	m->node_tls = tls_server_new(cfg->tls_cert, cfg->tls_key, err, err_size);
	if (!m->node_tls)
		return -1;
	if (cfg->tls_client_ca_file && *cfg->tls_client_ca_file &&
	    tls_server_require_clients(m->node_tls, cfg->tls_client_ca_file, err, err_size) < 0)
		return -1;
	api->tls = m->tls;
	nodes->tls = m->node_tls;
	if (!realpath(cfg->tls_cert, m->tls_cert_path))
		snprintf(m->tls_cert_path, sizeof(m->tls_cert_path), "%s", cfg->tls_cert);
	char fp[65];
	tls_server_fingerprint(m->tls, fp);
	log_info("tls_loaded", "cert=%s sha256=%s client_certs=%s", cfg->tls_cert, fp,
	         cfg->tls_client_ca_file && *cfg->tls_client_ca_file ? "required" : "no");
	return 0;
}

void manager_tls_reload(struct manager *m)
{
	const struct manager_config *cfg = m->cfg;
	if (!m->tls)
		return;
	char err[300];
	if (!cfg->tls_cert || !*cfg->tls_cert || !cfg->tls_key || !*cfg->tls_key) {
		log_warn("tls_reload_failed", "error=\"tls-cert and tls-key cannot be removed by a "
		         "reload; keeping the certificate served now\"");
		return;
	}
	/* Both listeners change together or neither does, so the log below is true of both. */
	struct tls_server *both[2] = { m->tls, m->node_tls };
	if (tls_server_reload_all(both, 2, cfg->tls_cert, cfg->tls_key, err, sizeof(err)) < 0) {
		log_warn("tls_reload_failed", "error=\"%s\" kept=old certificate", err);
		return;
	}
	char fp[65];
	tls_server_fingerprint(m->tls, fp);
	log_info("tls_reloaded", "cert=%s sha256=%s", cfg->tls_cert, fp);
}

void manager_tls_free(struct manager *m)
{
	tls_server_free(m->tls);
	tls_server_free(m->node_tls);
	m->tls = m->node_tls = NULL;
}
