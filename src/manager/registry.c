/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c - the calls nodes make: register (signed with the cluster
 * secret) and heartbeat (signed with the node's own key, derived from the
 * nonce its registration answer carried; proto/node_sign.h).  A heartbeat
 * carries the node's stats; the reply tells it its state, whether it is
 * draining, and the origins an edge should use.  Every answer is signed and
 * bound to the request it answers.  Heartbeats change only memory; state
 * changes (and a registration's nonce) are written to the store.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/hb_view.h"
#include "manager/manager.h"

static int header_copy(const struct http_request *req, const char *name, char *out, size_t n)
{
	const struct http_header *h = http_find_header(req, name);
	if (!h || h->value_len >= n)
		return -1;
	memcpy(out, h->value, h->value_len);
	out[h->value_len] = '\0';
	return 0;
}

static int sig_seen(struct manager *m, const char *sig)
{
	for (unsigned i = 0; i < sizeof(m->recent_sigs) / sizeof(m->recent_sigs[0]); i++)
		if (strcmp(m->recent_sigs[i], sig) == 0)
			return 1;
	return 0;
}

static void sig_remember(struct manager *m, const char *sig)
{
	unsigned n = sizeof(m->recent_sigs) / sizeof(m->recent_sigs[0]);
	snprintf(m->recent_sigs[m->recent_next % n], NODE_SIGN_HEX, "%s", sig);
	m->recent_next++;
}

static json_t *reply_json(struct manager *m, struct mnode *nd, int is_register)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i}", "id", nd->id,
	                      "group", nd->group, "role", mrole_name(nd->role),
	                      "state", node_state_name(nd->state), "drain", nd->state == NS_DRAINING,
	                      "origins", nd->origins, "heartbeatMs", 1000);
	if (nd->role != MROLE_ORIGIN)
		json_object_set(o, "streamOrigins", hb_view_get(m, nd->group)->hints);
	if (is_register)
		json_object_set_new(o, "keyNonce", json_string(nd->nonce));
	return o;
}

/* Answers a node call, signed with key over the status, the body and the request's
 * signature (so a recorded answer cannot stand in for another); takes the reference. */
static void answer(struct http_conn *c, int status, json_t *o, const char *key,
                   const char *req_sig)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text) {
		http_respond_error(c, 500, "out of memory");
		return;
	}
	size_t len = strlen(text);
	char *body = xmalloc(len + 2);
	memcpy(body, text, len);
	body[len++] = '\n';
	body[len] = '\0';
	free(text);
	char sig[NODE_SIGN_HEX];
	node_answer_sign(key, status, req_sig, body, len, sig);
	http_add_header(c, "X-Sluice-Signature", sig);
	http_respond(c, status, "application/json", body, len);
	free(body);
}

static void answer_error(struct http_conn *c, int status, const char *msg, const char *key,
                         const char *req_sig)
{
	answer(c, status, json_pack("{s:s}", "error", msg), key, req_sig);
}

/* A node's key for its current registration, from a nonce (a new one, or one kept in the
 * store across a manager restart). */
void mgr_node_set_nonce(struct manager *m, struct mnode *nd, const char *nonce)
{
	snprintf(nd->nonce, sizeof(nd->nonce), "%s", nonce);
	node_key_derive(m->cfg->cluster_secret, nd->id, nd->nonce, nd->key);
	nd->last_seq = 0;
}

static void refuse(struct manager *m, struct http_conn *c, int status, const char *who,
                   const char *why, const char *key, const char *req_sig)
{
	char ew[80];
	m->node_calls_refused++;
	/* Anyone can send these as fast as they like: throttled. */
	log_throttled(LOG_WARN, "node_refused", "peer=%s node=%s status=%d reason=\"%s\"",
	              http_conn_base(c)->peer, log_escape(who, ew, sizeof(ew)), status, why);
	answer_error(c, status, why, key, req_sig);
}

