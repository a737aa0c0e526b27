/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bootstrap_http.c - the node listener's POST /api/v1/cluster/bootstrap: a
 * node a cloud controller launched proves it holds its one-time bootstrap
 * token and gets the cluster secret sealed under that token
 * (node_bootstrap.h).  Answered once per token, only while the node is
 * launching; every refusal is counted (nodeCallsRefused) and logged,
 * throttled.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "manager/manager.h"
#include "manager/node_bootstrap.h"

static void refuse(struct manager *m, struct http_conn *c, int status, const char *id,
                   const char *why)
{
	char ew[80];
	m->node_calls_refused++;
	log_throttled(LOG_WARN, "bootstrap_refused", "peer=%s node=%s status=%d reason=\"%s\"",
	              http_conn_base(c)->peer, log_escape(id, ew, sizeof(ew)), status, why);
	http_respond_error(c, status, why);
}

void mgr_bootstrap_call(struct manager *m, struct http_conn *c, const uint8_t *body,
                        size_t len)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)body, len, 0, &je);
	const char *id = NULL, *proof = NULL;
	json_int_t t = 0;
	if (!o || json_unpack_ex(o, &je, JSON_STRICT, "{s:s, s:I, s:s}", "id", &id, "time", &t,
	                         "proof", &proof) < 0 || !mgr_name_valid(id) ||
	    strlen(proof) != 64) {
		json_decref(o);
		refuse(m, c, 400, "-", "expected {\"id\", \"time\", \"proof\"}");
		return;
	}
	struct mnode *nd = mgr_node_find(m, id);
	uint64_t now = clock_wall_ms();
	char want[65];
	if (!nd || !nd->managed || nd->state != NS_LAUNCHING || !nd->boot_token[0]) {
		refuse(m, c, 401, id, "no bootstrap for this node (not launching, or already done)");
		json_decref(o);
		return;
	}
	if (t <= 0 || (uint64_t)t + NODE_SIGN_SKEW_MS < now || (uint64_t)t > now + NODE_SIGN_SKEW_MS) {
		refuse(m, c, 401, id, "stale time (clocks more than 5 s apart?)");
		json_decref(o);
		return;
	}
	bootstrap_proof(nd->boot_token, id, (uint64_t)t, want);
	if (!ct_equal(want, proof, 64)) {
		refuse(m, c, 401, id, "bad proof");
		json_decref(o);
		return;
	}
	json_decref(o);
	uint8_t iv[16];
	char iv_hex[33], sealed[BOOTSTRAP_SEALED_MAX], mac[65];
	random_bytes(iv, sizeof(iv));
	if (bootstrap_seal(nd->boot_token, m->cfg->cluster_secret, iv, iv_hex, sealed, mac) < 0) {
		http_respond_error(c, 500, "cannot seal the cluster secret (longer than 256 bytes?)");
		return;
	}
	/* Spent: user data read from now on opens nothing. */
	explicit_bzero(nd->boot_token, sizeof(nd->boot_token));
	log_info("node_bootstrapped", "node=%s group=%s peer=%s", nd->id, nd->group,
	         http_conn_base(c)->peer);
	http_respond_json(c, 200, json_pack("{s:s, s:s, s:s}", "iv", iv_hex, "sealed", sealed,
	                                    "mac", mac));
}
