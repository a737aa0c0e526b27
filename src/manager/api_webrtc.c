/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_webrtc.c - WHIP and WHEP through the stream manager, by redirect.
 *
 *   POST    /whip/APP/STREAM   307, Location: http://ORIGIN:HTTP/APP/STREAM/whip[?query]
 *   POST    /whep/APP/STREAM   307, Location: http://EDGE:HTTP/APP/STREAM/whep[?query]
 *   OPTIONS either             204, CORS, Accept-Post: application/sdp
 *
 * The node is chosen as for the routing call (GET /api/v1/streams/APP/STREAM,
 * action broadcast for WHIP, subscribe for WHEP), with its reservation and
 * name hold.  WHIP and WHEP clients follow a 307 and POST the same offer to
 * the node (RFC 9725 4.5), so no signalling and no media stays on the
 * manager: nothing to proxy, nothing to lose when a manager goes, which is
 * why managers can scale in (docs/operations.md).  The query string (a
 * ?token=) goes along in the Location: browsers drop Authorization on a
 * cross-origin redirect.  With public-routing off, the admin token is
 * required here as on the routing call.
 */
#include <stdio.h>
#include <string.h>

#include "core/http_server.h"
#include "core/log.h"
#include "core/name.h"
#include "manager/manager.h"

/* 1 when the path is /whip/APP/STREAM or /whep/APP/STREAM (kind gets "whip" or "whep"). */
static int split(const struct http_request *req, char *kind, char *app, char *stream)
{
	if (req->path_len < 6 || (memcmp(req->path, "/whip/", 6) != 0 &&
	                          memcmp(req->path, "/whep/", 6) != 0))
		return 0;
	memcpy(kind, req->path + 1, 4);
	kind[4] = '\0';
	const char *p = req->path + 6, *end = req->path + req->path_len;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	app[0] = stream[0] = '\0';
	if (!slash)
		return 1;
	size_t al = (size_t)(slash - p), sl = (size_t)(end - slash - 1);
	if (al == 0 || al > STREAM_NAME_MAX || sl == 0 || sl > STREAM_NAME_MAX)
		return 1;
	memcpy(app, p, al);
	app[al] = '\0';
	memcpy(stream, slash + 1, sl);
	stream[sl] = '\0';
	return 1;
}

int mgr_webrtc_handle(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	char kind[5], app[STREAM_NAME_MAX + 1], stream[STREAM_NAME_MAX + 1];
	if (!split(req, kind, app, stream))
		return 0;
	http_add_header(c, "Access-Control-Allow-Methods", "POST, OPTIONS");
	http_add_header(c, "Access-Control-Allow-Headers", "Authorization, Content-Type");
	http_add_header(c, "Access-Control-Expose-Headers", "Location");
	if (req->method == HTTP_OPTIONS) {
		http_add_header(c, "Accept-Post", "application/sdp");
		http_respond(c, 204, NULL, NULL, 0);
		return 1;
	}
	if (req->method != HTTP_POST) {
		http_add_header(c, "Allow", "POST, OPTIONS");
		http_respond_error(c, 405, "POST the SDP offer: the answer is a 307 to a node");
		return 1;
	}
	if (!app_name_valid(app) || !stream_name_valid(stream)) {
		http_respond_error(c, 400, "expected /whip/APP/STREAM or /whep/APP/STREAM, names of "
		                           "1-128 characters of A-Z a-z 0-9 _ . ~ @ + = -");
		return 1;
	}
	if (!m->cfg->public_routing && !mgr_authorized(m, req)) {
		http_add_header(c, "WWW-Authenticate", "Bearer");
		http_respond_error(c, 401, "routing needs the admin token (public-routing is off)");
		return 1;
	}
	int whip = kind[2] == 'i';
	enum route_action a = whip ? ROUTE_BROADCAST : ROUTE_SUBSCRIBE;
	char region[64] = "", group[MGR_NAME_MAX + 1] = "";
	if (req->query) {
		http_query_get(req->query, req->query_len, "region", region, sizeof(region));
		http_query_get(req->query, req->query_len, "group", group, sizeof(group));
	}
	struct mnode *nd = mgr_route_or_refuse(m, c, app, stream, a, region, group);
	if (!nd)
		return 1;
	char loc[1400];
	int n = snprintf(loc, sizeof(loc), "http://%s:%d/%s/%s/%s", nd->place.host,
	                 nd->place.http_port, app, stream, kind);
	if (req->query && req->query_len && (size_t)n + 1 + req->query_len < sizeof(loc))
		snprintf(loc + n, sizeof(loc) - (size_t)n, "?%.*s", (int)req->query_len, req->query);
	http_add_header(c, "Location", loc);
	log_debug("route_redirect", "kind=%s app=%s stream=%s node=%s", kind, app, stream, nd->id);
	static const char body[] = "see Location\n";
	http_respond(c, 307, "text/plain", body, sizeof(body) - 1);
	return 1;
}