void mgr_node_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                   const uint8_t *body, size_t body_len, int is_register)
{
	const char *secret = m->cfg->cluster_secret;
	if (!secret || !*secret) {
		http_respond_error(c, 503, "this manager has no cluster-secret: nodes cannot register");
		return;
	}
	char ts[32] = "", seqt[32] = "", sig[NODE_SIGN_HEX + 1] = "", path[64];
	int have = header_copy(req, "X-Sluice-Time", ts, sizeof(ts)) == 0 &&
	           header_copy(req, "X-Sluice-Seq", seqt, sizeof(seqt)) == 0 &&
	           header_copy(req, "X-Sluice-Signature", sig, sizeof(sig)) == 0;
	snprintf(path, sizeof(path), "%.*s", (int)(req->path_len < 63 ? req->path_len : 63),
	         req->path);
	uint64_t t = 0, seq = 0, now = clock_wall_ms();
	const char *why = NULL;
	char err[256];
	/* The report names the node, whose key checks the signature; it is parsed by a pure,
	 * fuzzed parser, and nothing in it is used before the signature is checked. */
	struct node_report rep;
	if (node_report_parse((const char *)body, body_len, &rep, err, sizeof(err)) < 0) {
		refuse(m, c, 400, "-", err, secret, sig);
		return;
	}
	struct mnode *nd = mgr_node_find(m, rep.id);
	/* Launched or registered through another manager (several share a store): its record
	 * may be newer in the store than here (a node registers within milliseconds of its
	 * launch, before the next sync). */
	if (store_shared(m->store) && (!nd || (!is_register && (!nd->key[0] ||
	    nd->state == NS_LAUNCHING))) && mgr_node_refresh(m, rep.id))
		nd = mgr_node_find(m, rep.id);
	if (!is_register && (!nd || !nd->key[0] || nd->state == NS_LAUNCHING ||
	                     nd->state == NS_DEAD)) {
		node_report_free(&rep);
		http_add_header(c, "X-Sluice-Register", "1");
		answer_error(c, 404, "unknown node: register again", secret, sig);
		return;
	}
	const char *key = is_register ? secret : nd->key;
	int signed_ok = node_sign_check(key, path, have ? ts : NULL, have ? seqt : NULL,
	                                have ? sig : NULL, body, body_len, now, &t, &seq, &why);
	/* A key that fails may be an old one: the node registered again through another
	 * manager.  Read its record and try once more. */
	if (signed_ok < 0 && !is_register && store_shared(m->store) &&
	    mgr_node_refresh(m, rep.id) && (nd = mgr_node_find(m, rep.id)) && nd->key[0]) {
		key = nd->key;
		signed_ok = node_sign_check(key, path, have ? ts : NULL, have ? seqt : NULL,
		                            have ? sig : NULL, body, body_len, now, &t, &seq, &why);
	}
	if (signed_ok < 0) {
		refuse(m, c, 401, rep.id, why, secret, sig);
		node_report_free(&rep);
		return;
	}
	if (!is_register && seq <= nd->last_seq) {
		refuse(m, c, 401, rep.id, "replayed or out-of-order heartbeat (sequence number)", key,
		       sig);
		node_report_free(&rep);
		return;
	}
	if (is_register && sig_seen(m, sig)) {
		refuse(m, c, 401, rep.id, "replayed registration", secret, sig);
		node_report_free(&rep);
		return;
	}
	/* A node heartbeating with its own key keeps its registration: another registration
	 * for its id (anyone with the cluster secret could send one) waits until it has been
	 * silent for dead-after. */
	if (is_register && nd && nd->key[0] && nd->last_seen_ms + m->cfg->dead_after > now &&
	    (nd->state == NS_STARTING || nd->state == NS_ALIVE || nd->state == NS_DRAINING)) {
		snprintf(err, sizeof(err), "node %s is registered and heartbeating: another "
		         "registration for it is refused while it is", nd->id);
		refuse(m, c, 409, rep.id, err, secret, sig);
		node_report_free(&rep);
		return;
	}
	struct mgroup *g = mgr_group_find(m, rep.group);
	if (!g) {
		snprintf(err, sizeof(err), "no such node group: %s", rep.group);
		node_report_free(&rep);
		answer_error(c, 404, err, key, sig);
		return;
	}
	if (nd && strcmp(nd->group, rep.group) != 0) {
		snprintf(err, sizeof(err), "node %s belongs to group %s", nd->id, nd->group);
		node_report_free(&rep);
		answer_error(c, 409, err, key, sig);
		return;
	}
	if (!nd) {
		int role = mrole_parse(rep.role);
		if (role < 0) {
			node_report_free(&rep);
			answer_error(c, 400, "role: a managed node is an origin, edge or relay", key, sig);
			return;
		}
		nd = xcalloc(1, sizeof(*nd));
		snprintf(nd->id, sizeof(nd->id), "%s", rep.id);
		snprintf(nd->group, sizeof(nd->group), "%s", rep.group);
		snprintf(nd->region, sizeof(nd->region), "%s", g->g.regions[0]);
		nd->role = (enum mrole)role;
		nd->state = NS_STARTING;
		nd->launched_ms = nd->state_since_ms = now;
		mgr_node_link(m, nd);
		mgr_event(m, "node_registered", nd->group, nd->id,
		          "%s %s at %s registered on its own (not launched by this manager)",
		          rep.role, nd->id, rep.host);
	}
	if (is_register) {
		sig_remember(m, sig);
		uint8_t rnd[NODE_KEY_NONCE_BYTES];
		char nonce[NODE_KEY_NONCE_HEX];
		random_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), nonce);
		mgr_node_set_nonce(m, nd, nonce);
	} else {
		nd->last_seq = seq;
	}
	snprintf(nd->place.host, sizeof(nd->place.host), "%s", rep.host);
	nd->place.rtmp_port = (int)rep.rtmp_port;
	nd->place.http_port = (int)rep.http_port;
	nd->place.srt_port = (int)rep.srt_port;
	nd->place.rtsp_port = (int)rep.rtsp_port;
	nd->place.rtmps_port = (int)rep.rtmps_port;
	nd->place.https_port = (int)rep.https_port;
	nd->last_seen_ms = now;
	nd->probe_ok_ms = 0;
	/* Clients routed here count until the node reports them, or for ROUTE_PENDING_MS (some
	 * never come): growth in the report settles the oldest routes still expected. */
	int64_t grew = (rep.publishers + rep.viewers) - (nd->rep.publishers + nd->rep.viewers);
	route_pending_settle(&nd->pending, now, grew > 0 ? grew : 0);
	node_report_free(&nd->rep);
	nd->rep = rep;
	mgr_hot_touch(m, nd, body, body_len);
	if (is_register) {
		/* Saved either way: the nonce is kept, so heartbeats go on across a restart. */
		if (nd->state == NS_LAUNCHING)
			mgr_set_state(m, nd, NS_STARTING, "registered");
		else
			mgr_save_node(m, nd);
		log_info("node_registered", "node=%s group=%s role=%s host=%s state=%s", nd->id,
		         nd->group, mrole_name(nd->role), nd->place.host, node_state_name(nd->state));
	} else if (nd->state == NS_STARTING) {
		mgr_set_state(m, nd, NS_ALIVE, "first heartbeat");
	}
	/* Edges and relays follow the group's origins as they come and go (an origin added
	 * after the edge was launched, one that died); with none left they keep their list. */
	if (nd->role != MROLE_ORIGIN) {
		const char *origins = hb_view_get(m, nd->group)->origins;
		if (origins[0] && strcmp(origins, nd->origins) != 0) {
			mgr_event(m, "origins_changed", nd->group, nd->id, "%s now pulls from %s (was %s)",
			          nd->id, origins, nd->origins[0] ? nd->origins : "none");
			snprintf(nd->origins, sizeof(nd->origins), "%s", origins);
			mgr_save_node(m, nd);
		}
	}
	answer(c, 200, reply_json(m, nd, is_register), is_register ? secret : nd->key, sig);
}
