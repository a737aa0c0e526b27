/*
 * registry.c - the calls nodes make: register and heartbeat, each signed
 * with the cluster secret (node_sign.h).  A heartbeat carries the node's
 * stats; the reply tells it its state, whether it is draining, and the
 * origins an edge should use.  Heartbeats change only memory; state
 * changes are written to the store.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
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

/* Streams an edge or relay may be asked for, and the origin of its group that has each
 * one's publisher ("app/stream": "host:port"), so its pull goes there first. Bounded: what
 * does not fit is found by trying the origins in turn. */
#define STREAM_ORIGINS_MAX 256

static json_t *stream_origins(struct manager *m, const struct mnode *edge)
{
	json_t *o = json_object();
	size_t n = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		const struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->role != MROLE_ORIGIN || strcmp(nd->group, edge->group) != 0 ||
		    (nd->state != NS_ALIVE && nd->state != NS_DRAINING))
			continue;
		char place[96];
		snprintf(place, sizeof(place), "%s:%d", nd->place.host, nd->place.rtmp_port);
		for (unsigned i = 0; i < nd->rep.nstreams && n < STREAM_ORIGINS_MAX; i++) {
			const struct report_stream *rs = &nd->rep.streams[i];
			if (!rs->publishing)
				continue;
			char key[260];
			snprintf(key, sizeof(key), "%s/%s", rs->app, rs->name);
			json_object_set_new(o, key, json_string(place));
			n++;
		}
	}
	return o;
}

static json_t *reply_json(struct manager *m, struct mnode *nd)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i}", "id", nd->id,
	                      "group", nd->group, "role", mrole_name(nd->role),
	                      "state", node_state_name(nd->state), "drain", nd->state == NS_DRAINING,
	                      "origins", nd->origins, "heartbeatMs", 1000);
	if (nd->role != MROLE_ORIGIN)
		json_object_set_new(o, "streamOrigins", stream_origins(m, nd));
	return o;
}

