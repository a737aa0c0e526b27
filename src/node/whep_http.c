/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whep_http.c - WHEP (WebRTC-HTTP Egress Protocol) on the node's HTTP port.
 *
 *   POST    /APP/STREAM/whep        application/sdp offer -> 201, answer, Location
 *   DELETE  /APP/STREAM/whep/ID     ends the session
 *   PATCH   /APP/STREAM/whep/ID     trickle ICE: 204 (we are ICE-lite and need no
 *                                   candidates from the client; its checks find us)
 *   OPTIONS either                  CORS preflight, Accept-Post
 *
 * Play tokens as every protocol takes them (?token=, or Authorization:
 * Bearer as WHEP players send it).  An unknown stream is pulled from an
 * origin on an edge, as for HTTP-FLV and HLS.  The transport is
 * src/webrtc/ (docs/webrtc.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "node/admission.h"
#include "node/node.h"
#include "node/whep_http.h"
#include "proto/sdp.h"
#include "webrtc/rtc.h"

#define WHEP_SUFFIX "/whep"

int whep_split_path(const struct http_request *req, const char *suffix, char *app, char *name,
                    char *id, size_t idsz)
{
	size_t sl = strlen(suffix);
	const char *p = req->path + 1, *end = req->path + req->path_len;
	if (req->path_len < 2 || req->path[0] != '/')
		return 0;
	const char *s1 = memchr(p, '/', (size_t)(end - p));
	if (!s1)
		return 0;
	const char *s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (!s2 || (size_t)(end - s2) < sl || memcmp(s2, suffix, sl) != 0)
		return 0;
	const char *after = s2 + sl;
	id[0] = '\0';
	if (after < end) {
		if (*after != '/' || (size_t)(end - after - 1) >= idsz || end - after - 1 == 0)
			return 0;
		memcpy(id, after + 1, (size_t)(end - after - 1));
		id[end - after - 1] = '\0';
	}
	size_t alen = (size_t)(s1 - p), nlen = (size_t)(s2 - s1 - 1);
	if (alen == 0 || alen > STREAM_NAME_MAX || nlen == 0 || nlen > STREAM_NAME_MAX)
		return 0;
	memcpy(app, p, alen);
	app[alen] = '\0';
	memcpy(name, s1 + 1, nlen);
	name[nlen] = '\0';
	return 1;
}

void whep_cors(struct http_conn *c, const char *methods)
{
	http_add_header(c, "Access-Control-Allow-Methods", methods);
	http_add_header(c, "Access-Control-Allow-Headers",
	                "Authorization, Content-Type, If-Match, If-None-Match");
	http_add_header(c, "Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch");
}

void whep_token(const struct http_request *req, char *out, size_t n)
{
	out[0] = '\0';
	if (req->query && http_query_get(req->query, req->query_len, "token", out, n) > 0)
		return;
	const struct http_header *h = http_find_header(req, "Authorization");
	if (h && h->value_len > 7 && strncasecmp(h->value, "Bearer ", 7) == 0 &&
	    h->value_len - 7 < n) {
		memcpy(out, h->value + 7, h->value_len - 7);
		out[h->value_len - 7] = '\0';
	}
}

void whep_peer_ip(const char *peer, char *out, size_t n)
{
	snprintf(out, n, "%s", peer);
	char *colon = strrchr(out, ':');
	if (colon)
		*colon = '\0';
}

static void whep_offer(struct node *n, struct http_conn *c, const struct http_request *req,
                       const char *app, const char *name, const uint8_t *body, size_t len)
{
	struct conn *base = http_conn_base(c);
	char token[300];
	whep_token(req, token, sizeof(token));
	if (node_check_token(n, "play", app, name, token, base->peer, base->id) < 0) {
		http_respond_error(c, 403, "playing this stream needs a valid token (?token=... or "
		                           "Authorization: Bearer ...)");
		return;
	}
	if (n->cfg->publish_only && n->cluster.enabled) {
		http_respond_error(c, 403, "this origin is publish-only: watch through an edge");
		return;
	}
	/* The machine-load admission every other viewer passes (cpu-limit, memory-limit). */
	char why[200];
	if (node_admit(n, "play", base->peer, why, sizeof(why)) < 0) {
		http_add_header(c, "Retry-After", "5");
		http_respond_error(c, 503, why);
		return;
	}
	struct stream *s = stream_find(&n->streams, app, name);
	if (!s)
		s = cluster_pull_stream(&n->cluster, app, name);
	if (!s) {
		n->stats.play_not_found++;
		char msg[320];
		snprintf(msg, sizeof(msg), "stream %s/%s is not live", app, name);
		http_respond_error(c, 404, msg);
		return;
	}
	char *answer = NULL, id[RTC_SESSION_ID_LEN + 1], err[256];
	char ip[64];
	whep_peer_ip(base->peer, ip, sizeof(ip));
	int rc = rtc_session_create(n->rtc, s, (const char *)body, len, ip, &answer, id, err,
	                            sizeof(err));
	if (rc != 0) {
		int status = rc == SL_EFULL ? (strstr(err, "per-ip") ? 429 : 503) : 400;
		log_throttled(LOG_INFO, "whep_refused", "client=%llu peer=%s status=%d reason=\"%s\"",
		              (unsigned long long)base->id, base->peer, status, err);
		http_respond_error(c, status, err);
		return;
	}
	n->stats.plays++;
	char loc[2 * STREAM_NAME_MAX + 64];
	snprintf(loc, sizeof(loc), "/%s/%s/whep/%s", app, name, id);
	whep_cors(c, "POST, OPTIONS");
	http_add_header(c, "Location", loc);
	http_add_header(c, "ETag", "\"1\"");
	http_add_header(c, "Accept-Patch", "application/trickle-ice-sdpfrag");
	log_info("play_start", "client=%llu peer=%s protocol=webrtc app=%s stream=%s session=%s",
	         (unsigned long long)base->id, base->peer, app, name, id);
	http_respond(c, 201, "application/sdp", answer, strlen(answer));
	free(answer);
}

int whep_route(struct node *n, struct http_conn *c, const struct http_request *req,
               const uint8_t *body, size_t body_len, const char *suffix, whep_offer_fn offer)
{
	char app[STREAM_NAME_MAX + 1], name[STREAM_NAME_MAX + 1], id[RTC_SESSION_ID_LEN + 2];
	if (!whep_split_path(req, suffix, app, name, id, sizeof(id)))
		return 0;
	if (!n->rtc) {
		http_respond_error(c, 404, "WebRTC is off on this node (webrtc = false)");
		return 1;
	}
	if (!stream_name_valid(app) || !stream_name_valid(name)) {
		http_respond_error(c, 400, "app and stream names are 1-128 characters of "
		                           "A-Z a-z 0-9 _ . ~ @ + = -");
		return 1;
	}
	if (!id[0]) {
		if (req->method == HTTP_OPTIONS) {
			whep_cors(c, "POST, OPTIONS");
			http_add_header(c, "Accept-Post", "application/sdp");
			http_respond(c, 204, NULL, NULL, 0);
		} else if (req->method == HTTP_POST) {
			const struct http_header *ct = http_find_header(req, "Content-Type");
			if (!ct || ct->value_len < 15 ||
			    strncasecmp(ct->value, "application/sdp", 15) != 0)
				http_respond_error(c, 415, "an offer is Content-Type: application/sdp");
			else if (body_len > SDP_MAX_BYTES)
				http_respond_error(c, 413, "the SDP offer is too large");
			else
				offer(n, c, req, app, name, body, body_len);
		} else {
			http_add_header(c, "Allow", "POST, OPTIONS");
			http_respond_error(c, 405, "POST an SDP offer here");
		}
		return 1;
	}
	whep_cors(c, "PATCH, DELETE, OPTIONS");
	if (req->method == HTTP_OPTIONS) {
		http_add_header(c, "Accept-Patch", "application/trickle-ice-sdpfrag");
		http_respond(c, 204, NULL, NULL, 0);
	} else if (!rtc_session_at(n->rtc, id, app, name, strcmp(suffix, WHEP_SUFFIX) != 0)) {
		http_respond_error(c, 404, "no such WebRTC session");
	} else if (req->method == HTTP_DELETE) {
		rtc_session_delete(n->rtc, id);
		http_respond(c, 200, NULL, NULL, 0);
	} else if (req->method == HTTP_PATCH) {
		/* ICE-lite: the client's checks reach our one candidate; its candidates are not needed. */
		http_respond(c, 204, NULL, NULL, 0);
	} else {
		http_add_header(c, "Allow", "PATCH, DELETE, OPTIONS");
		http_respond_error(c, 405, "DELETE ends the session; PATCH takes trickle ICE");
	}
	return 1;
}

int whep_http_handle(struct node *n, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len)
{
	return whep_route(n, c, req, body, body_len, WHEP_SUFFIX, whep_offer);
}

/* The candidate address: the setting, else the bind address, else public-host, else an interface's. */
static void pick_public_ip(const struct node_config *cfg, char *out, size_t n)
{
	struct sockaddr_in6 tmp6;
	struct sockaddr_in tmp4;
	if (cfg->webrtc_public_ip && *cfg->webrtc_public_ip) {
		snprintf(out, n, "%s", cfg->webrtc_public_ip);
		return;
	}
	if (strcmp(cfg->bind, "0.0.0.0") != 0 && strcmp(cfg->bind, "::") != 0) {
		snprintf(out, n, "%s", cfg->bind);
		return;
	}
	if (cfg->public_host && (uv_ip4_addr(cfg->public_host, 0, &tmp4) == 0 ||
	                         uv_ip6_addr(cfg->public_host, 0, &tmp6) == 0)) {
		snprintf(out, n, "%s", cfg->public_host);
		return;
	}
	snprintf(out, n, "127.0.0.1");
	uv_interface_address_t *ifs;
	int count;
	if (uv_interface_addresses(&ifs, &count) != 0)
		return;
	for (int i = 0; i < count; i++)
		if (!ifs[i].is_internal && ifs[i].address.address4.sin_family == AF_INET) {
			uv_ip4_name(&ifs[i].address.address4, out, n);
			break;
		}
	uv_free_interface_addresses(ifs, count);
}

int whep_start(struct node *n)
{
	if (!n->cfg->webrtc)
		return 0;
	static char public_ip[64];
	pick_public_ip(n->cfg, public_ip, sizeof(public_ip));
	struct rtc_config rc = {
		.bind_ip = n->cfg->bind,
		.port = n->cfg->webrtc_port ? (int)n->cfg->webrtc_port : (int)n->cfg->http_port,
		.public_ip = public_ip,
		.max_sessions = (unsigned)n->cfg->webrtc_max_sessions,
		.max_sessions_per_ip = (unsigned)n->cfg->webrtc_max_sessions_per_ip,
		.dtls_timeout_ms = n->cfg->webrtc_dtls_timeout,
		.consent_timeout_ms = n->cfg->webrtc_consent_timeout,
		.sr_interval_ms = WHEP_SR_INTERVAL_MS,
		.keyframe_ms = n->cfg->whip_keyframe_interval,
	};
	const char *range = n->cfg->webrtc_ports;
	if (range && *range) {
		int lo = 0, hi = 0, used = 0;
		if (sscanf(range, "%d-%d%n", &lo, &hi, &used) != 2 || range[used] != '\0' || lo < 1 ||
		    hi > 65535 || lo > hi) {
			log_error("webrtc_start_failed", "reason=\"webrtc-ports must be LOW-HIGH, "
			          "1 <= LOW <= HIGH <= 65535\"");
			return -1;
		}
		rc.port_min = lo;
		rc.port_max = hi;
	}
	char err[256];
	int wildcard = strcmp(n->cfg->bind, "0.0.0.0") == 0 || strcmp(n->cfg->bind, "::") == 0;
	if (wildcard) {
		/* A socket on the wildcard answers from whatever address the route picks, and ICE
		 * wants the answer from the candidate's.  So bind to the candidate address when it
		 * is one of ours; one behind NAT (not local) leaves the wildcard. */
		struct rtc_config on_candidate = rc;
		on_candidate.bind_ip = public_ip;
		n->rtc = rtc_server_new(n->loop, &on_candidate, err, sizeof(err));
		if (n->rtc)
			return 0;
	}
	n->rtc = rtc_server_new(n->loop, &rc, err, sizeof(err));
	if (!n->rtc) {
		log_error("webrtc_start_failed", "reason=\"%s\"", err);
		return -1;
	}
	return 0;
}

void whep_stop(struct node *n)
{
	rtc_server_free(n->rtc);
	n->rtc = NULL;
}
