/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whip_http.c - WHIP (WebRTC-HTTP Ingestion Protocol, RFC 9725) on the
 * node's HTTP port: a browser (or any WHIP client) publishes a stream.
 *
 *   POST    /APP/STREAM/whip        application/sdp offer -> 201, answer, Location
 *   DELETE  /APP/STREAM/whip/ID     ends the session, and so the stream
 *   PATCH   /APP/STREAM/whip/ID     trickle ICE: 204 (we are ICE-lite; the
 *                                   client's checks find our one candidate)
 *   OPTIONS either                  CORS preflight, Accept-Post
 *
 * A WHIP publisher is a publisher like an RTMP one: the same publish token
 * (?token= or Authorization: Bearer), the same admission and publisher
 * limits, the same name rule (a live name is refused: 409), only on nodes
 * that take publishers (origins, standalone).  It shows in the connection
 * table as kind "whip" (and can be kicked there); when its session ends
 * (DELETE, DTLS close, ICE consent lost) the stream ends at once and the
 * name is free.  The media side is src/webrtc/rtc_ingest.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "node/admission.h"
#include "node/node.h"
#include "node/watch_page.h"
#include "node/whep_http.h"
#include "node/whip_http.h"
#include "proto/sdp.h"
#include "webrtc/rtc.h"

#define WHIP_SUFFIX "/whip"

struct whip_pub {
	struct conn base;             /* kind "whip" in the connection table */
	struct node *n;
	struct stream *st;            /* ours (stream_publish's reference) */
	char id[RTC_SESSION_ID_LEN + 1];
	char ipkey[64];
	int in_table;
};

static void pub_ended(void *arg, const char *reason)
{
	struct whip_pub *w = arg;
	struct node *n = w->n;
	char eapp[160], ename[160];
	log_info("publish_stop", "client=%llu peer=%s protocol=whip app=%s stream=%s session=%s "
	         "bytes_in=%llu reason=\"%s\"", (unsigned long long)w->base.id, w->base.peer,
	         log_escape(w->st->app, eapp, sizeof(eapp)),
	         log_escape(w->st->name, ename, sizeof(ename)), w->id,
	         (unsigned long long)w->st->bytes_in, reason);
	w->base.bytes_in = w->st->bytes_in;
	stream_unpublish(&n->streams, w->st);
	stream_unref(w->st);
	node_publisher_end(n, w->ipkey);
	if (w->in_table)
		conn_table_remove(&n->conns, &w->base);
	free(w);
}

static const struct rtc_publish_ops whip_ops = { pub_ended };

static void kick(struct conn *base, const char *reason)
{
	struct whip_pub *w = container_of(base, struct whip_pub, base);
	(void)reason;
	rtc_session_delete(w->n->rtc, w->id); /* ends the stream through pub_ended */
}

static void describe(struct conn *base, json_t *o)
{
	struct whip_pub *w = container_of(base, struct whip_pub, base);
	base->bytes_in = w->st->bytes_in;
	json_object_set_new(o, "role", json_string("publisher"));
	json_object_set_new(o, "protocol", json_string("whip"));
	json_object_set_new(o, "app", json_string(w->st->app));
	json_object_set_new(o, "stream", json_string(w->st->name));
}

static const struct conn_ops whip_conn_ops = { kick, describe };

static void refused(struct node *n, struct http_conn *c, int status, const char *app,
                    const char *name, const char *why)
{
	struct conn *base = http_conn_base(c);
	char eapp[160], ename[160];
	n->stats.publish_refused++;
	log_throttled(LOG_INFO, "publish_refused", "client=%llu peer=%s protocol=whip app=%s "
	              "stream=%s status=%d reason=\"%s\"", (unsigned long long)base->id, base->peer,
	              log_escape(app, eapp, sizeof(eapp)), log_escape(name, ename, sizeof(ename)),
	              status, why);
	http_respond_error(c, status, why);
}

static void whip_offer(struct node *n, struct http_conn *c, const struct http_request *req,
                       const char *app, const char *name, const uint8_t *body, size_t len)
{
	struct conn *base = http_conn_base(c);
	const struct node_config *cfg = n->cfg;
	if (!cluster_takes_publishers(&n->cluster)) {
		refused(n, c, 403, app, name, "this node does not take publishers: publish to an "
		                              "origin (or through the stream manager's /whip/APP/STREAM)");
		return;
	}
	char token[300];
	whep_token(req, token, sizeof(token));
	if (node_check_token(n, "publish", app, name, token, base->peer, base->id) < 0) {
		http_respond_error(c, 403, "publishing needs a valid token (?token=... or "
		                           "Authorization: Bearer ...)");
		return;
	}
	char why[200];
	if (node_admit(n, "publish", base->peer, why, sizeof(why)) < 0) {
		refused(n, c, 503, app, name, why);
		return;
	}
	char ipkey[64];
	iplimit_key(base->peer, ipkey, sizeof(ipkey));
	if (n->publishers >= (uint64_t)cfg->max_publishers) {
		n->stats.publish_refused_limit[LIMIT_PUBLISHERS]++;
		refused(n, c, 503, app, name, "this node has all the publishers it takes "
		                              "(max-publishers): try again later");
		return;
	}
	if (cfg->max_publishers_per_ip &&
	    ipcount_get(&n->publishers_by_ip, ipkey) >= (uint64_t)cfg->max_publishers_per_ip) {
		n->stats.publish_refused_limit[LIMIT_PUBLISHERS_PER_IP]++;
		refused(n, c, 429, app, name, "too many publishers from this address "
		                              "(max-publishers-per-ip): try again later");
		return;
	}
	struct whip_pub *w = xcalloc(1, sizeof(*w));
	int rc = stream_publish(&n->streams, app, name, base->id, base->peer, &w->st);
	if (rc < 0) {
		free(w);
		char msg[320];
		if (rc == SL_EFULL) {
			n->stats.publish_refused_limit[LIMIT_STREAMS]++;
			refused(n, c, 503, app, name, "this node has all the streams it holds "
			                              "(max-streams): try again later");
		} else if (rc == SL_EEXIST) {
			snprintf(msg, sizeof(msg), "stream %s/%s is already being published", app, name);
			refused(n, c, 409, app, name, msg);
		} else {
			refused(n, c, 400, app, name, "bad stream name");
		}
		return;
	}
	w->n = n;
	snprintf(w->ipkey, sizeof(w->ipkey), "%s", ipkey);
	char *answer = NULL, err[256], ip[64];
	whep_peer_ip(base->peer, ip, sizeof(ip));
	rc = rtc_publish_create(n->rtc, w->st, (const char *)body, len, ip, &whip_ops, w, &answer,
	                        w->id, err, sizeof(err));
	if (rc != 0) {
		stream_unpublish(&n->streams, w->st);
		stream_unref(w->st);
		free(w);
		int status = rc == SL_EFULL ? (strstr(err, "per-ip") ? 429 : 503) : 400;
		refused(n, c, status, app, name, err);
		return;
	}
	node_publisher_begin(n, ipkey);
	/* In the connection table, so it shows and can be kicked like any publisher; over the
	 * table's limits it publishes anyway: the HTTP request that made it already counted. */
	if (conn_table_add(&n->conns, &w->base, "whip", base->peer, &whip_conn_ops) == 0) {
		w->in_table = 1;
		w->st->publisher_id = w->base.id; /* the API's client_id: the one to kick */
	}
	char loc[2 * STREAM_NAME_MAX + 64];
	snprintf(loc, sizeof(loc), "/%s/%s/whip/%s", app, name, w->id);
	whep_cors(c, "POST, OPTIONS");
	http_add_header(c, "Location", loc);
	http_add_header(c, "ETag", "\"1\"");
	http_add_header(c, "Accept-Patch", "application/trickle-ice-sdpfrag");
	char eapp[160], ename[160];
	log_info("publish_start", "client=%llu peer=%s protocol=whip app=%s stream=%s session=%s",
	         (unsigned long long)w->base.id, base->peer, log_escape(app, eapp, sizeof(eapp)),
	         log_escape(name, ename, sizeof(ename)), w->id);
	http_respond(c, 201, "application/sdp", answer, strlen(answer));
	free(answer);
}

int whip_http_handle(struct node *n, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len)
{
	char app[STREAM_NAME_MAX + 1], name[STREAM_NAME_MAX + 1], id[RTC_SESSION_ID_LEN + 2];
	if (whep_split_path(req, "/publish", app, name, id, sizeof(id)) && !id[0] &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		publish_page_serve(c); /* the page itself; what it POSTs is checked at ./whip */
		return 1;
	}
	return whep_route(n, c, req, body, body_len, WHIP_SUFFIX, whip_offer);
}