void mgr_node_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                   const uint8_t *body, size_t body_len, int is_register)
{
	const char *secret = m->cfg->cluster_secret;
	if (!secret || !*secret) {
		http_respond_error(c, 503, "this manager has no cluster-secret: nodes cannot register");
		return;
	}
	char ts[32] = "", sig[NODE_SIGN_HEX + 1] = "", path[64];
	int have = header_copy(req, "X-Sluice-Time", ts, sizeof(ts)) == 0 &&
	           header_copy(req, "X-Sluice-Signature", sig, sizeof(sig)) == 0;
	snprintf(path, sizeof(path), "%.*s", (int)(req->path_len < 63 ? req->path_len : 63),
	         req->path);
	uint64_t t = 0, now = clock_wall_ms();
	const char *why = NULL;
	if (node_sign_check(secret, path, have ? ts : NULL, have ? sig : NULL, body, body_len, now,
	                    &t, &why) < 0) {
		/* Anyone can send these as fast as they like: throttled. */
		log_throttled(LOG_WARN, "node_refused", "peer=%s reason=\"%s\"",
		              http_conn_base(c)->peer, why);
		http_respond_error(c, 401, why);
		return;
	}
	struct node_report rep;
	char err[256];
	if (node_report_parse((const char *)body, body_len, &rep, err, sizeof(err)) < 0) {
		http_respond_error(c, 400, err);
		return;
	}
	struct mnode *nd = mgr_node_find(m, rep.id);
	if (nd && t <= nd->last_sig_ms) {
		node_report_free(&rep);
		log_warn("node_refused", "node=%s reason=replay", nd->id);
		http_respond_error(c, 401, "replayed or out-of-order request");
		return;
	}
	if (!nd && sig_seen(m, sig)) {
		node_report_free(&rep);
		http_respond_error(c, 401, "replayed request");
		return;
	}
	if (!is_register && (!nd || nd->state == NS_LAUNCHING || nd->state == NS_DEAD)) {
		node_report_free(&rep);
		http_add_header(c, "X-Sluice-Register", "1");
		http_respond_error(c, 404, "unknown node: register again");
		return;
	}
	struct mgroup *g = mgr_group_find(m, rep.group);
	if (!g) {
		node_report_free(&rep);
		snprintf(err, sizeof(err), "no such node group: %s", rep.group);
		http_respond_error(c, 404, err);
		return;
	}
	if (nd && strcmp(nd->group, rep.group) != 0) {
		node_report_free(&rep);
		snprintf(err, sizeof(err), "node %s belongs to group %s", nd->id, nd->group);
		http_respond_error(c, 409, err);
		return;
	}
	if (!nd) {
		int role = mrole_parse(rep.role);
		if (role < 0) {
			node_report_free(&rep);
			http_respond_error(c, 400, "role: a managed node is an origin, edge or relay");
			return;
		}
		sig_remember(m, sig);
		nd = xcalloc(1, sizeof(*nd));
		snprintf(nd->id, sizeof(nd->id), "%s", rep.id);
		snprintf(nd->group, sizeof(nd->group), "%s", rep.group);
		snprintf(nd->region, sizeof(nd->region), "%s", g->g.regions[0]);
		nd->role = (enum mrole)role;
		nd->state = NS_STARTING;
		nd->launched_ms = nd->state_since_ms = now;
		list_add_tail(&m->nodes, &nd->link);
		m->nnodes++;
		mgr_event(m, "node_registered", nd->group, nd->id,
		          "%s %s at %s registered on its own (not launched by this manager)",
		          rep.role, nd->id, rep.host);
	}
	int moved = strcmp(nd->place.host, rep.host) != 0 || nd->place.rtmp_port != rep.rtmp_port ||
	            nd->place.http_port != rep.http_port;
	snprintf(nd->place.host, sizeof(nd->place.host), "%s", rep.host);
	nd->place.rtmp_port = (int)rep.rtmp_port;
	nd->place.http_port = (int)rep.http_port;
	nd->last_sig_ms = t;
	nd->last_seen_ms = now;
	/* Clients routed here count until the node reports them, or for 3 s (some never come):
	 * growth in the report settles the oldest routes still expected. */
	int64_t grew = (rep.publishers + rep.viewers) - (nd->rep.publishers + nd->rep.viewers);
	int64_t keep = 0;
	for (int64_t i = 0; i < nd->pending; i++) {
		if (now > nd->pending_ms[i] + 3000)
			continue;
		if (grew > 0) {
			grew--;
			continue;
		}
		nd->pending_ms[keep++] = nd->pending_ms[i];
	}
	nd->pending = keep;
	node_report_free(&nd->rep);
	nd->rep = rep;
	if (is_register) {
		if (nd->state == NS_LAUNCHING)
			mgr_set_state(m, nd, NS_STARTING, "registered");
		else if (moved)
			mgr_save_node(m, nd);
		log_info("node_registered", "node=%s group=%s role=%s host=%s state=%s", nd->id,
		         nd->group, mrole_name(nd->role), nd->place.host, node_state_name(nd->state));
	} else if (nd->state == NS_STARTING) {
		mgr_set_state(m, nd, NS_ALIVE, "first heartbeat");
	}
	/* Edges and relays follow the group's origins as they come and go (an origin added
	 * after the edge was launched, one that died); with none left they keep their list. */
	if (nd->role != MROLE_ORIGIN) {
		char origins[sizeof(nd->origins)];
		mgr_group_origins(m, nd->group, NULL, origins, sizeof(origins));
		if (origins[0] && strcmp(origins, nd->origins) != 0) {
			mgr_event(m, "origins_changed", nd->group, nd->id, "%s now pulls from %s (was %s)",
			          nd->id, origins, nd->origins[0] ? nd->origins : "none");
			snprintf(nd->origins, sizeof(nd->origins), "%s", origins);
			mgr_save_node(m, nd);
		}
	}
	http_respond_json(c, 200, reply_json(m, nd));
}
